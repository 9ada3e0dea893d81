"""The README's pytest-fixture example (between the fixture-example markers) is itself a test."""
from __future__ import annotations

import re
from typing import Any

from api.testing import StatesimServer
from engine.tasks.registry import TaskRegistry
from tests.conftest import ROOT


def readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("<!-- fixture-example -->", 1)[1].split("<!-- /fixture-example -->", 1)[0]
    match = re.search(r"```python\n(.*?)\n```", section, re.S)
    assert match is not None, "no python block between the fixture-example markers"
    return match.group(1)


def test_the_example_is_short() -> None:
    assert len(readme_example().splitlines()) == 10


def test_readme_example(statesim_server: StatesimServer, statesim_registry: TaskRegistry) -> None:
    namespace: dict[str, Any] = {}
    exec(compile(readme_example(), "README.md", "exec"), namespace)
    tests = [fn for name, fn in namespace.items() if name.startswith("test_")]
    assert len(tests) == 1
    tests[0](statesim_server, statesim_registry)
    # the hour-long Wait really was skipped on the server's clock
    assert statesim_server.runtime.clock.skipped > 3599
