"""Where a redriven execution picks up, read from its history (AWS's RedriveExecution rules).

AWS re-enters the state that did not complete (a ``<Type>StateEntered`` without its
``<Type>StateExited``) with the input it had. Inside an inline Map or a Parallel, only the
iterations/branches that failed or were aborted run again, each from the state where it
stopped; the results of the successful ones are kept and are not run again.

    plan = redrive.plan(definition_dict, history_events)
    # Plan(state="P", input_text='{"a":1}', inner=Inner(done={0: '"ok"'}, resume={1: Plan("B2", ...)}))

Events are assigned to the frame (top level, branch, iteration) they belong to by following
``previousEventId``: a branch begins with an event pointing at its ``ParallelStateStarted``,
an iteration with ``MapIterationStarted`` (index given). Several attempts (redrives) in one
history accumulate: a branch that succeeded in any attempt stays done.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

FrameKey = tuple[Any, ...]
ROOT: FrameKey = ()


@dataclass(slots=True)
class Inner:
    """What a Parallel/Map re-entered by a redrive does with its branches or iterations."""

    done: dict[int, str] = field(default_factory=dict)
    """index -> output text of a branch/iteration that already succeeded (not run again)."""
    resume: dict[int, Plan] = field(default_factory=dict)
    """index -> where a failed/aborted branch/iteration picks up (absent: from its StartAt)."""
    map_run_arn: str | None = None
    """A Distributed Map whose Map Run started: AWS redrives that Map Run (MapRunRedriven)."""
    map_run_redrives: int = 0
    """How many times that Map Run was redriven before (MapRunRedriven events)."""


@dataclass(slots=True)
class Plan:
    """Re-enter ``state`` (in the frame the plan is for) with ``input_text``."""

    state: str
    input_text: str
    inner: Inner | None = None
    variables: dict[str, str] = field(default_factory=dict)
    """Variables this frame had assigned (name -> JSON text, from ``assignedVariables``)."""


@dataclass(slots=True)
class _Frame:
    open: tuple[str, str] | None = None     # (state name, input text) entered and not exited
    output: str | None = None               # output of the last state exited
    ended: bool = False                     # the last state exited ends the frame
    succeeded: bool | None = None           # Map iterations: MapIteration{Succeeded,Failed} seen
    map_run: tuple[str, int] | None = None  # a Distributed Map's Map Run ARN and its redrives so far
    variables: dict[str, str] = field(default_factory=dict)  # assignedVariables of its states so far
    first: int = 0                          # id of the frame's first event
    last: int = 0                           # id of its last event (a Map iteration: MapIteration{Succeeded,...})


def _walk(states: dict[str, Any], specs: dict[str, dict[str, Any]]) -> None:
    for name, spec in states.items():
        if not isinstance(spec, dict):
            continue
        specs.setdefault(name, spec)
        for branch in spec.get("Branches") or []:
            _walk(branch.get("States") or {}, specs)
        processor = spec.get("ItemProcessor") or spec.get("Iterator")
        if isinstance(processor, dict):
            _walk(processor.get("States") or {}, specs)


def _branch_index(spec: dict[str, Any], name: str) -> int | None:
    for index, branch in enumerate(spec.get("Branches") or []):
        if name in (branch.get("States") or {}):
            return index
    return None


def _terminal(spec: dict[str, Any] | None) -> bool:
    return spec is not None and (spec.get("End") is True or spec.get("Type") in ("Succeed", "Fail"))


def plan(definition: dict[str, Any], history: list[dict[str, Any]]) -> Plan | None:
    """The plan for the top level; None when no top-level state is left open."""
    frames, specs, _ = _analyse(definition, history)
    return _plan_for(ROOT, frames, specs)


def _analyse(definition: dict[str, Any], history: list[dict[str, Any]]) -> tuple[
        dict[FrameKey, _Frame], dict[str, dict[str, Any]], set[tuple[FrameKey, str]]]:
    specs: dict[str, dict[str, Any]] = {}
    _walk(definition.get("States") or {}, specs)
    frame_of: dict[int, FrameKey] = {}
    frames: dict[FrameKey, _Frame] = {ROOT: _Frame()}
    started: dict[int, tuple[FrameKey, str]] = {}   # ParallelStateStarted/MapStateStarted id -> (frame, name)
    compounds: set[tuple[FrameKey, str]] = set()    # Parallel/Map states started and not exited
    running: set[tuple[FrameKey, str]] = set()      # ... and not yet succeeded/failed/aborted
    last_entered: dict[FrameKey, str] = {}
    for event in history:
        kind = str(event["type"])
        eid, prev = int(event["id"]), int(event.get("previousEventId", 0))
        key = frame_of.get(prev, ROOT)
        if kind.startswith("MapIteration"):
            details = next((v for k, v in event.items() if k.endswith("EventDetails")), None) or {}
            name, index = details.get("name"), details.get("index")
            parent = _owner(running, key, name)
            child = (*parent, name, index)
            frame_of[eid] = child if kind == "MapIterationStarted" else parent
            record = frames.setdefault(child, _Frame())
            record.succeeded = None if kind == "MapIterationStarted" else kind == "MapIterationSucceeded"
            record.first, record.last = (record.first or eid), eid
            continue
        entered = event.get("stateEnteredEventDetails")
        if entered is not None and prev in started:  # the first event of a Parallel branch
            parent, pname = started[prev]
            index = _branch_index(specs.get(pname, {}), str(entered.get("name", "")))
            if index is not None:
                key = (*parent, pname, index)
        elif kind in _CLOSING:  # points at a branch's last event, belongs to the state's own frame
            key = _owner(running, key, None)
            running.discard((key, last_entered.get(key, "")))
        elif kind in ("ParallelStateExited", "MapStateExited"):
            name = str((event.get("stateExitedEventDetails") or {}).get("name", ""))
            key = _owner(compounds, key, name)
            compounds.discard((key, name))
        frame_of[eid] = key
        frame = frames.setdefault(key, _Frame())
        frame.first, frame.last = (frame.first or eid), eid
        if entered is not None:
            name = str(entered.get("name", ""))
            frame.open = (name, entered.get("input", "{}"))
            last_entered[key] = name
        elif kind in ("ParallelStateStarted", "MapStateStarted"):
            name = last_entered.get(key, "")
            started[eid] = (key, name)
            compounds.add((key, name))
            running.add((key, name))
        elif kind in ("MapRunStarted", "MapRunRedriven"):
            details = event.get("mapRunStartedEventDetails") or event.get("mapRunRedrivenEventDetails") or {}
            arn = str(details.get("mapRunArn", ""))
            before = frame.map_run[1] if frame.map_run is not None and frame.map_run[0] == arn else 0
            frame.map_run = (arn, before + (kind == "MapRunRedriven"))
        exited = event.get("stateExitedEventDetails")
        if exited is not None:
            name = str(exited.get("name", ""))
            frame.open = None
            frame.map_run = None
            frame.output = exited.get("output")
            frame.ended = _terminal(specs.get(name))
            frame.variables.update(exited.get("assignedVariables") or {})
            _forget(frames, key, name)
    return frames, specs, running


_CLOSING = frozenset({"ParallelStateSucceeded", "ParallelStateFailed", "MapStateSucceeded", "MapStateFailed"})
"""Events that point at a branch's/iteration's last event but belong to the Parallel/Map's frame
(``<Type>StateAborted`` of a cancelled sibling points at the failure: a marker, left where it points)."""


def _owner(compounds: set[tuple[FrameKey, str]], key: FrameKey, name: Any) -> FrameKey:
    """The frame of the open Parallel/Map (named ``name``, or any) that ``key`` is in or under."""
    best: FrameKey | None = None
    for frame, compound in compounds:
        if name is not None and compound != name:
            continue
        inside = key == frame or (key[:len(frame)] == frame and len(key) > len(frame) and key[len(frame)] == compound)
        if inside and (best is None or len(frame) > len(best)):
            best = frame
    return key if best is None else best


def _forget(frames: dict[FrameKey, _Frame], key: FrameKey, name: str) -> None:
    """A compound state that exited: the records of its branches/iterations are done with."""
    prefix = (*key, name)
    for child in [k for k in frames if k[:len(prefix)] == prefix and len(k) > len(key)]:
        del frames[child]


def _plan_for(key: FrameKey, frames: dict[FrameKey, _Frame], specs: dict[str, dict[str, Any]]) -> Plan | None:
    frame = frames.get(key)
    if frame is None or frame.open is None:
        return None
    name, input_text = frame.open
    spec = specs.get(name) or {}
    result = Plan(name, input_text, variables=dict(frame.variables))
    if spec.get("Type") == "Map" and _distributed(spec):
        if frame.map_run is not None:
            result.inner = Inner(map_run_arn=frame.map_run[0], map_run_redrives=frame.map_run[1])
        return result
    if spec.get("Type") == "Parallel" or (spec.get("Type") == "Map" and not _distributed(spec)):
        inner = Inner()
        prefix = (*key, name)
        for child, record in frames.items():
            if len(child) != len(prefix) + 1 or child[:len(prefix)] != prefix:
                continue
            index = int(child[-1])
            done = record.succeeded if spec.get("Type") == "Map" else (record.open is None and record.ended)
            if done and record.output is not None:
                inner.done[index] = record.output
                continue
            sub = _plan_for(child, frames, specs)
            if sub is not None:
                inner.resume[index] = sub
        result.inner = inner
    return result


def _distributed(spec: dict[str, Any]) -> bool:
    processor = spec.get("ItemProcessor") or {}
    return (processor.get("ProcessorConfig") or {}).get("Mode") == "DISTRIBUTED"


_MAP_RUNS: OrderedDict[str, dict[int, str]] = OrderedDict()
_MAP_RUNS_KEPT = 1000


def keep_map_run_results(map_run_arn: str, succeeded: dict[int, str]) -> None:
    """Remember the children of a failed Map Run that succeeded (index -> output text).

    A Distributed Map's children are not in the parent's history, so this process keeps them for
    a redrive of the Map Run (the last 1,000 failed runs; not kept across a restart, when a
    redrive runs every child again).
    """
    _MAP_RUNS[map_run_arn] = dict(succeeded)
    _MAP_RUNS.move_to_end(map_run_arn)
    while len(_MAP_RUNS) > _MAP_RUNS_KEPT:
        _MAP_RUNS.popitem(last=False)


def map_run_results(map_run_arn: str) -> dict[int, str]:
    """The children of ``map_run_arn`` known to have succeeded (see keep_map_run_results)."""
    return dict(_MAP_RUNS.get(map_run_arn, {}))


def map_runs(plan: Plan | None) -> list[str]:
    """The Map Runs a redrive following ``plan`` redrives (its failed Distributed Maps)."""
    if plan is None or plan.inner is None:
        return []
    found = [plan.inner.map_run_arn] if plan.inner.map_run_arn else []
    for sub in plan.inner.resume.values():
        found += map_runs(sub)
    return found


@dataclass(slots=True)
class Continuation:
    """A restart inside a top-level Parallel/Map: the history up to ``keep_through`` stays; the
    state (entered at ``entered_id``, started at ``started_id``) goes on without being entered
    again, with ``plan.inner``'s branches/iterations done and the others run from their start."""

    keep_through: int
    entered_id: int
    started_id: int
    plan: Plan


