"""Node behaviours: one async function per node type that computes outputs from inputs.

``HANDLERS[node.type](node, inputs, call) -> outputs``. Inputs arrive after their expression
and type check; the scheduler checks the outputs. Nodes that need frames (Iterator,
Collector, Loop, LoopController) and the Condition choice are driven by ``scheduler.py``.
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.flows.expressions import ConditionTypeError, compile_condition
from engine.flows.inline import run_inline
from engine.flows.model import Node, thaw
from engine.flows.services import (
    DEPENDENCY_FAILED,
    INLINE_CODE_FAILED,
    MODEL_HOW,
    VALIDATION,
    FlowEnv,
    FlowFailure,
    InputRequired,
    not_configured,
)
from engine.flows.templates import converse_request, inline_template
from engine.types import JSON

ActionSink = Callable[[str, str, JSON, JSON], None]
"""``(serviceName, operationName, operationRequest, operationResponse)`` -> a nodeActionTrace."""


@dataclass(slots=True)
class NodeCall:
    """What a handler may use besides its inputs."""

    env: FlowEnv
    action: ActionSink
    resume_input: Mapping[str, JSON] | None = None
    """Multi-turn: the answer the user gave to this (waiting) node."""


Handler = Callable[[Node, dict[str, JSON], NodeCall], Awaitable[dict[str, JSON]]]


# ---------------------------------------------------------------- pure nodes

async def run_output(node: Node, inputs: dict[str, JSON], call: NodeCall) -> dict[str, JSON]:
    """Output nodes produce no outputs; the scheduler emits the flowOutputEvent."""
    return {}


def choose_condition(node: Node, inputs: Mapping[str, JSON]) -> str:
    """The first condition that holds, else ``default`` (spec §2.7)."""
    for condition in node.conditions:
        if condition.name == "default" or condition.expression is None:
            continue
        try:
            if compile_condition(condition.expression).evaluate(inputs):
                return condition.name
        except ConditionTypeError as exc:
            raise FlowFailure(VALIDATION, f"Condition '{condition.name}' of Node {node.name} cannot be evaluated: {exc}",
                              node=node.name) from exc
    return "default"


async def run_inline_code(node: Node, inputs: dict[str, JSON], call: NodeCall) -> dict[str, JSON]:
    """Run ``inlineCode.code`` in a subprocess; the last expression's value is ``response``."""
    code = str(node.config.get("code", ""))
    result = await run_inline(code, inputs, timeout=call.env.inline_timeout, memory_mb=call.env.inline_memory_mb)
    if not result.ok:
        raise FlowFailure(INLINE_CODE_FAILED, f"Inline code of Node {node.name} failed: {result.error}: {result.message}",
                          node=node.name)
    return {"response": result.value}


# ---------------------------------------------------------------- model and service calls

def _completion_text(answer: JSON) -> str:
    """A model answer: plain text, or a Converse response."""
    if isinstance(answer, str):
        return answer
    if isinstance(answer, Mapping):
        content = (answer.get("output") or {}).get("message", {}).get("content") or []
        texts = [c.get("text", "") for c in content if isinstance(c, Mapping)]
        if texts:
            return "".join(texts)
    return json.dumps(answer, separators=(",", ":"))


def _prompt_template(node: Node, env: FlowEnv) -> Mapping[str, Any]:
    template = inline_template(node.config)
    if template is not None:
        return template
    resource = (node.config.get("sourceConfiguration") or {}).get("resource") or {}
    arn = str(resource.get("promptArn", ""))
    found = env.prompts.get(arn) or env.prompts.get(arn.rsplit(":", 1)[0])
    if found is None:
        raise FlowFailure(DEPENDENCY_FAILED, f"Prompt '{arn}' of Node {node.name} does not exist.",
                          resource_name=arn, node=node.name)
    return found


async def run_prompt(node: Node, inputs: dict[str, JSON], call: NodeCall) -> dict[str, JSON]:
    """Render the template, call the model (Converse), output ``modelCompletion``."""
    template = _prompt_template(node, call.env)
    request = converse_request(template, inputs)
    model_id = str(request.get("modelId") or "")
    answer = await call.env.call(node.name, model_id, request, what="model", how=MODEL_HOW,
                                 fallback=call.env.model_provider)
    text = _completion_text(answer)
    call.action("bedrock", "Converse", request,
                {"output": {"message": {"role": "assistant", "content": [{"text": text}]}}})
    return {"modelCompletion": text}


