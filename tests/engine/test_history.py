"""engine.history: ids, details keys, the event limit."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from engine.clock import ManualClock
from engine.history import History, HistoryLimitExceeded, details_key

START = datetime(2024, 1, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize(("event_type", "key"), [
    ("PassStateEntered", "stateEnteredEventDetails"),
    ("MapStateExited", "stateExitedEventDetails"),
    ("ExecutionStarted", "executionStartedEventDetails"),
    ("MapIterationStarted", "mapIterationStartedEventDetails"),
    ("TaskScheduled", "taskScheduledEventDetails"),
])
def test_details_key(event_type: str, key: str) -> None:
    assert details_key(event_type) == key


def test_add_numbers_and_stamps() -> None:
    seen: list[dict[str, object]] = []
    history = History(ManualClock(START), seen.append)
    first = history.add("ExecutionStarted", 0, "executionStartedEventDetails", {"input": "{}"})
    second = history.add("MapStateSucceeded", first)
    assert (first, second, history.last_id) == (1, 2, 2)
    assert history.events[0] == {"timestamp": START, "type": "ExecutionStarted", "id": 1, "previousEventId": 0,
                                 "executionStartedEventDetails": {"input": "{}"}}
    assert "mapStateSucceededEventDetails" not in history.events[1]
    assert seen == history.events


def test_limit_keeps_room_for_the_closing_event() -> None:
    history = History(ManualClock(START), limit=3)
    history.add("A", 0)
    history.add("B", 1)
    with pytest.raises(HistoryLimitExceeded):
        history.add("C", 2)
    history.close()
    assert history.add("ExecutionFailed", 2) == 3


def test_sink_numbers_without_keeping() -> None:
    history = History(ManualClock(START), keep=False)
    assert history.add("A", 0) == 1 and history.add("B", 1) == 2
    assert history.events == [] and history.last_id == 2 and history.last_time == START
