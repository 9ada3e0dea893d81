"""bedrock-agent-runtime: InvokeFlow's event stream and async executions, through real boto3 clients."""
from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from botocore.eventstream import EventStreamBuffer
from botocore.exceptions import ClientError, EventStreamError

from api import eventstream
from api.bedrock_agent import FlowService, flow_service
from tests.api.conftest import ROLE, Server, make_client
from tests.engine.flows._defs import code, data, inp, io, out, passthrough, prompt


@pytest.fixture(scope="module")
def agent(server: Server) -> Any:
    return make_client(server.endpoint, "bedrock-agent")


@pytest.fixture(scope="module")
def runtime(server: Server) -> Any:
    return make_client(server.endpoint, "bedrock-agent-runtime")


@pytest.fixture(scope="module")
def service(server: Server) -> FlowService:
    return flow_service(server.server.config.app)


def _prepared(agent: Any, service: FlowService, definition: dict[str, Any], mocks: dict[str, Any] | None = None) -> dict[str, Any]:
    name = "f" + uuid.uuid4().hex[:12]
    service.mocks[name] = mocks or {}
    flow = agent.create_flow(name=name, executionRoleArn=ROLE, definition=definition)
    agent.prepare_flow(flowIdentifier=flow["id"])
    return flow


def _invoke(runtime: Any, flow: dict[str, Any], document: Any, **kw: Any) -> tuple[str, list[dict[str, Any]]]:
    response = runtime.invoke_flow(flowIdentifier=flow["id"], flowAliasIdentifier=kw.pop("alias", "TSTALIASID"),
                                   inputs=[{"content": {"document": document}, "nodeName": kw.pop("node", "In"),
                                            "nodeOutputName": "document"}], **kw)
    return response["executionId"], _drain(response)


def _drain(response: dict[str, Any]) -> list[dict[str, Any]]:
    """Every decoded event; the stream is closed even when it ends with an exception."""
    try:
        return list(response["responseStream"])
    finally:
        response["responseStream"].close()


def _prompt_flow() -> dict[str, Any]:
    return {"nodes": [inp(), prompt("P", "Answer: {{q}}", [io("q")], model="amazon.nova-lite-v1:0"), out()],
            "connections": [data("In", "document", "P", "q"), data("P", "modelCompletion", "Out", "document")]}


def test_encoder_round_trips_through_botocore_in_small_chunks() -> None:
    stream = eventstream.event("flowOutputEvent", {"content": {"document": "é"}}) + \
        eventstream.exception("validationException", {"message": "bad"})
    buffer = EventStreamBuffer()
    messages = []
    for start in range(0, len(stream), 7):
        buffer.add_data(stream[start:start + 7])
        messages.extend(buffer)
    assert [(m.headers[":message-type"], json.loads(m.payload)) for m in messages] == [
        ("event", {"content": {"document": "é"}}), ("exception", {"message": "bad"})]
    assert messages[0].headers[":event-type"] == "flowOutputEvent"


def test_invoke_passthrough(agent: Any, runtime: Any, service: FlowService) -> None:
    flow = _prepared(agent, service, passthrough())
    execution_id, events = _invoke(runtime, flow, "hello")
    assert len(execution_id) == 36
    assert events == [
        {"flowOutputEvent": {"nodeName": "Out", "nodeType": "FlowOutputNode", "content": {"document": "hello"}}},
        {"flowCompletionEvent": {"completionReason": "SUCCESS"}},
    ]


def test_invoke_with_trace_and_mocked_prompt(agent: Any, runtime: Any, service: FlowService) -> None:
    flow = _prepared(agent, service, _prompt_flow(), {"P": "42"})
    _, events = _invoke(runtime, flow, "why?", enableTrace=True)
    kinds = [next(iter(e["flowTraceEvent"]["trace"])) if "flowTraceEvent" in e else next(iter(e)) for e in events]
    assert kinds == ["nodeOutputTrace", "nodeInputTrace", "nodeActionTrace", "nodeOutputTrace", "nodeInputTrace",
                     "flowOutputEvent", "flowCompletionEvent"]
    action = events[2]["flowTraceEvent"]["trace"]["nodeActionTrace"]
    assert action["operationRequest"]["messages"][0]["content"][0]["text"] == "Answer: why?"
    assert events[5]["flowOutputEvent"]["content"]["document"] == "42"


