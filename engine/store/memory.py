"""In-memory Store: nothing survives the process (``statesim serve --in-memory``, tests)."""
from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping

from engine.store.base import Record, Records
from engine.types import JSON


class MemoryStore:
    """Dicts keyed by (kind, key); dict order is insertion order."""

    def __init__(self) -> None:
        self._records: dict[str, dict[str, tuple[str | None, Record]]] = {}
        self._events: dict[str, list[Record]] = {}

    def put(self, kind: str, key: str, record: Mapping[str, JSON], *, parent: str | None = None) -> None:
        self._records.setdefault(kind, {})[key] = (parent, copy.deepcopy(dict(record)))

    def get(self, kind: str, key: str) -> Record | None:
        found = self._records.get(kind, {}).get(key)
        return copy.deepcopy(found[1]) if found else None

    def delete(self, kind: str, key: str) -> None:
        self._records.get(kind, {}).pop(key, None)
        if kind == "execution":
            self._events.pop(key, None)

    def list(self, kind: str, *, parent: str | None = None) -> Records:
        rows = self._records.get(kind, {}).values()
        return [copy.deepcopy(r) for p, r in rows if parent is None or p == parent]

    def append_events(self, execution_arn: str, events: Iterable[Mapping[str, JSON]]) -> None:
        self._events.setdefault(execution_arn, []).extend(copy.deepcopy(dict(e)) for e in events)

    def events(self, execution_arn: str) -> Records:
        return copy.deepcopy(self._events.get(execution_arn, []))

    def truncate_events(self, execution_arn: str, after_id: int) -> None:
        kept = [e for e in self._events.get(execution_arn, []) if int(e["id"]) <= after_id]
        self._events[execution_arn] = kept

    def close(self) -> None:
        pass
