"""The ASL interpreter loop: enter a state, run its handler, Retry/Catch, exit, follow Next.

    machine = engine.asl.load(definition)
    result = await engine.asl.run(machine, '{"a": 1}', clock=ManualClock())

Every execution is one anyio task (Parallel branches and Map iterations are child tasks).
History events are numbered as AWS numbers them; state input/output text is serialised
once per value and reused while a value passes through states unchanged.
"""
from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

import anyio

from engine.asl import compat, inputs, paths, redrive, retry
from engine.asl import context as context_object
from engine.asl.context import ExecutionInfo
from engine.asl.model import DOLLAR, Catcher, Machine, State, StateMachine
from engine.asl.parse import load
from engine.asl.states import Entry, Failure, Frame, apply_assignments, handler_for, unwrap_group
from engine.clock import Clock, SystemClock
from engine.errors import ErrorName, StatesError
from engine.history import MAX_PAYLOAD_BYTES, NOT_TRUNCATED, History, HistoryEvent, HistoryLimitExceeded
from engine.tasks.registry import TaskRegistry
from engine.types import JSON

T = TypeVar("T")
_PREFIXED = frozenset({ErrorName.RUNTIME.value, ErrorName.QUERY_EVALUATION_ERROR.value})
_ENTERED = "stateEnteredEventDetails"
_EXITED = "stateExitedEventDetails"


@dataclass(slots=True)
class ExecutionResult:
    """How an execution ended, with its full history."""

    status: str
    """``SUCCEEDED``, ``FAILED``, ``TIMED_OUT`` or ``ABORTED``."""
    output: str | None = None
    """The output as JSON text (SUCCEEDED only)."""
    error: str | None = None
    cause: str | None = None
    history: list[HistoryEvent] = field(default_factory=list)


