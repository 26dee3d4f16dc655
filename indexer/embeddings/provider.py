"""Embeddings through the OpenAI API (or any OpenAI-compatible server), with batching, bounded concurrency,
one retry policy, and a persistent cache keyed by (model, dimensions, sha256 of the text).

Credentials: OPENAI_API_KEY. Without it, embeddings are disabled, except when OPENAI_BASE_URL points at a
loopback host (localhost, 127.0.0.0/8, ::1): a local server usually ignores auth, and the SDK insists on some
key, so graphdex sends the placeholder "graphdex-local". For a keyless server on another host, set
OPENAI_API_KEY to any value. The key is never logged, printed, or put in an error message.

Failures: 408, 409, 429, 5xx and connection errors/timeouts are retried up to `max_retries` times, waiting
for the server's Retry-After / retry-after-ms (capped at `max_retry_after`) or else an exponential backoff
with full jitter. The SDK's own retries are off, so this is the only policy and every attempt is counted.
A 400/413/422 on a batch of several texts is bisected so that one bad text fails alone. 401, 403, 404 and
429 insufficient_quota stop all further requests of the Embedder (they will not heal by retrying).
`Embedder.embed` never raises for a failed request: each text gets a vector or an error message.
"""

from __future__ import annotations

import base64
import email.utils
import ipaddress
import logging
import os
import random
import sqlite3
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import numpy as np
import openai

from ..errors import ConfigError, EmbeddingError
from ..settings import Settings, parse_int, parse_text
from .chunk import Chunk

if TYPE_CHECKING:
    from typing import Self

log = logging.getLogger(__name__)

DEFAULT_MODEL = "text-embedding-3-small"
DEFAULT_BASE_URL = "https://api.openai.com/v1"
LOCAL_PLACEHOLDER_KEY = "graphdex-local"
MODEL_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
API_MAX_BATCH_TEXTS = 2048  # the API's limits per request
API_MAX_BATCH_TOKENS = 300_000
MAX_CONCURRENCY = 64
ENCODING_FORMATS = ("base64", "float")

Vector = np.ndarray  # float32, 1-D, L2-normalised


# --------------------------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class EmbeddingSettings:
    api_key: str | None = field(default=None, repr=False)
    base_url: str | None = None  # None: the OpenAI API
    model: str = DEFAULT_MODEL
    dimensions: int | None = None  # None: the model's default
    max_batch_texts: int = 512
    max_batch_tokens: int = 250_000
    concurrency: int = 8  # requests in flight per Embedder
    max_retries: int = 6  # retries after the first attempt
    timeout: float = 120.0  # seconds per request
    encoding_format: str = "base64"  # both decode; base64 is the SDK's default and 4x smaller on the wire
    backoff_base: float = 0.5  # seconds: the k-th retry waits uniform(0, min(backoff_max, base * 2**k))
    backoff_max: float = 30.0
    max_retry_after: float = 60.0  # cap on a server-requested wait

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def effective_api_key(self) -> str | None:
        """The key sent: OPENAI_API_KEY, else a placeholder for a loopback server, else None."""
        if self.api_key:
            return self.api_key
        return LOCAL_PLACEHOLDER_KEY if is_loopback_url(self.base_url) else None

    @property
    def disabled_reason(self) -> str | None:
        if self.effective_api_key:
            return None
        if self.base_url:
            return "OPENAI_API_KEY is not set (and OPENAI_BASE_URL is not a loopback server)"
        return "OPENAI_API_KEY is not set"

    @property
    def enabled(self) -> bool:
        return self.disabled_reason is None

    @property
    def vector_dimensions(self) -> int | None:
        """Length of the vectors, if known before the first request (for creating a vector index)."""
        return self.dimensions or MODEL_DIMENSIONS.get(self.model)

    def public_dict(self) -> dict[str, Any]:
        """JSON-ready values without the key."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "api_key"}
        out.update(api_key_set=bool(self.api_key), enabled=self.enabled, disabled_reason=self.disabled_reason)
        return out

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> EmbeddingSettings:
        """OPENAI_API_KEY, OPENAI_BASE_URL, GRAPHDEX_EMBED_MODEL, GRAPHDEX_EMBED_DIMENSIONS,
        GRAPHDEX_EMBED_CONCURRENCY; then the given non-None overrides."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for name, (var, parse) in _ENV.items():
            raw = env.get(var, "").strip()
            if raw:
                values[name] = parse(raw, var)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def is_loopback_url(url: str | None) -> bool:
    host = urlsplit(url).hostname if url else None
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False




