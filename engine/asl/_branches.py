"""Parallel and Map: child frames in an anyio task group, with AWS's branch/iteration events.

Event numbering (AWS, from the recorded cases): an iteration's MapIterationSucceeded/Failed
points at the iteration's last event but does not move the Map's cursor; the next
MapIterationStarted points at the previous iteration's last event; MapStateSucceeded and
MapStateExited both point at the last completion event (MapIterationSucceeded or MapRunSucceeded);
since late 2024 a Distributed Map's MapStateExited points at MapRunStarted (engine.asl.compat).
"""
from __future__ import annotations

import math
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import anyio

from engine.asl import compat, inputs, jsonata, paths, redrive
from engine.asl import context as context_object
from engine.asl.model import DOLLAR, ItemBatcher, Map, Parallel, State
from engine.asl.states import (
    Entry,
    Failure,
    Frame,
    Outcome,
    effective_input,
    jsonata_output,
    jsonpath_output,
    unwrap_group,
)
from engine.errors import ErrorName, StatesError
from engine.history import History, HistoryLimitExceeded
from engine.tasks import distributed
from engine.tasks.registry import TaskContext
from engine.types import JSON

if TYPE_CHECKING:
    from engine.asl.interpreter import Execution


def _input(state: State, value: JSON, entry: Entry) -> JSON:
    if state.jsonata:
        if state.arguments is not None:
            return state.arguments.render(entry.states(value), entry.frame.variables, now=entry.now())
        return value
    return effective_input(state, value, entry)


def _finish(state: State, raw_input: JSON, results: list[JSON], texts: list[str | None],
            entry: Entry, next_state: str | None) -> Outcome:
    """ResultSelector/ResultPath/OutputPath (or Output) over the collected results."""
    if state.jsonata:
        output, assigned = jsonata_output(state, entry.states(raw_input, result=results), results, entry)
    else:
        result: JSON = results
        if state.result_selector is not None:
            result = state.result_selector.render(entry.scope(results))
        output, assigned = jsonpath_output(state, raw_input, result, entry)
    text = None
    if output is results and all(t is not None for t in texts):
        text = "[" + ",".join(texts) + "]"  # type: ignore[arg-type]
    return Outcome(next_state, output, text, assigned)


async def run_parallel(frame: Frame, state: Parallel, value: JSON, text: str | None, entry: Entry) -> Outcome:
    ex = frame.ex
    redriven = ex.redriven.pop(entry, None)
    branch_input = _input(state, value, entry)
    branch_text = text if branch_input is value else paths.dumps(branch_input)
    started = ex.history.add("ParallelStateStarted", frame.last)
    frame.last = started
    count = len(state.branches)
    results: list[JSON] = [None] * count
    texts: list[str | None] = [None] * count
    completion = [started]
    failure: list[tuple[StatesError, int]] = []
    todo = list(range(count))
    if redriven is not None:  # a redrive: branches that succeeded keep their results, AWS runs the others
        for index, done in redriven.done.items():
            if 0 <= index < count:
                results[index], texts[index] = inputs.parse_execution_input(done), done
        todo = [i for i in todo if i not in redriven.done]

    def plan(index: int) -> Any:
        return redriven.resume.get(index) if redriven is not None else None

    if not any(state.branches[i].may_block for i in todo):
        for index in todo:
            branch = state.branches[index]
            child = frame.child(started)
            try:
                results[index], texts[index] = await ex.run_machine(child, branch, branch_input, branch_text,
                                                                    plan(index), True)
            except HistoryLimitExceeded:
                raise
            except StatesError as err:
                # AWS runs branches concurrently: branches that cannot suspend all finish
                _branch_failed(frame, err, child)
                failure.append((err, child.last))
                continue
            completion[0] = child.last
    else:
        await _run_branches(frame, state, branch_input, branch_text, started, results, texts, completion, failure,
                            todo, plan)
    if failure:
        first, last = failure[0]
        frame.last = last
        raise Failure(getattr(first, "raw_error", first.error), first.cause, state_event="ParallelStateFailed")
    ex.history.add("ParallelStateSucceeded", completion[0])
    frame.last = completion[0]
    return _finish(state, value, results, texts, entry, state.next)


