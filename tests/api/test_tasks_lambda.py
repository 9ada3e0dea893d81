"""Lambda tasks through boto3 against a real server: registered functions, a Lambda-compatible
endpoint (--lambda-endpoint), lambda:invoke envelopes, Retry/Catch on Lambda error names,
timeouts, heartbeats and task-token callbacks."""
from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from engine.clock import ScaledClock
from engine.runtime import Runtime
from engine.store import MemoryStore
from engine.tasks.registry import TaskFailure, TaskRegistry
from tests.api.conftest import ROLE, Server, make_client, wait_for


class CardDeclined(Exception):
    pass


registry = TaskRegistry()
calls: list[Any] = []


@registry.task("arn:aws:lambda:*:*:function:charge-*")
def charge(event: Any, ctx: Any) -> Any:
    calls.append(event)
    if event.get("declined"):
        raise CardDeclined("card declined")
    return {"charged": event["amount"]}


flaky_attempts: dict[str, int] = {}


@registry.task("arn:aws:lambda:*:*:function:flaky")
def flaky(event: Any) -> Any:
    count = flaky_attempts[event["id"]] = flaky_attempts.get(event["id"], 0) + 1
    if count < 3:
        raise TaskFailure("Lambda.TooManyRequestsException", "Rate exceeded")
    return {"attempts": count}


@registry.task("arn:aws:lambda:*:*:function:slow")
async def slow(event: Any, ctx: Any) -> Any:
    for _ in range(event.get("beats", 0)):
        await ctx.clock.sleep(5)
        await ctx.heartbeat()
    await ctx.clock.sleep(event["seconds"])
    return "done"


class ThreadServer:
    """Any ASGI app on 127.0.0.1:<free port> in a thread."""

    def __init__(self, app: Any) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.endpoint = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> ThreadServer:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


async def _invocations(request: Request) -> Response:
    """A Lambda Invoke endpoint: 'echo' returns its event, 'boom' fails as the Python runtime does."""
    name = request.path_params["name"].split(":function:")[-1]
    event = json.loads(await request.body() or b"null")
    if name == "echo":
        return Response(json.dumps({"echo": event}), headers={"X-Amz-Executed-Version": "$LATEST"})
    if name == "boom":
        body = {"errorMessage": "it broke", "errorType": "ValueError", "requestId": "r-1", "stackTrace": []}
        return Response(json.dumps(body), headers={"X-Amz-Function-Error": "Unhandled"})
    body = {"Type": "User", "Message": f"Function not found: arn:aws:lambda:us-east-1:123456789012:function:{name}"}
    return Response(json.dumps(body), status_code=404, headers={"x-amzn-ErrorType": "ResourceNotFoundException"})


@pytest.fixture(scope="module")
def lambda_endpoint() -> Iterator[str]:
    app = Starlette(routes=[Route("/2015-03-31/functions/{name}/invocations", _invocations, methods=["POST"])])
    with ThreadServer(app) as running:
        yield running.endpoint


@pytest.fixture(scope="module")
def sfn(lambda_endpoint: str) -> Iterator[Any]:
    runtime = Runtime(MemoryStore(), clock=ScaledClock(1 / 50), registry=registry, activity_poll_seconds=0.5)
    runtime.integrations.lambda_endpoint = lambda_endpoint
    with Server(runtime) as server:
        yield make_client(server.endpoint)


def run(sfn: Any, definition: dict[str, Any], payload: Any = None, name: str | None = None) -> tuple[Any, Any]:
    import uuid
    machine = sfn.create_state_machine(name=name or "m-" + uuid.uuid4().hex[:10], definition=json.dumps(definition),
                                       roleArn=ROLE)["stateMachineArn"]
    started = sfn.start_execution(stateMachineArn=machine, input=json.dumps(payload if payload is not None else {}))
    described = wait_for(sfn, started["executionArn"])
    return described, sfn.get_execution_history(executionArn=started["executionArn"])["events"]


