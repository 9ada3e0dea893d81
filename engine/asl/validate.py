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
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, cast

from engine.asl import intrinsics, jsonata
from engine.asl.paths import compile_path
from engine.errors import Diagnostic, InvalidDefinition
from engine.types import JSON, Pointer

__all__ = [
    "INVALID_JSON",
    "INVALID_JSONATA",
    "MISSING_END_STATE",
    "MISSING_TARGET",
    "SCHEMA",
    "UNSUPPORTED_JSONATA",
    "load_definition",
    "load_json",
    "validate",
    "validate_definition_response",
]

SCHEMA: Final = "SCHEMA_VALIDATION_FAILED"
MISSING_TARGET: Final = "MISSING_TRANSITION_TARGET"
MISSING_END_STATE: Final = "MISSING_END_STATE"
INVALID_JSON: Final = "INVALID_JSON_DESCRIPTION"
INVALID_JSONATA: Final = "INVALID_JSONATA_EXPRESSION"
UNSUPPORTED_JSONATA: Final = "UNSUPPORTED_JSONATA_EXPRESSION"
DUPLICATE_STATE: Final = "DUPLICATE_STATE_NAME"

JSONPATH: Final = "JSONPath"
JSONATA: Final = "JSONata"

# AWS: "The field 'Type' should have one of these values: [Task, Wait, Pass, Succeed, Fail,
# Choice, Parallel, Map]" (recorded, localstack test_state_mock_validation).
STATE_TYPES: Final = ("Task", "Wait", "Pass", "Succeed", "Fail", "Choice", "Parallel", "Map")


# ---------------------------------------------------------------- field tables


@dataclass(frozen=True, slots=True)
class _Fields:
    """Which top-level fields a state type accepts, by query language."""

    both: frozenset[str]
    jsonpath: frozenset[str]
    jsonata: frozenset[str]
    required: tuple[str, ...] = ()

    def allowed(self, language: str) -> frozenset[str]:
        return self.both | (self.jsonpath if language == JSONPATH else self.jsonata)

    def other(self, language: str) -> frozenset[str]:
        return self.jsonata if language == JSONPATH else self.jsonpath


def _f(both: str, jsonpath: str = "", jsonata: str = "", required: str = "") -> _Fields:
    common = "Type Comment QueryLanguage " + both
    return _Fields(frozenset(common.split()), frozenset(jsonpath.split()),
                   frozenset(jsonata.split()), tuple(required.split()))


_IO = "InputPath OutputPath"
_FLOW = "Next End Assign"
_FIELDS: Final[Mapping[str, _Fields]] = {
    "Pass": _f(_FLOW, f"{_IO} Parameters ResultPath Result", "Output"),
    "Task": _f(f"{_FLOW} Resource Credentials TimeoutSeconds HeartbeatSeconds Retry Catch",
               f"{_IO} Parameters ResultPath ResultSelector TimeoutSecondsPath HeartbeatSecondsPath",
               "Arguments Output", required="Resource"),
    "Wait": _f(f"{_FLOW} Seconds Timestamp", f"{_IO} SecondsPath TimestampPath", "Output"),
    "Choice": _f("Choices Default Assign", _IO, "Output", required="Choices"),
    "Succeed": _f("", _IO, "Output"),
    "Fail": _f("Error Cause", "ErrorPath CausePath"),
    "Parallel": _f(f"{_FLOW} Branches Retry Catch",
                   f"{_IO} Parameters ResultPath ResultSelector", "Arguments Output",
                   required="Branches"),
    "Map": _f(f"{_FLOW} ItemProcessor Iterator ItemReader ItemSelector ItemBatcher ResultWriter "
              "MaxConcurrency ToleratedFailureCount ToleratedFailurePercentage Label Retry Catch",
              f"{_IO} Parameters ResultPath ResultSelector ItemsPath MaxConcurrencyPath "
              "ToleratedFailureCountPath ToleratedFailurePercentagePath",
              "Items Output"),
}
_TERMINAL_TYPES: Final = frozenset({"Succeed", "Fail"})
_NO_TRANSITION_TYPES: Final = frozenset({"Succeed", "Fail", "Choice"})

_ROOT_FIELDS: Final = frozenset({"StartAt", "States", "Comment", "QueryLanguage", "TimeoutSeconds", "Version"})
_BRANCH_FIELDS: Final = frozenset({"StartAt", "States", "Comment"})
_PROCESSOR_FIELDS: Final = _BRANCH_FIELDS | {"ProcessorConfig"}

_RETRIER_FIELDS: Final = frozenset({"ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate",
                                    "MaxDelaySeconds", "JitterStrategy", "Comment"})
_CATCHER_FIELDS: Final = {JSONPATH: frozenset({"ErrorEquals", "Next", "ResultPath", "Assign", "Comment"}),
                          JSONATA: frozenset({"ErrorEquals", "Next", "Output", "Assign", "Comment"})}

_COMPARISONS: Final[Mapping[str, str]] = {
    **{f"String{op}": "STRING" for op in ("Equals", "LessThan", "GreaterThan", "LessThanEquals",
                                          "GreaterThanEquals", "Matches")},
    **{f"Numeric{op}": "NUMBER" for op in ("Equals", "LessThan", "GreaterThan", "LessThanEquals",
                                           "GreaterThanEquals")},
    "BooleanEquals": "BOOLEAN",
    **{f"Timestamp{op}": "TIMESTAMP" for op in ("Equals", "LessThan", "GreaterThan", "LessThanEquals",
                                                "GreaterThanEquals")},
    **{f"Is{kind}": "BOOLEAN" for kind in ("Null", "Present", "Numeric", "String", "Boolean", "Timestamp")},
}
_PATH_COMPARISONS: Final = frozenset(
    f"{op}Path" for op in _COMPARISONS if not op.startswith("Is") and op != "StringMatches")
