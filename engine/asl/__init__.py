"""Amazon States Language: load a definition once, run executions of it.

    machine = engine.asl.load(definition_text)          # InvalidDefinition if it cannot run
    result = await engine.asl.run(machine, '{"x": 1}')   # ExecutionResult with full history
    result = engine.asl.run_sync(definition, '{}')       # the same in a fresh event loop

Names are imported on first use so that submodules (paths, intrinsics, ...) can be
imported on their own.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.asl.context import ExecutionInfo
    from engine.asl.interpreter import ExecutionResult, run, run_sync
    from engine.asl.model import StateMachine
    from engine.asl.parse import load

__all__ = ["ExecutionInfo", "ExecutionResult", "StateMachine", "load", "run", "run_sync"]

_SOURCES = {
    "ExecutionInfo": "engine.asl.context",
    "ExecutionResult": "engine.asl.interpreter",
    "run": "engine.asl.interpreter",
    "run_sync": "engine.asl.interpreter",
    "StateMachine": "engine.asl.model",
    "load": "engine.asl.parse",
}


def __getattr__(name: str) -> Any:
    source = _SOURCES.get(name)
    if source is None:
        raise AttributeError(f"module 'engine.asl' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(source), name)
    globals()[name] = value
    return value
