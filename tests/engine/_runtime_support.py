"""Helpers for runtime tests: execution records, waiting on the ManualClock, restarts on SQLite."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio

from engine.clock import ManualClock
from engine.runtime import Runtime, epoch
from engine.store import SqliteStore

MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:m"


def record(name: str, definition: dict[str, Any], clock: ManualClock, input_text: str = "{}") -> dict[str, Any]:
    return {"executionArn": f"arn:aws:states:us-east-1:123456789012:execution:m:{name}", "name": name,
            "stateMachineArn": MACHINE, "input": input_text, "startDate": epoch(clock.now()),
            "definition": json.dumps(definition), "roleArn": "arn:aws:iam::123456789012:role/r", "type": "STANDARD"}


async def settle(runtime: Runtime, arn: str) -> dict[str, Any]:
    with anyio.fail_after(5):
        while runtime.is_running(arn):
            await anyio.sleep(0.001)
    stored = runtime.store.get("execution", arn)
    assert stored is not None
    return stored


async def until_sleeping(clock: ManualClock, count: int = 1) -> None:
    with anyio.fail_after(5):
        while clock.pending < count:
            await anyio.sleep(0.001)


async def resume_after_wait(data: Path, clock: ManualClock, arn: str, seconds: float,
                            **runtime: Any) -> tuple[Runtime, dict[str, Any]]:
    """Start a second runtime on ``data`` at ``clock``'s time, let the resumed execution's Wait of
    ``seconds`` pass, and return the runtime and the execution's final record."""
    second = Runtime(SqliteStore(data), clock=ManualClock(clock.now()), **runtime)
    async with second.running():
        await until_sleeping(second.clock)  # type: ignore[arg-type]
        await second.clock.advance(seconds)  # type: ignore[attr-defined]
        done = await settle(second, arn)
    return second, done