_OPERATORS: Final = frozenset(_COMPARISONS) | _PATH_COMPARISONS

_RFC3339: Final = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_JSONATA_CODE: Final = re.compile(r"^[A-Z]\d{4}: ")
_INT32_MAX: Final = 2**31 - 1


# ---------------------------------------------------------------- JSONata sources


def _compile_jsonata(text: str) -> tuple[str, ...]:
    """The top-level field names ``text`` reads; ValueError(jsonata message) if it does not parse."""
    return jsonata.compile(text).top_level_references()


_STRING_LITERAL: Final = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_STATES_FIELD: Final = re.compile(r"\$states\.(errorOutput|result)\b")


def _unsupported_references(text: str, scope: frozenset[str]) -> list[str]:
    """AWS's UNSUPPORTED_JSONATA_EXPRESSION messages for one expression's source.

    ``scope`` names the ``$states`` fields readable where the expression sits (``result`` in a
    Task, Map or Parallel Output/Assign, ``errorOutput`` in a Catcher's).
    """
    code = _STRING_LITERAL.sub('""', text)
    found = []
    if re.search(r"\$\$", code):
        found.append("Reference to '$$' is not supported.")  # AWS (floci-measured)
    for name in dict.fromkeys(_STATES_FIELD.findall(code)):
        if name not in scope:
            found.append(f"Field '$states.{name}' does not exist.")  # AWS (floci-measured)
    return found


def _is_expression(value: JSON) -> bool:
    return isinstance(value, str) and value.startswith("{%") and value.endswith("%}")


# ---------------------------------------------------------------- the schema walk


@dataclass(slots=True)
class _Container:
    """A States block (the machine, a branch, a Map body) kept for the graph phase."""

    prefix: str
    start_at: JSON
    states: dict[str, Any]
    top: bool


