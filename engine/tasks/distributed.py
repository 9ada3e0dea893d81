"""Distributed Map I/O: ItemReader (S3 JSON / JSONL / CSV objects, S3 listings) and ResultWriter.

S3 is reached through the execution's task registry (resources ``arn:aws:states:::s3:getObject``,
``s3:listObjectsV2``, ``s3:putObject``), so ``--s3-dir``, ``--aws-endpoint``, a registered
handler or a mock answers it, like any Task. Reader failures are ``States.ItemReaderFailed``,
writer failures ``States.ResultWriterFailed``.
"""
from __future__ import annotations

import csv
import gzip
import io
import json
import math
import uuid
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.lowlevel

from engine.errors import ErrorName, StatesError
from engine.tasks.registry import TaskContext, TaskRegistry
from engine.types import JSON

_S3 = "arn:aws:states:::s3:"
_DELIMITERS = {"COMMA": ",", "PIPE": "|", "SEMICOLON": ";", "SPACE": " ", "TAB": "\t"}
RESULTS_PER_FILE = 10_000
MAX_ITEMS = 100_000_000


def _states(raw: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for name, state in (raw.get("States") or {}).items():
        yield name, state
        for branch in state.get("Branches") or ():
            yield from _states(branch)
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if isinstance(processor, Mapping):
            yield from _states(processor)


def map_state(definition: Mapping[str, Any], state_name: str) -> Mapping[str, Any] | None:
    """The raw definition of the state ``state_name`` (state names are unique in a machine)."""
    for name, state in _states(definition):
        if name == state_name:
            return state
    return None


def map_config(definition: Mapping[str, Any], state_name: str) -> tuple[Any, Any]:
    """(ItemReader, ResultWriter) of the Map state ``state_name``."""
    state = map_state(definition, state_name)
    return (state.get("ItemReader"), state.get("ResultWriter")) if state is not None else (None, None)


@dataclass(frozen=True, slots=True)
class Renderer:
    """Renders ItemReader/ResultWriter ``Parameters`` (JSONPath) or ``Arguments`` (JSONata) for one Map visit."""

    jsonata: bool
    entry: Any
    """The interpreter's Entry for the Map state."""
    value: JSON

    def render(self, config: Mapping[str, Any], what: str) -> dict[str, Any]:
        field = "Arguments" if self.jsonata else "Parameters"
        raw = config.get(field)
        if not isinstance(raw, dict):
            return {}
        if self.jsonata:
            from engine.asl import jsonata
            rendered = jsonata.compile_template(raw, field=f"{what}/{field}").render(
                self.entry.states(self.value), self.entry.frame.variables, now=self.entry.now())
        else:
            from engine.asl import paths
            rendered = paths.compile_template(raw, field=field).render(self.entry.scope(self.value))
        return dict(rendered) if isinstance(rendered, dict) else {}


async def _s3(registry: TaskRegistry | None, action: str, params: dict[str, Any], ctx: TaskContext,
              error: str) -> Any:
    if registry is None:
        raise StatesError(error, "No task registry to reach S3 with (run with engine.tasks.builtin.with_builtins).")
    try:
        return await registry.invoke(_S3 + action, params, ctx)
    except StatesError as exc:
        raise StatesError(error, f"{exc.error}: {exc.cause}" if exc.cause else exc.error) from None


async def read_items(reader: Mapping[str, Any], renderer: Renderer, registry: TaskRegistry | None,
                     ctx: TaskContext) -> list[JSON]:
    """The items an ItemReader yields (``ReaderConfig.MaxItems`` / ``MaxItemsPath`` applied).

    ``s3:getObject`` reads one object by ``ReaderConfig.InputType`` (JSON with an optional
    ``ItemsPointer``, JSONL, CSV, MANIFEST = an S3 inventory manifest.json) or ``ManifestType``
    (S3_INVENTORY; ATHENA_DATA = a CSV list of ``s3://`` data files of ``InputType``);
    ``s3:listObjectsV2`` yields the objects' metadata, or with ``Transformation``
    LOAD_AND_FLATTEN the items of every listed object.
    """
    resource = str(reader.get("Resource", ""))
    params = renderer.render(reader, "ItemReader")
    config = reader.get("ReaderConfig") or {}
    if not isinstance(config, Mapping):
        config = {}
    failed = ErrorName.ITEM_READER_FAILED
    limit = _max_items(config, renderer)
    if resource.endswith(":s3:listObjectsV2"):
        items: list[JSON] = []
        page = dict(params)
        while True:  # S3 answers 1,000 keys a page; Step Functions reads them all
            listing = await _s3(registry, "listObjectsV2", page, ctx, failed)
            if not isinstance(listing, dict):
                break
            items += list(listing.get("Contents") or [])
            token = listing.get("NextContinuationToken")
            if not listing.get("IsTruncated") or not token or (limit and len(items) >= limit):
                break
            page = {**params, "ContinuationToken": token}
        if config.get("Transformation") == "LOAD_AND_FLATTEN":
            bucket, loaded = params.get("Bucket"), []
            for entry in items:
                key = entry.get("Key") if isinstance(entry, dict) else None
                if not isinstance(key, str) or key.endswith("/"):
                    continue  # "folder" objects have no data
                loaded += parse_items(await _get_text(registry, ctx, {"Bucket": bucket, "Key": key}), config)
                if limit and len(loaded) >= limit:
                    break
            items = loaded
    elif resource.endswith(":s3:getObject"):
        text = await _get_text(registry, ctx, params)
        manifest = config.get("ManifestType")
        if manifest == "S3_INVENTORY" or (manifest is None and config.get("InputType") == "MANIFEST"):
            items = await _inventory_items(text, config, registry, ctx, limit)
        elif manifest == "ATHENA_DATA":
            items = await _athena_items(text, config, registry, ctx, limit)
        elif manifest is not None:
            raise StatesError(failed, f"ManifestType '{manifest}' is not supported")
        else:
            items = parse_items(text, config)
    else:
        raise StatesError(failed, f"ItemReader resource '{resource}' is not supported")
    return items[:limit] if limit else items


def _max_items(config: Mapping[str, Any], renderer: Renderer) -> int:
    """``MaxItems`` (a number, or a JSONata expression) or ``MaxItemsPath``; 0 = no limit."""
    value: Any = config.get("MaxItems")
    where = "MaxItems"
    if isinstance(value, str) and renderer.jsonata:
        from engine.asl import jsonata
        value = jsonata.compile_template({"MaxItems": value}, field="ItemReader/ReaderConfig").render(
            renderer.entry.states(renderer.value), renderer.entry.frame.variables,
            now=renderer.entry.now())["MaxItems"]
    elif "MaxItemsPath" in config:
        from engine.asl import paths
        where = "MaxItemsPath"
        text = str(config["MaxItemsPath"])
        try:
            value = paths.compile_path(text).get(renderer.entry.scope(renderer.value))
        except paths.PathNotFound:
            raise StatesError(ErrorName.RUNTIME, f"Invalid path '{text}' : No results for path: "
                                                 f"{text}") from None
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value) or value < 0:
        raise StatesError(ErrorName.RUNTIME, f"The {where} field refers to value \"{value}\" which is not a "
                                             f"valid non-negative integer")
    return min(int(value), MAX_ITEMS)


