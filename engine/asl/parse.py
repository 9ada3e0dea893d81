"""Definition dict -> frozen model (``engine.asl.model``), compiling every expression once.

``load`` accepts the definition text or its parsed dict, runs the whole-definition checks of
``engine.asl.validate`` when that module is present, and raises InvalidDefinition with the
location of the first field that does not compile.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from engine.asl import choice as choice_rules
from engine.asl import intrinsics, jsonata, paths
from engine.asl.model import (
    DOLLAR,
    Catcher,
    Choice,
    ChoiceBranch,
    Fail,
    ItemBatcher,
    Machine,
    Map,
    Parallel,
    Pass,
    Retrier,
    State,
    StateMachine,
    Succeed,
    Task,
    Wait,
)
from engine.errors import Diagnostic, InvalidDefinition
from engine.types import JSON, Pointer


class _Bad(Exception):
    def __init__(self, message: str, at: Pointer) -> None:
        super().__init__(message)
        self.message = message
        self.at = at


def load(definition: str | dict[str, Any], *, type: str = "STANDARD") -> StateMachine:  # noqa: A002 - AWS's name
    """Parse and check a definition; raises InvalidDefinition (AWS's message) when it cannot run.

    ``type`` is the state machine type (``STANDARD`` or ``EXPRESS``) the checks apply to.
    """
    raw = _load_json(definition) if isinstance(definition, str) else definition
    if not isinstance(raw, dict):
        raise InvalidDefinition([Diagnostic("SCHEMA_VALIDATION_FAILED", "Definition must be an object")])
    _validate(raw, type)
    try:
        language = raw.get("QueryLanguage", "JSONPath") == "JSONata"
        root = _machine(raw, "", language)
    except _Bad as bad:
        raise InvalidDefinition([Diagnostic("SCHEMA_VALIDATION_FAILED", bad.message, bad.at or None)]) from None
    timeout = raw.get("TimeoutSeconds")
    return StateMachine(root, raw, timeout if isinstance(timeout, int) else None, raw.get("Comment"))


def _load_json(text: str) -> Any:
    try:
        from engine.asl import validate as _v
    except ImportError:
        try:
            return json.loads(text)
        except ValueError as exc:
            raise InvalidDefinition([Diagnostic("INVALID_JSON_DESCRIPTION", str(exc))]) from None
    return _v.load_json(text)


def _validate(raw: dict[str, Any], machine_type: str) -> None:
    try:
        from engine.asl import validate as _v
    except ImportError:
        return
    diagnostics = [d for d in _v.validate(raw, type=machine_type) if d.severity == "ERROR"]
    if diagnostics:
        raise InvalidDefinition(diagnostics)


def _machine(raw: Any, at: Pointer, jsonata_default: bool) -> Machine:
    if not isinstance(raw, dict) or not isinstance(raw.get("States"), dict):
        raise _Bad("States is required", at)
    states: dict[str, State] = {}
    for name, body in raw["States"].items():
        states[name] = _state(name, body, f"{at}/States/{name}", jsonata_default)
    start = raw.get("StartAt")
    if start not in states:
        raise _Bad(f"Missing 'StartAt' target: {start}", f"{at}/StartAt")
    return Machine(start, states, jsonata_default, any(_may_block(s) for s in states.values()))


def _may_block(state: State) -> bool:
    if isinstance(state, (Wait, Task)):
        return True
    if isinstance(state, Parallel):
        return any(b.may_block for b in state.branches)
    if isinstance(state, Map):
        return state.processor is None or state.processor.may_block
    return False


def _state(name: str, raw: Any, at: Pointer, jsonata_default: bool) -> State:
    if not isinstance(raw, dict):
        raise _Bad("State must be an object", at)
    language = raw.get("QueryLanguage")
    is_jsonata = jsonata_default if language is None else language == "JSONata"
    kind = raw.get("Type")
    builder = _BUILDERS.get(kind)  # type: ignore[arg-type]
    if builder is None:
        raise _Bad(f"Unknown state type: {kind}", f"{at}/Type")
    common = _common(name, raw, at, is_jsonata)
    return builder(raw, at, is_jsonata, common, jsonata_default)


def _common(name: str, raw: dict[str, Any], at: Pointer, is_jsonata: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "type": raw["Type"], "next": raw.get("Next"),
                           "end": bool(raw.get("End", False)), "jsonata": is_jsonata,
                           "reads_context": _reads_context(raw)}
    if "Assign" in raw:
        out["assign"] = _template(raw["Assign"], "Assign", f"{at}/Assign", is_jsonata)
    if "Retry" in raw:
        out["retry"] = tuple(_retrier(r, f"{at}/Retry[{i}]") for i, r in enumerate(raw["Retry"]))
    if "Catch" in raw:
        out["catch"] = tuple(_catcher(c, f"{at}/Catch[{i}]", is_jsonata) for i, c in enumerate(raw["Catch"]))
    if is_jsonata:
        if "Output" in raw:
            out["output"] = _template(raw["Output"], "Output", f"{at}/Output", True)
        if "Arguments" in raw:
            out["arguments"] = _template(raw["Arguments"], "Arguments", f"{at}/Arguments", True)
        return out
    for key, attr in (("InputPath", "input_path"), ("OutputPath", "output_path")):
        if key in raw:
            out[attr] = _path_or_none(raw[key], f"{at}/{key}")
    if "ResultPath" in raw:
        out["result_path"] = _result_path(raw["ResultPath"], f"{at}/ResultPath")
    if "Parameters" in raw:
        out["parameters"] = _template(raw["Parameters"], "Parameters", f"{at}/Parameters", False)
    if "ResultSelector" in raw:
        out["result_selector"] = _template(raw["ResultSelector"], "ResultSelector", f"{at}/ResultSelector", False)
    return out


_NESTED_MACHINES = ("ItemProcessor", "Iterator", "Branches")  # their states are parsed on their own
_CONTEXT_READ = re.compile(r"\$\$|\$states(?!\.(?:input|result|errorOutput)\b)|\$eval\b")
"""``$$`` (JSONPath, intrinsics) or ``$states`` other than its input/result/errorOutput (JSONata)."""


def _reads_context(raw: dict[str, Any]) -> bool:
    """Whether any string of the state (not of its nested machines) may read the context object."""
    pending: list[Any] = [v for k, v in raw.items() if k not in _NESTED_MACHINES]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if "$" in value and _CONTEXT_READ.search(value):
                return True
        elif isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


def _path_or_none(text: Any, at: Pointer) -> Any:
    if text is None:
        return None
    if text == "$":
        return DOLLAR
    return compile_path(text, at)


def _result_path(text: Any, at: Pointer) -> Any:
    if text is None:
        return None
    if text == "$":
        return DOLLAR
    compile_path(text, at)
    return text


def compile_path(text: Any, at: Pointer) -> Any:
    """A compiled JSONPath (or reference path); _Bad at ``at`` when invalid."""
    if not isinstance(text, str):
        raise _Bad("Value must be a string", at)
    try:
        return paths.compile_path(text)
    except ValueError as exc:
        raise _Bad(str(exc), at) from None


def _path_or_call(text: Any, at: Pointer) -> Any:
    """ErrorPath / CausePath: a path or an intrinsic call."""
    if isinstance(text, str) and intrinsics.is_intrinsic(text):
        try:
            return intrinsics.parse(text)
        except Exception as exc:  # IntrinsicSyntaxError carries AWS's message
            raise _Bad(str(exc), at) from None
    return compile_path(text, at)


def _template(payload: JSON, field: str, at: Pointer, is_jsonata: bool) -> Any:
    try:
        if is_jsonata:
            return jsonata.compile_template(payload, field=field)
        return paths.compile_template(payload, field=field)
    except ValueError as exc:
        raise _Bad(str(exc), at) from None


def _maybe_jsonata(value: Any, field: str, at: Pointer, is_jsonata: bool) -> Any:
    """A literal stays as it is; a ``{% %}`` string becomes a compiled template."""
    if is_jsonata and isinstance(value, str) and jsonata.is_expression(value):
        return _template(value, field, at, True)
    return value


def _retrier(raw: Any, at: Pointer) -> Retrier:
    if not isinstance(raw, dict):
        raise _Bad("Retrier must be an object", at)
    return Retrier(
        error_equals=tuple(raw.get("ErrorEquals", ())),
        interval_seconds=raw.get("IntervalSeconds", 1),
        max_attempts=raw.get("MaxAttempts", 3),
        backoff_rate=raw.get("BackoffRate", 2.0),
        max_delay_seconds=raw.get("MaxDelaySeconds"),
        jitter=raw.get("JitterStrategy", "NONE"),
    )


def _catcher(raw: Any, at: Pointer, is_jsonata: bool) -> Catcher:
    if not isinstance(raw, dict):
        raise _Bad("Catcher must be an object", at)
    language = raw.get("QueryLanguage")
    if language is not None:
        is_jsonata = language == "JSONata"
    output = assign = None
    result_path: Any = DOLLAR
    name = at.rsplit("/", 1)[-1]  # AWS names a catcher's fields with its index: Catch[1]/Output
    if "Output" in raw and is_jsonata:
        output = _template(raw["Output"], f"{name}/Output", f"{at}/Output", True)
    if "Assign" in raw:
        assign = _template(raw["Assign"], f"{name}/Assign", f"{at}/Assign", is_jsonata)
    if "ResultPath" in raw and not is_jsonata:
        result_path = _result_path(raw["ResultPath"], f"{at}/ResultPath")
    return Catcher(tuple(raw.get("ErrorEquals", ())), raw.get("Next", ""), result_path, output, assign)


def _pass(raw: dict[str, Any], at: Pointer, is_jsonata: bool, common: dict[str, Any],
       default: bool) -> State:
    return Pass(**common, result=raw.get("Result"), has_result="Result" in raw and not is_jsonata)


def _succeed(raw: dict[str, Any], at: Pointer, is_jsonata: bool, common: dict[str, Any],
       default: bool) -> State:
    return Succeed(**common)


def _fail(raw: dict[str, Any], at: Pointer, is_jsonata: bool, common: dict[str, Any],
       default: bool) -> State:
    fields: dict[str, Any] = {}
    for key in ("Error", "Cause"):
        if key in raw:
            fields[key.lower()] = _maybe_jsonata(raw[key], key, f"{at}/{key}", is_jsonata)
        if f"{key}Path" in raw:
            fields[f"{key.lower()}_path"] = _path_or_call(raw[f"{key}Path"], f"{at}/{key}Path")
    return Fail(**common, **fields)


def _choice(raw: dict[str, Any], at: Pointer, is_jsonata: bool, common: dict[str, Any],
       default: bool) -> State:
    branches = []
    for i, rule in enumerate(raw.get("Choices", ())):
        where = f"{at}/Choices[{i}]"
        if not isinstance(rule, dict):
            raise _Bad("Choice rule must be an object", where)
        extra: dict[str, Any] = {}
        name = f"Choices[{i}]"  # AWS names a rule's fields with its index: Choices[0]/Condition
        if "Assign" in rule:
            extra["assign"] = _template(rule["Assign"], f"{name}/Assign", f"{where}/Assign", is_jsonata)
        if is_jsonata:
            if "Output" in rule:
                extra["output"] = _template(rule["Output"], f"{name}/Output", f"{where}/Output", True)
            extra["condition"] = _maybe_jsonata(rule.get("Condition"), f"{name}/Condition", f"{where}/Condition", True)
        else:
            body = {k: v for k, v in rule.items() if k not in ("Next", "Assign", "Comment")}
            try:
                extra["rule"] = choice_rules.build_rule(body, at=where)
            except ValueError as exc:
                raise _Bad(str(exc), where) from None
        branches.append(ChoiceBranch(next=rule.get("Next", ""), **extra))
    return Choice(**common, choices=tuple(branches), default=raw.get("Default"))


def _wait(raw: dict[str, Any], at: Pointer, is_jsonata: bool, common: dict[str, Any],
       default: bool) -> State:
    fields: dict[str, Any] = {}
    if "Seconds" in raw:
        fields["seconds"] = _maybe_jsonata(raw["Seconds"], "Seconds", f"{at}/Seconds", is_jsonata)
    if "Timestamp" in raw:
        fields["timestamp"] = _maybe_jsonata(raw["Timestamp"], "Timestamp", f"{at}/Timestamp", is_jsonata)
    if "SecondsPath" in raw:
        fields["seconds_path"] = compile_path(raw["SecondsPath"], f"{at}/SecondsPath")
    if "TimestampPath" in raw:
        fields["timestamp_path"] = compile_path(raw["TimestampPath"], f"{at}/TimestampPath")
    return Wait(**common, **fields)


def _task(raw: dict[str, Any], at: Pointer, is_jsonata: bool, common: dict[str, Any],
       default: bool) -> State:
    fields: dict[str, Any] = {"resource": raw.get("Resource", "")}
    if isinstance(raw.get("Credentials"), dict):
        fields["credentials"] = _template(raw["Credentials"], "Credentials", f"{at}/Credentials", is_jsonata)
    for key, attr in (("TimeoutSeconds", "timeout_seconds"), ("HeartbeatSeconds", "heartbeat_seconds")):
        if key in raw:
            fields[attr] = _maybe_jsonata(raw[key], key, f"{at}/{key}", is_jsonata)
        if f"{key}Path" in raw:
            fields[f"{attr}_path"] = compile_path(raw[f"{key}Path"], f"{at}/{key}Path")
    return Task(**common, **fields)


def _parallel(raw: dict[str, Any], at: Pointer, is_jsonata: bool, common: dict[str, Any],
       default: bool) -> State:
    branches = tuple(
        # AWS: a state without QueryLanguage uses the top-level one (not the enclosing state's)
        _machine(b, f"{at}/Branches[{i}]", default) for i, b in enumerate(raw.get("Branches", ()))
    )
    return Parallel(**common, branches=branches)


def _map(raw: dict[str, Any], at: Pointer, is_jsonata: bool, common: dict[str, Any],
       default: bool) -> State:
    key = "ItemProcessor" if "ItemProcessor" in raw else "Iterator"
    body = raw.get(key) or {}
    config = body.get("ProcessorConfig") or {}
    fields: dict[str, Any] = {
        "processor": _machine(body, f"{at}/{key}", default),
        "distributed": config.get("Mode") == "DISTRIBUTED",
        "label": raw.get("Label"),
    }
    batcher = raw.get("ItemBatcher")
    if isinstance(batcher, dict):
        fields["item_batcher"] = _batcher(batcher, f"{at}/ItemBatcher", is_jsonata)
    if is_jsonata:
        if "Items" in raw:
            fields["items"] = _template(raw["Items"], "Items", f"{at}/Items", True)
        if "ItemSelector" in raw:
            fields["item_selector"] = _template(raw["ItemSelector"], "ItemSelector", f"{at}/ItemSelector", True)
    else:
        if "ItemsPath" in raw:
            fields["items_path"] = _path_or_none(raw["ItemsPath"], f"{at}/ItemsPath")
        selector = raw.get("ItemSelector", raw.get("Parameters"))
        if selector is not None:
            field = "ItemSelector" if "ItemSelector" in raw else "Parameters"
            fields["item_selector"] = _template(selector, field, f"{at}/{field}", False)
            common = {**common, "parameters": None}
    for name, attr in (("MaxConcurrency", "max_concurrency"), ("ToleratedFailureCount", "tolerated_failure_count"),
                       ("ToleratedFailurePercentage", "tolerated_failure_percentage")):
        if name in raw:
            fields[attr] = _maybe_jsonata(raw[name], name, f"{at}/{name}", is_jsonata)
        if f"{name}Path" in raw:
            fields[f"{attr}_path"] = compile_path(raw[f"{name}Path"], f"{at}/{name}Path")
    return Map(**common, **fields)


def _batcher(raw: dict[str, Any], at: Pointer, is_jsonata: bool) -> ItemBatcher:
    fields: dict[str, Any] = {}
    for key, attr in (("MaxItemsPerBatch", "max_items"), ("MaxInputBytesPerBatch", "max_bytes")):
        if key in raw:
            fields[attr] = _maybe_jsonata(raw[key], key, f"{at}/{key}", is_jsonata)
        if f"{key}Path" in raw:
            fields[f"{attr}_path"] = compile_path(raw[f"{key}Path"], f"{at}/{key}Path")
    if "BatchInput" in raw:
        fields["batch_input"] = _template(raw["BatchInput"], "BatchInput", f"{at}/BatchInput", is_jsonata)
    return ItemBatcher(**fields)


_BUILDERS: dict[str, Callable[[dict[str, Any], Pointer, bool, dict[str, Any], bool], State]] = {
    "Pass": _pass, "Succeed": _succeed, "Fail": _fail, "Choice": _choice, "Wait": _wait,
    "Task": _task, "Parallel": _parallel, "Map": _map,
}
