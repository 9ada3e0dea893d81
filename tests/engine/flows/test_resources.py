"""Flow resources: lifecycle rules and write-through to the shared store (SQLite survives a restart)."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import Conflict, InvalidArgument, NotFound
from engine.flows.resources import FlowStore
from engine.store import SqliteStore
from tests.engine.flows._defs import passthrough

ROLE = "arn:aws:iam::123456789012:role/r"


def test_everything_survives_a_restart(tmp_path: Path) -> None:
    first = FlowStore(store=SqliteStore(tmp_path))
    flow = first.create_flow({"name": "f", "executionRoleArn": ROLE, "definition": passthrough(), "tags": {"a": "1"}})
    first.prepare_flow(flow["id"])
    first.create_version(flow["id"], "v1", None)
    alias = first.create_alias(flow["id"], {"name": "live", "routingConfiguration": [{"flowVersion": "1"}]})
    prompt = first.create_prompt({"name": "p", "defaultVariant": "v", "variants": [{"name": "v", "templateType": "TEXT"}]})
    first.create_prompt_version(prompt["id"], None)
    execution = {"executionArn": f"{alias['arn']}/execution/e1", "flowIdentifier": flow["arn"], "status": "Succeeded",
                 "startedAt": flow["createdAt"]}
    first.put_execution(execution, [{"flowInputEvent": {"nodeName": "In", "timestamp": flow["createdAt"]}}])

    second = FlowStore(store=SqliteStore(tmp_path))
    again = second.get_flow(flow["arn"])
    assert (again["status"], again["createdAt"], again["prepared"]) == ("Prepared", flow["createdAt"], passthrough())
    assert second.get_version(flow["id"], "1")["description"] == "v1"
    assert second.get_alias(flow["id"], alias["id"])["routingConfiguration"] == [{"flowVersion": "1"}]
    assert second.list_tags(flow["arn"]) == {"a": "1"}
    assert second.get_prompt(prompt["id"], "1")["arn"] == f"{prompt['arn']}:1"
    assert second.get_execution(execution["executionArn"]) == execution
    assert second.events_of(execution["executionArn"]) == [
        {"flowInputEvent": {"nodeName": "In", "timestamp": flow["createdAt"]}}]
    assert [e["executionArn"] for e in second.list_executions(flow["arn"])] == [execution["executionArn"]]
    assert second.create_version(flow["id"], None, None)["version"] == "2"


def test_delete_flow_removes_it_from_the_store(tmp_path: Path) -> None:
    first = FlowStore(store=SqliteStore(tmp_path))
    flow = first.create_flow({"name": "f", "executionRoleArn": ROLE})
    first.delete_flow(flow["id"])
    with pytest.raises(NotFound):
        FlowStore(store=SqliteStore(tmp_path)).get_flow(flow["id"])


def test_resolve_rules() -> None:
    store = FlowStore()
    flow = store.create_flow({"name": "f", "executionRoleArn": ROLE, "definition": passthrough()})
    with pytest.raises(InvalidArgument) as info:
        store.resolve(flow["id"], "TSTALIASID")
    assert info.value.message == f"Flow {flow['id']} is not prepared. Call PrepareFlow before invoking the TSTALIASID alias."
    store.prepare_flow(flow["id"])
    assert store.resolve(flow["arn"], f"{flow['arn']}/alias/TSTALIASID")[2] == "DRAFT"
    with pytest.raises(InvalidArgument):
        store.update_alias(flow["id"], "TSTALIASID", {"name": "x", "routingConfiguration": [{"flowVersion": "DRAFT"}]})


def test_client_token_with_other_parameters_conflicts() -> None:
    store = FlowStore()
    store.create_flow({"name": "f", "executionRoleArn": ROLE, "clientToken": "t" * 33})
    with pytest.raises(Conflict):
        store.create_flow({"name": "g", "executionRoleArn": ROLE, "clientToken": "t" * 33})


def test_limits_of_the_model_are_enforced() -> None:
    nodes = [{"name": f"N{n}", "type": "Output"} for n in range(41)]
    with pytest.raises(InvalidArgument) as info:
        FlowStore().create_flow({"name": "f", "executionRoleArn": ROLE, "definition": {"nodes": nodes}})
    assert info.value.message == ("1 validation error detected: Value at 'definition.nodes' failed to satisfy "
                                  "constraint: Member must have length less than or equal to 40")


def test_end_interrupted_fails_stored_running_executions_no_task_runs(tmp_path: Path) -> None:
    first = FlowStore(store=SqliteStore(tmp_path))
    flow = first.create_flow({"name": "f", "executionRoleArn": ROLE, "definition": passthrough()})
    base = f"{flow['arn']}/alias/TSTALIASID/execution/"
    for name, status in (("cut", "Running"), ("live", "Running"), ("done", "Succeeded")):
        first.put_execution({"executionArn": base + name, "flowIdentifier": flow["arn"], "status": status,
                             "startedAt": flow["createdAt"]}, [{"flowInputEvent": {"nodeName": "In"}}])
    first.append_execution_events(base + "cut", [{"nodeOutputEvent": {"nodeName": "In"}}])

    second = FlowStore(store=SqliteStore(tmp_path))
    assert second.end_interrupted("server stopped", running=lambda arn: arn.endswith("/live")) == [base + "cut"]
    cut = second.get_execution(base + "cut")
    assert cut is not None
    assert (cut["status"], cut["errors"]) == ("Failed", [{"message": "server stopped"}])
    assert cut["endedAt"] >= cut["startedAt"]
    events = second.events_of(base + "cut")
    assert [next(iter(e)) for e in events] == ["flowInputEvent", "nodeOutputEvent", "flowFailureEvent"]
    assert events[2]["flowFailureEvent"]["errorCode"] == "INTERNAL_SERVER"
    assert events[2]["flowFailureEvent"]["errorMessage"] == "server stopped"
    assert [(second.get_execution(base + n) or {}).get("status") for n in ("live", "done")] == ["Running", "Succeeded"]
    assert second.end_interrupted("again", running=lambda arn: False) == [base + "live"]
