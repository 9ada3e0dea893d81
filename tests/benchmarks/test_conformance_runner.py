"""The conformance command line, in process and against a real statesim endpoint."""
from __future__ import annotations

import io
import subprocess
import sys
import json
import time
from pathlib import Path
from typing import Any

import pytest

from benchmarks import conformance
from benchmarks._conformance.cases import case_from_dict
from benchmarks._conformance.compare import Options, Outcome
from benchmarks._conformance.inprocess import describe_exception, run_case

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"Arg1": "argument1"}, "End": True}}}
ROLE = "snf_role_arn"


def history_of_pass(raw_input: str) -> list[dict[str, Any]]:
    return [
        {"executionStartedEventDetails": {"input": json.loads(raw_input), "inputDetails": {"truncated": False},
                                          "roleArn": ROLE},
         "id": 1, "previousEventId": 0, "timestamp": "timestamp", "type": "ExecutionStarted"},
        {"id": 2, "previousEventId": 0, "stateEnteredEventDetails": {
            "input": json.loads(raw_input), "inputDetails": {"truncated": False}, "name": "P"},
         "timestamp": "timestamp", "type": "PassStateEntered"},
        {"id": 3, "previousEventId": 2, "stateExitedEventDetails": {
            "name": "P", "output": {"Arg1": "argument1"}, "outputDetails": {"truncated": False}},
         "timestamp": "timestamp", "type": "PassStateExited"},
        {"executionSucceededEventDetails": {"output": {"Arg1": "argument1"}, "outputDetails": {"truncated": False}},
         "id": 4, "previousEventId": 3, "timestamp": "timestamp", "type": "ExecutionSucceeded"},
    ]


