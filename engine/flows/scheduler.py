"""The dataflow scheduler: runs a node when its inputs have arrived and its gates allow it.

A ``Frame`` runs a set of nodes (the flow, one Iterator item, or one Loop pass). Each
node runs once per frame, in definition order among the ready ones (spec §2.4); untaken
condition branches die and the death propagates. ``FlowRun`` owns one execution: it
emits stream events through a callback and keeps paused (multi-turn) nodes across turns.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from engine.flows.expressions import ExpressionError, NoMatch, compile_condition, compile_input, type_name
from engine.flows.model import Connection, Flow, Node, NodeInput
from engine.flows.nodes import HANDLERS, NodeCall, choose_condition, request_id
from engine.flows.services import VALIDATION, FlowEnv, FlowFailure, InputRequired
from engine.types import JSON

Event = dict[str, Any]
"""One stream event as boto3 yields it: ``{"flowOutputEvent": {...}}`` etc."""

_PYTHON_TYPES: Mapping[str, Callable[[JSON], bool]] = {
    "String": lambda v: isinstance(v, str),
    "Number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "Boolean": lambda v: isinstance(v, bool),
    "Object": lambda v: isinstance(v, dict),
    "Array": lambda v: isinstance(v, list),
}


def check_type(value: JSON, declared: str, what: str, node: str) -> None:
    """FlowFailure(validationException) when ``value`` is not of the ``declared`` type (spec §2.3)."""
    accepts = _PYTHON_TYPES.get(declared)
    if accepts is None or accepts(value):
        return
    # AWS: "Expected type for Node Output document of Node FlowInput to be STRING. Actual type
    # is OBJECT." [observed: thandavms/bedrock-flows, 3.lambda_node.ipynb]
    raise FlowFailure(VALIDATION, f"Expected type for {what} of Node {node} to be {declared.upper()}. "
                                  f"Actual type is {type_name(value)}.", node=node)


def timestamp() -> str:
    """An ISO-8601 UTC timestamp with milliseconds, as trace events carry."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(slots=True)
class Arrived:
    """A whole input value delivered to a node input, and the connection it came along."""

    value: JSON
    conn: Connection | None


@dataclass(slots=True)
class Frame:
    """One scope of execution: the nodes it may run and the values delivered inside it."""

    run: FlowRun
    flow: Flow
    region: frozenset[str]
    parent: Frame | None = None
    chain: tuple[dict[str, Any], ...] = ()
    values: dict[tuple[str, str], Arrived] = field(default_factory=dict)
    status: dict[str, str] = field(default_factory=dict)
    """node -> ``done`` | ``dead`` | ``waiting`` | ``delegated`` (run by an Iterator's frames)."""
    chosen: dict[str, str] = field(default_factory=dict)
    collected: dict[str, list[JSON]] = field(default_factory=dict)
    controller_inputs: dict[str, dict[str, JSON]] = field(default_factory=dict)

    # ------------------------------------------------------------ lookups

    def owner(self, name: str) -> Frame | None:
        """The innermost frame (this or an ancestor) whose region holds ``name``."""
        frame: Frame | None = self
        while frame is not None and name not in frame.region:
            frame = frame.parent
        return frame

    def state_of(self, name: str) -> str | None:
        frame = self.owner(name)
        return frame.status.get(name) if frame is not None else None

    def arrived(self, node: str, input_name: str) -> Arrived | None:
        frame: Frame | None = self
        while frame is not None:
            found = frame.values.get((node, input_name))
            if found is not None:
                return found
            frame = frame.parent
        return None

    def chosen_of(self, name: str) -> str | None:
        frame = self.owner(name)
        return frame.chosen.get(name) if frame is not None else None

    # ------------------------------------------------------------ readiness

    def is_dead(self, node: Node) -> bool:
        for conn in self.flow.incoming.get(node.name, ()):
            source = self.state_of(conn.source)
            if source == "dead":
                return True
            if not conn.is_data and source == "done" and self.chosen_of(conn.source) != conn.condition:
                return True
        return False

    def is_ready(self, node: Node) -> bool:
        incoming = self.flow.incoming.get(node.name, ())
        if not incoming:  # unreachable (a validation warning): nothing ever starts it
            return False
        if node.type == "Iterator" and not self._outside_feeders_settled(node):
            return False
        for conn in incoming:
            if not conn.is_data and self.chosen_of(conn.source) != conn.condition:
                return False
        return all(self.arrived(node.name, i.name) is not None for i in node.inputs)

    def _outside_feeders_settled(self, iterator: Node) -> bool:
        region = iteration_region(self.flow, iterator, self.region)
        for name in region:
            for conn in self.flow.incoming.get(name, ()):
                if conn.source not in region and conn.source != iterator.name and \
                        self.state_of(conn.source) not in ("done", "dead", "delegated"):
                    return False
        return True

    # ------------------------------------------------------------ the loop

    async def drain(self) -> None:
        """Run ready nodes (definition order first) until none is left."""
        while True:
            node = self._next()
            if node is None:
                return
            await self.run.run_node(self, node)

    def _next(self) -> Node | None:
        for node in self.flow.nodes:
            if node.name not in self.region or node.name in self.status:
                continue
            if self.is_dead(node):
                self.status[node.name] = "dead"
                return self._next()
            if self.is_ready(node):
                return node
        return None

    def deliver(self, source: Node, outputs: Mapping[str, JSON]) -> None:
        """Send each output along its data connections, into the frame that owns the target."""
        for conn in self.flow.outgoing.get(source.name, ()):
            if not conn.is_data or conn.source_output not in outputs:
                continue
            value = outputs[conn.source_output or ""]
            frame = self.owner(conn.target) or self
            target = self.flow.by_name.get(conn.target)
            if frame is not self and target is not None and target.type == "Collector" and conn.target_input == "arrayItem":
                item = self.run.input_value(target, target.input("arrayItem"), value)
                frame.collected.setdefault(target.name, []).append(item)
                continue
            frame.values[(conn.target, conn.target_input or "")] = Arrived(value, conn)


