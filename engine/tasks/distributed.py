"""Distributed Map I/O: ItemReader (S3 JSON / JSONL / CSV objects, S3 listings) and ResultWriter.

S3 is reached through the execution's task registry (resources ``arn:aws:states:::s3:getObject``,
``s3:listObjectsV2``, ``s3:putObject``), so ``--s3-dir``, ``--aws-endpoint``, a registered
handler or a mock answers it, like any Task. Reader failures are ``States.ItemReaderFailed``,
writer failures ``States.ResultWriterFailed``.
"""
from __future__ import annotations

import csv
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
    """The items an ItemReader yields (``ReaderConfig.MaxItems`` applied)."""
    resource = str(reader.get("Resource", ""))
    params = renderer.render(reader, "ItemReader")
    config = reader.get("ReaderConfig") or {}
    failed = ErrorName.ITEM_READER_FAILED
    if resource.endswith(":s3:listObjectsV2"):
        listing = await _s3(registry, "listObjectsV2", params, ctx, failed)
        items: list[JSON] = list(listing.get("Contents") or []) if isinstance(listing, dict) else []
    elif resource.endswith(":s3:getObject"):
        body = await _s3(registry, "getObject", params, ctx, failed)
        text = body.get("Body", "") if isinstance(body, dict) else str(body)
        items = parse_items(text if isinstance(text, str) else json.dumps(text), config)
    else:
        raise StatesError(failed, f"ItemReader resource '{resource}' is not supported")
    limit = config.get("MaxItems")
    return items[:limit] if isinstance(limit, int) and limit > 0 else items


def parse_items(text: str, config: Mapping[str, Any]) -> list[JSON]:
    """An S3 object's items by ``ReaderConfig.InputType``: JSON (an array), JSONL, CSV."""
    kind = config.get("InputType", "JSON")
    failed = ErrorName.ITEM_READER_FAILED
    try:
        if kind == "JSON":
            items = json.loads(text)
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


def _csv_items(text: str, config: Mapping[str, Any]) -> list[JSON]:
    delimiter = _DELIMITERS.get(str(config.get("CSVDelimiter", "COMMA")), ",")
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if config.get("CSVHeaderLocation", "FIRST_ROW") == "GIVEN":
        headers = list(config.get("CSVHeaders") or [])
    else:
        headers, rows = (rows[0], rows[1:]) if rows else ([], [])
    items: list[JSON] = []
    for row in rows:
        if not row:
            continue
        if len(row) != len(headers):
            raise StatesError(ErrorName.ITEM_READER_FAILED,
                              f"The number of fields in a row ({len(row)}) does not match the headers ({len(headers)})")
        items.append(dict(zip(headers, row)))
    return items


def _execution_result(map_run_arn: str, index: int, item: JSON, output: JSON) -> dict[str, Any]:
    machine = map_run_arn.replace(":mapRun:", ":stateMachine:").rsplit(":", 1)[0]
    name = str(uuid.uuid4())
    return {"ExecutionArn": f"{machine.replace(':stateMachine:', ':execution:')}:{name}",
            "Input": json.dumps(item, separators=(",", ":"), ensure_ascii=False), "InputDetails": {"Included": True},
            "Name": name, "Output": json.dumps(output, separators=(",", ":"), ensure_ascii=False),
            "OutputDetails": {"Included": True}, "RedriveCount": 0, "RedriveStatus": "NOT_REDRIVABLE",
            "RedriveStatusReason": "Execution is SUCCEEDED and cannot be redriven", "StateMachineArn": machine,
            "Status": "SUCCEEDED"}


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
                        results: list[JSON], registry: TaskRegistry | None, ctx: TaskContext) -> JSON:
    """Apply the ResultWriter: with a Resource, write the results as AWS lays them out and return the
    ResultWriterDetails; with only a WriterConfig, return the formatted results (AWS's preview)."""
    config = writer.get("WriterConfig") or {}
    exporting = "Resource" in writer
    transformation = str(config.get("Transformation", "NONE" if exporting else "COMPACT"))
    entries = [_execution_result(map_run_arn, i, item, out) for i, (item, out) in enumerate(zip(items, results))] \
        if transformation == "NONE" else []
    records = _records(entries, results, transformation)
    if not exporting:
        return records
    params = renderer.render(writer, "ResultWriter")
    bucket, prefix = params.get("Bucket"), str(params.get("Prefix", "")).rstrip("/")
    run_id = map_run_arn.rsplit(":", 1)[1]
    folder = f"{prefix}/{run_id}" if prefix else run_id
    failed = ErrorName.RESULT_WRITER_FAILED
    output_type = str(config.get("OutputType", "JSON"))
    files = []
    for number, start in enumerate(range(0, max(len(records), 1), RESULTS_PER_FILE)):
        key = f"{folder}/SUCCEEDED_{number}.json"
        body = _encode(records[start:start + RESULTS_PER_FILE], output_type)
        await _s3(registry, "putObject", {"Bucket": bucket, "Key": key, "Body": body}, ctx, failed)
        files.append({"Key": key, "Size": len(body.encode())})
    manifest = {"DestinationBucket": bucket, "MapRunArn": map_run_arn,
                "ResultFiles": {"FAILED": [], "PENDING": [], "SUCCEEDED": files}}
    manifest_key = f"{folder}/manifest.json"
    await _s3(registry, "putObject", {"Bucket": bucket, "Key": manifest_key,
                                      "Body": json.dumps(manifest, separators=(",", ":"))}, ctx, failed)
    return {"MapRunArn": map_run_arn, "ResultWriterDetails": {"Bucket": bucket, "Key": manifest_key}}


__all__ = ["Renderer", "map_config", "parse_items", "read_items", "write_results"]
