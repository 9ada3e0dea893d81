"""X-API-Key checks (error shape per route) and the optional rate limit, through the real SDK."""
from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest
from simstudio import SimStudioClient, SimStudioError, WorkflowExecutionResult

from api.sim import RateLimit, SimSettings, parse_rate_limit
from tests.api.conftest import Server
from tests.sim.fixtures import GREET, configured, machine

KEY = "sim-test-key"


@pytest.fixture(scope="module")
def keyed() -> Iterator[Server]:
    with configured(api_keys=[KEY, "second-key"]) as server:
        yield server


@pytest.fixture(scope="module")
def limited() -> Iterator[Server]:
    with configured(rate_limit=RateLimit(1, 1.0)) as server:
        yield server


def _error(call: object) -> SimStudioError:
    with pytest.raises(SimStudioError) as raised:
        call()  # type: ignore[operator]
    return raised.value


def test_wrong_api_key_is_401_in_each_routes_shape(keyed: Server) -> None:
    name = machine(keyed.endpoint, GREET)
    with SimStudioClient(api_key="wrong", base_url=keyed.endpoint) as client:
        error = _error(lambda: client.execute_workflow(name, {"name": "X"}))
        assert (str(error), error.code, error.status) == ("Invalid API key", "UNAUTHORIZED", 401)
        error = _error(lambda: client.get_workflow_run(name, "r1"))
        assert (str(error), error.code, error.status) == ("Invalid API key", "UNAUTHORIZED", 401)
        error = _error(lambda: client.get_workflow_status(name))
        assert (str(error), error.code, error.status) == ("Unauthorized", None, 401)
        assert client.validate_workflow(name) is False
        error = _error(client.get_usage_limits)
        assert (str(error), error.code, error.status) == ("Authentication required", "AUTHENTICATION_REQUIRED", 401)
        error = _error(lambda: client.get_job_status("t1"))
        assert (str(error), error.code, error.status) == ("Authentication required", "AUTHENTICATION_REQUIRED", 401)
        client.set_api_key("second-key")
        result = client.execute_workflow(name, {"name": "Kay"})
        assert isinstance(result, WorkflowExecutionResult)
        assert result.output == {"greeting": "Hello, Kay!", "loud": True}


def test_missing_key_and_the_v2_401_headers(keyed: Server) -> None:
    name = machine(keyed.endpoint, GREET)
    response = httpx.post(f"{keyed.endpoint}/api/v2/workflows/{name}/execute", json={"input": {}})
    assert response.status_code == 401
    assert response.json() == {"error": {"code": "UNAUTHORIZED", "message": "Unauthorized"}}
    assert response.headers["www-authenticate"] == 'SimApiKey realm="Sim API", header="x-api-key"'
    assert response.headers["cache-control"] == "private, no-store"
    legacy = httpx.post(f"{keyed.endpoint}/api/workflows/{name}/execute", json={})
    assert (legacy.status_code, legacy.json()) == (401, {"error": "Unauthorized", "code": "UNAUTHORIZED"})
    status = httpx.get(f"{keyed.endpoint}/api/workflows/{name}/status")
    assert (status.status_code, status.json()) == (401, {"error": "Unauthorized"})
    with SimStudioClient(api_key=KEY, base_url=keyed.endpoint) as client:
        assert client.validate_workflow(name) is True
        assert client.get_usage_limits().rate_limit["authType"] == "api"


def test_rate_limit_429_headers_and_body(limited: Server) -> None:
    name = machine(limited.endpoint, GREET)
    url = f"{limited.endpoint}/api/v2/workflows/{name}/execute"
    headers = {"X-API-Key": f"raw-{time.monotonic_ns()}"}
    first = httpx.post(url, json={"input": {"name": "A"}}, headers=headers)
    assert first.status_code == 200 and "x-ratelimit-limit" not in first.headers
    second = httpx.post(url, json={"input": {"name": "B"}}, headers=headers)
    assert second.status_code == 429
    assert (second.headers["x-ratelimit-limit"], second.headers["x-ratelimit-remaining"],
            second.headers["retry-after"]) == ("1", "0", "1")
    reset = datetime.fromisoformat(second.headers["x-ratelimit-reset"].replace("Z", "+00:00"))
    body = second.json()["error"]
    assert (body["code"], body["message"]) == ("RATE_LIMITED", "API rate limit exceeded")
    assert datetime.fromisoformat(body["details"]["retryAfter"].replace("Z", "+00:00")) == reset
    other = httpx.post(url, json={"input": {"name": "C"}}, headers={"X-API-Key": f"other-{time.monotonic_ns()}"})
    assert other.status_code == 200  # buckets are per API key


