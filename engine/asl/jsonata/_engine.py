"""jsonata-python made to behave as the jsonata-js AWS runs: the docs name 2.0.6, and what AWS
answers for $string and $formatNumber matches 2.1.1 and later. Arithmetic on doubles, $string,
$number, $sort, $replace, $toMillis, $formatNumber, argument checks that name the argument and
function as jsonata-js does, and AWS's own evaluation bounds (depth, time, memory)."""
from __future__ import annotations

import copy
import math
import re
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final

from jsonata.functions import Functions  # type: ignore[import-untyped]
from jsonata.jexception import JException  # type: ignore[import-untyped]
from jsonata.jsonata import Jsonata  # type: ignore[import-untyped]
from jsonata.parser import Parser  # type: ignore[import-untyped]
from jsonata.utils import Utils  # type: ignore[import-untyped]

from engine.asl.jsonata._messages import _FunctionError
from engine.asl.jsonata._values import _NULL, _is_lambda, _js_json


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


def _replace(text: Any = None, pattern: Any = None, replacement: Any = None, limit: Any = None) -> Any:
    """jsonata-js $replace: a string pattern inserts the replacement as is; a regex one expands
    ``$0``/``$n`` or calls the function with {match, start, end, groups}."""
    if text is None:
        return None
    if pattern == "":
        raise JException("D3010", -1, pattern)
    if limit is not None and limit < 0:
        raise JException("D3011", -1, limit)
    if limit is not None and limit == 0:
        return text
    if isinstance(pattern, str):
        pieces = text.split(pattern) if limit is None else text.split(pattern, int(limit))
        return (replacement if isinstance(replacement, str) else "").join(pieces)
    out, position = [], 0
    for count, match in enumerate(_regex_matches(pattern, text)):
        if limit is not None and count >= limit:
            break
        found = {"match": match.group(0), "start": match.start(), "end": match.end(), "groups": list(match.groups())}
        if isinstance(replacement, str):
            substitute = _expand(replacement, found)
        else:
            substitute = Functions.func_apply(replacement, [found])
            if not isinstance(substitute, str):
                raise JException("D3012", -1, substitute)
        out.append(text[position : match.start()] + substitute)
        position = match.end()
    return "".join(out) + text[position:]


def _regex_matches(pattern: Any, text: str) -> Iterator[re.Match[str]]:
    """Successive matches as a JavaScript global regex finds them (D1004 on a repeated empty match)."""
    match = pattern.search(text, 0)
    while match is not None:
        yield match
        if match.end() >= len(text):
            return
        match = pattern.search(text, match.end())
        if match is not None and match.group(0) == "":
            raise JException("D1004", -1, pattern.pattern)


def _expand(template: str, found: dict[str, Any]) -> str:
    """``$$`` is ``$``, ``$0`` the match, ``$n`` group n (as many digits as the group count has)."""
    groups: list[Any] = found["groups"]
    out, position = [], 0
    while (index := template.find("$", position)) != -1 and position < len(template):
        out.append(template[position:index])
        position = index + 1
        following = template[position : position + 1]
        if following == "$":
            out.append("$")
            position += 1
        elif following == "0":
            out.append(found["match"])
            position += 1
        else:
            digits = len(str(len(groups))) if groups else 1
            number = _leading_int(template[position : position + digits])
            if digits > 1 and number is not None and number > len(groups):
                number = _leading_int(template[position : position + digits - 1])
            if number is None:
                out.append("$")
                continue
            if 0 < number <= len(groups) and groups[number - 1] is not None:
                out.append(groups[number - 1])
            position += len(str(number))
    return "".join(out) + template[position:]


def _leading_int(text: str) -> int | None:
    """``parseInt``: the leading digits of ``text``, or None."""
    digits = re.match(r"\d+", text)
    return int(digits.group(0)) if digits else None


_PICTURE_DEFAULTS: Final = {
    "decimal-separator": ".",
    "grouping-separator": ",",
    "exponent-separator": "e",
    "percent": "%",
    "per-mille": "\u2030",
    "zero-digit": "0",
    "digit": "#",
    "pattern-separator": ";",
}


