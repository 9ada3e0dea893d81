"""The conformance comparison on synthetic expected/actual pairs (no engine involved)."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from benchmarks._conformance.cases import case_from_dict
from benchmarks._conformance.compare import Options, Outcome, compare, compare_history, segments
from benchmarks._conformance.match import Matcher, normalise


def ev(i: int, prev: int, kind: str, **details: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"id": i, "previousEventId": prev, "timestamp": "timestamp", "type": kind}
    event.update(details)
    return event


def entered(i: int, prev: int, kind: str, name: str, value: Any) -> dict[str, Any]:
    return ev(i, prev, kind, stateEnteredEventDetails={"name": name, "input": value,
                                                         "inputDetails": {"truncated": False}})


def case(expect: dict[str, Any], *, kind: str = "execution", placeholders: list[str] | None = None,
         **extra: Any) -> Any:
    raw = {"id": "t::x", "kind": kind, "category": "c", "definition": {"StartAt": "A", "States": {}},
           "expect": expect, "placeholders": placeholders or [], **extra}
    return case_from_dict(raw)


# -- placeholders -----------------------------------------------------------------

def test_bracketed_placeholder_binds_across_the_case() -> None:
    m = Matcher(["<ArnPart_0idx>"])
    assert m.match("arn:aws:states:us-east-1:1:stateMachine:<ArnPart_0idx>",
                   "arn:aws:states:us-east-1:1:stateMachine:sm-42") is None
    assert m.bindings == {"<ArnPart_0idx>": "sm-42"}
    assert m.match("<ArnPart_0idx>", "sm-42") is None
    diff = m.match("<ArnPart_0idx>", "other")
    assert diff is not None and "bound to 'sm-42'" in diff.note


def test_bracketed_placeholder_repeated_in_one_string_must_agree() -> None:
    m = Matcher()
    assert m.match("<ExecArnPart_0idx>/<ExecArnPart_0idx>", "abc/abc") is None
    assert Matcher().match("<ExecArnPart_0idx>/<ExecArnPart_0idx>", "abc/abd") is not None


def test_literal_token_is_accepted_and_does_not_bind() -> None:
    m = Matcher()
    assert m.match("x:<ArnPart_0idx>", "x:<ArnPart_0idx>") is None
    assert m.bindings == {}
    assert m.match("<ArnPart_0idx>", "real") is None


def test_uuid_region_partition_and_account_patterns() -> None:
    m = Matcher(["111111111111", "<region>", "<partition>", "<uuid:1>"])
    uuid = "0f3c6a2e-5b4d-4c1e-9a7f-1234567890ab"
    assert m.match("arn:<partition>:states:<region>:111111111111:x", "arn:aws:states:eu-west-1:123456789012:x") is None
    assert m.match({"id": "<uuid:1>"}, {"id": uuid}) is None
    assert m.match("<uuid:1>", "not-a-uuid") is not None
    assert Matcher(["111111111111"]).match("a:111111111111", "a:12345") is not None
    assert Matcher().match("arn:<partition>:x", "arn:azure:x") is not None


def test_bare_words_only_when_listed() -> None:
    assert Matcher(["snf_role_arn"]).match("snf_role_arn", "arn:aws:iam::1:role/r") is None
    assert Matcher().match("snf_role_arn", "arn:aws:iam::1:role/r") is not None
    assert Matcher(["start-time"]).match({"StartTime": "start-time"}, {"StartTime": "2024-01-01T00:00:00Z"}) is None


def test_date_word_matches_iso_datetimes_inside_strings() -> None:
    m = Matcher(["date"])
    assert m.match("started at date!", "started at 2026-11-23T13:45:01.123Z!") is None
    assert m.match("date", "2026-11-23T13:45:01.123+00:00") is None
    assert m.match("date", "date") is None
    assert m.match("date", "yesterday") is not None


def test_whole_value_placeholders_match_scalars_and_numbers() -> None:
    m = Matcher(["timestamp", "RandomNumberGenerated", "datetime"])
    assert m.match({"timestamp": "timestamp"}, {"timestamp": "2026-11-23 13:45:00+00:00"}) is None
    assert m.match({"startDate": "datetime"}, {"startDate": 1700000000.5}) is None
    assert m.match({"FunctionResult": "RandomNumberGenerated"}, {"FunctionResult": 417}) is None
    assert m.match("timestamp", {"a": 1}) is not None
    assert Matcher(["timestamp"]).match("a timestamp here", "a 5 here") is not None
    assert Matcher().match({"timestamp": "timestamp"}, {"timestamp": "2026-11-23"}) is None  # always on


def test_json_input_token_matches_any_quoted_document() -> None:
    m = Matcher(["<json-input:1>"])
    expected = "could not be found in the input '<json-input:1>'"
    assert m.match(expected, 'could not be found in the input \'{"a":1,"b":[2]}\'') is None
    assert m.match(expected, "could not be found in the input '{}' at all") is not None
    assert m.match("again '<json-input:1>'", "again '{\"a\":1,\"b\":[2]}'") is None


# -- plain values -------------------------------------------------------------------

def test_number_kinds_differ_unless_loose() -> None:
    assert Matcher().match({"n": 1}, {"n": 1.0}) is not None
    assert Matcher(loose_numbers=True).match({"n": 1}, {"n": 1.0}) is None
    assert Matcher(loose_numbers=True).match(True, 1) is not None
    assert Matcher().match(0, False) is not None
    assert Matcher().match(None, None) is None


def test_objects_need_the_same_keys_and_arrays_the_same_order() -> None:
    diff = Matcher().match({"a": 1}, {"a": 1, "b": 2})
    assert diff is not None and diff.where == "$.b" and diff.note == "unexpected key"
    diff = Matcher().match({"a": 1, "b": 2}, {"a": 1})
    assert diff is not None and diff.where == "$.b" and diff.note == "missing key"
    assert Matcher().match([1, 2], [2, 1]) is not None
    assert Matcher().match([1, 2], [1, 2, 3]) is not None


def test_normalise_parses_object_strings_once_and_only_as_dict_values() -> None:
    raw = {
        "output": '{"inner": "{\\"x\\": 1}"}',
        "array": "[1,2]",
        "text": '"quoted"',
        "list": ['{"a": 1}'],
        "broken": "{not json",
        "when": datetime(2026, 1, 1, tzinfo=timezone.utc),
        "ResponseMetadata": {"RequestId": "r"},
    }
    assert normalise(raw) == {
        "output": {"inner": '{"x": 1}'},
        "array": "[1,2]",
        "text": '"quoted"',
        "list": ['{"a": 1}'],
        "broken": "{not json",
        "when": "2026-01-01T00:00:00+00:00",
    }


# -- whole cases ----------------------------------------------------------------------

def test_error_absent_versus_empty() -> None:
    c = case({"status": "FAILED", "error": None, "cause": ""})
    assert compare(c, Outcome(status="FAILED", error=None, cause="")) is None
    diff = compare(c, Outcome(status="FAILED", error="", cause=""))
    assert diff is not None and diff.where == "error" and diff.note == "must be absent"
    diff = compare(c, Outcome(status="FAILED", error=None, cause=None))
    assert diff is not None and diff.where == "cause" and diff.note == "absent"


def test_cause_recorded_as_object_is_parsed() -> None:
    c = case({"status": "FAILED", "error": "E", "cause": {"errorMessage": "boom"}})
    assert compare(c, Outcome(status="FAILED", error="E", cause='{"errorMessage":"boom"}')) is None
    assert compare(c, Outcome(status="FAILED", error="E", cause='{"errorMessage":"bang"}')) is not None


def test_status_difference_names_the_actual_failure() -> None:
    c = case({"status": "SUCCEEDED", "output": {}})
    diff = compare(c, Outcome(status="FAILED", error="States.Runtime", cause="bad path"))
    assert diff is not None and diff.where == "status" and diff.note == "States.Runtime: bad path"


def test_output_is_compared_as_json() -> None:
    c = case({"status": "SUCCEEDED", "output": {"a": [1, 2.5]}})
    assert compare(c, Outcome(status="SUCCEEDED", output='{"a":[1,2.5]}')) is None
    assert compare(c, Outcome(status="SUCCEEDED", output='{"a":[1,2]}')) is not None


def test_create_start_and_validate_errors() -> None:
    c = case({"create_error": {"code": "InvalidDefinition", "message": "m"}}, kind="create_error")
    assert compare(c, Outcome(create_error={"code": "InvalidDefinition", "message": "m"})) is None
    diff = compare(c, Outcome(status="SUCCEEDED"))
    assert diff is not None and diff.where == "create_error" and diff.note == "the call succeeded"
    s = case({"start_error": {"code": "InvalidExecutionInput", "message": "x"}}, kind="start_error")
    assert compare(s, Outcome(start_error={"code": "InvalidExecutionInput", "message": "y"})) is not None
    unexpected = compare(case({"status": "SUCCEEDED"}), Outcome(create_error={"code": "InvalidDefinition", "message": "m"}))
    assert unexpected is not None and unexpected.note == "unexpected error"
    v = case({"validate": {"result": "OK", "diagnostics": [], "truncated": False}}, kind="validate")
    assert compare(v, Outcome(validate={"result": "OK", "diagnostics": [], "truncated": False})) is None
    assert compare(v, Outcome(validate={"result": "FAIL", "diagnostics": [], "truncated": False})) is not None


def test_crash_is_a_failure() -> None:
    diff = compare(case({"status": "SUCCEEDED"}), Outcome(crash="KeyError: 'x'"))
    assert diff is not None and diff.note == "KeyError: 'x'"


def test_only_output_skips_history_and_describe() -> None:
    c = case({"status": "SUCCEEDED", "output": 1, "history": [ev(1, 0, "ExecutionStarted")],
              "describe_execution": {"status": "SUCCEEDED"}})
    outcome = Outcome(status="SUCCEEDED", output="1", history=[], describe_execution={"status": "FAILED"})
    assert compare(c, outcome, Options(only_output=True)) is None
    assert compare(c, outcome) is not None


def test_describe_and_sync_response_are_compared_when_observed() -> None:
    c = case({"status": "SUCCEEDED", "sync_response": {"status": "SUCCEEDED", "billingDetails": {"x": 1},
                                                      "input": {}, "startDate": "datetime"}},
             placeholders=["datetime"])
    actual = {"status": "SUCCEEDED", "input": "{}", "startDate": datetime(2026, 1, 1, tzinfo=timezone.utc),
              "billingDetails": {"billedDurationInMilliseconds": 7}, "ResponseMetadata": {}}
    assert compare(c, Outcome(status="SUCCEEDED", sync_response=actual)) is None
    assert compare(c, Outcome(status="SUCCEEDED")) is None  # not observed in-process
    diff = compare(c, Outcome(status="SUCCEEDED", sync_response={**actual, "input": "[]"}))
    assert diff is not None and diff.where == "sync_response.input"


# -- histories ---------------------------------------------------------------------

def parallel_history(order: list[str]) -> list[dict[str, Any]]:
    events = [ev(1, 0, "ExecutionStarted"), entered(2, 1, "ParallelStateEntered", "P", {}),
              ev(3, 2, "ParallelStateStarted")]
    next_id = 4
    for name in order:
        events.append(entered(next_id, 3, "PassStateEntered", name, {}))
        next_id += 1
    events += [ev(next_id, next_id - 1, "ParallelStateSucceeded"),
               ev(next_id + 1, next_id, "ParallelStateExited"),
               ev(next_id + 2, next_id + 1, "ExecutionSucceeded")]
    return events


def test_parallel_segment_is_a_multiset() -> None:
    expected = parallel_history(["A", "B", "C"])
    shuffled = parallel_history(["C", "A", "B"])
    shuffled[6]["previousEventId"] = 99  # the closing event's previousEventId is ignored
    assert compare_history(expected, shuffled, Matcher(["timestamp"])) is None
    assert compare_history(expected, shuffled, Matcher(["timestamp"]), strict=True) is not None


def test_parallel_segment_needs_the_same_events() -> None:
    expected = parallel_history(["A", "B"])
    diff = compare_history(expected, parallel_history(["A", "X"]), Matcher(["timestamp"]))
    assert diff is not None and "no event matches" in diff.note
    diff = compare_history(expected, parallel_history(["A", "B", "B"]), Matcher(["timestamp"]))
    assert diff is not None and "3 events in segment, expected 2" in diff.note


def test_events_outside_segments_keep_their_order_and_ids() -> None:
    expected = [ev(1, 0, "ExecutionStarted"), entered(2, 1, "PassStateEntered", "A", {}), ev(3, 2, "ExecutionSucceeded")]
    actual = [dict(e) for e in expected]
    actual[2]["previousEventId"] = 1
    diff = compare_history(expected, actual, Matcher(["timestamp"]))
    assert diff is not None and diff.where == "history[2] ExecutionSucceeded #3.previousEventId"
    diff = compare_history(expected, expected[:2], Matcher(["timestamp"]))
    assert diff is not None and "history ends after 2 events" in diff.note
    diff = compare_history(expected[:2], expected, Matcher(["timestamp"]))
    assert diff is not None and "extra event" in diff.note


def test_segments_pair_the_outermost_start_and_end() -> None:
    kinds = ["ExecutionStarted", "MapStateStarted", "ParallelStateStarted", "ParallelStateSucceeded",
             "MapStateFailed", "MapStateStarted", "ExecutionFailed"]
    assert segments([{"type": k} for k in kinds]) == {1: 4, 5: 6}


def test_parallel_sorted_case_against_an_aws_shaped_history(shared_dir: Path) -> None:
    cases = shared_dir / "conformance/asl/cases"
    path = next(cases.glob("scenarios_test_base_scenarios__TestBaseScenarios__test_parallel_state_nested-*.json"))
    c = case_from_dict(json.loads(path.read_text()), path)
    raw = c.input_text
    # AWS keeps the raw input text through unchanged Pass states and Parallel joins the texts
    value = json.dumps([[[[1, 2, 3], [4, 5, 6]]]])

    def t(i: int, prev: int, kind: str, **details: Any) -> dict[str, Any]:
        return {"id": i, "previousEventId": prev, "timestamp": datetime.now(timezone.utc), "type": kind, **details}

    def inp(name: str, text: str | None) -> dict[str, Any]:
        return {"stateEnteredEventDetails": {"name": name, "input": text, "inputDetails": {"truncated": False}}}

    def out(name: str, text: str) -> dict[str, Any]:
        return {"stateExitedEventDetails": {"name": name, "output": text, "outputDetails": {"truncated": False}}}

    actual = [
        t(1, 0, "ExecutionStarted", executionStartedEventDetails={"input": raw, "inputDetails": {"truncated": False},
                                                                 "roleArn": "arn:aws:iam::1:role/r"}),
        t(2, 0, "ParallelStateEntered", **inp("ParallelStateL1", raw)),
        t(3, 2, "ParallelStateStarted"),
        t(4, 3, "ParallelStateEntered", **inp("ParallelStateL2", raw)),
        t(5, 4, "ParallelStateStarted"),
        t(6, 5, "PassStateEntered", **inp("BranchL2", raw)),
        t(7, 6, "PassStateExited", **out("BranchL2", raw)),
        t(8, 7, "ParallelStateSucceeded"),
        t(9, 8, "ParallelStateExited", **out("ParallelStateL2", "[[[1, 2, 3], [4, 5, 6]]]")),
        t(10, 9, "ParallelStateSucceeded"),
        t(11, 10, "ParallelStateExited", **out("ParallelStateL1", value)),
        t(12, 11, "ExecutionSucceeded", executionSucceededEventDetails={"output": value,
                                                                       "outputDetails": {"truncated": False}}),
    ]
    outcome = Outcome(status="SUCCEEDED", output=value, history=actual)
    assert compare(c, outcome) is None
    broken = [dict(e) for e in actual]
    broken[6] = t(7, 6, "PassStateExited", **out("BranchL2", "[]"))
    assert compare(c, Outcome(status="SUCCEEDED", output=value, history=broken)) is not None
    assert compare(c, Outcome(status="SUCCEEDED", output=value, history=actual[:-1])) is not None


@pytest.mark.parametrize("value", ["[\"Hello\", \"World\"]", "[\"Hello\",\"World\"]"])
def test_raw_input_text_is_compared_exactly(value: str) -> None:
    expected = ev(1, 0, "ExecutionStarted", executionStartedEventDetails={"input": "[\"Hello\", \"World\"]"})
    actual = normalise(ev(1, 0, "ExecutionStarted", executionStartedEventDetails={"input": value}))
    diff = compare_history([expected], [actual], Matcher(["timestamp"]))
    assert (diff is None) == (value == "[\"Hello\", \"World\"]")
