"""``statesim serve`` with the task flags, as a user runs it: SFN_MOCK_CONFIG pointing at AWS's
documented MockConfigFile, --tasks loading handlers from a file, --wait-time-scale 0."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import make_client, wait_for
from tests.conftest import ROOT

DATA = ROOT / "tests" / "engine" / "tasks" / "data"
TASKS = '''
from engine.tasks.registry import TaskRegistry

registry = TaskRegistry()


@registry.task("arn:aws:states:::sqs:sendMessage")
def send(params):
    return {"MessageId": "from-tasks-file", "MD5OfMessageBody": str(len(params["MessageBody"]))}
'''


@pytest.fixture(scope="module")
def s3_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("s3")
    (root / "in").mkdir()
    (root / "out").mkdir()
    (root / "in" / "rows.jsonl").write_text("".join(json.dumps({"n": i}) + "\n" for i in range(50)))
    return root


@pytest.fixture(scope="module")
def lambda_endpoint() -> Iterator[str]:
    from starlette.applications import Starlette
    from starlette.routing import Route

    from tests.api.test_tasks_lambda import ThreadServer, _invocations
    app = Starlette(routes=[Route("/2015-03-31/functions/{name}/invocations", _invocations, methods=["POST"])])
    with ThreadServer(app) as running:
        yield running.endpoint


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, s3_dir: Path, lambda_endpoint: str) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("serve")
    (folder / "my_tasks.py").write_text(TASKS)
    env = {**os.environ, "SFN_MOCK_CONFIG": str(DATA / "MockConfigFile.json")}
    process = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", "0", "--in-memory",
                                "--wait-time-scale", "0", "--tasks", str(folder / "my_tasks.py"),
                                "--lambda-endpoint", lambda_endpoint, "--s3-dir", str(s3_dir)],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert process.stdout is not None
        endpoint = ""
        for line in process.stdout:
            found = re.search(r"http://127\.0\.0\.1:\d+", line)
            if found:
                endpoint = found.group(0)
                break
        assert endpoint, "statesim serve printed no endpoint"
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def _run(sfn: Any, arn: str, case: str) -> dict[str, Any]:
    return wait_for(sfn, sfn.start_execution(stateMachineArn=f"{arn}#{case}", name=f"run-{case}")["executionArn"])


def test_documented_test_cases_run_unchanged(served: str) -> None:
    sfn = make_client(served)
    arn = sfn.create_state_machine(name="LambdaSQSIntegration", definition=(DATA / "LambdaSQSIntegration.asl.json")
                                   .read_text(), roleArn="arn:aws:iam::123456789012:role/service-role/"
                                   "LambdaSQSIntegration")["stateMachineArn"]
    happy, retry, hybrid = (_run(sfn, arn, case) for case in ("HappyPath", "RetryPath", "HybridPath"))
    mocked_sqs = {"MD5OfMessageBody": "3bcb6e8e-7h85-4375-b0bc-1a59812c6e51",
                  "MessageId": "3bcb6e8e-8b51-4375-b0bc-1a59812c6e51"}
    assert json.loads(happy["output"]) == mocked_sqs
    assert json.loads(retry["output"]) == mocked_sqs
    # HybridPath: SQSState is not mocked, so the handler from --tasks answers it.
    assert hybrid["status"] == "SUCCEEDED"
    assert json.loads(hybrid["output"])["MessageId"] == "from-tasks-file"


def test_lambda_endpoint_and_s3_dir_flags(served: str, s3_dir: Path) -> None:
    sfn = make_client(served)
    definition = {"StartAt": "Echo", "States": {
        "Echo": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "OutputPath": "$.Payload",
                 "Parameters": {"FunctionName": "echo", "Payload.$": "$"}, "Next": "Fan"},
        "Fan": {"Type": "Map", "End": True,
                "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSONL"},
                               "Parameters": {"Bucket": "in", "Key.$": "$.echo.key"}},
                "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                                  "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
                "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                                 "Parameters": {"Bucket": "out", "Prefix": "cli"}}}}}
    arn = sfn.create_state_machine(name="flags", definition=json.dumps(definition),
                                   roleArn="arn:aws:iam::123456789012:role/r")["stateMachineArn"]
    described = wait_for(sfn, sfn.start_execution(stateMachineArn=arn, input='{"key": "rows.jsonl"}')["executionArn"])
    assert described["status"] == "SUCCEEDED"
    written = json.loads(described["output"])["ResultWriterDetails"]
    manifest = json.loads((s3_dir / written["Bucket"] / written["Key"]).read_text())
    [results] = manifest["ResultFiles"]["SUCCEEDED"]
    assert len(json.loads((s3_dir / "out" / results["Key"]).read_text())) == 50


def test_run_a_mock_test_case_in_process(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from api.cli import main

    definition = tmp_path / "LambdaSQSIntegration.json"
    definition.write_text((DATA / "LambdaSQSIntegration.asl.json").read_text())
    (tmp_path / "my_tasks.py").write_text(TASKS)
    config = str(DATA / "MockConfigFile.json")
    assert main(["run", str(definition), "--mock-config", config, "--test-case", "HappyPath"]) == 0
    assert json.loads(capsys.readouterr().out)["MessageId"] == "3bcb6e8e-8b51-4375-b0bc-1a59812c6e51"
    assert main(["run", str(definition), "--mock-config", config, "--test-case", "HybridPath",
                 "--tasks", str(tmp_path / "my_tasks.py")]) == 0
    assert json.loads(capsys.readouterr().out)["MessageId"] == "from-tasks-file"
    assert main(["run", str(definition), "--mock-config", config, "--test-case", "Nope"]) == 2
    assert capsys.readouterr().err.startswith("Test case 'Nope' is not defined for state machine 'LambdaSQSIntegration'")