def task(resource: str, **fields: Any) -> dict[str, Any]:
    return {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": resource, "End": True, **fields}}}


INVOKE = "arn:aws:states:::lambda:invoke"


def test_lambda_invoke_envelope(sfn: Any) -> None:
    described, events = run(sfn, task(INVOKE, Parameters={"FunctionName": "charge-card", "Payload.$": "$"}),
                            {"amount": 5})
    assert described["status"] == "SUCCEEDED"
    output = json.loads(described["output"])
    assert output["Payload"] == {"charged": 5}
    assert output["StatusCode"] == 200
    assert output["ExecutedVersion"] == "$LATEST"
    assert output["SdkHttpMetadata"]["HttpStatusCode"] == 200
    assert output["SdkResponseMetadata"]["RequestId"] == output["SdkHttpMetadata"]["HttpHeaders"]["x-amzn-RequestId"]
    scheduled = next(e for e in events if e["type"] == "TaskScheduled")["taskScheduledEventDetails"]
    assert (scheduled["resourceType"], scheduled["resource"]) == ("lambda", "invoke")
    assert json.loads(scheduled["parameters"]) == {"FunctionName": "charge-card", "Payload": {"amount": 5}}


def test_function_arn_with_result_selector(sfn: Any) -> None:
    definition = task(INVOKE, Parameters={"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:charge-x",
                                          "Payload": {"amount": 7}}, ResultSelector={"r.$": "$.Payload.charged"})
    described, _ = run(sfn, definition)
    assert json.loads(described["output"]) == {"r": 7}


def test_bare_function_arn_uses_lambda_events(sfn: Any) -> None:
    described, events = run(sfn, task("arn:aws:lambda:us-east-1:123456789012:function:charge-bare"), {"amount": 2})
    assert json.loads(described["output"]) == {"charged": 2}
    assert [e["type"] for e in events][2:5] == ["LambdaFunctionScheduled", "LambdaFunctionStarted",
                                                "LambdaFunctionSucceeded"]


def test_function_error_is_caught_by_its_type_name(sfn: Any) -> None:
    definition = task(INVOKE, Parameters={"FunctionName": "charge-card", "Payload.$": "$"},
                      Catch=[{"ErrorEquals": ["CardDeclined"], "ResultPath": "$.error", "Next": "Declined"}])
    definition["States"]["Declined"] = {"Type": "Pass", "End": True}
    described, events = run(sfn, definition, {"amount": 1, "declined": True})
    assert described["status"] == "SUCCEEDED"
    error = json.loads(described["output"])["error"]
    assert error["Error"] == "CardDeclined"
    cause = json.loads(error["Cause"])
    assert (cause["errorType"], cause["errorMessage"]) == ("CardDeclined", "card declined")
    assert cause["stackTrace"][0].endswith("in charge\n    raise CardDeclined(\"card declined\")\n")
    failed = next(e for e in events if e["type"] == "TaskFailed")["taskFailedEventDetails"]
    assert failed["error"] == "CardDeclined"


def test_states_task_failed_catches_a_function_error(sfn: Any) -> None:
    definition = task(INVOKE, Parameters={"FunctionName": "charge-card", "Payload.$": "$"},
                      Catch=[{"ErrorEquals": ["States.TaskFailed"], "Next": "Fixup"}])
    definition["States"]["Fixup"] = {"Type": "Pass", "Parameters": {"t.$": "States.StringToJson($.Cause)"},
                                     "OutputPath": "$.t.errorType", "End": True}
    described, _ = run(sfn, definition, {"amount": 1, "declined": True})
    assert json.loads(described["output"]) == "CardDeclined"


def test_retry_on_lambda_error_name(sfn: Any) -> None:
    definition = task(INVOKE, Parameters={"FunctionName": "flaky", "Payload": {"id": "retry-1"}},
                      Retry=[{"ErrorEquals": ["Lambda.TooManyRequestsException"], "IntervalSeconds": 1,
                              "MaxAttempts": 3, "BackoffRate": 2}], OutputPath="$.Payload")
    described, events = run(sfn, definition)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"attempts": 3}
    assert [e["taskFailedEventDetails"]["error"] for e in events if e["type"] == "TaskFailed"] == \
        ["Lambda.TooManyRequestsException"] * 2


