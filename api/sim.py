"""The Sim-compatible workflow API, so the ``simstudio-sdk`` client runs statesim workflows.

The 0.2.x surface (``/api/v2/workflows/{id}/execute`` and ``.../runs/{runId}``), the routes the
0.1.x SDK used (``/api/workflows/{id}/execute``, ``/api/jobs/{taskId}``) and the shared GETs
(workflow status, usage limits). Contract: ``shared/specs/sim-api.md``. Error bodies take the
v2 object shape under ``/api/v2`` and the flat ``{error, code}`` shape elsewhere.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import APIRouter, FastAPI
from sse_starlette import EventSourceResponse
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api.sim_outputs import chunk_text, select, whole
from api.sim_runs import SYNC_TIMEOUT_SECONDS, TERMINAL, Runs, Workflow, duration_ms, iso
from api.sim_settings import API_KEYS_ENV, Limiter, RateLimit, SimSettings, add_serve_arguments, parse_rate_limit

MAX_BODY = 10 * 1024 * 1024
MAX_EXECUTION_TIMEOUT = 604_800
MAX_SELECTED = 100
STREAM_PROTOCOL = "agent-events-v1"
UNLIMITED = 1_000_000
"""What usage limits report for requestsPerMinute when rate limiting is off."""
_RUN_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
MAX_CALL_CHAIN_DEPTH = 10
"""Sim's limit on the ``X-Sim-Via`` chain (``apps/sim/lib/execution/call-chain.ts``): a chain of 10 is refused."""
_V2_BODY_KEYS = ("input", "async", "executionTimeoutSeconds", "stream", "selectedOutputs", "includeThinking",
                 "includeToolCalls", "includeFileBase64", "base64MaxBytes")
_LEGACY_CONTROL = ("selectedOutputs", "triggerType", "stream", "includeFileBase64", "base64MaxBytes",
                   "workflowTriggerType")
_V2_STATUS = {"BAD_REQUEST": 400, "UNAUTHORIZED": 401, "FORBIDDEN": 403, "NOT_FOUND": 404, "CONFLICT": 409,
              "PAYLOAD_TOO_LARGE": 413, "RATE_LIMITED": 429, "INTERNAL_ERROR": 500, "SERVICE_UNAVAILABLE": 503}
_JOB_STATUS = {"queued": "pending", "running": "processing"}
NO_STORE = {"Cache-Control": "private, no-store"}


class SimService:
    """What the Sim routes share: settings, the limiter and the runs."""

    def __init__(self, app: Any, settings: SimSettings) -> None:
        self.settings = settings
        self.limiter = Limiter(settings.rate_limit) if settings.rate_limit else None
        self.runs = Runs(app)


def configure(app: Any, *, api_keys: Iterable[str] = (), rate_limit: str | RateLimit | None = None,
              sync_timeout: float = SYNC_TIMEOUT_SECONDS, env: Mapping[str, str] | None = None) -> SimSettings:
    """Set the Sim API's keys (plus ``$STATESIM_API_KEYS``) and rate limit on ``app``."""
    env = os.environ if env is None else env
    keys = {k.strip() for k in [*api_keys, *env.get(API_KEYS_ENV, "").split(",")] if k.strip()}
    rate = parse_rate_limit(rate_limit) if isinstance(rate_limit, str) else rate_limit
    settings = SimSettings(frozenset(keys), rate, sync_timeout)
    group = _service(app).runs.group if isinstance(getattr(app.state, "sim", None), SimService) else None
    app.state.sim = SimService(app, settings)
    app.state.sim.runs.group = group
    return settings


def configure_from_args(app: Any, args: argparse.Namespace) -> SimSettings:
    """``configure`` with the options ``add_serve_arguments`` added."""
    return configure(app, api_keys=args.api_key, rate_limit=args.sim_rate_limit)


