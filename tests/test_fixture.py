"""The statesim pytest plugin (api.testing): fixtures, the entry point, the server's socket."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from api.testing import Engine, StatesimServer
from engine.clock import ScaledClock
from engine.tasks.mocks import MockConfig
from engine.tasks.registry import TaskRegistry

DATA = Path(__file__).parent / "engine" / "tasks" / "data"


def test_engine_runs_in_process_with_the_registry(statesim_engine: Engine, statesim_registry: TaskRegistry) -> None:
    statesim_registry.register("arn:aws:lambda:*:*:function:double", lambda event: event["n"] * 2)
    definition = {"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 86400, "Next": "T"},
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "OutputPath": "$.Payload",
              "Parameters": {"FunctionName": "double", "Payload.$": "$"}, "End": True}}}
    started = time.monotonic()
    result = statesim_engine.run(definition, {"n": 21})
    assert (result.status, json.loads(result.output)) == ("SUCCEEDED", 42)
    assert time.monotonic() - started < 1


def test_engine_runs_a_mock_test_case(statesim_registry: TaskRegistry) -> None:
    engine = Engine(statesim_registry, ScaledClock(0), MockConfig.load(DATA / "MockConfigFile.json"))
    result = engine.run((DATA / "LambdaSQSIntegration.asl.json").read_text(), {}, test_case="RetryPath",
                        machine_name="LambdaSQSIntegration")
    assert result.status == "SUCCEEDED"
    assert json.loads(result.output)["MessageId"] == "3bcb6e8e-8b51-4375-b0bc-1a59812c6e51"
    with pytest.raises(ValueError):
        engine.run("{}", test_case="HappyPath")


def test_server_fixture_gives_clients(statesim_server: StatesimServer) -> None:
    assert statesim_server.endpoint_url.startswith("http://127.0.0.1:")
    sfn = statesim_server.client("stepfunctions")
    assert sfn.list_state_machines()["stateMachines"] == []


def test_server_keeps_real_time_for_running_tasks(statesim_server: StatesimServer,
                                                  statesim_registry: TaskRegistry) -> None:
    # A callback task with a 1-hour timeout must not time out while the test answers it.
    definition = {"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken", "TimeoutSeconds": 3600,
        "Parameters": {"MessageBody": {"token.$": "$$.Task.Token"}}, "End": True}}}
    sfn = statesim_server.client()
    arn = sfn.create_state_machine(name="cb", definition=json.dumps(definition),
                                   roleArn="arn:aws:iam::123456789012:role/r")["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    token = None
    while token is None:
        events = sfn.get_execution_history(executionArn=execution)["events"]
        scheduled = [e for e in events if e["type"] == "TaskScheduled"]
        if scheduled:
            token = json.loads(scheduled[0]["taskScheduledEventDetails"]["parameters"])["MessageBody"]["token"]
        time.sleep(0.01)
    time.sleep(0.1)
    sfn.send_task_success(taskToken=token, output='"ok"')
    assert statesim_server.wait(execution)["output"] == '"ok"'


def test_plugin_is_registered_by_the_entry_point(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(
        "def test_it(statesim_server, statesim_engine, statesim_registry):\n"
        "    assert statesim_server.client('stepfunctions').list_activities()['activities'] == []\n")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    plugins = {point.name: point.value for point in entry_points(group="pytest11")}
    assert plugins["statesim"] == "api.testing"


def test_server_socket_sets_tcp_nodelay(statesim_server: StatesimServer) -> None:
    # Without TCP_NODELAY every boto3 call waits ~40 ms on the client's delayed ACK.
    assert statesim_server._sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    sfn = statesim_server.client("stepfunctions")
    sfn.list_activities()
    started = time.perf_counter()
    for _ in range(10):
        sfn.list_activities()
    assert (time.perf_counter() - started) / 10 < 0.03
