"""The frozen ASL model: one dataclass per state type, built once by ``parse.load``.

Every path, template, intrinsic call, JSONata expression and Choice rule is compiled at
load time and stored here; the interpreter never re-parses definition text. Per-run
values (attempt counters, variables, Map results) live in the interpreter's frames.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.types import JSON

DOLLAR: Any = "$"
"""Marker for a path field left at its default ``$`` (the identity: no work at run time)."""


@dataclass(frozen=True, slots=True)
class Retrier:
    """One entry of a state's ``Retry`` array."""

    error_equals: tuple[str, ...]
    interval_seconds: float = 1.0
    max_attempts: int = 3
    backoff_rate: float = 2.0
    max_delay_seconds: float | None = None
    jitter: str = "NONE"
    """``NONE`` or ``FULL``."""


@dataclass(frozen=True, slots=True)
class Catcher:
    """One entry of a state's ``Catch`` array."""

    error_equals: tuple[str, ...]
    next: str
    result_path: Any = DOLLAR
    """``DOLLAR``, None (discard) or the ResultPath text."""
    output: Any = None
    """JSONata ``Output`` template (None: the error output itself)."""
    assign: Any = None
    """Compiled ``Assign`` template (JSONPath or JSONata)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class State:
    """Fields every state may carry; a field a state type does not allow stays at its default."""

    name: str
    type: str
    next: str | None = None
    end: bool = False
    jsonata: bool = False
    """True when the state's QueryLanguage is JSONata."""
    input_path: Any = DOLLAR
    """``DOLLAR``, None (InputPath null) or a compiled path."""
    output_path: Any = DOLLAR
    result_path: Any = DOLLAR
    """``DOLLAR``, None or the ResultPath text (for ``paths.result_path``)."""
    parameters: Any = None
    """Compiled Parameters (JSONPath) template."""
    result_selector: Any = None
    arguments: Any = None
    """Compiled JSONata ``Arguments`` template."""
    output: Any = None
    """Compiled JSONata ``Output`` template."""
    assign: Any = None
    retry: tuple[Retrier, ...] = ()
    catch: tuple[Catcher, ...] = ()
    reads_context: bool = True
    """False when nothing in the state can read ``$$`` / ``$states.context`` (it is then never built)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Pass(State):
    """``Type: Pass``."""

    result: JSON = None
    has_result: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Succeed(State):
    """``Type: Succeed``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Fail(State):
    """``Type: Fail``: literal, path or JSONata error and cause."""

    error: Any = None
    """A literal string, a compiled JSONata expression, or None."""
    cause: Any = None
    error_path: Any = None
    """A compiled path or intrinsic (``ErrorPath``)."""
    cause_path: Any = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChoiceBranch:
    """One entry of ``Choices``: a rule (JSONPath) or a Condition (JSONata), and where to go."""

    next: str
    rule: Any = None
    condition: Any = None
    assign: Any = None
    output: Any = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Choice(State):
    """``Type: Choice``."""

    choices: tuple[ChoiceBranch, ...] = ()
    default: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Wait(State):
    """``Type: Wait``; exactly one of the four timing fields is set."""

    seconds: Any = None
    """An int, or a compiled JSONata expression."""
    timestamp: Any = None
    """A string, or a compiled JSONata expression."""
    seconds_path: Any = None
    timestamp_path: Any = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Task(State):
    """``Type: Task``."""

    resource: str = ""
    timeout_seconds: Any = None
    """An int, or a compiled JSONata expression."""
    timeout_seconds_path: Any = None
    heartbeat_seconds: Any = None
    heartbeat_seconds_path: Any = None
    credentials: Any = None
    """Compiled ``Credentials`` template (``{"RoleArn": ...}``)."""


@dataclass(frozen=True, slots=True)
class Machine:
    """A StartAt plus States: the top level, a Parallel branch or a Map ItemProcessor."""

    start_at: str
    states: dict[str, State]
    jsonata: bool = False
    may_block: bool = True
    """False when no state can suspend (no Wait, Task, or blocking branch): iterations may run inline."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Parallel(State):
    """``Type: Parallel``."""

    branches: tuple[Machine, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemBatcher:
    """A Distributed Map's ``ItemBatcher``: children get ``{"BatchInput"?, "Items": [...]}``."""

    max_items: Any = None
    max_items_path: Any = None
    max_bytes: Any = None
    max_bytes_path: Any = None
    batch_input: Any = None
    """Compiled ``BatchInput`` template."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Map(State):
    """``Type: Map`` (INLINE runs; DISTRIBUTED is parsed and run inline)."""

    processor: Machine | None = None
    items_path: Any = DOLLAR
    items: Any = None
    """JSONata ``Items``: a compiled expression or template (or a literal array)."""
    item_selector: Any = None
    max_concurrency: Any = 0
    max_concurrency_path: Any = None
    tolerated_failure_count: Any = None
    tolerated_failure_count_path: Any = None
    tolerated_failure_percentage: Any = None
    tolerated_failure_percentage_path: Any = None
    distributed: bool = False
    label: str | None = None
    item_batcher: ItemBatcher | None = None


@dataclass(frozen=True, slots=True)
class StateMachine:
    """A loaded definition: the top-level machine plus its source."""

    root: Machine
    definition: dict[str, Any] = field(repr=False)
    timeout_seconds: int | None = None
    comment: str | None = None
