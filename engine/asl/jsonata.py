"""JSONata for ASL: the one adapter around jsonata-python, AWS's extra functions, AWS's wording.

    expr = compile("{% $states.input.a + $x %}")          # ValueError on a syntax error
    expr.evaluate({"input": {"a": 1}}, {"x": 2})            # 3 (UNDEFINED when nothing)
    compile_template({"r": "{% $x %}"}, field="Output").render(states, variables)

Failures raise ``StatesError("States.QueryEvaluationError", <inner message>)``; the interpreter
adds the "An error occurred while executing the state ..." prefix.
"""
from __future__ import annotations

import hashlib
import json
import math
import random
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from jsonata.jexception import JException  # type: ignore[import-untyped]
from jsonata.jsonata import Jsonata  # type: ignore[import-untyped]
from jsonata.functions import Functions  # type: ignore[import-untyped]
from jsonata.utils import Utils  # type: ignore[import-untyped]

from engine.errors import ErrorName, StatesError
from engine.types import JSON

__all__ = [
    "UNDEFINED",
    "Expression",
    "Template",
    "compile",
    "compile_template",
    "is_expression",
    "type_name",
]


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
QUERY_EVALUATION_ERROR: Final = ErrorName.QUERY_EVALUATION_ERROR.value


def is_expression(value: JSON) -> bool:
    """True for a string written ``{% ... %}`` (no space allowed outside the delimiters)."""
    return isinstance(value, str) and len(value) >= 4 and value.startswith("{%") and value.endswith("%}")


def _inner(text: str) -> str:
    return text[2:-2].strip() if is_expression(text) else text.strip()


# ---------------------------------------------------------------- messages

_PLACEHOLDER = re.compile(r"\{\{\{(\w+)\}\}\}|\{\{(\w+)\}\}")


# jsonata-python took its messages from a Java port that renamed "function" to "Object".
_JS_WORDING: Final = re.compile(r"\bObject\b")
# jsonata-js names the wanted item type of T0412 in plural words.
_ARRAY_ITEM_TYPES: Final = {"a": "arrays", "b": "booleans", "f": "functions", "n": "numbers", "o": "objects", "s": "strings"}


def _error_message(err: JException) -> str:
    """The message jsonata-js gives for ``err``: ``{{x}}`` as JSON text, ``{{{x}}}`` raw."""
    template = JException.error_codes.get(err.error)
    if template is None:
        return str(err)
    template = _JS_WORDING.sub("function", template)
    args = [err.current, err.expected] + ([err.extra] if err.extra is not None else [])
    if err.error == "T0412" and isinstance(err.extra, str):
        args[2] = _ARRAY_ITEM_TYPES.get(err.extra[:1], err.extra)
    position = iter(range(len(args)))

    def fill(match: re.Match[str]) -> str:
        index = next(position, None)
        value = args[index] if index is not None else None
        if match.group(1) is not None:
            return "" if value is None else str(value)
        return _js_stringify(value)

    return _PLACEHOLDER.sub(fill, template)


def _js_stringify(value: Any) -> str:
    if value is None:
        return "undefined"
    return _js_json(value, None, replacer=False)


def _evaluation_failure(err: Exception) -> str:
    """The tail after "threw an error during evaluation": AWS writes ``. CODE: message`` for a
    JSONata error and ``: message`` for one without a code."""
    if isinstance(err, JException) and err.error in JException.error_codes:
        return f". {err.error}: {_error_message(err)}"
    if isinstance(err, _FunctionError):
        return f": {err}"
    # Some jsonata-python functions raise a bare message (JException(message), RuntimeError):
    # give it the code of the jsonata-js message it spells.
    message = err.error if isinstance(err, JException) else str(err)
    code = _code_of(message)
    if code is not None:
        return f". {code}: {message}"
    return f": {type(err).__name__}: {err}"


def _code_of(message: str) -> str | None:
    plain = message.replace("'", '"')
    for code, pattern in _MESSAGE_PATTERNS:
        if pattern.fullmatch(plain):
            return str(code)
    return None


def _message_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{\{\{?\w+\}?\}\}", _JS_WORDING.sub("function", template).replace("'", '"'))
    return re.compile(".*?".join(re.escape(part) for part in parts), re.IGNORECASE)