def test_timeout(sfn: Any) -> None:
    described, events = run(sfn, task(INVOKE, Parameters={"FunctionName": "slow", "Payload": {"seconds": 30}},
                                      TimeoutSeconds=5))
    assert (described["status"], described["error"]) == ("FAILED", "States.Timeout")
    assert events[-2]["type"] == "TaskTimedOut"


def test_heartbeat_keeps_a_long_task_alive_and_missing_heartbeats_time_out(sfn: Any) -> None:
    # ScaledClock(1 / 50): a 20 s heartbeat is 0.4 s of real time, a beat every 5 s is one per 0.1 s.
    kept, _ = run(sfn, task(INVOKE, Parameters={"FunctionName": "slow", "Payload": {"seconds": 1, "beats": 5}},
                            HeartbeatSeconds=20, TimeoutSeconds=600, OutputPath="$.Payload"))
    assert json.loads(kept["output"]) == "done"
    lost, events = run(sfn, task(INVOKE, Parameters={"FunctionName": "slow", "Payload": {"seconds": 60}},
                                 HeartbeatSeconds=20, TimeoutSeconds=600))
    assert (lost["status"], lost["error"]) == ("FAILED", "States.HeartbeatTimeout")


def test_unregistered_function_without_endpoint_names_the_registered_ones() -> None:
    runtime = Runtime(MemoryStore(), registry=registry)
    with Server(runtime) as server:
        sfn = make_client(server.endpoint)
        described, _ = run(sfn, task(INVOKE, Parameters={"FunctionName": "nope", "Payload": {}}))
    assert described["error"] == "States.TaskFailed"
    assert described["cause"] == (
        "No task handler is registered for resource 'arn:aws:lambda:us-east-1:123456789012:function:nope'. "
        "Registered: arn:aws:lambda:*:*:function:charge-*, arn:aws:lambda:*:*:function:flaky, "
        "arn:aws:lambda:*:*:function:slow. No Lambda endpoint is configured (statesim serve --lambda-endpoint URL).")


def test_lambda_endpoint_success_and_function_error(sfn: Any) -> None:
    described, _ = run(sfn, task(INVOKE, Parameters={"FunctionName": "echo", "Payload.$": "$"}), {"x": 1})
    assert json.loads(described["output"])["Payload"] == {"echo": {"x": 1}}
    bare, _ = run(sfn, task("arn:aws:lambda:us-east-1:123456789012:function:echo"), {"y": 2})
    assert json.loads(bare["output"]) == {"echo": {"y": 2}}
    failed, _ = run(sfn, task(INVOKE, Parameters={"FunctionName": "boom", "Payload": {}}))
    assert failed["error"] == "ValueError"
    assert json.loads(failed["cause"])["errorMessage"] == "it broke"


def test_lambda_endpoint_service_error(sfn: Any) -> None:
    definition = task(INVOKE, Parameters={"FunctionName": "missing", "Payload": {}},
                      Catch=[{"ErrorEquals": ["Lambda.ResourceNotFoundException"], "Next": "Handled"}])
    definition["States"]["Handled"] = {"Type": "Pass", "End": True}
    described, _ = run(sfn, definition)
    error = json.loads(described["output"])
    assert error["Error"] == "Lambda.ResourceNotFoundException"
    assert error["Cause"].startswith("Function not found: arn:aws:lambda:us-east-1:123456789012:function:missing "
                                     "(Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException;")