@dataclass(slots=True)
class _Walker:
    machine_type: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    containers: list[_Container] = field(default_factory=list)
    names: set[str] = field(default_factory=set)
    language: str = JSONPATH

    def error(self, message: str, at: Pointer | None, code: str = SCHEMA) -> None:
        self.diagnostics.append(Diagnostic(code, message, at))

    # -- value helpers: each reports at ``at`` and returns whether the value was acceptable

    def expect(self, value: JSON, kind: str, at: Pointer) -> bool:
        if _has_type(value, kind):
            return True
        self.error(f"Expected value of type [{kind}]", at)
        return False

    def integer(self, value: JSON, at: Pointer, low: int, high: int | None = None) -> None:
        if not self.expect(value, "INTEGER", at):
            return
        if value < low:
            self.error(f"Minimum value is {low}", at)
        elif high is not None and value > high:
            self.error(f"Maximum value is {high}", at)

    def number(self, value: JSON, at: Pointer, low: float, high: float | None = None) -> None:
        if not self.expect(value, "NUMBER", at):
            return
        if value < low:
            self.error(f"Minimum value is {_num(low)}", at)
        elif high is not None and value > high:
            self.error(f"Maximum value is {_num(high)}", at)

    def enum(self, value: JSON, options: tuple[str, ...], at: Pointer) -> None:
        if self.expect(value, "STRING", at) and value not in options:
            self.error(f"Value should be one of the following: [{', '.join(options)}]", at)

    def keys(self, raw: dict[str, Any], allowed: frozenset[str], at: Pointer) -> None:
        for key in raw:
            if key not in allowed:
                self.error(f"Field '{key}' is not supported", at)

    def required(self, raw: dict[str, Any], names: tuple[str, ...], at: Pointer) -> bool:
        missing = [name for name in names if name not in raw]
        if missing:
            self.error(f"These fields are required: [{', '.join(missing)}]", at)
        return not missing

    # -- paths, payload templates, JSONata

    def path(self, value: JSON, name: str, at: Pointer, *, nullable: bool = False,
             reference: bool = False) -> None:
        if value is None and nullable:
            return
        if not isinstance(value, str):
            self.error("Expected value of type [STRING]", at)
            return
        if reference and value.startswith("$$"):
            ok = False
        else:
            try:
                compile_path(value)
                ok = True
            except ValueError:
                ok = False
        if not ok:
            self.error(f"The value for the field '{name}' must be a valid JSONPath", at)

    def payload(self, value: JSON, at: Pointer) -> None:
        """Parameters-like payloads: keys ending ``.$`` hold a path or an intrinsic call."""
        if isinstance(value, list):
            for i, item in enumerate(value):
                self.payload(item, f"{at}[{i}]")
            return
        if not isinstance(value, dict):
            return
        for key, item in value.items():
            if key.endswith(".$") and not _is_dynamic(item):
                # AWS: "The value for the field 'parsed.$' must be a valid JSONPath or a valid
                # intrinsic function call at /States/IntrinsicEscape/Parameters" (recorded).
                self.error(f"The value for the field '{key}' must be a valid JSONPath or a valid "
                           "intrinsic function call", at)
            elif not key.endswith(".$"):
                self.payload(item, f"{at}/{key}")

    def object_payload(self, value: JSON, at: Pointer) -> None:
        if self.expect(value, "OBJECT", at):
            self.payload(value, at)

    def jsonata(self, value: JSON, at: Pointer, scope: frozenset[str] = frozenset()) -> None:
        """Every ``{% %}`` string inside ``value`` must parse and read only what AWS provides there."""
        if isinstance(value, dict):
            for key, item in value.items():
                self.jsonata(item, f"{at}/{key}", scope)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                self.jsonata(item, f"{at}[{i}]", scope)
        elif _is_expression(value):
            try:
                names = _compile_jsonata(value)
            except ValueError as err:
                # AWS (floci-measured): the jsonata-js message without its "S0201: " code.
                self.error(_JSONATA_CODE.sub("", str(err)), at, INVALID_JSONATA)
                return
            for name in names:
                # AWS: "Reference to 'phone' at the top level is not supported." (floci-measured)
                self.error(f"Reference to '{name}' at the top level is not supported.", at, UNSUPPORTED_JSONATA)
            for message in _unsupported_references(value[2:-2], scope):
                self.error(message, at, UNSUPPORTED_JSONATA)

    def jsonata_or(self, value: JSON, at: Pointer, check: Callable[[], object]) -> None:
        """A JSONata-state field that takes either an expression or a literal checked by ``check``."""
        if isinstance(value, str) and _is_expression(value):
            self.jsonata(value, at)
        else:
            check()

    # -- machines and states

    def machine(self, raw: JSON, at: Pointer, *, kind: str) -> None:
        """``kind``: root, branch or processor; ``at`` is the container's own location."""
        here = at or "/"
        if not self.expect(raw, "OBJECT", here):
            return
        allowed = {"root": _ROOT_FIELDS, "branch": _BRANCH_FIELDS, "processor": _PROCESSOR_FIELDS}[kind]
        # AWS: "These fields are required: [States, StartAt]" at / (recorded, in this order).
        self.required(raw, ("States", "StartAt"), here)
        self.keys(raw, allowed, here)
        for key, value in raw.items():
            where = f"{at}/{key}"
            if key == "StartAt" or key == "Comment":
                self.expect(value, "STRING", where)
            elif key == "Version" and kind == "root":
                self.expect(value, "STRING", where)
            elif key == "TimeoutSeconds" and kind == "root":
                self.integer(value, where, 0, 99999999)
            elif key == "ProcessorConfig" and kind == "processor":
                self.processor_config(value, where)
        states = raw.get("States")
        if "States" not in raw or not self.expect(states, "OBJECT", f"{at}/States"):
            return
        if not states:
            self.error("Value cannot be empty", f"{at}/States")
        self.containers.append(_Container(at, raw.get("StartAt"), states, kind == "root"))
        for name, body in states.items():
            self.state(name, body, f"{at}/States/{name}")

    def processor_config(self, value: JSON, at: Pointer) -> None:
        if not self.expect(value, "OBJECT", at):
            return
        self.keys(value, frozenset({"Mode", "ExecutionType"}), at)
        if "Mode" in value:
            self.enum(value["Mode"], ("INLINE", "DISTRIBUTED"), f"{at}/Mode")
        if "ExecutionType" in value:
            self.enum(value["ExecutionType"], ("STANDARD", "EXPRESS"), f"{at}/ExecutionType")

    def state(self, name: str, raw: JSON, at: Pointer) -> None:
        if name in self.names:
            self.error(f"Duplicate State name: {name}", at, DUPLICATE_STATE)
        self.names.add(name)
        if not self.expect(raw, "OBJECT", at):
            return
        if not self.required(raw, ("Type",), at):
            return
        kind = raw["Type"]
        if kind not in STATE_TYPES:
            self.error(f"The field 'Type' should have one of these values: [{', '.join(STATE_TYPES)}]",
                       f"{at}/Type")
            return
        language, downgraded = self.state_language(raw, at)
        fields = _FIELDS[kind]
        self.required(raw, fields.required, at)
        allowed, other = fields.allowed(language), fields.other(language)
        for key in raw:
            if key in allowed:
                continue
            if key not in other:
                self.error(f"Field '{key}' is not supported", at)
            elif not downgraded:
                # AWS (floci-measured): the field family is reported at the state.
                wanted = JSONATA if language == JSONPATH else JSONPATH
                self.error(f"The QueryLanguage is set to '{language}', but field '{key}' is only "
                           f"supported for the '{wanted}' QueryLanguage", at)
        if kind not in _NO_TRANSITION_TYPES:
            self.transition(raw, at)
        if kind == "Map" and "ItemProcessor" not in raw and "Iterator" not in raw:
            self.error("These fields are required: [ItemProcessor]", at)
        if kind == "Wait":
            self.wait_fields(raw, at)
        ctx = _StateContext(kind, language, at)
        for key, value in raw.items():
            if key in allowed:
                check = _CHECKS.get(key)
                if check is not None:
                    check(self, ctx, value, f"{at}/{key}")

    def state_language(self, raw: dict[str, Any], at: Pointer) -> tuple[str, bool]:
        """The state's query language (exactly "JSONPath", else JSONata; absent: the machine's)."""
        if "QueryLanguage" not in raw:
            return self.language, False
        value = raw["QueryLanguage"]
        language = JSONPATH if value == JSONPATH else JSONATA
        downgraded = language == JSONPATH and self.language == JSONATA
        if downgraded:
            # AWS: recorded (localstack test_sfn_api_validation), located at the state.
            self.error("'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine", at)
        return language, downgraded

    def transition(self, raw: dict[str, Any], at: Pointer) -> None:
        has_next, end = "Next" in raw, raw.get("End")
        if has_next and "End" in raw:
            self.error("Exactly one of these fields is required: [Next, End]", at)
        elif not has_next and end is not True:
            if "End" in raw and isinstance(end, bool):
                self.error("The value for the field 'End' must be true", f"{at}/End")
            elif "End" not in raw:
                self.error("Exactly one of these fields is required: [Next, End]", at)

    def wait_fields(self, raw: dict[str, Any], at: Pointer) -> None:
        given = [k for k in ("Seconds", "SecondsPath", "Timestamp", "TimestampPath") if k in raw]
        if len(given) != 1:
            self.error("Exactly one of these fields is required: [Seconds, SecondsPath, Timestamp, "
                       "TimestampPath]", at)


