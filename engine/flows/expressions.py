"""Node input expressions (the ``$.data`` subset) and condition expressions.

Input expressions [doc: flows-expressions]: ``$.data`` followed by ``.name``, ``.*``,
``[i]``, ``[i, j]``, ``[i:j]``, ``[*]``. A path with a wildcard, union or slice yields an
array of its matches; a plain path yields one value or no match [inferred, spec §2.2].

Condition expressions [doc: flows-nodes]: comparisons of input names and literals joined by
``and`` / ``or`` / ``not`` and parentheses (spec §2.7 grammar).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from engine.types import JSON


class ExpressionError(ValueError):
    """An expression that does not follow the documented grammar (message = the cause)."""


class NoMatch(LookupError):
    """A plain input expression found nothing in the value."""


# ---------------------------------------------------------------- input expressions

@dataclass(frozen=True, slots=True)
class Step:
    """One step after ``$.data``: kind is ``name``, ``index``, ``union``, ``slice``, ``wild``."""

    kind: str
    name: str = ""
    indexes: tuple[int, ...] = ()
    start: int | None = None
    stop: int | None = None


@dataclass(frozen=True, slots=True)
class InputExpression:
    """A compiled input expression."""

    text: str
    steps: tuple[Step, ...]

    @property
    def is_whole(self) -> bool:
        """True for exactly ``$.data``."""
        return not self.steps

    @property
    def is_multi(self) -> bool:
        """True when the result is always an array of matches."""
        return any(s.kind in ("union", "slice", "wild") for s in self.steps)

    def evaluate(self, data: JSON) -> JSON:
        """The value this expression selects from ``data``; raises NoMatch."""
        matches = [data]
        for step in self.steps:
            matches = [m for value in matches for m in _STEPS[step.kind](step, value)]
        if self.is_multi:
            return matches
        if not matches:
            raise NoMatch(self.text)
        return matches[0]


_NAME = r"[A-Za-z_][A-Za-z0-9_-]*"
_TOKEN = re.compile(rf"\.(?P<name>{_NAME})|\.(?P<dotwild>\*)|\[(?P<bracket>[^\[\]]*)\]")
_INT = re.compile(r"^\s*\d+\s*$")
_SLICE = re.compile(r"^\s*(\d*)\s*:\s*(\d*)\s*$")


@lru_cache(maxsize=4096)
def compile_input(text: str) -> InputExpression:
    """Compile an input expression; raises ExpressionError with the cause."""
    if not text.startswith("$.data"):
        raise ExpressionError(f"Expression '{text}' must start with '$.data'.")
    rest, pos, steps = text[len("$.data"):], 0, []
    while pos < len(rest):
        match = _TOKEN.match(rest, pos)
        if match is None:
            raise ExpressionError(f"Unexpected '{rest[pos:]}' in expression '{text}'.")
        steps.append(_step(match, text))
        pos = match.end()
    return InputExpression(text, tuple(steps))


def _step(match: re.Match[str], text: str) -> Step:
    if match.group("name"):
        return Step("name", name=match.group("name"))
    if match.group("dotwild"):
        return Step("wild")
    inner = match.group("bracket")
    if inner.strip() == "*":
        return Step("wild")
    if _INT.match(inner):
        return Step("index", indexes=(int(inner),))
    slice_match = _SLICE.match(inner)
    if slice_match:
        start, stop = slice_match.groups()
        return Step("slice", start=int(start) if start else None, stop=int(stop) if stop else None)
    parts = inner.split(",")
    if len(parts) > 1 and all(_INT.match(p) for p in parts):
        return Step("union", indexes=tuple(int(p) for p in parts))
    raise ExpressionError(f"Unsupported selector '[{inner}]' in expression '{text}'.")


def _name(step: Step, value: JSON) -> list[JSON]:
    return [value[step.name]] if isinstance(value, dict) and step.name in value else []


def _index(step: Step, value: JSON) -> list[JSON]:
    if not isinstance(value, list):
        return []
    return [value[i] for i in step.indexes if i < len(value)]


def _slice(step: Step, value: JSON) -> list[JSON]:
    return list(value[step.start:step.stop]) if isinstance(value, list) else []


def _wild(step: Step, value: JSON) -> list[JSON]:
    if isinstance(value, dict):
        return list(value.values())
    return list(value) if isinstance(value, list) else []


_STEPS: Mapping[str, Callable[[Step, JSON], list[JSON]]] = {
    "name": _name, "index": _index, "union": _index, "slice": _slice, "wild": _wild,
}


# ---------------------------------------------------------------- condition expressions

_COND_TOKEN = re.compile(
    r'(?:(?P<num>-?\d+(?:\.\d+)?)|(?P<str>"(?:[^"\\]|\\.)*")|(?P<op>==|!=|>=|<=|>|<)'
    r"|(?P<paren>[()])|(?P<word>[A-Za-z_][A-Za-z0-9_]*))"
)
_KEYWORDS = {"and", "or", "not", "true", "false"}
_ORDERING = {">", ">=", "<", "<="}


@dataclass(frozen=True, slots=True)
class ConditionExpression:
    """A compiled condition: ``tree`` is nested tuples, ``names`` the input names it reads."""

    text: str
    tree: tuple[object, ...]
    names: frozenset[str]

    def evaluate(self, values: Mapping[str, JSON]) -> bool:
        """True when the condition holds for the node's input ``values``; raises ConditionTypeError."""
        return _eval(self.tree, values)


