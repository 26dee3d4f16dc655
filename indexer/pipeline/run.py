"""One index run: discover -> plan -> parse (+ node writes) -> resolve -> write edges -> embed -> count.

This module only sequences the stages, times them, and builds the Summary from what they return. Writes happen
while the run holds the repository's lease (one run per repository at a time, across processes and machines).
"""

from __future__ import annotations

import json
import logging
import os
import stat
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from threading import Event
from typing import Any

from .. import runtime
from ..embeddings.provider import EmbeddingSettings, EmbedProgress
from ..errors import RepositoryBusyError, RepositoryError
from ..models import (
    EXTERNAL_MODULE,
    FILE,
    MODULE,
    REPOSITORY,
    Discovery,
    Edge,
    FailedFile,
    FileFacts,
    IndexState,
    Plan,
    Progress,
    Resolution,
    Summary,
    listed,
)
from ..settings import Settings
from ..store import GraphStore, lease, open_store, reads, writes
from .cache import FactsCache, cache_path
from .discover import discover
from .parse.languages import PYTHON, without_grammar
from .parse.stage import ParseOutcome, module_names_for, parse
from .plan import compare, plan
from .resolve import resolve
from .resolve_treesitter import LanguageCounts, merge, resolve_other
from .write import EdgeWrites, NodeWriter, NodeWrites, finish, node_ids, write_edges, write_unresolved_calls

log = logging.getLogger(__name__)

ProgressCallback = Callable[[Progress], None]


def repo_name_for(root: Path, name: str | None) -> str:
    repo = name or root.name or "root"
    if ":" in repo or not repo.strip():
        raise RepositoryError(f"repository name {repo!r} must be non-empty and contain no ':'")
    return repo


def check_root(root: str | os.PathLike[str]) -> Path:
    """The repository folder, absolute and resolved; RepositoryError with the reason when it cannot be one."""
    try:  # an explicit stat: Path.is_dir() hides ENAMETOOLONG and friends as False on Python 3.14
        path = Path(root).expanduser()
        mode = path.stat().st_mode
        resolved = path.resolve()
    except FileNotFoundError:
        raise RepositoryError(f"{root}: no such directory") from None
    except (OSError, ValueError) as exc:  # ENAMETOOLONG, a NUL in the path, a loop of symlinks
        raise unusable_path(f"{str(root)[:200]}:", exc) from None
    if not stat.S_ISDIR(mode):
        raise RepositoryError(f"{root}: not a directory")
    return resolved


def unusable_path(shown: str, exc: OSError | ValueError) -> RepositoryError:
    """'<path> is not a usable path (<reason>)', the reason worded alike on every Python version."""
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).rpartition(": ")[2]
    return RepositoryError(f"{shown} not a usable path ({reason})")


@dataclass
class _Outputs:
    """What the stages returned; None for a stage that did not run (dry run, cancelled)."""

    found: Discovery | None = None
    plan: Plan | None = None
    modules: dict[str, str] = field(default_factory=dict)  # path -> dotted module name
    parsed: ParseOutcome | None = None  # the files parsed this run
    facts: list[FileFacts] = field(default_factory=list)  # every file's: parsed now or from the facts cache
    reused: IndexState | None = None  # nothing changed: the last complete run's figures stand
    files_in_index: int | None = None  # when the facts were not loaded (nothing changed)
    skip_embedding: bool = False  # this run was told not to embed
    nodes: NodeWrites | None = None
    resolution: Resolution | None = None
    edges: EdgeWrites | None = None
    embedded: Any = None
    counts: tuple[dict[str, int], dict[str, int]] | None = None
    cancelled: bool = False
    missing_grammars: dict[str, str] | None = None  # language -> why its files were skipped
    calls_by_language: dict[str, LanguageCounts] | None = None


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
    owner: str = "graphdex index",
    embed: bool = True,
) -> Summary:
    """Index the repository at `root`. With `dry_run`, parse and resolve without a graph server.

    `embeddings` defaults to EmbeddingSettings.from_env(); `embedding_cache` to <home>/embeddings.sqlite.
    `owner` names this run to another run that finds the repository busy. `embed=False` skips embedding for this
    run (the next run that embeds catches its files up)."""
    started = time.perf_counter()
    runtime.watch_gil()
    path = check_root(root)
    name = repo_name_for(path, repo)
    clock = _Clock(runtime.is_gil_enabled())
    report = progress or (lambda p: None)
    cancel = cancel or Event()
    embedding = None if dry_run else (embeddings or EmbeddingSettings.from_env())
    out = _Outputs(skip_embedding=not embed)
    cache_file = ":memory:" if dry_run else cache_path(settings.home)  # a dry run leaves nothing behind
    with _store(store, settings, dry_run) as graph, FactsCache(cache_file) as facts_cache:
        stages = _Stages(name, str(path), settings, graph, clock, report, cancel, out, facts_cache)
        if graph is None:
            stages.dry()
        else:
            writes.ensure_schema(graph)
            try:
                with lease.held(graph, name, lease.describe_owner(owner), settings.if_busy, settings.busy_timeout,
                                on_wait=_Waiting(report, name), cancelled=cancel.is_set) as held:
                    stages.full(held, embedding, embedding_cache)
            except RepositoryBusyError:
                if not cancel.is_set():
                    raise
                out.cancelled = True  # cancelled while waiting for another run
    return _summary(name, str(path), settings, out, clock, dry_run, time.perf_counter() - started)