def test_execute_with_retry_recovers_from_the_rate_limit(limited: Server) -> None:
    name = machine(limited.endpoint, GREET)
    with SimStudioClient(api_key=f"sdk-{time.monotonic_ns()}", base_url=limited.endpoint) as client:
        assert isinstance(client.execute_workflow(name, {"name": "A"}), WorkflowExecutionResult)
        error = _error(lambda: client.execute_workflow(name, {"name": "B"}))
        assert (str(error), error.code, error.status) == ("Rate limit exceeded. Retry after 1000ms",
                                                          "RATE_LIMIT_EXCEEDED", 429)
        info = client.get_rate_limit_info()
        assert info is not None and (info.limit, info.remaining, info.retry_after) == (1, 0, 1000)
        assert info.reset > time.time() * 1000 - 5000  # epoch milliseconds from the ISO header
        started = time.monotonic()
        result = client.execute_with_retry(name, {"name": "C"}, max_retries=3)
        assert isinstance(result, WorkflowExecutionResult) and result.output == {"greeting": "Hello, C!", "loud": True}
        assert time.monotonic() - started < 5


def test_usage_limits_report_the_configured_rate(limited: Server) -> None:
    with SimStudioClient(api_key=f"usage-{time.monotonic_ns()}", base_url=limited.endpoint) as client:
        fresh = client.get_usage_limits().rate_limit["sync"]
        assert (fresh["isLimited"], fresh["requestsPerMinute"], fresh["maxBurst"], fresh["remaining"]) == (
            False, 60, 1, 1)
        client.execute_workflow(machine(limited.endpoint, GREET), {"name": "U"})
        spent = client.get_usage_limits().rate_limit["sync"]
        assert (spent["isLimited"], spent["remaining"]) == (True, 0)


def test_legacy_execute_429_carries_an_epoch_reset(limited: Server) -> None:
    name = machine(limited.endpoint, GREET)
    url = f"{limited.endpoint}/api/workflows/{name}/execute"
    headers = {"X-API-Key": f"legacy-{time.monotonic_ns()}"}
    assert httpx.post(url, json={"name": "A"}, headers=headers).status_code == 200
    refused = httpx.post(url, json={"name": "B"}, headers=headers)
    assert refused.status_code == 429
    assert refused.json() == {"error": "Rate limit exceeded", "code": "RATE_LIMIT_EXCEEDED"}
    assert refused.headers["x-ratelimit-reset"].isdigit() and refused.headers["retry-after"] == "1"


@pytest.mark.parametrize(("text", "expected"), [
    ("10/MIN", RateLimit(10, 60.0)), ("3/sec", RateLimit(3, 1.0)), (" 100 / HOUR ", RateLimit(100, 3600.0))])
def test_parse_rate_limit(text: str, expected: RateLimit) -> None:
    assert parse_rate_limit(text) == expected


@pytest.mark.parametrize("text", ["10", "0/MIN", "ten/MIN", "5/DAY"])
def test_parse_rate_limit_rejects(text: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_rate_limit(text)
    assert str(raised.value) == f"invalid Sim rate limit {text!r}: expected N/MIN (or N/SEC, N/HOUR) with N >= 1"


def test_banner_says_when_any_key_is_accepted() -> None:
    assert SimSettings().banner() == ("Sim API (simstudio-sdk): /api/v2/workflows/{id}/execute; any X-API-Key is "
                                      "accepted (no --api-key or $STATESIM_API_KEYS given)")
    assert SimSettings(frozenset({"a", "b"}), RateLimit(5, 60.0)).banner() == (
        "Sim API (simstudio-sdk): /api/v2/workflows/{id}/execute; 2 API key(s) accepted; rate limit 5/MIN")


def test_sync_timeout_fails_in_band_on_v2_and_is_408_on_the_legacy_route() -> None:
    from tests.api.conftest import make_client
    from tests.sim.fixtures import activity_machine
    with configured(sync_timeout=0.3) as server:
        activity = make_client(server.endpoint).create_activity(name="sim-slow")["activityArn"]
        name = machine(server.endpoint, activity_machine(activity))
        with SimStudioClient(api_key="k", base_url=server.endpoint) as client:
            result = client.execute_workflow(name, {})
            assert isinstance(result, WorkflowExecutionResult)
            assert (result.success, result.status, result.error) == (
                False, "failed", "Workflow execution timed out after 0.3 seconds")
        legacy = httpx.post(f"{server.endpoint}/api/workflows/{name}/execute", json={})
        assert (legacy.status_code, legacy.json()) == (
            408, {"success": False, "error": "Workflow execution timed out after 0.3 seconds"})
