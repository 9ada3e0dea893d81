"""In-process ASL throughput: state transitions per second for four scenarios.

    python -m benchmarks.throughput [--chain 100] [--items 1000] [--branches 10] [--depth 10]
                                    [--repeat 3] [--min-seconds 1.0]

Scenarios (each definition is parsed once with engine.asl.load and the machine reused):

* ``pass_chain``   a chain of ``--chain`` Pass states;
* ``choice_loop``  a Choice + Pass (States.MathAdd) loop of ``--items`` iterations;
* ``map``          an inline Map over ``--items`` items, one Pass state per item;
* ``parallel``     ``--branches`` branches of ``--depth`` Pass states each.

A *transition* is one state entered (one ``…StateEntered`` history event). Executions run
back to back in one event loop on a ManualClock (no Wait states are involved). Printed per
scenario: executions, transitions per execution, seconds, transitions/s, the ratio to
the baseline and to the first scenario. The baseline is measured in the same run: a bare
Python loop that, per transition, makes a shallow copy of a small dict and ``json.dumps``
it (the least an interpreter recording history must do).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

import anyio

from engine.clock import ManualClock


@dataclass(frozen=True)
class Scenario:
    """A definition and the input it runs on."""

    name: str
    definition: dict[str, Any]
    input_text: str


def pass_chain(length: int, prefix: str = "P") -> Scenario:
    states: dict[str, Any] = {}
    for index in range(length):
        state: dict[str, Any] = {"Type": "Pass"}
        if index + 1 < length:
            state["Next"] = f"{prefix}{index + 1}"
        else:
            state["End"] = True
        states[f"{prefix}{index}"] = state
    return Scenario("pass_chain", {"StartAt": f"{prefix}0", "States": states}, json.dumps({"value": 1, "tag": "x"}))


def choice_loop(iterations: int) -> Scenario:
    definition = {
        "StartAt": "Check",
        "States": {
            "Check": {"Type": "Choice", "Default": "Done",
                      "Choices": [{"Variable": "$.i", "NumericLessThan": iterations, "Next": "Increment"}]},
            "Increment": {"Type": "Pass", "Parameters": {"i.$": "States.MathAdd($.i, 1)"}, "Next": "Check"},
            "Done": {"Type": "Succeed"},
        },
    }
    return Scenario("choice_loop", definition, json.dumps({"i": 0}))


def inline_map(items: int) -> Scenario:
    definition = {
        "StartAt": "Fan",
        "States": {"Fan": {
            "Type": "Map", "ItemsPath": "$.items", "End": True,
            "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Item",
                              "States": {"Item": {"Type": "Pass", "End": True}}},
        }},
    }
    return Scenario("map", definition, json.dumps({"items": list(range(items))}))


def parallel(branches: int, depth: int) -> Scenario:
    branch_list = [pass_chain(depth, f"B{b}_").definition for b in range(branches)]
    definition = {"StartAt": "Fork", "States": {"Fork": {"Type": "Parallel", "Branches": branch_list, "End": True}}}
    return Scenario("parallel", definition, json.dumps({"value": 1}))


@dataclass(frozen=True)
class Measurement:
    """Timed executions of one scenario."""

    name: str
    executions: int
    transitions: int
    """Per execution."""
    seconds: float

    @property
    def rate(self) -> float:
        return self.executions * self.transitions / self.seconds if self.seconds > 0 else float("inf")


def count_transitions(history: Sequence[dict[str, Any]]) -> int:
    """States entered in one execution."""
    return sum(1 for event in history if str(event.get("type", "")).endswith("StateEntered"))


async def measure(scenario: Scenario, repeat: int, min_seconds: float) -> Measurement:
    """Run one warm-up execution, then at least ``repeat`` executions and ``min_seconds``."""
    from engine.asl import load, run

    machine = load(json.dumps(scenario.definition))
    warm = await run(machine, scenario.input_text, clock=ManualClock())
    if warm.status != "SUCCEEDED":
        raise RuntimeError(f"{scenario.name}: {warm.status} {warm.error}: {warm.cause}")
    transitions = count_transitions(warm.history)
    executions, started = 0, time.perf_counter()
    while executions < repeat or time.perf_counter() - started < min_seconds:
        await run(machine, scenario.input_text, clock=ManualClock())
        executions += 1
    return Measurement(scenario.name, executions, transitions, time.perf_counter() - started)


def baseline(transitions: int, min_seconds: float) -> Measurement:
    """The bare loop: per transition, copy a small dict and serialise it."""
    value: dict[str, Any] = {"value": 1, "tag": "x", "i": 0}
    rounds, started = 0, time.perf_counter()
    while rounds == 0 or time.perf_counter() - started < min_seconds:
        for _ in range(transitions):
            value = dict(value)
            json.dumps(value)
        rounds += 1
    return Measurement("baseline", rounds, transitions, time.perf_counter() - started)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.throughput", description=__doc__.splitlines()[0])
    parser.add_argument("--chain", type=int, default=100, help="Pass states in pass_chain (default 100)")
    parser.add_argument("--items", type=int, default=1000, help="choice_loop iterations and map items (default 1000)")
    parser.add_argument("--branches", type=int, default=10, help="parallel branches (default 10)")
    parser.add_argument("--depth", type=int, default=10, help="Pass states per parallel branch (default 10)")
    parser.add_argument("--repeat", type=int, default=3, help="minimum timed executions per scenario (default 3)")
    parser.add_argument("--min-seconds", type=float, default=1.0, help="minimum timed seconds per scenario (default 1)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    args = parse_args(argv)
    out = out or sys.stdout
    scenarios = [pass_chain(args.chain), choice_loop(args.items), inline_map(args.items),
                 parallel(args.branches, args.depth)]

    async def all_scenarios() -> list[Measurement]:
        return [await measure(s, args.repeat, args.min_seconds) for s in scenarios]

    results = anyio.run(all_scenarios)
    base = baseline(args.chain, args.min_seconds)
    print("# transitions = states entered; baseline = per transition one shallow dict copy + json.dumps", file=out)
    print(f"{'scenario':<12} {'executions':>10} {'transitions':>11} {'seconds':>8} {'transitions/s':>14} "
          f"{'x baseline':>11} {'x pass_chain':>12}", file=out)
    for m in [base, *results]:
        print(f"{m.name:<12} {m.executions:>10} {m.transitions:>11} {m.seconds:>8.3f} {m.rate:>14.0f} "
              f"{m.rate / base.rate:>11.5f} {m.rate / results[0].rate:>12.3f}", file=out)
    print(json.dumps({m.name: round(m.rate, 1) for m in [base, *results]}), file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
