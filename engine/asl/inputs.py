"""The StartExecution input check: AWS parses the input with Jackson and rejects bad JSON.

``parse_execution_input`` returns the input value or raises ``InvalidArgument`` with
kind ``InvalidExecutionInput`` and AWS's message, whose inner text is Jackson's
parser message (AWS: see conformance cases ``test_invalid_start_execution_input``).
"""
from __future__ import annotations

import json
import unicodedata

from engine.errors import InvalidArgument
from engine.types import JSON

INVALID_EXECUTION_INPUT = "InvalidExecutionInput"
_VALUE_LIST = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
_MAX_TOKEN = 256
_MAX_DEPTH = 1000
_WHITESPACE = " \t\r\n"
_DIGITS = frozenset("0123456789")


def invalid_input_message(reason: str) -> str:
    """AWS's InvalidExecutionInput message around a parser reason."""
    return f"Invalid State Machine Execution Input: '{reason}'"


def parse_execution_input(text: str | None) -> JSON:
    """The execution input value (no input at all is ``{}``); bad JSON raises InvalidArgument."""
    if text is None:
        return {}
    reason = input_error(text)
    if reason is not None:
        raise InvalidArgument(invalid_input_message(reason), kind=INVALID_EXECUTION_INPUT)
    return json.loads(text)


def input_error(text: str) -> str | None:
    """Jackson's message for the first syntax error in ``text``, or None when it is valid JSON."""
    if not text.strip(_WHITESPACE):
        return "Invalid execution input."  # AWS: the empty string; see start_res_empty
    try:
        _Scanner(text).document()
    except _SyntaxError as error:
        return str(error)
    return None


class _SyntaxError(Exception):
    pass


def _describe(char: str) -> str:
    """Jackson's ``_getCharDesc``."""
    code = ord(char)
    if unicodedata.category(char) == "Cc":
        return f"(CTRL-CHAR, code {code})"
    if code > 255:
        return f"'{char}' (code {code} / 0x{code:x})"
    return f"'{char}' (code {code})"


def _is_identifier_part(char: str) -> bool:
    return char.isalnum() or char in "_$" or unicodedata.category(char) in ("Mn", "Mc", "Pc", "Sc")


