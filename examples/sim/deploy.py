"""Create the demo workflows the Sim examples run (state machines on a running statesim).

    statesim serve --in-memory            # in another terminal
    python examples/sim/deploy.py         # SIM_BASE_URL defaults to http://127.0.0.1:8083
"""
from __future__ import annotations

import json
import os

import boto3
from botocore.config import Config

BASE_URL = os.getenv("SIM_BASE_URL", "http://127.0.0.1:8083")
ROLE = "arn:aws:iam::123456789012:role/statesim-examples"

WORKFLOWS = {
    # {"name": ...} -> a greeting, built in two states (two blocks when streamed)
    "sim-greeter": {"StartAt": "Greet", "States": {
        "Greet": {"Type": "Pass", "Parameters": {"message.$": "States.Format('Hello, {}!', $.name)"},
                  "Next": "Sign"},
        "Sign": {"Type": "Pass", "Parameters": {"message.$": "$.message", "signedBy": "statesim"}, "End": True}}},
    # {"quantity": n} -> accepted, or a run that fails in band when n > 10
    "sim-order-check": {"StartAt": "InStock", "States": {
        "InStock": {"Type": "Choice", "Default": "Accept",
                    "Choices": [{"Variable": "$.quantity", "NumericGreaterThan": 10, "Next": "Reject"}]},
        "Accept": {"Type": "Pass", "Parameters": {"accepted.$": "$.quantity"}, "End": True},
        "Reject": {"Type": "Fail", "Error": "OutOfStock", "Cause": "only 10 items left"}}},
    # a report that takes a second: worth running asynchronously
    "sim-slow-report": {"StartAt": "Collect", "States": {
        "Collect": {"Type": "Wait", "Seconds": 1, "Next": "Summarise"},
        "Summarise": {"Type": "Pass", "Parameters": {"report.$": "States.Format('{} rows', $.rows)"},
                      "End": True}}},
}


def deploy(base_url: str = BASE_URL) -> list[str]:
    """Create every demo state machine (creating an identical one again is a no-op); their names."""
    sfn = boto3.client("stepfunctions", endpoint_url=base_url, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test",
                       config=Config(inject_host_prefix=False))
    for name, definition in WORKFLOWS.items():
        sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)
    return list(WORKFLOWS)


if __name__ == "__main__":
    for workflow in deploy():
        print("deployed", workflow)
