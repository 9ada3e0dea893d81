"""Distributed Map through boto3 against a real server whose S3 is a local directory (--s3-dir):
a 10,000-line JSONL ItemReader, ItemBatcher, ResultWriter, tolerated failures, map-run records."""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
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


peak = {"now": 0, "max": 0}


@registry.task("arn:aws:lambda:*:*:function:slow")
async def slow(event: Any) -> Any:
    """Takes a while; counts how many run at once; fails for ids divisible by 10 when asked to."""
    peak["now"] += 1
    peak["max"] = max(peak["max"], peak["now"])
    try:
        await anyio.sleep(0.05)
    finally:
        peak["now"] -= 1
    if event.get("fail") and event["id"] % 10 == 0:
        raise ValueError(f"bad item {event['id']}")
    return event["id"]


def start(sfn: Any, name: str, state: dict[str, Any], payload: Any) -> str:
    definition = {"StartAt": "Fan", "States": {"Fan": {"Type": "Map", "End": True, **state}}}
    arn = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)["stateMachineArn"]
    return str(sfn.start_execution(stateMachineArn=arn, input=json.dumps(payload))["executionArn"])


def map_run(sfn: Any, execution: str) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        runs = sfn.list_map_runs(executionArn=execution)["mapRuns"]
        if runs:
            return str(runs[0]["mapRunArn"])
        time.sleep(0.01)
    raise AssertionError("no map run")


def slow_map(tolerated: int = 0, fail: bool = False, **extra: Any) -> dict[str, Any]:
    return {"MaxConcurrency": 1, "ToleratedFailureCount": tolerated, **extra,
            "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                           "Parameters": {"Bucket": "in", "Key": "small.json"}},
            "ItemSelector": {"id.$": "$$.Map.Item.Value.id", "fail": fail},
            "ItemProcessor": processor({"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:slow"})}


def counts(**given: int) -> dict[str, int]:
    base = dict.fromkeys(("pending", "running", "succeeded", "failed", "timedOut", "aborted", "resultsWritten",
                          "failuresNotRedrivable", "pendingRedrive"), 0)
    return base | given


def test_counts_with_tolerated_failures_batches_and_results_written(sfn: Any) -> None:
    described, execution = run(sfn, "counted", {
        "ToleratedFailureCount": 2,
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "Parameters": {"Bucket": "in", "Key": "small.json"}},
        "ItemProcessor": processor({"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:check"}),
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "out", "Prefix": "c"}}},
        {})
    assert described["status"] == "SUCCEEDED"
    record = sfn.describe_map_run(mapRunArn=json.loads(described["output"])["MapRunArn"])
    assert record["itemCounts"] == counts(succeeded=18, failed=2, total=20, resultsWritten=20)
    assert record["executionCounts"] == record["itemCounts"]
    assert (record["toleratedFailureCount"], record["toleratedFailurePercentage"], record["maxConcurrency"]) == (
        2, 0.0, 0)
    batched, execution = run(sfn, "counted-batches", {
        "MaxConcurrency": 3, "ToleratedFailurePercentage": 25,
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "Parameters": {"Bucket": "in", "Key": "small.json"}},
        "ItemBatcher": {"MaxItemsPerBatch": 6},
        "ItemProcessor": processor({"Type": "Pass"})}, {})
    [listed] = sfn.list_map_runs(executionArn=execution)["mapRuns"]
    record = sfn.describe_map_run(mapRunArn=listed["mapRunArn"])
    assert record["itemCounts"] == counts(succeeded=20, total=20)
    assert record["executionCounts"] == counts(succeeded=4, total=4)
    assert (record["maxConcurrency"], record["toleratedFailurePercentage"]) == (3, 25.0)


