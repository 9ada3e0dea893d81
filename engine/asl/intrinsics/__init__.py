"""States.* intrinsic functions: parse a call once into a frozen tree, evaluate it per state.

    call = parse("States.Format('Hello {}', $.name)")      # IntrinsicSyntaxError if invalid
    evaluate(call, resolve)                                # resolve("$.name") -> "Ann"

``resolve`` takes a path text (``$.a``, ``$$.Execution.Id``, ``$var.x``) and returns its value
or raises ``engine.asl.paths.PathNotFound``, which ``evaluate`` lets through untouched so the
caller can name the field in AWS's message. A rejected argument raises
``StatesError("States.Runtime", "Invalid arguments in States.<Name>")`` as AWS does; the
interpreter adds the "An error occurred while executing the state ..." prefix. Results may share structure with
values ``resolve`` returned (``States.Array($.a)`` holds the input's own ``$.a``): treat them
as read-only or copy before mutating.
"""
from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from engine.asl.intrinsics._functions import FUNCTIONS, Env
from engine.asl.intrinsics._parse import (
    MAX_NESTING,
    Arg,
    Call,
    IntrinsicSyntaxError,
    Literal,
    PathArg,
    is_intrinsic,
)
from engine.asl.intrinsics._parse import parse as _parse
from engine.types import JSON

__all__ = [
    "FUNCTIONS",
    "MAX_NESTING",
    "Arg",
    "Call",
    "IntrinsicSyntaxError",
    "Literal",
    "PathArg",
    "evaluate",
    "is_intrinsic",
    "parse",
    "referenced_paths",
]

_ARITY = {name: (low, high) for name, (_, low, high) in FUNCTIONS.items()}
_RNG = random.Random()


def parse(text: str) -> Call:
    """Parse an intrinsic call (name, arity, literals, paths, nesting up to 10 deep)."""
    return _parse(text, _ARITY)


def evaluate(call: Call, resolve: Callable[[str], JSON], *, rng: random.Random | None = None,
             read: Callable[[Any], JSON] | None = None) -> JSON:
    """Evaluate a parsed call; arguments left to right, innermost calls first.

    ``read``, when given, takes a path argument's compiled path (``PathArg.compiled``) in
    place of ``resolve(text)``; it must behave as ``resolve`` does for that path.
    """
    args: list[JSON] = []
    for arg in call.args:
        kind = type(arg)
        if kind is Literal:
            args.append(arg.value)
        elif kind is PathArg:
            compiled = arg.compiled
            args.append(resolve(arg.path) if read is None or compiled is None else read(compiled))
        else:
            args.append(evaluate(arg, resolve, rng=rng, read=read))
    first = call.args[0] if call.args else None
    pieces = first.pieces if type(first) is Literal else None
    return FUNCTIONS[call.name][0](args, Env(call.name, rng or _RNG, pieces))


def referenced_paths(call: Call) -> tuple[str, ...]:
    """Every path argument of the call and its nested calls, left to right.

    For static checks (path syntax, references to undefined variables such as ``$x``).
    """
    found: list[str] = []
    for arg in call.args:
        if isinstance(arg, PathArg):
            found.append(arg.path)
        elif isinstance(arg, Call):
            found.extend(referenced_paths(arg))
    return tuple(found)
