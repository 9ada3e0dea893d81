"""Run a case in process with engine.asl, on a ManualClock advanced whenever the run is idle.

Waits and timeouts take no real time: the driver lets every task run until all are
blocked, then moves the clock to the next sleeper's deadline (so a 60 s Wait racing a 5 s
TimeoutSeconds ends exactly as on AWS, deterministically).
"""
from __future__ import annotations

import asyncio
import inspect
import json
import signal
import threading
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import anyio

from benchmarks._conformance.cases import Case
from benchmarks._conformance.compare import Outcome
from engine.asl import compat
from engine.asl.inputs import parse_execution_input
from engine.clock import ManualClock
from engine.errors import InvalidArgument, InvalidDefinition

from engine.asl import ExecutionInfo, load, run

REGION = "us-east-1"
ACCOUNT = "111111111111"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/statesim-conformance"
_ROOT = str(Path(__file__).resolve().parents[2])


class CaseTimeout(Exception):
    """The engine ran longer than the per-case real-time limit."""


def run_case(case: Case, *, timeout: float = 30.0, as_of: str = "recorded") -> Outcome:
    """Create (or validate), start and run one case in process.

    ``as_of``: ``recorded`` emulates AWS as of the case's recording date (what it shows),
    ``latest`` today's AWS, or a ``YYYY-MM-DD`` date (engine.asl.compat).
    """
    aws_as_of = case.recorded_date if as_of == "recorded" else compat.parse_date(as_of)
    try:
        with _deadline(timeout):
            return _run_case(case, aws_as_of)
    except Exception as exc:  # an engine bug is a failed case, not a runner crash
        if isinstance(_leaf(exc), CaseTimeout):
            return Outcome(crash=f"no result after {timeout:g} s of real time")
        return Outcome(crash=describe_exception(exc))


def _run_case(case: Case, aws_as_of: date | None = None) -> Outcome:
    if case.kind == "validate":
        from engine.asl.validate import validate_definition_response
        return Outcome(validate=validate_definition_response(case.definition_text, type=case.state_machine_type))
    try:
        machine = create(case.definition_text, case.state_machine_type)
    except InvalidDefinition as exc:
        return Outcome(create_error={"code": "InvalidDefinition", "message": exc.message})
    if case.kind == "create_error":
        return Outcome(status="CREATED")
    try:
        parse_execution_input(case.input_text)
    except InvalidArgument as exc:
        return Outcome(start_error={"code": exc.kind, "message": exc.message})
    if case.kind == "start_error":
        return Outcome(status="STARTED")
    result = anyio.run(drive, machine, case.input_text, execution_info(case.state_machine_type), aws_as_of)
    return Outcome(status=result.status, output=result.output, error=result.error, cause=result.cause,
                   history=list(result.history))


def create(text: str, state_machine_type: str = "STANDARD") -> Any:
    """engine.asl.load, with the state machine type when load (or validate) accepts one."""
    loader: Any = load
    if "type" in inspect.signature(loader).parameters:
        return loader(text, type=state_machine_type)
    machine = load(text)
    if state_machine_type != "STANDARD":
        _check_type(text, state_machine_type)
    return machine


def _check_type(text: str, state_machine_type: str) -> None:
    from engine.asl import validate as validate_module
    if "type" not in inspect.signature(validate_module.validate).parameters:
        return
    diagnostics = validate_module.validate(json.loads(text), type=state_machine_type)
    errors = [d for d in diagnostics if d.severity == "ERROR"]
    if errors:
        raise InvalidDefinition(errors)


def execution_info(state_machine_type: str = "STANDARD", start: datetime | None = None) -> Any:
    """Well-formed ARNs and names, as CreateStateMachine/StartExecution would give them."""
    machine_name = f"conformance-{uuid.uuid4().hex[:12]}"
    name = str(uuid.uuid4())
    prefix = f"arn:aws:states:{REGION}:{ACCOUNT}"
    if state_machine_type == "EXPRESS":
        execution_arn = f"{prefix}:express:{machine_name}:{name}:{uuid.uuid4()}"
    else:
        execution_arn = f"{prefix}:execution:{machine_name}:{name}"
    return ExecutionInfo(execution_arn=execution_arn, name=name, state_machine_arn=f"{prefix}:stateMachine:{machine_name}",
                         state_machine_name=machine_name, role_arn=ROLE_ARN,
                         start_time=start or datetime.now(timezone.utc), state_machine_type=state_machine_type)


async def drive(machine: Any, input_text: str | None, info: Any, aws_as_of: date | None = None) -> Any:
    """Run one execution on a ManualClock, advancing it each time every task is blocked."""
    clock = ManualClock(start=info.start_time)
    box: list[Any] = []

    async with anyio.create_task_group() as group:
        async def execute() -> None:
            try:
                box.append(await run(machine, input_text, info=info, clock=clock, aws_as_of=aws_as_of))
            except Exception as exc:  # re-raised below, outside the task group
                box.append(exc)

        group.start_soon(execute)
        while not box:
            await settle()
            if box:
                break
            wakeup = clock.next_wakeup()
            if wakeup is None:
                group.cancel_scope.cancel()
                raise RuntimeError("the execution is blocked on something other than the clock")
            await clock.advance(max(0.0, (wakeup - clock.now()).total_seconds()))
    if isinstance(box[0], Exception):
        raise box[0]
    return box[0]


async def settle(limit: int = 1_000_000) -> None:
    """Yield until every other task of this event loop is blocked and no callback is queued.

    asyncio backend only: reads the loop's ready queue and each task's awaited future.
    Two quiet looks in a row are required, as a finished child wakes its parent through
    a queued callback.
    """
    me = asyncio.current_task()
    loop = asyncio.get_running_loop()
    quiet = 0
    for _ in range(limit):
        await asyncio.sleep(0)
        idle = not getattr(loop, "_ready", ()) and all(task is me or _is_blocked(task) for task in asyncio.all_tasks())
        quiet = quiet + 1 if idle else 0
        if quiet >= 2:
            return


def _is_blocked(task: asyncio.Task[Any]) -> bool:
    waiter = getattr(task, "_fut_waiter", None)
    return task.done() or (waiter is not None and not waiter.done())


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Interrupt runaway (even non-yielding) engine code in the main thread."""
    if (seconds <= 0 or threading.current_thread() is not threading.main_thread()
            or not hasattr(signal, "setitimer") or signal.getitimer(signal.ITIMER_REAL)[0] > 0):
        yield  # not the main thread, or someone else's alarm is armed (e.g. pytest-timeout)
        return

    def expire(signum: int, frame: Any) -> None:
        raise CaseTimeout()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _leaf(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def describe_exception(exc: BaseException) -> str:
    """``Type: message at file:line`` (the innermost project frame), for triage."""
    exc = _leaf(exc)
    where = ""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.startswith(_ROOT) and "/.venv/" not in frame.filename:
            where = f" at {Path(frame.filename).relative_to(_ROOT)}:{frame.lineno} in {frame.name}"
            break
    message = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {message[:300]}{where}"
