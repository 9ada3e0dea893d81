"""One async handler per state type (HANDLERS), plus the JSONPath/JSONata input and output steps.

A handler takes the frame (the branch or iteration it runs in), the state, the state input
and its JSON text (or None), and the Entry of this visit; it returns an Outcome. Failures
raise StatesError (the interpreter adds AWS's "An error occurred while executing the state"
prefix) or Failure (already final: Fail states, task errors, branch failures).
"""
from __future__ import annotations

import math
import re
from collections import ChainMap
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import anyio

from engine.asl import choice as choice_rules
from engine.asl import context as context_object
from engine.asl import intrinsics, jsonata, paths
from engine.asl.model import DOLLAR, Choice, Fail, Map, Parallel, Pass, State, Succeed, Task, Wait
from engine.errors import ErrorName, StatesError
from engine.types import JSON

if TYPE_CHECKING:
    from engine.asl.interpreter import Execution


class Failure(StatesError):
    """A failure whose cause is final (no prefix), e.g. a Fail state or a failed branch.

    ``state_event`` names the event (``MapStateFailed``) to write when the failure is not
    retried; ``raw_error`` keeps None apart from "" (a Fail state without Error).
    """

    def __init__(self, error: str | None, cause: str | None, *, state_event: str | None = None) -> None:
        super().__init__(error or "", cause)
        self.raw_error = error
        self.state_event = state_event
        self.abort_event: str | None = None
        """``TaskStateAborted`` when a Task failed: a Parallel/Map writes it when the branch fails."""


@asynccontextmanager
async def unwrap_group() -> AsyncIterator[None]:
    """Re-raise the one exception of a task group (a StatesError stays a StatesError)."""
    try:
        yield
    except BaseExceptionGroup as group:
        errors = [e for e in group.exceptions if not isinstance(e, anyio.get_cancelled_exc_class())]
        if len(errors) == 1 and not isinstance(errors[0], BaseExceptionGroup):
            raise errors[0] from None
        raise


class Frame:
    """One thread of control: the top level, a Parallel branch or a Map iteration."""

    __slots__ = ("ex", "last", "variables", "current")

    def __init__(self, ex: Execution, last: int, variables: Any) -> None:
        self.ex = ex
        self.last = last
        self.variables = variables
        self.current: State | None = None
        """The state this frame is in (for the ``<Type>StateAborted`` event when it is cancelled)."""

    def child(self, last: int) -> Frame:
        """A branch/iteration frame: outer variables readable, its assignments stay inside."""
        return Frame(self.ex, last, ChainMap({}, self.variables))


_UNREAD: dict[str, Any] = {}
"""``$$`` for a state that never reads it (``State.reads_context``): not built at all."""


class Entry:
    """One visit of a state: its StateEntered event id and time, retry count, lazy ``$$``."""

    __slots__ = ("state", "frame", "id", "prev", "time", "retry_count", "_context", "_context_retry", "task_token")

    def __init__(self, state: State, frame: Frame, event_id: int, prev: int, time: datetime) -> None:
        self.state = state
        self.frame = frame
        self.id = event_id
        self.prev = prev
        self.time = time
        self.retry_count = 0
        self._context: dict[str, Any] | None = None
        self._context_retry = 0
        self.task_token: str | None = None

    def context(self) -> dict[str, Any]:
        """The context object ``$$`` for this visit."""
        if self._context is None or self._context_retry != self.retry_count:
            ex = self.frame.ex
            self._context = context_object.build(ex.execution_part, ex.machine_part, self.state.name, self.time,
                                                 self.retry_count if self.state.retry else None,
                                                 task_token=self.task_token,
                                                 overrides=ex.info.context_overrides)
            self._context_retry = self.retry_count
        return self._context

    def now(self) -> datetime:
        """The execution clock's time (what JSONata's $now() reads)."""
        return self.frame.ex.clock.now()

    def scope(self, value: JSON) -> paths.Scope:
        """A JSONPath scope over ``value`` with ``$$`` (if the state reads it) and the frame's variables."""
        return paths.Scope(value, self.context() if self.state.reads_context else _UNREAD,
                           self.frame.variables)

    def states(self, value: JSON, **extra: JSON) -> dict[str, JSON]:
        """The JSONata ``$states`` binding (``context`` only if the state reads it)."""
        return {"input": value, "context": self.context() if self.state.reads_context else _UNREAD, **extra}


