"""Definition validation: every FlowValidationType of the bedrock-agent model."""
from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from engine.flows.parse import MalformedDefinition, parse
from engine.flows.validate import validate_flow
from tests.engine.flows._defs import cond, condition, data, inp, io, out, passthrough, prompt

Def = dict[str, Any]


def _types(definition: Def) -> list[tuple[str, str, dict[str, Any]]]:
    result = validate_flow(parse(definition))
    return [(v["type"], v["severity"], next(iter(v["details"].values()))) for v in result]


def _with(change: Callable[[Def], None], base: Callable[[], Def] = passthrough) -> Def:
    definition = copy.deepcopy(base())
    change(definition)
    return definition


def _gate() -> Def:
    """In -> C (x) ; C.yes -> Out ; In -> Out (data)."""
    return {"nodes": [inp(), condition("C", [io("x")], [("yes", 'x == "a"'), ("default", None)]), out()],
            "connections": [data("In", "document", "C", "x"), data("In", "document", "Out", "document"),
                            cond("C", "yes", "Out")]}


def _loop(body_nodes: list[Def], body_connections: list[Def]) -> Def:
    loop = {"name": "L", "type": "Loop", "inputs": [io("v")], "outputs": [{"name": "v", "type": "String"}],
            "configuration": {"loop": {"definition": {"nodes": body_nodes, "connections": body_connections}}}}
    return {"nodes": [inp(), loop, out()],
            "connections": [data("In", "document", "L", "v"), data("L", "v", "Out", "document")]}


def _loop_input() -> Def:
    return {"name": "LI", "type": "LoopInput", "configuration": {"loopInput": {}},
            "outputs": [{"name": "v", "type": "String"}]}


def _controller() -> Def:
    return {"name": "LC", "type": "LoopController", "inputs": [{**io("v"), "category": "ExitLoop"}],
            "configuration": {"loopController": {"continueCondition": {"name": "again", "expression": 'v == "x"'},
                                                 "maxIterations": 3}}}


def _good_loop() -> Def:
    return _loop([_loop_input(), _controller()], [data("LI", "v", "LC", "v")])


def _add_node(node: Def) -> Callable[[Def], None]:
    return lambda d: d["nodes"].append(node)


