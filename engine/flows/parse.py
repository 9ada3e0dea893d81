"""Turn a bedrock-agent ``FlowDefinition`` (dict or JSON text) into the immutable model.

Parsing is lenient: anything the model can represent is kept, and ``validate.py`` reports
what is wrong with it. Only a definition that is not an object (or whose ``nodes`` /
``connections`` are not lists of objects) is rejected here.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from engine.flows.model import Condition, Connection, Flow, Node, NodeInput, NodeOutput, freeze
from engine.types import JSON


class MalformedDefinition(ValueError):
    """The definition is not a FlowDefinition-shaped object at all."""


def parse(definition: str | Mapping[str, Any], *, name: str = "") -> Flow:
    """Parse ``definition`` (JSON text or dict) into a Flow; raises MalformedDefinition."""
    raw = _as_object(definition)
    return _parse_flow(raw, name)


def _as_object(definition: str | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(definition, (str, bytes)):
        try:
            definition = json.loads(definition)
        except ValueError as exc:
            raise MalformedDefinition(f"The flow definition is not valid JSON: {exc}") from exc
    if not isinstance(definition, Mapping):
        raise MalformedDefinition("The flow definition must be a JSON object.")
    return definition


def _objects(raw: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    items = raw.get(key) or []
    if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
        raise MalformedDefinition(f"The flow definition member '{key}' must be a list of objects.")
    return items


def _parse_flow(raw: Mapping[str, Any], name: str) -> Flow:
    nodes = tuple(_parse_node(n) for n in _objects(raw, "nodes"))
    connections = tuple(_parse_connection(c) for c in _objects(raw, "connections"))
    return Flow.build(nodes, connections, name)


def _text(value: JSON) -> str:
    return value if isinstance(value, str) else ""


def _parse_node(raw: Mapping[str, Any]) -> Node:
    configuration = raw.get("configuration")
    config_key, config = None, None
    if isinstance(configuration, Mapping) and len(configuration) == 1:
        config_key, config = next(iter(configuration.items()))
    if not isinstance(config, Mapping):
        config = {}
    node_type = _text(raw.get("type"))
    return Node(
        name=_text(raw.get("name")),
        type=node_type,
        inputs=tuple(_parse_input(i) for i in raw.get("inputs") or () if isinstance(i, Mapping)),
        outputs=tuple(_parse_output(o) for o in raw.get("outputs") or () if isinstance(o, Mapping)),
        config_key=config_key,
        config=freeze(dict(config)),
        conditions=_parse_conditions(config_key, config),
        body=_parse_body(config_key, config),
    )


def _parse_input(raw: Mapping[str, Any]) -> NodeInput:
    category = raw.get("category")
    return NodeInput(
        name=_text(raw.get("name")),
        type=_text(raw.get("type")),
        expression=_text(raw.get("expression")),
        category=category if isinstance(category, str) else None,
    )


def _parse_output(raw: Mapping[str, Any]) -> NodeOutput:
    return NodeOutput(name=_text(raw.get("name")), type=_text(raw.get("type")))


def _parse_condition(raw: JSON) -> Condition:
    if not isinstance(raw, Mapping):
        return Condition("", None)
    expression = raw.get("expression")
    return Condition(_text(raw.get("name")), expression if isinstance(expression, str) else None)


def _parse_conditions(config_key: str | None, config: Mapping[str, Any]) -> tuple[Condition, ...]:
    if config_key == "condition":
        return tuple(_parse_condition(c) for c in config.get("conditions") or ())
    if config_key == "loopController" and isinstance(config.get("continueCondition"), Mapping):
        return (_parse_condition(config["continueCondition"]),)
    return ()


def _parse_body(config_key: str | None, config: Mapping[str, Any]) -> Flow | None:
    if config_key != "loop" or not isinstance(config.get("definition"), Mapping):
        return None
    return _parse_flow(config["definition"], "")


def _parse_connection(raw: Mapping[str, Any]) -> Connection:
    conn_type = _text(raw.get("type"))
    configuration = raw.get("configuration")
    member = "data" if conn_type == "Data" else "conditional"
    body = configuration.get(member) if isinstance(configuration, Mapping) else None
    has_configuration = isinstance(body, Mapping)
    body = body if isinstance(body, Mapping) else {}
    return Connection(
        name=_text(raw.get("name")),
        source=_text(raw.get("source")),
        target=_text(raw.get("target")),
        type=conn_type,
        source_output=body.get("sourceOutput") if conn_type == "Data" else None,
        target_input=body.get("targetInput") if conn_type == "Data" else None,
        condition=body.get("condition") if conn_type == "Conditional" else None,
        has_configuration=has_configuration,
    )
