"""Execution history: events in boto3's GetExecutionHistory shape, numbered as AWS numbers them.

Used by the ASL interpreter and Flows alike. An event is a plain dict::

    {"timestamp": datetime, "type": "PassStateEntered", "id": 2, "previousEventId": 0,
     "stateEnteredEventDetails": {...}}

``History.add`` assigns ids, stamps the clock's time, enforces the 25,000-event limit and
passes each event to an optional ``on_event`` callback (the runtime's store writer).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from engine.clock import Clock
from engine.errors import ErrorName, StatesError

MAX_EVENTS = 25_000
"""AWS: an execution fails once its history would pass 25,000 events."""

MAX_PAYLOAD_BYTES = 256 * 1024
"""AWS: inputs, outputs and results are limited to 256 KiB (UTF-8)."""

NOT_TRUNCATED: dict[str, bool] = {"truncated": False}

HistoryEvent = dict[str, Any]


class HistoryLimitExceeded(StatesError):
    """Raised by ``History.add`` when an execution would exceed MAX_EVENTS."""

    def __init__(self) -> None:
        super().__init__(
            ErrorName.RUNTIME,
            f"The execution reached the maximum number of history events ({MAX_EVENTS}).",
        )


def details_key(event_type: str) -> str:
    """The details member boto3 uses for ``event_type`` (``PassStateEntered`` -> ``stateEnteredEventDetails``)."""
    if event_type.endswith("StateEntered"):
        return "stateEnteredEventDetails"
    if event_type.endswith("StateExited"):
        return "stateExitedEventDetails"
    return event_type[0].lower() + event_type[1:] + "EventDetails"


class History:
    """An append-only event list with AWS's numbering."""

    __slots__ = ("events", "_clock", "_on_event", "limit", "_closing", "_count", "_keep", "last_time")

    def __init__(self, clock: Clock, on_event: Callable[[HistoryEvent], None] | None = None,
                 limit: int = MAX_EVENTS, *, keep: bool = True) -> None:
        self.events: list[HistoryEvent] = []
        self._clock = clock
        self._on_event = on_event
        self.limit = limit
        self._closing = False
        self._count = 0
        self.last_time: datetime | None = None
        """The timestamp of the newest event."""
        self._keep = keep
        """False for a sink that only numbers events (Distributed Map child runs)."""

    @property
    def last_id(self) -> int:
        """The id of the newest event (0 when empty)."""
        return self._count

    def add(self, event_type: str, previous: int, key: str | None = None,
            details: dict[str, Any] | None = None, *, timestamp: datetime | None = None) -> int:
        """Append one event; returns its id. Raises HistoryLimitExceeded past the limit."""
        event_id = self._count + 1
        if event_id >= self.limit and not self._closing:
            # keep one slot for the closing ExecutionFailed event
            raise HistoryLimitExceeded()
        moment = timestamp or self._clock.now()
        self.last_time = moment
        event: HistoryEvent
        if key is None:
            event = {"timestamp": moment, "type": event_type, "id": event_id, "previousEventId": previous}
        else:
            event = {"timestamp": moment, "type": event_type, "id": event_id, "previousEventId": previous,
                     key: details if details is not None else {}}
        self._count = event_id
        if self._keep:
            self.events.append(event)
        if self._on_event is not None:
            self._on_event(event)
        return event_id

    def close(self) -> None:
        """Allow the final event even at the limit."""
        self._closing = True
