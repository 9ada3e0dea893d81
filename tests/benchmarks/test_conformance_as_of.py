"""The conformance runner emulates AWS as of each case's recording date (engine.asl.compat)."""
from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest

from benchmarks import conformance
from benchmarks._conformance.cases import case_from_dict, load_folder
from benchmarks._conformance.inprocess import run_case

DISTRIBUTED = {"StartAt": "M", "States": {"M": {
    "Type": "Map", "End": True,
    "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                      "StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}}}}}


def _case(recorded: str | None) -> dict[str, object]:
    raw: dict[str, object] = {"id": "synthetic::distributed", "kind": "execution", "category": "map",
                              "definition": DISTRIBUTED, "input": [1], "expect": {"status": "SUCCEEDED"}}
    if recorded is not None:
        raw["provenance"] = {"recorded_date": recorded}
    return raw


def _exited_points_at(outcome: object) -> str:
    history = outcome.history  # type: ignore[attr-defined]
    types = {event["id"]: event["type"] for event in history}
    exited = next(event for event in history if event["type"] == "MapStateExited")
    return types[exited["previousEventId"]]


def test_recorded_date_is_parsed() -> None:
    assert case_from_dict(_case("19-06-2024, 12:39:14")).recorded_date == date(2024, 6, 19)
    assert case_from_dict(_case(None)).recorded_date is None
    assert case_from_dict(_case("garbled")).recorded_date is None


def test_cases_run_as_of_their_recording_date() -> None:
    old = case_from_dict(_case("19-06-2024, 12:39:14"))
    new = case_from_dict(_case("09-01-2025, 14:02:06"))
    assert _exited_points_at(run_case(old)) == "MapRunSucceeded"
    assert _exited_points_at(run_case(old, as_of="latest")) == "MapRunStarted"
    assert _exited_points_at(run_case(new)) == "MapRunStarted"
    assert _exited_points_at(run_case(new, as_of="2024-01-01")) == "MapRunSucceeded"
    assert _exited_points_at(run_case(case_from_dict(_case(None)))) == "MapRunStarted"  # undated: today's AWS


def _main(*argv: str) -> list[str]:
    out = io.StringIO()
    assert conformance.main(list(argv), out=out) == 0
    return out.getvalue().splitlines()


def test_as_of_option_on_recorded_cases(shared_dir: Path) -> None:
    folder = shared_dir / "conformance/asl"
    cases = [c for c in load_folder(folder) if "config_distributed" in c.id]
    dates = {c.recorded_date for c in cases}
    assert min(dates) < date(2024, 11, 15) <= max(dates)  # recordings from both sides of the change
    recorded = _main("--match", "config_distributed", str(folder))
    assert recorded[-1] == f"{len(cases)} passed, 0 failed"
    latest = _main("--match", "config_distributed", "--as-of", "latest", str(folder))
    stale = [c for c in cases if c.recorded_date < date(2024, 11, 15)]
    assert latest[-1] == f"{len(cases) - len(stale)} passed, {len(stale)} failed"
    assert all("MapStateExited" in line for line in latest if line.startswith("FAIL"))
    assert any(line.startswith("-- ") and "AWS as of latest" in line for line in latest)


def test_as_of_option_is_checked() -> None:
    with pytest.raises(SystemExit):
        conformance.parse_args(["--as-of", "someday", "x"])
    assert conformance.parse_args(["x"]).as_of == "recorded"
    assert conformance.parse_args(["--as-of", "2024-06-01", "x"]).as_of == "2024-06-01"
