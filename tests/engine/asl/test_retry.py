"""Retry/Catch: matching rules, backoff, and Task retries and timeouts on a ManualClock."""
from __future__ import annotations

import json
import random
from datetime import datetime, timezone
from typing import Any

import anyio
import pytest

from engine.asl import run
from engine.asl.model import Retrier
from engine.asl.retry import can_retry, delay, find_retrier, matches
from engine.clock import ManualClock
from engine.tasks.registry import TaskContext, TaskFailure, TaskRegistry

START = datetime(2024, 1, 1, tzinfo=timezone.utc)
ARN = "arn:aws:lambda:us-east-1:123456789012:function:work"


@pytest.mark.parametrize(("equals", "error", "expected"), [
    (["States.ALL"], "Custom", True),
    (["States.ALL"], "States.Timeout", True),
    (["States.ALL"], "States.Runtime", False),
    (["States.ALL"], "States.DataLimitExceeded", False),
    (["States.DataLimitExceeded"], "States.DataLimitExceeded", True),
    (["States.Runtime"], "States.Runtime", False),
    (["States.TaskFailed"], "Custom", True),
    (["States.TaskFailed"], "States.Timeout", False),
    (["A", "B"], "B", True),
    (["A"], "B", False),
], ids=lambda v: str(v))
def test_matches(equals: list[str], error: str, expected: bool) -> None:
    assert matches(equals, error) is expected


def test_first_matching_retrier_wins() -> None:
    retriers = (Retrier(("A",)), Retrier(("States.ALL",)))
    assert find_retrier(retriers, "A") == 0
    assert find_retrier(retriers, "B") == 1


def test_backoff_and_cap() -> None:
    r = Retrier(("X",), interval_seconds=2, backoff_rate=3, max_delay_seconds=10)
    assert [delay(r, n) for n in range(4)] == [2.0, 6.0, 10.0, 10.0]
    jittered = Retrier(("X",), interval_seconds=4, jitter="FULL")
    assert 0.0 <= delay(jittered, 1, random.Random(1)) <= 8.0
    assert can_retry(Retrier(("X",), max_attempts=2), 1) and not can_retry(Retrier(("X",), max_attempts=2), 2)
    assert not can_retry(Retrier(("X",), max_attempts=0), 0)


async def _drive(definition: dict[str, Any], registry: TaskRegistry, text: str = "{}") -> Any:
    clock = ManualClock(START)
    box: list[Any] = []
    async with anyio.create_task_group() as group:
        async def go() -> None:
            box.append(await run(definition, text, registry=registry, clock=clock))
        group.start_soon(go)
        while not box:
            for _ in range(20):
                await anyio.lowlevel.checkpoint()
            if not box and clock.pending:
                await clock.advance((clock.next_wakeup() - clock.now()).total_seconds())  # type: ignore[operator]
    return box[0]


def _task(**extra: Any) -> dict[str, Any]:
    return {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": ARN, "End": True, **extra}}}


def test_task_retry_timing_on_manual_clock() -> None:
    calls: list[datetime] = []
    registry = TaskRegistry()

    @registry.task(ARN)
    async def work(payload: Any, ctx: TaskContext) -> Any:
        calls.append(ctx.clock.now())
        if len(calls) < 3:
            raise TaskFailure("Flaky", f"attempt {len(calls)}")
        return {"ok": payload}

    definition = _task(Retry=[{"ErrorEquals": ["Flaky"], "IntervalSeconds": 2, "BackoffRate": 3}])
    result = anyio.run(_drive, definition, registry, '{"a": 1}')
    assert result.status == "SUCCEEDED"
    assert json.loads(result.output) == {"ok": {"a": 1}}
    assert [(c - START).total_seconds() for c in calls] == [0.0, 2.0, 8.0]
    types = [e["type"] for e in result.history]
    assert types == ["ExecutionStarted", "TaskStateEntered",
                     "LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionFailed",
                     "LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionFailed",
                     "LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionSucceeded",
                     "TaskStateExited", "ExecutionSucceeded"]
    assert result.history[4]["lambdaFunctionFailedEventDetails"] == {"error": "Flaky", "cause": "attempt 1"}


def test_task_retries_exhausted_then_caught() -> None:
    registry = TaskRegistry()

    @registry.task(ARN)
    def work(payload: Any) -> Any:
        raise ValueError("bad")

    definition = {"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": ARN, "Next": "Done",
              "Retry": [{"ErrorEquals": ["ValueError"], "MaxAttempts": 1, "IntervalSeconds": 1}],
              "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Done"}]},
        "Done": {"Type": "Pass", "End": True}}}
    result = anyio.run(_drive, definition, registry, '{"k": 1}')
    assert result.status == "SUCCEEDED"
    assert json.loads(result.output) == {"k": 1, "error": {"Error": "ValueError", "Cause": "bad"}}
    assert [e["type"] for e in result.history].count("LambdaFunctionFailed") == 2


def test_task_timeout() -> None:
    registry = TaskRegistry()

    @registry.task("arn:aws:states:::lambda:invoke")
    async def slow(payload: Any, ctx: TaskContext) -> Any:
        await ctx.clock.sleep(100)
        return "late"

    definition = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                                                   "TimeoutSeconds": 5, "End": True}}}
    result = anyio.run(_drive, definition, registry)
    assert (result.status, result.error) == ("FAILED", "States.Timeout")
    scheduled = result.history[2]
    assert scheduled["type"] == "TaskScheduled"
    assert scheduled["taskScheduledEventDetails"]["resourceType"] == "lambda"
    assert scheduled["taskScheduledEventDetails"]["resource"] == "invoke"
    assert scheduled["taskScheduledEventDetails"]["timeoutInSeconds"] == 5
    assert result.history[-2]["type"] == "TaskTimedOut"


