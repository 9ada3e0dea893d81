"""Built-in integrations through boto3 against a real server: nested states:startExecution
(request-response, .sync, .sync:2), aws-sdk and optimized integrations forwarded with boto3 to
an AWS-compatible endpoint, and http:invoke against a local HTTP server."""
from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from engine.runtime import Runtime
from engine.store import MemoryStore
from engine.clock import ScaledClock
from tests.api.conftest import ROLE, Server, make_client, wait_for
from tests.api.test_tasks_lambda import ThreadServer


async def _echo(request: Request) -> Response:
    body = await request.body()
    return JSONResponse({"method": request.method, "query": dict(request.query_params),
                         "contentType": request.headers.get("content-type"), "body": body.decode(),
                         "auth": request.headers.get("x-api-key")})


async def _missing(request: Request) -> Response:
    return JSONResponse({"message": "nope"}, status_code=404)


async def _text(request: Request) -> Response:
    return Response("plain words", media_type="text/plain")


async def _invoke_model(request: Request) -> Response:
    """bedrock-runtime InvokeModel: answers an Anthropic Messages request."""
    body = json.loads(await request.body())
    text = body["messages"][0]["content"][0]["text"]
    reply = {"role": "assistant", "content": [{"type": "text", "text": f"[{request.path_params['model']}] {text}"}]}
    return JSONResponse(reply)


@pytest.fixture(scope="module")
def local_api() -> Iterator[str]:
    app = Starlette(routes=[Route("/echo", _echo, methods=["GET", "POST", "PUT"]), Route("/missing", _missing),
                            Route("/text", _text), Route("/model/{model}/invoke", _invoke_model, methods=["POST"])])
    with ThreadServer(app) as running:
        yield running.endpoint


@pytest.fixture(scope="module")
def aws_endpoint() -> Iterator[Server]:
    """Another statesim standing for AWS (its Step Functions API answers aws-sdk:sfn:* calls)."""
    with Server(Runtime(MemoryStore())) as other:
        yield other


@pytest.fixture(scope="module")
def sfn(local_api: str, aws_endpoint: Server) -> Iterator[Any]:
    runtime = Runtime(MemoryStore(), clock=ScaledClock(0))
    with Server(runtime) as server:
        yield make_client(server.endpoint)


def create(sfn: Any, definition: dict[str, Any], kind: str = "STANDARD") -> str:
    return str(sfn.create_state_machine(name="m-" + uuid.uuid4().hex[:10], definition=json.dumps(definition),
                                        roleArn=ROLE, type=kind)["stateMachineArn"])


def run(sfn: Any, definition: dict[str, Any], payload: Any = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    arn = create(sfn, definition)
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps(payload or {}))["executionArn"]
    described = wait_for(sfn, execution)
    return described, sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]


def task(resource: str, **fields: Any) -> dict[str, Any]:
    return {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": resource, "End": True, **fields}}}


CHILD = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "Next": "P"},
                                    "P": {"Type": "Pass", "Parameters": {"doubled.$": "States.MathAdd($.n, $.n)"},
                                          "End": True}}}
FAILING_CHILD = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Child.Broke", "Cause": "on purpose"}}}


# ---- states:startExecution ----------------------------------------------------------------

def test_start_execution_request_response(sfn: Any) -> None:
    child = create(sfn, CHILD)
    described, _ = run(sfn, task("arn:aws:states:::states:startExecution",
                                 Parameters={"StateMachineArn": child, "Input": {"n": 2}, "Name": "child-rr"}))
    output = json.loads(described["output"])
    assert set(output) == {"ExecutionArn", "StartDate"}
    assert output["ExecutionArn"] == child.replace(":stateMachine:", ":execution:") + ":child-rr"
    assert json.loads(wait_for(sfn, output["ExecutionArn"])["output"]) == {"doubled": 4}


def test_start_execution_sync_returns_output_as_text(sfn: Any) -> None:
    child = create(sfn, CHILD)
    described, events = run(sfn, task("arn:aws:states:::states:startExecution.sync",
                                       Parameters={"StateMachineArn": child, "Input": {"n": 5}}))
    output = json.loads(described["output"])
    assert output["Output"] == '{"doubled":10}'
    assert output["Input"] == '{"n":5}'
    assert (output["Status"], output["StateMachineArn"]) == ("SUCCEEDED", child)
    assert output["OutputDetails"] == {"Included": True} and output["InputDetails"] == {"Included": True}
    assert isinstance(output["StartDate"], int) and output["StopDate"] >= output["StartDate"]
    types = [e["type"] for e in events]
    assert types[2:6] == ["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded"]
    submitted = json.loads(events[4]["taskSubmittedEventDetails"]["output"])
    assert submitted["ExecutionArn"] == output["ExecutionArn"]


