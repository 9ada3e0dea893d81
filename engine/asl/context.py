"""Who an execution is (ExecutionInfo) and the context object ``$$`` states read.

``$$`` is built on demand, only for states that reference it, so a chain of plain Pass
states never pays for it.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from engine.types import JSON

_DEFAULT_START = datetime(2024, 1, 1, tzinfo=timezone.utc)


@dataclass(slots=True)
class ExecutionInfo:
    """The identity of one execution, as DescribeExecution and ``$$.Execution`` show it."""

    execution_arn: str = ""
    name: str = ""
    state_machine_arn: str = ""
    state_machine_name: str = ""
    role_arn: str = ""
    start_time: datetime | None = None
    redrive_count: int = 0
    state_machine_type: str = "STANDARD"
    extra: dict[str, Any] = field(default_factory=dict)
    context_overrides: dict[str, dict[str, Any]] | None = None
    """Fields laid over the ``$$`` of every state of the run, per part (``{"State": {"RetryCount": 2},
    "Task": {"Token": "t"}}``): what TestState's ``context`` and ``retrierRetryCount`` seed. Read only
    when a state's ``$$`` is built, so a run without overrides pays nothing."""


def default_info(start_time: datetime, state_machine_type: str = "STANDARD") -> ExecutionInfo:
    """An ExecutionInfo with made-up but well-formed ARNs, for in-process runs."""
    name = str(uuid.uuid4())
    machine = "statesim-local"
    prefix = "arn:aws:states:us-east-1:123456789012"
    kind = "express" if state_machine_type == "EXPRESS" else "execution"
    return ExecutionInfo(
        execution_arn=f"{prefix}:{kind}:{machine}:{name}",
        name=name,
        state_machine_arn=f"{prefix}:stateMachine:{machine}",
        state_machine_name=machine,
        role_arn="arn:aws:iam::123456789012:role/statesim",
        start_time=start_time,
        state_machine_type=state_machine_type,
    )


def iso_time(moment: datetime) -> str:
    """AWS's context-object time format: ``2024-01-01T00:00:00.000Z``."""
    if moment.tzinfo is not timezone.utc:
        moment = moment.astimezone(timezone.utc)
    return moment.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def execution_part(info: ExecutionInfo, input_value: JSON) -> dict[str, Any]:
    """``$$.Execution`` (computed once per execution)."""
    start = iso_time(info.start_time or _DEFAULT_START)
    if info.state_machine_type == "EXPRESS":
        # AWS: express executions have no RedriveCount (see test_express_sync cases)
        return {"Id": info.execution_arn, "Input": input_value, "Name": info.name,
                "RoleArn": info.role_arn, "StartTime": start}
    return {"Id": info.execution_arn, "Input": input_value, "StartTime": start, "Name": info.name,
            "RoleArn": info.role_arn, "RedriveCount": info.redrive_count}


def state_machine_part(info: ExecutionInfo) -> dict[str, Any]:
    """``$$.StateMachine``."""
    return {"Id": info.state_machine_arn, "Name": info.state_machine_name}


def build(execution: dict[str, Any], machine: dict[str, Any], state_name: str, entered: datetime,
          retry_count: int | None = None, *, task_token: str | None = None,
          map_item: tuple[int, JSON] | None = None,
          overrides: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The whole ``$$`` object for one state (``State.RetryCount`` only for states with Retry).

    ``overrides`` (``ExecutionInfo.context_overrides``) are merged over the built parts, field by field.
    """
    state: dict[str, Any] = {"Name": state_name, "EnteredTime": iso_time(entered)}
    if retry_count is not None:
        state["RetryCount"] = retry_count
    context: dict[str, Any] = {"Execution": execution, "StateMachine": machine, "State": state}
    if task_token is not None:
        context["Task"] = {"Token": task_token}
    if map_item is not None:
        context["Map"] = {"Item": {"Index": map_item[0], "Value": map_item[1]}}
    if overrides:
        for part, fields in overrides.items():
            base = context.get(part)
            context[part] = {**base, **fields} if isinstance(base, dict) else dict(fields)
    return context