class Outcome:
    """What a state produced: where to go, the output (and its text if known), assignments."""

    __slots__ = ("next", "value", "text", "assigned")

    def __init__(self, next_state: str | None, value: JSON, text: str | None,
                 assigned: dict[str, JSON] | None = None) -> None:
        self.next = next_state
        self.value = value
        self.text = text
        self.assigned = assigned


Handler = Callable[[Frame, Any, JSON, "str | None", Entry], Awaitable[Outcome]]

# --------------------------------------------------------------------------- JSONPath steps


def effective_input(state: State, value: JSON, entry: Entry) -> JSON:
    """InputPath then Parameters (JSONPath states)."""
    path = state.input_path
    if path is not DOLLAR:
        value = {} if path is None else paths.input_path(path, entry.scope(value))
    if state.parameters is not None:
        value = state.parameters.render(entry.scope(value))
    return value


def jsonpath_output(state: State, raw_input: JSON, result: JSON, entry: Entry) -> tuple[JSON, dict[str, JSON] | None]:
    """Assign (sees the result), ResultPath, OutputPath; returns (output, pending assignments)."""
    assigned = None
    if state.assign is not None:
        assigned = state.assign.render(entry.scope(result))
    rp = state.result_path
    if rp is DOLLAR:
        output = result
    elif rp is None:
        output = raw_input
    else:
        output = paths.result_path(rp, raw_input, result)
    op = state.output_path
    if op is not DOLLAR:
        output = {} if op is None else paths.output_path(op, output, entry.scope(output))
    return output, assigned


def jsonata_output(state: State, states: dict[str, JSON], default: JSON, entry: Entry) -> tuple[JSON, dict[str, JSON] | None]:
    """Assign and Output of a JSONata state (both see the old variables)."""
    variables = entry.frame.variables
    assigned = state.assign.render(states, variables, now=entry.now()) if state.assign is not None else None
    output = state.output.render(states, variables, now=entry.now()) if state.output is not None else default
    return output, assigned


def _jsonata_value(value: Any, states: dict[str, JSON], entry: Entry) -> JSON:
    """A JSONata-capable field: a literal, or a compiled template to render."""
    render = getattr(value, "render", None)
    if render is None:
        return value
    return render(states, entry.frame.variables, now=entry.now())


def _path_value(path: Any, value: JSON, entry: Entry, field: str) -> JSON:
    """A path or intrinsic field (ErrorPath, SecondsPath...): StatesError with AWS's wording if missing."""
    scope = entry.scope(value)
    if isinstance(path, intrinsics.Call):
        return paths.evaluate_intrinsic(path, scope, field=field)
    try:
        return path.get(scope)
    except paths.PathNotFound:
        raise StatesError(
            ErrorName.RUNTIME,
            f"The JSONPath '{path.text}' specified for the field '{field}' could not be found "
            f"in the input '{paths.dumps(value)}'",
        ) from None


# --------------------------------------------------------------------------- handlers


async def run_pass(frame: Frame, state: Pass, value: JSON, text: str | None, entry: Entry) -> Outcome:
    if state.jsonata:
        output, assigned = jsonata_output(state, entry.states(value), value, entry)
        return Outcome(state.next, output, text if output is value else None, assigned)
    if (state.input_path is DOLLAR and state.parameters is None and not state.has_result
            and state.result_path is DOLLAR and state.output_path is DOLLAR and state.assign is None):
        return Outcome(state.next, value, text)
    result = state.result if state.has_result else effective_input(state, value, entry)
    output, assigned = jsonpath_output(state, value, result, entry)
    return Outcome(state.next, output, text if output is value else None, assigned)


async def run_succeed(frame: Frame, state: Succeed, value: JSON, text: str | None, entry: Entry) -> Outcome:
    if state.jsonata:
        output, assigned = jsonata_output(state, entry.states(value), value, entry)
        return Outcome(None, output, text if output is value else None, assigned)
    output = effective_input(state, value, entry)
    op = state.output_path
    if op is not DOLLAR:
        output = {} if op is None else paths.output_path(op, output, entry.scope(output))
    return Outcome(None, output, text if output is value else None)