def raw_case(name: str, kind: str, expect: dict[str, Any], *, category: str = "pass-and-paths",
             definition: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {"id": f"synthetic::{name}", "kind": kind, "category": category, "state_machine_type": "STANDARD",
            "definition": definition if definition is not None else PASS, "expect": expect,
            "placeholders": [ROLE, "timestamp"], "format_version": 1} | extra


CASES = [
    raw_case("pass", "execution", {"status": "SUCCEEDED", "output": {"Arg1": "argument1"},
                                   "history": history_of_pass('{"a": 1}')}, input={"a": 1}),
    raw_case("wrong-output", "execution_output", {"status": "SUCCEEDED", "output": {"Arg1": "other"}}, input={}),
    raw_case("create", "create_error", {"create_error": {
        "code": "InvalidDefinition",
        "message": "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: These fields are required: [States] at /'"}},
        category="definition-errors", definition={"StartAt": "P"}),
    raw_case("start", "start_error", {"start_error": {
        "code": "InvalidExecutionInput", "message": "Invalid State Machine Execution Input: 'Invalid execution input.'"}},
        category="start-errors", input_text=""),
    raw_case("sync", "sync_execution", {"status": "SUCCEEDED", "output": {"Arg1": "argument1"}, "sync_response": {
        "billingDetails": {"billedDurationInMilliseconds": 100, "billedMemoryUsedInMB": 64},
        "executionArn": "arn:<partition>:states:<region>:111111111111:express:<ArnPart_0idx>:<SyncExecArn_Part1_0idx>:"
                        "<SyncExecArn_Part2_0idx>",
        "input": {}, "inputDetails": {"included": True}, "name": "<SyncExecArn_Part1_0idx>",
        "output": {"Arg1": "argument1"}, "outputDetails": {"included": True}, "startDate": "datetime",
        "stateMachineArn": "arn:<partition>:states:<region>:111111111111:stateMachine:<ArnPart_0idx>",
        "status": "SUCCEEDED", "stopDate": "datetime"}},
        input={}, state_machine_type="EXPRESS", placeholders=["111111111111", "datetime"]),
    raw_case("validate", "validate", {"validate": {"result": "OK", "diagnostics": [], "truncated": False}},
             category="validate-definition"),
]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for index, raw in enumerate(CASES):
        (tmp_path / f"case{index}.json").write_text(json.dumps(raw))
    return tmp_path


def run_main(*argv: str) -> tuple[int, list[str]]:
    out = io.StringIO()
    code = conformance.main(list(argv), out=out)
    return code, out.getvalue().splitlines()


def test_in_process_report(folder: Path) -> None:
    code, lines = run_main(str(folder))
    assert code == 0
    assert lines[-1] == "5 passed, 1 failed"
    failing = [line for line in lines if line.startswith("FAIL")]
    assert failing == ['FAIL [pass-and-paths] synthetic::wrong-output: output.Arg1: expected "other", got "argument1"']
    assert any(line.split() == ["pass-and-paths", "2", "/", "3", "passed"] for line in lines)
    assert any(line.split() == ["start-errors", "1", "/", "1", "passed"] for line in lines)


def test_feature_totals(folder: Path) -> None:
    (folder / "case0.json").write_text(json.dumps({**CASES[1], "features": ["state:Pass", "field:Result"]}))
    code, lines = run_main("--features", str(folder))
    assert [line for line in lines if line.startswith("feature ")] == [
        "feature (none): 4 / 5 passed", "feature field:Result: 0 / 1 passed", "feature state:Pass: 0 / 1 passed"]
    assert lines[-1] == "4 passed, 2 failed"


def test_verbose_category_and_min_rate(folder: Path) -> None:
    code, lines = run_main("-v", "--category", "start-errors,validate-definition", str(folder))
    assert lines[:2] == ["PASS [start-errors] synthetic::start", "PASS [validate-definition] synthetic::validate"]
    assert lines[-1] == "2 passed, 0 failed"
    assert run_main("--min-rate", "83", str(folder))[0] == 0
    assert run_main("--min-rate", "84", str(folder))[0] == 1


def test_repeat_reports_the_run_that_failed() -> None:
    case = case_from_dict(CASES[1])
    calls: list[int] = []

    def flaky(c: Any) -> Any:
        calls.append(1)
        return Outcome(status="SUCCEEDED", output='{"Arg1": "other"}' if len(calls) < 3 else "{}")

    [result] = conformance.judge([case], flaky, Options(), repeat=5)
    assert len(calls) == 3
    assert result.difference is not None and result.difference.note == "run 3 of 5; missing key"


def test_missing_folder(tmp_path: Path) -> None:
    code, lines = run_main("--if-exists", str(tmp_path / "nope"))
    assert code == 0 and lines == [f"note: conformance folder {tmp_path / 'nope'} not found; nothing to run"]
    assert run_main(str(tmp_path / "nope"))[0] == 1


def test_long_waits_take_no_real_time() -> None:
    definition = {"TimeoutSeconds": 5, "StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 60, "Next": "P"}, "P": {"Type": "Pass", "End": True}}}
    timed_out = case_from_dict(raw_case("t", "execution_output", {"status": "TIMED_OUT"}, definition=definition))
    started = time.perf_counter()
    assert run_case(timed_out).status == "TIMED_OUT"
    definition["TimeoutSeconds"] = 7200
    definition["States"]["W"]["Seconds"] = 3600
    assert run_case(case_from_dict(raw_case("w", "execution_output", {}, definition=definition))).status == "SUCCEEDED"
    assert time.perf_counter() - started < 5


def test_runner_exceptions_become_failed_cases() -> None:
    cases = [case_from_dict(raw) for raw in CASES[:2]]

    def unreachable(case: Any) -> Any:
        raise ConnectionError(f"cannot reach the endpoint for {case.id}")

    results = conformance.judge(cases, unreachable, Options())
    assert [r.passed for r in results] == [False, False]
    assert conformance.case_line(results[0]) == (
        'FAIL [pass-and-paths] synthetic::pass: run: expected "a result", got "an exception" '
        "(ConnectionError: cannot reach the endpoint for synthetic::pass)")
    assert describe_exception(ExceptionGroup("g", [KeyError("k")])) == "KeyError: 'k'"


def test_recorded_start_errors(shared_dir: Path) -> None:
    code, lines = run_main("--category", "start-errors", str(shared_dir / "conformance/asl"))
    assert lines[-1] == "3 passed, 0 failed"


def test_endpoint_mode_against_statesim(folder: Path) -> None:
    from tests.api.conftest import Server
    from engine.runtime import Runtime
    from engine.store import MemoryStore

    with Server(Runtime(MemoryStore())) as server:
        code, lines = run_main("--endpoint", server.endpoint, "--jobs", "2", str(folder))
    assert lines[-1] == "5 passed, 1 failed", lines
    assert any(line.startswith("-- 6 cases, endpoint http://127.0.0.1:") for line in lines)


def test_runaway_code_is_interrupted() -> None:
    # in a subprocess: pytest-timeout owns this process's alarm, and the deadline then stands aside
    script = ("from benchmarks._conformance.inprocess import _deadline, CaseTimeout\n"
              "try:\n    with _deadline(0.05):\n        while True: pass\n"
              "except CaseTimeout:\n    print('interrupted')\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30,
                          cwd=Path(conformance.__file__).parent.parent)
    assert done.stdout == "interrupted\n", done.stderr
