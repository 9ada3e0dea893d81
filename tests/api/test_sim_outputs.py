"""``Block.attribute`` selectors over state outputs and flow node outputs."""
from __future__ import annotations

from typing import Any

import pytest

from api.sim_outputs import chunk_text, select, whole

STATE = {"greeting": "hi", "items": [{"id": 7}], "nested": {"deep": {"x": 1}}}

SELECTIONS = [
    (["Greet"], "Greet", STATE, "state_machine", [("Greet", STATE)]),
    (["Greet.greeting"], "Greet", STATE, "state_machine", [("Greet.greeting", "hi")]),
    (["Greet.items.0.id"], "Greet", STATE, "state_machine", [("Greet.items.0.id", 7)]),
    (["Greet.nested.deep"], "Greet", STATE, "state_machine", [("Greet.nested.deep", {"x": 1})]),
    (["Greet.missing"], "Greet", STATE, "state_machine", []),
    (["Other.greeting"], "Greet", STATE, "state_machine", []),
    (["getuser.greeting"], "Get User", STATE, "state_machine", [("getuser.greeting", "hi")]),
    (["Get User.greeting"], "Get User", STATE, "state_machine", [("Get User.greeting", "hi")]),
    (["Greeter.greeting"], "Greet", STATE, "state_machine", []),
    (["Ask"], "Ask", {"modelCompletion": "42"}, "flow", [("Ask", "42")]),
    (["Ask.modelCompletion"], "Ask", {"modelCompletion": "42"}, "flow", [("Ask.modelCompletion", "42")]),
    (["Ask", "Ask.modelCompletion"], "Ask", {"modelCompletion": "42"}, "flow",
     [("Ask", "42"), ("Ask.modelCompletion", "42")]),
]


@pytest.mark.parametrize(("selectors", "block", "value", "kind", "expected"), SELECTIONS,
                         ids=[f"{s}@{b}" for s, b, *_ in SELECTIONS])
def test_select(selectors: list[str], block: str, value: Any, kind: str, expected: list[tuple[str, Any]]) -> None:
    assert select(selectors, block, value, kind) == expected


def test_whole_and_chunk_text() -> None:
    assert whole("flow", {"a": 1, "b": 2}) == {"a": 1, "b": 2}
    assert whole("state_machine", {"a": 1}) == {"a": 1}
    assert chunk_text("plain text") == "plain text"
    assert chunk_text({"é": [1, None]}) == '{\n  "é": [\n    1,\n    null\n  ]\n}'
