"""Flows, versions, aliases, managed prompts and tags: the bedrock-agent resources, in memory.

Lifecycle per spec §4: CreateFlow -> NotPrepared DRAFT; PrepareFlow validates and snapshots
the draft (Prepared | Failed); versions are immutable snapshots numbered 1, 2, ... (never
reused); aliases route to one version or DRAFT; ``TSTALIASID`` is the implicit draft alias.
Records are plain dicts in the API's member names; datetimes stay datetimes in memory and
are written through to the shared ``Store`` (timestamps as epoch seconds): one record per flow
(with its versions and aliases), per prompt, per tagged ARN.
"""
from __future__ import annotations

import copy
import re
import secrets
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from engine.errors import Conflict, InvalidArgument, NotFound
from engine.store.base import Store
from engine.flows.parse import MalformedDefinition, parse
from engine.flows.validate import validate_flow

Record = dict[str, Any]
TEST_ALIAS = "TSTALIASID"
_ID_ALPHABET = string.ascii_uppercase + string.digits
_FLOW_NAME = re.compile(r"^([0-9a-zA-Z][_-]?){1,100}$")
_ALIAS_NAME = re.compile(r"^([0-9a-zA-Z][_-]?){1,100}$")
_FLOW_ARN = re.compile(r"^arn:aws:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:flow/([0-9a-zA-Z]{10})(?:/alias/([0-9a-zA-Z]{10}))?$")
_PROMPT_ARN = re.compile(r"^arn:aws:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:prompt/([0-9a-zA-Z]{10})(?::([0-9]{1,5}))?$")
MAX_NODES, MAX_CONNECTIONS = 40, 20


def dict_of(value: Any) -> Record:
    """``value`` typed as a record (records nest as plain dicts)."""
    assert isinstance(value, dict)
    return value


def now() -> datetime:
    return datetime.now(timezone.utc)


def new_id() -> str:
    """A 10-character upper-case id, as AWS issues (``JNGCSF8R8M``)."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(10))


def _validation(message: str) -> InvalidArgument:
    return InvalidArgument(message)


_TIME_KEYS = frozenset({"createdAt", "updatedAt", "startedAt", "endedAt", "timestamp"})


def to_json(value: Any) -> Any:
    """A JSON copy of a record: datetimes become epoch seconds."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, Mapping):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    return value


