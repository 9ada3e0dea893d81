"""The immutable flow model: nodes, inputs/outputs, connections, conditions, loop bodies.

Parsed once from the bedrock-agent ``FlowDefinition`` shape by ``parse.py``; never mutated.
Runtime values (delivered inputs, collected items, counters) live in the scheduler's frames.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Mapping

from engine.types import JSON


class DataType(StrEnum):
    """``FlowNodeIODataType``: the five declared types of node inputs and outputs."""

    STRING = "String"
    NUMBER = "Number"
    BOOLEAN = "Boolean"
    OBJECT = "Object"
    ARRAY = "Array"


class NodeType(StrEnum):
    """``FlowNodeType``: every node type of the model."""

    INPUT = "Input"
    OUTPUT = "Output"
    KNOWLEDGE_BASE = "KnowledgeBase"
    CONDITION = "Condition"
    LEX = "Lex"
    PROMPT = "Prompt"
    LAMBDA_FUNCTION = "LambdaFunction"
    STORAGE = "Storage"
    AGENT = "Agent"
    RETRIEVAL = "Retrieval"
    ITERATOR = "Iterator"
    COLLECTOR = "Collector"
    INLINE_CODE = "InlineCode"
    LOOP = "Loop"
    LOOP_INPUT = "LoopInput"
    LOOP_CONTROLLER = "LoopController"


EVENT_NODE_TYPES: Mapping[str, str] = MappingProxyType({
    "Input": "FlowInputNode", "Output": "FlowOutputNode", "LambdaFunction": "LambdaFunctionNode",
    "KnowledgeBase": "KnowledgeBaseNode", "Prompt": "PromptNode", "Condition": "ConditionNode",
    "Lex": "LexNode", "Agent": "AgentNode",
    # AWS: not in the model's NodeType enum; names follow the same pattern [inferred].
    "Storage": "StorageNode", "Retrieval": "RetrievalNode", "Iterator": "IteratorNode",
    "Collector": "CollectorNode", "InlineCode": "InlineCodeNode", "Loop": "LoopNode",
    "LoopInput": "LoopInputNode", "LoopController": "LoopControllerNode",
})
"""``nodeType`` strings used in stream events, by definition node type."""


def freeze(value: JSON) -> JSON:
    """A read-only deep view of a JSON value (dicts become mapping proxies, lists tuples)."""
    if isinstance(value, dict):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: JSON) -> JSON:
    """Plain ``json``-compatible copy of a frozen value."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class NodeInput:
    """``FlowNodeInput``: a named, typed input and the expression applied to what arrives."""

    name: str
    type: str
    """A DataType value, or whatever the definition said (validation reports bad ones)."""
    expression: str
    category: str | None = None
    """``LoopCondition`` | ``ReturnValueToLoopStart`` | ``ExitLoop`` (LoopController inputs)."""


@dataclass(frozen=True, slots=True)
class NodeOutput:
    """``FlowNodeOutput``: a named, typed output."""

    name: str
    type: str


@dataclass(frozen=True, slots=True)
class Condition:
    """One entry of a Condition node (or a LoopController's continueCondition)."""

    name: str
    expression: str | None
    """None for the ``default`` entry."""


@dataclass(frozen=True, slots=True)
class Node:
    """One node of a flow (or of a Loop body)."""

    name: str
    type: str
    inputs: tuple[NodeInput, ...] = ()
    outputs: tuple[NodeOutput, ...] = ()
    config_key: str | None = None
    """The single key under ``configuration`` (``prompt``, ``condition``, ...), if any."""
    config: JSON = field(default_factory=lambda: MappingProxyType({}))
    """The frozen value under ``config_key``."""
    conditions: tuple[Condition, ...] = ()
    """Condition nodes: the ordered conditions; LoopController: the continueCondition."""
    body: Flow | None = None
    """Loop nodes: the parsed ``loop.definition``."""

    def input(self, name: str) -> NodeInput | None:
        """The declared input ``name``, or None."""
        return next((i for i in self.inputs if i.name == name), None)

    def output(self, name: str) -> NodeOutput | None:
        """The declared output ``name``, or None."""
        return next((o for o in self.outputs if o.name == name), None)

    @property
    def event_type(self) -> str:
        """The ``nodeType`` string stream events carry for this node."""
        return EVENT_NODE_TYPES.get(self.type, f"{self.type}Node")


@dataclass(frozen=True, slots=True)
class Connection:
    """``FlowConnection``: Data (output -> input) or Conditional (condition -> gate)."""

    name: str
    source: str
    target: str
    type: str
    """``Data`` or ``Conditional``."""
    source_output: str | None = None
    target_input: str | None = None
    condition: str | None = None
    has_configuration: bool = True
    """False when ``configuration`` (or its member for ``type``) is absent."""

    @property
    def is_data(self) -> bool:
        return self.type == "Data"


@dataclass(frozen=True, slots=True)
class Flow:
    """A parsed flow definition (or Loop body) with lookup indexes."""

    nodes: tuple[Node, ...]
    connections: tuple[Connection, ...]
    name: str = ""
    """The flow's name (mock files are keyed by it); empty when unknown."""
    by_name: Mapping[str, Node] = field(default_factory=lambda: MappingProxyType({}), compare=False)
    incoming: Mapping[str, tuple[Connection, ...]] = field(default_factory=lambda: MappingProxyType({}), compare=False)
    outgoing: Mapping[str, tuple[Connection, ...]] = field(default_factory=lambda: MappingProxyType({}), compare=False)

    @classmethod
    def build(cls, nodes: tuple[Node, ...], connections: tuple[Connection, ...], name: str = "") -> Flow:
        """A Flow with its indexes filled in (first node of a duplicated name wins)."""
        by_name: dict[str, Node] = {}
        for node in nodes:
            by_name.setdefault(node.name, node)
        incoming: dict[str, list[Connection]] = {}
        outgoing: dict[str, list[Connection]] = {}
        for conn in connections:
            incoming.setdefault(conn.target, []).append(conn)
            outgoing.setdefault(conn.source, []).append(conn)
        return cls(
            nodes, connections, name, MappingProxyType(by_name),
            MappingProxyType({k: tuple(v) for k, v in incoming.items()}),
            MappingProxyType({k: tuple(v) for k, v in outgoing.items()}),
        )

    def nodes_of(self, node_type: str) -> tuple[Node, ...]:
        """Every node of ``node_type``, in definition order."""
        return tuple(n for n in self.nodes if n.type == node_type)

    @property
    def input_node(self) -> Node | None:
        """The (first) Input node."""
        return next((n for n in self.nodes if n.type == NodeType.INPUT), None)
