"""The States.* functions: one function per intrinsic, wired in one {name: fn} table.

Each function takes the evaluated arguments and an ``Env`` and returns the JSON result, or
raises through ``_fail``. Input rules quote the AWS developer guide ("Intrinsic functions for
JSONPath states"); results were checked against the intrinsic-functions conformance cases.

AWS: a rejected argument fails the state with ``States.Runtime`` and the inner cause
``Invalid arguments in States.<Name>`` and nothing more (observed on AWS for Base64Encode /
Base64Decode by ministackorg/ministack#1360; no recording shows any other wording, so every
function uses it). Our reason is attached as an exception note, for tracebacks only.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import random
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from engine.asl.intrinsics._values import (
    JavaRandom,
    is_number,
    java_round,
    json_equal,
    parse_json_text,
    to_json_text,
    to_text,
)
from engine.errors import ErrorName, StatesError
from engine.types import JSON

MAX_ARRAY_RANGE = 1000
"""AWS: "The newly generated array can't contain more than 1000 items"."""
MAX_STRING_CHARS = 10_000
"""AWS: Base64Encode/Base64Decode/Hash input "can't exceed 10,000 characters"."""
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
HASH_ALGORITHMS: Mapping[str, str] = {
    "MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512",
}


@dataclass(frozen=True, slots=True)
class Env:
    """What a function may need besides its arguments."""

    name: str
    """The ``States.X`` name, for messages."""
    rng: random.Random
    """Source of unseeded randomness (States.MathRandom, States.UUID)."""
    format_pieces: tuple[str, ...] | None = None
    """States.Format only: a literal template split on its unescaped ``{}``."""


Function = Callable[[Sequence[JSON], Env], JSON]


def _fail(env: Env, reason: str) -> StatesError:
    error = StatesError(ErrorName.RUNTIME, f"Invalid arguments in {env.name}")
    error.add_note(reason)
    return error


def _kind(value: JSON) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if is_number(value):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _array(env: Env, value: JSON, position: int) -> list[JSON]:
    if not isinstance(value, list):
        raise _fail(env, f"argument {position} must be an array, got {_kind(value)}")
    return value


def _string(env: Env, value: JSON, position: int) -> str:
    if not isinstance(value, str):
        raise _fail(env, f"argument {position} must be a string, got {_kind(value)}")
    return value


def _rounded(env: Env, value: JSON, position: int) -> int:
    """A number, rounded to the nearest integer (AWS: "Step Functions will round it off")."""
    if not is_number(value):
        raise _fail(env, f"argument {position} must be a number, got {_kind(value)}")
    return java_round(value)


def _int32(env: Env, value: JSON, position: int) -> int:
    """A rounded number within Java's int range (AWS docs for MathAdd and MathRandom:
    "integer values in the range of -2147483648 and 2147483647")."""
    number = _rounded(env, value, position)
    if not INT_MIN <= number <= INT_MAX:
        raise _fail(env, f"argument {position} is outside the 32-bit integer range: {number}")
    return number


def _integer(env: Env, value: JSON, position: int) -> int:
    """An integral number; ``2.0`` counts, ``2.5`` does not."""
    if not is_number(value) or (isinstance(value, float) and not value.is_integer()):
        raise _fail(env, f"argument {position} must be an integer, got {to_text(value)}")
    return int(value)


def _limited(env: Env, value: JSON, position: int) -> str:
    text = _string(env, value, position)
    if len(text) > MAX_STRING_CHARS:
        raise _fail(env, f"argument {position} exceeds {MAX_STRING_CHARS} characters ({len(text)})")
    return text


# -- generic and JSON ------------------------------------------------------------------


def states_format(args: Sequence[JSON], env: Env) -> JSON:
    """Fill each ``{}`` of the template with the next argument's text."""
    template = _string(env, args[0], 1)
    pieces = env.format_pieces if env.format_pieces is not None else tuple(template.split("{}"))
    values = args[1:]
    if len(pieces) - 1 != len(values):
        raise _fail(env, f"the template has {len(pieces) - 1} '{{}}' but {len(values)} value(s) were given")
    parts = [pieces[0]]
    for value, piece in zip(values, pieces[1:]):
        parts += [to_text(value), piece]
    return "".join(parts)