@contextmanager
def _store(store: GraphStore | None, settings: Settings, dry_run: bool) -> Iterator[GraphStore | None]:
    if dry_run:
        yield None
    elif store is not None:
        yield store
    else:
        with open_store(settings) as own:
            yield own


class _Stages:
    """The stages in order; each stores its output in `out` and returns early when the run is cancelled."""

    def __init__(self, repo: str, root: str, settings: Settings, store: GraphStore | None, clock: _Clock,
                 report: ProgressCallback, cancel: Event, out: _Outputs, facts_cache: FactsCache) -> None:
        self.repo, self.root, self.settings, self.store = repo, root, settings, store
        self.clock, self.report, self.cancel, self.out = clock, report, cancel, out
        self.facts_cache = facts_cache

    def dry(self) -> None:
        found = self._discover()
        self.out.plan = compare(found, {})
        self.out.modules = module_names_for([f.path for f in found.files])
        if not self._stopped():
            self._parse(None)
        if not self._stopped():
            self._resolve()

    def full(self, held: lease.Lease, embedding: EmbeddingSettings | None, embed_cache: Any) -> None:
        store = self.store
        assert store is not None
        found = self._discover()
        with self.clock.phase("plan"):
            self.out.plan = plan(store, self.repo, self.root, found)
            self.out.modules = module_names_for([f.path for f in found.files])
            unchanged = [(f.path, self.out.modules[f.path], f.sha) for f in found.files
                         if f.path in self.out.plan.unchanged]
            held_facts = self.facts_cache.holds(self.repo, unchanged)
        if self._stopped():
            return
        previous = self._previous_edges(self.out.plan)
        if self.out.plan.nothing_changed and previous is not None and len(held_facts) == len(found.files):
            self._nothing_to_do(unchanged, embedding, embed_cache)
            return
        writes.upsert_repository(store, self.repo, self.root)  # forgets the last run's state first
        writer = NodeWriter(store, self.repo, self.settings.batch_size, self._writers(), held, self.out.plan.known)
        try:
            self._parse(writer, self._load_facts(unchanged))
        except BaseException:
            writer.abandon()
            raise
        if self._stopped():
            writer.abandon()
            return
        with self.clock.phase("write"):
            self.out.nodes = writer.close()
        self._resolve()
        if self._stopped():
            return
        self._write_edges(held, previous)
        if embedding is not None and not self._stopped():
            self._embed(embedding, embed_cache)
        if not self._stopped():
            self._finish(found)

    def _load_facts(self, unchanged: list[tuple[str, str, str]]) -> dict[str, FileFacts]:
        """Facts of unchanged files from the facts cache: they need no parsing."""
        with self.clock.phase("load"):
            return self.facts_cache.facts(self.repo, unchanged) if unchanged else {}

    def _previous_edges(self, planned: Plan) -> set[Edge] | None:
        """The last complete run's edges, when the facts cache holds them for the graph's generation."""
        state = planned.state
        if state is None or state.version != self.facts_cache.version:
            return None
        return self.facts_cache.edges(self.repo, state.generation)

    def _nothing_to_do(self, unchanged: list[tuple[str, str, str]], embedding: EmbeddingSettings | None,
                       embed_cache: Any) -> None:
        """No file changed since the last complete run, whose edges and figures stand: nothing is parsed,
        resolved or written. Embeddings still catch up on files that have none (then facts are loaded)."""
        assert self.store is not None and self.out.plan is not None and self.out.plan.state is not None
        self.out.reused = self.out.plan.state
        self.out.nodes = NodeWrites()
        self.out.files_in_index = len(unchanged)
        if embedding is not None and embedding.enabled and not self.out.skip_embedding and not self._stopped():
            self.out.facts = sorted(self._load_facts(unchanged).values(), key=lambda f: f.path)
            self._embed(embedding, embed_cache)
        elif embedding is not None:
            self._embed(embedding, embed_cache)  # records that embeddings are off, and why
        with self.clock.phase("count"):
            writes.stamp_repository(self.store, self.repo, {"files": len(unchanged)})

    def _finish(self, found: Discovery) -> None:
        """Count, then stamp the repository with a new generation naming the edges now in the graph."""
        store, out = self.store, self.out
        assert store is not None and out.resolution is not None
        with self.clock.phase("count"):
            out.counts = reads.counts(store, self.repo)
            generation = uuid.uuid4().hex
            state = IndexState(generation, self.facts_cache.version, *out.counts, out.resolution.unresolved_calls,
                               out.resolution.unresolved_bases, dict(out.resolution.call_sites),
                               _graph_figures(_languages(out)))
            self.facts_cache.store_edges(self.repo, generation, set(out.resolution.edges))
            writes.stamp_repository(store, self.repo, {"files": len(found.files),
                                                       "state": json.dumps(asdict(state))})

    def _discover(self) -> Discovery:
        with self.clock.phase("discover"):
            self.report(Progress("discover", 0, 0, f"walking {self.root}"))
            found = discover(self.root, max_file_size=self.settings.max_file_size)
            self.out.found, self.out.missing_grammars = without_grammar(found, self.settings.grammars)
        return self.out.found

    def _parse(self, writer: NodeWriter | None, cached: dict[str, FileFacts] | None = None) -> None:
        """Parse what the facts cache does not hold (and every file to rewrite); keep the new facts in it."""
        found, planned, cached = self.out.found, self.out.plan, cached or {}
        assert found is not None and planned is not None
        todo = [f for f in found.files if f.path in planned.to_write or f.path not in cached]
        with self.clock.phase("parse"):
            sink = writer.submit if writer is not None else None
            self.out.parsed = parse(todo, self.repo, self.settings, planned.to_write, sink, self.report,
                                    self.cancel, self.out.modules)
            self.out.facts = sorted([*self.out.parsed.facts, *(f for p, f in cached.items() if p not in
                                                                 planned.to_write)], key=lambda f: f.path)
        if self.store is not None and not self.cancel.is_set():
            self.facts_cache.store(self.repo, self.out.parsed.facts)
            self.facts_cache.forget(self.repo, keep=[f.path for f in found.files])

    def _resolve(self) -> None:
        with self.clock.phase("resolve"):
            self.report(Progress("resolve", 0, 1, "resolving calls, imports and bases"))
            facts = self.out.facts
            python = resolve(self.repo, [f for f in facts if f.language == PYTHON])
            other, self.out.calls_by_language = resolve_other(self.repo, self.root, facts)
            self.out.resolution = merge(python, other)
            self.out.calls_by_language[PYTHON] = LanguageCounts(
                calls=sum(len(f.calls) for f in facts if f.language == PYTHON),
                unresolved=python.unresolved_calls, unresolved_bases=python.unresolved_bases)
            self.report(Progress("resolve", 1, 1, f"{len(self.out.resolution.edges)} relationships resolved"))

    def _write_edges(self, held: lease.Lease, previous: set[Edge] | None) -> None:
        store, out, s = self.store, self.out, self.settings
        assert store is not None and out.plan is not None and out.resolution is not None and out.nodes is not None
        written = set(out.nodes.written)
        with self.clock.phase("write"):
            held.check()
            out.edges = write_edges(store, self.repo, out.plan, out.resolution, s.batch_size, self._writers(),
                                    self.report, previous, node_ids([f for f in out.facts if f.path in written]))
            # Unresolved call sites on their calling nodes, before the stamps (an interrupted run leaves its files
            # unstamped, and every run compares the property on every node).
            write_unresolved_calls(store, self.repo, out.plan, out.resolution, s.batch_size)
            if self._stopped():
                return
            held.check()
            finish(store, self.repo, out.facts, written, s.batch_size, self.report)

    def _embed(self, embedding: EmbeddingSettings, cache: Any) -> None:
        from . import embed

        store, out = self.store, self.out
        assert store is not None and out.nodes is not None and out.plan is not None
        if out.skip_embedding:
            out.embedded = embed.disabled_summary(embedding, "skipped for this run (--no-embed / embed=false)")
            return
        if not embedding.enabled:
            out.embedded = embed.disabled_summary(embedding)
            return
        with self.clock.phase("embed"):
            def report(done: int, total: int, message: str) -> None:
                self.report(Progress("embed", done, total, message))

            def requests(p: EmbedProgress) -> None:  # while requests are in flight, at least every 0.5 s
                self.report(Progress("embed", p.done, p.total, p.message, texts_per_second=p.texts_per_second,
                                     eta_seconds=p.eta_seconds))

            changed = set(out.plan.to_write) - {f.path for f in out.nodes.failed}
            out.embedded = embed.embed_files(store, self.repo, self.root, out.facts, changed, embedding,
                                             self.settings, cache_path=cache, progress=report, cancel=self.cancel,
                                             embed_progress=requests)
        out.cancelled = out.cancelled or out.embedded.cancelled

    def _writers(self) -> int:
        assert self.store is not None
        return self.settings.workers if self.store.dialect.parallel_writes else 1

    def _stopped(self) -> bool:
        self.out.cancelled = self.out.cancelled or self.cancel.is_set()
        return self.out.cancelled


