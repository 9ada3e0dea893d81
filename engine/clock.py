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
import anyio.lowlevel


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

    A timer due earlier in scaled time fires first. Timers due together (at scale 0: all of
    them) fire one at a time in the order unscaled time would fire them, each after the
    others had a few scheduling rounds to register theirs; ``now()`` then moves to the firing
    timer's unscaled deadline, so a 1-hour Wait at scale 0 ends with ``now()`` one hour
    later and a 5 s machine timeout fires before a 60 s Wait in that machine.
    """

    SETTLE_ROUNDS = 5
    """Scheduling rounds a due timer lets other tasks run before it may fire."""

    def __init__(self, scale: float = 0.0) -> None:
        self.scale = scale
        self._offset = 0.0
        self._due: list[tuple[datetime, int, _Timer]] = []
        self._seq = itertools.count()

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + timedelta(seconds=self._offset)

    async def sleep(self, seconds: float) -> None:
        seconds = max(0.0, seconds)
        deadline = self.now() + timedelta(seconds=seconds)
        await anyio.sleep(seconds * self.scale)
        timer = _Timer()
        heapq.heappush(self._due, (deadline, next(self._seq), timer))
        try:
            while True:
                for _ in range(self.SETTLE_ROUNDS):
                    await anyio.lowlevel.checkpoint()
                if self._head() is timer:
                    break
                await timer.turn.wait()
                timer.turn = anyio.Event()
        except BaseException:  # cancelled (a timeout fired, StopExecution): give up the turn
            timer.gone = True
            self._wake_head()
            raise
        heapq.heappop(self._due)
        skipped = (deadline - datetime.now(timezone.utc)).total_seconds()
        self._offset = max(self._offset, skipped)
        self._wake_head()

    @property
    def pending(self) -> int:
        """How many due timers wait for their turn."""
        return sum(1 for _, _, timer in self._due if not timer.gone)

    def _head(self) -> _Timer | None:
        while self._due and self._due[0][2].gone:
            heapq.heappop(self._due)
        return self._due[0][2] if self._due else None

    def _wake_head(self) -> None:
        head = self._head()
        if head is not None:
            head.turn.set()


class _Timer:
    """A ScaledClock sleeper whose scaled time is up, waiting for its turn to fire."""

    __slots__ = ("turn", "gone")

    def __init__(self) -> None:
        self.turn = anyio.Event()
        self.gone = False


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
