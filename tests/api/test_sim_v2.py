"""The v2 execute body validation, caller-chosen run ids and the runs query, over raw HTTP."""
from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.conftest import Server
from tests.engine.flows._defs import passthrough
from tests.sim.fixtures import GREET, flow, machine

KEY = {"X-API-Key": "k"}


@pytest.fixture(scope="module")
def greet(server: Server) -> str:
    return machine(server.endpoint, GREET)


def _post(http: httpx.Client, workflow: str, body: Any = None, *, content: bytes | None = None,
          headers: dict[str, str] | None = None) -> httpx.Response:
    kwargs: dict[str, Any] = {"content": content} if content is not None else {"json": body}
    return http.post(f"/api/v2/workflows/{workflow}/execute", headers={**KEY, **(headers or {})}, **kwargs)


BAD_BODIES = [
    ({"input": {}, "extra": 1}, "Unrecognized key(s) in object: 'extra'"),
    ({"input": [1, 2]}, "input must be an object keyed by input field name"),
    ({"input": {}, "async": "yes"}, "async must be a boolean"),
    ({"input": {}, "async": True, "stream": True}, "async and stream cannot be combined"),
    ({"input": {}, "executionTimeoutSeconds": 10}, "executionTimeoutSeconds is supported only for async executions"),
    ({"input": {}, "async": True, "executionTimeoutSeconds": 0},
     "executionTimeoutSeconds must be an integer between 1 and 604800"),
    ({"input": {}, "async": True, "executionTimeoutSeconds": 604801},
     "executionTimeoutSeconds must be an integer between 1 and 604800"),
    ({"input": {}, "async": True, "selectedOutputs": ["a.b"]}, "selectedOutputs is not supported for async executions"),
    ({"input": {}, "selectedOutputs": [""]}, "selectedOutputs entries must be non-empty strings"),
    ({"input": {}, "selectedOutputs": ["x"] * 101}, "selectedOutputs must be an array of at most 100 strings"),
    ({"input": {}, "stream": True, "includeThinking": True},
     "includeThinking requires stream: true and the X-Sim-Stream-Protocol: agent-events-v1 header"),
    ({"input": {}, "includeToolCalls": True},
     "includeToolCalls requires stream: true and the X-Sim-Stream-Protocol: agent-events-v1 header"),
    ({"input": {}, "base64MaxBytes": 0}, "base64MaxBytes must be an integer between 1 and 10485760"),
    ([1], "Request body must be a JSON object"),
]


@pytest.mark.parametrize(("body", "message"), BAD_BODIES, ids=[m for _, m in BAD_BODIES])
def test_strict_body_validation(http: httpx.Client, greet: str, body: Any, message: str) -> None:
    response = _post(http, greet, body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["message"]) == ("BAD_REQUEST", message)


def test_non_json_and_too_large_bodies(http: httpx.Client, greet: str) -> None:
    response = _post(http, greet, content=b"{not json")
    assert (response.status_code, response.json()) == (
        400, {"error": {"code": "BAD_REQUEST", "message": "Request body must be valid JSON"}})
    response = _post(http, greet, content=b" " * (10 * 1024 * 1024 + 1))
    assert (response.status_code, response.json()["error"]["code"]) == (413, "PAYLOAD_TOO_LARGE")


def test_async_needs_an_api_key(http: httpx.Client, greet: str) -> None:
    response = http.post(f"/api/v2/workflows/{greet}/execute", json={"input": {}, "async": True})
    assert (response.status_code, response.json()["error"]["message"]) == (400, "Async execution requires an API key")