def _format_number(value: Any = None, picture: Any = None, options: Any = None) -> Any:
    """$formatNumber with jsonata-js's picture checks: every rule is tried and the last broken
    one is reported (AWS: ``$formatNumber(1, "x")`` fails D3086)."""
    if value is None:
        return None
    properties = {**_PICTURE_DEFAULTS, **(options if isinstance(options, dict) else {})}
    subpictures = str(picture).split(properties["pattern-separator"])
    if len(subpictures) > 2:
        raise JException("D3080", -1)
    for subpicture in subpictures:
        error = _picture_error(subpicture, properties)
        if error is not None:
            raise JException(error, -1)
    return Functions.format_number(value, picture, options)


def _picture_error(sub: str, p: Mapping[str, str]) -> str | None:
    """F&O 4.7.3 as jsonata-js checks one sub-picture (its quirks included)."""
    digits = {chr(ord(p["zero-digit"][0]) + i) for i in range(10)}
    active = digits | {p["decimal-separator"], p["exponent-separator"], p["grouping-separator"], p["digit"], p["pattern-separator"]}
    anchors = [i for i, ch in enumerate(sub) if ch in active and ch != p["exponent-separator"]]
    prefix = sub[: anchors[0]] if anchors else ""
    suffix = sub[anchors[-1] + 1 :] if anchors else ""
    active_part = sub[len(prefix) : len(sub) - len(suffix)]
    exponent_at = sub.find(p["exponent-separator"], len(prefix))
    exponent: str | None = None
    mantissa = active_part
    if exponent_at != -1 and exponent_at <= len(sub) - len(suffix):
        mantissa, exponent = active_part[:exponent_at], active_part[exponent_at + 1 :]
    ds, gs, pc, pm = p["decimal-separator"], p["grouping-separator"], p["percent"], p["per-mille"]
    point = mantissa.find(ds)
    integer, fractional = (mantissa, suffix) if point == -1 else (mantissa[:point], mantissa[point + 1 :])
    decimal_at = sub.find(ds)
    checks = [
        ("D3081", decimal_at != sub.rfind(ds)),
        ("D3082", sub.find(pc) != sub.rfind(pc)),
        ("D3083", sub.find(pm) != sub.rfind(pm)),
        ("D3084", pc in sub and pm in sub),
        ("D3085", not any(ch in digits or ch == p["digit"] for ch in mantissa)),
        ("D3086", any(ch not in active for ch in active_part)),
        ("D3087", decimal_at != -1 and gs in ((sub[decimal_at - 1] if decimal_at > 0 else "") + sub[decimal_at + 1 : decimal_at + 2])),
        ("D3088", decimal_at == -1 and integer.endswith(gs)),
        ("D3089", gs + gs in sub),
        ("D3090", _digit_before(integer, integer.find(p["digit"]), digits)),
        ("D3091", _digit_after(fractional, fractional.rfind(p["digit"]), digits)),
        ("D3092", exponent is not None and len(exponent) > 0 and (pc in sub or pm in sub)),
        ("D3093", exponent is not None and (not exponent or any(ch not in digits for ch in exponent))),
    ]
    broken = [code for code, failed in checks if failed]
    return broken[-1] if broken else None


def _digit_before(part: str, at: int, digits: set[str]) -> bool:
    return at != -1 and any(ch in digits for ch in part[:at])


def _digit_after(part: str, at: int, digits: set[str]) -> bool:
    return at != -1 and any(ch in digits for ch in part[at:])


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
        result = str(_string(lhs) or "") + str(_string(rhs) or "")
        if len(result) > MEMORY_LIMIT_BYTES:
            raise _FunctionError(MEMORY)
        return result

    def evaluate_range_expression(self, lhs: Any, rhs: Any) -> Any:
        result = super().evaluate_range_expression(lhs, rhs)
        if result is not None and (int(rhs) - int(lhs) + 1) * 8 > MEMORY_LIMIT_BYTES:
            raise _FunctionError(MEMORY)
        return result

    def validate_arguments(self, signature: Any, args: Any, context: Any) -> Any:
        # jsonata-python lets JSON null match any parameter (as if it were missing); jsonata-js
        # checks it as type 'l', so $uppercase(null) fails T0410.
        checked = getattr(signature, "signature", None)
        if checked is None or not isinstance(args, list):
            return super().validate_arguments(signature, args, context)
        # jsonata-python renames a native function's signature whenever a variable is bound to it
        # ($f := $sum), so take the name from the function itself; a lambda has none.
        name = getattr(signature, "function_name", None)
        if name is None and checked.function_name != "lambda":
            name = checked.function_name  # a lambda called through the variable it is bound to
        supplied = "".join("l" if a is _NULL else checked.get_symbol(a) for a in args)
        match = checked._regex.fullmatch(supplied)
        if match is None:
            raise JException("T0410", -1, _mismatch_index(checked, supplied), name)
        try:
            return super().validate_arguments(signature, _wrap_nulls(checked, match, args), context)
        except JException as err:
            if err.error == "T0412":
                err.expected = name
            elif err.error == "T0411":  # jsonata-python passes (context, index)
                err.current, err.expected = err.expected, name
            raise

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


