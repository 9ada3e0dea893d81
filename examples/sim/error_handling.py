"""Error handling: failures inside a run come back in band; API problems raise SimStudioError."""
from __future__ import annotations

import os

from simstudio import SimStudioClient, SimStudioError

BASE_URL = os.getenv("SIM_BASE_URL", "http://127.0.0.1:8083")
client = SimStudioClient(api_key=os.getenv("SIM_API_KEY", "local-dev-key"), base_url=BASE_URL)


def execute(workflow_id: str, data: dict[str, object], sdk: SimStudioClient = client) -> None:
    try:
        result = sdk.execute_workflow(workflow_id, data)
    except SimStudioError as error:
        if error.code == "UNAUTHORIZED":
            print("Invalid API key:", error)
        elif error.code == "NOT_FOUND":
            print("No such workflow:", error)
        elif error.code == "RATE_LIMIT_EXCEEDED":
            print("Slow down:", error)
        elif error.code == "TIMEOUT":
            print("The request timed out:", error)
        else:
            print(f"Workflow error ({error.code}, HTTP {error.status}):", error)
        return
    if result.success:
        print("Succeeded:", result.output)
    else:
        print(f"Run {result.status}:", result.error)


if __name__ == "__main__":
    execute("sim-order-check", {"quantity": 3})
    execute("sim-order-check", {"quantity": 50})
    execute("no-such-workflow", {})
    with SimStudioClient(api_key=os.getenv("SIM_WRONG_API_KEY", "not-a-key"), base_url=BASE_URL) as stranger:
        execute("sim-order-check", {"quantity": 1}, stranger)
