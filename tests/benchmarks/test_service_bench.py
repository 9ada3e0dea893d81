"""Smoke test: the service benchmark serves, measures every figure and prints it (no timing assertions)."""
from __future__ import annotations

import io
import json

from benchmarks import service


def test_prints_every_figure_with_its_baseline() -> None:
    out = io.StringIO()
    code = service.main(["--calls", "3", "--standard", "4", "--parked", "5", "--clients", "2", "--in-memory"], out=out)
    assert code == 0
    lines = out.getvalue().splitlines()
    rows = [line.rsplit(None, 3)[0] for line in lines[1:6]]
    assert rows == ["start_sync p50 ms", "start_sync p99 ms", "standard executions/s", "parked rss MB",
                    "parked threads"]
    figures = json.loads(lines[-1])
    assert set(figures) == {"latency", "throughput", "memory"}
    assert set(figures["latency"]) == {"baseline_p50_ms", "baseline_p99_ms", "p50_ms", "p99_ms"}
    assert set(figures["throughput"]) == {"baseline_calls_per_s", "seconds", "executions_per_s"}
    memory = figures["memory"]
    assert memory["running"] == 5 and memory["rss_mb"] > 0 and memory["baseline_rss_mb"] > 0
    assert memory["threads"] >= 1 and memory["baseline_threads"] >= 1