def test_prompt_without_model_fails_in_stream_naming_the_model(agent: Any, runtime: Any, service: FlowService) -> None:
    flow = _prepared(agent, service, _prompt_flow())
    with pytest.raises(EventStreamError) as info:
        _invoke(runtime, flow, "why?")
    error = info.value.response["Error"]
    assert error["Code"] == "dependencyFailedException"
    assert "'amazon.nova-lite-v1:0'" in error["Message"]


def test_type_mismatch_is_an_in_stream_validation_exception(agent: Any, runtime: Any, service: FlowService) -> None:
    flow = _prepared(agent, service, passthrough())
    with pytest.raises(EventStreamError) as info:
        _invoke(runtime, flow, {"not": "a string"})
    assert info.value.response["Error"] == {
        "Code": "validationException",
        "Message": "Expected type for Node Output document of Node In to be STRING. Actual type is OBJECT."}


def test_unprepared_flow_and_unknown_input_node_are_http_errors(agent: Any, runtime: Any, service: FlowService) -> None:
    flow = agent.create_flow(name="f" + uuid.uuid4().hex[:12], executionRoleArn=ROLE, definition=passthrough())
    with pytest.raises(ClientError) as info:
        _invoke(runtime, flow, "x")
    assert info.value.response["Error"]["Code"] == "ValidationException"
    flow = _prepared(agent, service, passthrough())
    with pytest.raises(ClientError) as info:
        _invoke(runtime, flow, "x", node="Nope")
    assert (info.value.response["Error"]["Code"], info.value.response["Error"]["Message"]) == (
        "ValidationException", "The input node Nope does not exist in the flow.")
    with pytest.raises(ClientError) as info:
        runtime.invoke_flow(flowIdentifier="ABCDEFGHIJ", flowAliasIdentifier="TSTALIASID",
                            inputs=[{"content": {"document": "x"}, "nodeName": "In", "nodeOutputName": "document"}])
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"


def _agent_flow() -> dict[str, Any]:
    node = {"name": "Ag", "type": "Agent", "inputs": [io("agentInputText")],
            "configuration": {"agent": {"agentAliasArn": "arn:aws:bedrock:us-east-1:123456789012:agent-alias/AGENT12345/ALIAS12345"}},
            "outputs": [{"name": "agentResponse", "type": "String"}]}
    return {"nodes": [inp(), node, out()],
            "connections": [data("In", "document", "Ag", "agentInputText"), data("Ag", "agentResponse", "Out", "document")]}


def test_multi_turn_resume_by_execution_id(agent: Any, runtime: Any, service: FlowService) -> None:
    flow = _prepared(agent, service, _agent_flow(), {"Ag": {"$sequence": [{"$inputRequired": "Which genre?"}, "Rock it is."]}})
    execution_id, events = _invoke(runtime, flow, "Make a playlist")
    assert events[-2:] == [
        {"flowMultiTurnInputRequestEvent": {"nodeName": "Ag", "nodeType": "AgentNode", "content": {"document": "Which genre?"}}},
        {"flowCompletionEvent": {"completionReason": "INPUT_REQUIRED"}}]
    response = runtime.invoke_flow(flowIdentifier=flow["id"], flowAliasIdentifier="TSTALIASID", executionId=execution_id,
                                   inputs=[{"content": {"document": "rock"}, "nodeName": "Ag", "nodeInputName": "agentInputText"}])
    assert response["executionId"] == execution_id
    assert _drain(response)[0]["flowOutputEvent"]["content"]["document"] == "Rock it is."
    with pytest.raises(EventStreamError) as info:  # the session is over
        _drain(runtime.invoke_flow(flowIdentifier=flow["id"], flowAliasIdentifier="TSTALIASID", executionId=execution_id,
                                   inputs=[{"content": {"document": "x"}, "nodeName": "Ag",
                                            "nodeInputName": "agentInputText"}]))
    assert info.value.response["Error"]["Message"].startswith("Error retrieving session context")


