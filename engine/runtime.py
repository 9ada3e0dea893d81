"""Executions, task tokens and activity queues, shared by ASL and Flows.

Each running execution is one anyio task in the runtime's task group. History events go
to the store as the interpreter emits them; a restart resumes RUNNING executions from the
last top-level state they entered (see ``recover``). StopExecution cancels the task.
"""
from __future__ import annotations

import hashlib
import json
import logging
import secrets
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import datetime, timedelta, timezone
from typing import Any

import anyio
import anyio.abc

from engine.arns import Arns
from engine.clock import Clock, SystemClock
from engine.errors import NotFound, StatesimError
from engine.quotas import Quotas
from engine.store.base import Record, Store
from engine.store.memory import MemoryStore
from engine.tasks import mocks
from engine.tasks.builtin import Integrations
from engine.tasks.registry import NoHandler, TaskContext, TaskFailure, TaskRegistry, held, to_states_error
from engine.types import JSON

log = logging.getLogger("statesim.runtime")

ACTIVITY_POLL_SECONDS = 60.0
"""AWS: GetActivityTask waits up to 60 seconds for a task."""
RESUME_STATE = "statesim.resume"
"""Name of the synthetic Choice that re-enters a state on restart or redrive (never recorded)."""


def epoch(moment: datetime) -> float:
    """Seconds since the epoch, as records and events keep time."""
    return moment.timestamp()


def from_epoch(value: float) -> datetime:
    return datetime.fromtimestamp(value, tz=timezone.utc)


@dataclass(slots=True)
class _Running:
    arn: str
    scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)
    done: anyio.Event = field(default_factory=anyio.Event)
    writer: _EventWriter | None = None
    stopped: bool = False
    deleted: bool = False
    """Its state machine was deleted: the run ends FAILED at its next state transition."""


@dataclass(slots=True)
class _Waiter:
    """One task token waiting for SendTask*."""

    token: str
    execution_arn: str
    activity_arn: str | None = None
    input_text: str | None = None
    event: anyio.Event = field(default_factory=anyio.Event)
    outcome: tuple[str, Any] | None = None
    heartbeat: Callable[[], Any] | None = None
    resource: str = ""


@dataclass(frozen=True, slots=True)
class Resume:
    """Where a resumed (restarted or redriven) execution picks up."""

    state: str
    input_text: str
    next_id: int
    """The id the first re-emitted event gets."""
    previous_id: int
    """What the engine's ``previousEventId`` 0/1 map to."""
    wait_until: datetime | None = None
    redriven: bool = False
    plan: Any = None
    """A redrive's engine.asl.redrive.Plan (what its Parallel/Map keeps)."""
    continuing: tuple[int, int] | None = None
    """A restart inside a Parallel/Map (engine.asl.redrive.Continuation): the stored ids of its
    StateEntered and Started events, which the resumed run does not write again."""