_ENV = {
    "api_key": ("OPENAI_API_KEY", parse_text),
    "base_url": ("OPENAI_BASE_URL", parse_text),
    "model": ("GRAPHDEX_EMBED_MODEL", parse_text),
    "dimensions": ("GRAPHDEX_EMBED_DIMENSIONS", parse_int),
    "concurrency": ("GRAPHDEX_EMBED_CONCURRENCY", parse_int),
}


def _validate(s: EmbeddingSettings) -> None:
    def need(ok: bool, what: str) -> None:
        if not ok:
            raise ConfigError(f"embedding setting {what}")

    need(bool(s.model), "model must not be empty (GRAPHDEX_EMBED_MODEL)")
    need(s.dimensions is None or s.dimensions >= 1, f"dimensions must be positive, not {s.dimensions}")
    need(
        not (s.dimensions and s.model == "text-embedding-ada-002"),
        "dimensions is not supported by text-embedding-ada-002 (GRAPHDEX_EMBED_DIMENSIONS)",
    )
    texts, tokens = API_MAX_BATCH_TEXTS, API_MAX_BATCH_TOKENS
    need(1 <= s.max_batch_texts <= texts, f"max_batch_texts must be 1..{texts} (the API's limit)")
    need(1 <= s.max_batch_tokens <= tokens, f"max_batch_tokens must be 1..{tokens} (the API's limit)")
    need(
        1 <= s.concurrency <= MAX_CONCURRENCY,
        f"concurrency must be 1..{MAX_CONCURRENCY}, not {s.concurrency} (GRAPHDEX_EMBED_CONCURRENCY)",
    )
    need(s.max_retries >= 0, "max_retries must be 0 or more")
    need(s.timeout > 0, "timeout must be positive")
    need(s.encoding_format in ENCODING_FORMATS, f"encoding_format must be one of {ENCODING_FORMATS}")
    need(s.backoff_base >= 0 and s.backoff_max >= 0 and s.max_retry_after >= 0, "waits must be 0 or more")
    if s.base_url:
        scheme = urlsplit(s.base_url).scheme
        need(scheme in ("http", "https"), f"base_url must start with http:// or https://, not {s.base_url!r}")


# ------------------------------------------------------------------------------------------------ stats


@dataclass(frozen=True)
class EmbedStats:
    requests: int = 0  # HTTP requests attempted, retries included
    retries: int = 0
    tokens: int = 0  # tokens sent (our counts), over all attempts
    usage_tokens: int = 0  # tokens the server reported using (what is billed)
    embedded: int = 0  # texts that got a vector
    failures: int = 0  # texts that got an error


