"""AWS behaviour changes over time: the ONE table of them, and which apply "as of" a date.

AWS changes details of Step Functions without a new API version (history numbering, for
one). statesim emulates the newest behaviour by default; ``engine.asl.run(..., aws_as_of=d)``
emulates AWS as it was on date ``d`` (the conformance runner passes each recorded case's
date, since a recording shows AWS as of that day).

    changes = compat.in_effect(date(2024, 6, 1))     # frozenset of change names
    if compat.MAP_STATE_EXITED_AFTER_MAP_RUN_STARTED in changes: ...

Each entry says when AWS changed, what changed, and the evidence: the recording dates
showing the old and the new behaviour. AWS does not announce such changes, so ``since`` is
the first date a recording shows the new behaviour; it changed on or before that day
(and after the last "before" date).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class Change:
    """One AWS behaviour change."""

    name: str
    since: date
    """The new behaviour applies to executions on or after this date."""
    what: str
    before: tuple[date, ...]
    """Dates of recordings showing the old behaviour."""
    after: tuple[date, ...]
    """Dates of recordings showing the new behaviour."""


MAP_STATE_EXITED_AFTER_MAP_RUN_STARTED = "map-state-exited-after-map-run-started"

CHANGES: tuple[Change, ...] = (
    Change(
        name=MAP_STATE_EXITED_AFTER_MAP_RUN_STARTED,
        since=date(2024, 11, 15),
        what=("Distributed Map that succeeds: MapStateExited.previousEventId points at MapRunStarted "
              "(it pointed at MapRunSucceeded before). MapStateSucceeded still points at MapRunSucceeded."),
        before=(date(2024, 2, 8), date(2024, 5, 3), date(2024, 6, 19)),
        after=(date(2024, 11, 15), date(2024, 12, 13), date(2025, 1, 9)),
    ),
)

_BY_NAME = {change.name: change for change in CHANGES}
LATEST: frozenset[str] = frozenset(_BY_NAME)
"""Every change: today's AWS behaviour."""


def in_effect(as_of: date | None = None) -> frozenset[str]:
    """Names of the changes AWS had made by ``as_of`` (None = today's behaviour: all of them)."""
    if as_of is None:
        return LATEST
    if isinstance(as_of, datetime):
        as_of = as_of.date()
    return frozenset(change.name for change in CHANGES if as_of >= change.since)


def parse_date(text: str) -> date | None:
    """``YYYY-MM-DD`` -> date; ``latest`` -> None (today's behaviour). ValueError otherwise."""
    if text.strip().lower() == "latest":
        return None
    return date.fromisoformat(text.strip())
