"""Definition text as Jackson (AWS's JSON parser) reads it, and Jackson's wording when it cannot."""
from __future__ import annotations

import re
from typing import Final

_EXPECTED_VALUE: Final = ("was expecting (JSON String, Number, Array, Object or token 'null', "
                          "'true' or 'false')")


class _JsonSyntax(Exception):
    def __init__(self, message: str, position: int, start: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position
        self.start = start


def jackson_error(text: str) -> tuple[str, str] | None:
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
