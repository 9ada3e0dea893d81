"""Clock implementations: ManualClock wakes sleepers in order, ScaledClock skips time."""
from __future__ import annotations

from datetime import timedelta

import anyio

from engine.clock import Clock, ManualClock, ScaledClock, SystemClock


def test_implementations_match_protocol() -> None:
    for clock in (SystemClock(), ScaledClock(0), ManualClock()):
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
