"""kill -9 a real ``statesim serve`` in the middle of an async flow execution and start it again
on the same data directory: the execution ends Failed with a clear error (flow runs keep their
state in memory, so they are not resumed), its events up to the kill are kept, and the flow
still runs."""
from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.bedrock_agent import INTERRUPTED
from tests.api.conftest import ROLE, ServeProcess
from tests.engine.flows._defs import data, inp, io, out, prompt

ROOT = Path(__file__).resolve().parents[2]
MODEL = "amazon.nova-lite-v1:0"


class Serve(ServeProcess):
    """``statesim serve`` in a child process, with the two Bedrock clients."""

    def __init__(self, data_dir: Path, *args: str) -> None:
        super().__init__(data_dir, *args)
        self.agent = self.client_for("bedrock-agent")
        self.runtime = self.client_for("bedrock-agent-runtime")


@pytest.fixture
def silent_model() -> Iterator[socket.socket]:
    """An "OpenAI-compatible endpoint" that takes the request and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)
    yield listener
    listener.close()


def _kinds(runtime: Any, ids: dict[str, str], arn: str, kind: str) -> list[tuple[str, str | None]]:
    events = runtime.list_flow_execution_events(**ids, executionIdentifier=arn, eventType=kind)["flowExecutionEvents"]
    return [(next(iter(e)), next(iter(e.values())).get("nodeName")) for e in events]


def test_a_flow_execution_cut_off_by_kill_9_ends_failed_after_restart(tmp_path: Path,
                                                                       silent_model: socket.socket) -> None:
    endpoint = f"http://127.0.0.1:{silent_model.getsockname()[1]}/v1"
    first = Serve(tmp_path / "data", "--model-endpoint", endpoint)
    try:
        definition = {"nodes": [inp(), prompt("P", "Q: {{q}}", [io("q")], model=MODEL), out()],
                      "connections": [data("In", "document", "P", "q"),
                                      data("P", "modelCompletion", "Out", "document")]}
        flow = first.agent.create_flow(name="slow-flow", executionRoleArn=ROLE, definition=definition)
        first.agent.prepare_flow(flowIdentifier=flow["id"])
        ids = {"flowIdentifier": flow["id"], "flowAliasIdentifier": "TSTALIASID"}
        arn = first.runtime.start_flow_execution(**ids, flowExecutionName="cut-off", inputs=[
            {"content": {"document": "q"}, "nodeName": "In", "nodeOutputName": "document"}])["executionArn"]
        connection, _ = silent_model.accept()  # the Prompt node is calling the model: mid-execution
        with connection:
            running = first.runtime.get_flow_execution(**ids, executionIdentifier=arn)
            assert running["status"] == "Running"
            first.kill()
    finally:
        first.stop()

    second = Serve(tmp_path / "data")
    try:
        got = second.runtime.get_flow_execution(**ids, executionIdentifier=arn)
        assert got["status"] == "Failed"
        assert got["errors"] == [{"message": INTERRUPTED}]
        assert got["startedAt"] == running["startedAt"] and got["endedAt"] > got["startedAt"]
        flow_events = second.runtime.list_flow_execution_events(
            **ids, executionIdentifier=arn, eventType="Flow")["flowExecutionEvents"]
        assert [next(iter(e)) for e in flow_events] == ["flowInputEvent", "flowFailureEvent"]
        failure = flow_events[1]["flowFailureEvent"]
        assert (failure["errorCode"], failure["errorMessage"]) == ("INTERNAL_SERVER", INTERRUPTED)
        assert flow_events[0]["flowInputEvent"]["fields"] == [{"name": "document", "content": {"document": "q"}}]
        # what happened before the kill was stored as it happened
        assert _kinds(second.runtime, ids, arn, "Node") == [("nodeOutputEvent", "In"), ("nodeInputEvent", "P")]
        summaries = second.runtime.list_flow_executions(flowIdentifier=flow["id"])["flowExecutionSummaries"]
        assert [(s["executionArn"], s["status"]) for s in summaries] == [(arn, "Failed")]
        # the flow itself survived: a new execution runs (and fails on the model nothing answers now)
        again = second.runtime.start_flow_execution(**ids, inputs=[
            {"content": {"document": "q"}, "nodeName": "In", "nodeOutputName": "document"}])["executionArn"]
        deadline = time.monotonic() + 10
        while (status := second.runtime.get_flow_execution(**ids, executionIdentifier=again)["status"]) == "Running":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert status == "Failed"
        assert ("nodeFailureEvent", "P") in _kinds(second.runtime, ids, again, "Node")
    finally:
        second.stop()
