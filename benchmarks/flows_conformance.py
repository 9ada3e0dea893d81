"""Bedrock Flows conformance: run a folder of cases through real boto3 clients against statesim.

``python -m benchmarks.flows_conformance [-v] [--endpoint URL] FOLDER`` — FOLDER is the flows
conformance folder (or its ``cases/``). Without ``--endpoint`` a statesim server is started
on an ephemeral port with each case's mocks loaded for its flow; with ``--endpoint`` the
server must have been started with a matching ``--flow-mocks`` file (``--write-mocks FILE``
writes it). Prints one line per failing case (``-v``: per case) and ``N passed, M failed``.
"""
from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, EventStreamError

ROLE = "arn:aws:iam::123456789012:role/statesim-flows-conformance"
Case = dict[str, Any]


# ---------------------------------------------------------------- loading and serving

def load_cases(folder: Path) -> list[Case]:
    """Every ``*.json`` case of ``folder`` (or ``folder/cases``), sorted by file name."""
    cases_dir = folder / "cases" if (folder / "cases").is_dir() else folder
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(cases_dir.glob("*.json"))]


def flow_name(case: Case) -> str:
    """The flow name a case runs under (mock files are keyed by it)."""
    return "conf-" + "".join(ch if ch.isalnum() else "_" for ch in case["id"])[:80]


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1:<free port> in a thread; yields the endpoint URL."""
    import uvicorn
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("statesim did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def local_statesim(cases: list[Case]) -> Iterator[str]:
    """A fresh in-memory statesim with every case's mocks loaded."""
    from api.app import create_app
    from api.bedrock_agent import configure
    app = create_app()
    configure(app, flow_mocks={flow_name(c): c.get("mocks") or {} for c in cases})
    with serving(app) as endpoint:
        yield endpoint


def clients(endpoint: str) -> tuple[Any, Any]:
    options = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                   aws_secret_access_key="test", config=Config(retries={"max_attempts": 1}))
    return boto3.client("bedrock-agent", **options), boto3.client("bedrock-agent-runtime", **options)


# ---------------------------------------------------------------- one invocation

