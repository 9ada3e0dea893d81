"""TestState's ``context`` State/Task parts and ``retrierRetryCount`` reach the ``$$`` the state reads
(real boto3 client against the real server)."""
from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import ROLE

CALLBACK = {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"QueueUrl": "q", "MessageBody": {"retry.$": "$$.State.RetryCount",
                                                            "token.$": "$$.Task.Token",
                                                            "entered.$": "$$.State.EnteredTime"}},
            "ResultSelector": {"retry.$": "$$.State.RetryCount", "token.$": "$$.Task.Token",
                               "entered.$": "$$.State.EnteredTime", "name.$": "$$.State.Name",
                               "ok.$": "$.ok"},
            "End": True}
SEEN = {"retry": 3, "token": "tok-123", "entered": "2025-05-05T05:05:05.000Z"}


def test_given_state_and_task_parts_are_what_the_state_reads(sfn: Any) -> None:
    context = {"State": {"RetryCount": 3, "EnteredTime": SEEN["entered"]}, "Task": {"Token": "tok-123"}}
    response = sfn.test_state(definition=json.dumps(CALLBACK), input="{}", context=json.dumps(context),
                              mock={"result": '{"ok": true}'}, inspectionLevel="DEBUG")
    assert response["status"] == "SUCCEEDED"
    assert json.loads(response["output"]) == {**SEEN, "name": "TestState", "ok": True}
    assert json.loads(response["inspectionData"]["afterParameters"])["MessageBody"] == SEEN


def test_given_state_name_and_jsonata_context(sfn: Any) -> None:
    state = {"QueryLanguage": "JSONata", "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
             "Arguments": {"FunctionName": "f"}, "Output": "{% $states.context.State %}", "End": True}
    context = {"State": {"Name": "Elsewhere", "RetryCount": 7}}
    response = sfn.test_state(definition=json.dumps(state), context=json.dumps(context), roleArn=ROLE,
                              mock={"result": "{}"})
    state_part = json.loads(response["output"])
    assert (state_part["Name"], state_part["RetryCount"]) == ("Elsewhere", 7)
    assert state_part["EnteredTime"].endswith("Z")


def test_retry_count_follows_retrier_retry_count(sfn: Any) -> None:
    state = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "f"},
             "ResultSelector": {"retry.$": "$$.State.RetryCount"},
             "Retry": [{"ErrorEquals": ["Boom"], "MaxAttempts": 5}], "End": True}
    kw = {"definition": json.dumps(state), "roleArn": ROLE, "mock": {"result": "{}"}}
    counted = sfn.test_state(stateConfiguration={"retrierRetryCount": 2}, **kw)
    assert json.loads(counted["output"]) == {"retry": 2}
    assert json.loads(sfn.test_state(**kw)["output"]) == {"retry": 0}
    given = sfn.test_state(stateConfiguration={"retrierRetryCount": 2},
                           context=json.dumps({"State": {"RetryCount": 4}}), **kw)
    assert json.loads(given["output"]) == {"retry": 4}


def test_retry_count_in_a_jsonata_pass_follows_retrier_retry_count(sfn: Any) -> None:
    state = {"QueryLanguage": "JSONata", "Type": "Pass", "Output": "{% $states.context.State.RetryCount %}",
             "End": True}
    response = sfn.test_state(definition=json.dumps(state), stateConfiguration={"retrierRetryCount": 1})
    assert json.loads(response["output"]) == 1


def test_pass_parameters_read_retry_count_from_retrier_retry_count(sfn: Any) -> None:
    state = {"Type": "Pass", "Parameters": {"retry.$": "$$.State.RetryCount", "name.$": "$$.State.Name"},
             "End": True}
    response = sfn.test_state(definition=json.dumps(state), stateConfiguration={"retrierRetryCount": 3},
                              inspectionLevel="DEBUG")
    assert json.loads(response["output"]) == {"retry": 3, "name": "TestState"}
    assert json.loads(response["inspectionData"]["afterParameters"])["retry"] == 3


def test_context_needs_a_mock(sfn: Any) -> None:
    # AWS: the context member is only accepted with a mock, so a Pass state cannot be given one
    state = {"Type": "Pass", "Parameters": {"retry.$": "$$.State.RetryCount"}, "End": True}
    with pytest.raises(ClientError) as caught:
        sfn.test_state(definition=json.dumps(state), context=json.dumps({"State": {"RetryCount": 1}}))
    error = caught.value.response["Error"]
    assert (error["Code"], error["Message"]) == (
        "ValidationException", "TestState does not support Context when a mock is not specified.")