def test_start_execution_sync2_returns_parsed_json(sfn: Any) -> None:
    child = create(sfn, CHILD)
    described, _ = run(sfn, task("arn:aws:states:::states:startExecution.sync:2",
                                 Parameters={"StateMachineArn": child, "Input": {"n": 1}},
                                 OutputPath="$.Output"))
    assert json.loads(described["output"]) == {"doubled": 2}


def test_start_execution_sync_of_an_express_child(sfn: Any) -> None:
    child = create(sfn, CHILD, "EXPRESS")
    described, _ = run(sfn, task("arn:aws:states:::states:startExecution.sync:2",
                                 Parameters={"StateMachineArn": child, "Input": {"n": 3}}))
    output = json.loads(described["output"])
    assert output["Output"] == {"doubled": 6}
    assert ":express:" in output["ExecutionArn"]


def test_failed_child_fails_the_task_with_its_description(sfn: Any) -> None:
    child = create(sfn, FAILING_CHILD)
    definition = task("arn:aws:states:::states:startExecution.sync",
                      Parameters={"StateMachineArn": child, "Input": {}},
                      Catch=[{"ErrorEquals": ["States.TaskFailed"], "Next": "Caught"}])
    definition["States"]["Caught"] = {"Type": "Pass", "End": True}
    described, _ = run(sfn, definition)
    caught = json.loads(described["output"])
    assert caught["Error"] == "States.TaskFailed"
    cause = json.loads(caught["Cause"])
    assert (cause["Status"], cause["Error"], cause["Cause"]) == ("FAILED", "Child.Broke", "on purpose")


def test_missing_child_machine(sfn: Any) -> None:
    missing = "arn:aws:states:us-east-1:123456789012:stateMachine:does-not-exist"
    described, _ = run(sfn, task("arn:aws:states:::states:startExecution", Parameters={"StateMachineArn": missing}))
    assert described["error"] == "StepFunctions.StateMachineDoesNotExistException"
    assert described["cause"].startswith(f"State Machine Does Not Exist: '{missing}'")


# ---- aws-sdk and optimized integrations ---------------------------------------------------------

def test_aws_sdk_without_endpoint_fails_clearly(sfn: Any) -> None:
    described, _ = run(sfn, task("arn:aws:states:::aws-sdk:s3:getObject", Parameters={"Bucket": "b", "Key": "k"}))
    assert described["error"] == "States.TaskFailed"
    assert described["cause"] == (
        "No task handler is registered for resource 'arn:aws:states:::aws-sdk:s3:getObject'. Registered: none. "
        "No AWS endpoint is configured to forward it to (statesim serve --aws-endpoint URL).")


@pytest.fixture
def forwarding(aws_endpoint: Server, local_api: str) -> Iterator[Any]:
    runtime = Runtime(MemoryStore(), clock=ScaledClock(0))
    runtime.integrations.configure(aws_endpoint=aws_endpoint.endpoint)
    with Server(runtime) as server:
        yield make_client(server.endpoint)


def test_aws_sdk_forwarded_with_pascal_case_in_and_out(forwarding: Any, aws_endpoint: Server) -> None:
    remote = make_client(aws_endpoint.endpoint)
    name = "remote-" + uuid.uuid4().hex[:8]
    remote.create_state_machine(name=name, roleArn=ROLE, definition=json.dumps(CHILD))
    described, _ = run(forwarding, task("arn:aws:states:::aws-sdk:sfn:listStateMachines",
                                        Parameters={"MaxResults": 100}))
    listed = json.loads(described["output"])["StateMachines"]
    entry = next(m for m in listed if m["Name"] == name)
    assert set(entry) >= {"Name", "StateMachineArn", "Type", "CreationDate"}
    remote_arn = entry["StateMachineArn"]
    described, _ = run(forwarding, task("arn:aws:states:::aws-sdk:sfn:describeStateMachine",
                                        Parameters={"StateMachineArn": remote_arn}, ResultSelector={"n.$": "$.Name"}))
    assert json.loads(described["output"]) == {"n": name}


def test_aws_sdk_errors_are_service_dot_exception(forwarding: Any) -> None:
    missing = "arn:aws:states:us-east-1:123456789012:stateMachine:gone"
    definition = task("arn:aws:states:::aws-sdk:sfn:describeStateMachine", Parameters={"StateMachineArn": missing},
                      Catch=[{"ErrorEquals": ["Sfn.StateMachineDoesNotExistException"], "Next": "Gone"}])
    definition["States"]["Gone"] = {"Type": "Pass", "End": True}
    described, _ = run(forwarding, definition)
    caught = json.loads(described["output"])
    assert caught["Error"] == "Sfn.StateMachineDoesNotExistException"
    assert caught["Cause"].startswith(f"State Machine Does Not Exist: '{missing}'")


