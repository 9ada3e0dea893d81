"""``statesim run`` and ``statesim validate`` in process."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.cli import main

DEFINITIONS = Path(__file__).resolve().parents[2] / "definitions" / "asl"


def test_run_prints_output(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", str(DEFINITIONS / "hello_world.json"), "--input", '{"name": "Testerson"}'])
    assert code == 0
    assert json.loads(capsys.readouterr().out) == {"message": "Hello, Testerson!"}


def test_run_with_history(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(DEFINITIONS / "five_states.json"), "--history"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    types = [json.loads(line)["type"] for line in lines[:-1]]
    assert types[0] == "ExecutionStarted" and types[-1] == "ExecutionSucceeded"
    assert json.loads(lines[-1]) == {"first": {"n": 1}, "side": "left", "end": "right"}


def test_run_reports_failures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "fail.json"
    path.write_text('{"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "C"}}}')
    assert main(["run", str(path)]) == 1
    assert json.loads(capsys.readouterr().out) == {"status": "FAILED", "error": "E", "cause": "C"}


def test_run_rejects_invalid_definitions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"StartAt": "A"}')
    assert main(["run", str(path)]) == 2
    assert capsys.readouterr().err.strip() == (
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: These fields are required: [States] at /'")


def test_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(DEFINITIONS / "hello_world.json")]) == 0
    assert json.loads(capsys.readouterr().out)["result"] == "OK"
    path = tmp_path / "bad.json"
    path.write_text('{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}')
    assert main(["validate", str(path)]) == 1
    response = json.loads(capsys.readouterr().out)
    assert response["result"] == "FAIL"
    assert response["diagnostics"][0]["code"] == "MISSING_TRANSITION_TARGET"
