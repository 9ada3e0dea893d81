"""RedriveExecution over HTTP with boto3: what runs again, what is kept, the history AWS writes.

AWS (RedriveExecution API reference, "Redriving executions" guide): the unsuccessful state is
re-entered with the input it had; for an inline Map or a Parallel only the iterations and
branches that failed or were aborted run again, each from the state where it stopped.
"""
from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import anyio
import pytest
from botocore.exceptions import ClientError

from engine.tasks.registry import TaskFailure
from tests.api.conftest import ROLE, Server, wait_for


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err.get("Message", "")


def fn(name: str, suffix: str) -> str:
    return f"arn:aws:lambda:us-east-1:123456789012:function:{name}-{suffix}"


def create(sfn: Any, name: str, definition: dict[str, Any]) -> str:
    return str(sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)["stateMachineArn"])


def history(sfn: Any, arn: str) -> list[dict[str, Any]]:
    return list(sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"])


def after_redrive(events: list[dict[str, Any]], nth: int = 1) -> list[dict[str, Any]]:
    marks = [i for i, e in enumerate(events) if e["type"] == "ExecutionRedriven"]
    return events[marks[nth - 1] + 1:]


def flaky(calls: Counter[Any], key: Any, fails: int = 1) -> None:
    calls[key] += 1
    if calls[key] <= fails:
        raise TaskFailure("Flaky.Error", f"attempt {calls[key]}")


def test_parallel_reruns_only_the_failed_branch(sfn: Any, server: Server, name: str) -> None:
    calls: Counter[str] = Counter()

    def steady(payload: Any) -> Any:
        calls["steady"] += 1
        return {"steady": payload["n"]}

    def unsteady(payload: Any) -> Any:
        flaky(calls, "unsteady")
        return {"unsteady": payload["n"]}

    server.runtime.registry.register(fn(name, "steady"), steady)
    server.runtime.registry.register(fn(name, "unsteady"), unsteady)
    arn = create(sfn, name, {"StartAt": "Par", "States": {"Par": {"Type": "Parallel", "Next": "After", "Branches": [
        {"StartAt": "Steady", "States": {"Steady": {"Type": "Task", "Resource": fn(name, "steady"), "End": True}}},
        {"StartAt": "Prep", "States": {
            "Prep": {"Type": "Pass", "Parameters": {"n.$": "$.n", "prepared": True}, "Next": "Unsteady"},
            "Unsteady": {"Type": "Task", "Resource": fn(name, "unsteady"), "End": True}}}]},
        "After": {"Type": "Pass", "End": True}}})
    execution = sfn.start_execution(stateMachineArn=arn, input='{"n": 7}')["executionArn"]
    failed = wait_for(sfn, execution)
    assert (failed["status"], failed["error"], failed["cause"]) == ("FAILED", "Flaky.Error", "attempt 1")
    assert failed["redriveStatus"] == "REDRIVABLE" and "redriveStatusReason" not in failed
    first = history(sfn, execution)

    redriven = sfn.redrive_execution(executionArn=execution)
    done = wait_for(sfn, execution)
    assert done["status"] == "SUCCEEDED", done
    assert json.loads(done["output"]) == [{"steady": 7}, {"unsteady": 7}]
    assert calls == {"steady": 1, "unsteady": 2}
    assert done["redriveCount"] == 1 and done["redriveDate"] == redriven["redriveDate"]
    assert (done["redriveStatus"], done["redriveStatusReason"]) == (
        "NOT_REDRIVABLE", "Execution is SUCCEEDED and cannot be redriven")

    events = history(sfn, execution)
    assert events[:len(first)] == first  # the first attempt's history is kept as it was
    mark = events[len(first)]
    assert mark["type"] == "ExecutionRedriven" and mark["executionRedrivenEventDetails"] == {"redriveCount": 1}
    assert mark["id"] == len(first) + 1
    rest = after_redrive(events)
    # the Parallel is re-entered; in the failed branch AWS re-enters the failed state (not Prep)
    assert [e["type"] for e in rest] == [
        "ParallelStateEntered", "ParallelStateStarted", "TaskStateEntered", "LambdaFunctionScheduled",
        "LambdaFunctionStarted", "LambdaFunctionSucceeded", "TaskStateExited", "ParallelStateSucceeded", "ParallelStateExited", "PassStateEntered",
        "PassStateExited", "ExecutionSucceeded"]
    assert rest[0]["previousEventId"] == mark["id"]
    assert rest[0]["stateEnteredEventDetails"]["input"] == '{"n": 7}'
    assert rest[2]["stateEnteredEventDetails"]["name"] == "Unsteady"
    assert json.loads(rest[2]["stateEnteredEventDetails"]["input"]) == {"n": 7, "prepared": True}
    assert rest[2]["previousEventId"] == rest[1]["id"]
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))