class _EventWriter:
    """Stamps engine events into the store.

    Ids are mapped as events pass: a resumed run continues the stored numbering (its
    ExecutionStarted and synthetic jump are dropped), and activity Task events take AWS's
    Activity* shapes, ActivityStarted being written when a worker picks the task up.
    """

    def __init__(self, store: Store | None, arn: str, resume: Resume | None,
                 observer: Callable[[str, Record], None] | None = None, account: str = "123456789012") -> None:
        self.store = store
        self.arn = arn
        self.resume = resume
        self.observer = observer
        self.account = account
        self.events: list[Record] = []
        self.last_id = 0
        self.closed = False
        self._ids: dict[int, int] = {}
        self._held: list[tuple[int, Record]] = []
        self._continuing = list(resume.continuing) if resume is not None and resume.continuing else []

    def __call__(self, event: Mapping[str, Any]) -> None:
        if self.closed:
            return
        record = {k: (epoch(v) if isinstance(v, datetime) else v) for k, v in event.items()}
        if not self._renumber(record):
            return
        self._write(record)

    def _write(self, record: Record) -> None:
        self.last_id = int(record["id"])
        self.events.append(record)
        if self.store is not None:
            self.store.append_events(self.arn, [record])
        if self.observer is not None and record["type"].startswith("Map"):
            self.observer(self.arn, record)

    def _renumber(self, record: Record) -> bool:
        """Give the event its stored id and previousEventId; False drops (or holds) it."""
        engine_id, prev = int(record["id"]), int(record.get("previousEventId", 0))
        base_prev = self.resume.previous_id if self.resume is not None else 0
        mapped_prev = base_prev if prev == 0 else self._ids.get(prev, prev)
        details = next((v for k, v in record.items() if k.endswith("EventDetails")), None)
        if self.resume is not None and (record["type"] == "ExecutionStarted" or (
                isinstance(details, dict) and details.get("name") == RESUME_STATE)):
            self._ids[engine_id] = mapped_prev
            return False
        if self._continuing:  # the Parallel/Map goes on: its StateEntered and Started are stored already
            kind = str(record["type"])
            if len(self._continuing) == 2 and kind.endswith("StateEntered") and isinstance(details, dict) \
                    and details.get("name") == self.resume.state:  # type: ignore[union-attr]
                self._ids[engine_id] = self._continuing.pop(0)
                return False
            if len(self._continuing) == 1 and kind in ("ParallelStateStarted", "MapStateStarted"):
                self._ids[engine_id] = self._continuing.pop(0)
                return False
        record["previousEventId"] = mapped_prev
        if isinstance(details, dict) and details.get("resourceType") == "states" and \
                str(details.get("resource", "")).startswith("activity:") and not self._as_activity(record, details):
            self._ids[engine_id] = mapped_prev
            self._held.append((engine_id, record))
            return False
        record["id"] = self.last_id + 1
        self._ids[engine_id] = record["id"]
        return True

    def _activity_arn(self, details: Mapping[str, Any]) -> str:
        return f"arn:aws:states:{details.get('region', 'us-east-1')}:{self.account}:{details['resource']}"

    def _as_activity(self, record: Record, details: dict[str, Any]) -> bool:
        """Rewrite a Task* event of an activity as AWS records it; False holds a TaskStarted."""
        kind = str(record.pop("type"))
        record.pop(next(k for k in list(record) if k.endswith("EventDetails")))
        if kind == "TaskStarted":
            record["type"], record["resource"] = "TaskStarted", self._activity_arn(details)
            return False
        if kind == "TaskScheduled":
            new: dict[str, Any] = {"resource": self._activity_arn(details), "input": details.get("parameters", "{}"),
                                   "inputDetails": {"truncated": False}}
            new.update({k: details[k] for k in ("timeoutInSeconds", "heartbeatInSeconds") if k in details})
            record["type"], record["activityScheduledEventDetails"] = "ActivityScheduled", new
        elif kind == "TaskSucceeded":
            record["type"] = "ActivitySucceeded"
            record["activitySucceededEventDetails"] = {"output": details.get("output"),
                                                       "outputDetails": {"truncated": False}}
        else:
            name: str = {"TaskFailed": "ActivityFailed", "TaskTimedOut": "ActivityTimedOut"}.get(kind, kind)
            record["type"] = name
            details_key = name[0].lower() + name[1:] + "EventDetails"
            record[details_key] = {k: details[k] for k in ("error", "cause") if k in details}
            if kind == "TaskTimedOut":
                self._drop_held(self._activity_arn(details))
        return True

    def _drop_held(self, activity_arn: str) -> None:
        for i, (_, waiting) in enumerate(self._held):
            if waiting["resource"] == activity_arn:
                del self._held[i]
                return

    def activity_started(self, activity_arn: str, worker_name: str | None, now: datetime) -> None:
        """A worker took the activity task: write its ActivityStarted event now."""
        for i, (engine_id, waiting) in enumerate(self._held):
            if waiting["resource"] != activity_arn:
                continue
            del self._held[i]
            details = {"workerName": worker_name} if worker_name else {}
            record: Record = {"timestamp": epoch(now), "type": "ActivityStarted", "id": self.last_id + 1,
                              "previousEventId": waiting["previousEventId"], "activityStartedEventDetails": details}
            self._ids[engine_id] = record["id"]
            if not self.closed:
                self._write(record)
            return

    def append(self, event_type: str, details: Mapping[str, Any], now: datetime, previous: int = 0) -> Record:
        """Add an event of the runtime's own (ExecutionAborted, ExecutionRedriven...)."""
        record: Record = {"timestamp": epoch(now), "type": event_type, "id": self.last_id + 1,
                          "previousEventId": previous}
        key = event_type[0].lower() + event_type[1:] + "EventDetails"
        record[key] = dict(details)
        self.last_id += 1
        self.events.append(record)
        if self.store is not None:
            self.store.append_events(self.arn, [record])
        return record


class _Registry(TaskRegistry):
    """The user's registry plus what the runtime answers itself: activities and task tokens."""

    def __init__(self, runtime: Runtime, execution_arn: str) -> None:
        super().__init__()
        self._runtime = runtime
        self._execution_arn = execution_arn
        self._inner = runtime.integrations

    @property
    def patterns(self) -> list[str]:
        return ["arn:aws:states:*:*:activity:*", *self._inner.patterns]

    def has(self, resource: str) -> bool:
        return _is_activity(resource) or resource.endswith(".waitForTaskToken") or self._inner.has(resource)

    def missing_cause(self, resource: str) -> str:
        return self._inner.missing_cause(resource)

    async def invoke(self, resource: str, payload: JSON, ctx: TaskContext) -> JSON:
        with held(ctx.clock):  # a clock that skips time waits while a task (or callback) is pending
            return await self._invoke(resource, payload, ctx)

    async def _invoke(self, resource: str, payload: JSON, ctx: TaskContext) -> JSON:
        runtime = self._runtime
        if _is_activity(resource) and runtime.registry.registered(resource):
            # a registered Python handler is the activity's worker (engine.tasks.registry)
            run = runtime._running.get(self._execution_arn)
            if run is not None and run.writer is not None:
                run.writer.activity_started(resource, "statesim-registry", runtime.clock.now())
            return await runtime.registry.invoke(resource, payload, ctx)
        if _is_activity(resource):
            return await runtime.wait_for_activity(self._execution_arn, resource, payload, ctx)
        if resource.endswith(".waitForTaskToken"):
            return await runtime.wait_for_token(self._execution_arn, resource, payload, ctx)
        return await self._inner.invoke(resource, payload, ctx)


