"""An embedded local knowledge base: the text/markdown files of a folder in SQLite FTS5.

``search(folder, query, n)`` returns Retrieve's ``retrievalResults`` shape
(``content.text``, ``location`` with an S3-like URI of the file, ``score`` in 0..1: the share of query words found).
Indexes are built on first use per folder and cached in memory.
"""
from __future__ import annotations

import re
import sqlite3
import threading
from pathlib import Path

from engine.types import JSON

_SUFFIXES = (".txt", ".md", ".markdown", ".rst", ".text")
_CHUNK = 1500
_lock = threading.Lock()
_indexes: dict[Path, sqlite3.Connection] = {}


def _chunks(text: str) -> list[str]:
    parts = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    chunks: list[str] = []
    for part in parts:
        if chunks and len(chunks[-1]) + len(part) < _CHUNK:
            chunks[-1] += "\n\n" + part
        else:
            chunks.append(part)
    return chunks


def _index(folder: Path) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:", check_same_thread=False)
    db.execute("CREATE VIRTUAL TABLE docs USING fts5(path UNINDEXED, body)")
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix.lower() in _SUFFIXES:
            for chunk in _chunks(path.read_text(encoding="utf-8", errors="replace")):
                db.execute("INSERT INTO docs (path, body) VALUES (?, ?)", (path.relative_to(folder).as_posix(), chunk))
    db.commit()
    return db


def _match_query(query: str) -> str:
    words = re.findall(r"\w+", query.lower())
    return " OR ".join(f'"{w}"' for w in words)


def search(folder: Path, query: str, limit: int = 5) -> list[JSON]:
    """The best ``limit`` chunks of ``folder`` for ``query`` as retrievalResults."""
    folder = folder.resolve()
    with _lock:
        db = _indexes.get(folder)
        if db is None:
            db = _indexes[folder] = _index(folder)
        match = _match_query(query)
        if not match:
            return []
        rows = db.execute("SELECT path, body, bm25(docs) FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT ?",
                          (match, limit)).fetchall()
    return [{"content": {"text": body, "type": "TEXT"},
             "location": {"type": "S3", "s3Location": {"uri": f"s3://{folder.name}/{path}"}},
             "score": _score(query, body)}
            for path, body, _rank in rows]


def _score(query: str, body: str) -> float:
    """The share of the query's distinct words the chunk contains (bm25 orders the results)."""
    words = set(re.findall(r"\w+", query.lower()))
    found = words & set(re.findall(r"\w+", body.lower()))
    return round(len(found) / len(words), 4) if words else 0.0
