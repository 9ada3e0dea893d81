"""The graph phase: transition targets, reachability and a terminal state, per States block."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from engine.asl.validate._walk import MISSING_END_STATE, MISSING_TARGET, TERMINAL_TYPES, Container
from engine.errors import Diagnostic
from engine.types import JSON, Pointer

# ---------------------------------------------------------------- the graph phase


def graph(containers: list[Container]) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    # AWS accepts a top level without a terminal state when a nested one has it: the AWS doc
    # example "messenger" loops forever at the top level (bounded by TimeoutSeconds) and its
    # only End is inside its Map.
    nested_terminal = any(_is_terminal(raw) for box in containers if not box.top for raw in box.states.values())
    for box in containers:
        found.extend(_container_graph(box, nested_terminal))
    return found


def _container_graph(box: Container, nested_terminal: bool = False) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    states = box.states
    if isinstance(box.start_at, str) and box.start_at not in states:
        # AWS (floci-measured): a dangling StartAt is reported like a dangling Next.
        found.append(Diagnostic(MISSING_TARGET, f"Missing 'Next' target: {box.start_at}", f"{box.prefix}/StartAt"))
    for name, raw in states.items():
        for target, at in _targets(raw, f"{box.prefix}/States/{name}"):
            if target not in states:
                # AWS: "Missing 'Next' target: pass3 at /States/pass1/Next" (recorded).
                found.append(Diagnostic(MISSING_TARGET, f"Missing 'Next' target: {target}", at))
    if box.top and not nested_terminal and not any(_is_terminal(raw) for raw in states.values()):
        # AWS (floci-measured): no location, and it replaces the unreachable-state reports.
        found.append(Diagnostic(MISSING_END_STATE, "Workflow has no terminal state", None))
        return found
    reachable = _reachable(box.start_at, states)
    for name in states:
        if name not in reachable:
            # AWS: 'State "pass2" is not reachable. at /States/pass2' (recorded).
            found.append(Diagnostic(MISSING_TARGET, f'State "{name}" is not reachable.', f"{box.prefix}/States/{name}"))
    return found


def _targets(raw: dict[str, Any], at: Pointer) -> Iterator[tuple[str, Pointer]]:
    if isinstance(raw.get("Next"), str):
        yield raw["Next"], f"{at}/Next"
    for i, rule in enumerate(raw.get("Choices") or ()):
        if isinstance(rule, dict) and isinstance(rule.get("Next"), str):
            yield rule["Next"], f"{at}/Choices[{i}]/Next"
    if isinstance(raw.get("Default"), str):
        yield raw["Default"], f"{at}/Default"
    for i, catcher in enumerate(raw.get("Catch") or ()):
        if isinstance(catcher, dict) and isinstance(catcher.get("Next"), str):
            yield catcher["Next"], f"{at}/Catch[{i}]/Next"


def _is_terminal(raw: dict[str, Any]) -> bool:
    return raw.get("Type") in TERMINAL_TYPES or raw.get("End") is True


def _reachable(start: JSON, states: dict[str, Any]) -> set[str]:
    seen: set[str] = set()
    todo = [start] if isinstance(start, str) and start in states else []
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(t for t, _ in _targets(states[name], "") if t in states and t not in seen)
    return seen

