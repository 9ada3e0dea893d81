"""Run by the simstudio-sdk 0.1.x venv (no statesim imports): drives the server, prints JSON lines.

Usage: python legacy_client.py BASE_URL GREET_WORKFLOW FAIL_WORKFLOW
"""
import dataclasses
import json
import sys
import time

import simstudio
from simstudio import SimStudioClient, SimStudioError


def emit(step, value):
    if dataclasses.is_dataclass(value):
        value = dataclasses.asdict(value)
    print(json.dumps({"step": step, "value": value}, default=str), flush=True)


def main(base_url, greet, fail):
    emit("version", simstudio.__version__)
    with SimStudioClient(api_key="legacy-key", base_url=base_url) as client:
        emit("sync", client.execute_workflow(greet, {"name": "Old"}))
        emit("failed", client.execute_workflow(fail, {"order": 1}))
        queued = client.execute_workflow(greet, {"name": "Later"}, async_execution=True)
        emit("async", queued)
        deadline = time.monotonic() + 10
        job = client.get_job_status(queued.task_id)
        while job["status"] not in ("completed", "failed", "cancelled") and time.monotonic() < deadline:
            time.sleep(0.05)
            job = client.get_job_status(queued.task_id)
        emit("job", job)
        emit("status", client.get_workflow_status(greet))
        emit("validate_unknown", client.validate_workflow("no-such-workflow"))
        emit("usage", client.get_usage_limits())
        try:
            client.execute_workflow("no-such-workflow", {"a": 1})
        except SimStudioError as error:
            emit("unknown", {"message": str(error), "code": error.code, "status": error.status})


if __name__ == "__main__":
    main(*sys.argv[1:4])
