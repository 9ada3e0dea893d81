"""engine.asl interpreter: outputs, errors and history shapes for small definitions."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import anyio
import pytest

from engine.asl import ExecutionInfo, load, run, run_sync
from engine.clock import ManualClock

START = datetime(2024, 1, 1, tzinfo=timezone.utc)


def _sm(states: dict[str, Any], start: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"StartAt": start or next(iter(states)), "States": states, **extra}


def _brief(history: list[dict[str, Any]]) -> list[tuple[int, int, str]]:
    return [(e["id"], e["previousEventId"], e["type"]) for e in history]


def _run(definition: dict[str, Any], value: Any = None, text: str | None = None) -> Any:
    return run_sync(definition, text if text is not None else json.dumps(value if value is not None else {}),
                    clock=ManualClock(START))


OUTPUT_CASES = [
    ("pass-through", _sm({"A": {"Type": "Pass", "End": True}}), {"a": 1}, {"a": 1}),
    ("result", _sm({"A": {"Type": "Pass", "Result": {"x": 1}, "End": True}}), {"a": 1}, {"x": 1}),
    ("result-path", _sm({"A": {"Type": "Pass", "Result": 2, "ResultPath": "$.b", "End": True}}), {"a": 1},
     {"a": 1, "b": 2}),
    ("result-path-null", _sm({"A": {"Type": "Pass", "Result": 2, "ResultPath": None, "End": True}}), {"a": 1},
     {"a": 1}),
    ("input-output-path", _sm({"A": {"Type": "Pass", "InputPath": "$.a", "OutputPath": "$.b", "End": True}}),
     {"a": {"b": 3}}, 3),
    ("parameters", _sm({"A": {"Type": "Pass", "Parameters": {"v.$": "$.a", "k": "lit"}, "End": True}}),
     {"a": 5}, {"v": 5, "k": "lit"}),
    ("intrinsic", _sm({"A": {"Type": "Pass", "Parameters": {"s.$": "States.Format('x{}', $.a)"}, "End": True}}),
     {"a": 5}, {"s": "x5"}),
    ("chain", _sm({"A": {"Type": "Pass", "Result": 1, "ResultPath": "$.a", "Next": "B"},
                   "B": {"Type": "Pass", "Result": 2, "ResultPath": "$.b", "Next": "C"},
                   "C": {"Type": "Succeed"}}), {}, {"a": 1, "b": 2}),
    ("choice", _sm({"C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 1, "Next": "Big"}],
                          "Default": "Small"},
                    "Big": {"Type": "Pass", "Result": "big", "End": True},
                    "Small": {"Type": "Pass", "Result": "small", "End": True}}), {"n": 5}, "big"),
    ("choice-default", _sm({"C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 1,
                                                                 "Next": "Big"}], "Default": "Small"},
                            "Big": {"Type": "Pass", "Result": "big", "End": True},
                            "Small": {"Type": "Pass", "Result": "small", "End": True}}), {"n": 0}, "small"),
    ("variables", _sm({"A": {"Type": "Pass", "Assign": {"x": 1, "y.$": "$.a"}, "Next": "B"},
                       "B": {"Type": "Pass", "Parameters": {"x.$": "$x", "y.$": "$y"}, "End": True}}),
     {"a": 2}, {"x": 1, "y": 2}),
    ("jsonata-output", _sm({"A": {"Type": "Pass", "Output": "{% $states.input.a + 1 %}", "End": True}},
                           QueryLanguage="JSONata"), {"a": 1}, 2),
    ("jsonata-assign", _sm({"A": {"Type": "Pass", "Assign": {"v": "{% $states.input.a %}"}, "Next": "B"},
                            "B": {"Type": "Pass", "Output": {"got": "{% $v %}"}, "End": True}},
                           QueryLanguage="JSONata"), {"a": 7}, {"got": 7}),
    ("mixed-languages", _sm({"A": {"Type": "Pass", "QueryLanguage": "JSONata", "Output": {"z": "{% 1 %}"},
                                   "Next": "B"},
                             "B": {"Type": "Pass", "InputPath": "$.z", "End": True}}), {}, 1),
    ("parallel", _sm({"P": {"Type": "Parallel", "End": True, "Branches": [
        _sm({"A": {"Type": "Pass", "Result": 1, "End": True}}),
        _sm({"B": {"Type": "Pass", "End": True}})]}}), {"k": 1}, [1, {"k": 1}]),
    ("map", _sm({"M": {"Type": "Map", "ItemsPath": "$.xs", "End": True, "ItemProcessor": _sm({
        "I": {"Type": "Pass", "Parameters": {"v.$": "$"}, "End": True}})}}), {"xs": [1, 2]}, [{"v": 1}, {"v": 2}]),
    ("map-item-selector", _sm({"M": {"Type": "Map", "ItemsPath": "$.xs", "End": True,
                                     "ItemSelector": {"i.$": "$$.Map.Item.Index", "v.$": "$$.Map.Item.Value"},
                                     "ItemProcessor": _sm({"I": {"Type": "Pass", "End": True}})}}),
     {"xs": ["a", "b"]}, [{"i": 0, "v": "a"}, {"i": 1, "v": "b"}]),
    ("map-concurrent", _sm({"M": {"Type": "Map", "MaxConcurrency": 2, "End": True, "ItemProcessor": _sm({
        "W": {"Type": "Wait", "Seconds": 1, "End": True}})}}), None, None),
    ("catch", _sm({"F": {"Type": "Parallel", "Branches": [_sm({"X": {"Type": "Fail", "Error": "E", "Cause": "c"}})],
                         "Catch": [{"ErrorEquals": ["E"], "ResultPath": "$.err", "Next": "Done"}], "Next": "Done"},
                   "Done": {"Type": "Succeed"}}), {"a": 1}, {"a": 1, "err": {"Error": "E", "Cause": "c"}}),
]


@pytest.mark.parametrize(("definition", "value", "expected"), [c[1:] for c in OUTPUT_CASES],
                         ids=[c[0] for c in OUTPUT_CASES])
def test_outputs(definition: dict[str, Any], value: Any, expected: Any) -> None:
    if value is None:  # map-concurrent: items from a list input, waits on the manual clock
        result = anyio.run(_run_with_clock, definition, "[1, 2, 3]")
        assert result.status == "SUCCEEDED"
        assert json.loads(result.output) == [1, 2, 3]
        return
    result = _run(definition, value)
    assert (result.status, result.error, result.cause) == ("SUCCEEDED", None, None)
    assert json.loads(result.output) == expected


async def _run_with_clock(definition: dict[str, Any], text: str) -> Any:
    clock = ManualClock(START)
    box: list[Any] = []
    async with anyio.create_task_group() as group:
        async def go() -> None:
            box.append(await run(definition, text, clock=clock))
        group.start_soon(go)
        while not box:
            await anyio.sleep(0.001)
            if clock.pending:
                await clock.advance(1)
    return box[0]


def test_pass_history_and_raw_input_text() -> None:
    result = _run(_sm({"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Result": [1], "End": True}}),
                  text='[1, 2]')
    assert _brief(result.history) == [(1, 0, "ExecutionStarted"), (2, 0, "PassStateEntered"),
                                      (3, 2, "PassStateExited"), (4, 3, "PassStateEntered"),
                                      (5, 4, "PassStateExited"), (6, 5, "ExecutionSucceeded")]
    started = result.history[0]["executionStartedEventDetails"]
    assert started["input"] == "[1, 2]"
    assert started["inputDetails"] == {"truncated": False}
    # AWS keeps the raw text while the value passes through unchanged
    assert result.history[2]["stateExitedEventDetails"]["output"] == "[1, 2]"
    assert result.history[4]["stateExitedEventDetails"] == {"name": "B", "output": "[1]",
                                                            "outputDetails": {"truncated": False}}
    assert result.output == "[1]"
    assert all(e["timestamp"].tzinfo is not None for e in result.history)


def test_fail_state() -> None:
    result = _run(_sm({"F": {"Type": "Fail", "Error": "Boom", "Cause": "why"}}))
    assert (result.status, result.error, result.cause, result.output) == ("FAILED", "Boom", "why", None)
    assert _brief(result.history) == [(1, 0, "ExecutionStarted"), (2, 0, "FailStateEntered"),
                                      (3, 2, "ExecutionFailed")]
    assert result.history[-1]["executionFailedEventDetails"] == {"error": "Boom", "cause": "why"}


def test_fail_state_without_error_or_cause() -> None:
    result = _run(_sm({"F": {"Type": "Fail"}}))
    assert (result.error, result.cause) == (None, None)
    assert result.history[-1]["executionFailedEventDetails"] == {}


def test_fail_paths() -> None:
    result = _run(_sm({"F": {"Type": "Fail", "ErrorPath": "$.e", "CausePath": "States.Format('c{}', $.n)"}}),
                  {"e": "E1", "n": 2})
    assert (result.error, result.cause) == ("E1", "c2")


def test_runtime_error_prefix() -> None:
    result = _run(_sm({"A": {"Type": "Pass", "OutputPath": "$.missing", "End": True}}), {"a": 1})
    assert result.error == "States.Runtime"
    assert result.cause == ("An error occurred while executing the state 'A' (entered at the event id #2). "
                            "Invalid path '$.missing' : No results for path: $['missing']")
    assert _brief(result.history)[-1] == (3, 2, "ExecutionFailed")


def test_jsonata_error_writes_evaluation_failed() -> None:
    result = _run(_sm({"A": {"Type": "Pass", "Output": "{% $nope %}", "End": True}}, QueryLanguage="JSONata"))
    assert result.error == "States.QueryEvaluationError"
    assert _brief(result.history) == [(1, 0, "ExecutionStarted"), (2, 0, "PassStateEntered"),
                                      (3, 0, "EvaluationFailed"), (4, 3, "ExecutionFailed")]
    details = result.history[2]["evaluationFailedEventDetails"]
    assert details["location"] == "Output" and details["state"] == "A"


def test_no_choice_matched() -> None:
    result = _run(_sm({"C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "IsPresent": True, "Next": "X"}]},
                       "X": {"Type": "Succeed"}}))
    assert result.error == "States.NoChoiceMatched"


def test_assigned_variables_in_exit_event() -> None:
    result = _run(_sm({"A": {"Type": "Pass", "Assign": {"x": [1, 2], "s": "t"}, "End": True}}))
    details = result.history[2]["stateExitedEventDetails"]
    assert details["assignedVariables"] == {"x": "[1,2]", "s": "\"t\""}
    assert details["assignedVariablesDetails"] == {"truncated": False}


def test_output_path_sees_variables_before_assign() -> None:
    # AWS evaluation order: Assign is computed, OutputPath still reads the old value
    result = _run(_sm({"A": {"Type": "Pass", "Assign": {"v": 1}, "Next": "B"},
                       "B": {"Type": "Pass", "Assign": {"v": 2}, "OutputPath": "$v", "End": True}}))
    assert result.output == "1"


def test_map_history_numbering() -> None:
    result = _run(_sm({"M": {"Type": "Map", "MaxConcurrency": 1, "End": True,
                             "ItemProcessor": _sm({"I": {"Type": "Pass", "End": True}})}}), text="[1, 2]")
    assert _brief(result.history) == [
        (1, 0, "ExecutionStarted"), (2, 0, "MapStateEntered"), (3, 2, "MapStateStarted"),
        (4, 3, "MapIterationStarted"), (5, 4, "PassStateEntered"), (6, 5, "PassStateExited"),
        (7, 6, "MapIterationSucceeded"), (8, 6, "MapIterationStarted"), (9, 8, "PassStateEntered"),
        (10, 9, "PassStateExited"), (11, 10, "MapIterationSucceeded"), (12, 11, "MapStateSucceeded"),
        (13, 11, "MapStateExited"), (14, 13, "ExecutionSucceeded")]
    assert result.history[2]["mapStateStartedEventDetails"] == {"length": 2}
    assert result.history[3]["mapIterationStartedEventDetails"] == {"index": 0, "name": "M"}


def test_map_failure_and_catch_history() -> None:
    result = _run(_sm({"M": {"Type": "Map", "End": True,
                             "ItemProcessor": _sm({"F": {"Type": "Fail", "Error": "E"}}),
                             "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Done"}]},
                       "Done": {"Type": "Pass", "End": True}}), text="[1]")
    assert _brief(result.history) == [
        (1, 0, "ExecutionStarted"), (2, 0, "MapStateEntered"), (3, 2, "MapStateStarted"),
        (4, 3, "MapIterationStarted"), (5, 4, "FailStateEntered"), (6, 5, "MapIterationFailed"),
        (7, 5, "MapStateFailed"), (8, 7, "MapStateExited"), (9, 8, "PassStateEntered"),
        (10, 9, "PassStateExited"), (11, 10, "ExecutionSucceeded")]
    assert json.loads(result.output) == {"Error": "E"}


def test_map_tolerated_failures() -> None:
    result = _run(_sm({"M": {"Type": "Map", "ToleratedFailureCount": 1, "End": True,
                             "ItemProcessor": _sm({"C": {"Type": "Choice", "Choices": [
                                 {"Variable": "$", "NumericEquals": 1, "Next": "F"}], "Default": "P"},
                                 "F": {"Type": "Fail", "Error": "E"}, "P": {"Type": "Pass", "End": True}})}}),
                  text="[0, 1, 2]")
    assert result.status == "SUCCEEDED"
    output = json.loads(result.output)
    assert (len(output), output[0], output[2]) == (3, 0, 2)


def test_parallel_branch_variables_do_not_leak() -> None:
    result = _run(_sm({"A": {"Type": "Pass", "Assign": {"x": 1}, "Next": "P"},
                       "P": {"Type": "Parallel", "Next": "B", "Branches": [
                           _sm({"I": {"Type": "Pass", "Assign": {"y": 2}, "Parameters": {"x.$": "$x"},
                                      "End": True}})]},
                       "B": {"Type": "Pass", "Parameters": {"x.$": "$x"}, "End": True}}))
    assert json.loads(result.output) == {"x": 1}


def test_context_object() -> None:
    info = ExecutionInfo(execution_arn="arn:aws:states:us-east-1:1:execution:sm:ex", name="ex",
                         state_machine_arn="arn:aws:states:us-east-1:1:stateMachine:sm", state_machine_name="sm",
                         role_arn="role", start_time=START)
    result = run_sync(_sm({"A": {"Type": "Pass", "Parameters": {"c.$": "$$"}, "End": True}}), '{"i": 1}',
                      info=info, clock=ManualClock(START))
    assert json.loads(result.output)["c"] == {
        "Execution": {"Id": "arn:aws:states:us-east-1:1:execution:sm:ex", "Input": {"i": 1},
                      "StartTime": "2024-01-01T00:00:00.000Z", "Name": "ex", "RoleArn": "role", "RedriveCount": 0},
        "StateMachine": {"Id": "arn:aws:states:us-east-1:1:stateMachine:sm", "Name": "sm"},
        "State": {"Name": "A", "EnteredTime": "2024-01-01T00:00:00.000Z"},
    }


def test_data_limit() -> None:
    result = _run(_sm({"A": {"Type": "Pass", "Result": {"x": "a" * 300_000}, "End": True}}))
    assert result.error == "States.DataLimitExceeded"
    assert result.cause == ("The state/task 'A' returned a result with a size exceeding the maximum number "
                            "of bytes service limit.")


def test_wait_uses_the_clock() -> None:
    async def main() -> Any:
        clock = ManualClock(START)
        box: list[Any] = []
        async with anyio.create_task_group() as group:
            async def go() -> None:
                box.append(await run(_sm({"W": {"Type": "Wait", "Seconds": 3600, "End": True}}), "{}", clock=clock))
            group.start_soon(go)
            while not clock.pending:
                await anyio.sleep(0)
            await clock.advance(3600)
        return box[0]

    result = anyio.run(main)
    assert result.status == "SUCCEEDED"
    entered, exited = result.history[1], result.history[2]
    assert (exited["timestamp"] - entered["timestamp"]).total_seconds() == 3600


def test_load_compiles_once_and_is_frozen() -> None:
    machine = load(json.dumps(_sm({"A": {"Type": "Pass", "End": True}})))
    with pytest.raises(AttributeError):
        machine.root.start_at = "B"  # type: ignore[misc]
    assert run_sync(machine, "{}").status == "SUCCEEDED"
    assert run_sync(machine, None).history[0]["executionStartedEventDetails"]["input"] == "{}"


def test_distributed_map_history() -> None:
    result = _run(_sm({"M": {"Type": "Map", "MaxConcurrency": 1, "End": True, "Label": "L",
                             "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                                               "StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}}}}),
                  text="[1, 2]")
    assert _brief(result.history) == [
        (1, 0, "ExecutionStarted"), (2, 0, "MapStateEntered"), (3, 2, "MapStateStarted"), (4, 3, "MapRunStarted"),
        (5, 4, "MapRunSucceeded"), (6, 5, "MapStateSucceeded"), (7, 4, "MapStateExited"), (8, 7, "ExecutionSucceeded")]
    # today's numbering; tests/engine/asl/test_compat.py has the one AWS used before late 2024
    assert ":mapRun:" in result.history[3]["mapRunStartedEventDetails"]["mapRunArn"]
    assert result.output == "[1,2]"


def test_wait_timestamp_path_and_errors() -> None:
    wait = _sm({"W": {"Type": "Wait", "TimestampPath": "$.t", "End": True}})
    assert _run(wait, {"t": "2023-01-01T00:00:00Z"}).status == "SUCCEEDED"  # in the past: no wait
    bad = _run(wait, {"t": "2023-01-01T00:00:00"})
    assert bad.cause == ("An error occurred while executing the state 'W' (entered at the event id #2). "
                         "The TimestampPath parameter does not reference a valid ISO-8601 extended offset "
                         "date-time format string: $.t == 2023-01-01T00:00:00")
    seconds = _sm({"W": {"Type": "Wait", "SecondsPath": "$.s", "End": True}})
    assert _run(seconds, {"s": -1}).cause.endswith("The SecondsPath parameter references a negative value: $.s == -1")
    assert _run(seconds, {"s": 1.5}).cause.endswith(
        "The SecondsPath parameter cannot be parsed as a long value: $.s == 1.5")


def test_machine_timeout() -> None:
    async def main() -> Any:
        clock = ManualClock(START)
        box: list[Any] = []
        definition = _sm({"W": {"Type": "Wait", "Seconds": 60, "End": True}}, TimeoutSeconds=5)
        async with anyio.create_task_group() as group:
            async def go() -> None:
                box.append(await run(definition, "{}", clock=clock))
            group.start_soon(go)
            while not box:
                for _ in range(20):
                    await anyio.lowlevel.checkpoint()
                if not box and clock.pending:
                    await clock.advance((clock.next_wakeup() - clock.now()).total_seconds())  # type: ignore[operator]
        return box[0]

    result = anyio.run(main)
    assert (result.status, result.error, result.cause, result.output) == ("TIMED_OUT", None, None, None)
    assert result.history[-1]["type"] == "ExecutionTimedOut"


def test_jsonata_map_items_and_selector() -> None:
    result = _run(_sm({"M": {"Type": "Map", "Items": "{% $states.input.xs %}", "End": True,
                             "ItemSelector": {"v": "{% $states.context.Map.Item.Value * 10 %}",
                                              "i": "{% $states.context.Map.Item.Index %}"},
                             "ItemProcessor": _sm({"P": {"Type": "Pass", "End": True}}),
                             "Output": "{% $states.result %}"}}, QueryLanguage="JSONata"), {"xs": [1, 2]})
    assert json.loads(result.output) == [{"v": 10, "i": 0}, {"v": 20, "i": 1}]
    bad = _run(_sm({"M": {"Type": "Map", "Items": "{% 1 %}", "End": True,
                          "ItemProcessor": _sm({"P": {"Type": "Pass", "End": True}})}}, QueryLanguage="JSONata"))
    assert bad.error == "States.QueryEvaluationError"
    assert [e["type"] for e in bad.history][-3:] == ["EvaluationFailed", "MapStateFailed", "ExecutionFailed"]


def test_distributed_map_item_batcher() -> None:
    result = _run(_sm({"M": {"Type": "Map", "ItemsPath": "$.xs", "End": True,
                             "ItemBatcher": {"MaxItemsPerBatch": 2, "BatchInput": {"k.$": "$.k"}},
                             "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                                               "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}}}),
                  {"xs": [1, 2, 3], "k": "v"})
    assert json.loads(result.output) == [{"BatchInput": {"k": "v"}, "Items": [1, 2]},
                                         {"BatchInput": {"k": "v"}, "Items": [3]}]


def test_history_limit_fails_the_execution() -> None:
    loop = _sm({"A": {"Type": "Pass", "Next": "C"},
                "C": {"Type": "Choice", "Choices": [{"Variable": "$.stop", "IsPresent": True, "Next": "D"}],
                      "Default": "A"},
                "D": {"Type": "Succeed"}})
    result = _run(loop)
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    assert len(result.history) == 25_000
    assert result.history[-1]["type"] == "ExecutionFailed"


def test_context_object_is_built_only_for_states_that_read_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.asl import context as context_object
    from engine.asl import states as states_module

    built: list[str] = []
    original = context_object.build

    def counting(*args: Any, **kw: Any) -> dict[str, Any]:
        built.append(args[2])
        return original(*args, **kw)

    monkeypatch.setattr(states_module.context_object, "build", counting)
    definition = _sm({
        "Loop": {"Type": "Choice", "Choices": [{"Variable": "$.i", "NumericLessThan": 3, "Next": "Add"}],
                 "Default": "Named"},
        "Add": {"Type": "Pass", "Parameters": {"i.$": "States.MathAdd($.i, 1)"}, "Next": "Loop"},
        "Named": {"Type": "Pass", "Parameters": {"i.$": "$.i", "state.$": "$$.State.Name",
                                                 "entered.$": "$$.State.EnteredTime"}, "Next": "Late"},
        "Late": {"Type": "Pass", "QueryLanguage": "JSONata",
                 "Output": "{% $merge([$states.input, {'late': $states.context.State.Name}]) %}", "End": True}})
    result = run_sync(definition, '{"i": 0}', clock=ManualClock(START))
    assert result.status == "SUCCEEDED"
    assert json.loads(result.output) == {"i": 3, "state": "Named", "entered": "2024-01-01T00:00:00.000Z",
                                         "late": "Late"}
    assert built == ["Named", "Late"]
