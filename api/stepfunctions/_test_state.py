"""TestState: one state run on its own, as a one-state machine, with AWS's inspection data."""
from __future__ import annotations

import json
import uuid
from typing import Any

from api.errors import InvalidDefinitionError, ValidationException
from api.stepfunctions._base import Params, Result
from engine import arns
from engine.errors import InvalidDefinition
from engine.runtime import Runtime, epoch


_TEST_NAME = "TestState"


def _test_target(p: Params) -> tuple[str, dict[str, Any], str | None]:
    """(state name, state definition, machine QueryLanguage) from TestState's definition."""
    try:
        raw = json.loads(p["definition"])
    except ValueError:
        raise InvalidDefinitionError("Invalid State Machine Definition: 'Definition must be a valid JSON object'") \
            from None
    if not isinstance(raw, dict):
        raise InvalidDefinitionError("Invalid State Machine Definition: 'Definition must be a valid JSON object'")
    if "States" in raw:
        name = p.get("stateName") or raw.get("StartAt")
        state = raw["States"].get(name) if isinstance(raw["States"], dict) else None
        if not isinstance(state, dict):
            raise ValidationException("State not found in definition")
        return str(name), state, raw.get("QueryLanguage")
    return p.get("stateName") or _TEST_NAME, raw, None


def _test_machine(name: str, state: dict[str, Any], language: str | None) -> tuple[dict[str, Any], set[str]]:
    """A one-state machine: transitions out of the state end in Succeed stand-ins named like their targets."""
    state = dict(state)
    targets: set[str] = set()
    if state.get("Type") == "Choice":
        for rule in state.get("Choices", []):
            targets.add(rule.get("Next"))
        if "Default" in state:
            targets.add(state["Default"])
    elif "Next" in state:
        targets.add(state["Next"])
    for catcher in state.get("Catch", []):
        targets.add(catcher.get("Next"))
    state.pop("Retry", None)  # AWS: TestState reports RETRIABLE instead of retrying
    states: dict[str, Any] = {name: state}
    for target in targets - {name, None}:
        states[target] = {"Type": "Succeed"}
    machine: dict[str, Any] = {"StartAt": name, "States": states}
    if language:
        machine["QueryLanguage"] = language
    return machine, targets


def _retriable(state: dict[str, Any], error: str | None) -> int | None:
    for index, retrier in enumerate(state.get("Retry", [])):
        equals = retrier.get("ErrorEquals", [])
        if (error in equals or "States.ALL" in equals) and retrier.get("MaxAttempts", 3) > 0:
            return index
    return None


async def run_test_state(runtime: Runtime, p: Params, arn_builder: arns.Arns) -> Result:
    """TestState: run the state of ``p["definition"]`` once and answer as AWS does."""
    from engine.asl.inputs import parse_execution_input
    from engine.clock import ScaledClock
    from engine.tasks.mocks import MockConfigError, single_state_mock
    import engine.asl as asl

    name, state, language = _test_target(p)
    input_text = p.get("input", "{}")
    parse_execution_input(input_text)
    machine, targets = _test_machine(name, state, language)
    try:
        loaded = asl.load(machine)
    except InvalidDefinition as exc:
        raise InvalidDefinitionError(exc.message) from None
    registry = runtime.registry
    mock = p.get("mock")
    if mock is not None:  # the mock answers the state under test, as a MockConfigFile test case would
        try:
            registry = single_state_mock(registry, name, mock)
        except MockConfigError as exc:
            raise ValidationException(str(exc)) from None
    uid = uuid.uuid4().hex
    machine_name = "TestStateMachine-" + uid[:8]
    record = {"executionArn": arn_builder.express_execution(machine_name, uid, uid), "name": uid,
              "stateMachineArn": arn_builder.state_machine(machine_name), "input": input_text,
              "startDate": epoch(runtime.clock.now()), "roleArn": p.get("roleArn", ""), "type": "EXPRESS"}
    result = await asl.run(loaded, input_text, info=runtime.info(record), registry=registry, clock=ScaledClock(0))
    return _test_response(p, name, state, targets, result)


