"""kill -9 the real ``statesim serve`` process and start it again on the same data directory:
executions parked in a Wait, on a task token and on an activity all finish, with full history."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import ROLE, ServeProcess, make_client, wait_for

ROOT = Path(__file__).resolve().parents[2]


class Process(ServeProcess):
    """``statesim serve --port 0 --data-dir DIR`` in a child process, with a Step Functions client."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir)
        self.client = self.client_for()


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "data"


def _history(sfn: Any, arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    return events


def _until(check: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met")
        time.sleep(0.02)


def _token_of(sfn: Any, arn: str) -> str | None:
    for event in _history(sfn, arn):
        if event["type"] == "TaskScheduled":
            return str(json.loads(event["taskScheduledEventDetails"]["parameters"])["token"])
    return None


def test_executions_survive_kill_9(data_dir: Path) -> None:
    first = Process(data_dir)
    try:
        sfn = first.client
        activity = sfn.create_activity(name="restart-activity")["activityArn"]
        machines = {
            "wait": {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 2, "Next": "P"},
                                                "P": {"Type": "Pass", "Result": "woke", "End": True}}},
            "token": {"StartAt": "T", "States": {"T": {
                "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"token.$": "$$.Task.Token"}, "End": True}}},
            "activity": {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": activity, "End": True}}},
        }
        runs = {}
        for key, definition in machines.items():
            arn = sfn.create_state_machine(name=f"restart-{key}", definition=json.dumps(definition),
                                           roleArn=ROLE)["stateMachineArn"]
            runs[key] = sfn.start_execution(stateMachineArn=arn, name=f"run-{key}", input='{"k": 1}')["executionArn"]
        old_token = _until(lambda: _token_of(sfn, runs["token"]))
        _until(lambda: any(e["type"] == "WaitStateEntered" for e in _history(sfn, runs["wait"])))
        _until(lambda: any(e["type"] == "ActivityScheduled" for e in _history(sfn, runs["activity"])))
        first.kill()
    finally:
        first.stop()

    second = Process(data_dir)
    try:
        sfn = second.client
        for arn in runs.values():
            assert sfn.describe_execution(executionArn=arn)["status"] in ("RUNNING", "SUCCEEDED")

        def answer_token() -> bool:
            try:
                sfn.send_task_success(taskToken=old_token, output='{"answer": 42}')
                return True
            except ClientError:
                return False
        _until(answer_token)
        polled = _until(lambda: sfn.get_activity_task(activityArn=activity, workerName="w").get("taskToken"))
        sfn.send_task_success(taskToken=polled, output='{"worked": true}')
        outputs = {key: wait_for(sfn, arn, timeout=15) for key, arn in runs.items()}
        assert {k: v["status"] for k, v in outputs.items()} == dict.fromkeys(runs, "SUCCEEDED")
        assert json.loads(outputs["wait"]["output"]) == "woke"
        assert json.loads(outputs["token"]["output"]) == {"answer": 42}
        assert json.loads(outputs["activity"]["output"]) == {"worked": True}
        for arn in runs.values():
            events = _history(sfn, arn)
            assert [e["id"] for e in events] == list(range(1, len(events) + 1))
            assert events[0]["type"] == "ExecutionStarted" and events[-1]["type"] == "ExecutionSucceeded"
            assert json.loads(events[0]["executionStartedEventDetails"]["input"]) == {"k": 1}
        wait_types = [e["type"] for e in _history(sfn, runs["wait"])]
        assert wait_types == ["ExecutionStarted", "WaitStateEntered", "WaitStateExited", "PassStateEntered",
                              "PassStateExited", "ExecutionSucceeded"]
    finally:
        second.stop()


def test_serve_account_and_region(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", "0", "--in-memory", "--account", "111122223333",
         "--region", "eu-west-1"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        endpoint = proc.stdout.readline().strip().rsplit(" ", 1)[1]
        sfn = make_client(endpoint)
        arn = sfn.create_activity(name="acct")["activityArn"]
        assert arn == "arn:aws:states:eu-west-1:111122223333:activity:acct"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
