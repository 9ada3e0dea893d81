"""Task states: call the TaskRegistry with TimeoutSeconds/HeartbeatSeconds on the execution's clock.

History as AWS writes it: TaskScheduled, TaskStarted, then TaskSucceeded, TaskFailed or
TaskTimedOut (LambdaFunction* events for a bare Lambda function ARN).
"""
from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import anyio

from engine.asl import paths
from engine.asl.states import (
    Entry,
    Failure,
    Frame,
    Outcome,
    effective_input,
    jsonata_output,
    jsonpath_output,
    unwrap_group,
)
from engine.asl.model import Task
from engine.errors import ErrorName, StatesError
from engine.history import NOT_TRUNCATED
from engine.tasks.registry import TaskContext
from engine.types import JSON

_TOKEN_SUFFIX = ".waitForTaskToken"


def resource_parts(resource: str) -> tuple[str, str, str, bool]:
    """(resourceType, resource, region, is_lambda_function) as history names them."""
    parts = resource.split(":")
    region = parts[3] if len(parts) > 3 and parts[3] else "us-east-1"
    if len(parts) >= 7 and parts[2] == "lambda" and parts[5] == "function":
        return "lambda", resource, region, True
    if len(parts) >= 6 and parts[2] == "states" and parts[3] == "" and parts[4] == "":
        return parts[5], ":".join(parts[6:]), region, False
    if len(parts) >= 3:
        return parts[2], ":".join(parts[5:]) or resource, region, False
    return "unknown", resource, region, False


def _seconds(state: Task, literal: Any, path: Any, value: JSON, entry: Entry, name: str) -> int | None:
    if path is not None:
        # AWS: "Invalid path '$.x' : No results for path: $['x']" when the path selects nothing
        found = paths.input_path(path, entry.scope(value))
        if not isinstance(found, int) or isinstance(found, bool) or found <= 0:
            raise StatesError(ErrorName.RUNTIME, f"The {name}Path parameter does not reference a valid "
                                                 f"positive integer value: {path.text} == {paths.dumps(found)}")
        return found
    if hasattr(literal, "render"):
        found = literal.render(entry.states(value), entry.frame.variables, now=entry.now())
        if not isinstance(found, int) or isinstance(found, bool) or found <= 0:
            raise StatesError(ErrorName.QUERY_EVALUATION_ERROR,
                              f"The {name} field must be a positive integer: {paths.dumps(found)}")
        return found
    return literal  # type: ignore[no-any-return]


async def run_task(frame: Frame, state: Task, value: JSON, text: str | None, entry: Entry) -> Outcome:
    ex = frame.ex
    if state.resource.endswith(_TOKEN_SUFFIX):
        entry.task_token = str(uuid.uuid4())
        entry._context = None
    if state.jsonata:
        payload = state.arguments.render(entry.states(value), frame.variables, now=entry.now()) if state.arguments is not None else value
    else:
        payload = effective_input(state, value, entry)
    timeout = _seconds(state, state.timeout_seconds, state.timeout_seconds_path, value, entry, "TimeoutSeconds")
    heartbeat = _seconds(state, state.heartbeat_seconds, state.heartbeat_seconds_path, value, entry,
                         "HeartbeatSeconds")
    credentials = _credentials(state, value, entry)
    kind, name, region, is_lambda = resource_parts(state.resource)
    history = ex.history
    payload_text = text if payload is value and text is not None else paths.dumps(payload)
    if is_lambda:
        details: dict[str, Any] = {"resource": state.resource, "input": payload_text, "inputDetails": NOT_TRUNCATED}
        if timeout is not None:
            details["timeoutInSeconds"] = timeout
        if credentials is not None:
            details["taskCredentials"] = credentials
        frame.last = history.add("LambdaFunctionScheduled", frame.last, "lambdaFunctionScheduledEventDetails", details)
        frame.last = history.add("LambdaFunctionStarted", frame.last)
    else:
        details = {"resourceType": kind, "resource": name, "region": region, "parameters": payload_text}
        if timeout is not None:
            details["timeoutInSeconds"] = timeout
        if heartbeat is not None:
            details["heartbeatInSeconds"] = heartbeat
        if credentials is not None:
            details["taskCredentials"] = credentials
        frame.last = history.add("TaskScheduled", frame.last, "taskScheduledEventDetails", details)
        frame.last = history.add("TaskStarted", frame.last, "taskStartedEventDetails",
                                 {"resourceType": kind, "resource": name})
    try:
        result, reason = await _invoke(frame, state, payload, entry.task_token, timeout, heartbeat, credentials)
    except StatesError as err:
        _failed(frame, kind, name, is_lambda, err.error, err.cause)
        raise Failure(err.error, err.cause) from None
    if reason is not None:
        error = ErrorName.TIMEOUT if reason == "timeout" else ErrorName.HEARTBEAT_TIMEOUT
        if is_lambda:
            frame.last = history.add("LambdaFunctionTimedOut", frame.last, "lambdaFunctionTimedOutEventDetails",
                                     {"error": error})
        else:
            frame.last = history.add("TaskTimedOut", frame.last, "taskTimedOutEventDetails",
                                     {"error": error, "resourceType": kind, "resource": name})
        raise Failure(error, None)
    result_text = paths.dumps(result)
    if is_lambda:
        frame.last = history.add("LambdaFunctionSucceeded", frame.last, "lambdaFunctionSucceededEventDetails",
                                 {"output": result_text, "outputDetails": NOT_TRUNCATED})
    else:
        frame.last = history.add("TaskSucceeded", frame.last, "taskSucceededEventDetails",
                                 {"resourceType": kind, "resource": name, "output": result_text,
                                  "outputDetails": NOT_TRUNCATED})
    return _output(state, value, result, result_text, entry)


