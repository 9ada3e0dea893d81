"""bedrock-agent-runtime (REST-JSON + event stream): InvokeFlow and the async flow executions.

InvokeFlow answers ``application/vnd.amazon.eventstream`` with the flow's events; failures
during the run are ``exception`` messages inside the stream, problems known before the run
are HTTP errors (spec §2.10). Multi-turn sessions are kept by execution id. ``router`` serves
this service and bedrock-agent on one catch-all route (see ``api.bedrock_agent.dispatch``).
"""
from __future__ import annotations

import functools
import json
import logging
import math
import re
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import anyio
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from api import eventstream
from api.bedrock_agent import ROUTES as AGENT_ROUTES
from api.bedrock_agent import Call, FlowService, RestError, Route, dispatch, page, reply, require
from engine.flows import FlowEnv, FlowFailure, FlowRun, MockBook, parse
from engine.flows.resources import Record
from engine.flows.scheduler import Event

log = logging.getLogger("statesim.flows")
_EXECUTION_ID = re.compile(r"^[0-9a-zA-Z._:-]{2,100}$")
_EXECUTION_NAME = re.compile(r"^[a-zA-Z0-9-]{1,36}$")
EXECUTION_ID_HEADER = "x-amz-bedrock-flow-execution-id"
MAX_SESSIONS = 10_000
"""Paused multi-turn executions kept in memory (AWS expires them; statesim drops the oldest)."""


@dataclass(slots=True)
class Session:
    """A paused InvokeFlow execution waiting for user input."""

    run: FlowRun
    flow_id: str
    alias_id: str


def _env(service: FlowService, flow: Mapping[str, Any], alias: Mapping[str, Any], execution_arn: str) -> FlowEnv:
    return FlowEnv(registry=service.registry, mocks=MockBook(service.mocks.get(str(flow.get("name")), {})),
                   s3_dir=service.s3_dir, knowledge_bases=service.knowledge_bases,
                   prompts=service.store.prompt_templates(), flow_arn=str(flow["arn"]), alias_arn=str(alias["arn"]),
                   execution_arn=execution_arn, inline_timeout=service.inline_timeout,
                   model_provider=service.model_provider, exit_when_true=service.exit_when_true)


def _single_input(body: Mapping[str, Any]) -> Mapping[str, Any]:
    require(body, "inputs")
    inputs = body["inputs"]
    if not isinstance(inputs, list) or len(inputs) != 1 or not isinstance(inputs[0], Mapping):
        raise RestError("ValidationException", "1 validation error detected: Value at 'inputs' failed to satisfy "
                                               "constraint: Member must have length less than or equal to 1")
    item = inputs[0]
    if not isinstance(item.get("content"), Mapping) or "document" not in item["content"]:
        raise RestError("ValidationException", "1 validation error detected: Value null at 'inputs.1.member.content' "
                                               "failed to satisfy constraint: Member must not be null")
    return item


def _check_start_input(definition: Mapping[str, Any], item: Mapping[str, Any]) -> None:
    node = parse(definition).input_node
    name = item.get("nodeName")
    if node is None or name != node.name:
        raise RestError("ValidationException", f"The input node {name} does not exist in the flow.")
    if item.get("nodeOutputName", "document") != "document":
        raise RestError("ValidationException", f"The output {item.get('nodeOutputName')} does not exist on input "
                                               f"node {name}.")


async def _turn(run: FlowRun, item: Mapping[str, Any], resume: bool) -> None:
    content = item["content"]["document"]
    if resume:
        await run.resume(str(item.get("nodeName")), str(item.get("nodeInputName")), content)
    else:
        await run.start(content)


def _encode(events: list[Event]) -> bytes:
    return b"".join(eventstream.event(kind, body) for e in events for kind, body in e.items())


