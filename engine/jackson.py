"""JSON text as Jackson (AWS's Java JSON parser) reads it, and Jackson's words when it cannot.

One reader for every JSON text AWS parses: state machine definitions (the message carries
Jackson's ``[Source: ...]`` location) and execution inputs (InvalidExecutionInput, message
only). ``parse`` returns the value; ``JsonSyntaxError`` carries Jackson's message and where.
Wording and positions follow jackson-core 2.13's ReaderBasedJsonParser (the ``[Source:
(String)"..."]`` locations and ``JsonParser.Feature`` names AWS shows); the nesting limit is
``StreamReadConstraints``' (1000, from 2.15 on), in its 2.16+ wording.
"""
from __future__ import annotations

import json
import re
import sys
import unicodedata
from dataclasses import dataclass
from typing import Final

from engine.types import JSON

MAX_NESTING_DEPTH: Final = 1000
"""Jackson's ``StreamReadConstraints.DEFAULT_MAX_DEPTH``: a 1001st open container fails."""
VALUE_LIST: Final = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
_MAX_TOKEN: Final = 256  # ParserMinimalBase.MAX_ERROR_TOKEN_LENGTH
_SOURCE_CHARS: Final = 500  # how much of the text a [Source: ...] location quotes
_DIGITS: Final = frozenset("0123456789")
_HEX: Final = frozenset("0123456789abcdefABCDEF")
_NON_STANDARD: Final = "': enable JsonParser.Feature.ALLOW_NON_NUMERIC_NUMBERS to allow"
_DECODER: Final = json.JSONDecoder()
_ENOUGH_RECURSION: Final = 10 * MAX_NESTING_DEPTH  # what jsonata-python sets on import
_PLAIN_RUN: Final = re.compile(r'[^"\\\x00-\x1f]*')  # string characters that need no attention


@dataclass(frozen=True, slots=True)
class Mark:
    """A place in the text as Jackson counts it (lines advance only on white space)."""
    line: int
    column: int