async def _get_text(registry: TaskRegistry | None, ctx: TaskContext, params: Mapping[str, Any]) -> str:
    """An object's text (gzip-compressed objects are inflated, as AWS's reader does)."""
    body = await _s3(registry, "getObject", dict(params), ctx, ErrorName.ITEM_READER_FAILED)
    data = body.get("Body", "") if isinstance(body, dict) else body
    if isinstance(data, (bytes, bytearray)):
        raw = bytes(data)
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        return raw.decode("utf-8", errors="replace")
    return data if isinstance(data, str) else json.dumps(data)


def _bucket_name(value: Any) -> Any:
    """``arn:aws:s3:::name`` -> ``name`` (inventory manifests name their destination bucket by ARN)."""
    return value.rsplit(":", 1)[1] if isinstance(value, str) and value.startswith("arn:") else value


async def _inventory_items(text: str, config: Mapping[str, Any], registry: TaskRegistry | None,
                           ctx: TaskContext, limit: int) -> list[JSON]:
    """An S3 inventory ``manifest.json``: the rows of its CSV data files, keyed by its ``fileSchema``."""
    failed = ErrorName.ITEM_READER_FAILED
    try:
        manifest = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StatesError(failed, f"Invalid S3 inventory manifest: {exc}") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
        raise StatesError(failed, "Invalid S3 inventory manifest: it has no 'files' list")
    if str(manifest.get("fileFormat", "CSV")).upper() != "CSV":
        raise StatesError(failed, f"S3 inventory fileFormat '{manifest.get('fileFormat')}' is not supported; "
                                  "the inventory report must be CSV")
    headers = [h.strip() for h in str(manifest.get("fileSchema", "")).split(",") if h.strip()]
    csv_config = {"CSVHeaderLocation": "GIVEN", "CSVHeaders": headers,
                  "CSVDelimiter": config.get("CSVDelimiter", "COMMA")}
    if "CSVHeaderLocation" in config:  # the definition's own header choice wins over the fileSchema
        csv_config |= {"CSVHeaderLocation": config["CSVHeaderLocation"], "CSVHeaders": config.get("CSVHeaders")}
    bucket = _bucket_name(manifest.get("destinationBucket"))
    items: list[JSON] = []
    for entry in manifest["files"]:
        key = entry.get("key") if isinstance(entry, dict) else None
        if not isinstance(key, str):
            raise StatesError(failed, "Invalid S3 inventory manifest: a file has no 'key'")
        items += _csv_items(await _get_text(registry, ctx, {"Bucket": bucket, "Key": key}), csv_config)
        if limit and len(items) >= limit:
            break
    return items


