"""Sim runs live in the store: a restart keeps them, and a state machine run ends with its execution."""
from __future__ import annotations

from pathlib import Path

from simstudio import AsyncExecutionResult, SimStudioClient

from engine.runtime import Runtime
from engine.store import SqliteStore
from tests.api.conftest import Server, make_client
from tests.sim.fixtures import activity_machine, machine, wait_until


def _server(data: Path) -> Server:
    return Server(Runtime(SqliteStore(data), activity_poll_seconds=0.5))


def test_an_async_run_survives_a_restart(tmp_path: Path) -> None:
    with _server(tmp_path) as first:
        sfn = make_client(first.endpoint)
        activity = sfn.create_activity(name="sim-restart")["activityArn"]
        name = machine(first.endpoint, activity_machine(activity))
        with SimStudioClient(api_key="k", base_url=first.endpoint) as client:
            queued = client.execute_workflow(name, {"n": 1}, async_execution=True)
            assert isinstance(queued, AsyncExecutionResult)
            assert wait_until(lambda: client.get_workflow_run(name, queued.run_id)["status"] == "running")
    with _server(tmp_path) as second:
        sfn = make_client(second.endpoint)
        with SimStudioClient(api_key="k", base_url=second.endpoint) as client:
            assert client.get_workflow_run(name, queued.run_id)["status"] == "running"
            task = sfn.get_activity_task(activityArn=activity)
            sfn.send_task_success(taskToken=task["taskToken"], output='{"after": "restart"}')
            run = wait_until(lambda: (r := client.get_workflow_run(name, queued.run_id, include_output=True))[
                "status"] == "completed" and r)
            assert run["output"] == {"after": "restart"}
            assert client.get_job_status(queued.run_id)["status"] == "completed"