@dataclass(frozen=True, slots=True)
class _StateContext:
    kind: str
    language: str
    at: Pointer

    @property
    def jsonata(self) -> bool:
        return self.language == JSONATA

    @property
    def result_scope(self) -> frozenset[str]:
        """The ``$states`` fields an Output or Assign of this state may read besides input/context."""
        return _WITH_RESULT if self.kind in ("Task", "Map", "Parallel") else frozenset()


_WITH_RESULT: Final = frozenset({"result"})
_IN_CATCHER: Final = frozenset({"errorOutput"})


def _has_type(value: JSON, kind: str) -> bool:
    if kind == "STRING":
        return isinstance(value, str)
    if kind == "BOOLEAN":
        return isinstance(value, bool)
    if kind == "INTEGER":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer())
    if kind == "NUMBER":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "OBJECT":
        return isinstance(value, dict)
    if kind == "ARRAY":
        return isinstance(value, list)
    raise AssertionError(kind)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _is_dynamic(value: JSON) -> bool:
    """A ``.$`` value: a path ($, $$, $var) or an intrinsic function call that parses."""
    if not isinstance(value, str):
        return False
    if intrinsics.is_intrinsic(value):
        try:
            intrinsics.parse(value)
        except intrinsics.IntrinsicSyntaxError:
            return False
        return True
    try:
        compile_path(value)
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------- per-field checks

_Check = Callable[[_Walker, _StateContext, JSON, Pointer], None]


def _string(w: _Walker, ctx: _StateContext, value: JSON, at: Pointer) -> None:
    w.expect(value, "STRING", at)


def _boolean(w: _Walker, ctx: _StateContext, value: JSON, at: Pointer) -> None:
    w.expect(value, "BOOLEAN", at)


def _query_language(w: _Walker, ctx: _StateContext, value: JSON, at: Pointer) -> None:
    w.enum(value, (JSONPATH, JSONATA), at)


def _io_path(w: _Walker, ctx: _StateContext, value: JSON, at: Pointer) -> None:
    w.path(value, at.rsplit("/", 1)[1], at, nullable=True)


def _result_path(w: _Walker, ctx: _StateContext, value: JSON, at: Pointer) -> None:
    w.path(value, "ResultPath", at, nullable=True, reference=True)


def _value_path(w: _Walker, ctx: _StateContext, value: JSON, at: Pointer) -> None:
    w.path(value, at.rsplit("/", 1)[1], at)


def _template(w: _Walker, ctx: _StateContext, value: JSON, at: Pointer) -> None:
    w.object_payload(value, at)


def _assign(w: _Walker, ctx: _StateContext, value: JSON, at: Pointer) -> None:
    if not w.expect(value, "OBJECT", at):
        return
    if ctx.jsonata:
        w.jsonata(value, at, ctx.result_scope)
    else:
        w.payload(value, at)


def _output(w: _Walker, ctx: _StateContext, value: JSON, at: Pointer) -> None:
    w.jsonata(value, at, ctx.result_scope)


def _arguments(w: _Walker, ctx: _StateContext, value: JSON, at: Pointer) -> None:
    if _is_expression(value) or w.expect(value, "OBJECT", at):
        w.jsonata(value, at)


def _items(w: _Walker, ctx: _StateContext, value: JSON, at: Pointer) -> None:
    if _is_expression(value) or w.expect(value, "ARRAY", at):
        w.jsonata(value, at)


def _next(w: _Walker, ctx: _StateContext, value: JSON, at: Pointer) -> None:
    w.expect(value, "STRING", at)


def _end(w: _Walker, ctx: _StateContext, value: JSON, at: Pointer) -> None:
    w.expect(value, "BOOLEAN", at)


def _resource(w: _Walker, ctx: _StateContext, value: JSON, at: Pointer) -> None:
    if not w.expect(value, "STRING", at):
        return
    if not _is_known_integration(value):
        # AWS: "The resource provided arn:aws:states:::dynamodb:query is not recognized. The value
        # is not a valid resource ARN, or the resource is not available in this region." (recorded)
        w.error(f"The resource provided {value} is not recognized. The value is not a valid resource ARN, "
                "or the resource is not available in this region.", at)
        return
    if w.machine_type != "EXPRESS":
        return
    # AWS (recorded): the .waitForTaskToken message ends with a space, the .sync one does not.
    if value.endswith(".waitForTaskToken"):
        w.error("Express state machine does not support '.waitForTaskToken' service integration ", at)
    elif _SYNC.search(value):
        w.error("Express state machine does not support '.sync' service integration", at)
    elif value.startswith("arn:") and ":activity:" in value:
        w.error("Express state machine does not support Activity ARN", at)


_SYNC: Final = re.compile(r"\.sync(:\d+)?$")
_OPTIMIZED: Final = re.compile(r"^arn:[^:]+:states:::([a-z0-9-]+):([A-Za-z0-9]+)(\.sync(:\d+)?|\.waitForTaskToken)?$")
# Optimized integrations whose actions AWS lists; a service not listed here is not checked.
_INTEGRATIONS: Final[Mapping[str, frozenset[str]]] = {
    "dynamodb": frozenset({"getItem", "putItem", "deleteItem", "updateItem"}),
    "lambda": frozenset({"invoke"}),
    "sns": frozenset({"publish"}),
    "sqs": frozenset({"sendMessage"}),
    "states": frozenset({"startExecution"}),
    "events": frozenset({"putEvents"}),
    "apigateway": frozenset({"invoke"}),
    "http": frozenset({"invoke"}),
    "glue": frozenset({"startJobRun"}),
    "batch": frozenset({"submitJob"}),
    "ecs": frozenset({"runTask"}),
}


