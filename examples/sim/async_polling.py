"""Async execution: queue a run, then poll its status until it ends."""
from __future__ import annotations

import os
import time

from simstudio import AsyncExecutionResult, SimStudioClient

client = SimStudioClient(api_key=os.getenv("SIM_API_KEY", "local-dev-key"),
                         base_url=os.getenv("SIM_BASE_URL", "http://127.0.0.1:8083"))


def run_in_background(workflow_id: str, data: dict[str, object], poll_seconds: float = 0.25) -> dict[str, object]:
    queued = client.execute_workflow(workflow_id, data, async_execution=True, execution_timeout_seconds=600)
    assert isinstance(queued, AsyncExecutionResult)
    print("Queued run", queued.run_id)
    seen = None
    while True:
        run = client.get_workflow_run(workflow_id, queued.run_id, include_output=True)
        if run["status"] != seen:
            seen = run["status"]
            print("Status:", seen)
        if run["status"] in ("completed", "failed", "cancelled"):
            return run
        time.sleep(poll_seconds)


if __name__ == "__main__":
    final = run_in_background("sim-slow-report", {"rows": 1200})
    print("Output:", final["output"])
    print("Error:", final["error"])
