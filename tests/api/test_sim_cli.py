"""``statesim serve --api-key ... --sim-rate-limit ...``: a real process driven by the real SDK."""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from simstudio import SimStudioClient, SimStudioError, WorkflowExecutionResult

from api.sim import RateLimit, add_serve_arguments
from tests.api.conftest import ROLE, make_client
from tests.sim.fixtures import GREET

ROOT = Path(__file__).resolve().parents[2]


def _serve(*args: str, env: dict[str, str] | None = None) -> Iterator[tuple[str, list[str]]]:
    """Run ``statesim serve``; (endpoint, the lines printed before it listens)."""
    environment = {k: v for k, v in os.environ.items() if k != "STATESIM_API_KEYS"}
    environment.update(PYTHONPATH=str(ROOT), **(env or {}))
    process = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", "0", "--in-memory", *args],
                               cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert process.stdout is not None
        lines: list[str] = []
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("Sim API"):
                break
        endpoint = re.search(r"http://127\.0\.0\.1:\d+", "\n".join(lines))
        assert endpoint is not None, lines
        yield endpoint.group(0), lines
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def test_keys_from_flags_and_env_and_a_rate_limit() -> None:
    served = _serve("--api-key", "alpha", "--api-key", "beta", "--sim-rate-limit", "1/SEC",
                    env={"STATESIM_API_KEYS": "gamma, delta"})
    endpoint, lines = next(served)
    try:
        assert lines[-1] == ("Sim API (simstudio-sdk): /api/v2/workflows/{id}/execute; 4 API key(s) accepted; "
                             "rate limit 1/SEC")
        make_client(endpoint).create_state_machine(name="greet", definition=json.dumps(GREET), roleArn=ROLE)
        with SimStudioClient(api_key="nope", base_url=endpoint) as client:
            with pytest.raises(SimStudioError) as raised:
                client.execute_workflow("greet", {"name": "X"})
            assert (raised.value.code, raised.value.status) == ("UNAUTHORIZED", 401)
            client.set_api_key("gamma")
            assert isinstance(client.execute_workflow("greet", {"name": "G"}), WorkflowExecutionResult)
            with pytest.raises(SimStudioError) as raised:
                client.execute_workflow("greet", {"name": "G"})
            assert raised.value.code == "RATE_LIMIT_EXCEEDED"
            result = client.execute_with_retry("greet", {"name": "G"})
            assert isinstance(result, WorkflowExecutionResult) and result.success
            client.set_api_key("beta")
            assert client.validate_workflow("greet") is True
    finally:
        served.close()


def test_without_keys_the_server_says_any_key_is_accepted() -> None:
    served = _serve()
    endpoint, lines = next(served)
    try:
        assert lines[-1] == ("Sim API (simstudio-sdk): /api/v2/workflows/{id}/execute; any X-API-Key is accepted "
                             "(no --api-key or $STATESIM_API_KEYS given)")
        with SimStudioClient(api_key="whatever", base_url=endpoint) as client:
            assert client.get_usage_limits().rate_limit["sync"]["isLimited"] is False
    finally:
        served.close()


def test_serve_arguments() -> None:
    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    args = parser.parse_args(["--api-key", "a", "--api-key", "b", "--sim-rate-limit", "10/MIN"])
    assert (args.api_key, args.sim_rate_limit) == (["a", "b"], RateLimit(10, 60.0))
    assert parser.parse_args([]).api_key == [] and parser.parse_args([]).sim_rate_limit is None


def test_a_bad_rate_limit_is_a_usage_error() -> None:
    done = subprocess.run([sys.executable, "-m", "api.cli", "serve", "--sim-rate-limit", "lots"], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == ("statesim serve: error: argument --sim-rate-limit: invalid Sim rate limit "
                                            "'lots': expected N/MIN (or N/SEC, N/HOUR) with N >= 1")