class Execution:
    """The mutable state of one run, shared by all its frames."""

    def __init__(self, machine: StateMachine, info: ExecutionInfo, registry: TaskRegistry | None,
                 clock: Clock, history: History, input_value: JSON,
                 changes: frozenset[str] = compat.LATEST) -> None:
        self.machine = machine
        self.info = info
        self.registry = registry
        self.clock = clock
        self.history = history
        self.changes = changes
        """The AWS behaviour changes (engine.asl.compat) this run emulates."""
        self.rng = random.Random()
        self.execution_part = context_object.execution_part(info, input_value)
        self.machine_part = context_object.state_machine_part(info)
        self.redriven: dict[Entry, redrive.Inner] = {}
        """A Parallel/Map visit re-entered by a redrive -> its branches/iterations already done."""

    async def run_machine(self, frame: Frame, machine: Machine, value: JSON, text: str | None,
                          plan: redrive.Plan | None = None, jump: bool = False) -> tuple[JSON, str | None]:
        """Run states from StartAt until End/Succeed; returns the output and its text.

        ``plan`` (a redrive): when its state is entered, a Parallel/Map there runs only the
        branches/iterations that did not succeed; ``jump`` starts at that state, with its input.
        """
        states = machine.states
        name: str | None = machine.start_at
        history = self.history
        if plan is not None and jump and plan.state in states:
            name, text = plan.state, plan.input_text
            value = inputs.parse_execution_input(text)
        if plan is not None and plan.variables:  # what the frame had assigned before (Assign)
            frame.variables.update({k: inputs.parse_execution_input(v) for k, v in plan.variables.items()})
        while True:
            state = states[name]  # type: ignore[index]
            if text is None:
                text = paths.dumps(value)
            prev = frame.last
            event_id = history.add(state.type + "StateEntered", prev, _ENTERED,
                                   {"input": text, "inputDetails": NOT_TRUNCATED, "name": state.name})
            entry = Entry(state, frame, event_id, prev, history.last_time)  # type: ignore[arg-type]
            if plan is not None and state.name == plan.state:
                if plan.inner is not None:
                    self.redriven[entry] = plan.inner
                plan = None
            frame.last = event_id
            frame.current = state
            outcome = await self._visit(frame, state, value, text, entry)
            name, value, text = outcome
            if name is None:
                return value, text

    async def _visit(self, frame: Frame, state: State, value: JSON, text: str,
                     entry: Entry) -> tuple[str | None, JSON, str | None]:
        handler = handler_for(state)
        attempts = [0] * len(state.retry)
        while True:
            try:
                outcome = await handler(frame, state, value, text, entry)
            except StatesError as err:
                failure = self._failure(err, state, entry)
                index = retry.find_retrier(state.retry, failure.error) if state.retry else None
                if index is not None and retry.can_retry(state.retry[index], attempts[index]):
                    await self.clock.sleep(retry.delay(state.retry[index], attempts[index], self.rng))
                    attempts[index] += 1
                    entry.retry_count += 1
                    continue
                if failure.state_event is not None:
                    frame.last = self.history.add(failure.state_event, frame.last)
                catcher = retry.find_catcher(state.catch, failure.error) if state.catch else None
                if catcher is None:
                    if state.type == "Task":
                        # AWS: a failed Task inside a branch is then reported aborted with it
                        failure.abort_event = "TaskStateAborted"
                    raise failure from None
                return self._catch(frame, state, catcher, failure, value, entry)
            out_text = outcome.text
            if out_text is None:
                out_text = paths.dumps(outcome.value)
                if len(out_text) > MAX_PAYLOAD_BYTES // 4 and len(out_text.encode()) > MAX_PAYLOAD_BYTES:
                    raise Failure(ErrorName.DATA_LIMIT_EXCEEDED,
                                  f"The state/task '{state.name}' returned a result with a size exceeding "
                                  "the maximum number of bytes service limit.")
            apply_assignments(frame, outcome.assigned)
            self._exited(frame, state, out_text, outcome.assigned)
            return outcome.next, outcome.value, out_text

    def _exited(self, frame: Frame, state: State, text: str, assigned: dict[str, JSON] | None) -> None:
        details: dict[str, Any] = {"name": state.name, "output": text, "outputDetails": NOT_TRUNCATED}
        if assigned:
            details["assignedVariables"] = {k: paths.dumps(v) for k, v in assigned.items()}
            details["assignedVariablesDetails"] = NOT_TRUNCATED
        frame.last = self.history.add(state.type + "StateExited", frame.last, _EXITED, details)

    def _failure(self, err: StatesError, state: State, entry: Entry) -> Failure:
        """Turn any StatesError into a final Failure, writing EvaluationFailed where AWS does."""
        if isinstance(err, Failure):
            return err
        if isinstance(err, HistoryLimitExceeded):
            raise err
        cause = err.cause
        if err.error in _PREFIXED:
            cause = (f"An error occurred while executing the state '{state.name}' "
                     f"(entered at the event id #{entry.id}). {cause}")
        if err.error == ErrorName.QUERY_EVALUATION_ERROR:
            details: dict[str, Any] = {"cause": cause, "error": err.error}
            location = _location(err)
            if location is not None:
                details["location"] = location
            details["state"] = state.name
            # AWS: EvaluationFailed of a Wait state follows its StateEntered; for other
            # states it points where StateEntered pointed (see the recorded JSONata cases).
            prev = entry.id if state.type == "Wait" else entry.prev
            entry.frame.last = self.history.add("EvaluationFailed", prev, "evaluationFailedEventDetails", details)
        return Failure(err.error, cause, state_event=getattr(err, "state_event", None))

    def _catch(self, frame: Frame, state: State, catcher: Catcher, failure: Failure, value: JSON,
               entry: Entry) -> tuple[str | None, JSON, str | None]:
        error_output: dict[str, JSON] = {"Error": failure.error}
        if failure.cause is not None:
            error_output["Cause"] = failure.cause
        assigned = None
        if state.jsonata:
            states = entry.states(value, errorOutput=error_output)
            if catcher.assign is not None:
                assigned = catcher.assign.render(states, frame.variables, now=entry.now())
            output = catcher.output.render(states, frame.variables, now=entry.now()) if catcher.output is not None else error_output
        else:
            if catcher.assign is not None:
                assigned = catcher.assign.render(entry.scope(error_output))
            rp = catcher.result_path
            if rp is DOLLAR:
                output = error_output
            elif rp is None:
                output = value
            else:
                output = paths.result_path(rp, value, error_output)
        text = paths.dumps(output)
        apply_assignments(frame, assigned)
        self._exited(frame, state, text, assigned)
        return catcher.next, output, text


def _location(err: StatesError) -> str | None:
    location = getattr(err, "location", None)
    if location is not None:
        return str(location)
    cause = err.cause or ""
    marker = "specified for the field '"
    start = cause.find(marker)
    if start < 0:
        return None
    start += len(marker)
    end = cause.find("'", start)
    return cause[start:end] if end > 0 else None