async def run_fail(frame: Frame, state: Fail, value: JSON, text: str | None, entry: Entry) -> Outcome:
    if state.jsonata:
        states = entry.states(value)
        error = _jsonata_value(state.error, states, entry)
        cause = _jsonata_value(state.cause, states, entry)
    else:
        error = state.error if state.error_path is None else _path_value(state.error_path, value, entry, "ErrorPath")
        cause = state.cause if state.cause_path is None else _path_value(state.cause_path, value, entry, "CausePath")
    raise Failure(_text(error), _text(cause))


def _text(value: JSON) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return paths.dumps(value)


async def run_choice(frame: Frame, state: Choice, value: JSON, text: str | None, entry: Entry) -> Outcome:
    if state.jsonata:
        return _choose_jsonata(state, value, text, entry)
    scope = entry.scope(value)
    for branch in state.choices:
        if choice_rules.evaluate(branch.rule, scope):
            assigned = branch.assign.render(scope) if branch.assign is not None else None
            return _choice_outcome(state, branch.next, value, text, assigned, entry)
    if state.default is None:
        raise Failure(ErrorName.NO_CHOICE_MATCHED, "No Matches!")
    assigned = state.assign.render(scope) if state.assign is not None else None
    return _choice_outcome(state, state.default, value, text, assigned, entry)


def _choice_outcome(state: Choice, target: str, value: JSON, text: str | None,
                    assigned: dict[str, JSON] | None, entry: Entry) -> Outcome:
    output = effective_input(state, value, entry)
    op = state.output_path
    if op is not DOLLAR:
        output = {} if op is None else paths.output_path(op, output, entry.scope(output))
    return Outcome(target, output, text if output is value else None, assigned)


def _choose_jsonata(state: Choice, value: JSON, text: str | None, entry: Entry) -> Outcome:
    states = entry.states(value)
    variables = entry.frame.variables
    for index, branch in enumerate(state.choices):
        matched = _jsonata_value(branch.condition, states, entry)
        if not isinstance(matched, bool):
            expression = getattr(getattr(branch.condition, "payload", None), "expression", None)
            source = expression.source if expression is not None else str(branch.condition)
            raise StatesError(
                ErrorName.QUERY_EVALUATION_ERROR,
                f"The JSONata expression '{source}' specified for the field 'Choices[{index}]/Condition' returned "
                f"an unexpected result type. Expected 'boolean', but was '{jsonata.type_name(matched)}' for value: "
                f"{paths.dumps(matched)}",
            )
        if matched:
            assigned = branch.assign.render(states, variables, now=entry.now()) if branch.assign is not None else None
            output = branch.output.render(states, variables, now=entry.now()) if branch.output is not None else value
            return Outcome(branch.next, output, text if output is value else None, assigned)
    if state.default is None:
        raise Failure(ErrorName.NO_CHOICE_MATCHED, "No Matches!")
    output, assigned = jsonata_output(state, states, value, entry)
    return Outcome(state.default, output, text if output is value else None, assigned)


_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")


def parse_timestamp(text: JSON) -> datetime | None:
    """An ISO-8601 extended offset date-time, or None when ``text`` is not one."""
    if not isinstance(text, str) or not _ISO.match(text):
        return None
    body = text[:-1] + "+00:00" if text.endswith("Z") else text
    if "." in body:
        head, _, rest = body.partition(".")
        digits = re.match(r"\d+", rest)
        frac = digits.group(0) if digits else ""
        body = head + "." + (frac + "000000")[:6] + rest[len(frac):]
    try:
        return datetime.fromisoformat(body).astimezone(timezone.utc)
    except ValueError:
        return None


_MAX_WAIT_SECONDS = 2**31 - 1
"""AWS: "Wait state delay is too long." past 2^31-1 seconds (24,855 days passes, 24,856 fails)."""


async def run_wait(frame: Frame, state: Wait, value: JSON, text: str | None, entry: Entry) -> Outcome:
    seconds = wait_seconds(state, value, entry, frame.ex.clock.now())
    if seconds > _MAX_WAIT_SECONDS:
        raise StatesError(ErrorName.RUNTIME, "Wait state delay is too long.")
    if seconds > 0:
        await frame.ex.clock.sleep(seconds)
    if state.jsonata:
        output, assigned = jsonata_output(state, entry.states(value), value, entry)
        return Outcome(state.next, output, text if output is value else None, assigned)
    output = effective_input(state, value, entry)
    output, assigned = _wait_output(state, value, output, entry)
    return Outcome(state.next, output, text if output is value else None, assigned)