_MESSAGE_PATTERNS: Final = tuple(
    (code, _message_pattern(template))
    for code, template in JException.error_codes.items()
    if template.strip("{}") != "message"
)


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
    return value


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
    return value


def _js_double(value: float) -> JSON:
    """A double as JSON.stringify writes it: whole numbers below 1e21 without a fraction, not
    finite ones as null (AWS runs jsonata-js, where every number is a double)."""
    if not math.isfinite(value):
        return None
    if value.is_integer() and abs(value) < 1e21:
        return int(Decimal(repr(value)))
    return value


def _is_lambda(value: Any) -> bool:
    return type(value).__name__ == "Symbol"


# ---------------------------------------------------------------- AWS's extra functions


class _FunctionError(Exception):
    """A failure inside one of AWS's extra functions; str() is the whole message."""


def _partition(array: Any, size: Any) -> Any:
    items = list(array) if isinstance(array, list) else [array]
    if not isinstance(size, (int, float)) or isinstance(size, bool) or size <= 0 or int(size) != size:
        raise _FunctionError("Invalid arguments in $partition: chunk size must be a positive integer")
    step = int(size)
    return [items[i : i + step] for i in range(0, len(items), step)]


_RANGE_LIMIT: Final = 1000


def _range(start: Any, end: Any, step: Any) -> Any:
    if any(not _is_integer(v) for v in (start, end, step)) or step == 0:
        raise _FunctionError("Invalid arguments in $range: start, end and step must be integers, step not 0")
    start, end, step = int(start), int(end), int(step)
    stop = end + (1 if step > 0 else -1)
    count = max(0, (stop - start + step - (1 if step > 0 else -1)) // step)
    if count > _RANGE_LIMIT:
        raise _FunctionError(f"Invalid arguments in $range: the result would have more than {_RANGE_LIMIT} items")
    return list(range(start, stop, step))


def _is_integer(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer()


_HASHES: Final = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}


def _hash(data: Any, algorithm: Any) -> Any:
    if algorithm not in _HASHES:
        supported = ", ".join(_HASHES)
        raise _FunctionError(f"Invalid arguments in $hash: the algorithm must be one of {supported}")
    return hashlib.new(_HASHES[algorithm], data.encode("utf-8")).hexdigest()


_RNG: Final = random.Random()
_LCG_MULTIPLIER: Final = 0x5DEECE66D
_LCG_MASK: Final = (1 << 48) - 1


def _random(seed: Any = None) -> Any:
    if seed is None:
        return _RNG.random()
    if not _is_integer(seed):
        raise _FunctionError("Invalid arguments in $random: the seed must be an integer")
    return _java_random_double(int(seed))


def _java_random_double(seed: int) -> float:
    """``new java.util.Random(seed).nextDouble()``: AWS's seeded $random (seed 42 -> 0.7275636800328681)."""
    state = (seed ^ _LCG_MULTIPLIER) & _LCG_MASK

    def next_bits(bits: int) -> int:
        nonlocal state
        state = (state * _LCG_MULTIPLIER + 0xB) & _LCG_MASK
        return state >> (48 - bits)

    high = next_bits(26)
    return ((high << 27) + next_bits(27)) * 2.0**-53


def _uuid() -> Any:
    return str(uuid.uuid4())


def _parse(text: Any) -> Any:
    try:
        value = json.loads(text)
    except ValueError as err:
        raise _FunctionError(f"Invalid arguments in $parse: {err}") from None
    return _to_jsonata(value)


_EXTRAS: Final[tuple[tuple[str, Callable[..., Any], str], ...]] = (
    ("string", lambda arg=None, prettify=None: _string(arg, prettify), "<x-b?:s>"),
    ("sort", lambda array=None, comparator=None: _sort(array, comparator), "<af?:a>"),
    ("toMillis", lambda timestamp=None, picture=None: _to_millis(timestamp, picture), "<s-s?:n>"),
    ("number", lambda arg=None: _number(arg), "<(nsb)-:n>"),
    ("partition", _partition, "<an:a>"),
    ("range", _range, "<nnn:a>"),
    ("hash", _hash, "<ss:s>"),
    ("random", _random, "<n?:n>"),
    ("uuid", _uuid, "<:s>"),
    ("parse", _parse, "<s:x>"),
)


def _install_extras(engine: Jsonata) -> None:
    for name, function, signature in _EXTRAS:
        engine.register_function(name, Jsonata.JFunction(Jsonata.JLambda(function), signature))
    # AWS: "$eval is not available; use $parse instead" (Step Functions JSONata docs).
    engine.register_function("eval", None)


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
    """``Number(value.toPrecision(15))`` as text: how $string and & write a number."""
    number = float(value)
    if not math.isfinite(number):
        raise JException("D1001", -1, number)
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


def _string(arg: Any = None, prettify: Any = None) -> Any:
    """jsonata-js $string."""
    if isinstance(arg, Utils.JList) and arg.outer_wrapper:
        arg = arg[0]
    if arg is None:
        return None
    if isinstance(arg, str):
        return arg
    if Utils.is_function(arg) or _is_lambda(arg):
        return ""
    if isinstance(arg, (int, float)) and not isinstance(arg, bool) and not math.isfinite(float(arg)):
        raise JException("D3001", -1)
    return _js_json(arg, "  " if prettify is True else None)


def _sort(array: Any = None, comparator: Any = None) -> Any:
    """jsonata-js $sort: a stable merge sort; ``comparator(a, b)`` true puts b first."""
    if array is None:
        return None
    items = list(array) if isinstance(array, list) else [array]
    if len(items) <= 1:
        return items
    if comparator is None:
        if not (Utils.is_array_of_numbers(items) or Utils.is_array_of_strings(items)):
            raise JException("D3070", -1)
        return sorted(items)
    return _merge_sort(items, lambda a, b: _js_truthy(Functions.func_apply(comparator, [a, b])))


def _merge_sort(items: list[Any], after: Callable[[Any, Any], bool]) -> list[Any]:
    if len(items) <= 1:
        return items
    middle = len(items) // 2
    left, right = _merge_sort(items[:middle], after), _merge_sort(items[middle:], after)
    merged: list[Any] = []
    while left and right:
        merged.append(right.pop(0) if after(left[0], right[0]) else left.pop(0))
    return merged + left + right


def _js_truthy(value: Any) -> bool:
    if value is None or value is _NULL or value is False:
        return False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return bool(value != 0 and not math.isnan(value))
    return bool(value != "")


# jsonata-js accepts only this ISO 8601 shape when $toMillis has no picture (Date.parse reads it).
_ISO8601: Final = re.compile(r"\d{4}(-[01]\d)*(-[0-3]\d)*(T[0-2]\d:[0-5]\d:[0-5]\d)*(\.\d+)?([+-][0-2]\d:?[0-5]\d|Z)?")


def _to_millis(timestamp: Any = None, picture: Any = None) -> Any:
    if timestamp is None:
        return None
    if picture is None and not _ISO8601.fullmatch(timestamp):
        raise JException("D3110", -1, timestamp)
    try:
        return Functions.datetime_to_millis(timestamp, picture)
    except (ValueError, OverflowError) as err:
        raise JException("D3110", -1, timestamp) from err


_DECIMAL: Final = re.compile(r"-?[0-9]+(\.[0-9]+)?([Ee][-+]?[0-9]+)?")
_PREFIXED: Final = re.compile(r"0[xX][0-9A-Fa-f]+|0[oO][0-7]+|0[bB][01]+")


def _number(arg: Any = None) -> Any:
    """jsonata-js $number: decimal, 0x/0o/0b text, booleans; anything else is D3030."""
    if arg is None:
        return None
    if isinstance(arg, bool):
        return int(arg)
    if isinstance(arg, (int, float)):
        return arg
    if isinstance(arg, str) and _DECIMAL.fullmatch(arg) and math.isfinite(float(arg)):
        return Utils.convert_number(float(arg))
    if isinstance(arg, str) and _PREFIXED.fullmatch(arg):
        return int(arg, 0)
    raise JException("D3030", -1, arg)


def _arithmetic(op: str, lhs: float, rhs: float) -> float:
    if op == "+":
        return lhs + rhs
    if op == "-":
        return lhs - rhs
    if op == "*":
        return lhs * rhs
    if rhs == 0:  # JavaScript: x/0 is +-Infinity, 0/0 and x%0 are NaN
        if op == "%" or lhs == 0 or math.isnan(lhs):
            return math.nan
        return math.copysign(math.inf, lhs) * math.copysign(1.0, rhs)
    return lhs / rhs if op == "/" else math.fmod(lhs, rhs)


# Python exceptions that some jsonata-python functions let escape, as jsonata-js's codes.
_NATIVE_FAILURES: Final[Mapping[str, str]] = {
    "toMillis": "D3110",
    "power": "D3061",
    "decodeUrl": "D3140",
    "decodeUrlComponent": "D3140",
    "sort": "D3070",
}


class _Engine(Jsonata):  # type: ignore[misc]
    """jsonata-python with jsonata-js's arithmetic and error details."""

    fixed_millis: int | None = None
    """When set, what $now() and $millis() read instead of the wall clock (an engine Clock)."""

    @property
    def timestamp(self) -> int:
        return self.fixed_millis if self.fixed_millis is not None else self._wall_millis

    @timestamp.setter
    def timestamp(self, value: int) -> None:
        self._wall_millis = value

    def evaluate_numeric_expression(self, lhs: Any, rhs: Any, op: Any) -> Any:
        if lhs is not None and not Utils.is_numeric(lhs):
            raise JException("T2001", -1, op, lhs)
        if rhs is not None and not Utils.is_numeric(rhs):
            raise JException("T2002", -1, op, rhs)
        if lhs is None or rhs is None:
            return None
        result = _arithmetic(str(op), float(lhs), float(rhs))
        return Utils.convert_number(result) if math.isfinite(result) else result

    def evaluate_string_concat(self, lhs: Any, rhs: Any) -> str:
        return str(_string(lhs) or "") + str(_string(rhs) or "")

    def validate_arguments(self, signature: Any, args: Any, context: Any) -> Any:
        # jsonata-python lets JSON null match any parameter (as if it were missing); jsonata-js
        # checks it as type 'l', so $uppercase(null) fails T0410.
        checked = getattr(signature, "signature", None)
        if checked is None or not isinstance(args, list):
            return super().validate_arguments(signature, args, context)
        supplied = "".join("l" if a is _NULL else checked.get_symbol(a) for a in args)
        match = checked._regex.fullmatch(supplied)
        if match is None:
            raise JException("T0410", -1, _mismatch_index(checked, supplied), checked.function_name)
        return super().validate_arguments(signature, _wrap_nulls(checked, match, args), context)

    def apply_inner(self, proc: Any, args: Any, input: Any, environment: Any) -> Any:  # noqa: A002
        try:
            return super().apply_inner(proc, args, input, environment)
        except JException as err:
            if err.error == "T0410" and err.current is None:
                _name_the_argument(err, proc, args)
            raise
        except (ValueError, TypeError, ArithmeticError, UnicodeError, OSError) as err:
            name = getattr(proc, "function_name", None)
            code = _NATIVE_FAILURES.get(str(name))
            if code is None:
                raise
            values = list(args) if isinstance(args, list) else []
            if code == "D3140":
                raise JException(code, -1, name, values[0] if values else None) from err
            raise JException(code, -1, *values[:2]) from err


def _wrap_nulls(signature: Any, match: re.Match[str], args: list[Any]) -> list[Any]:
    """jsonata-js passes null to an array parameter as ``[null]`` ($count(null) is 1)."""
    if _NULL not in args:
        return args
    wrapped, position = list(args), 0
    for index, param in enumerate(signature._params):
        group = match.group(index + 1) or ""
        if param.type == "a" and group == "l":
            wrapped[position] = [_NULL]
        position += len(group)
    return wrapped


def _mismatch_index(signature: Any, supplied: str) -> int:
    """The 1-based argument jsonata-js blames: the first parameter whose pattern stops matching
    (jsonata-python full-matches each prefix and so always blames argument 1)."""
    pattern, good_to = "^", 0
    for param in signature._params:
        pattern += param.regex
        match = re.match(pattern, supplied)
        if match is None:
            break
        good_to = match.end()
    return good_to + 1


def _name_the_argument(err: JException, proc: Any, args: Any) -> None:
    """jsonata-python raises some T0410s bare; jsonata-js names the argument and the function."""
    values = list(args) if isinstance(args, list) else []
    index = next((i for i, v in enumerate(values) if v is _NULL), 0)
    err.current = index + 1
    err.expected = getattr(proc, "function_name", None)


# ---------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=True, eq=False)
class Expression:
    """One parsed JSONata expression; ``source`` is the text between ``{%`` and ``%}``, stripped."""

    source: str
    _engine: Jsonata

    def evaluate(
        self,
        states: Mapping[str, JSON],
        variables: Mapping[str, JSON],
        *,
        field: str | None = None,
        now: datetime | None = None,
    ) -> JSON:
        """The value, or UNDEFINED; a failure raises StatesError(QueryEvaluationError).

        ``field`` names the expression's place in messages; ``now`` is what $now()/$millis() see
        (default: the wall clock).
        """
        return self._run(_bindings(states, variables), field, _millis(now))

    def _run(self, bindings: dict[str, Any], field: str | None, millis: int | None = None) -> JSON:
        # jsonata-python evaluates on the instance last built in this thread ($now, $millis read its
        # clock), so make this expression's engine the current one.
        Jsonata.CURRENT.jsonata = self._engine
        self._engine.fixed_millis = millis
        try:
            raw = self._engine.evaluate(None, bindings)
        except RecursionError:
            raise self._failure(field, ". D1011: " + JException.error_codes["D1011"]) from None
        except Exception as err:  # noqa: BLE001 - any library failure is the expression's error
            raise self._failure(field, _evaluation_failure(err)) from None
        return _to_json(raw)

    def _failure(self, field: str | None, detail: str) -> StatesError:
        return _query_error(f"{self._subject(field)} threw an error during evaluation{detail}", field)

    def _subject(self, field: str | None) -> str:
        where = f" specified for the field '{field}'" if field is not None else ""
        return f"The JSONata expression '{self.source}'{where}"

    def top_level_references(self) -> tuple[str, ...]:
        """Field names read from the (absent) context item at the top level, e.g. ``('phone',)``.

        AWS refuses such definitions: ``UNSUPPORTED_JSONATA_EXPRESSION: Reference to 'phone' at
        the top level is not supported.`` (one diagnostic per distinct name, in order).
        """
        found: list[str] = []
        _collect_top_level(self._engine.ast, True, found)
        return tuple(dict.fromkeys(found))

    def undefined_error(self, field: str | None) -> StatesError:
        """AWS's error for an expression that returned nothing."""
        return _query_error(f"{self._subject(field)} returned nothing (undefined).", field)

    def type_error(self, field: str | None, expected: str, value: JSON) -> StatesError:
        """AWS's error for a result of the wrong type (``expected`` e.g. 'array')."""
        return _query_error(
            f"{self._subject(field)} returned an unexpected result type. "
            f"Expected '{expected}', but was '{type_name(value)}' for value: {_compact(value)}",
            field,
        )


def _query_error(cause: str, field: str | None) -> StatesError:
    """States.QueryEvaluationError; ``location`` is the field, as EvaluationFailed events name it."""
    error = StatesError(QUERY_EVALUATION_ERROR, cause)
    error.location = field  # type: ignore[attr-defined]
    return error


# Children evaluated against the same context item as their parent node.
_SAME_CONTEXT: Final = ("expression", "procedure", "arguments", "lhs", "rhs", "expressions", "condition", "then", "_else")


def _collect_top_level(node: Any, at_root: bool, found: list[str]) -> None:
    """Walk the AST; a path that starts with a plain name while the context is the root is reported."""
    if isinstance(node, (list, tuple)):
        for item in node:
            _collect_top_level(item, at_root, found)
        return
    kind = getattr(node, "type", None)
    if kind is None or kind == "lambda":
        return  # a lambda's context is its caller's input: not decidable here
    if kind == "path":
        for index, step in enumerate(node.steps):
            _collect_step(step, at_root and index == 0, found)
        _collect_top_level(node.group, False, found)
        return
    if kind == "unary" and node.value == "{":
        for pair in node.lhs_object or ():
            _collect_top_level(list(pair), at_root, found)
    for name in _SAME_CONTEXT:
        _collect_top_level(getattr(node, name, None), at_root, found)
    _collect_top_level(getattr(node, "stages", None), False, found)
    _collect_top_level(getattr(node, "group", None), False, found)


def _collect_step(step: Any, at_root: bool, found: list[str]) -> None:
    if at_root and step.type == "name":
        found.append(str(step.value))
    else:
        _collect_top_level(step, at_root, found)
    for attribute in ("stages", "predicate", "group", "terms"):
        _collect_top_level(getattr(step, attribute, None), False, found)


def compile(text: str) -> Expression:  # noqa: A001 - the contract's name
    """Parse ``{% expr %}`` (or a bare expression) once; ValueError(jsonata-js message) if invalid."""
    source = _inner(text)
    try:
        engine = _Engine(source)
    except JException as err:
        raise ValueError(_error_message(err)) from None
    except KeyError as err:  # jsonata-python's parser looks unknown symbols up unguarded
        raise ValueError(f"Unknown operator: {_js_stringify(err.args[0])}") from None
    except Exception as err:  # noqa: BLE001 - any parser failure is a syntax error
        raise ValueError(str(err) or type(err).__name__) from None
    if engine.errors:
        raise ValueError(str(engine.errors[0]))
    engine.set_output_convert_nulls(False)
    _install_extras(engine)
    return Expression(source, engine)


# ---------------------------------------------------------------- templates

_TYPE_CHECKS: Final[Mapping[str, Callable[[JSON], bool]]] = {
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: _is_integer(v),
}


@dataclass(frozen=True, slots=True)
class _Leaf:
    expression: Expression
    field: str


@dataclass(frozen=True, slots=True)
class Template:
    """A payload whose ``{% %}`` strings are compiled; everything else is a literal."""

    payload: JSON
    field: str
    result_type: str | None = None

    def render(self, states: Mapping[str, JSON], variables: Mapping[str, JSON], *, now: datetime | None = None) -> JSON:
        """Evaluate every expression; StatesError(QueryEvaluationError) as AWS words it.

        ``now`` is what $now()/$millis() see (default: the wall clock).
        """
        value = _render(self.payload, _bindings(states, variables), _millis(now))
        if self.result_type is not None and isinstance(self.payload, _Leaf):
            if not _TYPE_CHECKS[self.result_type](value):
                raise self.payload.expression.type_error(self.payload.field, self.result_type, value)
        return value

    @property
    def is_constant(self) -> bool:
        """True when the payload holds no expression."""
        return not _has_leaf(self.payload)


def _bindings(states: Mapping[str, JSON], variables: Mapping[str, JSON]) -> dict[str, Any]:
    bindings = {name: _to_jsonata(value) for name, value in variables.items()}
    bindings["states"] = _to_jsonata(dict(states))
    return bindings


def _millis(now: datetime | None) -> int | None:
    return None if now is None else int(now.timestamp() * 1000)


def _render(node: Any, bindings: dict[str, Any], millis: int | None) -> JSON:
    if isinstance(node, _Leaf):
        value = node.expression._run(bindings, node.field, millis)
        if value is UNDEFINED:
            raise node.expression.undefined_error(node.field)
        return value
    if isinstance(node, dict):
        return {key: _render(item, bindings, millis) for key, item in node.items()}
    if isinstance(node, list):
        return [_render(item, bindings, millis) for item in node]
    return node


def _has_leaf(node: Any) -> bool:
    if isinstance(node, _Leaf):
        return True
    if isinstance(node, dict):
        return any(_has_leaf(item) for item in node.values())
    if isinstance(node, list):
        return any(_has_leaf(item) for item in node)
    return False


def compile_template(payload: JSON, *, field: str, result_type: str | None = None) -> Template:
    """Compile every ``{% %}`` string in ``payload``; ``field`` names it in messages ('Output').

    Nested fields are named ``Output/key``, list items ``Output[0]``. ``result_type`` ('array',
    'object', 'string', 'number', 'integer', 'boolean') checks the value of a payload that is one
    expression, as AWS checks ``Items``. A syntax error raises ValueError.
    """
    if result_type is not None and result_type not in _TYPE_CHECKS:
        raise ValueError(f"unknown result type {result_type!r}")
    return Template(_compile_node(payload, field), field, result_type)


def _compile_node(node: JSON, field: str) -> Any:
    if is_expression(node):
        return _Leaf(compile(node), field)
    if isinstance(node, dict):
        return {key: _compile_node(item, f"{field}/{key}") for key, item in node.items()}
    if isinstance(node, list):
        return [_compile_node(item, f"{field}[{index}]") for index, item in enumerate(node)]
    return node
