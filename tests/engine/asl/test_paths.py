"""engine.asl.paths: JSONPath (Jayway semantics), payload templates, Input/Result/OutputPath, dumps."""
from __future__ import annotations

import json
from pathlib import Path as Path_
from typing import Any

import pytest

from engine.asl.paths import (
    Path,
    PathNotFound,
    Scope,
    compile_path,
    compile_template,
    dumps,
    input_path,
    output_path,
    result_path,
)
from engine.errors import StatesError
from tests.conftest import SHARED

DATA: dict[str, Any] = {
    "a": {"b": [1, 2, {"c": 3}]},
    "x y": 5,
    "items": [{"p": 1, "n": "a"}, {"p": 5, "n": "b"}, {"n": "c"}],
    "é": "accent",
    "nil": None,
    "text": "hello",
    "nums": [0, 1, 2, 3, 4],
    "we'ird": "key",
    'Test""Name"': "escaped",
}
CONTEXT = {"Execution": {"Id": "arn:exec", "Input": {"k": 1}}, "Map": {"Item": {"Index": 2}}}
VARIABLES = {"v": {"k": [7, 8]}, "n": 3, "_x1": "underscore", "été": {"k": 1}}
SCOPE = Scope(DATA, CONTEXT, VARIABLES)

FOUND = [
    ("$", DATA),
    ("$.a.b", [1, 2, {"c": 3}]),
    ("$.a.b[0]", 1),
    ("$.a.b[-1].c", 3),
    ("$['x y']", 5),
    ('$["x y"]', 5),
    ("$['a']['b'][1]", 2),
    ("$.é", "accent"),
    ("$.nil", None),
    ("$.items[*].p", [1, 5]),
    ("$.items[*].missing", []),
    # AWS: indefinite paths never fail (test_json_path_array_wildcard_or_slice_with_no_input)
    ("$.nope[*]", []),
    ("$.nope.deeper[1:5].v", []),
    ("$.text[:1]", []),
    ("$.nil[*].x", []),
    ("$.items[?(@.p > 2)].n", ["b"]),
    ("$.items[?(@.n == 'c')]", [{"n": "c"}]),
    ("$.items[?(@.p)].n", ["a", "b"]),
    ("$..c", [3]),
    ("$..p", [1, 5]),
    ("$.nums[1:3]", [1, 2]),
    ("$.nums[-2:]", [3, 4]),
    ("$.nums[:2]", [0, 1]),
    ("$.nums[::2]", [0, 2, 4]),
    ("$.nums[0,4]", [0, 4]),
    ("$.nums[*]", [0, 1, 2, 3, 4]),
    ("$.a.*", [[1, 2, {"c": 3}]]),
    ("$['x y','text']", {"x y": 5, "text": "hello"}),
    ("$$", CONTEXT),
    ("$$.Execution.Id", "arn:exec"),
    ("$$.Map.Item.Index", 2),
    ("$v", {"k": [7, 8]}),
    ("$v.k[1]", 8),
    ("$n", 3),
    ("$_x1", "underscore"),
    ("$été.k", 1),
    ("$.[?(@.p > 2)].n", []),  # "$.[" is "$[": filters apply to objects too (no match here)
    ("$.items.[1].n", "b"),
    ("$.items[?(@.p <= 1)]", [{"p": 1, "n": "a"}]),
    ("$['we\\'ird']", "key"),
    ("$['Test\\\"\"Name\"']", "escaped"),
]


@pytest.mark.parametrize(("text", "expected"), FOUND, ids=[t for t, _ in FOUND])
def test_get(text: str, expected: Any) -> None:
    assert compile_path(text).get(SCOPE) == expected


DEFINITE = [("$", True), ("$.a.b[0]", True), ("$['a','b']", True), ("$.a[*]", False), ("$..a", False),
            ("$.a[1:2]", False), ("$.a[0,1]", False), ("$.a[?(@.b)]", False), ("$['a','b'].c", False)]


@pytest.mark.parametrize(("text", "definite"), DEFINITE, ids=[t for t, _ in DEFINITE])
def test_definite(text: str, definite: bool) -> None:
    assert compile_path(text).definite is definite