def _service(app: Any) -> SimService:
    service = getattr(app.state, "sim", None)
    if not isinstance(service, SimService):
        configure(app)
        service = app.state.sim
    assert isinstance(service, SimService)
    return service


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Background runs (async, streamed and sync alike) live in this task group."""
    async with anyio.create_task_group() as group:
        _service(app).runs.group = group
        _service(app).runs.recover()
        try:
            yield
        finally:
            _service(app).runs.group = None
            group.cancel_scope.cancel()


router = APIRouter(lifespan=_lifespan)
"""The Sim routes; included by ``api.app.create_app``."""


# ---- error shapes ---------------------------------------------------------------------------

class _Refused(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def v2_error(code: str, message: str, details: Any = None, headers: Mapping[str, str] | None = None) -> Response:
    """``{"error": {"code", "message", "details"?}}`` with Sim's status for ``code``."""
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    extra = dict(NO_STORE, **(headers or {}))
    if code == "UNAUTHORIZED":
        extra["WWW-Authenticate"] = 'SimApiKey realm="Sim API", header="x-api-key"'
    return JSONResponse({"error": body}, status_code=_V2_STATUS[code], headers=extra)


def flat_error(status: int, message: str, code: str | None = "", headers: Mapping[str, str] | None = None) -> Response:
    """``{"error": message, "code": CODE}``; the code defaults to the message upper-cased, spaces -> ``_``."""
    body: dict[str, Any] = {"error": message}
    if code is not None:
        body["code"] = code or re.sub(r"\s+", "_", message.upper())
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


# ---- auth and rate limit ----------------------------------------------------------------------

def _key_problem(request: Request) -> str | None:
    """None when the caller may go on; else ``missing`` or ``invalid``."""
    keys = _service(request.app).settings.api_keys
    given = request.headers.get("x-api-key")
    if not keys:
        return None
    if not given:
        return "missing"
    return None if given in keys else "invalid"


def _caller(request: Request) -> str:
    return request.headers.get("x-api-key") or (request.client.host if request.client else "anonymous")


def _throttle(request: Request, *, legacy: bool) -> None:
    """Raise _Refused(429) when the caller's bucket is empty."""
    service = _service(request.app)
    if service.limiter is None:
        return
    now = service.runs.now()
    allowed, remaining, wait = service.limiter.take(_caller(request), now)
    if allowed:
        return
    retry = max(1, math.ceil(wait))
    # 0.1.x parses X-RateLimit-Reset with int() (epoch seconds); 0.2.x reads Sim's ISO 8601.
    reset = str(math.ceil(now + retry)) if legacy else str(iso(now + retry))
    headers = {"X-RateLimit-Limit": str(service.limiter.rate.limit), "X-RateLimit-Remaining": str(remaining),
               "X-RateLimit-Reset": reset, "Retry-After": str(retry)}
    if legacy:
        raise _Refused(flat_error(429, "Rate limit exceeded", headers=headers))
    raise _Refused(v2_error("RATE_LIMITED", "API rate limit exceeded", {"retryAfter": iso(now + retry)}, headers))


# ---- request bodies ---------------------------------------------------------------------------

async def _json_body(request: Request, *, v2: bool) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise _Refused(v2_error("PAYLOAD_TOO_LARGE", "Request body too large") if v2
                       else flat_error(413, "Request body too large"))
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise _Refused(v2_error("BAD_REQUEST", "Request body must be valid JSON") if v2
                       else flat_error(400, "Request body must be valid JSON")) from None
    if not isinstance(body, dict):
        raise _Refused(v2_error("BAD_REQUEST", "Request body must be a JSON object") if v2
                       else flat_error(400, "Request body must be a JSON object"))
    return body


