"""The service over HTTP: boto3 against a real ``statesim serve`` subprocess.

    python -m benchmarks.service [--calls 500] [--standard 1000] [--parked 10000] [--clients 32]
                                 [--in-memory]

Figures, each with a baseline measured in the same run against the same server:

* ``latency``    StartSyncExecution of a 5-state EXPRESS machine (definitions/asl/five_states.json),
                 p50/p99 over ``--calls`` calls; baseline: ListActivities, the cheapest call.
* ``throughput`` ``--standard`` STANDARD executions of the same machine started at once from
                 ``--clients`` threads, start -> all SUCCEEDED (per ListExecutions); baseline:
                 as many ListActivities calls from as many threads.
* ``memory``     server RSS and thread count with ``--parked`` executions parked in a 1-hour Wait
                 (definitions/asl/wait_one_hour.json); baseline: the idle server's RSS and threads.

Prints a table and, last, one JSON line of figures. Asserts nothing (targets: RSS < 500 MB,
threads independent of the number of executions).
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import boto3
from botocore.config import Config

ROOT = Path(__file__).resolve().parent.parent
DEFINITIONS = ROOT / "definitions" / "asl"
ROLE = "arn:aws:iam::123456789012:role/statesim-bench"


def client(endpoint: str) -> Any:
    """A boto3 Step Functions client for the server (no retries, long reads)."""
    return boto3.client("stepfunctions", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="bench", aws_secret_access_key="bench",
                        config=Config(inject_host_prefix=False, max_pool_connections=64,
                                      retries={"max_attempts": 0}, read_timeout=300))


def process_status(pid: int) -> tuple[float, int]:
    """(RSS in MB, thread count) of a process, from /proc."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["Threads"])