RENDERED = [("$", "$"), ("$.a.b[0]", "$['a']['b'][0]"), ("$.a[*].b", "$['a'][*]['b']"),
            ("$..b", "$..['b']"), ("$.a[1:3]", "$['a'][1:3]"), ("$.a[?(@.x)]", "$['a'][?]"),
            ("$$.Execution.Id", "$['Execution']['Id']")]


@pytest.mark.parametrize(("text", "rendered"), RENDERED, ids=[t for t, _ in RENDERED])
def test_rendered_as_jayway(text: str, rendered: str) -> None:
    assert compile_path(text).rendered == rendered


MISSING = [
    ("$.x", "No results for path: $['x']"),
    ("$.a.b[5].c", "Expected to find an object with property ['c'] in path $['a']['b'][5] but found 'null'. "
                   "This is not a json object according to the JsonProvider: "
                   "'com.jayway.jsonpath.spi.json.JacksonJsonNodeJsonProvider'."),
    ("$.a.x.y", "Missing property in path $['a']['x']"),
    ("$.nil[0]", "The path $['nil'] is null"),
    ("$$.Execution.Input.no_such_jsonpath", "No results for path: $['Execution']['Input']['no_such_jsonpath']"),
    ("$v.zzz", "No results for path: $['zzz']"),
    ("$undefined", "No results for path: $undefined"),
]


@pytest.mark.parametrize(("text", "detail"), MISSING, ids=[t for t, _ in MISSING])
def test_missing(text: str, detail: str) -> None:
    with pytest.raises(PathNotFound) as caught:
        compile_path(text).get(SCOPE)
    assert caught.value.detail == detail


def test_quoted_names_unescape_as_jayway() -> None:
    data = {"a\nb": 1, "é": 2, "q'x": 3, 'd"x': 4, "back\\slash": 5}
    scope = Scope(data)
    assert compile_path("$['a\\nb']").get(scope) == 1
    assert compile_path("$['\\u00e9']").get(scope) == 2
    assert compile_path("$['q\\'x']").get(scope) == 3
    assert compile_path('$["d\\"x"]').get(scope) == 4
    assert compile_path("$['back\\\\slash']").get(scope) == 5


def test_filter_on_a_root_array_and_dot_bracket() -> None:
    users = [{"name": "a", "year": 1997}, {"name": "b", "year": 1999}, {"name": "c", "year": 1998}]
    scope = Scope(users)
    assert compile_path("$[?(@.year <= 1998)]").get(scope) == [users[0], users[2]]
    assert compile_path("$.[?(@.year < 1999)].name").get(scope) == ["a", "c"]
    assert compile_path("$[?(@.year == $[1].year)].name").get(scope) == ["b"]


REGEX_FILTERS = [
    ("$.names[?(@.n =~ /ab/)].i", [0]),  # the whole value must match, as Java's matches()
    ("$.names[?(@.n =~ /ab/i)].i", [0, 1]),
    ("$.names[?(@.n =~ /.*ab/)].i", [0, 3]),
    ("$.names[?(@.n =~ /AB\\.c/)].i", [2]),
    ("$.names[?(@.n =~ /x.*/ && @.i > 0)].i", [3]),
]


@pytest.mark.parametrize(("text", "expected"), REGEX_FILTERS, ids=[t for t, _ in REGEX_FILTERS])
def test_regex_filters(text: str, expected: list[int]) -> None:
    names = [{"i": 0, "n": "ab"}, {"i": 1, "n": "AB"}, {"i": 2, "n": "AB.c"}, {"i": 3, "n": "xab"}, {"i": 4}]
    assert compile_path(text).get(Scope({"names": names})) == expected


def test_flatten_array_of_arrays() -> None:
    # AWS docs (Using JSONPath paths): "ResultSelector": {"flattenArray.$": "$[*][*]"}
    template = compile_template({"flattenArray.$": "$[*][*]"}, field="ResultSelector")
    assert template.render(Scope([[1, 2, 3], [4, 5, 6], [7, 8, 9]])) == {"flattenArray": [1, 2, 3, 4, 5, 6, 7, 8, 9]}


