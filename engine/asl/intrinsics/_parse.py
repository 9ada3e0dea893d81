"""The intrinsic-call grammar: text such as ``States.Format('{}', $.a)`` -> a frozen Call tree.

Grammar (Amazon States Language, "Intrinsic functions")::

    call    := 'States.' NAME '(' [arg (',' arg)*] ')'
    arg     := string | number | 'true' | 'false' | 'null' | path | call
    string  := "'" (escape | any character but ' and \\)* "'"
    escape  := "\\'" | "\\{" | "\\}" | "\\\\"
    path    := '$' ...   (up to the next top-level ',' or ')')

AWS: "The following characters are reserved for intrinsic functions, and must be escaped
with a backslash: ' { } and \\"; any other escape (e.g. ``\\"``) is rejected at create time
(see the ESCAPE_SEQUENCES_ILLEGAL_INTRINSIC_FUNCTION create_error cases).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Union

from engine.types import JSON

MAX_NESTING = 10
"""AWS: "You can nest up to 10 intrinsic functions within a field"."""

_NAME = re.compile(r"States\.([A-Za-z0-9]+)\(")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_KEYWORDS: dict[str, JSON] = {"true": True, "false": False, "null": None}
_ESCAPES = {"'": "'", "{": "{", "}": "}", "\\": "\\"}
_ESCAPED_BRACES = {"{": "\x00", "}": "\x01"}


class IntrinsicSyntaxError(ValueError):
    """An intrinsic call that does not parse; ``message`` says where and why."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Literal:
    """A literal argument: string, number, boolean or null."""

    value: JSON
    pieces: tuple[str, ...] | None = None
    """For strings: the text split on its unescaped ``{}`` (what States.Format fills in)."""


@dataclass(frozen=True, slots=True)
class PathArg:
    """A path argument (``$.a``, ``$$.Execution.Id``, ``$var.x``), resolved at run time."""

    path: str
    compiled: Any = field(default=None, compare=False, repr=False)
    """``engine.asl.paths.compile_path(path)``, made once at parse time (None if it does not compile;
    static validation reports such paths)."""


@dataclass(frozen=True, slots=True)
class Call:
    """One intrinsic invocation: ``name`` is the full ``States.X`` name."""

    name: str
    args: tuple[Arg, ...]


Arg = Union[Literal, PathArg, Call]


def is_intrinsic(text: str) -> bool:
    """True when a ``.$`` value is meant as an intrinsic call rather than a path."""
    return isinstance(text, str) and text.strip().startswith("States.")


def parse(text: str, arity: dict[str, tuple[int, int | None]]) -> Call:
    """Parse ``text`` into a Call; ``arity`` maps each known name to (min, max) arguments."""
    parser = _Parser(text, arity)
    parser.skip_space()
    call = parser.call(depth=1)
    parser.skip_space()
    if parser.pos != len(text):
        raise parser.error("unexpected text after the closing parenthesis")
    return call


def _unmark(text: str) -> str:
    return text.replace("\x00", "{").replace("\x01", "}")


class _Parser:
    """Recursive descent over one intrinsic text; ``pos`` is the read position."""

    def __init__(self, text: str, arity: dict[str, tuple[int, int | None]]) -> None:
        self.text = text
        self.pos = 0
        self.arity = arity

    def error(self, what: str) -> IntrinsicSyntaxError:
        return IntrinsicSyntaxError(f"{what} at position {self.pos} of {self.text!r}")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_space(self) -> None:
        while self.peek() in (" ", "\t", "\n", "\r") and self.peek():
            self.pos += 1

    def call(self, depth: int) -> Call:
        if depth > MAX_NESTING:
            raise self.error(f"more than {MAX_NESTING} nested intrinsic functions")
        match = _NAME.match(self.text, self.pos)
        if match is None:
            raise self.error("expected an intrinsic function call 'States.<Name>('")
        name = "States." + match.group(1)
        if name not in self.arity:
            raise self.error(f"unknown intrinsic function {name}")
        self.pos = match.end()
        args = self.arguments(depth)
        self.check_arity(name, len(args))
        return Call(name, tuple(args))

    def arguments(self, depth: int) -> list[Arg]:
        args: list[Arg] = []
        self.skip_space()
        if self.peek() == ")":
            self.pos += 1
            return args
        while True:
            self.skip_space()
            args.append(self.argument(depth))
            self.skip_space()
            char = self.peek()
            self.pos += 1
            if char == ")":
                return args
            if char != ",":
                self.pos -= 1
                raise self.error("expected ',' or ')'")

    def check_arity(self, name: str, count: int) -> None:
        low, high = self.arity[name]
        if count < low or (high is not None and count > high):
            expected = f"{low}" if low == high else f"{low} to {high}" if high else f"at least {low}"
            raise self.error(f"{name} takes {expected} argument(s), got {count}")

    def argument(self, depth: int) -> Arg:
        char = self.peek()
        if char == "'":
            return self.string()
        if char == "$":
            return self.path()
        if char == "-" or char.isdigit():
            return self.number()
        if self.text.startswith("States.", self.pos):
            return self.call(depth + 1)
        for word, value in _KEYWORDS.items():
            end = self.pos + len(word)
            if self.text.startswith(word, self.pos) and not self.text[end:end + 1].isalnum():
                self.pos = end
                return Literal(value)
        raise self.error("expected an argument")

    def string(self) -> Literal:
        self.pos += 1
        chars: list[str] = []
        while True:
            char = self.peek()
            if not char:
                raise self.error("unterminated string literal")
            self.pos += 1
            if char == "'":
                break
            if char == "\\":
                escaped = _ESCAPES.get(self.peek())
                if escaped is None:
                    self.pos -= 1
                    raise self.error("invalid escape sequence in string literal")
                self.pos += 1
                # An escaped brace never forms a States.Format placeholder.
                chars.append(_ESCAPED_BRACES.get(escaped, escaped))
                continue
            chars.append(char)
        marked = "".join(chars)
        pieces = tuple(_unmark(piece) for piece in marked.split("{}"))
        return Literal(_unmark(marked), pieces)

    def number(self) -> Literal:
        match = _NUMBER.match(self.text, self.pos)
        if match is None:
            raise self.error("invalid number")
        self.pos = match.end()
        literal = match.group(0)
        is_float = match.group(1) is not None or match.group(2) is not None
        return Literal(float(literal) if is_float else int(literal))

    def path(self) -> PathArg:
        start = self.pos
        closers: list[str] = []
        quote = ""
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if quote:
                quote = "" if char == quote else quote
            elif char in "'\"" and closers:
                quote = char
            elif char in "[(":
                closers.append("]" if char == "[" else ")")
            elif closers and char == closers[-1]:
                closers.pop()
            elif char in "])" and closers:
                raise self.error("unbalanced brackets in path argument")
            elif char in ",)":
                break
            self.pos += 1
        if quote or closers:
            raise self.error("unterminated path argument")
        text = self.text[start:self.pos].rstrip()
        # Imported here: engine.asl.paths itself imports this package.
        from engine.asl.paths import compile_path
        try:
            compiled = compile_path(text)
        except ValueError:
            compiled = None
        return PathArg(text, compiled)
