"""Batch execution: run several workflows with their inputs, skipping any that is not deployed."""
from __future__ import annotations

import os

from simstudio import SimStudioClient

client = SimStudioClient(api_key=os.getenv("SIM_API_KEY", "local-dev-key"),
                         base_url=os.getenv("SIM_BASE_URL", "http://127.0.0.1:8083"))


def execute_batch(jobs: list[tuple[str, dict[str, object]]]) -> list[dict[str, object]]:
    results: list[dict[str, object]] = []
    for workflow_id, data in jobs:
        if not client.validate_workflow(workflow_id):
            print(f"Skipping {workflow_id}: not deployed")
            continue
        try:
            result = client.execute_workflow(workflow_id, data)
            results.append({"workflow_id": workflow_id, "success": result.success, "output": result.output,
                            "error": result.error})
        except Exception as error:  # an API error ends this job, not the batch
            results.append({"workflow_id": workflow_id, "success": False, "error": str(error)})
    return results


if __name__ == "__main__":
    batch = [("sim-greeter", {"name": "Grace"}), ("sim-order-check", {"quantity": 2}),
             ("sim-order-check", {"quantity": 99}), ("not-deployed", {"x": 1})]
    for outcome in execute_batch(batch):
        state = "Success" if outcome["success"] else "Failed"
        print(f"{outcome['workflow_id']}: {state} {outcome.get('output') or outcome.get('error')}")