def states_string_to_json(args: Sequence[JSON], env: Env) -> JSON:
    """Parse a JSON text; AWS answers null for an empty or blank string (test_string_to_json)."""
    text = _string(env, args[0], 1)
    try:
        return parse_json_text(text)
    except ValueError:
        raise _fail(env, "argument 1 is not a valid JSON text") from None


def states_json_to_string(args: Sequence[JSON], env: Env) -> JSON:
    """Compact JSON text of any value (AWS: ``{"Arg1":1,"Arg2":[]}``)."""
    return to_json_text(args[0])


def states_json_merge(args: Sequence[JSON], env: Env) -> JSON:
    """Shallow merge: keys of the second object win."""
    first, second, deep = args
    if not isinstance(deep, bool):
        raise _fail(env, f"argument 3 must be a boolean, got {_kind(deep)}")
    if deep:
        # AWS docs: "Currently, Step Functions only supports the shallow merging mode;
        # therefore, you must specify the boolean value as false."
        raise _fail(env, "argument 3 must be false: only the shallow merging mode exists")
    for position, value in ((1, first), (2, second)):
        if not isinstance(value, dict):
            raise _fail(env, f"argument {position} must be an object, got {_kind(value)}")
    return {**first, **second}


def states_uuid(args: Sequence[JSON], env: Env) -> JSON:
    """A version 4 UUID."""
    return str(uuid.UUID(int=env.rng.getrandbits(128), version=4))


# -- arrays ----------------------------------------------------------------------------


def states_array(args: Sequence[JSON], env: Env) -> JSON:
    """The arguments as an array, in order."""
    return list(args)


def states_array_partition(args: Sequence[JSON], env: Env) -> JSON:
    """Chunks of ``size`` items; the last may be shorter; ``[]`` stays ``[]``."""
    array = _array(env, args[0], 1)
    size = _integer(env, args[1], 2)
    if size <= 0:
        raise _fail(env, f"argument 2 must be a positive integer, got {size}")
    return [array[start:start + size] for start in range(0, len(array), size)]


def states_array_contains(args: Sequence[JSON], env: Env) -> JSON:
    """Whether the array holds a value equal to the second argument."""
    array = _array(env, args[0], 1)
    return any(json_equal(item, args[1]) for item in array)