class _Scanner:
    """A JSON syntax checker that fails the way Jackson's ReaderBasedJsonParser does."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    # -- helpers --------------------------------------------------------------
    def _peek(self) -> str:
        while self.pos < len(self.text) and self.text[self.pos] in _WHITESPACE:
            self.pos += 1
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _unexpected(self, char: str, comment: str) -> _SyntaxError:
        return _SyntaxError(f"Unexpected character ({_describe(char)}): {comment}")

    def _end_of_input(self, what: str) -> _SyntaxError:
        return _SyntaxError(f"Unexpected end-of-input: {what}")

    def _invalid_token(self, start: int) -> _SyntaxError:
        end = start + 1
        while end < len(self.text) and _is_identifier_part(self.text[end]) and end - start < _MAX_TOKEN:
            end += 1
        token = self.text[start:end] + ("..." if end - start >= _MAX_TOKEN else "")
        return _SyntaxError(f"Unrecognized token '{token}': was expecting {_VALUE_LIST}")

    # -- grammar --------------------------------------------------------------
    def document(self) -> None:
        if self._peek() == "":
            raise _SyntaxError("No content to map due to end-of-input")
        self._value_iterative()
        char = self._peek()
        if char:
            raise self._unexpected(char, "expected end-of-input after the JSON value")

    def _value_iterative(self) -> None:
        # a stack of "]" / "}" closers, so deep nesting cannot exhaust Python's stack
        stack: list[str] = []
        need_value = True
        while True:
            if need_value:
                need_value = self._start_value(stack)
                continue
            if not stack:
                return
            closer = stack[-1]
            char = self._peek()
            kind = "Array" if closer == "]" else "Object"
            if char == closer:
                self.pos += 1
                stack.pop()
                continue
            if char == "":
                raise self._end_of_input(f"expected close marker for {kind}")
            if char != ",":
                raise self._unexpected(char, f"was expecting comma to separate {kind} entries")
            self.pos += 1
            if closer == "}":
                self._field_name()
            need_value = True

    def _start_value(self, stack: list[str]) -> bool:
        """Consume a scalar or a container's opening; True when a value must follow."""
        char = self._peek()
        if char not in ("[", "{"):
            self._scalar(char)
            return False
        if len(stack) >= _MAX_DEPTH:
            raise _SyntaxError(f"Document nesting depth ({len(stack) + 1}) exceeds the maximum allowed "
                               f"({_MAX_DEPTH}, from `StreamReadConstraints.getMaxNestingDepth()`)")
        self.pos += 1
        closer = "]" if char == "[" else "}"
        if self._peek() == closer:
            self.pos += 1
            return False
        stack.append(closer)
        if closer == "}":
            self._field_name()
        return True

    def _field_name(self) -> None:
        char = self._peek()
        if char == "":
            raise self._end_of_input("expected close marker for Object")
        if char != '"':
            raise self._unexpected(char, "was expecting double-quote to start field name")
        self._string()
        char = self._peek()
        if char == "":
            raise self._end_of_input("expected close marker for Object")
        if char != ":":
            raise self._unexpected(char, "was expecting a colon to separate field name and value")
        self.pos += 1

    def _scalar(self, char: str) -> None:
        if char == "":
            raise self._end_of_input(f"expected a valid value {_VALUE_LIST}")
        if char == '"':
            self._string()
        elif char == "-" or char in _DIGITS:
            self._number()
        elif char in "tfn":
            self._keyword()
        elif _is_identifier_part(char):
            raise self._invalid_token(self.pos)
        else:
            raise self._unexpected(char, f"expected a valid value {_VALUE_LIST}")

    def _keyword(self) -> None:
        start = self.pos
        word = {"t": "true", "f": "false", "n": "null"}[self.text[start]]
        if self.text[start:start + len(word)] != word:
            raise self._invalid_token(start)
        end = start + len(word)
        if end < len(self.text) and _is_identifier_part(self.text[end]):
            raise self._invalid_token(start)
        self.pos = end

    def _string(self) -> None:
        self.pos += 1
        text = self.text
        while True:
            if self.pos >= len(text):
                raise self._end_of_input("was expecting closing quote for a string value")
            char = text[self.pos]
            self.pos += 1
            if char == '"':
                return
            if char == "\\":
                self._escape()
            elif ord(char) < 32:
                raise _SyntaxError(f"Illegal unquoted character ({_describe(char)}): has to be escaped "
                                   "using backslash to be included in string value")

    def _escape(self) -> None:
        if self.pos >= len(self.text):
            raise self._end_of_input("was expecting closing quote for a string value")
        char = self.text[self.pos]
        self.pos += 1
        if char in '"\\/bfnrt':
            return
        if char != "u":
            raise _SyntaxError(f"Unrecognized character escape {_describe(char)}")
        digits = self.text[self.pos:self.pos + 4]
        for digit in digits:
            if digit not in "0123456789abcdefABCDEF":
                raise self._unexpected(digit, "expected a hex-digit for character escape sequence")
        if len(digits) < 4:
            raise self._end_of_input("was expecting closing quote for a string value")
        self.pos += 4

    def _number(self) -> None:
        text = self.text
        if text[self.pos] == "-":
            self.pos += 1
            if self.pos >= len(text):
                raise self._end_of_input("in a Number value")
            if text[self.pos] not in _DIGITS:
                raise self._unexpected(text[self.pos], "expected digit (0-9) to follow minus sign, "
                                                       "for valid numeric value")
        if text[self.pos] == "0" and self.pos + 1 < len(text) and text[self.pos + 1] in _DIGITS:
            raise _SyntaxError("Invalid numeric value: Leading zeroes not allowed")
        self._digits()
        if self.pos < len(text) and text[self.pos] == ".":
            self.pos += 1
            if self.pos >= len(text) or text[self.pos] not in _DIGITS:
                raise self._fraction_error("Decimal point not followed by a digit")
            self._digits()
        if self.pos < len(text) and text[self.pos] in "eE":
            self.pos += 1
            if self.pos < len(text) and text[self.pos] in "+-":
                self.pos += 1
            if self.pos >= len(text) or text[self.pos] not in _DIGITS:
                raise self._fraction_error("Exponent indicator not followed by a digit")
            self._digits()

    def _fraction_error(self, comment: str) -> _SyntaxError:
        if self.pos >= len(self.text):
            return self._end_of_input("in a Number value")
        return self._unexpected(self.text[self.pos], f"{comment}")

    def _digits(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in _DIGITS:
            self.pos += 1
