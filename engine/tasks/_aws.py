"""Forwarding ``aws-sdk:SERVICE:ACTION`` and optimized integrations to an AWS endpoint with boto3.

Step Functions writes SDK parameters and results in PascalCase and names errors
``ServiceName.ErrorNameException``; botocore's service models translate between the two.
"""
from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import anyio.to_thread

from engine.errors import StatesError
from engine.types import JSON

# aws-sdk service names (as Step Functions spells them) whose boto3 client is named otherwise.
_CLIENTS = {"sfn": "stepfunctions", "eventbridge": "events", "bedrockruntime": "bedrock-runtime",
            "bedrockagent": "bedrock-agent", "bedrockagentruntime": "bedrock-agent-runtime",
            "apigateway": "apigateway", "cloudwatchlogs": "logs", "sesv2": "sesv2"}
# Pascal-case service prefixes of error names, where they are not just capitalised.
_ERROR_PREFIX = {"dynamodb": "DynamoDb", "sfn": "Sfn", "acmpca": "AcmPca", "eventbridge": "EventBridge",
                 "bedrockruntime": "BedrockRuntime", "cloudwatchlogs": "CloudWatchLogs", "s3": "S3"}
# Optimized integrations: error prefixes as AWS names them (e.g. DynamoDB.ConditionalCheckFailedException).
OPTIMIZED_PREFIX = {"dynamodb": "DynamoDB", "sqs": "SQS", "sns": "SNS", "events": "EventBridge",
                    "bedrock": "Bedrock", "s3": "S3", "lambda": "Lambda"}


def client_name(service: str) -> str:
    """boto3 client name for an aws-sdk service name."""
    return _CLIENTS.get(service, service)


def error_prefix(service: str) -> str:
    return _ERROR_PREFIX.get(service, service[:1].upper() + service[1:])


def operation_name(action: str) -> str:
    """``getObject`` -> ``GetObject`` (botocore operation name)."""
    return action[:1].upper() + action[1:]


def _conform_input(value: Any, shape: Any) -> Any:
    """PascalCase parameters -> the member names of the botocore input shape (case-insensitive)."""
    if shape is None:
        return value
    if shape.type_name == "structure" and isinstance(value, dict):
        members = {name.lower(): name for name in shape.members}
        out = {}
        for key, item in value.items():
            name = members.get(key.lower(), key)
            out[name] = _conform_input(item, shape.members.get(name))
        return out
    if shape.type_name == "list" and isinstance(value, list):
        return [_conform_input(item, shape.member) for item in value]
    if shape.type_name == "map" and isinstance(value, dict):
        return {k: _conform_input(v, shape.value) for k, v in value.items()}
    if shape.type_name == "blob" and isinstance(value, (dict, list)):
        return json.dumps(value).encode()
    if shape.type_name == "blob" and isinstance(value, str):
        return value.encode()
    return value


def _conform_output(value: Any, shape: Any) -> JSON:
    """A boto3 result -> Step Functions' JSON: PascalCase members, timestamps and blobs as text."""
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "read"):
        value = value.read()
    if isinstance(value, (bytes, bytearray)):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(bytes(value)).decode()
    if isinstance(value, dict):
        if shape is not None and shape.type_name == "structure":
            return {k[:1].upper() + k[1:]: _conform_output(v, shape.members.get(k)) for k, v in value.items()
                    if k != "ResponseMetadata"}
        value_shape = shape.value if shape is not None and shape.type_name == "map" else None
        return {k: _conform_output(v, value_shape) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        member = shape.member if shape is not None and shape.type_name == "list" else None
        return [_conform_output(v, member) for v in value]
    return value


class AwsForwarder:
    """boto3 clients for one endpoint, made on first use."""

    def __init__(self, endpoint: str, region: str = "us-east-1") -> None:
        self.endpoint = endpoint
        self.region = region
        self._clients: dict[str, Any] = {}

    def client(self, name: str) -> Any:
        if name not in self._clients:
            import boto3  # type: ignore[import-untyped]
            from botocore.config import Config  # type: ignore[import-untyped]
            session = boto3.session.Session()
            creds = session.get_credentials()
            self._clients[name] = session.client(
                name, endpoint_url=self.endpoint, region_name=self.region,
                aws_access_key_id=creds.access_key if creds else "test",
                aws_secret_access_key=creds.secret_key if creds else "test",
                config=Config(inject_host_prefix=False, retries={"max_attempts": 1}))
        return self._clients[name]

    async def call(self, service: str, operation: str, params: Mapping[str, Any], prefix: str) -> JSON:
        """Call ``operation`` of boto3 client ``service``; ClientError -> StatesError(prefix.CodeException)."""
        from botocore.exceptions import ClientError, ParamValidationError  # type: ignore[import-untyped]
        client = self.client(service)
        try:
            model = client.meta.service_model.operation_model(operation)
        except Exception:
            raise StatesError(f"{prefix}.UnknownOperationException",
                              f"The service '{service}' has no operation '{operation}'") from None
        args = _conform_input(dict(params), model.input_shape)
        method = getattr(client, _snake(operation))
        try:
            result = await anyio.to_thread.run_sync(lambda: method(**args))
        except ClientError as exc:
            raise _client_error(exc, prefix, service) from None
        except ParamValidationError as exc:
            raise StatesError(f"{prefix}.ValidationException", str(exc)) from None
        return _conform_output(result, model.output_shape)


def _client_error(exc: Any, prefix: str, service: str) -> StatesError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code") or "Unknown")
    name = code if code.endswith("Exception") else code + "Exception"
    meta = exc.response.get("ResponseMetadata", {})
    cause = (f"{error.get('Message', '')} (Service: {service}, Status Code: {meta.get('HTTPStatusCode', 400)}, "
             f"Request ID: {meta.get('RequestId', '')})")
    return StatesError(f"{prefix}.{name}", cause)


def _snake(operation: str) -> str:
    from botocore import xform_name  # type: ignore[import-untyped]
    return str(xform_name(operation))
