"""ASL conformance runner: run recorded AWS cases and compare (shared/conformance/asl/README.md).

    python -m benchmarks.conformance [--only-output] [--if-exists] [--endpoint URL]
        [--min-rate PCT] [--category C] [--as-of recorded|latest|YYYY-MM-DD] [-v] FOLDER

In process (default) each case runs on engine.asl with a ManualClock (Waits take no real
time), emulating AWS as of the case's recording date (engine.asl.compat; ``--as-of latest``
emulates today's AWS, showing which recordings later AWS changes made stale); with
``--endpoint`` it runs against a statesim or AWS endpoint through boto3.
Prints one line per failing case (every case with -v) with its first difference, totals
per category, and last ``N passed, M failed``. Exit status 1 only when ``--min-rate`` is
not met (or FOLDER is missing without ``--if-exists``).
"""
from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

from benchmarks._conformance.cases import Case, load_folder
from benchmarks._conformance.compare import Options, Outcome, compare
from benchmarks._conformance.match import Difference


@dataclass(frozen=True)
class Result:
    """One case's verdict."""

    case: Case
    difference: Difference | None
    seconds: float

    @property
    def passed(self) -> bool:
        return self.difference is None


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.conformance", description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a folder of case files (or one holding cases/)")
    parser.add_argument("--only-output", action="store_true",
                        help="compare status, output, error, cause and error codes/messages only (no history)")
    parser.add_argument("--if-exists", action="store_true", help="exit 0 with a note when FOLDER is missing")
    parser.add_argument("--endpoint", metavar="URL", help="run against this Step Functions endpoint with boto3")
    parser.add_argument("--min-rate", type=float, metavar="PCT", help="exit 1 when fewer than PCT%% of cases pass")
    parser.add_argument("--category", action="append", default=[], metavar="C",
                        help="only cases of this category (repeatable, or comma-separated)")
    parser.add_argument("--match", action="append", default=[], metavar="TEXT",
                        help="only cases whose id contains TEXT (repeatable)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every case, not only failures")
    parser.add_argument("--strict", action="store_true", help="no multiset allowance for Parallel/Map events")
    parser.add_argument("--loose-numbers", action="store_true", help="let 1 match 1.0")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="run each case N times; it passes only if every run does (flakiness check)")
    parser.add_argument("--role-arn", default=None, help="role ARN for CreateStateMachine with --endpoint")
    parser.add_argument("--jobs", type=int, default=8, help="parallel cases with --endpoint (default 8)")
    parser.add_argument("--case-timeout", type=float, default=30.0,
                        help="real seconds a case may take in process (default 30)")
    parser.add_argument("--as-of", default="recorded", type=_as_of, metavar="WHEN",
                        help="in process, emulate AWS as of: 'recorded' (each case's recording date, default), "
                             "'latest' (today's AWS) or a YYYY-MM-DD date")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write every verdict as JSON lines")
    parser.add_argument("--features", action="store_true",
                        help="also print totals per feature (state types, fields, intrinsics) that has failures")
    return parser.parse_args(argv)


def _as_of(text: str) -> str:
    if text != "recorded":
        from engine.asl import compat
        try:
            compat.parse_date(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected recorded, latest or YYYY-MM-DD, not {text!r}") from None
    return text


def select(cases: list[Case], categories: Sequence[str], fragments: Sequence[str]) -> list[Case]:
    """Cases of the given categories whose id contains one of ``fragments`` (empty = all)."""
    wanted = {c.strip() for value in categories for c in value.split(",") if c.strip()}
    return [case for case in cases
            if (not wanted or case.category in wanted) and (not fragments or any(f in case.id for f in fragments))]


def runner_for(args: argparse.Namespace) -> tuple[Callable[[Case], Outcome], int]:
    """A function running one case, and how many may run at once."""
    if args.endpoint:
        from benchmarks._conformance import endpoint
        client = endpoint.make_client(args.endpoint)
        role_arn = args.role_arn or endpoint.ROLE_ARN
        return (lambda case: endpoint.run_case(client, case, role_arn=role_arn)), max(1, args.jobs)
    from benchmarks._conformance import inprocess
    return (lambda case: inprocess.run_case(case, timeout=args.case_timeout, as_of=args.as_of)), 1


def judge(cases: list[Case], run: Callable[[Case], Outcome], options: Options, jobs: int = 1,
          on_result: Callable[[Result], None] | None = None, repeat: int = 1) -> list[Result]:
    """Run and compare every case (in order of ``cases``); with ``repeat`` > 1 a case passes
    only if every run does (to catch nondeterministic interleavings)."""
    def attempt(case: Case) -> Difference | None:
        try:
            outcome = run(case)
        except Exception as exc:  # runner-side failure (e.g. endpoint unreachable): the case fails
            outcome = Outcome(crash=f"{type(exc).__name__}: {str(exc)[:300]}")
        return compare(case, outcome, options)

    def one(case: Case) -> Result:
        started = time.perf_counter()
        difference = None
        for number in range(1, repeat + 1):
            difference = attempt(case)
            if difference is not None:
                if number > 1:
                    note = f"run {number} of {repeat}" + (f"; {difference.note}" if difference.note else "")
                    difference = replace(difference, note=note)
                break
        result = Result(case, difference, time.perf_counter() - started)
        if on_result is not None:
            on_result(result)
        return result

    if jobs <= 1:
        return [one(case) for case in cases]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, cases))


