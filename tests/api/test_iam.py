"""IAM's role calls (Query protocol, XML) on the same endpoint, via boto3's iam client."""
from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import Server, make_client

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
    "Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


@pytest.fixture(scope="module")
def iam(server: Server) -> Any:
    return make_client(server.endpoint, "iam")


def test_role_lifecycle(iam: Any, name: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        iam.get_role(RoleName=name)
    assert excinfo.value.response["Error"]["Code"] == "NoSuchEntity"
    assert excinfo.value.response["Error"]["Message"] == f"The role with name {name} cannot be found."
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    created = iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)["Role"]
    assert created["RoleName"] == name
    assert created["Arn"] == f"arn:aws:iam::123456789012:role/{name}"
    assert created["RoleId"].startswith("AROA")
    role = iam.get_role(RoleName=name)["Role"]
    assert role["Arn"] == created["Arn"]
    assert role["AssumeRolePolicyDocument"] == json.loads(TRUST)
    with pytest.raises(ClientError) as excinfo:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)
    assert excinfo.value.response["Error"]["Code"] == "EntityAlreadyExists"
    assert excinfo.value.response["Error"]["Message"] == f"Role with name {name} already exists."
    iam.delete_role(RoleName=name)
    with pytest.raises(ClientError) as excinfo:
        iam.delete_role(RoleName=name)
    assert excinfo.value.response["Error"]["Code"] == "NoSuchEntity"


def test_unknown_iam_action(iam: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        iam.list_roles()
    assert excinfo.value.response["Error"]["Code"] == "InvalidAction"
    assert excinfo.value.response["Error"]["Message"] == "Could not find operation ListRoles for version 2010-05-08"
