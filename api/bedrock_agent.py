"""bedrock-agent (REST-JSON): flows, versions, aliases, prompts, tags; and the shared routing.

Routing runs on ``scope["raw_path"]``: identifiers may be ARNs whose ``/`` arrive as ``%2F``
(spec §1.1), so the path is split first and each segment percent-decoded after. One table of
(method, segments) -> handler serves bedrock-agent and bedrock-agent-runtime alike.
"""
from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from engine.errors import Conflict, InvalidArgument, NotFound
from engine.flows.resources import FlowStore, Record, validate_definition
from engine.tasks.registry import TaskRegistry
from engine.types import JSON

# ---------------------------------------------------------------- errors (REST-JSON)

STATUS = {"ValidationException": 400, "AccessDeniedException": 403, "ResourceNotFoundException": 404,
          "ConflictException": 409, "ThrottlingException": 429, "ServiceQuotaExceededException": 402,
          "InternalServerException": 500, "DependencyFailedException": 424, "BadGatewayException": 502}
"""HTTP status of each bedrock-agent exception [model]; the runtime differs only in ServiceQuota (400)."""


class RestError(Exception):
    """An AWS REST-JSON error: code, message, extra members."""

    def __init__(self, code: str, message: str, status: int | None = None, **extra: Any) -> None:
        self.code = code
        self.message = message
        self.status = status or STATUS.get(code, 400)
        self.extra = extra
        super().__init__(f"{code}: {message}")

    def response(self) -> Response:
        return JSONResponse({"message": self.message, **self.extra}, status_code=self.status,
                            headers={"x-amzn-ErrorType": self.code, "x-amzn-RequestId": str(uuid.uuid4())})


def _from_engine(exc: Exception) -> RestError:
    if isinstance(exc, NotFound):
        return RestError("ResourceNotFoundException", str(exc.message or exc))
    if isinstance(exc, Conflict):
        return RestError("ConflictException", exc.message)
    if isinstance(exc, InvalidArgument):
        return RestError(exc.kind, exc.message)
    raise exc


# ---------------------------------------------------------------- service state

def load_flow_mocks(path: str | Path) -> dict[str, dict[str, JSON]]:
    """A flow mock file ``{"<flow name>": {"<node name>": <mock value>}}``."""
    from engine.flows.services import load_flow_mocks as load
    return load(path)


EXECUTION_TIMEOUT = 24 * 3600.0
"""AWS: "your entire flow can run for up to 24 hours" in a flow execution [doc: flows-create-async]."""


@dataclass(slots=True)
class FlowService:
    """Everything the flow routes share: resources, settings, paused and async executions."""

    store: FlowStore = field(default_factory=FlowStore)
    registry: TaskRegistry | None = None
    mocks: dict[str, dict[str, JSON]] = field(default_factory=dict)
    s3_dir: Path | None = None
    knowledge_bases: dict[str, Path] = field(default_factory=dict)
    inline_timeout: float = 5.0
    model_provider: Any = None
    """engine.flows.models provider for Prompt nodes nothing else answers."""
    exit_when_true: bool = False
    """Read LoopController continueConditions as "exit when true" (spec §2.8 open question)."""
    execution_timeout: float = EXECUTION_TIMEOUT
    """Seconds a StartFlowExecution run may take before it ends TimedOut."""
    sessions: dict[str, Any] = field(default_factory=dict)
    """InvokeFlow execution id -> paused multi-turn session."""
    runtime: Any = None
    """The shared ``engine.runtime.Runtime``: async executions run in its task group."""


INTERRUPTED = ("The flow execution was interrupted: the statesim server stopped while it ran. Flow executions "
               "are not resumed after a restart; start it again.")
"""Why a flow execution left Running by a server stop ended Failed (its flowFailureEvent, errors)."""


