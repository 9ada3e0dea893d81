"""The README's commands run as written: CI runs its test command, the others are executed here."""
from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import boto3
from botocore.config import Config

from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()


def _blocks(heading: str, lang: str = "sh") -> list[str]:
    section = README.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    return [m.strip() for m in re.findall(rf"```{lang}\n(.*?)\n```", section, re.S)]


def _statesim(args: list[str]) -> list[str]:
    """``.venv/bin/statesim ARGS`` as run by this interpreter (the tests' own environment)."""
    assert args[0] == ".venv/bin/statesim", args
    return [sys.executable, "-c", "from api.cli import main; main()", *args[1:]]


def test_ci_runs_the_readme_test_command() -> None:
    command = _blocks("Set up and test")[0]
    ci_lines = [
        line for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line and not line.startswith("#") and not line.startswith(("set ", "cd "))
    ]
    assert ci_lines == [command]


def test_the_test_command_treats_no_tests_as_failure() -> None:
    # `&&` chains every step: pytest's exit 5 ("no tests ran") stops the chain with status 5.
    command = _blocks("Set up and test")[0]
    assert " && .venv/bin/python -m pytest && " in command
    assert "set -euo pipefail" in (ROOT / ".ci" / "run").read_text()


def test_the_serve_command_serves_boto3() -> None:
    command = _blocks("Set up and serve")[0]
    setup, serve = command.rsplit(" && ", 1)
    assert setup == "python3 -m venv .venv && .venv/bin/pip install -e ."
    proc = subprocess.Popen(_statesim(shlex.split(serve) + ["--port", "0"]), cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:(\d+))", first)
        assert match, first
        sfn = boto3.client("stepfunctions", endpoint_url=match.group(1), region_name="us-east-1",
                           aws_access_key_id="test", aws_secret_access_key="test",
                           config=Config(inject_host_prefix=False))
        assert sfn.list_state_machines()["stateMachines"] == []
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_the_run_and_validate_commands(tmp_path: Path) -> None:
    lines = _blocks("Running and validating one definition, no server")[0].splitlines()
    outputs = [subprocess.run(_statesim(shlex.split(line)), cwd=ROOT, capture_output=True, text=True,
                              check=True, timeout=60).stdout for line in lines]
    assert outputs[0].strip() == '{"message":"Hello, Ann!"}'
    assert '"ExecutionSucceeded"' in outputs[1]
    assert '"result": "OK"' in outputs[2]


def test_the_python_example_prints_what_it_says() -> None:
    code = _blocks("Running and validating one definition, no server", "python")[0]
    expected = code.rsplit("# ", 1)[1].strip()
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True, timeout=60)
    assert run.stdout.strip() == expected
