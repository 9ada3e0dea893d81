"""engine.asl.choice: every operator, And/Or/Not, errors, and the recorded choice-operators cases."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.asl.choice import And, Comparison, InvalidRule, Not, Or, build_rule, evaluate, parse_timestamp
from engine.asl.paths import Scope
from engine.errors import StatesError
from tests.conftest import SHARED

CASES = SHARED / "conformance" / "asl" / "cases"


def check(rule: dict[str, Any], value: Any, **extra: Any) -> bool:
    raw = {"Variable": "$.v", **rule}
    return evaluate(build_rule(raw, at="/States/C/Choices[0]"), Scope({"v": value, **extra}))


# --- operators ------------------------------------------------------------------------------

TABLE = [
    # (operator, operand, value, expected)
    ("StringEquals", "a", "a", True),
    ("StringEquals", "a", "b", False),
    ("StringEquals", "1", 1, False),
    ("StringEquals", "", None, False),
    ("StringLessThan", "b", "a", True),
    ("StringLessThan", "a", "a", False),
    ("StringLessThan", "AB", "A", True),
    ("StringLessThan", "a", "B", True),  # ordinal, not case-insensitive
    ("StringLessThan", "\uffff", "\U0001f600", True),  # UTF-16 code units, as Java compares
    ("StringGreaterThan", "a", "b", True),
    ("StringGreaterThan", "a", 5, False),
    ("StringLessThanEquals", "a", "a", True),
    ("StringLessThanEquals", "a", "b", False),
    ("StringGreaterThanEquals", "A", "AB", True),
    ("StringGreaterThanEquals", "b", "a", False),
    ("NumericEquals", 1, 1.0, True),
    ("NumericEquals", 2.22, 2.22, True),
    ("NumericEquals", 1, True, False),
    ("NumericEquals", 0, False, False),
    ("NumericEquals", 0, "0", False),
    ("NumericEquals", 0, None, False),
    ("NumericLessThan", 1, 0, True),
    ("NumericLessThan", 1, 1.0, False),
    ("NumericLessThan", 1.5, 1, True),
    ("NumericGreaterThan", 1, 1.1, True),
    ("NumericGreaterThan", 1, 1, False),
    ("NumericLessThanEquals", 1, 1, True),
    ("NumericLessThanEquals", 1, 2, False),
    ("NumericGreaterThanEquals", 0, 0.0, True),
    ("NumericGreaterThanEquals", 1, 0, False),
    ("NumericGreaterThanEquals", 1, [2], False),
    ("BooleanEquals", True, True, True),
    ("BooleanEquals", False, False, True),
    ("BooleanEquals", True, False, False),
    ("BooleanEquals", True, 1, False),
    ("BooleanEquals", False, 0, False),
    ("BooleanEquals", False, "false", False),
    ("TimestampEquals", "2012-10-09T19:00:55Z", "2012-10-09T19:00:55Z", True),
    ("TimestampEquals", "2012-10-09T19:00:55Z", "2012-10-09T20:00:55+01:00", False),  # input needs Z
    ("TimestampEquals", "2012-10-09T19:00:55Z", "2012-10-09T19:00:55.000Z", True),
    ("TimestampEquals", "2012-10-09T19:00:55Z", "2012-10-09T19:00:55", False),
    ("TimestampEquals", "2012-10-09T19:00:55Z", 1349809255, False),
    ("TimestampLessThan", "2012-10-09T19:00:56Z", "2012-10-09T19:00:55Z", True),
    ("TimestampLessThan", "2012-10-09T19:00:55.000000001Z", "2012-10-09T19:00:55Z", True),
    ("TimestampLessThan", "2012-10-09T19:00:55Z", "2012-10-09T19:00:55Z", False),
    ("TimestampGreaterThan", "2012-10-09T19:00:55Z", "2012-10-09T19:00:56Z", True),
    ("TimestampGreaterThan", "2012-10-09T19:00:55Z", "2012-10-09T19:00:56+01:00", False),
    ("TimestampLessThanEquals", "2012-10-09T19:00:55Z", "2012-10-09T19:00:55Z", True),
    ("TimestampLessThanEquals", "2012-10-09T19:00:55Z", "2012-10-09T19:00:56Z", False),
    ("TimestampGreaterThanEquals", "2012-10-09T19:00:55Z", "2012-10-09T19:00:55Z", True),
    ("TimestampGreaterThanEquals", "2012-10-09T19:00:55Z", "not a date", False),
    ("StringMatches", "log-*.txt", "log-2024.txt", True),
    ("StringMatches", "log-*.txt", "log-.txt", True),
    ("StringMatches", "log-*.txt", "log-1.csv", False),
    ("StringMatches", "*", "", True),
    ("StringMatches", "a*b*c", "a-x-b-y-c", True),
    ("StringMatches", "a\\*", "a*", True),
    ("StringMatches", "a\\*", "ab", False),
    ("StringMatches", "a\\\\*", "a\\xyz", True),
    ("StringMatches", "a.c", "abc", False),
    ("StringMatches", "line*", "line1\nline2", True),
    ("StringMatches", "*", 5, False),
    ("IsNull", True, None, True),
    ("IsNull", True, 0, False),
    ("IsNull", False, "", True),
    ("IsNumeric", True, 1.5, True),
    ("IsNumeric", True, True, False),
    ("IsNumeric", True, "1", False),
    ("IsNumeric", False, None, True),
    ("IsString", True, "", True),
    ("IsString", True, 1, False),
    ("IsString", False, None, True),
    ("IsBoolean", True, False, True),
    ("IsBoolean", True, 0, False),
    ("IsBoolean", False, "true", True),
    ("IsTimestamp", True, "2016-08-18T17:33:00Z", True),
    ("IsTimestamp", True, "2016-08-18T17:33:00.123456789Z", True),
    ("IsTimestamp", True, "2016-08-18T17:33:00.123456789+05:30", False),
    ("IsTimestamp", True, "2012-10-09T19:00:55+01:00", False),
    ("IsTimestamp", False, "2012-10-09T19:00:55+01:00", True),
    ("IsTimestamp", True, "2016-08-18T17:33Z", False),
    ("IsTimestamp", True, "2016-08-18t17:33:00Z", False),
    ("IsTimestamp", True, "2016-08-18T17:33:00z", False),
    ("IsTimestamp", True, "2016-08-18T17:33:00-00:00", False),
    ("IsTimestamp", True, "2016-08-18T17:33:00.Z", False),
    ("IsTimestamp", True, "2016-08-18T17:33:00", False),
    ("IsTimestamp", True, "2016-08-18 17:33:00Z", False),
    ("IsTimestamp", True, "2016-13-05T21:29:29Z", False),
    ("IsTimestamp", True, "2016-12-05T25:29:29Z", False),
    ("IsTimestamp", True, "2016-02-30T00:00:00Z", False),
    ("IsTimestamp", True, "05-12-2016T21:29:29Z", False),
    ("IsTimestamp", True, "2016-08-18T17:33:00.1234567890Z", False),
    ("IsTimestamp", True, "2016-08-18T17:33:00+24:00", False),
    ("IsTimestamp", True, "2016-08-18T17:33:00+01", False),
    ("IsTimestamp", True, "2016-08-18T17:33:00+0100", False),
    ("IsTimestamp", True, 20160818, False),
    ("IsTimestamp", False, "2016-08-18", True),
]


@pytest.mark.parametrize(("operator", "operand", "value", "expected"), TABLE,
                         ids=[f"{o}-{a!r}-{v!r}" for o, a, v, _ in TABLE])
def test_operator(operator: str, operand: Any, value: Any, expected: bool) -> None:
    assert check({operator: operand}, value) is expected


@pytest.mark.parametrize(("operator", "operand", "value", "expected"),
                         [row for row in TABLE if not row[0].startswith(("Is", "StringMatches"))],
                         ids=[f"{o}Path-{a!r}-{v!r}" for o, a, v, _ in TABLE if not o.startswith(("Is", "StringMatches"))])
def test_path_operator(operator: str, operand: Any, value: Any, expected: bool) -> None:
    assert check({f"{operator}Path": "$.other"}, value, other=operand) is expected


LITERAL_OFFSETS = [
    # Literals in the definition may carry an offset; values from the input may not.
    ("TimestampEquals", "2012-10-09T20:00:55+01:00", "2012-10-09T19:00:55Z", True),
    ("TimestampLessThan", "2012-10-09T20:00:56+01:00", "2012-10-09T19:00:55Z", True),
    ("TimestampGreaterThanEquals", "2012-10-09T18:00:55-01:00", "2012-10-09T19:00:55Z", True),
    ("TimestampGreaterThan", "2012-10-09T18:00:55-01:00", "2012-10-09T19:00:55Z", False),
]


@pytest.mark.parametrize(("operator", "operand", "value", "expected"), LITERAL_OFFSETS,
                         ids=[f"{o}-{a}" for o, a, *_ in LITERAL_OFFSETS])
def test_timestamp_literals_with_offsets(operator: str, operand: str, value: str, expected: bool) -> None:
    assert check({operator: operand}, value) is expected
    assert check({f"{operator}Path": "$.other"}, value, other=operand) is False


def test_path_operands_read_context_and_variables() -> None:
    rule = build_rule({"Variable": "$$.Map.Item.Index", "NumericEqualsPath": "$limit"}, at="/x")
    assert evaluate(rule, Scope({}, {"Map": {"Item": {"Index": 3}}}, {"limit": 3})) is True
    assert evaluate(rule, Scope({}, {"Map": {"Item": {"Index": 2}}}, {"limit": 3})) is False


IS_PRESENT = [({"v": 1}, True, True), ({"v": None}, True, True), ({}, True, False), ({}, False, True),
              ({"v": 1}, False, False)]


@pytest.mark.parametrize(("data", "operand", "expected"), IS_PRESENT)
def test_is_present(data: dict[str, Any], operand: bool, expected: bool) -> None:
    rule = build_rule({"Variable": "$.v", "IsPresent": operand}, at="/x")
    assert evaluate(rule, Scope(data)) is expected


def test_is_present_nested_and_indexes() -> None:
    present = build_rule({"Variable": "$.a.b[2]", "IsPresent": True}, at="/x")
    assert evaluate(present, Scope({"a": {"b": [0, 1, 2]}})) is True
    # Jackson reads an index past the end as null, so the path resolves (to null).
    assert evaluate(present, Scope({"a": {"b": [0]}})) is True
    assert evaluate(present, Scope({"a": {"b": 5}})) is False
    assert evaluate(present, Scope({"a": 1})) is False
    assert evaluate(present, Scope({})) is False


def test_boolean_composition() -> None:
    rule = build_rule({
        "Or": [
            {"Not": {"Variable": "$.type", "StringEquals": "Private"}},
            {"And": [{"Variable": "$.value", "NumericGreaterThanEquals": 20},
                     {"Variable": "$.value", "NumericLessThan": 30}]},
        ],
        "Next": "X",
    }, at="/States/C/Choices[0]")
    assert isinstance(rule, Or) and isinstance(rule.rules[0], Not) and isinstance(rule.rules[1], And)
    assert evaluate(rule, Scope({"type": "Public", "value": 0})) is True
    assert evaluate(rule, Scope({"type": "Private", "value": 22})) is True
    assert evaluate(rule, Scope({"type": "Private", "value": 30})) is False


def test_and_or_short_circuit() -> None:
    # The second rule reads a missing path: it is never reached.
    missing = {"Variable": "$.missing", "NumericEquals": 1}
    assert evaluate(build_rule({"And": [{"Variable": "$.v", "IsNull": False}, missing]}, at="/x"),
                    Scope({"v": None})) is False
    assert evaluate(build_rule({"Or": [{"Variable": "$.v", "IsNull": True}, missing]}, at="/x"),
                    Scope({"v": None})) is True


def test_built_rule_shape() -> None:
    rule = build_rule({"Variable": "$.a", "NumericLessThanPath": "$.b", "Next": "N", "Comment": "c"}, at="/x")
    assert isinstance(rule, Comparison)
    assert (rule.variable.text, rule.operator, rule.value_path and rule.value_path.text) == ("$.a", "NumericLessThan", "$.b")


# --- runtime errors -------------------------------------------------------------------------

def test_missing_variable_is_a_runtime_error() -> None:
    with pytest.raises(StatesError) as caught:
        evaluate(build_rule({"Variable": "$.processing_type", "StringEquals": "x"}, at="/x"), Scope({}))
    assert (caught.value.error, caught.value.cause) == (
        "States.Runtime",
        "Invalid path '$.processing_type': The choice state's condition path references an invalid value.")


@pytest.mark.parametrize("operator", ["IsNull", "IsString", "IsNumeric", "IsBoolean", "IsTimestamp"])
def test_type_tests_on_missing_variable_fail(operator: str) -> None:
    with pytest.raises(StatesError):
        evaluate(build_rule({"Variable": "$.x", operator: True}, at="/x"), Scope({}))


def test_null_input_is_a_runtime_error() -> None:
    # AWS support: intended behaviour (awslabs/states-language#29)
    rule = build_rule({"Variable": "$", "IsString": True}, at="/x")
    with pytest.raises(StatesError) as caught:
        evaluate(rule, Scope(None))
    assert caught.value.cause == "Unable to apply Path transformation to null or empty input."


def test_missing_operand_path_is_a_runtime_error() -> None:
    with pytest.raises(StatesError) as caught:
        check({"NumericEqualsPath": "$.nope"}, 1)
    assert caught.value.cause == "Invalid path '$.nope': The choice state's condition path references an invalid value."


# --- definition errors ----------------------------------------------------------------------

INVALID = [
    ({"Variable": "$.v"}, "/C/Choices[0]"),
    ({"NumericEquals": 1}, "/C/Choices[0]"),
    ({"Variable": "$.v", "NumericEquals": 1, "StringEquals": "a"}, "/C/Choices[0]"),
    ({"Variable": "$.v", "NumericEquals": "1"}, "/C/Choices[0]/NumericEquals"),
    ({"Variable": "$.v", "NumericEquals": True}, "/C/Choices[0]/NumericEquals"),
    ({"Variable": "$.v", "StringEquals": 1}, "/C/Choices[0]/StringEquals"),
    ({"Variable": "$.v", "BooleanEquals": "true"}, "/C/Choices[0]/BooleanEquals"),
    ({"Variable": "$.v", "IsNull": "true"}, "/C/Choices[0]/IsNull"),
    ({"Variable": "$.v", "IsPresent": 1}, "/C/Choices[0]/IsPresent"),
    ({"Variable": "$.v", "TimestampEquals": "yesterday"}, "/C/Choices[0]/TimestampEquals"),
    ({"Variable": "$.v", "Unknown": 1}, "/C/Choices[0]/Unknown"),
    ({"Variable": "v", "IsNull": True}, "/C/Choices[0]/Variable"),
    ({"Variable": "$.v", "NumericEqualsPath": "nope"}, "/C/Choices[0]/NumericEqualsPath"),
    ({"And": []}, "/C/Choices[0]/And"),
    ({"Or": {"Variable": "$.v", "IsNull": True}}, "/C/Choices[0]/Or"),
    ({"And": [{"Variable": "$.v", "IsNull": True}, {"Variable": "$.v"}]}, "/C/Choices[0]/And[1]"),
    ({"Not": {"Variable": "$.v", "Bogus": True}}, "/C/Choices[0]/Not/Bogus"),
    ({"Not": {"Variable": "$.v", "IsNull": True}, "Variable": "$.v"}, "/C/Choices[0]"),
]


@pytest.mark.parametrize(("raw", "location"), INVALID, ids=[json.dumps(r) for r, _ in INVALID])
def test_invalid_rules(raw: dict[str, Any], location: str) -> None:
    with pytest.raises(InvalidRule) as caught:
        build_rule(raw, at="/C/Choices[0]")
    assert isinstance(caught.value, ValueError)
    assert caught.value.location == location


def test_parse_timestamp() -> None:
    assert parse_timestamp("1970-01-01T00:00:00Z") == (0, 0)
    assert parse_timestamp("1970-01-01T01:00:00.5+01:00", offsets=True) == (0, 500_000_000)
    assert parse_timestamp("1970-01-01T01:00:00.5+01:00") is None
    assert parse_timestamp("1970-01-01T00:00:01Z") == (1, 0)
    assert parse_timestamp("1970-01-01T00:00:00-01:30", offsets=True) == (5400, 0)
    assert parse_timestamp("1970-01-01T00:00:00.000000001Z") == (0, 1)
    assert parse_timestamp("1970-01-01T00:00:00+0100", offsets=True) is None
    assert parse_timestamp("0001-01-01T00:00:00+23:59", offsets=True) == (-62135596800 - 86340, 0)
    assert parse_timestamp("9999-12-31T23:59:59-23:59", offsets=True) == (253402300799 + 86340, 0)
    assert parse_timestamp(None) is None


# --- the recorded choice-operators cases -------------------------------------------------------

def _case_files() -> list[Path]:
    if not CASES.is_dir():
        return []
    return sorted(p for p in CASES.glob("*.json") if json.loads(p.read_text())["category"] == "choice-operators")


def _chosen(case: dict[str, Any]) -> str:
    """The state AWS entered after the Choice: from the history, or from the Pass Result in the output."""
    states = case["definition"]["States"]
    history = case["expect"].get("history")
    if history:
        types = [event["type"] for event in history]
        after = history[types.index("ChoiceStateExited") + 1:]
        return next(e["stateEnteredEventDetails"]["name"] for e in after if "stateEnteredEventDetails" in e)
    output = case["expect"]["output"]
    [name] = [n for n, s in states.items() if s["Type"] == "Pass" and "Result" in s and s["Result"] == output]
    return name


def _choose(case: dict[str, Any]) -> str:
    definition = case["definition"]
    name = definition["StartAt"]
    state = definition["States"][name]
    assert state["Type"] == "Choice" and not {"InputPath", "OutputPath"} & state.keys()
    value = case.get("input")
    scope = Scope(value, {"Execution": {"Input": value}}, {})
    for i, raw in enumerate(state["Choices"]):
        if evaluate(build_rule(raw, at=f"/States/{name}/Choices[{i}]"), scope):
            return str(raw["Next"])
    return str(state["Default"])


CASE_FILES = _case_files()


@pytest.mark.skipif(not CASES.is_dir(), reason=f"shared conformance cases not found at {CASES}")
def test_recorded_cases_are_present() -> None:
    assert len(CASE_FILES) >= 300


@pytest.mark.parametrize("path", CASE_FILES, ids=[p.stem for p in CASE_FILES])
def test_recorded_choice_case(path: Path) -> None:
    case = json.loads(path.read_text())
    assert case["expect"]["status"] == "SUCCEEDED"
    assert _choose(case) == _chosen(case)