def test_heartbeat_timeout() -> None:
    registry = TaskRegistry()

    @registry.task("arn:aws:states:::sqs:sendMessage.waitForTaskToken")
    async def wait(payload: Any, ctx: TaskContext) -> Any:
        assert ctx.task_token is not None
        await ctx.clock.sleep(100)
        return None

    definition = {"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"token.$": "$$.Task.Token"}, "HeartbeatSeconds": 3, "TimeoutSeconds": 50, "End": True}}}
    result = anyio.run(_drive, definition, registry)
    assert result.error == "States.HeartbeatTimeout"


def test_no_registry_fails_the_task() -> None:
    result = anyio.run(_drive, _task(), TaskRegistry())
    assert result.error == "States.TaskFailed"


def test_failed_iteration_aborts_its_siblings() -> None:
    registry = TaskRegistry()

    @registry.task("arn:aws:states:::lambda:invoke")
    async def work(payload: Any, ctx: TaskContext) -> Any:
        if payload == 1:
            raise TaskFailure("Boom", "first")
        await ctx.clock.sleep(100)
        return payload

    definition = {"StartAt": "M", "States": {"M": {
        "Type": "Map", "End": True, "ItemProcessor": {"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True}}}}}}
    result = anyio.run(_drive, definition, registry, "[0, 1]")
    assert (result.status, result.error, result.cause) == ("FAILED", "Boom", "first")
    types = [e["type"] for e in result.history]
    tail = types[types.index("TaskFailed") + 1:]
    assert tail == ["MapIterationFailed", "TaskStateAborted", "MapIterationAborted", "TaskStateAborted",
                    "MapStateFailed", "ExecutionFailed"]
    failed_task = types.index("TaskFailed") + 1
    assert {e["previousEventId"] for e in result.history[failed_task + 1:-1]} == {failed_task}


def test_jsonata_catch_assign_and_output() -> None:
    registry = TaskRegistry()

    @registry.task("arn:aws:states:::lambda:invoke")
    def fail(payload: Any) -> Any:
        raise TaskFailure("Exception", "went wrong")

    definition = {"QueryLanguage": "JSONata", "StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
              "Arguments": {"FunctionName": "{% $states.input.fn %}"},
              "Catch": [{"ErrorEquals": ["States.ALL"], "Assign": {"err": "{% $states.errorOutput %}"},
                         "Output": {"input": "{% $states.input %}", "error": "{% $states.errorOutput.Error %}"},
                         "Next": "F"}], "End": True},
        "F": {"Type": "Pass", "Output": {"seen": "{% $err.Cause %}", "in": "{% $states.input %}"}, "End": True}}}
    result = anyio.run(_drive, definition, registry, '{"fn": "x"}')
    assert json.loads(result.output) == {"seen": "went wrong", "in": {"input": {"fn": "x"}, "error": "Exception"}}
    types = [e["type"] for e in result.history]
    assert types[:7] == ["ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskFailed",
                         "TaskStateExited", "PassStateEntered"]
    scheduled = result.history[2]["taskScheduledEventDetails"]
    assert json.loads(scheduled["parameters"]) == {"FunctionName": "x"}
    exited = result.history[5]["stateExitedEventDetails"]
    assert json.loads(exited["assignedVariables"]["err"]) == {"Error": "Exception", "Cause": "went wrong"}


def test_task_credentials_in_history_and_context() -> None:
    seen: list[Any] = []
    registry = TaskRegistry()

    @registry.task("arn:aws:states:::lambda:invoke")
    def work(payload: Any, ctx: TaskContext) -> Any:
        seen.append(ctx.credentials)
        return 1

    definition = {"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Credentials": {"RoleArn.$": "$.role"},
        "End": True}}}
    result = anyio.run(_drive, definition, registry, '{"role": "arn:aws:iam::1:role/r"}')
    assert result.history[2]["taskScheduledEventDetails"]["taskCredentials"] == {"roleArn": "arn:aws:iam::1:role/r"}
    assert seen == [{"roleArn": "arn:aws:iam::1:role/r"}]


def test_failed_task_in_parallel_branch_is_reported_aborted() -> None:
    registry = TaskRegistry()

    @registry.task("arn:aws:states:::lambda:invoke")
    def fail(payload: Any) -> Any:
        raise TaskFailure("Boom", None)

    definition = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                                          "End": True}}}]}}}
    result = anyio.run(_drive, definition, registry)
    brief = [(e["id"], e["previousEventId"], e["type"]) for e in result.history]
    assert brief[-4:] == [(7, 6, "TaskFailed"), (8, 7, "TaskStateAborted"), (9, 7, "ParallelStateFailed"),
                          (10, 9, "ExecutionFailed")]
    assert result.history[-1]["executionFailedEventDetails"] == {"error": "Boom"}


def test_parallel_retry_restarts_the_branches() -> None:
    definition = {"StartAt": "P", "States": {"P": {
        "Type": "Parallel", "End": True,
        "Retry": [{"ErrorEquals": ["E"], "IntervalSeconds": 1, "MaxAttempts": 1}],
        "Branches": [{"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "c"}}}]}}}
    result = anyio.run(_drive, definition, TaskRegistry())
    assert [(e["id"], e["previousEventId"], e["type"]) for e in result.history] == [
        (1, 0, "ExecutionStarted"), (2, 0, "ParallelStateEntered"), (3, 2, "ParallelStateStarted"),
        (4, 3, "FailStateEntered"), (5, 4, "ParallelStateStarted"), (6, 5, "FailStateEntered"),
        (7, 6, "ParallelStateFailed"), (8, 7, "ExecutionFailed")]
    assert (result.error, result.cause) == ("E", "c")