class _Counters:
    """Thread-safe counters (a lock, not the GIL: this also runs on free-threaded CPython)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values = dict.fromkeys((f.name for f in fields(EmbedStats)), 0)

    def add(self, **amounts: int) -> None:
        with self._lock:
            for name, amount in amounts.items():
                self._values[name] += amount

    def snapshot(self) -> EmbedStats:
        with self._lock:
            return EmbedStats(**self._values)


@dataclass(frozen=True)
class EmbedResult:
    vectors: list[Vector | None]  # in input order; None where the text failed
    errors: list[str | None]  # in input order; None where the text has a vector
    stats: EmbedStats  # of this call only

    @property
    def failed(self) -> int:
        return sum(e is not None for e in self.errors)


# --------------------------------------------------------------------------------------------- embedder


class _BatchFailed(Exception):
    def __init__(self, message: str, *, bisect: bool = False) -> None:
        super().__init__(message)
        self.bisect = bisect


_Outcome = tuple[Vector | None, str | None]


class Embedder:
    """Embeds texts with one shared SDK client and a bounded pool of request threads; thread-safe.

    Use as a context manager, or call close(). Calls from several threads share the same bound.
    """

    def __init__(
        self,
        settings: EmbeddingSettings,
        *,
        client: openai.OpenAI | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not settings.enabled:
            raise EmbeddingError(f"embeddings are disabled: {settings.disabled_reason}")
        self.settings = settings
        self._own_client = client is None
        self._client = client or openai.OpenAI(
            api_key=settings.effective_api_key,
            base_url=settings.base_url or DEFAULT_BASE_URL,
            max_retries=0,  # ours is the only retry policy, so attempts are bounded and counted
            timeout=settings.timeout,
        )
        self._sleep = sleep
        self._pool = ThreadPoolExecutor(settings.concurrency, thread_name_prefix="graphdex-embed")
        self._stats = _Counters()
        self._fatal: str | None = None  # set by errors that retrying cannot fix

    @property
    def stats(self) -> EmbedStats:
        """Totals since the Embedder was created."""
        return self._stats.snapshot()

    def embed(self, texts: Sequence[str], token_counts: Sequence[int] | None = None) -> EmbedResult:
        """One vector or one error per text, in order. Token counts drive batching; None counts them."""
        if token_counts is None:
            from .tokens import count_tokens, encoding_for

            encoding = encoding_for(self.settings.model)
            token_counts = [count_tokens(encoding, t) for t in texts]
        if len(token_counts) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(token_counts)} token counts")
        vectors: list[Vector | None] = [None] * len(texts)
        errors: list[str | None] = [None] * len(texts)
        sendable = []
        for i, text in enumerate(texts):
            if text:
                sendable.append(i)
            else:
                errors[i] = "empty text (the API rejects it)"
        calls = _Counters()
        s = self.settings
        batches = plan_batches(token_counts, sendable, s.max_batch_texts, s.max_batch_tokens)
        futures = [
            self._pool.submit(self._run_batch, [texts[i] for i in b], [token_counts[i] for i in b], calls)
            for b in batches
        ]
        for batch, future in zip(batches, futures, strict=True):
            for i, (vector, error) in zip(batch, future.result(), strict=True):
                vectors[i], errors[i] = vector, error
        return EmbedResult(vectors, errors, calls.snapshot())

    def embed_query(self, text: str) -> Vector:
        """One vector for a search query; raises EmbeddingError if it cannot be had."""
        result = self.embed([text])
        vector = result.vectors[0]
        if vector is None:
            raise EmbeddingError(f"could not embed the query: {result.errors[0]}")
        return vector

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        if self._own_client:
            self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one batch, in a pool thread

    def _run_batch(self, texts: list[str], counts: list[int], calls: _Counters) -> list[_Outcome]:
        try:
            outcomes = self._send(texts, counts, calls)
        except _BatchFailed as exc:
            if exc.bisect and len(texts) > 1:
                mid = len(texts) // 2
                return self._run_batch(texts[:mid], counts[:mid], calls) + self._run_batch(
                    texts[mid:], counts[mid:], calls
                )
            log.warning("embedding batch of %d texts failed: %s", len(texts), exc)
            outcomes = [(None, str(exc))] * len(texts)
        except Exception as exc:  # a bug or a malformed response must not lose the other batches
            log.exception("embedding batch of %d texts failed unexpectedly", len(texts))
            outcomes = [(None, self._redact(f"unexpected {type(exc).__name__}: {exc}"))] * len(texts)
        ok = sum(v is not None for v, _ in outcomes)
        self._count(calls, embedded=ok, failures=len(outcomes) - ok)
        return outcomes

    def _send(self, texts: list[str], counts: list[int], calls: _Counters) -> list[_Outcome]:
        s = self.settings
        extra = {"dimensions": s.dimensions} if s.dimensions else {}
        for attempt in range(s.max_retries + 1):
            if self._fatal:
                raise _BatchFailed(self._fatal)
            self._count(calls, requests=1, tokens=sum(counts))
            try:
                response = self._client.embeddings.create(
                    input=texts, model=s.model, encoding_format=s.encoding_format, **extra
                )
            except openai.OpenAIError as exc:
                wait = self._retry_wait(exc, attempt)  # raises _BatchFailed when not to retry
                log.debug("embedding request failed (%s); retry %d in %.2fs", self._redact(_describe(exc)),
                          attempt + 1, wait)
                self._count(calls, retries=1)
                self._sleep(wait)
                continue
            usage = getattr(getattr(response, "usage", None), "total_tokens", None)
            self._count(calls, usage_tokens=usage if isinstance(usage, int) else 0)
            return _decode(response, len(texts), s.dimensions)
        raise AssertionError("unreachable: the last attempt raises or returns")

    def _retry_wait(self, exc: openai.OpenAIError, attempt: int) -> float:
        """Seconds to wait before retrying `exc`, or raise _BatchFailed if it must not be retried."""
        s = self.settings
        described = self._redact(_describe(exc))
        status = getattr(exc, "status_code", None)
        if status in (401, 403, 404) or getattr(exc, "code", None) == "insufficient_quota":
            self._fatal = f"{described} (no further embedding requests will be sent)"
            raise _BatchFailed(self._fatal)
        if not _retryable(exc):
            raise _BatchFailed(described, bisect=status in (400, 413, 422))
        if attempt >= s.max_retries:
            raise _BatchFailed(f"{described} (after {attempt + 1} attempts)")
        after = _retry_after(exc)
        if after is not None:
            return min(max(after, 0.0), s.max_retry_after)
        return random.uniform(0, min(s.backoff_max, s.backoff_base * 2**attempt))

    def _count(self, calls: _Counters, **amounts: int) -> None:
        calls.add(**amounts)
        self._stats.add(**amounts)

    def _redact(self, text: str) -> str:
        key = self.settings.api_key
        return text.replace(key, "***") if key and len(key) >= 4 else text


def plan_batches(
    token_counts: Sequence[int], indices: Iterable[int], max_texts: int, max_tokens: int
) -> list[list[int]]:
    """Consecutive runs of `indices` with at most `max_texts` texts and `max_tokens` tokens each
    (a single text over `max_tokens` goes alone; the server then decides)."""
    batches: list[list[int]] = []
    current: list[int] = []
    used = 0
    for i in indices:
        n = token_counts[i]
        if current and (len(current) >= max_texts or used + n > max_tokens):
            batches.append(current)
            current, used = [], 0
        current.append(i)
        used += n
    if current:
        batches.append(current)
    return batches


def _retryable(exc: openai.OpenAIError) -> bool:
    if isinstance(exc, openai.APIConnectionError):  # includes timeouts
        return True
    if not isinstance(exc, openai.APIStatusError):
        return False
    verdict = exc.response.headers.get("x-should-retry")
    if verdict in ("true", "false"):
        return verdict == "true"
    return exc.status_code in (408, 409, 429) or exc.status_code >= 500


def _retry_after(exc: openai.OpenAIError) -> float | None:
    """The server's requested wait in seconds (retry-after-ms, or Retry-After as seconds or a date)."""
    response = getattr(exc, "response", None)
    if response is None:
        return None
    headers = response.headers
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return float(value) * scale
        except ValueError:
            pass
    value = headers.get("retry-after")
    try:
        when = email.utils.parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return when.timestamp() - time.time()


