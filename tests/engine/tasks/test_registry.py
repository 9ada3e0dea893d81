"""TaskRegistry: registration checks, matching, sync/async handlers, error conversion."""
from __future__ import annotations

import pytest

from engine.errors import StatesError
from engine.tasks.registry import TaskContext, TaskFailure, TaskRegistry


def test_rejects_duplicates_bad_patterns_and_bad_signatures() -> None:
    reg = TaskRegistry()
    reg.register("arn:aws:lambda:*:*:function:charge-*", lambda p: p)
    with pytest.raises(ValueError, match="already registered"):
        reg.register("arn:aws:lambda:*:*:function:charge-*", lambda p: p)
    with pytest.raises(ValueError, match="invalid resource pattern"):
        reg.register("has space", lambda p: p)
    with pytest.raises(TypeError, match="must take"):
        reg.register("arn:aws:lambda:us-east-1:1:function:x", lambda a, b, c: a)
    with pytest.raises(TypeError, match="must be callable"):
        reg.register("arn:aws:lambda:us-east-1:1:function:y", 42)  # type: ignore[arg-type]


async def test_exact_then_pattern_then_fallback() -> None:
    reg = TaskRegistry()

    @reg.task("arn:aws:lambda:us-east-1:123456789012:function:charge-card")
    async def exact(payload: dict) -> dict:
        return {"exact": payload}

    @reg.task("arn:aws:lambda:*:*:function:charge-*")
    def pattern(payload: dict, ctx: TaskContext) -> dict:
        return {"pattern": ctx.resource}

    ctx = TaskContext(resource="x")
    assert await reg.invoke("arn:aws:lambda:us-east-1:123456789012:function:charge-card", 1, ctx) == {"exact": 1}
    other = "arn:aws:lambda:eu-west-1:123456789012:function:charge-bank"
    assert await reg.invoke(other, 1, TaskContext(resource=other)) == {"pattern": other}
    with pytest.raises(StatesError) as info:
        await reg.invoke("arn:aws:states:::sqs:sendMessage", {}, ctx)
    assert info.value.error == "States.TaskFailed"
    assert info.value.cause == (
        "No task handler is registered for resource 'arn:aws:states:::sqs:sendMessage'. "
        "Registered: arn:aws:lambda:us-east-1:123456789012:function:charge-card, "
        "arn:aws:lambda:*:*:function:charge-*."
    )
    reg.fallback(lambda p: "fallback")
    assert await reg.invoke("arn:aws:states:::sqs:sendMessage", {}, ctx) == "fallback"


async def test_exceptions_become_states_errors() -> None:
    reg = TaskRegistry()

    @reg.task("arn:fail")
    def fail(payload: object) -> None:
        raise TaskFailure("Custom.Error", "it broke")

    @reg.task("arn:crash")
    async def crash(payload: object) -> None:
        raise KeyError("k")

    with pytest.raises(StatesError) as info:
        await reg.invoke("arn:fail", None, TaskContext(resource="arn:fail"))
    assert (info.value.error, info.value.cause) == ("Custom.Error", "it broke")
    with pytest.raises(StatesError) as info:
        await reg.invoke("arn:crash", None, TaskContext(resource="arn:crash"))
    assert (info.value.error, info.value.cause) == ("KeyError", "'k'")
