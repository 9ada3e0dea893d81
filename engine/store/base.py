"""The Store protocol: where resources, executions and their history live.

Records are JSON-serialisable dicts (timestamps as epoch seconds), keyed by ``kind`` and
``key`` (an ARN); ``parent`` groups records for listing (e.g. executions of a machine).
History events are kept per execution in id order.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol, runtime_checkable

from engine.types import JSON

Record = dict[str, JSON]
Records = list[Record]


@runtime_checkable
class Store(Protocol):
    """Persistence used by the runtime and the API."""

    def put(self, kind: str, key: str, record: Mapping[str, JSON], *, parent: str | None = None) -> None:
        """Insert or replace one record (insertion order is kept on replace)."""
        ...

    def get(self, kind: str, key: str) -> Record | None:
        """The record, or None."""
        ...

    def delete(self, kind: str, key: str) -> None:
        """Remove one record (no error when absent)."""
        ...

    def list(self, kind: str, *, parent: str | None = None) -> Records:
        """Every record of ``kind`` (under ``parent`` when given) in insertion order."""
        ...

    def append_events(self, execution_arn: str, events: Iterable[Mapping[str, JSON]]) -> None:
        """Append history events (each has an int ``id``)."""
        ...

    def events(self, execution_arn: str) -> Records:
        """The execution's history in id order."""
        ...

    def truncate_events(self, execution_arn: str, after_id: int) -> None:
        """Drop every event with an id greater than ``after_id``."""
        ...

    def close(self) -> None:
        """Release resources."""
        ...


KINDS: Sequence[str] = (
    "state_machine", "version", "alias", "activity", "execution", "tags", "map_run",
)
"""The record kinds statesim keeps."""
