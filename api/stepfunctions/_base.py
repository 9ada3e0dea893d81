"""What the operations share: ARN parsing, pagination, name and definition checks, record lookups."""
from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from api.errors import (
    AwsError,
    InvalidArn,
    InvalidDefinitionError,
    InvalidEncryptionConfiguration,
    InvalidToken,
    InvalidTracingConfiguration,
    StateMachineDeleting,
    invalid_name,
    wrong_resource_type,
)
from engine import arns
from engine.errors import InvalidDefinition, NotFound
from engine.runtime import Runtime, epoch
from engine.store.base import Record

Params = dict[str, Any]
Result = dict[str, Any]

MAX_TAGS = 50
DEFAULT_PAGE = 100
REDRIVE_DAYS = 14
DEFAULT_LOGGING = {"level": "OFF", "includeExecutionData": False}
DEFAULT_TRACING = {"enabled": False}
DEFAULT_KEY_REUSE_SECONDS = 300


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


def check_name(name: str) -> None:
    if not arns.is_valid_name(name):
        raise invalid_name(name)


def load_definition(text: str, machine_type: str = "STANDARD") -> None:
    """InvalidDefinition (AWS's message) unless the definition can run."""
    from engine.asl import validate
    try:
        validate.load_definition(text, type=machine_type)
        import engine.asl as asl
        asl.load(text)
    except InvalidDefinition as exc:
        raise InvalidDefinitionError(exc.message) from None


def logging_config(config: Params | None) -> Params:
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


def encryption_config(config: Params | None) -> Params | None:
    """The encryptionConfiguration to keep, or AWS's InvalidEncryptionConfiguration.

    statesim has no KMS: a customer managed key is accepted and echoed as given, never used.
    """
    if config is None:
        return None
    config = dict(config)
    if config.get("type") == "CUSTOMER_MANAGED_KMS_KEY":
        if not config.get("kmsKeyId"):
            raise InvalidEncryptionConfiguration(
                "Invalid Encryption Configuration: kmsKeyId must be specified when the encryption type is "
                "CUSTOMER_MANAGED_KMS_KEY")
        period = config.get("kmsDataKeyReusePeriodSeconds", DEFAULT_KEY_REUSE_SECONDS)
        if not isinstance(period, int) or not 60 <= period <= 900:
            raise InvalidEncryptionConfiguration(
                "Invalid Encryption Configuration: kmsDataKeyReusePeriodSeconds must be between 60 and 900")
    return config


def tracing_config(config: Any) -> Params:
    """The stored tracingConfiguration; AWS's InvalidTracingConfiguration for anything but {enabled: bool}."""
    if config is None:
        return dict(DEFAULT_TRACING)
    if not isinstance(config, dict) or set(config) - {"enabled"} or \
            not isinstance(config.get("enabled", False), bool):
        raise InvalidTracingConfiguration(
            "Your tracingConfiguration key does not match, or enabled has not been set to true or false.")
    return {"enabled": config.get("enabled", False)}


def strip(record: Mapping[str, Any], *drop: str) -> Result:
    return {k: v for k, v in record.items() if k not in drop and v is not None}


class Service:
    """The runtime, store and ARN builder every operation uses, and the lookups they share."""

    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.store = runtime.store
        self.arns = runtime.arns
        self._sync_runs: dict[str, int] = {}
        """StartSyncExecution calls in flight per state machine ARN."""
        self._pollers: dict[str, int] = {}
        """GetActivityTask calls waiting per activity ARN."""

    def now(self) -> float:
        return epoch(self.rt.clock.now())

    # ---- deletion of a state machine with running executions -------------------------------

    def _busy(self, machine_arn: str) -> bool:
        """True while an execution of the machine runs (AWS keeps it DELETING until then)."""
        if self._sync_runs.get(machine_arn):
            return True
        return any(e.get("status") == "RUNNING" for e in self.store.list("execution", parent=machine_arn))

    def _remove_machine(self, arn: str) -> None:
        for kind in ("version", "alias"):
            for record in self.store.list(kind, parent=arn):
                key = record.get("stateMachineVersionArn") or record["stateMachineAliasArn"]
                self.store.delete(kind, key)
                self.store.delete("tags", key)
        self.store.delete("state_machine", arn)
        self.store.delete("tags", arn)
        self.rt.machine_deleting(arn, False)

    def _settled(self, record: Record | None) -> Record | None:
        """The machine record, or None once a DELETING machine's last execution has ended (then it goes)."""
        if record is not None and record.get("status") == "DELETING" and not self._busy(record["stateMachineArn"]):
            self._remove_machine(record["stateMachineArn"])
            return None
        return record

    @staticmethod
    def _not_deleting(machine: Record) -> None:
        if machine.get("status") == "DELETING":
            # AWS (as quoted in Netflix/metaflow#1284): "State Machine is being deleted"
            raise StateMachineDeleting("State Machine is being deleted")

    # ---- lookups ------------------------------------------------------------------------

    def _machine(self, arn: str) -> Record:
        record = self._settled(self.store.get("state_machine", arn))
        if record is None:
            raise NotFound("state_machine", arn)
        return record

    def _qualified(self, text: str) -> tuple[Record, Record | None, Record | None]:
        """(machine, version, alias) for a machine, version or alias ARN."""
        parsed = parse_arn(text, "stateMachine")
        base, qualifier = arns.machine_of(parsed)
        if len(parsed.parts) > 2:
            raise InvalidArn(f"Invalid Arn: '{text}'")
        machine = self._settled(self.store.get("state_machine", base))
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
