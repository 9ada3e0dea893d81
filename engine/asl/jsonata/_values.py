"""JSON values into and out of jsonata-python, written the way jsonata-js (and so AWS) writes them."""
from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any, Final

from jsonata.jexception import JException  # type: ignore[import-untyped]
from jsonata.utils import Utils  # type: ignore[import-untyped]

from engine.types import JSON


class _Undefined:
    """JSONata's "nothing": an expression that selected no value."""

    _instance: _Undefined | None = None

    def __new__(cls) -> _Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNDEFINED"

    def __bool__(self) -> bool:
        return False


UNDEFINED: Final = _Undefined()
_NULL: Final = Utils.NULL_VALUE


def type_name(value: JSON) -> str:
    """The JSON type name AWS uses in messages: null, boolean, number, string, array, object."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _compact(value: JSON) -> str:
    return _js_json(value, None, replacer=False)


# ---------------------------------------------------------------- values in and out


def _to_jsonata(value: JSON) -> Any:
    """JSON null becomes jsonata-python's NULL_VALUE (its None means undefined); copies containers."""
    if value is None:
        return _NULL
    if isinstance(value, dict):
        return {key: _to_jsonata(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_to_jsonata(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool) and not _LONG_MIN <= value <= _LONG_MAX:
        return float(value)  # AWS reads JSON numbers as Java longs, and doubles past them
    return value


_LONG_MIN: Final = -(2**63)
_LONG_MAX: Final = 2**63 - 1


def _to_json(value: Any) -> JSON:
    """A jsonata-python result as plain JSON; undefined (None) and functions become UNDEFINED."""
    if value is None or Utils.is_function(value) or _is_lambda(value):
        return UNDEFINED
    if value is _NULL:
        return None
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            converted = _to_json(item)
            if converted is not UNDEFINED:
                out[key] = converted
        return out
    if isinstance(value, list):
        items = (_to_json(item) for item in value)
        return [item for item in items if item is not UNDEFINED]
    if isinstance(value, float):
        return _js_double(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**21:
        return float(value)  # JavaScript writes 1e+21 from here on
    return value


def _js_double(value: float) -> JSON:
    """A double as AWS returns it: whole numbers below 1e21 without a fraction (jsonata-js, where
    every number is a double), non-finite ones as the strings "Infinity", "-Infinity", "NaN"
    (AWS answers ``["Infinity"]`` for ``[1/0]``)."""
    if not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if value.is_integer() and abs(value) < 1e21:
        return int(Decimal(repr(value)))
    return value


def _is_lambda(value: Any) -> bool:
    return type(value).__name__ == "Symbol"



# ---------------------------------------------------------------- jsonata-js semantics
# AWS runs jsonata-js 2.0.6 ("Supported JSONata version", Step Functions docs). jsonata-python
# is a port of a Java port; where JavaScript numbers or messages show through, restore them.


def _js_number_text(value: float) -> str:
    """ECMAScript Number::toString (shortest round-trip digits, exponent past 1e21 / below 1e-6)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    digits_tuple, exponent = Decimal(repr(abs(value))).normalize().as_tuple()[1:]
    digits = "".join(map(str, digits_tuple))
    k, n = len(digits), int(exponent) + len(digits)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * -n + digits
    mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
    return f"{sign}{mantissa}e{'+' if n - 1 >= 0 else '-'}{abs(n - 1)}"


def _precise15(value: Any) -> str:
    """How $string and & write a number: a fraction to 15 significant digits
    (``Number(value.toPrecision(15))``), a whole number in full. AWS writes 999999999999999868928
    as "999999999999999900000" and 2^63 as "9223372036854776000": jsonata-js 2.1.1 and later."""
    number = float(value)
    if not math.isfinite(number):
        raise JException("D1001", -1, number)
    if number.is_integer():
        return _js_number_text(number)
    return _js_number_text(float(f"{number:.15g}"))


def _js_json(value: Any, indent: str | None, *, replacer: bool = True, depth: int = 0) -> str:
    """JSON.stringify; with ``replacer`` as $string calls it (numbers to 15 significant digits,
    functions as ""), without as AWS quotes a value in a message."""
    if value is None or value is _NULL:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        if replacer:
            return _precise15(value)
        return _js_number_text(float(value)) if math.isfinite(float(value)) else "null"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if Utils.is_function(value) or _is_lambda(value):
        return '""'
    pad, inner = ("", "") if indent is None else ("\n" + indent * depth, "\n" + indent * (depth + 1))
    if isinstance(value, list):
        items = [_js_json(v, indent, replacer=replacer, depth=depth + 1) for v in value]
        return "[" + ",".join(inner + item for item in items) + pad + "]" if items else "[]"
    if isinstance(value, dict):
        colon = ":" if indent is None else ": "
        items = [
            json.dumps(str(k), ensure_ascii=False) + colon + _js_json(v, indent, replacer=replacer, depth=depth + 1)
            for k, v in value.items()
            if v is not None
        ]
        return "{" + ",".join(inner + item for item in items) + pad + "}" if items else "{}"
    return json.dumps(str(value))

def _is_integer(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer()