CASES: list[tuple[str, Def, tuple[str, str, dict[str, Any]]]] = [
    ("CyclicConnection", {
        "nodes": [inp(), prompt("P", "{{a}}{{b}}", [io("a"), io("b")]), out()],
        "connections": [data("In", "document", "P", "a"), data("P", "modelCompletion", "P", "b", name="Back"),
                        data("P", "modelCompletion", "Out", "document")]},
     ("CyclicConnection", "Error", {"connection": "Back"})),
    ("DuplicateConnections", _with(lambda d: d["connections"].append(data("In", "document", "Out", "document", "Again"))),
     ("DuplicateConnections", "Error", {"source": "In", "target": "Out"})),
    ("DuplicateConditionExpression",
     _with(lambda d: d["nodes"][1]["configuration"]["condition"]["conditions"].insert(1, {"name": "also", "expression": 'x == "a"'}), _gate),
     ("DuplicateConditionExpression", "Error", {"node": "C", "expression": 'x == "a"'})),
    ("UnreachableNode", _with(_add_node(out("Lonely"))), ("UnreachableNode", "Warning", {"node": "Lonely"})),
    ("UnknownConnectionSource", _with(lambda d: d["connections"].append(data("Nope", "document", "Out", "document", "C2"))),
     ("UnknownConnectionSource", "Error", {"connection": "C2"})),
    ("UnknownConnectionSourceOutput", _with(lambda d: d["connections"][0]["configuration"]["data"].update(sourceOutput="x")),
     ("UnknownConnectionSourceOutput", "Error", {"connection": "In_document_Out_document"})),
    ("UnknownConnectionTarget", _with(lambda d: d["connections"].append(data("In", "document", "Nope", "document", "C2"))),
     ("UnknownConnectionTarget", "Error", {"connection": "C2"})),
    ("UnknownConnectionTargetInput", _with(lambda d: d["connections"].append(data("In", "document", "Out", "other", "C2"))),
     ("UnknownConnectionTargetInput", "Error", {"connection": "C2"})),
    ("UnknownConnectionCondition", _with(lambda d: d["connections"][2]["configuration"]["conditional"].update(condition="no"), _gate),
     ("UnknownConnectionCondition", "Error", {"connection": "C_yes_Out"})),
    ("MalformedConditionExpression",
     _with(lambda d: d["nodes"][1]["configuration"]["condition"]["conditions"][0].update(expression="y == 1"), _gate),
     ("MalformedConditionExpression", "Error",
      {"node": "C", "condition": "yes", "cause": "The expression references unknown inputs: y."})),
    ("MalformedNodeInputExpression", _with(lambda d: d["nodes"][1]["inputs"][0].update(expression="$.name")),
     ("MalformedNodeInputExpression", "Error",
      {"node": "Out", "input": "document", "cause": "Expression '$.name' must start with '$.data'."})),
    ("MismatchedNodeInputType", _with(_add_node({
        "name": "It", "type": "Iterator", "configuration": {"iterator": {}}, "inputs": [io("array", type_="String")],
        "outputs": [{"name": "arrayItem", "type": "String"}, {"name": "arraySize", "type": "Number"}]})),
     ("MismatchedNodeInputType", "Error", {"node": "It", "input": "array", "expectedType": "Array"})),
    ("MismatchedNodeOutputType", _with(lambda d: d["nodes"].__setitem__(1, {
        **prompt("P", "hi", []), "outputs": [{"name": "modelCompletion", "type": "Object"}]})),
     ("MismatchedNodeOutputType", "Error", {"node": "P", "output": "modelCompletion", "expectedType": "String"})),
    ("IncompatibleConnectionDataType", _with(lambda d: d["nodes"][1]["inputs"][0].update(type="Number")),
     ("IncompatibleConnectionDataType", "Error", {"connection": "In_document_Out_document"})),
    ("MissingConnectionConfiguration", _with(lambda d: d["connections"][0].pop("configuration")),
     ("MissingConnectionConfiguration", "Error", {"connection": "In_document_Out_document"})),
    ("MissingDefaultCondition", _with(lambda d: d["nodes"][1]["configuration"]["condition"]["conditions"].pop(), _gate),
     ("MissingDefaultCondition", "Error", {"node": "C"})),
    ("MissingEndingNodes", {"nodes": [inp()], "connections": []}, ("MissingEndingNodes", "Error", {})),
    ("MissingNodeConfiguration", _with(lambda d: d["nodes"][1].pop("configuration"), _gate),
     ("MissingNodeConfiguration", "Error", {"node": "C"})),
    ("MissingNodeInput", _with(lambda d: d["nodes"].append(prompt("P", "{{topic}}", []))),
     ("MissingNodeInput", "Error", {"node": "P", "input": "topic"})),
    ("MissingNodeOutput", _with(lambda d: d["nodes"][0].update(outputs=[])),
     ("MissingNodeOutput", "Error", {"node": "In", "output": "document"})),
    ("MissingStartingNodes", {"nodes": [out()], "connections": []}, ("MissingStartingNodes", "Error", {})),
    ("MultipleNodeInputConnections", {
        "nodes": [inp(), prompt("P", "x", []), out()],
        "connections": [data("In", "document", "Out", "document"),
                        data("P", "modelCompletion", "Out", "document")]},
     ("MultipleNodeInputConnections", "Error", {"node": "Out", "input": "document"})),
    ("UnfulfilledNodeInput", _with(lambda d: d["connections"].clear()),
     ("UnfulfilledNodeInput", "Error", {"node": "Out", "input": "document"})),
    ("UnsatisfiedConnectionConditions", _with(lambda d: d["connections"].append(cond("C", "default", "Out", "Both")), _gate),
     ("UnsatisfiedConnectionConditions", "Error", {"connection": "Both"})),
    ("Unspecified", _with(_add_node(inp())), ("Unspecified", "Error", {})),
    ("UnknownNodeInput", _with(lambda d: d["nodes"][1]["inputs"].append(io("extra"))),
     ("UnknownNodeInput", "Error", {"node": "Out", "input": "extra"})),
    ("UnknownNodeOutput", _with(lambda d: d["nodes"][0]["outputs"].append({"name": "more", "type": "String"})),
     ("UnknownNodeOutput", "Error", {"node": "In", "output": "more"})),
    ("MissingLoopInputNode", _loop([_controller()], []), ("MissingLoopInputNode", "Error", {"loopNode": "L"})),
    ("MissingLoopControllerNode", _loop([_loop_input()], []), ("MissingLoopControllerNode", "Error", {"loopNode": "L"})),
    ("MultipleLoopInputNodes", _loop([_loop_input(), {**_loop_input(), "name": "LI2"}, _controller()], [data("LI", "v", "LC", "v")]),
     ("MultipleLoopInputNodes", "Error", {"loopNode": "L"})),
    ("MultipleLoopControllerNodes", _loop([_loop_input(), _controller(), {**_controller(), "name": "LC2"}], [data("LI", "v", "LC", "v")]),
     ("MultipleLoopControllerNodes", "Error", {"loopNode": "L"})),
    ("LoopIncompatibleNodeType", _loop([_loop_input(), _controller(), {**inp("Inner")}], [data("LI", "v", "LC", "v")]),
     ("LoopIncompatibleNodeType", "Error", {"node": "L", "incompatibleNodeType": "Input", "incompatibleNodeName": "Inner"})),
    ("InvalidLoopBoundary", _with(lambda d: d["connections"].append(data("In", "document", "LC", "v", "Cross")), _good_loop),
     ("InvalidLoopBoundary", "Error", {"connection": "Cross", "source": "In", "target": "LC"})),
]