async def _athena_items(text: str, config: Mapping[str, Any], registry: TaskRegistry | None,
                        ctx: TaskContext, limit: int) -> list[JSON]:
    """An Athena UNLOAD manifest (one ``s3://bucket/key`` per line): the items of each data file."""
    items: list[JSON] = []
    for line in text.splitlines():
        uri = line.strip().strip('"')
        if not uri:
            continue
        if not uri.startswith("s3://") or "/" not in uri[5:]:
            raise StatesError(ErrorName.ITEM_READER_FAILED, f"Invalid data file location in the manifest: {uri}")
        bucket, key = uri[5:].split("/", 1)
        items += parse_items(await _get_text(registry, ctx, {"Bucket": bucket, "Key": key}), config)
        if limit and len(items) >= limit:
            break
    return items


def parse_items(text: str, config: Mapping[str, Any]) -> list[JSON]:
    """An S3 object's items by ``ReaderConfig.InputType``: JSON (an array, or the array ``ItemsPointer`` selects), JSONL, CSV."""
    kind = config.get("InputType", "JSON")
    failed = ErrorName.ITEM_READER_FAILED
    try:
        if kind == "JSON":
            items = json.loads(text)
            pointer = config.get("ItemsPointer")
            if pointer:
                items = _pointer(items, str(pointer))
            if not isinstance(items, list):
                raise StatesError(failed, "Attempting to map over non-iterable node.")
            return items
        if kind == "JSONL":
            return [json.loads(line) for line in text.splitlines() if line.strip()]
    except json.JSONDecodeError as exc:
        raise StatesError(failed, f"Invalid JSON in the item source: {exc}") from None
    if kind == "CSV":
        return _csv_items(text, config)
    raise StatesError(failed, f"InputType '{kind}' is not supported")


def _pointer(document: JSON, pointer: str) -> JSON:
    """RFC 6901 JSON Pointer (``/inventory/products/featured``)."""
    if pointer in ("", "/"):
        return document
    node = document
    for raw in pointer.lstrip("/").split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise StatesError(ErrorName.ITEM_READER_FAILED,
                              f"The ItemsPointer '{pointer}' does not point to a node of the JSON file")
    return node


