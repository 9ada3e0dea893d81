"""engine/tasks/mocks.py: MockConfigFile parsing, invocation ranges, MockedRegistry in process."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import engine.asl as asl
from engine.clock import ScaledClock
from engine.errors import InvalidArgument
from engine.tasks.mocks import (MockConfig, MockConfigError, MockedRegistry, MockSession, mocked, single_state_mock,
                                split_test_case)
from engine.tasks.registry import TaskRegistry

DATA = Path(__file__).parent / "data"


def test_split_test_case() -> None:
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:M"
    assert split_test_case(arn + "#Happy") == (arn, "Happy")
    assert split_test_case(arn) == (arn, None)
    assert split_test_case(arn + "#") == (arn + "#", None)


def test_loads_the_documentation_file() -> None:
    config = MockConfig.load(DATA / "MockConfigFile.json")
    case = config.test_case("LambdaSQSIntegration", "RetryPath")
    retry = case.states["LambdaState"]
    assert [retry.answer(i).error for i in range(3)] == [  # type: ignore[union-attr]
        "Lambda.ResourceNotReadyException", "Lambda.TimeoutException", "Lambda.TimeoutException"]
    assert retry.answer(3).result == {"StatusCode": 200, "Payload": {"StatusCode": 200,  # type: ignore[union-attr]
                                                                     "body": "Hello from Lambda!"}}
    assert retry.answer(4) is None
    assert set(config.test_case("LambdaSQSIntegration", "HybridPath").states) == {"LambdaState"}


@pytest.mark.parametrize(("raw", "message"), [
    ([], "<memory>: the mock configuration must be a JSON object"),
    ({"MockedResponses": {"R": {"x": {"Return": 1}}}},
     "<memory>: MockedResponses.R: 'x' is not an invocation index or range such as \"0\" or \"1-2\""),
    ({"MockedResponses": {"R": {"3-1": {"Return": 1}}}}, "<memory>: MockedResponses.R: range '3-1' ends before it starts"),
    ({"MockedResponses": {"R": {"0": {"Return": 1, "Throw": {}}}}},
     "<memory>: MockedResponses.R.0 must hold exactly one field, Return or Throw"),
    ({"MockedResponses": {"R": {"0": {"Throw": {"Error": 1}}}}},
     "<memory>: MockedResponses.R.0.Throw must be an object with string Error and Cause"),
    ({"StateMachines": {"M": {"TestCases": {"C": {"S": "Missing"}}}}},
     "<memory>: StateMachines.M.TestCases.C.S names 'Missing', which is not in MockedResponses"),
    ({"StateMachines": {"M": {}}}, "<memory>: StateMachines.M must be an object with TestCases"),
], ids=["not-object", "bad-key", "bad-range", "two-fields", "bad-throw", "unknown-response", "no-testcases"])
def test_invalid_files_name_the_field(raw: Any, message: str) -> None:
    with pytest.raises(MockConfigError) as caught:
        MockConfig.parse(raw)
    assert str(caught.value) == message


def test_from_env_reads_sfn_mock_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SFN_MOCK_CONFIG", raising=False)
    assert MockConfig.from_env() is None
    monkeypatch.setenv("SFN_MOCK_CONFIG", str(DATA / "MockConfigFile.json"))
    assert "LambdaSQSIntegration" in MockConfig.from_env().machines  # type: ignore[union-attr]
    monkeypatch.delenv("SFN_MOCK_CONFIG")
    (tmp_path / "MockConfigFile.json").write_text(json.dumps({"StateMachines": {"X": {"TestCases": {}}}}))
    assert set(MockConfig.from_env().machines) == {"X"}  # type: ignore[union-attr]


def test_unknown_machine_or_case() -> None:
    config = MockConfig.load(DATA / "MockConfigFile.json")
    with pytest.raises(InvalidArgument):
        config.test_case("Nope", "HappyPath")
    with pytest.raises(InvalidArgument):
        mocked(TaskRegistry(), None, "LambdaSQSIntegration", "HappyPath")
    plain = TaskRegistry()
    assert mocked(plain, config, "LambdaSQSIntegration", None) is plain


def _run(case: str, registry: TaskRegistry | None = None) -> Any:
    config = MockConfig.load(DATA / "MockConfigFile.json")
    session = MockSession(config.test_case("LambdaSQSIntegration", case))
    return asl.run_sync((DATA / "LambdaSQSIntegration.asl.json").read_text(), "{}",
                        registry=MockedRegistry(registry or TaskRegistry(), session), clock=ScaledClock(0))


def test_in_process_retry_path() -> None:
    result = _run("RetryPath")
    assert result.status == "SUCCEEDED"
    assert json.loads(result.output)["MessageId"] == "3bcb6e8e-8b51-4375-b0bc-1a59812c6e51"
    assert sum(e["type"] == "TaskFailed" for e in result.history) == 3


def test_missing_invocation_fails_with_states_runtime() -> None:
    raw = json.loads((DATA / "MockConfigFile.json").read_text())
    raw["StateMachines"]["LambdaSQSIntegration"]["TestCases"]["Short"] = {"LambdaState": "LambdaMockedResourceNotReady"}
    config = MockConfig.parse(raw)
    session = MockSession(config.test_case("LambdaSQSIntegration", "Short"))
    result = asl.run_sync((DATA / "LambdaSQSIntegration.asl.json").read_text(), "{}",
                          registry=MockedRegistry(TaskRegistry(), session), clock=ScaledClock(0))
    assert result.status == "FAILED"
    assert result.error == "States.Runtime"
    assert result.cause == ("No mocked response for invocation 1 of state 'LambdaState' in mocked response "
                            "'LambdaMockedResourceNotReady' (test case 'Short' of state machine 'LambdaSQSIntegration').")


def test_mocked_states_never_reach_the_registry() -> None:
    calls: list[Any] = []
    registry = TaskRegistry()
    registry.register("arn:aws:states:::lambda:invoke", lambda payload: calls.append(payload) or {"real": True})
    registry.register("arn:aws:states:::sqs:sendMessage", lambda payload: calls.append(payload) or {"sent": True})
    result = _run("HybridPath", registry)
    assert result.status == "SUCCEEDED"
    assert json.loads(result.output) == {"sent": True}  # SQSState is not mocked in HybridPath: the handler runs
    assert calls == [{"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/myQueue",
                      "MessageBody": {"StatusCode": 200, "Payload": {"StatusCode": 200, "body": "Hello from Lambda!"}}}]


def _two_tasks() -> dict[str, Any]:
    return {"StartAt": "A", "States": {
        "A": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:a", "ResultPath": "$.a",
              "Next": "B"},
        "B": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:b", "ResultPath": "$.b",
              "End": True}}}


def test_single_state_mock_answers_only_its_state() -> None:
    registry = TaskRegistry()
    registry.register("arn:aws:lambda:*:*:function:*", lambda event: "real")
    result = asl.run_sync(_two_tasks(), "{}", registry=single_state_mock(registry, "B", {"result": '{"m": 1}'}))
    assert json.loads(result.output) == {"a": "real", "b": {"m": 1}}


def test_single_state_mock_error_output() -> None:
    mock = {"errorOutput": {"error": "MockException", "cause": "mocked"}}
    result = asl.run_sync(_two_tasks(), "{}", registry=single_state_mock(TaskRegistry(), "A", mock))
    assert (result.status, result.error, result.cause) == ("FAILED", "MockException", "mocked")
    failed = [e["lambdaFunctionFailedEventDetails"] for e in result.history if e["type"] == "LambdaFunctionFailed"]
    assert [(f["error"], f["cause"]) for f in failed] == [("MockException", "mocked")]


def test_single_state_mock_result_must_be_json() -> None:
    with pytest.raises(MockConfigError) as caught:
        single_state_mock(TaskRegistry(), "A", {"result": "not json"})
    assert str(caught.value) == "Mocked result must be valid JSON"
