"""TestState: one state run on its own, as a one-state machine, with AWS's inspection data.

What AWS documents (TestState API reference, "Testing state machines with TestState API"):
``definition`` is one state, or a whole machine with ``stateName``; ``input``, ``variables`` and
(with a mock only) ``context`` seed the run; ``mock`` answers the state under test (``result`` or
``errorOutput``; Map and Parallel states need one); ``stateConfiguration`` places the test inside a
larger run (``retrierRetryCount``, ``mapIterationFailureCount``, ``errorCausedByState``,
``mapItemReaderData``). The answer has ``status`` SUCCEEDED / FAILED / RETRIABLE / CAUGHT_ERROR,
``output``, ``error``/``cause``, ``nextState`` and, at DEBUG and TRACE, ``inspectionData`` (data-flow
steps, ``variables``, ``errorDetails``, Map settings; the HTTP request and response of an
``http:invoke`` Task at TRACE).
"""
from __future__ import annotations

import functools
import json
import uuid
from typing import Any
from urllib.parse import urlencode, urlsplit

from api.errors import InvalidDefinitionError, ValidationException
from api.stepfunctions._base import Params, Result
from engine import arns
from engine.errors import InvalidDefinition
from engine.runtime import Runtime, epoch


_TEST_NAME = "TestState"
_MOCK_STAND_IN = "arn:aws:states:::lambda:invoke"
"""The resource of the Task that stands in for a mocked Map or Parallel state (the mock answers it)."""
_THRESHOLD_ERROR = "States.ExceedToleratedFailureThreshold"
_THRESHOLD_CAUSE = "The specified tolerated failure threshold was exceeded"
_NO_MOCK_TYPES = ("Pass", "Fail", "Succeed", "Choice", "Wait")


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
        import engine.asl as asl
        try:  # AWS validates the whole machine, not only the state under test
            asl.load(raw)
        except InvalidDefinition as exc:
            raise InvalidDefinitionError(exc.message) from None
        name = p.get("stateName") or raw.get("StartAt")
        state = raw["States"].get(name) if isinstance(raw["States"], dict) else None
        if not isinstance(state, dict):
            raise ValidationException("State not found in definition")
        return str(name), state, raw.get("QueryLanguage")
    return p.get("stateName") or _TEST_NAME, raw, None


def _json_member(p: Params, member: str) -> Any:
    """A JSON-text request member (``variables``, ``context``) parsed; None when absent."""
    text = p.get(member)
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        raise ValidationException(f"The '{member}' field must be valid JSON") from None


def _validate(p: Params, state: dict[str, Any], mock: dict[str, Any] | None, config: dict[str, Any]) -> None:
    """AWS's request checks, with AWS's messages."""
    kind = state.get("Type")
    if mock is not None:
        if "result" in mock and "errorOutput" in mock:
            raise ValidationException("A test mock should have only one of the following fields: [result, errorOutput].")
        if kind in _NO_MOCK_TYPES:
            raise ValidationException(f"State type '{kind}' is not supported when a mock is specified")
        if p.get("revealSecrets"):
            raise ValidationException("TestState does not support RevealSecrets when a mock is specified.")
        if "result" in mock:
            try:
                json.loads(mock["result"])
            except (TypeError, ValueError):
                raise ValidationException("Mocked result must be valid JSON") from None
    else:
        if config.get("mapIterationFailureCount") is not None:
            raise ValidationException("TestState does not support MapIterationFailureCount when a mock is not specified.")
        if kind in ("Map", "Parallel"):  # AWS answers this one as InvalidDefinition
            raise InvalidDefinitionError("TestState API does not support Map or Parallel states. "
                                         "Supported state types include: [Task, Wait, Pass, Succeed, Fail, Choice]")
        if p.get("context") is not None:
            raise ValidationException("TestState does not support Context when a mock is not specified.")
        if kind == "Task" and not p.get("roleArn"):
            raise ValidationException("RoleArn must be specified when testing a Task state")


