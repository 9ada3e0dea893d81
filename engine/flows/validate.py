"""Definition validation: the 33 ``FlowValidationType`` checks of the bedrock-agent model.

``validate_flow(flow)`` returns the ``validations`` list of ValidateFlowDefinition /
GetFlow: ``[{message, severity, details: {<lowerCamel type>: {...}}, type}]``. Triggers
follow spec §3; AWS's message wording is unknown, so messages are ours (never compared).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from engine.flows.expressions import ExpressionError, compile_condition, compile_input
from engine.flows.model import DataType, Flow, Node, NodeInput, NodeOutput
from engine.flows.specs import ANY, NODE_SPECS, required_outputs_for
from engine.flows.templates import template_variables
from engine.types import JSON

Validation = dict[str, Any]
_TYPES = {t.value for t in DataType}
_LOOP_INCOMPATIBLE = ("Input", "Condition", "Iterator", "Collector")


def finding(kind: str, message: str, severity: str = "Error", **details: JSON) -> Validation:
    """One validation item in the model's shape."""
    key = kind[0].lower() + kind[1:]
    return {"message": message, "severity": severity, "details": {key: details}, "type": kind}


def validate_flow(flow: Flow) -> list[Validation]:
    """Every validation finding of a parsed top-level flow, in a stable order."""
    return list(_check_scope(flow, loop=None, outer=frozenset()))


def _check_scope(flow: Flow, loop: Node | None, outer: frozenset[str]) -> Iterator[Validation]:
    yield from _check_names(flow, top=loop is None)
    if loop is None:
        if not flow.nodes_of("Input"):
            yield finding("MissingStartingNodes", "The flow has no Input node.")
        if not flow.nodes_of("Output"):
            yield finding("MissingEndingNodes", "The flow has no Output node.")
    for node in flow.nodes:
        yield from _check_node(node, flow)
    yield from _check_connections(flow, loop, outer)
    yield from _check_inputs_fed(flow)
    yield from _check_cycles(flow)
    yield from _check_reachable(flow, loop)


# ---------------------------------------------------------------- names and nodes

def _check_names(flow: Flow, top: bool) -> Iterator[Validation]:
    for name, count in Counter(n.name for n in flow.nodes).items():
        if not name:
            yield finding("Unspecified", "A node has no name.")
        elif count > 1:
            yield finding("Unspecified", f"The node name '{name}' is used by {count} nodes.")
    for name, count in Counter(c.name for c in flow.connections).items():
        if count > 1:
            yield finding("Unspecified", f"The connection name '{name}' is used by {count} connections.")
    if top and len(flow.nodes_of("Input")) > 1:
        yield finding("Unspecified", "A flow can have only one Input node.")


def _check_node(node: Node, flow: Flow) -> Iterator[Validation]:
    spec = NODE_SPECS.get(node.type)
    if spec is None:
        yield finding("Unspecified", f"Node '{node.name}' has the unknown type '{node.type}'.")
        return
    if node.config_key != spec.config_key and (spec.config_required or node.config_key is not None):
        yield finding(
            "MissingNodeConfiguration",
            f"Node '{node.name}' of type {node.type} needs the configuration '{spec.config_key}'.",
            node=node.name,
        )
    yield from _check_declared_types(node)
    yield from _check_inputs(node, spec.inputs, spec.required_inputs + _template_inputs(node))
    outputs = spec.outputs
    required = required_outputs_for(node.type, node.config)
    if node.type == "KnowledgeBase":
        outputs = {name: spec.outputs[name] for name in required} if spec.outputs else outputs
    yield from _check_outputs(node, outputs, required)
    yield from _check_expressions(node)
    yield from _CONFIG_CHECKS.get(node.type, _no_checks)(node, flow)


def _template_inputs(node: Node) -> tuple[str, ...]:
    if node.type != "Prompt":
        return ()
    return tuple(v for v in template_variables(node.config) if node.input(v) is None)