@pytest.fixture
def short_inline_timeout(service: FlowService) -> Iterator[None]:
    before = service.inline_timeout
    service.inline_timeout = 0.5
    yield
    service.inline_timeout = before


@pytest.mark.usefixtures("short_inline_timeout")
def test_inline_code_loop_forever_is_killed_and_server_keeps_serving(agent: Any, runtime: Any, service: FlowService) -> None:
    definition = {"nodes": [inp(), code("Spin", "while True:\n    pass", [io("x")]), out()],
                  "connections": [data("In", "document", "Spin", "x"), data("Spin", "response", "Out", "document")]}
    flow = _prepared(agent, service, definition)
    with pytest.raises(EventStreamError) as info:
        _invoke(runtime, flow, "x")
    assert info.value.response["Error"]["Message"] == (
        "Inline code of Node Spin failed: TimeoutError: The code did not finish within 0.5 seconds.")
    _, events = _invoke(runtime, _prepared(agent, service, passthrough()), "still here")
    assert events[0]["flowOutputEvent"]["content"]["document"] == "still here"


def test_alias_routes_to_its_version(agent: Any, runtime: Any, service: FlowService) -> None:
    flow = _prepared(agent, service, passthrough())
    agent.create_flow_version(flowIdentifier=flow["id"])
    alias = agent.create_flow_alias(flowIdentifier=flow["id"], name="live", routingConfiguration=[{"flowVersion": "1"}])
    changed = {"nodes": [inp(), out("Changed")], "connections": [data("In", "document", "Changed", "document")]}
    agent.update_flow(flowIdentifier=flow["id"], name=flow["name"], executionRoleArn=ROLE, definition=changed)
    agent.prepare_flow(flowIdentifier=flow["id"])
    assert _invoke(runtime, flow, "v", alias=alias["arn"])[1][0]["flowOutputEvent"]["nodeName"] == "Out"
    assert _invoke(runtime, flow, "v")[1][0]["flowOutputEvent"]["nodeName"] == "Changed"


def test_prompt_node_with_managed_prompt_arn(agent: Any, runtime: Any, service: FlowService) -> None:
    created = agent.create_prompt(name="p" + uuid.uuid4().hex[:8], defaultVariant="v", variants=[{
        "name": "v", "templateType": "TEXT", "modelId": "anthropic.claude-v2",
        "templateConfiguration": {"text": {"text": "Title: {{input}}"}}}])
    version = agent.create_prompt_version(promptIdentifier=created["id"])
    node = {"name": "P", "type": "Prompt", "inputs": [io("input")], "outputs": [{"name": "modelCompletion", "type": "String"}],
            "configuration": {"prompt": {"sourceConfiguration": {"resource": {"promptArn": version["arn"]}}}}}
    definition = {"nodes": [inp(), node, out()],
                  "connections": [data("In", "document", "P", "input"), data("P", "modelCompletion", "Out", "document")]}
    flow = _prepared(agent, service, definition, {"P": "ok"})
    _, events = _invoke(runtime, flow, "Dune", enableTrace=True)
    action = next(e["flowTraceEvent"]["trace"]["nodeActionTrace"] for e in events
                  if "nodeActionTrace" in e.get("flowTraceEvent", {}).get("trace", {}))
    assert action["operationRequest"]["messages"][0]["content"][0]["text"] == "Title: Dune"