class ConditionTypeError(ValueError):
    """A comparison that cannot be made at run time (e.g. ``>`` on a String)."""


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return tokens
        match = _COND_TOKEN.match(text, pos)
        if match is None:
            raise ExpressionError(f"Unexpected character '{text[pos]}' at position {pos} in '{text}'.")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0
        self.names: set[str] = set()

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise ExpressionError(f"Unexpected end of expression '{self.text}'.")
        self.pos += 1
        return token

    def is_word(self, word: str) -> bool:
        return self.peek() == ("word", word)

    def parse(self) -> tuple[object, ...]:
        tree = self.parse_or()
        if self.peek() is not None:
            raise ExpressionError(f"Unexpected '{self.peek()[1]}' in expression '{self.text}'.")  # type: ignore[index]
        return tree

    def parse_or(self) -> tuple[object, ...]:
        tree = self.parse_and()
        while self.is_word("or"):
            self.pos += 1
            tree = ("or", tree, self.parse_and())
        return tree

    def parse_and(self) -> tuple[object, ...]:
        tree = self.parse_not()
        while self.is_word("and"):
            self.pos += 1
            tree = ("and", tree, self.parse_not())
        return tree

    def parse_not(self) -> tuple[object, ...]:
        if self.is_word("not"):
            self.pos += 1
            return ("not", self.parse_not())
        if self.peek() == ("paren", "("):
            self.pos += 1
            tree = self.parse_or()
            if self.take() != ("paren", ")"):
                raise ExpressionError(f"Missing ')' in expression '{self.text}'.")
            return tree
        left = self.operand()
        kind, op = self.take()
        if kind != "op":
            raise ExpressionError(f"Expected a comparison operator after {left[1]!r} in '{self.text}'.")
        return ("cmp", op, left, self.operand())

    def operand(self) -> tuple[str, JSON]:
        kind, text = self.take()
        if kind == "num":
            return ("lit", float(text) if "." in text else int(text))
        if kind == "str":
            return ("lit", re.sub(r"\\(.)", r"\1", text[1:-1]))
        if kind == "word" and text in ("true", "false"):
            return ("lit", text == "true")
        if kind == "word" and text not in _KEYWORDS:
            self.names.add(text)
            return ("name", text)
        raise ExpressionError(f"Unexpected '{text}' in expression '{self.text}'.")


@lru_cache(maxsize=4096)
def compile_condition(text: str) -> ConditionExpression:
    """Compile a condition expression; raises ExpressionError with the cause."""
    if not text.strip():
        raise ExpressionError("The condition expression is empty.")
    parser = _Parser(text)
    tree = parser.parse()
    return ConditionExpression(text, tree, frozenset(parser.names))


def type_name(value: JSON) -> str:
    """Upper-case type name as AWS prints it in type-mismatch messages (``STRING``...)."""
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, (int, float)):
        return "NUMBER"
    if isinstance(value, str):
        return "STRING"
    if isinstance(value, list):
        return "ARRAY"
    if isinstance(value, dict):
        return "OBJECT"
    return "NULL"


def _value(operand: tuple[str, JSON], values: Mapping[str, JSON]) -> JSON:
    kind, item = operand
    return values.get(item) if kind == "name" else item


def _compare(op: str, left: JSON, right: JSON) -> bool:
    if op in _ORDERING:
        if type_name(left) != "NUMBER" or type_name(right) != "NUMBER":
            raise ConditionTypeError(
                f"Operator '{op}' needs two Number operands, got {type_name(left)} and {type_name(right)}."
            )
        return bool({">": left > right, ">=": left >= right, "<": left < right, "<=": left <= right}[op])
    # AWS: "the data type must also be equal" for == and != [doc: flows-nodes].
    equal = type_name(left) == type_name(right) and left == right
    return equal if op == "==" else not equal


def _eval(tree: tuple[object, ...], values: Mapping[str, JSON]) -> bool:
    head = tree[0]
    if head == "or":
        return _eval(tree[1], values) or _eval(tree[2], values)  # type: ignore[arg-type]
    if head == "and":
        return _eval(tree[1], values) and _eval(tree[2], values)  # type: ignore[arg-type]
    if head == "not":
        return not _eval(tree[1], values)  # type: ignore[arg-type]
    _, op, left, right = tree
    return bool(_compare(op, _value(left, values), _value(right, values)))  # type: ignore[arg-type]