def restart(definition: dict[str, Any], history: list[dict[str, Any]]) -> Continuation | None:
    """Where a restarted execution that was inside a top-level inline Parallel/Map goes on.

    Branches/iterations that had ended before the first event of any unfinished one are kept;
    the history is cut before that event, so the continued run writes every other event once.
    None: the top-level state is not such a state (re-enter it, as before).
    """
    frames, specs, running = _analyse(definition, history)
    root = frames.get(ROOT)
    if root is None or root.open is None:
        return None
    name, input_text = root.open
    spec = specs.get(name) or {}
    if (ROOT, name) not in running or not (
            spec.get("Type") == "Parallel" or (spec.get("Type") == "Map" and not _distributed(spec))):
        return None
    entered = started = 0
    for event in history:  # the state's last StateEntered and its Started
        details = event.get("stateEnteredEventDetails")
        if details is not None and details.get("name") == name and str(event["type"]).endswith("StateEntered"):
            entered, started = int(event["id"]), 0
        elif entered and not started and event["type"] in ("ParallelStateStarted", "MapStateStarted"):
            started = int(event["id"])
    if not entered or not started:
        return None
    is_map = spec.get("Type") == "Map"
    children = {int(k[-1]): f for k, f in frames.items() if len(k) == 2 and k[0] == name and f.first}
    finished = {i for i, f in children.items() if (f.succeeded if is_map else (f.open is None and f.ended))
                and f.output is not None}
    last_id = int(history[-1]["id"])
    cut = min((f.first for i, f in children.items() if i not in finished), default=last_id + 1)
    changed = True
    while changed:  # a child that ended after the cut runs again: cut before its first event too
        changed = False
        for i, f in children.items():
            if i in finished and f.last >= cut and f.first < cut:
                cut, changed = f.first, True
    done = {i: str(children[i].output) for i in finished if children[i].last < cut}
    return Continuation(cut - 1, entered, started, Plan(name, input_text, Inner(done=done),
                                                        dict(root.variables)))