NULL_INPUT_CAUSE = "Unable to apply Path transformation to null or empty input."


def test_paths_over_a_null_input_fail() -> None:
    # AWS: '"Variable": "$"' on a null input fails (awslabs/states-language#29); $$ and
    # variables do not read the input.
    scope = Scope(None, CONTEXT, VARIABLES)
    for text in ("$", "$.a", "$[*]"):
        with pytest.raises(StatesError) as caught:
            compile_path(text).get(scope)
        assert (caught.value.error, caught.value.cause) == ("States.Runtime", NULL_INPUT_CAUSE)
    assert compile_path("$$.Execution.Id").get(scope) == "arn:exec"
    assert compile_path("$n").get(scope) == 3
    with pytest.raises(StatesError) as caught:
        compile_template({"Input.$": "$"}, field="Parameters").render(scope)
    assert caught.value.cause == NULL_INPUT_CAUSE
    with pytest.raises(StatesError) as caught:
        input_path(compile_path("$.a"), scope)
    assert caught.value.cause == NULL_INPUT_CAUSE


# AWS (TestState, recorded in ministackorg/ministack#1217): Jayway over Jackson nodes, where an
# index outside the array reads as null.
JACKSON = [
    ("$.matrix[0][1]", {"matrix": [[1, 2]]}, 2),
    ("$.matrix[*][*]", {"matrix": [[1, 2], [3]]}, [1, 2, 3]),
    ("$.abc.['def ghi'][*]", {"abc": {"def ghi": ["first", "second"]}}, ["first", "second"]),
    ("$.values.*", {"values": {"only": 1}}, [1]),
    ("$.items[*].value", {"items": [{"value": None}, {}]}, [None]),
    ("$.matrix[2]", {"matrix": [[1, 2]]}, None),
    ("$.matrix[-3]", {"matrix": [[1, 2]]}, None),
    ("$.rows[*][0]", {"rows": [[1], [], [2]]}, [1, None, 2]),
    ("$.rows[0,3]", {"rows": [7]}, [7, None]),
    ("$.items[*].name", {"items": [{"name": "first"}, {}, {"name": "third"}]}, ["first", "third"]),
    ("$.items[*].missing", {"items": [{"name": "first"}]}, []),
]


@pytest.mark.parametrize(("text", "data", "expected"), JACKSON, ids=[t for t, *_ in JACKSON])
def test_jackson_semantics(text: str, data: Any, expected: Any) -> None:
    assert compile_path(text).get(Scope(data)) == expected


# Jayway compares ValueNodes: a number equals a numeric string by value, ordering needs two
# numbers or two strings, a missing member equals nothing.
JAYWAY_FILTERS = [
    ("$[?(@.s != '201')].i", [{"i": 0, "s": "201"}, {"i": 1, "s": "500"}, {"i": 2, "s": 201}, {"i": 3}], [1, 3]),
    ("$[?(@.n == '1.0')].i", [{"i": 0, "n": 1}, {"i": 1, "n": 1.0}, {"i": 2, "n": "1.0"}, {"i": 3, "n": "1"}], [0, 1, 2]),
    ("$[?(@.n == 1)].i", [{"i": 0, "n": "1"}, {"i": 1, "n": "1.0"}, {"i": 2, "n": True}, {"i": 3, "n": 1.0}], [0, 3]),
    ("$[?(@.n >= 2)].i", [{"i": 0, "n": 1}, {"i": 1, "n": 2.5}, {"i": 2, "n": "3"}, {"i": 3, "n": True}], [1]),
    ("$[?(@.b == true)].i", [{"i": 0, "b": True}, {"i": 1, "b": 1}, {"i": 2, "b": "true"}], [0]),
    ("$[?(@.b == null)].i", [{"i": 0, "b": None}, {"i": 1, "b": 0}, {"i": 2}], [0]),
    ("$[?(@.s < 'b')].i", [{"i": 0, "s": "a"}, {"i": 1, "s": "c"}, {"i": 2, "s": 1}], [0]),
    ("$[?(@.t[*] == 1)].i", [{"i": 0, "t": [1]}, {"i": 1, "t": 1}], []),
    ("$[?(@.a == 1 || @.b == 2)].i", [{"i": 0, "a": "1"}, {"i": 1, "b": 2.0}, {"i": 2, "a": 2}], [0, 1]),
    ("$[?(@.x in ['a', 1])].i", [{"i": 0, "x": "a"}, {"i": 1, "x": 1}, {"i": 2, "x": "b"}, {"i": 3}], [0, 1]),
    ("$[?(@.x nin ['a', 1])].i", [{"i": 0, "x": "a"}, {"i": 1, "x": 1}, {"i": 2, "x": "b"}, {"i": 3}], [2, 3]),
    ("$[?(@.i > 0 && @.x in ['b, c'])].i", [{"i": 0, "x": "b, c"}, {"i": 1, "x": "b, c"}, {"i": 2, "x": "b"}], [1]),
]


