"""Run a case against a Step Functions endpoint (statesim or AWS) with boto3.

CreateStateMachine (``type`` from the case), StartExecution with the exact input text,
poll DescribeExecution until not RUNNING, GetExecutionHistory (all pages); or
StartSyncExecution / ValidateStateMachineDefinition, as the README describes.
"""
from __future__ import annotations

import time
import uuid
from typing import Any

import boto3
import boto3.session
from botocore.config import Config
from botocore.exceptions import ClientError

from benchmarks._conformance.cases import Case
from benchmarks._conformance.compare import Outcome

ROLE_ARN = "arn:aws:iam::111111111111:role/statesim-conformance"


def make_client(endpoint_url: str | None, region: str = "us-east-1") -> Any:
    """A stepfunctions client for ``endpoint_url`` (None = AWS itself).

    Uses the default credential chain when it finds credentials, dummy ones otherwise
    (statesim does not check signatures).
    """
    config = Config(inject_host_prefix=False, retries={"max_attempts": 2, "mode": "standard"})
    session = boto3.session.Session(region_name=region)
    if session.get_credentials() is None:
        session = boto3.session.Session(region_name=region, aws_access_key_id="testing",
                                        aws_secret_access_key="testing")
    return session.client("stepfunctions", endpoint_url=endpoint_url, config=config)


def _error(exc: ClientError) -> dict[str, Any]:
    error = exc.response.get("Error", {})
    return {"code": error.get("Code", ""), "message": error.get("Message", "")}


def run_case(client: Any, case: Case, *, poll_timeout: float = 120.0, role_arn: str = ROLE_ARN) -> Outcome:
    """Do what the case's kind says against the endpoint behind ``client``."""
    if case.kind == "validate":
        try:
            response = client.validate_state_machine_definition(definition=case.definition_text,
                                                                type=case.state_machine_type)
        except ClientError as exc:
            return Outcome(crash=f"ValidateStateMachineDefinition: {_error(exc)}")
        return Outcome(validate=response)
    try:
        created = client.create_state_machine(name=f"conformance-{uuid.uuid4().hex[:16]}",
                                              definition=case.definition_text, roleArn=role_arn,
                                              type=case.state_machine_type)
    except ClientError as exc:
        return Outcome(create_error=_error(exc))
    machine_arn = created["stateMachineArn"]
    try:
        if case.kind == "create_error":
            return Outcome(status="CREATED")
        return _execute(client, case, machine_arn, poll_timeout)
    finally:
        try:
            client.delete_state_machine(stateMachineArn=machine_arn)
        except ClientError:
            pass


def _start_arguments(case: Case, machine_arn: str) -> dict[str, Any]:
    arguments: dict[str, Any] = {"stateMachineArn": machine_arn, "name": f"exec-{uuid.uuid4().hex[:16]}"}
    if case.input_text is not None:
        arguments["input"] = case.input_text
    return arguments


def _execute(client: Any, case: Case, machine_arn: str, poll_timeout: float) -> Outcome:
    arguments = _start_arguments(case, machine_arn)
    try:
        if case.kind == "sync_execution":
            response = client.start_sync_execution(**arguments)
            return Outcome(status=response.get("status"), output=response.get("output"), error=response.get("error"),
                           cause=response.get("cause"), sync_response=response)
        started = client.start_execution(**arguments)
    except ClientError as exc:
        return Outcome(start_error=_error(exc))
    if case.kind == "start_error":
        return Outcome(status="STARTED")
    describe = _wait(client, started["executionArn"], poll_timeout + 2 * case.expected_wait_seconds)
    history = _history(client, started["executionArn"]) if case.kind == "execution" else None
    return Outcome(status=describe.get("status"), output=describe.get("output"), error=describe.get("error"),
                   cause=describe.get("cause"), history=history, describe_execution=describe)


def _wait(client: Any, execution_arn: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    delay = 0.02
    while True:
        describe: dict[str, Any] = client.describe_execution(executionArn=execution_arn)
        if describe.get("status") != "RUNNING" or time.monotonic() > deadline:
            return describe
        time.sleep(delay)
        delay = min(delay * 1.5, 1.0)


def _history(client: Any, execution_arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    arguments: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
    while True:
        page = client.get_execution_history(**arguments)
        events.extend(page.get("events", []))
        token = page.get("nextToken")
        if not token:
            return events
        arguments["nextToken"] = token
