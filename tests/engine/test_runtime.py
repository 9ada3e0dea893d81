"""The runtime in process: background executions, stop, restart recovery, redrive."""
from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest

from engine.clock import ManualClock
from engine.runtime import Runtime
from engine.store import MemoryStore, SqliteStore
from tests.engine._runtime_support import MACHINE, record, resume_after_wait, settle, until_sleeping


WAIT = {"StartAt": "A", "States": {
    "A": {"Type": "Pass", "Result": {"step": "a"}, "Next": "W"},
    "W": {"Type": "Wait", "Seconds": 600, "Next": "B"},
    "B": {"Type": "Pass", "ResultPath": "$.b", "Result": "done", "End": True}}}


async def test_runs_in_background_and_persists_history() -> None:
    clock = ManualClock()
    runtime = Runtime(MemoryStore(), clock=clock)
    async with runtime.running():
        rec = runtime.start(record("one", WAIT, clock), json.dumps(WAIT))
        assert rec["status"] == "RUNNING"
        await until_sleeping(clock)
        assert runtime.store.get("execution", rec["executionArn"])["status"] == "RUNNING"  # type: ignore[index]
        await clock.advance(600)
        done = await settle(runtime, rec["executionArn"])
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"]) == {"step": "a", "b": "done"}
    types = [e["type"] for e in runtime.store.events(rec["executionArn"])]
    assert types == ["ExecutionStarted", "PassStateEntered", "PassStateExited", "WaitStateEntered",
                     "WaitStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
    assert isinstance(runtime.store.events(rec["executionArn"])[0]["timestamp"], float)


async def test_stop_cancels_and_records_abort() -> None:
    clock = ManualClock()
    runtime = Runtime(MemoryStore(), clock=clock)
    async with runtime.running():
        rec = runtime.start(record("stop", WAIT, clock), json.dumps(WAIT))
        await until_sleeping(clock)
        stopped = runtime.stop(rec["executionArn"], "E", None)
        assert stopped["status"] == "ABORTED" and stopped["error"] == "E" and "cause" not in stopped
        await settle(runtime, rec["executionArn"])
    events = runtime.store.events(rec["executionArn"])
    assert events[-1]["type"] == "ExecutionAborted"
    assert events[-1]["executionAbortedEventDetails"] == {"error": "E"}
    assert runtime.store.get("execution", rec["executionArn"])["status"] == "ABORTED"  # type: ignore[index]


async def test_restart_resumes_a_wait_with_its_original_deadline(tmp_path: Path) -> None:
    clock = ManualClock()
    first = Runtime(SqliteStore(tmp_path / "data"), clock=clock)
    async with first.running():
        rec = first.start(record("restart", WAIT, clock, '{"in": 1}'), json.dumps(WAIT))
        await until_sleeping(clock)
        await clock.advance(100)  # still waiting when the process "dies"
    first.store.close()
    assert SqliteStore(tmp_path / "data").get("execution", rec["executionArn"])["status"] == "RUNNING"  # type: ignore[index]

    clock2 = ManualClock(clock.now())
    second = Runtime(SqliteStore(tmp_path / "data"), clock=clock2)
    async with second.running():
        await until_sleeping(clock2)
        assert (clock2.next_wakeup() - clock2.now()).total_seconds() == 500  # type: ignore[operator]
        await clock2.advance(500)
        done = await settle(second, rec["executionArn"])
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"]) == {"step": "a", "b": "done"}
    events = second.store.events(rec["executionArn"])
    assert [e["type"] for e in events] == ["ExecutionStarted", "PassStateEntered", "PassStateExited",
                                           "WaitStateEntered", "WaitStateExited", "PassStateEntered",
                                           "PassStateExited", "ExecutionSucceeded"]
    assert [e["id"] for e in events] == list(range(1, 9))
    assert [e["previousEventId"] for e in events] == [0, 0, 2, 3, 4, 5, 6, 7]
    assert events[3]["stateEnteredEventDetails"]["input"] == '{"step":"a"}'


async def test_restart_settles_an_execution_whose_end_was_recorded(tmp_path: Path) -> None:
    clock = ManualClock()
    store = SqliteStore(tmp_path / "d")
    rec = record("ended", WAIT, clock) | {"status": "RUNNING"}
    store.put("execution", rec["executionArn"], rec, parent=MACHINE)
    store.append_events(rec["executionArn"], [
        {"id": 1, "previousEventId": 0, "type": "ExecutionStarted", "timestamp": 0.0,
         "executionStartedEventDetails": {"input": "{}"}},
        {"id": 2, "previousEventId": 1, "type": "ExecutionSucceeded", "timestamp": 0.0,
         "executionSucceededEventDetails": {"output": '{"ok":true}'}}])
    runtime = Runtime(store, clock=clock)
    async with runtime.running():
        pass
    stored = store.get("execution", rec["executionArn"])
    assert stored is not None and stored["status"] == "SUCCEEDED" and stored["output"] == '{"ok":true}'


async def test_restart_before_any_state_starts_over(tmp_path: Path) -> None:
    clock = ManualClock()
    store = SqliteStore(tmp_path / "d")
    definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    rec = record("early", definition, clock, '{"v": 2}') | {"status": "RUNNING"}
    store.put("execution", rec["executionArn"], rec, parent=MACHINE)
    store.append_events(rec["executionArn"], [
        {"id": 1, "previousEventId": 0, "type": "ExecutionStarted", "timestamp": 0.0,
         "executionStartedEventDetails": {"input": '{"v": 2}'}}])
    runtime = Runtime(store, clock=clock)
    async with runtime.running():
        done = await settle(runtime, rec["executionArn"])
    assert done["status"] == "SUCCEEDED" and json.loads(done["output"]) == {"v": 2}
    assert [e["type"] for e in store.events(rec["executionArn"])] == [
        "ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]


def test_start_needs_a_running_runtime() -> None:
    clock = ManualClock()
    with pytest.raises(RuntimeError):
        Runtime(clock=clock).start(record("x", WAIT, clock), json.dumps(WAIT))


TOKEN = {"StartAt": "Ask", "States": {"Ask": {
    "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
    "Parameters": {"token.$": "$$.Task.Token"}, "End": True}}}


async def test_graceful_restart_keeps_task_tokens(tmp_path: Path) -> None:
    clock = ManualClock()
    first = Runtime(SqliteStore(tmp_path / "data"), clock=clock)
    async with first.running():
        rec = first.start(record("token", TOKEN, clock), json.dumps(TOKEN))
        with anyio.fail_after(5):
            while not any(e["type"] == "TaskScheduled" for e in first.store.events(rec["executionArn"])):
                await anyio.sleep(0.001)
    scheduled = next(e for e in first.store.events(rec["executionArn"]) if e["type"] == "TaskScheduled")
    old_token = json.loads(scheduled["taskScheduledEventDetails"]["parameters"])["token"]
    first.store.close()

    second = Runtime(SqliteStore(tmp_path / "data"), clock=ManualClock(clock.now()))
    async with second.running():
        await second.send_success(old_token, {"ok": 1})  # waits for the resumed task, no retry needed
        done = await settle(second, rec["executionArn"])
    assert done["status"] == "SUCCEEDED" and json.loads(done["output"]) == {"ok": 1}


PARALLEL = {"StartAt": "Fan", "States": {
    "Fan": {"Type": "Parallel", "Next": "Done", "Branches": [
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}}},
        {"StartAt": "Q", "States": {"Q": {"Type": "Pass", "Result": "q", "End": True}}}]},
    "Done": {"Type": "Pass", "End": True}}}


async def test_restart_inside_a_parallel_re_enters_the_parallel(tmp_path: Path) -> None:
    clock = ManualClock()
    first = Runtime(SqliteStore(tmp_path / "data"), clock=clock)
    async with first.running():
        rec = first.start(record("par", PARALLEL, clock, '{"p": 1}'), json.dumps(PARALLEL))
        await until_sleeping(clock)
    first.store.close()
    second, done = await resume_after_wait(tmp_path / "data", clock, rec["executionArn"], 60)
    assert done["status"] == "SUCCEEDED" and json.loads(done["output"]) == [{"p": 1}, "q"]
    events = second.store.events(rec["executionArn"])
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert [e["type"] for e in events].count("ParallelStateEntered") == 1