def states_array_range(args: Sequence[JSON], env: Env) -> JSON:
    """``start`` to ``end`` inclusive by ``step``; non-integers are rounded."""
    start, end, step = (_rounded(env, value, position) for position, value in enumerate(args, 1))
    if step == 0:
        raise _fail(env, "argument 3 (the step) must not be 0")
    count = max(0, (end - start) // step + 1)
    if count > MAX_ARRAY_RANGE:
        raise _fail(env, f"the range has {count} items, more than {MAX_ARRAY_RANGE}")
    return list(range(start, end + (1 if step > 0 else -1), step))


def states_array_get_item(args: Sequence[JSON], env: Env) -> JSON:
    """The item at a zero-based index."""
    array = _array(env, args[0], 1)
    index = _integer(env, args[1], 2)
    if not 0 <= index < len(array):
        raise _fail(env, f"index {index} is out of bounds for an array of length {len(array)}")
    return array[index]


def states_array_length(args: Sequence[JSON], env: Env) -> JSON:
    """The number of items."""
    return len(_array(env, args[0], 1))


def states_array_unique(args: Sequence[JSON], env: Env) -> JSON:
    """The array without repeated values, first occurrences kept in order."""
    unique: list[JSON] = []
    for item in _array(env, args[0], 1):
        if not any(json_equal(item, seen) for seen in unique):
            unique.append(item)
    return unique


# -- encoding, hashing -----------------------------------------------------------------


def states_base64_encode(args: Sequence[JSON], env: Env) -> JSON:
    """Base64 (RFC 4648, padded) of the UTF-8 bytes."""
    return base64.b64encode(_limited(env, args[0], 1).encode()).decode("ascii")


def states_base64_decode(args: Sequence[JSON], env: Env) -> JSON:
    """The UTF-8 text of Base64 data; padding may be left out (AWS: ``'aGVsbG8'`` is ``hello``)."""
    text = _limited(env, args[0], 1)
    if not _BASE64.fullmatch(text) or len(text.rstrip("=")) % 4 == 1:
        raise _fail(env, "argument 1 is not valid Base64")
    try:
        data = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except binascii.Error:
        raise _fail(env, "argument 1 is not valid Base64") from None
    return data.decode("utf-8", errors="replace")


def states_hash(args: Sequence[JSON], env: Env) -> JSON:
    """Lower-case hex digest of the UTF-8 bytes with MD5 / SHA-1 / SHA-256 / SHA-384 / SHA-512."""
    data = _limited(env, args[0], 1)
    algorithm = _string(env, args[1], 2)
    if algorithm not in HASH_ALGORITHMS:
        raise _fail(env, f"argument 2 must be one of {', '.join(HASH_ALGORITHMS)}, got {algorithm}")
    return hashlib.new(HASH_ALGORITHMS[algorithm], data.encode()).hexdigest()


# -- math and strings ------------------------------------------------------------------


def states_math_random(args: Sequence[JSON], env: Env) -> JSON:
    """An integer in [start, end); a seed makes it repeatable (Java ``Random``)."""
    start, end = _int32(env, args[0], 1), _int32(env, args[1], 2)
    if end <= start:
        raise _fail(env, f"argument 2 ({end}) must be greater than argument 1 ({start})")
    if len(args) == 2:
        return env.rng.randrange(start, end)
    generator = JavaRandom(_int32(env, args[2], 3))
    if end - start <= INT_MAX:
        return start + generator.next_int(end - start)
    return start + generator.next_int(INT_MAX) * (end - start) // INT_MAX


def states_math_add(args: Sequence[JSON], env: Env) -> JSON:
    """The sum of two numbers, each rounded to the nearest integer first (AWS: 1.49 + 1.5 = 3)."""
    return _int32(env, args[0], 1) + _int32(env, args[1], 2)


def states_string_split(args: Sequence[JSON], env: Env) -> JSON:
    """Split on every character of the delimiter string; empty pieces are dropped.

    AWS: ``",,,,"`` split on ``","`` is ``[]`` and ``"This.is+a,test=string"`` split on
    ``".+,="`` is five words (test_string_split cases).
    """
    text, delimiters = _string(env, args[0], 1), _string(env, args[1], 2)
    pieces = [text]
    for delimiter in delimiters:
        pieces = [part for piece in pieces for part in piece.split(delimiter)]
    return [piece for piece in pieces if piece]


FUNCTIONS: Mapping[str, tuple[Function, int, int | None]] = {
    "States.Format": (states_format, 1, None),
    "States.StringToJson": (states_string_to_json, 1, 1),
    "States.JsonToString": (states_json_to_string, 1, 1),
    "States.Array": (states_array, 0, None),
    "States.ArrayPartition": (states_array_partition, 2, 2),
    "States.ArrayContains": (states_array_contains, 2, 2),
    "States.ArrayRange": (states_array_range, 3, 3),
    "States.ArrayGetItem": (states_array_get_item, 2, 2),
    "States.ArrayLength": (states_array_length, 1, 1),
    "States.ArrayUnique": (states_array_unique, 1, 1),
    "States.Base64Encode": (states_base64_encode, 1, 1),
    "States.Base64Decode": (states_base64_decode, 1, 1),
    "States.Hash": (states_hash, 2, 2),
    "States.JsonMerge": (states_json_merge, 3, 3),
    "States.MathRandom": (states_math_random, 2, 3),
    "States.MathAdd": (states_math_add, 2, 2),
    "States.StringSplit": (states_string_split, 2, 2),
    "States.UUID": (states_uuid, 0, 0),
}
"""Every intrinsic: name -> (function, minimum arguments, maximum arguments or None)."""