@pytest.mark.parametrize(("text", "data", "expected"), JAYWAY_FILTERS, ids=[t for t, *_ in JAYWAY_FILTERS])
def test_jayway_filter_comparisons(text: str, data: Any, expected: list[int]) -> None:
    assert compile_path(text).get(Scope(data)) == expected


def test_property_of_a_scalar_is_missing() -> None:
    with pytest.raises(PathNotFound) as caught:
        compile_path("$.text.length").get(SCOPE)
    assert caught.value.detail.startswith("Expected to find an object with property ['length'] in path $['text']")


INVALID = ["a", "", "$.", "$.a b", "$.a[", "$.a['b]", "$.a[x]", "$.a[1:2:3:4]", "$.a[::0]", "$.a.length()",
           "$[?(@.x size 2)]", "$.a[?(@.x ==)]", "$['a',]"]


@pytest.mark.parametrize("text", [*INVALID, 5, None, ["$"], {"a": 1}], ids=repr)
def test_invalid_paths(text: Any) -> None:
    with pytest.raises(ValueError):
        compile_path(text)


def test_compile_once() -> None:
    assert compile_path("$.a.b") is compile_path("$.a.b")
    filtered = compile_path("$.a[?(@.b > 1)]")
    assert filtered == compile_path("$.a[?(@.b > 1)]") and len({filtered, compile_path("$.a")}) == 2
    assert isinstance(compile_path("$"), Path)


def test_reference_paths() -> None:
    assert compile_path("$.a[0].b").is_reference
    assert not compile_path("$.a[*]").is_reference
    assert not compile_path("$['a','b']").is_reference


# --- templates -------------------------------------------------------------------------

def test_template_renders_paths_intrinsics_and_literals() -> None:
    template = compile_template({
        "v.$": "$.a.b[0]",
        "lit": "$.not-a-path",
        "nested": {"f.$": "States.Format('{}-{}', $.text, $v.k[0])", "list": [{"q.$": "$$.Execution.Id"}, 2]},
        "all.$": "$",
    }, field="Parameters")
    assert template.render(SCOPE) == {
        "v": 1,
        "lit": "$.not-a-path",
        "nested": {"f": "hello-7", "list": [{"q": "arn:exec"}, 2]},
        "all": DATA,
    }


def test_template_copies_literals() -> None:
    template = compile_template({"l": [1, {"a": []}]}, field="Parameters")
    first = template.render(SCOPE)
    first["l"][1]["a"].append(9)
    assert template.render(SCOPE) == {"l": [1, {"a": []}]}


def test_template_missing_path_message() -> None:
    scope = Scope({"int-literal": 0}, CONTEXT, {})
    template = compile_template({"value.$": "$$.Execution.Input.no_such_jsonpath"}, field="Parameters")
    with pytest.raises(StatesError) as caught:
        template.render(scope)
    assert caught.value.error == "States.Runtime"
    assert caught.value.cause == ("The JSONPath '$$.Execution.Input.no_such_jsonpath' specified for the field "
                                  "'value.$' could not be found in the input '{\"int-literal\":0}'")


