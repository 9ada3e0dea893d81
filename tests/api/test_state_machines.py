"""State machines, versions and aliases over HTTP with boto3."""
from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import PASS_DEFINITION, ROLE

ACCOUNT = "123456789012"
PREFIX = f"arn:aws:states:us-east-1:{ACCOUNT}"


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


def create(sfn: Any, name: str, definition: str = PASS_DEFINITION, **kw: Any) -> dict[str, Any]:
    return sfn.create_state_machine(name=name, definition=definition, roleArn=ROLE, **kw)


def test_create_describe_delete(sfn: Any, name: str) -> None:
    created = create(sfn, name)
    arn = f"{PREFIX}:stateMachine:{name}"
    assert created["stateMachineArn"] == arn
    assert "stateMachineVersionArn" not in created
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert {k: described[k] for k in ("stateMachineArn", "name", "status", "definition", "roleArn", "type")} == {
        "stateMachineArn": arn, "name": name, "status": "ACTIVE", "definition": PASS_DEFINITION,
        "roleArn": ROLE, "type": "STANDARD"}
    assert described["loggingConfiguration"] == {"level": "OFF", "includeExecutionData": False}
    assert described["tracingConfiguration"] == {"enabled": False}
    assert described["creationDate"] == created["creationDate"]
    sfn.delete_state_machine(stateMachineArn=arn)
    with pytest.raises(ClientError) as excinfo:
        sfn.describe_state_machine(stateMachineArn=arn)
    assert error_of(excinfo) == ("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{arn}'")
    sfn.delete_state_machine(stateMachineArn=arn)  # deleting again is fine, as on AWS


def test_create_is_idempotent_for_identical_requests(sfn: Any, name: str) -> None:
    first = create(sfn, name)
    second = create(sfn, name)
    assert (second["stateMachineArn"], second["creationDate"]) == (first["stateMachineArn"], first["creationDate"])
    with pytest.raises(ClientError) as excinfo:
        create(sfn, name, definition=PASS_DEFINITION.replace("argument1", "other"))
    assert error_of(excinfo) == ("StateMachineAlreadyExists",
                                 f"State Machine Already Exists: '{PREFIX}:stateMachine:{name}'")


@pytest.mark.parametrize("bad", ["a b", "a<b", "a>b", "a{b", "a}b", "a[b", "a]b", "a?b", "a*b", 'a"b', "a#b",
                                 "a%b", "a\\b", "a^b", "a|b", "a~b", "a`b", "a$b", "a&b", "a,b", "a;b", "a:b",
                                 "a/b", "\x00a", "a\x1f", "a\x7f"])