def _csv_items(text: str, config: Mapping[str, Any]) -> list[JSON]:
    """Rows as objects: fields are strings, a short row gets empty strings, a long row's extra fields are
    skipped; quotes may wrap delimiters and newlines, "" and backslash escape (AWS's CSV rules)."""
    delimiter = _DELIMITERS.get(str(config.get("CSVDelimiter", "COMMA")), ",")
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, escapechar="\\", doublequote=True,
                      strict=False)
    try:
        parsed = [row for row in rows if row]
    except csv.Error as exc:
        raise StatesError(ErrorName.ITEM_READER_FAILED, f"Invalid CSV in the item source: {exc}") from None
    if config.get("CSVHeaderLocation", "FIRST_ROW") == "GIVEN":
        headers = [str(h) for h in config.get("CSVHeaders") or []]
    else:
        headers, parsed = (parsed[0], parsed[1:]) if parsed else ([], [])
    if not headers:
        raise StatesError(ErrorName.ITEM_READER_FAILED, "The CSV header is empty")
    width = len(headers)
    return [dict(zip(headers, row[:width] + [""] * (width - len(row)))) for row in parsed]


def _execution_result(map_run_arn: str, item: JSON, output: JSON = None, error: StatesError | None = None,
                      status: str | None = None, execution_type: str = "STANDARD") -> dict[str, Any]:
    """One child execution as AWS exports it (Transformation NONE): a SUCCEEDED one with its Output, a
    FAILED / ABORTED one with its Error and Cause, a PENDING one (never started: the Map Run failed
    first) with only its Input.

    An unsuccessful child is ``REDRIVABLE``; an EXPRESS one ``REDRIVABLE_BY_MAP_RUN`` (AWS: failed
    EXPRESS children can be redriven only as part of their Map Run).
    """
    status = status or ("SUCCEEDED" if error is None else "FAILED")
    if status == "PENDING":
        return {"Input": _dumps(item), "InputDetails": {"Included": True}, "Status": "PENDING"}
    machine = map_run_arn.replace(":mapRun:", ":stateMachine:").rsplit(":", 1)[0]
    name = str(uuid.uuid4())
    record: dict[str, Any] = {
        "ExecutionArn": f"{machine.replace(':stateMachine:', ':execution:')}:{name}",
        "Input": _dumps(item), "InputDetails": {"Included": True}, "Name": name}
    if status == "SUCCEEDED":
        record |= {"Output": _dumps(output), "OutputDetails": {"Included": True}, "RedriveCount": 0,
                   "RedriveStatus": "NOT_REDRIVABLE",
                   "RedriveStatusReason": "Execution is SUCCEEDED and cannot be redriven",
                   "StateMachineArn": machine, "Status": "SUCCEEDED"}
        return record
    if error is not None:
        record |= {"Error": error.error} | ({"Cause": error.cause} if error.cause is not None else {})
    redrive = "REDRIVABLE_BY_MAP_RUN" if execution_type == "EXPRESS" else "REDRIVABLE"
    return record | {"RedriveCount": 0, "RedriveStatus": redrive, "StateMachineArn": machine, "Status": status}


def _dumps(value: JSON) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _records(entries: list[dict[str, Any]], results: list[JSON], transformation: str) -> list[JSON]:
    """WriterConfig.Transformation: NONE (results with execution metadata), COMPACT, FLATTEN."""
    if transformation == "COMPACT":
        return list(results)
    if transformation == "FLATTEN":
        flat: list[JSON] = []
        for result in results:
            flat.extend(result if isinstance(result, list) else [result])
        return flat
    return list(entries)


def _encode(records: list[JSON], output_type: str) -> str:
    if output_type == "JSONL":
        return "".join(json.dumps(r, separators=(",", ":"), ensure_ascii=False) + "\n" for r in records)
    return json.dumps(records, separators=(",", ":"), ensure_ascii=False)


def _statuses(map_run_arn: str, count: int, errors: Mapping[int, StatesError]) -> tuple[list[str], Any]:
    """Each child's final status: from the live Map Run when there is one, else from ``errors``."""
    progress = LIVE.get(map_run_arn)
    if progress is not None and len(progress.status) == count:
        return list(progress.status), progress
    return ["FAILED" if i in errors else "SUCCEEDED" for i in range(count)], None


