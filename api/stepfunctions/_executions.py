"""Executions (start, describe, list, history, stop, redrive) and Map Runs."""
from __future__ import annotations

import math
import random
import uuid

from api.errors import (
    AwsError,
    ExecutionLimitExceeded,
    ExecutionNotRedrivable,
    ResourceNotFound,
    StateMachineTypeNotSupported,
    ValidationException,
)
from api.stepfunctions._base import (
    Params,
    REDRIVE_DAYS,
    Result,
    Service,
    check_name,
    paginate,
    parse_arn,
    strip,
)
from engine.errors import NotFound
from engine.history import MAX_EVENTS
from engine.runtime import epoch, new_execution_name
from engine.store.base import Record
from engine.tasks import distributed
from engine.tasks.mocks import split_test_case


MAX_EXECUTION_DAYS = 365
"""AWS: a Standard execution runs at most one year (redriveStatusReason past it)."""


class Executions(Service):
    """StartExecution ... RedriveExecution, ListMapRuns, DescribeMapRun, UpdateMapRun."""

    # ---- executions -------------------------------------------------------------------------

    def _target(self, text: str) -> tuple[Record, Record, Record | None, Record | None]:
        """(machine, the revision that runs, version, alias) for StartExecution's ARN (``#TestCase`` ignored)."""
        machine, version, alias = self._qualified(split_test_case(text)[0])
        self._not_deleting(machine)
        if alias is not None:
            routes = alias["routingConfiguration"]
            chosen = random.choices(routes, weights=[r["weight"] for r in routes])[0]
            version = self.store.get("version", chosen["stateMachineVersionArn"])
            if version is None:
                raise NotFound("state_machine", chosen["stateMachineVersionArn"])
        return machine, (version or machine), version, alias

    def _new_record(self, p: Params, machine: Record, revision: Record, version: Record | None,
                    alias: Record | None) -> Record:
        from engine.asl.inputs import parse_execution_input
        input_text = p.get("input", "{}")
        parse_execution_input(input_text)
        name = p.get("name") or new_execution_name()
        check_name(name)
        record: Record = {
            "name": name, "stateMachineArn": machine["stateMachineArn"], "input": input_text,
            "startDate": self.now(), "roleArn": revision["roleArn"],
            "type": machine["type"], "revisionId": revision.get("revisionId"),
            "machineUpdateDate": revision.get("updateDate") or revision.get("creationDate"),
        }
        if version is not None:
            record["stateMachineVersionArn"] = version["stateMachineVersionArn"]
        if alias is not None:
            record["stateMachineAliasArn"] = alias["stateMachineAliasArn"]
        if p.get("traceHeader"):
            record["traceHeader"] = p["traceHeader"]
        test_case = split_test_case(p["stateMachineArn"])[1]
        if test_case is not None:  # Step Functions Local: ``<stateMachineArn>#<TestCase>`` runs with mocks
            record["testCase"] = test_case
        return record

    async def start_execution(self, p: Params) -> Result:
        machine, revision, version, alias = self._target(p["stateMachineArn"])
        record = self._new_record(p, machine, revision, version, alias)
        if machine["type"] == "EXPRESS":
            record["executionArn"] = self.arns.express_execution(machine["name"], record["name"], uuid.uuid4().hex)
            self.rt.start_express(record, revision["definition"])
            return {"executionArn": record["executionArn"], "startDate": record["startDate"]}
        arn = self.arns.execution(machine["name"], record["name"])
        existing = self.store.get("execution", arn)
        if existing is not None:
            # AWS: idempotent for a RUNNING execution started with the same name and input
            if existing["status"] == "RUNNING" and existing.get("input") == record["input"] and \
                    existing.get("stateMachineVersionArn") == record.get("stateMachineVersionArn"):
                return {"executionArn": arn, "startDate": existing["startDate"]}
            raise AwsError(f"Execution Already Exists: '{arn}'", code="ExecutionAlreadyExists")
        self._execution_quota()
        record["executionArn"] = arn
        self.rt.start(record, revision["definition"])
        return {"executionArn": arn, "startDate": record["startDate"]}

    async def start_sync_execution(self, p: Params) -> Result:
        machine, revision, version, alias = self._target(p["stateMachineArn"])
        if machine["type"] != "EXPRESS":
            raise StateMachineTypeNotSupported("This operation is not supported by this type of state machine")
        record = self._new_record(p, machine, revision, version, alias)
        record["executionArn"] = self.arns.express_execution(machine["name"], record["name"], uuid.uuid4().hex)
        started = self.rt.clock.now()
        base = machine["stateMachineArn"]
        self._sync_runs[base] = self._sync_runs.get(base, 0) + 1
        try:
            result = await self.rt.run_sync(record, revision["definition"])
        finally:
            self._sync_runs[base] -= 1
            if not self._sync_runs[base]:
                del self._sync_runs[base]
        stopped = self.rt.clock.now()
        millis = max(100, math.ceil((stopped - started).total_seconds() * 10) * 100)
        response: Result = {
            "executionArn": record["executionArn"], "stateMachineArn": revision.get("stateMachineVersionArn")
            or machine["stateMachineArn"], "name": record["name"], "startDate": epoch(started),
            "stopDate": epoch(stopped), "status": result.status, "input": record["input"],
            "inputDetails": {"included": True}, "outputDetails": {"included": True},
            "billingDetails": {"billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": millis},
        }
        # AWS: outputDetails is there whatever the status, output only when it SUCCEEDED
        # (conformance v2/express/test_express_sync.py::TestExpressSync::test_base[BASE_RAISE_FAILURE])
        if result.status == "SUCCEEDED":
            response["output"] = result.output
        for key in ("error", "cause"):
            if getattr(result, key) is not None:
                response[key] = getattr(result, key)
        if record.get("traceHeader"):
            response["traceHeader"] = record["traceHeader"]
        return response

    async def describe_execution(self, p: Params) -> Result:
        record = self._execution(p["executionArn"])
        keys = ("executionArn", "stateMachineArn", "name", "status", "startDate", "stopDate", "input", "output",
                "error", "cause", "traceHeader", "mapRunArn", "stateMachineVersionArn", "stateMachineAliasArn",
                "redriveCount", "redriveDate")
        result = {k: record[k] for k in keys if record.get(k) is not None}
        result["inputDetails"] = {"included": True}
        if "output" in result:
            result["outputDetails"] = {"included": True}
        result["redriveCount"] = record.get("redriveCount", 0)
        status, reason = self._redrivable(record)
        result["redriveStatus"] = status
        if reason:
            result["redriveStatusReason"] = reason
        return result

    def _execution_quota(self) -> None:
        if self.rt.execution_limit_reached():
            raise ExecutionLimitExceeded(
                "The maximum number of running executions has been reached. Running executions must end or be "
                "stopped before a new execution can be started.")

    def _redrivable(self, record: Record) -> tuple[str, str | None]:
        """(redriveStatus, redriveStatusReason): AWS's documented reasons (DescribeExecution)."""
        status = record["status"]
        if status in ("RUNNING", "SUCCEEDED"):
            return "NOT_REDRIVABLE", f"Execution is {status} and cannot be redriven"
        if record.get("mapRunArn"):
            return "REDRIVABLE_BY_MAP_RUN", None
        machine = self.store.get("state_machine", record["stateMachineArn"])
        if machine is not None and machine.get("status") == "DELETING":
            return "NOT_REDRIVABLE", "State machine is in DELETING status"
        events = self.store.events(record["executionArn"])
        if events and int(events[-1]["id"]) >= MAX_EVENTS - 1:  # no room for ExecutionRedriven and a state
            return "NOT_REDRIVABLE", "Execution history event limit exceeded"
        now = self.now()
        if now - float(record.get("startDate", now)) > MAX_EXECUTION_DAYS * 86400:
            return "NOT_REDRIVABLE", "Execution has exceeded the max execution time"
        if now - float(record.get("stopDate", 0)) > REDRIVE_DAYS * 86400:
            return "NOT_REDRIVABLE", "Execution redrivable period exceeded"
        return "REDRIVABLE", None

    async def list_executions(self, p: Params) -> Result:
        if "stateMachineArn" in p and "mapRunArn" in p:
            raise ValidationException("Only one of stateMachineArn and mapRunArn may be specified")
        if "mapRunArn" in p:
            parse_arn(p["mapRunArn"], "mapRun")
            executions = [r for r in self.store.list("execution") if r.get("mapRunArn") == p["mapRunArn"]]
        elif "stateMachineArn" in p:
            machine, version, alias = self._qualified(p["stateMachineArn"])
            if machine["type"] == "EXPRESS":
                raise StateMachineTypeNotSupported("This operation is not supported by this type of state machine")
            executions = self.store.list("execution", parent=machine["stateMachineArn"])
            if version is not None:
                executions = [e for e in executions if e.get("stateMachineVersionArn") == p["stateMachineArn"]]
            if alias is not None:
                executions = [e for e in executions if e.get("stateMachineAliasArn") == p["stateMachineArn"]]
        else:
            raise ValidationException("Must provide a StateMachine ARN or MapRun ARN")
        if "statusFilter" in p:
            executions = [e for e in executions if e["status"] == p["statusFilter"]]
        if p.get("redriveFilter") == "REDRIVEN":
            executions = [e for e in executions if e.get("redriveCount", 0) > 0]
        elif p.get("redriveFilter") == "NOT_REDRIVEN":
            executions = [e for e in executions if not e.get("redriveCount", 0)]
        executions.sort(key=lambda e: e["startDate"], reverse=True)
        keys = ("executionArn", "stateMachineArn", "name", "status", "startDate", "stopDate", "mapRunArn",
                "stateMachineVersionArn", "stateMachineAliasArn", "redriveCount", "redriveDate")
        items = [{k: e[k] for k in keys if e.get(k) is not None} for e in executions]
        for item in items:
            item.setdefault("redriveCount", 0)
        scope = "executions:" + (p.get("stateMachineArn") or p.get("mapRunArn", ""))
        return paginate(items, p, "executions", scope)

    async def get_execution_history(self, p: Params) -> Result:
        record = self._execution(p["executionArn"])
        events = self.store.events(record["executionArn"])
        if p.get("reverseOrder"):
            events.reverse()
        if p.get("includeExecutionData") is False:
            events = [_without_data(e) for e in events]
        return paginate(events, p, "events", "history:" + record["executionArn"])

    async def stop_execution(self, p: Params) -> Result:
        record = self._execution(p["executionArn"])
        if record["status"] != "RUNNING":  # a closed execution stays as it ended
            return {"stopDate": record["stopDate"]}
        stopped = self.rt.stop(record["executionArn"], p.get("error"), p.get("cause"))
        return {"stopDate": stopped["stopDate"]}

    async def redrive_execution(self, p: Params) -> Result:
        record = self._execution(p["executionArn"])
        status, reason = self._redrivable(record)
        if status != "REDRIVABLE":
            raise ExecutionNotRedrivable(reason or f"Execution is {record['status']} and cannot be redriven")
        if record["type"] == "EXPRESS":
            raise ExecutionNotRedrivable("Express executions cannot be redriven")
        self._execution_quota()
        redriven = self.rt.redrive(record)
        return {"redriveDate": redriven["redriveDate"]}
    # ---- map runs ---------------------------------------------------------------------------

    async def list_map_runs(self, p: Params) -> Result:
        record = self._execution(p["executionArn"])
        keys = ("executionArn", "mapRunArn", "stateMachineArn", "startDate", "stopDate")
        runs = [{k: r[k] for k in keys if k in r} for r in self.store.list("map_run", parent=record["executionArn"])]
        return paginate(runs, p, "mapRuns", "maprun:" + record["executionArn"])

    async def describe_map_run(self, p: Params) -> Result:
        parse_arn(p["mapRunArn"], "mapRun")
        record = self.store.get("map_run", p["mapRunArn"])
        if record is None:
            raise ResourceNotFound(f"Resource not found: '{p['mapRunArn']}'")
        progress = distributed.LIVE.get(p["mapRunArn"]) if record.get("status") == "RUNNING" else None
        if progress is not None:  # a running Map Run: its counts as of now
            record = dict(record, **progress.settings())
            record["itemCounts"], record["executionCounts"] = progress.counts()
        return strip(record, "stateMachineArn")

    async def update_map_run(self, p: Params) -> Result:
        parse_arn(p["mapRunArn"], "mapRun")
        record = self.store.get("map_run", p["mapRunArn"])
        if record is None:
            raise ResourceNotFound(f"Resource not found: '{p['mapRunArn']}'")
        percentage = p.get("toleratedFailurePercentage")
        if percentage is not None and not 0 <= float(percentage) <= 100:  # the model's float range
            bound = "less than or equal to 100" if float(percentage) > 100 else "greater than or equal to 0"
            raise ValidationException(f"1 validation error detected: Value '{float(percentage)}' at "
                                      f"'toleratedFailurePercentage' failed to satisfy constraint: Member must "
                                      f"have value {bound}")
        for key in ("maxConcurrency", "toleratedFailurePercentage", "toleratedFailureCount"):
            if key in p:
                record[key] = float(p[key]) if key == "toleratedFailurePercentage" else p[key]
        progress = distributed.LIVE.get(p["mapRunArn"]) if record.get("status") == "RUNNING" else None
        if progress is not None:  # the running Map Run follows the new settings from now on
            progress.update(p.get("maxConcurrency"), p.get("toleratedFailureCount"),
                            p.get("toleratedFailurePercentage"))
        self.store.put("map_run", p["mapRunArn"], record, parent=record.get("executionArn"))
        return {}


def _without_data(event: Record) -> Record:
    """includeExecutionData=false: input/output members are left out of event details."""
    trimmed = dict(event)
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, dict):
            trimmed[key] = {k: v for k, v in value.items() if k not in ("input", "output", "parameters", "result")}
    return trimmed
