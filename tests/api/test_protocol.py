"""AWS JSON 1.0 on the wire: routing, request validation, error shapes; never a 500."""
from __future__ import annotations

from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

HEADERS = {"Content-Type": "application/x-amz-json-1.0"}


def call(http: httpx.Client, op: str, body: bytes | str) -> httpx.Response:
    return http.post("/", content=body, headers={**HEADERS, "X-Amz-Target": f"AWSStepFunctions.{op}"})


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


def test_every_model_operation_is_routed(http: httpx.Client) -> None:
    import botocore.session
    model = botocore.session.get_session().get_service_model("stepfunctions")
    assert len(model.operation_names) == 37
    for op in model.operation_names:
        response = call(http, op, b"{}")
        assert response.status_code in (200, 400), (op, response.text)
        if response.status_code == 400:
            assert response.json()["__type"] != "UnknownOperationException", op


def test_stepfunctions_package_exports_and_handlers() -> None:
    """api.stepfunctions is a package of private modules; its surface and handler table stay put."""
    import inspect

    import api.stepfunctions as sfn_api
    from engine.runtime import Runtime
    assert sorted(sfn_api.__all__) == ["StepFunctions", "handlers", "paginate", "parse_arn"]
    table = sfn_api.handlers(Runtime())
    assert len(table) == 37
    for op, handler in table.items():
        assert inspect.iscoroutinefunction(handler), op
        assert handler.__name__ == "".join("_" + c.lower() if c.isupper() else c for c in op).lstrip("_"), op


def test_unknown_target(http: httpx.Client) -> None:
    response = call(http, "NoSuchThing", b"{}")
    assert response.status_code == 400
    assert response.json() == {"__type": "UnknownOperationException"}
    response = http.post("/", content=b"{}", headers={**HEADERS, "X-Amz-Target": "DynamoDB_20120810.ListTables"})
    assert response.json() == {"__type": "UnknownOperationException"}


def test_missing_target(http: httpx.Client) -> None:
    response = http.post("/", content=b"{}", headers=HEADERS)
    assert response.status_code == 400
    assert response.json()["__type"] == "UnknownOperationException"


@pytest.mark.parametrize("body", [b"{", b"not json", b"\xff\xfe", b"[1,", b'{"a": NaN}'])
def test_malformed_json_is_serialization_exception(http: httpx.Client, body: bytes) -> None:
    response = call(http, "ListStateMachines", body)
    assert response.status_code == 400
    assert response.json() == {"__type": "SerializationException"}


def test_body_must_be_an_object(http: httpx.Client) -> None:
    response = call(http, "ListStateMachines", b"[1, 2]")
    assert response.json() == {"__type": "SerializationException",
                               "message": "Start of structure or map found where not expected."}


@pytest.mark.parametrize(("body", "message"), [
    ('{"maxResults": "ten"}', "STRING_VALUE can not be converted to an Integer"),
    ('{"maxResults": true}', "TRUE_VALUE can not be converted to an Integer"),
    ('{"maxResults": 1.5}', "NUMBER_VALUE can not be converted to an Integer"),
    ('{"nextToken": 5}', "NUMBER_VALUE cannot be converted to String"),
    ('{"nextToken": {"a": 1}}', "Start of structure or map found where not expected."),
    ('{"nextToken": [1]}', "Start of list found where not expected"),
])
def test_wrong_types_are_serialization_exceptions(http: httpx.Client, body: str, message: str) -> None:
    response = call(http, "ListStateMachines", body)
    assert response.status_code == 400
    assert response.json() == {"__type": "SerializationException", "message": message}


