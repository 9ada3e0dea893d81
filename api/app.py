"""The FastAPI app: one ``POST /`` for AWS JSON 1.0 (Step Functions) and IAM's Query protocol,
plus the routers in ROUTERS; the ONE error handler that renders AWS exception shapes."""
from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from starlette.requests import Request
from starlette.responses import Response

from api import iam
from api.awsjson import JsonService, error_response
from api.bedrock_agent_runtime import router as bedrock_flows_router
from api.errors import AwsError, SerializationException, UnknownOperationException, to_aws
from api.sim import router as sim_router
from api.stepfunctions import handlers
from engine.errors import StatesimError
from engine.runtime import Runtime

log = logging.getLogger("statesim.api")

ROUTERS: list[APIRouter] = [bedrock_flows_router, sim_router]
"""Routers of other services (bedrock-agent, bedrock-agent-runtime, ...), included by create_app."""


def create_app(runtime: Runtime | None = None) -> FastAPI:
    """The statesim HTTP app serving ``runtime`` (a fresh in-memory one when None)."""
    runtime = runtime or Runtime()
    sfn = JsonService("stepfunctions", handlers(runtime))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with runtime.running():
            yield

    app = FastAPI(title="statesim", lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)
    app.state.runtime = runtime

    @app.post("/")
    async def root(request: Request) -> Response:
        target = request.headers.get("x-amz-target")
        if target is None and "x-www-form-urlencoded" in request.headers.get("content-type", ""):
            return await iam.handle(request, runtime)
        if target is None or not sfn.owns(target):
            return error_response(UnknownOperationException(None))
        return await sfn.handle(request)

    @app.exception_handler(AwsError)
    async def aws_error(_request: Request, exc: AwsError) -> Response:
        return _render(exc)

    @app.exception_handler(StatesimError)
    async def engine_error(_request: Request, exc: StatesimError) -> Response:
        converted = to_aws(exc)
        if converted is None:  # pragma: no cover - every StatesimError subclass is in the table
            raise exc
        return _render(converted)

    @app.exception_handler(UnicodeDecodeError)
    async def bad_bytes(_request: Request, _exc: UnicodeDecodeError) -> Response:
        return _render(SerializationException(None))

    for router in ROUTERS:
        app.include_router(router)
    return app


def _render(error: AwsError) -> Response:
    """JSON 1.0 shape; the x-amzn-ErrorType header lets REST-JSON clients read it too."""
    response = error_response(error)
    response.headers["x-amzn-ErrorType"] = error.code
    return response
