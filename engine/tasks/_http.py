"""``arn:aws:states:::http:invoke``: call any HTTP(S) API with httpx.

Arguments as AWS defines them (ApiEndpoint, Method, Headers, QueryParameters, RequestBody,
Transform.RequestBodyEncoding); the result is ``{Headers, ResponseBody, StatusCode, StatusText}``.
A non-2xx answer fails the task with ``States.Http.StatusCode.<code>``.
"""
from __future__ import annotations

import json
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from engine.errors import ErrorName, StatesError
from engine.tasks.registry import TaskContext
from engine.types import JSON

if TYPE_CHECKING:
    from engine.tasks.builtin import Integrations

TIMEOUT_SECONDS = 60.0


def _body(params: dict[str, Any], headers: dict[str, str]) -> bytes | None:
    body = params.get("RequestBody")
    if body is None:
        return None
    transform = params.get("Transform") or {}
    if transform.get("RequestBodyEncoding") == "URL_ENCODED" and isinstance(body, dict):
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        return urlencode({k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}).encode()
    if isinstance(body, str):
        return body.encode()
    headers.setdefault("Content-Type", "application/json")
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def _status_text(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return ""


async def invoke(integrations: Integrations, resource: str, payload: JSON, ctx: TaskContext) -> JSON:
    import httpx

    params = payload if isinstance(payload, dict) else {}
    url, method = params.get("ApiEndpoint"), params.get("Method")
    if not isinstance(url, str) or not isinstance(method, str):
        raise StatesError(ErrorName.RUNTIME, "The http:invoke task needs the fields 'ApiEndpoint' and 'Method'.")
    headers = {str(k): str(v) for k, v in (params.get("Headers") or {}).items()}
    content = _body(params, headers)
    query = {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in (params.get("QueryParameters") or {}).items()}
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as client:
            response = await client.request(method.upper(), url, params=query or None, headers=headers, content=content)
    except httpx.HTTPError as exc:
        raise StatesError("States.Http.Socket", f"{type(exc).__name__}: {exc}") from None
    text = response.text
    try:
        body: JSON = response.json() if text else ""
    except ValueError:
        body = text
    result = {"Headers": {k: response.headers.get_list(k) for k in response.headers.keys()},
              "ResponseBody": body, "StatusCode": response.status_code,
              "StatusText": response.reason_phrase or _status_text(response.status_code)}
    if not 200 <= response.status_code < 300:
        raise StatesError(f"States.Http.StatusCode.{response.status_code}",
                          json.dumps(result, separators=(",", ":"), ensure_ascii=False))
    return result