def _check_declared_types(node: Node) -> Iterator[Validation]:
    items: tuple[NodeInput | NodeOutput, ...] = (*node.inputs, *node.outputs)
    for item in items:
        if item.type not in _TYPES:
            yield finding("Unspecified", f"'{item.name}' of node '{node.name}' has the unknown type '{item.type}'.")


def _check_inputs(node: Node, fixed: Any, required: tuple[str, ...]) -> Iterator[Validation]:
    return _check_ports(node, node.inputs, "input", "Input", fixed, required)


def _check_outputs(node: Node, fixed: Any, required: tuple[str, ...]) -> Iterator[Validation]:
    return _check_ports(node, node.outputs, "output", "Output", fixed, required)


def _check_ports(node: Node, ports: Any, kind: str, title: str, fixed: Any,
                 required: tuple[str, ...]) -> Iterator[Validation]:
    """Unknown, mistyped and missing inputs or outputs (``kind`` names the field, as AWS does)."""
    declared = {p.name for p in ports}
    for item in ports:
        if fixed is not None and item.name not in fixed:
            yield finding(f"UnknownNode{title}", f"Node '{node.name}' has no {kind} named '{item.name}'.",
                          node=node.name, **{kind: item.name})
        elif fixed is not None and fixed[item.name] != ANY and item.type != fixed[item.name]:
            yield finding(f"MismatchedNode{title}Type",
                          f"{title} '{item.name}' of node '{node.name}' must be of type {fixed[item.name]}.",
                          node=node.name, **{kind: item.name}, expectedType=fixed[item.name])
    for name in required:
        if name not in declared:
            yield finding(f"MissingNode{title}", f"Node '{node.name}' is missing the {kind} '{name}'.",
                          node=node.name, **{kind: name})


def _check_expressions(node: Node) -> Iterator[Validation]:
    for item in node.inputs:
        try:
            compile_input(item.expression)
        except ExpressionError as exc:
            yield finding("MalformedNodeInputExpression",
                          f"Input '{item.name}' of node '{node.name}' has a malformed expression.",
                          node=node.name, input=item.name, cause=str(exc))


def _no_checks(node: Node, flow: Flow) -> Iterator[Validation]:
    return iter(())


def _check_condition_node(node: Node, flow: Flow) -> Iterator[Validation]:
    names = [c.name for c in node.conditions]
    if "default" not in names:
        yield finding("MissingDefaultCondition", f"Condition node '{node.name}' has no default condition.",
                      node=node.name)
    expressions = Counter(c.expression for c in node.conditions if c.expression is not None)
    for expression, count in expressions.items():
        if count > 1:
            yield finding("DuplicateConditionExpression",
                          f"Condition node '{node.name}' repeats the expression '{expression}'.",
                          node=node.name, expression=expression)
    for condition in node.conditions:
        if condition.name != "default":
            yield from _check_condition(node, condition.name, condition.expression)


def _check_condition(node: Node, name: str, expression: str | None) -> Iterator[Validation]:
    cause = _condition_cause(node, expression)
    if cause is not None:
        yield finding("MalformedConditionExpression",
                      f"Condition '{name}' of node '{node.name}' is malformed: {cause}",
                      node=node.name, condition=name, cause=cause)


def _condition_cause(node: Node, expression: str | None) -> str | None:
    if not expression:
        return "The condition has no expression."
    try:
        compiled = compile_condition(expression)
    except ExpressionError as exc:
        return str(exc)
    unknown = sorted(n for n in compiled.names if node.input(n) is None)
    if unknown:
        return f"The expression references unknown inputs: {', '.join(unknown)}."
    if not compiled.names:
        return "The expression must reference at least one input."
    return None


def _check_loop_controller(node: Node, flow: Flow) -> Iterator[Validation]:
    for condition in node.conditions:
        yield from _check_condition(node, condition.name, condition.expression)


