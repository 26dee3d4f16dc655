"""The embedding provider, against the real openai SDK talking HTTP to tests/openai_server.py."""

from __future__ import annotations

import logging
import socket
import threading

import numpy as np
import pytest
from openai_server import EmbeddingServer, embed_text

from indexer.embeddings.cache import SqliteEmbeddingCache, embed_with_cache
from indexer.embeddings.chunk import Chunk, chunks_for_symbol, text_hash
from indexer.embeddings.provider import (
    LOCAL_PLACEHOLDER_KEY,
    Embedder,
    EmbeddingError,
    EmbeddingSettings,
    plan_batches,
)
from indexer.embeddings.tokens import encoding_for
from indexer.errors import ConfigError
from indexer.models import FUNCTION, Symbol

KEY = "sk-test-secret-0123456789"


@pytest.fixture
def server():
    with EmbeddingServer() as s:
        yield s


class Sleeps:
    """Records the waits the Embedder asks for (and really waits, briefly)."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, seconds: float) -> None:
        with self._lock:
            self.waits.append(seconds)
        threading.Event().wait(min(seconds, 0.2))


FIXED = {"adaptive": False}  # the caps as fixed values: what batching by count and tokens alone does


def embedder(server: EmbeddingServer, sleeps: Sleeps | None = None, **kw) -> Embedder:
    settings = EmbeddingSettings(api_key=KEY, base_url=server.base_url, **{"backoff_base": 0.01, **kw})
    return Embedder(settings, sleep=sleeps or Sleeps())


def texts(n: int) -> list[str]:
    return [f"text number {i} about topic{i % 7}" for i in range(n)]


def expected(text: str, dims: int = 256) -> np.ndarray:
    return np.asarray(embed_text(text, dims), dtype=np.float32)


# ------------------------------------------------------------------------------------------- batching


def test_batches_by_count_and_keeps_order(server):
    items = texts(1000)
    with embedder(server, max_batch_texts=128, **FIXED) as e:
        result = e.embed(items, [5] * len(items))
    assert result.failed == 0
    assert sorted(server.batch_sizes) == sorted([128] * 7 + [104])
    assert result.stats.requests == 8 and result.stats.tokens == 5000 and result.stats.embedded == 1000
    for text, vector in zip(items, result.vectors, strict=True):
        np.testing.assert_allclose(vector, expected(text), atol=1e-6)


def test_batches_by_tokens(server):
    items = texts(100)
    with embedder(server, max_batch_tokens=10_000) as e:
        result = e.embed(items, [1000] * 100)
    assert result.failed == 0
    assert server.batch_sizes == [10] * 10


def test_plan_batches_rules():
    counts = [3, 3, 3, 50, 3, 3]
    assert plan_batches(counts, range(6), max_texts=2, max_tokens=100) == [[0, 1], [2, 3], [4, 5]]
    assert plan_batches(counts, range(6), max_texts=10, max_tokens=10) == [[0, 1, 2], [3], [4, 5]]
    assert plan_batches(counts, [0, 4], max_texts=10, max_tokens=10) == [[0, 4]]


def test_token_counts_default_to_tiktoken(server):
    with embedder(server, max_batch_tokens=10) as e:
        result = e.embed(["one two three four five six", "seven eight nine ten eleven twelve"])
    assert result.failed == 0 and server.batch_sizes == [1, 1]


def test_concurrency_bound_is_respected_and_used():
    limits = {"max_batch_texts": 10}
    for bound in (1, 3):
        with EmbeddingServer(latency_ms=40) as server, embedder(server, **limits, concurrency=bound) as e:
            result = e.embed(texts(240))
        assert result.failed == 0 and len(server.batch_sizes) == 24
        assert server.max_in_flight == bound


def test_calls_from_many_threads_share_one_bound():
    with EmbeddingServer(latency_ms=20) as server, embedder(server, max_batch_texts=5, concurrency=2) as e:
        results = [None] * 6

        def call(k: int) -> None:
            results[k] = e.embed(texts(40))

        threads = [threading.Thread(target=call, args=(k,)) for k in range(6)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    assert all(r.failed == 0 for r in results) and server.request_count == 48
    assert server.max_in_flight == 2 and e.stats.requests == 48 and e.stats.embedded == 240


def test_empty_text_is_reported_without_a_request(server):
    with embedder(server) as e:
        result = e.embed(["", "fine"])
    assert result.vectors[0] is None and "empty" in result.errors[0]
    assert result.vectors[1] is not None and server.batch_sizes == [1]


# -------------------------------------------------------------------------------------------- retries


def test_429_honours_retry_after_then_succeeds(server):
    server.fail_next(2, 429, retry_after="0.1")
    sleeps = Sleeps()
    with embedder(server, sleeps) as e:
        result = e.embed(texts(3))
    assert result.failed == 0
    assert sleeps.waits == [0.1, 0.1]
    assert result.stats.retries == 2 and result.stats.requests == 3 and e.stats.retries == 2
    assert [r.status for r in server.requests] == [429, 429, 200]


def test_retry_after_ms_wins_and_waits_are_capped(server):
    server.fail_next(1, 429, retry_after="5", retry_after_ms="20")
    server.fail_next(1, 503, retry_after="3600")
    sleeps = Sleeps()
    with embedder(server, sleeps, max_retry_after=0.05) as e:
        assert e.embed(["a"]).failed == 0
    assert sleeps.waits == [pytest.approx(0.02), 0.05]


def test_500_is_retried_with_jittered_backoff(server):
    server.fail_next(3, 500)
    sleeps = Sleeps()
    with embedder(server, sleeps, backoff_base=0.02) as e:
        result = e.embed(texts(2))
    assert result.failed == 0 and result.stats.retries == 3
    caps = [0.02, 0.04, 0.08]  # full jitter: uniform(0, base * 2**attempt)
    assert len(sleeps.waits) == 3 and all(0 <= w <= cap for w, cap in zip(sleeps.waits, caps, strict=True))


def test_permanent_failure_is_reported_per_text_without_raising(server):
    server.fail_always(500)
    with embedder(server, max_retries=2, max_batch_texts=4) as e:
        result = e.embed(texts(10))
    assert result.vectors == [None] * 10
    assert all("HTTP 500" in err and "after 3 attempts" in err for err in result.errors)
    assert result.stats.requests == 3 * 3 and result.stats.failures == 10 and result.failed == 10


def test_one_failed_batch_does_not_fail_the_others(server):
    server.fail_next(3, 500)  # concurrency 1: the first batch uses up its 3 attempts
    with embedder(server, max_retries=2, max_batch_texts=5, concurrency=1) as e:
        result = e.embed(texts(10))
    assert [v is None for v in result.vectors] == [True] * 5 + [False] * 5


def test_connection_errors_are_retried_then_reported():
    with socket.socket() as s:  # a port with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = EmbeddingSettings(
        api_key=KEY, base_url=f"http://127.0.0.1:{port}/v1", max_retries=2, backoff_base=0.01, timeout=5
    )
    with Embedder(settings, sleep=Sleeps()) as e:
        result = e.embed(["a", "b"])
    assert result.vectors == [None, None]
    assert "connection error" in result.errors[0] and result.stats.requests == 3


def test_a_rejected_text_fails_alone(server):
    server.reject_marker = "POISON"
    items = texts(8)
    items[5] = "this one holds POISON"
    with embedder(server) as e:
        result = e.embed(items)
    assert [v is None for v in result.vectors] == [i == 5 for i in range(8)]
    assert "HTTP 400" in result.errors[5]
    assert result.stats.requests == 7  # 1 + bisection 2 + 2 + 2 down to the single bad text


ONE_AT_A_TIME = {"max_batch_texts": 2, "concurrency": 1}


def test_auth_failure_stops_all_requests_and_never_shows_the_key(caplog):
    caplog.set_level(logging.DEBUG)
    with EmbeddingServer(api_key="the-right-key") as server, embedder(server, **ONE_AT_A_TIME) as e:
        result = e.embed(texts(8))
    assert server.request_count == 1 and result.failed == 8
    assert "HTTP 401" in result.errors[0]
    assert all(KEY not in (err or "") for err in result.errors)
    assert KEY not in caplog.text and KEY not in repr(e.settings) and KEY not in str(e.settings.public_dict())


# ---------------------------------------------------------------------------------------------- vectors


@pytest.mark.parametrize("fmt", ["base64", "float"])
def test_vectors_are_normalised_float32_in_both_formats(fmt):
    with EmbeddingServer(unnormalized=True) as server, embedder(server, encoding_format=fmt) as e:
        result = e.embed(texts(5))
    assert {r.encoding_format for r in server.requests} == {fmt}
    for text, v in zip(texts(5), result.vectors, strict=True):
        assert v.dtype == np.float32 and v.shape == (256,)
        assert abs(float(np.linalg.norm(v)) - 1.0) < 1e-5
        np.testing.assert_allclose(v, expected(text), atol=1e-6)


def test_a_server_answering_float_to_a_base64_request_still_decodes():
    with EmbeddingServer(force_format="float") as server, embedder(server, encoding_format="base64") as e:
        result = e.embed(["hello world"])
    np.testing.assert_allclose(result.vectors[0], expected("hello world"), atol=1e-6)


def test_dimensions_are_sent_and_honoured(server):
    with embedder(server, dimensions=64) as e:
        v = e.embed(["hello world"]).vectors[0]
    with embedder(server) as e:
        w = e.embed(["hello world"]).vectors[0]
    assert v.shape == (64,) and w.shape == (256,)
    assert [r.dimensions for r in server.requests] == [64, None]


def test_a_server_ignoring_dimensions_gives_errors_not_wrong_vectors(server):
    server.ignore_dimensions = True
    with embedder(server, dimensions=64) as e:
        result = e.embed(["a b"])
    assert result.vectors == [None] and "256 dimensions, not 64" in result.errors[0]


def test_texts_sharing_words_are_nearest(server):
    enc = encoding_for("text-embedding-3-small")
    names = {
        "parse_config_file": "def parse_config_file(path):\n    return toml.load(open(path))",
        "send_email": "def send_email(to, body):\n    smtp.send(to, body)",
        "resize_image": "def resize_image(img, w, h):\n    return img.resize((w, h))",
    }
    chunks = []
    for name, code in names.items():
        lines = code.split("\n")
        sig = lines[0].removesuffix(":")
        sym = Symbol(f"r:m.{name}", FUNCTION, f"m.{name}", name, "m.py", 1, len(lines), sig, "", "r:m")
        chunks += chunks_for_symbol(sym, lines, enc)
    with embedder(server) as e:
        vectors, _ = embed_with_cache(e, None, chunks)
        query = e.embed_query("where is the config file parsed")
    best = max(vectors, key=lambda cid: float(vectors[cid] @ query))
    assert best == "r:m.parse_config_file"


# ---------------------------------------------------------------------------------------------- cache


def make_chunks(items: list[str]) -> list[Chunk]:
    return [Chunk(f"c{i}", f"c{i}", 0, t, 8, text_hash(t)) for i, t in enumerate(items)]


def test_cache_second_run_makes_no_requests(server, tmp_path):
    chunks = make_chunks([*texts(50), "same text", "same text"])
    path = tmp_path / "embeddings.sqlite"
    with SqliteEmbeddingCache(path) as cache, embedder(server) as e:
        first, stats1 = embed_with_cache(e, cache, chunks)
        assert len(cache) == 51  # identical texts are embedded and stored once
    assert (stats1.embedded, stats1.cached, stats1.failed, stats1.chunks) == (52, 0, 0, 52)
    assert stats1.requests == server.request_count and sum(server.batch_sizes) == 51
    server.reset()
    with SqliteEmbeddingCache(path) as cache, embedder(server) as e:  # a new process would do the same
        second, stats2 = embed_with_cache(e, cache, chunks)
    assert server.request_count == 0 and stats2.requests == 0
    assert (stats2.embedded, stats2.cached, stats2.failed) == (0, 52, 0)
    assert first.keys() == second.keys()
    for cid in first:
        assert second[cid].dtype == np.float32
        np.testing.assert_array_equal(first[cid], second[cid])


def test_cache_key_includes_model_and_dimensions(server, tmp_path):
    chunks = make_chunks(texts(3))
    with SqliteEmbeddingCache(tmp_path / "e.sqlite") as cache:
        for kw in ({}, {"dimensions": 64}, {"model": "other-model"}, {"dimensions": 64}):
            with embedder(server, **kw) as e:
                embed_with_cache(e, cache, chunks)
        assert len(cache) == 9
    assert server.request_count == 3  # the repeated settings were served from the cache


def test_failures_are_not_cached_and_are_reported_by_chunk(server, tmp_path):
    server.fail_always(500)
    chunks = make_chunks(texts(4))
    with SqliteEmbeddingCache(tmp_path / "e.sqlite") as cache, embedder(server, max_retries=0) as e:
        vectors, stats = embed_with_cache(e, cache, chunks)
        assert len(cache) == 0
    assert vectors == {} and stats.failed == 4 and set(stats.errors) == {"c0", "c1", "c2", "c3"}


def test_cache_is_safe_across_threads(tmp_path):
    with SqliteEmbeddingCache(tmp_path / "e.sqlite") as cache:

        def work(t: int) -> None:
            for i in range(50):
                key = ("m", None, f"{t}-{i}")
                cache.put_many({key: np.full(8, t, dtype=np.float32)})
                assert cache.get_many([key])[key][0] == t

        threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert len(cache) == 400


# ------------------------------------------------------------------------------------------- settings


def test_settings_from_env():
    s = EmbeddingSettings.from_env({})
    assert not s.enabled and s.disabled_reason == "OPENAI_API_KEY is not set"
    s = EmbeddingSettings.from_env({"OPENAI_BASE_URL": "http://localhost:8080/v1"})
    assert s.enabled and s.effective_api_key == LOCAL_PLACEHOLDER_KEY
    s = EmbeddingSettings.from_env({"OPENAI_BASE_URL": "https://embeddings.example.com/v1"})
    assert not s.enabled and "loopback" in s.disabled_reason
    s = EmbeddingSettings.from_env(
        {
            "OPENAI_API_KEY": KEY,
            "GRAPHDEX_EMBED_MODEL": "text-embedding-3-large",
            "GRAPHDEX_EMBED_DIMENSIONS": "256",
            "GRAPHDEX_EMBED_CONCURRENCY": "4",
        }
    )
    assert (s.enabled, s.model, s.dimensions, s.concurrency, s.vector_dimensions) == (
        True,
        "text-embedding-3-large",
        256,
        4,
        256,
    )
    assert EmbeddingSettings.from_env({"OPENAI_API_KEY": KEY}).vector_dimensions == 1536
    assert KEY not in repr(s)
    for bad in (
        {"GRAPHDEX_EMBED_DIMENSIONS": "x"},
        {"GRAPHDEX_EMBED_CONCURRENCY": "0"},
        {"GRAPHDEX_EMBED_MODEL": "text-embedding-ada-002", "GRAPHDEX_EMBED_DIMENSIONS": "64"},
    ):
        with pytest.raises(ConfigError):
            EmbeddingSettings.from_env(bad)
    with pytest.raises(EmbeddingError):
        Embedder(EmbeddingSettings())


def test_placeholder_key_reaches_a_local_server():
    with EmbeddingServer(api_key=LOCAL_PLACEHOLDER_KEY) as server:
        settings = EmbeddingSettings.from_env({"OPENAI_BASE_URL": server.base_url})
        with Embedder(settings) as e:
            assert e.embed(["hi"]).failed == 0