def test_inline_map_reruns_only_failed_iterations(sfn: Any, server: Server, name: str) -> None:
    calls: Counter[int] = Counter()

    def work(item: Any) -> Any:
        if item % 2:  # items 1 and 3 fail on their first call
            flaky(calls, item)
        else:
            calls[item] += 1
        return item * 10

    server.runtime.registry.register(fn(name, "work"), work)
    arn = create(sfn, name, {"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "MaxConcurrency": 1, "End": True, "ItemProcessor": {
            "ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Work",
            "States": {"Work": {"Type": "Task", "Resource": fn(name, "work"), "End": True}}}}}})
    execution = sfn.start_execution(stateMachineArn=arn, input="[0, 1, 2, 3, 4]")["executionArn"]
    assert wait_for(sfn, execution)["status"] == "FAILED"
    assert calls == {0: 1, 1: 1}  # MaxConcurrency 1: the Map stopped at the first failure
    sfn.redrive_execution(executionArn=execution)
    described = wait_for(sfn, execution)
    assert described["status"] == "FAILED" and described["redriveCount"] == 1
    # second attempt: 1 succeeds now, 2 runs, 3 fails on its first call; 0 is not run again
    assert calls == {0: 1, 1: 2, 2: 1, 3: 1}
    started = [e["mapIterationStartedEventDetails"]["index"] for e in after_redrive(history(sfn, execution))
               if e["type"] == "MapIterationStarted"]
    assert started == [1, 2, 3]

    sfn.redrive_execution(executionArn=execution)
    done = wait_for(sfn, execution)
    assert done["status"] == "SUCCEEDED" and done["redriveCount"] == 2
    assert json.loads(done["output"]) == [0, 10, 20, 30, 40]
    assert calls == {0: 1, 1: 2, 2: 1, 3: 2, 4: 1}
    rest = after_redrive(history(sfn, execution), 2)
    assert rest[0]["type"] == "MapStateEntered"
    assert rest[1]["type"] == "MapStateStarted" and rest[1]["mapStateStartedEventDetails"] == {"length": 5}
    assert [e["mapIterationStartedEventDetails"]["index"] for e in rest if e["type"] == "MapIterationStarted"] == [3, 4]
    assert [e["mapIterationSucceededEventDetails"]["index"] for e in rest
            if e["type"] == "MapIterationSucceeded"] == [3, 4]


def test_inline_map_concurrent_failures(sfn: Any, server: Server, name: str) -> None:
    """5 items, 2 fail (ToleratedFailureCount lets all run): only those 2 run again."""
    calls: Counter[int] = Counter()

    def work(item: Any) -> Any:
        if item in (1, 3):
            flaky(calls, item)
        else:
            calls[item] += 1
        return {"v": item}

    server.runtime.registry.register(fn(name, "work"), work)
    arn = create(sfn, name, {"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "ToleratedFailureCount": 1, "End": True, "ItemProcessor": {
            "ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Work",
            "States": {"Work": {"Type": "Task", "Resource": fn(name, "work"), "End": True}}}}}})
    execution = sfn.start_execution(stateMachineArn=arn, input="[0, 1, 2, 3, 4]")["executionArn"]
    failed = wait_for(sfn, execution)
    assert (failed["status"], failed["error"]) == ("FAILED", "States.ExceedToleratedFailureThreshold")
    assert calls == {0: 1, 1: 1, 2: 1, 3: 1, 4: 1}
    sfn.redrive_execution(executionArn=execution)
    done = wait_for(sfn, execution)
    assert done["status"] == "SUCCEEDED", done
    assert json.loads(done["output"]) == [{"v": i} for i in range(5)]
    assert calls == {0: 1, 1: 2, 2: 1, 3: 2, 4: 1}
    rest = after_redrive(history(sfn, execution))
    assert sorted(e["mapIterationStartedEventDetails"]["index"] for e in rest
                  if e["type"] == "MapIterationStarted") == [1, 3]


