"""The AWS doc example "messenger" message pump (../shared/clients/aws-doc-examples) run the way its
demo runs it, with Python stand-ins for its Lambda scan function, DynamoDB table and SQS queue."""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.runtime import Runtime
from engine.store import MemoryStore
from engine.tasks.registry import TaskRegistry
from engine.clock import ScaledClock
from tests.api.conftest import Server, make_client
from tests.conftest import SHARED

EXAMPLES = SHARED / "clients" / "aws-doc-examples"
pytestmark = pytest.mark.skipif(not EXAMPLES.is_dir(), reason="../shared/clients is not present")
ROLE = "arn:aws:iam::123456789012:role/doc-example-stepfunctions-messages-role"


class Messenger:
    """The example's resources: a messages table, the scan function, a queue."""

    def __init__(self) -> None:
        self.table = {("ana", "m1"): {"message": "hello", "sent": False},
                      ("bo", "m2"): {"message": "hi there", "sent": False}}
        self.queue: list[dict[str, Any]] = []
        self.registry = TaskRegistry()
        self.registry.register("arn:aws:lambda:*:*:function:doc-example-stepfunctions-scan-messages", self.scan)
        self.registry.register("arn:aws:states:::dynamodb:updateItem", self.update_item)
        self.registry.register("arn:aws:states:::sqs:sendMessage", self.send_message)

    def scan(self, event: Any) -> Any:
        """The example's Lambda: DynamoDB items with sent = false, as plain dicts."""
        return [{"user_name": u, "message_id": m, "message": item["message"], "sent": False}
                for (u, m), item in self.table.items() if not item["sent"]]

    def update_item(self, params: Any) -> Any:
        key = (params["Key"]["user_name"]["S"], params["Key"]["message_id"]["S"])
        assert params["UpdateExpression"] == "SET sent=:s"
        self.table[key]["sent"] = params["ExpressionAttributeValues"][":s"]["BOOL"]
        return {"SdkHttpMetadata": {"HttpStatusCode": 200}}

    def send_message(self, params: Any) -> Any:
        self.queue.append(params)
        return {"MessageId": f"msg-{len(self.queue)}", "MD5OfMessageBody": "0"}


@pytest.fixture
def messenger() -> Messenger:
    return Messenger()


@pytest.fixture
def sfn(messenger: Messenger) -> Iterator[Any]:
    # The pump waits 10 s between scans; 200x time makes that 50 ms.
    with Server(Runtime(MemoryStore(), clock=ScaledClock(1 / 200), registry=messenger.registry)) as server:
        yield make_client(server.endpoint)


def _definition(name: str) -> str:
    return (EXAMPLES / name).read_text()


def _stop_all(sfn: Any, machine: str) -> None:
    for execution in sfn.list_executions(stateMachineArn=machine, statusFilter="RUNNING")["executions"]:
        sfn.stop_execution(executionArn=execution["executionArn"])
    deadline = time.monotonic() + 5
    while sfn.list_executions(stateMachineArn=machine, statusFilter="RUNNING")["executions"]:
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_the_demo_sequence(sfn: Any, messenger: Messenger) -> None:
    machine = sfn.create_state_machine(name="doc-example-dynamodb-message-pump", roleArn=ROLE,
                                       definition=_definition("messenger_message_pump.json"))["stateMachineArn"]
    run = sfn.start_execution(stateMachineArn=machine, name=f"run-without-sqs-{time.time_ns()}")["executionArn"]
    deadline = time.monotonic() + 5
    while not all(item["sent"] for item in messenger.table.values()):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    time.sleep(0.15)  # a few more rounds of the loop: nothing left to send
    _stop_all(sfn, machine)
    assert sfn.describe_execution(executionArn=run)["status"] == "ABORTED"
    assert messenger.queue == []
    types = [e["type"] for e in sfn.get_execution_history(executionArn=run, maxResults=1000)["events"]]
    assert types.count("WaitStateEntered") >= 2 and types[-1] == "ExecutionAborted"

    sfn.update_state_machine(stateMachineArn=machine, definition=_definition("messenger_message_pump_with_sqs.json"))
    messenger.table[("cy", "m3")] = {"message": "new one", "sent": False}
    run = sfn.start_execution(stateMachineArn=machine, name=f"run-with-sqs-{time.time_ns()}")["executionArn"]
    deadline = time.monotonic() + 5
    while not messenger.queue:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    _stop_all(sfn, machine)
    assert messenger.queue == [{
        "QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/doc-example-stepfunctions-queue",
        "MessageBody": "new one",
        "MessageAttributes": {"user": {"DataType": "String", "StringValue": "cy"},
                              "message_id": {"DataType": "String", "StringValue": "m3"}}}]
    assert messenger.table[("cy", "m3")]["sent"] is True
    history = sfn.get_execution_history(executionArn=run, maxResults=1000)["events"]
    scan = next(e for e in history if e["type"] == "LambdaFunctionSucceeded")
    assert json.loads(scan["lambdaFunctionSucceededEventDetails"]["output"]) == [
        {"user_name": "cy", "message_id": "m3", "message": "new one", "sent": False}]
    sfn.delete_state_machine(stateMachineArn=machine)
