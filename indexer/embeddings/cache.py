"""The embedding cache: vectors in SQLite beside the graph, keyed by (model key, dimensions, sha256 of the text),
and `embed_with_cache`, which embeds only what the cache lacks and stores each answered batch at once."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

import numpy as np

from ..settings import Settings
from ..sqlite_file import SqliteFile
from .chunk import Chunk
from .provider import BatchCallback, Embedder, EmbedProgress, ProgressCallback, Vector

log = logging.getLogger(__name__)

# (model key, dimensions or None for the model default, text sha256). The model key is the model name plus the
# document prefix / input_type, if any (EmbeddingSettings.model_key): another prefix is another text.
CacheKey = tuple[str, int | None, str]


class EmbeddingCache(Protocol):
    def get_many(self, keys: Iterable[CacheKey]) -> dict[CacheKey, Vector]: ...

    def put_many(self, items: Mapping[CacheKey, Vector]) -> None: ...


def default_cache_path(settings: Settings | None = None) -> Path:
    return (settings or Settings.from_env()).home / "embeddings.sqlite"


class SqliteEmbeddingCache(SqliteFile):
    """Vectors as float32 bytes in SQLite (WAL: other processes may read and write meanwhile)."""

    SCHEMA = (
        "CREATE TABLE IF NOT EXISTS embeddings (model TEXT NOT NULL, dimensions INTEGER NOT NULL,"
        " text_hash TEXT NOT NULL, vector BLOB NOT NULL, PRIMARY KEY (model, dimensions, text_hash)) WITHOUT ROWID",
    )

    def get_many(self, keys: Iterable[CacheKey]) -> dict[CacheKey, Vector]:
        groups: dict[tuple[str, int | None], list[str]] = defaultdict(list)
        for model, dims, digest in keys:
            groups[(model, dims)].append(digest)
        found: dict[CacheKey, Vector] = {}
        query = "SELECT text_hash, vector FROM embeddings WHERE model = ? AND dimensions = ? AND text_hash IN ({marks})"
        with self._lock:
            for (model, dims), digests in groups.items():
                for digest, blob in self.select_in(query, (model, dims or 0), digests):
                    if len(blob) % 4 == 0 and blob:
                        found[(model, dims, digest)] = np.frombuffer(blob, dtype="<f4").astype(np.float32)
        return found

    def put_many(self, items: Mapping[CacheKey, Vector]) -> None:
        rows = [
            (model, dims or 0, digest, np.asarray(vector, dtype="<f4").tobytes())
            for (model, dims, digest), vector in items.items()
        ]
        with self._lock, self._conn:
            self._conn.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?, ?)", rows)

    def __len__(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT count(*) FROM embeddings").fetchone()[0]


@dataclass(frozen=True)
class EmbedRunStats:
    chunks: int = 0
    embedded: int = 0  # chunks whose vector came from the provider in this run
    cached: int = 0  # chunks whose vector came from the cache
    failed: int = 0  # chunks left without a vector (see errors)
    requests: int = 0
    tokens: int = 0
    retries: int = 0
    timeouts: int = 0
    cancelled: bool = False
    errors: dict[str, str] = field(default_factory=dict)  # chunk id -> why


def embed_with_cache(
    embedder: Embedder,
    cache: EmbeddingCache | None,
    chunks: Sequence[Chunk],
    *,
    cancel: threading.Event | None = None,
    progress: ProgressCallback | None = None,
) -> tuple[dict[str, Vector], EmbedRunStats]:
    """Vectors by chunk id: from the cache where present, else embedded (each distinct text once) and
    stored in the cache as each batch is answered (so a cancelled or failed run keeps what it got).
    Never raises for provider failures: they are in the stats' errors.

    `progress` gets the Embedder's records with `done` and `total` counted in chunks (cached ones are
    done from the start); rates and ETA are the provider's."""
    key_model, dims = embedder.settings.model_key, embedder.settings.dimensions
    by_hash: dict[str, list[Chunk]] = defaultdict(list)
    for chunk in chunks:
        by_hash[chunk.text_hash].append(chunk)
    found = cache.get_many([(key_model, dims, h) for h in by_hash]) if cache is not None else {}
    have = {key[2]: vector for key, vector in found.items()}
    missing = [h for h in by_hash if h not in have]
    writer = _CacheWriter(cache, key_model, dims, missing)
    cached_chunks = sum(len(by_hash[h]) for h in have)
    done = _ChunkProgress(progress, cached_chunks, len(chunks), [len(by_hash[h]) for h in missing])
    result = embedder.embed(
        [by_hash[h][0].text for h in missing],
        [by_hash[h][0].tokens for h in missing],
        cancel=cancel,
        progress=done.report if progress else None,
        on_batch=done.chain(writer.write),
    )
    fresh = {h: v for h, v in zip(missing, result.vectors, strict=True) if v is not None}
    vectors: dict[str, Vector] = {}
    errors: dict[str, str] = {}
    counts = {"embedded": 0, "cached": 0}
    failures = dict(zip(missing, result.errors, strict=True))
    for digest, group in by_hash.items():
        vector = have.get(digest, fresh.get(digest))
        for chunk in group:
            if vector is None:
                errors[chunk.id] = failures.get(digest) or "no vector"
            else:
                vectors[chunk.id] = vector
                counts["cached" if digest in have else "embedded"] += 1
    calls = result.stats
    stats = EmbedRunStats(
        len(chunks), counts["embedded"], counts["cached"], len(errors),
        calls.requests, calls.tokens, calls.retries, calls.timeouts, result.cancelled, errors,
    )
    return vectors, stats


class _CacheWriter:
    """Stores each answered batch's vectors; a cache that cannot be written only costs a re-embed later."""

    def __init__(self, cache: EmbeddingCache | None, model_key: str, dims: int | None, digests: list[str]) -> None:
        self.cache, self.model_key, self.dims, self.digests = cache, model_key, dims, digests
        self.broken = False

    def write(self, indices: list[int], vectors: list[Vector | None]) -> None:
        if self.cache is None or self.broken:
            return
        items = {(self.model_key, self.dims, self.digests[i]): v for i, v in zip(indices, vectors, strict=True)
                 if v is not None}
        if not items:
            return
        try:
            self.cache.put_many(items)
        except (sqlite3.Error, OSError) as exc:
            self.broken = True
            log.warning("could not write the embedding cache: %s", exc)


class _ChunkProgress:
    """Turns the Embedder's progress over distinct texts into progress over chunks (a text shared by several
    chunks counts for each of them)."""

    def __init__(self, progress: ProgressCallback | None, cached: int, total: int, weights: list[int]) -> None:
        self.progress, self.done, self.total, self.weights = progress, cached, total, weights

    def chain(self, then: BatchCallback) -> BatchCallback:
        def on_batch(indices: list[int], vectors: list[Vector | None]) -> None:
            self.done += sum(self.weights[i] for i in indices)
            then(indices, vectors)

        return on_batch

    def report(self, p: EmbedProgress) -> None:
        if self.progress is not None:
            self.progress(replace(p, done=self.done, total=self.total))
