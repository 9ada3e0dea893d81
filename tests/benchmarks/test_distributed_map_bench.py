"""The Distributed Map benchmark runs end to end and prints each scenario beside its baseline (no timing asserted)."""
from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT


def test_it_prints_the_baseline_and_each_batch_size() -> None:
    run = subprocess.run([sys.executable, "-m", "benchmarks.distributed_map", "--items", "300", "--batch", "0",
                          "--batch", "50"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    rows = [json.loads(line) for line in run.stdout.splitlines()]
    assert [(r["scenario"], r.get("batch"), r["status"]) for r in rows] == [
        ("baseline_inline_map", None, "SUCCEEDED"),
        ("distributed_map_jsonl", 0, "SUCCEEDED"), ("distributed_map_jsonl", 50, "SUCCEEDED")]
    assert [r["items"] for r in rows] == [300, 300, 300]
    assert [r.get("children_written") for r in rows[1:]] == [300, 6]
    assert rows[0]["x_baseline_items_per_second"] == 1.0 and all(r["x_baseline_items_per_second"] > 0 for r in rows)