def iteration_region(flow: Flow, iterator: Node, within: frozenset[str]) -> frozenset[str]:
    """Nodes downstream of ``iterator`` up to its own Collector(s): they run once per item.

    Iterators nest: a Collector closes the innermost open Iterator, so an inner
    Iterator/Collector pair (and what follows it) stays inside the outer region.
    """
    seen: set[str] = set()
    todo = [(c.target, 0) for c in flow.outgoing.get(iterator.name, ())]
    while todo:
        name, depth = todo.pop()
        node = flow.by_name.get(name)
        if node is None or name in seen or name not in within or name == iterator.name:
            continue
        if node.type == "Collector" and depth == 0:
            continue
        depth += {"Iterator": 1, "Collector": -1}.get(node.type, 0)
        seen.add(name)
        todo.extend((c.target, depth) for c in flow.outgoing.get(name, ()))
    return frozenset(seen)


@dataclass(slots=True)
class Waiting:
    """A node paused for user input (multi-turn), with its frame and evaluated inputs."""

    frame: Frame
    node: Node
    inputs: dict[str, JSON]


class FlowRun:
    """One flow execution: start it, maybe resume it, events go to ``emit``."""

    def __init__(self, flow: Flow, env: FlowEnv, emit: Callable[[Event], None], *, trace: bool = False) -> None:
        self.flow = flow
        self.env = env
        self.emit = emit
        self.trace = trace
        self.top = Frame(self, flow, frozenset(n.name for n in flow.nodes))
        self.waiting: dict[str, Waiting] = {}
        self.started = False

    # ------------------------------------------------------------ turns

    async def start(self, content: JSON) -> str:
        """Run from the Input node with ``content``; returns the completion reason."""
        self.started = True
        node = self.flow.input_node
        if node is None:
            raise FlowFailure(VALIDATION, "The flow has no Input node.")
        output = node.output("document")
        check_type(content, output.type if output else "", "Node Output document", node.name)
        self.top.status[node.name] = "done"
        self._output_trace(self.top, node, {"document": content})
        self.top.deliver(node, {"document": content})
        return await self._finish()

    async def resume(self, node_name: str, input_name: str, value: JSON) -> str:
        """Continue a paused execution with the user's answer for ``node_name``."""
        waiting = self.waiting.pop(node_name, None)
        if waiting is None:
            raise FlowFailure(VALIDATION, f"Error retrieving session context: node '{node_name}' is not waiting "
                                          "for input in this execution.")
        input_decl = waiting.node.input(input_name)
        if input_decl is not None:
            check_type(value, input_decl.type, f"Node Input {input_name}", node_name)
        waiting.frame.status.pop(node_name, None)
        await self._execute(waiting.frame, waiting.node, waiting.inputs, resume={input_name: value})
        return await self._finish()

    async def _finish(self) -> str:
        await self.top.drain()
        reason = "INPUT_REQUIRED" if self.waiting else "SUCCESS"
        self.emit({"flowCompletionEvent": {"completionReason": reason}})
        return reason

    # ------------------------------------------------------------ one node

    def input_value(self, node: Node, decl: NodeInput | None, whole: JSON) -> JSON:
        """Apply an input's expression to the whole input and check the declared type."""
        if decl is None:
            return whole
        what = f"Node Input {decl.name}"
        try:
            value = compile_input(decl.expression).evaluate(whole)
        except (NoMatch, ExpressionError) as exc:
            raise FlowFailure(VALIDATION, f"The expression {decl.expression} of {what} of Node {node.name} "
                                          "selects nothing from the input.", node=node.name) from exc
        check_type(value, decl.type, what, node.name)
        return value

    def _gather(self, frame: Frame, node: Node) -> dict[str, JSON]:
        values: dict[str, JSON] = {}
        fields = []
        for decl in node.inputs:
            arrived = frame.arrived(node.name, decl.name)
            assert arrived is not None
            if node.type == "Collector" and decl.name == "arrayItem":
                values[decl.name] = arrived.value
            else:
                values[decl.name] = self.input_value(node, decl, arrived.value)
            fields.append(self._input_field(frame, decl, values[decl.name], arrived.conn))
        if fields:
            self._trace("nodeInputTrace", node, fields=fields)
        return values

    def _input_field(self, frame: Frame, decl: NodeInput, value: JSON, conn: Connection | None) -> dict[str, Any]:
        item: dict[str, Any] = {"nodeInputName": decl.name, "content": {"document": value},
                                "type": decl.type.upper()}
        if conn is not None:
            item["source"] = {"nodeName": conn.source, "outputFieldName": conn.source_output or "",
                              "expression": decl.expression}
        if decl.category:
            item["category"] = decl.category
        if frame.chain:
            item["executionChain"] = list(frame.chain)
        return item

    async def run_node(self, frame: Frame, node: Node) -> None:
        inputs = self._gather(frame, node)
        await self._execute(frame, node, inputs)

    async def _execute(self, frame: Frame, node: Node, inputs: dict[str, JSON],
                       resume: Mapping[str, JSON] | None = None) -> None:
        special = _SPECIAL.get(node.type)
        if special is not None:
            frame.status[node.name] = "done"
            await special(self, frame, node, inputs)
            return
        handler = HANDLERS.get(node.type)
        if handler is None:
            raise FlowFailure(VALIDATION, f"Node {node.name} has the unsupported type '{node.type}'.", node=node.name)
        call = NodeCall(self.env, lambda *a: self._action(node, *a), resume)
        try:
            outputs = await handler(node, inputs, call)
        except InputRequired as ask:
            self._pause(frame, node, inputs, ask.question)
            return
        frame.status[node.name] = "done"
        self._finish_node(frame, node, outputs)

    def _finish_node(self, frame: Frame, node: Node, outputs: dict[str, JSON]) -> None:
        declared = {o.name: o for o in node.outputs}
        for name, value in outputs.items():
            if name in declared:
                check_type(value, declared[name].type, f"Node Output {name}", node.name)
        self._output_trace(frame, node, outputs)
        frame.deliver(node, outputs)

    def _pause(self, frame: Frame, node: Node, inputs: dict[str, JSON], question: JSON) -> None:
        if frame is not self.top:
            raise FlowFailure(VALIDATION, f"Node {node.name} asked for user input inside an iteration or loop; "
                                          "statesim supports multi-turn only outside Iterator and Loop bodies.",
                              node=node.name)
        frame.status[node.name] = "waiting"
        self.waiting[node.name] = Waiting(frame, node, inputs)
        self.emit({"flowMultiTurnInputRequestEvent": {
            "nodeName": node.name, "nodeType": node.event_type, "content": {"document": question}}})

    # ------------------------------------------------------------ events

    def _trace(self, kind: str, node: Node, **members: Any) -> None:
        if self.trace:
            self.emit({"flowTraceEvent": {"trace": {kind: {"nodeName": node.name, "timestamp": timestamp(), **members}}}})

    def _action(self, node: Node, service: str, operation: str, request: JSON, response: JSON) -> None:
        self._trace("nodeActionTrace", node, requestId=request_id(), serviceName=service, operationName=operation,
                    operationRequest=request, operationResponse=response)

    def _output_trace(self, frame: Frame, node: Node, outputs: Mapping[str, JSON]) -> None:
        if not self.trace or not outputs:
            return
        declared = {o.name: o.type for o in node.outputs}
        fields = []
        for name, value in outputs.items():
            nexts = [{"nodeName": c.target, "inputFieldName": c.target_input or ""}
                     for c in frame.flow.outgoing.get(node.name, ()) if c.is_data and c.source_output == name]
            fields.append({"nodeOutputName": name, "content": {"document": value},
                           "type": declared.get(name, type_name(value)).upper(), "next": nexts})
        self._trace("nodeOutputTrace", node, fields=fields)


