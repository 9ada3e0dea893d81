"""Smoke test: the throughput benchmark runs every scenario and prints figures (no timing assertions)."""
from __future__ import annotations

import io
import json

from benchmarks import throughput


def test_prints_a_figure_per_scenario() -> None:
    out = io.StringIO()
    code = throughput.main(["--chain", "3", "--items", "4", "--branches", "2", "--depth", "2",
                            "--repeat", "1", "--min-seconds", "0"], out=out)
    assert code == 0
    lines = out.getvalue().splitlines()
    rows = {line.split()[0]: line.split()[1:] for line in lines[2:-1]}
    assert list(rows) == ["baseline", "pass_chain", "choice_loop", "map", "parallel"]
    # transitions per execution: states entered
    assert {name: int(row[1]) for name, row in rows.items()} == {
        "baseline": 3, "pass_chain": 3, "choice_loop": 2 * 4 + 2, "map": 1 + 4, "parallel": 1 + 2 * 2}
    figures = json.loads(lines[-1])
    assert set(figures) == set(rows) and all(value > 0 for value in figures.values())
