"""Documented exceptions of the Step Functions operations, over HTTP with boto3.

Quotas are lowered on a server of this module's own (engine.quotas), so hitting them takes a
handful of resources instead of AWS's 100,000.
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from engine.quotas import Quotas
from engine.runtime import Runtime
from engine.store import MemoryStore
from tests.api.conftest import PASS_DEFINITION, ROLE, Server, make_client, wait_for

PREFIX = "arn:aws:states:us-east-1:123456789012"
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


@pytest.fixture
def quotas() -> Quotas:
    return Quotas(state_machines=2, activities=2, open_executions=2, versions_per_machine=2,
                  aliases_per_machine=1, pollers_per_activity=1)


@pytest.fixture
def limited(quotas: Quotas) -> Iterator[Any]:
    """A client for a fresh server whose quotas are lowered."""
    with Server(Runtime(MemoryStore(), activity_poll_seconds=0.3, quotas=quotas)) as server:
        yield make_client(server.endpoint)


@pytest.fixture
def limited_raw(limited: Any) -> Any:
    return make_client(limited.meta.endpoint_url, parameter_validation=False)


def waiting_definition(activity_arn: str) -> str:
    """A machine that stays RUNNING until a worker answers the activity task."""
    return json.dumps({"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": activity_arn, "End": True}}})


def machine(sfn: Any, name: str, definition: str = PASS_DEFINITION, **kw: Any) -> str:
    return sfn.create_state_machine(name=name, definition=definition, roleArn=ROLE, **kw)["stateMachineArn"]


def running_machine(sfn: Any, name: str) -> tuple[str, str, str]:
    """(machine ARN, activity ARN, execution ARN) of a machine with one RUNNING execution."""
    activity = sfn.create_activity(name=name + "-act")["activityArn"]
    arn = machine(sfn, name, waiting_definition(activity))
    execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    return arn, activity, execution


def finish(sfn: Any, activity: str) -> None:
    token = sfn.get_activity_task(activityArn=activity)["taskToken"]
    sfn.send_task_success(taskToken=token, output="{}")


def until(check: Any, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


# ---- quotas ---------------------------------------------------------------------------------


def test_state_machine_limit_exceeded(limited: Any) -> None:
    machine(limited, "m1")
    machine(limited, "m2")
    assert machine(limited, "m2") == f"{PREFIX}:stateMachine:m2"  # an identical request is no new machine
    with pytest.raises(ClientError) as excinfo:
        machine(limited, "m3")
    assert error_of(excinfo) == ("StateMachineLimitExceeded", (
        "The maximum number of state machines has been reached. Existing state machines must be deleted before a "
        "new state machine can be created."))
    limited.delete_state_machine(stateMachineArn=f"{PREFIX}:stateMachine:m1")
    assert machine(limited, "m3") == f"{PREFIX}:stateMachine:m3"


def test_activity_limit_exceeded(limited: Any) -> None:
    limited.create_activity(name="a1")
    limited.create_activity(name="a2")
    limited.create_activity(name="a2")  # idempotent
    with pytest.raises(ClientError) as excinfo:
        limited.create_activity(name="a3")
    assert error_of(excinfo) == ("ActivityLimitExceeded", (
        "The maximum number of activities has been reached. Existing activities must be deleted before a new "
        "activity can be created."))
    limited.delete_activity(activityArn=f"{PREFIX}:activity:a1")
    assert limited.create_activity(name="a3")["activityArn"] == f"{PREFIX}:activity:a3"


EXECUTION_LIMIT = ("ExecutionLimitExceeded", (
    "The maximum number of running executions has been reached. Running executions must end or be stopped "
    "before a new execution can be started."))


def test_execution_limit_exceeded(limited: Any) -> None:
    arn, activity, first = running_machine(limited, "busy")
    limited.start_execution(stateMachineArn=arn, name="second", input="{}")
    # the same name and input again is the same execution, not a new one
    limited.start_execution(stateMachineArn=arn, name="second", input="{}")
    with pytest.raises(ClientError) as excinfo:
        limited.start_execution(stateMachineArn=arn)
    assert error_of(excinfo) == EXECUTION_LIMIT
    # express executions do not count
    express = machine(limited, "fast", type="EXPRESS")
    assert limited.start_sync_execution(stateMachineArn=express)["status"] == "SUCCEEDED"
    limited.stop_execution(executionArn=first)
    until(lambda: limited.start_execution(stateMachineArn=arn, name="third"))


def test_redrive_execution_limit_exceeded(limited: Any) -> None:
    arn, activity, first = running_machine(limited, "redrive")
    limited.stop_execution(executionArn=first)
    second = limited.start_execution(stateMachineArn=arn)["executionArn"]
    until(lambda: limited.start_execution(stateMachineArn=arn, name="third"))
    assert wait_for(limited, first)["status"] == "ABORTED"
    with pytest.raises(ClientError) as excinfo:
        limited.redrive_execution(executionArn=first)
    assert error_of(excinfo) == EXECUTION_LIMIT
    limited.stop_execution(executionArn=second)
    assert until(lambda: _redrive_or_none(limited, first))


def _redrive_or_none(sfn: Any, arn: str) -> dict[str, Any] | None:
    try:
        return sfn.redrive_execution(executionArn=arn)
    except ClientError:
        return None


def test_versions_quota(limited: Any) -> None:
    arn = machine(limited, "versions", publish=True)
    limited.update_state_machine(stateMachineArn=arn, definition=PASS_DEFINITION.replace("argument1", "two"),
                                 publish=True)
    limited.publish_state_machine_version(stateMachineArn=arn)  # unchanged: the latest version again
    message = (f"Maximum number of versions (2) reached for state machine '{arn}'. Delete unused versions before "
               "publishing a new one.")
    three = PASS_DEFINITION.replace("argument1", "three")
    with pytest.raises(ClientError) as excinfo:
        limited.update_state_machine(stateMachineArn=arn, definition=three, publish=True)
    assert error_of(excinfo) == ("ServiceQuotaExceededException", message)
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 402
    # the refused update changed nothing
    assert limited.describe_state_machine(stateMachineArn=arn)["definition"] != three
    limited.update_state_machine(stateMachineArn=arn, definition=three)
    with pytest.raises(ClientError) as excinfo:
        limited.publish_state_machine_version(stateMachineArn=arn)
    assert error_of(excinfo) == ("ServiceQuotaExceededException", message)
    limited.delete_state_machine_version(stateMachineVersionArn=f"{arn}:1")
    assert limited.publish_state_machine_version(stateMachineArn=arn)["stateMachineVersionArn"] == f"{arn}:3"


def test_aliases_quota(limited: Any) -> None:
    arn = machine(limited, "aliases", publish=True)
    routing = [{"stateMachineVersionArn": f"{arn}:1", "weight": 100}]
    limited.create_state_machine_alias(name="live", routingConfiguration=routing)
    limited.create_state_machine_alias(name="live", routingConfiguration=routing)  # idempotent
    with pytest.raises(ClientError) as excinfo:
        limited.create_state_machine_alias(name="other", routingConfiguration=routing)
    assert error_of(excinfo) == ("ServiceQuotaExceededException", (
        f"Maximum number of aliases (1) reached for state machine '{arn}'. Delete unused aliases before creating "
        "a new one."))
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 402


def test_activity_worker_limit_exceeded(limited: Any) -> None:
    activity = limited.create_activity(name="polled")["activityArn"]
    polling = threading.Thread(target=limited.get_activity_task, kwargs={"activityArn": activity})
    polling.start()
    try:
        time.sleep(0.15)
        with pytest.raises(ClientError) as excinfo:
            limited.get_activity_task(activityArn=activity)
        assert error_of(excinfo) == ("ActivityWorkerLimitExceeded",
                                     "The maximum number of workers concurrently polling for activity tasks has "
                                     "been reached.")
    finally:
        polling.join()
    assert "taskToken" not in limited.get_activity_task(activityArn=activity)  # the poller is gone: room again


# ---- tags -------------------------------------------------------------------------------------


def tags(count: int, prefix: str = "k") -> list[dict[str, str]]:
    return [{"key": f"{prefix}{i}", "value": str(i)} for i in range(count)]


def test_too_many_tags(sfn: Any, name: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        machine(sfn, name, tags=tags(51))
    assert error_of(excinfo) == ("TooManyTags", "Too many tags: maximum is 50")
    with pytest.raises(ClientError) as excinfo:
        sfn.create_activity(name=name, tags=tags(51))
    assert error_of(excinfo) == ("TooManyTags", "Too many tags: maximum is 50")
    arn = machine(sfn, name, tags=tags(50))
    with pytest.raises(ClientError) as excinfo:
        sfn.tag_resource(resourceArn=arn, tags=tags(1, "new"))
    assert error_of(excinfo) == ("TooManyTags", "Too many tags: maximum is 50")
    sfn.tag_resource(resourceArn=arn, tags=tags(1))  # replacing a value adds no tag
    assert len(sfn.list_tags_for_resource(resourceArn=arn)["tags"]) == 50


# ---- encryption and tracing configurations --------------------------------------------------


def test_invalid_encryption_configuration(sfn: Any, name: str) -> None:
    bad = {"type": "CUSTOMER_MANAGED_KMS_KEY"}
    message = ("Invalid Encryption Configuration: kmsKeyId must be specified when the encryption type is "
               "CUSTOMER_MANAGED_KMS_KEY")
    with pytest.raises(ClientError) as excinfo:
        machine(sfn, name, encryptionConfiguration=bad)
    assert error_of(excinfo) == ("InvalidEncryptionConfiguration", message)
    with pytest.raises(ClientError) as excinfo:
        sfn.create_activity(name=name, encryptionConfiguration=bad)
    assert error_of(excinfo) == ("InvalidEncryptionConfiguration", message)
    arn = machine(sfn, name)
    with pytest.raises(ClientError) as excinfo:
        sfn.update_state_machine(stateMachineArn=arn, encryptionConfiguration=bad)
    assert error_of(excinfo) == ("InvalidEncryptionConfiguration", message)
    assert "encryptionConfiguration" not in sfn.describe_state_machine(stateMachineArn=arn)


def test_customer_managed_key_is_accepted_and_echoed(sfn: Any, name: str) -> None:
    # statesim has no KMS: the key is kept as given and never used
    arn = machine(sfn, name, encryptionConfiguration={"type": "CUSTOMER_MANAGED_KMS_KEY", "kmsKeyId": KEY})
    assert sfn.describe_state_machine(stateMachineArn=arn)["encryptionConfiguration"] == {
        "type": "CUSTOMER_MANAGED_KMS_KEY", "kmsKeyId": KEY}
    config = {"type": "CUSTOMER_MANAGED_KMS_KEY", "kmsKeyId": KEY, "kmsDataKeyReusePeriodSeconds": 900}
    activity = sfn.create_activity(name=name, encryptionConfiguration=config)["activityArn"]
    assert sfn.describe_activity(activityArn=activity)["encryptionConfiguration"] == config
    execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    assert wait_for(sfn, execution)["status"] == "SUCCEEDED"


@pytest.mark.parametrize(("period", "bound"), [(59, "greater than or equal to 60"), (901, "less than or equal to 900")])
def test_reuse_period_out_of_range(sfn_raw: Any, name: str, period: int, bound: str) -> None:
    # the model's range is checked before the configuration itself, as for every constrained member
    with pytest.raises(ClientError) as excinfo:
        machine(sfn_raw, name, encryptionConfiguration={
            "type": "CUSTOMER_MANAGED_KMS_KEY", "kmsKeyId": KEY, "kmsDataKeyReusePeriodSeconds": period})
    assert error_of(excinfo) == ("ValidationException", (
        f"1 validation error detected: Value '{period}' at 'encryptionConfiguration.kmsDataKeyReusePeriodSeconds' "
        f"failed to satisfy constraint: Member must have value {bound}"))


def test_activity_already_exists(sfn: Any, name: str) -> None:
    arn = sfn.create_activity(name=name)["activityArn"]
    assert sfn.create_activity(name=name, encryptionConfiguration={"type": "AWS_OWNED_KEY"})["activityArn"] == arn
    with pytest.raises(ClientError) as excinfo:
        sfn.create_activity(name=name, encryptionConfiguration={"type": "CUSTOMER_MANAGED_KMS_KEY", "kmsKeyId": KEY})
    assert error_of(excinfo) == ("ActivityAlreadyExists", f"Activity Already Exists: '{arn}'")


TRACING = ("InvalidTracingConfiguration",
           "Your tracingConfiguration key does not match, or enabled has not been set to true or false.")


def call(http: Any, op: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """A raw AWS JSON 1.0 request: what boto3's serializer cannot send (a member the model lacks)."""
    response = http.post("/", content=json.dumps(body).encode(), headers={
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": f"AWSStepFunctions.{op}"})
    return response.status_code, response.json()


def test_invalid_tracing_configuration(sfn: Any, http: Any, name: str) -> None:
    tracing = {"enabled": True, "sampled": True}
    expected = (400, {"__type": TRACING[0], "message": TRACING[1]})
    assert call(http, "CreateStateMachine", {"name": name, "definition": PASS_DEFINITION, "roleArn": ROLE,
                                              "tracingConfiguration": tracing}) == expected
    arn = machine(sfn, name, tracingConfiguration={"enabled": True})
    assert call(http, "UpdateStateMachine", {"stateMachineArn": arn, "tracingConfiguration": tracing}) == expected
    assert sfn.describe_state_machine(stateMachineArn=arn)["tracingConfiguration"] == {"enabled": True}


def test_tracing_enabled_must_be_a_boolean(sfn_raw: Any, name: str) -> None:
    # boto3 sends what it is given; the protocol layer refuses a string for a boolean first
    with pytest.raises(ClientError) as excinfo:
        machine(sfn_raw, name, tracingConfiguration={"enabled": "true"})
    assert error_of(excinfo)[0] == "SerializationException"


# ---- a state machine deleted while executions run ------------------------------------------


def deleting(arn: str) -> tuple[str, str]:
    return "StateMachineDeleting", "State Machine is being deleted"


def test_state_machine_deleting(sfn: Any, name: str) -> None:
    arn, activity, execution = running_machine(sfn, name)
    version = sfn.publish_state_machine_version(stateMachineArn=arn)["stateMachineVersionArn"]
    alias = sfn.create_state_machine_alias(
        name="live", routingConfiguration=[{"stateMachineVersionArn": version, "weight": 100}])["stateMachineAliasArn"]
    sfn.delete_state_machine(stateMachineArn=arn)
    assert sfn.describe_state_machine(stateMachineArn=arn)["status"] == "DELETING"
    calls = {
        "CreateStateMachine": lambda: machine(sfn, name, waiting_definition(activity)),
        "UpdateStateMachine": lambda: sfn.update_state_machine(stateMachineArn=arn, definition=PASS_DEFINITION),
        "PublishStateMachineVersion": lambda: sfn.publish_state_machine_version(stateMachineArn=arn),
        "CreateStateMachineAlias": lambda: sfn.create_state_machine_alias(
            name="other", routingConfiguration=[{"stateMachineVersionArn": version, "weight": 100}]),
        "UpdateStateMachineAlias": lambda: sfn.update_state_machine_alias(stateMachineAliasArn=alias,
                                                                          description="d"),
        "ListStateMachineAliases": lambda: sfn.list_state_machine_aliases(stateMachineArn=arn),
        "StartExecution": lambda: sfn.start_execution(stateMachineArn=arn),
        "StartExecution (version)": lambda: sfn.start_execution(stateMachineArn=version),
        "StartExecution (alias)": lambda: sfn.start_execution(stateMachineArn=alias),
    }
    for label, call in calls.items():
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error_of(excinfo) == deleting(arn), label
    sfn.delete_state_machine(stateMachineArn=arn)  # deleting again is fine
    finish(sfn, activity)
    assert wait_for(sfn, execution)["status"] == "SUCCEEDED"
    # the last execution has ended: the machine, its versions and aliases are gone
    with pytest.raises(ClientError) as excinfo:
        sfn.describe_state_machine(stateMachineArn=arn)
    assert error_of(excinfo) == ("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{arn}'")
    assert arn not in [m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]]
    with pytest.raises(ClientError) as excinfo:
        sfn.describe_state_machine_alias(stateMachineAliasArn=alias)
    assert error_of(excinfo)[0] == "ResourceNotFound"
    assert sfn.describe_execution(executionArn=execution)["status"] == "SUCCEEDED"  # executions are kept
    assert machine(sfn, name) == arn


def test_start_sync_execution_state_machine_deleting(sfn: Any, name: str) -> None:
    wait = json.dumps({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "End": True}}})
    arn = machine(sfn, name, wait, type="EXPRESS")
    outcome: dict[str, Any] = {}
    running = threading.Thread(target=lambda: outcome.update(sfn.start_sync_execution(stateMachineArn=arn)))
    running.start()
    try:
        time.sleep(0.2)
        sfn.delete_state_machine(stateMachineArn=arn)
        assert sfn.describe_state_machine(stateMachineArn=arn)["status"] == "DELETING"
        with pytest.raises(ClientError) as excinfo:
            sfn.start_sync_execution(stateMachineArn=arn)
        assert error_of(excinfo) == deleting(arn)
    finally:
        running.join()
    assert outcome["status"] == "SUCCEEDED"
    with pytest.raises(ClientError) as excinfo:
        sfn.describe_state_machine(stateMachineArn=arn)
    assert error_of(excinfo)[0] == "StateMachineDoesNotExist"


