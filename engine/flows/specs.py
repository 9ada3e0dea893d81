"""What each node type declares: fixed inputs/outputs and their types, configuration key.

One table used by validation (Missing/Unknown/Mismatched node input/output types) and by
the scheduler. Sources: the user guide's node tables [doc: flows-nodes] and the model.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

ANY = "Any"
"""Stands for "any of the five types" in the fixed-name tables."""


@dataclass(frozen=True, slots=True)
class NodeSpec:
    """The static shape of one node type."""

    config_key: str
    config_required: bool = True
    inputs: Mapping[str, str] | None = None
    """Fixed input names -> type (ANY allowed); None = free names (any number)."""
    required_inputs: tuple[str, ...] = ()
    outputs: Mapping[str, str] | None = None
    """Fixed output names -> type; None = free names."""
    required_outputs: tuple[str, ...] = ()
    """For KnowledgeBase the required output depends on modelId; see ``required_outputs_for``."""
    extra: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


def _m(**kw: str) -> Mapping[str, str]:
    return MappingProxyType(kw)


NONE: Mapping[str, str] = MappingProxyType({})

NODE_SPECS: Mapping[str, NodeSpec] = MappingProxyType({
    "Input": NodeSpec("input", False, NONE, (), _m(document=ANY), ("document",)),
    "Output": NodeSpec("output", False, _m(document=ANY), ("document",), NONE),
    "Condition": NodeSpec("condition", True, None, (), NONE),
    "Prompt": NodeSpec("prompt", True, None, (), _m(modelCompletion="String"), ("modelCompletion",)),
    "KnowledgeBase": NodeSpec(
        "knowledgeBase", True, _m(retrievalQuery="String"), ("retrievalQuery",),
        _m(retrievalResults="Array", outputText="String"), (),
    ),
    "LambdaFunction": NodeSpec("lambdaFunction", True, None, (), _m(functionResponse=ANY), ("functionResponse",)),
    "InlineCode": NodeSpec("inlineCode", True, None, (), _m(response=ANY), ("response",)),
    "Agent": NodeSpec(
        "agent", True, _m(agentInputText="String", promptAttributes="Object", sessionAttributes="Object"),
        ("agentInputText",), _m(agentResponse="String"), ("agentResponse",),
    ),
    "Lex": NodeSpec(
        "lex", True, _m(inputText="String", requestAttributes="Object", sessionAttributes="Object"),
        ("inputText",), _m(predictedIntent="String"), ("predictedIntent",),
    ),
    "Storage": NodeSpec(
        "storage", True, _m(content=ANY, objectKey="String"), ("content", "objectKey"),
        _m(s3Uri="String"), ("s3Uri",),
    ),
    "Retrieval": NodeSpec("retrieval", True, _m(objectKey="String"), ("objectKey",), _m(s3Content=ANY), ("s3Content",)),
    "Iterator": NodeSpec(
        "iterator", False, _m(array="Array"), ("array",), _m(arrayItem=ANY, arraySize="Number"),
        ("arrayItem", "arraySize"),
    ),
    "Collector": NodeSpec(
        "collector", False, _m(arrayItem=ANY, arraySize="Number"), ("arrayItem", "arraySize"),
        _m(collectedArray="Array"), ("collectedArray",),
    ),
    "Loop": NodeSpec("loop", True, None, (), None),
    "LoopInput": NodeSpec("loopInput", False, NONE, (), None),
    "LoopController": NodeSpec("loopController", True, None, (), NONE),
})
"""Node type -> its spec (the 16 ``FlowNodeType`` values)."""


def required_outputs_for(node_type: str, config: Mapping[str, object]) -> tuple[str, ...]:
    """The outputs a node must declare; KnowledgeBase needs ``outputText`` iff it has a modelId."""
    if node_type == "KnowledgeBase":
        return ("outputText",) if config.get("modelId") else ("retrievalResults",)
    spec = NODE_SPECS.get(node_type)
    return spec.required_outputs if spec else ()
