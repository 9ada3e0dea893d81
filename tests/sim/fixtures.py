"""Servers configured for the Sim API, demo workflows, and an isolated simstudio-sdk 0.1.x venv."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from api import sim
from engine.runtime import Runtime
from engine.store import MemoryStore
from tests.api.conftest import ROLE, Server, make_client

LEGACY_SDK = "simstudio-sdk==0.1.2"

GREET = {"StartAt": "Greet", "States": {
    "Greet": {"Type": "Pass", "Parameters": {"greeting.$": "States.Format('Hello, {}!', $.name)"}, "Next": "Shout"},
    "Shout": {"Type": "Pass", "Parameters": {"greeting.$": "$.greeting", "loud": True}, "End": True}}}
FAIL = {"StartAt": "Check", "States": {
    "Check": {"Type": "Pass", "Next": "Reject"},
    "Reject": {"Type": "Fail", "Error": "Order.Rejected", "Cause": "no stock for the order"}}}


def activity_machine(activity_arn: str) -> dict[str, Any]:
    """A machine that waits on an activity worker (so a run stays running until the test answers)."""
    return {"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": activity_arn, "End": True}}}


def configured(**settings: Any) -> Server:
    """A fresh server (not started) whose Sim API has ``settings`` (api_keys, rate_limit)."""
    server = Server(Runtime(MemoryStore(), activity_poll_seconds=0.5))
    sim.configure(server.server.config.app, env={}, **settings)
    return server


def machine(endpoint: str, definition: dict[str, Any], prefix: str = "sim", **kw: Any) -> str:
    """Create a state machine with a fresh name; its name."""
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    make_client(endpoint).create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE, **kw)
    return name


def flow(endpoint: str, definition: dict[str, Any], *, prepare: bool = True, app: Any = None,
         mocks: dict[str, Any] | None = None) -> str:
    """Create (and prepare) a flow, with node ``mocks`` registered on ``app``; its id."""
    agent = make_client(endpoint, "bedrock-agent")
    name = "f" + uuid.uuid4().hex[:12]
    if mocks is not None:
        from api.bedrock_agent import flow_service
        flow_service(app).mocks[name] = mocks
    created = agent.create_flow(name=name, executionRoleArn=ROLE, definition=definition)
    if prepare:
        agent.prepare_flow(flowIdentifier=created["id"])
    return str(created["id"])


def sse_frames(endpoint: str, path: str, body: dict[str, Any], **kw: Any) -> tuple[httpx.Response, list[Any]]:
    """POST and read the server-sent events: each ``data:`` payload, JSON-decoded unless it is [DONE]."""
    frames: list[Any] = []
    with httpx.stream("POST", endpoint + path, json=body, timeout=10, **kw) as response:
        for line in response.iter_lines():
            if line.startswith("data: "):
                payload = line[len("data: "):]
                frames.append(payload if payload in ("[DONE]", '"[DONE]"') else json.loads(payload))
            else:
                assert line == "" or line.startswith(":"), line
    return response, frames


def wait_until(check: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


def legacy_venv(cache: Path, *pip_args: str) -> Path:
    """A venv with simstudio-sdk 0.1.x, made once under ``cache``; its python. pip failing is an error."""
    venv = cache / "simstudio-sdk-0.1.2"
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    marker = venv / ".complete"
    if marker.exists():
        return python
    # Without its own pip the venv is quicker to make: the host's pip installs into it (pip --python);
    # a host without pip gets a venv with pip instead.
    import importlib.util
    host_pip = importlib.util.find_spec("pip") is not None
    subprocess.run([sys.executable, "-m", "venv", "--clear", *(["--without-pip"] if host_pip else []), str(venv)],
                   check=True, capture_output=True)
    installer = [sys.executable, "-m", "pip", "--python", str(python)] if host_pip else [str(python), "-m", "pip"]
    pip = subprocess.run([*installer, "install", "--disable-pip-version-check", "-q", *pip_args, LEGACY_SDK],
                         capture_output=True, text=True, timeout=300)
    if pip.returncode != 0:
        raise RuntimeError(f"pip install {LEGACY_SDK} failed:\n{pip.stdout}\n{pip.stderr}")
    marker.write_text(LEGACY_SDK)
    return python


def cached_legacy_venv() -> Path:
    """``legacy_venv`` under the temp dir, made once per machine (a file lock guards parallel runs)."""
    import fcntl
    import tempfile
    cache = Path(tempfile.gettempdir()) / f"statesim-sim-py{sys.version_info[0]}{sys.version_info[1]}"
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return legacy_venv(cache)
