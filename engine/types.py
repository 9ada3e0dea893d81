"""Type aliases shared by the whole engine (like starlette/types.py)."""
from __future__ import annotations

from typing import Any, TypeAlias

JSON: TypeAlias = Any
"""A value as produced by ``json.loads``: dict, list, str, int, float, bool or None."""

Arn: TypeAlias = str
Pointer: TypeAlias = str
"""A location in a definition, rendered as AWS does: ``/States/Pick/Choices[0]/Next``."""
