"""TestState: one state in isolation, with mocks and inspection levels."""
from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import ROLE

LAMBDA = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
          "Parameters": {"FunctionName": "f", "Payload.$": "$"}, "End": True}


def test_pass_state(sfn: Any) -> None:
    state = {"Type": "Pass", "Result": {"resultKey": "result value"}, "ResultPath": "$.modifiedData", "End": True}
    response = sfn.test_state(definition=json.dumps(state), roleArn=ROLE, input='{"a": 1}')
    assert response["status"] == "SUCCEEDED"
    assert json.loads(response["output"]) == {"a": 1, "modifiedData": {"resultKey": "result value"}}
    assert "inspectionData" not in response and "nextState" not in response


def test_next_state_and_debug(sfn: Any) -> None:
    state = {"Type": "Pass", "Next": "After"}
    response = sfn.test_state(definition=json.dumps(state), roleArn=ROLE, input='{"v": 2}', inspectionLevel="DEBUG")
    assert response["nextState"] == "After"
    assert json.loads(response["inspectionData"]["input"]) == {"v": 2}
    assert json.loads(response["output"]) == {"v": 2}


def test_choice_state(sfn: Any) -> None:
    state = {"Type": "Choice", "Choices": [{"Variable": "$.value", "NumericGreaterThanEquals": 20,
                                            "Next": "ValueInTwenties"}], "Default": "Other"}
    response = sfn.test_state(definition=json.dumps(state), roleArn=ROLE, input='{"value": 22}')
    assert (response["status"], response["nextState"]) == ("SUCCEEDED", "ValueInTwenties")


def test_fail_state(sfn: Any) -> None:
    state = {"Type": "Fail", "Error": "SomeFailure", "Cause": "because"}
    response = sfn.test_state(definition=json.dumps(state), roleArn=ROLE)
    assert (response["status"], response["error"], response["cause"]) == ("FAILED", "SomeFailure", "because")


def test_mocked_task(sfn: Any) -> None:
    response = sfn.test_state(definition=json.dumps(LAMBDA), roleArn=ROLE, input='{"x": 1}',
                              mock={"result": '{"Payload": "function output"}'}, inspectionLevel="TRACE")
    assert response["status"] == "SUCCEEDED"
    assert json.loads(response["output"]) == {"Payload": "function output"}
    assert json.loads(response["inspectionData"]["afterParameters"]) == {"FunctionName": "f", "Payload": {"x": 1}}
    assert json.loads(response["inspectionData"]["result"]) == {"Payload": "function output"}


def test_mocked_error_caught_and_retriable(sfn: Any) -> None:
    caught = dict(LAMBDA, Catch=[{"ErrorEquals": ["MockException"], "Next": "HandleMockError"}])
    response = sfn.test_state(definition=json.dumps(caught), roleArn=ROLE, inspectionLevel="DEBUG",
                              mock={"errorOutput": {"error": "MockException", "cause": "mocked"}})
    assert (response["status"], response["nextState"], response["error"]) == (
        "CAUGHT_ERROR", "HandleMockError", "MockException")
    assert response["inspectionData"]["errorDetails"] == {"catchIndex": 0}
    retried = dict(LAMBDA, Retry=[{"ErrorEquals": ["MockException"], "IntervalSeconds": 2}])
    response = sfn.test_state(definition=json.dumps(retried), roleArn=ROLE,
                              mock={"errorOutput": {"error": "MockException", "cause": "mocked"}})
    assert response["status"] == "RETRIABLE"


def test_whole_machine_with_state_name(sfn: Any) -> None:
    machine = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"},
                                          "B": {"Type": "Pass", "Result": "b", "End": True}}}
    response = sfn.test_state(definition=json.dumps(machine), roleArn=ROLE, stateName="B")
    assert json.loads(response["output"]) == "b"
    with pytest.raises(ClientError) as excinfo:
        sfn.test_state(definition=json.dumps(machine), roleArn=ROLE, stateName="Z")
    assert excinfo.value.response["Error"]["Code"] == "ValidationException"
    assert excinfo.value.response["Error"]["Message"] == "State not found in definition"


def test_mock_must_be_json(sfn: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        sfn.test_state(definition=json.dumps(LAMBDA), roleArn=ROLE, mock={"result": "not json"})
    assert excinfo.value.response["Error"]["Code"] == "ValidationException"
    assert excinfo.value.response["Error"]["Message"] == "Mocked result must be valid JSON"


def test_trace_inspection_of_a_pass_state(sfn: Any) -> None:
    state = {"Type": "Pass", "InputPath": "$.initialData", "Parameters": {"staticValue": "v", "in.$": "$.field"},
             "ResultPath": "$.modified", "End": True}
    response = sfn.test_state(definition=json.dumps(state), roleArn=ROLE, inspectionLevel="TRACE",
                              input='{"initialData": {"field": "x"}, "other": 1}')
    data = {k: json.loads(v) for k, v in response["inspectionData"].items() if isinstance(v, str)}
    assert data["input"] == {"initialData": {"field": "x"}, "other": 1}
    assert data["afterInputPath"] == {"field": "x"}
    assert data["afterParameters"] == {"staticValue": "v", "in": "x"}
    assert data["afterResultSelector"] == {"staticValue": "v", "in": "x"}
    assert data["afterResultPath"] == {"initialData": {"field": "x"}, "other": 1,
                                       "modified": {"staticValue": "v", "in": "x"}}
    assert json.loads(response["output"]) == data["afterResultPath"]


def test_choice_inspection(sfn: Any) -> None:
    state = {"Type": "Choice", "Choices": [{"Variable": "$.v", "NumericEquals": 1, "Next": "One"}],
             "Default": "Other"}
    response = sfn.test_state(definition=json.dumps(state), roleArn=ROLE, inspectionLevel="DEBUG", input='{"v": 1}')
    assert set(response["inspectionData"]) == {"input", "afterInputPath"}