def _bad(message: str, path: str | None = None) -> _Refused:
    details = [{"path": path, "message": message}] if path else None
    return _Refused(v2_error("BAD_REQUEST", message, details))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_types(body: Mapping[str, Any]) -> None:
    unknown = [k for k in body if k not in _V2_BODY_KEYS]
    if unknown:
        raise _bad("Unrecognized key(s) in object: " + ", ".join(f"'{k}'" for k in unknown))
    if "input" in body and not isinstance(body["input"], dict):
        raise _bad("input must be an object keyed by input field name", "input")
    for name in ("async", "stream", "includeThinking", "includeToolCalls", "includeFileBase64"):
        if name in body and not isinstance(body[name], bool):
            raise _bad(f"{name} must be a boolean", name)
    timeout = body.get("executionTimeoutSeconds")
    if timeout is not None and not (_is_int(timeout) and 1 <= timeout <= MAX_EXECUTION_TIMEOUT):
        raise _bad(f"executionTimeoutSeconds must be an integer between 1 and {MAX_EXECUTION_TIMEOUT}",
                   "executionTimeoutSeconds")
    size = body.get("base64MaxBytes")
    if size is not None and not (_is_int(size) and 1 <= size <= MAX_BODY):
        raise _bad(f"base64MaxBytes must be an integer between 1 and {MAX_BODY}", "base64MaxBytes")
    selected = body.get("selectedOutputs")
    if selected is not None:
        if not isinstance(selected, list) or len(selected) > MAX_SELECTED:
            raise _bad(f"selectedOutputs must be an array of at most {MAX_SELECTED} strings", "selectedOutputs")
        if not all(isinstance(s, str) and s for s in selected):
            raise _bad("selectedOutputs entries must be non-empty strings", "selectedOutputs")


def _check_combinations(body: Mapping[str, Any], request: Request) -> None:
    is_async, stream = body.get("async") is True, body.get("stream") is True
    if is_async and stream:
        raise _bad("async and stream cannot be combined")
    if "executionTimeoutSeconds" in body and not is_async:
        raise _bad("executionTimeoutSeconds is supported only for async executions", "executionTimeoutSeconds")
    if is_async:
        for name in ("selectedOutputs", "includeThinking", "includeToolCalls", "includeFileBase64", "base64MaxBytes"):
            if name in body:
                raise _bad(f"{name} is not supported for async executions", name)
        if not request.headers.get("x-api-key"):
            raise _bad("Async execution requires an API key")
    for name in ("includeThinking", "includeToolCalls"):
        if body.get(name) and (not stream or request.headers.get("x-sim-stream-protocol") != STREAM_PROTOCOL):
            raise _bad(f"{name} requires stream: true and the X-Sim-Stream-Protocol: {STREAM_PROTOCOL} header", name)


def _run_id(request: Request, runs: Runs) -> str | None:
    run_id = request.headers.get("x-run-id")
    if run_id is None:
        return None
    if not _RUN_ID.match(run_id):
        raise _bad("X-Run-Id must match [A-Za-z0-9._:-]{1,128}", "X-Run-Id")
    if runs.exists(run_id):
        raise _Refused(v2_error("CONFLICT", f"Run id {run_id} was already used", {"code": "RUN_ID_CONFLICT"}))
    return run_id


def call_chain(request: Request) -> list[str]:
    """The ``X-Sim-Via`` header as workflow ids: comma-separated, each trimmed, empty entries dropped."""
    return [part.strip() for part in (request.headers.get("x-sim-via") or "").split(",") if part.strip()]


def _check_call_chain(request: Request, *, v2: bool) -> None:
    """Refuse (409) a call chain already at the depth limit: v2 ``CONFLICT`` + ``CALL_CHAIN_DEPTH_EXCEEDED``."""
    if len(call_chain(request)) < MAX_CALL_CHAIN_DEPTH:
        return
    message = f"Maximum workflow call chain depth ({MAX_CALL_CHAIN_DEPTH}) exceeded."
    raise _Refused(v2_error("CONFLICT", message, {"code": "CALL_CHAIN_DEPTH_EXCEEDED"}) if v2
                   else flat_error(409, message, code=None))


# ---- output selection and views ---------------------------------------------------------------

def _error_view(error: Any) -> Any:
    return None if error is None else dict(error)


def _run_result(record: Mapping[str, Any]) -> dict[str, Any]:
    return {"runId": record["runId"], "workflowId": record["workflowId"], "status": record["status"],
            "output": record.get("output"), "error": _error_view(record.get("error")),
            "startedAt": iso(record.get("startedAt") or record["createdAt"]), "endedAt": iso(record.get("endedAt")),
            "durationMs": duration_ms(record)}


