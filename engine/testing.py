"""Test helpers: clocks that skip or speed up time, and the statesim pytest fixtures' machinery.

``SkippingClock`` makes Wait states and Retry intervals finish at once (time jumps to the
earliest sleeper's deadline) but never while a Task is running (``hold``), so timeouts and
heartbeats of running tasks and callbacks stay real. ``AcceleratedClock`` runs all time
uniformly faster. The pytest fixtures themselves live in ``statesim_pytest``.
"""
from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import anyio
import anyio.lowlevel

from engine.tasks.registry import held


class SkippingClock:
    """Real time, except that when no Task is running the earliest sleeper jumps time to its deadline."""

    def __init__(self, tick: float = 0.002) -> None:
        self.tick = tick
        self._offset = 0.0
        self._holds = 0
        self._sleepers: list[tuple[datetime, int]] = []
        self._gone: set[int] = set()
        self._seq = itertools.count()

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + timedelta(seconds=self._offset)

    @property
    def skipped(self) -> float:
        """Seconds of clock time skipped so far."""
        return self._offset

    @contextmanager
    def hold(self) -> Iterator[None]:
        """No skipping inside (a Task is running: its timeouts and heartbeats follow real time)."""
        self._holds += 1
        try:
            yield
        finally:
            self._holds -= 1

    def _earliest(self) -> tuple[datetime, int] | None:
        while self._sleepers and self._sleepers[0][1] in self._gone:
            self._gone.discard(heapq.heappop(self._sleepers)[1])
        return self._sleepers[0] if self._sleepers else None

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await anyio.lowlevel.checkpoint()
            return
        key = (self.now() + timedelta(seconds=seconds), next(self._seq))
        heapq.heappush(self._sleepers, key)
        try:
            while True:
                remaining = (key[0] - self.now()).total_seconds()
                if remaining <= 0:
                    return
                if self._holds == 0 and self._earliest() == key:
                    self._offset += remaining
                    return
                await anyio.sleep(min(self.tick, remaining))
        finally:
            self._gone.add(key[1])


class AcceleratedClock:
    """All time runs ``speed`` times faster (coherent for any number of concurrent sleepers)."""

    def __init__(self, speed: float = 50.0) -> None:
        self.speed = speed
        self._start = datetime.now(timezone.utc)
        self._mono = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=(time.monotonic() - self._mono) * self.speed)

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(max(0.0, seconds) / self.speed)


__all__ = ["AcceleratedClock", "SkippingClock", "held"]