async def invoke_flow(call: Call) -> Response:
    """InvokeFlow: run (or resume) the flow and answer its event stream."""
    item = _single_input(call.body)
    execution_id = call.body.get("executionId")
    if execution_id is not None and not _EXECUTION_ID.match(str(execution_id)):
        raise RestError("ValidationException", f"1 validation error detected: Value '{execution_id}' at "
                                               "'executionId' failed to satisfy constraint: Member must satisfy "
                                               "regular expression pattern: [0-9a-zA-Z._:-]+")
    store = call.service.store
    flow, alias, _version, definition = store.resolve(call.labels["flow"], call.labels["alias"])
    resume = item.get("nodeInputName") is not None
    if not resume:
        _check_start_input(definition, item)
    session = call.service.sessions.get(str(execution_id)) if resume and execution_id else None
    if session is not None and session.flow_id != flow["id"]:
        session = None
    execution_id = str(execution_id or uuid.uuid4())
    trace = bool(call.body.get("enableTrace"))
    if session is None and not resume:
        run = FlowRun(parse(definition, name=str(flow["name"])), _env(call.service, flow, alias, execution_id),
                      lambda event: None, trace=trace)
        session = Session(run, str(flow["id"]), str(alias["id"]))
    body = _stream(call.service, execution_id, session, item, trace)
    return StreamingResponse(body, media_type=eventstream.CONTENT_TYPE,
                             headers={EXECUTION_ID_HEADER: execution_id, "x-amzn-RequestId": str(uuid.uuid4())})


async def _stream(service: FlowService, execution_id: str, session: Session | None, item: Mapping[str, Any],
                  trace: bool) -> AsyncIterator[bytes]:
    """The encoded stream, message by message, as the flow runs (an exception message ends it)."""
    if session is None:
        yield eventstream.exception("validationException", {
            "message": f"Error retrieving session context: no paused execution {execution_id} of this flow is "
                       "waiting for input."})
        return
    send, receive = anyio.create_memory_object_stream[bytes](math.inf)

    async def produce() -> None:
        async with send:
            session.run.emit = lambda event: send.send_nowait(_encode([event]))
            session.run.trace = trace
            failure = await _guarded(session.run, item, item.get("nodeInputName") is not None)
            if failure is None and session.run.waiting:
                service.sessions.pop(execution_id, None)
                service.sessions[execution_id] = session
                while len(service.sessions) > MAX_SESSIONS:  # the oldest paused conversation goes first
                    service.sessions.pop(next(iter(service.sessions)))
            else:
                service.sessions.pop(execution_id, None)
            if failure is not None:
                send.send_nowait(eventstream.exception(failure.code, failure.payload()))

    async with anyio.create_task_group() as group, receive:
        group.start_soon(produce)
        async for chunk in receive:
            yield chunk


async def _guarded(run: FlowRun, item: Mapping[str, Any], resume: bool) -> FlowFailure | None:
    try:
        await _turn(run, item, resume)
    except FlowFailure as failure:
        return failure
    except Exception:  # an emulator bug: AWS would send internalServerException in the stream
        log.exception("flow run failed")
        return FlowFailure("internalServerException", "statesim hit an internal error running this flow; "
                                                      "see the server log.")
    return None


# ---------------------------------------------------------------- asynchronous executions

def _now() -> datetime:
    return datetime.now(timezone.utc)


_NODE_ERRORS = {"validationException": "VALIDATION", "dependencyFailedException": "DEPENDENCY_FAILED",
                "badGatewayException": "BAD_GATEWAY"}


def execution_events(trace: list[Event]) -> list[dict[str, Any]]:
    """ListFlowExecutionEvents items from the run's trace stream (spec §1.5)."""
    items: list[dict[str, Any]] = []
    for event in trace:
        for kind, body in event.items():
            items.extend(_execution_event(kind, body))
    return items


def _fields(fields: list[dict[str, Any]], name_key: str) -> list[dict[str, Any]]:
    return [{"name": f[name_key], **{k: v for k, v in f.items() if k != name_key}} for f in fields]


def _execution_event(kind: str, body: Mapping[str, Any]) -> list[dict[str, Any]]:
    if kind == "flowOutputEvent":
        return [{"flowOutputEvent": {"nodeName": body["nodeName"], "timestamp": _now(),
                                     "fields": [{"name": "document", "content": body["content"]}]}}]
    if kind != "flowTraceEvent":
        return []
    [(trace_kind, trace)] = body["trace"].items()
    if trace_kind == "nodeInputTrace":
        return [{"nodeInputEvent": {**trace, "fields": _fields(trace["fields"], "nodeInputName")}}]
    if trace_kind == "nodeOutputTrace":
        return [{"nodeOutputEvent": {**trace, "fields": _fields(trace["fields"], "nodeOutputName")}}]
    if trace_kind == "conditionNodeResultTrace":
        return [{"conditionResultEvent": trace}]
    if trace_kind == "nodeActionTrace":
        return [{"nodeActionEvent": trace}]
    return []


