"""The real simstudio-sdk 0.2.x against the real server: state machines and flows as Sim workflows."""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import simstudio
from simstudio import AsyncExecutionResult, SimStudioClient, SimStudioError, WorkflowExecutionResult

from tests.api.conftest import Server
from tests.engine.flows._defs import passthrough
from tests.sim.fixtures import FAIL, GREET, activity_machine, flow, machine, wait_until


@pytest.fixture
def client(server: Server) -> Iterator[SimStudioClient]:
    with SimStudioClient(api_key="any-key", base_url=server.endpoint + "/") as sdk:
        yield sdk


def _sync(client: SimStudioClient, workflow: str, data: Any = None, **kw: Any) -> WorkflowExecutionResult:
    result = client.execute_workflow(workflow, data, **kw)
    assert isinstance(result, WorkflowExecutionResult)
    return result


def test_the_tests_drive_the_current_0_2_sdk() -> None:
    assert simstudio.__version__.startswith("0.2."), simstudio.__version__


def test_sync_success_returns_the_output_and_run_metadata(server: Server, client: SimStudioClient) -> None:
    name = machine(server.endpoint, GREET)
    result = _sync(client, name, {"name": "Ann"})
    assert (result.success, result.status, result.error) == (True, "completed", None)
    assert result.output == {"greeting": "Hello, Ann!", "loud": True}
    assert (result.logs, result.trace_spans) == (None, None)
    assert result.metadata is not None and set(result.metadata) == {"duration", "runId", "startTime", "endTime"}
    assert result.total_duration == result.metadata["duration"] >= 0
    assert result.metadata["startTime"].endswith("Z") and result.metadata["endTime"] >= result.metadata["startTime"]


def test_a_sim_run_is_an_execution_visible_through_step_functions(server: Server, client: SimStudioClient,
                                                                  sfn: Any) -> None:
    name = machine(server.endpoint, GREET)
    result = _sync(client, name, {"name": "Bo"})
    assert result.metadata is not None
    run_id = result.metadata["runId"]
    arn = f"arn:aws:states:us-east-1:123456789012:execution:{name}:{run_id}"
    described = sfn.describe_execution(executionArn=arn)
    assert (described["status"], described["input"], described["output"]) == (
        "SUCCEEDED", '{"name": "Bo"}', '{"greeting":"Hello, Bo!","loud":true}')
    history = sfn.get_execution_history(executionArn=arn)["events"]
    assert [e["type"] for e in history][-1] == "ExecutionSucceeded"


def test_a_state_machine_arn_is_a_workflow_id_too(server: Server, client: SimStudioClient) -> None:
    name = machine(server.endpoint, GREET)
    result = _sync(client, f"arn:aws:states:us-east-1:123456789012:stateMachine:{name}", {"name": "Cy"})
    assert result.output == {"greeting": "Hello, Cy!", "loud": True}


def test_sync_failure_is_in_band_with_status_failed(server: Server, client: SimStudioClient) -> None:
    name = machine(server.endpoint, FAIL)
    result = _sync(client, name, {"order": 7})
    assert (result.success, result.status, result.output) == (False, "failed", None)
    assert result.error == "Order.Rejected: no stock for the order"


def test_sync_failure_error_object_names_the_failing_state(server: Server, http: Any) -> None:
    name = machine(server.endpoint, FAIL)
    response = http.post(f"/api/v2/workflows/{name}/execute", json={"input": {}}, headers={"X-API-Key": "k"})
    assert response.status_code == 200
    assert response.headers["x-run-id"] == response.json()["data"]["runId"]
    assert response.headers["cache-control"] == "private, no-store"
    assert response.json()["data"]["error"] == {
        "message": "Order.Rejected: no stock for the order", "code": "EXECUTION_FAILED",
        "blockId": "Reject", "blockName": "Reject", "blockType": "Fail"}


def test_express_machines_run_too(server: Server, client: SimStudioClient) -> None:
    name = machine(server.endpoint, GREET, type="EXPRESS")
    result = _sync(client, name, "Di")  # a primitive is sent as {"input": "Di"}
    assert result.success is False and result.error is not None
    assert result.error.startswith("States.Runtime: ")
    result = _sync(client, name, {"name": "Di"})
    assert result.output == {"greeting": "Hello, Di!", "loud": True}


