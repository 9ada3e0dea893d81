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
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, str):
        return _CONTROL_ESCAPE.sub(_upper_hex, json.dumps(value, ensure_ascii=False))
    if isinstance(value, list):
        return "[" + ",".join(map(dumps, value)) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{dumps(str(key))}:{dumps(item)}" for key, item in value.items()) + "}"
    return json.dumps(value)


_CONTROL_ESCAPE = re.compile(r"(\\\\)|\\u00([0-9a-f]{2})")


def _upper_hex(match: re.Match[str]) -> str:
    return match.group(1) or "\\u00" + match.group(2).upper()
