"""AWS's Step Functions Local mock example (LambdaSQSIntegration) through boto3 against a real server.

The MockConfigFile and the definition are the documentation's, unchanged
(tests/engine/tasks/data); StartExecution selects a test case with ``<arn>#<TestCase>``.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from engine.clock import ScaledClock
from engine.runtime import Runtime
from engine.store import MemoryStore
from engine.tasks.mocks import MockConfig
from engine.tasks.registry import TaskRegistry
from tests.api.conftest import ROLE, Server, make_client, wait_for

DATA = Path(__file__).parent.parent / "engine" / "tasks" / "data"
DEFINITION = (DATA / "LambdaSQSIntegration.asl.json").read_text()
LAMBDA_RESULT = {"StatusCode": 200, "Payload": {"StatusCode": 200, "body": "Hello from Lambda!"}}
SQS_RESULT = {"MD5OfMessageBody": "3bcb6e8e-7h85-4375-b0bc-1a59812c6e51",
              "MessageId": "3bcb6e8e-8b51-4375-b0bc-1a59812c6e51"}


@pytest.fixture(scope="module")
def mocked_server() -> Iterator[Server]:
    # Retry intervals (2 s, 4 s, 8 s) are skipped by the clock.
    runtime = Runtime(MemoryStore(), clock=ScaledClock(0), mock_config=MockConfig.load(DATA / "MockConfigFile.json"))
    with Server(runtime) as running:
        yield running


@pytest.fixture(scope="module")
def sfn(mocked_server: Server) -> Any:
    return make_client(mocked_server.endpoint)


@pytest.fixture(scope="module")
def machine_arn(sfn: Any) -> str:
    created = sfn.create_state_machine(name="LambdaSQSIntegration", definition=DEFINITION,
                                       roleArn="arn:aws:iam::123456789012:role/service-role/LambdaSQSIntegration")
    return str(created["stateMachineArn"])


def run_case(sfn: Any, machine_arn: str, case: str, name: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    started = sfn.start_execution(stateMachineArn=f"{machine_arn}#{case}", name=name)
    described = wait_for(sfn, started["executionArn"])
    events = sfn.get_execution_history(executionArn=started["executionArn"])["events"]
    return described, events


def test_happy_path(sfn: Any, machine_arn: str) -> None:
    started = sfn.start_execution(stateMachineArn=f"{machine_arn}#HappyPath",
                                  name="executionWithHappyPathMockedServices")
    assert started["executionArn"] == \
        "arn:aws:states:us-east-1:123456789012:execution:LambdaSQSIntegration:executionWithHappyPathMockedServices"
    described = wait_for(sfn, started["executionArn"])
    assert described["status"] == "SUCCEEDED"
    assert described["stateMachineArn"] == machine_arn
    assert json.loads(described["output"]) == SQS_RESULT
    events = sfn.get_execution_history(executionArn=started["executionArn"])["events"]
    types = [e["type"] for e in events]
    assert types == ["ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded",
                     "TaskStateExited", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded",
                     "TaskStateExited", "ExecutionSucceeded"]
    # As in the documentation: the mocked Lambda result is LambdaState's output and SQSState's input.
    assert json.loads(events[4]["taskSucceededEventDetails"]["output"]) == LAMBDA_RESULT
    assert events[6]["stateEnteredEventDetails"]["name"] == "SQSState"
    assert json.loads(events[6]["stateEnteredEventDetails"]["input"]) == LAMBDA_RESULT
    assert events[9]["taskSucceededEventDetails"]["resourceType"] == "sqs"
    assert events[9]["taskSucceededEventDetails"]["resource"] == "sendMessage"
    assert json.loads(events[9]["taskSucceededEventDetails"]["output"]) == SQS_RESULT


def test_retry_path_fails_three_times_then_succeeds(sfn: Any, machine_arn: str) -> None:
    described, events = run_case(sfn, machine_arn, "RetryPath", "retry-path")
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == SQS_RESULT
    failures = [(e["taskFailedEventDetails"]["error"], e["taskFailedEventDetails"]["cause"])
                for e in events if e["type"] == "TaskFailed"]
    assert failures == [("Lambda.ResourceNotReadyException", "Lambda resource is not ready."),
                        ("Lambda.TimeoutException", "Lambda timed out."),
                        ("Lambda.TimeoutException", "Lambda timed out.")]
    succeeded = [json.loads(e["taskSucceededEventDetails"]["output"]) for e in events if e["type"] == "TaskSucceeded"]
    assert succeeded == [LAMBDA_RESULT, SQS_RESULT]
    # The waits between attempts are 2, 4 and 8 seconds of (skipped) clock time.
    scheduled = [e["timestamp"] for e in events if e["type"] == "TaskScheduled"][:4]
    gaps = [round((b - a).total_seconds()) for a, b in zip(scheduled, scheduled[1:])]
    assert gaps == [2, 4, 8]


def test_hybrid_path_calls_the_real_integration_for_unmocked_states(sfn: Any, machine_arn: str) -> None:
    # Nothing answers sqs:sendMessage here (no handler, no --aws-endpoint): the unmocked state
    # tries the real integration and fails with States.TaskFailed naming the resource.
    described, events = run_case(sfn, machine_arn, "HybridPath", "hybrid-path")
    assert described["status"] == "FAILED"
    assert described["error"] == "States.TaskFailed"
    assert "arn:aws:states:::sqs:sendMessage" in described["cause"]
    assert json.loads(events[4]["taskSucceededEventDetails"]["output"]) == LAMBDA_RESULT


def test_hybrid_path_with_a_registered_handler() -> None:
    registry = TaskRegistry()
    sent: list[Any] = []

    @registry.task("arn:aws:states:::sqs:sendMessage")
    def send(payload: Any) -> Any:
        sent.append(payload)
        return {"MessageId": "local-1", "MD5OfMessageBody": "x"}

    runtime = Runtime(MemoryStore(), clock=ScaledClock(0), registry=registry,
                      mock_config=MockConfig.load(DATA / "MockConfigFile.json"))
    with Server(runtime) as server:
        sfn = make_client(server.endpoint)
        arn = sfn.create_state_machine(name="LambdaSQSIntegration", definition=DEFINITION, roleArn=ROLE)[
            "stateMachineArn"]
        described, _ = run_case(sfn, arn, "HybridPath", "hybrid")
        # Without a test case the Lambda state is not mocked either: nothing answers lambda:invoke.
        plain = wait_for(sfn, sfn.start_execution(stateMachineArn=arn, name="no-case")["executionArn"])
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"MessageId": "local-1", "MD5OfMessageBody": "x"}
    assert sent == [{"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/myQueue",
                     "MessageBody": LAMBDA_RESULT}]
    assert plain["status"] == "FAILED"
    assert plain["error"] == "States.TaskFailed"


def test_unknown_test_case_is_rejected_at_start(sfn: Any, machine_arn: str) -> None:
    with pytest.raises(ClientError) as caught:
        sfn.start_execution(stateMachineArn=f"{machine_arn}#NoSuchCase")
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert caught.value.response["Error"]["Message"] == (
        "Test case 'NoSuchCase' is not defined for state machine 'LambdaSQSIntegration' in the mock "
        f"configuration ({DATA / 'MockConfigFile.json'}); defined: HappyPath, RetryPath, HybridPath")


def test_express_start_sync_execution_with_a_test_case(sfn: Any) -> None:
    arn = sfn.create_state_machine(name="LambdaSQSIntegration-express", definition=DEFINITION, roleArn=ROLE,
                                   type="EXPRESS")["stateMachineArn"]
    with pytest.raises(ClientError):  # this machine name has no test cases in the file
        sfn.start_sync_execution(stateMachineArn=f"{arn}#HappyPath")
    raw = json.loads((DATA / "MockConfigFile.json").read_text())
    raw["StateMachines"]["LambdaSQSIntegration-express"] = raw["StateMachines"]["LambdaSQSIntegration"]
    runtime = Runtime(MemoryStore(), clock=ScaledClock(0), mock_config=MockConfig.parse(raw))
    with Server(runtime) as server:
        client = make_client(server.endpoint)
        arn = client.create_state_machine(name="LambdaSQSIntegration-express", definition=DEFINITION, roleArn=ROLE,
                                          type="EXPRESS")["stateMachineArn"]
        result = client.start_sync_execution(stateMachineArn=f"{arn}#RetryPath", input="{}")
    assert result["status"] == "SUCCEEDED"
    assert json.loads(result["output"]) == SQS_RESULT
