"""Distributed Map through boto3 against a real server whose S3 is a local directory (--s3-dir):
a 10,000-line JSONL ItemReader, ItemBatcher, ResultWriter, tolerated failures, map-run records."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.runtime import Runtime
from engine.store import MemoryStore
from engine.tasks.registry import TaskRegistry
from tests.api.conftest import ROLE, Server, make_client, wait_for

registry = TaskRegistry()


@registry.task("arn:aws:lambda:*:*:function:check")
def check(event: Any) -> Any:
    if event["id"] % 10 == 0:
        raise ValueError(f"bad item {event['id']}")
    return event["id"]


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("s3")
    (root / "in").mkdir()
    (root / "out").mkdir()
    (root / "in" / "items.jsonl").write_text("".join(json.dumps({"id": i}) + "\n" for i in range(10_000)))
    (root / "in" / "small.json").write_text(json.dumps([{"id": i} for i in range(1, 21)]))
    return root


@pytest.fixture(scope="module")
def sfn(s3: Path) -> Iterator[Any]:
    runtime = Runtime(MemoryStore(), registry=registry)
    runtime.integrations.configure(s3_dir=s3)
    with Server(runtime) as server:
        yield make_client(server.endpoint)


def processor(resource_state: dict[str, Any]) -> dict[str, Any]:
    return {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"}, "StartAt": "S",
            "States": {"S": {**resource_state, "End": True}}}


def run(sfn: Any, name: str, state: dict[str, Any], payload: Any) -> tuple[dict[str, Any], str]:
    definition = {"StartAt": "Fan", "States": {"Fan": {"Type": "Map", "End": True, **state}}}
    arn = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps(payload))["executionArn"]
    return wait_for(sfn, execution, timeout=60), execution


def test_ten_thousand_jsonl_lines_with_result_writer(sfn: Any, s3: Path) -> None:
    described, execution = run(sfn, "jsonl-10k", {
        "Label": "Fan", "MaxConcurrency": 1000,
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSONL"},
                       "Parameters": {"Bucket.$": "$.bucket", "Key": "items.jsonl"}},
        "ItemProcessor": processor({"Type": "Pass", "Parameters": {"double.$": "States.MathAdd($.id, $.id)"}}),
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                         "Parameters": {"Bucket": "out", "Prefix": "runs"}}}, {"bucket": "in"})
    assert described["status"] == "SUCCEEDED"
    output = json.loads(described["output"])
    manifest = json.loads((s3 / "out" / output["ResultWriterDetails"]["Key"]).read_text())
    assert manifest["MapRunArn"] == output["MapRunArn"]
    entries = [e for f in manifest["ResultFiles"]["SUCCEEDED"] for e in json.loads((s3 / "out" / f["Key"]).read_text())]
    assert len(entries) == 10_000
    assert sum(json.loads(e["Output"])["double"] for e in entries) == 2 * sum(range(10_000))
    events = sfn.get_execution_history(executionArn=execution)["events"]
    started = next(e for e in events if e["type"] == "MapStateStarted")
    assert started["mapStateStartedEventDetails"]["length"] == 10_000
    assert [e["type"] for e in events if e["type"].startswith("MapRun")] == ["MapRunStarted", "MapRunSucceeded"]
    [listed] = sfn.list_map_runs(executionArn=execution)["mapRuns"]
    assert listed["mapRunArn"] == output["MapRunArn"]
    assert sfn.describe_map_run(mapRunArn=output["MapRunArn"])["status"] == "SUCCEEDED"


def test_batches_and_tolerated_failures(sfn: Any) -> None:
    described, _ = run(sfn, "json-batches", {
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "Parameters": {"Bucket": "in", "Key": "small.json"}},
        "ItemBatcher": {"MaxItemsPerBatch": 5, "BatchInput": {"tag": "b"}},
        "ItemProcessor": processor({"Type": "Pass", "Parameters": {"n.$": "States.ArrayLength($.Items)",
                                                                   "tag.$": "$.BatchInput.tag"}})}, {})
    assert json.loads(described["output"]) == [{"n": 5, "tag": "b"}] * 4
    tolerated, _ = run(sfn, "json-tolerated", {
        "ToleratedFailureCount": 2,
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "Parameters": {"Bucket": "in", "Key": "small.json"}},
        "ItemProcessor": processor({"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:check"})},
        {})
    assert tolerated["status"] == "SUCCEEDED"
    exceeded, _ = run(sfn, "json-exceeded", {
        "ToleratedFailureCount": 1,
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "Parameters": {"Bucket": "in", "Key": "small.json"}},
        "ItemProcessor": processor({"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:check"})},
        {})
    assert (exceeded["status"], exceeded["error"]) == ("FAILED", "States.ExceedToleratedFailureThreshold")


def test_missing_bucket(sfn: Any) -> None:
    described, _ = run(sfn, "no-bucket", {
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "Parameters": {"Bucket": "nope", "Key": "k"}},
        "ItemProcessor": processor({"Type": "Pass"})}, {})
    assert (described["error"], described["cause"]) == (
        "States.ItemReaderFailed", "S3.NoSuchBucketException: The specified bucket does not exist (Bucket: nope)")