def test_template_missing_path_inside_intrinsic() -> None:
    template = compile_template({"n": {"f.$": "States.Format('{}', $.missing)"}}, field="Parameters")
    with pytest.raises(StatesError) as caught:
        template.render(Scope({"a": 1}))
    assert caught.value.cause == ("The JSONPath '$.missing' specified for the field 'f.$' "
                                  "could not be found in the input '{\"a\":1}'")


@pytest.mark.parametrize("value", ["States.Format('x'", "not a path", 3, None, "$.a b", "States.Nope(1)"])
def test_template_rejects_invalid_values(value: Any) -> None:
    with pytest.raises(ValueError) as caught:
        compile_template({"outer": {"parsed.$": value}}, field="Parameters")
    assert str(caught.value) == ("The value for the field 'parsed.$' must be a valid JSONPath "
                                 "or a valid intrinsic function call")


def test_template_of_scalar_and_list() -> None:
    assert compile_template("x", field="ResultSelector").render(SCOPE) == "x"
    assert compile_template([{"a.$": "$.text"}], field="ItemSelector").render(SCOPE) == [{"a": "hello"}]


# --- InputPath / OutputPath / ResultPath ---------------------------------------------------

def test_input_path() -> None:
    assert input_path(compile_path("$.a"), SCOPE) == {"b": [1, 2, {"c": 3}]}
    assert input_path(None, SCOPE) == {}
    assert input_path(compile_path("$$.Execution.Id"), SCOPE) == "arn:exec"


def test_input_path_missing() -> None:
    with pytest.raises(StatesError) as caught:
        input_path(compile_path("$.NoSuchOutputPath"), SCOPE)
    assert (caught.value.error, caught.value.cause) == (
        "States.Runtime", "Invalid path '$.NoSuchOutputPath' : No results for path: $['NoSuchOutputPath']")


def test_output_path() -> None:
    assert output_path(compile_path("$.r"), {"r": [1]}, SCOPE) == [1]
    assert output_path(compile_path("$$.Execution.Id"), {"r": [1]}, SCOPE) == "arn:exec"
    assert output_path(None, {"r": 1}) == {}
    assert output_path(compile_path("$"), 5) == 5
    with pytest.raises(StatesError) as caught:
        output_path(compile_path("$.NoSuchOutputPath"), {"r": 1})
    assert caught.value.cause == "Invalid path '$.NoSuchOutputPath' : No results for path: $['NoSuchOutputPath']"


RESULT_PATHS = [
    (None, {"a": 1}, "R", {"a": 1}),
    ("$", {"a": 1}, "R", "R"),
    ("$.r", {"a": 1}, "R", {"a": 1, "r": "R"}),
    ("$.a", {"a": 1}, {"x": 2}, {"a": {"x": 2}}),
    ("$.r.s.t", {"a": 1}, [1], {"a": 1, "r": {"s": {"t": [1]}}}),
    ("$.a.b", {"a": {"c": 1}}, 2, {"a": {"c": 1, "b": 2}}),
    ("$.l[1]", {"l": [0, 0]}, 9, {"l": [0, 9]}),
    ("$.l[0].x", {"l": [{}]}, 9, {"l": [{"x": 9}]}),
    ("$['a b']", {}, 1, {"a b": 1}),
]


@pytest.mark.parametrize(("path", "state_input", "result", "expected"), RESULT_PATHS,
                         ids=[str(p) for p, *_ in RESULT_PATHS])
def test_result_path(path: str | None, state_input: Any, result: Any, expected: Any) -> None:
    before = dumps(state_input)
    assert result_path(path, state_input, result) == expected
    assert dumps(state_input) == before, "the state input is not mutated"


CONFLICTS = [
    ("$.r", "str", 'Unable to apply ReferencePath $.r to input "str"'),
    ("$.a.b", {"a": 1}, 'Unable to apply ReferencePath $.a.b to input {"a":1}'),
    ("$.l[5]", {"l": [0]}, 'Unable to apply ReferencePath $.l[5] to input {"l":[0]}'),
    ("$[0]", {"l": 1}, 'Unable to apply ReferencePath $[0] to input {"l":1}'),
]


