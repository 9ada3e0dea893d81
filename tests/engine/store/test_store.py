"""Both stores behave alike (the Store protocol); SQLite survives reopening."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.store import MemoryStore, SqliteStore, Store


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made: Store = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "data")
    yield made
    made.close()


def test_implements_protocol(store: Store) -> None:
    assert isinstance(store, Store)


def test_put_get_replace_keeps_order(store: Store) -> None:
    store.put("state_machine", "b", {"name": "b"})
    store.put("state_machine", "a", {"name": "a"})
    store.put("state_machine", "b", {"name": "b2"})
    assert store.get("state_machine", "b") == {"name": "b2"}
    assert store.get("state_machine", "zzz") is None
    assert [r["name"] for r in store.list("state_machine")] == ["b2", "a"]


def test_records_are_copies(store: Store) -> None:
    record = {"nested": {"x": 1}}
    store.put("activity", "k", record)
    record["nested"]["x"] = 2
    got = store.get("activity", "k")
    assert got == {"nested": {"x": 1}}
    assert got is not None
    got["nested"]["x"] = 3
    assert store.get("activity", "k") == {"nested": {"x": 1}}


def test_list_by_parent_and_delete(store: Store) -> None:
    store.put("execution", "e1", {"n": 1}, parent="m1")
    store.put("execution", "e2", {"n": 2}, parent="m2")
    store.put("execution", "e3", {"n": 3}, parent="m1")
    assert [r["n"] for r in store.list("execution", parent="m1")] == [1, 3]
    store.append_events("e1", [{"id": 1, "type": "ExecutionStarted"}])
    store.delete("execution", "e1")
    store.delete("execution", "missing")
    assert [r["n"] for r in store.list("execution")] == [2, 3]
    assert store.events("e1") == []


def test_events_in_id_order_and_truncate(store: Store) -> None:
    store.append_events("x", [{"id": 1, "type": "A"}, {"id": 2, "type": "B"}])
    store.append_events("x", [{"id": 3, "type": "C", "d": {"k": [1, "é"]}}])
    assert [e["type"] for e in store.events("x")] == ["A", "B", "C"]
    assert store.events("x")[2]["d"] == {"k": [1, "é"]}
    store.truncate_events("x", 1)
    assert [e["id"] for e in store.events("x")] == [1]
    assert store.events("unknown") == []


def test_sqlite_is_durable_and_uses_wal(tmp_path: Path) -> None:
    first = SqliteStore(tmp_path / "d")
    first.put("activity", "a", {"name": "a"})
    first.append_events("e", [{"id": 1, "type": "ExecutionStarted"}])
    mode = first._db.execute("PRAGMA journal_mode").fetchone()[0]
    first.close()
    assert mode == "wal"
    second = SqliteStore(tmp_path / "d")
    assert second.get("activity", "a") == {"name": "a"}
    assert second.events("e") == [{"id": 1, "type": "ExecutionStarted"}]
    assert (tmp_path / "d" / "statesim.db").exists()
    second.close()