def _run_status(record: Mapping[str, Any], include_output: bool, selectors: list[str]) -> dict[str, Any]:
    blocks: dict[str, Any] | None = None
    if selectors:
        blocks = {}
        for block, value in (record.get("blockOutputs") or {}).items():  # a running run's: see Runs.get
            blocks.update(select(selectors, block, value, record["kind"]))
    output = record.get("output") if include_output and record["status"] == "completed" else None
    return {"runId": record["runId"], "workflowId": record["workflowId"], "status": record["status"],
            "trigger": record.get("trigger", "api"), "startedAt": iso(record.get("startedAt") or record["createdAt"]),
            "endedAt": iso(record.get("endedAt")), "durationMs": duration_ms(record), "paused": None, "cost": None,
            "error": _error_view(record.get("error")), "output": output, "blockOutputs": blocks}


# ---- streaming ---------------------------------------------------------------------------------

def _stream(runs: Runs, record: dict[str, Any], selectors: list[str]) -> EventSourceResponse:
    """One ``{blockId, chunk}`` frame per state/node output, one final or error frame, then [DONE]."""
    send, receive = anyio.create_memory_object_stream[tuple[str, Any]](math.inf)

    def sink(block: str, value: Any) -> None:
        try:
            send.send_nowait((block, value))
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            pass  # the client went away; the run goes on

    runs.start(record, sink, send.close)
    headers = {"Cache-Control": "no-cache", "Connection": "keep-alive", "X-Accel-Buffering": "no"}
    return EventSourceResponse(_frames(runs, record, selectors, receive), headers=headers)


async def _frames(runs: Runs, record: dict[str, Any], selectors: list[str],
                  receive: Any) -> AsyncIterator[dict[str, str]]:
    produced = False
    async with receive:
        async for block, value in receive:
            picked = select(selectors, block, value, record["kind"]) if selectors else \
                [(block, whole(record["kind"], value))]
            for _selector, chosen in picked:
                chunk = ("\n\n" if produced else "") + chunk_text(chosen)
                produced = True
                yield {"data": json.dumps({"blockId": block, "chunk": chunk}, ensure_ascii=False)}
    final = await runs.wait(record["runId"]) or record
    if final["status"] == "completed":
        frame: dict[str, Any] = {"event": "final", "data": {"success": True, "output": final.get("output")}}
    else:
        error = final.get("error") or {}
        frame = {"event": "error", "error": error.get("message", "Workflow execution failed")}
        if error.get("blockId"):
            frame["blockId"] = error["blockId"]
    yield {"data": json.dumps(frame, ensure_ascii=False)}
    yield {"data": "[DONE]"}


# ---- routes: 0.2.x ------------------------------------------------------------------------------

def _workflow(request: Request, workflow_id: str, *, v2: bool, require_deployed: bool = True) -> Workflow:
    found = _service(request.app).runs.resolve(workflow_id)
    if found is None:
        raise _Refused(v2_error("NOT_FOUND", "Workflow not found") if v2 else flat_error(404, "Workflow not found"))
    if require_deployed and not found.deployed:
        raise _Refused(v2_error("FORBIDDEN", "Workflow is not deployed") if v2
                       else flat_error(403, "Workflow is not deployed"))
    return found


def _v2_auth(request: Request) -> None:
    problem = _key_problem(request)
    if problem is not None:
        raise _Refused(v2_error("UNAUTHORIZED", "Unauthorized" if problem == "missing" else "Invalid API key"))