def _check_loop(node: Node, flow: Flow) -> Iterator[Validation]:
    body = node.body
    if body is None:
        return
    counts = Counter(n.type for n in body.nodes)
    for kind, many in (("LoopInput", "MultipleLoopInputNodes"), ("LoopController", "MultipleLoopControllerNodes")):
        if counts[kind] == 0:
            yield finding(f"Missing{kind}Node", f"Loop '{node.name}' has no {kind} node.", loopNode=node.name)
        elif counts[kind] > 1:
            yield finding(many, f"Loop '{node.name}' has more than one {kind} node.", loopNode=node.name)
    for inner in body.nodes:
        if inner.type in _LOOP_INCOMPATIBLE:
            yield finding("LoopIncompatibleNodeType",
                          f"A {inner.type} node ('{inner.name}') cannot be used inside loop '{node.name}'.",
                          node=node.name, incompatibleNodeType=inner.type, incompatibleNodeName=inner.name)
    yield from _check_scope(body, loop=node, outer=frozenset(flow.by_name))


_CONFIG_CHECKS = {
    "Condition": _check_condition_node,
    "LoopController": _check_loop_controller,
    "Loop": _check_loop,
}


# ---------------------------------------------------------------- connections

def _loop_members(flow: Flow) -> dict[str, str]:
    """Node names inside any loop body of ``flow`` -> the loop's name."""
    return {inner.name: node.name for node in flow.nodes_of("Loop") if node.body for inner in node.body.nodes}


def _check_connections(flow: Flow, loop: Node | None, outer: frozenset[str]) -> Iterator[Validation]:
    inside = _loop_members(flow)
    seen: set[tuple[object, ...]] = set()
    for conn in flow.connections:
        if not conn.has_configuration or conn.type not in ("Data", "Conditional"):
            yield finding("MissingConnectionConfiguration",
                          f"Connection '{conn.name}' has no {conn.type or 'valid'} configuration.",
                          connection=conn.name)
            continue
        boundary = _boundary(flow, conn, loop, inside, outer)
        if boundary:
            yield boundary
            continue
        problem = _endpoint_problem(flow, conn)
        if problem:
            yield problem
            continue
        key = (conn.source, conn.target, conn.source_output, conn.target_input, conn.condition)
        if key in seen:
            yield finding("DuplicateConnections",
                          f"Connection '{conn.name}' repeats a connection from '{conn.source}' to '{conn.target}'.",
                          source=conn.source, target=conn.target)
        seen.add(key)
        incompatible = _incompatible(flow, conn) if conn.is_data else None
        if incompatible:
            yield incompatible
    yield from _check_unsatisfiable(flow)


def _boundary(flow: Flow, conn: Any, loop: Node | None, inside: dict[str, str],
              outer: frozenset[str]) -> Validation | None:
    crosses = any((end in inside or end in outer) and end not in flow.by_name for end in (conn.source, conn.target))
    misplaced = loop is None and any(
        flow.by_name[end].type in ("LoopInput", "LoopController")
        for end in (conn.source, conn.target) if end in flow.by_name
    )
    if not crosses and not misplaced:
        return None
    return finding("InvalidLoopBoundary",
                   f"Connection '{conn.name}' crosses a loop boundary.",
                   connection=conn.name, source=conn.source, target=conn.target)


def _endpoint_problem(flow: Flow, conn: Any) -> Validation | None:
    source, target = flow.by_name.get(conn.source), flow.by_name.get(conn.target)
    if source is None:
        return finding("UnknownConnectionSource", f"Connection '{conn.name}' starts at an unknown node.",
                       connection=conn.name)
    if target is None:
        return finding("UnknownConnectionTarget", f"Connection '{conn.name}' ends at an unknown node.",
                       connection=conn.name)
    if conn.is_data and source.output(conn.source_output or "") is None:
        return finding("UnknownConnectionSourceOutput",
                       f"Connection '{conn.name}' uses an unknown output of '{source.name}'.", connection=conn.name)
    if conn.is_data and target.input(conn.target_input or "") is None:
        return finding("UnknownConnectionTargetInput",
                       f"Connection '{conn.name}' uses an unknown input of '{target.name}'.", connection=conn.name)
    if not conn.is_data and (source.type != "Condition" or conn.condition not in {c.name for c in source.conditions}):
        return finding("UnknownConnectionCondition",
                       f"Connection '{conn.name}' names an unknown condition of '{source.name}'.",
                       connection=conn.name)
    return None


