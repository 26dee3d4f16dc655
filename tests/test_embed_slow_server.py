"""Adaptive batching and concurrency against servers that are slow, serial, overloaded or time out: the real
openai SDK over HTTP to tests/openai_server.py. Assertions read the fake's request log where they can."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from generated_repo import make_generated_repo
from openai_server import EmbeddingServer

from indexer.embeddings.provider import Embedder, EmbeddingSettings, EmbedProgress
from indexer.models import Progress
from indexer.pipeline.run import run
from indexer.settings import Settings
from indexer.store import GraphStore, open_store, writes

DIMS = 32
PER_TEXT_MS = 200  # the slow server: 0.2 s per text, one request at a time


@pytest.fixture(scope="module")
def store(graph_settings: Settings) -> Iterator[GraphStore]:
    with open_store(graph_settings) as s:
        yield s


def settings_for(server: EmbeddingServer, **kw: object) -> EmbeddingSettings:
    values: dict = {"base_url": server.base_url, "dimensions": DIMS, "backoff_base": 0.01, **kw}
    return EmbeddingSettings(**values)  # loopback: no key needed


def texts(n: int) -> list[str]:
    return [f"text number {i} about topic{i % 7}" for i in range(n)]


def test_slow_serial_server_finishes_without_timeouts_near_its_own_speed(
    tmp_path: Path, graph_settings: Settings, store: GraphStore
) -> None:
    root = make_generated_repo(tmp_path / "gen", modules=7)  # 106 chunks
    events: list[tuple[float, Progress]] = []
    with EmbeddingServer(per_text_ms=PER_TEXT_MS, serial=True, default_dimensions=DIMS) as server:
        summary = run(root, graph_settings, repo="emb-slow", store=store, embeddings=settings_for(server),
                      embedding_cache=tmp_path / "cache.sqlite",
                      progress=lambda p: events.append((time.monotonic(), p)))
    e = summary.embeddings
    assert e is not None and e["failed"] == 0 and e["chunks"] == e["embedded"] == 106
    texts_sent = sum(server.batch_sizes)
    assert texts_sent == 106 and e["timeouts"] == 0 and server.abandoned == []
    # Small batches first, grown while the latency per text stayed flat, never near a time-out.
    sizes = server.batch_sizes
    assert sizes[0] == 16 and max(sizes) <= 64 and server.max_in_flight <= 2
    serial = server.serial_seconds(texts_sent)  # 21.2 s
    assert e["steps"]["embed"] <= 1.3 * serial, (e["steps"], sizes)
    # Progress came at least every second while requests were in flight, with a rate and an ETA.
    embed = [(t, p) for t, p in events if p.phase == "embed" and "texts/s" in p.message]
    gaps = [b[0] - a[0] for a, b in zip(embed, embed[1:], strict=False)]
    assert len(embed) >= serial and max(gaps) <= 1.0
    assert any("ETA" in p.message and "in flight" in p.message for _, p in embed)
    writes.delete_repository(store, "emb-slow")


def test_a_timed_out_batch_is_split_in_halves_never_resent_whole() -> None:
    # 0.1 s per text, serial, and a first time-out of 1 s: the first batch (16 texts, 1.6 s) times out.
    with EmbeddingServer(per_text_ms=100, serial=True) as server:
        with Embedder(settings_for(server, timeout=1.0, min_timeout=0.5, dimensions=None)) as e:
            result = e.embed(texts(40))
            assert e.stats.timeouts == 1
        log = server.requests
    assert result.failed == 0 and result.stats.timeouts == 1
    gone = [n for n, r in enumerate(log) if r.abandoned]
    assert len(gone) == 1 and log[gone[0]].inputs == 16
    first_half, second_half = log[gone[0] + 1], log[gone[0] + 2]
    assert first_half.texts + second_half.texts == log[gone[0]].texts  # its halves, in order
    assert all(r.inputs < 16 for r in log[gone[0] + 1 :])  # no batch of the timed-out size again
    assert sorted(t for r in log if not r.abandoned for t in r.texts) == sorted(texts(40))


def test_429_and_503_halve_the_concurrency() -> None:
    with EmbeddingServer(latency_ms=20) as server, Embedder(settings_for(server, max_batch_texts=4)) as e:
        first = e.embed(texts(600))
        learned = e.state.concurrency
        # Probing raised it (one level past the best was tried and dropped again if it brought nothing).
        assert first.failed == 0 and learned >= 2 and server.max_in_flight in (learned, learned + 1)
        server.reset()
        server.fail_next(1, 429, retry_after_ms="1")
        server.fail_next(1, 503, retry_after_ms="1")
        second = e.embed(texts(8))  # two requests of 4, sent at once: one gets the 429, the other the 503
        state = e.state
    assert second.failed == 0 and second.stats.retries == 2
    assert sorted(r.status for r in server.requests) == [200, 200, 429, 503]
    assert state.overloads == 2 and state.concurrency == max(1, learned // 4)  # halved twice


def test_progress_records_come_every_half_second_while_waiting() -> None:
    records: list[tuple[float, EmbedProgress]] = []
    with EmbeddingServer(per_text_ms=100, serial=True) as server, Embedder(settings_for(server)) as e:
        result = e.embed(texts(30), progress=lambda p: records.append((time.monotonic(), p)))
    assert result.failed == 0
    gaps = [b[0] - a[0] for a, b in zip(records, records[1:], strict=False)]
    assert len(records) >= 5 and max(gaps) <= 1.0
    waiting = [p for _, p in records if p.in_flight]
    assert waiting and all(p.waiting_seconds >= 0 and p.batch >= 16 for p in waiting)
    assert any(p.texts_per_second > 0 and p.eta_seconds is not None for p in waiting)
    last = records[-1][1]
    assert (last.done, last.total, last.failed, last.in_flight) == (30, 30, 0, 0)
    assert last.message.startswith("30/30 texts, ") and "texts/s" in last.message


def test_a_server_that_stops_answering_fails_the_call_instead_of_retrying_for_ever() -> None:
    with EmbeddingServer(per_text_ms=2000, serial=True) as server:
        settings = settings_for(server, timeout=0.3, min_timeout=0.3, max_timeout=0.6, dimensions=None)
        with Embedder(settings) as e:
            started = time.monotonic()
            result = e.embed(texts(40))
            elapsed = time.monotonic() - started
    assert result.failed == 40 and "the server is not answering" in (result.errors[0] or "")
    assert result.stats.timeouts == 3 and elapsed < 5
    assert server.received == 3  # 16 texts, then a half of 8, then its half of 4: then it gave up


def test_cancel_returns_at_once_and_abandons_requests_in_flight() -> None:
    with EmbeddingServer(per_text_ms=200, serial=True) as server, Embedder(settings_for(server)) as e:
        cancel = threading.Event()
        out: dict[str, object] = {}
        worker = threading.Thread(target=lambda: out.update(result=e.embed(texts(50), cancel=cancel)))
        worker.start()
        deadline = time.monotonic() + 10
        while server.in_flight == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)  # mid-request: the first batch needs 3.2 s
        started = time.monotonic()
        cancel.set()
        worker.join(5)
        elapsed = time.monotonic() - started
        assert not worker.is_alive() and elapsed < 2.0
        result = out["result"]
        assert result.cancelled and result.failed == 50 and set(result.errors) == {"cancelled"}  # type: ignore[union-attr]
        time.sleep(3.5)  # the abandoned request ends in the background; nothing is resent
        assert server.received == server.request_count == 1
