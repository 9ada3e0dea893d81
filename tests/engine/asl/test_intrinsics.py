"""engine.asl.intrinsics: the parser, every States.* function and its failures."""
from __future__ import annotations

import json
import random
import re
from typing import Any

import pytest

from engine.asl.intrinsics import (
    FUNCTIONS,
    Call,
    IntrinsicSyntaxError,
    Literal,
    PathArg,
    evaluate,
    is_intrinsic,
    parse,
    referenced_paths,
)
from engine.asl.intrinsics._values import JavaRandom, java_double, java_round, json_equal, to_text
from engine.errors import StatesError

CONTEXT = {
    "Execution": {"Name": "exec-1", "Input": {"csv": "a,b"}},
    "StateMachine": {"Id": "arn:aws:states:us-east-1:111111111111:stateMachine:my-sm-prod", "Name": "my-sm-prod"},
}


class Missing(Exception):
    """Stands in for engine.asl.paths.PathNotFound: evaluate must let it through."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(path)


def resolver(data: Any, variables: dict[str, Any] | None = None):
    """A dotted-path resolver over ``data`` / CONTEXT / ``variables`` (enough for these tests)."""

    def resolve(path: str) -> Any:
        if path.startswith("$$"):
            value, rest = CONTEXT, path[2:]
        elif path == "$" or path.startswith("$."):
            value, rest = data, path[1:]
        else:
            name = re.match(r"\$(\w+)", path).group(1)
            if name not in (variables or {}):
                raise Missing(path)
            value, rest = variables[name], path[1 + len(name):]
        for key in filter(None, rest.split(".")):
            if not isinstance(value, dict) or key not in value:
                raise Missing(path)
            value = value[key]
        return value

    return resolve


def run(text: str, data: Any = None, **kwargs: Any) -> Any:
    return evaluate(parse(text), resolver(data, kwargs.pop("variables", None)), **kwargs)


def same(actual: Any, expected: Any) -> bool:
    """Equal as JSON texts, so 1 and 1.0, or true and 1, differ."""
    return json.dumps(actual, sort_keys=True) == json.dumps(expected, sort_keys=True)


# -- parser ----------------------------------------------------------------------------

PARSED = [
    ("States.UUID()", Call("States.UUID", ())),
    ("States.Array()", Call("States.Array", ())),
    ("States.Array( 1 , -2, 3.5, 1e3, true, false, null )", Call("States.Array", (
        Literal(1), Literal(-2), Literal(3.5), Literal(1000.0), Literal(True), Literal(False), Literal(None)))),
    ("States.Array('a b', '')", Call("States.Array", (Literal("a b", ("a b",)), Literal("", ("",))))),
    (r"States.Array('it\'s', 'a\\b', '\{\}')", Call("States.Array", (
        Literal("it's", ("it's",)), Literal("a\\b", ("a\\b",)), Literal("{}", ("{}",))))),
    ("States.Format('{} and {}', $.a)", Call("States.Format", (
        Literal("{} and {}", ("", " and ", "")), PathArg("$.a")))),
    ("States.Array($, $$.Execution.Id, $var.x, $.a[0], $.b['c,d'])", Call("States.Array", (
        PathArg("$"), PathArg("$$.Execution.Id"), PathArg("$var.x"), PathArg("$.a[0]"), PathArg("$.b['c,d']")))),
    ("States.Array($.a[?(@.x == 1)], $.b )", Call("States.Array", (PathArg("$.a[?(@.x == 1)]"), PathArg("$.b")))),
    ("States.ArrayLength(States.StringSplit($.s, ','))", Call("States.ArrayLength", (
        Call("States.StringSplit", (PathArg("$.s"), Literal(",", (",",)))),))),
    ("  States.UUID()  ", Call("States.UUID", ())),
    ("States.StringSplit('Hello\nWorld', '\n')", Call("States.StringSplit", (
        Literal("Hello\nWorld", ("Hello\nWorld",)), Literal("\n", ("\n",))))),
]


@pytest.mark.parametrize(("text", "expected"), PARSED, ids=[t for t, _ in PARSED])
def test_parse(text: str, expected: Call) -> None:
    assert parse(text) == expected


def _nested(depth: int) -> str:
    return "States.Array(" * depth + ")" * depth


SYNTAX_ERRORS = [
    ("States.Nope()", "unknown intrinsic function States.Nope at position 0 of 'States.Nope()'"),
    ("States.Format", "expected an intrinsic function call 'States.<Name>(' at position 0 of 'States.Format'"),
    ("States.Array(", "expected an argument at position 13 of 'States.Array('"),
    ("States.Array(1", "expected ',' or ')' at position 14 of 'States.Array(1'"),
    ("States.Array(1 2)", "expected ',' or ')' at position 15 of 'States.Array(1 2)'"),
    ("States.Array(1,)", "expected an argument at position 15 of 'States.Array(1,)'"),
    ("States.Array() x", "unexpected text after the closing parenthesis at position 15 of 'States.Array() x'"),
    ("States.Array('abc)", "unterminated string literal at position 18 of \"States.Array('abc)\""),
    ('States.Array(\'say \\"hi\\"\')',
     "invalid escape sequence in string literal at position 18 of 'States.Array(\\'say \\\\\"hi\\\\\"\\')'"),
    ("States.Array(abc)", "expected an argument at position 13 of 'States.Array(abc)'"),
    ("States.Array(truex)", "expected an argument at position 13 of 'States.Array(truex)'"),
    ("States.Array(-)", "invalid number at position 13 of 'States.Array(-)'"),
    ("States.Array($.a[0", "unterminated path argument at position 18 of 'States.Array($.a[0'"),
    ("States.Array($.a['x)", "unterminated path argument at position 20 of \"States.Array($.a['x)\""),
    ("States.UUID(1)", "States.UUID takes 0 argument(s), got 1 at position 14 of 'States.UUID(1)'"),
    ("States.MathAdd(1)", "States.MathAdd takes 2 argument(s), got 1 at position 17 of 'States.MathAdd(1)'"),
    ("States.MathRandom(1, 2, 3, 4)",
     "States.MathRandom takes 2 to 3 argument(s), got 4 at position 29 of 'States.MathRandom(1, 2, 3, 4)'"),
    ("States.Format()", "States.Format takes at least 1 argument(s), got 0 at position 15 of 'States.Format()'"),
    ("States.Array($.a[0)", "unbalanced brackets in path argument at position 18 of 'States.Array($.a[0)'"),
    ("States.Array($.a[(0])", "unbalanced brackets in path argument at position 19 of 'States.Array($.a[(0])'"),
    (_nested(11), f"more than 10 nested intrinsic functions at position 130 of '{_nested(11)}'"),
]


@pytest.mark.parametrize(("text", "message"), SYNTAX_ERRORS, ids=[t for t, _ in SYNTAX_ERRORS])
def test_parse_rejects(text: str, message: str) -> None:
    with pytest.raises(IntrinsicSyntaxError) as info:
        parse(text)
    assert info.value.message == message
    assert str(info.value) == message


def test_ten_nested_calls_are_allowed() -> None:
    assert run(_nested(10)) == [[[[[[[[[[]]]]]]]]]]


def test_referenced_paths() -> None:
    call = parse("States.Format('{} {}', $.a, States.Array($$.Map.Item.Value, 1, $var.x[0]), $)")
    assert referenced_paths(call) == ("$.a", "$$.Map.Item.Value", "$var.x[0]", "$")
    assert referenced_paths(parse("States.UUID()")) == ()


@pytest.mark.parametrize(("text", "expected"), [
    ("States.Format('x')", True),
    ("  States.UUID()", True),
    ("$.States", False),
    ("$", False),
    ("Hello", False),
])
def test_is_intrinsic(text: str, expected: bool) -> None:
    assert is_intrinsic(text) is expected


def test_every_documented_function_is_in_the_table() -> None:
    assert sorted(FUNCTIONS) == sorted(
        "States." + name for name in (
            "Format StringToJson JsonToString Array ArrayPartition ArrayContains ArrayRange ArrayGetItem "
            "ArrayLength ArrayUnique Base64Encode Base64Decode Hash JsonMerge MathRandom MathAdd "
            "StringSplit UUID"
        ).split()
    )


# -- results ---------------------------------------------------------------------------

OBJ = {"Arg1": 1, "Arg2": []}
RESULTS = [
    # States.Format (AWS: test_format_1, test_format_2, test_context_json_path)
    ("States.Format('Formatting argument {}.', $.v)", {"v": ""}, "Formatting argument ."),
    ("States.Format('Formatting argument {}.', $.v)", {"v": None}, "Formatting argument null."),
    ("States.Format('Formatting argument {}.', $.v)", {"v": 1}, "Formatting argument 1."),
    ("States.Format('Formatting argument {}.', $.v)", {"v": 1.1}, "Formatting argument 1.1."),
    ("States.Format('{}', $.v)", {"v": OBJ}, "{Arg1=1, Arg2=[]}"),
    ("States.Format('{}', $.v)", {"v": [1, "a", True, None, {"k": [2.5]}]}, "[1, a, true, null, {k=[2.5]}]"),
    ("States.Format('{}{}', $.v, $.v)", {"v": '{"a": 1}'}, '{"a": 1}{"a": 1}'),
    ("States.Format('fst={} snd={}', $$.Execution.Name, $$.StateMachine)", None,
     "fst=exec-1 snd={Id=arn:aws:states:us-east-1:111111111111:stateMachine:my-sm-prod, Name=my-sm-prod}"),
    (r"States.Format('\{}{}\{\}', 'x')", None, "{}x{}"),
    ("States.Format('no placeholders')", None, "no placeholders"),
    ("States.Format($.t, $.n)", {"t": "Hello, my name is {}.", "n": "Arnav"}, "Hello, my name is Arnav."),
    # States.StringToJson (AWS: test_string_to_json)
    ("States.StringToJson($.v)", {"v": ""}, None),
    ("States.StringToJson($.v)", {"v": " "}, None),
    ("States.StringToJson($.v)", {"v": "null"}, None),
    ("States.StringToJson($.v)", {"v": "-0"}, 0),
    ("States.StringToJson($.v)", {"v": "1.1"}, 1.1),
    ("States.StringToJson($.v)", {"v": "true"}, True),
    ("States.StringToJson($.v)", {"v": '"HelloWorld"'}, "HelloWorld"),
    ("States.StringToJson($.v)", {"v": '[1, 2, "HelloWorld"]'}, [1, 2, "HelloWorld"]),
    ("States.StringToJson('{\"a\": {\"b\": 1}}')", None, {"a": {"b": 1}}),
    ("States.StringToJson($.v)", {"v": " [1] x"}, [1]),
    ("States.StringToJson($.v)", {"v": "\n 2.50 "}, 2.5),
    # States.JsonToString (AWS: test_json_to_string)
    ("States.JsonToString($.v)", {"v": None}, "null"),
    ("States.JsonToString($.v)", {"v": 1.1}, "1.1"),
    ("States.JsonToString($.v)", {"v": "HelloWorld"}, '"HelloWorld"'),
    ("States.JsonToString($.v)", {"v": [1, 2, "HelloWorld"]}, '[1,2,"HelloWorld"]'),
    ("States.JsonToString($.v)", {"v": OBJ}, '{"Arg1":1,"Arg2":[]}'),
    ("States.JsonToString($.v)", {"v": "é/"}, '"é/"'),
    ("States.JsonToString($.v)", {"v": {"a": [1e20, 2.0, -0.0, "\n"]}}, '{"a":[1.0E20,2.0,-0.0,"\\n"]}'),
    # States.Array (AWS: test_array_0, test_array_2)
    ("States.Array()", None, []),
    ("States.Array($.a, $.b)", {"a": None, "b": OBJ}, [None, OBJ]),
    ("States.Array('a', 1, 1.5, true, null)", None, ["a", 1, 1.5, True, None]),
    # States.ArrayPartition (AWS: test_array_partition)
    ("States.ArrayPartition($.a, $.n)", {"a": [], "n": 2}, []),
    ("States.ArrayPartition($.a, $.n)", {"a": [0, 1, 2, 3], "n": 3}, [[0, 1, 2], [3]]),
    ("States.ArrayPartition($.a, $.n)", {"a": [0, 1, 2], "n": 5}, [[0, 1, 2]]),
    ("States.ArrayPartition($.a, 4)", {"a": [1, 2, 3, 4, 5, 6, 7, 8, 9]}, [[1, 2, 3, 4], [5, 6, 7, 8], [9]]),
    ("States.ArrayPartition($.a, 2.0)", {"a": [1, 2, 3]}, [[1, 2], [3]]),
    # States.ArrayContains (AWS: test_array_contains)
    ("States.ArrayContains($.a, $.v)", {"a": [], "v": None}, False),
    ("States.ArrayContains($.a, $.v)", {"a": [[1, 2, 3], 2], "v": [1, 2, 3]}, True),
    ("States.ArrayContains($.a, $.v)", {"a": [{"1": 2, "2": []}], "v": {"1": 2, "2": []}}, True),
    ("States.ArrayContains($.a, $.v)", {"a": [{"1": 2, "2": []}], "v": []}, False),
    ("States.ArrayContains($.a, $.v)", {"a": [True, False], "v": False}, True),
    ("States.ArrayContains($.a, $.v)", {"a": [1, 0], "v": True}, False),
    ("States.ArrayContains($.a, $.v)", {"a": [1], "v": 1.0}, False),
    # States.ArrayRange (AWS: test_array_range)
    ("States.ArrayRange(0, 9, 3)", None, [0, 3, 6, 9]),
    ("States.ArrayRange(0, 10, 3)", None, [0, 3, 6, 9]),
    ("States.ArrayRange(1, 9, 9)", None, [1]),
    ("States.ArrayRange(5, 1, -2)", None, [5, 3, 1]),
    ("States.ArrayRange(5, 1, 2)", None, []),
    ("States.ArrayRange(0.5, 2.4, 1)", None, [1, 2]),
    ("States.ArrayRange(1, 1000, 1)", None, list(range(1, 1001))),
    # States.ArrayGetItem, ArrayLength, ArrayUnique
    ("States.ArrayGetItem($.a, $.i)", {"a": [1, 2, 3, 4, 5, 6, 7, 8, 9], "i": 5}, 6),
    ("States.ArrayGetItem($.a, 0)", {"a": [{"x": 1}]}, {"x": 1}),
    ("States.ArrayLength($.a)", {"a": [1, 2, 3, 4, 5, 6, 7, 8, 9]}, 9),
    ("States.ArrayLength($.a)", {"a": []}, 0),
    ("States.ArrayUnique($.a)", {"a": [1, 2, 2, 3, 3, 4]}, [1, 2, 3, 4]),
    ("States.ArrayUnique($.a)", {"a": [None, None, True, 1, 1.0, 1, [], [], {"a": 1}, {"a": 1}, {"a": 2}]},
     [None, True, 1, 1.0, [], {"a": 1}, {"a": 2}]),
    # encoding and hashing (AWS: test_base_64_encode, test_base_64_decode, test_hash)
    ("States.Base64Encode($.v)", {"v": ""}, ""),
    ("States.Base64Encode($.v)", {"v": "Data to encode"}, "RGF0YSB0byBlbmNvZGU="),
    ("States.Base64Encode('é')", None, "w6k="),
    ("States.Base64Decode($.v)", {"v": ""}, ""),
    ("States.Base64Decode($.v)", {"v": "RGF0YSB0byBlbmNvZGU="}, "Data to encode"),
    ("States.Base64Decode('aGVsbG8')", None, "hello"),
    ("States.Base64Decode('aMOpbGxv4oaS')", None, "héllo→"),
    ("States.Base64Decode('/w==')", None, "\ufffd"),
    ("States.Base64Encode($.v)", {"v": "a" * 10_000}, "YWFh" * 3333 + "YQ=="),
    ("States.Base64Encode(States.Format('run {} now', 'hello'))", None, "cnVuIGhlbGxvIG5vdw=="),
    ("States.Hash('input data', 'MD5')", None, "812f45842bc6d66ee14572ce20db8e86"),
    ("States.Hash('input data', 'SHA-1')", None, "aaff4a450a104cd177d28d18d74485e8cae074b7"),
    ("States.Hash('input data', 'SHA-256')", None,
     "b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3"),
    ("States.Hash('input data', 'SHA-384')", None,
     "d28a7d5cf25a74f11a50a18452b75e04bb3d70c9dd0510d6123aa008c756511b87525bdc835ebb27e1fb9e9374a15562"),
    ("States.Hash('input data', 'SHA-512')", None,
     "6ce4adb348546d4f449c4d25aad9a7c9cb711d9e91982d3f0b29ca2f3f47d4ce2deba23bf2954f0f1d593fc50283731a"
     "533d30d425402d4f91316d871303aac4"),
    # States.JsonMerge (AWS: test_json_merge, test_json_merge_escaped_argument)
    ("States.JsonMerge($.a, $.b, false)",
     {"a": {"a": {"a1": 1, "a2": 2}, "b": 2, "d": 3}, "b": {"a": {"a3": 1, "a4": 2}, "c": 3, "d": 4}},
     {"a": {"a3": 1, "a4": 2}, "b": 2, "c": 3, "d": 4}),
    ("States.JsonMerge(States.StringToJson('{\"k\": \"false\"}'), $$.Execution.Input, false)", None,
     {"k": "false", "csv": "a,b"}),
    # States.MathAdd (AWS: test_math_add; each argument rounded half up first)
    ("States.MathAdd($.a, $.b)", {"a": -9, "b": 3}, -6),
    ("States.MathAdd($.a, $.b)", {"a": 1.49, "b": 1.5}, 3),
    ("States.MathAdd($.a, $.b)", {"a": -0.5, "b": 0.5}, 1),
    ("States.MathAdd($.a, $.b)", {"a": -2.5, "b": 0}, -2),
    ("States.MathAdd($.a, $.b)", {"a": -1.5, "b": -1.51}, -3),
    ("States.MathAdd($.a, -1)", {"a": 3.5}, 3),
    ("States.MathAdd(2147483647, -2147483648)", None, -1),
    ("States.MathAdd(2147483647, 2147483647)", None, 4294967294),
    # States.StringSplit (AWS: test_string_split, test_string_split_context_object)
    ("States.StringSplit($.s, $.d)", {"s": " , ", "d": ","}, [" ", " "]),
    ("States.StringSplit($.s, $.d)", {"s": ",,,,", "d": ","}, []),
    ("States.StringSplit($.s, $.d)", {"s": "This.is+a,test=string", "d": ".+,="}, ["This", "is", "a", "test", "string"]),
    ("States.StringSplit($.s, $.d)", {"s": "split on T and \nnew line", "d": "T\n"}, ["split on ", " and ", "new line"]),
    ("States.StringSplit($.s, '')", {"s": "ab"}, ["ab"]),
    ("States.StringSplit($$.Execution.Input.csv, ',')", None, ["a", "b"]),
    # nesting (AWS: test_nested_calls_1, test_nested_calls_2)
    ("States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, '-'), "
     "States.MathAdd(States.ArrayLength(States.StringSplit($$.StateMachine.Name, '-')), -1))", None, "prod"),
]


@pytest.mark.parametrize(("text", "data", "expected"), RESULTS, ids=[f"{i}:{r[0][:60]}" for i, r in enumerate(RESULTS)])
def test_result(text: str, data: Any, expected: Any) -> None:
    assert same(run(text, data), expected)


def test_variables_are_resolved_by_the_caller() -> None:
    assert run("States.MathAdd($x, $y.z)", variables={"x": 5, "y": {"z": 3}}) == 8


def test_a_missing_path_propagates_untouched() -> None:
    with pytest.raises(Missing) as info:
        run("States.Array(States.ArrayLength($.nope))", {})
    assert info.value.path == "$.nope"


def test_arguments_are_evaluated_left_to_right() -> None:
    seen: list[str] = []

    def resolve(path: str) -> Any:
        seen.append(path)
        return 1

    evaluate(parse("States.Array($.a, States.Array($.b), $.c)"), resolve)
    assert seen == ["$.a", "$.b", "$.c"]


def test_math_random_is_in_range_and_uses_the_given_rng() -> None:
    values = {run("States.MathRandom(1, 4)", rng=random.Random(7)) for _ in range(50)}
    assert values <= {1, 2, 3}
    assert run("States.MathRandom(0, 1000)", rng=random.Random(7)) == random.Random(7).randrange(0, 1000)


def test_math_random_with_a_seed_repeats_java_random() -> None:
    # java.util.Random(42).nextInt(10) is 0; start + nextInt(end - start) in general.
    assert run("States.MathRandom(0, 10, 42)") == 0
    assert run("States.MathRandom($.s, $.e, $.seed)", {"s": 5, "e": 999, "seed": 3}) == 5 + JavaRandom(3).next_int(994)
    assert run("States.MathRandom(12.5, 44.51, 3.4)") == run("States.MathRandom(13, 45, 3)")
    wide = run("States.MathRandom(-2147483648, 2147483647, 1)")
    assert -(2**31) <= wide < 2**31 - 1
    assert wide == run("States.MathRandom(-2147483648, 2147483647, 1)")


def test_uuid_is_a_random_version_4_uuid() -> None:
    first = run("States.UUID()", rng=random.Random(1))
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", first)
    assert run("States.UUID()", rng=random.Random(1)) == first
    assert run("States.UUID()") != run("States.UUID()")


# -- failures ---------------------------------------------------------------------------

FAILURES = [
    ("States.Format($.t)", {"t": 1}, "States.Format", "argument 1 must be a string, got number"),
    ("States.Format('{} {}', 1)", None, "States.Format", "the template has 2 '{}' but 1 value(s) were given"),
    ("States.Format('{}', 1, 2)", None, "States.Format", "the template has 1 '{}' but 2 value(s) were given"),
    ("States.Format('{x} {', 'y')", None, "States.Format", "the template has 0 '{}' but 1 value(s) were given"),
    (r"States.Format('\{}', 1)", None, "States.Format", "the template has 0 '{}' but 1 value(s) were given"),
    ("States.StringToJson($.v)", {"v": 1}, "States.StringToJson", "argument 1 must be a string, got number"),
    ("States.StringToJson($.v)", {"v": "{"}, "States.StringToJson", "argument 1 is not a valid JSON text"),
    ("States.StringToJson($.v)", {"v": "NaN"}, "States.StringToJson", "argument 1 is not a valid JSON text"),
    ("States.ArrayPartition($.a, 2)", {"a": {}}, "States.ArrayPartition", "argument 1 must be an array, got object"),
    ("States.ArrayPartition($.a, 0)", {"a": [1]}, "States.ArrayPartition", "argument 2 must be a positive integer, got 0"),
    ("States.ArrayPartition($.a, -1)", {"a": [1]}, "States.ArrayPartition", "argument 2 must be a positive integer, got -1"),
    ("States.ArrayPartition($.a, 1.5)", {"a": [1]}, "States.ArrayPartition", "argument 2 must be an integer, got 1.5"),
    ("States.ArrayPartition($.a, '2')", {"a": [1]}, "States.ArrayPartition", "argument 2 must be an integer, got 2"),
    ("States.ArrayContains($.a, 1)", {"a": "abc"}, "States.ArrayContains", "argument 1 must be an array, got string"),
    ("States.ArrayRange(1, 10, 0)", None, "States.ArrayRange", "argument 3 (the step) must not be 0"),
    ("States.ArrayRange(1, 1001, 1)", None, "States.ArrayRange", "the range has 1001 items, more than 1000"),
    ("States.ArrayRange('1', 2, 1)", None, "States.ArrayRange", "argument 1 must be a number, got string"),
    ("States.ArrayRange(1, 2, true)", None, "States.ArrayRange", "argument 3 must be a number, got boolean"),
    ("States.ArrayGetItem($.a, 3)", {"a": [1, 2, 3]}, "States.ArrayGetItem",
     "index 3 is out of bounds for an array of length 3"),
    ("States.ArrayGetItem($.a, -1)", {"a": [1, 2, 3]}, "States.ArrayGetItem",
     "index -1 is out of bounds for an array of length 3"),
    ("States.ArrayGetItem($.a, 0.5)", {"a": [1]}, "States.ArrayGetItem", "argument 2 must be an integer, got 0.5"),
    ("States.ArrayGetItem($.a, 0)", {"a": None}, "States.ArrayGetItem", "argument 1 must be an array, got null"),
    ("States.ArrayLength($.a)", {"a": "abc"}, "States.ArrayLength", "argument 1 must be an array, got string"),
    ("States.ArrayUnique($.a)", {"a": 1}, "States.ArrayUnique", "argument 1 must be an array, got number"),
    ("States.Base64Encode($.v)", {"v": 1}, "States.Base64Encode", "argument 1 must be a string, got number"),
    ("States.Base64Encode($.v)", {"v": "x" * 10_001}, "States.Base64Encode",
     "argument 1 exceeds 10000 characters (10001)"),
    ("States.Base64Decode($.v)", {"v": "x" * 10_001}, "States.Base64Decode",
     "argument 1 exceeds 10000 characters (10001)"),
    ("States.Base64Decode($.v)", {"v": "abcde"}, "States.Base64Decode", "argument 1 is not valid Base64"),
    ("States.Base64Decode($.v)", {"v": "YQ=a"}, "States.Base64Decode", "argument 1 is not valid Base64"),
    ("States.Base64Decode($.v)", {"v": "Y Q=="}, "States.Base64Decode", "argument 1 is not valid Base64"),
    ("States.Base64Decode($.v)", {"v": "ab!c"}, "States.Base64Decode", "argument 1 is not valid Base64"),
    ("States.Base64Decode($.v)", {"v": "é"}, "States.Base64Decode", "argument 1 is not valid Base64"),
    ("States.Hash($.v, 'MD5')", {"v": {"a": 1}}, "States.Hash", "argument 1 must be a string, got object"),
    ("States.Hash($.v, 'MD5')", {"v": "x" * 10_001}, "States.Hash", "argument 1 exceeds 10000 characters (10001)"),
    ("States.Hash('data', 'sha-256')", None, "States.Hash",
     "argument 2 must be one of MD5, SHA-1, SHA-256, SHA-384, SHA-512, got sha-256"),
    ("States.Hash('data', 1)", None, "States.Hash", "argument 2 must be a string, got number"),
    ("States.JsonMerge($.a, $.b, 'false')", {"a": {}, "b": {}}, "States.JsonMerge", "argument 3 must be a boolean, got string"),
    ("States.JsonMerge($.a, $.b, true)", {"a": {}, "b": {}}, "States.JsonMerge",
     "argument 3 must be false: only the shallow merging mode exists"),
    ("States.JsonMerge($.a, $.b, false)", {"a": [], "b": {}}, "States.JsonMerge", "argument 1 must be an object, got array"),
    ("States.JsonMerge($.a, $.b, false)", {"a": {}, "b": "x"}, "States.JsonMerge", "argument 2 must be an object, got string"),
    ("States.MathRandom(5, 5)", None, "States.MathRandom", "argument 2 (5) must be greater than argument 1 (5)"),
    ("States.MathRandom('1', 5)", None, "States.MathRandom", "argument 1 must be a number, got string"),
    ("States.MathRandom(1, 5, null)", None, "States.MathRandom", "argument 3 must be a number, got null"),
    ("States.MathAdd($.a, 1)", {"a": "1"}, "States.MathAdd", "argument 1 must be a number, got string"),
    ("States.MathAdd(2147483648, 1)", None, "States.MathAdd",
     "argument 1 is outside the 32-bit integer range: 2147483648"),
    ("States.MathAdd(1, -2147483648.6)", None, "States.MathAdd",
     "argument 2 is outside the 32-bit integer range: -2147483649"),
    ("States.MathRandom(0, 3000000000)", None, "States.MathRandom",
     "argument 2 is outside the 32-bit integer range: 3000000000"),
    ("States.MathAdd(1, $.b)", {"b": [1]}, "States.MathAdd", "argument 2 must be a number, got array"),
    ("States.StringSplit($.s, ',')", {"s": 1}, "States.StringSplit", "argument 1 must be a string, got number"),
    ("States.StringSplit('a', $.d)", {"d": None}, "States.StringSplit", "argument 2 must be a string, got null"),
]


@pytest.mark.parametrize(("text", "data", "name", "reason"), FAILURES, ids=[f"{i}:{r[0][:60]}" for i, r in enumerate(FAILURES)])
def test_failure(text: str, data: Any, name: str, reason: str) -> None:
    # AWS: error States.Runtime, cause "Invalid arguments in States.X" (the reason is only a note).
    with pytest.raises(StatesError) as info:
        run(text, data)
    assert info.value.error == "States.Runtime"
    assert info.value.cause == f"Invalid arguments in {name}"
    assert info.value.__notes__ == [reason]


def test_an_inner_failure_stops_the_outer_call() -> None:
    with pytest.raises(StatesError) as info:
        run("States.Format('{}', States.ArrayLength($.s))", {"s": "x"})
    assert (info.value.error, info.value.cause) == ("States.Runtime", "Invalid arguments in States.ArrayLength")


# -- Java value semantics ----------------------------------------------------------------

@pytest.mark.parametrize(("value", "expected"), [
    (1.1, "1.1"), (2.0, "2.0"), (0.0, "0.0"), (-0.0, "-0.0"), (0.001, "0.001"), (1234567.5, "1234567.5"),
    (12345678.0, "1.2345678E7"), (1e20, "1.0E20"), (0.0001, "1.0E-4"), (-1.5e-7, "-1.5E-7"),
])
def test_java_double(value: float, expected: str) -> None:
    assert java_double(value) == expected


@pytest.mark.parametrize(("value", "expected"), [
    (0.5, 1), (1.49, 1), (1.5, 2), (2.5, 3), (-0.5, 0), (-1.5, -1), (-1.51, -2), (-2.5, -2), (7, 7),
])
def test_java_round(value: float, expected: int) -> None:
    assert java_round(value) == expected


@pytest.mark.parametrize(("left", "right", "expected"), [
    (1, 1, True), (1, 1.0, False), (True, 1, False), (None, None, True), ("a", "a", True),
    ([1, [2]], [1, [2]], True), ([1], [1, 1], False), ({"a": 1, "b": 2}, {"b": 2, "a": 1}, True),
    ({"a": 1}, {"a": 1.0}, False), ({"a": 1}, {"b": 1}, False),
])
def test_json_equal(left: Any, right: Any, expected: bool) -> None:
    assert json_equal(left, right) is expected


def test_to_text_of_a_nested_document() -> None:
    assert to_text({"a": [1.5e20, None, False], "b": {"c": "d"}}) == "{a=[1.5E20, null, false], b={c=d}}"


def test_java_random_matches_java() -> None:
    # new Random(42).nextInt() = -1170105035, new Random(0).nextInt() = -1155484576,
    # new Random(42).nextInt(10) five times = 0 3 8 4 0.
    assert JavaRandom(42)._next(32) == -1170105035
    assert JavaRandom(0)._next(32) == -1155484576
    generator = JavaRandom(42)
    assert [generator.next_int(10) for _ in range(5)] == [0, 3, 8, 4, 0]
    generator = JavaRandom(-7)
    assert all(0 <= generator.next_int(16) < 16 for _ in range(20))


def test_the_definitions_aws_rejects_for_illegal_escapes_do_not_parse(shared_dir) -> None:
    # AWS: SCHEMA_VALIDATION_FAILED "The value for the field 'parsed.$' must be a valid JSONPath
    # or a valid intrinsic function call" for these two recorded definitions.
    texts = []
    for path in sorted((shared_dir / "conformance/asl/cases").glob("*ILLEGAL_INTRINSIC_FUNCTION*.json")):
        case = json.loads(path.read_text())
        texts.append(case["definition"]["States"]["IntrinsicEscape"]["Parameters"]["parsed.$"])
    assert len(texts) == 2
    for text in texts:
        assert is_intrinsic(text)
        with pytest.raises(IntrinsicSyntaxError) as info:
            parse(text)
        assert info.value.message.startswith("invalid escape sequence in string literal at position ")
