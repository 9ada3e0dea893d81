"""Built-in integrations: Lambda, nested Step Functions executions, AWS SDK / optimized services, HTTP.

:class:`Integrations` answers a resource with the user's registered handler first, then the
built-in integration (Lambda functions come from the registry or ``--lambda-endpoint``; AWS
services are forwarded with boto3 to ``--aws-endpoint``), then the registry's fallback, else
States.TaskFailed naming the resource and what is registered.
"""
from __future__ import annotations

import json
import os
import traceback
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import anyio

from engine.errors import ErrorName, StatesError
from engine.tasks import _aws, _nested
from engine.tasks.registry import NoHandler, TaskContext, TaskFailure, TaskRegistry, held
from engine.types import JSON

Route = Callable[["Integrations", str, JSON, TaskContext], Awaitable[JSON]]
_SERVICE_PREFIX = "arn:aws:states:::"
DEFAULT_ACCOUNT = "123456789012"
_REGISTRY_FILE = "registry.py"


class Integrations(TaskRegistry):
    """The user's registry plus the built-in integrations (see the module docstring)."""

    def __init__(self, user: TaskRegistry | None = None, *, lambda_endpoint: str | None = None,
                 aws_endpoint: str | None = None, region: str = "us-east-1", runtime: Any = None,
                 s3_dir: str | os.PathLike[str] | None = None) -> None:
        super().__init__()
        self.user = user if user is not None else TaskRegistry()
        self.lambda_endpoint = lambda_endpoint
        self.aws_endpoint = aws_endpoint
        self.s3_dir = Path(s3_dir) if s3_dir is not None else None
        """A local directory standing for S3: ``<s3_dir>/<bucket>/<key>`` (Distributed Map readers/writers)."""
        self.region = region
        self.runtime = runtime
        """The engine.runtime.Runtime that runs nested ``states:startExecution`` executions."""
        self._lambda: _aws.AwsForwarder | None = None
        self._aws: _aws.AwsForwarder | None = None

    def configure(self, *, lambda_endpoint: str | None = None, aws_endpoint: str | None = None,
                  s3_dir: str | os.PathLike[str] | None = None) -> None:
        """Set the endpoints and the S3 directory (``statesim serve`` flags); None leaves a setting as is."""
        if lambda_endpoint is not None:
            self.lambda_endpoint, self._lambda = lambda_endpoint, None
        if aws_endpoint is not None:
            self.aws_endpoint, self._aws = aws_endpoint, None
        if s3_dir is not None:
            self.s3_dir = Path(s3_dir)

    # ---- the TaskRegistry surface ------------------------------------------------------

    @property
    def patterns(self) -> list[str]:
        return self.user.patterns

    def has(self, resource: str) -> bool:
        return self.user.has(resource) or _route(resource) is not None

    def missing_cause(self, resource: str) -> str:
        return self.user.missing_cause(resource)

    async def invoke(self, resource: str, payload: JSON, ctx: TaskContext) -> JSON:
        with held(ctx.clock):
            return await self._invoke(resource, payload, ctx)

    async def _invoke(self, resource: str, payload: JSON, ctx: TaskContext) -> JSON:
        if self.user.registered(resource):
            return await self.user.invoke(resource, payload, ctx)
        route = _route(resource)
        if route is not None:
            try:
                return await route(self, resource, payload, ctx)
            except NoHandler:
                if not self.user.has_fallback:
                    raise
        return await self.user.invoke(resource, payload, ctx)

    # ---- forwarding --------------------------------------------------------------------

    def aws(self, resource: str) -> _aws.AwsForwarder:
        """The boto3 forwarder for --aws-endpoint; NoHandler naming ``resource`` when none is set."""
        if self.aws_endpoint is None:
            raise NoHandler(f"{self.user.missing_cause(resource)} No AWS endpoint is configured to forward it to "
                            "(statesim serve --aws-endpoint URL).")
        if self._aws is None:
            self._aws = _aws.AwsForwarder(self.aws_endpoint, self.region)
        return self._aws

    def lambda_forwarder(self) -> _aws.AwsForwarder | None:
        if self.lambda_endpoint is None:
            return None
        if self._lambda is None:
            self._lambda = _aws.AwsForwarder(self.lambda_endpoint, self.region)
        return self._lambda


