"""The Sim examples (examples/sim/*.py) run unchanged against a real server, as a user would run them."""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.sim import RateLimit
from tests.api.conftest import Server
from tests.sim.fixtures import configured

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "sim"
KEYS = {name: f"{name}-key" for name in ("deploy", "basic", "errors", "async", "batch", "retry", "usage", "flask")}


@pytest.fixture(scope="module")
def demo() -> Iterator[Server]:
    """A server with API keys and a 3/SEC rate limit (buckets are per key), the demo workflows deployed."""
    with configured(api_keys=list(KEYS.values()), rate_limit=RateLimit(3, 1.0)) as server:
        assert _run(server, "deploy.py", "deploy").splitlines() == [
            "deployed sim-greeter", "deployed sim-order-check", "deployed sim-slow-report"]
        yield server


def _run(server: Server, script: str, key: str) -> str:
    env = {**os.environ, "SIM_BASE_URL": server.endpoint, "SIM_API_KEY": KEYS[key]}
    done = subprocess.run([sys.executable, str(EXAMPLES / script)], capture_output=True, text=True, timeout=60,
                          env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_basic_execution(demo: Server) -> None:
    lines = _run(demo, "basic_execution.py", "basic").splitlines()
    assert lines[0] == "Output: {'message': 'Hello, Ada!', 'signedBy': 'statesim'}"
    assert lines[1].startswith("Duration (ms): ") and float(lines[1].split(": ")[1]) >= 0


def test_error_handling(demo: Server) -> None:
    assert _run(demo, "error_handling.py", "errors").splitlines() == [
        "Succeeded: {'accepted': 3}",
        "Run failed: OutOfStock: only 10 items left",
        "No such workflow: Workflow not found",
        "Invalid API key: Invalid API key",
    ]


def test_async_polling(demo: Server) -> None:
    lines = _run(demo, "async_polling.py", "async").splitlines()
    assert lines[0].startswith("Queued run ")
    statuses = [line.removeprefix("Status: ") for line in lines if line.startswith("Status: ")]
    assert statuses[-2:] == ["running", "completed"] and set(statuses) <= {"queued", "running", "completed"}
    assert lines[-2:] == ["Output: {'report': '1200 rows'}", "Error: None"]


def test_batch_execution(demo: Server) -> None:
    assert _run(demo, "batch_execution.py", "batch").splitlines() == [
        "Skipping not-deployed: not deployed",
        "sim-greeter: Success {'message': 'Hello, Grace!', 'signedBy': 'statesim'}",
        "sim-order-check: Success {'accepted': 2}",
        "sim-order-check: Failed OutOfStock: only 10 items left",
    ]


def test_rate_limit_retry(demo: Server) -> None:
    lines = _run(demo, "rate_limit_retry.py", "retry").splitlines()
    greetings = [line for line in lines if not line.startswith(("  ", "done"))]
    assert greetings == [f"{n}: Hello, {n}!" for n in ("Ann", "Bob", "Cat", "Dan", "Eve")]
    assert "  rate limit: 0/3 left, retry after 1000 ms" in lines  # the 4th call waited for Retry-After
    assert lines[-1].startswith("done in ")


def test_usage_monitoring(demo: Server) -> None:
    lines = _run(demo, "usage_monitoring.py", "usage").splitlines()
    assert lines[0].startswith("sync: 3 of 180/min left, limited=False, resets at ")
    assert lines[1].startswith("async: 3 of 180/min left, limited=False, resets at ")
    assert lines[2] == "plan enterprise: $0 of $1000000 (0.0%)"


def _flask_app(server: Server) -> Any:
    spec = importlib.util.spec_from_file_location("sim_streaming_flask", EXAMPLES / "streaming_flask.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.create_app(server.endpoint, KEYS["flask"])


def _frames(text: str) -> list[Any]:
    payloads = [line[len("data: "):] for line in text.split("\n\n") if line.startswith("data: ")]
    return [p if p == "[DONE]" else json.loads(p) for p in payloads]


def test_streaming_through_a_flask_proxy(demo: Server) -> None:
    client = _flask_app(demo).test_client()
    response = client.get("/stream?name=Ada")
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    final = {"event": "final", "data": {"success": True, "output": {"message": "Hello, Ada!", "signedBy": "statesim"}}}
    assert _frames(response.get_data(as_text=True)) == [
        {"blockId": "Greet", "chunk": '{\n  "message": "Hello, Ada!"\n}'},
        {"blockId": "Sign", "chunk": '\n\n{\n  "message": "Hello, Ada!",\n  "signedBy": "statesim"\n}'},
        final, "[DONE]"]
    selected = client.get("/stream?name=Bo&selectedOutputs=Sign.message")
    assert _frames(selected.get_data(as_text=True))[:1] == [{"blockId": "Sign", "chunk": "Hello, Bo!"}]
    failed = client.get("/stream?workflow=sim-order-check&name=x")
    frames = _frames(failed.get_data(as_text=True))
    assert frames[-1] == "[DONE]" and (frames[-2]["event"], frames[-2]["blockId"]) == ("error", "InStock")
    assert frames[-2]["error"].startswith("States.Runtime: ")  # no quantity in the input: the Choice fails