def test_delete_without_running_executions_is_immediate(sfn: Any, name: str) -> None:
    arn, activity, execution = running_machine(sfn, name)
    sfn.stop_execution(executionArn=execution)
    sfn.delete_state_machine(stateMachineArn=arn)
    with pytest.raises(ClientError) as excinfo:
        sfn.describe_state_machine(stateMachineArn=arn)
    assert error_of(excinfo)[0] == "StateMachineDoesNotExist"


def test_executions_of_a_deleted_machine_fail_at_their_next_transition(sfn: Any, name: str) -> None:
    definition = json.dumps({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 1, "Next": "After"}, "After": {"Type": "Pass", "End": True}}})
    arn = machine(sfn, name, definition)
    execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    until(lambda: any(e["type"] == "WaitStateEntered"
                      for e in sfn.get_execution_history(executionArn=execution)["events"]))
    sfn.delete_state_machine(stateMachineArn=arn)
    assert sfn.describe_state_machine(stateMachineArn=arn)["status"] == "DELETING"
    described = wait_for(sfn, execution)
    cause = f"State machine {name} has been deleted."
    assert (described["status"], described["error"], described["cause"]) == ("FAILED", "States.Runtime", cause)
    events = sfn.get_execution_history(executionArn=execution)["events"]
    assert [e["type"] for e in events] == ["ExecutionStarted", "WaitStateEntered", "WaitStateExited",
                                           "ExecutionFailed"]
    assert events[-1]["executionFailedEventDetails"] == {"error": "States.Runtime", "cause": cause}
    assert events[-1]["previousEventId"] == 3
    with pytest.raises(ClientError) as excinfo:
        sfn.describe_state_machine(stateMachineArn=arn)
    assert error_of(excinfo)[0] == "StateMachineDoesNotExist"


def test_task_does_not_exist_once_its_activity_is_deleted(sfn: Any, name: str) -> None:
    arn, activity, execution = running_machine(sfn, name)
    token = until(lambda: sfn.get_activity_task(activityArn=activity).get("taskToken"))
    sfn.delete_activity(activityArn=activity)
    for send in (lambda: sfn.send_task_success(taskToken=token, output="{}"),
                 lambda: sfn.send_task_failure(taskToken=token, error="E"),
                 lambda: sfn.send_task_heartbeat(taskToken=token)):
        with pytest.raises(ClientError) as excinfo:
            send()
        assert error_of(excinfo) == ("TaskDoesNotExist", "The activity does not exist.")
    assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
    sfn.stop_execution(executionArn=execution)
