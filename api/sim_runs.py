"""Sim runs: a Sim "workflow" is a state machine or a prepared flow hosted by this server.

A run of a state machine is a normal execution (StartExecution through the runtime, so the
Step Functions API sees it); a run of a flow is a FlowRun. Run records live in the runtime's
store (kind ``sim_run``); a state machine run reads its status from its execution record, so
it stays right across restarts. Block outputs are state outputs (``*StateExited`` events) or
node outputs (flow trace), keyed by state or node name.
"""
from __future__ import annotations

import json
import logging
import math
import random
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import anyio
import anyio.abc

from api.errors import AwsError
from engine.errors import StatesimError
from engine.runtime import Runtime, epoch

log = logging.getLogger("statesim.sim")

RUN_KIND = "sim_run"
SYNC_TIMEOUT_SECONDS = 300.0
"""A synchronous run longer than this ends as ``failed`` + ``TIMEOUT`` (Sim caps sync runs too)."""
POLL_SECONDS = 0.01
TERMINAL = frozenset({"completed", "failed", "cancelled"})
_FLOW_ALIAS = re.compile(r"/alias/([0-9A-Za-z]{10})$")
_EXECUTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_SFN_STATUS = {"RUNNING": "running", "SUCCEEDED": "completed", "FAILED": "failed", "TIMED_OUT": "failed",
               "ABORTED": "cancelled"}

BlockSink = Callable[[str, Any], None]
"""Called with (block id, block output) each time a state or node produces output."""


@dataclass(frozen=True, slots=True)
class Workflow:
    """What a Sim workflow id names."""

    id: str
    kind: str
    """``state_machine`` or ``flow``."""
    arn: str
    deployed: bool
    deployed_at: float | None
    needs_redeployment: bool
    record: Mapping[str, Any]
    machine_arn: str = ""
    """The unqualified state machine ARN when ``arn`` is a version or alias ARN."""
    flow_alias: str = "TSTALIASID"
    """The flow alias a run invokes (a flow alias ARN names one; else the draft's test alias)."""


