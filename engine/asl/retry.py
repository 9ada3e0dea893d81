"""Retry and Catch matching and backoff: pure functions over the model's Retrier/Catcher."""
from __future__ import annotations

import random
from collections.abc import Sequence

from engine.asl.model import Catcher, Retrier
from engine.errors import ErrorName

# AWS: "A States.Runtime error isn't retriable, and will always cause the execution to fail.
# A retry or catch on States.ALL won't catch States.Runtime errors." States.DataLimitExceeded
# is likewise terminal for States.ALL.
_NOT_CAUGHT_BY_ALL = frozenset({ErrorName.RUNTIME.value, ErrorName.DATA_LIMIT_EXCEEDED.value})
_NEVER_CAUGHT = frozenset({ErrorName.RUNTIME.value})


def matches(error_equals: Sequence[str], error: str) -> bool:
    """True when an ErrorEquals list covers ``error`` (AWS wildcard rules)."""
    if error in _NEVER_CAUGHT:
        return False
    for name in error_equals:
        if name == error:
            return True
        if name == ErrorName.ALL and error not in _NOT_CAUGHT_BY_ALL:
            return True
        # AWS: States.TaskFailed "acts as a wildcard that matches any known error name
        # except for States.Timeout".
        if name == ErrorName.TASK_FAILED and error not in _NOT_CAUGHT_BY_ALL and error != ErrorName.TIMEOUT:
            return True
    return False


def find_retrier(retriers: Sequence[Retrier], error: str) -> int | None:
    """Index of the first retrier whose ErrorEquals covers ``error``."""
    for index, retrier in enumerate(retriers):
        if matches(retrier.error_equals, error):
            return index
    return None


def find_catcher(catchers: Sequence[Catcher], error: str) -> Catcher | None:
    """The first catcher whose ErrorEquals covers ``error``."""
    for catcher in catchers:
        if matches(catcher.error_equals, error):
            return catcher
    return None


def delay(retrier: Retrier, attempt: int, rng: random.Random | None = None) -> float:
    """Seconds to wait before retry number ``attempt + 1`` (``attempt`` counts from 0)."""
    seconds = float(retrier.interval_seconds) * float(retrier.backoff_rate) ** attempt
    if retrier.max_delay_seconds is not None:
        seconds = min(seconds, float(retrier.max_delay_seconds))
    if retrier.jitter == "FULL":
        seconds = (rng or random).uniform(0.0, seconds)
    return seconds


def can_retry(retrier: Retrier, attempts_made: int) -> bool:
    """True while ``attempts_made`` retries leave room under MaxAttempts."""
    return attempts_made < retrier.max_attempts