def _is_known_integration(resource: str) -> bool:
    match = _OPTIMIZED.match(resource)
    if match is None:
        return True  # Lambda and activity ARNs, aws-sdk integrations, anything not optimized
    actions = _INTEGRATIONS.get(match.group(1))
    return actions is None or match.group(2) in actions


def _credentials(w: _Walker, ctx: _StateContext, value: JSON, at: Pointer) -> None:
    if not w.expect(value, "OBJECT", at):
        return
    # AWS (recorded): unknown keys are not reported, only the missing role.
    if "RoleArn" not in value and ("RoleArn.$" not in value or ctx.jsonata):
        w.error("The field 'RoleArn' is required but was missing", at)
        return
    if ctx.jsonata:
        w.jsonata(value, at)
    else:
        w.payload(value, at)


def _seconds(low: int, high: int) -> _Check:
    def check(w: _Walker, ctx: _StateContext, value: JSON, at: Pointer) -> None:
        w.jsonata_or(value, at, lambda: w.integer(value, at, low, high))
    return check


def _timestamp(w: _Walker, ctx: _StateContext, value: JSON, at: Pointer) -> None:
    if ctx.jsonata and _is_expression(value):
        w.jsonata(value, at)
    elif w.expect(value, "STRING", at) and not _is_timestamp(value):
        # AWS: "String does not match RFC3339 timestamp" at the field (recorded).
        w.error("String does not match RFC3339 timestamp", at)


def _is_timestamp(text: str) -> bool:
    if _RFC3339.match(text) is None:
        return False
    try:
        datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _error_text(w: _Walker, ctx: _StateContext, value: JSON, at: Pointer) -> None:
    w.jsonata_or(value, at, lambda: w.expect(value, "STRING", at))


def _error_path(w: _Walker, ctx: _StateContext, value: JSON, at: Pointer) -> None:
    if not _is_dynamic(value):
        name = at.rsplit("/", 1)[1]
        w.error(f"The value for the field '{name}' must be a valid JSONPath or a valid intrinsic "
                "function call", at)


def _choices(w: _Walker, ctx: _StateContext, value: JSON, at: Pointer) -> None:
    if not w.expect(value, "ARRAY", at):
        return
    if not value:
        w.error("Value cannot be empty", at)
    for i, rule in enumerate(value):
        where = f"{at}[{i}]"
        if ctx.jsonata:
            _jsonata_rule(w, rule, where)
        else:
            _jsonpath_rule(w, rule, where, top=True)


def _jsonata_rule(w: _Walker, rule: JSON, at: Pointer) -> None:
    if not w.expect(rule, "OBJECT", at):
        return
    w.required(rule, ("Condition", "Next"), at)
    w.keys(rule, frozenset({"Condition", "Next", "Output", "Assign", "Comment"}), at)
    for key, item in rule.items():
        where = f"{at}/{key}"
        if key in ("Next", "Comment"):
            w.expect(item, "STRING", where)
        elif key == "Condition":
            w.jsonata_or(item, where, lambda: w.expect(item, "BOOLEAN", where))
        elif key == "Assign":
            if w.expect(item, "OBJECT", where):
                w.jsonata(item, where)
        elif key == "Output":
            w.jsonata(item, where)


def _jsonpath_rule(w: _Walker, rule: JSON, at: Pointer, *, top: bool) -> None:
    if not w.expect(rule, "OBJECT", at):
        return
    allowed = {"Variable", "And", "Or", "Not", "Comment"} | _OPERATORS
    if top:
        allowed |= {"Next", "Assign"}
        w.required(rule, ("Next",), at)
    w.keys(rule, frozenset(allowed), at)
    operators = [key for key in rule if key in _OPERATORS]
    combinators = [key for key in rule if key in ("And", "Or", "Not")]
    if len(operators) + len(combinators) != 1:
        w.error("A Choice Rule must have exactly one comparison operator or And, Or, Not", at)
    elif operators and "Variable" not in rule:
        w.error("These fields are required: [Variable]", at)
    for key, item in rule.items():
        where = f"{at}/{key}"
        if key in ("Next", "Comment"):
            w.expect(item, "STRING", where)
        elif key == "Variable":
            w.path(item, "Variable", where)
        elif key == "Assign":
            if w.expect(item, "OBJECT", where):
                w.payload(item, where)
        elif key in ("And", "Or"):
            if w.expect(item, "ARRAY", where):
                if not item:
                    w.error("Value cannot be empty", where)
                for i, sub in enumerate(item):
                    _jsonpath_rule(w, sub, f"{where}[{i}]", top=False)
        elif key == "Not":
            _jsonpath_rule(w, item, where, top=False)
        elif key in _PATH_COMPARISONS:
            w.path(item, key, where)
        elif key in _COMPARISONS:
            _comparison_value(w, _COMPARISONS[key], item, where)


def _comparison_value(w: _Walker, kind: str, value: JSON, at: Pointer) -> None:
    if kind == "TIMESTAMP":
        if w.expect(value, "STRING", at) and not _is_timestamp(value):
            w.error("String does not match RFC3339 timestamp", at)
    else:
        w.expect(value, kind, at)


