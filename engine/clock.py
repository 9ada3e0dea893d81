"""Time for the whole engine: one Clock protocol, three implementations.

Wait states, Retry intervals, timeouts and heartbeats read ``now()`` and ``sleep()``
through one clock object, so tests can skip time (ManualClock) or scale it
(ScaledClock, like Step Functions Local's WAIT_TIME_SCALE).
"""
from __future__ import annotations

import heapq
import itertools
import time
from datetime import datetime, timedelta, timezone
from typing import Protocol, runtime_checkable

import anyio


@runtime_checkable
class Clock(Protocol):
    """What the engine needs from time."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Suspend the calling task for ``seconds`` of this clock's time."""
        ...


class SystemClock:
    """Real time."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(max(0.0, seconds))


class ScaledClock:
    """Real time, but sleeps last ``seconds * scale`` (0 skips waiting entirely).

    ``now()`` advances by the scaled-away time too, so a 1-hour Wait at scale 0 ends
    with ``now()`` one hour later, as the definition expects.
    """

    def __init__(self, scale: float = 0.0) -> None:
        self.scale = scale
        self._skipped = 0.0

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + timedelta(seconds=self._skipped)

    async def sleep(self, seconds: float) -> None:
        seconds = max(0.0, seconds)
        self._skipped += seconds * (1.0 - self.scale)
        await anyio.sleep(seconds * self.scale)


class ManualClock:
    """Time that moves only when a test calls ``advance()``; sleepers wake in order."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2024, 1, 1, tzinfo=timezone.utc)
        self._sleepers: list[tuple[datetime, int, anyio.Event]] = []
        self._seq = itertools.count()

    def now(self) -> datetime:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await anyio.lowlevel.checkpoint()
            return
        event = anyio.Event()
        heapq.heappush(self._sleepers, (self._now + timedelta(seconds=seconds), next(self._seq), event))
        await event.wait()

    @property
    def pending(self) -> int:
        """How many tasks are asleep on this clock."""
        return len(self._sleepers)

    def next_wakeup(self) -> datetime | None:
        """When the earliest sleeper wakes, or None."""
        return self._sleepers[0][0] if self._sleepers else None

    async def advance(self, seconds: float) -> None:
        """Move time forward, waking every sleeper whose deadline has come, in order."""
        target = self._now + timedelta(seconds=seconds)
        while self._sleepers and self._sleepers[0][0] <= target:
            when, _, event = heapq.heappop(self._sleepers)
            self._now = max(self._now, when)
            event.set()
            for _ in range(5):
                await anyio.lowlevel.checkpoint()
        self._now = target

    async def run_until_idle(self, limit: float = 10 * 365 * 86400.0) -> None:
        """Advance to each next wake-up until nobody sleeps (bounded by ``limit`` seconds)."""
        start = self._now
        while self._sleepers and (self._sleepers[0][0] - start).total_seconds() <= limit:
            await self.advance((self._sleepers[0][0] - self._now).total_seconds())


def monotonic() -> float:
    """Monotonic seconds for measuring durations (never for ASL time)."""
    return time.monotonic()