@router.post("/api/v2/workflows/{workflow_id:path}/execute", include_in_schema=False)
async def execute_v2(request: Request, workflow_id: str) -> Response:
    """Run a workflow: 200 with the finished run, 202 queued (async), or SSE (stream)."""
    try:
        _v2_auth(request)
        _check_call_chain(request, v2=True)
        runs = _service(request.app).runs
        workflow = _workflow(request, workflow_id, v2=True)
        body = await _json_body(request, v2=True)
        _check_types(body)
        _check_combinations(body, request)
        run_id = _run_id(request, runs)
        _throttle(request, legacy=False)
    except _Refused as refused:
        return refused.response
    payload = body.get("input") or {}
    if body.get("async"):
        record = runs.new(workflow, payload, run_id=run_id,
                          timeout=body.get("executionTimeoutSeconds") or MAX_EXECUTION_TIMEOUT)
        runs.start(record)
        url = str(request.base_url).rstrip("/") + f"/api/v2/workflows/{workflow_id}/runs/{record['runId']}"
        return JSONResponse({"data": {"runId": record["runId"], "statusUrl": url}}, status_code=202,
                            headers={**NO_STORE, "X-Run-Id": record["runId"]})
    record = runs.new(workflow, payload, run_id=run_id, timeout=_service(request.app).settings.sync_timeout)
    if body.get("stream"):
        return _stream(runs, record, list(body.get("selectedOutputs") or []))
    runs.start(record)
    final = await runs.wait(record["runId"]) or record
    return JSONResponse({"data": _run_result(final)}, headers={**NO_STORE, "X-Run-Id": record["runId"]})


@router.get("/api/v2/workflows/{workflow_id:path}/runs/{run_id}", include_in_schema=False)
async def get_workflow_run(request: Request, workflow_id: str, run_id: str) -> Response:
    """A run's status; its output with includeOutput=true once completed; selected block outputs."""
    try:
        _v2_auth(request)
        include, selectors = _run_query(request)
        workflow = _workflow(request, workflow_id, v2=True, require_deployed=False)
    except _Refused as refused:
        return refused.response
    record = _service(request.app).runs.get(run_id)
    if record is None or record["workflowArn"] != workflow.arn:
        return v2_error("NOT_FOUND", "Workflow run not found")
    return JSONResponse({"data": _run_status(record, include, selectors)}, headers=NO_STORE)


def _run_query(request: Request) -> tuple[bool, list[str]]:
    query = request.query_params
    unknown = [k for k in query if k not in ("includeOutput", "selectedOutputs")]
    if unknown:
        raise _bad("Unrecognized key(s) in object: " + ", ".join(f"'{k}'" for k in unknown))
    include = query.get("includeOutput", "false")
    if include not in ("true", "false"):
        raise _bad("includeOutput must be true or false", "includeOutput")
    selectors = [s.strip() for s in query.get("selectedOutputs", "").split(",") if s.strip()]
    return include == "true", selectors


# ---- routes: shared GETs and 0.1.x --------------------------------------------------------------

@router.get("/api/workflows/{workflow_id:path}/status", include_in_schema=False)
async def get_workflow_status(request: Request, workflow_id: str) -> Response:
    """Deployment status: every state machine is deployed; a flow once prepared."""
    if _key_problem(request) is not None:
        return flat_error(401, "Unauthorized", code=None)
    workflow = _service(request.app).runs.resolve(workflow_id)
    if workflow is None:
        return flat_error(404, "Workflow not found")
    return JSONResponse({"isDeployed": workflow.deployed, "deployedAt": iso(workflow.deployed_at),
                         "isPublished": False, "needsRedeployment": workflow.needs_redeployment})


def _flat_auth(request: Request) -> None:
    if _key_problem(request) is not None:
        raise _Refused(flat_error(401, "Authentication required"))


@router.get("/api/users/me/usage-limits", include_in_schema=False)
async def get_usage_limits(request: Request) -> Response:
    """Rate-limit buckets (the configured limit, or effectively unlimited) and a zero-cost usage."""
    try:
        _flat_auth(request)
    except _Refused as refused:
        return refused.response
    service = _service(request.app)
    now = service.runs.now()
    if service.limiter is None:
        bucket = {"isLimited": False, "requestsPerMinute": UNLIMITED, "maxBurst": UNLIMITED,
                  "remaining": UNLIMITED, "resetAt": iso(now + 60)}
    else:
        remaining, full = service.limiter.peek(_caller(request), now)
        rate = service.limiter.rate
        bucket = {"isLimited": remaining < 1, "requestsPerMinute": rate.per_minute, "maxBurst": rate.limit,
                  "remaining": remaining, "resetAt": iso(now + full)}
    auth = "api" if request.headers.get("x-api-key") else "manual"
    return JSONResponse({
        "success": True, "rateLimit": {"sync": dict(bucket), "async": dict(bucket), "authType": auth},
        "usage": {"currentPeriodCost": 0, "limit": UNLIMITED, "plan": "enterprise"},
        "storage": {"usedBytes": 0, "limitBytes": UNLIMITED * 1024 * 1024, "percentUsed": 0}})


