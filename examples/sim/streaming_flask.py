"""Streaming: a Flask app that proxies a workflow's server-sent events to its own clients.

    statesim serve --in-memory && python examples/sim/deploy.py
    python examples/sim/streaming_flask.py      # then: curl -N 'http://127.0.0.1:5000/stream?name=Ada'

The Python SDK reads whole JSON responses, so the stream is read with requests directly.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterator

import requests
from flask import Flask, Response, request, stream_with_context


def create_app(base_url: str | None = None, api_key: str | None = None) -> Flask:
    base_url = (base_url or os.getenv("SIM_BASE_URL", "http://127.0.0.1:8083")).rstrip("/")
    api_key = api_key or os.getenv("SIM_API_KEY", "local-dev-key")
    app = Flask(__name__)

    @app.get("/stream")
    def stream() -> Response:
        body: dict[str, object] = {"input": {"name": request.args.get("name", "world")}, "stream": True}
        selected = request.args.get("selectedOutputs")
        if selected:
            body["selectedOutputs"] = selected.split(",")

        def relay() -> Iterator[str]:
            with requests.post(f"{base_url}/api/v2/workflows/{request.args.get('workflow', 'sim-greeter')}/execute",
                               json=body, headers={"X-API-Key": api_key}, stream=True, timeout=60) as upstream:
                if upstream.status_code != 200:
                    yield f"data: {json.dumps({'event': 'error', 'error': upstream.text})}\n\n"
                    return
                for line in upstream.iter_lines(decode_unicode=True):
                    if line.startswith("data:"):
                        yield line + "\n\n"

        return Response(stream_with_context(relay()), mimetype="text/event-stream",
                        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    return app


if __name__ == "__main__":
    create_app().run(port=int(os.getenv("PORT", "5000")), threaded=True)
