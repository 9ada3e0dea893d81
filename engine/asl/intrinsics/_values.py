"""Value semantics the intrinsics share with AWS's Java runtime.

AWS evaluates intrinsics on Jackson nodes, so three Java behaviours show through:
``Object.toString`` in States.Format, ``JsonNode.equals`` in ArrayContains/ArrayUnique
(``1`` and ``1.0`` differ, ``true`` is not ``1``) and ``Math.round`` in the math functions.
"""
from __future__ import annotations

import json
import math
from decimal import Decimal

from engine.types import JSON


def is_number(value: JSON) -> bool:
    """A JSON number (booleans are not numbers here, unlike in Python)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def java_round(value: int | float) -> int:
    """``Math.round``: the nearest integer, halves rounded up (-1.5 -> -1, 2.5 -> 3).

    AWS: States.MathAdd(-0.5, 0.5) is 1 and (-2.5, 0) is -2; see the test_math_add cases.
    """
    return value if isinstance(value, int) else math.floor(value + 0.5)


def json_equal(left: JSON, right: JSON) -> bool:
    """Jackson ``JsonNode.equals``: same kind and value; int and float nodes never match."""
    if type(left) is not type(right):
        return False
    if isinstance(left, list):
        return len(left) == len(right) and all(map(json_equal, left, right))
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(json_equal(v, right[k]) for k, v in left.items())
    return bool(left == right)


def to_text(value: JSON) -> str:
    """The text States.Format puts in place of ``{}`` (Java ``toString`` of the value).

    AWS: objects print as ``{Arg1=1, Arg2=[]}``, strings without quotes, null as ``null``;
    see the test_format_2 and test_context_json_path cases.
    """
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}={to_text(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(to_text(item) for item in value) + "]"
    return str(value)


def java_double(value: float) -> str:
    """``Double.toString``: plain between 10^-3 and 10^7, else ``d.dddE<n>``."""
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        return repr(value)
    decimal = Decimal(repr(value)).normalize()
    sign, digits, _ = decimal.as_tuple()
    text = "".join(map(str, digits))
    mantissa = text[0] + "." + (text[1:] or "0")
    return ("-" if sign else "") + f"{mantissa}E{decimal.adjusted()}"


def to_json_text(value: JSON) -> str:
    """Compact JSON as AWS writes it (``[1,2]``, ``{"a":1}``, non-ASCII kept, ``1.0E20``)."""
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, list):
        return "[" + ",".join(map(to_json_text, value)) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{to_json_text(k)}:{to_json_text(v)}" for k, v in value.items()) + "}"
    return json.dumps(value, ensure_ascii=False)


def _reject_constant(name: str) -> JSON:
    raise ValueError(f"invalid JSON constant {name}")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def parse_json_text(text: str) -> JSON:
    """The first JSON value of ``text`` (Jackson ``readTree``); None for blank text.

    AWS: States.StringToJson of "" and " " is null (test_string_to_json), which is what
    Jackson's ``readTree`` answers; like it, text after the first value is ignored.
    Raises ValueError (NaN and Infinity are not JSON).
    """
    stripped = text.lstrip(" \t\n\r")
    if not stripped:
        return None
    return _DECODER.raw_decode(stripped)[0]


class JavaRandom:
    """``java.util.Random``, so a seeded States.MathRandom repeats AWS's sequence."""

    _MULTIPLIER = 0x5DEECE66D
    _MASK = (1 << 48) - 1

    def __init__(self, seed: int) -> None:
        self._seed = (seed ^ self._MULTIPLIER) & self._MASK

    def _next(self, bits: int) -> int:
        self._seed = (self._seed * self._MULTIPLIER + 0xB) & self._MASK
        result = self._seed >> (48 - bits)
        return result - (1 << 32) if result >= 1 << 31 else result  # Java's (int) cast

    def next_int(self, bound: int) -> int:
        """``nextInt(bound)``: uniform in [0, bound), bound in [1, 2^31 - 1]."""
        result = self._next(31)
        top = bound - 1
        if bound & top == 0:
            return (bound * result) >> 31
        value = result
        result = value % bound
        while value - result + top >= 1 << 31:
            value = self._next(31)
            result = value % bound
        return result
