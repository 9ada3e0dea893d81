"""Bedrock Flows: InvokeFlow latency over HTTP (10-node flow) and Iterator throughput (1,000 items).

``python -m benchmarks.bench_flows [--runs N]`` starts statesim on an ephemeral port, deploys the
two flows of ``definitions/flows/`` with mocked model answers, and prints one JSON line per
scenario (latency percentiles in ms; items per second). Asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from benchmarks.flows_conformance import ROLE, clients, serving

DEFINITIONS = Path(__file__).resolve().parent.parent / "definitions" / "flows"


def _deploy(agent: Any, name: str) -> str:
    definition = json.loads((DEFINITIONS / f"{name}.json").read_text())
    flow = agent.create_flow(name=name, executionRoleArn=ROLE, definition=definition)
    agent.prepare_flow(flowIdentifier=flow["id"])
    return str(flow["id"])


def _invoke(runtime: Any, flow_id: str, document: Any) -> list[dict[str, Any]]:
    response = runtime.invoke_flow(flowIdentifier=flow_id, flowAliasIdentifier="TSTALIASID",
                                   inputs=[{"content": {"document": document}, "nodeName": "FlowInput",
                                            "nodeOutputName": "document"}])
    return list(response["responseStream"])


def latency(runtime: Any, flow_id: str, runs: int) -> dict[str, Any]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        _invoke(runtime, flow_id, "How do flows run?")
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {"scenario": "invoke_flow_10_nodes_http", "runs": runs, "p50_ms": round(statistics.median(samples), 2),
            "p95_ms": round(samples[int(0.95 * (len(samples) - 1))], 2), "mean_ms": round(statistics.fmean(samples), 2)}


def iterator(runtime: Any, flow_id: str, items: int) -> dict[str, Any]:
    started = time.perf_counter()
    events = _invoke(runtime, flow_id, [f"item {n}" for n in range(items)])
    elapsed = time.perf_counter() - started
    collected = events[0]["flowOutputEvent"]["content"]["document"]
    return {"scenario": "iterator_1000_items_http", "items": len(collected), "seconds": round(elapsed, 3),
            "items_per_second": round(len(collected) / elapsed, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_flows", description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--items", type=int, default=1000)
    args = parser.parse_args(argv)
    from api.app import create_app
    from api.bedrock_agent import configure
    app = create_app()
    configure(app, flow_mocks={"ten_node_chain": {f"Step{n}": f"answer {n}" for n in range(1, 8)},
                               "iterator_collector": {"PerItem": "done"}})
    with serving(app) as endpoint:
        agent, runtime = clients(endpoint)
        print(json.dumps(latency(runtime, _deploy(agent, "ten_node_chain"), args.runs)))
        print(json.dumps(iterator(runtime, _deploy(agent, "iterator_collector"), args.items)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