@pytest.mark.parametrize(("path", "state_input", "cause"), CONFLICTS, ids=[p for p, *_ in CONFLICTS])
def test_result_path_conflict(path: str, state_input: Any, cause: str) -> None:
    with pytest.raises(StatesError) as caught:
        result_path(path, state_input, 1)
    assert (caught.value.error, caught.value.cause) == ("States.ReferencePathConflict", cause)


@pytest.mark.parametrize("path", ["$.a[*]", "$$.Execution", "$v.x", "$..a"])
def test_result_path_must_be_reference(path: str) -> None:
    with pytest.raises(ValueError):
        result_path(path, {}, 1)


# --- dumps ------------------------------------------------------------------------------

DUMPS = [
    ({"a": [1, 2]}, '{"a":[1,2]}'),
    ("é\n", '"é\\n"'),
    (1.0, "1.0"),
    (1e20, "1.0E20"),
    (0.0001, "1.0E-4"),
    (True, "true"),
    (None, "null"),
    ({"k": {"n": 2.5, "s": "x"}}, '{"k":{"n":2.5,"s":"x"}}'),
    ("\x1f\t", '"\\u001F\\t"'),
    ("\\u001f", '"\\\\u001f"'),
    ({"q": 'say "hi"'}, '{"q":"say \\"hi\\""}'),
    ([-0.0, 10000000.0, 123456789012345678901234567890], "[-0.0,1.0E7,123456789012345678901234567890]"),
]


@pytest.mark.parametrize(("value", "text"), DUMPS, ids=[t for _, t in DUMPS])
def test_dumps(value: Any, text: str) -> None:
    assert dumps(value) == text


# --- recorded single-Pass cases: Parameters rendered against the input -----------------------

CASES = SHARED / "conformance" / "asl" / "cases"


def _parameters_cases() -> list[Path_]:
    """Recorded runs of one Pass state whose only work is Parameters (no $$, nothing random)."""
    if not CASES.is_dir():
        return []
    found = []
    for file in sorted(CASES.glob("*.json")):
        case = json.loads(file.read_text())
        definition = case.get("definition") or {}
        states = list(definition.get("States", {}).values())
        if case["kind"] not in ("execution", "execution_output") or "QueryLanguage" in definition or len(states) != 1:
            continue
        [state] = states
        text = json.dumps(state.get("Parameters"))
        if (state.get("Type") == "Pass" and "Parameters" in state and set(state) <= {"Type", "Parameters", "End", "Comment"}
                and not any(word in text for word in ("$$", "States.UUID", "States.MathRandom"))):
            found.append(file)
    return found


def _same(left: Any, right: Any) -> bool:
    """JSON equality where 1 and 1.0 (and true and 1) differ, as the case README asks."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(_same(v, right[k]) for k, v in left.items())
    if isinstance(left, list):
        return len(left) == len(right) and all(map(_same, left, right))
    return bool(left == right)


PARAMETER_CASES = _parameters_cases()


@pytest.mark.skipif(not CASES.is_dir(), reason=f"shared conformance cases not found at {CASES}")
def test_recorded_parameter_cases_are_present() -> None:
    assert len(PARAMETER_CASES) >= 50


@pytest.mark.parametrize("file", PARAMETER_CASES, ids=[f.stem for f in PARAMETER_CASES])
def test_recorded_parameters_case(file: Path_) -> None:
    case = json.loads(file.read_text())
    [state] = case["definition"]["States"].values()
    template = compile_template(state["Parameters"], field="Parameters")
    value = json.loads(case["input_text"]) if case.get("input_text") else case.get("input", {})
    expect = case["expect"]
    try:
        output = template.render(Scope(value, {"Execution": {"Input": value}}, {}))
    except StatesError as error:
        assert expect["status"] == "FAILED" and error.error == expect["error"], error
        assert str(expect["cause"]).endswith(str(error.cause))
        return
    assert expect["status"] == "SUCCEEDED"
    assert _same(output, expect["output"]), (output, expect["output"])
