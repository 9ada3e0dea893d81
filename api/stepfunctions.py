"""The Step Functions API: one coroutine per operation, named like boto3's methods.

Resource operations (state machines, versions, aliases, activities, tags) read and write the
store directly; executions, task tokens and activity polling go through the runtime.
"""
from __future__ import annotations

import base64
import binascii
import json
import math
import random
import uuid
from collections.abc import Mapping
from typing import Any

from api.awsjson import Handler, camel_to_snake, service_model
from api.errors import (
    AwsError,
    ConflictException,
    ExecutionNotRedrivable,
    InvalidArn,
    InvalidDefinitionError,
    InvalidOutput,
    InvalidToken,
    MissingRequiredParameter,
    ResourceNotFound,
    StateMachineTypeNotSupported,
    TooManyTags,
    ValidationException,
    invalid_name,
    wrong_resource_type,
)
from engine import arns
from engine.errors import InvalidDefinition, NotFound
from engine.runtime import Runtime, epoch, new_execution_name
from engine.store.base import Record
from engine.tasks.mocks import split_test_case

Params = dict[str, Any]
Result = dict[str, Any]

MAX_TAGS = 50
DEFAULT_PAGE = 100
REDRIVE_DAYS = 14
DEFAULT_LOGGING = {"level": "OFF", "includeExecutionData": False}
DEFAULT_TRACING = {"enabled": False}


def handlers(runtime: Runtime) -> dict[str, Handler]:
    """Operation name -> coroutine, for every operation of the botocore model."""
    api = StepFunctions(runtime)
    return {op: getattr(api, camel_to_snake(op)) for op in service_model("stepfunctions").operation_names}


# ---- small helpers ---------------------------------------------------------------------

def parse_arn(text: str, *kinds: str) -> arns.Arn:
    """The ARN, or AWS's InvalidArn: a bad prefix, a bad form, or the wrong resource type."""
    if not text.startswith("arn:"):
        raise InvalidArn(f"Invalid Arn: 'Invalid ARN prefix: {text}'")
    parsed = arns.parse(text)
    if parsed is None:
        raise InvalidArn(f"Invalid Arn: '{text}'")
    if kinds and parsed.kind not in kinds:
        raise wrong_resource_type(parsed.kind)
    return parsed