# ---- routing ----------------------------------------------------------------------------

def _route(resource: str) -> Route | None:
    parts = resource.split(":")
    if len(parts) >= 7 and parts[2] == "lambda" and parts[5] == "function":
        return _lambda_function
    if not resource.startswith(_SERVICE_PREFIX):
        return None
    rest = resource[len(_SERVICE_PREFIX):]
    service, _, action = rest.partition(":")
    if service == "aws-sdk":
        return _aws_sdk
    if service == "lambda" and action == "invoke":
        return _lambda_invoke
    if service == "states" and action.startswith("startExecution"):
        return _nested.start_execution
    if service == "http" and action == "invoke":
        from engine.tasks import _http
        return _http.invoke
    if service in _OPTIMIZED:
        return _optimized
    return None


# ---- Lambda --------------------------------------------------------------------------------

def function_arn(name: str, region: str) -> tuple[str, str | None]:
    """(unqualified function ARN, qualifier) for a FunctionName: name, name:alias, partial or full ARN."""
    parts = name.split(":")
    if name.startswith("arn:"):
        base, qualifier = ":".join(parts[:7]), (parts[7] if len(parts) > 7 else None)
        return base, qualifier
    if len(parts) >= 3 and parts[1] == "function":  # ACCOUNT:function:NAME[:QUALIFIER]
        return f"arn:aws:lambda:{region}:{parts[0]}:function:{parts[2]}", (parts[3] if len(parts) > 3 else None)
    qualifier = parts[1] if len(parts) > 1 else None
    return f"arn:aws:lambda:{region}:{DEFAULT_ACCOUNT}:function:{parts[0]}", qualifier


def lambda_error(exc: BaseException) -> StatesError:
    """A function's exception as Step Functions reports it: error = errorType, cause = the error payload."""
    if isinstance(exc, (TaskFailure, StatesError)):
        return StatesError(exc.error, exc.cause)
    name = type(exc).__name__
    frames = traceback.extract_tb(exc.__traceback__)
    starts = [i for i, f in enumerate(frames) if f.filename.endswith(_REGISTRY_FILE)]
    stack = [f'  File "{f.filename}", line {f.lineno}, in {f.name}\n    {f.line}\n'
             for f in frames[starts[-1] + 1 if starts else 0:] if "anyio" not in f.filename]
    cause = json.dumps({"errorMessage": str(exc), "errorType": name, "requestId": str(uuid.uuid4()),
                        "stackTrace": stack}, ensure_ascii=False)
    return StatesError(name, cause)


async def call_function(integrations: Integrations, function: str, payload: JSON, ctx: TaskContext,
                        qualifier: str | None = None, invocation_type: str | None = None) -> JSON:
    """Run a Lambda function: a registered handler (by ARN or name), else the Lambda endpoint."""
    user = integrations.user
    name = function.split(":")[6]
    for candidate in (function, name):
        if user.registered(candidate):
            try:
                return await user.call(candidate, payload, ctx)
            except anyio.get_cancelled_exc_class():
                raise
            except Exception as exc:
                raise lambda_error(exc) from exc
    forwarder = integrations.lambda_forwarder()
    if forwarder is None:
        raise NoHandler(f"{user.missing_cause(function)} No Lambda endpoint is configured "
                        "(statesim serve --lambda-endpoint URL).")
    return await _remote_invoke(forwarder, function, payload, qualifier, invocation_type)


