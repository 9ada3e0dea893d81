"""Amazon Bedrock Flows: parse, validate and run flow definitions (no HTTP in here).

``parse`` -> ``Flow`` (immutable); ``validate_flow`` -> the ``validations`` list;
``FlowRun(flow, env, emit).start(content)`` runs it and emits stream events.
"""
from __future__ import annotations

from engine.flows.model import Flow, Node
from engine.flows.parse import MalformedDefinition, parse
from engine.flows.scheduler import Event, FlowRun
from engine.flows.services import FlowEnv, FlowFailure, MockBook, load_flow_mocks
from engine.flows.validate import validate_flow

__all__ = [
    "Event", "Flow", "FlowEnv", "FlowFailure", "FlowRun", "MalformedDefinition", "MockBook", "Node",
    "load_flow_mocks", "parse", "validate_flow",
]
