"""JSONPath-mode Choice rules: built once from the definition, evaluated per input.

Every comparison operator is one function in ``OPERATORS``; the ``...Path`` forms reuse them
with the operand read from the input. A type mismatch is simply false, as on AWS.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Union

from engine.asl.paths import Path, PathNotFound, Scope, compile_path
from engine.errors import ErrorName, StatesError
from engine.types import JSON, Pointer

__all__ = [
    "OPERATORS", "And", "Comparison", "InvalidRule", "Not", "Or", "Rule", "build_rule", "evaluate", "parse_timestamp",
]


class InvalidRule(ValueError):
    """A malformed Choice rule; ``location`` points at the offending field (``.../Choices[0]/And[1]``)."""

    def __init__(self, message: str, location: Pointer) -> None:
        self.message = message
        self.location = location
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Comparison:
    """``Variable`` + one operator, e.g. ``{"Variable": "$.n", "NumericLessThan": 3}``."""

    variable: Path
    operator: str
    """The operator without its ``Path`` suffix (``NumericEqualsPath`` -> ``NumericEquals``)."""
    value: JSON
    """The literal operand; StringMatches holds the compiled pattern, Timestamp ops the Instant."""
    value_path: Path | None = None
    """The operand's path for the ``...Path`` forms."""


@dataclass(frozen=True, slots=True)
class And:
    """True when every rule is (evaluated left to right, stops at the first false)."""

    rules: tuple[Rule, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """True when any rule is (evaluated left to right, stops at the first true)."""

    rules: tuple[Rule, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """The negation of one rule."""

    rule: Rule


Rule = Union[Comparison, And, Or, Not]


# --- value semantics ------------------------------------------------------------------------

def _is_number(value: JSON) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _utf16(text: str) -> bytes:
    # Java compares strings by UTF-16 code unit; big-endian UTF-16 bytes sort the same way.
    return text.encode("utf-16-be", "surrogatepass")


# ASL: "Timestamps must conform to RFC3339 profile of ISO 8601, with the further restrictions
# that an uppercase T must separate the date and time portions, and an uppercase Z must denote
# that a numeric time zone offset is not present" (2016-08-18T17:33:00Z). AWS's runtime is Java,
# so fractions stop at nanoseconds.
#
# Values read from the input must be in UTC with a "Z": the recorded choice tables are matched
# in full by an engine that rejects numeric offsets there (moto, see conformance/asl/README.md),
# while literals in the definition may carry any RFC3339 offset.
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_TIMESTAMP = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:(Z)|([+-])(\d{2}):(\d{2}))")

Instant = tuple[int, int]
"""(epoch seconds, nanoseconds)."""


def parse_timestamp(text: JSON, *, offsets: bool = False) -> Instant | None:
    """The instant of an RFC3339 timestamp (``Z`` only unless ``offsets``), None when it is not one."""
    if not isinstance(text, str) or (match := _TIMESTAMP.fullmatch(text)) is None:
        return None
    year, month, day, hour, minute, second, fraction, zulu, sign, off_hours, off_minutes = match.groups()
    if not zulu and not offsets:
        return None
    try:
        local = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=timezone.utc)
    except ValueError:
        return None
    offset = 0
    if not zulu:
        if int(off_hours) > 23 or int(off_minutes) > 59:
            return None
        offset = (int(off_hours) * 60 + int(off_minutes)) * (-60 if sign == "-" else 60)
    seconds = (local - _EPOCH) // timedelta(seconds=1) - offset
    return seconds, int((fraction or "").ljust(9, "0"))


def _compare(left: JSON, right: JSON, kind: str) -> int | None:
    """-1/0/1 when both values are of the operator's kind, None otherwise (the rule is false)."""
    if kind == "String":
        if not isinstance(left, str) or not isinstance(right, str):
            return None
        a, b = _utf16(left), _utf16(right)
        return (a > b) - (a < b)
    if kind == "Numeric":
        if not _is_number(left) or not _is_number(right):
            return None
        return int(left > right) - int(left < right)
    if kind == "Timestamp":
        # A literal operand was parsed when the rule was built; input values are parsed here.
        x = parse_timestamp(left)
        y = right if isinstance(right, tuple) else parse_timestamp(right)
        if x is None or y is None:
            return None
        return (x > y) - (x < y)
    if isinstance(left, bool) and isinstance(right, bool):
        return 0 if left == right else 1
    return None


_RELATIONS: dict[str, Callable[[int], bool]] = {
    "Equals": lambda c: c == 0,
    "LessThan": lambda c: c < 0,
    "GreaterThan": lambda c: c > 0,
    "LessThanEquals": lambda c: c <= 0,
    "GreaterThanEquals": lambda c: c >= 0,
}


def _comparison(kind: str, relation: str) -> Callable[[JSON, JSON], bool]:
    def compare(value: JSON, operand: JSON) -> bool:
        order = _compare(value, operand, kind)
        return order is not None and _RELATIONS[relation](order)

    return compare


def _type_test(test: Callable[[JSON], bool]) -> Callable[[JSON, JSON], bool]:
    return lambda value, expected: test(value) is expected


def _string_matches(value: JSON, pattern: JSON) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None


OPERATORS: dict[str, Callable[[JSON, JSON], bool]] = {
    **{f"{kind}{relation}": _comparison(kind, relation)
       for kind in ("String", "Numeric", "Timestamp") for relation in _RELATIONS},
    "BooleanEquals": _comparison("Boolean", "Equals"),
    "StringMatches": _string_matches,
    "IsNull": _type_test(lambda v: v is None),
    "IsNumeric": _type_test(_is_number),
    "IsString": _type_test(lambda v: isinstance(v, str)),
    "IsBoolean": _type_test(lambda v: isinstance(v, bool)),
    "IsTimestamp": _type_test(lambda v: parse_timestamp(v) is not None),
}
"""Operator name -> fn(variable value, operand). IsPresent is handled before the lookup."""