_CONTEXT_FIELDS = {"Execution": {"Id": str, "Input": None, "Name": str, "RoleArn": str, "StartTime": str,
                                  "RedriveCount": int, "RedriveTime": str},
                   "State": {"EnteredTime": str, "Name": str, "RetryCount": int},
                   "StateMachine": {"Id": str, "Name": str},
                   "Task": {"Token": str}}


def _validate_context(context: Any, state: dict[str, Any]) -> None:
    """The ``context`` member: a Context object AWS accepts (no Map part; Task only for callback/.sync Tasks)."""
    def invalid(detail: str) -> ValidationException:
        return ValidationException(f"Invalid Context object provided: {detail}")

    if not isinstance(context, dict):
        raise invalid("Context object must be a JSON object")
    for part, value in context.items():
        if part == "Map":
            raise invalid("'Map' field is not supported when mocking a Context object")
        if part not in _CONTEXT_FIELDS:
            raise invalid(f"Field '{part}' is not allowed")
        if not isinstance(value, dict):
            raise invalid(f"{part} must be an object")
        for field, field_value in value.items():
            if field not in _CONTEXT_FIELDS[part]:
                raise invalid(f"Field '{field}' is not allowed")
            kind = _CONTEXT_FIELDS[part][field]
            if kind is str and not isinstance(field_value, str):
                raise invalid(f"{part}.{field} must be a string")
            if kind is int and (not isinstance(field_value, int) or isinstance(field_value, bool)):
                raise invalid(f"{part}.{field} must be an integer")
    resource = str(state.get("Resource", ""))
    if "Task" in context and not (state.get("Type") == "Task" and (
            resource.endswith(".sync") or ".sync:" in resource or resource.endswith(".waitForTaskToken"))):
        raise invalid("Context object contains 'Task' when state is not a Task state with a '.sync' or "
                      "'.waitForTaskToken' service integration pattern")


_OPTIMIZED = {"lambda:invoke": ("lambda", "Invoke"), "sqs:sendMessage": ("sqs", "SendMessage"),
              "sns:publish": ("sns", "Publish"), "events:putEvents": ("events", "PutEvents"),
              "dynamodb:getItem": ("dynamodb", "GetItem"), "dynamodb:putItem": ("dynamodb", "PutItem"),
              "dynamodb:updateItem": ("dynamodb", "UpdateItem"), "dynamodb:deleteItem": ("dynamodb", "DeleteItem"),
              "states:startExecution": ("stepfunctions", "StartExecution"),
              "states:startSyncExecution": ("stepfunctions", "StartSyncExecution")}
_ANY_JSON = {("lambda", "Invoke", "Payload")}
"""Blobs the optimized integration answers as JSON (lambda:invoke's Payload is the function's JSON result)."""


@functools.lru_cache(maxsize=256)
def _output_shape(service: str, operation: str) -> Any:
    """botocore's output shape of one operation (models are loaded once per process)."""
    return _botocore_session().get_service_model(service).operation_model(operation).output_shape


@functools.lru_cache(maxsize=1)
def _botocore_session() -> Any:
    import botocore.session
    return botocore.session.get_session()


def _api_output_shape(resource: str) -> tuple[Any, str, str] | None:
    """The botocore output shape of the API call a Task resource makes (None: no API model applies)."""
    if not resource.startswith("arn:aws:states:::") or resource.endswith((".sync", ".waitForTaskToken")) \
            or ".sync:" in resource:
        return None
    rest = resource[len("arn:aws:states:::"):]
    try:
        from engine.tasks._aws import client_name, operation_name
        if rest.startswith("aws-sdk:"):
            service, _, action = rest[len("aws-sdk:"):].partition(":")
            names = (client_name(service), operation_name(action))
        elif rest in _OPTIMIZED:
            names = _OPTIMIZED[rest]
        else:
            return None
        return _output_shape(names[0], names[1]), names[0], names[1]
    except Exception:  # noqa: BLE001 - an unknown service or action has no model to validate against
        return None


