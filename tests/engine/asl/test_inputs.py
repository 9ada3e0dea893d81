"""StartExecution input check: AWS's InvalidExecutionInput messages (Jackson's parser text)."""
from __future__ import annotations

import pytest

from engine.asl import run_sync
from engine.asl.inputs import input_error, invalid_input_message, parse_execution_input
from engine.errors import InvalidArgument

VALUE_LIST = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"


@pytest.mark.parametrize(("text", "reason"), [
    # recorded on AWS (conformance start_error cases)
    ("", "Invalid execution input."),
    ("not some json", f"Unrecognized token 'not': was expecting {VALUE_LIST}"),
    ("{'not': 'json'", "Unexpected character (''' (code 39)): was expecting double-quote to start field name"),
    # Jackson's wording for other syntax errors (jackson-core 2.13 ReaderBasedJsonParser)
    ("tru", f"Unrecognized token 'tru': was expecting {VALUE_LIST}"),
    ("nullx", f"Unrecognized token 'nullx': was expecting {VALUE_LIST}"),
    ('{"a" 1}', "Unexpected character ('1' (code 49)): was expecting a colon to separate field name and value"),
    ('{"a": 1 "b": 2}', "Unexpected character ('\"' (code 34)): was expecting comma to separate Object entries"),
    ("[1 2]", "Unexpected character ('2' (code 50)): was expecting comma to separate Array entries"),
    ("[1,", "Unexpected end-of-input within/between Array entries"),
    ('{"a": 1', "Unexpected end-of-input: expected close marker for Object"),
    ("[1,]", f"Unexpected character (']' (code 93)): expected a valid value {VALUE_LIST}"),
    ("[1,}", "Unexpected character ('}' (code 125)): expected a value"),
    ("[}", "Unexpected close marker '}': expected ']'"),  # Jackson adds "(for Array starting at <location>)"
    ('"a\nb"', "Illegal unquoted character ((CTRL-CHAR, code 10)): has to be escaped using backslash "
               "to be included in string value"),
    ('"\\x"', "Unrecognized character escape 'x' (code 120)"),
    ("01", "Invalid numeric value: Leading zeroes not allowed"),
    ("-a", "Unexpected character ('a' (code 97)) in numeric value: expected digit (0-9) to follow minus sign, "
           "for valid numeric value"),
    ("[1.]", "Unexpected character (']' (code 93)) in numeric value: Decimal point not followed by a digit"),
    ("1.", "Unexpected character ('.' (code 46)) in numeric value: Decimal point not followed by a digit"),
    ("NaN", "Non-standard token 'NaN': enable JsonParser.Feature.ALLOW_NON_NUMERIC_NUMBERS to allow"),
    ('{"a": -Infinity}', "Non-standard token '-Infinity': enable JsonParser.Feature.ALLOW_NON_NUMERIC_NUMBERS to allow"),
    ("1x", "Unexpected character ('x' (code 120)): Expected space separating root-level values"),
    ("\u0001", "Illegal character ((CTRL-CHAR, code 1)): only regular white space (\\r, \\n, \\t) is allowed "
               "between tokens"),
    ('"\\u12', "Unexpected end-of-input in character escape sequence"),
    ('{"a":', "Unexpected end-of-input within/between Object entries"),
    ('{"a', "Unexpected end-of-input in field name"),
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


DEPTH_ERROR = ("Document nesting depth (1001) exceeds the maximum allowed (1000, from "
               "`StreamReadConstraints.getMaxNestingDepth()`)")


@pytest.mark.parametrize("text", ["[" * 1001 + "]" * 1001, "[" * 5000 + "]" * 5000, '{"a":' * 5000 + "1" + "}" * 5000,
                                  "[" * 5000])
def test_deep_nesting_is_rejected_without_recursion(text: str) -> None:
    assert input_error(text) == DEPTH_ERROR
    with pytest.raises(InvalidArgument) as raised:
        parse_execution_input(text)
    assert (raised.value.kind, raised.value.message) == ("InvalidExecutionInput", invalid_input_message(DEPTH_ERROR))


def test_nesting_up_to_jacksons_limit_is_read() -> None:
    value = parse_execution_input("[" * 1000 + "]" * 1000)
    for _ in range(999):
        value = value[0]
    assert value == []


def test_deep_input_fails_the_start_not_the_engine() -> None:
    definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    with pytest.raises(InvalidArgument) as raised:
        run_sync(definition, "[" * 5000 + "]" * 5000)
    assert raised.value.message == invalid_input_message(DEPTH_ERROR)


def test_trailing_content_is_rejected() -> None:
    assert input_error('{"a": 1} x') == ("Unexpected character ('x' (code 120)): expected end-of-input after "
                                         "the JSON value")
