"""Clock implementations: ManualClock wakes sleepers in order, ScaledClock scales or skips time."""
from __future__ import annotations

import time
from datetime import timedelta

import anyio
import anyio.lowlevel
import pytest

from engine.clock import Clock, ManualClock, ScaledClock, SystemClock


def test_implementations_match_protocol() -> None:
    for clock in (SystemClock(), ScaledClock(0), ScaledClock(0.5), ManualClock()):
        assert isinstance(clock, Clock)


async def test_manual_clock_wakes_in_deadline_order() -> None:
    clock = ManualClock()
    start = clock.now()
    woke: list[str] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append(f"{name}@{(clock.now() - start).total_seconds():g}")

    async with anyio.create_task_group() as tg:
        tg.start_soon(sleeper, "late", 3600)
        tg.start_soon(sleeper, "early", 10)
        await anyio.wait_all_tasks_blocked()
        assert clock.pending == 2
        await clock.advance(5)
        assert woke == []
        await clock.advance(3600)
    assert woke == ["early@10", "late@3600"]
    assert clock.now() - start == timedelta(seconds=3605)


async def test_scaled_clock_zero_skips_and_moves_now() -> None:
    clock = ScaledClock(0)
    before = clock.now()
    with anyio.fail_after(1):
        await clock.sleep(3600)
    assert clock.now() - before >= timedelta(seconds=3600)


async def test_scaled_clock_zero_fires_due_timers_in_unscaled_order() -> None:
    clock = ScaledClock(0)
    start = clock.now()
    woke: list[str] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append(f"{name}@{round((clock.now() - start).total_seconds())}")

    with anyio.fail_after(1):
        async with anyio.create_task_group() as tg:
            tg.start_soon(sleeper, "late", 3600)  # registered first, due later
            tg.start_soon(sleeper, "early", 10)
            tg.start_soon(sleeper, "middle", 60)
    assert woke == ["early@10", "middle@60", "late@3600"]
    assert clock.pending == 0


async def test_scaled_clock_cancelled_timer_gives_up_its_turn() -> None:
    clock = ScaledClock(0)
    start = clock.now()
    woke: list[str] = []
    scope = anyio.CancelScope()

    async def early() -> None:
        with scope:
            await clock.sleep(5)
            woke.append("early")

    async def late() -> None:
        await clock.sleep(60)
        woke.append(f"late@{round((clock.now() - start).total_seconds())}")

    with anyio.fail_after(1):
        async with anyio.create_task_group() as tg:
            tg.start_soon(early)
            tg.start_soon(late)
            await anyio.lowlevel.checkpoint()
            scope.cancel()  # before its turn: the 5 s never passes
    assert woke == ["late@60"]


async def test_scaled_clock_earlier_in_scaled_time_fires_first() -> None:
    clock = ScaledClock(0.01)
    woke: list[str] = []

    async def sleeper(name: str, seconds: float, after: float) -> None:
        await anyio.sleep(after)
        await clock.sleep(seconds)
        woke.append(name)

    with anyio.fail_after(2):
        async with anyio.create_task_group() as tg:
            tg.start_soon(sleeper, "ten", 10, 0)  # due at 0.10 s real, 10 s scaled
            tg.start_soon(sleeper, "nine", 9, 0.08)  # due at 0.17 s real, 17 s scaled
    assert woke == ["ten", "nine"]


def _wait_machine(wait: int, timeout: int) -> dict[str, object]:
    return {"StartAt": "W", "TimeoutSeconds": timeout, "States": {
        "W": {"Type": "Wait", "Seconds": wait, "Next": "P"}, "P": {"Type": "Pass", "End": True}}}


async def test_scaled_clock_zero_machine_timeout_against_a_wait() -> None:
    from engine import asl

    def ended(result: asl.ExecutionResult) -> tuple[str, str, int]:
        last = result.history[-1]
        return result.status, last["type"], round((last["timestamp"] - result.history[0]["timestamp"]).total_seconds())

    with anyio.fail_after(2):
        # AWS (v2/timeouts/test_timeouts.py::TestTimeouts::test_global_timeout): a 60 s Wait
        # under a 5 s TimeoutSeconds times the execution out after 5 s
        timed_out = await asl.run(asl.load(_wait_machine(60, 5)), "{}", clock=ScaledClock(0))
        succeeded = await asl.run(asl.load(_wait_machine(5, 60)), "{}", clock=ScaledClock(0))
    assert ended(timed_out) == ("TIMED_OUT", "ExecutionTimedOut", 5)
    assert ended(succeeded) == ("SUCCEEDED", "ExecutionSucceeded", 5)


