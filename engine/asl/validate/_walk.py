"""The schema walk: fields per state type and query language, value types, paths, payloads, JSONata."""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from engine.asl import intrinsics, jsonata
from engine.asl.paths import compile_path
from engine.errors import Diagnostic
from engine.types import JSON, Pointer

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
TERMINAL_TYPES: Final = frozenset({"Succeed", "Fail"})
_EXCLUSIVE: Final = (("Error", "ErrorPath"), ("Cause", "CausePath"), ("TimeoutSeconds", "TimeoutSecondsPath"),
                     ("HeartbeatSeconds", "HeartbeatSecondsPath"), ("MaxConcurrency", "MaxConcurrencyPath"),
                     ("ToleratedFailureCount", "ToleratedFailureCountPath"),
                     ("ToleratedFailurePercentage", "ToleratedFailurePercentagePath"),
                     ("ItemProcessor", "Iterator"), ("ItemSelector", "Parameters"))
_NO_TRANSITION_TYPES: Final = frozenset({"Succeed", "Fail", "Choice"})

_ROOT_FIELDS: Final = frozenset({"StartAt", "States", "Comment", "QueryLanguage", "TimeoutSeconds", "Version"})
_BRANCH_FIELDS: Final = frozenset({"StartAt", "States", "Comment"})
_PROCESSOR_FIELDS: Final = _BRANCH_FIELDS | {"ProcessorConfig"}

_JSONATA_CODE: Final = re.compile(r"^[A-Z]\d{4}: ")

# ---------------------------------------------------------------- JSONata sources


def _compile_jsonata(text: str) -> tuple[str, ...]:
    """The top-level field names ``text`` reads; ValueError(jsonata message) if it does not parse."""
    return jsonata.compile(text).top_level_references()


_STRING_LITERAL: Final = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_STATES_FIELD: Final = re.compile(r"\$states\.([A-Za-z_][A-Za-z0-9_]*)")
_ALWAYS: Final = frozenset({"input", "context"})


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
        if name not in scope and name not in _ALWAYS:
            found.append(f"Field '$states.{name}' does not exist.")  # AWS (floci-measured)
    return found


def is_expression(value: JSON) -> bool:
    """A JSONata expression string, written ``{% ... %}``."""
    return isinstance(value, str) and value.startswith("{%") and value.endswith("%}")


# ---------------------------------------------------------------- the schema walk


@dataclass(slots=True)
class Container:
    """A States block (the machine, a branch, a Map body) kept for the graph phase."""

    prefix: str
    start_at: JSON
    states: dict[str, Any]
    top: bool


@dataclass(slots=True)
class Walker:
    """Walks a definition once, collecting Diagnostics and the States blocks for the graph phase."""

    machine_type: str
    checks: Mapping[str, Check]
    diagnostics: list[Diagnostic] = field(default_factory=list)
    containers: list[Container] = field(default_factory=list)
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
        try:
            compiled = compile_path(value)
            # A reference path (ResultPath) writes into the state input: no $$, no variable,
            # no wildcard, slice, filter or descent.
            ok = not reference or (compiled.is_reference and re.match(r"^\$($|[.\[])", value) is not None)
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
            if key.endswith(".$") and not is_dynamic(item):
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
        elif is_expression(value):
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
        if isinstance(value, str) and is_expression(value):
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
                self.integer(value, where, 1, 99999999)
            elif key == "ProcessorConfig" and kind == "processor":
                self.processor_config(value, where)
        states = raw.get("States")
        if "States" not in raw or not self.expect(states, "OBJECT", f"{at}/States"):
            return
        if not states:
            self.error("Value cannot be empty", f"{at}/States")
        self.containers.append(Container(at, raw.get("StartAt"), states, kind == "root"))
        for name, body in states.items():
            self.state(name, body, f"{at}/States/{name}")

    def processor_config(self, value: JSON, at: Pointer) -> None:
        if not self.expect(value, "OBJECT", at):
            return
        self.keys(value, frozenset({"Mode", "ExecutionType"}), at)
        if value.get("Mode") == "DISTRIBUTED":
            # AWS documents ExecutionType as required for a distributed Map (wording inferred).
            self.required(value, ("ExecutionType",), at)
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
        for first, second in _EXCLUSIVE:
            if first in raw and second in raw:
                # Wording inferred; the location is the first field (floci-measured for MaxConcurrency).
                self.error(f"At most one of these fields is allowed: [{first}, {second}]", f"{at}/{first}")
        ctx = StateContext(kind, language, at)
        for key, value in raw.items():
            if key in allowed:
                check = self.checks.get(key)
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
class StateContext:
    """What a field check needs to know about its state: type, query language, location."""

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
IN_CATCHER: Final = frozenset({"errorOutput"})


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


def is_dynamic(value: JSON) -> bool:
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


Check = Callable[[Walker, StateContext, JSON, Pointer], None]
"""One field's value check: reports through the walker at the field's location."""