async def _remote_invoke(forwarder: _aws.AwsForwarder, function: str, payload: JSON, qualifier: str | None,
                         invocation_type: str | None = None) -> JSON:
    from botocore.exceptions import ClientError  # type: ignore[import-untyped]
    client = forwarder.client("lambda")
    args: dict[str, Any] = {"FunctionName": function, "Payload": json.dumps(payload).encode()}
    if qualifier:
        args["Qualifier"] = qualifier
    if invocation_type:
        args["InvocationType"] = invocation_type
    try:
        response = await anyio.to_thread.run_sync(lambda: client.invoke(**args))
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or "AWSLambdaException")
        meta = exc.response.get("ResponseMetadata", {})
        raise StatesError(f"Lambda.{code}", f"{error.get('Message', '')} (Service: AWSLambda; Status Code: "
                          f"{meta.get('HTTPStatusCode', 500)}; Error Code: {code}; Request ID: "
                          f"{meta.get('RequestId', '')}; Proxy: null)") from None
    except Exception as exc:  # connection refused and the like
        raise StatesError("Lambda.SdkClientException", f"Unable to execute HTTP request: {exc}") from None
    text = response["Payload"].read().decode("utf-8")
    if response.get("FunctionError"):
        try:
            error_type = json.loads(text).get("errorType") or "Lambda.Unknown"
        except (ValueError, AttributeError):
            error_type = "Lambda.Unknown"
        raise StatesError(str(error_type), text)
    return json.loads(text) if text.strip() else None


async def _lambda_function(integrations: Integrations, resource: str, payload: JSON, ctx: TaskContext) -> JSON:
    function, qualifier = function_arn(resource, integrations.region)
    return await call_function(integrations, function, payload, ctx, qualifier)


async def _lambda_invoke(integrations: Integrations, resource: str, payload: JSON, ctx: TaskContext) -> JSON:
    """``arn:aws:states:::lambda:invoke``: the Invoke API response with the function's result in Payload."""
    params = payload if isinstance(payload, dict) else {}
    name = params.get("FunctionName")
    if not isinstance(name, str) or not name:
        raise StatesError(ErrorName.RUNTIME, "The field 'FunctionName' is required for lambda:invoke.")
    function, qualifier = function_arn(name, integrations.region)
    qualifier = params.get("Qualifier", qualifier)
    event = params.get("Payload")  # AWS sends it as JSON: a string Payload arrives as a string event
    invocation_type = params.get("InvocationType")
    result = await call_function(integrations, function, event, ctx, qualifier,
                                 invocation_type if isinstance(invocation_type, str) else None)
    asynchronous = invocation_type == "Event"
    return invoke_response(None if asynchronous else result, 202 if asynchronous else 200, qualifier)


