"""The 0.1.x surface: the real simstudio-sdk 0.1.2 (isolated venv) and the legacy routes over raw HTTP."""
from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import Server
from api.sim import RateLimit
from tests.sim.fixtures import FAIL, GREET, activity_machine, cached_legacy_venv, configured, machine, wait_until

SCRIPT = Path(__file__).resolve().parent.parent / "sim" / "legacy_client.py"
GREETING = {"greeting": "Hello, Old!", "loud": True}


@pytest.fixture(scope="session")
def legacy_python() -> Path:
    """A venv with simstudio-sdk==0.1.2; a failed pip install errors the test (never a skip)."""
    return cached_legacy_venv()


def test_sdk_0_1_against_the_server(server: Server, legacy_python: Path) -> None:
    greet, fail = machine(server.endpoint, GREET), machine(server.endpoint, FAIL)
    done = subprocess.run([str(legacy_python), str(SCRIPT), server.endpoint, greet, fail],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    steps = {line["step"]: line["value"] for line in map(json.loads, done.stdout.splitlines())}
    assert steps["version"].startswith("0.1.")
    sync = steps["sync"]
    assert (sync["success"], sync["output"], sync["error"], sync["logs"], sync["trace_spans"]) == (
        True, GREETING, None, [], [])
    assert set(sync["metadata"]) == {"duration", "startTime", "endTime"}
    assert (steps["failed"]["success"], steps["failed"]["error"]) == (False, "Order.Rejected: no stock for the order")
    queued = steps["async"]
    assert (queued["success"], queued["status"]) == (True, "queued")
    assert queued["links"] == {"status": f"{server.endpoint}/api/jobs/{queued['task_id']}"}
    job = steps["job"]
    assert (job["success"], job["taskId"], job["status"]) == (True, queued["task_id"], "completed")
    assert job["output"] == {"greeting": "Hello, Later!", "loud": True}
    assert steps["status"]["is_deployed"] is True and steps["validate_unknown"] is False
    assert steps["usage"]["success"] is True and steps["usage"]["rate_limit"]["authType"] == "api"
    assert steps["unknown"] == {"message": "Workflow not found", "code": "WORKFLOW_NOT_FOUND", "status": 404}


GUARDED_SCRIPT = """
import json, sys, time
from simstudio import SimStudioClient, SimStudioError
base, name, key = sys.argv[1:4]
def emit(step, value):
    print(json.dumps({"step": step, "value": value}), flush=True)
with SimStudioClient(api_key="wrong-key", base_url=base) as client:
    try:
        client.execute_workflow(name, {"name": "W"})
    except SimStudioError as error:
        emit("wrong_key", [str(error), error.code, error.status])
with SimStudioClient(api_key=key, base_url=base) as client:
    emit("first", client.execute_workflow(name, {"name": "A"}).output)
    try:
        client.execute_workflow(name, {"name": "B"})
    except SimStudioError as error:
        emit("limited", [str(error), error.code, error.status])
    info = client.get_rate_limit_info()
    emit("info", [info.limit, info.remaining, info.reset, info.retry_after])
    started = time.monotonic()
    emit("retried", client.execute_with_retry(name, {"name": "C"}, max_retries=3).output)
    emit("retry_seconds", time.monotonic() - started)
"""


def test_sdk_0_1_wrong_key_and_execute_with_retry(legacy_python: Path) -> None:
    """0.1.2 against a keyed, rate-limited server: 401 with the flat code, then 429 and a retry that recovers."""
    with configured(api_keys=["legacy-good-key"], rate_limit=RateLimit(1, 1.0)) as guarded:
        name = machine(guarded.endpoint, GREET)
        done = subprocess.run([str(legacy_python), "-c", GUARDED_SCRIPT, guarded.endpoint, name, "legacy-good-key"],
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    steps = {line["step"]: line["value"] for line in map(json.loads, done.stdout.splitlines())}
    assert steps["wrong_key"] == ["Unauthorized", "UNAUTHORIZED", 401]
    assert steps["first"] == {"greeting": "Hello, A!", "loud": True}
    assert steps["limited"] == ["Rate limit exceeded. Retry after 1000ms", "RATE_LIMIT_EXCEEDED", 429]
    limit, remaining, reset, retry_after = steps["info"]
    assert (limit, remaining, retry_after) == (1, 0, 1000) and reset > 1_700_000_000  # epoch seconds, as 0.1.x parses
    assert steps["retried"] == {"greeting": "Hello, C!", "loud": True} and steps["retry_seconds"] < 5


def test_legacy_sync_body_is_the_input(http: httpx.Client, server: Server) -> None:
    name = machine(server.endpoint, GREET)
    response = http.post(f"/api/workflows/{name}/execute", json={"name": "Raw", "triggerType": "api"},
                         headers={"X-API-Key": "k"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"success", "executionId", "output", "error", "logs", "metadata", "traceSpans",
                         "totalDuration"}
    assert (body["success"], body["output"]) == (True, {"greeting": "Hello, Raw!", "loud": True})


def test_legacy_async_202_and_job_lifecycle(http: httpx.Client, server: Server) -> None:
    name = machine(server.endpoint, GREET)
    response = http.post(f"/api/workflows/{name}/execute", json={"name": "Job"},
                         headers={"X-API-Key": "k", "X-Execution-Mode": "async"})
    assert response.status_code == 202
    body = response.json()
    task = body["taskId"]
    assert body == {"success": True, "async": True, "taskId": task, "jobId": task, "executionId": task,
                    "status": "queued", "createdAt": body["createdAt"], "message": "Workflow execution queued",
                    "statusUrl": f"{server.endpoint}/api/jobs/{task}",
                    "links": {"status": f"{server.endpoint}/api/jobs/{task}"}}

    def finished() -> Any:
        job = http.get(f"/api/jobs/{task}", headers={"X-API-Key": "k"}).json()
        return job if job["status"] == "completed" else None

    job = wait_until(finished)
    assert job["metadata"]["completedAt"] >= job["metadata"]["startedAt"]
    assert job["output"] == {"greeting": "Hello, Job!", "loud": True}


def test_job_statuses_are_pending_processing_then_terminal(http: httpx.Client, server: Server, sfn: Any) -> None:
    """Sim's /api/jobs reports pending|processing|completed|failed|cancelled (spec section 6), never queued/running."""
    activity = sfn.create_activity(name=f"job-{uuid.uuid4().hex[:10]}")["activityArn"]
    name = machine(server.endpoint, activity_machine(activity))
    app: Any = server.server.config.app
    runs = app.state.sim.runs
    workflow = runs.resolve(name)
    assert workflow is not None
    waiting = runs.new(workflow, {}, legacy=True, timeout=60)  # persisted, not started: a queued run
    job = http.get(f"/api/jobs/{waiting['runId']}", headers={"X-API-Key": "k"}).json()
    assert (job["taskId"], job["status"], job["metadata"]["startedAt"]) == (waiting["runId"], "pending", None)
    task = http.post(f"/api/workflows/{name}/execute", json={}, headers={"X-API-Key": "k",
                                                                         "X-Execution-Mode": "async"}).json()["taskId"]
    job = wait_until(lambda: (j := http.get(f"/api/jobs/{task}").json())["status"] == "processing" and j)
    assert "output" not in job and "error" not in job and job["metadata"]["completedAt"] is None
    token = sfn.get_activity_task(activityArn=activity)["taskToken"]
    sfn.send_task_success(taskToken=token, output='{"ok": true}')
    job = wait_until(lambda: (j := http.get(f"/api/jobs/{task}").json())["status"] == "completed" and j)
    assert job["output"] == {"ok": True}


def test_failed_job_reports_the_error_text(http: httpx.Client, server: Server) -> None:
    name = machine(server.endpoint, FAIL)
    task = http.post(f"/api/workflows/{name}/execute", json={}, headers={"X-API-Key": "k",
                                                                         "X-Execution-Mode": "async"}).json()["taskId"]
    job = wait_until(lambda: (j := http.get(f"/api/jobs/{task}").json())["status"] == "failed" and j)
    assert job["error"] == "Order.Rejected: no stock for the order" and "output" not in job


def test_legacy_unknown_workflow_and_bad_json_are_flat(http: httpx.Client) -> None:
    response = http.post("/api/workflows/nope/execute", json={})
    assert (response.status_code, response.json()) == (404, {"error": "Workflow not found",
                                                             "code": "WORKFLOW_NOT_FOUND"})
    response = http.get("/api/jobs/nope")
    assert (response.status_code, response.json()) == (404, {"error": "Task not found", "code": "TASK_NOT_FOUND"})


def test_legacy_bad_json_is_flat(http: httpx.Client, server: Server) -> None:
    name = machine(server.endpoint, GREET)
    response = http.post(f"/api/workflows/{name}/execute", content=b"{x")
    assert (response.status_code, response.json()) == (
        400, {"error": "Request body must be valid JSON", "code": "REQUEST_BODY_MUST_BE_VALID_JSON"})


def test_a_failed_pip_install_is_an_error_not_a_skip(tmp_path: Path) -> None:
    from tests.sim.fixtures import legacy_venv
    with pytest.raises(RuntimeError) as raised:
        legacy_venv(tmp_path, "--no-index", "--find-links", str(tmp_path))
    assert str(raised.value).startswith("pip install simstudio-sdk==0.1.2 failed:")
    assert not (tmp_path / "simstudio-sdk-0.1.2" / ".complete").exists()
