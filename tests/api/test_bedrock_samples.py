"""The real AWS sample flows under shared/clients/bedrock-flows: created, prepared, versioned,
aliased and invoked through boto3 the way their own clients do, with model answers from a
task-registry handler (and per-node mocks for agents)."""
from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.bedrock_agent import FlowService, flow_service
from engine.tasks.registry import TaskFailure, TaskRegistry
from tests.api.conftest import ROLE, Server, make_client
from tests.conftest import SHARED, requires_shared

pytestmark = requires_shared("clients/bedrock-flows")

SAMPLES = SHARED / "clients" / "bedrock-flows"
MODEL = "global.anthropic.claude-haiku-4-5-20251001-v1:0"
BOOKS = [{"title": f"Book {n}", "author": f"Author {n}"} for n in range(1, 6)]
PLACEHOLDERS = {  # as the README of shared/clients/bedrock-flows substituted them
    "$$PROMPT_MODEL_ID": "anthropic.claude-3-haiku-20240307-v1:0", "$$GUARDRAIL_ID": "abcdefgh1234",
    "$$AGENT_1_ALIAS_ARN": "arn:aws:bedrock:us-east-1:123456789012:agent-alias/AGENTID001/ALIASID001",
    "$$AGENT_2_ALIAS_ARN": "arn:aws:bedrock:us-east-1:123456789012:agent-alias/AGENTID002/ALIASID002",
}


def _model(request: dict[str, Any]) -> dict[str, Any]:
    """A deterministic stand-in model answering in Converse's response shape."""
    prompt = request["messages"][-1]["content"][0]["text"]
    if "refer to the name of a book" in prompt:
        text = "yes"
    elif "JSON array" in prompt:
        text = json.dumps(BOOKS)
    else:
        text = f"[{len(request['messages'])} messages] " + prompt.strip().splitlines()[0][:60]
    return {"output": {"message": {"role": "assistant", "content": [{"text": text}]}}}


def _parse_json_function(event: dict[str, Any]) -> Any:
    """The Map sample's Lambda as its README describes it (parse + shape check)."""
    value = json.loads(event["node"]["inputs"][0]["value"])
    if not (isinstance(value, list) and len(value) == 5 and all(set(v) == {"title", "author"} for v in value)):
        raise TaskFailure("ValueError", "the model's answer does not match the schema")
    return value


@pytest.fixture(scope="module")
def service(server: Server) -> Iterator[FlowService]:
    service = flow_service(server.server.config.app)
    registry = TaskRegistry()
    registry.register(MODEL, _model)
    registry.register("arn:aws:lambda:us-west-2:123456789012:function:ParseJsonFunction", _parse_json_function)
    before, service.registry = service.registry, registry
    yield service
    service.registry = before


@pytest.fixture(scope="module")
def clients(server: Server) -> tuple[Any, Any]:
    return make_client(server.endpoint, "bedrock-agent"), make_client(server.endpoint, "bedrock-agent-runtime")


def _deploy(agent: Any, name: str, definition: dict[str, Any]) -> None:
    """What the samples' CDK stack / manager script do: create, prepare, version, alias ``live``."""
    flow = agent.create_flow(name=name, executionRoleArn=ROLE, definition=definition)
    agent.prepare_flow(flowIdentifier=flow["id"])
    version = agent.create_flow_version(flowIdentifier=flow["id"])
    agent.create_flow_alias(flowIdentifier=flow["id"], name="live",
                            routingConfiguration=[{"flowVersion": version["version"]}])


def _run_like_the_sample_client(agent: Any, runtime: Any, name: str, inputs: list[Any]) -> dict[str, Any]:
    """techniques_bedrock_flows/run-test-execution.py: find flow and alias by name, merge the events."""
    flow_id = next(f["id"] for page in agent.get_paginator("list_flows").paginate()
                   for f in page["flowSummaries"] if f["name"] == name)
    alias_id = next(a["id"] for page in agent.get_paginator("list_flow_aliases").paginate(flowIdentifier=flow_id)
                    for a in page["flowAliasSummaries"] if a["name"] == "live")
    response = runtime.invoke_flow(flowIdentifier=flow_id, flowAliasIdentifier=alias_id, inputs=inputs)
    result: dict[str, Any] = {}
    for event in response["responseStream"]:
        result.update(event)
    return result