def _is_activity(resource: str) -> bool:
    parts = resource.split(":")
    return len(parts) == 7 and parts[2] == "states" and parts[5] == "activity"


def _asl() -> Any:
    import engine.asl as asl
    return asl


def _asl_redrive() -> Any:
    from engine.asl import redrive
    return redrive


@lru_cache(maxsize=256)
def load_machine(definition: str) -> Any:
    """The parsed machine for a definition text; models are immutable, so runs share them."""
    return _asl().load(definition)


class Runtime:
    """Owns the execution task group, task tokens and activity queues."""

    def __init__(self, store: Store | None = None, *, clock: Clock | None = None,
                 registry: TaskRegistry | None = None, arns: Arns | None = None,
                 activity_poll_seconds: float = ACTIVITY_POLL_SECONDS,
                 mock_config: mocks.MockConfig | None = None, quotas: Quotas | None = None) -> None:
        self.store: Store = store if store is not None else MemoryStore()
        self.quotas = quotas or Quotas()
        """AWS's account quotas the API enforces (engine.quotas); lower them to test the limits."""
        self.mock_config = mock_config
        """Step Functions Local's MockConfigFile; a record's ``testCase`` selects one of its cases."""
        self.clock: Clock = clock or SystemClock()
        self.registry = registry or TaskRegistry()
        self.integrations = Integrations(self.registry, runtime=self)
        """The registry plus built-in integrations (Lambda, nested executions, AWS SDK, HTTP)."""
        self.arns = arns or Arns()
        self.activity_poll_seconds = activity_poll_seconds
        self._group: anyio.abc.TaskGroup | None = None
        self._stopping = False
        self._running: dict[str, _Running] = {}
        self._waiters: dict[str, _Waiter] = {}
        self._token_alias: dict[str, str] = {}
        self._pending_alias: dict[str, list[str]] = {}
        self._queues: dict[str, deque[_Waiter]] = {}
        self._queue_signals: dict[str, anyio.Event] = {}
        self._map_lengths: dict[str, int] = {}
        self._kept: set[str] = set()
        self._map_runs: dict[str, str] = {}
        self._map_progress: dict[str, Any] = {}  # execution -> its open Map Run's engine.tasks.distributed.MapRunProgress
        self._deleting: set[str] = set()

    # ---- lifecycle -----------------------------------------------------------------

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Runtime]:
        """Run executions in the background while the context is open; resumes RUNNING ones."""
        async with anyio.create_task_group() as group:
            self._group = group
            self._stopping = False
            self.recover()
            try:
                yield self
            finally:
                # shutting down is not an outcome: executions and their tokens stay as stored
                # (RUNNING / PENDING) and resume on the next start
                self._stopping = True
                self._group = None
                group.cancel_scope.cancel()

    def _spawn(self, record: Record, definition: str, input_text: str, resume: Resume | None) -> None:
        if self._group is None:
            raise RuntimeError("the runtime is not running (use `async with runtime.running()`)")
        run = _Running(record["executionArn"])
        self._running[run.arn] = run
        self._group.start_soon(self._execute, run, record, definition, input_text, resume)

    def _registry(self, record: Mapping[str, Any]) -> TaskRegistry:
        """The execution's registry; a selected mock test case answers before it (engine.tasks.mocks)."""
        registry: TaskRegistry = _Registry(self, record["executionArn"])
        machine = record["stateMachineArn"].split(":")[6]
        return mocks.mocked(registry, self.mock_config, machine, record.get("testCase"))

    def is_running(self, execution_arn: str) -> bool:
        return execution_arn in self._running

    def machine_deleting(self, machine_arn: str, deleting: bool = True) -> None:
        """DeleteStateMachine with executions running: AWS fails each at its next state transition."""
        if deleting:
            self._deleting.add(machine_arn)
        else:
            self._deleting.discard(machine_arn)

    def _on_event(self, run: _Running, record: Mapping[str, Any], writer: _EventWriter) -> Callable[[Any], None]:
        machine_arn = record["stateMachineArn"]

        def on_event(event: Mapping[str, Any]) -> None:
            if run.deleted:
                return
            if machine_arn in self._deleting and str(event.get("type", "")).endswith("StateEntered"):
                run.deleted = True
                run.scope.cancel()
                return
            writer(event)
        return on_event

    def open_executions(self) -> int:
        """How many STANDARD executions are running now (the ExecutionLimitExceeded quota counts them)."""
        return sum(1 for key in self._running if ":execution:" in key)

    def execution_limit_reached(self) -> bool:
        """True when ``quotas.open_executions`` executions run (counted only when there can be that many)."""
        limit = self.quotas.open_executions
        return len(self._running) >= limit and self.open_executions() >= limit

    def spawn(self, key: str, work: Callable[[], Awaitable[None]]) -> None:
        """Run ``work`` as one more execution task under ``key`` (Flows' async executions).

        ``cancel(key)`` stops it; ``is_running(key)`` is True until it ends. Its outcome is
        the caller's to record, and so is a server shutdown (the task is cancelled too).
        """
        if self._group is None:
            raise RuntimeError("the runtime is not running (use `async with runtime.running()`)")
        run = _Running(key)
        self._running[key] = run
        self._group.start_soon(self._work, run, work)

    async def _work(self, run: _Running, work: Callable[[], Awaitable[None]]) -> None:
        try:
            with run.scope:
                await work()
        except Exception:  # a bug must not stop the other executions
            log.exception("execution %s crashed", run.arn)
        finally:
            if self._running.get(run.arn) is run:
                del self._running[run.arn]
            run.done.set()

    def cancel(self, key: str) -> bool:
        """Cancel the task ``spawn`` started under ``key``; False when none is running."""
        run = self._running.get(key)
        if run is None:
            return False
        run.stopped = True
        run.scope.cancel()
        return True

    # ---- executions ------------------------------------------------------------------

    def info(self, record: Mapping[str, Any]) -> Any:
        """The engine's ExecutionInfo for an execution record."""
        return _asl().ExecutionInfo(
            execution_arn=record["executionArn"], name=record["name"],
            state_machine_arn=record.get("stateMachineVersionArn") or record["stateMachineArn"],
            state_machine_name=record["stateMachineArn"].split(":")[6],
            role_arn=record.get("roleArn", ""), start_time=from_epoch(record["startDate"]),
            redrive_count=record.get("redriveCount", 0), state_machine_type=record.get("type", "STANDARD"))

    def keep_definition(self, definition: str) -> str:
        """Store a definition text once (executions refer to it by this id)."""
        key = hashlib.sha256(definition.encode()).hexdigest()
        if key not in self._kept and self.store.get("definition", key) is None:
            self.store.put("definition", key, {"definition": definition})
        self._kept.add(key)
        return key

    def definition_of(self, record: Mapping[str, Any]) -> str:
        """The definition an execution runs."""
        if "definition" in record:
            return str(record["definition"])
        kept = self.store.get("definition", record["definitionId"])
        if kept is None:
            raise NotFound("definition", record["definitionId"])
        return str(kept["definition"])

    def start(self, record: Record, definition: str) -> Record:
        """Persist a new STANDARD execution (status RUNNING) and run it in the background."""
        record = {**record, "status": "RUNNING", "redriveCount": 0}
        if "definition" not in record:
            record["definitionId"] = self.keep_definition(definition)
        self._registry(record)  # an unknown test case fails StartExecution, not the execution
        self.store.put("execution", record["executionArn"], record, parent=record["stateMachineArn"])
        self._spawn(record, definition, record.get("input", "{}"), None)
        return record

    def start_express(self, record: Record, definition: str) -> None:
        """Run an EXPRESS execution in the background; nothing is kept (as AWS keeps no history)."""
        if self._group is None:
            raise RuntimeError("the runtime is not running")
        self._group.start_soon(self._run_express, record, definition)

    async def _run_express(self, record: Record, definition: str) -> None:
        try:
            await self.run_sync(record, definition)
        except Exception:  # a bug must not stop the other executions
            log.exception("express execution %s crashed", record["executionArn"])

    async def run_sync(self, record: Mapping[str, Any], definition: str) -> Any:
        """Run one execution to its end in the caller's task; returns the engine's ExecutionResult."""
        asl = _asl()
        machine = load_machine(definition)
        registry = self._registry(record)
        return await asl.run(machine, record.get("input", "{}"), info=self.info(record), registry=registry,
                             clock=self.clock)

    async def _execute(self, run: _Running, record: Record, definition: str, input_text: str,
                       resume: Resume | None) -> None:
        asl = _asl()
        writer = _EventWriter(self.store, run.arn, resume, self._observe_map, self.arns.account)
        if resume is not None:
            writer.last_id = resume.next_id - 1
        run.writer = writer
        result = None
        try:
            with run.scope:
                machine = asl.load(_resumable(definition, resume)) if resume else load_machine(definition)
                result = await asl.run(machine, input_text, info=self.info(record),
                                       registry=self._registry(record), clock=self.clock,
                                       on_event=self._on_event(run, record, writer),
                                       redrive_plan=resume.plan if resume is not None else None,
                                       execution_input=record.get("input", "{}") if resume is not None else None)
            if run.deleted and not run.stopped:
                # AWS: {"error": "States.Runtime", "cause": "State machine <name> has been deleted."}
                cause = f"State machine {record['stateMachineArn'].split(':')[6]} has been deleted."
                writer.append("ExecutionFailed", {"error": "States.Runtime", "cause": cause}, self.clock.now(),
                              writer.last_id)
                self._close(record, "FAILED", None, "States.Runtime", cause)
            elif result is not None and not run.stopped:  # recorded before is_running() turns False
                self._close(record, result.status, result.output, result.error, result.cause)
        except StatesimError as exc:  # a definition that stopped loading (should not happen)
            log.exception("execution %s could not run", run.arn)
            self._close(record, "FAILED", None, "States.Runtime", str(exc))
        except Exception as exc:  # a bug: keep the other executions (and the server) going
            log.exception("execution %s crashed", run.arn)
            cause = f"statesim internal error: {type(exc).__name__}: {exc}"
            if not run.stopped:
                writer.append("ExecutionFailed", {"error": "States.Runtime", "cause": cause}, self.clock.now(),
                              writer.last_id)
                self._close(record, "FAILED", None, "States.Runtime", cause)
        finally:
            if run.arn in self._map_runs and self._running.get(run.arn) in (run, None):
                # stopped (or crashed) with a Map Run open: AWS aborts the run (not when a redrive reopened it)
                self._observe_map(run.arn, {"type": "MapRunAborted", "timestamp": self.clock.now()})
            if self._running.get(run.arn) is run:  # a redrive may already run the execution again
                del self._running[run.arn]
                self._forget_tokens(run.arn)
            run.done.set()

    def _observe_map(self, execution_arn: str, event: Record) -> None:
        """Keep a DescribeMapRun record for each distributed Map run in the history: its settings and
        final counts come from the engine's live Map Run (engine.tasks.distributed.LIVE)."""
        from engine.tasks import distributed
        kind = event["type"]
        if kind == "MapStateStarted":
            self._map_lengths[execution_arn] = int((event.get("mapStateStartedEventDetails") or {}).get("length", 0))
        elif kind == "MapRunStarted":
            arn = event["mapRunStartedEventDetails"]["mapRunArn"]
            total = self._map_lengths.get(execution_arn, 0)
            machine, _, label = arn.rpartition(":")[0].partition(":mapRun:")[2].partition("/")
            progress = distributed.LIVE.get(arn)
            counts = {"pending": total, "running": 0, "succeeded": 0, "failed": 0, "timedOut": 0, "aborted": 0,
                      "total": total, "resultsWritten": 0, "failuresNotRedrivable": 0, "pendingRedrive": 0}
            items, executions = progress.counts() if progress is not None else (counts, dict(counts))
            settings = progress.settings() if progress is not None else {
                "maxConcurrency": 0, "toleratedFailurePercentage": 0.0, "toleratedFailureCount": 0}
            self.store.put("map_run", arn, {
                "mapRunArn": arn, "executionArn": execution_arn, "status": "RUNNING", "startDate": event["timestamp"],
                "stateMachineArn": self.arns.state_machine(f"{machine}/{label}"), **settings,
                "itemCounts": items, "executionCounts": executions, "redriveCount": 0}, parent=execution_arn)
            self._map_runs[execution_arn] = arn
            self._map_progress[execution_arn] = progress
        elif kind == "MapRunRedriven":  # the same Map Run again (its record was reopened by redrive)
            arn = event["mapRunRedrivenEventDetails"]["mapRunArn"]
            self._map_runs[execution_arn] = arn
            progress = self._map_progress[execution_arn] = distributed.LIVE.get(arn)
            run = self.store.get("map_run", arn)
            if run is not None and progress is not None:
                run["itemCounts"], run["executionCounts"] = progress.counts()
                run.update(progress.settings())
                self.store.put("map_run", arn, run, parent=execution_arn)
        elif kind in ("MapRunSucceeded", "MapRunFailed", "MapRunAborted"):
            arn = self._map_runs.pop(execution_arn, "")
            run = self.store.get("map_run", arn)
            if run is None:
                return
            status = {"MapRunSucceeded": "SUCCEEDED", "MapRunFailed": "FAILED", "MapRunAborted": "ABORTED"}[kind]
            progress = self._map_progress.pop(execution_arn, None) or distributed.LIVE.get(arn)
            if progress is not None:
                run["itemCounts"], run["executionCounts"] = progress.counts()
                run.update(progress.settings())
            else:
                field = {"SUCCEEDED": "succeeded", "FAILED": "failed", "ABORTED": "aborted"}[status]
                for counts in (run["itemCounts"], run["executionCounts"]):
                    counts.update(pending=0, running=0, **{field: counts["total"]})
            run.update(status=status, stopDate=event["timestamp"])
            self.store.put("map_run", arn, run, parent=execution_arn)

    def _close(self, record: Record, status: str, output: str | None, error: str | None,
               cause: str | None) -> None:
        current = self.store.get("execution", record["executionArn"]) or dict(record)
        current.update(status=status, stopDate=epoch(self.clock.now()))
        for key, value in (("output", output), ("error", error), ("cause", cause)):
            if value is None:
                current.pop(key, None)
            else:
                current[key] = value
        self.store.put("execution", current["executionArn"], current, parent=current["stateMachineArn"])

    def stop(self, execution_arn: str, error: str | None, cause: str | None) -> Record:
        """StopExecution: cancel the task, record ExecutionAborted and ABORTED."""
        record = self.store.get("execution", execution_arn)
        if record is None:
            raise NotFound("execution", execution_arn)
        if record["status"] != "RUNNING":
            return record
        now = self.clock.now()
        run = self._running.get(execution_arn)
        details = {k: v for k, v in (("error", error), ("cause", cause)) if v is not None}
        if run is not None:
            run.stopped = True
            run.scope.cancel()
            writer = run.writer or _EventWriter(self.store, execution_arn, None)
            writer.closed = False
            writer.append("ExecutionAborted", details, now)
            writer.closed = True
        else:
            self._append_after(execution_arn, "ExecutionAborted", details, now)
        record.update(status="ABORTED", stopDate=epoch(now))
        record.pop("output", None)
        for key, value in (("error", error), ("cause", cause)):
            if value is None:
                record.pop(key, None)
            else:
                record[key] = value
        self.store.put("execution", execution_arn, record, parent=record["stateMachineArn"])
        self._forget_tokens(execution_arn)
        return record

    def _append_after(self, execution_arn: str, event_type: str, details: Mapping[str, Any],
                      now: datetime, previous: int = 0) -> Record:
        writer = _EventWriter(self.store, execution_arn, None)
        history = self.store.events(execution_arn)
        writer.last_id = int(history[-1]["id"]) if history else 0
        return writer.append(event_type, details, now, previous)

    # ---- restart and redrive ----------------------------------------------------------

    def recover(self) -> None:
        """Resume every execution the store says is RUNNING (after a restart or a kill -9)."""
        self._deleting.update(m["stateMachineArn"] for m in self.store.list("state_machine")
                              if m.get("status") == "DELETING")
        for record in self.store.list("execution"):
            if record.get("status") != "RUNNING" or record["executionArn"] in self._running:
                continue
            try:
                self._recover_one(record)
            except Exception:  # one broken record must not keep the others from resuming
                log.exception("could not resume %s", record["executionArn"])
                self._append_after(record["executionArn"], "ExecutionFailed",
                                   {"error": "States.Runtime", "cause": "The execution could not be resumed."},
                                   self.clock.now())
                self._close(record, "FAILED", None, "States.Runtime", "The execution could not be resumed.")

    def _recover_one(self, record: Record) -> None:
        history = self.store.events(record["executionArn"])
        closing = _closing_event(history)
        if closing is not None:  # the process died between the last event and the record update
            status, output, error, cause = closing
            self._close(record, status, output, error, cause)
            return
        definition = self.definition_of(record)
        going_on = _asl_redrive().restart(json.loads(definition), history)
        resume: Resume | None
        if going_on is not None:  # inside a top-level Parallel/Map: keep the branches/iterations that ended
            plan = going_on.plan
            resume = Resume(plan.state, plan.input_text, going_on.keep_through + 1, 0, plan=plan,
                            continuing=(going_on.entered_id, going_on.started_id))
        else:
            resume = _resume_point(json.loads(definition), history, restart=True)
            seen = _asl_redrive().plan(json.loads(definition), history)
            if resume is not None and seen is not None and seen.state == resume.state and seen.variables:
                # the variables assigned before the re-entered state (its Parallel/Map runs again whole)
                kept = _asl_redrive().Plan(resume.state, resume.input_text, variables=seen.variables)
                resume = Resume(resume.state, resume.input_text, resume.next_id, resume.previous_id,
                                resume.wait_until, plan=kept)
        if resume is None:  # nothing after ExecutionStarted: start over, keeping event 1
            resume = Resume(_start_at(definition), record.get("input", "{}"), 2, 0)
        self.store.truncate_events(record["executionArn"], resume.next_id - 1)
        self._alias_tokens(record["executionArn"])
        self._spawn(record, definition, resume.input_text, resume)

    def redrive(self, record: Record) -> Record:
        """RedriveExecution: append ExecutionRedriven and re-enter the state that did not complete.

        AWS (RedriveExecution): the unsuccessful state is re-entered with the input it had; in an
        inline Map or a Parallel only the iterations/branches that failed or were aborted run
        again, each from the state where it stopped (engine.asl.redrive reads that from the history).
        """
        history = self.store.events(record["executionArn"])
        definition = self.definition_of(record)
        plan = _asl_redrive().plan(json.loads(definition), history)
        if plan is None:
            plan = _asl_redrive().Plan(_start_at(definition), record.get("input", "{}"))
        now = self.clock.now()
        count = int(record.get("redriveCount", 0)) + 1
        event = self._append_after(record["executionArn"], "ExecutionRedriven", {"redriveCount": count}, now)
        resume = Resume(plan.state, plan.input_text, int(event["id"]) + 1, int(event["id"]), redriven=True,
                        plan=plan)
        for key in ("stopDate", "error", "cause", "output"):
            record.pop(key, None)
        record.update(status="RUNNING", redriveCount=count, redriveDate=epoch(now))
        self.store.put("execution", record["executionArn"], record, parent=record["stateMachineArn"])
        for arn in _asl_redrive().map_runs(plan):  # AWS: the failed Map Run is redriven (DescribeMapRun)
            run = self.store.get("map_run", arn)
            if run is not None:
                run.pop("stopDate", None)
                run.update(status="RUNNING", redriveCount=int(run.get("redriveCount", 0)) + 1, redriveDate=epoch(now))
                self.store.put("map_run", arn, run, parent=record["executionArn"])
                self._map_runs[record["executionArn"]] = arn
        self._spawn(record, definition, resume.input_text, resume)
        return record

    # ---- task tokens -------------------------------------------------------------------

    def _new_waiter(self, execution_arn: str, ctx: TaskContext, activity_arn: str | None = None,
                    input_text: str | None = None) -> _Waiter:
        token = ctx.task_token or _new_token()
        waiter = _Waiter(token, execution_arn, activity_arn, input_text, heartbeat=ctx.heartbeat,
                         resource=activity_arn or ctx.resource)
        self._waiters[token] = waiter
        self.store.put("token", token, {"token": token, "executionArn": execution_arn, "status": "PENDING",
                                        "activityArn": activity_arn}, parent=execution_arn)
        pending = self._pending_alias.get(execution_arn)
        # after a restart, the n-th token the resumed run creates stands for the n-th one it had
        if pending:
            old = pending.pop(0)
            self._token_alias[old] = token
            self.store.put("token", old, {"token": old, "executionArn": execution_arn, "status": "ALIAS",
                                          "aliasOf": token}, parent=execution_arn)
        return waiter

    async def _await(self, waiter: _Waiter) -> JSON:
        try:
            await waiter.event.wait()
        except anyio.get_cancelled_exc_class():
            if not self._stopping:
                self._end_token(waiter.token, "TIMED_OUT")
            raise
        self._end_token(waiter.token, "DONE")
        assert waiter.outcome is not None
        kind, value = waiter.outcome
        if kind == "failure":
            raise to_states_error(TaskFailure(*value))
        return value

    async def wait_for_token(self, execution_arn: str, resource: str, payload: JSON, ctx: TaskContext) -> JSON:
        """``.waitForTaskToken``: call the integration (if one is registered), then wait for SendTask*."""
        waiter = self._new_waiter(execution_arn, ctx)
        target = resource if self.registry.registered(resource) else resource[: -len(".waitForTaskToken")]
        try:
            response = await self.integrations.invoke(target, payload, ctx)
        except NoHandler:  # nothing to call: the token is only sent back by whoever reads the history
            pass
        except BaseException:
            if not self._stopping:
                self._end_token(waiter.token, "DONE")
            raise
        else:
            if ctx.submitted is not None:
                ctx.submitted(response)
        return await self._await(waiter)

    async def wait_for_activity(self, execution_arn: str, activity_arn: str, payload: JSON,
                                ctx: TaskContext) -> JSON:
        """An activity Task: queue the input for GetActivityTask and wait for the worker's answer."""
        text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        waiter = self._new_waiter(execution_arn, ctx, activity_arn, text)
        self._queues.setdefault(activity_arn, deque()).append(waiter)
        self._signal(activity_arn)
        return await self._await(waiter)

    def _signal(self, activity_arn: str) -> None:
        event = self._queue_signals.pop(activity_arn, None)
        if event is not None:
            event.set()

    async def get_activity_task(self, activity_arn: str, worker_name: str | None = None) -> tuple[str, str] | None:
        """GetActivityTask: (token, input) of the oldest queued task, waiting up to the poll time."""
        with anyio.move_on_after(self.activity_poll_seconds):
            while True:
                queue = self._queues.get(activity_arn)
                while queue:
                    waiter = queue.popleft()
                    if waiter.token in self._waiters and waiter.outcome is None:
                        run = self._running.get(waiter.execution_arn)
                        if run is not None and run.writer is not None:
                            run.writer.activity_started(activity_arn, worker_name, self.clock.now())
                        return waiter.token, waiter.input_text or "{}"
                event = self._queue_signals.setdefault(activity_arn, anyio.Event())
                await event.wait()
        return None

    def resolve_token(self, token: str) -> _Waiter:
        """The waiter for a token; raises NotFound('task') / Conflict('TaskTimedOut')."""
        from engine.errors import Conflict
        token = self._token_alias.get(token, token)
        waiter = self._waiters.get(token)
        if waiter is not None and waiter.outcome is None:
            return waiter
        stored = self.store.get("token", token)
        if stored is None:
            raise NotFound("task", token)
        if stored.get("status") == "TIMED_OUT":  # AWS names the resource, e.g. the activity ARN
            raise Conflict("TaskTimedOut", f"Task Timed Out: '{stored.get('resource') or token}'")
        # AWS: a token whose task is over (answered, stopped) is reported as timed out too
        raise Conflict("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'")

    async def _resolve_soon(self, token: str, patience: float = 5.0) -> _Waiter:
        """resolve_token, waiting briefly while a just-resumed execution has not re-reached its task."""
        with anyio.move_on_after(patience):
            while True:
                try:
                    return self.resolve_token(token)
                except StatesimError:
                    stored = self.store.get("token", token)
                    resuming = stored is not None and stored.get("status") == "PENDING" and \
                        token in self._pending_alias.get(stored.get("executionArn", ""), [])
                    if not resuming:
                        raise
                await anyio.sleep(0.01)
        return self.resolve_token(token)

    async def send_success(self, token: str, output: JSON) -> None:
        """SendTaskSuccess."""
        waiter = await self._resolve_soon(token)
        waiter.outcome = ("success", output)
        waiter.event.set()

    async def send_failure(self, token: str, error: str | None, cause: str | None) -> None:
        """SendTaskFailure."""
        waiter = await self._resolve_soon(token)
        waiter.outcome = ("failure", (error or "", cause))
        waiter.event.set()

    async def send_heartbeat(self, token: str) -> None:
        """SendTaskHeartbeat: resets the task's HeartbeatSeconds timer."""
        waiter = await self._resolve_soon(token)
        if waiter.heartbeat is not None:
            result = waiter.heartbeat()
            if hasattr(result, "__await__"):
                await result

    def _end_token(self, token: str, status: str) -> None:
        waiter = self._waiters.pop(token, None)
        if waiter is None:
            return
        self.store.put("token", token, {"token": token, "executionArn": waiter.execution_arn, "status": status,
                                        "resource": waiter.resource}, parent=waiter.execution_arn)

    def _forget_tokens(self, execution_arn: str) -> None:
        for token in [t for t, w in self._waiters.items() if w.execution_arn == execution_arn]:
            if self._stopping:
                self._waiters.pop(token, None)
            else:
                self._end_token(token, "DONE")

    def _alias_tokens(self, execution_arn: str) -> None:
        old = [r["token"] for r in self.store.list("token", parent=execution_arn) if r.get("status") == "PENDING"]
        if old:
            self._pending_alias[execution_arn] = old


