"""The flows conformance runner against a real server: every shared case passes, and broken expectations fail."""
from __future__ import annotations

import copy
from typing import Any

import pytest

from benchmarks import flows_conformance as runner
from tests.api.conftest import Server
from tests.conftest import SHARED, requires_shared

pytestmark = requires_shared("conformance/flows")


@pytest.fixture(scope="module")
def cases() -> list[dict[str, Any]]:
    return runner.load_cases(SHARED / "conformance" / "flows")


@pytest.fixture(scope="module")
def clients(server: Server, cases: list[dict[str, Any]]) -> tuple[Any, Any]:
    from api.bedrock_agent import flow_service
    service = flow_service(server.server.config.app)
    for case in cases:
        service.mocks[runner.flow_name(case)] = case.get("mocks") or {}
    return runner.clients(server.endpoint)


def test_every_shared_case_passes(cases: list[dict[str, Any]], clients: tuple[Any, Any]) -> None:
    assert len(cases) >= 20
    failures = {c["id"]: runner.run_case(*clients, c) for c in cases}
    assert {k: v for k, v in failures.items() if v} == {}


def _by_id(cases: list[dict[str, Any]], case_id: str) -> dict[str, Any]:
    return copy.deepcopy(next(c for c in cases if c["id"] == case_id))


def test_wrong_output_is_reported(cases: list[dict[str, Any]], clients: tuple[Any, Any]) -> None:
    case = _by_id(cases, "condition-docs-default")
    case["expect"]["events"][0]["flowOutputEvent"]["content"]["document"] = "buy"
    assert len(runner.run_case(*clients, case)) == 1


def test_wrong_rendered_prompt_and_trace_are_reported(cases: list[dict[str, Any]], clients: tuple[Any, Any]) -> None:
    case = _by_id(cases, "prompt-inline-playlist")
    case["expect"]["renderedPrompts"]["MakePlaylist"] = ["something else"]
    assert runner.run_case(*clients, case)[0].startswith("prompts of MakePlaylist")
    case = _by_id(cases, "condition-docs-first-match")
    case["expect"]["trace"][2]["satisfiedConditions"] = [{"conditionName": "default"}]
    assert runner.run_case(*clients, case)[0].startswith("trace item not found in order")


def test_expected_error_that_does_not_happen_is_reported(cases: list[dict[str, Any]], clients: tuple[Any, Any]) -> None:
    case = _by_id(cases, "type-mismatch-flow-input")
    case["inputs"][0]["content"]["document"] = {"hoge": "aaa"}
    assert runner.run_case(*clients, case) == ["expected ValidationException but the call succeeded"]


def test_a_missing_folder_is_a_note_with_if_exists_and_an_error_without(tmp_path, capsys) -> None:
    missing = tmp_path / "absent"
    assert runner.main(["--if-exists", str(missing)]) == 0
    assert "not found" in capsys.readouterr().out
    assert runner.main([str(missing)]) == 1
