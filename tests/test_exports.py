"""Pins the public surface of the engine package."""
from __future__ import annotations

import engine


def test_engine_exports() -> None:
    assert sorted(engine.__all__) == [
        "AlreadyExists", "Clock", "Conflict", "Diagnostic", "ErrorName", "InvalidArgument",
        "InvalidDefinition", "ManualClock", "NotFound", "ScaledClock", "StatesError",
        "StatesimError", "SystemClock",
    ]
    for name in engine.__all__:
        assert getattr(engine, name) is not None