def _wait_output(state: Wait, raw: JSON, value: JSON, entry: Entry) -> tuple[JSON, dict[str, JSON] | None]:
    assigned = state.assign.render(entry.scope(value)) if state.assign is not None else None
    op = state.output_path
    if op is not DOLLAR:
        value = {} if op is None else paths.output_path(op, value, entry.scope(value))
    return value, assigned


def wait_seconds(state: Wait, value: JSON, entry: Entry, now: datetime) -> float:
    """How long a Wait state sleeps (AWS's messages for bad values)."""
    if state.seconds is not None:
        seconds = _jsonata_value(state.seconds, entry.states(value), entry) if state.jsonata else state.seconds
        if not _is_number(seconds) or seconds < 0:
            raise _located(StatesError(ErrorName.QUERY_EVALUATION_ERROR if state.jsonata else ErrorName.RUNTIME,
                                       f"The Seconds field must be a non-negative integer: {paths.dumps(seconds)}"),
                           "Seconds")
        return float(seconds)
    if state.timestamp is not None:
        raw = _jsonata_value(state.timestamp, entry.states(value), entry) if state.jsonata else state.timestamp
        moment = parse_timestamp(raw)
        if moment is None:
            raise _located(StatesError(
                ErrorName.QUERY_EVALUATION_ERROR if state.jsonata else ErrorName.RUNTIME,
                "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format "
                f"string: {raw if isinstance(raw, str) else paths.dumps(raw)}",
            ), "Timestamp")
        return (moment - now).total_seconds()
    if state.seconds_path is not None:
        path_text = state.seconds_path.text
        try:
            seconds = state.seconds_path.get(entry.scope(value))
        except paths.PathNotFound:
            raise StatesError(ErrorName.RUNTIME, "The SecondsPath parameter does not reference an input value: "
                                                 f"{path_text}") from None
        if not _is_number(seconds) or (isinstance(seconds, float) and not seconds.is_integer()):
            shown = seconds if isinstance(seconds, str) else paths.dumps(seconds)
            raise StatesError(ErrorName.RUNTIME, "The SecondsPath parameter cannot be parsed as a long value: "
                                                 f"{path_text} == {shown}")
        if seconds < 0:
            raise StatesError(ErrorName.RUNTIME, f"The SecondsPath parameter references a negative value: "
                                                 f"{path_text} == {paths.dumps(seconds)}")
        return float(seconds)
    if state.timestamp_path is not None:
        raw = _path_value(state.timestamp_path, value, entry, "TimestampPath")
        moment = parse_timestamp(raw)
        if moment is None:
            shown = raw if isinstance(raw, str) else paths.dumps(raw)
            raise StatesError(ErrorName.RUNTIME, "The TimestampPath parameter does not reference a valid "
                                                 "ISO-8601 extended offset date-time format string: "
                                                 f"{state.timestamp_path.text} == {shown}")
        return (moment - now).total_seconds()
    return 0.0


def _located(err: StatesError, location: str) -> StatesError:
    err.location = location  # type: ignore[attr-defined]
    return err


def _is_number(value: JSON) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and not (
        isinstance(value, float) and math.isnan(value))


def apply_assignments(frame: Frame, assigned: Mapping[str, JSON] | None) -> None:
    """Write pending assignments into the frame's (innermost) variable scope."""
    if assigned:
        target = frame.variables.maps[0] if isinstance(frame.variables, ChainMap) else frame.variables
        target.update(assigned)


def _handlers() -> dict[type[State], Handler]:
    from engine.asl import _branches, _task

    return {
        Pass: run_pass, Succeed: run_succeed, Fail: run_fail, Choice: run_choice, Wait: run_wait,
        Task: _task.run_task, Parallel: _branches.run_parallel, Map: _branches.run_map,
    }


HANDLERS: dict[type[State], Handler] = {}
"""State type -> handler; filled on first use (Parallel/Map/Task live in private modules)."""


def handler_for(state: State) -> Handler:
    """The handler for ``state``'s type."""
    if not HANDLERS:
        HANDLERS.update(_handlers())
    return HANDLERS[type(state)]