def invoke_response(result: JSON, status: int = 200, qualifier: str | None = None) -> JSON:
    """The Lambda Invoke response as the lambda:invoke integration returns it."""
    request_id = str(uuid.uuid4())
    body = "" if result is None and status == 202 else json.dumps(result)
    date = datetime.now(timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT")
    headers = {"Connection": "keep-alive", "Content-Length": str(len(body.encode())), "Content-Type": "application/json",
               "Date": date, "X-Amz-Executed-Version": qualifier or "$LATEST", "x-amzn-Remapped-Content-Length": "0",
               "x-amzn-RequestId": request_id}
    response: dict[str, Any] = {
        "ExecutedVersion": qualifier or "$LATEST",
        "Payload": "" if status == 202 else result,
        "SdkHttpMetadata": {"AllHttpHeaders": {k: [v] for k, v in headers.items()}, "HttpHeaders": headers,
                            "HttpStatusCode": status},
        "SdkResponseMetadata": {"RequestId": request_id},
        "StatusCode": status,
    }
    return response


# ---- AWS SDK and optimized integrations ---------------------------------------------------------

def _local_s3(integrations: Integrations, action: str, payload: JSON) -> JSON | None:
    """S3 calls answered from --s3-dir (None when no directory is set or the action is not local)."""
    from engine.tasks import _s3dir
    handler = _s3dir.ACTIONS.get(action)
    if integrations.s3_dir is None or handler is None:
        return None
    return handler(integrations.s3_dir, dict(payload) if isinstance(payload, dict) else {})


async def _aws_sdk(integrations: Integrations, resource: str, payload: JSON, ctx: TaskContext) -> JSON:
    """``arn:aws:states:::aws-sdk:SERVICE:ACTION``, forwarded with boto3."""
    _, service, action = resource[len(_SERVICE_PREFIX):].split(":")[:3]
    action = action.split(".")[0]
    if service == "s3" and (local := _local_s3(integrations, action, payload)) is not None:
        return local
    forwarder = integrations.aws(resource)
    params = payload if isinstance(payload, dict) else {}
    return await forwarder.call(_aws.client_name(service), _aws.operation_name(action), params,
                                _aws.error_prefix(service))


def _stringify(value: Any) -> Any:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _sqs(params: dict[str, Any]) -> dict[str, Any]:
    if "MessageBody" in params:
        params["MessageBody"] = _stringify(params["MessageBody"])
    return params


def _sns(params: dict[str, Any]) -> dict[str, Any]:
    if "Message" in params:
        params["Message"] = _stringify(params["Message"])
    return params


def _events(params: dict[str, Any]) -> dict[str, Any]:
    entries = params.get("Entries")
    if isinstance(entries, list):
        params["Entries"] = [{**e, "Detail": _stringify(e["Detail"])} if isinstance(e, dict) and "Detail" in e else e
                             for e in entries]
    return params


# service -> (boto3 client, request adapter)
_OPTIMIZED: dict[str, tuple[str, Callable[[dict[str, Any]], dict[str, Any]]]] = {
    "dynamodb": ("dynamodb", dict), "sqs": ("sqs", _sqs), "sns": ("sns", _sns), "events": ("events", _events),
    "s3": ("s3", dict), "bedrock": ("bedrock-runtime", dict),
}


async def _optimized(integrations: Integrations, resource: str, payload: JSON, ctx: TaskContext) -> JSON:
    """Optimized integrations (dynamodb:putItem, sqs:sendMessage, bedrock:invokeModel, ...) via boto3."""
    service, _, action = resource[len(_SERVICE_PREFIX):].partition(":")
    action = action.split(".")[0]
    if service == "s3" and (local := _local_s3(integrations, action, payload)) is not None:
        return local
    forwarder = integrations.aws(resource)
    client, adapt = _OPTIMIZED[service]
    params = adapt(dict(payload) if isinstance(payload, dict) else {})
    prefix = _aws.OPTIMIZED_PREFIX.get(service, service)
    if service == "bedrock" and action == "invokeModel":
        return await _invoke_model(forwarder, params, prefix)
    return await forwarder.call(client, _aws.operation_name(action), params, prefix)


async def _invoke_model(forwarder: _aws.AwsForwarder, params: dict[str, Any], prefix: str) -> JSON:
    """bedrock:invokeModel: the model's JSON reply comes back parsed under ``Body``."""
    body = params.get("Body")
    request = {"modelId": params.get("ModelId"), "body": _stringify(body).encode(),
               "contentType": params.get("ContentType", "application/json"),
               "accept": params.get("Accept", "application/json")}
    result = await forwarder.call("bedrock-runtime", "InvokeModel", request, prefix)
    assert isinstance(result, dict)
    text = result.get("Body")
    try:
        parsed = json.loads(text) if isinstance(text, str) else text
    except ValueError:
        parsed = text
    return {"Body": parsed, "ContentType": result.get("ContentType", "application/json")}


def with_builtins(registry: TaskRegistry | None = None, **options: Any) -> Integrations:
    """``registry`` (or an empty one) plus the built-in integrations, for in-process ``engine.asl.run``."""
    if isinstance(registry, Integrations):
        return registry
    return Integrations(registry, **options)


__all__ = ["Integrations", "call_function", "function_arn", "invoke_response", "lambda_error", "with_builtins"]
