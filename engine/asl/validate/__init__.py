"""Whole-definition static checks of an ASL definition, reported as AWS reports them.

    validate(raw, type="STANDARD") -> [Diagnostic(code, message, location, severity)]
    load_json(text) -> dict                       # InvalidDefinition with AWS's (Jackson's) text
    load_definition(text, type=...) -> dict       # load_json + validate, raises on any ERROR
    validate_definition_response(text, ...)       # the ValidateStateMachineDefinition response

Two phases, as AWS answers: the schema walk (fields per state type and query language, value
types, paths, intrinsics, JSONata syntax, Retry/Catch, Choice rules, Map and Parallel bodies);
then, only for a definition without schema errors, the graph (transition targets, reachability,
a terminal state). Messages quoted from AWS recordings are marked ``# AWS:``; the others follow
the observed families ("Field 'X' is not supported", "Expected value of type [STRING]",
"These fields are required: [..]", "Value cannot be empty", "Minimum value is N").

Modules: ``_walk`` (field tables, the walker), ``_checks`` (one function per field),
``_graph`` (targets, reachability); JSON text errors in Jackson's words come from ``engine.jackson``.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

from engine import jackson
from engine.asl import intrinsics
from engine.asl.validate._checks import CHECKS
from engine.asl.validate._graph import graph
from engine.asl.validate._walk import (
    DUPLICATE_STATE,
    INVALID_JSON,
    INVALID_JSONATA,
    JSONATA,
    JSONPATH,
    MISSING_END_STATE,
    MISSING_TARGET,
    SCHEMA,
    STATE_TYPES,
    UNSUPPORTED_JSONATA,
    Walker,
)
from engine.errors import Diagnostic, InvalidDefinition
from engine.types import JSON, Pointer

__all__ = [
    "DUPLICATE_STATE",
    "INVALID_JSON",
    "INVALID_JSONATA",
    "MISSING_END_STATE",
    "MISSING_TARGET",
    "SCHEMA",
    "STATE_TYPES",
    "UNSUPPORTED_JSONATA",
    "load_definition",
    "load_json",
    "validate",
    "validate_definition_response",
    "warnings",
]


def validate(raw: dict[str, Any], *, type: str = "STANDARD") -> list[Diagnostic]:  # noqa: A002 - AWS's name
    """Every problem AWS reports for this definition; ``type`` is STANDARD or EXPRESS."""
    walker = Walker(type, CHECKS)
    if isinstance(raw, dict) and "QueryLanguage" in raw:
        value = raw["QueryLanguage"]
        walker.language = JSONPATH if value == JSONPATH else JSONATA
        walker.enum(value, (JSONPATH, JSONATA), "/QueryLanguage")
    walker.machine(raw, "", kind="root")
    if walker.diagnostics:
        return walker.diagnostics
    return graph(walker.containers)


def load_json(text: str) -> dict[str, Any]:
    """Parse definition text as AWS does; InvalidDefinition with AWS's message when it is not JSON."""
    raw, problem = _parse(text)
    if problem is not None:
        raise InvalidDefinition([problem])
    return cast(dict[str, Any], raw)


def load_definition(text: str, *, type: str = "STANDARD") -> dict[str, Any]:  # noqa: A002
    """``load_json`` then ``validate``; InvalidDefinition carrying every ERROR found."""
    raw = load_json(text)
    errors = [d for d in validate(raw, type=type) if d.severity == "ERROR"]
    if errors:
        raise InvalidDefinition(errors)
    return raw


def validate_definition_response(text: str, *, type: str = "STANDARD", severity: str = "ERROR",  # noqa: A002
                                 max_results: int = 100) -> dict[str, Any]:
    """The ValidateStateMachineDefinition response: result, diagnostics, truncated."""
    raw, problem = _parse(text)
    found = [problem] if problem is not None else validate(raw, type=type)
    if severity == "WARNING" and problem is None:
        found = found + warnings(raw)
    shown = [d for d in found if severity == "WARNING" or d.severity == "ERROR"]
    limit = max_results or 100
    return {
        "result": "FAIL" if any(d.severity == "ERROR" for d in found) else "OK",
        "diagnostics": [_diagnostic_shape(d) for d in shown[:limit]],
        "truncated": len(shown) > limit,
    }


def warnings(raw: dict[str, Any]) -> list[Diagnostic]:
    """WARNING diagnostics (NO_DOLLAR, NO_PATH, PASS_RESULT_IS_STATIC); wording not yet recorded."""
    found: list[Diagnostic] = []
    for at, state in _all_states(raw, ""):
        language = state.get("QueryLanguage", raw.get("QueryLanguage", JSONPATH))
        if language != JSONPATH:
            continue
        for key in ("Parameters", "ResultSelector", "ItemSelector"):
            _no_dollar(state.get(key), f"{at}/{key}", found)
        if state.get("Type") == "Pass" and "Result" in state:
            if any(_looks_dynamic(v) for v in _leaves(state["Result"])):
                found.append(Diagnostic("PASS_RESULT_IS_STATIC",
                                        "The Result field of a Pass state is static and is not evaluated.",
                                        f"{at}/Result", "WARNING"))
    return found


def _all_states(raw: JSON, prefix: str) -> Iterator[tuple[Pointer, dict[str, Any]]]:
    states = raw.get("States") if isinstance(raw, dict) else None
    if not isinstance(states, dict):
        return
    for name, state in states.items():
        if not isinstance(state, dict):
            continue
        at = f"{prefix}/States/{name}"
        yield at, state
        for key in ("ItemProcessor", "Iterator"):
            yield from _all_states(state.get(key), f"{at}/{key}")
        for i, branch in enumerate(state.get("Branches") or ()):
            yield from _all_states(branch, f"{at}/Branches[{i}]")


def _no_dollar(value: JSON, at: Pointer, found: list[Diagnostic]) -> None:
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        if isinstance(item, dict):
            _no_dollar(item, f"{at}/{key}", found)
        elif not key.endswith(".$") and _looks_dynamic(item):
            found.append(Diagnostic("NO_DOLLAR", f"The value for the field '{key}' looks like a JSONPath or "
                                    f"an intrinsic function call, but the field name does not end with '.$'",
                                    at, "WARNING"))


def _looks_dynamic(value: JSON) -> bool:
    return isinstance(value, str) and (value.startswith("$.") or value == "$" or value.startswith("$$.")
                                       or intrinsics.is_intrinsic(value))


def _leaves(value: JSON) -> Iterator[JSON]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


def _diagnostic_shape(d: Diagnostic) -> dict[str, Any]:
    shape = {"severity": d.severity, "code": d.code, "message": d.message}
    if d.location is not None:
        shape["location"] = d.location
    return shape


def _parse(text: str) -> tuple[Any, Diagnostic | None]:
    """(definition, None) or (None, the diagnostic AWS gives for this text)."""
    not_object = Diagnostic(SCHEMA, "Definition must be a valid JSON object", None)
    if not isinstance(text, str) or not text.strip():
        # AWS: a blank definition (recorded, ValidateStateMachineDefinition " ").
        return None, not_object
    try:
        raw = jackson.parse(text)  # Jackson's readTree: what follows the root value is ignored
    except jackson.JsonSyntaxError as err:
        message, location = err.located(text)
        if location is None:  # Jackson's stream constraints carry no location
            return None, Diagnostic(INVALID_JSON, message, None)
        return None, Diagnostic(INVALID_JSON, f"{message}\n at {location}", location)
    if not isinstance(raw, dict):
        return None, not_object
    return raw, None


