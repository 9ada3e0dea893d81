"""Bedrock Flows: InvokeFlow latency over HTTP (10-node flow) and Iterator throughput (1,000 items).

``python -m benchmarks.bench_flows [--runs N]`` starts statesim on an ephemeral port, deploys the
two flows of ``definitions/flows/`` with mocked model answers, and prints one JSON line per
scenario (latency percentiles in ms; items per second), each with its ratio to a baseline
measured in the same run: a GetFlow call on the same connection for the latency, a one-item
Iterator run for the per-item cost. Asserts nothing.
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


def _timed(call: Any, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return sorted(samples)


def latency(agent: Any, runtime: Any, flow_id: str, runs: int) -> list[dict[str, Any]]:
    baseline = _timed(lambda: agent.get_flow(flowIdentifier=flow_id), runs)
    samples = _timed(lambda: _invoke(runtime, flow_id, "How do flows run?"), runs)
    rows = []
    for scenario, values in (("baseline_get_flow_http", baseline), ("invoke_flow_10_nodes_http", samples)):
        p50 = statistics.median(values)
        rows.append({"scenario": scenario, "runs": runs, "p50_ms": round(p50, 3),
                     "p95_ms": round(values[int(0.95 * (len(values) - 1))], 3),
                     "mean_ms": round(statistics.fmean(values), 3),
                     "x_baseline_p50": round(p50 / statistics.median(baseline), 2)})
    return rows


def iterator(runtime: Any, flow_id: str, items: int) -> list[dict[str, Any]]:
    rows = []
    for scenario, count in (("baseline_iterator_1_item_http", 1), (f"iterator_{items}_items_http", items)):
        started = time.perf_counter()
        events = _invoke(runtime, flow_id, [f"item {n}" for n in range(count)])
        elapsed = time.perf_counter() - started
        collected = events[0]["flowOutputEvent"]["content"]["document"]
        rows.append({"scenario": scenario, "items": len(collected), "seconds": round(elapsed, 4),
                     "items_per_second": round(len(collected) / elapsed, 1)})
    base = rows[0]["seconds"]
    for row in rows:
        row["x_baseline_seconds"] = round(row["seconds"] / base, 2)
    return rows


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
        for row in latency(agent, runtime, _deploy(agent, "ten_node_chain"), args.runs):
            print(json.dumps(row))
        for row in iterator(runtime, _deploy(agent, "iterator_collector"), args.items):
            print(json.dumps(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