async def write_results(writer: Mapping[str, Any], renderer: Renderer, map_run_arn: str, items: list[JSON],
                        results: list[JSON], registry: TaskRegistry | None, ctx: TaskContext,
                        errors: Mapping[int, StatesError] | None = None) -> JSON:
    """Apply the ResultWriter: with a Resource, write the results as AWS lays them out and return the
    ResultWriterDetails; with only a WriterConfig, return the formatted results (AWS's preview).

    ``errors`` are the failures by item index. AWS exports executions with the same status to
    their own files (SUCCEEDED_n.json; FAILED_n.json also holding aborted and timed-out children;
    PENDING_n.json for the children a failed Map Run never started), and "if a child workflow
    execution fails, Step Functions returns its execution result unchanged", as if the
    Transformation were NONE. The engine also calls this when the Map Run fails, before
    ``MapRunFailed``, so a failed run's results are in S3 too.
    """
    errors = errors or {}
    config = writer.get("WriterConfig") or {}
    exporting = "Resource" in writer
    transformation = str(config.get("Transformation", "NONE" if exporting else "COMPACT"))
    statuses, progress = _statuses(map_run_arn, len(items), errors)
    execution_type = progress.execution_type if progress is not None else "STANDARD"

    def formatted(indexes: list[int]) -> list[JSON]:
        entries = [_execution_result(map_run_arn, items[i], results[i], execution_type=execution_type)
                   for i in indexes] if transformation == "NONE" else []
        return _records(entries, [results[i] for i in indexes], transformation)

    def unsuccessful(index: int) -> dict[str, Any]:
        return _execution_result(map_run_arn, items[index], error=errors.get(index), status=statuses[index],
                                 execution_type=execution_type)

    if not exporting:  # the preview keeps item order, a failed item as its NONE record
        records: list[JSON] = []
        for index in range(len(items)):
            records += formatted([index]) if statuses[index] == "SUCCEEDED" else [unsuccessful(index)]
        return records
    params = renderer.render(writer, "ResultWriter")
    bucket, prefix = params.get("Bucket"), str(params.get("Prefix", "")).rstrip("/")
    run_id = map_run_arn.rsplit(":", 1)[1]
    folder = f"{prefix}/{run_id}" if prefix else run_id
    output_type = str(config.get("OutputType", "JSON"))
    done = [i for i, s in enumerate(statuses) if s == "SUCCEEDED"]
    failed_indexes = [i for i, s in enumerate(statuses) if s not in ("SUCCEEDED", "PENDING")]
    pending_indexes = [i for i, s in enumerate(statuses) if s == "PENDING"]
    succeeded = formatted(done)
    failed = [unsuccessful(i) for i in failed_indexes]
    pending = [unsuccessful(i) for i in pending_indexes]
    files = {"FAILED": await _put_files(registry, ctx, bucket, f"{folder}/FAILED", failed, output_type, False),
             "PENDING": await _put_files(registry, ctx, bucket, f"{folder}/PENDING", pending, output_type, False),
             "SUCCEEDED": await _put_files(registry, ctx, bucket, f"{folder}/SUCCEEDED", succeeded, output_type,
                                           True)}
    manifest = {"DestinationBucket": bucket, "MapRunArn": map_run_arn, "ResultFiles": files}
    manifest_key = f"{folder}/manifest.json"
    await _s3(registry, "putObject", {"Bucket": bucket, "Key": manifest_key,
                                      "Body": json.dumps(manifest, separators=(",", ":"))}, ctx,
              ErrorName.RESULT_WRITER_FAILED)
    if progress is not None:
        written = done + failed_indexes
        progress.results_written = (len(written), sum(progress.weights[i] for i in written))
    return {"MapRunArn": map_run_arn, "ResultWriterDetails": {"Bucket": bucket, "Key": manifest_key}}


