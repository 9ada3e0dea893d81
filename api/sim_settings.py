"""Sim API settings: accepted API keys, the optional rate limit (token buckets), serve options."""
from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, field

from api.sim_runs import SYNC_TIMEOUT_SECONDS

API_KEYS_ENV = "STATESIM_API_KEYS"
"""Comma-separated accepted API keys, added to ``--api-key``."""
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(SEC|SECOND|S|MIN|MINUTE|M|HOUR|H)\s*$", re.IGNORECASE)
_PERIODS = {"S": 1.0, "SEC": 1.0, "SECOND": 1.0, "M": 60.0, "MIN": 60.0, "MINUTE": 60.0, "H": 3600.0, "HOUR": 3600.0}


@dataclass(frozen=True, slots=True)
class RateLimit:
    """``limit`` executions per ``period`` seconds, per API key (a token bucket of ``limit`` tokens)."""

    limit: int
    period: float

    @property
    def per_minute(self) -> int:
        return max(1, round(self.limit * 60 / self.period))


def parse_rate_limit(text: str) -> RateLimit:
    """``N/MIN`` (also ``N/SEC``, ``N/HOUR``); ValueError otherwise."""
    match = _RATE.match(text)
    if match is None or int(match.group(1)) < 1:
        raise ValueError(f"invalid Sim rate limit {text!r}: expected N/MIN (or N/SEC, N/HOUR) with N >= 1")
    return RateLimit(int(match.group(1)), _PERIODS[match.group(2).upper()])


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


@dataclass(slots=True)
class Limiter:
    """Token buckets per caller; ``take`` answers (allowed, remaining, seconds until a token)."""

    rate: RateLimit
    buckets: dict[str, _Bucket] = field(default_factory=dict)

    def _refill(self, key: str, now: float) -> _Bucket:
        bucket = self.buckets.setdefault(key, _Bucket(float(self.rate.limit), now))
        gained = (now - bucket.at) * self.rate.limit / self.rate.period
        bucket.tokens, bucket.at = min(float(self.rate.limit), bucket.tokens + gained), now
        return bucket

    def take(self, key: str, now: float) -> tuple[bool, int, float]:
        bucket = self._refill(key, now)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return True, int(bucket.tokens), 0.0
        return False, 0, (1 - bucket.tokens) * self.rate.period / self.rate.limit

    def peek(self, key: str, now: float) -> tuple[int, float]:
        bucket = self._refill(key, now)
        full = (self.rate.limit - bucket.tokens) * self.rate.period / self.rate.limit
        return int(bucket.tokens), full


@dataclass(slots=True)
class SimSettings:
    """Accepted API keys (none: any key is accepted) and the optional rate limit."""

    api_keys: frozenset[str] = frozenset()
    rate_limit: RateLimit | None = None
    sync_timeout: float = SYNC_TIMEOUT_SECONDS
    """Seconds a synchronous (or streamed) run may take before it fails with ``TIMEOUT``."""

    def banner(self) -> str:
        """The line ``statesim serve`` prints about the Sim API."""
        where = "Sim API (simstudio-sdk): /api/v2/workflows/{id}/execute"
        rate = f"; rate limit {self.rate_limit.limit}/{_period_name(self.rate_limit.period)}" if self.rate_limit else ""
        if not self.api_keys:
            return f"{where}; any X-API-Key is accepted (no --api-key or ${API_KEYS_ENV} given){rate}"
        return f"{where}; {len(self.api_keys)} API key(s) accepted{rate}"


def _period_name(seconds: float) -> str:
    return {1.0: "SEC", 60.0: "MIN", 3600.0: "HOUR"}.get(seconds, f"{seconds:g}s")


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """``statesim serve`` options of the Sim API."""
    parser.add_argument("--api-key", action="append", default=[], metavar="KEY",
                        help=f"an X-API-Key the Sim API accepts (repeatable; also ${API_KEYS_ENV}, comma-separated); "
                             "with none, any key is accepted")
    parser.add_argument("--sim-rate-limit", type=_rate_argument, default=None, metavar="N/MIN",
                        help="throttle Sim executions per API key (429 with Retry-After), e.g. 10/MIN or 2/SEC; "
                             "off by default")


def _rate_argument(text: str) -> RateLimit:
    try:
        return parse_rate_limit(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