def _test_response(p: Params, name: str, state: dict[str, Any], targets: set[str], result: Any) -> Result:
    events = result.history
    entered = [e for e in events if e["type"].endswith("StateEntered")]
    exited = [e for e in events if e["type"].endswith("StateExited")
              and e["stateExitedEventDetails"]["name"] == name]
    response: Result = {}
    level = p.get("inspectionLevel", "INFO")
    inspection: Result = {"input": p.get("input", "{}")}
    for event in events:
        if event["type"] == "TaskScheduled":
            key = "afterArguments" if state.get("QueryLanguage") == "JSONata" else "afterParameters"
            inspection[key] = event["taskScheduledEventDetails"]["parameters"]
        elif event["type"] == "TaskSucceeded":
            inspection["result"] = event["taskSucceededEventDetails"]["output"]
    next_entered = [e["stateEnteredEventDetails"]["name"] for e in entered
                    if e["stateEnteredEventDetails"]["name"] in targets and e["stateEnteredEventDetails"]["name"] != name]
    if exited:
        response["output"] = exited[-1]["stateExitedEventDetails"].get("output")
    if result.status == "SUCCEEDED":
        failed_events = [e for e in events if e["type"] in ("TaskFailed", "LambdaFunctionFailed")]
        if next_entered and failed_events:
            details = next(v for k, v in failed_events[-1].items() if k.endswith("EventDetails"))
            response.update(status="CAUGHT_ERROR", error=details.get("error"), cause=details.get("cause"))
            catchers = state.get("Catch", [])
            index = next((i for i, c in enumerate(catchers) if c.get("Next") == next_entered[0]), 0)
            inspection["errorDetails"] = {"catchIndex": index}
        else:
            response["status"] = "SUCCEEDED"
            if "output" not in response:
                response["output"] = result.output
        if next_entered:
            response["nextState"] = next_entered[0]
    else:
        response.update(status="FAILED", error=result.error, cause=result.cause)
        retry = _retriable(state, result.error)
        if retry is not None:
            response["status"] = "RETRIABLE"
            inspection["errorDetails"] = {"retryIndex": retry, "retryBackoffIntervalSeconds": int(
                state["Retry"][retry].get("IntervalSeconds", 1))}
            response["nextState"] = name
    if level in ("DEBUG", "TRACE"):
        if state.get("QueryLanguage") != "JSONata" and result.status == "SUCCEEDED":
            inspection = {**_jsonpath_steps(state, p.get("input", "{}"), inspection.get("result")), **inspection}
        if "output" in response and response["output"] is not None and state.get("Type") not in ("Choice",
                                                                                                "Succeed", "Fail"):
            inspection.setdefault("afterResultSelector", inspection.get("result", response["output"]))
            inspection.setdefault("afterResultPath", response["output"])
        response["inspectionData"] = inspection
    return {k: v for k, v in response.items() if v is not None}


def _jsonpath_steps(state: dict[str, Any], input_text: str, result_text: str | None) -> Result:
    """TestState's inspection data of a JSONPath state, step by step (as JSON texts)."""
    from engine.asl import paths
    steps: Result = {}
    try:
        value = json.loads(input_text)
        scope = paths.Scope(value, {}, {})
        after_input = value
        if "InputPath" in state:
            path = None if state["InputPath"] is None else paths.compile_path(state["InputPath"])
            after_input = paths.input_path(path, scope)
        steps["afterInputPath"] = paths.dumps(after_input)
        if state.get("Type") in ("Choice", "Wait", "Succeed", "Fail"):
            return steps
        after_parameters = after_input
        if "Parameters" in state:
            template = paths.compile_template(state["Parameters"], field="Parameters")
            after_parameters = template.render(paths.Scope(after_input, {}, {}))
        steps["afterParameters"] = paths.dumps(after_parameters)
        if state.get("Type") == "Pass":
            produced = state["Result"] if "Result" in state else after_parameters
        elif result_text is not None:
            produced = json.loads(result_text)
        else:
            return steps
        if "ResultSelector" in state:
            produced = paths.compile_template(state["ResultSelector"], field="ResultSelector").render(
                paths.Scope(produced, {}, {}))
        steps["afterResultSelector"] = paths.dumps(produced)
        steps["afterResultPath"] = paths.dumps(paths.result_path(state.get("ResultPath", "$"), value, produced))
    except Exception:  # noqa: BLE001 - inspection is best effort; the run itself already succeeded
        pass
    return steps