async def _run_branches(frame: Frame, state: Parallel, branch_input: JSON, branch_text: str | None, started: int,
                        results: list[JSON], texts: list[str | None], completion: list[int],
                        failure: list[tuple[StatesError, int]], todo: list[int],
                        plan: Callable[[int], Any]) -> None:
    ex = frame.ex
    async with unwrap_group(), anyio.create_task_group() as group:
        for index in todo:
            branch = state.branches[index]

            async def one(index: int = index, branch: Any = branch) -> None:
                child = frame.child(started)
                try:
                    results[index], texts[index] = await ex.run_machine(child, branch, branch_input, branch_text,
                                                                        plan(index), True)
                except HistoryLimitExceeded:
                    raise
                except StatesError as err:
                    _branch_failed(frame, err, child)
                    if not failure:
                        failure.append((err, child.last))
                        group.cancel_scope.cancel()
                    return
                except anyio.get_cancelled_exc_class():
                    if failure:
                        _aborted(frame, child, failure[0][1])
                    raise
                completion[0] = child.last
            group.start_soon(one)


def _branch_failed(frame: Frame, err: StatesError, child: Frame) -> None:
    """AWS: the failed Task of a branch is written as aborted (prev: the branch's last event)."""
    event = getattr(err, "abort_event", None)
    if event is not None:
        frame.ex.history.add(event, child.last)


def _aborted(frame: Frame, child: Frame, cursor: int) -> None:
    """A sibling cancelled because another branch failed: ``<Type>StateAborted`` for its state."""
    state = child.current
    if state is not None and state.type in ("Task", "Wait", "Map", "Parallel"):
        frame.ex.history.add(state.type + "StateAborted", cursor)


# --------------------------------------------------------------------------- Map


def _items(state: Map, value: JSON, entry: Entry) -> tuple[JSON, list[JSON]]:
    """(effective input, items); AWS's errors for a non-array."""
    if state.jsonata:
        if state.items is not None:
            items = state.items.render(entry.states(value), entry.frame.variables, now=entry.now()) \
                if hasattr(state.items, "render") else state.items
            if not isinstance(items, list):
                expr = getattr(getattr(state.items, "payload", None), "expression", None)
                if expr is not None:
                    raise _with_event(expr.type_error("Items", "array", items))
                raise _with_event(StatesError(ErrorName.QUERY_EVALUATION_ERROR,
                                              f"Map state input must be an array but was: {paths.dumps(items)}"))
            return value, items
        if not isinstance(value, list):
            raise _with_event(StatesError(ErrorName.QUERY_EVALUATION_ERROR,
                                          f"Map state input must be an array but was: {paths.dumps(value)}"))
        return value, value
    path = state.input_path
    effective = value
    if path is not DOLLAR:
        effective = {} if path is None else paths.input_path(path, entry.scope(value))
    items_path = state.items_path
    items = effective
    if items_path is not DOLLAR and items_path is not None:
        items = paths.input_path(items_path, entry.scope(effective))
    if not isinstance(items, list):
        raise StatesError(ErrorName.RUNTIME, f"Map state input must be an array but was: {paths.dumps(items)}")
    return effective, items


def _numeric_text(text: str, kind: str) -> Any:
    try:
        return int(text.strip()) if kind == "integer" else float(text.strip())
    except ValueError:
        return text


def _with_event(err: StatesError) -> StatesError:
    err.state_event = "MapStateFailed"  # type: ignore[attr-defined]
    return err


def _integer(state: Map, literal: Any, path: Any, value: JSON, entry: Entry, name: str, kind: str) -> Any:
    """MaxConcurrency / ToleratedFailureCount / ToleratedFailurePercentage from literal, JSONata or path."""
    if path is not None:
        found = paths.input_path(path, entry.scope(value))
        if isinstance(found, str):
            # AWS reads a numeric string too ("1" from a variable works; "NoNumber" fails)
            found = _numeric_text(found, kind)
        ok = (isinstance(found, int) and not isinstance(found, bool)) if kind == "integer" else (
            isinstance(found, (int, float)) and not isinstance(found, bool))
        if not ok:
            shown = found if isinstance(found, str) else paths.dumps(found)
            raise StatesError(ErrorName.RUNTIME, f"The {name}Path field refers to value \"{shown}\" which is "
                                                 f"not a valid {kind}: {path.text}")
        return found
    if hasattr(literal, "render"):
        return literal.render(entry.states(value), entry.frame.variables, now=entry.now())
    return literal


