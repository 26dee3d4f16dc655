"""One SQLite file under GRAPHDEX_HOME shared by the CLI, the MCP server and their threads: the base of the
facts cache and the embedding cache (both caches: deleting the file costs work, never correctness)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing_extensions import Self

IN_SLICE = 500  # values per `IN (...)`, well under SQLite's bound-parameter limit


class SqliteFile:
    """One connection behind a lock (SQLite serialises writers anyway, and every statement is short);
    WAL so that other processes may read and write the same file meanwhile."""

    SCHEMA: tuple[str, ...] = ()  # CREATE TABLE IF NOT EXISTS statements

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30.0)
        with self._lock, self._conn:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            for statement in self.SCHEMA:
                self._conn.execute(statement)

    def select_in(self, query: str, head: Sequence[Any], values: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
        """Rows of `query` (whose one `{marks}` is the IN list) for all `values`, a slice at a time; `head`
        are the parameters before the list. The caller holds the lock."""
        for start in range(0, len(values), IN_SLICE):
            part = values[start : start + IN_SLICE]
            yield from self._conn.execute(query.format(marks=",".join("?" * len(part))), (*head, *part))

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