class _Waiting:
    """Progress while another run holds the repository: said once, not every poll."""

    def __init__(self, report: ProgressCallback, repo: str) -> None:
        self.report, self.repo, self.said = report, repo, False

    def __call__(self, holder: lease.Holder) -> None:
        if not self.said:
            self.report(Progress("waiting", 0, 0, f"{self.repo} is being indexed by {holder.owner}; waiting"))
            self.said = True


class _Clock:
    """Wall seconds per phase; after each, checks the GIL is still as it was at the start (an import may have
    turned it on)."""

    def __init__(self, gil_at_start: bool) -> None:
        self.gil_at_start = gil_at_start
        self.phases: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.phases[name] = round(self.phases.get(name, 0.0) + time.perf_counter() - started, 4)
            runtime.check_gil(f"after the {name} phase", self.gil_at_start, log)


def _summary(repo: str, root: str, settings: Settings, out: _Outputs, clock: _Clock, dry_run: bool,
             wall: float) -> Summary:
    """The Summary, built from the stages' outputs."""
    s = Summary(repo=repo, root=root, dry_run=dry_run, cancelled=out.cancelled, phases=clock.phases,
                wall_seconds=round(wall, 4), pool_size=settings.connection_pool_size, workers=settings.workers,
                gil_enabled_at_start=clock.gil_at_start)
    if out.found is not None:
        s.files_skipped, s.skipped = len(out.found.skipped), listed(out.found.skipped)
    if out.plan is not None and not dry_run:
        s.files_changed, s.files_retried = len(out.plan.changed), len(out.plan.retried)
        s.files_unchanged, s.files_deleted = len(out.plan.unchanged), len(out.plan.deleted)
    failed: list[FailedFile] = []
    if out.parsed is not None:
        p = out.parsed
        s.files_parsed = len(p.facts)
        s.executor, s.executor_reason, s.workers, s.pool_restarts = p.executor, p.reason, p.workers, p.restarts
        s.worker_seconds["extract"] = round(p.worker_seconds, 4)
        parse_seconds = clock.phases.get("parse", 0.0)
        s.files_per_second = round(len(p.facts) / parse_seconds, 1) if parse_seconds else 0.0
        failed.extend(p.failed)
    s.files_indexed = out.files_in_index if out.files_in_index is not None else len(out.facts) - len(failed)
    errors = [FailedFile(f.path, f.error) for f in out.facts if f.error and f.error.startswith("SyntaxError")]
    s.syntax_errors, s.syntax_error_files = len(errors), listed(errors)
    if out.nodes is not None:
        s.worker_seconds["write_nodes"] = round(out.nodes.seconds, 4)
        failed.extend(out.nodes.failed)
    if out.resolution is not None:
        s.unresolved_calls, s.unresolved_bases = out.resolution.unresolved_calls, out.resolution.unresolved_bases
        s.call_sites = dict(out.resolution.call_sites)
    if out.edges is not None:
        s.edges_added, s.edges_removed = out.edges.added, out.edges.removed
    if out.embedded is not None:
        s.embeddings = out.embedded if isinstance(out.embedded, dict) else out.embedded.summary()
        if not isinstance(out.embedded, dict):
            failed.extend(FailedFile(p, r) for p, r in sorted(out.embedded.failed_files.items()))
    s.files_failed, s.failed = len(failed), listed(failed)
    if out.reused is not None:
        state = out.reused
        s.nodes, s.relationships = dict(state.nodes), dict(state.relationships)
        s.unresolved_calls, s.unresolved_bases, s.call_sites = (state.unresolved_calls, state.unresolved_bases,
                                                                 dict(state.call_sites))
        s.executor, s.executor_reason = "none", "no file changed since the last complete run: nothing to parse"
    s.languages = _languages(out)
    if out.counts is not None:
        s.nodes, s.relationships = out.counts
    elif dry_run and out.resolution is not None:
        s.nodes, s.relationships = _counted(out.facts, out.resolution)
    s.free_threading_build = runtime.is_free_threading_available()
    s.gil_enabled = runtime.check_gil("at the end of the run", clock.gil_at_start, log)
    s.gil_cause = runtime.gil_cause()
    return s


