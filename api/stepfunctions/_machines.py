"""State machines, their versions and aliases, and definition validation."""
from __future__ import annotations

import json
import uuid

from api.errors import (
    AwsError,
    ConflictException,
    InvalidArn,
    MissingRequiredParameter,
    ResourceNotFound,
    ServiceQuotaExceededException,
    StateMachineLimitExceeded,
    ValidationException,
)
from api.stepfunctions._base import (
    DEFAULT_LOGGING,
    DEFAULT_TRACING,
    Params,
    Result,
    check_name,
    encryption_config,
    load_definition,
    logging_config,
    paginate,
    parse_arn,
    strip,
    tracing_config,
)
from api.stepfunctions._tags import Tags
from engine import arns
from engine.errors import NotFound
from engine.store.base import Record


class Machines(Tags):
    """CreateStateMachine ... ListStateMachineAliases, ValidateStateMachineDefinition."""

    # ---- state machines -----------------------------------------------------------------

    async def create_state_machine(self, p: Params) -> Result:
        name, definition, role = p["name"], p["definition"], p["roleArn"]
        machine_type = p.get("type", "STANDARD")
        check_name(name)
        if not arns.is_role_arn(role):
            raise InvalidArn(f"Invalid Arn: '{role}'")
        if p.get("versionDescription") and not p.get("publish"):
            raise ValidationException("Version description can only be set when publish is true")
        self._check_tags(p.get("tags", []))
        load_definition(definition, machine_type)
        arn = self.arns.state_machine(name)
        existing = self._settled(self.store.get("state_machine", arn))
        logging_conf = logging_config(p.get("loggingConfiguration"))
        tracing = tracing_config(p.get("tracingConfiguration"))
        encryption = encryption_config(p.get("encryptionConfiguration"))
        if existing is not None:
            self._not_deleting(existing)
            same = (existing["definition"], existing["roleArn"], existing["type"]) == (definition, role, machine_type)
            if not same or p.get("publish"):
                raise AwsError(f"State Machine Already Exists: '{arn}'", code="StateMachineAlreadyExists")
            return {"stateMachineArn": arn, "creationDate": existing["creationDate"]}
        if len(self.store.list("state_machine")) >= self.rt.quotas.state_machines:
            raise StateMachineLimitExceeded(
                "The maximum number of state machines has been reached. Existing state machines must be deleted "
                "before a new state machine can be created.")
        record: Record = {
            "stateMachineArn": arn, "name": name, "type": machine_type, "definition": definition,
            "roleArn": role, "status": "ACTIVE", "creationDate": self.now(), "loggingConfiguration": logging_conf,
            "tracingConfiguration": tracing, "revisionId": uuid.uuid4().hex, "nextVersion": 1,
        }
        if encryption:
            record["encryptionConfiguration"] = encryption
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
        result = strip(source, "nextVersion", "version", "stateMachineVersionArn", "encryptionConfiguration")
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
            load_definition(p["definition"], machine["type"])
        if "loggingConfiguration" in p:
            p["loggingConfiguration"] = logging_config(p["loggingConfiguration"])
        if "tracingConfiguration" in p:
            p["tracingConfiguration"] = tracing_config(p["tracingConfiguration"])
        if "encryptionConfiguration" in p:
            p["encryptionConfiguration"] = encryption_config(p["encryptionConfiguration"])
        self._not_deleting(machine)
        changed = any(k in p and p[k] != machine.get(k) for k in keys)
        if p.get("publish"):
            self._version_quota(machine, changing=changed)
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
        machine = self.store.get("state_machine", arn)
        if machine is None:
            return {}
        if self._busy(arn):
            # AWS: DELETING until every execution of the machine has ended, then gone
            machine["status"] = "DELETING"
            self.store.put("state_machine", arn, machine)
            self.rt.machine_deleting(arn)
            return {}
        self._remove_machine(arn)
        return {}

    async def list_state_machines(self, p: Params) -> Result:
        machines = [m for m in self.store.list("state_machine")
                    if m.get("status") != "DELETING" or self._settled(m) is not None]
        machines.sort(key=lambda r: r["name"])
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

    def _version_quota(self, machine: Record, *, changing: bool = False) -> None:
        versions = self.store.list("version", parent=machine["stateMachineArn"])
        if not changing and versions and versions[-1]["revisionId"] == machine["revisionId"]:
            return  # publishing again answers the latest version
        if len(versions) >= self.rt.quotas.versions_per_machine:
            raise ServiceQuotaExceededException(
                f"Maximum number of versions ({self.rt.quotas.versions_per_machine}) reached for state machine "
                f"'{machine['stateMachineArn']}'. Delete unused versions before publishing a new one.")

    def _publish(self, machine: Record, description: str | None) -> Record:
        versions = self.store.list("version", parent=machine["stateMachineArn"])
        if versions and versions[-1]["revisionId"] == machine["revisionId"]:
            return versions[-1]
        self._version_quota(machine)
        number = machine.get("nextVersion", 1)
        arn = self.arns.version(machine["stateMachineArn"], number)
        version: Record = {
            **strip(machine, "nextVersion", "updateDate", "encryptionConfiguration"),
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
        self._not_deleting(machine)
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
        machine = self._machine(base)
        self._not_deleting(machine)
        arn = self.arns.alias(base, p["name"])
        existing = self.store.get("alias", arn)
        if existing is not None:
            if existing["routingConfiguration"] != routing or existing.get("description") != p.get("description"):
                raise ConflictException("Failed to create alias because an alias with the same name and a "
                                        "different routing configuration already exists.")
            return {"stateMachineAliasArn": arn, "creationDate": existing["creationDate"]}
        limit = self.rt.quotas.aliases_per_machine
        if len(self.store.list("alias", parent=base)) >= limit:
            raise ServiceQuotaExceededException(
                f"Maximum number of aliases ({limit}) reached for state machine '{base}'. "
                "Delete unused aliases before creating a new one.")
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
        result = strip(record, "stateMachineArn")
        result.setdefault("updateDate", record["creationDate"])
        return result

    async def update_state_machine_alias(self, p: Params) -> Result:
        record = self._alias(p["stateMachineAliasArn"])
        if "routingConfiguration" not in p and "description" not in p:
            raise ValidationException("Either the description or the RoutingConfiguration must be specified")
        self._not_deleting(self._machine(record["stateMachineArn"]))
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
        machine = self._settled(self.store.get("state_machine", base))
        if machine is None:
            raise ResourceNotFound(f"Resource not found: '{p['stateMachineArn']}'")
        self._not_deleting(machine)
        aliases = self.store.list("alias", parent=base)
        if qualifier is not None:
            aliases = [a for a in aliases
                       if any(r["stateMachineVersionArn"] == p["stateMachineArn"] for r in a["routingConfiguration"])]
        items = [{"stateMachineAliasArn": a["stateMachineAliasArn"], "creationDate": a["creationDate"]}
                 for a in aliases]
        return paginate(items, p, "stateMachineAliases", "aliases:" + base)
    # ---- definitions --------------------------------------------------------------------

    async def validate_state_machine_definition(self, p: Params) -> Result:
        from engine.asl import validate
        response: Result = validate.validate_definition_response(
            p["definition"], type=p.get("type", "STANDARD"), severity=p.get("severity", "ERROR"),
            max_results=p.get("maxResults") or 100)
        return response