async def run_map(frame: Frame, state: Map, value: JSON, text: str | None, entry: Entry) -> Outcome:
    ex = frame.ex
    max_concurrency = _integer(state, state.max_concurrency, state.max_concurrency_path, value, entry,
                               "MaxConcurrency", "integer") or 0
    reader = distributed.map_config(ex.machine.definition, state.name)[0] if state.distributed else None
    if reader is not None:  # Distributed Map ItemReader (engine.tasks.distributed)
        io = distributed.Renderer(state.jsonata, entry, value)
        effective, items = value, await distributed.read_items(reader, io, ex.registry, _io_context(ex, state))
    else:
        effective, items = _items(state, value, entry)
    started = ex.history.add("MapStateStarted", frame.last, "mapStateStartedEventDetails", {"length": len(items)})
    frame.last = started
    tolerated = _tolerance(state, value, entry, len(items))
    selected = [_select(state, effective, item, index, entry) for index, item in enumerate(items)]
    if state.distributed:
        if state.item_batcher is not None:
            selected = _batches(state, state.item_batcher, value, selected, entry)
        return await _run_distributed(frame, state, value, selected, entry, max_concurrency, tolerated,
                                      ex.redriven.pop(entry, None))
    runner = _IterationRunner(frame, state, selected, max_concurrency, tolerated, started,
                              ex.redriven.pop(entry, None))
    await runner.run()
    if runner.failure is not None:
        err = runner.failure
        frame.last = runner.cursor
        raise Failure(getattr(err, "raw_error", err.error), err.cause, state_event="MapStateFailed")
    ex.history.add("MapStateSucceeded", runner.completion)
    frame.last = runner.completion
    return _finish(state, value, runner.results, runner.texts, entry, state.next)


def _batches(state: Map, batcher: ItemBatcher, value: JSON, items: list[JSON], entry: Entry) -> list[JSON]:
    """Group items as the ItemBatcher says: ``{"BatchInput": ..., "Items": [...]}`` per child."""
    max_items = _integer(state, batcher.max_items, batcher.max_items_path, value, entry, "MaxItemsPerBatch",
                         "integer")
    max_bytes = _integer(state, batcher.max_bytes, batcher.max_bytes_path, value, entry, "MaxInputBytesPerBatch",
                         "integer")
    batch_input = None
    if batcher.batch_input is not None:
        if state.jsonata:
            batch_input = batcher.batch_input.render(entry.states(value), entry.frame.variables, now=entry.now())
        else:
            batch_input = batcher.batch_input.render(entry.scope(value))
    batches: list[list[JSON]] = []
    size = 0
    for item in items:
        item_size = len(paths.dumps(item).encode()) if max_bytes else 0
        full = batches and ((max_items and len(batches[-1]) >= max_items) or (max_bytes and size + item_size > max_bytes))
        if not batches or full:
            batches.append([])
            size = 0
        batches[-1].append(item)
        size += item_size
    shaped: list[JSON] = []
    for batch in batches:
        body: dict[str, JSON] = {} if batch_input is None else {"BatchInput": batch_input}
        body["Items"] = batch
        shaped.append(body)
    return shaped


def _select(state: Map, effective: JSON, item: JSON, index: int, entry: Entry) -> JSON:
    selector = state.item_selector
    if selector is None:
        return item
    ex = entry.frame.ex
    context = context_object.build(ex.execution_part, ex.machine_part, state.name, entry.time,
                                   entry.retry_count if state.retry else None, map_item=(index, item))
    if state.jsonata:
        return selector.render({"input": effective, "context": context}, entry.frame.variables, now=entry.now())
    return selector.render(paths.Scope(effective, context, entry.frame.variables))


def _tolerance(state: Map, value: JSON, entry: Entry, total: int) -> int:
    """How many failed iterations the Map tolerates."""
    count = _integer(state, state.tolerated_failure_count, state.tolerated_failure_count_path, value, entry,
                     "ToleratedFailureCount", "integer")
    percentage = _integer(state, state.tolerated_failure_percentage, state.tolerated_failure_percentage_path,
                          value, entry, "ToleratedFailurePercentage", "float")
    if count is not None and count < 0:
        raise StatesError(ErrorName.RUNTIME, "ToleratedFailureCount cannot be negative.")
    if percentage is not None and not 0 <= percentage <= 100:
        raise StatesError(ErrorName.RUNTIME, "ToleratedFailurePercentage must be between 0 and 100.")
    limits = []
    if count is not None:
        limits.append(int(count))
    if percentage is not None:
        limits.append(math.floor(total * float(percentage) / 100.0))
    return max(limits) if limits else 0