def test_wait_for_task_token_success_and_failure(sfn: Any) -> None:
    import uuid
    definition = task(INVOKE + ".waitForTaskToken",
                      Parameters={"FunctionName": "echo", "Payload": {"token.$": "$$.Task.Token"}},
                      TimeoutSeconds=600)
    machine = sfn.create_state_machine(name="tok-" + uuid.uuid4().hex[:8], definition=json.dumps(definition),
                                       roleArn=ROLE)["stateMachineArn"]
    outcomes = []
    for answer in ("success", "failure"):
        arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
        submitted = _wait_for_event(sfn, arn, "TaskSubmitted")["taskSubmittedEventDetails"]
        assert (submitted["resourceType"], submitted["resource"]) == ("lambda", "invoke.waitForTaskToken")
        token = json.loads(submitted["output"])["Payload"]["echo"]["token"]
        sfn.send_task_heartbeat(taskToken=token)
        if answer == "success":
            sfn.send_task_success(taskToken=token, output='{"approved": true}')
        else:
            sfn.send_task_failure(taskToken=token, error="Rejected", cause="no")
        outcomes.append(wait_for(sfn, arn))
    assert json.loads(outcomes[0]["output"]) == {"approved": True}
    assert (outcomes[1]["error"], outcomes[1]["cause"]) == ("Rejected", "no")


def _wait_for_event(sfn: Any, arn: str, kind: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for event in sfn.get_execution_history(executionArn=arn, reverseOrder=True)["events"]:
            if event["type"] == kind:
                return dict(event)
        time.sleep(0.02)
    raise AssertionError(f"no {kind} event")


def test_callback_heartbeats_keep_the_task_alive_and_silence_times_out(sfn: Any) -> None:
    import uuid
    # ScaledClock(1 / 50): HeartbeatSeconds 25 is half a second of real time.
    definition = task("arn:aws:states:::sqs:sendMessage.waitForTaskToken", HeartbeatSeconds=25, TimeoutSeconds=3600,
                      Parameters={"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}})
    machine = sfn.create_state_machine(name="hb-" + uuid.uuid4().hex[:8], definition=json.dumps(definition),
                                       roleArn=ROLE)["stateMachineArn"]
    alive = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    scheduled = _wait_for_event(sfn, alive, "TaskScheduled")["taskScheduledEventDetails"]
    token = json.loads(scheduled["parameters"])["MessageBody"]["token"]
    for _ in range(5):  # 0.75 s in all, longer than one heartbeat interval
        time.sleep(0.15)
        sfn.send_task_heartbeat(taskToken=token)
    sfn.send_task_success(taskToken=token, output='"beat"')
    assert wait_for(sfn, alive)["output"] == '"beat"'
    silent = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    described = wait_for(sfn, silent)
    assert (described["status"], described["error"]) == ("FAILED", "States.HeartbeatTimeout")


def test_a_registered_handler_works_an_activity() -> None:
    import uuid
    activities = TaskRegistry()
    activities.register("arn:aws:states:*:*:activity:review-*", lambda task: {"reviewed": task["doc"]})
    with Server(Runtime(MemoryStore(), registry=activities)) as server:
        sfn = make_client(server.endpoint)
        activity = sfn.create_activity(name="review-" + uuid.uuid4().hex[:6])["activityArn"]
        described, events = run(sfn, task(activity, Parameters={"doc.$": "$.doc"}), {"doc": "d1"})
    assert json.loads(described["output"]) == {"reviewed": "d1"}
    assert [e["type"] for e in events][2:5] == ["ActivityScheduled", "ActivityStarted", "ActivitySucceeded"]
    assert events[3]["activityStartedEventDetails"] == {"workerName": "statesim-registry"}


def test_event_invocation_returns_202_without_payload(sfn: Any) -> None:
    described, _ = run(sfn, task(INVOKE, Parameters={"FunctionName": "echo", "InvocationType": "Event",
                                                     "Payload": {"x": 1}}))
    output = json.loads(described["output"])
    assert (output["StatusCode"], output["Payload"]) == (202, "")
