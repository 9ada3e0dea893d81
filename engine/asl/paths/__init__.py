"""JSONPath as Step Functions evaluates it (Jayway semantics) and JSONPath-mode input/output processing.

Paths are compiled once (``compile_path``); ``$`` is the state input, ``$$`` the context object
and ``$name`` a variable. Payload templates (Parameters, ItemSelector, ResultSelector) resolve
keys ending in ``.$``; ``input_path``/``result_path``/``output_path`` apply the other fields.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from engine.asl import intrinsics
from engine.asl.paths._jsonpath import NULL_INPUT, Path, PathNotFound, Scope, Step, compile_path
from engine.asl.paths._text import dumps
from engine.errors import ErrorName, StatesError
from engine.types import JSON

__all__ = [
    "NULL_INPUT",
    "Path",
    "PathNotFound",
    "Scope",
    "Template",
    "compile_path",
    "compile_template",
    "dumps",
    "evaluate_intrinsic",
    "input_path",
    "output_path",
    "result_path",
]


# --- payload templates -------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Entry:
    key: str
    """Output key (``.$`` removed)."""
    field: str
    """The key as written, named in error messages (``value.$``)."""
    node: Any
    """A nested template node, a compiled Path or an intrinsic Call."""


@dataclass(frozen=True, slots=True)
class Template:
    """A compiled Parameters / ItemSelector / ResultSelector payload."""

    field: str
    root: Any

    def render(self, scope: Scope) -> JSON:
        """The payload with every ``.$`` key resolved against ``scope``."""
        return _render_node(self.root, scope)


def compile_template(payload: JSON, *, field: str) -> Template:
    """Compile a payload; ValueError(AWS message) when a ``.$`` value is not a path or intrinsic call."""
    return Template(field, _compile_node(payload))


def _compile_node(value: JSON) -> Any:
    if isinstance(value, dict):
        return tuple(_compile_entry(key, item) for key, item in value.items())
    if isinstance(value, list):
        return [_compile_node(item) for item in value]
    return ("literal", value)


def _compile_entry(key: str, item: JSON) -> _Entry:
    if not key.endswith(".$"):
        return _Entry(key, key, _compile_node(item))
    invalid = f"The value for the field '{key}' must be a valid JSONPath or a valid intrinsic function call"
    if not isinstance(item, str):
        raise ValueError(invalid)
    try:
        if intrinsics.is_intrinsic(item):
            return _Entry(key[:-2], key, intrinsics.parse(item))
        return _Entry(key[:-2], key, compile_path(item))
    except (ValueError, intrinsics.IntrinsicSyntaxError):
        raise ValueError(invalid) from None


def _render_node(node: Any, scope: Scope) -> JSON:
    if isinstance(node, list):
        return [_render_node(item, scope) for item in node]
    if isinstance(node, tuple) and node and node[0] == "literal":
        value = node[1]
        # deepcopy hands back strings, numbers, booleans and null themselves
        return value if type(value) in _ATOMS else copy.deepcopy(value)
    return {entry.key: _render_entry(entry, scope) for entry in node}


_ATOMS = frozenset({str, int, float, bool, type(None)})


def _render_entry(entry: _Entry, scope: Scope) -> JSON:
    if isinstance(entry.node, Path):
        try:
            return entry.node.get(scope)
        except PathNotFound:
            raise _not_found(entry.node.text, entry.field, scope) from None
    if isinstance(entry.node, intrinsics.Call):
        return evaluate_intrinsic(entry.node, scope, field=entry.field)
    return _render_node(entry.node, scope)


def evaluate_intrinsic(call: intrinsics.Call, scope: Scope, *, field: str) -> JSON:
    """Evaluate an intrinsic call whose path arguments read ``scope``."""

    def resolve(text: str) -> JSON:
        return compile_path(text).get(scope)

    try:
        return intrinsics.evaluate(call, resolve, read=lambda path: path.get(scope))
    except PathNotFound as missing:
        raise _not_found(missing.path, field, scope) from None


def _not_found(path: str, field: str, scope: Scope) -> StatesError:
    # AWS: "The JSONPath '$$.Execution.Input.no_such_jsonpath' specified for the field 'value.$'
    # could not be found in the input '...'"; see the test_invalid_jsonpath cases.
    return StatesError(ErrorName.RUNTIME, f"The JSONPath '{path}' specified for the field '{field}' "
                                          f"could not be found in the input '{dumps(scope.input)}'")


# --- InputPath / ResultPath / OutputPath -------------------------------------------------

def input_path(path: Path | None, scope: Scope) -> JSON:
    """Apply InputPath: None (``"InputPath": null``) gives ``{}``."""
    return {} if path is None else _select(path, scope)


def output_path(path: Path | None, value: JSON, scope: Scope | None = None) -> JSON:
    """Apply OutputPath to the state's output ``value``; None gives ``{}``."""
    if path is None:
        return {}
    outer = scope or Scope(value)
    return _select(path, Scope(value, outer.context, outer.variables))


def _select(path: Path, scope: Scope) -> JSON:
    try:
        return path.get(scope)
    except PathNotFound as missing:
        # AWS: "Invalid path '$.NoSuchOutputPath' : No results for path: $['NoSuchOutputPath']"
        raise StatesError(ErrorName.RUNTIME, f"Invalid path '{path.text}' : {missing.detail}") from None


def result_path(path_text: str | None, state_input: JSON, result: JSON) -> JSON:
    """Place ``result`` into a copy of ``state_input`` at the reference path (None discards it)."""
    if path_text is None:
        return state_input
    path = compile_path(path_text)
    if not path.steps:
        return result
    if path.root != "$" or not path.is_reference:
        raise ValueError(f"ResultPath '{path_text}' must be a reference path")
    output = copy.deepcopy(state_input)
    node = output
    for step, following in zip(path.steps, path.steps[1:] + (None,)):
        node = _place(node, step, following, result, path_text, state_input)
    return output


def _place(node: JSON, step: Step, following: Step | None, result: JSON,
           path_text: str, state_input: JSON) -> JSON:
    """Descend one step of a ResultPath (creating objects on the way); set ``result`` at the last."""
    key: str | int = step[1][0]
    if step[0] == "prop" and isinstance(node, dict):
        if following is None:
            node[key] = result
            return None
        if key not in node:
            node[key] = {}
        return node[key]
    if step[0] == "index" and isinstance(node, list) and isinstance(key, int) and -len(node) <= key < len(node):
        if following is None:
            node[key] = result
        return node[key]
    # AWS: "Unable to apply ReferencePath $.partitioned to input \"{...}\"" (aws/aws-cdk#29473)
    raise StatesError("States.ReferencePathConflict",
                      f"Unable to apply ReferencePath {path_text} to input {dumps(state_input)}")
