"""The shared clients' Bedrock/Lambda state machines (../shared/clients/bedrock-prompt-chaining)
end to end through boto3: every MockConfigFile test case with its documented outcome, and the
human-in-the-loop steps answered the way the sample's own clients answer them."""
from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.runtime import Runtime
from engine.store import MemoryStore
from engine.tasks.mocks import MockConfig
from engine.tasks.registry import TaskRegistry
from tests.api.conftest import Server, make_client, wait_for

CLIENTS = Path("/work/shared/clients/bedrock-prompt-chaining")
if not CLIENTS.is_dir():  # the shared folder sits beside the checkout
    CLIENTS = Path(__file__).resolve().parents[3] / "shared" / "clients" / "bedrock-prompt-chaining"
pytestmark = pytest.mark.skipif(not CLIENTS.is_dir(), reason="../shared/clients is not present")

MANIFEST = {m["stateMachineName"]: m for m in json.loads((CLIENTS / "manifest.json").read_text())["machines"]} \
    if CLIENTS.is_dir() else {}
EXPECTED = json.loads((CLIENTS / "expected.json").read_text())["cases"] if CLIENTS.is_dir() else {}
ROLE = "arn:aws:iam::123456789012:role/PromptChainDemo"

registry = TaskRegistry()


@registry.task("arn:aws:lambda:*:*:function:UserProducerChoiceAgent")
def seek_user_input(event: Any) -> Any:
    """generic/seek_user_input: returns its event unchanged ({token, input})."""
    return event


def _config() -> MockConfig:
    raw = json.loads((CLIENTS / "MockConfigFile.json").read_text())
    # Extra cases for the human steps: the same mocks without the approval Task, so a person answers.
    movie = raw["StateMachines"]["PromptChainDemo-MoviePitch"]["TestCases"]
    movie["HumanProducer"] = {k: v for k, v in movie["RejectOnce"].items() if k != "Pitch to the Movie Producer"}
    human = raw["StateMachines"]["Techniques-HumanInput"]["TestCases"]
    human["HumanReviewer"] = {"Generate Advertisement": human["Approved"]["Generate Advertisement"]}
    return MockConfig.parse(raw, source="MockConfigFile.json")


@pytest.fixture(scope="module")
def sfn() -> Iterator[Any]:
    with Server(Runtime(MemoryStore(), registry=registry, mock_config=_config())) as server:
        yield make_client(server.endpoint)


@pytest.fixture(scope="module")
def machines(sfn: Any) -> dict[str, str]:
    arns = {}
    for name, entry in MANIFEST.items():
        definition = (CLIENTS / entry["file"]).read_text()
        arns[name] = sfn.create_state_machine(name=name, definition=definition, roleArn=ROLE)["stateMachineArn"]
    return arns


def start(sfn: Any, machines: dict[str, str], machine: str, case: str) -> str:
    started = sfn.start_execution(stateMachineArn=f"{machines[machine]}#{case}", name=f"local-test-{uuid.uuid4()}",
                                  input=json.dumps(MANIFEST[machine]["testInput"]))
    return str(started["executionArn"])


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_mock_config_case(sfn: Any, machines: dict[str, str], key: str) -> None:
    machine, case = key.split("#")
    described = wait_for(sfn, start(sfn, machines, machine, case))
    expected = EXPECTED[key]
    assert described["status"] == expected["status"]
    if expected["status"] == "SUCCEEDED":
        assert json.loads(described["output"]) == expected["output"]
    else:
        assert described.get("error") == expected["error"]
        assert described.get("cause") == expected["cause"]


def _latest(sfn: Any, arn: str) -> dict[str, Any]:
    return dict(sfn.get_execution_history(executionArn=arn, reverseOrder=True, maxResults=1,
                                          includeExecutionData=True)["events"][0])


def _await_latest(sfn: Any, arn: str, accept: Any) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        event = _latest(sfn, arn)
        if accept(event):
            return event
        time.sleep(0.02)
    history = [(e["id"], e["type"]) for e in sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]]
    raise AssertionError(f"the execution never reached the awaited event; {sfn.describe_execution(executionArn=arn)}"
                         f" {history[-12:]}")


def test_movie_pitch_producer_answers_through_the_webapp_protocol(sfn: Any, machines: dict[str, str]) -> None:
    # As webapp/stepfn.py does: the latest event is TaskSubmitted for invoke.waitForTaskToken; its output
    # is the Lambda invoke response whose Payload carries the token and the pitch.
    arn = start(sfn, machines, "PromptChainDemo-MoviePitch", "HumanProducer")
    pitches = []
    seen = 0
    for answer in ("no", "yes"):  # "no" sends the machine back to pitching, then it asks again
        event = _await_latest(sfn, arn, lambda e, after=seen: e["type"] == "TaskSubmitted" and e["id"] > after)
        seen = event["id"]
        details = event["taskSubmittedEventDetails"]
        assert (details["resourceType"], details["resource"]) == ("lambda", "invoke.waitForTaskToken")
        payload = json.loads(details["output"])["Payload"]
        pitches.append(payload["input"]["movie_pitch"])
        sfn.send_task_success(taskToken=payload["token"], output=json.dumps({"Payload": {"user_choice": answer}}))
    described = wait_for(sfn, arn)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"movie_pitch_one_pager": "[mock] One-pager for the blue pitch."}
    assert len(pitches) == 2 and pitches[0] == pitches[1]
    types = [e["type"] for e in sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]]
    assert types.count("TaskSubmitted") == 2


def test_human_input_reviewer_answers_the_sns_task_token(sfn: Any, machines: dict[str, str]) -> None:
    # Nothing answers sns:publish here, so the task just waits; the reviewer reads the token from the
    # published message (TaskScheduled parameters) and answers with SendTaskSuccess.
    arn = start(sfn, machines, "Techniques-HumanInput", "HumanReviewer")
    outcomes = []
    for decision in ("no", "yes"):
        event = _await_latest(sfn, arn, lambda e: e["type"] == "TaskStarted"
                              and e["taskStartedEventDetails"]["resource"] == "publish.waitForTaskToken")
        history = sfn.get_execution_history(executionArn=arn, reverseOrder=True)["events"]
        scheduled = next(e for e in history if e["type"] == "TaskScheduled")["taskScheduledEventDetails"]
        message = json.loads(scheduled["parameters"])["Message"]
        assert message["advertisement"] == "[mock] Read Pride and Prejudice!"
        sfn.send_task_success(taskToken=message["task_token"], output=json.dumps({"decision": decision}))
        outcomes.append(event["id"])
        if decision == "no":
            _await_latest(sfn, arn, lambda e, seen=event["id"]: e["id"] > seen + 1)
    described = wait_for(sfn, arn)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"advertisement": "[mock] Read Pride and Prejudice!"}
