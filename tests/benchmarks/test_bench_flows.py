"""The flows benchmark runs end to end and prints its figures with their baselines (no timing asserted)."""
from __future__ import annotations

import json

from benchmarks import bench_flows


def test_it_prints_each_scenario_beside_its_baseline(capsys) -> None:
    assert bench_flows.main(["--runs", "3", "--items", "20"]) == 0
    rows = {row["scenario"]: row for row in map(json.loads, capsys.readouterr().out.splitlines())}
    assert set(rows) == {"baseline_get_flow_http", "invoke_flow_10_nodes_http",
                         "baseline_iterator_1_item_http", "iterator_20_items_http"}
    assert rows["baseline_get_flow_http"]["x_baseline_p50"] == 1.0
    assert rows["invoke_flow_10_nodes_http"]["p50_ms"] > 0
    assert rows["iterator_20_items_http"]["items"] == 20
    assert rows["baseline_iterator_1_item_http"]["items"] == 1
