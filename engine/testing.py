"""statesim as a unit-test fixture: the pytest plugin (entry point ``pytest11: statesim``) and its clocks.

Fixtures: ``statesim_registry`` (a fresh TaskRegistry), ``statesim_engine`` (in-process runs),
``statesim_server`` (the real HTTP server on an ephemeral port, ``.endpoint_url``,
``.client("stepfunctions")``), ``statesim_mock_config`` (SFN_MOCK_CONFIG, override to supply one).
``SkippingClock`` makes Wait states and Retry intervals finish at once (time jumps to the
earliest sleeper's deadline) but never while a Task runs, so task timeouts, heartbeats and
callbacks stay real. ``AcceleratedClock`` runs all time uniformly faster. The server is the one
place this module imports ``api`` (lazily, inside the fixture), so the engine never needs it.
"""
from __future__ import annotations

import heapq
import itertools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta, timezone
from typing import Any

import anyio
import anyio.lowlevel

from engine.tasks.builtin import with_builtins
from engine.tasks.mocks import MockConfig, mocked
from engine.tasks.registry import TaskRegistry, held

_HOLD_DEPTH: ContextVar[int] = ContextVar("statesim_hold_depth", default=0)


class SkippingClock:
    """Real time, except that when no Task is running the earliest sleeper jumps time to its deadline."""

    def __init__(self, tick: float = 0.002) -> None:
        self.tick = tick
        self._offset = 0.0
        self._holds = 0
        self._sleepers: list[tuple[datetime, int]] = []
        self._gone: set[int] = set()
        self._events: dict[int, anyio.Event] = {}
        self._seq = itertools.count()

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + timedelta(seconds=self._offset)

    @property
    def skipped(self) -> float:
        """Seconds of clock time skipped so far."""
        return self._offset

    @contextmanager
    def hold(self) -> Iterator[None]:
        """No skipping inside (a Task is running: its timeouts and heartbeats follow real time).

        Re-entrant per task: nested holds of one task count once, so :meth:`release` undoes it.
        """
        depth = _HOLD_DEPTH.get()
        token = _HOLD_DEPTH.set(depth + 1)
        if depth == 0:
            self._holds += 1
        try:
            yield
        finally:
            _HOLD_DEPTH.reset(token)
            if depth == 0:
                self._holds -= 1

    @contextmanager
    def release(self) -> Iterator[None]:
        """Undo this task's hold inside (a task waiting for a nested execution lets that one skip time)."""
        if _HOLD_DEPTH.get() == 0:
            yield
            return
        token = _HOLD_DEPTH.set(0)
        self._holds -= 1
        try:
            yield
        finally:
            self._holds += 1
            _HOLD_DEPTH.reset(token)

    def _earliest(self) -> tuple[datetime, int] | None:
        while self._sleepers and self._sleepers[0][1] in self._gone:
            self._gone.discard(heapq.heappop(self._sleepers)[1])
        return self._sleepers[0] if self._sleepers else None

    def _wake_earliest(self) -> None:
        """Let the (new) earliest sleeper take over polling."""
        earliest = self._earliest()
        if earliest is not None:
            self._events[earliest[1]].set()

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await anyio.lowlevel.checkpoint()
            return
        key = (self.now() + timedelta(seconds=seconds), next(self._seq))
        heapq.heappush(self._sleepers, key)
        self._events[key[1]] = anyio.Event()
        try:
            while True:
                remaining = (key[0] - self.now()).total_seconds()
                if remaining <= 0:
                    return
                if self._earliest() != key:
                    # Only the earliest sleeper polls; the others sleep until woken or due in real time.
                    with anyio.move_on_after(remaining):
                        await self._events[key[1]].wait()
                    self._events[key[1]] = anyio.Event()
                    continue
                # A tick of real time first: tasks started alongside get to register their sleeps.
                await anyio.sleep(self.tick)
                remaining = (key[0] - self.now()).total_seconds()
                if remaining > 0 and self._holds == 0 and self._earliest() == key:
                    self._offset += remaining
                    return
        finally:
            self._gone.add(key[1])
            del self._events[key[1]]
            self._wake_earliest()


class AcceleratedClock:
    """All time runs ``speed`` times faster (coherent for any number of concurrent sleepers)."""

    def __init__(self, speed: float = 50.0) -> None:
        self.speed = speed
        self._start = datetime.now(timezone.utc)
        self._mono = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=(time.monotonic() - self._mono) * self.speed)

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(max(0.0, seconds) / self.speed)



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
        import socket

        import uvicorn

        from api.app import create_app
        from engine.runtime import Runtime
        from engine.store import MemoryStore
        self.runtime = Runtime(MemoryStore(), clock=clock or SkippingClock(), registry=registry,
                               mock_config=mock_config, **runtime_options)
        self.registry = self.runtime.registry
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
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
        return Engine(statesim_registry, SkippingClock(), statesim_mock_config)

    @pytest.fixture
    def statesim_server(statesim_registry: TaskRegistry,
                        statesim_mock_config: MockConfig | None) -> Iterator[StatesimServer]:
        """The statesim server on an ephemeral port: ``.endpoint_url``, ``.client("stepfunctions")``."""
        with StatesimServer(statesim_registry, mock_config=statesim_mock_config) as server:
            yield server


__all__ = ["AcceleratedClock", "Engine", "SkippingClock", "StatesimServer", "held"]
