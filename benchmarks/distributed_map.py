"""Distributed Map over a 10,000-line JSONL object read through ``--s3-dir``, with ResultWriter.

Runs a real ``statesim`` server (uvicorn, ephemeral port) whose S3 is a temporary directory,
starts the execution with boto3 and prints one JSON line per scenario: items, batch size,
wall seconds, items per second, and the ratio to the baseline measured first in the same run:
an inline Map over 2,000 items made in the state itself (10,000 could not run inline: AWS caps
the input at 256 KiB and the history at 25,000 events), with a Pass item processor of the same
output; the ratio compares items per second.
Asserts nothing.

    python -m benchmarks.distributed_map [--items 10000] [--batch 0] [--concurrency 1000]
"""
from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROLE = "arn:aws:iam::123456789012:role/bench"


def definition(batch: int, concurrency: int) -> dict[str, Any]:
    state: dict[str, Any] = {
        "Type": "Map", "MaxConcurrency": concurrency, "End": True,
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSONL"},
                       "Parameters": {"Bucket": "bench-in", "Key.$": "$.key"}},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"}, "StartAt": "Score",
                          "States": {"Score": {"Type": "Pass", "Parameters": {"score.$": "States.MathAdd(1, 2)"},
                                               "End": True}}},
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                         "Parameters": {"Bucket": "bench-out", "Prefix": "results"}},
    }
    if batch:
        state["ItemBatcher"] = {"MaxItemsPerBatch": batch}
    return {"StartAt": "Fan", "States": {"Fan": state}}


def inline_baseline(items: int, concurrency: int) -> dict[str, Any]:
    return {"QueryLanguage": "JSONata", "StartAt": "Fan", "States": {"Fan": {
        "Type": "Map", "MaxConcurrency": concurrency, "End": True, "Items": f"{{% [0..{items - 1}] %}}",
        "ItemProcessor": {"StartAt": "Score", "States": {"Score": {
            "Type": "Pass", "Output": {"score": "{% 1 + 2 %}"}, "End": True}}}}}}


def _run(sfn: Any, arn: str, input_text: str) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    execution = sfn.start_execution(stateMachineArn=arn, input=input_text)["executionArn"]
    while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        time.sleep(0.02)
    return described, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--batch", type=int, action="append", help="MaxItemsPerBatch (0 = none); repeatable")
    parser.add_argument("--concurrency", type=int, default=1000)
    args = parser.parse_args()
    import boto3
    import uvicorn
    from botocore.config import Config

    from api.app import create_app
    from api.server import listen
    from engine.runtime import Runtime
    from engine.store import MemoryStore

    root = Path(tempfile.mkdtemp(prefix="statesim-s3-"))
    (root / "bench-in").mkdir()
    (root / "bench-out").mkdir()
    lines = (json.dumps({"id": i, "name": f"item-{i}"}) for i in range(args.items))
    (root / "bench-in" / "items.jsonl").write_text("\n".join(lines) + "\n")
    runtime = Runtime(MemoryStore())
    runtime.integrations.configure(s3_dir=root)
    sock = listen("127.0.0.1", 0)  # TCP_NODELAY: no 40 ms delayed-ACK stall per boto3 call
    server = uvicorn.Server(uvicorn.Config(create_app(runtime), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    sfn = boto3.client("stepfunctions", endpoint_url=f"http://127.0.0.1:{sock.getsockname()[1]}",
                       region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test",
                       config=Config(inject_host_prefix=False))
    try:
        inline = min(args.items, 2000)
        arn = sfn.create_state_machine(name="bench-inline-map", roleArn=ROLE,
                                       definition=json.dumps(inline_baseline(inline, args.concurrency)))["stateMachineArn"]
        described, seconds = _run(sfn, arn, "{}")
        baseline = inline / seconds
        print(json.dumps({"scenario": "baseline_inline_map", "items": inline, "status": described["status"],
                          "seconds": round(seconds, 3), "items_per_second": round(baseline),
                          "x_baseline_items_per_second": 1.0}))
        for batch in args.batch or [0, 100]:
            arn = sfn.create_state_machine(name=f"bench-dmap-{batch}", roleArn=ROLE,
                                           definition=json.dumps(definition(batch, args.concurrency)))["stateMachineArn"]
            described, seconds = _run(sfn, arn, '{"key": "items.jsonl"}')
            output = json.loads(described.get("output") or "{}")
            written = output.get("ResultWriterDetails", {})
            manifest = json.loads((root / written["Bucket"] / written["Key"]).read_text()) if written else {}
            results = sum(len(json.loads((root / written["Bucket"] / f["Key"]).read_text()))
                          for f in manifest.get("ResultFiles", {}).get("SUCCEEDED", []))
            print(json.dumps({"scenario": "distributed_map_jsonl", "items": args.items, "batch": batch,
                              "status": described["status"], "children_written": results,
                              "seconds": round(seconds, 3), "items_per_second": round(args.items / seconds),
                              "x_baseline_items_per_second": round(args.items / seconds / baseline, 2)}))
    finally:
        server.should_exit = True
        thread.join(timeout=10)


if __name__ == "__main__":
    main()
