"""The ``statesim`` command: ``serve`` the AWS APIs, ``run`` one execution, ``validate`` a definition."""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DEFAULT_PORT = 8083
DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"
DEFAULT_DATA_DIR = ".statesim"

SNIPPET = """\
statesim is serving AWS Step Functions at {endpoint}
  data: {data}

boto3:
    import boto3
    from botocore.config import Config
    sfn = boto3.client("stepfunctions", endpoint_url="{endpoint}", region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test",
                       config=Config(inject_host_prefix=False))
AWS CLI / any SDK:
    export AWS_ENDPOINT_URL={endpoint} AWS_DISABLE_HOST_PREFIX_INJECTION=true
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="statesim", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the AWS-compatible HTTP APIs")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port")
    where = serve.add_mutually_exclusive_group()
    where.add_argument("--data-dir", default=DEFAULT_DATA_DIR, help="SQLite data directory (default .statesim)")
    where.add_argument("--in-memory", action="store_true", help="keep nothing on disk")
    serve.add_argument("--mock-config", default=None,
                       help="Step Functions Local MockConfigFile (default: $SFN_MOCK_CONFIG, ./MockConfigFile.json)")
    serve.add_argument("--account", default=os.environ.get("STATESIM_ACCOUNT", DEFAULT_ACCOUNT),
                       help="account id in ARNs (default $STATESIM_ACCOUNT or 123456789012)")
    serve.add_argument("--region", default=os.environ.get("STATESIM_REGION", DEFAULT_REGION),
                       help="region in ARNs (default $STATESIM_REGION or us-east-1)")
    serve.add_argument("--wait-time-scale", type=float, default=None,
                       help="scale Wait/timeouts (0 skips waiting), like Step Functions Local")
    serve.add_argument("--tasks", action="append", default=[],
                       help="a module or .py file defining `registry` or `register(registry)` (repeatable)")
    serve.add_argument("--lambda-endpoint", default=None,
                       help="a Lambda-compatible endpoint for functions no task handler answers (SAM local, ...)")
    serve.add_argument("--aws-endpoint", default=None,
                       help="forward aws-sdk and optimized integrations there with boto3 (LocalStack, moto, ...)")
    from api.bedrock_agent import add_serve_arguments
    add_serve_arguments(serve)  # the Bedrock Flows options (--flow-mocks, --s3-dir, ...)
    from api import sim
    sim.add_serve_arguments(serve)  # the Sim API options (--api-key, --sim-rate-limit)
    run = commands.add_parser("run", help="run one execution in process and print its output")
    run.add_argument("definition", help="path to an ASL definition (JSON)")
    run.add_argument("--input", default=None, help="execution input (JSON text)")
    run.add_argument("--history", action="store_true", help="print the execution history too")
    run.add_argument("--tasks", action="append", default=[], help="task handlers, as for serve (repeatable)")
    run.add_argument("--mock-config", default=None, help="Step Functions Local MockConfigFile ($SFN_MOCK_CONFIG)")
    run.add_argument("--test-case", default=None, help="the mock test case to run (needs --state-machine-name)")
    run.add_argument("--state-machine-name", default=None, help="the machine's name in the mock configuration")
    validate = commands.add_parser("validate", help="print AWS's diagnostics for a definition")
    validate.add_argument("definition")
    validate.add_argument("--type", default="STANDARD", choices=["STANDARD", "EXPRESS"])
    return parser


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app
    from api.bedrock_agent import configure, settings_from_args
    from api.server import listen
    from engine.clock import Clock, ScaledClock, SystemClock
    from engine.arns import Arns
    from engine.runtime import Runtime
    from engine.store import MemoryStore, SqliteStore
    from engine.tasks.mocks import MockConfig

    store = MemoryStore() if args.in_memory else SqliteStore(args.data_dir)
    clock: Clock = SystemClock() if args.wait_time_scale is None else ScaledClock(args.wait_time_scale)
    runtime = Runtime(store, clock=clock, mock_config=MockConfig.from_env(args.mock_config),
                      registry=_tasks(args.tasks), arns=Arns(region=args.region, account=args.account))
    runtime.integrations.configure(lambda_endpoint=args.lambda_endpoint, aws_endpoint=args.aws_endpoint,
                                   s3_dir=getattr(args, "s3_dir", None))
    sock = listen(args.host, args.port)  # TCP_NODELAY, and listening before the endpoint is printed
    port = sock.getsockname()[1]
    host = f"[{args.host}]" if ":" in args.host else args.host
    data = "in memory (nothing is kept)" if args.in_memory else str(Path(args.data_dir).resolve())
    print(SNIPPET.format(endpoint=f"http://{host}:{port}", data=data), flush=True)
    app = create_app(runtime)
    configure(app, **settings_from_args(args))
    from api import sim
    print(sim.configure_from_args(app, args).banner(), flush=True)
    # GetActivityTask long-polls for up to 60 s: do not let open polls hold a shutdown up
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2))
    server.run(sockets=[sock])
    return 0


def _tasks(specs: list[str]) -> Any:
    from engine.tasks.registry import TaskRegistry, load_tasks

    registry = TaskRegistry()
    for spec in specs:
        loaded = load_tasks(spec, registry)
        if loaded is not registry:  # a module with its own registry: take its handlers over
            for pattern, handler in loaded.items():
                registry.register(pattern, handler)
    return registry


def _read(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


def _run(args: argparse.Namespace) -> int:
    import engine.asl as asl
    from engine.errors import InvalidDefinition, StatesimError
    from engine.tasks.builtin import with_builtins
    from engine.tasks.mocks import MockConfig, mocked
    from engine.tasks.registry import TaskRegistry

    registry: TaskRegistry = with_builtins(_tasks(args.tasks))
    try:
        if args.test_case:
            config = MockConfig.from_env(args.mock_config)
            registry = mocked(registry, config, args.state_machine_name or Path(args.definition).stem, args.test_case)
        result = asl.run_sync(_read(args.definition), args.input, registry=registry)
    except InvalidDefinition as exc:
        print(exc.message, file=sys.stderr)
        return 2
    except StatesimError as exc:  # an unknown test case
        print(getattr(exc, "message", str(exc)), file=sys.stderr)
        return 2
    if args.history:
        for event in result.history:
            print(json.dumps(event, default=_default, ensure_ascii=False))
    if result.status == "SUCCEEDED":
        print(result.output)
        return 0
    print(json.dumps({"status": result.status, "error": result.error, "cause": result.cause}, ensure_ascii=False))
    return 1


def _default(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _validate(args: argparse.Namespace) -> int:
    from engine.asl import validate

    response = validate.validate_definition_response(_read(args.definition), type=args.type)
    print(json.dumps(response, indent=2, ensure_ascii=False))
    return 0 if response.get("result") == "OK" else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``statesim`` console script."""
    args = _parser().parse_args(argv)
    command = {"serve": _serve, "run": _run, "validate": _validate}[args.command]
    return command(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
