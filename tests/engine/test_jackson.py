"""engine.jackson: Jackson's messages and locations (jackson-core 2.13 ReaderBasedJsonParser)."""
from __future__ import annotations

import pytest

from engine import jackson

VALUES = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"


def src(text: str, line: int, column: int) -> str:
    return f'[Source: (String)"{text}"; line: {line}, column: {column}]'


@pytest.mark.parametrize(("text", "message", "line", "column"), [
    # lines advance on white space only: a raw newline inside a string does not count
    ('{"a": "x\ny"}', "Illegal unquoted character ((CTRL-CHAR, code 10)): has to be escaped using backslash to be "
                      "included in string value", 1, 10),
    ('{\r\n"a":\r1 2}', "Unexpected character ('2' (code 50)): was expecting comma to separate Object entries", 3, 4),
    ("[1,\n\n]", f"Unexpected character (']' (code 93)): expected a valid value {VALUES}", 3, 2),
    ("[tru]", f"Unrecognized token 'tru': was expecting {VALUES}", 1, 5),
    ('["\\u00g0"]', "Unexpected character ('g' (code 103)): expected a hex-digit for character escape sequence", 1, 8),
    ("[-]", "Unexpected character (']' (code 93)) in numeric value: expected digit (0-9) to follow minus sign, "
            "for valid numeric value", 1, 4),
    ("[1e]", "Unexpected character (']' (code 93)) in numeric value: Exponent indicator not followed by a digit",
     1, 5),
    ('"\u00e9\u4e2d', "Unexpected end-of-input: was expecting closing quote for a string value", 1, 4),
    ("[\u4e2d]", f"Unrecognized token '\u4e2d': was expecting {VALUES}", 1, 3),
    ("[#]", f"Unexpected character ('#' (code 35)): expected a valid value {VALUES}", 1, 3),
    ("[\u00a7]", f"Unexpected character ('\u00a7' (code 167)): expected a valid value {VALUES}", 1, 3),
    ("[\u2603]", f"Unexpected character ('\u2603' (code 9731 / 0x2603)): expected a valid value {VALUES}", 1, 3),
])
def test_messages_and_locations(text: str, message: str, line: int, column: int) -> None:
    with pytest.raises(jackson.JsonSyntaxError) as raised:
        jackson.parse(text)
    assert raised.value.located(text) == (message, src(text, line, column))


def test_start_markers() -> None:
    text = '{"a": [1,\n  {"b": 2}'
    with pytest.raises(jackson.JsonSyntaxError) as raised:
        jackson.parse(text)
    assert raised.value.message == "Unexpected end-of-input: expected close marker for Array"
    assert raised.value.located(text) == (
        f"Unexpected end-of-input: expected close marker for Array (start marker at {src(text, 1, 7)})",
        src(text, 2, 11))
    with pytest.raises(jackson.JsonSyntaxError) as raised:
        jackson.parse("]")
    assert raised.value.located("]") == (
        f"Unexpected close marker ']': expected '}}' (for root starting at {src(']', 1, 0)})", src("]", 1, 2))


def test_trailing_content() -> None:
    assert jackson.parse('{"a": 1} {') == {"a": 1}
    with pytest.raises(jackson.JsonSyntaxError) as raised:
        jackson.parse('{"a": 1} {', trailing=False)
    assert raised.value.message == "Unexpected character ('{' (code 123)): expected end-of-input after the JSON value"


@pytest.mark.parametrize("depth", [1000, 1001])
def test_nesting_limit_counts_open_containers(depth: int) -> None:
    # many brackets in total but shallow: Python's reader, then a depth check on the value
    wide = "[" + ",".join(["[{}]"] * 2000) + "]"
    assert len(jackson.parse(wide)) == 2000  # type: ignore[arg-type]
    text = "[" * (depth - 1) + '{"k": 1}' + "]" * (depth - 1)
    if depth <= jackson.MAX_NESTING_DEPTH:
        assert jackson.parse(text, trailing=False) is not None
        return
    with pytest.raises(jackson.JsonSyntaxError) as raised:
        jackson.parse(text, trailing=False)
    assert raised.value.located(text) == (
        "Document nesting depth (1001) exceeds the maximum allowed (1000, from "
        "`StreamReadConstraints.getMaxNestingDepth()`)", None)


def test_valid_json_is_read_like_python() -> None:
    text = '{"a": [1, -2.5e3, true, false, null, "\\u00e9\\n\\"", {}], "b": {"c": []}}'
    assert jackson.parse(text) == {"a": [1, -2500.0, True, False, None, "\u00e9\n\"", {}], "b": {"c": []}}
    jackson.check(text)
