"""Where flow nodes call out: per-node mocks, the task registry, local S3 and knowledge bases.

``FlowEnv`` is the configuration of one flow run (mocks for this flow, registry, local
directories, ARNs); ``MockBook`` keeps ``$sequence`` counters across the turns of one execution.
Failures are ``FlowFailure`` with the event-stream exception member name AWS sends.
"""
from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import StatesError
from engine.tasks.registry import TaskContext, TaskRegistry
from engine.types import JSON


class FlowFailure(Exception):
    """A flow run ends with an in-stream exception: ``code`` is the lowerCamel member name."""

    def __init__(self, code: str, message: str, *, resource_name: str | None = None, node: str | None = None) -> None:
        self.code = code
        self.message = message
        self.resource_name = resource_name
        self.node = node
        super().__init__(f"{code}: {message}")

    def payload(self) -> dict[str, Any]:
        """The JSON payload of the exception message."""
        body: dict[str, Any] = {"message": self.message}
        if self.resource_name is not None:
            body["resourceName"] = self.resource_name
        return body


class InputRequired(Exception):
    """An Agent node asks the user for more input (multi-turn)."""

    def __init__(self, question: JSON) -> None:
        self.question = question
        super().__init__(str(question))


VALIDATION = "validationException"
DEPENDENCY_FAILED = "dependencyFailedException"
INLINE_CODE_FAILED = VALIDATION
"""AWS is silent on the code for an exception raised by inline code [inferred, spec §2.5]."""


def load_flow_mocks(path: str | Path) -> dict[str, dict[str, JSON]]:
    """Read a flow mock file ``{"<flow name>": {"<node name>": <mock value>}}``."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
        raise ValueError(f"{path}: a flow mock file maps flow names to objects of node mocks")
    return raw


@dataclass(slots=True)
class MockBook:
    """Per-node mock values of one execution, with ``$sequence`` call counters."""

    mocks: Mapping[str, JSON] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)

    def has(self, node: str) -> bool:
        return node in self.mocks

    def next(self, node: str) -> JSON:
        """The mock answer of the next call of ``node``; ``$error`` raises FlowFailure."""
        value = self.mocks[node]
        count = self.calls.get(node, 0)
        self.calls[node] = count + 1
        if isinstance(value, dict) and set(value) == {"$sequence"}:
            sequence = value["$sequence"]
            if count >= len(sequence):
                raise FlowFailure(DEPENDENCY_FAILED,
                                  f"The mock of node '{node}' has {len(sequence)} answers; call {count + 1} has none.",
                                  resource_name=node)
            value = sequence[count]
        if isinstance(value, dict) and set(value) == {"$error"}:
            error = value["$error"]
            code = str(error.get("code", DEPENDENCY_FAILED))
            raise FlowFailure(code[0].lower() + code[1:], str(error.get("message", "")), resource_name=node)
        return value


@dataclass(slots=True)
class FlowEnv:
    """What a flow run may call: mocks first, then the registry, then local services."""

    registry: TaskRegistry | None = None
    mocks: MockBook = field(default_factory=MockBook)
    s3_dir: Path | None = None
    knowledge_bases: Mapping[str, Path] = field(default_factory=dict)
    prompts: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Managed prompts by ARN (with and without version): the variant to run, inline-shaped."""
    flow_arn: str = ""
    alias_arn: str = ""
    execution_arn: str = ""
    inline_timeout: float = 5.0
    inline_memory_mb: int = 512
    model_provider: Callable[[Mapping[str, Any]], Awaitable[JSON]] | None = None
    """Answers Prompt nodes nothing else answers (engine.flows.models: OpenAI-compatible, Bedrock)."""
    exit_when_true: bool = False
    """Read a LoopController's continueCondition as "exit when true" (open question, spec §2.8)."""

    async def call(self, node: str, resource: str, payload: JSON, *, what: str, how: str,
                   fallback: Callable[[Any], Awaitable[JSON]] | None = None) -> JSON:
        """Answer a call-out of ``node`` to ``resource``: mock, registry, ``fallback``, else FlowFailure."""
        if self.mocks.has(node):
            return self.mocks.next(node)
        if self.registry is not None and self.registry.has(resource):
            try:
                return await self.registry.invoke(resource, payload, TaskContext(
                    resource=resource, state_name=node, execution_arn=self.execution_arn))
            except StatesError as exc:
                raise FlowFailure(DEPENDENCY_FAILED, f"{exc.error}: {exc.cause or ''}".rstrip(": "),
                                  resource_name=resource, node=node) from exc
        if fallback is not None:
            return await fallback(payload)
        raise FlowFailure(DEPENDENCY_FAILED, not_configured(node, resource, what, how), resource_name=resource, node=node)


def not_configured(node: str, resource: str, what: str, how: str) -> str:
    """The error text when nothing answers a call-out."""
    return (f"No {what} is configured for '{resource}' (node '{node}'). {how} "
            "or give a flow mock file (statesim serve --flow-mocks FILE) with an answer for this node.")


MODEL_HOW = ("Register a handler for this model id in the task registry, start statesim with --model-endpoint URL "
             "(an OpenAI-compatible server such as Ollama, llama.cpp or vLLM) or --bedrock (real Amazon Bedrock),")
