"""Cancel and Ctrl-C during the embed phase: back within 2 s while a slow server still computes, nothing written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from generated_repo import make_generated_repo
from openai_server import EmbeddingServer

from indexer.embeddings.provider import EmbeddingSettings
from indexer.models import Summary
from indexer.pipeline.run import run
from indexer.settings import Settings
from indexer.store import GraphStore, open_store, writes

DIMS = 32


@pytest.fixture(scope="module")
def store(graph_settings: Settings) -> Iterator[GraphStore]:
    with open_store(graph_settings) as s:
        yield s


@pytest.fixture
def slow() -> Iterator[EmbeddingServer]:
    with EmbeddingServer(per_text_ms=200, serial=True, default_dimensions=DIMS) as server:  # 16 texts: 3.2 s
        yield server


def wait_for(condition: Callable[[], bool], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def chunk_count(store: GraphStore, repo: str) -> int:
    return store.read("MATCH (c:Chunk) WHERE c.repo = $repo RETURN count(c) AS n", repo=repo)[0]["n"]


def test_cancel_during_embedding_returns_within_2s_and_writes_no_chunk(
    tmp_path: Path, graph_settings: Settings, store: GraphStore, slow: EmbeddingServer
) -> None:
    root = make_generated_repo(tmp_path / "gen", modules=4)
    cancel = threading.Event()
    out: list[Summary] = []
    emb = EmbeddingSettings(base_url=slow.base_url, dimensions=DIMS)
    worker = threading.Thread(target=lambda: out.append(run(
        root, graph_settings, repo="emb-cancel", store=store, embeddings=emb,
        embedding_cache=tmp_path / "cache.sqlite", cancel=cancel)))
    worker.start()
    wait_for(lambda: slow.in_flight > 0)  # the embed phase has a request on the server
    time.sleep(0.5)
    started = time.monotonic()
    cancel.set()
    worker.join(10)
    elapsed = time.monotonic() - started
    assert not worker.is_alive() and elapsed < 2.0, elapsed
    summary = out[0]
    assert summary.cancelled and summary.embeddings is not None and summary.embeddings["embedded"] == 0
    assert chunk_count(store, "emb-cancel") == 0
    assert slow.request_count == 0  # the abandoned request was still being computed when the run returned
    # Nothing inconsistent: the next run embeds every chunk and writes them.
    slow.per_text_ms = 1
    again = run(root, graph_settings, repo="emb-cancel", store=store, embeddings=emb,
                embedding_cache=tmp_path / "cache.sqlite")
    assert not again.cancelled and again.embeddings["failed"] == 0
    assert chunk_count(store, "emb-cancel") == again.embeddings["chunks"] > 0
    writes.delete_repository(store, "emb-cancel")


def test_ctrl_c_during_embedding_exits_within_2s(
    tmp_path: Path, graph_settings: Settings, store: GraphStore, slow: EmbeddingServer
) -> None:
    root = make_generated_repo(tmp_path / "gen", modules=4)
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "NEO4J_URI")}
    env.update(GRAPHDEX_HOME=str(graph_settings.home), OPENAI_BASE_URL=slow.base_url,
               GRAPHDEX_EMBED_DIMENSIONS=str(DIMS))
    cmd = [sys.executable, "-m", "indexer", "index", str(root), "--name", "emb-sigint", "--json"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: slow.in_flight > 0 or proc.poll() is not None)
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.5)
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
        elapsed = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130 and "interrupted" in stderr
    assert elapsed < 2.0, elapsed  # the process is gone, abandoned request and all
    assert chunk_count(store, "emb-sigint") == 0
    writes.delete_repository(store, "emb-sigint")
