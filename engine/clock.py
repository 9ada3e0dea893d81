"""Time for the whole engine: one Clock protocol, three implementations.

Wait states, Retry intervals, timeouts and heartbeats read ``now()`` and ``sleep()``
through one clock object, so tests can skip time (ManualClock; ScaledClock(0), which the
pytest plugin runs on) or scale it (ScaledClock, like Step Functions Local's WAIT_TIME_SCALE).
"""
from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
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


_HOLD_DEPTH: ContextVar[int] = ContextVar("statesim_hold_depth", default=0)


class ScaledClock:
    """Time ``1 / scale`` times faster than real time; ``scale`` 0 skips waiting entirely.

    ``scale`` > 0: one uniform timeline, ``now()`` runs ``1 / scale`` times faster than the wall
    clock from the clock's creation and a sleep of ``s`` seconds lasts ``s * scale`` real
    seconds, so any number of concurrent sleepers (heartbeats, timeouts, Waits in parallel
    branches) see coherent timestamps and every timer ends at its deadline.

    ``scale`` 0: no timeline can run infinitely fast, so ``now()`` is real time plus the time
    skipped so far. Timers fire one at a time in the order unscaled time would fire them, each
    after the others had a few scheduling rounds to register theirs; ``now()`` then moves to the
    firing timer's deadline (never back), so a 1-hour Wait ends with ``now()`` one hour later and
    a 5 s machine timeout fires before a 60 s Wait in that machine. Nothing skips while a Task
    runs (:meth:`hold`, taken by the task integrations): its timeouts and heartbeats, and every
    other timer meanwhile, follow real time, so a Task that takes real time never times out at once.
    """

    SETTLE_ROUNDS = 5
    """Scheduling rounds a due timer lets other tasks run before it may fire."""

    def __init__(self, scale: float = 0.0) -> None:
        if not scale >= 0:
            raise ValueError(f"the time scale must be 0 or more, not {scale}")
        self.scale = scale
        self._offset = 0.0
        self._start = datetime.now(timezone.utc)
        self._mono = time.monotonic()
        self._due: list[tuple[datetime, int, _Timer]] = []
        self._seq = itertools.count()
        self._holds = 0
        self._idle: anyio.Event | None = None  # set when the last hold ends

    def now(self) -> datetime:
        if self.scale:
            return self._start + timedelta(seconds=(time.monotonic() - self._mono) / self.scale)
        return datetime.now(timezone.utc) + timedelta(seconds=self._offset)

    @property
    def skipped(self) -> float:
        """Seconds of clock time skipped so far (scale 0)."""
        return self._offset

    async def sleep(self, seconds: float) -> None:
        seconds = max(0.0, seconds)
        if self.scale:
            await self._sleep_scaled(seconds)
            return
        deadline = self.now() + timedelta(seconds=seconds)
        await anyio.lowlevel.checkpoint()
        timer = _Timer()
        heapq.heappush(self._due, (deadline, next(self._seq), timer))
        try:
            while not await self._may_fire(timer, deadline):
                pass
        except BaseException:  # cancelled (a timeout fired, StopExecution): give up the turn
            timer.gone = True
            self._wake_head()
            raise
        heapq.heappop(self._due)
        skipped = (deadline - datetime.now(timezone.utc)).total_seconds()
        self._offset = max(self._offset, skipped)
        self._wake_head()

    async def _may_fire(self, timer: _Timer, deadline: datetime) -> bool:
        for _ in range(self.SETTLE_ROUNDS):
            await anyio.lowlevel.checkpoint()
        if self._head() is not timer:
            await timer.turn.wait()
            timer.turn = anyio.Event()
            return False
        remaining = (deadline - self.now()).total_seconds()
        if self._holds == 0 or remaining <= 0:
            return True
        if self._idle is None:  # a Task runs: wait in real time, or until no Task runs
            self._idle = anyio.Event()
        with anyio.move_on_after(remaining):
            await self._idle.wait()
        return False

    async def _sleep_scaled(self, seconds: float) -> None:
        # The event loop may wake a sleeper a hair early: sleep on until the deadline has passed.
        until = time.monotonic() + seconds * self.scale
        while (left := until - time.monotonic()) > 0:
            await anyio.sleep(left)
        await anyio.lowlevel.checkpoint()

    @contextmanager
    def hold(self) -> Iterator[None]:
        """No skipping inside (a Task is running: its timeouts and heartbeats follow real time).

        Re-entrant per task: nested holds of one task count once, so :meth:`release` undoes it.
        """
        depth = _HOLD_DEPTH.get()
        token = _HOLD_DEPTH.set(depth + 1)
        if depth == 0:
            self._holds += 1
        try:
            yield
        finally:
            _HOLD_DEPTH.reset(token)
            if depth == 0:
                self._unhold()

    @contextmanager
    def release(self) -> Iterator[None]:
        """Undo this task's hold inside (a task waiting for a nested execution lets that one skip time)."""
        if _HOLD_DEPTH.get() == 0:
            yield
            return
        token = _HOLD_DEPTH.set(0)
        self._unhold()
        try:
            yield
        finally:
            self._holds += 1
            _HOLD_DEPTH.reset(token)

    def _unhold(self) -> None:
        self._holds -= 1
        if self._holds == 0 and self._idle is not None:
            self._idle.set()
            self._idle = None

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