def configure(app: Any, **settings: Any) -> FlowService:
    """Attach a FlowService to ``app``, replacing any earlier one.

    Settings: ``flow_mocks`` (dict or path of a flow mock file), ``registry``, ``s3_dir``,
    ``knowledge_bases`` ({id: folder}), ``inline_timeout``, ``model_endpoint`` (OpenAI-compatible
    base URL) with optional ``model_map`` ({bedrock id or "*": endpoint model}), ``bedrock=True``
    (real Bedrock through boto3 bedrock-runtime).
    """
    mocks = settings.pop("flow_mocks", None)
    if isinstance(mocks, (str, Path)):
        mocks = load_flow_mocks(mocks)
    endpoint, model_map = settings.pop("model_endpoint", None), settings.pop("model_map", None)
    if endpoint:
        from engine.flows.models import openai_provider
        settings["model_provider"] = openai_provider(endpoint, model_map=model_map)
    if settings.pop("bedrock", False):
        import boto3  # type: ignore[import-untyped]
        from engine.flows.models import bedrock_provider
        settings["model_provider"] = bedrock_provider(boto3.client("bedrock-runtime"))
    runtime = getattr(app.state, "runtime", None)
    if "store" not in settings and runtime is not None:
        arns = getattr(runtime, "arns", None)
        settings["store"] = FlowStore(region=getattr(arns, "region", "us-east-1"),
                                      account=getattr(arns, "account", "123456789012"),
                                      store=getattr(runtime, "store", None))
    service = FlowService(mocks=dict(mocks or {}), runtime=runtime, **settings)
    if service.registry is None:
        service.registry = getattr(runtime, "registry", None)
    # a stored Running execution that no task runs was cut off by a stop or a kill -9: flow runs
    # keep their state in memory only, so it ends Failed (it is not resumed as ASL ones are)
    service.store.end_interrupted(INTERRUPTED, runtime.is_running if runtime is not None else lambda _arn: False)
    app.state.flows = service
    return service


def flow_service(app: Any) -> FlowService:
    """The app's FlowService, created on first use from the ``STATESIM_*`` environment (see settings_from_env)."""
    service = getattr(app.state, "flows", None)
    return service if isinstance(service, FlowService) else configure(app, **settings_from_env())


