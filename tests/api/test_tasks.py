"""Activities and task tokens: GetActivityTask, SendTaskSuccess/Failure/Heartbeat, timeouts."""
from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import ROLE, wait_for

PREFIX = "arn:aws:states:us-east-1:123456789012"


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err.get("Message", "")


def activity_machine(sfn: Any, name: str, **task: Any) -> tuple[str, str]:
    activity = sfn.create_activity(name=name)["activityArn"]
    definition = {"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": activity, "End": True, **task}}}
    machine = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)
    return activity, machine["stateMachineArn"]


def poll(sfn: Any, activity: str) -> dict[str, Any]:
    for _ in range(20):
        task: dict[str, Any] = sfn.get_activity_task(activityArn=activity, workerName="w1")
        if task.get("taskToken"):
            return task
    raise AssertionError("no activity task")


def test_activity_resource(sfn: Any, name: str) -> None:
    created = sfn.create_activity(name=name)
    arn = f"{PREFIX}:activity:{name}"
    assert created["activityArn"] == arn
    assert sfn.create_activity(name=name)["creationDate"] == created["creationDate"]
    described = sfn.describe_activity(activityArn=arn)
    assert (described["activityArn"], described["name"]) == (arn, name)
    assert arn in [a["activityArn"] for a in sfn.list_activities()["activities"]]
    sfn.delete_activity(activityArn=arn)
    with pytest.raises(ClientError) as excinfo:
        sfn.describe_activity(activityArn=arn)
    assert error_of(excinfo) == ("ActivityDoesNotExist", f"Activity Does Not Exist: '{arn}'")
    with pytest.raises(ClientError) as excinfo:
        sfn.get_activity_task(activityArn=arn)
    assert error_of(excinfo) == ("ActivityDoesNotExist", f"Activity Does Not Exist: '{arn}'")
    with pytest.raises(ClientError) as excinfo:
        sfn.describe_activity(activityArn="no_an_activity_arn")
    assert error_of(excinfo) == ("InvalidArn", "Invalid Arn: 'Invalid ARN prefix: no_an_activity_arn'")


def test_empty_poll_returns_no_token(sfn: Any, name: str) -> None:
    arn = sfn.create_activity(name=name)["activityArn"]
    started = time.monotonic()
    task = sfn.get_activity_task(activityArn=arn)
    assert "taskToken" not in task and "input" not in task
    assert time.monotonic() - started >= 0.4


def test_activity_success_and_spent_token(sfn: Any, name: str) -> None:
    activity, machine = activity_machine(sfn, name)
    execution = sfn.start_execution(stateMachineArn=machine, input='{"job": 7}')["executionArn"]
    task = poll(sfn, activity)
    assert json.loads(task["input"]) == {"job": 7}
    sfn.send_task_heartbeat(taskToken=task["taskToken"])
    sfn.send_task_success(taskToken=task["taskToken"], output='{"done": true}')
    described = wait_for(sfn, execution)
    assert described["status"] == "SUCCEEDED" and json.loads(described["output"]) == {"done": True}
    events = sfn.get_execution_history(executionArn=execution)["events"]
    assert [e["type"] for e in events] == ["ExecutionStarted", "TaskStateEntered", "ActivityScheduled",
                                           "ActivityStarted", "ActivitySucceeded", "TaskStateExited",
                                           "ExecutionSucceeded"]
    assert [(e["id"], e["previousEventId"]) for e in events] == [(1, 0), (2, 0), (3, 2), (4, 3), (5, 4), (6, 5),
                                                                 (7, 6)]
    scheduled = events[2]["activityScheduledEventDetails"]
    assert (scheduled["resource"], json.loads(scheduled["input"])) == (activity, {"job": 7})
    assert scheduled["inputDetails"] == {"truncated": False}
    assert events[3]["activityStartedEventDetails"] == {"workerName": "w1"}
    assert events[4]["activitySucceededEventDetails"] == {"output": '{"done":true}',
                                                          "outputDetails": {"truncated": False}}
    with pytest.raises(ClientError) as excinfo:
        sfn.send_task_success(taskToken=task["taskToken"], output="{}")
    assert error_of(excinfo) == ("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'")


def test_activity_failure(sfn: Any, name: str) -> None:
    activity, machine = activity_machine(sfn, name)
    execution = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    task = poll(sfn, activity)
    sfn.send_task_failure(taskToken=task["taskToken"], error="WorkerError", cause="it broke")
    described = wait_for(sfn, execution)
    assert (described["status"], described["error"], described["cause"]) == ("FAILED", "WorkerError", "it broke")


def test_invalid_tokens_and_output(sfn: Any, name: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        sfn.send_task_success(taskToken="garbage", output="{}")
    assert error_of(excinfo) == ("InvalidToken", "Invalid token")
    with pytest.raises(ClientError) as excinfo:
        sfn.send_task_heartbeat(taskToken="x" * 40)
    assert error_of(excinfo) == ("InvalidToken", "Invalid token")
    activity, machine = activity_machine(sfn, name)
    execution = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    task = poll(sfn, activity)
    with pytest.raises(ClientError) as excinfo:
        sfn.send_task_success(taskToken=task["taskToken"], output="not json")
    assert error_of(excinfo)[0] == "InvalidOutput"
    sfn.stop_execution(executionArn=execution)
    with pytest.raises(ClientError) as excinfo:
        sfn.send_task_success(taskToken=task["taskToken"], output="{}")
    assert error_of(excinfo) == ("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'")


def test_timed_out_task(sfn: Any, name: str) -> None:
    activity, machine = activity_machine(sfn, name, TimeoutSeconds=1)
    execution = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    task = poll(sfn, activity)
    described = wait_for(sfn, execution)
    assert (described["status"], described["error"]) == ("FAILED", "States.Timeout")
    types = [e["type"] for e in sfn.get_execution_history(executionArn=execution)["events"]]
    assert types[2:5] == ["ActivityScheduled", "ActivityStarted", "ActivityTimedOut"]
    with pytest.raises(ClientError) as excinfo:
        sfn.send_task_success(taskToken=task["taskToken"], output="{}")
    assert error_of(excinfo) == ("TaskTimedOut", f"Task Timed Out: '{activity}'")


def test_wait_for_task_token(sfn: Any, name: str) -> None:
    definition = {"StartAt": "Ask", "States": {"Ask": {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/q",
                       "MessageBody": {"token.$": "$$.Task.Token"}}, "End": True}}}
    machine = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)
    execution = sfn.start_execution(stateMachineArn=machine["stateMachineArn"])["executionArn"]
    token = None
    for _ in range(200):
        events = sfn.get_execution_history(executionArn=execution)["events"]
        scheduled = [e for e in events if e["type"] == "TaskScheduled"]
        if scheduled:
            token = json.loads(scheduled[0]["taskScheduledEventDetails"]["parameters"])["MessageBody"]["token"]
            break
        time.sleep(0.01)
    assert token
    sfn.send_task_success(taskToken=token, output='{"approved": true}')
    described = wait_for(sfn, execution)
    assert described["status"] == "SUCCEEDED" and json.loads(described["output"]) == {"approved": True}
