"""Writes through a GraphStore, in bounded transactions: file nodes, edges, repository bookkeeping, chunks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any

from ..models import EXTERNAL_MODULE, Edge, FileFacts, Rel
from . import statements as sql
from .graph import GraphStore, chunked


def ensure_schema(store: GraphStore) -> None:
    store.run_schema(store.dialect.schema_statements())


def upsert_repository(store: GraphStore, repo: str, root: str) -> None:
    store.execute(sql.UPSERT_REPOSITORY, repo=repo, root=root)


def stamp_repository(store: GraphStore, repo: str, summary: dict[str, Any]) -> None:
    # microseconds: two runs never share a stamp, so answers cached by it (answers/facts.py) see each run
    now = datetime.now(timezone.utc).isoformat(timespec="microseconds")
    store.execute(sql.STAMP_REPOSITORY, repo=repo, now=now, summary=summary)


def write_files(store: GraphStore, repo: str, facts: list[FileFacts], known: frozenset[str] = frozenset()) -> int:
    """Replace the nodes (and CONTAINS tree) of a batch of changed files in one transaction; nodes written.
    `known`: the paths the graph holds nodes of (others are new: nothing to delete)."""
    return store.write(sql.write_files, repo, facts, known)


def delete_files(store: GraphStore, repo: str, paths: Sequence[str]) -> None:
    for batch in chunked(paths, 200):
        store.write(sql.delete_paths, repo, list(batch))


def add_external_modules(store: GraphStore, repo: str, modules: dict[str, str], batch_size: int,
                         present: set[str]) -> None:
    """Create the ExternalModule nodes not in the graph yet (few: one per imported outside module)."""
    rows = [
        {"props": {"id": node_id, "repo": repo, "name": name, "qualified_name": name, "kind": EXTERNAL_MODULE}}
        for node_id, name in sorted(modules.items()) if node_id not in present
    ]
    for batch in chunked(rows, batch_size):
        store.write(sql.create_nodes, EXTERNAL_MODULE, list(batch))


def apply_edges(store: GraphStore, add: Iterable[Edge], remove: Iterable[Edge], batch_size: int,
                writers: int) -> None:
    """Delete, then create, edges in batches; over `writers` parallel sessions where the server scales them."""
    _in_parallel(store, sql.delete_edges, sql.edge_rows(remove), batch_size, writers)
    _in_parallel(store, sql.create_edges, sql.edge_rows(add), batch_size, writers)


def _in_parallel(store: GraphStore, work: Any, rows: dict[Rel, list[dict[str, str]]], size: int,
                 writers: int) -> None:
    jobs = [(rel, batch) for rel, items in rows.items() for batch in chunked(items, size)]
    if len(jobs) <= 1 or writers <= 1:
        for rel, batch in jobs:
            store.write(work, rel, batch)
        return
    with ThreadPoolExecutor(max_workers=writers, thread_name_prefix="graphdex-write") as pool:
        for future in [pool.submit(store.write, work, rel, batch) for rel, batch in jobs]:
            future.result()


def finish_files(store: GraphStore, repo: str, facts: Sequence[FileFacts], batch_size: int) -> None:
    """Link changed files to the repository and stamp their hashes: the last write of a run, so an interrupted
    run leaves those files looking changed and the next run redoes them."""
    rows = [{"id": f.file_id, "sha": f.sha} for f in facts]
    store.execute_batches(sql.FINISH_FILES, "rows", rows, batch_size, repo=repo)


def set_unresolved_calls(store: GraphStore, rows: list[dict[str, Any]], batch_size: int) -> None:
    """Set (or, with None, remove) nodes' `unresolved_calls`: rows {"id", "calls"}."""
    store.execute_batches(sql.SET_UNRESOLVED_CALLS, "rows", rows, batch_size)


def unstamp_files(store: GraphStore, repo: str, paths: Sequence[str]) -> None:
    """Forget these files' hashes, so the next run treats them as changed (and retries them)."""
    store.execute_batches(sql.UNSTAMP_FILES, "paths", list(paths), 1000, repo=repo)


def remove_orphan_external_modules(store: GraphStore, repo: str) -> None:
    store.execute(sql.REMOVE_ORPHAN_EXTERNAL_MODULES, repo=repo)


def delete_repository(store: GraphStore, repo: str, batch_size: int = 5000) -> int:
    """Remove a repository and everything in it (its embedding chunks and lease too), in bounded batches."""
    store.delete_batched("MATCH (n:Chunk) WHERE n.repo = $repo", batch_size, repo=repo)
    removed = store.delete_batched("MATCH (n:Code) WHERE n.repo = $repo", batch_size, repo=repo)
    store.execute(sql.DELETE_REPOSITORY, repo=repo)
    store.execute(sql.DELETE_LEASE, repo=repo)
    return removed


def delete_chunks(store: GraphStore, repo: str, paths: Sequence[str]) -> None:
    store.execute_batches(sql.DELETE_CHUNKS, "paths", list(paths), 200, repo=repo)


def write_chunks(store: GraphStore, rows: list[dict[str, Any]], batch_size: int) -> None:
    """Create Chunk nodes linked from their owners: rows {"owner": id, "props": {...}}. Owners that are gone
    (a file changed meanwhile) get none."""
    store.execute_batches(sql.CREATE_CHUNKS, "rows", rows, batch_size)
