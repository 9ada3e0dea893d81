"""``stream: true``: server-sent events read with raw httpx, for state machines and flows."""
from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from tests.api.conftest import Server
from tests.engine.flows._defs import data, inp, io, out, passthrough, prompt
from tests.sim.fixtures import FAIL, GREET, flow, machine, sse_frames, wait_until

KEY = {"X-API-Key": "k"}
GREETING = {"greeting": "Hello, Sam!", "loud": True}


def _stream(server: Server, workflow: str, body: dict[str, Any], path: str = "/api/v2/workflows/{}/execute",
            **kw: Any) -> list[Any]:
    response, frames = sse_frames(server.endpoint, path.format(workflow), {**body, "stream": True},
                                  headers={**KEY, **kw.pop("headers", {})})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert (response.headers["cache-control"], response.headers["x-accel-buffering"]) == ("no-cache", "no")
    assert "x-run-id" not in response.headers
    return frames


def _prompt_flow() -> dict[str, Any]:
    return {"nodes": [inp(), prompt("Ask", "Answer: {{q}}", [io("q")]), out()],
            "connections": [data("In", "document", "Ask", "q"), data("Ask", "modelCompletion", "Out", "document")]}


def test_state_machine_stream_has_one_frame_per_state_then_final_and_done(server: Server) -> None:
    name = machine(server.endpoint, GREET)
    frames = _stream(server, name, {"input": {"name": "Sam"}})
    assert frames == [
        {"blockId": "Greet", "chunk": '{\n  "greeting": "Hello, Sam!"\n}'},
        {"blockId": "Shout", "chunk": '\n\n{\n  "greeting": "Hello, Sam!",\n  "loud": true\n}'},
        {"event": "final", "data": {"success": True, "output": GREETING}},
        "[DONE]",
    ]


def test_state_machine_stream_with_selected_outputs(server: Server) -> None:
    name = machine(server.endpoint, GREET)
    frames = _stream(server, name, {"input": {"name": "Sam"}, "selectedOutputs": ["Shout.loud", "greet.greeting"]})
    assert frames == [
        {"blockId": "Greet", "chunk": "Hello, Sam!"},
        {"blockId": "Shout", "chunk": "\n\ntrue"},
        {"event": "final", "data": {"success": True, "output": GREETING}},
        "[DONE]",
    ]


def test_state_machine_failure_ends_with_an_error_frame(server: Server) -> None:
    name = machine(server.endpoint, FAIL)
    frames = _stream(server, name, {"input": {}})
    assert frames == [
        {"blockId": "Check", "chunk": "{}"},
        {"event": "error", "error": "Order.Rejected: no stock for the order", "blockId": "Reject"},
        "[DONE]",
    ]


def test_express_state_machine_streams_too(server: Server) -> None:
    name = machine(server.endpoint, GREET, type="EXPRESS")
    frames = _stream(server, name, {"input": {"name": "Sam"}, "selectedOutputs": ["Shout"]})
    assert frames == [{"blockId": "Shout", "chunk": '{\n  "greeting": "Hello, Sam!",\n  "loud": true\n}'},
                      {"event": "final", "data": {"success": True, "output": GREETING}}, "[DONE]"]


def test_flow_stream_has_one_frame_per_node_output(server: Server) -> None:
    flow_id = flow(server.endpoint, _prompt_flow(), app=server.server.config.app, mocks={"Ask": "forty-two"})
    frames = _stream(server, flow_id, {"input": {"input": "why?"}})
    assert frames == [
        {"blockId": "In", "chunk": "why?"},
        {"blockId": "Ask", "chunk": "\n\nforty-two"},
        {"blockId": "Out", "chunk": "\n\nforty-two"},
        {"event": "final", "data": {"success": True, "output": "forty-two"}},
        "[DONE]",
    ]


def test_flow_stream_with_selected_outputs(server: Server) -> None:
    flow_id = flow(server.endpoint, _prompt_flow(), app=server.server.config.app, mocks={"Ask": "forty-two"})
    frames = _stream(server, flow_id, {"input": {"input": "why?"}, "selectedOutputs": ["Ask.modelCompletion"]})
    assert frames == [
        {"blockId": "Ask", "chunk": "forty-two"},
        {"event": "final", "data": {"success": True, "output": "forty-two"}},
        "[DONE]",
    ]


