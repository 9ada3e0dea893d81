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


def _reads(state: dict[str, object], **top: object) -> bool:
    return load({"StartAt": "S", "States": {"S": {**state, "End": True}}, **top}).root.states["S"].reads_context


@pytest.mark.parametrize(("state", "reads"), [
    ({"Type": "Pass"}, False),
    ({"Type": "Pass", "Parameters": {"a.$": "$.a", "b.$": "States.MathAdd($.i, 1)"}, "ResultPath": "$.r"}, False),
    ({"Type": "Pass", "Parameters": {"n.$": "$$.Execution.Name"}}, True),
    ({"Type": "Pass", "Parameters": {"n.$": "States.Format('{}', $$.State.EnteredTime)"}}, True),
    ({"Type": "Pass", "Assign": {"x.$": "$$.State.Name"}}, True),
    ({"Type": "Pass", "InputPath": "$$.Execution.Input"}, True),
    ({"Type": "Fail", "CausePath": "$$.Execution.Id"}, True),
    ({"Type": "Succeed", "QueryLanguage": "JSONata", "Output": "{% $states.input.a %}"}, False),
    ({"Type": "Succeed", "QueryLanguage": "JSONata", "Output": "{% $states.context.State.Name %}"}, True),
    ({"Type": "Succeed", "QueryLanguage": "JSONata", "Output": "{% $states %}"}, True),
    ({"Type": "Succeed", "QueryLanguage": "JSONata", "Output": "{% $lookup($states, 'context') %}"}, True),
    ({"Type": "Succeed", "QueryLanguage": "JSONata", "Output": "{% $eval($states.input.e) %}"}, True),
])
def test_reads_context(state: dict[str, object], reads: bool) -> None:
    if state["Type"] in ("Fail", "Succeed"):
        machine = load({"StartAt": "S", "States": {"S": state}})
        assert machine.root.states["S"].reads_context is reads
    else:
        assert _reads(state) is reads


def test_reads_context_of_choice_rules_and_nested_machines() -> None:
    choice = {"Type": "Choice", "Choices": [{"Variable": "$$.State.RetryCount", "NumericEquals": 0, "Next": "M"}],
              "Default": "M"}
    def inner(name: str) -> dict[str, object]:
        return {"StartAt": name, "States": {name: {"Type": "Pass", "Parameters": {"v.$": "$$.Execution.Name"},
                                                   "End": True}}}
    machine = load({"StartAt": "C", "States": {
        "C": choice,
        "M": {"Type": "Map", "ItemProcessor": inner("I"), "Next": "P"},
        "P": {"Type": "Parallel", "Branches": [inner("J")], "End": True}}})
    states = machine.root.states
    assert states["C"].reads_context
    assert not states["M"].reads_context and not states["P"].reads_context
    assert isinstance(states["M"], Map) and states["M"].processor.states["I"].reads_context
    assert isinstance(states["P"], Parallel) and states["P"].branches[0].states["J"].reads_context
    selector = {"Type": "Map", "ItemSelector": {"i.$": "$$.Map.Item.Index"}, "ItemProcessor": inner("I"), "End": True}
    assert _reads(selector)