def iso(value: float | None) -> str | None:
    """Epoch seconds as ISO 8601 UTC with milliseconds and ``Z`` (as Sim prints dates)."""
    if value is None:
        return None
    moment = datetime.fromtimestamp(value, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _seconds(value: Any) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


def _json(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


class Runs:
    """Resolves workflow ids, starts runs and keeps their records."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.runtime: Runtime = app.state.runtime
        self.store = self.runtime.store
        self.group: anyio.abc.TaskGroup | None = None
        self._done: dict[str, anyio.Event] = {}

    # ---- workflows ---------------------------------------------------------------------

    def _flows(self) -> Any:
        from api.bedrock_agent import flow_service
        return flow_service(self.app)

    def resolve(self, workflow_id: str) -> Workflow | None:
        """The state machine (name or ARN) or flow (id or ARN) ``workflow_id`` names, or None."""
        arn = workflow_id if workflow_id.startswith("arn:aws:states:") else self.runtime.arns.state_machine(workflow_id)
        machine = self.store.get("state_machine", arn)
        if machine is not None:
            changed = machine.get("updateDate") or machine["creationDate"]
            return Workflow(workflow_id, "state_machine", arn, True, float(changed), False, machine, arn)
        return self._qualified(workflow_id, arn) or self._flow(workflow_id)

    def _qualified(self, workflow_id: str, arn: str) -> Workflow | None:
        """A state machine version (``...:Name:3``) or alias (``...:Name:prod``) ARN."""
        base, _, qualifier = arn.rpartition(":")
        target = self.store.get("version" if qualifier.isdigit() else "alias", arn) if base.count(":") == 6 else None
        machine = self.store.get("state_machine", base) if target is not None else None
        if target is None or machine is None:
            return None
        changed = target.get("updateDate") or target["creationDate"]
        return Workflow(workflow_id, "state_machine", arn, True, float(changed), False, machine, base)

    def _flow(self, workflow_id: str) -> Workflow | None:
        """A flow by id or ARN (``.../flow/ID/alias/ALIAS`` runs that alias); deployed once invocable."""
        from engine.errors import InvalidArgument, NotFound
        store = self._flows().store
        try:
            flow = store.get_flow(workflow_id)
        except NotFound:
            return None
        found = _FLOW_ALIAS.search(workflow_id)
        alias = found.group(1) if found else "TSTALIASID"
        try:
            store.resolve(flow["id"], alias)
            deployed = True
        except (NotFound, InvalidArgument):
            deployed = False
        changed = flow["status"] == "NotPrepared" and flow.get("prepared") is not None
        deployed_at = _seconds(flow["updatedAt"]) if deployed else None
        return Workflow(workflow_id, "flow", str(flow["arn"]), deployed, deployed_at, changed, flow, flow_alias=alias)

    # ---- records -----------------------------------------------------------------------

    def exists(self, run_id: str) -> bool:
        return self.store.get(RUN_KIND, run_id) is not None

    def new(self, workflow: Workflow, payload: Mapping[str, Any], *, timeout: float, run_id: str | None = None,
            legacy: bool = False) -> dict[str, Any]:
        """Persist a queued run of ``workflow`` with the v2 ``input`` object ``payload``; ``timeout`` in seconds."""
        run_id = run_id or str(uuid.uuid4())
        record: dict[str, Any] = {
            "runId": run_id, "workflowId": workflow.id, "workflowArn": workflow.arn, "kind": workflow.kind,
            "machineArn": workflow.machine_arn or None, "flowAlias": workflow.flow_alias,
            "status": "queued", "trigger": "api", "createdAt": self.now(), "startedAt": None, "endedAt": None,
            "input": dict(payload), "output": None, "error": None, "blockOutputs": None, "legacy": legacy,
            "timeout": timeout,
        }
        self._save(record)
        return record

    def _save(self, record: Mapping[str, Any]) -> None:
        self.store.put(RUN_KIND, str(record["runId"]), record, parent=str(record["workflowArn"]))

    def now(self) -> float:
        return epoch(self.runtime.clock.now())

    def get(self, run_id: str) -> dict[str, Any] | None:
        """The run record, its status refreshed from its execution when it is a state machine run."""
        record: dict[str, Any] | None = self.store.get(RUN_KIND, run_id)
        if record is None or record["status"] in TERMINAL or not record.get("executionArn"):
            return record
        execution = self.store.get("execution", record["executionArn"])
        if execution is None or execution["status"] == "RUNNING":
            # the outputs of the states that ended so far (not saved: the history is the source)
            record["blockOutputs"] = _state_outputs(self.store.events(record["executionArn"]))
            return record
        return self._close_execution(record, execution)

    def recover(self) -> None:
        """After a restart: queued runs start now; flow and EXPRESS runs that were running are lost.

        A STANDARD state machine run needs nothing: the runtime resumes its execution and ``get``
        reads the outcome from the execution record.
        """
        for record in self.store.list(RUN_KIND):
            if record["status"] == "queued":
                self.start(record)
            elif record["status"] == "running" and not record.get("executionArn"):
                self._finish(record, "failed", error={
                    "message": "The run was interrupted: statesim stopped while it was running.",
                    "code": "EXECUTION_FAILED"})

    def _close_execution(self, record: dict[str, Any], execution: Mapping[str, Any]) -> dict[str, Any]:
        status = _SFN_STATUS[str(execution["status"])]
        events = self.store.events(record["executionArn"])
        record.update(status=status, endedAt=float(execution.get("stopDate") or self.now()),
                      blockOutputs=_state_outputs(events))
        if status == "completed":
            record["output"] = _json(execution.get("output"))
        else:
            record["error"] = _execution_error(execution, events)
        self._save(record)
        return record

    # ---- running -----------------------------------------------------------------------

    def start(self, record: dict[str, Any], sink: BlockSink | None = None,
              on_done: Callable[[], None] | None = None) -> anyio.Event:
        """Run ``record`` in the background; the event is set (and ``on_done`` called) once it is terminal."""
        if self.group is None:
            raise RuntimeError("the Sim API runs only inside the app's lifespan")
        done = anyio.Event()
        self._done[record["runId"]] = done
        self.group.start_soon(self._drive, record, sink, done, on_done)
        return done

    async def _drive(self, record: dict[str, Any], sink: BlockSink | None, done: anyio.Event,
                     on_done: Callable[[], None] | None) -> None:
        try:
            with anyio.move_on_after(float(record["timeout"])) as scope:
                await (self._run_machine if record["kind"] == "state_machine" else self._run_flow)(record, sink)
            if scope.cancelled_caught:
                self._time_out(record)
        except Exception as exc:  # a bug must not leave the run running forever
            log.exception("sim run %s crashed", record["runId"])
            self._finish(record, "failed", error={"message": f"statesim internal error: {exc}",
                                                   "code": "EXECUTION_FAILED"})
        finally:
            self._done.pop(record["runId"], None)
            done.set()
            if on_done is not None:
                on_done()

    def _finish(self, record: dict[str, Any], status: str, *, output: Any = None,
                error: dict[str, Any] | None = None, blocks: dict[str, Any] | None = None) -> None:
        record.update(status=status, endedAt=self.now(), output=output, error=error)
        if blocks is not None:
            record["blockOutputs"] = blocks
        self._save(record)

    def _time_out(self, record: dict[str, Any]) -> None:
        seconds = float(record["timeout"])
        text = f"{int(seconds)}" if seconds.is_integer() else f"{seconds}"
        message = f"Workflow execution timed out after {text} seconds"
        if record.get("executionArn") and self.runtime.is_running(record["executionArn"]):
            self.runtime.stop(record["executionArn"], "States.Timeout", message)
        blocks = _state_outputs(self.store.events(record["executionArn"])) if record.get("executionArn") else None
        self._finish(record, "failed", error={"message": message, "code": "TIMEOUT"},
                     blocks=blocks or record.get("blockOutputs"))

    async def _run_machine(self, record: dict[str, Any], sink: BlockSink | None) -> None:
        from api.stepfunctions import StepFunctions
        machine = self.store.get("state_machine", record.get("machineArn") or record["workflowArn"])
        if machine is None:
            self._finish(record, "failed", error={"message": "Workflow not found", "code": "EXECUTION_FAILED"})
            return
        name = record["runId"]
        if not _EXECUTION_NAME.match(name) or \
                self.store.get("execution", self.runtime.arns.execution(str(machine["name"]), name)) is not None:
            name = str(uuid.uuid4())
        params = {"stateMachineArn": record["workflowArn"], "name": name,
                  "input": json.dumps(record["input"], ensure_ascii=False)}
        record["startedAt"] = self.now()
        if machine.get("type") == "EXPRESS":
            await self._run_express(record, machine, params, sink)
            return
        try:
            started = await StepFunctions(self.runtime).start_execution(params)
        except (AwsError, StatesimError) as exc:  # e.g. an input over 256 KiB
            self._finish(record, "failed", error={"message": str(getattr(exc, "message", exc)),
                                                   "code": "INVALID_INPUT"})
            return
        record.update(status="running", executionArn=started["executionArn"])
        self._save(record)
        await self._follow(record, sink)

    async def _follow(self, record: dict[str, Any], sink: BlockSink | None) -> None:
        arn, seen, pause = record["executionArn"], 0, POLL_SECONDS / 8
        while True:
            running = self.runtime.is_running(arn)
            if sink is not None:
                events = self.store.events(arn)
                _emit_states(events[seen:], sink)
                seen = len(events)
            if not running:
                break
            await anyio.sleep(pause)
            pause = min(POLL_SECONDS * 2, pause * 1.5)
        execution = self.store.get("execution", arn)
        if execution is not None:
            self._close_execution(record, execution)

    async def _run_express(self, record: dict[str, Any], machine: Mapping[str, Any], params: Mapping[str, Any],
                           sink: BlockSink | None) -> None:
        """EXPRESS machines keep no execution record (as on AWS): the run's result is all there is.

        Its state outputs come from the result's history, so a stream sends them once the run ends.
        """
        record["status"] = "running"
        self._save(record)
        arn = self.runtime.arns.express_execution(str(machine["name"]), str(params["name"]), uuid.uuid4().hex)
        execution = {"executionArn": arn, "name": params["name"], "type": "EXPRESS", "input": params["input"],
                     "stateMachineArn": machine["stateMachineArn"], "roleArn": machine.get("roleArn", ""),
                     "startDate": record["startedAt"]}
        result = await self.runtime.run_sync(execution, self._definition(machine, str(params["stateMachineArn"])))
        history = [dict(event) for event in result.history]
        if sink is not None:
            _emit_states(history, sink)
        blocks = _state_outputs(history)
        if result.status == "SUCCEEDED":
            self._finish(record, "completed", output=_json(result.output), blocks=blocks)
        else:
            outcome = {"status": result.status, "error": result.error, "cause": result.cause}
            self._finish(record, _SFN_STATUS[result.status], error=_execution_error(outcome, history),
                         blocks=blocks)

    def _definition(self, machine: Mapping[str, Any], target: str) -> str:
        """The definition a run of ``target`` (the machine, a version or an alias) runs."""
        if target == machine["stateMachineArn"]:
            return str(machine["definition"])
        alias = self.store.get("alias", target)
        if alias is not None:
            routes = alias["routingConfiguration"]
            target = random.choices(routes, weights=[r["weight"] for r in routes])[0]["stateMachineVersionArn"]
        version = self.store.get("version", target)
        return str((version or machine)["definition"])

    async def _run_flow(self, record: dict[str, Any], sink: BlockSink | None) -> None:
        from engine.flows import FlowFailure, FlowRun, parse
        service = self._flows()
        alias_id = record.get("flowAlias") or "TSTALIASID"
        flow, alias, _version, definition = service.store.resolve(record["workflowArn"], alias_id)
        model = parse(definition, name=str(flow["name"]))
        blocks: dict[str, Any] = {}
        outputs: dict[str, Any] = {}

        def on_event(event: Mapping[str, Any]) -> None:
            for block, value in _flow_blocks(event, outputs):
                blocks[block] = value
                if sink is not None:
                    sink(block, value)

        execution_arn = f"{alias['arn']}/execution/{record['runId']}"
        run = FlowRun(model, _flow_env(service, flow, alias, execution_arn), on_event, trace=True)
        record.update(status="running", startedAt=self.now())
        self._save(record)
        try:
            await run.start(_flow_document(model, record["input"]))
        except FlowFailure as failure:
            code = "BLOCK_EXECUTION_FAILED" if failure.node else "EXECUTION_FAILED"
            error: dict[str, Any] = {"message": failure.message, "code": code}
            if failure.node:
                error.update(blockId=failure.node, blockName=failure.node)
            self._finish(record, "failed", error=error, blocks=blocks)
            return
        if run.waiting:
            names = ", ".join(sorted(run.waiting))
            self._finish(record, "failed", blocks=blocks, error={
                "message": f"The flow asked for user input ({names}); multi-turn flows run through InvokeFlow.",
                "code": "EXECUTION_FAILED"})
            return
        output = next(iter(outputs.values())) if len(outputs) == 1 else outputs
        self._finish(record, "completed", output=output, blocks=blocks)

    async def wait(self, run_id: str) -> dict[str, Any] | None:
        """Wait until the run started by this process ends; its record."""
        done = self._done.get(run_id)
        if done is not None:
            await done.wait()
        return self.get(run_id)


# ---- state machine glue ---------------------------------------------------------------------

def _state_outputs(events: list[dict[str, Any]]) -> dict[str, Any]:
    blocks: dict[str, Any] = {}
    _emit_states(events, blocks.__setitem__)
    return blocks


def _emit_states(events: list[dict[str, Any]], sink: BlockSink) -> None:
    for event in events:
        details = event.get("stateExitedEventDetails")
        if event["type"].endswith("StateExited") and isinstance(details, Mapping):
            sink(str(details["name"]), _json(details.get("output")))


def _failed_state(events: list[dict[str, Any]]) -> dict[str, Any] | None:
    for event in reversed(events):
        details = event.get("stateEnteredEventDetails")
        if event["type"].endswith("StateEntered") and isinstance(details, Mapping):
            kind = event["type"][: -len("StateEntered")]
            return {"blockId": details["name"], "blockName": details["name"], "blockType": kind}
    return None


def _execution_error(execution: Mapping[str, Any], events: list[dict[str, Any]]) -> dict[str, Any]:
    """The v2 ``error`` of a state machine run that did not succeed."""
    status = execution["status"]
    error, cause = execution.get("error"), execution.get("cause")
    if status == "ABORTED":
        return {"message": cause or error or "Workflow execution was cancelled", "code": "CANCELLED"}
    message = f"{error}: {cause}" if error and cause else (error or cause or "Workflow execution failed")
    found: dict[str, Any] = {"message": message, "code": "TIMEOUT" if status == "TIMED_OUT" else "EXECUTION_FAILED"}
    if status == "FAILED":
        found.update(_failed_state(events) or {})
    return found


# ---- flow glue --------------------------------------------------------------------------------

def _flow_env(service: Any, flow: Mapping[str, Any], alias: Mapping[str, Any], execution_arn: str) -> Any:
    from engine.flows import FlowEnv, MockBook
    return FlowEnv(registry=service.registry, mocks=MockBook(service.mocks.get(str(flow.get("name")), {})),
                   s3_dir=service.s3_dir, knowledge_bases=service.knowledge_bases,
                   prompts=service.store.prompt_templates(), flow_arn=str(flow["arn"]), alias_arn=str(alias["arn"]),
                   execution_arn=execution_arn, inline_timeout=service.inline_timeout,
                   model_provider=service.model_provider)


def _flow_document(model: Any, payload: Mapping[str, Any]) -> Any:
    """The Input node's document: the input object, or the value the SDK wrapped as ``{"input": v}``."""
    node = model.input_node
    declared = node.output("document") if node is not None else None
    kind = getattr(declared, "type", "Object")
    if kind != "Object" and set(payload) == {"input"}:
        return payload["input"]
    return dict(payload)


def _flow_blocks(event: Mapping[str, Any], outputs: dict[str, Any]) -> list[tuple[str, Any]]:
    """(node name, {output name: value}) for each node output in one flow stream event."""
    if "flowOutputEvent" in event:
        body = event["flowOutputEvent"]
        document = (body.get("content") or {}).get("document")
        outputs[str(body["nodeName"])] = document
        return [(str(body["nodeName"]), {"document": document})]
    trace = (event.get("flowTraceEvent") or {}).get("trace") or {}
    found = trace.get("nodeOutputTrace")
    if not isinstance(found, Mapping):
        return []
    values = {f["nodeOutputName"]: (f.get("content") or {}).get("document") for f in found.get("fields", [])}
    return [(str(found["nodeName"]), values)]


def duration_ms(record: Mapping[str, Any]) -> float | None:
    started, ended = record.get("startedAt"), record.get("endedAt")
    if started is None or ended is None:
        return None
    return float(max(0, math.floor((float(ended) - float(started)) * 1000)))
