"""statesim's engine: interpreters for ASL and Bedrock Flows, shared runtime and store."""
from __future__ import annotations

from engine.clock import Clock, ManualClock, ScaledClock, SystemClock
from engine.errors import (
    AlreadyExists,
    Conflict,
    Diagnostic,
    ErrorName,
    InvalidArgument,
    InvalidDefinition,
    NotFound,
    StatesError,
    StatesimError,
)

__all__ = [
    "AlreadyExists",
    "Clock",
    "Conflict",
    "Diagnostic",
    "ErrorName",
    "InvalidArgument",
    "InvalidDefinition",
    "ManualClock",
    "NotFound",
    "ScaledClock",
    "StatesError",
    "StatesimError",
    "SystemClock",
]