def _branches(w: _Walker, ctx: _StateContext, value: JSON, at: Pointer) -> None:
    if not w.expect(value, "ARRAY", at):
        return
    if not value:
        # AWS: "Value cannot be empty at /States/StateName/Branches" (recorded, TestState).
        w.error("Value cannot be empty", at)
    for i, branch in enumerate(value):
        w.machine(branch, f"{at}[{i}]", kind="branch")


def _processor(w: _Walker, ctx: _StateContext, value: JSON, at: Pointer) -> None:
    w.machine(value, at, kind="processor")


def _max_concurrency(w: _Walker, ctx: _StateContext, value: JSON, at: Pointer) -> None:
    w.jsonata_or(value, at, lambda: w.integer(value, at, 0))


def _tolerated_count(w: _Walker, ctx: _StateContext, value: JSON, at: Pointer) -> None:
    w.jsonata_or(value, at, lambda: w.integer(value, at, 0))


def _tolerated_percentage(w: _Walker, ctx: _StateContext, value: JSON, at: Pointer) -> None:
    w.jsonata_or(value, at, lambda: w.number(value, at, 0, 100))


def _item_selector(w: _Walker, ctx: _StateContext, value: JSON, at: Pointer) -> None:
    if ctx.jsonata:
        if _is_expression(value) or w.expect(value, "OBJECT", at):
            w.jsonata(value, at)
    else:
        w.object_payload(value, at)


def _item_reader(w: _Walker, ctx: _StateContext, value: JSON, at: Pointer) -> None:
    if not w.expect(value, "OBJECT", at):
        return
    fields = {"Resource", "ReaderConfig", "Comment", "Parameters" if not ctx.jsonata else "Arguments"}
    w.required(value, ("Resource",), at)
    _sub_object(w, ctx, value, at, frozenset(fields))
    config = value.get("ReaderConfig")
    if config is not None and w.expect(config, "OBJECT", f"{at}/ReaderConfig"):
        where = f"{at}/ReaderConfig"
        w.keys(config, frozenset({"InputType", "CSVHeaderLocation", "CSVHeaders", "MaxItems",
                                  "MaxItemsPath", "CSVDelimiter", "ManifestType"}), where)
        if "InputType" in config:
            w.enum(config["InputType"], ("CSV", "JSON", "JSONL", "MANIFEST", "PARQUET"), f"{where}/InputType")


def _result_writer(w: _Walker, ctx: _StateContext, value: JSON, at: Pointer) -> None:
    if not w.expect(value, "OBJECT", at):
        return
    fields = {"Resource", "WriterConfig", "Comment", "Parameters" if not ctx.jsonata else "Arguments"}
    _sub_object(w, ctx, value, at, frozenset(fields))


def _item_batcher(w: _Walker, ctx: _StateContext, value: JSON, at: Pointer) -> None:
    if not w.expect(value, "OBJECT", at):
        return
    fields = {"MaxItemsPerBatch", "MaxInputBytesPerBatch", "BatchInput"}
    if not ctx.jsonata:
        fields |= {"MaxItemsPerBatchPath", "MaxInputBytesPerBatchPath"}
    w.keys(value, frozenset(fields), at)
    for key in ("MaxItemsPerBatch", "MaxInputBytesPerBatch"):
        if key in value:
            _count(w, value[key], f"{at}/{key}")


def _count(w: _Walker, value: JSON, at: Pointer) -> None:
    w.jsonata_or(value, at, lambda: w.integer(value, at, 0))


def _sub_object(w: _Walker, ctx: _StateContext, value: dict[str, Any], at: Pointer,
                fields: frozenset[str]) -> None:
    w.keys(value, fields, at)
    if "Resource" in value:
        w.expect(value["Resource"], "STRING", f"{at}/Resource")
    if "Parameters" in value and not ctx.jsonata:
        w.object_payload(value["Parameters"], f"{at}/Parameters")
    if "Arguments" in value and ctx.jsonata:
        w.jsonata(value["Arguments"], f"{at}/Arguments")


def _label(w: _Walker, ctx: _StateContext, value: JSON, at: Pointer) -> None:
    w.expect(value, "STRING", at)


def _retry(w: _Walker, ctx: _StateContext, value: JSON, at: Pointer) -> None:
    if not w.expect(value, "ARRAY", at):
        return
    for i, retrier in enumerate(value):
        where = f"{at}[{i}]"
        if not w.expect(retrier, "OBJECT", where):
            continue
        w.required(retrier, ("ErrorEquals",), where)
        w.keys(retrier, _RETRIER_FIELDS, where)
        _error_equals(w, retrier, where, last=i == len(value) - 1, what="Retrier")
        for key, item in retrier.items():
            spot = f"{where}/{key}"
            if key == "IntervalSeconds" or key == "MaxDelaySeconds":
                w.integer(item, spot, 1, 99999999)
            elif key == "MaxAttempts":
                w.integer(item, spot, 0, 99999999)
            elif key == "BackoffRate":
                w.number(item, spot, 1.0)
            elif key == "JitterStrategy":
                w.enum(item, ("FULL", "NONE"), spot)
            elif key == "Comment":
                w.expect(item, "STRING", spot)


