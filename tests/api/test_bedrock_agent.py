"""bedrock-agent flow operations through a real boto3 client and a real server."""
from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import ROLE, Server, make_client
from tests.engine.flows._defs import condition, data, inp, io, out, passthrough


@pytest.fixture(scope="module")
def agent(server: Server) -> Any:
    return make_client(server.endpoint, "bedrock-agent")


def _name() -> str:
    return "f" + uuid.uuid4().hex[:12]


def _flow(agent: Any, definition: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    return agent.create_flow(name=kw.pop("name", _name()), executionRoleArn=ROLE,
                             definition=definition or passthrough(), **kw)


def test_create_get_flow(agent: Any) -> None:
    created = _flow(agent, description="d", tags={"team": "x"})
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["status"] == "NotPrepared" and created["version"] == "DRAFT"
    assert len(created["id"]) == 10 and created["id"].isalnum() and created["id"].isupper()
    assert created["arn"] == f"arn:aws:bedrock:us-east-1:123456789012:flow/{created['id']}"
    got = agent.get_flow(flowIdentifier=created["arn"])  # an ARN: arrives percent-encoded
    assert got["definition"] == passthrough()
    assert got["createdAt"] == created["createdAt"]
    assert agent.list_tags_for_resource(resourceArn=created["arn"])["tags"] == {"team": "x"}


def test_arn_identifier_arrives_percent_encoded(agent: Any, server: Server) -> None:
    created = _flow(agent)
    response = httpx.get(f"{server.endpoint}/flows/{quote(created['arn'], safe='')}/")
    assert response.status_code == 200 and response.json()["id"] == created["id"]


def test_prepare_flow_answers_202_preparing_then_prepared(agent: Any) -> None:
    created = _flow(agent)
    prepared = agent.prepare_flow(flowIdentifier=created["id"])
    assert prepared["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert (prepared["id"], prepared["status"]) == (created["id"], "Preparing")
    got = agent.get_flow(flowIdentifier=created["id"])
    assert got["status"] == "Prepared" and "validations" not in got


def test_prepare_invalid_flow_fails_with_validations(agent: Any) -> None:
    gate = condition("C", [io("x")], [("yes", 'x == "a"')])
    definition = {"nodes": [inp(), gate, out()],
                  "connections": [data("In", "document", "C", "x"), data("In", "document", "Out", "document")]}
    created = _flow(agent, definition)
    agent.prepare_flow(flowIdentifier=created["id"])
    got = agent.get_flow(flowIdentifier=created["id"])
    assert got["status"] == "Failed"
    assert [(v["type"], v["details"]) for v in got["validations"]] == [
        ("MissingDefaultCondition", {"missingDefaultCondition": {"node": "C"}})]


def test_update_flow_returns_to_not_prepared(agent: Any) -> None:
    created = _flow(agent)
    agent.prepare_flow(flowIdentifier=created["id"])
    updated = agent.update_flow(flowIdentifier=created["id"], name="renamed", executionRoleArn=ROLE,
                                definition=passthrough())
    assert (updated["name"], updated["status"]) == ("renamed", "NotPrepared")


def test_validate_flow_definition(agent: Any) -> None:
    assert agent.validate_flow_definition(definition=passthrough())["validations"] == []
    found = agent.validate_flow_definition(definition={"nodes": [inp()], "connections": []})["validations"]
    assert [(v["type"], v["severity"]) for v in found] == [("MissingEndingNodes", "Error")]


def test_versions_and_aliases_lifecycle(agent: Any) -> None:
    flow = _flow(agent)
    with pytest.raises(ClientError) as info:
        agent.create_flow_version(flowIdentifier=flow["id"])
    assert info.value.response["Error"]["Code"] == "ValidationException"
    agent.prepare_flow(flowIdentifier=flow["id"])
    v1 = agent.create_flow_version(flowIdentifier=flow["id"], description="first")
    v2 = agent.create_flow_version(flowIdentifier=flow["id"])
    assert (v1["version"], v2["version"], v1["arn"]) == ("1", "2", flow["arn"])
    assert agent.get_flow_version(flowIdentifier=flow["id"], flowVersion="1")["definition"] == passthrough()
    versions = agent.list_flow_versions(flowIdentifier=flow["id"])["flowVersionSummaries"]
    assert [v["version"] for v in versions] == ["DRAFT", "1", "2"]
    alias = agent.create_flow_alias(flowIdentifier=flow["id"], name="live", routingConfiguration=[{"flowVersion": "1"}])
    assert alias["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert alias["arn"] == f"{flow['arn']}/alias/{alias['id']}"
    assert agent.get_flow_alias(flowIdentifier=flow["id"], aliasIdentifier=alias["arn"])["name"] == "live"
    with pytest.raises(ClientError) as info:
        agent.delete_flow_version(flowIdentifier=flow["id"], flowVersion="1")
    assert (info.value.response["Error"]["Code"], info.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (
        "ConflictException", 409)
    moved = agent.update_flow_alias(flowIdentifier=flow["id"], aliasIdentifier=alias["id"], name="live",
                                    routingConfiguration=[{"flowVersion": "2"}])
    assert moved["routingConfiguration"] == [{"flowVersion": "2"}]
    assert agent.delete_flow_version(flowIdentifier=flow["id"], flowVersion="1")["version"] == "1"
    assert agent.create_flow_version(flowIdentifier=flow["id"])["version"] == "3"  # numbers are never reused
    summaries = agent.list_flow_aliases(flowIdentifier=flow["id"])["flowAliasSummaries"]
    assert [a["id"] for a in summaries] == [alias["id"]]
    test_alias = agent.get_flow_alias(flowIdentifier=flow["id"], aliasIdentifier="TSTALIASID")
    assert test_alias["routingConfiguration"] == [{"flowVersion": "DRAFT"}]
    with pytest.raises(ClientError) as info:
        agent.delete_flow(flowIdentifier=flow["id"])
    assert info.value.response["Error"]["Code"] == "ConflictException"
    agent.delete_flow_alias(flowIdentifier=flow["id"], aliasIdentifier=alias["id"])
    assert agent.delete_flow(flowIdentifier=flow["id"])["id"] == flow["id"]


def test_unknown_flow_is_resource_not_found(agent: Any) -> None:
    with pytest.raises(ClientError) as info:
        agent.get_flow(flowIdentifier="ABCDEFGHIJ")
    error = info.value.response
    assert (error["Error"]["Code"], error["Error"]["Message"], error["ResponseMetadata"]["HTTPStatusCode"]) == (
        "ResourceNotFoundException", "Flow ABCDEFGHIJ not found.", 404)


def test_client_token_makes_create_idempotent(agent: Any) -> None:
    name = _name()
    first = _flow(agent, name=name, clientToken=str(uuid.uuid5(uuid.NAMESPACE_URL, name)) + "-token")
    again = _flow(agent, name=name, clientToken=str(uuid.uuid5(uuid.NAMESPACE_URL, name)) + "-token")
    assert first["id"] == again["id"]


def test_list_flows_paginates(agent: Any) -> None:
    for _ in range(3):
        _flow(agent)
    pages = list(agent.get_paginator("list_flows").paginate(PaginationConfig={"PageSize": 2}))
    assert all(len(p["flowSummaries"]) <= 2 for p in pages)
    ids = [f["id"] for p in pages for f in p["flowSummaries"]]
    assert len(ids) == len(set(ids)) >= 3


def test_bad_flow_name_is_validation_exception(agent: Any) -> None:
    with pytest.raises(ClientError) as info:
        agent.create_flow(name="bad name", executionRoleArn=ROLE)
    assert info.value.response["Error"]["Code"] == "ValidationException"


def test_tags(agent: Any) -> None:
    flow = _flow(agent)
    agent.tag_resource(resourceArn=flow["arn"], tags={"a": "1", "b": "2"})
    agent.untag_resource(resourceArn=flow["arn"], tagKeys=["a"])
    assert agent.list_tags_for_resource(resourceArn=flow["arn"])["tags"] == {"b": "2"}


def test_prompt_management(agent: Any) -> None:
    variant = {"name": "v", "templateType": "TEXT", "modelId": "anthropic.claude-v2",
               "templateConfiguration": {"text": {"text": "Hi {{who}}"}}}
    prompt = agent.create_prompt(name=_name(), defaultVariant="v", variants=[variant])
    assert prompt["version"] == "DRAFT" and prompt["arn"].endswith(f":prompt/{prompt['id']}")
    version = agent.create_prompt_version(promptIdentifier=prompt["id"])
    assert (version["version"], version["arn"]) == ("1", f"{prompt['arn']}:1")
    got = agent.get_prompt(promptIdentifier=prompt["id"], promptVersion="1")
    assert got["variants"][0]["templateConfiguration"] == variant["templateConfiguration"]
    listed = [p["id"] for page in agent.get_paginator("list_prompts").paginate() for p in page["promptSummaries"]]
    assert prompt["id"] in listed
    assert agent.delete_prompt(promptIdentifier=prompt["id"])["id"] == prompt["id"]