def test_bedrock_invoke_model_forwarded(local_api: str) -> None:
    runtime = Runtime(MemoryStore(), clock=ScaledClock(0))
    runtime.integrations.configure(aws_endpoint=local_api)
    definition = task("arn:aws:states:::bedrock:invokeModel", Parameters={
        "ModelId": "anthropic.claude-3-haiku", "Body": {
            "anthropic_version": "bedrock-2023-05-31", "max_tokens": 10,
            "messages": [{"role": "user", "content": [{"type": "text", "text.$": "$.q"}]}]}},
        ResultSelector={"text.$": "$.Body.content[0].text", "type.$": "$.ContentType"})
    with Server(runtime) as server:
        described, _ = run(make_client(server.endpoint), definition, {"q": "hello"})
    assert json.loads(described["output"]) == {"text": "[anthropic.claude-3-haiku] hello", "type": "application/json"}


# ---- http:invoke -------------------------------------------------------------------------

def test_http_invoke_get_with_query_and_headers(sfn: Any, local_api: str) -> None:
    described, _ = run(sfn, task("arn:aws:states:::http:invoke", Parameters={
        "ApiEndpoint": f"{local_api}/echo", "Method": "GET", "QueryParameters": {"q": "x"},
        "Headers": {"x-api-key": "k1"}, "Authentication": {"ConnectionArn": "arn:aws:events:::connection/c"}}))
    output = json.loads(described["output"])
    assert (output["StatusCode"], output["StatusText"]) == (200, "OK")
    assert output["ResponseBody"]["query"] == {"q": "x"}
    assert output["ResponseBody"]["auth"] == "k1"
    assert output["Headers"]["content-type"] == ["application/json"]


def test_http_invoke_post_json_and_url_encoded(sfn: Any, local_api: str) -> None:
    described, _ = run(sfn, task("arn:aws:states:::http:invoke", Parameters={
        "ApiEndpoint": f"{local_api}/echo", "Method": "POST", "RequestBody": {"a": 1}}, OutputPath="$.ResponseBody"))
    assert json.loads(described["output"])["body"] == '{"a":1}'
    assert json.loads(described["output"])["contentType"] == "application/json"
    described, _ = run(sfn, task("arn:aws:states:::http:invoke", Parameters={
        "ApiEndpoint": f"{local_api}/echo", "Method": "PUT", "RequestBody": {"a": "b c"},
        "Transform": {"RequestBodyEncoding": "URL_ENCODED"}}, OutputPath="$.ResponseBody"))
    assert json.loads(described["output"])["body"] == "a=b+c"


def test_http_invoke_text_body(sfn: Any, local_api: str) -> None:
    described, _ = run(sfn, task("arn:aws:states:::http:invoke",
                                 Parameters={"ApiEndpoint": f"{local_api}/text", "Method": "GET"}))
    assert json.loads(described["output"])["ResponseBody"] == "plain words"


def test_http_invoke_error_status(sfn: Any, local_api: str) -> None:
    definition = task("arn:aws:states:::http:invoke", Parameters={"ApiEndpoint": f"{local_api}/missing",
                                                                  "Method": "GET"},
                      Catch=[{"ErrorEquals": ["States.Http.StatusCode.404"], "Next": "NotFound"}])
    definition["States"]["NotFound"] = {"Type": "Pass", "End": True}
    described, _ = run(sfn, definition)
    caught = json.loads(described["output"])
    assert caught["Error"] == "States.Http.StatusCode.404"
    assert json.loads(caught["Cause"])["ResponseBody"] == {"message": "nope"}


def test_stopping_the_parent_stops_a_sync_child(sfn: Any) -> None:
    import time
    child = create(sfn, {"StartAt": "Hold", "States": {"Hold": {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"MessageBody.$": "$$.Task.Token"}, "End": True}}})
    parent = create(sfn, task("arn:aws:states:::states:startExecution.sync:2",
                              Parameters={"StateMachineArn": child, "Input": {}, "Name": "held-child"}))
    execution = sfn.start_execution(stateMachineArn=parent)["executionArn"]
    child_arn = child.replace(":stateMachine:", ":execution:") + ":held-child"
    deadline = time.monotonic() + 5
    while True:
        try:
            if sfn.describe_execution(executionArn=child_arn)["status"] == "RUNNING":
                break
        except sfn.exceptions.ExecutionDoesNotExist:
            pass
        assert time.monotonic() < deadline
        time.sleep(0.02)
    sfn.stop_execution(executionArn=execution)
    assert wait_for(sfn, child_arn)["status"] == "ABORTED"
