"""statesim as a unit-test fixture: the pytest plugin (entry point ``pytest11: statesim``).

Fixtures: ``statesim_registry`` (a fresh TaskRegistry), ``statesim_engine`` (in-process runs),
``statesim_server`` (the real HTTP server on an ephemeral port, ``.endpoint_url``,
``.client("stepfunctions")``), ``statesim_mock_config`` (SFN_MOCK_CONFIG, override to supply one).
Both run on ``engine.clock.ScaledClock(0)``: Wait states and Retry intervals finish at once, but
never while a Task runs, so task timeouts, heartbeats and callbacks stay real.
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import anyio

from engine.clock import ScaledClock
from engine.tasks.builtin import with_builtins
from engine.tasks.mocks import MockConfig, mocked
from engine.tasks.registry import TaskRegistry


# ---- the fixtures' objects -------------------------------------------------------------------

class Engine:
    """In-process runs of definitions with a registry, mocks and a time-skipping clock."""

    def __init__(self, registry: TaskRegistry, clock: Any, mock_config: MockConfig | None = None) -> None:
        self.registry = registry
        self.clock = clock
        self.mock_config = mock_config

    async def run_async(self, definition: str | dict[str, Any], input: Any = None, *, test_case: str | None = None,
                        machine_name: str | None = None) -> Any:
        """Run one execution to its end; ``test_case`` selects a MockConfigFile case for ``machine_name``."""
        import engine.asl as asl
        text = input if isinstance(input, str) or input is None else json.dumps(input)
        registry: TaskRegistry = with_builtins(self.registry)
        if test_case is not None:
            if machine_name is None:
                raise ValueError("a test case needs the state machine's name (machine_name=...)")
            registry = mocked(registry, self.mock_config, machine_name, test_case)
        return await asl.run(asl.load(definition), text, registry=registry, clock=self.clock)

    def run(self, definition: str | dict[str, Any], input: Any = None, **options: Any) -> Any:
        """:meth:`run_async` from synchronous code (a fresh event loop)."""
        return anyio.run(lambda: self.run_async(definition, input, **options))


class StatesimServer:
    """``statesim serve`` in a background thread: a real uvicorn server on 127.0.0.1:<free port>."""

    def __init__(self, registry: TaskRegistry | None = None, *, clock: Any = None,
                 mock_config: MockConfig | None = None, **runtime_options: Any) -> None:
        import uvicorn

        from api.app import create_app
        from api.server import listen
        from engine.runtime import Runtime
        from engine.store import MemoryStore
        self.runtime = Runtime(MemoryStore(), clock=clock or ScaledClock(0), registry=registry,
                               mock_config=mock_config, **runtime_options)
        self.registry = self.runtime.registry
        self._sock = listen("127.0.0.1", 0)
        self.endpoint_url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._server = uvicorn.Server(uvicorn.Config(create_app(self.runtime), log_level="warning"))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True)

    def client(self, service: str = "stepfunctions", **config: Any) -> Any:
        """A boto3 client for this server (test credentials, no host prefix, no retries)."""
        import boto3  # type: ignore[import-untyped]
        from botocore.config import Config  # type: ignore[import-untyped]
        return boto3.client(service, endpoint_url=self.endpoint_url, region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test",
                            config=Config(inject_host_prefix=False, retries={"max_attempts": 1}, **config))

    def wait(self, execution_arn: str, timeout: float = 10.0) -> dict[str, Any]:
        """DescribeExecution once the execution is no longer RUNNING (AssertionError after ``timeout``)."""
        sfn = self.client("stepfunctions")
        deadline = time.monotonic() + timeout
        while True:
            described: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING":
                return described
            if time.monotonic() > deadline:
                raise AssertionError(f"{execution_arn} still RUNNING after {timeout} s")
            time.sleep(0.01)

    def start(self) -> StatesimServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("statesim did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> StatesimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ---- the pytest plugin --------------------------------------------------------------------------

try:
    import pytest
except ImportError:  # pragma: no cover - the plugin is only loaded by pytest
    pytest = None  # type: ignore[assignment]

if pytest is not None:
    @pytest.fixture
    def statesim_registry() -> TaskRegistry:
        """A fresh task registry: register Lambda stand-ins and integrations on it."""
        return TaskRegistry()

    @pytest.fixture
    def statesim_mock_config() -> MockConfig | None:
        """The MockConfigFile as Step Functions Local finds it ($SFN_MOCK_CONFIG, ./MockConfigFile.json)."""
        return MockConfig.from_env()

    @pytest.fixture
    def statesim_engine(statesim_registry: TaskRegistry, statesim_mock_config: MockConfig | None) -> Engine:
        """Run definitions in process: ``statesim_engine.run(definition, input) -> ExecutionResult``."""
        return Engine(statesim_registry, ScaledClock(0), statesim_mock_config)

    @pytest.fixture
    def statesim_server(statesim_registry: TaskRegistry,
                        statesim_mock_config: MockConfig | None) -> Iterator[StatesimServer]:
        """The statesim server on an ephemeral port: ``.endpoint_url``, ``.client("stepfunctions")``."""
        with StatesimServer(statesim_registry, mock_config=statesim_mock_config) as server:
            yield server


__all__ = ["Engine", "StatesimServer"]