# ---------------------------------------------------------------- nodes that drive frames

async def _output(run: FlowRun, frame: Frame, node: Node, inputs: dict[str, JSON]) -> None:
    run.emit({"flowOutputEvent": {"nodeName": node.name, "nodeType": node.event_type,
                                  "content": {"document": inputs.get("document")}}})


async def _condition(run: FlowRun, frame: Frame, node: Node, inputs: dict[str, JSON]) -> None:
    chosen = choose_condition(node, inputs)
    frame.chosen[node.name] = chosen
    run._trace("conditionNodeResultTrace", node, satisfiedConditions=[{"conditionName": chosen}])


async def _collector(run: FlowRun, frame: Frame, node: Node, inputs: dict[str, JSON]) -> None:
    run._finish_node(frame, node, {"collectedArray": list(inputs.get("arrayItem") or [])})


async def _controller(run: FlowRun, frame: Frame, node: Node, inputs: dict[str, JSON]) -> None:
    frame.controller_inputs[node.name] = inputs


async def _iterator(run: FlowRun, frame: Frame, node: Node, inputs: dict[str, JSON]) -> None:
    items = inputs.get("array") or []
    region = iteration_region(frame.flow, node, frame.region)
    for name in region:
        frame.status.setdefault(name, "delegated")
    size_only = {"arraySize": len(items)}
    frame.deliver(node, size_only)
    for index, item in enumerate(items):
        child = Frame(run, frame.flow, region, frame,
                      (*frame.chain, {"nodeName": node.name, "type": "Iterator", "index": index}))
        outputs = {"arrayItem": item, "arraySize": len(items)}
        declared = node.output("arrayItem")
        if declared is not None:
            check_type(item, declared.type, "Node Output arrayItem", node.name)
        run._output_trace(child, node, outputs)
        child.deliver(node, {"arrayItem": item})
        await child.drain()
    _close_collectors(frame, node, region)


