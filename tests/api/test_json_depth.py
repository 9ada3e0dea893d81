"""Deeply nested JSON over HTTP: Jackson's nesting limit as an AWS error, never a 500."""
from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import PASS_DEFINITION, ROLE, wait_for

DEPTH_ERROR = ("Document nesting depth (1001) exceeds the maximum allowed (1000, from "
               "`StreamReadConstraints.getMaxNestingDepth()`)")
DEEP = "[" * 5000 + "]" * 5000
DEEP_DEFINITION = '{"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": ' + DEEP + ', "End": true}}}'


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


def still_serving(sfn: Any, name: str) -> None:
    arn = sfn.create_state_machine(name=name, definition=PASS_DEFINITION, roleArn=ROLE)["stateMachineArn"]
    execution_arn = sfn.start_execution(stateMachineArn=arn, input='{"ok": [[1]]}')["executionArn"]
    described = wait_for(sfn, execution_arn)
    assert (described["status"], json.loads(described["output"])) == ("SUCCEEDED", {"Arg1": "argument1"})


@pytest.mark.parametrize("definition", [DEEP, DEEP_DEFINITION])
def test_create_state_machine_with_deep_nesting(sfn: Any, name: str, definition: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        sfn.create_state_machine(name=name, definition=definition, roleArn=ROLE)
    assert error_of(excinfo) == ("InvalidDefinition",
                                 f"Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: {DEPTH_ERROR} at null'")
    still_serving(sfn, name)


def test_validate_definition_with_deep_nesting(sfn: Any) -> None:
    response = sfn.validate_state_machine_definition(definition=DEEP_DEFINITION)
    assert (response["result"], response["diagnostics"]) == (
        "FAIL", [{"severity": "ERROR", "code": "INVALID_JSON_DESCRIPTION", "message": DEPTH_ERROR}])


@pytest.mark.parametrize("text", [DEEP, '{"a":' * 5000 + "1" + "}" * 5000])
def test_start_execution_with_deep_input(sfn: Any, name: str, text: str) -> None:
    arn = sfn.create_state_machine(name=name, definition=PASS_DEFINITION, roleArn=ROLE)["stateMachineArn"]
    with pytest.raises(ClientError) as excinfo:
        sfn.start_execution(stateMachineArn=arn, input=text)
    assert error_of(excinfo) == ("InvalidExecutionInput", f"Invalid State Machine Execution Input: '{DEPTH_ERROR}'")
    assert sfn.list_executions(stateMachineArn=arn)["executions"] == []
    still_serving(sfn, name + "-2")


def test_input_at_the_limit_runs(sfn: Any, name: str) -> None:
    arn = sfn.create_state_machine(name=name, definition=PASS_DEFINITION.replace('{"Arg1": "argument1"}', "null")
                                   .replace('"Result": null, ', ""), roleArn=ROLE)["stateMachineArn"]
    text = "[" * 1000 + "]" * 1000
    described = wait_for(sfn, sfn.start_execution(stateMachineArn=arn, input=text)["executionArn"])
    assert (described["status"], described["output"]) == ("SUCCEEDED", text)
