"""Model providers for Prompt nodes: an OpenAI-compatible endpoint, or real Bedrock (boto3).

Both take the Converse request a prompt renders to and answer in Converse's response shape,
so the rest of the engine sees one format. Used only when neither a mock nor a registry
handler answers the model id.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio.to_thread

from engine.flows.services import DEPENDENCY_FAILED, FlowFailure
from engine.types import JSON

ModelProvider = Callable[[Mapping[str, Any]], Awaitable[JSON]]
"""``async provider(converse_request) -> converse_response``."""

_INFERENCE = {"temperature": "temperature", "topP": "top_p", "maxTokens": "max_tokens", "stopSequences": "stop"}


def _text(content: Any) -> str:
    return "".join(c.get("text", "") for c in content or () if isinstance(c, Mapping))


def to_openai(request: Mapping[str, Any]) -> dict[str, Any]:
    """A chat-completions request for a Converse request."""
    messages = [{"role": "system", "content": _text(request.get("system"))}] if request.get("system") else []
    messages += [{"role": m.get("role", "user"), "content": _text(m.get("content"))} for m in request.get("messages", [])]
    body: dict[str, Any] = {"model": request.get("modelId", ""), "messages": messages, "stream": False}
    for ours, theirs in _INFERENCE.items():
        if ours in (request.get("inferenceConfig") or {}):
            body[theirs] = request["inferenceConfig"][ours]
    return body


def from_openai(answer: Mapping[str, Any]) -> dict[str, Any]:
    """Converse's response shape for a chat-completions answer."""
    text = answer["choices"][0]["message"]["content"] or ""
    usage = answer.get("usage") or {}
    return {"output": {"message": {"role": "assistant", "content": [{"text": text}]}},
            "stopReason": "end_turn",
            "usage": {"inputTokens": usage.get("prompt_tokens", 0), "outputTokens": usage.get("completion_tokens", 0)}}


def openai_provider(endpoint: str, *, api_key: str | None = None, timeout: float = 300.0,
                    model_map: Mapping[str, str] | None = None) -> ModelProvider:
    """A provider posting to ``<endpoint>/chat/completions`` (e.g. Ollama's ``http://localhost:11434/v1``).

    ``model_map`` renames Bedrock model ids to the endpoint's model names (``*`` = every id).
    """
    url = endpoint.rstrip("/") + "/chat/completions"
    renames = dict(model_map or {})

    def post(request: Mapping[str, Any]) -> JSON:
        body = to_openai(request)
        body["model"] = renames.get(body["model"], renames.get("*", body["model"]))
        headers = {"Content-Type": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        http = urllib.request.Request(url, json.dumps(body).encode(), headers, method="POST")
        try:
            with urllib.request.urlopen(http, timeout=timeout) as response:
                return from_openai(json.loads(response.read()))
        except urllib.error.HTTPError as exc:
            code = "badGatewayException" if exc.code >= 500 else DEPENDENCY_FAILED
            detail = exc.read().decode(errors="replace")[:500]
            raise FlowFailure(code, f"The model endpoint {url} answered HTTP {exc.code}: {detail}",
                              resource_name=str(request.get("modelId"))) from exc
        except (urllib.error.URLError, OSError, ValueError, KeyError, IndexError) as exc:
            raise FlowFailure(DEPENDENCY_FAILED, f"The model endpoint {url} failed: {exc}",
                              resource_name=str(request.get("modelId"))) from exc

    async def provider(request: Mapping[str, Any]) -> JSON:
        return await anyio.to_thread.run_sync(post, request)

    return provider


def bedrock_provider(client: Any) -> ModelProvider:
    """A provider calling real Bedrock's Converse with a boto3 ``bedrock-runtime`` client."""
    async def provider(request: Mapping[str, Any]) -> JSON:
        def converse() -> JSON:
            try:
                answer = client.converse(**dict(request))
            except Exception as exc:  # botocore ClientError / connection errors, reported on the node
                raise FlowFailure(DEPENDENCY_FAILED, f"Bedrock Converse failed: {exc}",
                                  resource_name=str(request.get("modelId"))) from exc
            answer.pop("ResponseMetadata", None)
            return answer
        return await anyio.to_thread.run_sync(converse)
    return provider
