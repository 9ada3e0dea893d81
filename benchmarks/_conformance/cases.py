"""Conformance cases as recorded against AWS (format: shared/conformance/asl/README.md)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

KINDS = ("execution", "execution_output", "sync_execution", "create_error", "start_error", "validate")


@dataclass(frozen=True)
class Case:
    """One recorded run: what to send and what AWS answered."""

    id: str
    path: Path
    kind: str
    category: str
    state_machine_type: str
    definition_text: str
    input_text: str | None
    """The exact StartExecution input; None means start without an input."""
    expect: dict[str, Any]
    placeholders: tuple[str, ...] = ()
    normalisation: tuple[str, ...] = ()
    expected_wait_seconds: float = 0.0
    features: tuple[str, ...] = field(default=())
    recorded_date: date | None = None
    """The day AWS was recorded (``provenance.recorded_date``): the case shows AWS as of then."""


def case_from_dict(raw: dict[str, Any], path: Path | None = None) -> Case:
    """Build a Case from a parsed case file (the exact texts to send are derived here)."""
    if "definition_text" in raw:
        definition_text = raw["definition_text"]
    else:
        definition_text = json.dumps(raw["definition"])
    if "input_text" in raw:
        input_text: str | None = raw["input_text"]
    elif "input" in raw:
        input_text = json.dumps(raw["input"])
    else:
        input_text = None
    return Case(
        id=raw["id"],
        path=path or Path(raw["id"]),
        kind=raw["kind"],
        category=raw.get("category", "uncategorised"),
        state_machine_type=raw.get("state_machine_type", "STANDARD"),
        definition_text=definition_text,
        input_text=input_text,
        expect=raw["expect"],
        placeholders=tuple(raw.get("placeholders", ())),
        normalisation=tuple(raw.get("history_normalisation", ())),
        expected_wait_seconds=float(raw.get("expected_wait_seconds") or 0.0),
        features=tuple(raw.get("features", ())),
        recorded_date=recorded_date(raw),
    )


def recorded_date(raw: dict[str, Any]) -> date | None:
    """``provenance.recorded_date`` (``DD-MM-YYYY, HH:MM:SS``) as a date; None when absent."""
    text = (raw.get("provenance") or {}).get("recorded_date")
    if not text:
        return None
    for pattern in ("%d-%m-%Y, %H:%M:%S", "%d-%m-%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            pass
    return None


def load_folder(folder: Path) -> list[Case]:
    """Every ``*.json`` case under ``folder`` (or its ``cases/`` subfolder), sorted by file name."""
    root = folder / "cases" if (folder / "cases").is_dir() else folder
    cases = []
    for path in sorted(root.rglob("*.json")):
        with path.open(encoding="utf-8") as handle:
            cases.append(case_from_dict(json.load(handle), path))
    return cases