def _graph_figures(languages: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The per-language rows without how this run parsed (its executors): what the graph itself says."""
    run_only = ("executor", "executor_reason", "workers")
    return {name: {k: v for k, v in row.items() if k not in run_only} for name, row in languages.items()}


def _languages(out: _Outputs) -> dict[str, dict[str, Any]]:
    """Per language: files, syntax errors, definitions, calls (unresolved too), and the executor that parsed it
    and why; a language whose grammar is missing says so instead."""
    rows: dict[str, dict[str, Any]] = {}
    if out.reused is not None and not out.facts:  # nothing changed and the facts were not loaded
        return dict(out.reused.languages)
    if out.parsed is not None:
        for f in out.facts:
            row = rows.setdefault(f.language, {"files": 0, "syntax_errors": 0, "Class": 0, "Function": 0,
                                               "Method": 0})
            row["files"] += 1
            row["syntax_errors"] += bool(f.error and f.error.startswith("SyntaxError"))
            for symbol in f.symbols:
                row[str(symbol.kind)] += 1
        for language, (kind, reason, workers) in out.parsed.executors.items():
            if language in rows:
                rows[language].update(executor=kind, executor_reason=reason, workers=workers)
    for language, counts in (out.calls_by_language or {}).items():
        if language in rows:
            rows[language].update(calls=counts.calls, unresolved_calls=counts.unresolved,
                                  unresolved_bases=counts.unresolved_bases)
    for language, reason in (out.missing_grammars or {}).items():
        rows.setdefault(language, {"files": 0})["skipped"] = reason
    return dict(sorted(rows.items()))


def _counted(facts: list[FileFacts], resolution: Resolution) -> tuple[dict[str, int], dict[str, int]]:
    """Counts for a dry run, from the facts instead of the graph."""
    nodes: dict[str, int] = {str(REPOSITORY): 1, str(FILE): len(facts), str(MODULE): len(facts),
                             str(EXTERNAL_MODULE): len(resolution.external_modules)}
    for f in facts:
        for sym in f.symbols:
            nodes[str(sym.kind)] = nodes.get(str(sym.kind), 0) + 1
    rels: dict[str, int] = {"CONTAINS": sum(2 + len(f.symbols) for f in facts)}
    for e in resolution.edges:
        rels[str(e.type)] = rels.get(str(e.type), 0) + 1
    return dict(sorted(nodes.items())), dict(sorted(rels.items()))