def _with_managed_prompts(agent: Any, sample: dict[str, Any]) -> dict[str, Any]:
    """Create the sample's prompts and versions; point the definition at the new version ARNs."""
    text = json.dumps(sample["definition"])
    for placeholder, prompt in sample["prompts"].items():
        request = dict(prompt["createPrompt"], name=prompt["createPrompt"]["name"] + uuid.uuid4().hex[:6])
        created = agent.create_prompt(**request)
        text = text.replace(placeholder, agent.create_prompt_version(promptIdentifier=created["id"])["arn"])
    return json.loads(text)


CHAINING = sorted(p.stem for p in (SAMPLES / "prompt-chaining").glob("*.json"))


@pytest.mark.parametrize("form", ["definition", "definitionInline"])
@pytest.mark.parametrize("stem", CHAINING)
def test_prompt_chaining_samples(stem: str, form: str, clients: tuple[Any, Any], service: FlowService) -> None:
    agent, runtime = clients
    sample = json.loads((SAMPLES / "prompt-chaining" / f"{stem}.json").read_text())
    definition = _with_managed_prompts(agent, sample) if form == "definition" else sample["definitionInline"]
    assert agent.validate_flow_definition(definition=definition)["validations"] == []
    name = f"{sample['name']}-{form}-{uuid.uuid4().hex[:6]}"
    _deploy(agent, name, definition)
    result = _run_like_the_sample_client(agent, runtime, name, sample["invokeFlow"]["inputs"])
    assert result["flowCompletionEvent"]["completionReason"] == "SUCCESS"
    document = result["flowOutputEvent"]["content"]["document"]
    assert isinstance(document, str) and document.startswith("[")
    if stem == "ConditionalChain":
        assert result["flowOutputEvent"]["nodeName"] == "Output"  # the 'yes' branch


def _template(path: Path) -> dict[str, Any]:
    text = path.read_text()
    for placeholder, value in PLACEHOLDERS.items():
        text = text.replace(placeholder, value)
    assert not re.search(r"\$\$[A-Za-z_]", text)
    return json.loads(text)


def test_multi_agent_template(clients: tuple[Any, Any], service: FlowService) -> None:
    agent, runtime = clients
    template = _template(SAMPLES / "flows-samples" / "multi_agent_flow.json")
    name = f"{template['name']}-{uuid.uuid4().hex[:6]}"
    service.mocks[name] = {"AgentsNode_1": "draft plan", "AgentsNode_2": "final plan"}
    flow = agent.create_flow(name=name, description=template["description"], executionRoleArn=ROLE,
                             definition=template["definition"], tags=template["tags"])
    _deploy_existing(agent, flow["id"])
    result = _run_like_the_sample_client(agent, runtime, name, [
        {"content": {"document": "Plan a trip"}, "nodeName": "FlowInputNode", "nodeOutputName": "document"}])
    assert result["flowOutputEvent"]["content"]["document"] == "final plan"


def _deploy_existing(agent: Any, flow_id: str) -> None:
    agent.prepare_flow(flowIdentifier=flow_id)
    version = agent.create_flow_version(flowIdentifier=flow_id)
    agent.create_flow_alias(flowIdentifier=flow_id, name="live", routingConfiguration=[{"flowVersion": version["version"]}])


def test_prompt_guardrail_template(clients: tuple[Any, Any], service: FlowService) -> None:
    agent, runtime = clients
    template = _template(SAMPLES / "flows-samples" / "prompt_guardrail_flow.json")
    name = f"{template['name']}-{uuid.uuid4().hex[:6]}"
    service.mocks[name] = {"GenerateResponse": "Happy to help."}
    _deploy(agent, name, template["definition"])
    result = _run_like_the_sample_client(agent, runtime, name, [
        {"content": {"document": "Where is my order?"}, "nodeName": "FlowInputNode", "nodeOutputName": "document"}])
    assert result["flowOutputEvent"]["content"]["document"] == "Happy to help."


def test_cloudformation_iterator_sample(clients: tuple[Any, Any], service: FlowService) -> None:
    agent, runtime = clients
    definition = json.loads((SAMPLES / "flows-samples" / "bedrock_flows.definition.json").read_text())
    name = f"SimpleFlow_CFN-{uuid.uuid4().hex[:6]}"
    service.mocks[name] = {"PromptProcessor": {"$sequence": ["one", "two"]}}
    _deploy(agent, name, definition)
    result = _run_like_the_sample_client(agent, runtime, name, [
        {"content": {"document": ["q1", "q2"]}, "nodeName": "FlowInputNode", "nodeOutputName": "document"}])
    assert result["flowOutputEvent"]["content"]["document"] == ["one", "two"]
