"""The compact JSON text AWS writes in history and error messages (Jackson's output)."""
from __future__ import annotations

import json
import re

from engine.asl.intrinsics._values import java_double
from engine.types import JSON


def dumps(value: JSON) -> str:
    """Compact JSON as AWS (Jackson) writes it in history.

    ``{"a":[1,2]}``, non-ASCII kept, doubles as Java prints them (``1.0``, ``1.0E20``) and
    control characters as ``\\u001F`` (Jackson's hex digits are upper case).
    """
    if _plain(value):
        # json.dumps writes these values exactly as Jackson does; a "\\u" in its output is a
        # control-character escape (lower-case hex), left to the exact writer below.
        text = _FAST(value)
        if "\\u" not in text:
            return text
    return _exact(value)


_FAST = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode


def _plain(value: JSON) -> bool:
    """Whether ``json.dumps`` already writes ``value`` as Jackson does (no doubles it would print
    differently, only str keys, only plain JSON types)."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return True
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or not _plain(item):
                return False
        return True
    if kind is list:
        for item in value:
            if not _plain(item):
                return False
        return True
    if kind is float:
        # java_double prints repr(value) in this range; NaN and infinities fail the test.
        return value == 0 or 1e-3 <= abs(value) < 1e7
    return False


def _exact(value: JSON) -> str:
    """The reference writer: Jackson's output built value by value."""
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, str):
        return _CONTROL_ESCAPE.sub(_upper_hex, json.dumps(value, ensure_ascii=False))
    if isinstance(value, list):
        return "[" + ",".join(map(_exact, value)) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{_exact(str(key))}:{_exact(item)}" for key, item in value.items()) + "}"
    return json.dumps(value)


_CONTROL_ESCAPE = re.compile(r"(\\\\)|\\u00([0-9a-f]{2})")


def _upper_hex(match: re.Match[str]) -> str:
    return match.group(1) or "\\u00" + match.group(2).upper()
