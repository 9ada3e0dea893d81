"""Pins the public surface of engine.flows."""
from __future__ import annotations

import engine.flows


def test_flows_exports() -> None:
    assert sorted(engine.flows.__all__) == [
        "Event", "Flow", "FlowEnv", "FlowFailure", "FlowRun", "MalformedDefinition", "MockBook", "Node",
        "load_flow_mocks", "parse", "validate_flow",
    ]
    for name in engine.flows.__all__:
        assert getattr(engine.flows, name) is not None