def test_async_run_is_polled_from_running_to_completed(server: Server, client: SimStudioClient, sfn: Any) -> None:
    activity = sfn.create_activity(name=f"sim-{time.monotonic_ns()}")["activityArn"]
    name = machine(server.endpoint, activity_machine(activity))
    queued = client.execute_workflow(name, {"job": 1}, async_execution=True, execution_timeout_seconds=60)
    assert isinstance(queued, AsyncExecutionResult)
    assert queued.status_url == f"{server.endpoint}/api/v2/workflows/{name}/runs/{queued.run_id}"
    first = client.get_workflow_run(name, queued.run_id)
    assert first["status"] in ("queued", "running")
    assert set(first) == {"runId", "workflowId", "status", "trigger", "startedAt", "endedAt", "durationMs", "paused",
                          "cost", "error", "output", "blockOutputs"}
    task = sfn.get_activity_task(activityArn=activity)
    assert wait_until(lambda: client.get_workflow_run(name, queued.run_id)["status"] == "running")
    running = client.get_workflow_run(name, queued.run_id, include_output=True)
    assert (running["endedAt"], running["output"], running["trigger"]) == (None, None, "api")
    sfn.send_task_success(taskToken=task["taskToken"], output='{"done": true}')
    done = wait_until(lambda: (r := client.get_workflow_run(name, queued.run_id))["status"] == "completed" and r)
    assert done["output"] is None  # only with include_output=True
    full = client.get_workflow_run(name, queued.run_id, include_output=True, selected_outputs=["Work.done"])
    assert (full["output"], full["blockOutputs"], full["error"]) == ({"done": True}, {"Work.done": True}, None)
    assert full["durationMs"] >= 0 and full["endedAt"] >= full["startedAt"]


def test_async_execution_timeout_fails_the_run_with_timeout(server: Server, client: SimStudioClient,
                                                            sfn: Any) -> None:
    activity = sfn.create_activity(name=f"sim-{time.monotonic_ns()}")["activityArn"]
    name = machine(server.endpoint, activity_machine(activity))
    queued = client.execute_workflow(name, {}, async_execution=True, execution_timeout_seconds=1)
    assert isinstance(queued, AsyncExecutionResult)
    run = wait_until(lambda: (r := client.get_workflow_run(name, queued.run_id))["status"] == "failed" and r)
    assert run["error"] == {"message": "Workflow execution timed out after 1 seconds", "code": "TIMEOUT"}
    execution = sfn.describe_execution(executionArn=f"arn:aws:states:us-east-1:123456789012:execution:{name}:"
                                                    f"{queued.run_id}")
    assert execution["status"] == "ABORTED"


def test_validate_workflow_and_status(server: Server, client: SimStudioClient) -> None:
    name = machine(server.endpoint, GREET)
    assert client.validate_workflow(name) is True
    status = client.get_workflow_status(name)
    assert status.is_deployed is True and status.needs_redeployment is False
    assert status.deployed_at is not None and status.deployed_at.endswith("Z")
    assert client.validate_workflow("no-such-workflow") is False
    draft = flow(server.endpoint, passthrough(), prepare=False)
    assert client.validate_workflow(draft) is False
    assert client.validate_workflow(flow(server.endpoint, passthrough())) is True


def test_usage_limits(client: SimStudioClient) -> None:
    limits = client.get_usage_limits()
    assert limits.success is True
    assert set(limits.rate_limit) == {"sync", "async", "authType"} and limits.rate_limit["authType"] == "api"
    assert set(limits.rate_limit["sync"]) == {"isLimited", "requestsPerMinute", "maxBurst", "remaining", "resetAt"}
    assert limits.rate_limit["sync"]["isLimited"] is False
    assert set(limits.usage) == {"currentPeriodCost", "limit", "plan"} and limits.usage["currentPeriodCost"] == 0
    assert client.get_rate_limit_info() is None  # no rate-limit headers when nothing is limited


def test_unknown_workflow_id(client: SimStudioClient) -> None:
    with pytest.raises(SimStudioError) as raised:
        client.execute_workflow("no-such-workflow", {"a": 1})
    assert (str(raised.value), raised.value.code, raised.value.status) == ("Workflow not found", "NOT_FOUND", 404)
    with pytest.raises(SimStudioError) as raised:
        client.get_workflow_status("no-such-workflow")
    assert (str(raised.value), raised.value.code, raised.value.status) == (
        "Workflow not found", "WORKFLOW_NOT_FOUND", 404)
    with pytest.raises(SimStudioError) as raised:
        client.get_workflow_run("no-such-workflow", "r1")
    assert (raised.value.code, raised.value.status) == ("NOT_FOUND", 404)
    with pytest.raises(SimStudioError) as raised:
        client.get_job_status("no-such-task")
    assert (str(raised.value), raised.value.code, raised.value.status) == ("Task not found", "TASK_NOT_FOUND", 404)


def test_unknown_run_of_a_known_workflow(server: Server, client: SimStudioClient) -> None:
    name = machine(server.endpoint, GREET)
    with pytest.raises(SimStudioError) as raised:
        client.get_workflow_run(name, "no-such-run")
    assert (str(raised.value), raised.value.code, raised.value.status) == ("Workflow run not found", "NOT_FOUND", 404)


def test_a_run_of_one_workflow_is_not_found_under_another(server: Server, client: SimStudioClient) -> None:
    first, second = machine(server.endpoint, GREET), machine(server.endpoint, GREET)
    result = _sync(client, first, {"name": "Ed"})
    assert result.metadata is not None
    with pytest.raises(SimStudioError) as raised:
        client.get_workflow_run(second, result.metadata["runId"])
    assert raised.value.status == 404