def _pairs(text: str, what: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise ValueError(f"{what}: expected KEY=VALUE, got {item!r}")
        pairs[key] = value
    return pairs


def settings_from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Flow settings from ``STATESIM_FLOW_MOCKS`` (file), ``STATESIM_S3_DIR``, ``STATESIM_KNOWLEDGE_BASES``
    (``ID=DIR,...``), ``STATESIM_MODEL_ENDPOINT``, ``STATESIM_MODEL_MAP`` (``bedrock-id=model,*=model``),
    ``STATESIM_BEDROCK=1``, ``STATESIM_INLINE_TIMEOUT`` (seconds), ``STATESIM_LOOP_EXIT_WHEN_TRUE=1``,
    ``STATESIM_FLOW_EXECUTION_TIMEOUT`` (seconds a StartFlowExecution run may take; AWS: 24 hours)."""
    env = os.environ if environ is None else environ
    settings: dict[str, Any] = {}
    if env.get("STATESIM_FLOW_MOCKS"):
        settings["flow_mocks"] = env["STATESIM_FLOW_MOCKS"]
    if env.get("STATESIM_S3_DIR"):
        settings["s3_dir"] = Path(env["STATESIM_S3_DIR"])
    if env.get("STATESIM_KNOWLEDGE_BASES"):
        settings["knowledge_bases"] = {k: Path(v) for k, v in _pairs(env["STATESIM_KNOWLEDGE_BASES"],
                                                                     "STATESIM_KNOWLEDGE_BASES").items()}
    if env.get("STATESIM_MODEL_ENDPOINT"):
        settings["model_endpoint"] = env["STATESIM_MODEL_ENDPOINT"]
        settings["model_map"] = _pairs(env.get("STATESIM_MODEL_MAP", ""), "STATESIM_MODEL_MAP")
    if env.get("STATESIM_BEDROCK", "").lower() in ("1", "true", "yes"):
        settings["bedrock"] = True
    if env.get("STATESIM_LOOP_EXIT_WHEN_TRUE", "").lower() in ("1", "true", "yes"):
        settings["exit_when_true"] = True
    if env.get("STATESIM_INLINE_TIMEOUT"):
        settings["inline_timeout"] = float(env["STATESIM_INLINE_TIMEOUT"])
    if env.get("STATESIM_FLOW_EXECUTION_TIMEOUT"):
        settings["execution_timeout"] = float(env["STATESIM_FLOW_EXECUTION_TIMEOUT"])
    return settings


def add_serve_arguments(parser: Any) -> None:
    """The flow options of ``statesim serve`` (for api/cli.py): --flow-mocks, --s3-dir, ..."""
    parser.add_argument("--flow-mocks", help='flow mock file {"<flow name>": {"<node name>": <mock value>}}')
    parser.add_argument("--s3-dir", help="a local directory standing for S3 (Storage/Retrieval nodes)")
    parser.add_argument("--knowledge-base", action="append", default=[], metavar="ID=DIR",
                        help="index the text/markdown files of DIR as knowledge base ID (repeatable)")
    parser.add_argument("--model-endpoint", help="OpenAI-compatible base URL for Prompt nodes (e.g. Ollama's "
                                                 "http://localhost:11434/v1)")
    parser.add_argument("--model-map", action="append", default=[], metavar="BEDROCK_ID=MODEL",
                        help="model name to use at --model-endpoint for a Bedrock model id ('*' = any)")
    parser.add_argument("--bedrock", action="store_true", help="answer Prompt nodes with real Amazon Bedrock")


def settings_from_args(args: Any) -> dict[str, Any]:
    """``configure`` settings for the options of add_serve_arguments (environment values as defaults)."""
    settings = settings_from_env()
    if args.flow_mocks:
        settings["flow_mocks"] = args.flow_mocks
    if args.s3_dir:
        settings["s3_dir"] = Path(args.s3_dir)
    if args.knowledge_base:
        settings["knowledge_bases"] = {k: Path(v) for k, v in _pairs(",".join(args.knowledge_base),
                                                                     "--knowledge-base").items()}
    if args.model_endpoint:
        settings["model_endpoint"] = args.model_endpoint
        settings["model_map"] = _pairs(",".join(args.model_map), "--model-map")
    if args.bedrock:
        settings["bedrock"] = True
    return settings


def service_of(request: Request) -> FlowService:
    """The FlowService of the app serving ``request``."""
    return flow_service(request.app)


# ---------------------------------------------------------------- requests and routing

@dataclass(slots=True)
class Call:
    """A routed request: path labels (decoded), query lists, JSON body."""

    request: Request
    service: FlowService
    labels: dict[str, str]
    query: dict[str, list[str]]
    body: dict[str, Any]

    def flag(self, name: str) -> bool:
        return (self.query.get(name) or ["false"])[0].lower() == "true"

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


Handler = Callable[[Call], Awaitable[Response]]
Route = tuple[str, tuple[str, ...], Handler]


def _match(pattern: tuple[str, ...], segments: list[str]) -> dict[str, str] | None:
    if len(pattern) != len(segments):
        return None
    labels: dict[str, str] = {}
    for expected, actual in zip(pattern, segments):
        if expected.startswith("{"):
            if not actual:
                return None
            labels[expected[1:-1]] = unquote(actual)
        elif expected != actual:
            return None
    return labels


async def dispatch(request: Request, routes: list[Route]) -> Response:
    """Find the route for the raw path and method, parse the body, run the handler."""
    raw = request.scope.get("raw_path") or request.url.path.encode()
    path, _, _ = raw.decode("latin-1").partition("?")
    segments = path.split("/")[1:]
    for method, pattern, handler in routes:
        labels = _match(pattern, segments)
        if labels is not None and method == request.method:
            try:
                call = Call(request, service_of(request), labels,
                            parse_qs(request.url.query, keep_blank_values=True), await _body(request))
                return await handler(call)
            except RestError as exc:
                return exc.response()
            except (NotFound, Conflict, InvalidArgument) as exc:
                return _from_engine(exc).response()
    return RestError("UnknownOperationException", f"No operation matches {request.method} {path}.", 404).response()


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise RestError("ValidationException", "The request body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise RestError("ValidationException", "The request body must be a JSON object.")
    return body


def iso(moment: datetime) -> str:
    """RFC 3339 UTC with microseconds and ``Z``."""
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def reply(body: Mapping[str, Any], status: int = 200) -> Response:
    """A REST-JSON success response (datetimes rendered as ISO strings, None members dropped)."""
    return JSONResponse(_clean(body), status_code=status, headers={"x-amzn-RequestId": str(uuid.uuid4())})


def _clean(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _clean(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, datetime):
        return iso(value)
    return value


def require(body: Mapping[str, Any], *names: str) -> None:
    """ValidationException for a missing required member."""
    for name in names:
        if body.get(name) is None:
            raise RestError("ValidationException", f"1 validation error detected: Value null at '{name}' failed to "
                                                   "satisfy constraint: Member must not be null")


def page(call: Call, items: list[Any], key: str, render: Callable[[Any], Mapping[str, Any]]) -> Response:
    """A List* response with ``maxResults`` (default 10) and an opaque numeric ``nextToken``."""
    size = int(call.arg("maxResults") or 10)
    if not 1 <= size <= 1000:
        raise RestError("ValidationException", "1 validation error detected: Value at 'maxResults' failed to "
                                               "satisfy constraint: Member must have value between 1 and 1000")
    token = call.arg("nextToken")
    start = int(token) if token and token.isdigit() else 0
    chunk = items[start:start + size]
    body: dict[str, Any] = {key: [render(i) for i in chunk]}
    if start + size < len(items):
        body["nextToken"] = str(start + size)
    return reply(body)


# ---------------------------------------------------------------- flows

_FLOW_KEYS = ("name", "description", "executionRoleArn", "customerEncryptionKeyArn", "id", "arn", "status",
              "createdAt", "updatedAt", "version", "definition")


def flow_body(flow: Mapping[str, Any], *extra: str) -> dict[str, Any]:
    return {k: flow.get(k) for k in (*_FLOW_KEYS, *extra)}


async def create_flow(call: Call) -> Response:
    require(call.body, "name", "executionRoleArn")
    return reply(flow_body(call.service.store.create_flow(call.body)), 201)


async def get_flow(call: Call) -> Response:
    flow = call.service.store.get_flow(call.labels["flow"])
    body = flow_body(flow)
    if flow["validations"]:
        body["validations"] = flow["validations"]
    return reply(body)


async def update_flow(call: Call) -> Response:
    require(call.body, "name", "executionRoleArn")
    return reply(flow_body(call.service.store.update_flow(call.labels["flow"], call.body)))


async def delete_flow(call: Call) -> Response:
    return reply({"id": call.service.store.delete_flow(call.labels["flow"], call.flag("skipResourceInUseCheck"))})


async def list_flows(call: Call) -> Response:
    keys = ("name", "description", "id", "arn", "status", "createdAt", "updatedAt", "version")
    return page(call, call.service.store.list_flows(), "flowSummaries", lambda f: {k: f.get(k) for k in keys})


async def prepare_flow(call: Call) -> Response:
    flow = call.service.store.prepare_flow(call.labels["flow"])
    # AWS answers 202 {"id", "status": "Preparing"} and prepares in the background [observed];
    # statesim has finished already, so the next GetFlow shows Prepared or Failed.
    return reply({"id": flow["id"], "status": "Preparing"}, 202)


async def validate_flow_definition(call: Call) -> Response:
    require(call.body, "definition")
    definition = call.body["definition"]
    if not isinstance(definition, dict):
        raise RestError("ValidationException", "The flow definition must be an object.")
    return reply({"validations": validate_definition(definition)[:100]})


# ---------------------------------------------------------------- versions

_VERSION_KEYS = ("name", "description", "executionRoleArn", "customerEncryptionKeyArn", "id", "arn", "status",
                 "createdAt", "version", "definition")


async def create_flow_version(call: Call) -> Response:
    version = call.service.store.create_version(call.labels["flow"], call.body.get("description"),
                                                call.body.get("clientToken"))
    return reply({k: version.get(k) for k in _VERSION_KEYS}, 201)


async def get_flow_version(call: Call) -> Response:
    version = call.service.store.get_version(call.labels["flow"], call.labels["version"])
    return reply({k: version.get(k) for k in _VERSION_KEYS})


async def delete_flow_version(call: Call) -> Response:
    version = call.service.store.delete_version(call.labels["flow"], call.labels["version"],
                                                call.flag("skipResourceInUseCheck"))
    return reply({"id": version["id"], "version": version["version"]})


async def list_flow_versions(call: Call) -> Response:
    keys = ("id", "arn", "status", "createdAt", "version")
    return page(call, call.service.store.list_versions(call.labels["flow"]), "flowVersionSummaries",
                lambda v: {k: v.get(k) for k in keys})


# ---------------------------------------------------------------- aliases

_ALIAS_KEYS = ("name", "description", "routingConfiguration", "concurrencyConfiguration", "flowId", "id", "arn",
               "createdAt", "updatedAt")


async def create_flow_alias(call: Call) -> Response:
    require(call.body, "name", "routingConfiguration")
    alias = call.service.store.create_alias(call.labels["flow"], call.body)
    return reply({k: alias.get(k) for k in _ALIAS_KEYS}, 201)


async def get_flow_alias(call: Call) -> Response:
    alias = call.service.store.get_alias(call.labels["flow"], call.labels["alias"])
    return reply({k: alias.get(k) for k in _ALIAS_KEYS})


async def update_flow_alias(call: Call) -> Response:
    require(call.body, "name", "routingConfiguration")
    alias = call.service.store.update_alias(call.labels["flow"], call.labels["alias"], call.body)
    return reply({k: alias.get(k) for k in _ALIAS_KEYS})


async def delete_flow_alias(call: Call) -> Response:
    alias = call.service.store.delete_alias(call.labels["flow"], call.labels["alias"])
    return reply({"flowId": alias["flowId"], "id": alias["id"]})


async def list_flow_aliases(call: Call) -> Response:
    keys = ("name", "description", "routingConfiguration", "concurrencyConfiguration", "flowId", "id", "arn",
            "createdAt", "updatedAt")
    return page(call, call.service.store.list_aliases(call.labels["flow"]), "flowAliasSummaries",
                lambda a: {k: a.get(k) for k in keys})


# ---------------------------------------------------------------- tags

async def tag_resource(call: Call) -> Response:
    require(call.body, "tags")
    call.service.store.tag(call.labels["arn"], call.body["tags"])
    return reply({})


async def untag_resource(call: Call) -> Response:
    call.service.store.untag(call.labels["arn"], call.query.get("tagKeys", []))
    return reply({})


async def list_tags_for_resource(call: Call) -> Response:
    return reply({"tags": call.service.store.list_tags(call.labels["arn"])})


# ---------------------------------------------------------------- prompts

_PROMPT_KEYS = ("name", "description", "customerEncryptionKeyArn", "defaultVariant", "variants", "id", "arn",
                "version", "createdAt", "updatedAt")


def _prompt_body(prompt: Mapping[str, Any]) -> dict[str, Any]:
    return {k: prompt.get(k) for k in _PROMPT_KEYS}


async def create_prompt(call: Call) -> Response:
    require(call.body, "name")
    if not re.match(r"^([0-9a-zA-Z][_-]?){1,100}$", str(call.body["name"])):
        raise RestError("ValidationException", f"1 validation error detected: Value '{call.body['name']}' at 'name' "
                                               "failed to satisfy constraint: Member must satisfy regular expression "
                                               "pattern: ([0-9a-zA-Z][_-]?){1,100}")
    return reply(_prompt_body(call.service.store.create_prompt(call.body)), 201)


async def get_prompt(call: Call) -> Response:
    return reply(_prompt_body(call.service.store.get_prompt(call.labels["prompt"], call.arg("promptVersion"))))


async def update_prompt(call: Call) -> Response:
    require(call.body, "name")
    return reply(_prompt_body(call.service.store.update_prompt(call.labels["prompt"], call.body)))


async def delete_prompt(call: Call) -> Response:
    prompt = call.service.store.delete_prompt(call.labels["prompt"], call.arg("promptVersion"))
    body = {"id": prompt["id"]}
    if call.arg("promptVersion"):
        body["version"] = prompt["version"]
    return reply(body)


async def list_prompts(call: Call) -> Response:
    keys = ("name", "description", "id", "arn", "version", "createdAt", "updatedAt")
    return page(call, call.service.store.list_prompts(call.arg("promptIdentifier")), "promptSummaries",
                lambda p: {k: p.get(k) for k in keys})


async def create_prompt_version(call: Call) -> Response:
    version = call.service.store.create_prompt_version(call.labels["prompt"], call.body.get("description"))
    return reply(_prompt_body(version), 201)


ROUTES: list[Route] = [
    ("POST", ("flows", ""), create_flow),
    ("GET", ("flows", ""), list_flows),
    ("POST", ("flows", "validate-definition"), validate_flow_definition),
    ("GET", ("flows", "{flow}", ""), get_flow),
    ("PUT", ("flows", "{flow}", ""), update_flow),
    ("DELETE", ("flows", "{flow}", ""), delete_flow),
    ("POST", ("flows", "{flow}", ""), prepare_flow),
    ("POST", ("flows", "{flow}", "versions"), create_flow_version),
    ("GET", ("flows", "{flow}", "versions"), list_flow_versions),
    ("GET", ("flows", "{flow}", "versions", "{version}", ""), get_flow_version),
    ("DELETE", ("flows", "{flow}", "versions", "{version}", ""), delete_flow_version),
    ("POST", ("flows", "{flow}", "aliases"), create_flow_alias),
    ("GET", ("flows", "{flow}", "aliases"), list_flow_aliases),
    ("GET", ("flows", "{flow}", "aliases", "{alias}"), get_flow_alias),
    ("PUT", ("flows", "{flow}", "aliases", "{alias}"), update_flow_alias),
    ("DELETE", ("flows", "{flow}", "aliases", "{alias}"), delete_flow_alias),
    ("POST", ("tags", "{arn}"), tag_resource),
    ("DELETE", ("tags", "{arn}"), untag_resource),
    ("GET", ("tags", "{arn}"), list_tags_for_resource),
    ("POST", ("prompts", ""), create_prompt),
    ("GET", ("prompts", ""), list_prompts),
    ("GET", ("prompts", "{prompt}", ""), get_prompt),
    ("PUT", ("prompts", "{prompt}", ""), update_prompt),
    ("DELETE", ("prompts", "{prompt}", ""), delete_prompt),
    ("POST", ("prompts", "{prompt}", "versions"), create_prompt_version),
]
"""bedrock-agent operations: (method, path segments, handler); ``""`` is a trailing slash."""