@contextmanager
def serve(in_memory: bool) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``statesim serve --port 0`` in a subprocess; yields it and its endpoint once it answers."""
    with tempfile.TemporaryDirectory() as data:
        where = ["--in-memory"] if in_memory else ["--data-dir", data]
        with subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", "0", *where], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as proc:
            try:
                assert proc.stdout is not None
                endpoint = proc.stdout.readline().strip().rsplit(" ", 1)[-1]
                if not endpoint.startswith("http"):
                    raise RuntimeError("statesim serve did not start")
                sfn = client(endpoint)
                for _ in range(200):
                    try:
                        sfn.list_activities()
                        break
                    except Exception:
                        time.sleep(0.05)
                yield proc, endpoint
            finally:
                proc.terminate()
                proc.wait(timeout=30)


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of sorted values."""
    rank = max(1, round(fraction * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def timed_calls(call: Callable[[], Any], count: int) -> list[float]:
    """Milliseconds per call, sorted."""
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        latencies.append((time.perf_counter() - started) * 1000)
    return sorted(latencies)


def fan_out(clients: list[Any], count: int, call: Callable[[Any, int], Any]) -> float:
    """Seconds to make ``count`` calls from one thread per client."""
    started = time.perf_counter()
    with ThreadPoolExecutor(len(clients)) as pool:
        list(pool.map(lambda i: call(clients[i % len(clients)], i), range(count)))
    return time.perf_counter() - started


def count_executions(sfn: Any, machine_arn: str, status: str) -> int:
    pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=machine_arn, statusFilter=status)
    return sum(len(page["executions"]) for page in pages)


def measure_latency(sfn: Any, calls: int) -> dict[str, float]:
    five = (DEFINITIONS / "five_states.json").read_text()
    arn = sfn.create_state_machine(name="five-express", definition=five, roleArn=ROLE, type="EXPRESS")[
        "stateMachineArn"]

    def start_sync() -> None:
        result = sfn.start_sync_execution(stateMachineArn=arn, input='{"a": 1}')
        if result["status"] != "SUCCEEDED":
            raise RuntimeError(f"five_states ended {result['status']}")

    timed_calls(start_sync, min(20, calls))  # warm up both paths
    timed_calls(sfn.list_activities, min(20, calls))
    base, sync = timed_calls(sfn.list_activities, calls), timed_calls(start_sync, calls)
    return {"baseline_p50_ms": statistics.median(base), "baseline_p99_ms": percentile(base, 0.99),
            "p50_ms": statistics.median(sync), "p99_ms": percentile(sync, 0.99)}


def measure_throughput(sfn: Any, clients: list[Any], count: int) -> dict[str, float]:
    five = (DEFINITIONS / "five_states.json").read_text()
    arn = sfn.create_state_machine(name="five-standard", definition=five, roleArn=ROLE)["stateMachineArn"]
    base = fan_out(clients, count, lambda c, _: c.list_activities())
    started = time.perf_counter()
    fan_out(clients, count, lambda c, i: c.start_execution(stateMachineArn=arn, name=f"run-{i}"))
    while count_executions(sfn, arn, "SUCCEEDED") < count:
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    return {"baseline_calls_per_s": count / base, "seconds": seconds, "executions_per_s": count / seconds}


def measure_memory(sfn: Any, clients: list[Any], pid: int, count: int, idle: tuple[float, int]) -> dict[str, float]:
    wait = (DEFINITIONS / "wait_one_hour.json").read_text()
    arn = sfn.create_state_machine(name="parked", definition=wait, roleArn=ROLE)["stateMachineArn"]
    seconds = fan_out(clients, count, lambda c, i: c.start_execution(stateMachineArn=arn, name=f"park-{i}"))
    time.sleep(min(1.0, 0.1 + count / 10000))  # let every execution reach its Wait
    running = count_executions(sfn, arn, "RUNNING")
    rss, threads = process_status(pid)
    return {"baseline_rss_mb": idle[0], "baseline_threads": idle[1], "rss_mb": rss, "threads": threads,
            "running": running, "start_seconds": seconds}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.service", description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500, help="timed calls per latency figure (default 500)")
    parser.add_argument("--standard", type=int, default=1000, help="concurrent STANDARD executions (default 1000)")
    parser.add_argument("--parked", type=int, default=10000, help="executions parked in a Wait (default 10000)")
    parser.add_argument("--clients", type=int, default=32, help="client threads (default 32)")
    parser.add_argument("--in-memory", action="store_true", help="serve --in-memory (default: SQLite in a temp dir)")
    return parser.parse_args(argv)


def report(latency: dict[str, float], throughput: dict[str, float], memory: dict[str, float], out: TextIO) -> None:
    print(f"{'figure':<26} {'value':>10} {'baseline':>10} {'x baseline':>11}", file=out)
    rows = [
        ("start_sync p50 ms", latency["p50_ms"], latency["baseline_p50_ms"]),
        ("start_sync p99 ms", latency["p99_ms"], latency["baseline_p99_ms"]),
        ("standard executions/s", throughput["executions_per_s"], throughput["baseline_calls_per_s"]),
        ("parked rss MB", memory["rss_mb"], memory["baseline_rss_mb"]),
        ("parked threads", memory["threads"], memory["baseline_threads"]),
    ]
    for name, value, base in rows:
        print(f"{name:<26} {value:>10.2f} {base:>10.2f} {value / base:>11.3f}", file=out)
    print(f"# {throughput['seconds']:.2f} s start->SUCCEEDED; {memory['running']:.0f} parked RUNNING, "
          f"started in {memory['start_seconds']:.2f} s", file=out)
    figures = {"latency": latency, "throughput": throughput, "memory": memory}
    print(json.dumps({k: {n: round(v, 3) for n, v in f.items()} for k, f in figures.items()}), file=out)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    args = parse_args(argv)
    out = out or sys.stdout
    with serve(args.in_memory) as (proc, endpoint):
        idle = process_status(proc.pid)
        sfn = client(endpoint)
        clients = [client(endpoint) for _ in range(args.clients)]
        latency = measure_latency(sfn, args.calls)
        throughput = measure_throughput(sfn, clients, args.standard)
        memory = measure_memory(sfn, clients, proc.pid, args.parked, idle)
    report(latency, throughput, memory, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
