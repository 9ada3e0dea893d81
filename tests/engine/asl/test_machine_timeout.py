"""The machine's TimeoutSeconds counts from the execution's start: a Wait as long as it times out."""
from __future__ import annotations

import anyio
import pytest

from engine.asl import load, run
from engine.clock import ManualClock, ScaledClock


def _machine(wait: int) -> object:
    return load({"TimeoutSeconds": 5, "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": wait, "End": True}}})


@pytest.mark.parametrize(("wait", "status"), [(4, "SUCCEEDED"), (5, "TIMED_OUT"), (6, "TIMED_OUT")])
async def test_scaled_to_zero(wait: int, status: str) -> None:
    result = await run(_machine(wait), "{}", clock=ScaledClock(0))
    assert result.status == status


@pytest.mark.parametrize(("wait", "status"), [(4, "SUCCEEDED"), (5, "TIMED_OUT")])
async def test_manual_clock(wait: int, status: str) -> None:
    clock = ManualClock()
    outcome = {}

    async def execute() -> None:
        outcome["result"] = await run(_machine(wait), "{}", clock=clock)

    async with anyio.create_task_group() as group:
        group.start_soon(execute)
        while clock.pending < 2:  # the timeout's timer and the Wait's
            await anyio.sleep(0)
        await clock.run_until_idle()
    assert outcome["result"].status == status