def parse_input(input_text: str | None) -> tuple[JSON, str]:
    """The execution input value and the exact text AWS echoes (``{}`` when none was given)."""
    if input_text is None:
        return {}, "{}"
    return inputs.parse_execution_input(input_text), input_text


async def run(machine: StateMachine | str | dict[str, Any], input_text: str | None = None, *,
              info: ExecutionInfo | None = None, registry: TaskRegistry | None = None,
              clock: Clock | None = None,
              on_event: Callable[[HistoryEvent], None] | None = None,
              aws_as_of: date | None = None, redrive_plan: redrive.Plan | None = None,
              execution_input: str | None = None) -> ExecutionResult:
    """Run one execution to its end; cancelling the calling task aborts it (no event written).

    ``aws_as_of`` emulates AWS as it behaved on that date (see engine.asl.compat);
    None, the default, emulates today's AWS. ``redrive_plan`` (engine.asl.redrive): a redriven
    run's top-level state to re-enter keeps its successful branches/iterations;
    ``execution_input``: the execution's own input (``$$.Execution.Input``) when ``input_text``
    is the input of the state a resumed (restarted or redriven) run re-enters.
    """
    if not isinstance(machine, StateMachine):
        machine = load(machine)
    clock = clock or SystemClock()
    value, text = parse_input(input_text)
    if info is None:
        info = context_object.default_info(clock.now())
    elif info.start_time is None:
        info.start_time = clock.now()
    history = History(clock, on_event)
    own_input = value if execution_input is None else parse_input(execution_input)[0]
    ex = Execution(machine, info, registry, clock, history, own_input, compat.in_effect(aws_as_of))
    history.add("ExecutionStarted", 0, "executionStartedEventDetails",
                {"input": text, "inputDetails": NOT_TRUNCATED, "roleArn": info.role_arn},
                timestamp=info.start_time)
    # AWS: the first StateEntered event points back to 0, not to ExecutionStarted.
    frame = Frame(ex, 0, {})
    try:
        if machine.timeout_seconds is not None:
            timed_out, done = await with_timeout(clock, machine.timeout_seconds,
                                                 lambda: ex.run_machine(frame, machine.root, value, text, redrive_plan))
            if timed_out:
                history.close()
                history.add("ExecutionTimedOut", frame.last, "executionTimedOutEventDetails", {})
                return ExecutionResult("TIMED_OUT", history=history.events)
            assert done is not None
            output, out_text = done
        else:
            output, out_text = await ex.run_machine(frame, machine.root, value, text, redrive_plan)
    except StatesError as err:
        history.close()
        details: dict[str, Any] = {}
        error = getattr(err, "raw_error", err.error)
        if error is not None:
            details["error"] = error
        if err.cause is not None:
            details["cause"] = err.cause
        history.add("ExecutionFailed", frame.last, "executionFailedEventDetails", details)
        return ExecutionResult("FAILED", None, error, err.cause, history.events)
    history.close()
    history.add("ExecutionSucceeded", frame.last, "executionSucceededEventDetails",
                {"output": out_text, "outputDetails": NOT_TRUNCATED})
    return ExecutionResult("SUCCEEDED", out_text, None, None, history.events)


async def with_timeout(clock: Clock, seconds: float, work: Callable[[], Awaitable[T]]) -> tuple[bool, T | None]:
    """Run ``work`` with a deadline measured on ``clock``; (True, None) when it timed out."""
    timed_out = False
    result: T | None = None

    async with unwrap_group(), anyio.create_task_group() as group:
        async def run_work() -> None:
            nonlocal result
            result = await work()
            group.cancel_scope.cancel()

        group.start_soon(run_work)
        # The deadline is set before the work starts (AWS counts from the execution's start), so a
        # Wait exactly as long as TimeoutSeconds times out.
        await clock.sleep(seconds)
        timed_out = True
        group.cancel_scope.cancel()
    return timed_out, (None if timed_out else result)


def run_sync(definition_or_machine: StateMachine | str | dict[str, Any], input_text: str | None = None,
             **kw: Any) -> ExecutionResult:
    """``run`` in a fresh event loop (for scripts and simple tests)."""
    async def main() -> ExecutionResult:
        return await run(definition_or_machine, input_text, **kw)
    return anyio.run(main)
