"""engine.asl.compat: emulating AWS "as of" a date (history numbering changes)."""
from __future__ import annotations

import json
from datetime import date, datetime, timezone
from typing import Any

import pytest

from engine.asl import compat, run_sync
from engine.clock import ManualClock

START = datetime(2024, 1, 1, tzinfo=timezone.utc)

DISTRIBUTED = {"StartAt": "M", "States": {"M": {
    "Type": "Map", "MaxConcurrency": 1, "Label": "L", "Next": "After",
    "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                      "StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}}},
    "After": {"Type": "Pass", "End": True}}}

BEFORE = [(1, 0, "ExecutionStarted"), (2, 0, "MapStateEntered"), (3, 2, "MapStateStarted"),
          (4, 3, "MapRunStarted"), (5, 4, "MapRunSucceeded"), (6, 5, "MapStateSucceeded"),
          (7, 5, "MapStateExited"), (8, 7, "PassStateEntered"), (9, 8, "PassStateExited"),
          (10, 9, "ExecutionSucceeded")]
# since late 2024 MapStateExited points at MapRunStarted; MapStateSucceeded is unchanged
AFTER = [*BEFORE[:6], (7, 4, "MapStateExited"), *BEFORE[7:]]


def _brief(history: list[dict[str, Any]]) -> list[tuple[int, int, str]]:
    return [(e["id"], e["previousEventId"], e["type"]) for e in history]


def _history(**kw: Any) -> list[tuple[int, int, str]]:
    result = run_sync(DISTRIBUTED, "[1, 2]", clock=ManualClock(START), **kw)
    assert result.status == "SUCCEEDED"
    assert result.output == "[1,2]"
    return _brief(result.history)


@pytest.mark.parametrize(("as_of", "expected"), [
    (date(2024, 2, 8), BEFORE), (date(2024, 6, 19), BEFORE), (date(2024, 11, 14), BEFORE),
    (date(2024, 11, 15), AFTER), (date(2025, 1, 9), AFTER), (date(2026, 11, 23), AFTER),
    (datetime(2024, 6, 19, 12, 39, tzinfo=timezone.utc), BEFORE),
])
def test_distributed_map_numbering_as_of(as_of: date, expected: list[tuple[int, int, str]]) -> None:
    assert _history(aws_as_of=as_of) == expected


def test_default_is_latest() -> None:
    assert _history() == AFTER
    assert _history(aws_as_of=None) == AFTER
    assert compat.in_effect() == compat.in_effect(None) == compat.LATEST
    assert compat.in_effect(date.max) == compat.LATEST


def test_in_effect() -> None:
    name = compat.MAP_STATE_EXITED_AFTER_MAP_RUN_STARTED
    assert name not in compat.in_effect(date(2024, 11, 14))
    assert name in compat.in_effect(date(2024, 11, 15))
    assert compat.in_effect(date.min) == frozenset()


def test_table_entries_are_well_formed() -> None:
    names = [change.name for change in compat.CHANGES]
    assert len(names) == len(set(names))
    for change in compat.CHANGES:
        assert change.what
        assert change.before and change.after, "every change cites recordings of both behaviours"
        assert max(change.before) < change.since <= min(change.after)


def test_parse_date() -> None:
    assert compat.parse_date("latest") is None
    assert compat.parse_date("2024-06-01") == date(2024, 6, 1)
    with pytest.raises(ValueError):
        compat.parse_date("June")


def test_inline_map_does_not_change() -> None:
    inline = json.loads(json.dumps(DISTRIBUTED))
    inline["States"]["M"]["ItemProcessor"]["ProcessorConfig"] = {"Mode": "INLINE"}
    old = run_sync(inline, "[1]", clock=ManualClock(START), aws_as_of=date(2024, 1, 1))
    assert _brief(old.history) == _brief(run_sync(inline, "[1]", clock=ManualClock(START)).history)