def test_missing_required_members(sfn_raw: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        sfn_raw.create_state_machine(name="x")
    assert error_of(excinfo) == ("ValidationException", (
        "2 validation errors detected: Value null at 'definition' failed to satisfy constraint: Member must "
        "not be null; Value null at 'roleArn' failed to satisfy constraint: Member must not be null"))


def test_constraint_messages(sfn_raw: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        sfn_raw.list_state_machines(maxResults=1001)
    assert error_of(excinfo) == ("ValidationException", (
        "1 validation error detected: Value '1001' at 'maxResults' failed to satisfy constraint: "
        "Member must have value less than or equal to 1000"))
    with pytest.raises(ClientError) as excinfo:
        sfn_raw.list_state_machines(nextToken="x" * 1025)
    assert error_of(excinfo) == ("ValidationException", (
        f"1 validation error detected: Value '{'x' * 1025}' at 'nextToken' failed to satisfy constraint: "
        "Member must have length less than or equal to 1024"))
    with pytest.raises(ClientError) as excinfo:
        sfn_raw.list_executions(stateMachineArn="arn:aws:states:us-east-1:123456789012:stateMachine:x",
                                statusFilter="succeeded")
    assert error_of(excinfo) == ("ValidationException", (
        "1 validation error detected: Value 'succeeded' at 'statusFilter' failed to satisfy constraint: "
        "Member must satisfy enum value set: [SUCCEEDED, TIMED_OUT, PENDING_REDRIVE, ABORTED, FAILED, RUNNING]"))


def test_sensitive_values_are_not_echoed(sfn_raw: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        sfn_raw.start_execution(stateMachineArn="arn:aws:states:us-east-1:123456789012:stateMachine:x",
                                input="x" * 262145)
    assert error_of(excinfo) == ("ValidationException", (
        "1 validation error detected: Value at 'input' failed to satisfy constraint: "
        "Member must have length less than or equal to 262144"))


def test_nested_member_paths(sfn_raw: Any) -> None:
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:x:1"
    with pytest.raises(ClientError) as excinfo:
        sfn_raw.create_state_machine_alias(name="a", routingConfiguration=[
            {"stateMachineVersionArn": arn, "weight": 101}])
    assert error_of(excinfo) == ("ValidationException", (
        "1 validation error detected: Value '101' at 'routingConfiguration.1.member.weight' failed to satisfy "
        "constraint: Member must have value less than or equal to 100"))


def test_server_keeps_serving_after_bad_input(http: httpx.Client, sfn: Any) -> None:
    for body in (b"{", b"\x00\x01", b'{"maxResults": "x"}', b"[]"):
        assert call(http, "ListStateMachines", body).status_code == 400
    assert "stateMachines" in sfn.list_state_machines()


def test_content_type_and_error_header(http: httpx.Client) -> None:
    response = call(http, "DescribeStateMachine",
                    b'{"stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:none"}')
    assert response.headers["content-type"] == "application/x-amz-json-1.0"
    assert response.json() == {
        "__type": "StateMachineDoesNotExist",
        "message": "State Machine Does Not Exist: 'arn:aws:states:us-east-1:123456789012:stateMachine:none'"}


def test_list_values_print_like_aws(sfn_raw: Any) -> None:
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:x"
    routes = [{"stateMachineVersionArn": f"{arn}:{i}", "weight": w} for i, w in ((1, 50), (2, 30), (3, 20))]
    with pytest.raises(ClientError) as excinfo:
        sfn_raw.create_state_machine_alias(name="a", routingConfiguration=routes)
    assert error_of(excinfo) == ("ValidationException", (
        f"1 validation error detected: Value '[RoutingConfigurationListItem(stateMachineVersionArn={arn}:1, "
        f"weight=50), RoutingConfigurationListItem(stateMachineVersionArn={arn}:2, weight=30), "
        f"RoutingConfigurationListItem(stateMachineVersionArn={arn}:3, weight=20)]' at 'routingConfiguration' "
        "failed to satisfy constraint: Member must have length less than or equal to 2"))


def test_request_ids(sfn: Any) -> None:
    first = sfn.list_state_machines()["ResponseMetadata"]["RequestId"]
    second = sfn.list_state_machines()["ResponseMetadata"]["RequestId"]
    assert len(first) == 36 and first != second