def test_nested_parallel_in_map_iteration(sfn: Any, server: Server, name: str) -> None:
    """Inside a failed iteration, a failed Parallel keeps its successful branch too."""
    calls: Counter[str] = Counter()

    def left(item: Any) -> Any:
        calls[f"left{item}"] += 1
        return "L"

    def right(item: Any) -> Any:
        if item == 1:
            flaky(calls, "right1")
        else:
            calls[f"right{item}"] += 1
        return "R"

    server.runtime.registry.register(fn(name, "left"), left)
    server.runtime.registry.register(fn(name, "right"), right)
    arn = create(sfn, name, {"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "MaxConcurrency": 1, "End": True, "ItemProcessor": {
            "ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Both", "States": {"Both": {
                "Type": "Parallel", "End": True, "Branches": [
                    {"StartAt": "Left", "States": {"Left": {"Type": "Task", "Resource": fn(name, "left"),
                                                            "End": True}}},
                    {"StartAt": "Right", "States": {"Right": {"Type": "Task", "Resource": fn(name, "right"),
                                                              "End": True}}}]}}}}}})
    execution = sfn.start_execution(stateMachineArn=arn, input="[0, 1]")["executionArn"]
    assert wait_for(sfn, execution)["status"] == "FAILED"
    sfn.redrive_execution(executionArn=execution)
    done = wait_for(sfn, execution)
    assert done["status"] == "SUCCEEDED", done
    assert json.loads(done["output"]) == [["L", "R"], ["L", "R"]]
    assert calls == {"left0": 1, "right0": 1, "left1": 1, "right1": 2}


def test_not_redrivable(sfn: Any, name: str) -> None:
    ok = create(sfn, name, {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    succeeded = sfn.start_execution(stateMachineArn=ok)["executionArn"]
    described = wait_for(sfn, succeeded)
    assert (described["redriveCount"], described["redriveStatus"], described["redriveStatusReason"]) == (
        0, "NOT_REDRIVABLE", "Execution is SUCCEEDED and cannot be redriven")
    with pytest.raises(ClientError) as excinfo:
        sfn.redrive_execution(executionArn=succeeded)
    assert error_of(excinfo) == ("ExecutionNotRedrivable", "Execution is SUCCEEDED and cannot be redriven")

    waiting = create(sfn, name + "-w", {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 300,
                                                                         "End": True}}})
    running = sfn.start_execution(stateMachineArn=waiting)["executionArn"]
    described = sfn.describe_execution(executionArn=running)
    assert (described["redriveStatus"], described["redriveStatusReason"]) == (
        "NOT_REDRIVABLE", "Execution is RUNNING and cannot be redriven")
    with pytest.raises(ClientError) as excinfo:
        sfn.redrive_execution(executionArn=running)
    assert error_of(excinfo) == ("ExecutionNotRedrivable", "Execution is RUNNING and cannot be redriven")

    # an aborted execution is redrivable: the Wait it was in is re-entered
    sfn.stop_execution(executionArn=running, error="Stop", cause="by test")
    described = wait_for(sfn, running)
    assert (described["status"], described["redriveStatus"]) == ("ABORTED", "REDRIVABLE")
    sfn.redrive_execution(executionArn=running)
    described = sfn.describe_execution(executionArn=running)
    assert (described["status"], described["redriveCount"]) == ("RUNNING", 1)
    assert "error" not in described and "cause" not in described and "stopDate" not in described
    rest = after_redrive(history(sfn, running))
    assert [e["type"] for e in rest] == ["WaitStateEntered"]
    sfn.stop_execution(executionArn=running)
    assert wait_for(sfn, running)["status"] == "ABORTED"


def test_redriven_run_context(sfn: Any, server: Server, name: str) -> None:
    """$$.Execution.Input stays the execution's input; $$.Execution.RedriveCount counts redrives."""
    calls: Counter[str] = Counter()

    def work(payload: Any) -> Any:
        flaky(calls, "work")
        return payload

    server.runtime.registry.register(fn(name, "work"), work)
    arn = create(sfn, name, {"StartAt": "Shape", "States": {
        "Shape": {"Type": "Pass", "Parameters": {"shaped.$": "$.n"}, "Next": "Work"},
        "Work": {"Type": "Task", "Resource": fn(name, "work"), "End": True, "Parameters": {
            "state.$": "$", "input.$": "$$.Execution.Input", "count.$": "$$.Execution.RedriveCount"}}}})
    execution = sfn.start_execution(stateMachineArn=arn, input='{"n": 3}')["executionArn"]
    assert wait_for(sfn, execution)["status"] == "FAILED"
    sfn.redrive_execution(executionArn=execution)
    done = wait_for(sfn, execution)
    assert done["status"] == "SUCCEEDED", done
    assert json.loads(done["output"]) == {"state": {"shaped": 3}, "input": {"n": 3}, "count": 1}
    assert done["input"] == '{"n": 3}'


