"""Mocked task responses in AWS Step Functions Local's MockConfigFile format.

A file maps ``StateMachines -> <machine name> -> TestCases -> <case> -> {state name: response
name}`` and ``MockedResponses -> <response name> -> {"0" | "1-2": {"Return": JSON} | {"Throw":
{"Error", "Cause"}}}``. An execution selects a test case as Step Functions Local does: the
StartExecution ARN ends in ``#<TestCase>``; the file comes from ``--mock-config`` or the
``SFN_MOCK_CONFIG`` environment variable (else ``MockConfigFile.json`` in the working
directory). :class:`MockedRegistry` is the ONE place where a mock wins over the registry.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import ErrorName, InvalidArgument, StatesError
from engine.tasks.registry import TaskContext, TaskRegistry
from engine.types import JSON

ENV_VAR = "SFN_MOCK_CONFIG"
DEFAULT_FILE = "MockConfigFile.json"
_RANGE = re.compile(r"^(\d+)(?:-(\d+))?$")


class MockConfigError(ValueError):
    """A MockConfigFile that cannot be used; the message says where."""


@dataclass(frozen=True, slots=True)
class Answer:
    """One mocked invocation: a result (``Return``) or an error (``Throw``)."""

    result: JSON = None
    error: str | None = None
    cause: str | None = None

    @property
    def is_throw(self) -> bool:
        return self.error is not None


@dataclass(frozen=True, slots=True)
class MockedResponse:
    """Answers by invocation index (0-based), from ``"0"`` / ``"1-2"`` keys."""

    name: str
    ranges: tuple[tuple[int, int, Answer], ...]

    def answer(self, index: int) -> Answer | None:
        for low, high, answer in self.ranges:
            if low <= index <= high:
                return answer
        return None


@dataclass(frozen=True, slots=True)
class TestCase:
    """The state name -> mocked response mapping one execution uses."""

    __test__ = False  # not a pytest test class
    machine: str
    name: str
    states: Mapping[str, MockedResponse]


@dataclass(frozen=True, slots=True)
class MockConfig:
    """A loaded MockConfigFile."""

    machines: Mapping[str, Mapping[str, TestCase]]
    source: str = "<memory>"

    @classmethod
    def parse(cls, raw: Any, *, source: str = "<memory>") -> MockConfig:
        """Validate a MockConfigFile document; MockConfigError names the offending field."""
        if not isinstance(raw, dict):
            raise MockConfigError(f"{source}: the mock configuration must be a JSON object")
        responses_raw = raw.get("MockedResponses", {})
        if not isinstance(responses_raw, dict):
            raise MockConfigError(f"{source}: MockedResponses must be an object")
        responses = {name: _response(name, body, source) for name, body in responses_raw.items()}
        machines_raw = raw.get("StateMachines", {})
        if not isinstance(machines_raw, dict):
            raise MockConfigError(f"{source}: StateMachines must be an object")
        machines = {name: _cases(name, body, responses, source) for name, body in machines_raw.items()}
        return cls(machines, source)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> MockConfig:
        """Read and validate a MockConfigFile."""
        text = Path(path).read_text(encoding="utf-8")
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise MockConfigError(f"{path}: not valid JSON: {exc}") from None
        return cls.parse(raw, source=str(path))

    @classmethod
    def from_env(cls, path: str | None = None) -> MockConfig | None:
        """The file Step Functions Local would read: ``path``, $SFN_MOCK_CONFIG, ./MockConfigFile.json."""
        chosen = path or os.environ.get(ENV_VAR)
        if chosen:
            return cls.load(chosen)
        if Path(DEFAULT_FILE).is_file():
            return cls.load(DEFAULT_FILE)
        return None

    def test_case(self, machine: str, case: str) -> TestCase:
        """The test case ``case`` of state machine ``machine``; InvalidArgument when absent."""
        cases = self.machines.get(machine)
        if cases is None:
            raise InvalidArgument(f"State machine '{machine}' has no test cases in the mock configuration "
                                  f"({self.source}); it has: {', '.join(self.machines) or 'none'}")
        found = cases.get(case)
        if found is None:
            raise InvalidArgument(f"Test case '{case}' is not defined for state machine '{machine}' in the mock "
                                  f"configuration ({self.source}); defined: {', '.join(cases) or 'none'}")
        return found


def _response(name: str, body: Any, source: str) -> MockedResponse:
    if not isinstance(body, dict):
        raise MockConfigError(f"{source}: MockedResponses.{name} must be an object")
    ranges: list[tuple[int, int, Answer]] = []
    for key, value in body.items():
        match = _RANGE.match(key)
        if match is None:
            raise MockConfigError(f"{source}: MockedResponses.{name}: '{key}' is not an invocation index "
                                  "or range such as \"0\" or \"1-2\"")
        low = int(match.group(1))
        high = int(match.group(2)) if match.group(2) is not None else low
        if high < low:
            raise MockConfigError(f"{source}: MockedResponses.{name}: range '{key}' ends before it starts")
        ranges.append((low, high, _answer(f"MockedResponses.{name}.{key}", value, source)))
    return MockedResponse(name, tuple(sorted(ranges, key=lambda r: r[0])))


def _answer(where: str, value: Any, source: str) -> Answer:
    if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in ("Return", "Throw"):
        raise MockConfigError(f"{source}: {where} must hold exactly one field, Return or Throw")
    if "Return" in value:
        return Answer(result=value["Return"])
    throw = value["Throw"]
    if not isinstance(throw, dict) or not isinstance(throw.get("Error"), str) \
            or not isinstance(throw.get("Cause", ""), str):
        raise MockConfigError(f"{source}: {where}.Throw must be an object with string Error and Cause")
    return Answer(error=throw["Error"], cause=throw.get("Cause"))


def _cases(machine: str, body: Any, responses: Mapping[str, MockedResponse], source: str) -> dict[str, TestCase]:
    if not isinstance(body, dict) or not isinstance(body.get("TestCases"), dict):
        raise MockConfigError(f"{source}: StateMachines.{machine} must be an object with TestCases")
    cases: dict[str, TestCase] = {}
    for case, states in body["TestCases"].items():
        if not isinstance(states, dict):
            raise MockConfigError(f"{source}: StateMachines.{machine}.TestCases.{case} must be an object")
        mapped: dict[str, MockedResponse] = {}
        for state, response in states.items():
            if response not in responses:
                raise MockConfigError(f"{source}: StateMachines.{machine}.TestCases.{case}.{state} names "
                                      f"'{response}', which is not in MockedResponses")
            mapped[state] = responses[response]
        cases[case] = TestCase(machine, case, mapped)
    return cases


def split_test_case(state_machine_arn: str) -> tuple[str, str | None]:
    """``arn...:stateMachine:Name#Case`` -> (``arn...:stateMachine:Name``, ``Case``)."""
    base, sep, case = state_machine_arn.partition("#")
    return (base, case) if sep and case else (state_machine_arn, None)