def _check_value(value: Any, shape: Any, name: str, strict: bool, blob_any: set[str]) -> None:
    def invalid(detail: str) -> ValidationException:
        return ValidationException(f"Mock result schema validation error: {detail}")

    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        if not isinstance(value, dict):
            raise invalid(f"Field '{name}' must be an object")
        _check_structure(value, shape, strict, blob_any)
    elif kind == "list":
        if not isinstance(value, list):
            raise invalid(f"Field '{name}' must be an array")
        for item in value:
            _check_value(item, shape.member, name, strict, blob_any)
    elif kind == "map":
        if not isinstance(value, dict):
            raise invalid(f"Field '{name}' must be an object")
        for item in value.values():
            _check_value(item, shape.value, name, strict, blob_any)
    elif kind in ("string", "blob", "timestamp"):
        if kind == "blob" and name in blob_any:
            return
        if not isinstance(value, str):
            raise invalid(f"Field '{name}' must be a string")
        if kind == "string" and shape.enum and value not in shape.enum:
            raise invalid(f"Field '{name}' is not an expected value")
        if kind != "timestamp" and "min" in meta and len(value) < meta["min"]:
            raise invalid(f"Field '{name}' is smaller than the minimum length")
        if kind != "timestamp" and "max" in meta and len(value) > meta["max"]:
            raise invalid(f"Field '{name}' is larger than the maximum length")
    elif kind in ("integer", "long", "float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                kind in ("integer", "long") and not float(value).is_integer()):
            raise invalid(f"Field '{name}' must be a number")
        if "min" in meta and value < meta["min"]:
            raise invalid(f"Field '{name}' is less than the minimum value")
        if "max" in meta and value > meta["max"]:
            raise invalid(f"Field '{name}' exceeds the maximum value")
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise invalid(f"Field '{name}' must be a boolean")


def _field(member: str) -> str:
    """The field name Step Functions gives an API member: PascalCase (``executionArn`` -> ``ExecutionArn``)."""
    return member[:1].upper() + member[1:]


def _check_structure(value: dict[str, Any], shape: Any, strict: bool, blob_any: set[str]) -> None:
    if strict:
        for required in shape.required_members:
            if _field(required) not in value:
                raise ValidationException(
                    f"Mock result schema validation error: Required field '{_field(required)}' is missing")
    for member, member_shape in shape.members.items():  # fields outside the API model are not checked
        if _field(member) in value:
            _check_value(value[_field(member)], member_shape, _field(member), strict, blob_any)


def _validate_mock_fields(state: dict[str, Any], mock: dict[str, Any]) -> None:
    """fieldValidationMode: the mocked result against the API model of the Task's call (STRICT by default)."""
    mode = mock.get("fieldValidationMode") or "STRICT"
    if mode == "NONE" or "result" not in mock or state.get("Type") != "Task":
        return
    found = _api_output_shape(str(state.get("Resource", "")))
    if found is None or found[0] is None:
        return
    shape, service, operation = found
    result = json.loads(mock["result"])
    if not isinstance(result, dict):  # only objects are checked against the model
        return
    blob_any = {member for s, o, member in _ANY_JSON if (s, o) == (service, operation)}
    _check_structure(result, shape, mode == "STRICT", blob_any)


def _validate_mock_shape(state: dict[str, Any], result: Any) -> None:
    """Map and Parallel mocks: the shape their real result would have."""
    kind = state.get("Type")
    if kind == "Map":
        if "ResultWriter" in state:
            if not isinstance(result, dict):
                raise ValidationException("Mocked result must be a JSON object.")
        elif not isinstance(result, list):
            raise ValidationException("Mocked result must be an array.")
    elif kind == "Parallel":
        if not isinstance(result, list):
            raise ValidationException("Mocked result must be an array.")
        if len(result) != len(state.get("Branches") or []):
            raise ValidationException(
                "Mocked result must contain the same number of items as number of Parallel branches.")


def _stand_in(state: dict[str, Any]) -> dict[str, Any]:
    """A Task with the Map/Parallel state's data flow and handlers: the mock answers it as the whole state."""
    keep = ("Comment", "QueryLanguage", "InputPath", "ResultSelector", "ResultPath", "OutputPath", "Output",
            "Assign", "Catch", "Retry", "Next", "End")
    task = {k: v for k, v in state.items() if k in keep}
    task.update(Type="Task", Resource=_MOCK_STAND_IN)
    return task


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


def _matches(equals: list[str], error: str | None) -> bool:
    if error in equals or "States.ALL" in equals:
        return True
    return "States.TaskFailed" in equals and error != "States.Timeout"


def _retrier(state: dict[str, Any], error: str | None) -> int | None:
    """The index of the Retry rule that applies to ``error`` (None when none does)."""
    for index, retrier in enumerate(state.get("Retry", [])):
        if _matches(retrier.get("ErrorEquals", []), error):
            return index
    return None


def _backoff(retrier: dict[str, Any], count: int) -> int:
    """Seconds before the retry after ``count`` earlier retries (IntervalSeconds x BackoffRate^count, capped)."""
    seconds = float(retrier.get("IntervalSeconds", 1)) * float(retrier.get("BackoffRate", 2.0)) ** count
    if retrier.get("MaxDelaySeconds") is not None:
        seconds = min(seconds, float(retrier["MaxDelaySeconds"]))
    return int(seconds)


def _map_items(state: dict[str, Any], input_value: Any, config: dict[str, Any], jsonata: bool,
               variables: dict[str, Any]) -> list[Any] | None:
    """The items a Map state iterates over (None when they cannot be known without running it)."""
    reader_data = config.get("mapItemReaderData")
    if reader_data is not None:
        try:
            value = json.loads(reader_data)
        except ValueError:
            return None
        return value if isinstance(value, list) else None
    try:
        if jsonata:
            from engine.asl import jsonata as jsonata_module
            items = state.get("Items")
            if items is None:
                return input_value if isinstance(input_value, list) else None
            if jsonata_module.is_expression(items):
                value = jsonata_module.compile(items).evaluate({"input": input_value}, variables)
            else:
                value = items
            return value if isinstance(value, list) else None
        from engine.asl import paths
        scope = paths.Scope(input_value, {}, variables)
        after_input = input_value
        if "InputPath" in state:
            path = None if state["InputPath"] is None else paths.compile_path(state["InputPath"])
            after_input = paths.input_path(path, scope)
        value = after_input
        if state.get("ItemsPath"):
            value = paths.compile_path(state["ItemsPath"]).get(paths.Scope(after_input, {}, variables))
        return value if isinstance(value, list) else None
    except Exception:  # noqa: BLE001 - the run reports the real error
        return None


def _map_mock(state: dict[str, Any], mock: dict[str, Any], config: dict[str, Any], items: list[Any] | None) \
        -> dict[str, Any]:
    """The mock a Map stand-in answers: the iterations' failures may exceed the tolerated threshold."""
    failures = config.get("mapIterationFailureCount")
    if failures is None or "result" not in mock:
        return mock
    if items is None:
        mocked = json.loads(mock["result"])
        items = mocked if isinstance(mocked, list) else None
    if items is not None and failures > len(items):
        raise ValidationException("Map iteration failure count must be less than or equal to the number of Map iterations")
    exceeded = False
    if isinstance(state.get("ToleratedFailureCount"), int):
        exceeded = failures > state["ToleratedFailureCount"]
    elif isinstance(state.get("ToleratedFailurePercentage"), (int, float)) and items:
        exceeded = failures * 100.0 / len(items) > float(state["ToleratedFailurePercentage"])
    if exceeded:
        return {"errorOutput": {"error": _THRESHOLD_ERROR, "cause": _THRESHOLD_CAUSE}}
    return mock


async def _run(loaded: Any, input_text: str, info: Any, registry: Any, clock: Any, variables: dict[str, Any],
               context: dict[str, Any] | None) -> tuple[Any, dict[str, Any], tuple[dict[str, Any], dict[str, Any]]]:
    """engine.asl.run with the TestState seeds (variables, context object); also the variables afterwards
    and the run's ``$$.Execution`` and ``$$.StateMachine``."""
    from engine.asl.interpreter import Execution, ExecutionResult, parse_input
    from engine.asl.states import Frame
    from engine.errors import StatesError
    from engine.history import NOT_TRUNCATED, History

    value, text = parse_input(input_text)
    if info.start_time is None:
        info.start_time = clock.now()
    history = History(clock, None)
    ex = Execution(loaded, info, registry, clock, history, value)
    if isinstance(context, dict):  # the given parts stand for the generated ones, as given
        if isinstance(context.get("Execution"), dict):
            ex.execution_part = dict(context["Execution"])
        if isinstance(context.get("StateMachine"), dict):
            ex.machine_part = dict(context["StateMachine"])
    history.add("ExecutionStarted", 0, "executionStartedEventDetails",
                {"input": text, "inputDetails": NOT_TRUNCATED, "roleArn": info.role_arn}, timestamp=info.start_time)
    frame = Frame(ex, 0, dict(variables))
    try:
        _, out_text = await ex.run_machine(frame, loaded.root, value, text)
    except StatesError as err:
        history.close()
        error = getattr(err, "raw_error", err.error)
        return (ExecutionResult("FAILED", None, error, err.cause, history.events), dict(frame.variables),
                (ex.execution_part, ex.machine_part))
    history.close()
    return (ExecutionResult("SUCCEEDED", out_text, None, None, history.events), dict(frame.variables),
            (ex.execution_part, ex.machine_part))


def _context_overrides(context: Any, state: dict[str, Any], config: dict[str, Any]) \
        -> dict[str, dict[str, Any]] | None:
    """The ``State`` and ``Task`` fields the run's ``$$`` takes from the request (None: nothing to lay over).

    The ``context`` member's ``State``/``Task`` fields stand as given; ``State.RetryCount`` otherwise
    follows ``stateConfiguration.retrierRetryCount`` (0 for a state with a Retry, whose retriers the
    test machine drops: TestState answers RETRIABLE instead of retrying).
    """
    overrides: dict[str, dict[str, Any]] = {}
    given = context if isinstance(context, dict) else {}
    for part in ("State", "Task"):
        if isinstance(given.get(part), dict) and given[part]:
            overrides[part] = dict(given[part])
    if "RetryCount" not in overrides.get("State", {}):
        count = config.get("retrierRetryCount")
        if count is not None or state.get("Retry"):
            overrides.setdefault("State", {})["RetryCount"] = int(count or 0)
    return overrides or None


def _inspection_context(parts: tuple[dict[str, Any], dict[str, Any]], name: str, state: dict[str, Any],
                        history: list[dict[str, Any]], overrides: dict[str, dict[str, Any]] | None) -> Any:
    """The ``$$`` the inspection data's JSONPath steps read: the run's own (Execution and StateMachine as
    the run had them, State entered when the run entered it, the overrides laid over)."""
    from engine.asl import context as context_object
    entered = next((e["timestamp"] for e in history if e["type"].endswith("StateEntered")), None)
    if entered is None:
        return None
    return context_object.build(parts[0], parts[1], name, entered, 0 if state.get("Retry") else None,
                                overrides=overrides)


async def run_test_state(runtime: Runtime, p: Params, arn_builder: arns.Arns) -> Result:
    """TestState: run the state of ``p["definition"]`` once and answer as AWS does."""
    from engine.asl.inputs import parse_execution_input
    from engine.clock import ScaledClock
    from engine.tasks.mocks import MockConfigError, single_state_mock
    import engine.asl as asl

    name, state, language = _test_target(p)
    mock = p.get("mock")
    config = p.get("stateConfiguration") or {}
    _validate(p, state, mock, config)
    input_text = p.get("input", "{}")
    input_value = parse_execution_input(input_text)
    variables = _json_member(p, "variables")
    if variables is not None and not isinstance(variables, dict):
        raise ValidationException("The 'variables' field must be a JSON object")
    variables = variables or {}
    if mock is not None:
        _validate_mock_fields(state, mock)
    context = _json_member(p, "context")
    if context is not None:
        _validate_context(context, state)
    jsonata = (state.get("QueryLanguage") or language) == "JSONata"
    run_state = state
    if mock is not None and state.get("Type") in ("Map", "Parallel"):
        if "result" in mock:
            _validate_mock_shape(state, json.loads(mock["result"]))
        if state.get("Type") == "Map":
            items = _map_items(state, input_value, config, jsonata, variables)
            mock = _map_mock(state, mock, config, items)
        run_state = _stand_in(state)
    machine, targets = _test_machine(name, run_state, language)
    try:
        loaded = asl.load(machine)
    except InvalidDefinition as exc:
        raise InvalidDefinitionError(exc.message) from None
    registry = runtime.integrations  # the user's handlers plus the built-in integrations (Lambda, HTTP, SDK)
    if mock is not None:  # the mock answers the state under test, as a MockConfigFile test case would
        try:
            registry = single_state_mock(registry, name, mock)
        except MockConfigError as exc:
            raise ValidationException(str(exc)) from None
    uid = uuid.uuid4().hex
    machine_name = "TestStateMachine-" + uid[:8]
    record = {"executionArn": arn_builder.express_execution(machine_name, uid, uid), "name": uid,
              "stateMachineArn": arn_builder.state_machine(machine_name), "input": input_text,
              "startDate": epoch(runtime.clock.now()), "roleArn": p.get("roleArn"), "type": "EXPRESS"}
    # AWS: $$.Execution.RoleArn is null when the test gives no role
    info = runtime.info(record)
    info.context_overrides = _context_overrides(context, state, config)
    result, after_variables, parts = await _run(loaded, input_text, info, registry, ScaledClock(0),
                                                variables, context)
    response = _test_response(p, name, state, targets, result, jsonata=jsonata, config=config,
                              variables=after_variables, input_value=input_value,
                              context=_inspection_context(parts, name, state, result.history,
                                                          info.context_overrides))
    if mock is not None and "result" in mock:
        _echo_mock_text(response, mock["result"])
    return response


def _echo_mock_text(response: Result, text: str) -> None:
    """AWS hands the mocked result back as the text given wherever the value passes through unchanged."""
    def canonical(json_text: str) -> str:
        return json.dumps(json.loads(json_text), sort_keys=True)

    mocked = canonical(text)

    def same(value: Any) -> bool:
        try:
            return isinstance(value, str) and canonical(value) == mocked
        except ValueError:
            return False

    if same(response.get("output")):
        response["output"] = text
    for key in ("result", "afterResultSelector"):
        if same(response.get("inspectionData", {}).get(key)):
            response["inspectionData"][key] = text


def _failure(events: list[dict[str, Any]]) -> dict[str, Any] | None:
    """error/cause of the last failure event of the state under test (Task, Lambda, ... or a state's own)."""
    for event in reversed(events):
        kind = event["type"]
        if kind.endswith("Failed") and kind != "ExecutionFailed" or kind in ("TaskTimedOut", "ActivityTimedOut"):
            return next((v for k, v in event.items() if k.endswith("EventDetails")), None) or {}
    return None


def _test_response(p: Params, name: str, state: dict[str, Any], targets: set[str], result: Any, *,
                   jsonata: bool = False, config: dict[str, Any] | None = None,
                   variables: dict[str, Any] | None = None,
                   input_value: Any = None, context: Any = None) -> Result:
    config = config or {}
    events = result.history
    entered = [e for e in events if e["type"].endswith("StateEntered")]
    exited = [e for e in events if e["type"].endswith("StateExited")
              and e["stateExitedEventDetails"]["name"] == name]
    response: Result = {}
    level = p.get("inspectionLevel", "INFO")
    inspection: Result = {"input": p.get("input", "{}")}
    for event in events:
        if event["type"] == "TaskScheduled":
            if state.get("Type") == "Task":
                inspection["afterArguments" if jsonata else "afterParameters"] = \
                    event["taskScheduledEventDetails"]["parameters"]
        elif event["type"] == "TaskSucceeded":
            inspection["result"] = event["taskSucceededEventDetails"]["output"]
    next_entered = [e["stateEnteredEventDetails"]["name"] for e in entered
                    if e["stateEnteredEventDetails"]["name"] in targets and e["stateEnteredEventDetails"]["name"] != name]
    if exited:
        response["output"] = exited[-1]["stateExitedEventDetails"].get("output")
    error: str | None = None
    cause: str | None = None
    if result.status == "SUCCEEDED":
        failure = _failure(events)
        if next_entered and failure is not None:
            error, cause = failure.get("error"), failure.get("cause")
            response.update(status="CAUGHT_ERROR", error=error, cause=cause)
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
        error, cause = result.error, result.cause
        response.update(status="FAILED", error=error, cause=cause)
    if response["status"] in ("FAILED", "CAUGHT_ERROR"):
        retry = _retrier(state, error)
        if retry is not None:
            retrier = state["Retry"][retry]
            count = int(config.get("retrierRetryCount") or 0)
            if count < int(retrier.get("MaxAttempts", 3)):
                response = {"status": "RETRIABLE", "error": error, "cause": cause}
                inspection["errorDetails"] = {"retryIndex": retry, "retryBackoffIntervalSeconds": _backoff(retrier, count)}
            elif response["status"] == "FAILED":
                inspection["errorDetails"] = {"retryIndex": retry}
    if level in ("DEBUG", "TRACE"):
        kind = state.get("Type")
        mocked_result = inspection.pop("result", None) if kind in ("Map", "Parallel") else None
        if not jsonata and kind not in ("Map", "Parallel"):
            steps = _jsonpath_steps(state, p.get("input", "{}"), inspection.get("result"), variables or {}, context)
            if response["status"] != "SUCCEEDED":
                steps.pop("afterResultSelector", None)
                steps.pop("afterResultPath", None)
            inspection = {**steps, **inspection}
        if kind == "Map":
            inspection.update(_map_inspection(state, input_value, jsonata, config, variables or {}))
        if not jsonata and kind in ("Map", "Parallel") and response["status"] == "SUCCEEDED" \
                and mocked_result is not None:
            steps = _jsonpath_steps(dict(state, Type="Task"), p.get("input", "{}"), mocked_result,
                                    variables or {}, context)
            inspection.update({k: v for k, v in steps.items() if k in ("afterResultSelector", "afterResultPath")})
        if variables:
            from engine.asl import paths
            inspection["variables"] = paths.dumps(variables or {})
        if level == "TRACE" and kind == "Task" and str(state.get("Resource", "")).startswith(
                "arn:aws:states:::http:invoke"):
            inspection.update(_http_inspection(inspection, response, p))
        response["inspectionData"] = inspection
    return {k: v for k, v in response.items() if v is not None}


def _map_inspection(state: dict[str, Any], input_value: Any, jsonata: bool, config: dict[str, Any],
                    variables: dict[str, Any]) -> Result:
    """A Map state's settings and item processing (afterInputPath, afterItemsPath, afterItemSelector)."""
    from engine.asl import paths
    data: Result = {"maxConcurrency": state.get("MaxConcurrency", 0)
                    if isinstance(state.get("MaxConcurrency", 0), int) else 0}
    if isinstance(state.get("ToleratedFailureCount"), int):
        data["toleratedFailureCount"] = state["ToleratedFailureCount"]
    if isinstance(state.get("ToleratedFailurePercentage"), (int, float)):
        data["toleratedFailurePercentage"] = float(state["ToleratedFailurePercentage"])
    if jsonata:
        return data
    try:
        scope = paths.Scope(input_value, {}, variables)
        after_input = input_value
        if "InputPath" in state:
            path = None if state["InputPath"] is None else paths.compile_path(state["InputPath"])
            after_input = paths.input_path(path, scope)
        data["afterInputPath"] = paths.dumps(after_input)
        items = _map_items(state, input_value, config, False, variables)
        if items is None:
            return data
        data["afterItemsPath"] = paths.dumps(items)
        selector = state.get("ItemSelector", state.get("Parameters"))
        if selector is not None:
            template = paths.compile_template(selector, field="ItemSelector")
            selected = []
            for index, item in enumerate(items):
                context = {"Map": {"Item": {"Index": index, "Value": item}}}
                selected.append(template.render(paths.Scope(after_input, context, variables)))
            data["afterItemSelector"] = paths.dumps(selected)
        batcher = state.get("ItemBatcher")
        if isinstance(batcher, dict):
            size = batcher.get("MaxItemsPerBatch") or len(items) or 1
            batches = [{"Items": items[i:i + size]} for i in range(0, len(items), size)]
            if "BatchInput" in batcher:
                for batch in batches:
                    batch["BatchInput"] = batcher["BatchInput"]
            data["afterItemBatcher"] = paths.dumps(batches)
    except Exception:  # noqa: BLE001 - inspection is best effort
        pass
    return data


def _http_inspection(inspection: Result, response: Result, p: Params) -> Result:
    """TRACE for an http:invoke Task: the HTTP request made and the response received."""
    data: Result = {}
    try:
        args = json.loads(inspection.get("afterArguments") or inspection.get("afterParameters") or "{}")
    except ValueError:
        return data
    url = str(args.get("ApiEndpoint", ""))
    query = args.get("QueryParameters") or {}
    if query:
        url += ("&" if "?" in url else "?") + urlencode(
            {k: v if isinstance(v, str) else json.dumps(v) for k, v in query.items()})
    protocol = urlsplit(url).scheme or "https"
    headers = args.get("Headers") or {}
    body = args.get("RequestBody")
    data["request"] = {"protocol": protocol, "method": str(args.get("Method", "")).upper(), "url": url,
                       "headers": json.dumps(headers, separators=(",", ":")),
                       "body": body if isinstance(body, str) else ("" if body is None else
                                                                   json.dumps(body, separators=(",", ":")))}
    answer: Any = None
    if inspection.get("result"):
        answer = json.loads(inspection["result"])
    elif response.get("cause"):
        try:
            answer = json.loads(response["cause"])
        except ValueError:
            answer = None
    if isinstance(answer, dict) and "StatusCode" in answer:
        resp_body = answer.get("ResponseBody")
        data["response"] = {"protocol": protocol, "statusCode": str(answer.get("StatusCode")),
                            "statusMessage": str(answer.get("StatusText", "")),
                            "headers": json.dumps(answer.get("Headers") or {}, separators=(",", ":")),
                            "body": resp_body if isinstance(resp_body, str) else json.dumps(
                                resp_body, separators=(",", ":"))}
    return data


def _jsonpath_steps(state: dict[str, Any], input_text: str, result_text: str | None,
                    variables: dict[str, Any] | None = None, context: Any = None) -> Result:
    """TestState's inspection data of a JSONPath state, step by step (as JSON texts)."""
    from engine.asl import paths
    variables = variables or {}
    context = context if isinstance(context, dict) else {}
    steps: Result = {}
    try:
        value = json.loads(input_text)
        if state.get("Type") == "Pass" and "Result" in state:  # AWS: the fixed result, not the input steps
            steps["result"] = paths.dumps(state["Result"])
            steps["afterResultSelector"] = steps["result"]
            steps["afterResultPath"] = paths.dumps(paths.result_path(state.get("ResultPath", "$"), value,
                                                                     state["Result"]))
            return steps
        scope = paths.Scope(value, context, variables)
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
            after_parameters = template.render(paths.Scope(after_input, context, variables))
        steps["afterParameters"] = paths.dumps(after_parameters)
        if state.get("Type") == "Pass":
            produced = state["Result"] if "Result" in state else after_parameters
        elif result_text is not None:
            produced = json.loads(result_text)
        else:
            return steps
        if "ResultSelector" in state:
            produced = paths.compile_template(state["ResultSelector"], field="ResultSelector").render(
                paths.Scope(produced, context, variables))
        steps["afterResultSelector"] = paths.dumps(produced)
        steps["afterResultPath"] = paths.dumps(paths.result_path(state.get("ResultPath", "$"), value, produced))
    except Exception:  # noqa: BLE001 - inspection is best effort; the run itself already succeeded
        pass
    return steps
