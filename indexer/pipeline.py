"""One index run: discover -> plan -> parse (pool) -> resolve -> write -> embed, reporting progress and a Summary.

Every stage is a module of its own; this file only sequences them, times them and keeps the books.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from threading import Event
from typing import Any

from . import runtime
from .connect import open_store
from .discover import discover
from .embed import EmbeddingSettings
from .errors import RepositoryError
from .models import Discovery, FileFacts, SkippedFile
from .parse import module_names
from .pool import (
    BatchResult,
    ParseTask,
    batches,
    bounded_map,
    default_in_flight,
    gc_paused,
    make_executor,
    process_batch,
)
from .resolve import resolve
from .settings import Settings
from .store import GraphStore

log = logging.getLogger(__name__)
REPORTED_PROBLEMS = 20  # skipped/failed files listed by path in a summary; the counts are always complete


@dataclass(frozen=True)
class Progress:
    phase: str
    done: int
    total: int
    message: str = ""
    files_per_second: float = 0.0


ProgressCallback = Callable[[Progress], None]


@dataclass
class Summary:
    repo: str
    root: str
    files_indexed: int = 0  # parsed this run (changed and unchanged)
    files_changed: int = 0  # new or modified: their nodes were (re)written
    files_unchanged: int = 0
    files_deleted: int = 0
    files_skipped: int = 0
    files_failed: int = 0
    syntax_errors: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    nodes: dict[str, int] = field(default_factory=dict)
    relationships: dict[str, int] = field(default_factory=dict)
    edges_added: int = 0
    edges_removed: int = 0
    unresolved_calls: int = 0
    unresolved_bases: int = 0
    call_sites: dict[str, int] = field(default_factory=dict)  # resolved, unresolved and why (Resolution)
    phases: dict[str, float] = field(default_factory=dict)  # wall seconds per phase
    worker_seconds: dict[str, float] = field(default_factory=dict)  # summed over workers, within `parse`
    wall_seconds: float = 0.0
    files_per_second: float = 0.0
    executor: str = ""
    executor_reason: str = ""
    workers: int = 0
    pool_size: int = 0
    free_threading_build: bool = False
    gil_enabled: bool = True
    gil_enabled_at_start: bool = True
    gil_cause: str | None = None
    cancelled: bool = False
    dry_run: bool = False
    embeddings: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Clock:
    def __init__(self, summary: Summary) -> None:
        self.summary = summary

    def phase(self, name: str) -> _Timer:
        return _Timer(self.summary, name)


class _Timer:
    """Times a phase, then checks the GIL is still as it was at the start (an import may have turned it on)."""

    def __init__(self, summary: Summary, name: str) -> None:
        self.summary, self.name = summary, name

    def __enter__(self) -> None:
        self.started = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        phases = self.summary.phases
        phases[self.name] = round(phases.get(self.name, 0.0) + time.perf_counter() - self.started, 4)
        runtime.check_gil(f"after the {self.name} phase", self.summary.gil_enabled_at_start, log)


def repo_name_for(root: Path, name: str | None) -> str:
    repo = name or root.name or "root"
    if ":" in repo or not repo.strip():
        raise RepositoryError(f"repository name {repo!r} must be non-empty and contain no ':'")
    return repo


def run(
    root: str | os.PathLike[str],
    settings: Settings,
    *,
    repo: str | None = None,
    store: GraphStore | None = None,
    progress: ProgressCallback | None = None,
    cancel: Event | None = None,
    dry_run: bool = False,
    embeddings: EmbeddingSettings | None = None,
    embedding_cache: str | os.PathLike[str] | None = None,
) -> Summary:
    """Index the repository at `root`. With `dry_run`, parse and resolve without a graph server.

    `embeddings` defaults to EmbeddingSettings.from_env(); `embedding_cache` to <home>/embeddings.sqlite."""
    started = time.perf_counter()
    runtime.watch_gil()
    gil_at_start = runtime.is_gil_enabled()
    path = Path(root).expanduser()
    if not path.is_dir():
        raise RepositoryError(f"{root}: not a directory" if path.exists() else f"{root}: no such directory")
    path = path.resolve()
    summary = Summary(repo=repo_name_for(path, repo), root=str(path), gil_enabled_at_start=gil_at_start,
                      workers=settings.workers, pool_size=settings.connection_pool_size, dry_run=dry_run)
    embedding = None if dry_run else (embeddings or EmbeddingSettings.from_env())
    own_store = store is None and not dry_run
    if own_store:
        store = open_store(settings)
    try:
        _Run(summary, settings, None if dry_run else store, progress, cancel or Event(), embedding,
             embedding_cache).execute()
    finally:
        if own_store and store is not None:
            store.close()
    summary.wall_seconds = round(time.perf_counter() - started, 4)
    parse_seconds = summary.phases.get("parse", 0.0)
    summary.files_per_second = round(summary.files_indexed / parse_seconds, 1) if parse_seconds else 0.0
    summary.free_threading_build = runtime.is_free_threading_available()
    summary.gil_enabled = runtime.check_gil("at the end of the run", gil_at_start, log)
    summary.gil_cause = runtime.gil_cause()
    return summary


class _Run:
    def __init__(self, summary: Summary, settings: Settings, store: GraphStore | None,
                 progress: ProgressCallback | None, cancel: Event, embedding: EmbeddingSettings | None = None,
                 embedding_cache: str | os.PathLike[str] | None = None) -> None:
        self.summary, self.settings, self.store, self.cancel = summary, settings, store, cancel
        self.embedding, self.embedding_cache = embedding, embedding_cache
        self.report = progress or (lambda p: None)
        self.clock = _Clock(summary)
        self.repo = summary.repo
        self.unwritten: set[str] = set()  # changed files whose nodes failed to write: not stamped as done

    def execute(self) -> None:
        with self.clock.phase("discover"):
            self.report(Progress("discover", 0, 0, f"walking {self.summary.root}"))
            found = discover(self.summary.root, max_file_size=self.settings.max_file_size)
            self._note_skipped(found.skipped)
        with self.clock.phase("plan"):
            known, changed = self._plan(found)
        if self._stopped():
            return
        with self.clock.phase("parse"):
            facts = self._parse(found, changed)
        if self._stopped():
            return
        with self.clock.phase("resolve"):
            self.report(Progress("resolve", 0, 1, "resolving calls, imports and bases"))
            resolution = resolve(self.repo, facts)
            self.report(Progress("resolve", 1, 1, f"{len(resolution.edges)} relationships resolved"))
            self.summary.unresolved_calls = resolution.unresolved_calls
            self.summary.unresolved_bases = resolution.unresolved_bases
            self.summary.call_sites = resolution.call_sites
        if self.store is None:
            self._count_facts(facts, resolution)
            return
        with self.clock.phase("write"):
            deleted = sorted(set(known) - {f.path for f in found.files})
            self._write(facts, changed, deleted, resolution, fresh=not known)
        if self.embedding is not None and not self._stopped():
            self._embed(facts, changed)
        with self.clock.phase("count"):
            self.summary.nodes, self.summary.relationships = self.store.counts(self.repo)
            self.store.stamp_repository(self.repo, {"files": self.summary.files_indexed})

    def _stopped(self) -> bool:
        if self.cancel.is_set():
            self.summary.cancelled = True
        return self.summary.cancelled

    def _note_skipped(self, skipped: list[SkippedFile]) -> None:
        self.summary.files_skipped = len(skipped)
        self.summary.skipped = [{"path": s.path, "reason": s.reason} for s in skipped[:REPORTED_PROBLEMS]]

    def _plan(self, found: Discovery) -> tuple[dict[str, str | None], set[str]]:
        """Which files' nodes must be (re)written: those whose content hash differs from the graph's."""
        if self.store is None:
            return {}, {f.path for f in found.files}
        self.store.ensure_schema()
        existing = self.store.repository(self.repo)
        if existing and existing.get("root") not in (None, self.summary.root):
            raise RepositoryError(
                f"repository name {self.repo!r} already belongs to {existing['root']}; "
                "choose another with --name"
            )
        self.store.upsert_repository(self.repo, self.summary.root)
        known = self.store.file_hashes(self.repo)
        changed = {f.path for f in found.files if known.get(f.path) != f.sha}
        self.summary.files_changed = len(changed)
        self.summary.files_unchanged = len(found.files) - len(changed)
        return known, changed

    def _parse(self, found: Discovery, changed: set[str]) -> list[FileFacts]:
        names = module_names([f.path for f in found.files])
        tasks = [ParseTask(f.path, f.abspath, names[f.path], f.sha, f.path in changed) for f in found.files]
        s = self.settings
        kind, reason = runtime.choose_executor(s.executor, len(tasks), s.workers, s.serial_threshold)
        workers = 1 if kind == "serial" else s.workers
        self.summary.executor, self.summary.executor_reason, self.summary.workers = kind, reason, workers
        facts: list[FileFacts] = []
        done, total, started = 0, len(tasks), time.perf_counter()
        self.report(Progress("parse", 0, total, f"parsing {total} files ({kind}, {workers} workers)"))
        with make_executor(kind, workers, self.store) as executor, gc_paused():
            work = batches(tasks, workers, self.repo)
            for batch, future in bounded_map(executor, process_batch, work, default_in_flight(workers),
                                             self.cancel):
                done += len(batch.tasks)
                self._collect(batch.tasks, future, facts)
                rate = done / max(time.perf_counter() - started, 1e-9)
                self.report(Progress("parse", done, total, batch.tasks[-1].path, rate))
        facts.sort(key=lambda f: f.path)
        self.summary.files_indexed = len(facts)
        self.summary.syntax_errors = sum(1 for f in facts if f.error)
        return facts

    def _collect(self, tasks: list[ParseTask], future: Any, facts: list[FileFacts]) -> None:
        try:
            result: BatchResult = future.result()
        except Exception as exc:  # noqa: BLE001 - a batch that failed as a whole (e.g. its write)
            log.warning("a batch of %d files failed: %s", len(tasks), exc)
            result = BatchResult(facts=[], failed=[(t.path, f"{type(exc).__name__}: {exc}") for t in tasks])
        facts.extend(result.facts)
        self.unwritten.update(result.unwritten)
        for path, reason in result.failed:
            self.summary.files_failed += 1
            if len(self.summary.failed) < REPORTED_PROBLEMS:
                self.summary.failed.append({"path": path, "reason": reason})
        busy = self.summary.worker_seconds
        busy["extract"] = round(busy.get("extract", 0.0) + result.extract_seconds, 4)
        busy["write_nodes"] = round(busy.get("write_nodes", 0.0) + result.write_seconds, 4)

    def _write(self, facts: list[FileFacts], changed: set[str], deleted: list[str], resolution: Any,
               fresh: bool) -> None:
        store, s = self.store, self.settings
        assert store is not None
        self.report(Progress("write", 0, 3, "writing relationships"))
        if deleted:
            store.delete_files(self.repo, deleted)
            self.summary.files_deleted = len(deleted)
        store.add_external_modules(self.repo, resolution.external_modules, s.batch_size)
        existing = set() if fresh else store.existing_edges(self.repo)
        desired = set(resolution.edges)
        add, remove = desired - existing, existing - desired
        self.report(Progress("write", 1, 3, f"+{len(add)} / -{len(remove)} relationships"))
        writers = s.workers if store.dialect.parallel_writes else 1
        store.apply_edges(sorted(add, key=_edge_key), sorted(remove, key=_edge_key), s.batch_size, writers)
        self.summary.edges_added, self.summary.edges_removed = len(add), len(remove)
        if self.cancel.is_set():
            self.summary.cancelled = True
            return
        done = [f for f in facts if f.path in changed and f.path not in self.unwritten]
        store.finish_files(self.repo, done, s.batch_size)
        store.remove_orphan_external_modules(self.repo)
        self.report(Progress("write", 3, 3, "done"))

    def _embed(self, facts: list[FileFacts], changed: set[str]) -> None:
        from . import vectors

        assert self.embedding is not None and self.store is not None
        if not self.embedding.enabled:
            self.summary.embeddings = vectors.disabled_summary(self.embedding)
            return
        with self.clock.phase("embed"):
            def report(done: int, total: int, message: str) -> None:
                self.report(Progress("embed", done, total, message))

            outcome = vectors.embed_files(
                self.store, self.repo, self.summary.root, facts, changed - self.unwritten, self.embedding,
                self.settings, cache_path=self.embedding_cache, progress=report, cancel=self.cancel,
            )
        self.summary.embeddings = outcome.summary()
        self.summary.cancelled = self.summary.cancelled or outcome.cancelled
        for path, reason in sorted(outcome.failed_files.items()):
            self.summary.files_failed += 1
            if len(self.summary.failed) < REPORTED_PROBLEMS:
                self.summary.failed.append({"path": path, "reason": reason})

    def _count_facts(self, facts: list[FileFacts], resolution: Any) -> None:
        """Counts for a dry run, from the facts instead of the graph."""
        edges = resolution.edges
        nodes: dict[str, int] = {"Repository": 1, "File": len(facts), "Module": len(facts),
                                 "ExternalModule": len(resolution.external_modules)}
        for f in facts:
            for sym in f.symbols:
                nodes[sym.kind] = nodes.get(sym.kind, 0) + 1
        rels: dict[str, int] = {"CONTAINS": sum(2 + len(f.symbols) for f in facts)}
        for e in edges:
            rels[e.type] = rels.get(e.type, 0) + 1
        self.summary.nodes, self.summary.relationships = dict(sorted(nodes.items())), dict(sorted(rels.items()))


def _edge_key(edge: Any) -> tuple[str, str, str]:
    return (edge.type, edge.source, edge.target)