@router.get("/api/jobs/{task_id}", include_in_schema=False)
async def get_job_status(request: Request, task_id: str) -> Response:
    """A run seen as a legacy job: pending / processing / completed / failed / cancelled."""
    try:
        _flat_auth(request)
    except _Refused as refused:
        return refused.response
    record = _service(request.app).runs.get(task_id)
    if record is None:
        return flat_error(404, "Task not found")
    return JSONResponse(_job(record))


def _job(record: Mapping[str, Any]) -> dict[str, Any]:
    status = _JOB_STATUS.get(record["status"], record["status"])
    started = record.get("startedAt")
    metadata: dict[str, Any] = {"workflowId": record["workflowId"], "createdAt": iso(record["createdAt"]),
                                "startedAt": iso(started), "completedAt": iso(record.get("endedAt")),
                                "duration": duration_ms(record)}
    job: dict[str, Any] = {"success": True, "taskId": record["runId"], "status": status, "metadata": metadata}
    if record["status"] == "completed":
        job["output"] = record.get("output")
    if record.get("error"):
        job["error"] = record["error"]["message"]
    return job


@router.post("/api/workflows/{workflow_id:path}/execute", include_in_schema=False)
async def execute_legacy(request: Request, workflow_id: str) -> Response:
    """The 0.1.x execute: the body is the input; ``X-Execution-Mode: async`` queues a job."""
    try:
        _check_call_chain(request, v2=False)  # Sim's legacy route checks the chain before auth
        if _key_problem(request) is not None:
            raise _Refused(flat_error(401, "Unauthorized"))
        runs = _service(request.app).runs
        workflow = _workflow(request, workflow_id, v2=False)
        body = await _json_body(request, v2=False)
        _throttle(request, legacy=True)
    except _Refused as refused:
        return refused.response
    payload = {k: v for k, v in body.items() if k not in _LEGACY_CONTROL}
    stream = body.get("stream") is True or request.headers.get("x-stream-response") == "true"
    if request.headers.get("x-execution-mode") == "async" and not stream:
        record = runs.new(workflow, payload, legacy=True, timeout=MAX_EXECUTION_TIMEOUT)
        runs.start(record)
        url = str(request.base_url).rstrip("/") + f"/api/jobs/{record['runId']}"
        return JSONResponse({"success": True, "async": True, "taskId": record["runId"], "jobId": record["runId"],
                             "executionId": record["runId"], "status": "queued", "createdAt": iso(record["createdAt"]),
                             "message": "Workflow execution queued", "statusUrl": url, "links": {"status": url}},
                            status_code=202)
    record = runs.new(workflow, payload, legacy=True, timeout=_service(request.app).settings.sync_timeout)
    if stream:
        selected = body.get("selectedOutputs")
        return _stream(runs, record, [s for s in selected if isinstance(s, str)] if isinstance(selected, list) else [])
    runs.start(record)
    final = await runs.wait(record["runId"]) or record
    if (final.get("error") or {}).get("code") == "TIMEOUT":
        return JSONResponse({"success": False, "error": final["error"]["message"]}, status_code=408)
    return JSONResponse(_legacy_result(final))


def _legacy_result(record: Mapping[str, Any]) -> dict[str, Any]:
    error = record.get("error")
    return {"success": record["status"] == "completed", "executionId": record["runId"],
            "output": record.get("output"), "error": error["message"] if error else None, "logs": [],
            "metadata": {"duration": duration_ms(record), "startTime": iso(record.get("startedAt")),
                         "endTime": iso(record.get("endedAt"))},
            "traceSpans": [], "totalDuration": duration_ms(record)}


__all__ = ["RateLimit", "SimSettings", "TERMINAL", "add_serve_arguments", "configure", "configure_from_args",
           "parse_rate_limit", "router"]