async def run_lambda(node: Node, inputs: dict[str, JSON], call: NodeCall) -> dict[str, JSON]:
    """Invoke the function with the flows Lambda event; its return value is ``functionResponse``."""
    arn = str(node.config.get("lambdaArn", ""))
    event = {
        "messageVersion": "1.0",
        "flow": {"flowArn": call.env.flow_arn, "flowAliasArn": call.env.alias_arn},
        "node": {"name": node.name, "inputs": [
            {"name": i.name, "type": i.type, "expression": i.expression, "value": inputs[i.name]} for i in node.inputs]},
    }
    answer = await call.env.call(node.name, arn, event, what="Lambda function",
                                 how="Register a handler for this function ARN in the task registry")
    call.action("lambda", "Invoke", {"functionName": arn, "payload": event}, {"payload": answer})
    return {"functionResponse": answer}


async def run_knowledge_base(node: Node, inputs: dict[str, JSON], call: NodeCall) -> dict[str, JSON]:
    """Retrieve (``retrievalResults``) or RetrieveAndGenerate with a model (``outputText``)."""
    kb_id = str(node.config.get("knowledgeBaseId", ""))
    query = str(inputs.get("retrievalQuery", ""))
    model_id = str(node.config.get("modelId") or "")
    request: dict[str, Any] = {"knowledgeBaseId": kb_id, "retrievalQuery": {"text": query}}
    if model_id:
        request["modelId"] = model_id
    answer: JSON
    if call.env.mocks.has(node.name) or (call.env.registry is not None and call.env.registry.has(kb_id)):
        answer = await call.env.call(node.name, kb_id, request, what="knowledge base", how="")
    elif kb_id in call.env.knowledge_bases:
        from engine.flows.kb import search
        answer = search(call.env.knowledge_bases[kb_id], query, int(node.config.get("numberOfResults") or 5))
        if model_id:
            answer = await _generate(node, call, model_id, query, answer)
    else:
        how = ("Register a handler for this knowledge base id in the task registry, index a local folder with "
               "--knowledge-base ID=DIR,")
        raise FlowFailure(DEPENDENCY_FAILED, not_configured(node.name, kb_id, "knowledge base", how),
                          resource_name=kb_id, node=node.name)
    call.action("bedrock", "RetrieveAndGenerate" if model_id else "Retrieve", request, {"result": answer})
    if model_id:
        return {"outputText": answer if isinstance(answer, str) else _completion_text(answer)}
    return {"retrievalResults": answer}


_DEFAULT_KB_PROMPT = ("Answer the question using only the search results below.\n\n"
                      "Search results:\n$search_results$\n\nQuestion: $query$")


async def _generate(node: Node, call: NodeCall, model_id: str, query: str, results: JSON) -> str:
    """The generation half of RetrieveAndGenerate over local search results."""
    template = ((node.config.get("promptTemplate") or {}).get("textPromptTemplate") or _DEFAULT_KB_PROMPT)
    passages = "\n\n".join(f"[{n}] {r['content']['text']}" for n, r in enumerate(results or [], start=1))
    text = str(template).replace("$search_results$", passages).replace("$query$", query)
    request = {"modelId": model_id, "messages": [{"role": "user", "content": [{"text": text}]}]}
    answer = await call.env.call(node.name, model_id, request, what="model", how=MODEL_HOW,
                                 fallback=call.env.model_provider)
    return _completion_text(answer)


async def run_agent(node: Node, inputs: dict[str, JSON], call: NodeCall) -> dict[str, JSON]:
    """InvokeAgent; a ``{"$inputRequired": question}`` answer pauses the flow (multi-turn)."""
    arn = str(node.config.get("agentAliasArn", ""))
    text = inputs.get("agentInputText")
    if call.resume_input is not None:
        text = call.resume_input.get("agentInputText", text)
    # A registry handler gets this InvokeAgent-like request (sessionId = the flow execution, so a
    # multi-turn conversation keeps one session) and may answer {"$inputRequired": question}.
    request = {"agentAliasArn": arn, "sessionId": call.env.execution_arn, "inputText": text,
               "sessionAttributes": inputs.get("sessionAttributes"), "promptSessionAttributes": inputs.get("promptAttributes")}
    answer = await call.env.call(node.name, arn, request, what="agent",
                                 how="Register a handler for this agent alias ARN in the task registry")
    if isinstance(answer, Mapping) and "$inputRequired" in answer:
        raise InputRequired(thaw(answer["$inputRequired"]))
    call.action("bedrock", "InvokeAgent", request, {"completion": answer})
    return {"agentResponse": answer}