def _new_token() -> str:
    # AWS task tokens are long opaque strings; ours are 64 url-safe random bytes.
    return secrets.token_urlsafe(64)


def _start_at(definition: str) -> str:
    return str(json.loads(definition).get("StartAt", ""))


_CLOSING = {"ExecutionSucceeded": "SUCCEEDED", "ExecutionFailed": "FAILED", "ExecutionTimedOut": "TIMED_OUT",
            "ExecutionAborted": "ABORTED"}


def _closing_event(history: list[Record]) -> tuple[str, str | None, str | None, str | None] | None:
    if not history or history[-1]["type"] not in _CLOSING:
        return None
    last = history[-1]
    found = [v for k, v in last.items() if k.endswith("EventDetails") and isinstance(v, dict)]
    details: dict[str, Any] = found[0] if found else {}
    return _CLOSING[last["type"]], details.get("output"), details.get("error"), details.get("cause")


def _resume_point(raw: dict[str, Any], history: list[Record], *, restart: bool) -> Resume | None:
    """The last top-level state entered: re-enter it with the input it had then.

    Events inside a top-level Parallel or Map (whose states may share names with top-level
    ones) are skipped: the whole Parallel/Map is re-entered.
    """
    top = raw.get("States", {})
    last: Record | None = None
    inside: str | None = None
    for event in history:
        kind = event["type"]
        if inside is not None:
            exited = event.get("stateExitedEventDetails") or {}
            if kind in ("ParallelStateExited", "MapStateExited") and exited.get("name") == inside:
                inside = None
            continue
        details = event.get("stateEnteredEventDetails")
        if kind.endswith("StateEntered") and details and details.get("name") in top:
            last = event
            if kind in ("ParallelStateEntered", "MapStateEntered"):
                inside = details["name"]
    if last is None:
        return None
    details = last["stateEnteredEventDetails"]
    name = details["name"]
    spec = top[name]
    wait_until = None
    if restart and spec.get("Type") == "Wait" and isinstance(spec.get("Seconds"), (int, float)):
        wait_until = from_epoch(last["timestamp"]) + timedelta(seconds=spec["Seconds"])
    return Resume(name, details.get("input", "{}"), int(last["id"]), int(last.get("previousEventId", 0)),
                  wait_until)


def _resumable(definition: str, resume: Resume) -> dict[str, Any]:
    """The definition with a synthetic first state that jumps straight to ``resume.state``.

    Every state stays reachable (the Choice's Default is the original StartAt), so the
    definition passes the same checks; the synthetic state's events are never recorded.
    """
    raw = json.loads(definition)
    jsonata = raw.get("QueryLanguage") == "JSONata"
    rule: dict[str, Any] = {"Condition": "{% true %}"} if jsonata else {"Variable": "$", "IsPresent": True}
    rule["Next"] = resume.state
    states = dict(raw["States"])
    if resume.wait_until is not None:
        wait = {k: v for k, v in states[resume.state].items() if k != "Seconds"}
        wait["Timestamp"] = resume.wait_until.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        states[resume.state] = wait
    states[RESUME_STATE] = {"Type": "Choice", "Choices": [rule], "Default": raw["StartAt"]}
    return {**raw, "StartAt": RESUME_STATE, "States": states}


def new_execution_name() -> str:
    """AWS names unnamed executions with a UUID."""
    return str(uuid.uuid4())