def _type_only(value: Any) -> Any:
    """Trace field types are upper case; the execution events use the model enum (String...)."""
    return value.capitalize() if isinstance(value, str) and value.isupper() else value


def _normalise(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for item in items:
        for body in item.values():
            for f in body.get("fields", []):
                if "type" in f:
                    f["type"] = _type_only(f["type"])
    return items


async def start_flow_execution(call: Call) -> Response:
    """StartFlowExecution: answers at once; the run goes on in the shared runtime's task group."""
    item = _single_input(call.body)
    name = call.body.get("flowExecutionName") or str(uuid.uuid4())
    if not _EXECUTION_NAME.match(name):
        raise RestError("ValidationException", f"1 validation error detected: Value '{name}' at 'flowExecutionName' "
                                               "failed to satisfy constraint: Member must satisfy regular expression "
                                               "pattern: [a-zA-Z0-9-]{1,36}")
    service = call.service
    flow, alias, version, definition = service.store.resolve(call.labels["flow"], call.labels["alias"])
    _check_start_input(definition, item)
    arn = f"{alias['arn']}/execution/{name}"
    if service.store.get_execution(arn) is not None:
        raise RestError("ConflictException", f"An execution named {name} already exists for this alias.")
    started = _now()
    record: Record = {"executionArn": arn, "flowAliasIdentifier": alias["arn"], "flowIdentifier": flow["arn"],
                      "flowVersion": version, "startedAt": started, "createdAt": started, "status": "Running",
                      "definition": definition, "executionRoleArn": flow.get("executionRoleArn"),
                      "customerEncryptionKeyArn": flow.get("customerEncryptionKeyArn"), "errors": None}
    run = FlowRun(parse(definition, name=str(flow["name"])), _env(service, flow, alias, arn), lambda e: None,
                  trace=True)
    service.runtime.spawn(arn, functools.partial(_execute, service, record, run, item, service.execution_timeout))
    service.store.put_execution(record, [{"flowInputEvent": {
        "nodeName": item.get("nodeName"), "timestamp": started,
        "fields": [{"name": "document", "content": item["content"]}]}}])
    return reply({"executionArn": arn})


async def _execute(service: FlowService, record: Record, run: FlowRun, item: Mapping[str, Any],
                   limit: float) -> None:
    """Run an async execution to its end (TimedOut after ``limit`` seconds); its events are stored as they happen.

    StopFlowExecution records Aborted and cancels this task (``Runtime.cancel``); a server
    shutdown cancels it too and leaves it Running, to be ended by the next start
    (``FlowStore.end_interrupted``).
    """
    arn = record["executionArn"]
    run.emit = lambda event: service.store.append_execution_events(arn, _normalise(execution_events([event])))
    failure: FlowFailure | None = None
    with anyio.move_on_after(limit) as deadline:
        failure = await _guarded(run, item, resume=False)
    current = service.store.get_execution(arn)
    if current is None or current["status"] != "Running":  # stopped as it ended
        return
    if deadline.cancelled_caught:
        record.update(status="TimedOut", endedAt=_now(), errors=[{
            "error": "ExecutionTimedOut",
            "message": f"The flow execution did not finish within {limit:g} seconds."}])
        service.store.put_execution(record)
        return
    service.store.put_execution(record, _close(record, failure, run))


def _close(record: Record, failure: FlowFailure | None, run: FlowRun) -> list[dict[str, Any]]:
    """Finish ``record``; returns its closing ListFlowExecutionEvents items."""
    events: list[dict[str, Any]] = []
    ended = _now()
    if failure is not None:
        if failure.node:
            events.append({"nodeFailureEvent": {"nodeName": failure.node, "timestamp": ended,
                                                "errorCode": _NODE_ERRORS.get(failure.code, "INTERNAL_SERVER"),
                                                "errorMessage": failure.message}})
        code = "NODE_EXECUTION_FAILED" if failure.node else \
            "INTERNAL_SERVER" if failure.code == "internalServerException" else "VALIDATION"
        events.append({"flowFailureEvent": {"timestamp": ended, "errorCode": code, "errorMessage": failure.message}})
        record["errors"] = [{"message": failure.message, "nodeName": failure.node}]
    record.update(endedAt=ended, status="Failed" if failure or run.waiting else "Succeeded")
    return events


def _execution(call: Call) -> Record:
    store = call.service.store
    _flow, alias, _version, _definition = store.resolve(call.labels["flow"], call.labels["alias"])
    identifier = call.labels["execution"]
    arn = identifier if identifier.startswith("arn:") else f"{alias['arn']}/execution/{identifier}"
    record = call.service.store.get_execution(arn)
    if record is None:
        raise RestError("ResourceNotFoundException", f"Flow execution {identifier} not found.")
    return record


_EXECUTION_KEYS = ("endedAt", "errors", "executionArn", "flowAliasIdentifier", "flowIdentifier", "flowVersion",
                   "startedAt", "status")


async def get_flow_execution(call: Call) -> Response:
    record = _execution(call)
    return reply({k: record.get(k) for k in _EXECUTION_KEYS})


async def list_flow_executions(call: Call) -> Response:
    flow = call.service.store.get_flow(call.labels["flow"])
    alias_filter = call.arg("flowAliasIdentifier")
    found = [r for r in call.service.store.list_executions(flow["arn"])
             if (alias_filter is None or r["flowAliasIdentifier"].endswith(f"/alias/{alias_filter.rsplit('/', 1)[-1]}"))]
    keys = ("createdAt", "endedAt", "executionArn", "flowAliasIdentifier", "flowIdentifier", "flowVersion", "status")
    found.sort(key=lambda r: r["startedAt"], reverse=True)
    return page(call, found, "flowExecutionSummaries", lambda r: {k: r.get(k) for k in keys})


_FLOW_EVENTS = ("flowInputEvent", "flowOutputEvent", "flowFailureEvent")


async def list_flow_execution_events(call: Call) -> Response:
    record = _execution(call)
    kind = call.arg("eventType")
    if kind not in ("Node", "Flow"):
        raise RestError("ValidationException", f"1 validation error detected: Value '{kind}' at 'eventType' failed "
                                               "to satisfy constraint: Member must satisfy enum value set: [Node, Flow]")
    chosen = [e for e in call.service.store.events_of(record["executionArn"]) if (next(iter(e)) in _FLOW_EVENTS) == (kind == "Flow")]
    return page(call, chosen, "flowExecutionEvents", lambda e: e)


async def stop_flow_execution(call: Call) -> Response:
    record = _execution(call)
    if record["status"] == "Running":
        record.update(status="Aborted", endedAt=_now())
        call.service.store.put_execution(record)
        call.service.runtime.cancel(record["executionArn"])
    return reply({"executionArn": record["executionArn"], "status": record["status"]})


async def get_execution_flow_snapshot(call: Call) -> Response:
    record = _execution(call)
    return reply({"customerEncryptionKeyArn": record.get("customerEncryptionKeyArn"),
                  "definition": json.dumps(record["definition"], separators=(",", ":")),
                  "executionRoleArn": record.get("executionRoleArn"),
                  "flowAliasIdentifier": record["flowAliasIdentifier"], "flowIdentifier": record["flowIdentifier"],
                  "flowVersion": record["flowVersion"]})


_EXEC = ("flows", "{flow}", "aliases", "{alias}", "executions")

ROUTES: list[Route] = [
    ("POST", ("flows", "{flow}", "aliases", "{alias}"), invoke_flow),
    ("POST", _EXEC, start_flow_execution),
    ("GET", ("flows", "{flow}", "executions"), list_flow_executions),
    ("GET", (*_EXEC, "{execution}"), get_flow_execution),
    ("GET", (*_EXEC, "{execution}", "events"), list_flow_execution_events),
    ("POST", (*_EXEC, "{execution}", "stop"), stop_flow_execution),
    ("GET", (*_EXEC, "{execution}", "flowsnapshot"), get_execution_flow_snapshot),
]
"""bedrock-agent-runtime flow operations."""

ALL_ROUTES: list[Route] = [*AGENT_ROUTES, *ROUTES]

router = APIRouter()
"""Both services' flow operations; include it in the app (``api.app.ROUTERS``)."""


@router.api_route("/flows/{rest:path}", methods=["GET", "POST", "PUT", "DELETE"], include_in_schema=False)
@router.api_route("/tags/{rest:path}", methods=["GET", "POST", "DELETE"], include_in_schema=False)
@router.api_route("/prompts/{rest:path}", methods=["GET", "POST", "PUT", "DELETE"], include_in_schema=False)
async def flows_endpoint(request: Request) -> Response:
    return await dispatch(request, ALL_ROUTES)