def _close_collectors(frame: Frame, iterator: Node, region: frozenset[str]) -> None:
    """Hand every Collector fed from this iteration the items gathered from its frames."""
    for name in (*region, iterator.name):
        for conn in frame.flow.outgoing.get(name, ()):
            target = frame.flow.by_name.get(conn.target)
            if target is not None and target.type == "Collector" and conn.is_data and conn.target_input == "arrayItem":
                frame.values[(target.name, "arrayItem")] = Arrived(frame.collected.pop(target.name, []), conn)


async def _loop(run: FlowRun, frame: Frame, node: Node, inputs: dict[str, JSON]) -> None:
    body = node.body
    if body is None:
        raise FlowFailure(VALIDATION, f"Loop node {node.name} has no body.", node=node.name)
    start, controller = body.nodes_of("LoopInput"), body.nodes_of("LoopController")
    if len(start) != 1 or len(controller) != 1:
        raise FlowFailure(VALIDATION, f"Loop node {node.name} needs one LoopInput and one LoopController.", node=node.name)
    variables = dict(inputs)
    exits: dict[str, JSON] = {}
    limit = int(controller[0].config.get("maxIterations") or 10)
    for index in range(limit):
        seen = await _loop_pass(run, frame, node, body, start[0], controller[0], variables, index)
        for decl in controller[0].inputs:
            if decl.category == "ReturnValueToLoopStart":
                variables[decl.name] = seen[decl.name]
            elif decl.category == "ExitLoop":
                exits[decl.name] = seen[decl.name]
        if not _continues(run, controller[0], seen):
            break
    missing = [o.name for o in node.outputs if o.name not in exits]
    if missing:
        raise FlowFailure(VALIDATION, f"Loop node {node.name} ended without a value for its output {missing[0]}.",
                          node=node.name)
    run._finish_node(frame, node, {o.name: exits[o.name] for o in node.outputs})


async def _loop_pass(run: FlowRun, frame: Frame, loop: Node, body: Flow, start: Node, controller: Node,
                     variables: dict[str, JSON], index: int) -> dict[str, JSON]:
    chain = (*frame.chain, {"nodeName": loop.name, "type": "Loop", "index": index})
    child = Frame(run, body, frozenset(n.name for n in body.nodes), None, chain)
    child.status[start.name] = "done"
    outputs = {o.name: variables[o.name] for o in start.outputs if o.name in variables}
    run._finish_node(child, start, outputs)
    await child.drain()
    seen = child.controller_inputs.get(controller.name)
    if seen is None:
        raise FlowFailure(VALIDATION, f"The LoopController {controller.name} of Loop node {loop.name} did not run "
                                      f"in pass {index + 1}.", node=loop.name)
    return seen


def _continues(run: FlowRun, controller: Node, seen: Mapping[str, JSON]) -> bool:
    if not controller.conditions or not controller.conditions[0].expression:
        return False
    holds = compile_condition(controller.conditions[0].expression).evaluate(seen)
    return not holds if run.env.exit_when_true else holds


_SPECIAL: Mapping[str, Callable[[FlowRun, Frame, Node, dict[str, JSON]], Any]] = {
    "Output": _output,
    "Condition": _condition,
    "Collector": _collector,
    "LoopController": _controller,
    "Iterator": _iterator,
    "Loop": _loop,
}
