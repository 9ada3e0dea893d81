"""SQLite Store (stdlib sqlite3, WAL): the durable default under ``--data-dir``.

Every write commits, so a kill -9 loses nothing that was acknowledged.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path

from engine.store.base import Record, Records
from engine.types import JSON

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL, key TEXT NOT NULL, parent TEXT, data TEXT NOT NULL,
    PRIMARY KEY (kind, key));
CREATE INDEX IF NOT EXISTS records_parent ON records (kind, parent);
CREATE TABLE IF NOT EXISTS events (
    execution TEXT NOT NULL, id INTEGER NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (execution, id));
"""


def _dumps(value: Mapping[str, JSON]) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class SqliteStore:
    """One connection, serialised by a lock; WAL journal, synchronous=NORMAL."""

    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        if path.suffix != ".db":
            path.mkdir(parents=True, exist_ok=True)
            path = path / "statesim.db"
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def put(self, kind: str, key: str, record: Mapping[str, JSON], *, parent: str | None = None) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO records (kind, key, parent, data) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (kind, key) DO UPDATE SET parent = excluded.parent, data = excluded.data",
                (kind, key, parent, _dumps(record)),
            )

    def get(self, kind: str, key: str) -> Record | None:
        with self._lock:
            row = self._db.execute("SELECT data FROM records WHERE kind = ? AND key = ?", (kind, key)).fetchone()
        return json.loads(row[0]) if row else None

    def delete(self, kind: str, key: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM records WHERE kind = ? AND key = ?", (kind, key))
            if kind == "execution":
                self._db.execute("DELETE FROM events WHERE execution = ?", (key,))

    def list(self, kind: str, *, parent: str | None = None) -> Records:
        with self._lock:
            if parent is None:
                rows = self._db.execute("SELECT data FROM records WHERE kind = ? ORDER BY rowid", (kind,))
            else:
                rows = self._db.execute(
                    "SELECT data FROM records WHERE kind = ? AND parent = ? ORDER BY rowid", (kind, parent))
            return [json.loads(r[0]) for r in rows.fetchall()]

    def append_events(self, execution_arn: str, events: Iterable[Mapping[str, JSON]]) -> None:
        rows = [(execution_arn, int(e["id"]), _dumps(e)) for e in events]
        insert = "INSERT OR REPLACE INTO events (execution, id, data) VALUES (?, ?, ?)"
        with self._lock:
            if len(rows) == 1:  # autocommit: one statement, one transaction
                self._db.execute(insert, rows[0])
                return
            self._db.execute("BEGIN")
            self._db.executemany(insert, rows)
            self._db.execute("COMMIT")

    def events(self, execution_arn: str) -> Records:
        with self._lock:
            rows = self._db.execute(
                "SELECT data FROM events WHERE execution = ? ORDER BY id", (execution_arn,)).fetchall()
        return [json.loads(r[0]) for r in rows]

    def truncate_events(self, execution_arn: str, after_id: int) -> None:
        with self._lock:
            self._db.execute("DELETE FROM events WHERE execution = ? AND id > ?", (execution_arn, after_id))

    def close(self) -> None:
        with self._lock:
            self._db.close()
