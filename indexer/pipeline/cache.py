"""The facts cache: each file's FileFacts kept by (extractor version, repository, path, module, content hash)
under GRAPHDEX_HOME, so a file whose content did not change is never parsed again; and the edges the last run
wrote, so a run that changed little compares edges in memory instead of reading them all back.

One SQLite file (`<home>/facts.sqlite`, WAL) shared by the CLI and the MCP server. It is a cache: deleting it
(`graphdex cache clear`, or the file) costs a full parse next time, never correctness. Entries are trusted only
when everything they depend on matches: a new graphdex, Python minor version or data model is a new extractor
version; a file moved into a package is a new module name; an edit is a new hash.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import fields
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from .. import __version__
from ..models import Edge, FileFacts, RawBase, RawCall, RawImport, Symbol
from ..sqlite_file import IN_SLICE, SqliteFile

log = logging.getLogger(__name__)

@lru_cache(maxsize=1)
def extractor_version() -> str:
    """What cached facts depend on besides the file: graphdex, the Python minor version (ast), the data model and
    the tree-sitter query files (edited in a checkout without a new version, they would leave stale facts)."""
    shape = ";".join(f"{cls.__name__}({','.join(f.name for f in fields(cls))})"
                     for cls in (FileFacts, Symbol, RawImport, RawCall, RawBase))
    digest = hashlib.sha256(shape.encode())
    for query in sorted(resources.files("indexer.pipeline.parse").joinpath("queries").iterdir(), key=str):
        digest.update(query.read_bytes())
    return f"{__version__}/py{sys.version_info[0]}.{sys.version_info[1]}/{digest.hexdigest()[:12]}"


class FactsCache(SqliteFile):
    """Thread-safe (one connection behind a lock); several processes may share the file (SQLite WAL)."""

    SCHEMA = (
        "CREATE TABLE IF NOT EXISTS facts (repo TEXT NOT NULL, path TEXT NOT NULL, version TEXT NOT NULL,"
        " module TEXT NOT NULL, sha TEXT NOT NULL, facts BLOB NOT NULL, PRIMARY KEY (repo, path)) WITHOUT ROWID",
        "CREATE TABLE IF NOT EXISTS edges (repo TEXT PRIMARY KEY, generation TEXT NOT NULL, edges BLOB NOT NULL)",
    )

    def __init__(self, path: str | Path) -> None:
        super().__init__(path)
        self.version = extractor_version()

    # -- facts -------------------------------------------------------------------------------------------

    def facts(self, repo: str, wanted: Sequence[tuple[str, str, str]]) -> dict[str, FileFacts]:
        """Cached facts for (path, module, sha) triples that still match, by path. Unpickled a slice at a time,
        so no more than one slice of pickles is held beside the facts."""
        loaded: dict[str, FileFacts] = {}
        for found in self._matching(repo, wanted, "facts"):
            for path, blob in found.items():
                facts = _loads(blob)
                if isinstance(facts, FileFacts):
                    loaded[path] = facts
        return loaded

    def holds(self, repo: str, wanted: Sequence[tuple[str, str, str]]) -> set[str]:
        """The paths of these (path, module, sha) triples the cache holds facts for (without loading them)."""
        return {path for found in self._matching(repo, wanted, "NULL") for path in found}

    def _matching(self, repo: str, wanted: Sequence[tuple[str, str, str]], column: str) -> Iterator[dict[str, Any]]:
        """The matching entries' `column`, by path, one slice of paths at a time."""
        want = {path: (module, sha) for path, module, sha in wanted}
        paths = list(want)
        query = f"SELECT path, version, module, sha, {column} FROM facts WHERE repo = ? AND path IN ({{marks}})"
        for start in range(0, len(paths), IN_SLICE):
            with self._lock:
                rows = list(self.select_in(query, (repo,), paths[start : start + IN_SLICE]))
            yield {path: value for path, version, module, sha, value in rows
                   if version == self.version and want[path] == (module, sha)}

    def store(self, repo: str, facts: Iterable[FileFacts]) -> None:
        """Keep these facts, replacing what was kept for their paths; pickled and written a slice at a time (one
        transaction), so no more than one slice of pickles is held at once."""
        with self._lock, self._conn:
            for part in _slices(facts, IN_SLICE):
                rows = [(repo, f.path, self.version, f.module, f.sha,
                         pickle.dumps(f, protocol=pickle.HIGHEST_PROTOCOL)) for f in part]
                self._conn.executemany("INSERT OR REPLACE INTO facts VALUES (?, ?, ?, ?, ?, ?)", rows)

    def forget(self, repo: str, keep: Iterable[str] | None = None) -> None:
        """Drop a repository's entries (all of them, or those whose path is not in `keep`)."""
        with self._lock, self._conn:
            if keep is None:
                self._conn.execute("DELETE FROM facts WHERE repo = ?", (repo,))
                self._conn.execute("DELETE FROM edges WHERE repo = ?", (repo,))
                return
            kept = set(keep)
            stored = [p for (p,) in self._conn.execute("SELECT path FROM facts WHERE repo = ?", (repo,))]
            self._conn.executemany("DELETE FROM facts WHERE repo = ? AND path = ?",
                                   [(repo, p) for p in stored if p not in kept])

    # -- the last run's edges ------------------------------------------------------------------------------

    def edges(self, repo: str, generation: str | None) -> set[Edge] | None:
        """The edges the last run of `repo` wrote, if that run's generation is the graph's (else None)."""
        if not generation:
            return None
        with self._lock:
            row = self._conn.execute("SELECT generation, edges FROM edges WHERE repo = ?", (repo,)).fetchone()
        if row is None or row[0] != generation:
            return None
        edges = _loads(row[1])
        return edges if isinstance(edges, set) else None

    def store_edges(self, repo: str, generation: str, edges: set[Edge]) -> None:
        blob = pickle.dumps(edges, protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock, self._conn:
            self._conn.execute("INSERT OR REPLACE INTO edges VALUES (?, ?, ?)", (repo, generation, blob))


def _loads(blob: bytes) -> object:
    """Unpickle an entry graphdex wrote (the file lives in the user's private GRAPHDEX_HOME)."""
    try:
        return pickle.loads(blob)  # noqa: S301 - our own cache, in a 0700 folder
    except Exception as exc:  # noqa: BLE001 - a damaged entry is a cache miss
        log.debug("unreadable cache entry: %s", exc)
        return None


def _slices(items: Iterable[FileFacts], size: int) -> Iterator[list[FileFacts]]:
    part: list[FileFacts] = []
    for item in items:
        part.append(item)
        if len(part) == size:
            yield part
            part = []
    if part:
        yield part


def cache_path(home: Path) -> Path:
    return Path(home) / "facts.sqlite"


def forget_facts(home: Path, repo: str | None = None) -> None:
    """Drop one repository's cached facts and edges, or the whole cache (its file) when `repo` is None."""
    path = cache_path(home)
    if repo is None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    elif path.exists():
        with FactsCache(path) as cache:
            cache.forget(repo)