def _encode_token(offset: int, scope: str) -> str:
    raw = json.dumps({"o": offset, "s": scope}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_token(token: str | None, scope: str) -> int:
    if token is None:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        if data["s"] == scope and isinstance(data["o"], int) and data["o"] >= 0:
            return int(data["o"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        pass
    raise InvalidToken("Invalid Token: 'Invalid token'")


def paginate(items: list[Any], params: Params, key: str, scope: str) -> Result:
    """One page of ``items`` under ``key``, with an opaque nextToken when more remain."""
    start = _decode_token(params.get("nextToken"), scope)
    size = params.get("maxResults") or DEFAULT_PAGE
    page: Result = {key: items[start:start + size]}
    if start + size < len(items):
        page["nextToken"] = _encode_token(start + size, scope)
    return page


def _check_name(name: str) -> None:
    if not arns.is_valid_name(name):
        raise invalid_name(name)


def _load_definition(text: str, machine_type: str = "STANDARD") -> None:
    """InvalidDefinition (AWS's message) unless the definition can run."""
    from engine.asl import validate
    try:
        validate.load_definition(text, type=machine_type)
        import engine.asl as asl
        asl.load(text)
    except InvalidDefinition as exc:
        raise InvalidDefinitionError(exc.message) from None


def _logging(config: Params | None) -> Params:
    """The stored loggingConfiguration (AWS fills level OFF, includeExecutionData false)."""
    config = dict(config or {})
    config.setdefault("level", "OFF")
    config.setdefault("includeExecutionData", False)
    destinations = config.get("destinations") or []
    if len(destinations) > 1 or (config["level"] != "OFF" and len(destinations) != 1):
        raise AwsError("Invalid Logging Configuration: Must specify exactly one Log Destination.",
                       code="InvalidLoggingConfiguration")
    if not destinations:
        config.pop("destinations", None)
    return config


def _strip(record: Mapping[str, Any], *drop: str) -> Result:
    return {k: v for k, v in record.items() if k not in drop and v is not None}


class StepFunctions:
    """Every Step Functions operation over one runtime."""

    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.store = runtime.store
        self.arns = runtime.arns

    def now(self) -> float:
        return epoch(self.rt.clock.now())

    # ---- lookups ------------------------------------------------------------------------

    def _machine(self, arn: str) -> Record:
        record = self.store.get("state_machine", arn)
        if record is None:
            raise NotFound("state_machine", arn)
        return record

    def _qualified(self, text: str) -> tuple[Record, Record | None, Record | None]:
        """(machine, version, alias) for a machine, version or alias ARN."""
        parsed = parse_arn(text, "stateMachine")
        base, qualifier = arns.machine_of(parsed)
        if len(parsed.parts) > 2:
            raise InvalidArn(f"Invalid Arn: '{text}'")
        machine = self.store.get("state_machine", base)
        if qualifier is None:
            if machine is None:
                raise NotFound("state_machine", text)
            return machine, None, None
        if qualifier.isdigit():
            version = self.store.get("version", text)
            if machine is None or version is None:
                raise NotFound("state_machine", text)
            return machine, version, None
        alias = self.store.get("alias", text)
        if machine is None or alias is None:
            raise NotFound("state_machine", text)
        return machine, None, alias

    def _execution(self, text: str) -> Record:
        parse_arn(text, "execution")
        record = self.store.get("execution", text)
        if record is None:
            raise NotFound("execution", text)
        return record

    def _activity(self, text: str) -> Record:
        parse_arn(text, "activity")
        record = self.store.get("activity", text)
        if record is None:
            raise NotFound("activity", text)
        return record

    # ---- state machines -----------------------------------------------------------------

    async def create_state_machine(self, p: Params) -> Result:
        name, definition, role = p["name"], p["definition"], p["roleArn"]
        machine_type = p.get("type", "STANDARD")
        _check_name(name)
        if not arns.is_role_arn(role):
            raise InvalidArn(f"Invalid Arn: '{role}'")
        if p.get("versionDescription") and not p.get("publish"):
            raise ValidationException("Version description can only be set when publish is true")
        self._check_tags(p.get("tags", []))
        _load_definition(definition, machine_type)
        arn = self.arns.state_machine(name)
        existing = self.store.get("state_machine", arn)
        logging_conf = _logging(p.get("loggingConfiguration"))
        tracing = p.get("tracingConfiguration") or DEFAULT_TRACING
        if existing is not None:
            same = (existing["definition"], existing["roleArn"], existing["type"]) == (definition, role, machine_type)
            if not same or p.get("publish"):
                raise AwsError(f"State Machine Already Exists: '{arn}'", code="StateMachineAlreadyExists")
            return {"stateMachineArn": arn, "creationDate": existing["creationDate"]}
        record: Record = {
            "stateMachineArn": arn, "name": name, "type": machine_type, "definition": definition,
            "roleArn": role, "status": "ACTIVE", "creationDate": self.now(), "loggingConfiguration": logging_conf,
            "tracingConfiguration": tracing, "revisionId": uuid.uuid4().hex, "nextVersion": 1,
        }
        if p.get("encryptionConfiguration"):
            record["encryptionConfiguration"] = p["encryptionConfiguration"]
        self.store.put("state_machine", arn, record)
        self._put_tags(arn, p.get("tags", []))
        result: Result = {"stateMachineArn": arn, "creationDate": record["creationDate"]}
        if p.get("publish"):
            version = self._publish(record, p.get("versionDescription"))
            result["stateMachineVersionArn"] = version["stateMachineVersionArn"]
        return result

    async def describe_state_machine(self, p: Params) -> Result:
        machine, version, alias = self._qualified(p["stateMachineArn"])
        if alias is not None:
            raise NotFound("state_machine", p["stateMachineArn"])
        source = version or machine
        result = _strip(source, "nextVersion", "version", "stateMachineVersionArn", "encryptionConfiguration")
        result["stateMachineArn"] = p["stateMachineArn"]
        result["name"] = machine["name"]
        if version is not None:
            result["status"] = "ACTIVE"
        if "encryptionConfiguration" in source:
            result["encryptionConfiguration"] = source["encryptionConfiguration"]
        return result

    async def update_state_machine(self, p: Params) -> Result:
        parsed = parse_arn(p["stateMachineArn"], "stateMachine")
        if len(parsed.parts) > 1:
            raise NotFound("state_machine", p["stateMachineArn"])
        machine = self._machine(p["stateMachineArn"])
        keys = ("definition", "roleArn", "loggingConfiguration", "tracingConfiguration", "encryptionConfiguration")
        if not any(k in p for k in keys):
            raise MissingRequiredParameter(
                "Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration "
                "must be specified")
        if p.get("versionDescription") and not p.get("publish"):
            raise ValidationException("Version description can only be set when publish is true")
        if "roleArn" in p and not arns.is_role_arn(p["roleArn"]):
            raise InvalidArn(f"Invalid Arn: '{p['roleArn']}'")
        if "definition" in p:
            _load_definition(p["definition"], machine["type"])
        if "loggingConfiguration" in p:
            p["loggingConfiguration"] = _logging(p["loggingConfiguration"])
        changed = any(k in p and p[k] != machine.get(k) for k in keys)
        for key in keys:
            if key in p:
                machine[key] = p[key]
        if changed:
            machine["revisionId"] = uuid.uuid4().hex
        machine["updateDate"] = self.now()
        self.store.put("state_machine", machine["stateMachineArn"], machine)
        result: Result = {"updateDate": machine["updateDate"], "revisionId": machine["revisionId"]}
        if p.get("publish"):
            version = self._publish(machine, p.get("versionDescription"))
            result["stateMachineVersionArn"] = version["stateMachineVersionArn"]
        return result

    async def delete_state_machine(self, p: Params) -> Result:
        parsed = parse_arn(p["stateMachineArn"], "stateMachine")
        if len(parsed.parts) > 1:
            raise ValidationException(f"Invalid Arn: '{p['stateMachineArn']}'")
        arn = p["stateMachineArn"]
        if self.store.get("state_machine", arn) is None:
            return {}
        for kind in ("version", "alias"):
            for record in self.store.list(kind, parent=arn):
                key = record.get("stateMachineVersionArn") or record["stateMachineAliasArn"]
                self.store.delete(kind, key)
                self.store.delete("tags", key)
        self.store.delete("state_machine", arn)
        self.store.delete("tags", arn)
        return {}

    async def list_state_machines(self, p: Params) -> Result:
        machines = sorted(self.store.list("state_machine"), key=lambda r: r["name"])
        items = [{"stateMachineArn": r["stateMachineArn"], "name": r["name"], "type": r["type"],
                  "creationDate": r["creationDate"]} for r in machines]
        return paginate(items, p, "stateMachines", "state_machines")

    async def describe_state_machine_for_execution(self, p: Params) -> Result:
        execution = self._execution(p["executionArn"])
        machine = self.store.get("state_machine", execution["stateMachineArn"]) or {}
        result: Result = {
            "stateMachineArn": execution.get("stateMachineVersionArn") or execution["stateMachineArn"],
            "name": execution["stateMachineArn"].split(":")[6], "definition": self.rt.definition_of(execution),
            "roleArn": execution.get("roleArn"), "updateDate": execution.get("machineUpdateDate") or
            machine.get("updateDate") or machine.get("creationDate") or execution["startDate"],
            "loggingConfiguration": machine.get("loggingConfiguration", DEFAULT_LOGGING),
            "tracingConfiguration": machine.get("tracingConfiguration", DEFAULT_TRACING),
        }
        if execution.get("revisionId"):
            result["revisionId"] = execution["revisionId"]
        return result

    # ---- versions -------------------------------------------------------------------------

    def _publish(self, machine: Record, description: str | None) -> Record:
        versions = self.store.list("version", parent=machine["stateMachineArn"])
        if versions and versions[-1]["revisionId"] == machine["revisionId"]:
            return versions[-1]
        number = machine.get("nextVersion", 1)
        arn = self.arns.version(machine["stateMachineArn"], number)
        version: Record = {
            **_strip(machine, "nextVersion", "updateDate", "encryptionConfiguration"),
            "stateMachineVersionArn": arn, "version": number, "creationDate": self.now(),
        }
        if description:
            version["description"] = description
        self.store.put("version", arn, version, parent=machine["stateMachineArn"])
        machine["nextVersion"] = number + 1
        self.store.put("state_machine", machine["stateMachineArn"], machine)
        return version

    async def publish_state_machine_version(self, p: Params) -> Result:
        parsed = parse_arn(p["stateMachineArn"], "stateMachine")
        if len(parsed.parts) > 1:
            raise NotFound("state_machine", p["stateMachineArn"])
        machine = self._machine(p["stateMachineArn"])
        if "revisionId" in p and p["revisionId"] != machine["revisionId"]:
            raise ConflictException(
                f"Failed to publish the State Machine version for revision {p['revisionId']}. "
                f"The current State Machine revision is {machine['revisionId']}.")
        version = self._publish(machine, p.get("description"))
        return {"creationDate": version["creationDate"], "stateMachineVersionArn": version["stateMachineVersionArn"]}

    async def list_state_machine_versions(self, p: Params) -> Result:
        parsed = parse_arn(p["stateMachineArn"], "stateMachine")
        if len(parsed.parts) > 1:
            raise ValidationException(f"Invalid Arn: '{p['stateMachineArn']}'")
        versions = self.store.list("version", parent=p["stateMachineArn"])
        items = [{"stateMachineVersionArn": v["stateMachineVersionArn"], "creationDate": v["creationDate"]}
                 for v in reversed(versions)]
        return paginate(items, p, "stateMachineVersions", "versions:" + p["stateMachineArn"])

    async def delete_state_machine_version(self, p: Params) -> Result:
        parsed = parse_arn(p["stateMachineVersionArn"], "stateMachine")
        if len(parsed.parts) != 2 or not parsed.parts[1].isdigit():
            raise ValidationException(f"Invalid Arn: '{p['stateMachineVersionArn']}'")
        arn = p["stateMachineVersionArn"]
        base, _ = arns.machine_of(parsed)
        referencing = [a["name"] for a in self.store.list("alias", parent=base)
                       if any(r["stateMachineVersionArn"] == arn for r in a["routingConfiguration"])]
        if referencing:
            raise ConflictException(
                "Version to be deleted must not be referenced by an alias. Current list of aliases referencing "
                f"this version: [{', '.join(referencing)}]")
        self.store.delete("version", arn)
        self.store.delete("tags", arn)
        return {}

    # ---- aliases ----------------------------------------------------------------------------

    def _check_routing(self, routing: list[Params]) -> str:
        """The machine ARN all routes belong to; AWS's ValidationException otherwise."""
        received = "[" + ", ".join(r["stateMachineVersionArn"] for r in routing) + "]"
        bases = set()
        for route in routing:
            parsed = parse_arn(route["stateMachineVersionArn"], "stateMachine")
            if len(parsed.parts) != 2 or not parsed.parts[1].isdigit():
                raise ValidationException(
                    f"Routing configuration must contain state machine version ARNs. Received: {received}")
            bases.add(arns.machine_of(parsed)[0])
        if len({r["stateMachineVersionArn"] for r in routing}) != len(routing):
            raise ValidationException(
                f"Routing configuration must contain distinct state machine version ARNs. Received: {received}")
        if len(bases) > 1:
            raise ValidationException(
                f"Routing configuration must reference a single state machine. Received: {received}")
        weights = [r["weight"] for r in routing]
        if sum(weights) != 100:
            raise ValidationException(
                f"Sum of routing configuration weights must equal 100. Received: {json.dumps(weights)}")
        for route in routing:
            if self.store.get("version", route["stateMachineVersionArn"]) is None:
                raise ResourceNotFound("Request references a resource that does not exist.")
        return bases.pop()

    async def create_state_machine_alias(self, p: Params) -> Result:
        routing = p["routingConfiguration"]
        base = self._check_routing(routing)
        arn = self.arns.alias(base, p["name"])
        existing = self.store.get("alias", arn)
        if existing is not None:
            if existing["routingConfiguration"] != routing or existing.get("description") != p.get("description"):
                raise ConflictException("Failed to create alias because an alias with the same name and a "
                                        "different routing configuration already exists.")
            return {"stateMachineAliasArn": arn, "creationDate": existing["creationDate"]}
        record: Record = {"stateMachineAliasArn": arn, "name": p["name"], "routingConfiguration": routing,
                          "creationDate": self.now(), "stateMachineArn": base}
        if p.get("description") is not None:
            record["description"] = p["description"]
        self.store.put("alias", arn, record, parent=base)
        return {"stateMachineAliasArn": arn, "creationDate": record["creationDate"]}

    def _alias(self, text: str) -> Record:
        parsed = parse_arn(text, "stateMachine")
        if len(parsed.parts) != 2 or parsed.parts[1].isdigit():
            raise InvalidArn(f"Invalid Arn: '{text}'")
        record = self.store.get("alias", text)
        if record is None:
            raise ResourceNotFound("Request references a resource that does not exist.")
        return record

    async def describe_state_machine_alias(self, p: Params) -> Result:
        record = self._alias(p["stateMachineAliasArn"])
        result = _strip(record, "stateMachineArn")
        result.setdefault("updateDate", record["creationDate"])
        return result

    async def update_state_machine_alias(self, p: Params) -> Result:
        record = self._alias(p["stateMachineAliasArn"])
        if "routingConfiguration" not in p and "description" not in p:
            raise ValidationException("Either the description or the RoutingConfiguration must be specified")
        if "routingConfiguration" in p:
            base = self._check_routing(p["routingConfiguration"])
            if base != record["stateMachineArn"]:
                raise ValidationException("Routing configuration must reference the alias's state machine.")
            record["routingConfiguration"] = p["routingConfiguration"]
        if "description" in p:
            record["description"] = p["description"]
        record["updateDate"] = self.now()
        self.store.put("alias", record["stateMachineAliasArn"], record, parent=record["stateMachineArn"])
        return {"updateDate": record["updateDate"]}

    async def delete_state_machine_alias(self, p: Params) -> Result:
        record = self._alias(p["stateMachineAliasArn"])
        self.store.delete("alias", record["stateMachineAliasArn"])
        self.store.delete("tags", record["stateMachineAliasArn"])
        return {}

    async def list_state_machine_aliases(self, p: Params) -> Result:
        parsed = parse_arn(p["stateMachineArn"], "stateMachine")
        base, qualifier = arns.machine_of(parsed)
        if qualifier is not None and not qualifier.isdigit():
            raise InvalidArn(f"Invalid Arn: '{p['stateMachineArn']}'")
        if self.store.get("state_machine", base) is None:
            raise ResourceNotFound(f"Resource not found: '{p['stateMachineArn']}'")
        aliases = self.store.list("alias", parent=base)
        if qualifier is not None:
            aliases = [a for a in aliases
                       if any(r["stateMachineVersionArn"] == p["stateMachineArn"] for r in a["routingConfiguration"])]
        items = [{"stateMachineAliasArn": a["stateMachineAliasArn"], "creationDate": a["creationDate"]}
                 for a in aliases]
        return paginate(items, p, "stateMachineAliases", "aliases:" + base)

    # ---- activities -------------------------------------------------------------------------

    async def create_activity(self, p: Params) -> Result:
        _check_name(p["name"])
        self._check_tags(p.get("tags", []))
        arn = self.arns.activity(p["name"])
        existing = self.store.get("activity", arn)
        if existing is not None:
            return {"activityArn": arn, "creationDate": existing["creationDate"]}
        record: Record = {"activityArn": arn, "name": p["name"], "creationDate": self.now()}
        if p.get("encryptionConfiguration"):
            record["encryptionConfiguration"] = p["encryptionConfiguration"]
        self.store.put("activity", arn, record)
        self._put_tags(arn, p.get("tags", []))
        return {"activityArn": arn, "creationDate": record["creationDate"]}

    async def describe_activity(self, p: Params) -> Result:
        return self._activity(p["activityArn"])

    async def delete_activity(self, p: Params) -> Result:
        parse_arn(p["activityArn"], "activity")
        self.store.delete("activity", p["activityArn"])
        self.store.delete("tags", p["activityArn"])
        return {}

    async def list_activities(self, p: Params) -> Result:
        items = [{"activityArn": a["activityArn"], "name": a["name"], "creationDate": a["creationDate"]}
                 for a in self.store.list("activity")]
        return paginate(items, p, "activities", "activities")

    async def get_activity_task(self, p: Params) -> Result:
        self._activity(p["activityArn"])
        got = await self.rt.get_activity_task(p["activityArn"], p.get("workerName"))
        if got is None:
            return {}
        token, text = got
        return {"taskToken": token, "input": text}

    # ---- task tokens ------------------------------------------------------------------------

    @staticmethod
    def _check_token(token: str) -> None:
        if not token or len(token) < 16:
            raise InvalidToken("Invalid token")

    async def send_task_success(self, p: Params) -> Result:
        self._check_token(p["taskToken"])
        try:
            output = json.loads(p["output"])
        except ValueError:
            raise InvalidOutput(f"Invalid Output: '{p['output']}'") from None
        await self.rt.send_success(p["taskToken"], output)
        return {}

    async def send_task_failure(self, p: Params) -> Result:
        self._check_token(p["taskToken"])
        await self.rt.send_failure(p["taskToken"], p.get("error"), p.get("cause"))
        return {}

    async def send_task_heartbeat(self, p: Params) -> Result:
        self._check_token(p["taskToken"])
        await self.rt.send_heartbeat(p["taskToken"])
        return {}

    # ---- executions -------------------------------------------------------------------------

    def _target(self, text: str) -> tuple[Record, Record, Record | None, Record | None]:
        """(machine, the revision that runs, version, alias) for StartExecution's ARN (``#TestCase`` ignored)."""
        machine, version, alias = self._qualified(split_test_case(text)[0])
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
        _check_name(name)
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
        result = await self.rt.run_sync(record, revision["definition"])
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

    def _redrivable(self, record: Record) -> tuple[str, str | None]:
        status = record["status"]
        if status in ("RUNNING", "SUCCEEDED"):
            return "NOT_REDRIVABLE", f"Execution is {status} and cannot be redriven"
        if record.get("mapRunArn"):
            return "REDRIVABLE_BY_MAP_RUN", None
        if self.now() - float(record.get("stopDate", 0)) > REDRIVE_DAYS * 86400:
            return "NOT_REDRIVABLE", "Execution can only be redriven within 14 days of its stop date"
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
        redriven = self.rt.redrive(record)
        return {"redriveDate": redriven["redriveDate"]}

    # ---- tags -------------------------------------------------------------------------------

    def _check_tags(self, tags: list[Params]) -> None:
        missing = [i for i, tag in enumerate(tags, start=1) if tag.get("key") is None]
        if missing:
            errors = [f"Value null at 'tags.{i}.member.key' failed to satisfy constraint: Member must not be null"
                      for i in missing]
            noun = "error" if len(errors) == 1 else "errors"
            raise ValidationException(f"{len(errors)} validation {noun} detected: " + "; ".join(errors))
        if len(tags) > MAX_TAGS:
            raise TooManyTags(f"Too many tags: maximum is {MAX_TAGS}")

    def _put_tags(self, arn: str, tags: list[Params]) -> None:
        if tags:
            self.store.put("tags", arn, {"tags": tags})

    def _taggable(self, arn: str) -> None:
        parsed = parse_arn(arn, "stateMachine", "activity")
        kind = "activity" if parsed.kind == "activity" else "state_machine"
        if len(parsed.parts) > 1:
            kind = "version" if parsed.parts[1].isdigit() else "alias"
        if self.store.get(kind, arn) is None:
            raise ResourceNotFound(f"Resource not found: '{arn}'")

    async def tag_resource(self, p: Params) -> Result:
        arn = p["resourceArn"]
        self._check_tags(p["tags"])
        self._taggable(arn)
        current = {t["key"]: t.get("value", "") for t in (self.store.get("tags", arn) or {}).get("tags", [])}
        current.update({t["key"]: t.get("value", "") for t in p["tags"]})
        if len(current) > MAX_TAGS:
            raise TooManyTags(f"Too many tags: maximum is {MAX_TAGS}")
        self.store.put("tags", arn, {"tags": [{"key": k, "value": v} for k, v in current.items()]})
        return {}

    async def untag_resource(self, p: Params) -> Result:
        arn = p["resourceArn"]
        self._taggable(arn)
        drop = set(p["tagKeys"])
        tags = [t for t in (self.store.get("tags", arn) or {}).get("tags", []) if t["key"] not in drop]
        self.store.put("tags", arn, {"tags": tags})
        return {}

    async def list_tags_for_resource(self, p: Params) -> Result:
        arn = p["resourceArn"]
        self._taggable(arn)
        return {"tags": (self.store.get("tags", arn) or {}).get("tags", [])}

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
        return _strip(record, "stateMachineArn")

    async def update_map_run(self, p: Params) -> Result:
        parse_arn(p["mapRunArn"], "mapRun")
        record = self.store.get("map_run", p["mapRunArn"])
        if record is None:
            raise ResourceNotFound(f"Resource not found: '{p['mapRunArn']}'")
        for key in ("maxConcurrency", "toleratedFailurePercentage", "toleratedFailureCount"):
            if key in p:
                record[key] = p[key]
        self.store.put("map_run", p["mapRunArn"], record, parent=record.get("executionArn"))
        return {}

    # ---- definitions --------------------------------------------------------------------

    async def validate_state_machine_definition(self, p: Params) -> Result:
        from engine.asl import validate
        response: Result = validate.validate_definition_response(
            p["definition"], type=p.get("type", "STANDARD"), severity=p.get("severity", "ERROR"),
            max_results=p.get("maxResults") or 100)
        return response

    async def test_state(self, p: Params) -> Result:
        return await _test_state(self.rt, p, self.arns)


# ---- TestState ------------------------------------------------------------------------------

_TEST_NAME = "TestState"


def _test_target(p: Params) -> tuple[str, dict[str, Any], str | None]:
    """(state name, state definition, machine QueryLanguage) from TestState's definition."""
    try:
        raw = json.loads(p["definition"])
    except ValueError:
        raise InvalidDefinitionError("Invalid State Machine Definition: 'Definition must be a valid JSON object'") \
            from None
    if not isinstance(raw, dict):
        raise InvalidDefinitionError("Invalid State Machine Definition: 'Definition must be a valid JSON object'")
    if "States" in raw:
        name = p.get("stateName") or raw.get("StartAt")
        state = raw["States"].get(name) if isinstance(raw["States"], dict) else None
        if not isinstance(state, dict):
            raise ValidationException("State not found in definition")
        return str(name), state, raw.get("QueryLanguage")
    return p.get("stateName") or _TEST_NAME, raw, None


def _test_machine(name: str, state: dict[str, Any], language: str | None) -> tuple[dict[str, Any], set[str]]:
    """A one-state machine: transitions out of the state end in Succeed stand-ins named like their targets."""
    state = dict(state)
    targets: set[str] = set()
    if state.get("Type") == "Choice":
        for rule in state.get("Choices", []):
            targets.add(rule.get("Next"))
        if "Default" in state:
            targets.add(state["Default"])
    elif "Next" in state:
        targets.add(state["Next"])
    for catcher in state.get("Catch", []):
        targets.add(catcher.get("Next"))
    state.pop("Retry", None)  # AWS: TestState reports RETRIABLE instead of retrying
    states: dict[str, Any] = {name: state}
    for target in targets - {name, None}:
        states[target] = {"Type": "Succeed"}
    machine: dict[str, Any] = {"StartAt": name, "States": states}
    if language:
        machine["QueryLanguage"] = language
    return machine, targets


def _retriable(state: dict[str, Any], error: str | None) -> int | None:
    for index, retrier in enumerate(state.get("Retry", [])):
        equals = retrier.get("ErrorEquals", [])
        if (error in equals or "States.ALL" in equals) and retrier.get("MaxAttempts", 3) > 0:
            return index
    return None


async def _test_state(runtime: Runtime, p: Params, arn_builder: arns.Arns) -> Result:
    from engine.asl.inputs import parse_execution_input
    from engine.clock import ScaledClock
    from engine.tasks.registry import TaskFailure, TaskRegistry
    import engine.asl as asl

    name, state, language = _test_target(p)
    input_text = p.get("input", "{}")
    parse_execution_input(input_text)
    machine, targets = _test_machine(name, state, language)
    try:
        loaded = asl.load(machine)
    except InvalidDefinition as exc:
        raise InvalidDefinitionError(exc.message) from None
    registry = runtime.registry
    mock = p.get("mock")
    if mock is not None:
        registry = TaskRegistry()
        if "result" in mock:
            try:
                mocked = json.loads(mock["result"])
            except ValueError:
                raise ValidationException("Mocked result must be valid JSON") from None
            registry.fallback(lambda _payload: mocked)
        else:
            failure = mock.get("errorOutput") or {}
            def fail(_payload: Any) -> Any:
                raise TaskFailure(failure.get("error", ""), failure.get("cause"))
            registry.fallback(fail)
    uid = uuid.uuid4().hex
    machine_name = "TestStateMachine-" + uid[:8]
    record = {"executionArn": arn_builder.express_execution(machine_name, uid, uid), "name": uid,
              "stateMachineArn": arn_builder.state_machine(machine_name), "input": input_text,
              "startDate": epoch(runtime.clock.now()), "roleArn": p.get("roleArn", ""), "type": "EXPRESS"}
    result = await asl.run(loaded, input_text, info=runtime.info(record), registry=registry, clock=ScaledClock(0))
    return _test_response(p, name, state, targets, result)


def _test_response(p: Params, name: str, state: dict[str, Any], targets: set[str], result: Any) -> Result:
    events = result.history
    entered = [e for e in events if e["type"].endswith("StateEntered")]
    exited = [e for e in events if e["type"].endswith("StateExited")
              and e["stateExitedEventDetails"]["name"] == name]
    response: Result = {}
    level = p.get("inspectionLevel", "INFO")
    inspection: Result = {"input": p.get("input", "{}")}
    for event in events:
        if event["type"] == "TaskScheduled":
            key = "afterArguments" if state.get("QueryLanguage") == "JSONata" else "afterParameters"
            inspection[key] = event["taskScheduledEventDetails"]["parameters"]
        elif event["type"] == "TaskSucceeded":
            inspection["result"] = event["taskSucceededEventDetails"]["output"]
    next_entered = [e["stateEnteredEventDetails"]["name"] for e in entered
                    if e["stateEnteredEventDetails"]["name"] in targets and e["stateEnteredEventDetails"]["name"] != name]
    if exited:
        response["output"] = exited[-1]["stateExitedEventDetails"].get("output")
    if result.status == "SUCCEEDED":
        failed_events = [e for e in events if e["type"] in ("TaskFailed", "LambdaFunctionFailed")]
        if next_entered and failed_events:
            details = next(v for k, v in failed_events[-1].items() if k.endswith("EventDetails"))
            response.update(status="CAUGHT_ERROR", error=details.get("error"), cause=details.get("cause"))
            catchers = state.get("Catch", [])
            index = next((i for i, c in enumerate(catchers) if c.get("Next") == next_entered[0]), 0)
            inspection["errorDetails"] = {"catchIndex": index}
        else:
            response["status"] = "SUCCEEDED"
            if "output" not in response:
                response["output"] = result.output
        if next_entered:
            response["nextState"] = next_entered[0]
    else:
        response.update(status="FAILED", error=result.error, cause=result.cause)
        retry = _retriable(state, result.error)
        if retry is not None:
            response["status"] = "RETRIABLE"
            inspection["errorDetails"] = {"retryIndex": retry, "retryBackoffIntervalSeconds": int(
                state["Retry"][retry].get("IntervalSeconds", 1))}
            response["nextState"] = name
    if level in ("DEBUG", "TRACE"):
        if state.get("QueryLanguage") != "JSONata" and result.status == "SUCCEEDED":
            inspection = {**_jsonpath_steps(state, p.get("input", "{}"), inspection.get("result")), **inspection}
        if "output" in response and response["output"] is not None and state.get("Type") not in ("Choice",
                                                                                                "Succeed", "Fail"):
            inspection.setdefault("afterResultSelector", inspection.get("result", response["output"]))
            inspection.setdefault("afterResultPath", response["output"])
        response["inspectionData"] = inspection
    return {k: v for k, v in response.items() if v is not None}


def _jsonpath_steps(state: dict[str, Any], input_text: str, result_text: str | None) -> Result:
    """TestState's inspection data of a JSONPath state, step by step (as JSON texts)."""
    from engine.asl import paths
    steps: Result = {}
    try:
        value = json.loads(input_text)
        scope = paths.Scope(value, {}, {})
        after_input = value
        if "InputPath" in state:
            path = None if state["InputPath"] is None else paths.compile_path(state["InputPath"])
            after_input = paths.input_path(path, scope)
        steps["afterInputPath"] = paths.dumps(after_input)
        if state.get("Type") in ("Choice", "Wait", "Succeed", "Fail"):
            return steps
        after_parameters = after_input
        if "Parameters" in state:
            template = paths.compile_template(state["Parameters"], field="Parameters")
            after_parameters = template.render(paths.Scope(after_input, {}, {}))
        steps["afterParameters"] = paths.dumps(after_parameters)
        if state.get("Type") == "Pass":
            produced = state["Result"] if "Result" in state else after_parameters
        elif result_text is not None:
            produced = json.loads(result_text)
        else:
            return steps
        if "ResultSelector" in state:
            produced = paths.compile_template(state["ResultSelector"], field="ResultSelector").render(
                paths.Scope(produced, {}, {}))
        steps["afterResultSelector"] = paths.dumps(produced)
        steps["afterResultPath"] = paths.dumps(paths.result_path(state.get("ResultPath", "$"), value, produced))
    except Exception:  # noqa: BLE001 - inspection is best effort; the run itself already succeeded
        pass
    return steps


def _without_data(event: Record) -> Record:
    """includeExecutionData=false: input/output members are left out of event details."""
    trimmed = dict(event)
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, dict):
            trimmed[key] = {k: v for k, v in value.items() if k not in ("input", "output", "parameters", "result")}
    return trimmed


__all__ = ["StepFunctions", "handlers", "paginate", "parse_arn"]
