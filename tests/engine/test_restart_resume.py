"""A restart inside a top-level inline Map or Parallel keeps the iterations/branches that ended.

The history is cut before the first event of the first unfinished iteration/branch; the Map
or Parallel goes on without being entered again, so every event stays written once.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from engine.clock import ManualClock
from engine.runtime import Runtime
from engine.store import SqliteStore
from engine.tasks.registry import TaskRegistry
from tests.engine._runtime_support import record, resume_after_wait, until_sleeping

WORK = "arn:aws:lambda:us-east-1:123456789012:function:work"


def registry(calls: Counter[int]) -> TaskRegistry:
    tasks = TaskRegistry()

    def work(item: Any) -> Any:
        calls[item["n"]] += 1
        return item

    tasks.register(WORK, work)
    return tasks


ITERATION = {"StartAt": "Work", "States": {
    "Work": {"Type": "Task", "Resource": WORK, "Next": "Gate"},
    "Gate": {"Type": "Choice", "Choices": [{"Variable": "$.hold", "BooleanEquals": True, "Next": "Hold"}],
             "Default": "Done"},
    "Hold": {"Type": "Wait", "Seconds": 60, "Next": "Done"},
    "Done": {"Type": "Pass", "Parameters": {"n.$": "$.n"}, "End": True}}}
MAP = {"StartAt": "Each", "States": {"Each": {"Type": "Map", "MaxConcurrency": 1, "End": True,
                                              "ItemProcessor": ITERATION}}}
ITEMS = json.dumps([{"n": 0, "hold": False}, {"n": 1, "hold": False}, {"n": 2, "hold": True}])


async def test_restart_inside_a_map_keeps_the_iterations_that_ended(tmp_path: Path) -> None:
    calls: Counter[int] = Counter()
    clock = ManualClock()
    first = Runtime(SqliteStore(tmp_path / "data"), clock=clock, registry=registry(calls))
    async with first.running():
        rec = first.start(record("map", MAP, clock, ITEMS), json.dumps(MAP))
        await until_sleeping(clock)  # iteration 2 waits in Hold
    before = first.store.events(rec["executionArn"])
    first.store.close()
    assert calls == {0: 1, 1: 1, 2: 1}

    second, done = await resume_after_wait(tmp_path / "data", clock, rec["executionArn"], 60, registry=registry(calls))
    assert done["status"] == "SUCCEEDED", done
    assert json.loads(done["output"]) == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert calls == {0: 1, 1: 1, 2: 2}  # iterations 0 and 1 ended before the restart: not run again
    events = second.store.events(rec["executionArn"])
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    types = [e["type"] for e in events]
    assert types.count("MapStateEntered") == 1 and types.count("MapStateStarted") == 1
    assert [e["mapIterationStartedEventDetails"]["index"] for e in events if e["type"] == "MapIterationStarted"] \
        == [0, 1, 2]
    kept = [e for e in before if e["type"] != "MapIterationStarted" or
            e["mapIterationStartedEventDetails"]["index"] < 2]
    cut = next(e["id"] for e in before if e["type"] == "MapIterationStarted"
               and e["mapIterationStartedEventDetails"]["index"] == 2)
    assert events[:cut - 1] == [e for e in kept if e["id"] < cut]
    started = next(e["id"] for e in events if e["type"] == "MapStateStarted")
    assert events[cut - 1]["type"] == "MapIterationStarted" and events[cut - 1]["previousEventId"] == started
    assert types[-3:] == ["MapStateSucceeded", "MapStateExited", "ExecutionSucceeded"]


PARALLEL = {"StartAt": "Fan", "States": {"Fan": {"Type": "Parallel", "End": True, "Branches": [
    {"StartAt": "Quick", "States": {"Quick": {"Type": "Pass", "Result": "q", "End": True}}},
    {"StartAt": "Slow", "States": {"Slow": {"Type": "Task", "Resource": WORK, "Next": "Hold"},
                                   "Hold": {"Type": "Wait", "Seconds": 60, "End": True}}}]}}}


async def test_restart_inside_a_parallel_keeps_a_branch_that_ended_first(tmp_path: Path) -> None:
    calls: Counter[int] = Counter()
    clock = ManualClock()
    first = Runtime(SqliteStore(tmp_path / "data"), clock=clock, registry=registry(calls))
    async with first.running():
        rec = first.start(record("par", PARALLEL, clock, '{"n": 7}'), json.dumps(PARALLEL))
        await until_sleeping(clock)
    first.store.close()
    second, done = await resume_after_wait(tmp_path / "data", clock, rec["executionArn"], 60, registry=registry(calls))
    assert done["status"] == "SUCCEEDED", done
    assert json.loads(done["output"]) == ["q", {"n": 7}]
    events = second.store.events(rec["executionArn"])
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    types = [e["type"] for e in events]
    assert types.count("ParallelStateEntered") == 1 and types.count("ParallelStateStarted") == 1
    # the Quick branch ended before the Slow one began: kept (written once), Slow runs again
    assert [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e] == [
        "Fan", "Quick", "Slow", "Hold"]
    assert calls[7] == 2


ASSIGNED = {"StartAt": "Set", "States": {
    "Set": {"Type": "Pass", "Assign": {"kept": {"v": 1}}, "Next": "Hold"},
    "Hold": {"Type": "Wait", "Seconds": 60, "Next": "Use"},
    "Use": {"Type": "Pass", "Parameters": {"kept.$": "$kept"}, "End": True}}}


async def test_restart_keeps_assigned_variables(tmp_path: Path) -> None:
    clock = ManualClock()
    first = Runtime(SqliteStore(tmp_path / "data"), clock=clock)
    async with first.running():
        rec = first.start(record("vars", ASSIGNED, clock, "{}"), json.dumps(ASSIGNED))
        await until_sleeping(clock)
    first.store.close()
    second, done = await resume_after_wait(tmp_path / "data", clock, rec["executionArn"], 60)
    assert done["status"] == "SUCCEEDED", done
    assert json.loads(done["output"]) == {"kept": {"v": 1}}