async def _put_files(registry: TaskRegistry | None, ctx: TaskContext, bucket: Any, stem: str, records: list[JSON],
                     output_type: str, even_empty: bool) -> list[dict[str, Any]]:
    """Write ``<stem>_0.json``, ``<stem>_1.json``... (RESULTS_PER_FILE records each); the manifest's entries."""
    files = []
    for number, start in enumerate(range(0, max(len(records), 1 if even_empty else 0), RESULTS_PER_FILE)):
        key = f"{stem}_{number}.json"
        body = _encode(records[start:start + RESULTS_PER_FILE], output_type)
        await _s3(registry, "putObject", {"Bucket": bucket, "Key": key, "Body": body}, ctx,
                  ErrorName.RESULT_WRITER_FAILED)
        files.append({"Key": key, "Size": len(body.encode())})
    return files


# ---- the Map Run while it runs ------------------------------------------------------------------

LIVE: weakref.WeakValueDictionary[str, MapRunProgress] = weakref.WeakValueDictionary()
"""Running Map Runs by ARN (DescribeMapRun's live counts, UpdateMapRun)."""

_ITERATION_END = {"MapIterationSucceeded": "SUCCEEDED", "MapIterationFailed": "FAILED",
                  "MapIterationAborted": "ABORTED"}
_COUNTED = ("PENDING", "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


class MapRunProgress:
    """One Map Run while it runs: each child execution's status (DescribeMapRun's ``itemCounts`` and
    ``executionCounts``), what the ResultWriter wrote, and the settings UpdateMapRun changes
    (``maxConcurrency``, ``toleratedFailureCount`` / ``toleratedFailurePercentage``), which the
    run follows from the next child on.

    The engine creates one before ``MapRunStarted``, passes :meth:`observe` to the children's event
    sink and lets :meth:`attach` gate the children's runs by the concurrency.
    """

    def __init__(self, arn: str, state: Any, children: list[JSON], entry: Any, value: JSON,
                 max_concurrency: int, tolerated: int, definition: Mapping[str, Any] | None = None) -> None:
        self.arn = arn
        self.processor = getattr(state, "processor", None)
        batched = getattr(state, "item_batcher", None) is not None
        self.weights = [len(c.get("Items") or []) if batched and isinstance(c, dict) else 1 for c in children]
        self.status = ["PENDING"] * len(children)
        self.max_concurrency = max(int(max_concurrency or 0), 0)
        self.tolerated_count, self.tolerated_percentage = _tolerance_settings(state, entry, value, tolerated)
        raw = map_state(definition or {}, getattr(state, "name", "")) or {}
        processor = raw.get("ItemProcessor") or raw.get("Iterator") or {}
        self.execution_type = str((processor.get("ProcessorConfig") or {}).get("ExecutionType", "STANDARD"))
        self.results_written = (0, 0)
        """(child executions, items) the ResultWriter wrote."""
        self._runner: Any = None
        self._started: dict[int, int] = {}  # MapIterationStarted event id -> index
        self._limiter: anyio.CapacityLimiter | None = None
        LIVE[arn] = self

    # -- engine side --

    @property
    def runner(self) -> Any:
        """The engine's iteration runner (its ``tolerated`` follows UpdateMapRun)."""
        return self._runner

    @runner.setter
    def runner(self, runner: Any) -> None:
        self._runner = runner
        kept = getattr(getattr(runner, "redriven", None), "done", None) or {}
        for index in kept:  # a redriven Map Run: the children that succeeded before are not run again
            if isinstance(index, int) and 0 <= index < len(self.status):
                self.status[index] = "SUCCEEDED"

    def observe(self, event: Mapping[str, Any]) -> None:
        """The children's events (the Distributed Map's event sink)."""
        kind = event.get("type")
        details = event.get(f"{str(kind)[0].lower()}{str(kind)[1:]}EventDetails") or {}
        index = details.get("index")
        if not isinstance(index, int) or not 0 <= index < len(self.status):
            return
        if kind == "MapIterationStarted":
            self._started[int(event["id"])] = index
        elif kind == "MapIterationAborted":
            if self.status[index] == "RUNNING":  # a child still waiting for a slot stays PENDING
                self.status[index] = "ABORTED"
        elif kind in _ITERATION_END:
            self.status[index] = _ITERATION_END[str(kind)]

    def attach(self, execution: Any) -> None:
        """Run ``execution``'s Map children through a concurrency gate UpdateMapRun can widen or narrow."""
        run = execution.run_machine
        progress = self

        async def gated(frame: Any, machine: Any, *args: Any, **kwargs: Any) -> Any:
            index = progress._started.pop(getattr(frame, "last", -1), None)
            if machine is not progress.processor or index is None:
                return await run(frame, machine, *args, **kwargs)
            limiter = progress._gate()
            token = object()
            await limiter.acquire_on_behalf_of(token)
            try:
                await anyio.lowlevel.checkpoint()  # a run that failed meanwhile cancels this child unstarted
                progress.status[index] = "RUNNING"
                return await run(frame, machine, *args, **kwargs)
            except anyio.get_cancelled_exc_class():
                if progress.status[index] == "RUNNING":
                    progress.status[index] = "ABORTED"
                raise
            finally:
                limiter.release_on_behalf_of(token)

        execution.run_machine = gated

    def _gate(self) -> anyio.CapacityLimiter:
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.max_concurrency or math.inf)
        return self._limiter

    def tolerated(self) -> int:
        """How many failed children the run tolerates (the larger of the count and the percentage)."""
        limits = [self.tolerated_count] if self.tolerated_count else []
        if self.tolerated_percentage:
            limits.append(math.floor(sum(self.weights) * self.tolerated_percentage / 100.0))
        return max(limits) if limits else 0

    # -- API side --

    def update(self, max_concurrency: int | None = None, tolerated_count: int | None = None,
               tolerated_percentage: float | None = None) -> None:
        """UpdateMapRun: takes effect for the children not started yet and the next failure."""
        if max_concurrency is not None:
            self.max_concurrency = max(int(max_concurrency), 0)
            if self._limiter is not None:
                self._limiter.total_tokens = self.max_concurrency or math.inf
        if tolerated_count is not None:
            self.tolerated_count = int(tolerated_count)
        if tolerated_percentage is not None:
            self.tolerated_percentage = float(tolerated_percentage)
        if self.runner is not None and (tolerated_count is not None or tolerated_percentage is not None):
            self.runner.tolerated = self.tolerated()

    def counts(self) -> tuple[dict[str, int], dict[str, int]]:
        """(itemCounts, executionCounts) as DescribeMapRun reports them."""
        executions = dict.fromkeys(_COUNTED, 0)
        items = dict.fromkeys(_COUNTED, 0)
        for status, weight in zip(self.status, self.weights):
            executions[status] += 1
            items[status] += weight
        written_executions, written_items = self.results_written
        return _shaped(items, written_items), _shaped(executions, written_executions)

    def settings(self) -> dict[str, Any]:
        return {"maxConcurrency": self.max_concurrency, "toleratedFailureCount": self.tolerated_count,
                "toleratedFailurePercentage": float(self.tolerated_percentage)}


