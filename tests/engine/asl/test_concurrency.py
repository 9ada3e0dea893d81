"""A running execution costs an anyio task, never a thread (DESIGN: one task per execution).

Executions parked in a Wait (and in Parallel branches / Map iterations, which are child
tasks) on a ManualClock run side by side in one task group; the thread count stays put.
"""
from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from typing import Any

import anyio

from engine.asl import ExecutionResult, load, run
from engine.clock import ManualClock

START = datetime(2024, 1, 1, tzinfo=timezone.utc)
WAIT = {"Type": "Wait", "Seconds": 60, "End": True}
PARKED = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "Next": "Done"},
                                      "Done": {"Type": "Pass", "Parameters": {"n.$": "$.n"}, "End": True}}}
FAN_OUT = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
    {"StartAt": "W", "States": {"W": WAIT}},
    {"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items", "End": True,
                                      "ItemProcessor": {"StartAt": "I", "States": {"I": WAIT}}}}}]}}}


async def _park(definition: dict[str, Any], inputs: list[Any], sleepers: int) -> tuple[list[ExecutionResult], int]:
    """Start every execution, wait until ``sleepers`` tasks sleep on the clock, then advance it.

    Returns the results and the most threads seen while the executions were running."""
    machine = load(json.dumps(definition))
    clock = ManualClock(START)
    results: dict[int, ExecutionResult] = {}
    most_threads = threading.active_count()

    async def one(index: int, value: Any) -> None:
        results[index] = await run(machine, json.dumps(value), clock=clock)

    async with anyio.create_task_group() as group:
        for index, value in enumerate(inputs):
            group.start_soon(one, index, value)
        with anyio.fail_after(10):
            while clock.pending < sleepers:
                await anyio.sleep(0)
                most_threads = max(most_threads, threading.active_count())
        assert clock.pending == sleepers  # every execution is parked, none finished
        assert not results
        await clock.advance(60)
    most_threads = max(most_threads, threading.active_count())
    return [results[i] for i in range(len(inputs))], most_threads


def test_a_thousand_parked_executions_use_no_threads() -> None:
    before = threading.active_count()
    results, most = anyio.run(_park, PARKED, [{"n": i} for i in range(1000)], 1000)
    assert most == before
    assert threading.active_count() == before
    assert [r.status for r in results] == ["SUCCEEDED"] * 1000
    assert [json.loads(r.output) for r in results] == [{"n": i} for i in range(1000)]  # type: ignore[arg-type]
    assert {r.history[-1]["timestamp"] for r in results} == {datetime(2024, 1, 1, 0, 1, tzinfo=timezone.utc)}


def test_branches_and_iterations_are_tasks_too() -> None:
    before = threading.active_count()
    # each execution: one Parallel branch waiting + a Map of 3 iterations waiting = 4 sleepers
    results, most = anyio.run(_park, FAN_OUT, [{"items": [1, 2, 3]}] * 100, 400)
    assert most == before
    assert threading.active_count() == before
    assert {r.status for r in results} == {"SUCCEEDED"}
    assert json.loads(results[0].output) == [{"items": [1, 2, 3]}, [1, 2, 3]]  # type: ignore[arg-type]