_LITERAL_TYPES: Mapping[str, tuple[type, ...]] = {
    "String": (str,), "Numeric": (int, float), "Timestamp": (str,), "Boolean": (bool,), "Is": (bool,),
}
_PATH_FORMS = {f"{name}Path" for name in OPERATORS if not name.startswith("Is") and name != "StringMatches"}
_IGNORED = {"Next", "Comment", "Assign", "Output"}


# --- building ---------------------------------------------------------------------------------

def build_rule(raw: dict[str, JSON], *, at: Pointer) -> Rule:
    """A Choice rule from its JSON; InvalidRule (a ValueError) naming the bad field if malformed."""
    if not isinstance(raw, dict):
        raise _invalid("A choice rule must be an object", at)
    keys = [key for key in raw if key not in _IGNORED]
    if "And" in raw or "Or" in raw or "Not" in raw:
        return _build_boolean(raw, keys, at)
    if "Variable" not in raw:
        raise _invalid("These fields are required: [Variable]", at)
    operators = [key for key in keys if key != "Variable"]
    if len(operators) != 1:
        raise _invalid("A choice rule must have exactly one comparison operator", at)
    return _build_comparison(raw["Variable"], operators[0], raw[operators[0]], at)


def _build_boolean(raw: dict[str, JSON], keys: list[str], at: Pointer) -> Rule:
    if len(keys) != 1:
        raise _invalid("A choice rule must have exactly one of And, Or, Not", at)
    name = keys[0]
    if name == "Not":
        return Not(build_rule(raw["Not"], at=f"{at}/Not"))
    items = raw[name]
    if not isinstance(items, list) or not items:
        raise _invalid(f"The field '{name}' must be a non-empty array", f"{at}/{name}")
    rules = tuple(build_rule(item, at=f"{at}/{name}[{i}]") for i, item in enumerate(items))
    return And(rules) if name == "And" else Or(rules)


def _build_comparison(variable: JSON, operator: str, operand: JSON, at: Pointer) -> Comparison:
    path = _path(variable, f"{at}/Variable")
    if operator == "IsPresent":
        if not isinstance(operand, bool):
            raise _invalid("The value for the field 'IsPresent' must be a BOOLEAN", f"{at}/{operator}")
        return Comparison(path, operator, operand)
    if operator in _PATH_FORMS:
        return Comparison(path, operator[:-4], None, _path(operand, f"{at}/{operator}"))
    if operator not in OPERATORS:
        raise _invalid(f"Field '{operator}' is not supported", f"{at}/{operator}")
    kind = next(prefix for prefix in _LITERAL_TYPES if operator.startswith(prefix))
    if not isinstance(operand, _LITERAL_TYPES[kind]) or (kind == "Numeric" and isinstance(operand, bool)):
        raise _invalid(f"The value for the field '{operator}' has the wrong type", f"{at}/{operator}")
    if kind == "Timestamp":
        instant = parse_timestamp(operand, offsets=True)
        if instant is None:
            raise _invalid("String does not match RFC3339 timestamp", f"{at}/{operator}")
        return Comparison(path, operator, instant)
    if operator == "StringMatches":
        return Comparison(path, operator, _pattern(str(operand), f"{at}/{operator}"))
    return Comparison(path, operator, operand)


def _path(text: JSON, at: Pointer) -> Path:
    try:
        return compile_path(text)
    except ValueError:
        raise _invalid("The value for the field must be a valid JSONPath", at) from None


def _pattern(text: str, at: Pointer) -> re.Pattern[str]:
    """StringMatches: ``*`` matches any run of characters; ``\\*`` and ``\\\\`` are literal."""
    parts: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and text[i + 1] in "*\\":
            parts.append(re.escape(text[i + 1]))
            i += 2
            continue
        parts.append(".*" if char == "*" else re.escape(char))
        i += 1
    return re.compile("".join(parts), re.DOTALL)


def _invalid(message: str, at: Pointer) -> InvalidRule:
    return InvalidRule(message, at)


# --- evaluation -----------------------------------------------------------------------------

def evaluate(rule: Rule, scope: Scope) -> bool:
    """Whether ``rule`` holds for ``scope``; States.Runtime when a path it reads is missing."""
    if isinstance(rule, And):
        return all(evaluate(item, scope) for item in rule.rules)
    if isinstance(rule, Or):
        return any(evaluate(item, scope) for item in rule.rules)
    if isinstance(rule, Not):
        return not evaluate(rule.rule, scope)
    if rule.operator == "IsPresent":
        return _is_present(rule.variable, scope) is rule.value
    value = _read(rule.variable, scope)
    operand = rule.value if rule.value_path is None else _read(rule.value_path, scope)
    return OPERATORS[rule.operator](value, operand)


def _is_present(path: Path, scope: Scope) -> bool:
    try:
        path.get(scope)
    except PathNotFound:
        return False
    return True


def _read(path: Path, scope: Scope) -> JSON:
    try:
        return path.get(scope)
    except PathNotFound:
        # AWS: "Invalid path '$.processing_type': The choice state's condition path references an
        # invalid value." (execution failure cause, after the state prefix)
        raise StatesError(ErrorName.RUNTIME, f"Invalid path '{path.text}': "
                                             "The choice state's condition path references an invalid value.") from None
