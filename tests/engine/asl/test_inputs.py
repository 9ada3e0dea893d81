"""StartExecution input check: AWS's InvalidExecutionInput messages (Jackson's parser text)."""
from __future__ import annotations

import pytest

from engine.asl.inputs import input_error, invalid_input_message, parse_execution_input
from engine.errors import InvalidArgument

VALUE_LIST = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"


@pytest.mark.parametrize(("text", "reason"), [
    # recorded on AWS (conformance start_error cases)
    ("", "Invalid execution input."),
    ("not some json", f"Unrecognized token 'not': was expecting {VALUE_LIST}"),
    ("{'not': 'json'", "Unexpected character (''' (code 39)): was expecting double-quote to start field name"),
    # Jackson's wording for other syntax errors
    ("tru", f"Unrecognized token 'tru': was expecting {VALUE_LIST}"),
    ("nullx", f"Unrecognized token 'nullx': was expecting {VALUE_LIST}"),
    ('{"a" 1}', "Unexpected character ('1' (code 49)): was expecting a colon to separate field name and value"),
    ('{"a": 1 "b": 2}', "Unexpected character ('\"' (code 34)): was expecting comma to separate Object entries"),
    ("[1 2]", "Unexpected character ('2' (code 50)): was expecting comma to separate Array entries"),
    ("[1,", f"Unexpected end-of-input: expected a valid value {VALUE_LIST}"),
    ('{"a": 1', "Unexpected end-of-input: expected close marker for Object"),
    ("[}", f"Unexpected character ('}}' (code 125)): expected a valid value {VALUE_LIST}"),
    ('"a\nb"', "Illegal unquoted character ((CTRL-CHAR, code 10)): has to be escaped using backslash "
               "to be included in string value"),
    ('"\\x"', "Unrecognized character escape 'x' (code 120)"),
    ("01", "Invalid numeric value: Leading zeroes not allowed"),
    ("-a", "Unexpected character ('a' (code 97)): expected digit (0-9) to follow minus sign, for valid numeric value"),
    ("[1.]", "Unexpected character (']' (code 93)): Decimal point not followed by a digit"),
])
def test_jackson_messages(text: str, reason: str) -> None:
    assert input_error(text) == reason


@pytest.mark.parametrize("text", ['{"a": [1, 2.5, -3e2, true, false, null, "\\u00e9\\n"]}', "42", '"s"', " [ ] ",
                                  "[" * 500 + "]" * 500])
def test_valid_json_passes(text: str) -> None:
    assert input_error(text) is None


def test_parse_returns_the_value_and_no_input_is_an_empty_object() -> None:
    assert parse_execution_input('{"a": [1, 2.0]}') == {"a": [1, 2.0]}
    assert parse_execution_input(None) == {}


def test_parse_raises_invalid_execution_input() -> None:
    with pytest.raises(InvalidArgument) as raised:
        parse_execution_input("not some json")
    assert raised.value.kind == "InvalidExecutionInput"
    assert raised.value.message == invalid_input_message(f"Unrecognized token 'not': was expecting {VALUE_LIST}")
    assert raised.value.message.startswith("Invalid State Machine Execution Input: 'Unrecognized token")


def test_deep_nesting_is_rejected_without_recursion() -> None:
    reason = input_error("[" * 1001 + "]" * 1001)
    assert reason is not None and reason.startswith("Document nesting depth (1001) exceeds the maximum allowed")