def test_failed_map_run_writes_its_results(sfn: Any, s3: Path) -> None:
    # one at a time, item 10 fails, nothing is tolerated: 9 succeeded, 1 failed, 10 never started
    execution = start(sfn, "fails-midway", slow_map(fail=True, ResultWriter={
        "Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "out", "Prefix": "failed"}}), {})
    described = wait_for(sfn, execution, timeout=30)
    assert (described["status"], described["error"]) == ("FAILED", "States.ExceedToleratedFailureThreshold")
    arn = map_run(sfn, execution)
    record = sfn.describe_map_run(mapRunArn=arn)
    assert record["status"] == "FAILED"
    assert record["itemCounts"] == counts(succeeded=9, failed=1, pending=10, total=20, resultsWritten=10)
    manifest = json.loads((s3 / "out" / "failed" / arn.rsplit(":", 1)[1] / "manifest.json").read_text())
    files = {status: [e for f in entries for e in json.loads((s3 / "out" / f["Key"]).read_text())]
             for status, entries in manifest["ResultFiles"].items()}
    assert [len(files[s]) for s in ("SUCCEEDED", "FAILED", "PENDING")] == [9, 1, 10]
    [failed] = files["FAILED"]
    assert (failed["Status"], failed["Error"], failed["RedriveStatus"]) == (
        "FAILED", "ValueError", "REDRIVABLE_BY_MAP_RUN")  # EXPRESS children are redriven by their Map Run
    assert files["PENDING"][0] == {"Input": '{"id":11,"fail":true}', "InputDetails": {"Included": True},
                                   "Status": "PENDING"}
    events = [e["type"] for e in sfn.get_execution_history(executionArn=execution)["events"]]
    assert "MapRunFailed" in events


def test_update_map_run_changes_a_running_run(sfn: Any) -> None:
    peak.update(now=0, max=0)
    execution = start(sfn, "widened", slow_map(), {})
    arn = map_run(sfn, execution)
    live = sfn.describe_map_run(mapRunArn=arn)
    assert live["status"] == "RUNNING" and live["executionCounts"]["total"] == 20
    assert live["executionCounts"]["running"] <= 1 and live["maxConcurrency"] == 1
    sfn.update_map_run(mapRunArn=arn, maxConcurrency=4, toleratedFailureCount=3)
    assert wait_for(sfn, execution, timeout=30)["status"] == "SUCCEEDED"
    assert 1 < peak["max"] <= 4
    done = sfn.describe_map_run(mapRunArn=arn)
    assert (done["maxConcurrency"], done["toleratedFailureCount"]) == (4, 3)
    assert done["executionCounts"] == counts(succeeded=20, total=20)


def test_update_map_run_tolerates_more_failures(sfn: Any) -> None:
    execution = start(sfn, "tolerant-later", slow_map(fail=True), {})
    arn = map_run(sfn, execution)
    sfn.update_map_run(mapRunArn=arn, toleratedFailureCount=2)
    described = wait_for(sfn, execution, timeout=30)
    assert described["status"] == "SUCCEEDED", described.get("cause")
    assert sfn.describe_map_run(mapRunArn=arn)["executionCounts"] == counts(succeeded=18, failed=2, total=20)


def test_stopping_the_execution_aborts_its_map_run(sfn: Any) -> None:
    execution = start(sfn, "stopped-run", slow_map(), {})
    arn = map_run(sfn, execution)
    sfn.stop_execution(executionArn=execution, error="Enough")
    deadline = time.monotonic() + 10
    while (record := sfn.describe_map_run(mapRunArn=arn))["status"] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert record["status"] == "ABORTED" and "stopDate" in record
    executions = record["executionCounts"]
    assert executions["running"] == 0 and executions["total"] == 20
    assert executions["aborted"] <= 1 and executions["succeeded"] + executions["aborted"] + executions["pending"] == 20


def test_update_map_run_percentage_range(sfn: Any) -> None:
    _, execution = run(sfn, "ranged", {"ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                                                      "Parameters": {"Bucket": "in", "Key": "small.json"}},
                                       "ItemProcessor": processor({"Type": "Pass"})}, {})
    arn = map_run(sfn, execution)
    with pytest.raises(sfn.exceptions.ValidationException) as caught:
        sfn.update_map_run(mapRunArn=arn, toleratedFailurePercentage=101)
    assert caught.value.response["Error"]["Message"] == (
        "1 validation error detected: Value '101.0' at 'toleratedFailurePercentage' failed to satisfy constraint: "
        "Member must have value less than or equal to 100")
    sfn.update_map_run(mapRunArn=arn, toleratedFailurePercentage=50)
    assert sfn.describe_map_run(mapRunArn=arn)["toleratedFailurePercentage"] == 50.0


attempts: dict[int, int] = {}


@registry.task("arn:aws:lambda:*:*:function:flaky")
def flaky(event: Any) -> Any:
    """Items 10 and 20 fail the first time only."""
    attempts[event["id"]] = attempts.get(event["id"], 0) + 1
    if event["id"] % 10 == 0 and attempts[event["id"]] == 1:
        raise ValueError(f"bad item {event['id']}")
    return event["id"]


def test_redriven_map_run_counts(sfn: Any) -> None:
    attempts.clear()
    execution = start(sfn, "redriven-counts", {
        "MaxConcurrency": 1, "ToleratedFailureCount": 1,
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "Parameters": {"Bucket": "in", "Key": "small.json"}},
        "ItemProcessor": processor({"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:flaky"})},
        {})
    assert wait_for(sfn, execution, timeout=30)["status"] == "FAILED"
    arn = map_run(sfn, execution)
    first = sfn.describe_map_run(mapRunArn=arn)
    assert (first["status"], first["executionCounts"]) == ("FAILED", counts(succeeded=18, failed=2, total=20))
    sfn.redrive_execution(executionArn=execution)
    assert wait_for(sfn, execution, timeout=30)["status"] == "SUCCEEDED"
    again = sfn.describe_map_run(mapRunArn=arn)
    assert (again["status"], again["redriveCount"]) == ("SUCCEEDED", 1)
    assert again["itemCounts"] == counts(succeeded=20, total=20)
    assert sum(attempts.values()) == 22  # only the two failed children ran again