async def run_lex(node: Node, inputs: dict[str, JSON], call: NodeCall) -> dict[str, JSON]:
    """RecognizeText; the answer (or its ``interpretations[0].intent.name``) is ``predictedIntent``."""
    arn = str(node.config.get("botAliasArn", ""))
    request = {"botAliasArn": arn, "localeId": node.config.get("localeId"), "text": inputs.get("inputText"),
               "requestAttributes": inputs.get("requestAttributes"), "sessionState": inputs.get("sessionAttributes")}
    answer = await call.env.call(node.name, arn, request, what="Lex bot",
                                 how="Register a handler for this bot alias ARN in the task registry")
    if isinstance(answer, Mapping):
        answer = (((answer.get("interpretations") or [{}])[0]).get("intent") or {}).get("name", "")
    call.action("lex", "RecognizeText", request, {"predictedIntent": answer})
    return {"predictedIntent": answer}


# ---------------------------------------------------------------- S3 (a local directory)

def _bucket(node: Node, key: str) -> str:
    return str(((node.config.get("serviceConfiguration") or {}).get("s3") or {}).get("bucketName", ""))


def _object_path(node: Node, env: FlowEnv, key: str) -> Path:
    bucket = _bucket(node, key)
    if env.s3_dir is None:
        raise FlowFailure(DEPENDENCY_FAILED,
                          f"No S3 is configured for bucket '{bucket}' (node '{node.name}'). Start statesim with "
                          "--s3-dir DIR to keep buckets in a local directory.", resource_name=bucket, node=node.name)
    root = (env.s3_dir / bucket).resolve()
    path = (root / key).resolve()
    if not key or root not in path.parents:
        raise FlowFailure(VALIDATION, f"Invalid object key '{key}' for Node {node.name}.", node=node.name)
    return path


async def run_storage(node: Node, inputs: dict[str, JSON], call: NodeCall) -> dict[str, JSON]:
    """PutObject into ``--s3-dir``; output ``s3Uri``."""
    key = str(inputs.get("objectKey", ""))
    path = _object_path(node, call.env, key)
    content = inputs.get("content")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content, ensure_ascii=False), encoding="utf-8")
    uri = f"s3://{_bucket(node, key)}/{key}"
    call.action("s3", "PutObject", {"bucket": _bucket(node, key), "key": key}, {"s3Uri": uri})
    return {"s3Uri": uri}


async def run_retrieval(node: Node, inputs: dict[str, JSON], call: NodeCall) -> dict[str, JSON]:
    """GetObject from ``--s3-dir`` (or a mock); output ``s3Content`` (UTF-8 text)."""
    key = str(inputs.get("objectKey", ""))
    if call.env.mocks.has(node.name):
        return {"s3Content": call.env.mocks.next(node.name)}
    path = _object_path(node, call.env, key)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise FlowFailure(DEPENDENCY_FAILED, f"The object 's3://{_bucket(node, key)}/{key}' does not exist.",
                          resource_name=_bucket(node, key), node=node.name) from exc
    except UnicodeDecodeError as exc:
        raise FlowFailure(VALIDATION, f"The object '{key}' is not UTF-8 text.", node=node.name) from exc
    call.action("s3", "GetObject", {"bucket": _bucket(node, key), "key": key}, {"length": len(text)})
    return {"s3Content": text}


HANDLERS: Mapping[str, Handler] = {
    "Output": run_output,
    "InlineCode": run_inline_code,
    "Prompt": run_prompt,
    "LambdaFunction": run_lambda,
    "KnowledgeBase": run_knowledge_base,
    "Agent": run_agent,
    "Lex": run_lex,
    "Storage": run_storage,
    "Retrieval": run_retrieval,
}
"""Node type -> behaviour, for every node that simply maps inputs to outputs."""


def request_id() -> str:
    """A request id for nodeActionTrace."""
    return str(uuid.uuid4())
