"""Random (seeded) requests shaped by the service model against every operation: never a 500."""
from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import botocore.session
import httpx
import pytest
from botocore.model import Shape

from engine.runtime import Runtime
from tests.api.conftest import ROLE, Server, make_client

P = "arn:aws:states:us-east-1:123456789012:"
ARNS = [P + "stateMachine:fz", P + "stateMachine:fz:1", P + "stateMachine:fz:live", P + "activity:fz",
        P + "execution:fz:run", P + "stateMachine:fz:9", P + "execution:fz:none", P + "mapRun:fz/l:u",
        P + "express:fz:a:b", P + "stateMachine:", "arn:aws:iam::123456789012:role/r", "arn:", "x"]
TEXTS = ["", "x", "{}", "[]", "null", "a" * 300, '{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}',
         '{"Type": "Pass", "End": true}', "STANDARD", "EXPRESS", "{'a'"]
MODEL = botocore.session.get_session().get_service_model("stepfunctions")


def generate(rng: random.Random, shape: Shape, depth: int = 0) -> Any:
    kind = shape.type_name
    if kind == "string":
        if shape.enum:
            return rng.choice([*shape.enum, "bogus"])
        return rng.choice(ARNS if "Arn" in shape.name else TEXTS)
    if kind in ("integer", "long"):
        return rng.choice([0, 1, -1, 7, 1001])
    if kind == "boolean":
        return rng.choice([True, False])
    if kind in ("double", "float"):
        return rng.choice([0.5, -1.0, 100.0])
    if kind == "timestamp":
        return 0
    if kind == "list":
        return [generate(rng, shape.member, depth + 1) for _ in range(rng.choice([0, 1, 2]))] if depth < 3 else []
    if kind == "map":
        return {"k": generate(rng, shape.value, depth + 1)}
    if depth > 3:
        return {}
    return {name: generate(rng, member, depth + 1) for name, member in shape.members.items() if rng.random() < 0.7}


@pytest.fixture(scope="module")
def fuzz_server() -> Iterator[Server]:
    with Server(Runtime(activity_poll_seconds=0.01)) as server:
        sfn = make_client(server.endpoint)
        definition = json.dumps({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": True}}})
        arn = sfn.create_state_machine(name="fz", definition=definition, roleArn=ROLE, publish=True)[
            "stateMachineArn"]
        sfn.create_state_machine_alias(name="live", routingConfiguration=[
            {"stateMachineVersionArn": f"{arn}:1", "weight": 100}])
        sfn.create_activity(name="fz")
        sfn.start_execution(stateMachineArn=arn, name="run")
        yield server


@pytest.mark.parametrize("operation", MODEL.operation_names)
def test_no_request_gets_a_500(fuzz_server: Server, operation: str) -> None:
    rng = random.Random(operation)
    shape = MODEL.operation_model(operation).input_shape
    with httpx.Client(base_url=fuzz_server.endpoint, timeout=30) as http:
        for _ in range(25):
            body = generate(rng, shape)
            response = http.post("/", content=json.dumps(body), headers={
                "X-Amz-Target": f"AWSStepFunctions.{operation}", "Content-Type": "application/x-amz-json-1.0"})
            assert response.status_code in (200, 400), (body, response.text)
            if response.status_code == 400:
                assert set(response.json()) <= {"__type", "message"}


def test_tags_need_keys(fuzz_server: Server) -> None:
    sfn = make_client(fuzz_server.endpoint, parameter_validation=False)
    from botocore.exceptions import ClientError
    with pytest.raises(ClientError) as excinfo:
        sfn.tag_resource(resourceArn=P + "stateMachine:fz", tags=[{"value": "v"}])
    assert excinfo.value.response["Error"]["Message"] == (
        "1 validation error detected: Value null at 'tags.1.member.key' failed to satisfy constraint: "
        "Member must not be null")
