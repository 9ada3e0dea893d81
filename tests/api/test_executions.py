"""Executions over HTTP: start, describe, history, list, stop, idempotency, express, redrive."""
from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from engine.clock import ScaledClock
from engine.runtime import Runtime
from engine.store import MemoryStore
from tests.api.conftest import PASS_DEFINITION, ROLE, Server, make_client, wait_for

PREFIX = "arn:aws:states:us-east-1:123456789012"
WAIT_DEFINITION = json.dumps({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": True}}})
FAIL_DEFINITION = json.dumps({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Boom", "Cause": "bad"}}})


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


def machine(sfn: Any, name: str, definition: str = PASS_DEFINITION, **kw: Any) -> str:
    arn: str = sfn.create_state_machine(name=name, definition=definition, roleArn=ROLE, **kw)["stateMachineArn"]
    return arn


def test_start_describe_history(sfn: Any, name: str) -> None:
    arn = machine(sfn, name)
    started = sfn.start_execution(stateMachineArn=arn, name="run-1", input='{"x": 1}')
    execution_arn = f"{PREFIX}:execution:{name}:run-1"
    assert started["executionArn"] == execution_arn
    described = wait_for(sfn, execution_arn)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"Arg1": "argument1"}
    assert described["input"] == '{"x": 1}'
    assert described["inputDetails"] == {"included": True} and described["outputDetails"] == {"included": True}
    assert described["redriveCount"] == 0
    assert described["redriveStatus"] == "NOT_REDRIVABLE"
    assert described["redriveStatusReason"] == "Execution is SUCCEEDED and cannot be redriven"
    assert described["stateMachineArn"] == arn and described["name"] == "run-1"
    assert described["stopDate"] >= described["startDate"]
    events = sfn.get_execution_history(executionArn=execution_arn)["events"]
    assert [e["type"] for e in events] == ["ExecutionStarted", "PassStateEntered", "PassStateExited",
                                           "ExecutionSucceeded"]
    assert [(e["id"], e["previousEventId"]) for e in events] == [(1, 0), (2, 0), (3, 2), (4, 3)]
    assert events[0]["executionStartedEventDetails"]["roleArn"] == ROLE
    reverse = sfn.get_execution_history(executionArn=execution_arn, reverseOrder=True)["events"]
    assert [e["id"] for e in reverse] == [4, 3, 2, 1]
    page = sfn.get_execution_history(executionArn=execution_arn, maxResults=3)
    assert [e["id"] for e in page["events"]] == [1, 2, 3]
    rest = sfn.get_execution_history(executionArn=execution_arn, maxResults=3, nextToken=page["nextToken"])
    assert [e["id"] for e in rest["events"]] == [4] and "nextToken" not in rest
    bare = sfn.get_execution_history(executionArn=execution_arn, includeExecutionData=False)["events"]
    assert "input" not in bare[0]["executionStartedEventDetails"]
    assert "output" not in bare[-1]["executionSucceededEventDetails"]
    for_execution = sfn.describe_state_machine_for_execution(executionArn=execution_arn)
    assert for_execution["definition"] == PASS_DEFINITION and for_execution["stateMachineArn"] == arn


def test_unnamed_execution_gets_a_uuid(sfn: Any, name: str) -> None:
    arn = machine(sfn, name)
    started = sfn.start_execution(stateMachineArn=arn)
    generated = started["executionArn"].rsplit(":", 1)[1]
    assert len(generated) == 36 and generated.count("-") == 4
    assert wait_for(sfn, started["executionArn"])["input"] == "{}"


def test_failed_execution(sfn: Any, name: str) -> None:
    arn = machine(sfn, name, FAIL_DEFINITION)
    described = wait_for(sfn, sfn.start_execution(stateMachineArn=arn)["executionArn"])
    assert (described["status"], described["error"], described["cause"]) == ("FAILED", "Boom", "bad")
    assert described["redriveStatus"] == "REDRIVABLE" and "output" not in described


def test_idempotent_start(sfn: Any, name: str) -> None:
    arn = machine(sfn, name, WAIT_DEFINITION)
    first = sfn.start_execution(stateMachineArn=arn, name="same", input="{}")
    second = sfn.start_execution(stateMachineArn=arn, name="same", input="{}")
    assert first["executionArn"] == second["executionArn"] and first["startDate"] == second["startDate"]
    with pytest.raises(ClientError) as excinfo:
        sfn.start_execution(stateMachineArn=arn, name="same", input='{"other": 1}')
    assert error_of(excinfo) == ("ExecutionAlreadyExists", f"Execution Already Exists: '{first['executionArn']}'")
    sfn.stop_execution(executionArn=first["executionArn"])
    with pytest.raises(ClientError) as excinfo:
        sfn.start_execution(stateMachineArn=arn, name="same", input="{}")
    assert error_of(excinfo)[0] == "ExecutionAlreadyExists"


def test_stop_execution(sfn: Any, name: str) -> None:
    arn = machine(sfn, name, WAIT_DEFINITION)
    execution_arn = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    wait_until_event(sfn, execution_arn, "WaitStateEntered")
    stopped = sfn.stop_execution(executionArn=execution_arn, error="Err", cause="Because")
    described = sfn.describe_execution(executionArn=execution_arn)
    assert described["status"] == "ABORTED" and described["stopDate"] == stopped["stopDate"]
    assert (described["error"], described["cause"]) == ("Err", "Because")
    assert described["redriveStatus"] == "REDRIVABLE"
    events = sfn.get_execution_history(executionArn=execution_arn)["events"]
    assert [e["type"] for e in events] == ["ExecutionStarted", "WaitStateEntered", "ExecutionAborted"]
    assert events[-1]["executionAbortedEventDetails"] == {"error": "Err", "cause": "Because"}
    assert (events[-1]["id"], events[-1]["previousEventId"]) == (3, 0)


def wait_until_event(sfn: Any, execution_arn: str, event_type: str) -> list[dict[str, Any]]:
    import time
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        events: list[dict[str, Any]] = sfn.get_execution_history(executionArn=execution_arn)["events"]
        if any(e["type"] == event_type for e in events):
            return events
        time.sleep(0.02)
    raise AssertionError(f"no {event_type} in {execution_arn}")


@pytest.mark.parametrize(("text", "reason"), [
    ("", "Invalid execution input."),
    ("not json", "Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token 'null', "
                 "'true' or 'false')"),
    ("{'a': 1}", "Unexpected character (''' (code 39)): was expecting double-quote to start field name"),
])
def test_invalid_execution_input(sfn: Any, name: str, text: str, reason: str) -> None:
    arn = machine(sfn, name)
    with pytest.raises(ClientError) as excinfo:
        sfn.start_execution(stateMachineArn=arn, input=text)
    assert error_of(excinfo) == ("InvalidExecutionInput", f"Invalid State Machine Execution Input: '{reason}'")


def test_start_errors(sfn: Any, name: str) -> None:
    missing = f"{PREFIX}:stateMachine:{name}"
    with pytest.raises(ClientError) as excinfo:
        sfn.start_execution(stateMachineArn=missing)
    assert error_of(excinfo) == ("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{missing}'")
    arn = machine(sfn, name)
    with pytest.raises(ClientError) as excinfo:
        sfn.start_execution(stateMachineArn=arn, name="bad name")
    assert error_of(excinfo) == ("InvalidName", "Invalid Name: 'bad name'")
    with pytest.raises(ClientError) as excinfo:
        sfn.start_sync_execution(stateMachineArn=arn)
    assert error_of(excinfo) == ("StateMachineTypeNotSupported",
                                 "This operation is not supported by this type of state machine")


def test_execution_lookups(sfn: Any, name: str) -> None:
    missing = f"{PREFIX}:execution:{name}:nope"
    for call in (sfn.describe_execution, sfn.get_execution_history, sfn.describe_state_machine_for_execution,
                 sfn.stop_execution):
        with pytest.raises(ClientError) as excinfo:
            call(executionArn=missing)
        assert error_of(excinfo) == ("ExecutionDoesNotExist", f"Execution Does Not Exist: '{missing}'")
    with pytest.raises(ClientError) as excinfo:
        sfn.describe_execution(executionArn="invalid_state_machine_arn")
    assert error_of(excinfo) == ("InvalidArn", "Invalid Arn: 'Invalid ARN prefix: invalid_state_machine_arn'")
    with pytest.raises(ClientError) as excinfo:
        sfn.get_execution_history(executionArn=f"{PREFIX}:express:{name}:a:b")
    assert error_of(excinfo) == ("InvalidArn", "Invalid Arn: 'Resource type not valid in this context: express'")


def test_list_executions(sfn: Any, name: str) -> None:
    arn = machine(sfn, name)
    arns = [sfn.start_execution(stateMachineArn=arn, name=f"e{i}")["executionArn"] for i in range(3)]
    for execution_arn in arns:
        wait_for(sfn, execution_arn)
    listed = sfn.list_executions(stateMachineArn=arn)["executions"]
    assert [e["executionArn"] for e in listed] == arns[::-1]
    assert {e["status"] for e in listed} == {"SUCCEEDED"} and all(e["redriveCount"] == 0 for e in listed)
    assert sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"] == []
    page = sfn.list_executions(stateMachineArn=arn, maxResults=2)
    assert len(page["executions"]) == 2
    assert len(sfn.list_executions(stateMachineArn=arn, nextToken=page["nextToken"])["executions"]) == 1
    missing = f"{PREFIX}:stateMachine:{name}-none"
    with pytest.raises(ClientError) as excinfo:
        sfn.list_executions(stateMachineArn=missing)
    assert error_of(excinfo) == ("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{missing}'")
    with pytest.raises(ClientError) as excinfo:
        sfn.list_executions(stateMachineArn=arn, nextToken="bm9wZQ==")
    assert error_of(excinfo) == ("InvalidToken", "Invalid Token: 'Invalid token'")


def test_start_sync_execution_response_shape(sfn: Any, name: str) -> None:
    """AWS's keys, exactly (conformance v2/express/test_express_sync.py::TestExpressSync::test_base)."""
    common = {"billingDetails", "executionArn", "input", "inputDetails", "name", "outputDetails", "startDate",
              "stateMachineArn", "status", "stopDate"}
    failing = machine(sfn, name, FAIL_DEFINITION, type="EXPRESS")
    failed = sfn.start_sync_execution(stateMachineArn=failing, name="fails", input="{}")
    failed.pop("ResponseMetadata")
    assert set(failed) == common | {"error", "cause"}
    assert failed["billingDetails"] == {"billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": 100}
    assert failed["executionArn"].startswith(f"{PREFIX}:express:{name}:fails:")
    assert {k: failed[k] for k in ("input", "inputDetails", "name", "outputDetails", "stateMachineArn", "status",
                                   "error", "cause")} == {
        "input": "{}", "inputDetails": {"included": True}, "name": "fails", "outputDetails": {"included": True},
        "stateMachineArn": failing, "status": "FAILED", "error": "Boom", "cause": "bad"}
    assert failed["stopDate"] >= failed["startDate"]
    passing = machine(sfn, name + "-ok", type="EXPRESS")
    succeeded = sfn.start_sync_execution(stateMachineArn=passing, input="{}")
    succeeded.pop("ResponseMetadata")
    assert set(succeeded) == common | {"output"}
    assert (succeeded["status"], succeeded["outputDetails"]) == ("SUCCEEDED", {"included": True})
    assert json.loads(succeeded["output"]) == {"Arg1": "argument1"}


def test_express_sync_and_async(sfn: Any, name: str) -> None:
    arn = machine(sfn, name, type="EXPRESS")
    result = sfn.start_sync_execution(stateMachineArn=arn, name="sync-run", input='{"a": 1}')
    assert result["status"] == "SUCCEEDED"
    assert json.loads(result["output"]) == {"Arg1": "argument1"}
    assert result["executionArn"].startswith(f"{PREFIX}:express:{name}:sync-run:")
    assert result["billingDetails"]["billedMemoryUsedInMB"] == 64
    assert result["billingDetails"]["billedDurationInMilliseconds"] >= 100
    assert result["inputDetails"] == {"included": True} and result["input"] == '{"a": 1}'
    failing = machine(sfn, name + "-f", FAIL_DEFINITION, type="EXPRESS")
    failed = sfn.start_sync_execution(stateMachineArn=failing)
    assert (failed["status"], failed["error"], failed["cause"]) == ("FAILED", "Boom", "bad")
    started = sfn.start_execution(stateMachineArn=arn)
    assert started["executionArn"].startswith(f"{PREFIX}:express:{name}:")
    with pytest.raises(ClientError) as excinfo:
        sfn.describe_execution(executionArn=started["executionArn"])
    assert error_of(excinfo) == ("InvalidArn", "Invalid Arn: 'Resource type not valid in this context: express'")
    with pytest.raises(ClientError) as excinfo:
        sfn.list_executions(stateMachineArn=arn)
    assert error_of(excinfo) == ("StateMachineTypeNotSupported",
                                 "This operation is not supported by this type of state machine")


def test_versions_run_their_own_definition(sfn: Any, name: str) -> None:
    arn = machine(sfn, name, publish=True)
    sfn.update_state_machine(stateMachineArn=arn, definition=PASS_DEFINITION.replace("argument1", "v2"))
    execution = sfn.start_execution(stateMachineArn=f"{arn}:1")
    described = wait_for(sfn, execution["executionArn"])
    assert json.loads(described["output"]) == {"Arg1": "argument1"}
    assert described["stateMachineVersionArn"] == f"{arn}:1"
    latest = wait_for(sfn, sfn.start_execution(stateMachineArn=arn)["executionArn"])
    assert json.loads(latest["output"]) == {"Arg1": "v2"}
    assert [e["executionArn"] for e in sfn.list_executions(stateMachineArn=f"{arn}:1")["executions"]] == [
        execution["executionArn"]]


def test_redrive(sfn: Any, name: str) -> None:
    definition = json.dumps({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Result": {"n": 1}, "Next": "B"},
        "B": {"Type": "Fail", "Error": "Boom", "Cause": "bad"}}})
    arn = machine(sfn, name, definition)
    execution_arn = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    assert wait_for(sfn, execution_arn)["status"] == "FAILED"
    redriven = sfn.redrive_execution(executionArn=execution_arn)
    described = wait_for(sfn, execution_arn)
    assert described["status"] == "FAILED" and described["redriveCount"] == 1
    assert described["redriveDate"] == redriven["redriveDate"]
    types = [e["type"] for e in sfn.get_execution_history(executionArn=execution_arn)["events"]]
    assert types == ["ExecutionStarted", "PassStateEntered", "PassStateExited", "FailStateEntered",
                     "ExecutionFailed", "ExecutionRedriven", "FailStateEntered", "ExecutionFailed"]
    ids = [e["id"] for e in sfn.get_execution_history(executionArn=execution_arn)["events"]]
    assert ids == list(range(1, 9))
    done = machine(sfn, name + "-ok")
    ok_arn = sfn.start_execution(stateMachineArn=done)["executionArn"]
    wait_for(sfn, ok_arn)
    with pytest.raises(ClientError) as excinfo:
        sfn.redrive_execution(executionArn=ok_arn)
    assert error_of(excinfo) == ("ExecutionNotRedrivable", "Execution is SUCCEEDED and cannot be redriven")


def test_distributed_map_runs(sfn: Any, name: str) -> None:
    definition = json.dumps({"StartAt": "M", "States": {"M": {
        "Type": "Map", "Label": "fan", "MaxConcurrency": 2,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                          "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
        "End": True}}})
    arn = machine(sfn, name, definition)
    execution_arn = sfn.start_execution(stateMachineArn=arn, input="[1, 2, 3]")["executionArn"]
    assert wait_for(sfn, execution_arn)["status"] == "SUCCEEDED"
    runs = sfn.list_map_runs(executionArn=execution_arn)["mapRuns"]
    assert len(runs) == 1
    run_arn = runs[0]["mapRunArn"]
    assert run_arn.startswith(f"{PREFIX}:mapRun:{name}/fan:")
    assert runs[0]["stateMachineArn"] == f"{PREFIX}:stateMachine:{name}/fan"
    described = sfn.describe_map_run(mapRunArn=run_arn)
    assert described["status"] == "SUCCEEDED" and described["executionArn"] == execution_arn
    assert described["itemCounts"]["total"] == 3 and described["itemCounts"]["succeeded"] == 3
    sfn.update_map_run(mapRunArn=run_arn, maxConcurrency=5)
    assert sfn.describe_map_run(mapRunArn=run_arn)["maxConcurrency"] == 5
    missing = run_arn[:-4] + "0000"
    with pytest.raises(ClientError) as excinfo:
        sfn.describe_map_run(mapRunArn=missing)
    assert error_of(excinfo) == ("ResourceNotFound", f"Resource not found: '{missing}'")


def test_wait_time_scale_zero_times_out_before_a_longer_wait() -> None:
    """``serve --wait-time-scale 0``: the 5 s machine timeout fires before the 60 s Wait, as on AWS
    (conformance v2/timeouts/test_timeouts.py::TestTimeouts::test_global_timeout)."""
    definition = json.dumps({"StartAt": "W", "TimeoutSeconds": 5, "States": {
        "W": {"Type": "Wait", "Seconds": 60, "Next": "P"}, "P": {"Type": "Pass", "End": True}}})
    with Server(Runtime(MemoryStore(), clock=ScaledClock(0))) as server:
        sfn = make_client(server.endpoint)
        arn = machine(sfn, "global-timeout", definition)
        described = wait_for(sfn, sfn.start_execution(stateMachineArn=arn, name="run")["executionArn"])
        events = sfn.get_execution_history(executionArn=described["executionArn"])["events"]
    assert described["status"] == "TIMED_OUT"
    assert round((described["stopDate"] - described["startDate"]).total_seconds()) == 5
    assert [e["type"] for e in events] == ["ExecutionStarted", "WaitStateEntered", "ExecutionTimedOut"]
