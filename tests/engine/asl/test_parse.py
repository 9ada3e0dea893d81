"""engine.asl.parse: the frozen model, compiled once."""
from __future__ import annotations

import pytest

from engine.asl import load
from engine.asl.model import DOLLAR, Choice, Map, Parallel, Pass, Task, Wait
from engine.errors import InvalidDefinition


def test_model_types_and_defaults() -> None:
    machine = load({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Result": 1, "ResultPath": "$.r", "Next": "C"},
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.r", "NumericEquals": 1, "Next": "W"}], "Default": "W"},
        "W": {"Type": "Wait", "Seconds": 1, "Next": "P"},
        "P": {"Type": "Parallel", "Branches": [{"StartAt": "X", "States": {"X": {"Type": "Pass", "End": True}}}],
              "Next": "M"},
        "M": {"Type": "Map", "ItemProcessor": {"StartAt": "Y", "States": {"Y": {"Type": "Pass", "End": True}}},
              "Next": "T"},
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True}}})
    states = machine.root.states
    assert isinstance(states["A"], Pass) and states["A"].has_result and states["A"].result_path == "$.r"
    assert states["A"].input_path is DOLLAR and states["A"].output_path is DOLLAR
    assert isinstance(states["C"], Choice) and states["C"].choices[0].rule is not None
    assert isinstance(states["W"], Wait) and states["W"].seconds == 1
    assert isinstance(states["P"], Parallel) and not states["P"].branches[0].may_block
    assert isinstance(states["M"], Map) and states["M"].processor is not None
    assert isinstance(states["T"], Task)
    assert machine.root.may_block


def test_query_language_per_state() -> None:
    machine = load({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% 1 %}", "Next": "B"},
        "B": {"Type": "Pass", "InputPath": "$.x", "End": True}}})
    assert machine.root.states["A"].jsonata and machine.root.states["A"].output is not None
    assert not machine.root.states["B"].jsonata


def test_invalid_definition_is_rejected() -> None:
    with pytest.raises(InvalidDefinition):
        load({"StartAt": "Nope", "States": {"A": {"Type": "Pass", "End": True}}})


def test_invalid_json_text_is_rejected() -> None:
    with pytest.raises(InvalidDefinition):
        load("{not json")
