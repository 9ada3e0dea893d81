"""Compare one case's recorded AWS answer with what an engine or endpoint produced.

Output-only mode checks status, output, error, cause and the code and message of
create/start/validate errors; full mode adds the history event by event (with the
README's Parallel/Map multiset allowance and ``parallel_sorted`` normalisation) and the
recorded DescribeExecution / StartSyncExecution responses.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks._conformance.cases import Case
from benchmarks._conformance.match import MISSING, Difference, Matcher, drop_ignored, normalise

SEGMENT_STARTS = frozenset({"ParallelStateStarted", "MapStateStarted"})
SEGMENT_ENDS = frozenset({
    "ParallelStateSucceeded", "ParallelStateFailed", "ParallelStateAborted",
    "MapStateSucceeded", "MapStateFailed", "MapStateAborted",
})
_EXECUTION_ENDS = frozenset({"ExecutionSucceeded", "ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"})
_IDS = ("id", "previousEventId")


@dataclass
class Outcome:
    """What a run produced; fields a mode cannot observe stay None (and are not compared)."""

    create_error: dict[str, Any] | None = None
    """``{"code": ..., "message": ...}`` when CreateStateMachine failed."""
    start_error: dict[str, Any] | None = None
    validate: dict[str, Any] | None = None
    status: str | None = None
    output: str | None = None
    """The execution output as JSON text."""
    error: str | None = None
    cause: str | None = None
    history: list[dict[str, Any]] | None = None
    describe_execution: dict[str, Any] | None = None
    sync_response: dict[str, Any] | None = None
    crash: str | None = None
    """The runner or engine raised (a bug, not an AWS answer): one-line summary."""


@dataclass(frozen=True)
class Options:
    """Comparison switches."""

    only_output: bool = False
    strict: bool = False
    """No multiset allowance for Parallel/Map segments."""
    loose_numbers: bool = False
    """Let 1 match 1.0."""


def compare(case: Case, outcome: Outcome, options: Options = Options()) -> Difference | None:
    """The first difference between ``case.expect`` and ``outcome``, or None when it passes."""
    if outcome.crash is not None:
        return Difference("run", "a result", "an exception", outcome.crash)
    matcher = Matcher(case.placeholders, loose_numbers=options.loose_numbers)
    expect = case.expect
    for stage in ("create_error", "start_error"):
        diff = _compare_error(stage, expect.get(stage), getattr(outcome, stage), matcher, options)
        if diff is not None or stage in expect:
            return diff
    if "validate" in expect:
        if outcome.validate is None:
            return Difference("validate", expect["validate"], MISSING, "no response")
        return matcher.match(expect["validate"], normalise(outcome.validate), "validate")
    return _compare_execution(case, outcome, matcher, options)


def _compare_error(stage: str, expected: dict[str, Any] | None, actual: dict[str, Any] | None,
                   matcher: Matcher, options: Options) -> Difference | None:
    if expected is None:
        if actual is None:
            return None
        return Difference(stage, MISSING, actual, "unexpected error")
    if actual is None:
        return Difference(stage, expected, MISSING, "the call succeeded")
    wanted = expected if not options.only_output else {k: expected.get(k) for k in ("code", "message")}
    got = actual if not options.only_output else {k: actual.get(k) for k in ("code", "message")}
    return matcher.match(wanted, got, stage)


def _compare_execution(case: Case, outcome: Outcome, matcher: Matcher, options: Options) -> Difference | None:
    expect = case.expect
    if "status" in expect and outcome.status != expect["status"]:
        return Difference("status", expect["status"], outcome.status, _failure_note(outcome))
    diff = _compare_result_fields(expect, outcome, matcher)
    if diff is not None or options.only_output:
        return diff
    if "history" in expect and outcome.history is not None:
        diff = compare_history(expect["history"], normalise(outcome.history), matcher,
                               sorted_parallel="parallel_sorted" in case.normalisation, strict=options.strict)
        if diff is not None:
            return diff
    for key in ("describe_execution", "sync_response"):
        actual = getattr(outcome, key)
        if key in expect and actual is not None:
            diff = matcher.match(drop_ignored(expect[key]), normalise(actual), key)
            if diff is not None:
                return diff
    return None


def _failure_note(outcome: Outcome) -> str:
    if outcome.error is None and outcome.cause is None:
        return ""
    cause = outcome.cause or ""
    return f"{outcome.error}: {cause[:300]}"


def _compare_result_fields(expect: dict[str, Any], outcome: Outcome, matcher: Matcher) -> Difference | None:
    if "output" in expect:
        actual_output = _parse_output(outcome.output)
        diff = matcher.match(expect["output"], actual_output, "output")
        if diff is not None:
            return diff
    for key in ("error", "cause"):
        if key not in expect:
            continue
        actual = getattr(outcome, key)
        if expect[key] is None:
            if actual is not None:
                return Difference(key, MISSING, actual, "must be absent")
            continue
        if actual is None:
            return Difference(key, expect[key], MISSING, "absent")
        diff = matcher.match(expect[key], normalise({key: actual})[key], key)
        if diff is not None:
            return diff
    return None


def _parse_output(text: str | None) -> Any:
    if text is None:
        return MISSING
    try:
        return json.loads(text)
    except ValueError:
        return text


# -- history -----------------------------------------------------------------------

def segments(events: Sequence[dict[str, Any]]) -> dict[int, int]:
    """Outermost Parallel/Map segments: index of the ``…Started`` event -> index of its closing event.

    A segment left open closes at the execution's terminal event (or the last event).
    """
    found: dict[int, int] = {}
    depth, start = 0, -1
    for index, event in enumerate(events):
        kind = event.get("type")
        if kind in SEGMENT_STARTS:
            if depth == 0:
                start = index
            depth += 1
        elif kind in SEGMENT_ENDS and depth > 0:
            depth -= 1
            if depth == 0:
                found[start] = index
        elif kind in _EXECUTION_ENDS and depth > 0:
            found[start] = index
            depth = 0
    if depth > 0:
        found[start] = len(events) - 1
    return found


def _label(events: Sequence[dict[str, Any]], index: int) -> str:
    event = events[index]
    return f"history[{index}] {event.get('type')} #{event.get('id')}"


def _without_ids(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in event.items() if k not in _IDS}


def compare_history(expected: list[dict[str, Any]], actual: list[dict[str, Any]], matcher: Matcher, *,
                    sorted_parallel: bool = False, strict: bool = False) -> Difference | None:
    """First difference between two normalised histories (README *History*)."""
    if sorted_parallel and not strict:
        return _compare_sorted_parallel(expected, actual, matcher)
    exp_segments = {} if strict else segments(expected)
    act_segments = {} if strict else segments(actual)
    i = j = 0
    while i < len(expected):
        if j >= len(actual):
            return Difference(_label(expected, i), expected[i], MISSING,
                              f"history ends after {len(actual)} events, expected {len(expected)}")
        diff = matcher.match(expected[i], actual[j], _label(expected, i))
        if diff is not None:
            return diff
        if i in exp_segments:
            if j not in act_segments:
                return Difference(_label(expected, i), "a closed segment", MISSING, "unclosed segment")
            end_i, end_j = exp_segments[i], act_segments[j]
            diff = multiset(expected[i + 1:end_i], actual[j + 1:end_j], matcher, f"segment after {_label(expected, i)}")
            if diff is None:
                diff = matcher.match({**expected[end_i], "previousEventId": None},
                                     {**actual[end_j], "previousEventId": None}, _label(expected, end_i))
            if diff is not None:
                return diff
            i, j = end_i, end_j
        i += 1
        j += 1
    if j < len(actual):
        return Difference(f"history[{j}]", MISSING, actual[j],
                          f"{len(actual) - j} extra event(s) after the expected {len(expected)}")
    return None


def multiset(expected: Sequence[dict[str, Any]], actual: Sequence[dict[str, Any]], matcher: Matcher,
             where: str, *, subset: bool = False) -> Difference | None:
    """Events as a multiset, ignoring ids; ``subset`` lets ``actual`` hold extra events."""
    unused = [_without_ids(e) for e in actual]
    taken = [False] * len(unused)
    for index, event in enumerate(expected):
        wanted = _without_ids(event)
        hit = _take(wanted, unused, taken, matcher)
        if hit < 0:
            return _closest(wanted, unused, taken, matcher, f"{where}, expected event {index} {event.get('type')}")
    if not subset and not all(taken):
        extra = unused[taken.index(False)]
        return Difference(where, MISSING, extra,
                          f"{len(actual)} events in segment, expected {len(expected)}")
    return None


def _take(wanted: dict[str, Any], unused: list[dict[str, Any]], taken: list[bool], matcher: Matcher) -> int:
    for index, candidate in enumerate(unused):
        if not taken[index] and candidate.get("type") == wanted.get("type"):
            if matcher.trial(wanted, candidate) is None:
                taken[index] = True
                return index
    return -1


def _closest(wanted: dict[str, Any], unused: list[dict[str, Any]], taken: list[bool], matcher: Matcher,
             where: str) -> Difference:
    same_type = [c for i, c in enumerate(unused) if not taken[i] and c.get("type") == wanted.get("type")]
    if not same_type:
        return Difference(where, wanted, MISSING, "no unmatched event of this type")
    saved = dict(matcher.bindings)
    diff = matcher.match(wanted, same_type[0], where) or Difference(where, wanted, same_type[0])
    matcher.bindings = saved
    return Difference(diff.where, diff.expected, diff.actual,
                      ("no event matches; nearest differs" + (f": {diff.note}" if diff.note else "")))


def _compare_sorted_parallel(expected: list[dict[str, Any]], actual: list[dict[str, Any]],
                             matcher: Matcher) -> Difference | None:
    """``parallel_sorted``: LocalStack reordered (and merged) the events of the Parallel
    segment and set their ids to ``[0]``/0: the prefix and the tail are compared in order,
    the middle as a sub-multiset, and the first tail event's previousEventId is ignored."""
    starts = [i for i, e in enumerate(expected) if e.get("type") == "ParallelStateStarted"]
    sorted_ids = [i for i, e in enumerate(expected) if isinstance(e.get("id"), list)]
    if not starts or not sorted_ids:
        return compare_history(expected, actual, matcher)
    first, last = starts[0], sorted_ids[-1]
    tail = expected[last + 1:]
    if len(actual) < first + 1 + len(tail):
        return Difference("history", f"at least {first + 1 + len(tail)} events", len(actual), "too short")
    diff = compare_history(expected[:first + 1], actual[:first + 1], matcher)
    if diff is not None:
        return diff
    actual_tail = actual[len(actual) - len(tail):]
    diff = multiset(expected[first + 1:last + 1], actual[first + 1:len(actual) - len(tail)], matcher,
                    "sorted Parallel segment", subset=True)
    if diff is not None:
        return diff
    for offset, (exp, act) in enumerate(zip(tail, actual_tail)):
        if offset == 0:
            exp, act = {**exp, "previousEventId": None}, {**act, "previousEventId": None}
        diff = matcher.match(exp, act, _label(expected, last + 1 + offset))
        if diff is not None:
            return diff
    return None
