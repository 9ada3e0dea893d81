"""engine.asl.redrive.plan: where a redrive picks up, read from real engine histories."""
from __future__ import annotations

import json
from typing import Any

from engine.asl import redrive, run_sync
from engine.tasks.registry import TaskFailure, TaskRegistry

BAD = "arn:aws:lambda:us-east-1:123456789012:function:bad"


def failing() -> TaskRegistry:
    tasks = TaskRegistry()

    def bad(payload: Any) -> Any:
        raise TaskFailure("Bad", "always")

    tasks.register(BAD, bad)
    return tasks


def history_of(definition: dict[str, Any], input_text: str = "{}") -> list[dict[str, Any]]:
    result = run_sync(json.dumps(definition), input_text, registry=failing())
    assert result.status == "FAILED"
    return result.history


def test_nested_parallel_keeps_what_succeeded_at_each_level() -> None:
    definition = {"StartAt": "Outer", "States": {"Outer": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "a", "End": True}}},
        {"StartAt": "Inner", "States": {"Inner": {"Type": "Parallel", "End": True, "Branches": [
            {"StartAt": "B", "States": {"B": {"Type": "Pass", "Result": "b", "End": True}}},
            {"StartAt": "C0", "States": {"C0": {"Type": "Pass", "Result": {"c": 0}, "Next": "C"},
                                         "C": {"Type": "Task", "Resource": BAD, "End": True}}}]}}}]}}}
    plan = redrive.plan(definition, history_of(definition, '{"x": 1}'))
    assert plan is not None and (plan.state, plan.input_text) == ("Outer", '{"x": 1}')
    assert plan.inner is not None and plan.inner.done == {0: '"a"'}
    inner = plan.inner.resume[1]
    assert inner.state == "Inner" and inner.inner is not None and inner.inner.done == {0: '"b"'}
    assert (inner.inner.resume[1].state, inner.inner.resume[1].input_text) == ("C", '{"c":0}')


def test_a_caught_map_is_done_with() -> None:
    """A Map whose failure was caught exited: the redrive re-enters the state that failed later."""
    definition = {"StartAt": "Each", "States": {
        "Each": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": BAD, "End": True}}},
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Then", "ResultPath": "$.err"}], "Next": "Then"},
        "Then": {"Type": "Task", "Resource": BAD, "End": True}}}
    plan = redrive.plan(definition, history_of(definition, '{"items": [1, 2]}'))
    assert plan is not None and plan.state == "Then" and plan.inner is None
    assert json.loads(plan.input_text)["err"]["Error"] == "Bad"


def test_map_iterations_each_resume_where_they_stopped() -> None:
    definition = {"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "ToleratedFailureCount": 5, "End": True, "ItemProcessor": {"StartAt": "Pick", "States": {
            "Pick": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericGreaterThan": 1, "Next": "T"}],
                     "Default": "Ok"},
            "Ok": {"Type": "Pass", "End": True},
            "T": {"Type": "Task", "Resource": BAD, "End": True}}}}}}
    result = run_sync(json.dumps(definition), "[0, 1, 2, 3]", registry=failing())
    assert result.status == "SUCCEEDED"  # all failures tolerated: nothing to redrive
    assert redrive.plan(definition, result.history) is None
    definition["States"]["Each"]["ToleratedFailureCount"] = 1
    plan = redrive.plan(definition, history_of(definition, "[0, 1, 2, 3]"))
    assert plan is not None and plan.inner is not None
    assert plan.inner.done == {0: "0", 1: "1"}
    assert {i: (p.state, p.input_text) for i, p in plan.inner.resume.items()} == {2: ("T", "2"), 3: ("T", "3")}
