"""engine/tasks/builtin.py and friends: routing, Lambda naming and errors, SDK shape conversion."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest

from engine.errors import StatesError
from engine.tasks import _aws
from engine.tasks.builtin import Integrations, function_arn, invoke_response, lambda_error, with_builtins
from engine.tasks.registry import NoHandler, TaskContext, TaskFailure, TaskRegistry, load_tasks

ACCOUNT = "123456789012"


@pytest.mark.parametrize(("name", "arn", "qualifier"), [
    ("charge", f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:charge", None),
    ("charge:live", f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:charge", "live"),
    ("999999999999:function:charge:7", "arn:aws:lambda:us-east-1:999999999999:function:charge", "7"),
    ("arn:aws:lambda:eu-west-1:999999999999:function:charge:$LATEST",
     "arn:aws:lambda:eu-west-1:999999999999:function:charge", "$LATEST"),
], ids=["name", "name-alias", "partial-arn", "full-arn"])
def test_function_arn(name: str, arn: str, qualifier: str | None) -> None:
    assert function_arn(name, "us-east-1") == (arn, qualifier)


def test_lambda_error_shapes() -> None:
    class QuotaExceeded(Exception):
        pass

    try:
        raise QuotaExceeded("too many")
    except QuotaExceeded as exc:
        err = lambda_error(exc)
    assert err.error == "QuotaExceeded"
    cause = json.loads(err.cause or "")
    assert (cause["errorMessage"], cause["errorType"]) == ("too many", "QuotaExceeded")
    assert set(cause) == {"errorMessage", "errorType", "requestId", "stackTrace"}
    assert lambda_error(TaskFailure("Lambda.Unknown", "x")).error == "Lambda.Unknown"


def test_invoke_response_envelope() -> None:
    sync = invoke_response({"a": 1})
    assert (sync["StatusCode"], sync["ExecutedVersion"], sync["Payload"]) == (200, "$LATEST", {"a": 1})
    headers = sync["SdkHttpMetadata"]["HttpHeaders"]
    assert sync["SdkHttpMetadata"]["AllHttpHeaders"]["Content-Length"] == [headers["Content-Length"]] == ["8"]
    event = invoke_response(None, 202, "live")
    assert (event["StatusCode"], event["Payload"], event["ExecutedVersion"]) == (202, "", "live")


def _run(registry: TaskRegistry, resource: str, payload: Any) -> Any:
    ctx = TaskContext(resource=resource, state_name="S")
    return anyio.run(lambda: registry.invoke(resource, payload, ctx))


def test_user_handlers_win_over_builtins_and_fallback_comes_last() -> None:
    user = TaskRegistry()
    user.register("arn:aws:states:::lambda:invoke", lambda p: "mine")
    integrations = with_builtins(user)
    assert with_builtins(integrations) is integrations
    assert _run(integrations, "arn:aws:states:::lambda:invoke", {"FunctionName": "x"}) == "mine"
    other = TaskRegistry()
    other.fallback(lambda p: "fallback")
    assert _run(Integrations(other), "arn:aws:states:::aws-sdk:s3:getObject", {}) == "fallback"
    assert _run(Integrations(other), "arn:aws:lambda:us-east-1:1:function:f", {}) == "fallback"


def test_string_payload_reaches_the_function_as_a_string() -> None:
    user = TaskRegistry()
    user.register("arn:aws:lambda:*:*:function:echo", lambda event: event)
    result = _run(Integrations(user), "arn:aws:states:::lambda:invoke", {"FunctionName": "echo", "Payload": '{"a":1}'})
    assert result["Payload"] == '{"a":1}'


def test_nothing_answers() -> None:
    with pytest.raises(NoHandler) as caught:
        _run(Integrations(TaskRegistry()), "arn:aws:states:::events:putEvents", {"Entries": []})
    assert caught.value.error == "States.TaskFailed"
    assert caught.value.cause == ("No task handler is registered for resource 'arn:aws:states:::events:putEvents'. "
                                  "Registered: none. No AWS endpoint is configured to forward it to "
                                  "(statesim serve --aws-endpoint URL).")
    with pytest.raises(StatesError) as missing:
        _run(Integrations(TaskRegistry()), "arn:aws:states:::lambda:invoke", {"Payload": {}})
    assert (missing.value.error, missing.value.cause) == (
        "States.Runtime", "The field 'FunctionName' is required for lambda:invoke.")


def test_local_s3_actions(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    integrations = Integrations(TaskRegistry(), s3_dir=tmp_path)
    put = _run(integrations, "arn:aws:states:::aws-sdk:s3:putObject", {"Bucket": "b", "Key": "k/x.txt", "Body": "hi"})
    assert put["ETag"].startswith('"')
    got = _run(integrations, "arn:aws:states:::aws-sdk:s3:getObject", {"Bucket": "b", "Key": "k/x.txt"})
    assert (got["Body"], got["ContentLength"]) == ("hi", 2)
    with pytest.raises(StatesError) as escaped:
        _run(integrations, "arn:aws:states:::aws-sdk:s3:getObject", {"Bucket": "b", "Key": "../../etc/passwd"})
    assert escaped.value.error == "S3.InvalidKeyException"


def test_sdk_names_and_shapes() -> None:
    assert (_aws.client_name("sfn"), _aws.client_name("dynamodb")) == ("stepfunctions", "dynamodb")
    assert (_aws.error_prefix("dynamodb"), _aws.error_prefix("sqs"), _aws.error_prefix("acmpca")) == (
        "DynamoDb", "Sqs", "AcmPca")
    import boto3
    client = boto3.client("stepfunctions", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    model = client.meta.service_model.operation_model("StartExecution")
    assert _aws._conform_input({"StateMachineArn": "a", "Input": "{}"}, model.input_shape) == {
        "stateMachineArn": "a", "input": "{}"}
    from datetime import datetime, timezone
    out = _aws._conform_output({"executionArn": "e", "startDate": datetime(2024, 1, 1, tzinfo=timezone.utc),
                                "ResponseMetadata": {}}, model.output_shape)
    assert out == {"ExecutionArn": "e", "StartDate": "2024-01-01T00:00:00+00:00"}


def test_load_tasks_from_a_file_or_a_register_function(tmp_path: Path) -> None:
    (tmp_path / "with_registry.py").write_text(
        "from engine.tasks.registry import TaskRegistry\nregistry = TaskRegistry()\n"
        "registry.register('arn:aws:lambda:*:*:function:a', lambda e: 1)\n")
    (tmp_path / "with_register.py").write_text(
        "def register(registry):\n    registry.register('arn:aws:lambda:*:*:function:b', lambda e: 2)\n")
    (tmp_path / "neither.py").write_text("x = 1\n")
    assert load_tasks(str(tmp_path / "with_registry.py")).patterns == ["arn:aws:lambda:*:*:function:a"]
    target = TaskRegistry()
    assert load_tasks(str(tmp_path / "with_register.py"), target) is target
    assert [p for p, _ in target.items()] == ["arn:aws:lambda:*:*:function:b"]
    with pytest.raises(ValueError):
        load_tasks(str(tmp_path / "neither.py"))
