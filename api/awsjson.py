"""AWS JSON 1.0: ``X-Amz-Target: <prefix>.<Operation>`` -> handler, with the service model's
request validation (types -> SerializationException, constraints -> ValidationException).

Request shapes come from the botocore service model installed with boto3, so the list of
operations and every member constraint are AWS's own.
"""
from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

import botocore.session  # type: ignore[import-untyped]
from botocore.model import (  # type: ignore[import-untyped]
    ListShape,
    MapShape,
    ServiceModel,
    Shape,
    StructureShape,
)
from starlette.requests import Request
from starlette.responses import Response

from api.errors import AwsError, SerializationException, UnknownOperationException, ValidationException
from engine.types import JSON

CONTENT_TYPE = "application/x-amz-json-1.0"
Handler = Callable[[dict[str, Any]], Awaitable[Mapping[str, Any]]]

# AWS prints some enum sets in its own (hash) order rather than the model's.
_ENUM_ORDER: dict[str, list[str]] = {
    "ExecutionStatus": ["SUCCEEDED", "TIMED_OUT", "PENDING_REDRIVE", "ABORTED", "FAILED", "RUNNING"],
}


@lru_cache(maxsize=None)
def service_model(name: str) -> ServiceModel:
    """The botocore service model (e.g. ``stepfunctions``)."""
    return botocore.session.get_session().get_service_model(name)


def camel_to_snake(name: str) -> str:
    """``StartSyncExecution`` -> ``start_sync_execution`` (boto3's method names)."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def json_response(body: Mapping[str, Any], status: int = 200) -> Response:
    """A JSON 1.0 response; datetimes become epoch seconds."""
    text = json.dumps(body, default=_default, separators=(",", ":"), ensure_ascii=False)
    return Response(text, status_code=status, media_type=CONTENT_TYPE,
                    headers={"x-amzn-RequestId": str(uuid.uuid4())})


def error_response(error: AwsError) -> Response:
    """The JSON 1.0 error shape ``{"__type", "message"}`` with the error's status."""
    resp = json_response(error.body(), status=error.status)
    resp.headers["x-amzn-query-error"] = f"{error.code};Sender"
    return resp


# ---- request validation -------------------------------------------------------------

_TYPE_WORDS = {"integer": "an Integer", "long": "a Long", "boolean": "a Boolean", "double": "a Double",
               "float": "a Float"}


def _token_name(value: JSON) -> str:
    if value is True:
        return "TRUE_VALUE"
    if value is False:
        return "FALSE_VALUE"
    if isinstance(value, (int, float)):
        return "NUMBER_VALUE"
    return "STRING_VALUE"


def _type_error(shape: Shape, value: JSON) -> str | None:
    """Coral's SerializationException message when ``value`` has the wrong JSON type."""
    kind = shape.type_name
    if isinstance(value, dict) and kind not in ("structure", "map"):
        return "Start of structure or map found where not expected."
    if isinstance(value, list) and kind != "list":
        return "Start of list found where not expected"
    if kind in ("structure", "map") and not isinstance(value, dict):
        return "Expected start of structure or map"
    if kind == "list" and not isinstance(value, list):
        return "Expected list or an array"
    if kind == "string" and not isinstance(value, str):
        return f"{_token_name(value)} cannot be converted to String"
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                (isinstance(value, float) and not value.is_integer()):
            return f"{_token_name(value)} can not be converted to {_TYPE_WORDS[kind]}"
    if kind == "boolean" and not isinstance(value, bool):
        return f"{_token_name(value)} can not be converted to a Boolean"
    if kind in ("double", "float", "timestamp") and (isinstance(value, bool) or not isinstance(value, (int, float))):
        return f"{_token_name(value)} can not be converted to {_TYPE_WORDS.get(kind, 'a Date')}"
    return None


def _show(value: JSON, shape: Shape) -> str:
    if shape.metadata.get("sensitive"):
        return "Value at"
    if value is None:
        return "Value null at"
    if isinstance(value, bool):
        return f"Value '{str(value).lower()}' at"
    if isinstance(value, list):
        member = shape.member if isinstance(shape, ListShape) else None
        return "Value '[" + ", ".join(_java(v, member) for v in value) + "]' at"
    return f"Value '{_java(value, shape)}' at"


def _java(value: JSON, shape: Shape | None) -> str:
    """How AWS's Java service prints a value in a validation message (``Item(a=1, b=x)``)."""
    if isinstance(value, dict) and isinstance(shape, StructureShape):
        inner = ", ".join(f"{k}={_java(value[k], shape.members[k])}" for k in shape.members if k in value)
        return f"{shape.name}({inner})"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _enum_set(shape: Shape) -> str:
    values = _ENUM_ORDER.get(shape.name, list(shape.enum))
    return "[" + ", ".join(values) + "]"