def test_an_empty_body_runs_with_empty_input(http: httpx.Client, server: Server) -> None:
    name = machine(server.endpoint, {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    response = _post(http, name, content=b"")
    assert response.status_code == 200 and response.json()["data"]["output"] == {}


def test_stream_protocol_header_allows_thinking_flags(http: httpx.Client, greet: str) -> None:
    response = _post(http, greet, {"input": {"name": "T"}, "stream": True, "includeThinking": True},
                     headers={"X-Sim-Stream-Protocol": "agent-events-v1"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")


def test_caller_chosen_run_id_is_one_shot(http: httpx.Client, greet: str, sfn: Any) -> None:
    run_id = "order-42.attempt:1"
    first = _post(http, greet, {"input": {"name": "R"}}, headers={"X-Run-Id": run_id})
    assert first.status_code == 200 and first.headers["x-run-id"] == run_id
    assert first.json()["data"]["runId"] == run_id
    again = _post(http, greet, {"input": {"name": "R"}}, headers={"X-Run-Id": run_id})
    assert again.status_code == 409
    assert again.json()["error"] == {"code": "CONFLICT", "message": f"Run id {run_id} was already used",
                                     "details": {"code": "RUN_ID_CONFLICT"}}
    bad = _post(http, greet, {"input": {}}, headers={"X-Run-Id": "has space"})
    assert bad.status_code == 400 and bad.json()["error"]["message"] == "X-Run-Id must match [A-Za-z0-9._:-]{1,128}"


def test_run_id_that_is_a_valid_execution_name_names_the_execution(http: httpx.Client, greet: str, sfn: Any) -> None:
    run_id = "sim-run-0001-" + greet[-6:]
    assert _post(http, greet, {"input": {"name": "N"}}, headers={"X-Run-Id": run_id}).status_code == 200
    arn = f"arn:aws:states:us-east-1:123456789012:execution:{greet}:{run_id}"
    assert sfn.describe_execution(executionArn=arn)["status"] == "SUCCEEDED"


def test_async_202_shape(http: httpx.Client, greet: str, server: Server) -> None:
    response = _post(http, greet, {"input": {"name": "Z"}, "async": True})
    assert response.status_code == 202
    data = response.json()["data"]
    assert set(data) == {"runId", "statusUrl"} and response.headers["x-run-id"] == data["runId"]
    assert data["statusUrl"] == f"{server.endpoint}/api/v2/workflows/{greet}/runs/{data['runId']}"


def test_runs_query_is_strict(http: httpx.Client, greet: str) -> None:
    run_id = _post(http, greet, {"input": {"name": "Q"}}).json()["data"]["runId"]
    url = f"/api/v2/workflows/{greet}/runs/{run_id}"
    assert http.get(url, params={"includeOutput": "yes"}, headers=KEY).status_code == 400
    unknown = http.get(url, params={"verbose": "1"}, headers=KEY)
    assert (unknown.status_code, unknown.json()["error"]["message"]) == (
        400, "Unrecognized key(s) in object: 'verbose'")
    selected = http.get(url, params={"selectedOutputs": "Greet.greeting,shout,Nope.x", "includeOutput": "true"},
                        headers=KEY).json()["data"]
    assert selected["blockOutputs"] == {"Greet.greeting": "Hello, Q!",
                                        "shout": {"greeting": "Hello, Q!", "loud": True}}
    assert selected["output"] == {"greeting": "Hello, Q!", "loud": True}


def test_undeployed_flow_is_forbidden(http: httpx.Client, server: Server) -> None:
    draft = flow(server.endpoint, passthrough(), prepare=False)
    response = _post(http, draft, {"input": {"input": "x"}})
    assert (response.status_code, response.json()["error"]) == (
        403, {"code": "FORBIDDEN", "message": "Workflow is not deployed"})
    status = http.get(f"/api/workflows/{draft}/status", headers=KEY).json()
    assert status == {"isDeployed": False, "deployedAt": None, "isPublished": False, "needsRedeployment": False}



def test_a_run_id_taken_by_another_execution_gets_a_fresh_execution_name(http: httpx.Client, greet: str,
                                                                         sfn: Any) -> None:
    machine_arn = f"arn:aws:states:us-east-1:123456789012:stateMachine:{greet}"
    taken = "taken-" + greet[-6:]
    sfn.start_execution(stateMachineArn=machine_arn, name=taken, input='{"name": "first"}')
    response = _post(http, greet, {"input": {"name": "second"}}, headers={"X-Run-Id": taken})
    data = response.json()["data"]
    assert (data["runId"], data["status"], data["output"]) == (taken, "completed",
                                                               {"greeting": "Hello, second!", "loud": True})


CHAIN_LIMIT_MESSAGE = "Maximum workflow call chain depth (10) exceeded."


def test_call_chain_below_the_limit_runs(http: httpx.Client, greet: str) -> None:
    nine = ",".join(f"wf-{i}" for i in range(9))
    response = _post(http, greet, {"input": {"name": "Via"}}, headers={"X-Sim-Via": nine})
    assert response.status_code == 200 and response.json()["data"]["status"] == "completed"
    # entries are trimmed and empty ones dropped: still nine workflow ids
    padded = "wf-0,, ," + " ,  ".join(f"wf-{i}" for i in range(1, 9))
    assert _post(http, greet, {"input": {"name": "Via"}}, headers={"X-Sim-Via": padded}).status_code == 200


def test_call_chain_at_the_limit_is_a_409_conflict(http: httpx.Client, greet: str) -> None:
    ten = ",".join(f"wf-{i}" for i in range(10))
    run_id = "via-" + greet[-8:]
    response = _post(http, greet, {"input": {"name": "Via"}}, headers={"X-Sim-Via": ten, "X-Run-Id": run_id})
    assert response.status_code == 409
    assert response.json() == {"error": {"code": "CONFLICT", "message": CHAIN_LIMIT_MESSAGE,
                                         "details": {"code": "CALL_CHAIN_DEPTH_EXCEEDED"}}}
    assert response.headers["cache-control"] == "private, no-store"
    # refused before anything ran: the run id was not claimed
    assert _post(http, greet, {"input": {"name": "Via"}}, headers={"X-Run-Id": run_id}).status_code == 200
    deeper = _post(http, greet, {"input": {}}, headers={"X-Sim-Via": ten + ",wf-10,wf-11"})
    assert deeper.status_code == 409 and deeper.json()["error"]["details"] == {"code": "CALL_CHAIN_DEPTH_EXCEEDED"}


def test_call_chain_is_checked_before_the_workflow_lookup(http: httpx.Client) -> None:
    ten = ",".join(f"wf-{i}" for i in range(10))
    response = _post(http, "no-such-workflow", {"input": {}}, headers={"X-Sim-Via": ten})
    assert (response.status_code, response.json()["error"]["code"]) == (409, "CONFLICT")


def test_legacy_call_chain_at_the_limit_is_a_flat_409(http: httpx.Client, greet: str) -> None:
    ten = ",".join(f"wf-{i}" for i in range(10))
    response = http.post(f"/api/workflows/{greet}/execute", json={"name": "Via"}, headers={**KEY, "X-Sim-Via": ten})
    assert (response.status_code, response.json()) == (409, {"error": CHAIN_LIMIT_MESSAGE})
    nine = ",".join(f"wf-{i}" for i in range(9))
    response = http.post(f"/api/workflows/{greet}/execute", json={"name": "Via"}, headers={**KEY, "X-Sim-Via": nine})
    assert response.status_code == 200 and response.json()["success"] is True


BAD_RUN_IDS = ["has space", "a/b", "x" * 129, "", "ünï", "semi;colon"]


@pytest.mark.parametrize("run_id", BAD_RUN_IDS, ids=["space", "slash", "129-chars", "empty", "non-ascii", "semicolon"])
def test_malformed_run_id_is_a_400(http: httpx.Client, greet: str, run_id: str) -> None:
    response = http.post(f"/api/v2/workflows/{greet}/execute", json={"input": {}},
                         headers=[(b"X-API-Key", b"k"), (b"X-Run-Id", run_id.encode())])
    assert response.status_code == 400
    assert response.json()["error"] == {"code": "BAD_REQUEST", "message": "X-Run-Id must match [A-Za-z0-9._:-]{1,128}",
                                        "details": [{"path": "X-Run-Id",
                                                     "message": "X-Run-Id must match [A-Za-z0-9._:-]{1,128}"}]}


def test_run_id_of_128_allowed_characters_is_accepted(http: httpx.Client, greet: str) -> None:
    run_id = ("AZaz09._:-" * 13)[:120] + greet[-8:]
    assert len(run_id) == 128
    response = _post(http, greet, {"input": {"name": "Long"}}, headers={"X-Run-Id": run_id})
    assert response.status_code == 200 and response.json()["data"]["runId"] == run_id