def case_line(result: Result) -> str:
    """``PASS``/``FAIL`` [category] id, and the first difference."""
    head = f"{'PASS' if result.passed else 'FAIL'} [{result.case.category}] {result.case.id}"
    return head if result.difference is None else f"{head}: {result.difference.render()}"


def summary_lines(results: list[Result]) -> list[str]:
    """Per-category totals and the final ``N passed, M failed``."""
    totals: Counter[str] = Counter()
    passed: Counter[str] = Counter()
    for result in results:
        totals[result.case.category] += 1
        passed[result.case.category] += result.passed
    width = max((len(c) for c in totals), default=8)
    lines = [f"{category:<{width}}  {passed[category]:>4} / {totals[category]:<4} passed"
             for category in sorted(totals, key=lambda c: (-totals[c], c))]
    failed = len(results) - sum(passed.values())
    lines.append(f"{sum(passed.values())} passed, {failed} failed")
    return lines


def feature_lines(results: list[Result]) -> list[str]:
    """Totals per feature, for the features with at least one failing case."""
    totals: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    for result in results:
        for feature in result.case.features or ("(none)",):
            totals[feature] += 1
            failed[feature] += not result.passed
    return [f"feature {feature}: {totals[feature] - failed[feature]} / {totals[feature]} passed"
            for feature in sorted(failed, key=lambda f: (-failed[f], f)) if failed[feature]]


def write_json(path: Path, results: list[Result]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for r in results:
            record = {"id": r.case.id, "file": r.case.path.name, "category": r.case.category, "kind": r.case.kind,
                      "passed": r.passed, "seconds": round(r.seconds, 4)}
            if r.difference is not None:
                record["where"] = r.difference.where
                record["note"] = r.difference.note
                record["difference"] = r.difference.render(400)
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    args = parse_args(argv)
    out = out or sys.stdout
    if not args.folder.is_dir():
        if args.if_exists:
            print(f"note: conformance folder {args.folder} not found; nothing to run", file=out)
            return 0
        print(f"error: conformance folder {args.folder} not found", file=out)
        return 1
    cases = select(load_folder(args.folder), args.category, args.match)
    options = Options(only_output=args.only_output, strict=args.strict, loose_numbers=args.loose_numbers)
    run, jobs = runner_for(args)

    printing = threading.Lock()

    def report(result: Result) -> None:  # called from --jobs worker threads: one whole line at a time
        if args.verbose or not result.passed:
            with printing:
                print(case_line(result), file=out, flush=True)

    started = time.perf_counter()
    results = judge(cases, run, options, jobs, on_result=report, repeat=max(1, args.repeat))
    elapsed = time.perf_counter() - started
    if args.json:
        write_json(args.json, results)
    mode = f"endpoint {args.endpoint}" if args.endpoint else f"in process, AWS as of {args.as_of}"
    compared = "output only" if args.only_output else "full history"
    print(f"-- {len(results)} cases, {mode}, {compared}, {elapsed:.1f} s", file=out)
    lines = (feature_lines(results) if args.features else []) + summary_lines(results)
    for line in lines:
        print(line, file=out)
    if args.min_rate is not None:
        rate = 100.0 * sum(r.passed for r in results) / len(results) if results else 0.0
        if rate < args.min_rate:
            print(f"pass rate {rate:.1f}% is below --min-rate {args.min_rate:g}%", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