def _credentials(state: Task, value: JSON, entry: Entry) -> JSON:
    """``{"roleArn": ...}`` as TaskScheduled shows it, or None when the state has no Credentials."""
    if state.credentials is None:
        return None
    if state.jsonata:
        rendered = state.credentials.render(entry.states(value), entry.frame.variables, now=entry.now())
    else:
        rendered = state.credentials.render(entry.scope(value))
    if not isinstance(rendered, dict) or "RoleArn" not in rendered:
        return None
    return {"roleArn": rendered["RoleArn"]}


def _failed(frame: Frame, kind: str, name: str, is_lambda: bool, error: str, cause: str | None) -> None:
    details: dict[str, Any] = {}
    if error:
        details["error"] = error
    if cause is not None:
        details["cause"] = cause
    if is_lambda:
        frame.last = frame.ex.history.add("LambdaFunctionFailed", frame.last, "lambdaFunctionFailedEventDetails", details)
    else:
        details.update(resourceType=kind, resource=name)
        frame.last = frame.ex.history.add("TaskFailed", frame.last, "taskFailedEventDetails", details)


def _output(state: Task, value: JSON, result: JSON, result_text: str, entry: Entry) -> Outcome:
    if state.jsonata:
        output, assigned = jsonata_output(state, entry.states(value, result=result), result, entry)
    else:
        selected = result
        if state.result_selector is not None:
            selected = state.result_selector.render(entry.scope(result))
        output, assigned = jsonpath_output(state, value, selected, entry)
    return Outcome(state.next, output, result_text if output is result else None, assigned)


async def _invoke(frame: Frame, state: Task, payload: JSON, token: str | None, timeout: int | None,
                  heartbeat: int | None, credentials: JSON) -> tuple[JSON, str | None]:
    """(result, None) or (None, 'timeout'|'heartbeat') when a deadline on the clock passed first."""
    ex = frame.ex
    clock = ex.clock
    registry = ex.registry
    if registry is None:
        raise StatesError(ErrorName.TASK_FAILED,
                          f"No task handler is registered for resource '{state.resource}'. Registered: none.")
    now = clock.now()
    deadlines = {
        "timeout": now + timedelta(seconds=timeout) if timeout else None,
        "heartbeat": now + timedelta(seconds=heartbeat) if heartbeat else None,
    }

    async def beat() -> None:
        if heartbeat:
            deadlines["heartbeat"] = clock.now() + timedelta(seconds=heartbeat)

    kind, name, _, _ = resource_parts(state.resource)

    def submitted(output: JSON) -> None:  # .sync / .waitForTaskToken: the API call was accepted
        frame.last = ex.history.add("TaskSubmitted", frame.last, "taskSubmittedEventDetails",
                                    {"resourceType": kind, "resource": name, "output": paths.dumps(output),
                                     "outputDetails": NOT_TRUNCATED})

    ctx = TaskContext(resource=state.resource, state_name=state.name, execution_arn=ex.info.execution_arn,
                      task_token=token, clock=clock, heartbeat=beat, credentials=credentials,
                      submitted=submitted)
    if not timeout and not heartbeat:
        return await registry.invoke(state.resource, payload, ctx), None
    outcome: dict[str, Any] = {}

    async with unwrap_group(), anyio.create_task_group() as group:
        async def watchdog() -> None:
            while True:
                current = clock.now()
                for reason, moment in deadlines.items():
                    if moment is not None and moment <= current:
                        outcome["reason"] = reason
                        group.cancel_scope.cancel()
                        return
                waits = [(m - current).total_seconds() for m in deadlines.values() if m is not None]
                await clock.sleep(min(waits))

        group.start_soon(watchdog)
        outcome["result"] = await registry.invoke(state.resource, payload, ctx)
        group.cancel_scope.cancel()
    if "reason" in outcome and "result" not in outcome:
        return None, outcome["reason"]
    return outcome.get("result"), None