JS_FUNCTIONS: Final[tuple[tuple[str, Callable[..., Any], str], ...]] = (
    ("string", lambda arg=None, prettify=None: _string(arg, prettify), "<x-b?:s>"),
    ("number", lambda arg=None: _number(arg), "<(nsb)-:n>"),
    ("sort", lambda array=None, comparator=None: _sort(array, comparator), "<af?:a>"),
    ("toMillis", lambda timestamp=None, picture=None: _to_millis(timestamp, picture), "<s-s?:n>"),
    ("replace", lambda text=None, pattern=None, rep=None, limit=None: _replace(text, pattern, rep, limit), "<s-(sf)(sf)n?:s>"),
    ("formatNumber", lambda value=None, picture=None, options=None: _format_number(value, picture, options), "<n-so?:s>"),
)
"""jsonata-js versions of library functions, bound over jsonata-python's (name, function, signature)."""


# AWS bounds every evaluation (observed: a 200-term 1+1+...+1 fails, nesting up to 100 passes).
MAX_DEPTH = 100
TIME_LIMIT_SECONDS = 10.0
"""Not measured on AWS; long enough for any sane expression, short enough for a test to notice."""
STACK_OVERFLOW: Final = (
    "Stack overflow error: Check for non-terminating recursive function. Consider rewriting as tail-recursive."
)
TIMEOUT: Final = "Expression evaluation timeout: Check for infinite loop"
# AWS refuses what holds too much memory: [1..873782] passes, [1..873783] fails, a string of 2^22
# characters passes and one of 2^23 fails; 8 bytes a number and 1 a character fit both.
MEMORY_LIMIT_BYTES: Final = 873782 * 8
MEMORY: Final = "Expression evaluation memory limit exceeded: Check for excessive memory usage"


def bounds() -> dict[str, Callable[..., None]]:
    """Fresh per-evaluation depth and time bounds, as the entry/exit hooks jsonata-python looks up
    in the evaluation frame (its own Timebox counts from compile time and never resets)."""
    depth, max_depth = 0, MAX_DEPTH
    deadline = time.monotonic() + TIME_LIMIT_SECONDS

    def check() -> None:
        if depth > max_depth:
            raise _FunctionError(STACK_OVERFLOW)
        if time.monotonic() > deadline:
            raise _FunctionError(TIMEOUT)

    def entry(expr: Any, input: Any, environment: Any) -> None:  # noqa: A002
        nonlocal depth
        if not environment.is_parallel_call:
            depth += 1
            check()

    def exit_(expr: Any, input: Any, environment: Any, result: Any) -> None:  # noqa: A002
        nonlocal depth
        if not environment.is_parallel_call:
            depth -= 1
            check()

    return {"__evaluate_entry": entry, "__evaluate_exit": exit_}


# jsonata-python's `a ?: b` and `a ?? b` put the same `a` node in two places of the tree, and its
# parser then folds a unary minus into that node once per place: `-5 ?: 99` came out as 5. Give
# the second place its own copy (the parser itself is shared, not copied).
def _separate(led: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def led_with_own_copy(self: Any, left: Any) -> Any:
        node = led(self, left)
        node.then = copy.deepcopy(left, {id(self._outer_instance): self._outer_instance})
        return node

    return led_with_own_copy


if not getattr(Parser.InfixDefault.led, "separated", False):
    for _operator in (Parser.InfixDefault, Parser.InfixCoalesce):
        _operator.led = _separate(_operator.led)
        _operator.led.separated = True
