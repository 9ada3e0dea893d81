"""``statesim serve`` with the flow settings from the environment: a real process, a real boto3 client."""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from api.bedrock_agent import add_serve_arguments, settings_from_args, settings_from_env
from tests.api.conftest import ROLE, make_client
from tests.engine.flows._defs import data, inp, io, out, prompt

ROOT = Path(__file__).resolve().parents[2]


def test_settings_from_env(tmp_path: Path) -> None:
    settings = settings_from_env({"STATESIM_FLOW_MOCKS": "m.json", "STATESIM_S3_DIR": str(tmp_path),
                                  "STATESIM_KNOWLEDGE_BASES": "KB1=/a, KB2=/b", "STATESIM_MODEL_ENDPOINT": "http://x/v1",
                                  "STATESIM_MODEL_MAP": "*=llama3.2", "STATESIM_INLINE_TIMEOUT": "2",
                                  "STATESIM_LOOP_EXIT_WHEN_TRUE": "1"})
    assert settings == {"flow_mocks": "m.json", "s3_dir": tmp_path, "knowledge_bases": {"KB1": Path("/a"), "KB2": Path("/b")},
                        "model_endpoint": "http://x/v1", "model_map": {"*": "llama3.2"}, "inline_timeout": 2.0,
                        "exit_when_true": True}
    with pytest.raises(ValueError) as info:
        settings_from_env({"STATESIM_KNOWLEDGE_BASES": "nope"})
    assert str(info.value) == "STATESIM_KNOWLEDGE_BASES: expected KEY=VALUE, got 'nope'"


def test_serve_arguments() -> None:
    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    args = parser.parse_args(["--flow-mocks", "m.json", "--knowledge-base", "K=/d", "--model-endpoint", "http://h/v1",
                              "--model-map", "a=b"])
    assert settings_from_args(args) == {"flow_mocks": "m.json", "knowledge_bases": {"K": Path("/d")},
                                        "model_endpoint": "http://h/v1", "model_map": {"a": "b"}}


def test_statesim_serve_runs_flows_with_a_mock_file(tmp_path: Path) -> None:
    mocks = tmp_path / "mocks.json"
    mocks.write_text(json.dumps({"served": {"P": "mocked answer"}}))
    env = {**os.environ, "STATESIM_FLOW_MOCKS": str(mocks), "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", "0", "--in-memory"], cwd=ROOT,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert process.stdout is not None
        endpoint = ""
        for line in process.stdout:
            found = re.search(r"http://127\.0\.0\.1:\d+", line)
            if found:
                endpoint = found.group(0)
                break
        agent, runtime = make_client(endpoint, "bedrock-agent"), make_client(endpoint, "bedrock-agent-runtime")
        definition = {"nodes": [inp(), prompt("P", "{{q}}", [io("q")]), out()],
                      "connections": [data("In", "document", "P", "q"), data("P", "modelCompletion", "Out", "document")]}
        flow = agent.create_flow(name="served", executionRoleArn=ROLE, definition=definition)
        agent.prepare_flow(flowIdentifier=flow["id"])
        response = runtime.invoke_flow(flowIdentifier=flow["id"], flowAliasIdentifier="TSTALIASID",
                                       inputs=[{"content": {"document": "q"}, "nodeName": "In", "nodeOutputName": "document"}])
        events: list[Any] = list(response["responseStream"])
        assert events[0]["flowOutputEvent"]["content"]["document"] == "mocked answer"
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
