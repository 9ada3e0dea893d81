"""Persistence: the Store protocol, an in-memory store and the SQLite (WAL) store."""
from __future__ import annotations

from engine.store.base import Record, Records, Store
from engine.store.memory import MemoryStore
from engine.store.sqlite import SqliteStore

__all__ = ["MemoryStore", "Record", "Records", "SqliteStore", "Store"]
