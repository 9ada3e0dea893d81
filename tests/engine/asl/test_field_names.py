"""JSONata errors name a Choice rule's or a catcher's field with its index, as AWS does."""
from __future__ import annotations

from engine.asl import load, run_sync


def test_a_choice_condition_is_named_with_its_rule_index() -> None:
    machine = load({"QueryLanguage": "JSONata", "StartAt": "C", "States": {
        "C": {"Type": "Choice", "Default": "E", "Choices": [
            {"Condition": "{% $states.input.x %}", "Next": "E"},
            {"Condition": "{% $states.input.missing %}", "Next": "E"}]},
        "E": {"Type": "Succeed"}}})
    result = run_sync(machine, '{"x": false}')
    assert (result.status, result.error) == ("FAILED", "States.QueryEvaluationError")
    assert result.cause == (
        "An error occurred while executing the state 'C' (entered at the event id #2). The JSONata "
        "expression '$states.input.missing' specified for the field 'Choices[1]/Condition' returned "
        "nothing (undefined).")


def test_a_catcher_output_is_named_with_its_index() -> None:
    machine = load({"QueryLanguage": "JSONata", "StartAt": "F", "States": {
        "F": {"Type": "Parallel", "End": True,
              "Branches": [{"StartAt": "X", "States": {"X": {"Type": "Fail", "Error": "Boom"}}}],
              "Catch": [{"ErrorEquals": ["Other"], "Next": "E"},
                        {"ErrorEquals": ["States.ALL"], "Next": "E",
                         "Output": {"v": "{% $states.errorOutput.missing %}"}}]},
        "E": {"Type": "Succeed"}}})
    result = run_sync(machine, "{}")
    assert (result.status, result.error) == ("FAILED", "States.QueryEvaluationError")
    assert "specified for the field 'Catch[1]/Output/v' returned nothing (undefined)." in (result.cause or "")


def test_a_non_boolean_condition_is_named_with_its_rule_index() -> None:
    machine = load({"QueryLanguage": "JSONata", "StartAt": "C", "States": {
        "C": {"Type": "Choice", "Default": "E", "Choices": [
            {"Condition": "{% false %}", "Next": "E"}, {"Condition": "{% $states.input.n %}", "Next": "E"}]},
        "E": {"Type": "Succeed"}}})
    result = run_sync(machine, '{"n": 5}')
    assert (result.status, result.error) == ("FAILED", "States.QueryEvaluationError")
    assert result.cause == (
        "An error occurred while executing the state 'C' (entered at the event id #2). The JSONata "
        "expression '$states.input.n' specified for the field 'Choices[1]/Condition' returned an unexpected "
        "result type. Expected 'boolean', but was 'number' for value: 5")
