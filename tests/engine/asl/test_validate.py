"""engine.asl.validate: AWS's codes, messages and locations for invalid definitions."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.asl import load, run_sync
from engine.asl.validate import load_definition, load_json, validate, validate_definition_response
from engine.errors import InvalidDefinition


def one(state: dict[str, Any], *, name: str = "S", **top: Any) -> dict[str, Any]:
    """A machine of a single state."""
    return {"StartAt": name, "States": {name: state}, **top}


def found(raw: Any, *, type: str = "STANDARD") -> list[tuple[str, str, str | None]]:
    return [(d.code, d.message, d.location) for d in validate(raw, type=type)]


PASS_END = {"Type": "Pass", "End": True}
SCHEMA = "SCHEMA_VALIDATION_FAILED"
TARGET = "MISSING_TRANSITION_TARGET"
LANG_ONLY = "The QueryLanguage is set to '{0}', but field '{1}' is only supported for the '{2}' QueryLanguage"


CASES: list[tuple[str, Any, list[tuple[str, str, str | None]]]] = [
    ("valid pass", one(PASS_END), []),
    ("empty object", {}, [(SCHEMA, "These fields are required: [States, StartAt]", "/")]),
    ("no StartAt", {"States": {"S": PASS_END}}, [(SCHEMA, "These fields are required: [StartAt]", "/")]),
    ("no States", {"Comment": "x", "StartAt": "S"}, [(SCHEMA, "These fields are required: [States]", "/")]),
    ("unknown root field", {**one(PASS_END), "Foo": 1}, [(SCHEMA, "Field 'Foo' is not supported", "/")]),
    ("StartAt not a string", {"StartAt": 1, "States": {"S": PASS_END}},
     [(SCHEMA, "Expected value of type [STRING]", "/StartAt")]),
    ("machine timeout zero", {**one(PASS_END), "TimeoutSeconds": 0},
     [(SCHEMA, "Minimum value is 1", "/TimeoutSeconds")]),
    ("States empty", {"StartAt": "S", "States": {}}, [(SCHEMA, "Value cannot be empty", "/States")]),
    ("state not an object", one(3), [(SCHEMA, "Expected value of type [OBJECT]", "/States/S")]),
    ("no Type", one({"End": True}), [(SCHEMA, "These fields are required: [Type]", "/States/S")]),
    ("unknown Type", one({"Type": "Nope", "End": True}),
     [(SCHEMA, "The field 'Type' should have one of these values: "
               "[Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map]", "/States/S/Type")]),
    ("field on wrong type", one({"Type": "Pass", "End": True, "TimeoutSeconds": 5}),
     [(SCHEMA, "Field 'TimeoutSeconds' is not supported", "/States/S")]),
    ("catch on pass", one({"Type": "Pass", "End": True, "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "S"}]}),
     [(SCHEMA, "Field 'Catch' is not supported", "/States/S")]),
    ("retry on wait", one({"Type": "Wait", "Seconds": 1, "End": True, "Retry": [{"ErrorEquals": ["States.ALL"]}]}),
     [(SCHEMA, "Field 'Retry' is not supported", "/States/S")]),
    ("End on Succeed", one({"Type": "Succeed", "End": True}), [(SCHEMA, "Field 'End' is not supported", "/States/S")]),
    ("End not boolean", one({"Type": "Pass", "End": "yes"}), [(SCHEMA, "Expected value of type [BOOLEAN]", "/States/S/End")]),
    ("neither Next nor End", one({"Type": "Pass"}),
     [(SCHEMA, "Exactly one of these fields is required: [Next, End]", "/States/S")]),
    ("Task without Resource", one({"Type": "Task", "End": True}),
     [(SCHEMA, "These fields are required: [Resource]", "/States/S")]),
    ("Choice without Choices", one({"Type": "Choice", "Default": "S"}),
     [(SCHEMA, "These fields are required: [Choices]", "/States/S")]),
    ("Parallel empty branches", one({"Type": "Parallel", "Branches": [], "End": True}),
     [(SCHEMA, "Value cannot be empty", "/States/S/Branches")]),
    ("branch QueryLanguage", one({"Type": "Parallel", "End": True, "Branches": [
        {"QueryLanguage": "JSONata", "StartAt": "P", "States": {"P": PASS_END}}]}),
     [(SCHEMA, "Field 'QueryLanguage' is not supported", "/States/S/Branches[0]")]),
    ("iterator QueryLanguage", one({"Type": "Map", "End": True, "Iterator": {
        "QueryLanguage": "JSONata", "StartAt": "P", "States": {"P": PASS_END}}}),
     [(SCHEMA, "Field 'QueryLanguage' is not supported", "/States/S/Iterator")]),
    ("Map MaxConcurrency negative", one({"Type": "Map", "End": True, "MaxConcurrency": -1,
                                         "ItemProcessor": {"StartAt": "P", "States": {"P": PASS_END}}}),
     [(SCHEMA, "Minimum value is 0", "/States/S/MaxConcurrency")]),
    ("ProcessorConfig mode", one({"Type": "Map", "End": True, "ItemProcessor": {
        "ProcessorConfig": {"Mode": "SERIAL"}, "StartAt": "P", "States": {"P": PASS_END}}}),
     [(SCHEMA, "Value should be one of the following: [INLINE, DISTRIBUTED]",
       "/States/S/ItemProcessor/ProcessorConfig/Mode")]),
    ("distributed without ExecutionType", one({"Type": "Map", "End": True, "ItemProcessor": {
        "ProcessorConfig": {"Mode": "DISTRIBUTED"}, "StartAt": "P", "States": {"P": PASS_END}}}),
     [(SCHEMA, "These fields are required: [ExecutionType]", "/States/S/ItemProcessor/ProcessorConfig")]),
    ("Error and ErrorPath", one({"Type": "Fail", "Error": "E", "ErrorPath": "$.e"}),
     [(SCHEMA, "At most one of these fields is allowed: [Error, ErrorPath]", "/States/S/Error")]),
    ("MaxConcurrency and its path", one({"Type": "Map", "End": True, "MaxConcurrency": 1, "MaxConcurrencyPath": "$.m",
                                         "ItemProcessor": {"StartAt": "P", "States": {"P": PASS_END}}}),
     [(SCHEMA, "At most one of these fields is allowed: [MaxConcurrency, MaxConcurrencyPath]",
       "/States/S/MaxConcurrency")]),
    ("wait timestamp", one({"Type": "Wait", "Timestamp": "2016-12-05T25:29:29Z", "End": True}),
     [(SCHEMA, "String does not match RFC3339 timestamp", "/States/S/Timestamp")]),
    ("wait two fields", one({"Type": "Wait", "Seconds": 1, "SecondsPath": "$.s", "End": True}),
     [(SCHEMA, "Exactly one of these fields is required: [Seconds, SecondsPath, Timestamp, TimestampPath]",
       "/States/S")]),
    ("wait seconds negative", one({"Type": "Wait", "Seconds": -1, "End": True}),
     [(SCHEMA, "Minimum value is 0", "/States/S/Seconds")]),
    # query languages
    ("downgrade", {**one({**PASS_END, "QueryLanguage": "JSONPath"}), "QueryLanguage": "JSONata"},
     [(SCHEMA, "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine", "/States/S")]),
    ("downgrade hides field family", {**one({**PASS_END, "QueryLanguage": "JSONPath", "Output": {"v": 1}}),
                                     "QueryLanguage": "JSONata"},
     [(SCHEMA, "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine", "/States/S")]),
    ("JSONPath field on JSONata state", {**one({**PASS_END, "InputPath": "$.a", "OutputPath": "$.b"}),
                                         "QueryLanguage": "JSONata"},
     [(SCHEMA, LANG_ONLY.format("JSONata", "InputPath", "JSONPath"), "/States/S"),
      (SCHEMA, LANG_ONLY.format("JSONata", "OutputPath", "JSONPath"), "/States/S")]),
    ("JSONata field on JSONPath state", one({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                                             "Arguments": {"a": 1}, "End": True}),
     [(SCHEMA, LANG_ONLY.format("JSONPath", "Arguments", "JSONata"), "/States/S")]),
    ("Items on JSONPath map", one({"Type": "Map", "Items": [1], "End": True,
                                   "ItemProcessor": {"StartAt": "P", "States": {"P": PASS_END}}}),
     [(SCHEMA, LANG_ONLY.format("JSONPath", "Items", "JSONata"), "/States/S")]),
    ("bad QueryLanguage value", {**one(PASS_END), "QueryLanguage": "jsonata"},
     [(SCHEMA, "Value should be one of the following: [JSONPath, JSONata]", "/QueryLanguage")]),
    ("QueryLanguage not a string", {**one(PASS_END), "QueryLanguage": 5},
     [(SCHEMA, "Expected value of type [STRING]", "/QueryLanguage")]),
    ("unknown state QueryLanguage resolves to JSONata", one({**PASS_END, "QueryLanguage": "foo", "InputPath": "$.a"}),
     [(SCHEMA, LANG_ONLY.format("JSONata", "InputPath", "JSONPath"), "/States/S"),
      (SCHEMA, "Value should be one of the following: [JSONPath, JSONata]", "/States/S/QueryLanguage")]),
    ("Map language does not reach its body", one({"Type": "Map", "QueryLanguage": "JSONata", "End": True,
                                                  "ItemProcessor": {"StartAt": "P", "States": {
                                                      "P": {**PASS_END, "Output": {"v": "{% 1 %}"}}}}}),
     [(SCHEMA, LANG_ONLY.format("JSONPath", "Output", "JSONata"), "/States/S/ItemProcessor/States/P")]),
    ("JSONata machine body inherits", {**one({"Type": "Map", "End": True, "ItemProcessor": {
        "StartAt": "P", "States": {"P": {**PASS_END, "Output": {"v": "{% 1 %}"}}}}}), "QueryLanguage": "JSONata"}, []),
    ("Assign allowed in JSONPath", one({**PASS_END, "Assign": {"counter": 1, "x.$": "$.a"}}), []),
    # paths and intrinsics
    ("bad intrinsic", one({**PASS_END, "Parameters": {"parsed.$": "States.Format('a', 'b'"}}),
     [(SCHEMA, "The value for the field 'parsed.$' must be a valid JSONPath or a valid intrinsic function call",
       "/States/S/Parameters")]),
    ("unknown intrinsic", one({**PASS_END, "Parameters": {"x.$": "States.Nope(1)"}}),
     [(SCHEMA, "The value for the field 'x.$' must be a valid JSONPath or a valid intrinsic function call",
       "/States/S/Parameters")]),
    ("nested bad path", one({**PASS_END, "Parameters": {"a": {"b.$": "not a path"}}}),
     [(SCHEMA, "The value for the field 'b.$' must be a valid JSONPath or a valid intrinsic function call",
       "/States/S/Parameters/a")]),
    ("dollar value not a string", one({**PASS_END, "Parameters": {"b.$": 3}}),
     [(SCHEMA, "The value for the field 'b.$' must be a valid JSONPath or a valid intrinsic function call",
       "/States/S/Parameters")]),
    ("good payload", one({**PASS_END, "Parameters": {"a.$": "$.x", "c.$": "$$.Execution.Id", "v.$": "$var",
                                                    "f.$": "States.Format('{}', $.x)", "l": ["$.y"]}}), []),
    ("Parameters not an object", one({**PASS_END, "Parameters": "x"}),
     [(SCHEMA, "Expected value of type [OBJECT]", "/States/S/Parameters")]),
    ("bad InputPath", one({**PASS_END, "InputPath": "a.b"}),
     [(SCHEMA, "The value for the field 'InputPath' must be a valid JSONPath", "/States/S/InputPath")]),
    ("null paths", one({**PASS_END, "InputPath": None, "OutputPath": None, "ResultPath": None}), []),
    ("ResultPath into context", one({**PASS_END, "ResultPath": "$$.x"}),
     [(SCHEMA, "The value for the field 'ResultPath' must be a valid JSONPath", "/States/S/ResultPath")]),
    ("ResultPath into a variable", one({**PASS_END, "ResultPath": "$var.x"}),
     [(SCHEMA, "The value for the field 'ResultPath' must be a valid JSONPath", "/States/S/ResultPath")]),
    ("ResultPath with a wildcard", one({**PASS_END, "ResultPath": "$.a[*]"}),
     [(SCHEMA, "The value for the field 'ResultPath' must be a valid JSONPath", "/States/S/ResultPath")]),
    ("ResultPath reference", one({**PASS_END, "ResultPath": "$.a['b c'][0]"}), []),
    ("bad ErrorPath", one({"Type": "Fail", "ErrorPath": "oops"}),
     [(SCHEMA, "The value for the field 'ErrorPath' must be a valid JSONPath or a valid intrinsic function call",
       "/States/S/ErrorPath")]),
    ("intrinsic CausePath", one({"Type": "Fail", "CausePath": "States.Format('x{}', $.a)"}), []),
    # Task
    ("credentials without role", {**one({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                                         "Credentials": {"Other": 1}, "End": True})},
     [(SCHEMA, "The field 'RoleArn' is required but was missing", "/States/S/Credentials")]),
    ("credentials role path", one({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                                   "Credentials": {"RoleArn.$": "$.role"}, "End": True}), []),
    ("task timeout zero", one({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                               "TimeoutSeconds": 0, "End": True}),
     [(SCHEMA, "Minimum value is 1", "/States/S/TimeoutSeconds")]),
    # Retry and Catch
    ("retry without ErrorEquals", one({"Type": "Task", "Resource": "r", "End": True, "Retry": [{"MaxAttempts": 1}]}),
     [(SCHEMA, "These fields are required: [ErrorEquals]", "/States/S/Retry[0]")]),
    ("retry empty ErrorEquals", one({"Type": "Task", "Resource": "r", "End": True, "Retry": [{"ErrorEquals": []}]}),
     [(SCHEMA, "Value cannot be empty", "/States/S/Retry[0]/ErrorEquals")]),
    ("retry unknown field", one({"Type": "Task", "Resource": "r", "End": True,
                                 "Retry": [{"ErrorEquals": ["E"], "Foo": 1}]}),
     [(SCHEMA, "Field 'Foo' is not supported", "/States/S/Retry[0]")]),
    ("retry numbers", one({"Type": "Task", "Resource": "r", "End": True, "Retry": [
        {"ErrorEquals": ["E"], "IntervalSeconds": 0, "MaxAttempts": -1, "BackoffRate": 0.5,
         "JitterStrategy": "SOME"}]}),
     [(SCHEMA, "Minimum value is 1", "/States/S/Retry[0]/IntervalSeconds"),
      (SCHEMA, "Minimum value is 0", "/States/S/Retry[0]/MaxAttempts"),
      (SCHEMA, "Minimum value is 1", "/States/S/Retry[0]/BackoffRate"),
      (SCHEMA, "Value should be one of the following: [FULL, NONE]", "/States/S/Retry[0]/JitterStrategy")]),
    ("States.ALL not alone", one({"Type": "Task", "Resource": "r", "End": True,
                                  "Retry": [{"ErrorEquals": ["States.ALL", "E"]}]}),
     [(SCHEMA, "States.ALL must appear alone in the ErrorEquals array", "/States/S/Retry[0]/ErrorEquals")]),
    ("States.ALL not last", one({"Type": "Task", "Resource": "r", "End": True,
                                 "Retry": [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["E"]}]}),
     [(SCHEMA, "A Retrier with States.ALL must be the last Retrier", "/States/S/Retry[0]/ErrorEquals")]),
    ("catch without Next", one({"Type": "Task", "Resource": "r", "End": True, "Catch": [{"ErrorEquals": ["E"]}]}),
     [(SCHEMA, "These fields are required: [Next]", "/States/S/Catch[0]")]),
    ("catch ResultPath in JSONata", {**one({"Type": "Task", "Resource": "r", "End": True, "Catch": [
        {"ErrorEquals": ["E"], "Next": "S", "ResultPath": "$.e"}]}), "QueryLanguage": "JSONata"},
     [(SCHEMA, "Field 'ResultPath' is not supported", "/States/S/Catch[0]")]),
    # Choice rules
    ("choice rule without operator", one({"Type": "Choice", "Choices": [{"Variable": "$.a", "Next": "S"}]}),
     [(SCHEMA, "A Choice Rule must have exactly one comparison operator or And, Or, Not", "/States/S/Choices[0]")]),
    ("choice rule wrong value type", one({"Type": "Choice", "Choices": [
        {"Variable": "$.a", "NumericEquals": "1", "Next": "S"}]}),
     [(SCHEMA, "Expected value of type [NUMBER]", "/States/S/Choices[0]/NumericEquals")]),
    ("choice rule bad Variable", one({"Type": "Choice", "Choices": [
        {"Variable": "a", "IsPresent": True, "Next": "S"}]}),
     [(SCHEMA, "The value for the field 'Variable' must be a valid JSONPath", "/States/S/Choices[0]/Variable")]),
    ("choice nested rule with Next", one({"Type": "Choice", "Choices": [
        {"Not": {"Variable": "$.a", "IsNull": True, "Next": "S"}, "Next": "S"}]}),
     [(SCHEMA, "Field 'Next' is not supported", "/States/S/Choices[0]/Not")]),
    ("choice empty And", one({"Type": "Choice", "Choices": [{"And": [], "Next": "S"}]}),
     [(SCHEMA, "Value cannot be empty", "/States/S/Choices[0]/And")]),
    ("JSONata choice needs Condition", {**one({"Type": "Choice", "Choices": [{"Next": "S"}]}),
                                       "QueryLanguage": "JSONata"},
     [(SCHEMA, "These fields are required: [Condition]", "/States/S/Choices[0]")]),
    ("choice timestamp literal", one({"Type": "Choice", "Choices": [
        {"Variable": "$.t", "TimestampEquals": "2016-03-14", "Next": "S"}]}),
     [(SCHEMA, "String does not match RFC3339 timestamp", "/States/S/Choices[0]/TimestampEquals")]),
    # graph
    ("dangling Next and unreachable", {"StartAt": "pass1", "States": {
        "pass1": {"Type": "Pass", "Next": "pass3"}, "pass2": PASS_END}},
     [(TARGET, "Missing 'Next' target: pass3", "/States/pass1/Next"),
      (TARGET, 'State "pass2" is not reachable.', "/States/pass2")]),
    ("dangling Next without terminal", {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "NOPE"}}},
     [(TARGET, "Missing 'Next' target: NOPE", "/States/A/Next"),
      ("MISSING_END_STATE", "Workflow has no terminal state", None)]),
    ("unreachable", {"StartAt": "A", "States": {"A": PASS_END, "a/b": PASS_END}},
     [(TARGET, 'State "a/b" is not reachable.', "/States/a/b")]),
    ("dangling StartAt", {"StartAt": "Nope", "States": {"A": PASS_END}},
     [(TARGET, "Missing 'Next' target: Nope", "/StartAt"), (TARGET, 'State "A" is not reachable.', "/States/A")]),
    ("loop without terminal", {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"},
                                                          "B": {"Type": "Pass", "Next": "A"},
                                                          "U": {"Type": "Pass", "Next": "A"}}},
     [("MISSING_END_STATE", "Workflow has no terminal state", None)]),
    ("top-level loop with a terminal state inside a Map is fine", {"StartAt": "A", "States": {
        "A": {"Type": "Map", "Next": "B", "ItemProcessor": {"StartAt": "I", "States": {"I": PASS_END}}},
        "B": {"Type": "Wait", "Seconds": 10, "Next": "A"}}}, []),
    ("nested loop is fine", one({"Type": "Map", "End": True, "ItemProcessor": {"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"}}}}), []),
    ("dangling choice and catch targets", {"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsPresent": True, "Next": "Ghost"}],
              "Default": "T"},
        "T": {"Type": "Task", "Resource": "r", "End": True, "Catch": [{"ErrorEquals": ["E"], "Next": "Ghost2"}]}}},
     [(TARGET, "Missing 'Next' target: Ghost", "/States/C/Choices[0]/Next"),
      (TARGET, "Missing 'Next' target: Ghost2", "/States/T/Catch[0]/Next")]),
    ("unreachable in branch", one({"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "W", "States": {"W": PASS_END, "Ghost": PASS_END}}]}),
     [(TARGET, 'State "Ghost" is not reachable.', "/States/S/Branches[0]/States/Ghost")]),
    ("next into another scope", {"StartAt": "M", "States": {"M": {
        "Type": "Map", "Next": "P", "ItemProcessor": {"StartAt": "P", "States": {"P": PASS_END}}}, "Q": PASS_END}},
     [(TARGET, "Missing 'Next' target: P", "/States/M/Next"), (TARGET, 'State "Q" is not reachable.', "/States/Q")]),
    ("schema errors come alone", {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B", "Foo": 1}}},
     [(SCHEMA, "Field 'Foo' is not supported", "/States/A")]),
    ("duplicate state name", {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "P", "States": {"P": PASS_END}}]}}},
     [("DUPLICATE_STATE_NAME", "Duplicate State name: P", "/States/P/Branches[0]/States/P")]),
]


@pytest.mark.parametrize(("raw", "expected"), [(raw, exp) for _, raw, exp in CASES], ids=[c[0] for c in CASES])
def test_diagnostics(raw: Any, expected: list[tuple[str, str, str | None]]) -> None:
    assert found(raw) == expected


EXPRESS = [
    ("arn:aws:states:::sqs:sendMessage.waitForTaskToken",
     "Express state machine does not support '.waitForTaskToken' service integration "),
    ("arn:aws:states:::states:startExecution.sync", "Express state machine does not support '.sync' service integration"),
    ("arn:aws:states:::states:startExecution.sync:2", "Express state machine does not support '.sync' service integration"),
    ("arn:aws:states:us-east-1:111111111111:activity:act", "Express state machine does not support Activity ARN"),
]


@pytest.mark.parametrize(("resource", "message"), EXPRESS, ids=[r for r, _ in EXPRESS])
def test_express_integrations(resource: str, message: str) -> None:
    raw = one({"Type": "Task", "Resource": resource, "End": True})
    assert found(raw, type="EXPRESS") == [(SCHEMA, message, "/States/S/Resource")]
    assert found(raw, type="STANDARD") == []


JSONATA = [
    ("1 +", "Unexpected end of expression"),
    ('"unterminated', "String literal must be terminated by a matching quote"),
]


@pytest.mark.parametrize(("expression", "message"), JSONATA, ids=[e for e, _ in JSONATA])
def test_invalid_jsonata(expression: str, message: str) -> None:
    raw = {**one({**PASS_END, "Output": {"v": "{% " + expression + " %}"}}), "QueryLanguage": "JSONata"}
    assert found(raw) == [("INVALID_JSONATA_EXPRESSION", message, "/States/S/Output/v")]


UNSUPPORTED = [
    ("phone", "Reference to 'phone' at the top level is not supported."),
    ("$$", "Reference to '$$' is not supported."),
    ("$states.errorOutput", "Field '$states.errorOutput' does not exist."),
    ("$states.result", "Field '$states.result' does not exist."),
    ("$states.nope.x", "Field '$states.nope' does not exist."),
]


@pytest.mark.parametrize(("expression", "message"), UNSUPPORTED, ids=[e for e, _ in UNSUPPORTED])
def test_unsupported_jsonata(expression: str, message: str) -> None:
    raw = {**one({**PASS_END, "Output": {"v": "{% " + expression + " %}"}}), "QueryLanguage": "JSONata"}
    assert found(raw) == [("UNSUPPORTED_JSONATA_EXPRESSION", message, "/States/S/Output/v")]


def test_states_fields_where_aws_provides_them() -> None:
    raw = {"QueryLanguage": "JSONata", "StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True,
              "Output": "{% $states.result %}", "Assign": {"r": "{% $states.result.x %}"},
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "H", "Output": "{% $states.errorOutput %}",
                         "Assign": {"e": "{% $states.errorOutput.Error & '$states.result' %}"}}]},
        "H": {"Type": "Pass", "End": True}}}
    assert found(raw) == []
    raw["States"]["T"]["Arguments"] = {"x": "{% $states.errorOutput %}"}
    assert found(raw) == [("UNSUPPORTED_JSONATA_EXPRESSION", "Field '$states.errorOutput' does not exist.",
                           "/States/T/Arguments/x")]


RESOURCES = [
    ("arn:aws:states:::dynamodb:query", False),
    ("arn:aws:states:::sqs:deleteMessage", False),
    ("arn:aws:states:::dynamodb:putItem", True),
    ("arn:aws:states:::lambda:invoke.waitForTaskToken", True),
    ("arn:aws:states:::states:startExecution.sync:2", True),
    ("arn:aws:states:::aws-sdk:dynamodb:query", True),
    ("arn:aws:states:::s3:getObject", True),
    ("arn:aws:lambda:us-east-1:111111111111:function:f", True),
]


@pytest.mark.parametrize(("resource", "known"), RESOURCES, ids=[r for r, _ in RESOURCES])
def test_optimized_integrations(resource: str, known: bool) -> None:
    raw = one({"Type": "Task", "Resource": resource, "End": True})
    message = (f"The resource provided {resource} is not recognized. The value is not a valid resource ARN, or "
               "the resource is not available in this region.")
    assert found(raw) == ([] if known else [(SCHEMA, message, "/States/S/Resource")])


TIMESTAMPS = [
    ("2016-03-14T01:59:00Z", True), ("2016-03-05T21:29:29.243167252Z", True), ("2016-03-14T01:59:00+05:30", True),
    ("2016-12-05 21:29:29Z", False), ("2016-12-05T21:29:29", False), ("2016-13-05T21:29:29Z", False),
    ("2016-12-05T25:29:29Z", False), ("05-12-2016T21:29:29Z", False), ("{% '2016-03-14T01:59:00Z' %}", False),
]


@pytest.mark.parametrize(("timestamp", "valid"), TIMESTAMPS, ids=[t for t, _ in TIMESTAMPS])
def test_wait_timestamps(timestamp: str, valid: bool) -> None:
    raw = one({"Type": "Wait", "Timestamp": timestamp, "End": True})
    assert found(raw) == ([] if valid else [(SCHEMA, "String does not match RFC3339 timestamp", "/States/S/Timestamp")])


def test_valid_jsonata_fields() -> None:
    raw = {"QueryLanguage": "JSONata", "StartAt": "M", "States": {"M": {
        "Type": "Map", "Items": "{% $states.input.items %}", "MaxConcurrency": "{% 2 %}",
        "ItemSelector": {"v": "{% $states.context.Map.Item.Value %}"},
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "Output": "{% $states.input %}",
                                                          "End": True}}},
        "Assign": {"n": "{% $count($states.result) %}"}, "Next": "W"},
        "W": {"Type": "Wait", "Seconds": "{% 1 %}", "Next": "F"},
        "F": {"Type": "Fail", "Error": "{% 'E' %}", "Cause": "plain"}}}
    assert found(raw) == []


# ---------------------------------------------------------------- JSON text

JSON_ERRORS = [
    ("not a definition",
     "Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or "
     "'false')", '[Source: (String)"not a definition"; line: 1, column: 4]'),
    ('{"a":1,}', "Unexpected character ('}' (code 125)): was expecting double-quote to start field name",
     '[Source: (String)"{"a":1,}"; line: 1, column: 9]'),
    ('{"a" 1}', "Unexpected character ('1' (code 49)): was expecting a colon to separate field name and value",
     '[Source: (String)"{"a" 1}"; line: 1, column: 7]'),
    ('{"a":1 "b":2}', "Unexpected character ('\"' (code 34)): was expecting comma to separate Object entries",
     '[Source: (String)"{"a":1 "b":2}"; line: 1, column: 9]'),
    ("{\n", "Unexpected end-of-input: expected close marker for Object (start marker at "
            '[Source: (String)"{\n"; line: 1, column: 1])', '[Source: (String)"{\n"; line: 2, column: 1]'),
    ("[1,]", "Unexpected character (']' (code 93)): expected a valid value (JSON String, Number, Array, Object or "
             "token 'null', 'true' or 'false')", '[Source: (String)"[1,]"; line: 1, column: 5]'),
    ('{"a":1,"b":}', "Unexpected character ('}' (code 125)): expected a value",
     '[Source: (String)"{"a":1,"b":}"; line: 1, column: 13]'),
    ('{"a": [}', "Unexpected close marker '}': expected ']' (for Array starting at "
                 '[Source: (String)"{"a": [}"; line: 1, column: 7])', '[Source: (String)"{"a": [}"; line: 1, column: 9]'),
    ('{"a": "x\ny"}', "Illegal unquoted character ((CTRL-CHAR, code 10)): has to be escaped using backslash to be "
                      "included in string value", '[Source: (String)"{"a": "x\ny"}"; line: 1, column: 10]'),
    ('{\n"a":\n\u0007}', "Illegal character ((CTRL-CHAR, code 7)): only regular white space (\\r, \\n, \\t) is "
                        "allowed between tokens", '[Source: (String)"{\n"a":\n\u0007}"; line: 3, column: 2]'),
    ('{"a": NaN}', "Non-standard token 'NaN': enable JsonParser.Feature.ALLOW_NON_NUMERIC_NUMBERS to allow",
     '[Source: (String)"{"a": NaN}"; line: 1, column: 10]'),
]


@pytest.mark.parametrize(("text", "message", "location"), JSON_ERRORS, ids=[t for t, _, _ in JSON_ERRORS])
def test_invalid_json(text: str, message: str, location: str) -> None:
    assert validate_definition_response(text) == {
        "result": "FAIL", "truncated": False,
        "diagnostics": [{"severity": "ERROR", "code": "INVALID_JSON_DESCRIPTION",
                         "message": f"{message}\n at {location}", "location": location}]}
    with pytest.raises(InvalidDefinition) as raised:
        load_json(text)
    assert raised.value.diagnostics[0].message == f"{message}\n at {location}"


def test_jackson_ignores_trailing_content() -> None:
    assert load_json('{"StartAt": "S"} trailing') == {"StartAt": "S"}


@pytest.mark.parametrize("text", [" ", "[]", "1", "null"])
def test_not_an_object(text: str) -> None:
    assert validate_definition_response(text)["diagnostics"] == [
        {"severity": "ERROR", "code": "SCHEMA_VALIDATION_FAILED", "message": "Definition must be a valid JSON object"}]


def test_long_source_is_truncated() -> None:
    text = "x" * 600
    location = validate_definition_response(text)["diagnostics"][0]["location"]
    # Jackson reads at most 256 characters of an unrecognized token, and stops there
    assert location == '[Source: (String)"' + "x" * 500 + '"[truncated 100 chars]; line: 1, column: 257]'


DEEP_DEFINITION = '{"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": ' + "[" * 5000 + "]" * 5000 + \
    ', "End": true}}}'
DEPTH_ERROR = ("Document nesting depth (1001) exceeds the maximum allowed (1000, from "
               "`StreamReadConstraints.getMaxNestingDepth()`)")


@pytest.mark.parametrize("text", ["[" * 5000 + "]" * 5000, '{"a":' * 5000, DEEP_DEFINITION])
def test_deep_nesting_is_jacksons_error_not_a_crash(text: str) -> None:
    assert validate_definition_response(text)["diagnostics"] == [
        {"severity": "ERROR", "code": "INVALID_JSON_DESCRIPTION", "message": DEPTH_ERROR}]
    with pytest.raises(InvalidDefinition) as raised:
        load(text)
    assert raised.value.message == f"Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: {DEPTH_ERROR} at null'"


def test_nesting_up_to_jacksons_limit_is_read() -> None:
    text = '{"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": ' + "[" * 997 + "]" * 997 + ', "End": true}}}'
    assert run_sync(load(text), "{}").output == "[" * 997 + "]" * 997


# ---------------------------------------------------------------- the API helpers


def test_load_definition_renders_every_error() -> None:
    text = json.dumps({"StartAt": "pass1", "States": {"pass1": {"Type": "Pass", "Next": "pass3"},
                                                      "pass2": PASS_END}})
    with pytest.raises(InvalidDefinition) as raised:
        load_definition(text)
    assert raised.value.message == ("Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' "
                                    "target: pass3 at /States/pass1/Next, MISSING_TRANSITION_TARGET: State "
                                    "\"pass2\" is not reachable. at /States/pass2'")


def test_missing_location_renders_as_null() -> None:
    text = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "A"}}})
    with pytest.raises(InvalidDefinition) as raised:
        load_definition(text)
    assert raised.value.message == ("Invalid State Machine Definition: 'MISSING_END_STATE: Workflow has no "
                                    "terminal state at null'")


def test_response_truncation_and_result() -> None:
    text = json.dumps({"QueryLanguage": "JSONata", **one({**PASS_END, "InputPath": "$", "OutputPath": "$",
                                                          "ResultPath": "$"})})
    assert len(validate_definition_response(text)["diagnostics"]) == 3
    first = validate_definition_response(text, max_results=1)
    assert (first["result"], len(first["diagnostics"]), first["truncated"]) == ("FAIL", 1, True)
    assert validate_definition_response(json.dumps(one(PASS_END))) == {"result": "OK", "diagnostics": [],
                                                                       "truncated": False}


def test_warnings_only_when_asked() -> None:
    text = json.dumps(one({**PASS_END, "Parameters": {"a": "$.x"}, "Result": {"b": "$.y"}}))
    assert validate_definition_response(text)["diagnostics"] == []
    answer = validate_definition_response(text, severity="WARNING")
    assert answer["result"] == "OK"
    assert [(d["code"], d["location"]) for d in answer["diagnostics"]] == [
        ("NO_DOLLAR", "/States/S/Parameters"), ("PASS_RESULT_IS_STATIC", "/States/S/Result")]


# ---------------------------------------------------------------- recorded AWS answers


def _cases(shared_dir: Path) -> list[dict[str, Any]]:
    folder = shared_dir / "conformance" / "asl" / "cases"
    if not folder.is_dir():
        pytest.skip(f"no conformance cases at {folder}")
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]


def _text(case: dict[str, Any]) -> str:
    return case.get("definition_text") or json.dumps(case["definition"])


def test_recorded_valid_definitions_have_no_errors(shared_dir: Path) -> None:
    rejected = {}
    for case in _cases(shared_dir):
        if case["kind"] in ("create_error", "validate"):
            continue
        errors = [d for d in validate(load_json(_text(case)), type=case["state_machine_type"])
                  if d.severity == "ERROR"]
        if errors:
            rejected[case["id"]] = errors
    assert rejected == {}


def test_recorded_create_errors(shared_dir: Path) -> None:
    cases = [c for c in _cases(shared_dir) if c["kind"] == "create_error"]
    assert cases
    for case in cases:
        with pytest.raises(InvalidDefinition) as raised:
            load_definition(_text(case), type=case["state_machine_type"])
        assert raised.value.message == case["expect"]["create_error"]["message"], case["id"]


def test_recorded_validate_answers(shared_dir: Path) -> None:
    cases = [c for c in _cases(shared_dir) if c["kind"] == "validate"]
    assert cases
    for case in cases:
        answer = validate_definition_response(_text(case), type=case["state_machine_type"])
        assert answer == case["expect"]["validate"], case["id"]
