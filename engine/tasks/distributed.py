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
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

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


def map_config(definition: Mapping[str, Any], state_name: str) -> tuple[Any, Any]:
    """(ItemReader, ResultWriter) of the Map state ``state_name`` (state names are unique in a machine)."""
    for name, state in _states(definition):
        if name == state_name:
            return state.get("ItemReader"), state.get("ResultWriter")
    return None, None


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
        listing = await _s3(registry, "listObjectsV2", params, ctx, failed)
        items: list[JSON] = list(listing.get("Contents") or []) if isinstance(listing, dict) else []
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


def _execution_result(map_run_arn: str, item: JSON, output: JSON = None,
                      error: StatesError | None = None) -> dict[str, Any]:
    """One child execution as AWS exports it (Transformation NONE): a SUCCEEDED one with its
    Output, a FAILED one with its Error and Cause."""
    machine = map_run_arn.replace(":mapRun:", ":stateMachine:").rsplit(":", 1)[0]
    name = str(uuid.uuid4())
    record: dict[str, Any] = {
        "ExecutionArn": f"{machine.replace(':stateMachine:', ':execution:')}:{name}",
        "Input": _dumps(item), "InputDetails": {"Included": True}, "Name": name}
    if error is None:
        record |= {"Output": _dumps(output), "OutputDetails": {"Included": True}, "RedriveCount": 0,
                   "RedriveStatus": "NOT_REDRIVABLE",
                   "RedriveStatusReason": "Execution is SUCCEEDED and cannot be redriven",
                   "StateMachineArn": machine, "Status": "SUCCEEDED"}
        return record
    record |= {"Error": error.error} | ({"Cause": error.cause} if error.cause is not None else {})
    return record | {"RedriveCount": 0, "RedriveStatus": "REDRIVABLE", "StateMachineArn": machine,
                     "Status": "FAILED"}


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


async def write_results(writer: Mapping[str, Any], renderer: Renderer, map_run_arn: str, items: list[JSON],
                        results: list[JSON], registry: TaskRegistry | None, ctx: TaskContext,
                        errors: Mapping[int, StatesError] | None = None) -> JSON:
    """Apply the ResultWriter: with a Resource, write the results as AWS lays them out and return the
    ResultWriterDetails; with only a WriterConfig, return the formatted results (AWS's preview).

    ``errors`` are the tolerated failures by item index. AWS exports executions with the same
    status to their own files (SUCCEEDED_n.json, FAILED_n.json), and "if a child workflow
    execution fails, Step Functions returns its execution result unchanged", as if the
    Transformation were NONE.
    """
    errors = errors or {}
    config = writer.get("WriterConfig") or {}
    exporting = "Resource" in writer
    transformation = str(config.get("Transformation", "NONE" if exporting else "COMPACT"))

    def formatted(indexes: list[int]) -> list[JSON]:
        entries = [_execution_result(map_run_arn, items[i], results[i]) for i in indexes] \
            if transformation == "NONE" else []
        return _records(entries, [results[i] for i in indexes], transformation)

    if not exporting:  # the preview keeps item order, a failed item as its NONE record
        records: list[JSON] = []
        for index in range(len(items)):
            records += [_execution_result(map_run_arn, items[index], error=errors[index])] if index in errors \
                else formatted([index])
        return records
    params = renderer.render(writer, "ResultWriter")
    bucket, prefix = params.get("Bucket"), str(params.get("Prefix", "")).rstrip("/")
    run_id = map_run_arn.rsplit(":", 1)[1]
    folder = f"{prefix}/{run_id}" if prefix else run_id
    output_type = str(config.get("OutputType", "JSON"))
    succeeded = formatted([i for i in range(len(items)) if i not in errors])
    failed = [_execution_result(map_run_arn, items[i], error=errors[i]) for i in sorted(errors)]
    files = {"FAILED": await _put_files(registry, ctx, bucket, f"{folder}/FAILED", failed, output_type, False),
             "PENDING": [],
             "SUCCEEDED": await _put_files(registry, ctx, bucket, f"{folder}/SUCCEEDED", succeeded, output_type, True)}
    manifest = {"DestinationBucket": bucket, "MapRunArn": map_run_arn, "ResultFiles": files}
    manifest_key = f"{folder}/manifest.json"
    await _s3(registry, "putObject", {"Bucket": bucket, "Key": manifest_key,
                                      "Body": json.dumps(manifest, separators=(",", ":"))}, ctx,
              ErrorName.RESULT_WRITER_FAILED)
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


__all__ = ["Renderer", "map_config", "parse_items", "read_items", "write_results"]
