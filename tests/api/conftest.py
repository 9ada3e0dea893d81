"""A real statesim server (uvicorn, ephemeral port, in a thread) and boto3 clients for it."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
import uvicorn
from botocore.config import Config

from api.app import create_app
from engine.runtime import Runtime
from engine.store import MemoryStore

ROLE = "arn:aws:iam::123456789012:role/statesim-test"


class Server:
    """uvicorn serving one app on 127.0.0.1:<free port> in a background thread."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as `statesim serve` does
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(runtime), log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("statesim did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    runtime = Runtime(MemoryStore(), activity_poll_seconds=0.5)
    with Server(runtime) as running:
        yield running


def make_client(endpoint: str, service: str = "stepfunctions", **config: Any) -> Any:
    return boto3.client(
        service, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(inject_host_prefix=False, retries={"max_attempts": 1}, **config))


@pytest.fixture(scope="session")
def sfn(server: Server) -> Any:
    """A boto3 stepfunctions client for the test server."""
    return make_client(server.endpoint)


@pytest.fixture(scope="session")
def sfn_raw(server: Server) -> Any:
    """A client without boto3's own parameter validation, to reach the server's checks."""
    return make_client(server.endpoint, parameter_validation=False)


@pytest.fixture(scope="session")
def http(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.endpoint) as client:
        yield client


@pytest.fixture
def name() -> str:
    """A fresh resource name."""
    return "t-" + uuid.uuid4().hex[:12]


PASS_DEFINITION = '{"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"Arg1": "argument1"}, "End": true}}}'


def wait_for(sfn: Any, execution_arn: str, timeout: float = 10.0) -> dict[str, Any]:
    """DescribeExecution until the execution is no longer RUNNING."""
    deadline = time.monotonic() + timeout
    while True:
        described = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            return described
        time.sleep(0.02)


class ServeProcess:
    """``statesim serve --port 0 --data-dir DIR ARGS`` in a child process, for kill -9 and restart tests.

    The CLI listens before it prints its endpoint, so requests sent at once queue until it serves.
    """

    def __init__(self, data_dir: Path, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--port", "0", "--data-dir", str(data_dir), *args],
            cwd=Path(__file__).resolve().parents[2], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.proc.stdout is not None
        self.endpoint = self.proc.stdout.readline().strip().rsplit(" ", 1)[1]

    def client_for(self, service: str = "stepfunctions") -> Any:
        return make_client(self.endpoint, service)

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