def test_body_connection_to_an_outer_node_is_an_invalid_loop_boundary() -> None:
    definition = _good_loop()
    body = definition["nodes"][1]["configuration"]["loop"]["definition"]
    body["connections"].append(data("In", "document", "LC", "v", "FromOutside"))
    assert ("InvalidLoopBoundary", "Error", {"connection": "FromOutside", "source": "In", "target": "LC"}) in _types(definition)


@pytest.mark.parametrize(("kind", "definition", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_validation_type(kind: str, definition: Def, expected: tuple[str, str, dict[str, Any]]) -> None:
    found = _types(definition)
    assert expected in found, found
    assert expected[0] == kind


def test_cases_cover_every_model_validation_type() -> None:
    model = botocore.session.get_session().get_service_model("bedrock-agent")
    assert sorted(c[0] for c in CASES) == sorted(model.shape_for("FlowValidationType").enum)


@pytest.mark.parametrize("base", [passthrough, _gate, _good_loop], ids=["passthrough", "gate", "loop"])
def test_valid_definitions_have_no_findings(base: Callable[[], Def]) -> None:
    assert _types(base()) == []


def test_details_key_is_lower_camel_of_type() -> None:
    [item] = validate_flow(parse({"nodes": [inp()], "connections": []}))
    assert item == {"message": "The flow has no Output node.", "severity": "Error",
                    "details": {"missingEndingNodes": {}}, "type": "MissingEndingNodes"}


def test_real_sample_definitions_validate_cleanly(shared_dir: Path) -> None:
    files = sorted((shared_dir / "clients" / "bedrock-flows").glob("*/*.json"))
    checked = 0
    for path in files:
        raw = json.loads(path.read_text())
        for key in ("definition", "definitionInline"):
            if isinstance(raw.get(key), dict) and "nodes" in raw[key]:
                assert _types(raw[key]) == [], path.name
                checked += 1
    assert checked >= 13


@pytest.mark.parametrize("bad", ["[1]", "not json", {"nodes": "x"}, {"nodes": [1]}])
def test_malformed_definitions_are_rejected(bad: Any) -> None:
    with pytest.raises(MalformedDefinition):
        parse(bad)
