"""Shared fixtures."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


def requires_shared(sub: str = "") -> pytest.MarkDecorator:
    """Skip (saying why) where ``../shared/<sub>`` is not beside the project, e.g. in a clone
    elsewhere; CI runs these tests where it is, as it runs the conformance folders when they exist."""
    where = SHARED / sub if sub else SHARED
    return pytest.mark.skipif(not where.is_dir(), reason=f"shared material not found at {where}")


@pytest.fixture
def shared_dir() -> Path:
    """The read-only shared folder beside the project (conformance cases, clients, specs)."""
    if not SHARED.is_dir():
        pytest.skip(f"shared material not found at {SHARED}")
    return SHARED
