"""Basic execution: check that a workflow is deployed, run it, print its output and duration."""
from __future__ import annotations

import os

from simstudio import SimStudioClient

client = SimStudioClient(api_key=os.getenv("SIM_API_KEY", "local-dev-key"),
                         base_url=os.getenv("SIM_BASE_URL", "http://127.0.0.1:8083"))


def run_workflow(workflow_id: str) -> None:
    if not client.validate_workflow(workflow_id):
        raise SystemExit(f"{workflow_id} is not deployed (run examples/sim/deploy.py)")
    result = client.execute_workflow(workflow_id, {"name": "Ada", "user_id": "12345"})
    if result.success:
        print("Output:", result.output)
        print("Duration (ms):", result.metadata.get("duration") if result.metadata else None)
    else:
        print("Workflow failed:", result.error)


if __name__ == "__main__":
    run_workflow("sim-greeter")