def test_async_execution_lifecycle(agent: Any, runtime: Any, service: FlowService) -> None:
    flow = _prepared(agent, service, _prompt_flow(), {"P": "done"})
    started = runtime.start_flow_execution(flowIdentifier=flow["id"], flowAliasIdentifier="TSTALIASID",
                                           flowExecutionName="run-1",
                                           inputs=[{"content": {"document": "q"}, "nodeName": "In", "nodeOutputName": "document"}])
    arn = started["executionArn"]
    assert arn == f"{flow['arn']}/alias/TSTALIASID/execution/run-1"
    got = _finished(runtime, flow["id"], arn)
    assert (got["status"], got["flowVersion"]) == ("Succeeded", "DRAFT")
    flow_events = runtime.list_flow_execution_events(flowIdentifier=flow["id"], flowAliasIdentifier="TSTALIASID",
                                                     executionIdentifier="run-1", eventType="Flow")["flowExecutionEvents"]
    assert [next(iter(e)) for e in flow_events] == ["flowInputEvent", "flowOutputEvent"]
    assert flow_events[1]["flowOutputEvent"]["fields"] == [{"name": "document", "content": {"document": "done"}}]
    node_events = runtime.list_flow_execution_events(flowIdentifier=flow["id"], flowAliasIdentifier="TSTALIASID",
                                                     executionIdentifier=arn, eventType="Node")["flowExecutionEvents"]
    assert [next(iter(e)) for e in node_events] == ["nodeOutputEvent", "nodeInputEvent", "nodeActionEvent",
                                                    "nodeOutputEvent", "nodeInputEvent"]
    listed = runtime.list_flow_executions(flowIdentifier=flow["id"])["flowExecutionSummaries"]
    assert [e["executionArn"] for e in listed] == [arn]
    snapshot = runtime.get_execution_flow_snapshot(flowIdentifier=flow["id"], flowAliasIdentifier="TSTALIASID",
                                                   executionIdentifier=arn)
    assert json.loads(snapshot["definition"]) == _prompt_flow()
    stopped = runtime.stop_flow_execution(flowIdentifier=flow["id"], flowAliasIdentifier="TSTALIASID", executionIdentifier=arn)
    assert stopped["status"] == "Succeeded"


