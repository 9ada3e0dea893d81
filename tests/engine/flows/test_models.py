"""Model providers: the OpenAI-compatible client over real HTTP to a local chat-completions server."""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from engine.flows import FlowEnv, FlowFailure, FlowRun, parse
from engine.flows.models import from_openai, openai_provider, to_openai
from tests.engine.flows._defs import data, inp, io, out, prompt


class _ChatServer(BaseHTTPRequestHandler):
    """Answers /v1/chat/completions like Ollama does; records each request."""

    seen: list[Any] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _ChatServer.seen.append((self.path, body))
        if body["model"] == "broken":
            self.send_response(500)
            self.end_headers()
            self.wfile.write(b"model crashed")
            return
        answer = {"choices": [{"message": {"role": "assistant", "content": "echo: " + body["messages"][-1]["content"]}}],
                  "usage": {"prompt_tokens": 3, "completion_tokens": 2}}
        raw = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ChatServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_request_and_response_mapping() -> None:
    request = {"modelId": "m", "system": [{"text": "be brief"}], "inferenceConfig": {"temperature": 0.2, "maxTokens": 9},
               "messages": [{"role": "user", "content": [{"text": "hi"}]}]}
    assert to_openai(request) == {"model": "m", "stream": False, "temperature": 0.2, "max_tokens": 9, "messages": [
        {"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]}
    assert from_openai({"choices": [{"message": {"content": "yo"}}]})["output"]["message"]["content"] == [{"text": "yo"}]


def _flow(model: str) -> Any:
    return parse({"nodes": [inp(), prompt("P", "Say {{x}}", [io("x")], model=model), out()],
                  "connections": [data("In", "document", "P", "x"), data("P", "modelCompletion", "Out", "document")]})


async def test_prompt_node_uses_the_endpoint_with_model_map(endpoint: str) -> None:
    events: list[Any] = []
    provider = openai_provider(endpoint, model_map={"*": "llama3.2"})
    await FlowRun(_flow("anthropic.claude-v2"), FlowEnv(model_provider=provider), events.append).start("hi")
    assert events[0]["flowOutputEvent"]["content"]["document"] == "echo: Say hi"
    path, body = _ChatServer.seen[-1]
    assert (path, body["model"]) == ("/v1/chat/completions", "llama3.2")


async def test_endpoint_server_error_is_bad_gateway(endpoint: str) -> None:
    with pytest.raises(FlowFailure) as info:
        await FlowRun(_flow("broken"), FlowEnv(model_provider=openai_provider(endpoint)), lambda e: None).start("hi")
    assert info.value.code == "badGatewayException"
    assert info.value.message == f"The model endpoint {endpoint}/chat/completions answered HTTP 500: model crashed"