_INLINE_CONCURRENCY = 40


class _IterationRunner:
    """Runs the iterations of one inline Map visit, writing the iteration events."""

    def __init__(self, frame: Frame, state: Map, items: list[JSON], max_concurrency: int,
                 tolerated: int, started: int, redriven: Any = None) -> None:
        self.frame = frame
        self.state = state
        self.items = items
        # AWS: an inline Map runs at most 40 iterations at a time (MaxConcurrency 0 = "as many as possible")
        default = _INLINE_CONCURRENCY if not state.distributed else len(items)
        self.limit = max_concurrency if max_concurrency and max_concurrency > 0 else min(len(items), default) or 1
        self.tolerated = tolerated
        self.cursor = started
        self.completion = started
        self.results: list[JSON] = [None] * len(items)
        self.texts: list[str | None] = [None] * len(items)
        self.failed = 0
        self.errors: dict[int, StatesError] = {}  # by item index, for a Distributed Map's ResultWriter
        self.failure: StatesError | None = None
        self.redriven = redriven
        """A redrive (engine.asl.redrive.Inner): iterations that succeeded are kept, not run again."""
        self.todo = list(range(len(items)))
        if redriven is not None:
            for index, done in redriven.done.items():
                if 0 <= index < len(items):
                    self.results[index], self.texts[index] = inputs.parse_execution_input(done), done
            self.todo = [i for i in self.todo if i not in redriven.done]

    async def run(self) -> None:
        if not self.todo:
            return
        if self.limit == 1 or len(self.todo) == 1 or not self.state.processor.may_block:  # type: ignore[union-attr]
            # one at a time: no child tasks needed (an iteration that cannot suspend runs to its end
            # anyway, so running them in turn gives the same events, in one of AWS's orders)
            for index in self.todo:
                if not await self._iterate(index):
                    return
            return
        slots = anyio.Semaphore(self.limit)
        async with unwrap_group(), anyio.create_task_group() as group:
            self.group = group
            for index in self.todo:
                try:
                    slots.acquire_nowait()  # no yield: the first batch starts together, as on AWS
                except anyio.WouldBlock:
                    await slots.acquire()
                if self.failure is not None:
                    slots.release()
                    break
                # AWS: an iteration is started (its event written) as soon as a slot is free
                started = self._started(index)
                group.start_soon(self._one, index, started, slots)

    def _started(self, index: int) -> int:
        return self.frame.ex.history.add("MapIterationStarted", self.cursor, "mapIterationStartedEventDetails",
                                         {"index": index, "name": self.state.name})

    async def _one(self, index: int, started: int, slots: anyio.Semaphore) -> None:
        try:
            if not await self._iterate(index, started):
                self.group.cancel_scope.cancel()
        finally:
            slots.release()

    async def _iterate(self, index: int, started: int | None = None) -> bool:
        """Run one iteration; False once the Map has failed."""
        history = self.frame.ex.history
        name = self.state.name
        if started is None:
            started = self._started(index)
        child = self.frame.child(started)
        plan = self.redriven.resume.get(index) if self.redriven is not None else None
        try:
            self.results[index], self.texts[index] = await self.frame.ex.run_machine(
                child, self.state.processor, self.items[index], None, plan, True)  # type: ignore[arg-type]
        except HistoryLimitExceeded:
            raise
        except StatesError as err:
            history.add("MapIterationFailed", child.last, "mapIterationFailedEventDetails",
                        {"index": index, "name": name})
            _branch_failed(self.frame, err, child)
            self.cursor = child.last
            self.failed += 1
            self.errors[index] = err
            if self.failed > self.tolerated and self.failure is None:
                self.failure = err if self.tolerated == 0 else StatesError(
                    ErrorName.EXCEED_TOLERATED_FAILURE_THRESHOLD,
                    "The specified tolerated failure threshold was exceeded")
            return self.failure is None
        except anyio.get_cancelled_exc_class():
            if self.failure is not None:
                history.add("MapIterationAborted", self.cursor, "mapIterationAbortedEventDetails",
                            {"index": index, "name": name})
                _aborted(self.frame, child, self.cursor)
            raise
        self.completion = history.add("MapIterationSucceeded", child.last, "mapIterationSucceededEventDetails",
                                      {"index": index, "name": name})
        self.cursor = child.last
        return True


