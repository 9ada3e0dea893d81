"""The fast paths of engine.asl.paths agree with the exact code they short-cut.

``dumps`` tries ``json`` first and falls back to the value-by-value writer; ``Path.get`` reads
reference paths straight down and falls back to the full Jayway walk; intrinsic path arguments
are compiled once at parse time.
"""
from __future__ import annotations

from typing import Any

import pytest

from engine.asl import intrinsics
from engine.asl.paths import PathNotFound, Scope, compile_path, dumps, evaluate_intrinsic
from engine.asl.paths._jsonpath import _walk
from engine.asl.paths._text import _exact, _plain
from engine.errors import StatesError

VALUES: list[Any] = [
    {"i": 3}, [], {}, "", 0, -7, 2**70, True, False, None,
    1.0, -0.0, 0.0, 1e20, 1e-20, 0.001, 0.00099, 9999999.0, 1e7, -1e7, 2.5, 1 / 3, 123456.789,
    float("inf"), float("-inf"),  # NaN is no JSON value (the exact writer rejects it)
    "é ü 中文 😀", "\u2028\u2029", "\x00\x01\x1f\x7f", "tab\tnew\nline\rback\b\f", "\\u001f", 'q"uote\\',
    "\ud800", {"a": [1, 2.0, {"b": None, "c": [True, "x\x1a"]}]}, [[[]], [{}], [1e300]],
    {"k": {"n": 2.5, "s": "x"}}, {"é": "ü", "": 0}, [0.1, 0.2, 1.5e-3, 7e6],
    {1: "int key"}, {None: 1, True: 2}, (1, 2), {"t": (3, 4.0)},
]


@pytest.mark.parametrize("value", VALUES, ids=[repr(value)[:40] for value in VALUES])
def test_dumps_agrees_with_exact_writer(value: Any) -> None:
    assert dumps(value) == _exact(value)


@pytest.mark.parametrize(("value", "plain"), [
    ({"i": 1}, True), ([1, "a", None, True, 2.5], True), (0.001, True), (-0.0, True),
    (1e7, False), (0.0009, False), (float("nan"), False), ({1: 2}, False), ((1,), False),
])
def test_plain_picks_values_json_writes_as_jackson(value: Any, plain: bool) -> None:
    assert _plain(value) is plain


DOCUMENT = {"a": {"b": [10, {"c": "deep"}, None], "n": None, "s": "str", "l": [1]}, "x": 1.5}
PATHS = ["$", "$.a", "$.a.b", "$.a.b[0]", "$.a.b[-1]", "$.a.b[-3]", "$.a.b[1].c", "$.a.b[5]", "$.a.b[-9]",
         "$['a']['b'][1]['c']", "$.x", "$.a.n", "$.a.s", "$.a.l[0]",
         "$.missing", "$.a.missing", "$.a.missing.deeper", "$.a.s.c", "$.a.n.c", "$.a.b.c", "$.a.s[0]",
         "$.a.n[0]", "$.x[0]", "$.a.b[2].c", "$.a.b[7].c"]


def _slow(text: str, document: Any) -> Any:
    path = compile_path(text)
    found: list[Any] = []
    _walk(path.steps, 0, document, "$", path.definite, found, document)
    if not found:
        raise PathNotFound(text, f"No results for path: {path.rendered}")
    return found[0]


def _outcome(read: Any) -> Any:
    try:
        return ("value", read())
    except PathNotFound as missing:
        return ("missing", missing.path, missing.detail)


@pytest.mark.parametrize("text", PATHS)
def test_reference_path_fast_read_agrees_with_walk(text: str) -> None:
    path = compile_path(text)
    assert path._keys is not None
    assert _outcome(lambda: path.get(Scope(DOCUMENT))) == _outcome(lambda: _slow(text, DOCUMENT))


def test_only_reference_paths_take_the_fast_read() -> None:
    for text in ["$.a[*]", "$.a[0,1]", "$['a','b']", "$..c", "$.a[1:2]", "$.a[?(@.c)]"]:
        assert compile_path(text)._keys is None
    assert compile_path("$$.Execution.Id")._keys == ("Execution", "Id")
    assert compile_path("$var.x[0]")._keys == ("x", 0)


def test_fast_read_on_null_input_still_fails_as_aws() -> None:
    with pytest.raises(StatesError):
        compile_path("$.a").get(Scope(None))


def test_intrinsic_path_arguments_are_compiled_once() -> None:
    call = intrinsics.parse("States.Array($.a.b[0], $$.Execution.Id, $v.k, States.MathAdd($.x, 1))")
    paths = [arg for arg in call.args if isinstance(arg, intrinsics.PathArg)]
    assert [arg.compiled for arg in paths] == [compile_path("$.a.b[0]"), compile_path("$$.Execution.Id"),
                                               compile_path("$v.k")]
    scope = Scope({"a": {"b": [4]}, "x": 1}, {"Execution": {"Id": "arn"}}, {"v": {"k": "kv"}})
    assert evaluate_intrinsic(call, scope, field="f.$") == [4, "arn", "kv", 2]
    # The text resolver gives the same answer.
    assert intrinsics.evaluate(call, lambda text: compile_path(text).get(scope)) == [4, "arn", "kv", 2]


def test_intrinsic_missing_path_still_names_the_field() -> None:
    call = intrinsics.parse("States.MathAdd($.nope, 1)")
    with pytest.raises(StatesError, match=r"The JSONPath '\$.nope' specified for the field 'f.\$' could not"):
        evaluate_intrinsic(call, Scope({"i": 1}), field="f.$")