def test_not_redrivable_reasons(sfn: Any, server: Server, name: str) -> None:
    """AWS's redriveStatusReason values (DescribeExecution) are also RedriveExecution's message."""
    arn = create(sfn, name, {"StartAt": "Route", "States": {
        "Route": {"Type": "Choice", "Choices": [{"Variable": "$.fail", "IsPresent": True, "Next": "Boom"}],
                  "Default": "Hold"},
        "Boom": {"Type": "Fail", "Error": "Boom"},
        "Hold": {"Type": "Wait", "Seconds": 300, "End": True}}})
    store = server.runtime.store

    def failed_execution() -> str:
        execution = str(sfn.start_execution(stateMachineArn=arn, input='{"fail": 1}')["executionArn"])
        assert wait_for(sfn, execution)["status"] == "FAILED"
        return execution

    def backdate(execution: str, field_name: str, days: float) -> None:
        record = store.get("execution", execution)
        record[field_name] = float(record[field_name]) - days * 86400
        store.put("execution", execution, record, parent=record["stateMachineArn"])

    def refused(execution: str, reason: str) -> None:
        described = sfn.describe_execution(executionArn=execution)
        assert (described["redriveStatus"], described["redriveStatusReason"]) == ("NOT_REDRIVABLE", reason)
        with pytest.raises(ClientError) as excinfo:
            sfn.redrive_execution(executionArn=execution)
        assert error_of(excinfo) == ("ExecutionNotRedrivable", reason)

    stale = failed_execution()
    backdate(stale, "stopDate", 13.9)
    assert sfn.describe_execution(executionArn=stale)["redriveStatus"] == "REDRIVABLE"
    backdate(stale, "stopDate", 0.2)  # AWS: redrivable within 14 days of the stop
    refused(stale, "Execution redrivable period exceeded")

    old = failed_execution()
    backdate(old, "startDate", 366)  # AWS: a Standard execution runs at most a year
    refused(old, "Execution has exceeded the max execution time")

    failed = failed_execution()
    running = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    sfn.delete_state_machine(stateMachineArn=arn)  # DELETING while an execution runs
    refused(failed, "State machine is in DELETING status")
    sfn.stop_execution(executionArn=running)
    assert wait_for(sfn, running)["status"] == "ABORTED"


def test_distributed_map_redrives_its_map_run(sfn: Any, server: Server, name: str) -> None:
    """AWS: redriving the parent redrives the failed Map Run (same ARN, MapRunRedriven); only the
    child executions that did not succeed run again."""
    calls: Counter[int] = Counter()

    def work(item: Any) -> Any:
        if item in (1, 3):
            flaky(calls, item)
        else:
            calls[item] += 1
        return item + 100

    server.runtime.registry.register(fn(name, "work"), work)
    arn = create(sfn, name, {"StartAt": "Fan", "States": {"Fan": {
        "Type": "Map", "Label": "fan", "ToleratedFailureCount": 1, "End": True, "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "Work",
            "States": {"Work": {"Type": "Task", "Resource": fn(name, "work"), "End": True}}}}}})
    execution = sfn.start_execution(stateMachineArn=arn, input="[0, 1, 2, 3, 4]")["executionArn"]
    failed = wait_for(sfn, execution)
    assert (failed["status"], failed["error"]) == ("FAILED", "States.ExceedToleratedFailureThreshold")
    assert calls == {0: 1, 1: 1, 2: 1, 3: 1, 4: 1}
    first = history(sfn, execution)
    run_arn = next(e["mapRunStartedEventDetails"]["mapRunArn"] for e in first if e["type"] == "MapRunStarted")

    sfn.redrive_execution(executionArn=execution)
    done = wait_for(sfn, execution)
    assert done["status"] == "SUCCEEDED", done
    assert json.loads(done["output"]) == [100, 101, 102, 103, 104]
    assert calls == {0: 1, 1: 2, 2: 1, 3: 2, 4: 1}
    rest = after_redrive(history(sfn, execution))
    assert [e["type"] for e in rest] == ["MapStateEntered", "MapStateStarted", "MapRunRedriven", "MapRunSucceeded",
                                        "MapStateSucceeded", "MapStateExited", "ExecutionSucceeded"]
    assert rest[2]["mapRunRedrivenEventDetails"] == {"mapRunArn": run_arn, "redriveCount": 1}
    assert [r["mapRunArn"] for r in sfn.list_map_runs(executionArn=execution)["mapRuns"]] == [run_arn]
    described = sfn.describe_map_run(mapRunArn=run_arn)
    assert (described["status"], described["redriveCount"]) == ("SUCCEEDED", 1)
    assert described["redriveDate"] == done["redriveDate"]


