"""``arn:aws:states:::states:startExecution`` (+ ``.sync``, ``.sync:2``): nested executions in this runtime.

Output shapes as AWS returns them: request-response ``{ExecutionArn, StartDate}``; ``.sync`` the
DescribeExecution result with Input/Output as JSON text; ``.sync:2`` the same with Input/Output
parsed. A child that does not succeed fails the task with States.TaskFailed and that result as cause.
"""
from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

import anyio

from engine.errors import ErrorName, StatesError
from engine.tasks.registry import TaskContext, unheld
from engine.types import JSON

if TYPE_CHECKING:
    from engine.tasks.builtin import Integrations

POLL_SECONDS = 0.01


def _millis(epoch: float) -> int:
    return int(round(epoch * 1000))


def _runtime(integrations: Integrations) -> Any:
    if integrations.runtime is None:
        raise StatesError(ErrorName.TASK_FAILED, "states:startExecution needs the statesim runtime "
                                                 "(run the execution through a Runtime or the server).")
    return integrations.runtime


def _record(runtime: Any, params: dict[str, Any], parent: str) -> dict[str, Any]:
    arn = params.get("StateMachineArn")
    machine = runtime.store.get("state_machine", arn) if isinstance(arn, str) else None
    if machine is None:
        raise StatesError("StepFunctions.StateMachineDoesNotExistException",
                          f"State Machine Does Not Exist: '{arn}' (Service: AWSStepFunctions; Status Code: 400; "
                          f"Error Code: StateMachineDoesNotExist; Request ID: {uuid.uuid4()}; Proxy: null)")
    raw_input = params.get("Input", {})
    input_text = raw_input if isinstance(raw_input, str) else json.dumps(raw_input, separators=(",", ":"),
                                                                         ensure_ascii=False)
    name = params.get("Name") or str(uuid.uuid4())
    record: dict[str, Any] = {
        "name": name, "stateMachineArn": machine["stateMachineArn"], "input": input_text,
        "startDate": runtime.clock.now().timestamp(), "definition": machine["definition"],
        "roleArn": machine.get("roleArn", ""), "type": machine.get("type", "STANDARD"),
        "revisionId": machine.get("revisionId"), "startedBy": parent,
    }
    if record["type"] == "EXPRESS":
        record["executionArn"] = runtime.arns.express_execution(machine["name"], name, uuid.uuid4().hex)
    else:
        record["executionArn"] = runtime.arns.execution(machine["name"], name)
        if runtime.store.get("execution", record["executionArn"]) is not None:
            raise StatesError("StepFunctions.ExecutionAlreadyExistsException",
                              f"Execution Already Exists: '{record['executionArn']}' (Service: AWSStepFunctions; "
                              f"Status Code: 400; Error Code: ExecutionAlreadyExists; Request ID: {uuid.uuid4()}; "
                              "Proxy: null)")
    return record


def describe(record: dict[str, Any], *, parsed: bool) -> dict[str, Any]:
    """DescribeExecution as the ``.sync`` (text) or ``.sync:2`` (parsed JSON) integration returns it."""
    def value(text: str | None) -> JSON:
        return json.loads(text) if parsed and text is not None else text

    out: dict[str, Any] = {"ExecutionArn": record["executionArn"], "Input": value(record.get("input", "{}")),
                           "InputDetails": {"Included": True}, "Name": record["name"]}
    if record.get("output") is not None:
        out["Output"] = value(record["output"])
        out["OutputDetails"] = {"Included": True}
    for key, wire in (("error", "Error"), ("cause", "Cause")):
        if record.get(key) is not None:
            out[wire] = record[key]
    out.update(RedriveCount=record.get("redriveCount", 0), StartDate=_millis(record["startDate"]),
               StateMachineArn=record["stateMachineArn"], Status=record["status"])
    if record.get("stopDate") is not None:
        out["StopDate"] = _millis(record["stopDate"])
    return out


async def start_execution(integrations: Integrations, resource: str, payload: JSON, ctx: TaskContext) -> JSON:
    runtime = _runtime(integrations)
    params = payload if isinstance(payload, dict) else {}
    record = _record(runtime, params, ctx.execution_arn)
    suffix = resource.rsplit("startExecution", 1)[1]
    if suffix == "":
        if record["type"] == "EXPRESS":
            runtime.start_express(record, record["definition"])
        else:
            runtime.start(record, record["definition"])
        return {"ExecutionArn": record["executionArn"], "StartDate": _millis(record["startDate"])}
    if ctx.submitted is not None:
        ctx.submitted({"ExecutionArn": record["executionArn"], "StartDate": _millis(record["startDate"])})
    with unheld(ctx.clock):  # the child's own Waits may skip time while the parent only waits for it
        if record["type"] == "EXPRESS":
            done = await _run_express(runtime, record)
        else:
            done = await _run_standard(runtime, record)
    result = describe(done, parsed=suffix == ".sync:2")
    if done["status"] != "SUCCEEDED":
        raise StatesError(ErrorName.TASK_FAILED, json.dumps(result, separators=(",", ":"), ensure_ascii=False))
    return result


async def _run_standard(runtime: Any, record: dict[str, Any]) -> dict[str, Any]:
    runtime.start(record, record["definition"])
    arn = record["executionArn"]
    try:
        while runtime.is_running(arn):
            await anyio.sleep(POLL_SECONDS)
    except anyio.get_cancelled_exc_class():
        # AWS: stopping the parent of a .sync child stops the child too.
        with anyio.CancelScope(shield=True):
            runtime.stop(arn, None, None)
        raise
    stored: dict[str, Any] = runtime.store.get("execution", arn)
    return stored


async def _run_express(runtime: Any, record: dict[str, Any]) -> dict[str, Any]:
    result = await runtime.run_sync(record, record["definition"])
    return {**record, "status": result.status, "output": result.output, "error": result.error,
            "cause": result.cause, "stopDate": runtime.clock.now().timestamp()}