def _describe(exc: openai.OpenAIError) -> str:
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}: {exc.message}"
    if isinstance(exc, openai.APITimeoutError):
        return "request timed out"
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__
        return f"connection error: {cause}" if cause else "connection error"
    return f"{type(exc).__name__}: {exc}"


def _decode(response: Any, expected: int, dimensions: int | None) -> list[_Outcome]:
    data = sorted(response.data, key=lambda d: d.index)
    if len(data) != expected or [d.index for d in data] != list(range(expected)):
        raise _BatchFailed(f"the server returned {len(data)} embeddings for {expected} inputs")
    outcomes: list[_Outcome] = []
    for item in data:
        vector = _as_float32(item.embedding)
        norm = float(np.linalg.norm(vector))
        if dimensions and vector.shape[0] != dimensions:
            outcomes.append((None, f"the server returned {vector.shape[0]} dimensions, not {dimensions}"))
        elif not np.isfinite(norm) or norm == 0.0:
            outcomes.append((None, "the server returned a zero or non-finite vector"))
        else:
            outcomes.append((vector / np.float32(norm), None))
    return outcomes


def _as_float32(embedding: str | Sequence[float]) -> Vector:
    """base64 (little-endian float32, what the API sends for encoding_format=base64) or a list of floats."""
    if isinstance(embedding, str):
        return np.frombuffer(base64.b64decode(embedding), dtype="<f4").astype(np.float32)
    return np.asarray(embedding, dtype=np.float32)