def test_flows_run_as_workflows(server: Server, client: SimStudioClient) -> None:
    flow_id = flow(server.endpoint, passthrough())
    result = _sync(client, flow_id, "hello flow")  # String input node: the SDK's {"input": v} is unwrapped
    assert (result.success, result.output) == (True, "hello flow")
    typed = _sync(client, flow_id, {"not": "a string"})
    assert typed.status == "failed" and typed.error is not None


def test_job_status_reads_v2_runs_too(server: Server, client: SimStudioClient) -> None:
    name = machine(server.endpoint, GREET)
    result = _sync(client, name, {"name": "Flo"})
    assert result.metadata is not None
    job = client.get_job_status(result.metadata["runId"])
    assert (job["success"], job["taskId"], job["status"]) == (True, result.metadata["runId"], "completed")
    assert job["output"] == {"greeting": "Hello, Flo!", "loud": True}
    assert set(job["metadata"]) == {"workflowId", "createdAt", "startedAt", "completedAt", "duration"}


def test_streaming_through_the_sdk_is_an_execution_error_as_with_sim(server: Server,
                                                                       client: SimStudioClient) -> None:
    name = machine(server.endpoint, GREET)
    with pytest.raises(SimStudioError) as raised:
        client.execute_workflow(name, {"name": "Gus"}, stream=True)
    assert (raised.value.code, raised.value.status) == ("EXECUTION_ERROR", None)


def test_stopping_the_execution_cancels_the_run(server: Server, client: SimStudioClient, sfn: Any) -> None:
    activity = sfn.create_activity(name=f"sim-{time.monotonic_ns()}")["activityArn"]
    name = machine(server.endpoint, activity_machine(activity))
    queued = client.execute_workflow(name, {}, async_execution=True)
    assert isinstance(queued, AsyncExecutionResult)
    assert wait_until(lambda: client.get_workflow_run(name, queued.run_id)["status"] == "running")
    sfn.stop_execution(executionArn=f"arn:aws:states:us-east-1:123456789012:execution:{name}:{queued.run_id}",
                       error="Operator", cause="not needed any more")
    run = wait_until(lambda: (r := client.get_workflow_run(name, queued.run_id))["status"] == "cancelled" and r)
    assert run["error"] == {"message": "not needed any more", "code": "CANCELLED"}
    assert client.get_job_status(queued.run_id)["status"] == "cancelled"


@pytest.mark.parametrize("machine_type", ["STANDARD", "EXPRESS"])
def test_version_and_alias_arns_are_workflow_ids(server: Server, client: SimStudioClient, sfn: Any,
                                                machine_type: str) -> None:
    name = machine(server.endpoint, GREET, type=machine_type)
    arn = f"arn:aws:states:us-east-1:123456789012:stateMachine:{name}"
    version = sfn.publish_state_machine_version(stateMachineArn=arn)["stateMachineVersionArn"]
    sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(FAIL))
    alias = sfn.create_state_machine_alias(name="live", routingConfiguration=[
        {"stateMachineVersionArn": version, "weight": 100}])["stateMachineAliasArn"]
    assert _sync(client, name, {"name": "Vi"}).status == "failed"  # the machine itself runs its latest revision
    for target in (version, alias):
        assert client.validate_workflow(target) is True
        result = _sync(client, target, {"name": "Vi"})
        assert (result.status, result.output) == ("completed", {"greeting": "Hello, Vi!", "loud": True})
    assert client.validate_workflow(f"{arn}:99") is False


def test_a_flow_alias_arn_runs_that_alias(server: Server, client: SimStudioClient) -> None:
    from tests.api.conftest import make_client
    from tests.engine.flows._defs import code, data, inp, io, out
    agent = make_client(server.endpoint, "bedrock-agent")
    flow_id = flow(server.endpoint, passthrough())
    flow_arn = f"arn:aws:bedrock:us-east-1:123456789012:flow/{flow_id}"
    version = agent.create_flow_version(flowIdentifier=flow_id)["version"]
    alias = agent.create_flow_alias(flowIdentifier=flow_id, name="live",
                                    routingConfiguration=[{"flowVersion": version}])["id"]
    shouting = {"nodes": [inp(), code("Up", "q.upper()", [io("q")]), out()],
                "connections": [data("In", "document", "Up", "q"), data("Up", "response", "Out", "document")]}
    agent.update_flow(flowIdentifier=flow_id, name=agent.get_flow(flowIdentifier=flow_id)["name"],
                      executionRoleArn=agent.get_flow(flowIdentifier=flow_id)["executionRoleArn"], definition=shouting)
    assert client.get_workflow_status(flow_id).needs_redeployment is True
    agent.prepare_flow(flowIdentifier=flow_id)
    assert _sync(client, f"{flow_arn}/alias/{alias}", "quiet").output == "quiet"  # version 1: passthrough
    assert _sync(client, flow_id, "quiet").output == "QUIET"  # the prepared draft
    assert client.validate_workflow(f"{flow_arn}/alias/NOSUCHALIA") is False