async def _run_distributed(frame: Frame, state: Map, value: JSON, items: list[JSON], entry: Entry,
                           max_concurrency: int, tolerated: int, redriven: Any = None) -> Outcome:
    """DISTRIBUTED mode: iterations run as child executions whose events stay out of this history.

    A redrive (``redriven`` with the Map Run's ARN) redrives that Map Run, as AWS does: the same
    ARN, ``MapRunRedriven`` instead of ``MapRunStarted``, only the children that did not succeed
    run again (those known to this process: engine.asl.redrive.map_run_results).
    """
    from engine.asl.interpreter import Execution

    ex = frame.ex
    info = ex.info
    run_id = str(uuid.uuid4())
    label = state.label or str(uuid.uuid4())[:8]
    machine_arn = info.state_machine_arn
    map_run_arn = machine_arn.replace(":stateMachine:", ":mapRun:") + f"/{label}:{run_id}"
    history = ex.history
    kept = None
    if redriven is not None and redriven.map_run_arn:
        map_run_arn = redriven.map_run_arn
        kept = redrive.Inner(done=redrive.map_run_results(map_run_arn))
    # the run's live counts and the settings UpdateMapRun changes (engine.tasks.distributed)
    progress = distributed.MapRunProgress(map_run_arn, state, items, entry, value, max_concurrency, tolerated,
                                          ex.machine.definition)
    if kept is None:
        run_started = history.add("MapRunStarted", frame.last, "mapRunStartedEventDetails",
                                  {"mapRunArn": map_run_arn})
    else:
        run_started = history.add("MapRunRedriven", frame.last, "mapRunRedrivenEventDetails",
                                  {"mapRunArn": map_run_arn, "redriveCount": redriven.map_run_redrives + 1})
    # the child runs' events are not part of this history (AWS keeps them per child execution)
    sink = History(ex.clock, progress.observe, limit=2**62, keep=False)
    child_ex = Execution(ex.machine, info, ex.registry, ex.clock, sink, ex.execution_part["Input"], ex.changes)
    progress.attach(child_ex)  # MaxConcurrency applies there, so UpdateMapRun can change it
    child_frame = Frame(child_ex, 0, frame.variables)
    runner = progress.runner = _IterationRunner(child_frame, state, items, 0, tolerated, 0, kept)
    await runner.run()
    if runner.failure is not None:
        redrive.keep_map_run_results(map_run_arn, {
            i: text for i, text in enumerate(runner.texts) if text is not None and i not in runner.errors})
        err = runner.failure
        details: dict[str, Any] = {}
        if runner.failed > tolerated:
            err = StatesError(ErrorName.EXCEED_TOLERATED_FAILURE_THRESHOLD,
                              "The specified tolerated failure threshold was exceeded")
        details["error"] = err.error
        if err.cause is not None:
            details["cause"] = err.cause
        writer = distributed.map_config(ex.machine.definition, state.name)[1]
        if isinstance(writer, dict) and "Resource" in writer:  # AWS exports a failed run's results too
            await distributed.write_results(writer, distributed.Renderer(state.jsonata, entry, value), map_run_arn,
                                            items, runner.results, ex.registry, _io_context(ex, state), runner.errors)
        frame.last = history.add("MapRunFailed", run_started, "mapRunFailedEventDetails", details)
        raise Failure(err.error, err.cause, state_event="MapStateFailed")
    writer = distributed.map_config(ex.machine.definition, state.name)[1]
    if writer is not None:  # Distributed Map ResultWriter: the Map's result is where it wrote
        io = distributed.Renderer(state.jsonata, entry, value)
        details = await distributed.write_results(writer, io, map_run_arn, items, runner.results, ex.registry,
                                                  _io_context(ex, state), runner.errors)
    done = history.add("MapRunSucceeded", run_started)
    history.add("MapStateSucceeded", done)
    frame.last = run_started if compat.MAP_STATE_EXITED_AFTER_MAP_RUN_STARTED in ex.changes else done
    if writer is not None:
        return _finish(state, value, details, [None], entry, state.next)  # type: ignore[arg-type]
    return _finish(state, value, runner.results, runner.texts, entry, state.next)


def _io_context(ex: Execution, state: Map) -> TaskContext:
    """The TaskContext for the S3 calls a Distributed Map makes itself."""
    return TaskContext(resource="arn:aws:states:::s3", execution_arn=ex.info.execution_arn, clock=ex.clock)


Runner = Callable[[], Awaitable[None]]