def _shaped(counts: dict[str, int], written: int) -> dict[str, int]:
    return {"pending": counts["PENDING"], "running": counts["RUNNING"], "succeeded": counts["SUCCEEDED"],
            "failed": counts["FAILED"], "timedOut": counts["TIMED_OUT"], "aborted": counts["ABORTED"],
            "total": sum(counts.values()), "resultsWritten": written, "failuresNotRedrivable": 0,
            "pendingRedrive": 0}


def _tolerance_settings(state: Any, entry: Any, value: JSON, tolerated: int) -> tuple[int, float]:
    """The Map's ToleratedFailureCount and ToleratedFailurePercentage as DescribeMapRun shows them."""
    if entry is None:
        return tolerated, 0.0
    from engine.asl._branches import _integer  # the engine's own resolution (literal, path or JSONata)
    try:
        count = _integer(state, state.tolerated_failure_count, state.tolerated_failure_count_path, value, entry,
                         "ToleratedFailureCount", "integer")
        percentage = _integer(state, state.tolerated_failure_percentage, state.tolerated_failure_percentage_path,
                              value, entry, "ToleratedFailurePercentage", "float")
    except StatesError:
        return tolerated, 0.0
    return int(count or 0), float(percentage or 0.0)


__all__ = ["LIVE", "MapRunProgress", "Renderer", "map_config", "map_state", "parse_items", "read_items",
           "write_results"]
