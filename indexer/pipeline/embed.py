"""Stage 6, embed: chunks for the symbols of changed files, vectors from the cache or the provider, written to
the graph as `(:Code)-[:HAS_CHUNK]->(:Chunk {id, repo, path, owner_id, index, text_hash, tokens, model,
dimensions, embedding})` under a vector index on Chunk.embedding.

What is embedded (see indexer/embeddings/chunk.py for the text and the splitting rule):
- every Function and Method: its own lines (decorators included; a nested function stays in its parent's text
  and is embedded itself as well);
- every Class: its own lines, with each nested method or class replaced by its one-line signature (the methods
  are embedded themselves, so their bodies are not repeated);
- every module's own code (docstring, imports, constants, top-level statements), owned by its Module node.

Which files: the files whose nodes this run rewrote, plus unchanged files whose chunks are missing or were made
with another model or dimensions (so turning embeddings on, or changing the model, catches up without a
re-parse). Everything else keeps its chunks. "Never twice" comes from the SQLite cache beside the graph
(`<GRAPHDEX_HOME>/embeddings.sqlite`, keyed by model, dimensions and text hash): a rewritten file's unchanged
symbols are served from it, so only changed code costs requests.

Failures never stop the run: a file with any chunk that got no vector (after the Embedder's retries) is listed
in the summary's failed files as "embedding failed: …", keeps whatever chunks did get vectors, and has its
hash cleared so the next run retries it (from the cache, for the chunks that succeeded).

Requests: the Embedder learns the batch size and the requests in flight from the server's answers
(indexer/embeddings/adaptive.py), within the caps GRAPHDEX_EMBED_BATCH_SIZE and GRAPHDEX_EMBED_CONCURRENCY (default 8),
independent of GRAPHDEX_WORKERS: embedding is network-bound, so the CPU count says nothing about it.

Cancel: the stage returns within a fraction of a second of `cancel` being set, also in the middle of requests
(they are abandoned), and then writes nothing to the graph: the files keep no chunks and are stale next time.
Vectors that did arrive are in the cache, so the next run does not ask for them again.

Progress: `progress(done, total, message)` counts chunks (cached ones are done at once) and comes at least twice
a second while requests are in flight, its message holding texts/s, the ETA and the requests in flight;
`embed_progress` gets the same as a typed `EmbedProgress` record.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from threading import Event
from typing import Any

from ..embeddings.cache import SqliteEmbeddingCache, default_cache_path, embed_with_cache
from ..embeddings.chunk import Chunk, chunks_for_module, chunks_for_symbol
from ..embeddings.provider import Embedder, EmbeddingSettings, EmbedProgress
from ..embeddings.tokens import encoding_for, ensure_offline_cache
from ..models import FileFacts, Symbol
from ..settings import Settings
from ..source import source_lines
from ..store import GraphStore, reads, writes
from ..store import vectors as vector_index

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int, str], None]  # (done, total, message)
EmbedProgressFn = Callable[[EmbedProgress], None]


@dataclass
class EmbedOutcome:
    """What the embed stage did, for the Summary."""

    settings: EmbeddingSettings
    files: int = 0  # files whose chunks were (re)built
    chunks: int = 0
    embedded: int = 0
    cached: int = 0
    failed: int = 0
    requests: int = 0
    tokens: int = 0
    retries: int = 0
    timeouts: int = 0
    texts_per_second: float = 0.0  # chunks embedded by the provider per second of the embed step
    batch: int = 0  # the batch size and concurrency the Embedder had learned at the end
    concurrency_used: int = 0
    dimensions: int | None = None
    seconds: float = 0.0
    steps: dict[str, float] = field(default_factory=dict)  # chunk / embed / write seconds
    index_rebuilt: bool = False
    cancelled: bool = False
    failed_files: dict[str, str] = field(default_factory=dict)  # path -> "embedding failed: …"

    def summary(self) -> dict[str, Any]:
        return {
            "enabled": True,
            "model": self.settings.model,
            "dimensions": self.dimensions or self.settings.vector_dimensions,
            "concurrency": self.settings.concurrency,
            "files": self.files,
            "chunks": self.chunks,
            "embedded": self.embedded,
            "cached": self.cached,
            "failed": self.failed,
            "requests": self.requests,
            "tokens": self.tokens,
            "retries": self.retries,
            "timeouts": self.timeouts,
            "texts_per_second": self.texts_per_second,
            "batch": self.batch,
            "concurrency_used": self.concurrency_used,
            "seconds": round(self.seconds, 3),
            "steps": {k: round(v, 3) for k, v in self.steps.items()},
            "index_rebuilt": self.index_rebuilt,
        }


def disabled_summary(settings: EmbeddingSettings, reason: str | None = None) -> dict[str, Any]:
    """The summary of a run that embedded nothing: because the settings disable it, or for `reason` (e.g. a run
    told to skip embedding; its files then have no chunks, and the next run that embeds catches them up)."""
    return {
        "enabled": False,
        "reason": reason or settings.disabled_reason,
        "model": settings.model,
        "dimensions": settings.vector_dimensions,
    }


# ------------------------------------------------------------------------------------------- shared embedder

_embedders: dict[EmbeddingSettings, Embedder] = {}
_embedders_lock = threading.Lock()


def shared_embedder(settings: EmbeddingSettings) -> Embedder:
    """One Embedder (so one openai client and one request pool) per settings per process."""
    with _embedders_lock:
        embedder = _embedders.get(settings)
        if embedder is None:
            embedder = _embedders[settings] = Embedder(settings)
        return embedder


def close_shared_embedders() -> None:
    with _embedders_lock:
        for embedder in _embedders.values():
            embedder.close()
        _embedders.clear()


# --------------------------------------------------------------------------------------------------- chunks


def class_lines(cls: Symbol, members: Sequence[Symbol], lines: Sequence[str]) -> list[str]:
    """A class's own lines with each direct member (method or nested class) replaced by its decorators and its
    one-line signature (multi-line decorators are cut to their first line)."""
    spans = sorted((m.start_line, m.end_line, m) for m in members)
    out: list[str] = []
    n = cls.start_line
    for start, end, member in spans:
        if start < n:
            continue
        out.extend(lines[n - 1 : start - 1])
        decorators = []
        for line in lines[start - 1 : end]:  # keep decorators (@property, @staticmethod say what it is)
            if not line.lstrip().startswith("@"):
                break
            decorators.append(line)
        first = lines[start - 1] if start - 1 < len(lines) else ""
        indent = first[: len(first) - len(first.lstrip())]
        out.extend(decorators)
        out.append(f"{indent}{member.signature}: ...")
        n = end + 1
    out.extend(lines[n - 1 : cls.end_line])
    return out


def file_chunks(facts: FileFacts, lines: Sequence[str], model: str) -> list[Chunk]:
    """Every chunk of one file: its module-level code, then each symbol in order."""
    encoding = encoding_for(model)
    chunks = chunks_for_module(facts, lines, encoding)
    members: dict[str, list[Symbol]] = {}
    for s in facts.symbols:
        members.setdefault(s.parent_id, []).append(s)
    for s in facts.symbols:
        if s.kind == "Class":
            own = class_lines(s, members.get(s.id, []), lines)
            chunks.extend(chunks_for_symbol(dataclasses.replace(s, start_line=1, end_line=len(own)), own, encoding))
        else:
            chunks.extend(chunks_for_symbol(s, lines, encoding))
    return chunks


def stale_paths(
    store: GraphStore, repo: str, facts: Sequence[FileFacts], settings: EmbeddingSettings, changed: set[str]
) -> set[str]:
    """Unchanged files whose chunks are missing or were made with another model / dimensions."""
    state = reads.chunk_state(store, repo)
    stale = set()
    for f in facts:
        if f.path in changed:
            continue
        model, dims, count = state.get(f.path, (None, None, 0))
        if count == 0:
            if f.symbols or f.lines > 1:  # might have something to embed (an empty file is cheap to re-check)
                stale.add(f.path)
        elif model != settings.model_key or (settings.dimensions and dims != settings.dimensions):
            stale.add(f.path)
    return stale


# ---------------------------------------------------------------------------------------------------- stage


def embed_files(
    store: GraphStore,
    repo: str,
    root: str,
    facts: Sequence[FileFacts],
    changed: set[str],
    settings: EmbeddingSettings,
    graph_settings: Settings,
    *,
    cache_path: str | Path | None = None,
    progress: ProgressFn | None = None,
    cancel: Event | None = None,
    embed_progress: EmbedProgressFn | None = None,
) -> EmbedOutcome:
    """Embed the chunks of `changed` files (and of stale unchanged ones) and write them to the graph.

    See the module docstring for `progress`, `embed_progress` and `cancel`."""
    started = time.perf_counter()
    report = progress or (lambda done, total, message: None)
    cancel = cancel or Event()
    outcome = EmbedOutcome(settings)
    ensure_offline_cache(graph_settings.home)

    targets = set(changed) | stale_paths(store, repo, facts, settings, changed)
    work = [f for f in facts if f.path in targets]
    report(0, 0, f"chunking {len(work)} files")
    chunks: list[Chunk] = []
    path_of: dict[str, str] = {}  # chunk id -> path
    for f in work:
        if cancel.is_set():
            break
        try:
            lines = source_lines(root, f.path)
        except (OSError, ValueError):  # deleted since parsing: its nodes go at the next run
            continue
        for chunk in file_chunks(f, lines, settings.model):
            chunks.append(chunk)
            path_of[chunk.id] = f.path
    outcome.files, outcome.chunks = len(work), len(chunks)
    outcome.steps["chunk"] = time.perf_counter() - started
    embedder = shared_embedder(settings)

    def tick(p: EmbedProgress) -> None:
        report(p.done, p.total, p.message)
        if embed_progress is not None:
            embed_progress(p)

    cache = SqliteEmbeddingCache(cache_path or default_cache_path(graph_settings))
    try:
        report(0, len(chunks), f"embedding {len(chunks)} chunks")
        vectors, stats = embed_with_cache(embedder, cache, chunks, cancel=cancel, progress=tick)
    finally:
        cache.close()
    errors = stats.errors
    for name in ("embedded", "cached", "requests", "tokens", "retries", "timeouts"):
        setattr(outcome, name, getattr(stats, name))
    outcome.failed = len(errors)
    outcome.cancelled = stats.cancelled or cancel.is_set()
    outcome.steps["embed"] = time.perf_counter() - started - outcome.steps["chunk"]
    outcome.texts_per_second = round(outcome.embedded / outcome.steps["embed"], 2) if outcome.embedded else 0.0
    learned = embedder.state
    outcome.batch, outcome.concurrency_used = learned.batch, learned.concurrency
    if outcome.cancelled:
        outcome.seconds = time.perf_counter() - started
        return outcome  # nothing written: these files keep no chunks and count as stale next time

    if vectors:
        outcome.dimensions = len(next(iter(vectors.values())))
        outcome.index_rebuilt = vector_index.ensure_vector_index(store, outcome.dimensions)
    # Unchanged-but-stale files still hold old chunks; rewritten files' chunks went with their nodes.
    writes.delete_chunks(store, repo, sorted(targets - set(changed)))
    rows = [
        {
            "owner": c.owner_id,
            "props": {
                "id": c.id,
                "repo": repo,
                "path": path_of[c.id],
                "owner_id": c.owner_id,
                "index": c.index,
                "text_hash": c.text_hash,
                "tokens": c.tokens,
                "model": settings.model_key,
                "dimensions": outcome.dimensions,
                "embedding": vectors[c.id].tolist(),
            },
        }
        for c in chunks
        if c.id in vectors
    ]
    report(len(chunks), len(chunks), f"writing {len(rows)} vectors")
    writes.write_chunks(store, rows, batch_size=min(graph_settings.batch_size, 500))

    outcome.steps["write"] = time.perf_counter() - started - outcome.steps["chunk"] - outcome.steps["embed"]
    for chunk_id, error in errors.items():
        outcome.failed_files.setdefault(path_of[chunk_id], f"embedding failed: {error}")
    if outcome.failed_files:
        writes.unstamp_files(store, repo, sorted(outcome.failed_files))
    outcome.seconds = time.perf_counter() - started
    return outcome
