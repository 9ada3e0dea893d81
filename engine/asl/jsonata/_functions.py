"""The functions AWS adds to JSONata ($partition, $range, $hash, $random, $uuid, $parse) and the
one it removes ($eval), bound on every compiled expression with jsonata-js's own replacements."""
from __future__ import annotations

import hashlib
import json
import random
import uuid
from collections.abc import Callable
from typing import Any, Final

from jsonata.jsonata import Jsonata  # type: ignore[import-untyped]

from engine.asl.jsonata._engine import JS_FUNCTIONS
from engine.asl.jsonata._messages import _FunctionError
from engine.asl.jsonata._values import _is_integer, _to_jsonata

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
    ("partition", _partition, "<an:a>"),
    ("range", _range, "<nnn:a>"),
    ("hash", _hash, "<ss:s>"),
    ("random", _random, "<n?:n>"),
    ("uuid", _uuid, "<:s>"),
    ("parse", _parse, "<s:x>"),
)


def _install_extras(engine: Jsonata) -> None:
    for name, function, signature in JS_FUNCTIONS + _EXTRAS:
        bound = Jsonata.JFunction(Jsonata.JLambda(function), signature)
        bound.function_name = name
        engine.register_function(name, bound)
    # AWS: "$eval is not available; use $parse instead" (Step Functions JSONata docs).
    engine.register_function("eval", None)