def _incompatible(flow: Flow, conn: Any) -> Validation | None:
    output = flow.by_name[conn.source].output(conn.source_output)
    target = flow.by_name[conn.target].input(conn.target_input)
    if output is None or target is None or output.type not in _TYPES or target.type not in _TYPES:
        return None
    try:
        expression = compile_input(target.expression)
    except ExpressionError:
        return None
    if expression.is_whole:
        ok = output.type == target.type
    else:
        ok = output.type in ("Object", "Array")
    if ok:
        return None
    return finding("IncompatibleConnectionDataType",
                   f"Connection '{conn.name}' carries {output.type} into input '{target.name}' of type {target.type}.",
                   connection=conn.name)


def _check_unsatisfiable(flow: Flow) -> Iterator[Validation]:
    chosen: dict[tuple[str, str], str] = {}
    for conn in flow.connections:
        if conn.type != "Conditional" or conn.source not in flow.by_name or conn.target not in flow.by_name:
            continue
        first = chosen.setdefault((conn.source, conn.target), conn.condition or "")
        if first != conn.condition:
            yield finding("UnsatisfiedConnectionConditions",
                          f"Connection '{conn.name}' can never hold together with condition '{first}'.",
                          connection=conn.name)


def _check_inputs_fed(flow: Flow) -> Iterator[Validation]:
    fed = Counter(
        (c.target, c.target_input) for c in flow.connections
        if c.is_data and c.has_configuration and c.target in flow.by_name
    )
    for node in flow.nodes:
        for item in node.inputs:
            count = fed[(node.name, item.name)]
            if count == 0:
                yield finding("UnfulfilledNodeInput",
                              f"Input '{item.name}' of node '{node.name}' has no data connection.",
                              node=node.name, input=item.name)
            elif count > 1:
                yield finding("MultipleNodeInputConnections",
                              f"Input '{item.name}' of node '{node.name}' has {count} data connections.",
                              node=node.name, input=item.name)


# ---------------------------------------------------------------- graph shape

def _successors(flow: Flow) -> dict[str, list[tuple[str, str]]]:
    graph: dict[str, list[tuple[str, str]]] = {n.name: [] for n in flow.nodes}
    for conn in flow.connections:
        if conn.source in graph and conn.target in graph:
            graph[conn.source].append((conn.target, conn.name))
    return graph


def _check_cycles(flow: Flow) -> Iterator[Validation]:
    graph, state, found = _successors(flow), {}, []  # state: 1 on path, 2 done

    def visit(name: str) -> None:
        state[name] = 1
        for target, conn in graph[name]:
            if state.get(target) == 1:
                found.append(conn)
            elif target not in state:
                visit(target)
        state[name] = 2

    starts = [n.name for n in flow.nodes if n.type in ("Input", "LoopInput")] + list(graph)
    for name in starts:
        if name not in state:
            visit(name)
    for conn in found:
        yield finding("CyclicConnection", f"Connection '{conn}' closes a cycle.", connection=conn)


def _check_reachable(flow: Flow, loop: Node | None) -> Iterator[Validation]:
    start = flow.nodes_of("LoopInput" if loop is not None else "Input")
    if not start:
        return
    graph, seen, todo = _successors(flow), {start[0].name}, [start[0].name]
    while todo:
        for target, _ in graph[todo.pop()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    for node in flow.nodes:
        if node.name and node.name not in seen and node.type not in ("Input", "LoopInput"):
            yield finding("UnreachableNode", f"Node '{node.name}' cannot be reached from the start of the flow.",
                          "Warning", node=node.name)