async def test_scaled_clock_zero_parallel_waits_end_in_unscaled_order() -> None:
    from engine import asl

    branches = [{"StartAt": name, "States": {name: {"Type": "Wait", "Seconds": seconds, "End": True}}}
                for name, seconds in (("Ten", 10), ("Five", 5))]
    machine = asl.load({"StartAt": "F", "States": {"F": {"Type": "Parallel", "Branches": branches, "End": True}}})
    with anyio.fail_after(2):
        result = await asl.run(machine, "{}", clock=ScaledClock(0))
    start = result.history[0]["timestamp"]
    exits = [(e["stateExitedEventDetails"]["name"], round((e["timestamp"] - start).total_seconds()))
             for e in result.history if e["type"] == "WaitStateExited"]
    assert exits == [("Five", 5), ("Ten", 10)]


async def test_scaled_clock_keeps_one_timeline_for_concurrent_sleepers() -> None:
    # Each sleeper wakes at its own deadline however many others sleep alongside: a 0.5 s
    # chain of short sleeps does not push the clock past a long sleeper's deadline.
    clock = ScaledClock(1 / 1000)
    start = clock.now()
    woke: dict[str, float] = {}

    async def chain() -> None:
        for _ in range(50):
            await clock.sleep(10)
        woke["chain"] = (clock.now() - start).total_seconds()

    async def long() -> None:
        await clock.sleep(250)
        woke["long"] = (clock.now() - start).total_seconds()

    with anyio.fail_after(2):
        async with anyio.create_task_group() as tg:
            tg.start_soon(chain)
            tg.start_soon(long)
    assert 250 <= woke["long"] < 300
    assert 500 <= woke["chain"] < 600


def test_scaled_clock_rejects_a_negative_scale() -> None:
    with pytest.raises(ValueError):
        ScaledClock(-1)


def test_scaled_clock_zero_skips_in_order_but_not_while_held() -> None:
    clock = ScaledClock(0)
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, round(clock.skipped)))

    async def main() -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(sleeper, "long", 7200)
            group.start_soon(sleeper, "short", 3600)
        with clock.hold():
            with anyio.move_on_after(0.05):
                await clock.sleep(600)
            await clock.sleep(0.02)  # real time while held
        assert round(clock.skipped) == 7200  # nothing skipped while held

    started = time.monotonic()
    anyio.run(main)
    assert woke == [("short", 3600), ("long", 7200)]
    assert time.monotonic() - started < 1


async def test_scaled_clock_zero_skips_again_when_the_hold_ends() -> None:
    clock = ScaledClock(0)
    start = clock.now()

    async def held_task() -> None:
        with clock.hold():
            await anyio.sleep(0.05)  # a Task taking real time

    with anyio.fail_after(1):
        async with anyio.create_task_group() as group:
            group.start_soon(held_task)
            await anyio.lowlevel.checkpoint()
            await clock.sleep(3600)  # waits for the hold to end, then skips
    assert 3600 <= (clock.now() - start).total_seconds() < 3601


async def test_scaled_clock_zero_release_lets_a_nested_run_skip() -> None:
    clock = ScaledClock(0)
    with anyio.fail_after(1):
        with clock.hold():
            with clock.release():
                await clock.sleep(3600)
    assert round(clock.skipped) == 3600


def test_scaled_clock_zero_a_task_taking_real_time_does_not_time_out() -> None:
    # `statesim serve --wait-time-scale 0`: a 60 s TimeoutSeconds must not fire while a 0.1 s task runs.
    from engine import asl
    from engine.tasks.builtin import with_builtins
    from engine.tasks.registry import TaskRegistry

    registry = TaskRegistry()

    async def slow(event: object) -> str:
        await anyio.sleep(0.1)
        return "done"

    registry.register("arn:aws:lambda:*:*:function:slow", slow)
    definition = {"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:slow", "TimeoutSeconds": 60,
        "Next": "W"}, "W": {"Type": "Wait", "Seconds": 3600, "End": True}}}
    started = time.monotonic()
    result = asl.run_sync(definition, "{}", registry=with_builtins(registry), clock=ScaledClock(0))
    assert (result.status, result.output) == ("SUCCEEDED", '"done"')
    assert time.monotonic() - started < 1