def _constraints(shape: Shape, value: JSON, where: str, errors: list[str]) -> None:
    meta = shape.metadata
    kind = shape.type_name
    fail = f"{_show(value, shape)} '{where}' failed to satisfy constraint: Member must "
    if kind == "string":
        size = len(value)
        if "min" in meta and size < meta["min"]:
            errors.append(fail + f"have length greater than or equal to {meta['min']}")
        elif "max" in meta and size > meta["max"]:
            errors.append(fail + f"have length less than or equal to {meta['max']}")
        elif getattr(shape, "enum", None) and value not in shape.enum:
            errors.append(fail + f"satisfy enum value set: {_enum_set(shape)}")
        elif "pattern" in meta and _pattern_fails(meta["pattern"], value):
            errors.append(fail + f"satisfy regular expression pattern: {meta['pattern']}")
    elif kind in ("integer", "long"):
        if "min" in meta and value < meta["min"]:
            errors.append(fail + f"have value greater than or equal to {meta['min']}")
        elif "max" in meta and value > meta["max"]:
            errors.append(fail + f"have value less than or equal to {meta['max']}")
    elif kind in ("list", "map"):
        if "min" in meta and len(value) < meta["min"]:
            errors.append(fail + f"have length greater than or equal to {meta['min']}")
        elif "max" in meta and len(value) > meta["max"]:
            errors.append(fail + f"have length less than or equal to {meta['max']}")


def _pattern_fails(pattern: str, value: str) -> bool:
    if pattern == "\\p{ASCII}*":
        return not value.isascii()
    try:
        return re.fullmatch(pattern, value) is None
    except re.error:
        return False


def _walk(shape: Shape, value: JSON, where: str, errors: list[str]) -> None:
    problem = _type_error(shape, value)
    if problem is not None:
        raise SerializationException(problem)
    _constraints(shape, value, where, errors)
    if isinstance(shape, StructureShape):
        _walk_structure(shape, value, where + "." if where else "", errors)
    elif isinstance(shape, ListShape):
        for i, item in enumerate(value, start=1):
            if item is not None:
                _walk(shape.member, item, f"{where}.{i}.member", errors)
    elif isinstance(shape, MapShape):
        for key, item in value.items():
            _walk(shape.key, key, f"{where}.key", errors)
            if item is not None:
                _walk(shape.value, item, f"{where}.{key}.value", errors)


def _walk_structure(shape: StructureShape, value: dict[str, JSON], prefix: str, errors: list[str]) -> None:
    for name, member in shape.members.items():
        item = value.get(name)
        if item is None:
            if name in shape.required_members:
                errors.append(f"Value null at '{prefix}{name}' failed to satisfy constraint: Member must not be null")
            continue
        _walk(member, item, prefix + name, errors)


def validate_request(shape: StructureShape | None, body: JSON) -> dict[str, Any]:
    """Check ``body`` against the operation's input shape; returns it without null members."""
    if not isinstance(body, dict):
        raise SerializationException("Start of structure or map found where not expected." if body is not None
                                     else None)
    if shape is None:
        return {}
    errors: list[str] = []
    _walk_structure(shape, body, "", errors)
    if errors:
        noun = "error" if len(errors) == 1 else "errors"
        raise ValidationException(f"{len(errors)} validation {noun} detected: " + "; ".join(errors))
    return {k: v for k, v in body.items() if v is not None and k in shape.members}


def parse_body(raw: bytes) -> JSON:
    """The request body as JSON ({} when empty); malformed JSON is a SerializationException."""
    if not raw.strip():
        return {}
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError):
        raise SerializationException(None) from None


def _reject_constant(name: str) -> float:
    raise ValueError(name)


class JsonService:
    """One AWS JSON 1.0 service: a target prefix, its model and a handler per operation."""

    def __init__(self, model_name: str, handlers: Mapping[str, Handler]) -> None:
        self.model = service_model(model_name)
        self.prefix = str(self.model.metadata["targetPrefix"])
        self.handlers = dict(handlers)
        missing = [op for op in self.model.operation_names if op not in self.handlers]
        if missing:
            raise ValueError(f"no handler for operations: {', '.join(missing)}")

    def owns(self, target: str) -> bool:
        return target.split(".", 1)[0] == self.prefix

    async def dispatch(self, target: str, raw: bytes) -> Mapping[str, Any]:
        """Validate and run one call; AwsError on bad input."""
        prefix, _, operation = target.partition(".")
        if prefix != self.prefix or operation not in self.handlers:
            raise UnknownOperationException(None)
        body = parse_body(raw)
        params = validate_request(self.model.operation_model(operation).input_shape, body)
        return await self.handlers[operation](params)

    async def handle(self, request: Request) -> Response:
        target = request.headers.get("x-amz-target", "")
        raw = await request.body()
        result = await self.dispatch(target, raw)
        return json_response(result)


def is_finite_number(value: JSON) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and bool(math.isfinite(value))