def _finished(runtime: Any, flow_id: str, arn: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        got: dict[str, Any] = runtime.get_flow_execution(flowIdentifier=flow_id, flowAliasIdentifier="TSTALIASID",
                                                         executionIdentifier=arn)
        if got["status"] != "Running" or time.monotonic() > deadline:
            return got
        time.sleep(0.02)


def test_stop_flow_execution_aborts_a_running_execution(agent: Any, runtime: Any, service: FlowService) -> None:
    definition = {"nodes": [inp(), code("Slow", "import time\ntime.sleep(30)\nx", [io("x")]), out()],
                  "connections": [data("In", "document", "Slow", "x"), data("Slow", "response", "Out", "document")]}
    flow = _prepared(agent, service, definition)
    started = time.monotonic()
    arn = runtime.start_flow_execution(flowIdentifier=flow["id"], flowAliasIdentifier="TSTALIASID", inputs=[
        {"content": {"document": "x"}, "nodeName": "In", "nodeOutputName": "document"}])["executionArn"]
    assert runtime.get_flow_execution(flowIdentifier=flow["id"], flowAliasIdentifier="TSTALIASID",
                                      executionIdentifier=arn)["status"] == "Running"
    stopped = runtime.stop_flow_execution(flowIdentifier=flow["id"], flowAliasIdentifier="TSTALIASID", executionIdentifier=arn)
    assert stopped["status"] == "Aborted"
    assert _finished(runtime, flow["id"], arn)["status"] == "Aborted"
    assert time.monotonic() - started < 5


def test_events_stream_as_the_flow_runs(agent: Any, runtime: Any, service: FlowService) -> None:
    slow = code("Slow", "import time\ntime.sleep(0.4)\nx", [io("x")])
    definition = {"nodes": [inp(), out("Early"), slow, out("Late")],
                  "connections": [data("In", "document", "Early", "document"), data("In", "document", "Slow", "x"),
                                  data("Slow", "response", "Late", "document")]}
    flow = _prepared(agent, service, definition)
    response = runtime.invoke_flow(flowIdentifier=flow["id"], flowAliasIdentifier="TSTALIASID",
                                   inputs=[{"content": {"document": "x"}, "nodeName": "In", "nodeOutputName": "document"}])
    arrivals = []
    for event in response["responseStream"]:
        arrivals.append((next(iter(event)), time.monotonic()))
    assert [kind for kind, _ in arrivals] == ["flowOutputEvent", "flowOutputEvent", "flowCompletionEvent"]
    assert arrivals[1][1] - arrivals[0][1] > 0.3


def test_async_execution_runs_in_the_shared_runtime_and_stops_through_it(
        agent: Any, runtime: Any, service: FlowService, server: Server) -> None:
    model = f"test.slow-{uuid.uuid4().hex[:8]}"
    entered, cancelled = threading.Event(), threading.Event()

    async def slow_model(payload: Any) -> Any:
        entered.set()
        try:
            await anyio.sleep(30)
        except anyio.get_cancelled_exc_class():
            cancelled.set()
            raise
        return {}

    server.runtime.registry.register(model, slow_model)
    definition = {"nodes": [inp(), prompt("P", "Q: {{q}}", [io("q")], model=model), out()],
                  "connections": [data("In", "document", "P", "q"), data("P", "modelCompletion", "Out", "document")]}
    flow = _prepared(agent, service, definition)
    ids = {"flowIdentifier": flow["id"], "flowAliasIdentifier": "TSTALIASID"}
    arn = runtime.start_flow_execution(**ids, inputs=[
        {"content": {"document": "q"}, "nodeName": "In", "nodeOutputName": "document"}])["executionArn"]
    assert entered.wait(5)
    assert server.runtime.is_running(arn)  # one task of the runtime's task group, like an ASL execution
    # events are stored as the flow runs, not at its end
    node_events = runtime.list_flow_execution_events(**ids, executionIdentifier=arn, eventType="Node")
    assert [(next(iter(e)), next(iter(e.values()))["nodeName"]) for e in node_events["flowExecutionEvents"]] == [
        ("nodeOutputEvent", "In"), ("nodeInputEvent", "P")]
    stopped = runtime.stop_flow_execution(**ids, executionIdentifier=arn)
    assert stopped == {"executionArn": arn, "status": "Aborted", "ResponseMetadata": stopped["ResponseMetadata"]}
    assert cancelled.wait(5)  # Runtime.cancel reached the node's call-out
    _until(lambda: not server.runtime.is_running(arn))
    got = runtime.get_flow_execution(**ids, executionIdentifier=arn)
    assert got["status"] == "Aborted" and got["endedAt"] >= got["startedAt"]
    flow_events = runtime.list_flow_execution_events(**ids, executionIdentifier=arn, eventType="Flow")
    assert [next(iter(e)) for e in flow_events["flowExecutionEvents"]] == ["flowInputEvent"]
    # stopping again changes nothing
    assert runtime.stop_flow_execution(**ids, executionIdentifier=arn)["status"] == "Aborted"


def _until(check: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met"
        time.sleep(0.01)


def test_async_execution_past_its_time_limit_ends_timed_out(
        agent: Any, runtime: Any, service: FlowService, server: Server) -> None:
    model = f"test.hung-{uuid.uuid4().hex[:8]}"

    async def hung_model(payload: Any) -> Any:
        await anyio.sleep(30)
        return {}

    server.runtime.registry.register(model, hung_model)
    definition = {"nodes": [inp(), prompt("P", "Q: {{q}}", [io("q")], model=model), out()],
                  "connections": [data("In", "document", "P", "q"), data("P", "modelCompletion", "Out", "document")]}
    flow = _prepared(agent, service, definition)
    ids = {"flowIdentifier": flow["id"], "flowAliasIdentifier": "TSTALIASID"}
    saved, service.execution_timeout = service.execution_timeout, 0.3  # AWS: 24 hours
    try:
        arn = runtime.start_flow_execution(**ids, inputs=[
            {"content": {"document": "q"}, "nodeName": "In", "nodeOutputName": "document"}])["executionArn"]
    finally:
        service.execution_timeout = saved
    got = _finished(runtime, flow["id"], arn)
    assert got["status"] == "TimedOut"
    assert got["errors"] == [{"error": "ExecutionTimedOut",
                              "message": "The flow execution did not finish within 0.3 seconds."}]
    _until(lambda: not server.runtime.is_running(arn))