def _catch(w: _Walker, ctx: _StateContext, value: JSON, at: Pointer) -> None:
    if not w.expect(value, "ARRAY", at):
        return
    for i, catcher in enumerate(value):
        where = f"{at}[{i}]"
        if not w.expect(catcher, "OBJECT", where):
            continue
        w.required(catcher, ("ErrorEquals", "Next"), where)
        w.keys(catcher, _CATCHER_FIELDS[ctx.language], where)
        _error_equals(w, catcher, where, last=i == len(value) - 1, what="Catcher")
        for key, item in catcher.items():
            spot = f"{where}/{key}"
            if key in ("Next", "Comment"):
                w.expect(item, "STRING", spot)
            elif key == "ResultPath" and not ctx.jsonata:
                w.path(item, "ResultPath", spot, nullable=True, reference=True)
            elif key == "Output" and ctx.jsonata:
                w.jsonata(item, spot, _IN_CATCHER)
            elif key == "Assign" and w.expect(item, "OBJECT", spot):
                if ctx.jsonata:
                    w.jsonata(item, spot, _IN_CATCHER)
                else:
                    w.payload(item, spot)


def _error_equals(w: _Walker, raw: dict[str, Any], at: Pointer, *, last: bool, what: str) -> None:
    names = raw.get("ErrorEquals")
    where = f"{at}/ErrorEquals"
    if "ErrorEquals" not in raw or not w.expect(names, "ARRAY", where) or not isinstance(names, list):
        return
    if not names:
        w.error("Value cannot be empty", where)
    for i, name in enumerate(names):
        w.expect(name, "STRING", f"{where}[{i}]")
    # ASL: "The reserved name "States.ALL" ... MUST appear alone in the ErrorEquals array and
    # MUST appear in the last Retrier/Catcher".
    if "States.ALL" in names:
        if len(names) > 1:
            w.error("States.ALL must appear alone in the ErrorEquals array", where)
        elif not last:
            w.error(f"A {what} with States.ALL must be the last {what}", where)


_CHECKS: Final[Mapping[str, _Check]] = {
    "Comment": _string,
    "QueryLanguage": _query_language,
    "Next": _next,
    "End": _end,
    "InputPath": _io_path,
    "OutputPath": _io_path,
    "ResultPath": _result_path,
    "Parameters": _template,
    "ResultSelector": _template,
    "Assign": _assign,
    "Output": _output,
    "Arguments": _arguments,
    "Resource": _resource,
    "Credentials": _credentials,
    "TimeoutSeconds": _seconds(1, 99999999),
    "HeartbeatSeconds": _seconds(1, 99999999),
    "TimeoutSecondsPath": _value_path,
    "HeartbeatSecondsPath": _value_path,
    "Seconds": _seconds(0, 99999999),
    "SecondsPath": _value_path,
    "Timestamp": _timestamp,
    "TimestampPath": _value_path,
    "Error": _error_text,
    "Cause": _error_text,
    "ErrorPath": _error_path,
    "CausePath": _error_path,
    "Choices": _choices,
    "Default": _next,
    "Branches": _branches,
    "ItemProcessor": _processor,
    "Iterator": _processor,
    "ItemsPath": _value_path,
    "Items": _items,
    "ItemSelector": _item_selector,
    "ItemReader": _item_reader,
    "ItemBatcher": _item_batcher,
    "ResultWriter": _result_writer,
    "MaxConcurrency": _max_concurrency,
    "MaxConcurrencyPath": _value_path,
    "ToleratedFailureCount": _tolerated_count,
    "ToleratedFailureCountPath": _value_path,
    "ToleratedFailurePercentage": _tolerated_percentage,
    "ToleratedFailurePercentagePath": _value_path,
    "Label": _label,
    "Retry": _retry,
    "Catch": _catch,
}


# ---------------------------------------------------------------- the graph phase


def _graph(containers: list[_Container]) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    for box in containers:
        found.extend(_container_graph(box))
    return found


def _container_graph(box: _Container) -> list[Diagnostic]:
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
    if box.top and not any(_is_terminal(raw) for raw in states.values()):
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
    return raw.get("Type") in _TERMINAL_TYPES or raw.get("End") is True


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


# ---------------------------------------------------------------- public API


def validate(raw: dict[str, Any], *, type: str = "STANDARD") -> list[Diagnostic]:  # noqa: A002 - AWS's name
    """Every problem AWS reports for this definition; ``type`` is STANDARD or EXPRESS."""
    walker = _Walker(type)
    if isinstance(raw, dict) and "QueryLanguage" in raw:
        value = raw["QueryLanguage"]
        walker.language = JSONPATH if value == JSONPATH else JSONATA
        walker.enum(value, (JSONPATH, JSONATA), "/QueryLanguage")
    walker.machine(raw, "", kind="root")
    if walker.diagnostics:
        return walker.diagnostics
    return _graph(walker.containers)


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


# ---------------------------------------------------------------- JSON text, as Jackson reads it


def _parse(text: str) -> tuple[Any, Diagnostic | None]:
    """(definition, None) or (None, the diagnostic AWS gives for this text)."""
    not_object = Diagnostic(SCHEMA, "Definition must be a valid JSON object", None)
    if not isinstance(text, str) or not text.strip():
        # AWS: a blank definition (recorded, ValidateStateMachineDefinition " ").
        return None, not_object
    problem = _jackson_error(text)
    if problem is not None:
        message, location = problem
        return None, Diagnostic(INVALID_JSON, f"{message}\n at {location}", location)
    raw = json.JSONDecoder().raw_decode(text.lstrip(" \t\r\n"))[0]
    if not isinstance(raw, dict):
        return None, not_object
    return raw, None


_EXPECTED_VALUE: Final = ("was expecting (JSON String, Number, Array, Object or token 'null', "
                          "'true' or 'false')")