# ------------------------------------------------------------------------------------------------ cache

CacheKey = tuple[str, int | None, str]  # (model, dimensions or None for the model default, text sha256)


class EmbeddingCache(Protocol):
    def get_many(self, keys: Iterable[CacheKey]) -> dict[CacheKey, Vector]: ...

    def put_many(self, items: Mapping[CacheKey, Vector]) -> None: ...


def default_cache_path(settings: Settings | None = None) -> Path:
    return (settings or Settings.from_env()).home / "embeddings.sqlite"


class SqliteEmbeddingCache:
    """Vectors as float32 bytes in SQLite (WAL: other processes may read and write meanwhile).

    One connection guarded by a lock: SQLite serialises writers anyway, and lookups are short.
    """

    _SLICE = 500  # keys per SELECT, well under SQLite's bound-parameter limit

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30.0)
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            with self._conn:
                self._conn.execute(
                    "CREATE TABLE IF NOT EXISTS embeddings (model TEXT NOT NULL, dimensions INTEGER NOT NULL,"
                    " text_hash TEXT NOT NULL, vector BLOB NOT NULL,"
                    " PRIMARY KEY (model, dimensions, text_hash)) WITHOUT ROWID"
                )

    def get_many(self, keys: Iterable[CacheKey]) -> dict[CacheKey, Vector]:
        groups: dict[tuple[str, int | None], list[str]] = defaultdict(list)
        for model, dims, digest in keys:
            groups[(model, dims)].append(digest)
        found: dict[CacheKey, Vector] = {}
        with self._lock:
            for (model, dims), digests in groups.items():
                for start in range(0, len(digests), self._SLICE):
                    part = digests[start : start + self._SLICE]
                    marks = ",".join("?" * len(part))
                    rows = self._conn.execute(
                        "SELECT text_hash, vector FROM embeddings"
                        f" WHERE model = ? AND dimensions = ? AND text_hash IN ({marks})",
                        (model, dims or 0, *part),
                    )
                    for digest, blob in rows:
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

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class EmbedRunStats:
    chunks: int = 0
    embedded: int = 0  # chunks whose vector came from the provider in this run
    cached: int = 0  # chunks whose vector came from the cache
    failed: int = 0  # chunks left without a vector (see errors)
    requests: int = 0
    tokens: int = 0
    retries: int = 0
    errors: dict[str, str] = field(default_factory=dict)  # chunk id -> why


def embed_with_cache(
    embedder: Embedder, cache: EmbeddingCache | None, chunks: Sequence[Chunk]
) -> tuple[dict[str, Vector], EmbedRunStats]:
    """Vectors by chunk id: from the cache where present, else embedded (each distinct text once) and
    stored in the cache. Never raises for provider failures: they are in the stats' errors."""
    model, dims = embedder.settings.model, embedder.settings.dimensions
    by_hash: dict[str, list[Chunk]] = defaultdict(list)
    for chunk in chunks:
        by_hash[chunk.text_hash].append(chunk)
    found = cache.get_many([(model, dims, h) for h in by_hash]) if cache is not None else {}
    have = {key[2]: vector for key, vector in found.items()}
    missing = [h for h in by_hash if h not in have]
    result = embedder.embed([by_hash[h][0].text for h in missing], [by_hash[h][0].tokens for h in missing])
    fresh = {h: v for h, v in zip(missing, result.vectors, strict=True) if v is not None}
    if cache is not None and fresh:
        try:
            cache.put_many({(model, dims, h): v for h, v in fresh.items()})
        except (sqlite3.Error, OSError) as exc:  # a cache that cannot be written only costs a re-embed later
            log.warning("could not write the embedding cache: %s", exc)
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
        calls.requests, calls.tokens, calls.retries, errors,
    )
    return vectors, stats