def from_json(value: Any, key: str = "") -> Any:
    """The inverse of ``to_json`` for the timestamp members."""
    if key in _TIME_KEYS and isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, timezone.utc)
    if isinstance(value, Mapping):
        return {k: from_json(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json(v) for v in value]
    return value


FLOW_KIND, PROMPT_KIND, TAGS_KIND = "bedrock_flow", "bedrock_prompt", "bedrock_tags"
EXECUTION_KIND = "flow_execution"


@dataclass(slots=True)
class FlowStore:
    """Every flow-related resource of one account and region, written through to ``store``."""

    region: str = "us-east-1"
    account: str = "123456789012"
    store: Store | None = None
    flows: dict[str, Record] = field(default_factory=dict)
    prompts: dict[str, Record] = field(default_factory=dict)
    tags: dict[str, dict[str, str]] = field(default_factory=dict)
    tokens: dict[tuple[str, str], tuple[Any, Record]] = field(default_factory=dict)
    executions: dict[str, Record] = field(default_factory=dict)
    execution_events: dict[str, list[Record]] = field(default_factory=dict)
    _event_counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.store is None:
            return
        for record in self.store.list(FLOW_KIND):
            flow = from_json(record)
            flow["versions"] = {str(k): v for k, v in flow["versions"].items()}
            self.flows[flow["id"]] = flow
        for record in self.store.list(PROMPT_KIND):
            prompt = from_json(record)
            self.prompts[prompt["id"]] = prompt
        for record in self.store.list(TAGS_KIND):
            self.tags[record["arn"]] = dict(record["tags"])

    def _save_flow(self, flow: Record) -> None:
        if self.store is not None:
            self.store.put(FLOW_KIND, flow["arn"], to_json(flow))

    def _save_prompt(self, prompt: Record) -> None:
        if self.store is not None:
            self.store.put(PROMPT_KIND, prompt["arn"], to_json(prompt))

    def _save_tags(self, arn: str) -> None:
        if self.store is None:
            return
        if self.tags.get(arn):
            self.store.put(TAGS_KIND, arn, {"arn": arn, "tags": self.tags[arn]})
        else:
            self.store.delete(TAGS_KIND, arn)

    # ------------------------------------------------------------ identifiers

    def flow_arn(self, flow_id: str) -> str:
        return f"arn:aws:bedrock:{self.region}:{self.account}:flow/{flow_id}"

    def _flow(self, identifier: str) -> Record:
        match = _FLOW_ARN.match(identifier)
        flow_id = match.group(1) if match else identifier
        flow = self.flows.get(flow_id)
        if flow is None:
            raise NotFound("flow", identifier, f"Flow {flow_id} not found.")
        return flow

    def _idempotent(self, kind: str, token: str | None, params: Any) -> Record | None:
        if not token:
            return None
        seen = self.tokens.get((kind, token))
        if seen is None:
            return None
        if seen[0] != params:
            raise Conflict("ConflictException", "The request uses a client token that was already used with "
                                                "different parameters.")
        return seen[1]

    def _remember(self, kind: str, token: str | None, params: Any, record: Record) -> None:
        if token:
            self.tokens[(kind, token)] = (copy.deepcopy(params), record)

    # ------------------------------------------------------------ flows

    def create_flow(self, request: Mapping[str, Any]) -> Record:
        """CreateFlow: a new NotPrepared DRAFT."""
        params = {k: v for k, v in request.items() if k != "clientToken"}
        again = self._idempotent("flow", request.get("clientToken"), params)
        if again is not None:
            return again
        self._check_flow_request(request)
        flow_id, moment = new_id(), now()
        flow: Record = {"id": flow_id, "arn": self.flow_arn(flow_id), "status": "NotPrepared", "version": "DRAFT",
                        "createdAt": moment, "updatedAt": moment, "validations": [], "prepared": None,
                        "versions": {}, "nextVersion": 1, "aliases": {}}
        self._apply(flow, request)
        self.flows[flow_id] = flow
        if request.get("tags"):
            self.tags[flow["arn"]] = dict(request["tags"])
            self._save_tags(flow["arn"])
        self._save_flow(flow)
        self._remember("flow", request.get("clientToken"), params, flow)
        return flow

    def _check_flow_request(self, request: Mapping[str, Any]) -> None:
        name = request.get("name")
        if not isinstance(name, str) or not _FLOW_NAME.match(name):
            raise _validation(f"1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: "
                              "Member must satisfy regular expression pattern: ([0-9a-zA-Z][_-]?){1,100}")
        definition = request.get("definition")
        if definition is None:
            return
        if not isinstance(definition, Mapping):
            raise _validation("The flow definition must be an object.")
        nodes, connections = definition.get("nodes") or [], definition.get("connections") or []
        if len(nodes) > MAX_NODES:
            raise _validation(f"1 validation error detected: Value at 'definition.nodes' failed to satisfy "
                              f"constraint: Member must have length less than or equal to {MAX_NODES}")
        if len(connections) > MAX_CONNECTIONS:
            raise _validation(f"1 validation error detected: Value at 'definition.connections' failed to satisfy "
                              f"constraint: Member must have length less than or equal to {MAX_CONNECTIONS}")
        try:
            parse(definition)
        except MalformedDefinition as exc:
            raise _validation(str(exc)) from exc

    def _apply(self, flow: Record, request: Mapping[str, Any]) -> None:
        for key in ("name", "description", "executionRoleArn", "customerEncryptionKeyArn"):
            flow[key] = request.get(key)
        flow["definition"] = copy.deepcopy(request.get("definition"))

    def get_flow(self, identifier: str) -> Record:
        return self._flow(identifier)

    def update_flow(self, identifier: str, request: Mapping[str, Any]) -> Record:
        """UpdateFlow: replace what is sent; the flow goes back to NotPrepared."""
        flow = self._flow(identifier)
        self._check_flow_request(request)
        self._apply(flow, request)
        flow.update(status="NotPrepared", updatedAt=now())
        self._save_flow(flow)
        return flow

    def delete_flow(self, identifier: str, skip_in_use_check: bool = False) -> str:
        flow = self._flow(identifier)
        if flow["aliases"] and not skip_in_use_check:
            raise Conflict("ConflictException", f"Flow {flow['id']} is in use by an alias. Delete its aliases first "
                                                "or set skipResourceInUseCheck.")
        del self.flows[flow["id"]]
        for arn in (flow["arn"], *(a["arn"] for a in flow["aliases"].values())):
            self.tags.pop(arn, None)
            self._save_tags(arn)
        if self.store is not None:
            self.store.delete(FLOW_KIND, flow["arn"])
        return str(flow["id"])

    def list_flows(self) -> list[Record]:
        return sorted(self.flows.values(), key=lambda f: f["createdAt"])

    def prepare_flow(self, identifier: str) -> Record:
        """PrepareFlow, finished at once: validations decide Prepared or Failed (spec §4)."""
        flow = self._flow(identifier)
        validations = validate_definition(flow.get("definition") or {})
        errors = [v for v in validations if v["severity"] == "Error"]
        flow["validations"] = validations if errors else []
        if errors:
            flow["status"] = "Failed"
        else:
            flow["status"] = "Prepared"
            flow["prepared"] = copy.deepcopy(flow.get("definition") or {})
        flow["updatedAt"] = now()
        self._save_flow(flow)
        return flow

    # ------------------------------------------------------------ versions

    def create_version(self, identifier: str, description: str | None, token: str | None) -> Record:
        flow = self._flow(identifier)
        again = self._idempotent(f"version:{flow['id']}", token, description)
        if again is not None:
            return again
        if flow["prepared"] is None:
            raise _validation(f"Flow {flow['id']} is not prepared. Prepare the flow before creating a version.")
        number = str(flow["nextVersion"])
        flow["nextVersion"] += 1
        version = {key: copy.deepcopy(flow.get(key)) for key in (
            "name", "executionRoleArn", "customerEncryptionKeyArn", "id", "arn")}
        version.update(description=description if description is not None else flow.get("description"),
                       status="Prepared", createdAt=now(), version=number, definition=copy.deepcopy(flow["prepared"]))
        flow["versions"][number] = version
        self._save_flow(flow)
        self._remember(f"version:{flow['id']}", token, description, version)
        return version

    def get_version(self, identifier: str, number: str) -> Record:
        flow = self._flow(identifier)
        if number == "DRAFT":
            return flow
        version = flow["versions"].get(number)
        if version is None:
            raise NotFound("flow version", number, f"Flow {flow['id']} has no version {number}.")
        return dict_of(version)

    def delete_version(self, identifier: str, number: str, skip_in_use_check: bool = False) -> Record:
        flow = self._flow(identifier)
        version = self.get_version(identifier, number)
        if version is flow:
            raise _validation("The DRAFT version cannot be deleted; delete the flow instead.")
        users = [a["id"] for a in flow["aliases"].values() if self._routed_version(a) == number]
        if users and not skip_in_use_check:
            raise Conflict("ConflictException", f"Version {number} of flow {flow['id']} is used by alias {users[0]}.")
        del flow["versions"][number]
        self._save_flow(flow)
        return version

    def list_versions(self, identifier: str) -> list[Record]:
        flow = self._flow(identifier)
        return [flow, *flow["versions"].values()]

    # ------------------------------------------------------------ aliases

    @staticmethod
    def _routed_version(alias: Mapping[str, Any]) -> str:
        return str(alias["routingConfiguration"][0].get("flowVersion", "DRAFT"))

    def _check_alias_request(self, flow: Record, request: Mapping[str, Any]) -> None:
        name = request.get("name")
        if not isinstance(name, str) or not _ALIAS_NAME.match(name):
            raise _validation(f"1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: "
                              "Member must satisfy regular expression pattern: ([0-9a-zA-Z][_-]?){1,100}")
        routing = request.get("routingConfiguration")
        if not isinstance(routing, list) or len(routing) != 1 or not isinstance(routing[0], Mapping):
            raise _validation("1 validation error detected: Value at 'routingConfiguration' failed to satisfy "
                              "constraint: Member must have length less than or equal to 1")
        version = str(routing[0].get("flowVersion", "DRAFT"))
        if version != "DRAFT" and version not in flow["versions"]:
            raise _validation(f"Flow {flow['id']} has no version {version}.")

    def create_alias(self, identifier: str, request: Mapping[str, Any]) -> Record:
        flow = self._flow(identifier)
        params = {k: v for k, v in request.items() if k != "clientToken"}
        again = self._idempotent(f"alias:{flow['id']}", request.get("clientToken"), params)
        if again is not None:
            return again
        self._check_alias_request(flow, request)
        alias_id, moment = new_id(), now()
        alias: Record = {"flowId": flow["id"], "id": alias_id, "arn": f"{flow['arn']}/alias/{alias_id}",
                         "createdAt": moment, "updatedAt": moment}
        self._apply_alias(alias, request)
        flow["aliases"][alias_id] = alias
        if request.get("tags"):
            self.tags[alias["arn"]] = dict(request["tags"])
            self._save_tags(alias["arn"])
        self._save_flow(flow)
        self._remember(f"alias:{flow['id']}", request.get("clientToken"), params, alias)
        return alias

    @staticmethod
    def _apply_alias(alias: Record, request: Mapping[str, Any]) -> None:
        for key in ("name", "description", "routingConfiguration", "concurrencyConfiguration"):
            alias[key] = copy.deepcopy(request.get(key))

    def _alias(self, flow: Record, identifier: str) -> Record:
        match = _FLOW_ARN.match(identifier)
        alias_id = match.group(2) if match and match.group(2) else identifier
        if alias_id == TEST_ALIAS:
            return {"flowId": flow["id"], "id": TEST_ALIAS, "arn": f"{flow['arn']}/alias/{TEST_ALIAS}",
                    "name": TEST_ALIAS, "description": "Test alias for the working draft",
                    "routingConfiguration": [{"flowVersion": "DRAFT"}], "createdAt": flow["createdAt"],
                    "updatedAt": flow["updatedAt"]}
        alias = flow["aliases"].get(alias_id)
        if alias is None:
            raise NotFound("flow alias", identifier, f"Flow alias {alias_id} not found.")
        return dict_of(alias)

    def get_alias(self, identifier: str, alias_identifier: str) -> Record:
        return self._alias(self._flow(identifier), alias_identifier)

    def update_alias(self, identifier: str, alias_identifier: str, request: Mapping[str, Any]) -> Record:
        flow = self._flow(identifier)
        alias = self._alias(flow, alias_identifier)
        if alias["id"] == TEST_ALIAS:
            raise _validation(f"The test alias {TEST_ALIAS} cannot be updated.")
        self._check_alias_request(flow, request)
        self._apply_alias(alias, request)
        alias["updatedAt"] = now()
        self._save_flow(flow)
        return alias

    def delete_alias(self, identifier: str, alias_identifier: str) -> Record:
        flow = self._flow(identifier)
        alias = self._alias(flow, alias_identifier)
        if alias["id"] == TEST_ALIAS:
            raise _validation(f"The test alias {TEST_ALIAS} cannot be deleted.")
        del flow["aliases"][alias["id"]]
        self.tags.pop(alias["arn"], None)
        self._save_tags(alias["arn"])
        self._save_flow(flow)
        return alias

    def list_aliases(self, identifier: str) -> list[Record]:
        return sorted(self._flow(identifier)["aliases"].values(), key=lambda a: a["createdAt"])

    def resolve(self, identifier: str, alias_identifier: str) -> tuple[Record, Record, str, dict[str, Any]]:
        """(flow, alias, version, definition) an invocation of the alias runs."""
        flow = self._flow(identifier)
        alias = self._alias(flow, alias_identifier)
        version = self._routed_version(alias)
        if version == "DRAFT":
            if flow["prepared"] is None:
                raise _validation(f"Flow {flow['id']} is not prepared. Call PrepareFlow before invoking the "
                                  f"{alias['id']} alias.")
            return flow, alias, version, flow["prepared"]
        record = flow["versions"].get(version)
        if record is None:
            raise NotFound("flow version", version, f"Flow {flow['id']} has no version {version}.")
        return flow, alias, version, record["definition"]

    # ------------------------------------------------------------ tags

    def _known_arn(self, arn: str) -> None:
        match = _FLOW_ARN.match(arn)
        if match:
            flow = self._flow(match.group(1))
            if match.group(2):
                self._alias(flow, match.group(2))
            return
        match = _PROMPT_ARN.match(arn)
        if match and match.group(1) in self.prompts:
            return
        raise NotFound("resource", arn, f"Resource {arn} not found.")

    def tag(self, arn: str, tags: Mapping[str, str]) -> None:
        self._known_arn(arn)
        self.tags.setdefault(arn, {}).update(tags)
        self._save_tags(arn)

    def untag(self, arn: str, keys: list[str]) -> None:
        self._known_arn(arn)
        for key in keys:
            self.tags.get(arn, {}).pop(key, None)
        self._save_tags(arn)

    def list_tags(self, arn: str) -> dict[str, str]:
        self._known_arn(arn)
        return dict(self.tags.get(arn, {}))

    # ------------------------------------------------------------ async executions

    def put_execution(self, record: Record, events: list[Record] | None = None) -> None:
        """Insert or replace an execution record; ``events`` (ListFlowExecutionEvents items) are appended."""
        self.executions[record["executionArn"]] = record
        if self.store is not None:
            self.store.put(EXECUTION_KIND, record["executionArn"], to_json(record), parent=record["flowIdentifier"])
        if events:
            self.append_execution_events(record["executionArn"], events)

    def append_execution_events(self, arn: str, events: list[Record]) -> None:
        """Add ListFlowExecutionEvents items to an execution, as they happen."""
        if not events:
            return
        if self.store is None:
            self.execution_events.setdefault(arn, []).extend(events)
            return
        start = self._event_counts.get(arn)
        if start is None:
            start = len(self.store.events(arn))
        self.store.append_events(arn, [{"id": start + n + 1, "event": to_json(e)} for n, e in enumerate(events)])
        self._event_counts[arn] = start + len(events)

    def end_interrupted(self, message: str, running: Callable[[str], bool]) -> list[str]:
        """Fail every stored Running execution no task runs (the server stopped under it).

        Each gets a ``flowFailureEvent`` (INTERNAL_SERVER, ``message``), status Failed and
        ``errors``; returns their ARNs.
        """
        if self.store is None:
            return []
        ended: list[str] = []
        for stored in self.store.list(EXECUTION_KIND):
            record = from_json(stored)
            if record.get("status") != "Running" or running(record["executionArn"]):
                continue
            moment = now()
            record.update(status="Failed", endedAt=moment, errors=[{"message": message}])
            self.put_execution(record, [{"flowFailureEvent": {"timestamp": moment, "errorCode": "INTERNAL_SERVER",
                                                              "errorMessage": message}}])
            ended.append(record["executionArn"])
        return ended

    def get_execution(self, arn: str) -> Record | None:
        if self.store is None:
            return self.executions.get(arn)
        record = self.store.get(EXECUTION_KIND, arn)
        return from_json(record) if record is not None else None

    def list_executions(self, flow_arn: str) -> list[Record]:
        if self.store is None:
            return [r for r in self.executions.values() if r["flowIdentifier"] == flow_arn]
        return [from_json(r) for r in self.store.list(EXECUTION_KIND, parent=flow_arn)]

    def events_of(self, arn: str) -> list[Record]:
        if self.store is None:
            return list(self.execution_events.get(arn, []))
        recorded: Any = self.store.events(arn)  # (Store.list shadows ``list`` in its annotations)
        return [from_json(e["event"]) for e in recorded]

    # ------------------------------------------------------------ prompts

    def _prompt(self, identifier: str) -> Record:
        match = _PROMPT_ARN.match(identifier)
        prompt_id = match.group(1) if match else identifier
        prompt = self.prompts.get(prompt_id)
        if prompt is None:
            raise NotFound("prompt", identifier, f"Prompt {prompt_id} not found.")
        return prompt

    def create_prompt(self, request: Mapping[str, Any]) -> Record:
        prompt_id, moment = new_id(), now()
        arn = f"arn:aws:bedrock:{self.region}:{self.account}:prompt/{prompt_id}"
        prompt: Record = {"id": prompt_id, "arn": arn, "version": "DRAFT", "createdAt": moment, "updatedAt": moment,
                          "versions": {}, "nextVersion": 1}
        self._apply_prompt(prompt, request)
        self.prompts[prompt_id] = prompt
        if request.get("tags"):
            self.tags[arn] = dict(request["tags"])
            self._save_tags(arn)
        self._save_prompt(prompt)
        return prompt

    @staticmethod
    def _apply_prompt(prompt: Record, request: Mapping[str, Any]) -> None:
        for key in ("name", "description", "customerEncryptionKeyArn", "defaultVariant", "variants"):
            prompt[key] = copy.deepcopy(request.get(key))

    def get_prompt(self, identifier: str, version: str | None = None) -> Record:
        prompt = self._prompt(identifier)
        match = _PROMPT_ARN.match(identifier)
        version = version or (match.group(2) if match else None)
        if version in (None, "DRAFT"):
            return prompt
        found = prompt["versions"].get(version)
        if found is None:
            raise NotFound("prompt version", version, f"Prompt {prompt['id']} has no version {version}.")
        return dict_of(found)

    def update_prompt(self, identifier: str, request: Mapping[str, Any]) -> Record:
        prompt = self._prompt(identifier)
        self._apply_prompt(prompt, request)
        prompt["updatedAt"] = now()
        self._save_prompt(prompt)
        return prompt

    def delete_prompt(self, identifier: str, version: str | None = None) -> Record:
        prompt = self._prompt(identifier)
        if version and version != "DRAFT":
            removed: Record = prompt["versions"].pop(self.get_prompt(identifier, version)["version"])
            self._save_prompt(prompt)
            return removed
        del self.prompts[prompt["id"]]
        if self.store is not None:
            self.store.delete(PROMPT_KIND, prompt["arn"])
        return prompt

    def list_prompts(self, identifier: str | None = None) -> list[Record]:
        if identifier:
            prompt = self._prompt(identifier)
            return [prompt, *prompt["versions"].values()]
        return sorted(self.prompts.values(), key=lambda p: p["createdAt"])

    def create_prompt_version(self, identifier: str, description: str | None) -> Record:
        prompt = self._prompt(identifier)
        number = str(prompt["nextVersion"])
        prompt["nextVersion"] += 1
        version = {k: copy.deepcopy(v) for k, v in prompt.items() if k not in ("versions", "nextVersion")}
        version.update(version=number, arn=f"{prompt['arn']}:{number}", createdAt=now(), updatedAt=now())
        if description is not None:
            version["description"] = description
        prompt["versions"][number] = version
        self._save_prompt(prompt)
        return version

    def prompt_templates(self) -> dict[str, dict[str, Any]]:
        """Every prompt (draft and versions) as the inline template a Prompt node runs, by ARN."""
        templates: dict[str, dict[str, Any]] = {}
        for prompt in self.prompts.values():
            for record in (prompt, *prompt["versions"].values()):
                variant = _default_variant(record)
                if variant is not None:
                    templates[record["arn"]] = variant
        return templates


def _default_variant(prompt: Mapping[str, Any]) -> dict[str, Any] | None:
    variants = prompt.get("variants") or []
    chosen = next((v for v in variants if v.get("name") == prompt.get("defaultVariant")), variants[0] if variants else None)
    return dict(chosen) if chosen is not None else None


def validate_definition(definition: Mapping[str, Any]) -> list[Record]:
    """ValidateFlowDefinition's ``validations`` for a raw definition."""
    try:
        return validate_flow(parse(definition))
    except MalformedDefinition as exc:
        return [{"message": str(exc), "severity": "Error", "details": {"unspecified": {}}, "type": "Unspecified"}]