def test_timed_out_execution_redrive_restarts_the_timeout(sfn: Any, server: Server, name: str) -> None:
    """AWS: a redriven execution's TimeoutSeconds counts again from the redrive."""
    calls: Counter[str] = Counter()

    async def slow_once(payload: Any) -> Any:
        calls["slow"] += 1
        if calls["slow"] == 1:
            await anyio.sleep(5)
        return {"done": calls["slow"]}

    server.runtime.registry.register(fn(name, "slow"), slow_once)
    arn = create(sfn, name, {"StartAt": "Quick", "TimeoutSeconds": 1, "States": {
        "Quick": {"Type": "Pass", "Result": {"quick": True}, "Next": "Slow"},
        "Slow": {"Type": "Task", "Resource": fn(name, "slow"), "End": True}}})
    execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    timed_out = wait_for(sfn, execution)
    assert (timed_out["status"], timed_out["redriveStatus"]) == ("TIMED_OUT", "REDRIVABLE")
    sfn.redrive_execution(executionArn=execution)
    done = wait_for(sfn, execution)
    assert done["status"] == "SUCCEEDED", done
    assert json.loads(done["output"]) == {"done": 2}
    rest = after_redrive(history(sfn, execution))
    assert rest[0]["type"] == "TaskStateEntered" and rest[0]["stateEnteredEventDetails"]["name"] == "Slow"
    assert json.loads(rest[0]["stateEnteredEventDetails"]["input"]) == {"quick": True}


def test_aborted_parallel_keeps_the_branch_that_finished(sfn: Any, server: Server, name: str) -> None:
    calls: Counter[str] = Counter()

    def quick(payload: Any) -> Any:
        calls["quick"] += 1
        return "quick"

    server.runtime.registry.register(fn(name, "quick"), quick)
    arn = create(sfn, name, {"StartAt": "Par", "States": {"Par": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "Quick", "States": {"Quick": {"Type": "Task", "Resource": fn(name, "quick"), "End": True}}},
        {"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 300, "End": True}}}]}}})
    execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    deadline = 200
    while calls["quick"] == 0 and deadline:
        time.sleep(0.01)
        deadline -= 1
    sfn.stop_execution(executionArn=execution)
    assert wait_for(sfn, execution)["status"] == "ABORTED"
    sfn.redrive_execution(executionArn=execution)
    assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
    rest: list[dict[str, Any]] = []
    for _ in range(200):
        rest = after_redrive(history(sfn, execution))
        if len(rest) >= 3:
            break
        time.sleep(0.01)
    assert [e["type"] for e in rest] == ["ParallelStateEntered", "ParallelStateStarted", "WaitStateEntered"]
    assert calls["quick"] == 1
    sfn.stop_execution(executionArn=execution)
    assert wait_for(sfn, execution)["status"] == "ABORTED"


def test_redrive_keeps_assigned_variables(sfn: Any, server: Server, name: str) -> None:
    """Variables assigned before the failure (Assign) are there when the failed state runs again,
    at the top level and inside a Parallel branch."""
    calls: Counter[str] = Counter()

    def work(payload: Any) -> Any:
        flaky(calls, "work")
        return payload

    server.runtime.registry.register(fn(name, "work"), work)
    arn = create(sfn, name, {"StartAt": "Set", "States": {
        "Set": {"Type": "Pass", "Assign": {"top": "T"}, "Next": "Par"},
        "Par": {"Type": "Parallel", "End": True, "Branches": [{"StartAt": "Inner", "States": {
            "Inner": {"Type": "Pass", "Assign": {"inner": "I"}, "Next": "Work"},
            "Work": {"Type": "Task", "Resource": fn(name, "work"), "End": True,
                     "Parameters": {"top.$": "$top", "inner.$": "$inner"}}}}]}}})
    execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    assert wait_for(sfn, execution)["status"] == "FAILED"
    sfn.redrive_execution(executionArn=execution)
    done = wait_for(sfn, execution)
    assert done["status"] == "SUCCEEDED", done
    assert json.loads(done["output"]) == [{"top": "T", "inner": "I"}]


def test_redrive_runs_the_execution_definition(sfn: Any, name: str) -> None:
    """AWS: a redriven execution uses the definition it started with, not the machine's latest one."""
    arn = create(sfn, name, {"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "Old"}}})
    execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    assert wait_for(sfn, execution)["status"] == "FAILED"
    sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(
        {"StartAt": "Boom", "States": {"Boom": {"Type": "Pass", "End": True}}}))
    sfn.redrive_execution(executionArn=execution)
    described = wait_for(sfn, execution)
    assert (described["status"], described["error"], described["redriveCount"]) == ("FAILED", "Old", 1)
