"""Value matching with placeholders, as the conformance README's *How to compare* describes.

Expected values went through LocalStack's snapshot normalisation; ``normalise`` applies
the same steps to what an engine or endpoint returned, and ``Matcher`` treats the
placeholders left in the expectations as wildcards (bracketed ones bound per case).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

IGNORED_KEYS = frozenset({"ResponseMetadata", "billingDetails"})
"""Dropped from both sides: request metadata and StartSyncExecution billing (README: ignored)."""

WHOLE_VALUE_WORDS = frozenset({"timestamp", "datetime"})
"""Bare words that stand for a whole value (any scalar), never for part of a string.

LocalStack applies these two to every snapshot, so they count as placeholders even when
a case does not list them."""

_BRACKETED = r"<[A-Za-z][A-Za-z0-9_:.\-]*>"
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_ISO_DATETIME = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?"
_WORD_PATTERNS = {"date": _ISO_DATETIME, "111111111111": r"\d{12}"}


def _bracket_pattern(token: str) -> str:
    if token.startswith("<uuid:"):
        return _UUID
    if token == "<region>":
        return r"[a-z]{2}(?:-[a-z]+)+-\d+"
    if token == "<partition>":
        return r"aws(?:-[a-z]+)*"
    return r".+?"


@dataclass(frozen=True, slots=True)
class Difference:
    """The first place where actual and expected disagree."""

    where: str
    expected: Any
    actual: Any
    note: str = ""

    def render(self, width: int = 160) -> str:
        text = f"{self.where}: expected {_short(self.expected, width)}, got {_short(self.actual, width)}"
        return f"{text} ({self.note})" if self.note else text


class _Missing:
    def __repr__(self) -> str:
        return "<absent>"


MISSING: Any = _Missing()
"""Marks a key or event that is not there (distinct from JSON null)."""


def _short(value: Any, width: int) -> str:
    if value is MISSING:
        return "<absent>"
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def normalise(value: Any) -> Any:
    """README steps 1-2: drop metadata, datetimes to text, parse dict-value JSON object strings once."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in IGNORED_KEYS:
                continue
            parsed = _parse_object_text(item) if isinstance(item, str) else MISSING
            out[key] = parsed if parsed is not MISSING else normalise(item)
        return out
    if isinstance(value, list):
        return [normalise(item) for item in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def _parse_object_text(text: str) -> Any:
    if not text.startswith("{"):
        return MISSING
    try:
        return json.loads(text)
    except ValueError:
        return MISSING


def drop_ignored(value: Any) -> Any:
    """Expected side of IGNORED_KEYS (expectations are otherwise normalised already)."""
    if isinstance(value, dict):
        return {k: drop_ignored(v) for k, v in value.items() if k not in IGNORED_KEYS}
    if isinstance(value, list):
        return [drop_ignored(v) for v in value]
    return value


class Matcher:
    """Matches expected against actual values for one case; bracketed placeholders bind."""

    def __init__(self, placeholders: tuple[str, ...] | list[str] = (), *, loose_numbers: bool = False) -> None:
        words = [w for w in placeholders if not re.fullmatch(_BRACKETED, w)]
        self.whole_words = WHOLE_VALUE_WORDS
        self.part_words = tuple(sorted((w for w in words if w not in WHOLE_VALUE_WORDS), key=len, reverse=True))
        alternatives = [_BRACKETED] + [re.escape(w) for w in self.part_words]
        self._token_re = re.compile("|".join(alternatives))
        self.loose_numbers = loose_numbers
        self.bindings: dict[str, str] = {}

    # -- public -------------------------------------------------------------------
    def match(self, expected: Any, actual: Any, where: str = "$") -> Difference | None:
        """None when ``actual`` matches ``expected``; bindings made on the way are kept."""
        if isinstance(expected, str):
            return self._match_string(expected, actual, where)
        if isinstance(expected, dict):
            return self._match_dict(expected, actual, where)
        if isinstance(expected, list):
            return self._match_list(expected, actual, where)
        if self._scalars_equal(expected, actual):
            return None
        return Difference(where, expected, actual)

    def trial(self, expected: Any, actual: Any, where: str = "$") -> Difference | None:
        """Like match, but bindings are kept only when it matches."""
        saved = dict(self.bindings)
        diff = self.match(expected, actual, where)
        if diff is not None:
            self.bindings = saved
        return diff

    # -- containers ---------------------------------------------------------------
    def _match_dict(self, expected: dict[str, Any], actual: Any, where: str) -> Difference | None:
        if not isinstance(actual, dict):
            return Difference(where, expected, actual, "not an object")
        for key, value in expected.items():
            if key not in actual:
                return Difference(f"{where}.{key}", value, MISSING, "missing key")
            diff = self.match(value, actual[key], f"{where}.{key}")
            if diff is not None:
                return diff
        for key in actual:
            if key not in expected:
                return Difference(f"{where}.{key}", MISSING, actual[key], "unexpected key")
        return None

    def _match_list(self, expected: list[Any], actual: Any, where: str) -> Difference | None:
        if not isinstance(actual, list):
            return Difference(where, expected, actual, "not an array")
        for index, (exp, act) in enumerate(zip(expected, actual)):
            diff = self.match(exp, act, f"{where}[{index}]")
            if diff is not None:
                return diff
        if len(expected) != len(actual):
            return Difference(where, expected, actual, f"length {len(actual)}, expected {len(expected)}")
        return None

    def _scalars_equal(self, expected: Any, actual: Any) -> bool:
        if isinstance(expected, bool) or isinstance(actual, bool) or expected is None or actual is None:
            return expected is actual
        if not (isinstance(actual, (int, float)) and isinstance(expected, (int, float))):
            return False
        if not self.loose_numbers and type(expected) is not type(actual):
            return False  # AWS prints doubles with a fraction: 1 and 1.0 differ
        return bool(expected == actual)

    # -- strings and placeholders -------------------------------------------------
    def _match_string(self, expected: str, actual: Any, where: str) -> Difference | None:
        if expected in self.whole_words:
            if isinstance(actual, (dict, list)):
                return Difference(where, expected, actual, "placeholder for a scalar")
            return None
        parts = _split(self._token_re, expected)
        if len(parts) == 1 and not parts[0][0]:
            return None if actual == expected and isinstance(actual, str) else Difference(where, expected, actual)
        if _is_number(actual) and len(parts) == 1:
            return self._bind_whole(parts[0][1], json.dumps(actual), where, expected, actual)
        if not isinstance(actual, str):
            return Difference(where, expected, actual)
        regex, groups = self._regex(parts)
        found = regex.fullmatch(actual)
        if found is None:
            return Difference(where, expected, actual, self._bound_note(parts))
        for group, token in groups.items():
            text = found.group(group)
            if text != token:
                self.bindings[token] = text
        return None

    def _bind_whole(self, token: str, text: str, where: str, expected: str, actual: Any) -> Difference | None:
        if token.startswith("<"):
            bound = self.bindings.get(token)
            if bound is not None and bound != text:
                return Difference(where, expected, actual, f"{token} is bound to {bound!r}")
            self.bindings[token] = text
        return None

    def _regex(self, parts: list[tuple[bool, str]]) -> tuple[re.Pattern[str], dict[str, str]]:
        pieces: list[str] = []
        groups: dict[str, str] = {}
        named: dict[str, str] = {}
        for is_token, text in parts:
            if not is_token:
                pieces.append(re.escape(text))
            elif not text.startswith("<"):
                pieces.append(f"(?:{re.escape(text)}|{_WORD_PATTERNS.get(text, '.*?')})")
            elif text in self.bindings:
                pieces.append(f"(?:{re.escape(text)}|{re.escape(self.bindings[text])})")
            elif text in named:
                pieces.append(f"(?P={named[text]})")
            else:
                group = named[text] = f"g{len(named)}"
                groups[group] = text
                pieces.append(f"(?P<{group}>{re.escape(text)}|{_bracket_pattern(text)})")
        return _compile("".join(pieces)), groups

    def _bound_note(self, parts: list[tuple[bool, str]]) -> str:
        bound = {text: self.bindings[text] for is_token, text in parts if is_token and text in self.bindings}
        return ", ".join(f"{k} is bound to {v!r}" for k, v in bound.items())


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _split(token_re: re.Pattern[str], text: str) -> list[tuple[bool, str]]:
    """``text`` as (is_placeholder, piece) parts."""
    parts: list[tuple[bool, str]] = []
    position = 0
    for found in token_re.finditer(text):
        if found.start() > position:
            parts.append((False, text[position:found.start()]))
        parts.append((True, found.group()))
        position = found.end()
    if position < len(text) or not parts:
        parts.append((False, text[position:]))
    return parts


@lru_cache(maxsize=4096)
def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.DOTALL)
