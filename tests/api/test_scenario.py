"""AWS's boto3 "Get started with state machines" scenario (ChatSFN), unchanged, against statesim.

Every client is configured only through AWS_ENDPOINT_URL, as the scenario's code does nothing
else; see ../shared/clients/aws-doc-examples/README.md for the call sequence.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import Server, wait_for

ROLE_NAME = "doc-example-state-machine-chat"
ACTIVITY_NAME = "doc-example-activity"
MACHINE_NAME = "doc-example-state-machine-chat"


@pytest.fixture
def env_clients(server: Server, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    session = boto3.session.Session()
    return session.client("iam"), session.client("stepfunctions")


def _find(pages: Any, key: str, name: str, arn_key: str) -> str | None:
    for page in pages:
        for item in page[key]:
            if item["name"] == name:
                return str(item[arn_key])
    return None


def test_chat_sfn_scenario(env_clients: tuple[Any, Any], shared_dir: Path) -> None:
    iam, sfn = env_clients
    sfn.list_state_machines(maxResults=10)  # hello.py
    try:
        role = iam.get_role(RoleName=ROLE_NAME)["Role"]
    except ClientError as err:
        assert err.response["Error"]["Code"] == "NoSuchEntity"
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
            "Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
        role = iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    activity_arn = _find(sfn.get_paginator("list_activities").paginate(), "activities", ACTIVITY_NAME,
                         "activityArn") or sfn.create_activity(name=ACTIVITY_NAME)["activityArn"]
    machine_arn = _find(sfn.get_paginator("list_state_machines").paginate(), "stateMachines", MACHINE_NAME,
                        "stateMachineArn")
    if machine_arn is None:
        text = (shared_dir / "clients" / "aws-doc-examples" / "chat_sfn_state_machine.json").read_text()
        definition = text.replace("{{DOC_EXAMPLE_ACTIVITY_ARN}}", activity_arn)
        machine_arn = sfn.create_state_machine(name=MACHINE_NAME, definition=definition,
                                               roleArn=role["Arn"])["stateMachineArn"]
    described = sfn.describe_state_machine(stateMachineArn=machine_arn)
    assert (described["name"], described["status"], described["roleArn"]) == (MACHINE_NAME, "ACTIVE", role["Arn"])

    run_arn = sfn.start_execution(stateMachineArn=machine_arn, input=json.dumps({"name": "Testerson"}))[
        "executionArn"]
    prompts = []
    for action in ("song", "poem", "done"):
        task = sfn.get_activity_task(activityArn=activity_arn)
        prompts.append(json.loads(task["input"]))
        sfn.send_task_success(taskToken=task["taskToken"], output=json.dumps({"action": action}))
    actions = ["song", "poem", "story", "done"]
    assert prompts[0] == {"message": "Hello, Testerson!", "actions": actions}
    assert prompts[1] == {"message": "My song has no tune but you can still dance to it.", "actions": actions}
    final = wait_for(sfn, run_arn)
    assert final["status"] == "SUCCEEDED"
    assert json.loads(final["output"])["message"] == "Thanks for chatting."

    sfn.delete_state_machine(stateMachineArn=machine_arn)
    sfn.delete_activity(activityArn=activity_arn)
    iam.delete_role(RoleName=ROLE_NAME)
    with pytest.raises(ClientError):
        iam.get_role(RoleName=ROLE_NAME)