def test_flow_failure_streams_an_error_frame(server: Server) -> None:
    flow_id = flow(server.endpoint, passthrough())
    frames = _stream(server, flow_id, {"input": {"doc": {"not": "a string"}}})
    assert frames[-1] == "[DONE]"
    assert [f.get("event") for f in frames[:-1]] == ["error"]
    assert isinstance(frames[0]["error"], str) and frames[0]["error"]


def test_legacy_route_streams_the_same_frames(server: Server) -> None:
    name = machine(server.endpoint, GREET)
    frames = _stream(server, name, {"name": "Sam", "selectedOutputs": ["Shout.greeting"]},
                     path="/api/workflows/{}/execute")
    assert frames == [{"blockId": "Shout", "chunk": "Hello, Sam!"},
                      {"event": "final", "data": {"success": True, "output": GREETING}}, "[DONE]"]


@pytest.mark.parametrize("header", [{"X-Stream-Response": "true"}])
def test_legacy_stream_header(server: Server, header: dict[str, str]) -> None:
    name = machine(server.endpoint, GREET)
    response, frames = sse_frames(server.endpoint, f"/api/workflows/{name}/execute", {"name": "Sam"},
                                  headers={**KEY, **header})
    assert response.status_code == 200 and frames[-2:] == [
        {"event": "final", "data": {"success": True, "output": GREETING}}, "[DONE]"]


def test_streamed_run_is_recorded(server: Server, http: Any) -> None:
    name = machine(server.endpoint, GREET)
    _stream(server, name, {"input": {"name": "Sam"}}, headers={"X-Run-Id": "streamed-" + name})
    run = http.get(f"/api/v2/workflows/{name}/runs/streamed-{name}", params={"includeOutput": "true"},
                   headers=KEY).json()["data"]
    assert (run["status"], run["output"]) == ("completed", GREETING)


def _waiting_machine(server: Server, sfn: Any) -> tuple[str, str]:
    activity = sfn.create_activity(name=f"sim-stream-{uuid.uuid4().hex[:8]}")["activityArn"]
    definition = {"StartAt": "Prepare", "States": {
        "Prepare": {"Type": "Pass", "Result": {"ready": True}, "Next": "Work"},
        "Work": {"Type": "Task", "Resource": activity, "End": True}}}
    return machine(server.endpoint, definition), activity


def test_frames_arrive_while_the_state_machine_is_still_running(server: Server, sfn: Any) -> None:
    name, activity = _waiting_machine(server, sfn)
    with httpx.stream("POST", f"{server.endpoint}/api/v2/workflows/{name}/execute", timeout=10, headers=KEY,
                      json={"input": {}, "stream": True}) as response:
        lines = response.iter_lines()
        first = next(line for line in lines if line)
        assert json.loads(first.removeprefix("data: ")) == {"blockId": "Prepare", "chunk": '{\n  "ready": true\n}'}
        task = sfn.get_activity_task(activityArn=activity)  # the run waits on Work while the frame is out
        sfn.send_task_success(taskToken=task["taskToken"], output='"finished"')
        rest = [json.loads(line[6:]) if line != "data: [DONE]" else "[DONE]" for line in lines if line]
    assert rest == [{"blockId": "Work", "chunk": "\n\nfinished"},
                    {"event": "final", "data": {"success": True, "output": "finished"}}, "[DONE]"]


def test_a_client_leaving_the_stream_does_not_stop_the_run(server: Server, sfn: Any, http: Any) -> None:
    name, activity = _waiting_machine(server, sfn)
    run_id = "left-" + uuid.uuid4().hex[:8]
    with httpx.stream("POST", f"{server.endpoint}/api/v2/workflows/{name}/execute", timeout=10,
                      headers={**KEY, "X-Run-Id": run_id}, json={"input": {}, "stream": True}) as response:
        assert next(line for line in response.iter_lines() if line).startswith('data: {"blockId": "Prepare"')
    url = f"/api/v2/workflows/{name}/runs/{run_id}"
    running = http.get(url, params={"selectedOutputs": "Prepare.ready"}, headers=KEY).json()["data"]
    assert (running["status"], running["blockOutputs"]) == ("running", {"Prepare.ready": True})
    task = sfn.get_activity_task(activityArn=activity)
    sfn.send_task_success(taskToken=task["taskToken"], output='{"ok": 1}')
    done = wait_until(lambda: (r := http.get(url, params={"includeOutput": "true"}, headers=KEY).json()["data"])[
        "status"] == "completed" and r)
    assert done["output"] == {"ok": 1}