def test_invalid_names(sfn: Any, bad: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        create(sfn, bad)
    assert error_of(excinfo) == ("InvalidName", f"Invalid Name: '{bad}'")
    with pytest.raises(ClientError) as excinfo:
        sfn.create_activity(name=bad)
    assert error_of(excinfo) == ("InvalidName", f"Invalid Name: '{bad}'")


def test_name_too_long(sfn: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        create(sfn, "a" * 81)
    assert error_of(excinfo) == ("ValidationException", (
        f"1 validation error detected: Value '{'a' * 81}' at 'name' failed to satisfy constraint: "
        "Member must have length less than or equal to 80"))


def test_invalid_definition(sfn: Any, name: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        create(sfn, name, definition='{"StartAt": "A"}')
    assert error_of(excinfo) == ("InvalidDefinition", (
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: These fields are required: [States] at /'"))


def test_express_rejects_activities(sfn: Any, name: str) -> None:
    definition = json.dumps({"StartAt": "ActivityTask", "States": {"ActivityTask": {
        "Type": "Task", "Resource": f"{PREFIX}:activity:x", "End": True}}})
    with pytest.raises(ClientError) as excinfo:
        create(sfn, name, definition=definition, type="EXPRESS")
    assert error_of(excinfo) == ("InvalidDefinition", (
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Express state machine does not support "
        "Activity ARN at /States/ActivityTask/Resource'"))


@pytest.mark.parametrize(("arn", "message"), [
    ("not_a_valid_arn", "Invalid Arn: 'Invalid ARN prefix: not_a_valid_arn'"),
    ("arn:aws:states:us-east-1:xx:stateMachine:a", "Invalid Arn: 'arn:aws:states:us-east-1:xx:stateMachine:a'"),
    (f"{PREFIX}:activity:a", "Invalid Arn: 'Resource type not valid in this context: activity'"),
    (f"{PREFIX}:express:a:b:c", "Invalid Arn: 'Resource type not valid in this context: express'"),
])
def test_describe_invalid_arns(sfn: Any, arn: str, message: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        sfn.describe_state_machine(stateMachineArn=arn)
    assert error_of(excinfo) == ("InvalidArn", message)


def test_version_description_needs_publish(sfn: Any, name: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        create(sfn, name, versionDescription="v")
    assert error_of(excinfo) == ("ValidationException", "Version description can only be set when publish is true")


def test_update_state_machine(sfn: Any, name: str) -> None:
    arn = create(sfn, name)["stateMachineArn"]
    with pytest.raises(ClientError) as excinfo:
        sfn.update_state_machine(stateMachineArn=arn)
    assert error_of(excinfo) == ("MissingRequiredParameter", (
        "Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration must be "
        "specified"))
    new_definition = PASS_DEFINITION.replace("argument1", "argument2")
    updated = sfn.update_state_machine(stateMachineArn=arn, definition=new_definition)
    assert set(updated) >= {"updateDate", "revisionId"}
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert described["definition"] == new_definition
    assert described["revisionId"] == updated["revisionId"]
    missing = f"{PREFIX}:stateMachine:{name}-missing"
    with pytest.raises(ClientError) as excinfo:
        sfn.update_state_machine(stateMachineArn=missing, definition=new_definition)
    assert error_of(excinfo) == ("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{missing}'")


def test_list_state_machines_sorted_and_paginated(sfn: Any, name: str) -> None:
    for i in (3, 1, 2):
        create(sfn, f"{name}-{i}")
    listed = [m for m in _all(sfn, "list_state_machines", "stateMachines") if m["name"].startswith(name)]
    assert [m["name"] for m in listed] == [f"{name}-1", f"{name}-2", f"{name}-3"]
    assert all(m["type"] == "STANDARD" for m in listed)
    page = sfn.list_state_machines(maxResults=1)
    assert len(page["stateMachines"]) == 1 and "nextToken" in page
    with pytest.raises(ClientError) as excinfo:
        sfn.list_state_machines(nextToken="garbage-token")
    assert error_of(excinfo) == ("InvalidToken", "Invalid Token: 'Invalid token'")


def _all(sfn: Any, method: str, key: str, **kw: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in sfn.get_paginator(method).paginate(**kw):
        items.extend(page[key])
    return items


def test_versions(sfn: Any, name: str) -> None:
    created = create(sfn, name, publish=True, versionDescription="first")
    arn = created["stateMachineArn"]
    assert created["stateMachineVersionArn"] == f"{arn}:1"
    again = sfn.publish_state_machine_version(stateMachineArn=arn)
    assert again["stateMachineVersionArn"] == f"{arn}:1"  # same revision -> same version
    updated = sfn.update_state_machine(stateMachineArn=arn, definition=PASS_DEFINITION.replace("1\"}", "2\"}"),
                                       publish=True)
    assert updated["stateMachineVersionArn"] == f"{arn}:2"
    described = sfn.describe_state_machine(stateMachineArn=f"{arn}:1")
    assert described["stateMachineArn"] == f"{arn}:1"
    assert described["description"] == "first"
    assert described["definition"] == PASS_DEFINITION
    versions = sfn.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"]
    assert [v["stateMachineVersionArn"] for v in versions] == [f"{arn}:2", f"{arn}:1"]
    with pytest.raises(ClientError) as excinfo:
        sfn.publish_state_machine_version(stateMachineArn=arn, revisionId="nope")
    code, message = error_of(excinfo)
    assert code == "ConflictException"
    assert message.startswith("Failed to publish the State Machine version for revision nope. ")
    sfn.delete_state_machine_version(stateMachineVersionArn=f"{arn}:1")
    with pytest.raises(ClientError) as excinfo:
        sfn.describe_state_machine(stateMachineArn=f"{arn}:1")
    assert error_of(excinfo) == ("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{arn}:1'")
    nonexistent = f"{PREFIX}:stateMachine:{name}-none"
    with pytest.raises(ClientError) as excinfo:
        sfn.publish_state_machine_version(stateMachineArn=nonexistent)
    assert error_of(excinfo) == ("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{nonexistent}'")


def test_aliases(sfn: Any, name: str) -> None:
    arn = create(sfn, name, publish=True)["stateMachineArn"]
    sfn.update_state_machine(stateMachineArn=arn, definition=PASS_DEFINITION.replace("1\"}", "2\"}"), publish=True)
    routing = [{"stateMachineVersionArn": f"{arn}:1", "weight": 70}, {"stateMachineVersionArn": f"{arn}:2",
                                                                      "weight": 30}]
    alias = sfn.create_state_machine_alias(name="live", routingConfiguration=routing, description="d")
    alias_arn = f"{arn}:live"
    assert alias["stateMachineAliasArn"] == alias_arn
    assert sfn.create_state_machine_alias(name="live", routingConfiguration=routing,
                                          description="d")["stateMachineAliasArn"] == alias_arn
    with pytest.raises(ClientError) as excinfo:
        sfn.create_state_machine_alias(name="live", routingConfiguration=routing[:1] and
                                       [{"stateMachineVersionArn": f"{arn}:1", "weight": 100}])
    assert error_of(excinfo) == ("ConflictException", (
        "Failed to create alias because an alias with the same name and a different routing configuration "
        "already exists."))
    described = sfn.describe_state_machine_alias(stateMachineAliasArn=alias_arn)
    assert described["name"] == "live" and described["description"] == "d"
    assert described["routingConfiguration"] == routing
    listed = sfn.list_state_machine_aliases(stateMachineArn=arn)["stateMachineAliases"]
    assert [a["stateMachineAliasArn"] for a in listed] == [alias_arn]
    with pytest.raises(ClientError) as excinfo:
        sfn.delete_state_machine_version(stateMachineVersionArn=f"{arn}:1")
    assert error_of(excinfo) == ("ConflictException", (
        "Version to be deleted must not be referenced by an alias. Current list of aliases referencing this "
        "version: [live]"))
    sfn.update_state_machine_alias(stateMachineAliasArn=alias_arn, routingConfiguration=[
        {"stateMachineVersionArn": f"{arn}:2", "weight": 100}])
    execution = sfn.start_execution(stateMachineArn=alias_arn)
    described = sfn.describe_execution(executionArn=execution["executionArn"])
    assert described["stateMachineAliasArn"] == alias_arn
    assert described["stateMachineVersionArn"] == f"{arn}:2"
    sfn.delete_state_machine_alias(stateMachineAliasArn=alias_arn)
    with pytest.raises(ClientError) as excinfo:
        sfn.describe_state_machine_alias(stateMachineAliasArn=alias_arn)
    assert error_of(excinfo) == ("ResourceNotFound", "Request references a resource that does not exist.")


@pytest.mark.parametrize(("routing", "message"), [
    ([(None, 70), (2, 30)], "Routing configuration must contain state machine version ARNs. Received: [{0}, {0}:2]"),
    ([(1, 50), (1, 50)], "Routing configuration must contain distinct state machine version ARNs. "
                         "Received: [{0}:1, {0}:1]"),
    ([(1, 70), (2, 29)], "Sum of routing configuration weights must equal 100. Received: [70, 29]"),
])
def test_alias_routing_validation(sfn: Any, name: str, routing: list[tuple[int | None, int]], message: str) -> None:
    arn = create(sfn, name, publish=True)["stateMachineArn"]
    config = [{"stateMachineVersionArn": arn if v is None else f"{arn}:{v}", "weight": w} for v, w in routing]
    with pytest.raises(ClientError) as excinfo:
        sfn.create_state_machine_alias(name="a", routingConfiguration=config)
    assert error_of(excinfo) == ("ValidationException", message.format(arn))


def test_alias_name_pattern(sfn_raw: Any, name: str) -> None:
    arn = f"{PREFIX}:stateMachine:{name}:1"
    with pytest.raises(ClientError) as excinfo:
        sfn_raw.create_state_machine_alias(name="123", routingConfiguration=[
            {"stateMachineVersionArn": arn, "weight": 100}])
    assert error_of(excinfo) == ("ValidationException", (
        "1 validation error detected: Value '123' at 'name' failed to satisfy constraint: Member must satisfy "
        "regular expression pattern: ^(?=.*[a-zA-Z_\\-\\.])[a-zA-Z0-9_\\-\\.]+$"))


def test_tags(sfn: Any, name: str) -> None:
    arn = create(sfn, name, tags=[{"key": "a", "value": "1"}])["stateMachineArn"]
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "a", "value": "1"}]
    sfn.tag_resource(resourceArn=arn, tags=[{"key": "b", "value": "2"}, {"key": "a", "value": "3"}])
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "a", "value": "3"},
                                                                   {"key": "b", "value": "2"}]
    sfn.untag_resource(resourceArn=arn, tagKeys=["a"])
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "b", "value": "2"}]
    missing = f"{PREFIX}:stateMachine:{name}-missing"
    with pytest.raises(ClientError) as excinfo:
        sfn.list_tags_for_resource(resourceArn=missing)
    assert error_of(excinfo) == ("ResourceNotFound", f"Resource not found: '{missing}'")
    activity = sfn.create_activity(name=name, tags=[{"key": "k", "value": "v"}])["activityArn"]
    assert sfn.list_tags_for_resource(resourceArn=activity)["tags"] == [{"key": "k", "value": "v"}]


def test_validate_state_machine_definition(sfn: Any) -> None:
    assert sfn.validate_state_machine_definition(definition=PASS_DEFINITION)["result"] == "OK"
    response = sfn.validate_state_machine_definition(definition='{"StartAt": "A", "States": {}}')
    assert response["result"] == "FAIL"
    assert response["diagnostics"][0]["severity"] == "ERROR"


LOG_GROUP = "arn:aws:logs:us-east-1:123456789012:log-group:g:*"


@pytest.mark.parametrize("config", [{"level": "ALL"}, {"level": "ERROR", "destinations": []},
                                    {"level": "ALL", "destinations": [
                                        {"cloudWatchLogsLogGroup": {"logGroupArn": LOG_GROUP}}] * 2}])
def test_invalid_logging_configuration(sfn: Any, name: str, config: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as excinfo:
        create(sfn, name, loggingConfiguration=config)
    assert error_of(excinfo) == ("InvalidLoggingConfiguration",
                                 "Invalid Logging Configuration: Must specify exactly one Log Destination.")


def test_logging_and_tracing_are_echoed(sfn: Any, name: str) -> None:
    config = {"level": "ALL", "includeExecutionData": True,
              "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": LOG_GROUP}}]}
    arn = create(sfn, name, loggingConfiguration=config, tracingConfiguration={"enabled": True})["stateMachineArn"]
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert described["loggingConfiguration"] == config
    assert described["tracingConfiguration"] == {"enabled": True}
    sfn.update_state_machine(stateMachineArn=arn, loggingConfiguration={"level": "OFF"})
    assert sfn.describe_state_machine(stateMachineArn=arn)["loggingConfiguration"] == {
        "level": "OFF", "includeExecutionData": False}