class _JsonSyntax(Exception):
    def __init__(self, message: str, position: int, start: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position
        self.start = start


def _jackson_error(text: str) -> tuple[str, str] | None:
    """Jackson's first complaint about ``text`` and its ``[Source: ...]`` location, or None.

    Jackson (AWS's parser) reads one root value and ignores what follows it; positions are
    1-based columns just past the offending character.
    """
    try:
        _JsonScan(text).root()
    except _JsonSyntax as err:
        return err.message + _start_marker(err, text), _source(text, err.position)
    return None


def _start_marker(err: _JsonSyntax, text: str) -> str:
    return "" if err.start is None else f" (start marker at {_source(text, err.start)})"


def _source(text: str, position: int) -> str:
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    snippet = '"' + text[:500] + '"'  # Jackson 2.x quotes the text without escaping it
    if len(text) > 500:
        snippet += f"[truncated {len(text) - 500} chars]"
    return f"[Source: (String){snippet}; line: {line}, column: {column}]"


_WS: Final = " \t\r\n"
_NUMBER: Final = re.compile(r"-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?")


class _JsonScan:
    """A strict JSON reader that fails with Jackson's wording (only used for error reporting)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0

    def fail(self, message: str, position: int | None = None) -> _JsonSyntax:
        return _JsonSyntax(message, self.i if position is None else position)

    def skip(self) -> str:
        while self.i < len(self.text) and self.text[self.i] in _WS:
            self.i += 1
        return self.text[self.i] if self.i < len(self.text) else ""

    def unexpected(self, char: str, why: str) -> _JsonSyntax:
        self.i += 1
        shown = _char_name(char)
        return self.fail(f"Unexpected character ({shown}): {why}")

    def root(self) -> None:
        if not self.skip():
            raise self.fail("No content to map due to end-of-input")
        self.value()

    def value(self) -> None:
        char = self.skip()
        if char == "{":
            self.container("}", "Object")
        elif char == "[":
            self.container("]", "Array")
        elif char == '"':
            self.string()
        elif char == "-" or char.isdigit():
            self.number()
        elif char == "":
            raise self.fail("Unexpected end-of-input: expected a value")
        elif char.isalpha() or char in "_$":
            self.word()
        else:
            raise self.unexpected(char, "expected a value")

    def container(self, close: str, kind: str) -> None:
        start = self.i
        self.i += 1
        char = self.skip()
        if char == close:
            self.i += 1
            return
        while True:
            if char == "":
                raise _JsonSyntax(f"Unexpected end-of-input: expected close marker for {kind}", self.i, start)
            if kind == "Object":
                self.member(char)
            else:
                self.value()
            char = self.skip()
            if char == close:
                self.i += 1
                return
            if char == "":
                continue
            if char != ",":
                raise self.unexpected(char, f"was expecting comma to separate {kind} entries")
            self.i += 1
            char = self.skip()
            if kind == "Array" and char == "]":
                raise self.unexpected(char, "expected a value")

    def member(self, char: str) -> None:
        if char != '"':
            raise self.unexpected(char, "was expecting double-quote to start field name")
        self.string()
        char = self.skip()
        if char != ":":
            if char == "":
                raise self.fail("Unexpected end-of-input: was expecting a colon to separate field name and value")
            raise self.unexpected(char, "was expecting a colon to separate field name and value")
        self.i += 1
        self.value()

    def string(self) -> None:
        self.i += 1
        while self.i < len(self.text):
            char = self.text[self.i]
            self.i += 1
            if char == '"':
                return
            if char == "\\":
                self.escape()
            elif ord(char) < 32:
                raise self.fail(f"Illegal unquoted character ({_ctrl_name(char)}): has to be escaped "
                                "using backslash to be included in string value")
        raise self.fail("Unexpected end-of-input: was expecting closing quote for a string value")

    def escape(self) -> None:
        if self.i >= len(self.text):
            raise self.fail("Unexpected end-of-input in character escape sequence")
        char = self.text[self.i]
        self.i += 1
        if char == "u":
            digits = self.text[self.i:self.i + 4]
            for j, digit in enumerate(digits):
                if digit not in "0123456789abcdefABCDEF":
                    self.i += j + 1
                    raise self.fail(f"Unexpected character ({_char_name(digit)}): expected a hex-digit "
                                    "for character escape sequence")
            self.i += 4
        elif char not in '"\\/bfnrt':
            raise self.fail(f"Unrecognized character escape {_char_name(char)}")

    def number(self) -> None:
        match = _NUMBER.match(self.text, self.i)
        if match is None:  # a lone minus sign
            self.i += 1
            nxt = self.text[self.i:self.i + 1]
            if nxt == "":
                raise self.fail("Unexpected end-of-input in a Number value")
            raise self.unexpected(nxt, "expected digit (0-9) to follow minus sign, for valid numeric value")
        self.i = match.end()
        if match.group(1) == "0" and self.text[self.i:self.i + 1].isdigit():
            self.i += 1
            raise self.fail("Invalid numeric value: Leading zeroes not allowed")

    def word(self) -> None:
        start = self.i
        while self.i < len(self.text) and (self.text[self.i].isalnum() or self.text[self.i] in "_$"):
            self.i += 1
        token = self.text[start:self.i]
        if token in ("true", "false", "null"):
            return
        if token in ("NaN", "Infinity"):
            raise self.fail(f"Non-standard token '{token}': enable JsonParser.Feature.ALLOW_NON_NUMERIC_NUMBERS "
                            "to allow")
        raise self.fail(f"Unrecognized token '{token}': {_EXPECTED_VALUE}")


def _char_name(char: str) -> str:
    if ord(char) < 32:
        return _ctrl_name(char)
    return f"'{char}' (code {ord(char)})"


def _ctrl_name(char: str) -> str:
    return f"CTRL-CHAR, code {ord(char)}"