class Observed:
    """What one InvokeFlow call gave: the decoded events, or an error and its channel."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.execution_id: str | None = None
        self.error: tuple[str, str, str] | None = None
        """(code, message, channel)."""

    @property
    def plain(self) -> list[dict[str, Any]]:
        return [e for e in self.events if "flowTraceEvent" not in e]

    def traces(self) -> list[tuple[str, dict[str, Any]]]:
        """Trace items and stream events in order, as (kind, body)."""
        items = []
        for event in self.events:
            [(kind, body)] = event.items()
            if kind == "flowTraceEvent":
                [(kind, body)] = body["trace"].items()
            items.append((kind, body))
        return items


def invoke(runtime: Any, flow_id: str, inputs: list[Any], execution_id: str | None = None) -> Observed:
    observed = Observed()
    request: dict[str, Any] = {"flowIdentifier": flow_id, "flowAliasIdentifier": "TSTALIASID", "inputs": inputs,
                               "enableTrace": True}
    if execution_id:
        request["executionId"] = execution_id
    try:
        response = runtime.invoke_flow(**request)
    except ClientError as exc:
        observed.error = (exc.response["Error"]["Code"], exc.response["Error"]["Message"], "http")
        return observed
    observed.execution_id = response.get("executionId")
    try:
        for event in response["responseStream"]:
            observed.events.append(event)
    except EventStreamError as exc:
        observed.error = (exc.response["Error"]["Code"], exc.response["Error"]["Message"], "stream")
    finally:
        response["responseStream"].close()
    return observed


# ---------------------------------------------------------------- comparisons

def _strip(event: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(event, default=str))


def compare(expect: dict[str, Any], seen: Observed, context: dict[str, str]) -> list[str]:
    """Every difference between ``expect`` and what was observed (empty = pass)."""
    problems: list[str] = []
    if "error" in expect:
        return _compare_error(expect["error"], seen)
    if seen.error is not None:
        return [f"unexpected {seen.error[2]} error {seen.error[0]}: {seen.error[1]}"]
    problems += _compare_events(expect, seen)
    problems += _compare_not_run(expect.get("notRun") or [], seen)
    problems += _compare_calls(expect, seen, context)
    if expect.get("trace"):
        problems += _compare_trace(expect["trace"], seen)
    return problems


def _compare_error(expected: dict[str, Any], seen: Observed) -> list[str]:
    if seen.error is None:
        return [f"expected {expected['code']} but the call succeeded"]
    code, message, channel = seen.error
    problems = []
    if code.lower() != expected["code"].lower():
        problems.append(f"error code {code}, expected {expected['code']}")
    if expected.get("channel", "either") not in ("either", channel):
        problems.append(f"error came by {channel}, expected {expected['channel']}")
    if expected.get("messageContains") and expected["messageContains"] not in message:
        problems.append(f"error message {message!r} lacks {expected['messageContains']!r}")
    return problems


def _compare_events(expect: dict[str, Any], seen: Observed) -> list[str]:
    plain = [_strip(e) for e in seen.plain]
    wanted = expect.get("events")
    if wanted is None:
        outputs = [{"nodeName": e["flowOutputEvent"]["nodeName"], "content": e["flowOutputEvent"]["content"]["document"]}
                   for e in plain if "flowOutputEvent" in e]
        return [] if _same(outputs, expect.get("outputs", []), expect.get("outputsOrdered", True)) else \
            [f"outputs {outputs} != {expect.get('outputs')}"]
    if expect.get("outputsOrdered", True):
        return [] if plain == wanted else [f"events {json.dumps(plain)} != {json.dumps(wanted)}"]
    if not plain or plain[-1] != wanted[-1] or not _same(plain[:-1], wanted[:-1], False):
        return [f"events (any order) {json.dumps(plain)} != {json.dumps(wanted)}"]
    return []


def _same(left: list[Any], right: list[Any], ordered: bool) -> bool:
    if ordered:
        return left == right
    return Counter(json.dumps(x, sort_keys=True) for x in left) == Counter(json.dumps(x, sort_keys=True) for x in right)


def _compare_not_run(names: list[str], seen: Observed) -> list[str]:
    ran = {body.get("nodeName") for kind, body in seen.traces() if kind != "flowCompletionEvent"}
    return [f"node {n} ran" for n in names if n in ran]


def _calls(seen: Observed, operation: str) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for kind, body in seen.traces():
        if kind == "nodeActionTrace" and body.get("operationName") == operation:
            found.setdefault(body["nodeName"], []).append(body.get("operationRequest"))
    return found


def _prompt_text(request: dict[str, Any]) -> str:
    users = [m for m in request.get("messages", []) if m.get("role") == "user"]
    return "".join(c.get("text", "") for c in users[-1].get("content", [])) if users else ""


def _compare_calls(expect: dict[str, Any], seen: Observed, context: dict[str, str]) -> list[str]:
    problems = []
    prompts = {n: [_prompt_text(r) for r in rs] for n, rs in _calls(seen, "Converse").items()}
    for node, texts in (expect.get("renderedPrompts") or {}).items():
        if prompts.get(node) != texts:
            problems.append(f"prompts of {node}: {prompts.get(node)} != {texts}")
    events = {n: [r.get("payload") for r in rs] for n, rs in _calls(seen, "Invoke").items()}
    for node, wanted in (expect.get("lambdaEvents") or {}).items():
        text = json.dumps(wanted)
        for key, value in context.items():
            text = text.replace("${" + key + "}", value)
        if _strip(events.get(node) or []) != json.loads(text):
            problems.append(f"lambda events of {node}: {events.get(node)} != {json.loads(text)}")
    return problems


def _field_matches(wanted: dict[str, Any], actual: dict[str, Any]) -> bool:
    for key, value in wanted.items():
        got = actual.get(key)
        if key == "content":
            got = (got or {}).get("document")
        if _strip({"v": got}) != {"v": value}:
            return False
    return True


def _item_matches(wanted: dict[str, Any], kind: str, body: dict[str, Any]) -> bool:
    if kind != wanted["kind"] or ("nodeName" in wanted and body.get("nodeName") != wanted["nodeName"]):
        return False
    if "fields" in wanted:
        fields = body.get("fields") or []
        if len(fields) != len(wanted["fields"]) or not all(
                any(_field_matches(w, a) for a in fields) for w in wanted["fields"]):
            return False
    for key in ("satisfiedConditions", "completionReason"):
        if key in wanted and body.get(key) != wanted[key]:
            return False
    return True


def _compare_trace(wanted: list[dict[str, Any]], seen: Observed) -> list[str]:
    items, position = seen.traces(), 0
    for item in wanted:
        while position < len(items) and not _item_matches(item, *items[position]):
            position += 1
        if position == len(items):
            return [f"trace item not found in order: {json.dumps(item)}"]
        position += 1
    return []


# ---------------------------------------------------------------- running cases

def run_case(agent: Any, runtime: Any, case: Case) -> list[str]:
    """The problems of one case (empty = pass)."""
    if case.get("operation") == "ValidateFlowDefinition":
        found = agent.validate_flow_definition(definition=case["definition"])["validations"]
        got = [{k: v[k] for k in ("type", "severity", "details")} for v in found]
        wanted = case["expect"]["validations"]
        return [] if _same(got, wanted, False) else [f"validations {got} != {wanted}"]
    flow = agent.create_flow(name=flow_name(case), executionRoleArn=ROLE, definition=case["definition"],
                             clientToken=str(uuid.uuid4()))
    try:
        agent.prepare_flow(flowIdentifier=flow["id"])
        context = {"flowArn": flow["arn"], "flowAliasArn": f"{flow['arn']}/alias/TSTALIASID"}
        seen = invoke(runtime, flow["id"], case["inputs"])
        problems = compare(case["expect"], seen, context)
        for number, turn in enumerate(case.get("turns") or [], start=2):
            execution_id = seen.execution_id if turn.get("reuseExecutionId") else None
            seen = invoke(runtime, flow["id"], turn["inputs"], execution_id)
            problems += [f"turn {number}: {p}" for p in compare(turn["expect"], seen, context)]
        return problems
    finally:
        agent.delete_flow(flowIdentifier=flow["id"], skipResourceInUseCheck=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.flows_conformance", description=__doc__)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--endpoint", help="a running statesim (started with --flow-mocks, see --write-mocks)")
    parser.add_argument("--write-mocks", type=Path, help="write the flow mock file for these cases and exit")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("--if-exists", action="store_true", help="exit 0 with a note when FOLDER is missing")
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        print(f"{'note' if args.if_exists else 'error'}: flows conformance folder {args.folder} not found")
        return 0 if args.if_exists else 1
    cases = load_cases(args.folder)
    if args.write_mocks:
        args.write_mocks.write_text(json.dumps({flow_name(c): c.get("mocks") or {} for c in cases}, indent=2))
        return 0
    with (_external(args.endpoint) if args.endpoint else local_statesim(cases)) as endpoint:
        passed, failed = _run_all(cases, *clients(endpoint), verbose=args.verbose)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


@contextmanager
def _external(endpoint: str) -> Iterator[str]:
    yield endpoint


def _run_all(cases: list[Case], agent: Any, runtime: Any, *, verbose: bool) -> tuple[int, int]:
    passed = failed = 0
    for case in cases:
        started = time.perf_counter()
        try:
            problems = run_case(agent, runtime, case)
        except ClientError as exc:
            problems = [f"{exc.response['Error']['Code']}: {exc.response['Error']['Message']}"]
        elapsed = (time.perf_counter() - started) * 1000
        if problems:
            failed += 1
            print(f"FAIL {case['id']} ({elapsed:.0f} ms): {'; '.join(problems)}")
        else:
            passed += 1
            if verbose:
                print(f"ok   {case['id']} ({elapsed:.0f} ms)")
    return passed, failed


if __name__ == "__main__":
    sys.exit(main())