@dataclass(slots=True)
class MockSession:
    """One execution's use of a test case: invocation counters per state."""

    case: TestCase
    counts: dict[str, int] = field(default_factory=dict)

    def has(self, state_name: str) -> bool:
        return state_name in self.case.states

    def next_answer(self, state_name: str) -> JSON:
        """The mocked result of the next invocation of ``state_name``; raises its Throw."""
        response = self.case.states[state_name]
        index = self.counts.get(state_name, 0)
        self.counts[state_name] = index + 1
        answer = response.answer(index)
        if answer is None:
            # Step Functions Local fails the execution when an invocation has no mocked response.
            raise StatesError(ErrorName.RUNTIME,
                              f"No mocked response for invocation {index} of state '{state_name}' in mocked "
                              f"response '{response.name}' (test case '{self.case.name}' of state machine "
                              f"'{self.case.machine}').")
        if answer.is_throw:
            raise StatesError(answer.error or "", answer.cause)
        return answer.result


class MockedRegistry(TaskRegistry):
    """A registry whose mocked states answer from a test case; every other state goes to ``inner``.

    This is the one place mocks take precedence: handlers never check for mocks.
    """

    def __init__(self, inner: TaskRegistry, session: MockSession) -> None:
        super().__init__()
        self.inner = inner
        self.session = session

    @property
    def patterns(self) -> list[str]:
        return self.inner.patterns

    def has(self, resource: str) -> bool:
        return self.inner.has(resource)

    def missing_cause(self, resource: str) -> str:
        return self.inner.missing_cause(resource)

    async def invoke(self, resource: str, payload: JSON, ctx: TaskContext) -> JSON:
        if self.session.has(ctx.state_name):
            return self.session.next_answer(ctx.state_name)
        return await self.inner.invoke(resource, payload, ctx)


def mocked(registry: TaskRegistry, config: MockConfig | None, machine: str, case: str | None) -> TaskRegistry:
    """``registry`` wrapped for test case ``case`` of ``machine`` (unchanged when no case is selected)."""
    if case is None:
        return registry
    if config is None:
        raise InvalidArgument(f"Test case '{case}' was requested but no mock configuration is loaded "
                              f"(set {ENV_VAR} or pass --mock-config)")
    return MockedRegistry(registry, MockSession(config.test_case(machine, case)))


def single_state_mock(registry: TaskRegistry, state_name: str, mock: Mapping[str, Any]) -> TaskRegistry:
    """TestState's ``mock`` (``{"result": "<JSON text>"}`` or ``{"errorOutput": {"error", "cause"}}``)
    as a one-state test case: every invocation of ``state_name`` answers it, other states use ``registry``.

    Raises MockConfigError("Mocked result must be valid JSON") for a result that is not JSON text.
    """
    if "result" in mock:
        try:
            answer = Answer(result=json.loads(mock["result"]))
        except (TypeError, ValueError):
            raise MockConfigError("Mocked result must be valid JSON") from None
    else:
        failure = mock.get("errorOutput") or {}
        answer = Answer(error=str(failure.get("error", "")), cause=failure.get("cause"))
    response = MockedResponse("mock", ((0, _EVERY_INVOCATION, answer),))
    case = TestCase(machine="TestState", name="mock", states={state_name: response})
    return MockedRegistry(registry, MockSession(case))


_EVERY_INVOCATION = 2**62


__all__ = ["Answer", "ENV_VAR", "MockConfig", "MockConfigError", "MockSession", "MockedRegistry",
           "MockedResponse", "TestCase", "mocked", "split_test_case", "single_state_mock"]