class JsonSyntaxError(Exception):
    """Jackson's complaint: ``message`` (no location), where it stopped, and the container start.

    ``at`` is None when Jackson gives no location (its StreamConstraintsException).
    ``start_form`` wraps the start mark: `` (start marker at {})`` or `` (for Array starting at {})``.
    """

    def __init__(self, message: str, at: Mark | None, start: Mark | None = None, start_form: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.at = at
        self.start = start
        self.start_form = start_form

    def located(self, text: str) -> tuple[str, str | None]:
        """(message with any start marker, the ``[Source: ...]`` location or None), as definitions show it."""
        message = self.message
        if self.start is not None:
            message += self.start_form.format(source(text, self.start))
        return message, None if self.at is None else source(text, self.at)


def source(text: str, mark: Mark) -> str:
    """Jackson 2.x's location: the text quoted unescaped, cut at 500 characters."""
    snippet = '"' + text[:_SOURCE_CHARS] + '"'
    if len(text) > _SOURCE_CHARS:
        snippet += f"[truncated {len(text) - _SOURCE_CHARS} chars]"
    return f"[Source: (String){snippet}; line: {mark.line}, column: {mark.column}]"


def parse(text: str, *, trailing: bool = True) -> JSON:
    """The value of ``text`` as Jackson reads it; JsonSyntaxError with Jackson's wording otherwise.

    Jackson's ``readTree`` reads one root value and ignores what follows (``trailing``);
    StartExecution rejects trailing content (``trailing=False``).
    """
    if "NaN" not in text and "Infinity" not in text:  # Python reads these, Jackson does not
        try:  # C speed for the common case; Jackson's stricter reading only when this fails
            value = json.loads(text)
        except (ValueError, RecursionError):
            pass
        else:
            if text.count("[") + text.count("{") <= MAX_NESTING_DEPTH or _within_limit(value):
                return value
    _Scanner(text).document(trailing)
    start = len(text) - len(text.lstrip(" \t\r\n"))
    limit = sys.getrecursionlimit()
    if limit >= _ENOUGH_RECURSION:  # as it is once jsonata (engine.asl) is imported
        return _DECODER.raw_decode(text, start)[0]
    sys.setrecursionlimit(_ENOUGH_RECURSION)  # Python's decoder recurses once per nesting level
    try:
        return _DECODER.raw_decode(text, start)[0]
    finally:
        sys.setrecursionlimit(limit)


def check(text: str, *, trailing: bool = True) -> None:
    """Raise JsonSyntaxError as Jackson would for ``text``; the value is not built."""
    _Scanner(text).document(trailing)


def _within_limit(value: JSON) -> bool:
    """Whether ``value`` nests no deeper than Jackson allows (walked without recursion)."""
    pending: list[tuple[JSON, int]] = [(value, 0)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, dict):
            node = list(node.values())
        elif not isinstance(node, list):
            continue
        if depth >= MAX_NESTING_DEPTH:
            return False
        pending.extend((item, depth + 1) for item in node if isinstance(item, (dict, list)))
    return True


def describe(char: str) -> str:
    """Jackson's ``_getCharDesc``."""
    code = ord(char)
    if unicodedata.category(char) == "Cc":  # Java's Character.isISOControl
        return f"(CTRL-CHAR, code {code})"
    if code > 255:
        return f"'{char}' (code {code} / 0x{code:x})"
    return f"'{char}' (code {code})"


def _identifier_start(char: str) -> bool:
    return char.isalpha() or unicodedata.category(char) in ("Sc", "Pc", "Nl")


def _identifier_part(char: str) -> bool:
    return char.isalnum() or unicodedata.category(char) in ("Mn", "Mc", "Pc", "Sc", "Nl")


class _Scanner:
    """A JSON syntax check that fails where and as ReaderBasedJsonParser does; iterative."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1
        self.line_start = 0
        # open containers: (closer, start mark); a list, so nesting never uses Python's stack
        self.stack: list[tuple[str, Mark]] = []

    # -- errors ----------------------------------------------------------------
    def mark(self, pos: int | None = None) -> Mark:
        return Mark(self.line, (self.pos if pos is None else pos) - self.line_start + 1)

    def error(self, message: str, pos: int | None = None) -> JsonSyntaxError:
        return JsonSyntaxError(message, self.mark(pos))

    def unexpected(self, char: str, comment: str, pos: int | None = None) -> JsonSyntaxError:
        """``_reportUnexpectedChar``: Jackson stands just past the character."""
        return self.error(f"Unexpected character ({describe(char)}): {comment}", pos)

    def number_char(self, char: str, comment: str, pos: int) -> JsonSyntaxError:
        return self.error(f"Unexpected character ({describe(char)}) in numeric value: {comment}", pos)

    def end_of_input(self, what: str) -> JsonSyntaxError:
        return self.error(f"Unexpected end-of-input{what}", len(self.text))

    # -- white space -----------------------------------------------------------
    def skip(self) -> str:
        """Skip white space (counting lines as Jackson does); the next character or ""."""
        text, pos = self.text, self.pos
        while pos < len(text):
            char = text[pos]
            if char > " ":
                break
            pos += 1
            if char == "\n" or (char == "\r" and text[pos:pos + 1] != "\n"):
                self.line += 1
                self.line_start = pos
            elif char not in " \t\r":
                self.pos = pos
                raise self.error(f"Illegal character ({describe(char)}): only regular white space "
                                 "(\\r, \\n, \\t) is allowed between tokens")
        self.pos = pos
        return text[pos] if pos < len(text) else ""

    # -- grammar ---------------------------------------------------------------
    def document(self, trailing: bool) -> None:
        """Check one root value (and nothing after it unless ``trailing``)."""
        char = self.skip()
        if char == "":
            raise self.error("No content to map due to end-of-input")
        if char in "]}":
            self.pos += 1
            raise self.mismatched(char, Mark(1, 0), "root")
        self.value(char, root=True)
        self.containers()
        if not trailing:
            char = self.skip()
            if char:
                raise self.unexpected(char, "expected end-of-input after the JSON value", self.pos + 1)

    def containers(self) -> None:
        """Everything inside the open containers, one token at a time."""
        fresh = bool(self.stack)
        while self.stack:
            closer, start = self.stack[-1]
            kind = "Array" if closer == "]" else "Object"
            char = self.skip()
            if char == "":
                raise JsonSyntaxError(f"Unexpected end-of-input: expected close marker for {kind}",
                                      self.mark(len(self.text)), start, " (start marker at {})")
            if char in "]}":
                self.pos += 1
                if char != closer:
                    raise self.mismatched(char, start, kind)
                self.stack.pop()
                fresh = False
                continue
            if not fresh:
                if char != ",":
                    raise self.unexpected(char, f"was expecting comma to separate {kind} entries", self.pos + 1)
                self.pos += 1
                char = self.skip()
                if char == "":
                    raise self.end_of_input(f" within/between {kind} entries")
            if closer == "}":
                char = self.field_name(char, kind)
            fresh = self.value(char)

    def mismatched(self, char: str, start: Mark, kind: str) -> JsonSyntaxError:
        expected = "}" if char == "]" else "]"
        return JsonSyntaxError(f"Unexpected close marker '{char}': expected '{expected}'", self.mark(), start,
                               f" (for {kind} starting at {{}})")

    def field_name(self, char: str, kind: str) -> str:
        """A member's name and colon; the first character of its value."""
        if char != '"':
            raise self.unexpected(char, "was expecting double-quote to start field name", self.pos + 1)
        self.string("name")
        char = self.skip()
        if char == "":
            raise self.end_of_input(f" within/between {kind} entries")
        if char != ":":
            raise self.unexpected(char, "was expecting a colon to separate field name and value", self.pos + 1)
        self.pos += 1
        char = self.skip()
        if char == "":
            raise self.end_of_input(f" within/between {kind} entries")
        return char

    def value(self, char: str, root: bool = False) -> bool:
        """One value starting at ``char``; True when it opened a container."""
        if char in "[{":
            depth = len(self.stack) + 1
            if depth > MAX_NESTING_DEPTH:  # StreamConstraintsException: no location
                raise JsonSyntaxError(f"Document nesting depth ({depth}) exceeds the maximum allowed "
                                      f"({MAX_NESTING_DEPTH}, from `StreamReadConstraints.getMaxNestingDepth()`)",
                                      None)
            self.stack.append(("]" if char == "[" else "}", self.mark()))
            self.pos += 1
            return True
        if char == '"':
            self.string("string value")
        elif char == "-" or char in _DIGITS:
            self.number(root)
        elif char == "}":
            raise self.unexpected(char, "expected a value", self.pos + 1)
        elif char in "tfnNI":
            self.word()
        elif _identifier_start(char):
            raise self.invalid_token(self.pos)
        else:
            raise self.unexpected(char, f"expected a valid value {VALUE_LIST}", self.pos + 1)
        return False

    def invalid_token(self, start: int) -> JsonSyntaxError:
        """``_reportInvalidToken``: the identifier-like run from ``start``, cut at 256 characters."""
        end = start + 1
        while end < len(self.text) and _identifier_part(self.text[end]) and end - start < _MAX_TOKEN:
            end += 1
        token = self.text[start:end] + ("..." if end - start >= _MAX_TOKEN else "")
        return self.error(f"Unrecognized token '{token}': was expecting {VALUE_LIST}", end)

    def word(self) -> None:
        start = self.pos
        word = {"t": "true", "f": "false", "n": "null", "N": "NaN", "I": "Infinity"}[self.text[start]]
        end = start + len(word)
        if self.text[start:end] != word or (end < len(self.text) and _identifier_part(self.text[end])):
            raise self.invalid_token(start)
        if word in ("NaN", "Infinity"):
            raise self.error(f"Non-standard token '{word}{_NON_STANDARD}", end)
        self.pos = end

    def string(self, what: str) -> None:
        text = self.text
        pos = self.pos + 1
        while True:
            pos = _PLAIN_RUN.match(text, pos).end()  # type: ignore[union-attr]  # always matches
            if pos >= len(text):
                where = " in field name" if what == "name" else ": was expecting closing quote for a string value"
                raise self.end_of_input(where)
            char = text[pos]
            pos += 1
            if char == '"':
                self.pos = pos
                return
            if char == "\\":
                pos = self.escape(pos)
            elif char < " ":
                raise self.error(f"Illegal unquoted character ({describe(char)}): has to be escaped using "
                                 f"backslash to be included in {what}", pos)

    def escape(self, pos: int) -> int:
        """``_decodeEscaped`` for the escape after a backslash at ``pos - 1``; where it ends."""
        text = self.text
        if pos >= len(text):
            raise self.end_of_input(" in character escape sequence")
        char = text[pos]
        pos += 1
        if char in '"\\/bfnrt':
            return pos
        if char != "u":
            raise self.error(f"Unrecognized character escape {describe(char)}", pos)
        for _ in range(4):
            if pos >= len(text):
                raise self.end_of_input(" in character escape sequence")
            digit = text[pos]
            pos += 1
            if digit not in _HEX:
                raise self.unexpected(digit, "expected a hex-digit for character escape sequence", pos)
        return pos

    def number(self, root: bool) -> None:
        text = self.text
        pos = self.pos
        if text[pos] == "-":
            pos += 1
            if pos >= len(text):
                raise self.end_of_input(" in a Number value")
            if text[pos] not in _DIGITS:
                self.minus_without_digit(pos)
        if text[pos] == "0" and text[pos + 1:pos + 2] in _DIGITS:  # Jackson stops at the second digit
            raise self.error("Invalid numeric value: Leading zeroes not allowed", pos + 1)
        pos = self.digits(pos)
        for lead, comment in ((".", "Decimal point"), ("eE", "Exponent indicator")):
            if pos < len(text) and text[pos] in lead:
                pos += 1
                if comment == "Exponent indicator" and pos < len(text) and text[pos] in "+-":
                    pos += 1
                if pos >= len(text) or text[pos] not in _DIGITS:  # at the end: the last character read
                    bad = min(pos, len(text) - 1)
                    raise self.number_char(text[bad], f"{comment} not followed by a digit", bad + 1)
                pos = self.digits(pos)
        self.pos = pos
        if root and pos < len(text) and text[pos] not in " \t\r\n":  # ``_verifyRootSpace``
            raise self.unexpected(text[pos], "Expected space separating root-level values", pos + 1)

    def minus_without_digit(self, pos: int) -> None:
        """``_handleInvalidNumberStart`` after a minus sign."""
        for word in ("-INF", "-Infinity"):
            if self.text.startswith(word, pos - 1):
                raise self.error(f"Non-standard token '{word}{_NON_STANDARD}", pos - 1 + len(word))
        raise self.number_char(self.text[pos], "expected digit (0-9) to follow minus sign, for valid numeric value",
                               pos + 1)

    def digits(self, pos: int) -> int:
        text = self.text
        while pos < len(text) and text[pos] in _DIGITS:
            pos += 1
        return pos
