"""Input expressions (``$.data`` subset) and condition expressions."""
from __future__ import annotations

import pytest

from engine.flows.expressions import (
    ConditionTypeError,
    ExpressionError,
    NoMatch,
    compile_condition,
    compile_input,
    type_name,
)

# The object of the user guide's expressions page [doc: flows-expressions].
DOC = {
    "animals": {"mammals": ["cat", "dog"], "reptiles": ["snake", "turtle", "iguana"]},
    "organisms": {"mammals": ["rabbit", "horse", "mouse"], "flowers": ["lily", "daisy"]},
    "numbers": [1, 2, 3, 5, 8],
}


@pytest.mark.parametrize(("text", "expected"), [
    ("$.data", DOC),
    ("$.data.numbers", [1, 2, 3, 5, 8]),
    ("$.data.animals.reptiles[2]", "iguana"),
    ("$.data.numbers[0, 3]", [1, 5]),
    ("$.data.organisms.mammals[1:]", ["horse", "mouse"]),
    ("$.data.numbers[:2]", [1, 2]),
    ("$.data.*.mammals", [["cat", "dog"], ["rabbit", "horse", "mouse"]]),
    ("$.data.numbers[*]", [1, 2, 3, 5, 8]),
], ids=lambda v: v if isinstance(v, str) else None)
def test_documented_expressions(text: str, expected: object) -> None:
    assert compile_input(text).evaluate(DOC) == expected


def test_plain_path_without_match_raises() -> None:
    with pytest.raises(NoMatch):
        compile_input("$.data.missing").evaluate(DOC)


def test_multi_path_without_match_is_empty_array() -> None:
    assert compile_input("$.data.missing[*]").evaluate(DOC) == []


@pytest.mark.parametrize("text", ["$.name", "$.data..x", "$.data[-1]", "$.data[?(@.a)]", "$.data['a b']", "data"])
def test_undocumented_forms_are_rejected(text: str) -> None:
    with pytest.raises(ExpressionError):
        compile_input(text)


@pytest.mark.parametrize(("text", "values", "expected"), [
    ('(retailPrice > 10) and (type == "produce")', {"retailPrice": 11, "type": "produce"}, True),
    ('(retailPrice > 10) and (type == "produce")', {"retailPrice": 11, "type": "meat"}, False),
    ("(retailPrice < marketPrice)", {"retailPrice": 5, "marketPrice": 6}, True),
    ("not a == 1 or b == 2", {"a": 1, "b": 2}, True),
    ("a == 1 or b == 2 and c == 3", {"a": 1, "b": 0, "c": 0}, True),
    ("flag == true", {"flag": True}, True),
    ("a == 1", {"a": "1"}, False),
    ("a != 1", {"a": "1"}, True),
    ("x >= 2.5", {"x": 2.5}, True),
    ("x <= -1", {"x": -2}, True),
])
def test_conditions(text: str, values: dict[str, object], expected: bool) -> None:
    assert compile_condition(text).evaluate(values) is expected


def test_condition_names() -> None:
    assert compile_condition('(a > 1) and (b == "x")').names == frozenset({"a", "b"})


@pytest.mark.parametrize("text", ["a > ", "a && b", "'x' == a", "(a > 1", "a + 1 > 2", ""])
def test_malformed_conditions(text: str) -> None:
    with pytest.raises(ExpressionError):
        compile_condition(text)


def test_ordering_on_string_is_a_type_error() -> None:
    with pytest.raises(ConditionTypeError) as info:
        compile_condition("a > 1").evaluate({"a": "x"})
    assert str(info.value) == "Operator '>' needs two Number operands, got STRING and NUMBER."


@pytest.mark.parametrize(("value", "name"), [
    ("s", "STRING"), (1, "NUMBER"), (1.5, "NUMBER"), (True, "BOOLEAN"), ([], "ARRAY"), ({}, "OBJECT"), (None, "NULL"),
])
def test_type_names(value: object, name: str) -> None:
    assert type_name(value) == name
