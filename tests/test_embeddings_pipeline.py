"""Embeddings end to end: the real openai SDK over HTTP against tests/openai_server.EmbeddingServer, vectors
written to the real managed ArcadeDB, searched through its vector index."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from openai_server import EmbeddingServer
from sample_repo import EXPECTED_NODE_COUNTS, EXPECTED_RELATIONSHIP_COUNTS

from indexer.embeddings.provider import EmbeddingSettings
from indexer.models import Progress, Summary
from indexer.pipeline.run import run
from indexer.search import semantic_search
from indexer.settings import Settings
from indexer.store import GraphStore, writes

DIMS = 64
# Symbols (15) + the modules with code of their own (pkg, pkg.geometry.util, pkg.shapes, app, broken; the
# empty pkg/geometry/__init__.py has none).
SAMPLE_CHUNKS = 15 + 5


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddingServer]:
    with EmbeddingServer() as s:
        yield s


@pytest.fixture
def emb(server: EmbeddingServer, monkeypatch: pytest.MonkeyPatch) -> EmbeddingSettings:
    server.reset()
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)  # loopback: no key needed
    monkeypatch.setenv("GRAPHDEX_EMBED_DIMENSIONS", str(DIMS))
    return EmbeddingSettings.from_env(backoff_base=0.01, max_retries=2)


def index(
    root: Path, settings: Settings, store: GraphStore, repo: str, emb: EmbeddingSettings, cache: Path, **kwargs: object
) -> Summary:
    writes.delete_repository(store, repo) if kwargs.pop("fresh", False) else None
    return run(root, settings, repo=repo, store=store, embeddings=emb, embedding_cache=cache, **kwargs)


def chunk_rows(store: GraphStore, repo: str) -> list[dict]:
    return store.read(
        "MATCH (o:Code)-[:HAS_CHUNK]->(c:Chunk) WHERE c.repo = $repo "
        "RETURN o.qualified_name AS owner, c.id AS id, c.path AS path, c.text_hash AS hash, "
        "size(c.embedding) AS n, c.model AS model",
        repo=repo,
    )


def test_vectors_stored_batched_cached_and_searchable(
    sample: Path,
    graph_settings: Settings,
    store: GraphStore,
    server: EmbeddingServer,
    emb: EmbeddingSettings,
    tmp_path: Path,
) -> None:
    cache = tmp_path / "cache.sqlite"
    small = EmbeddingSettings.from_env(max_batch_texts=6, backoff_base=0.01)
    events: list[Progress] = []
    summary = index(sample, graph_settings, store, "emb-a", small, cache, progress=events.append)

    e = summary.embeddings
    assert e is not None and e["enabled"] and e["dimensions"] == DIMS
    assert e["chunks"] == SAMPLE_CHUNKS and e["embedded"] == SAMPLE_CHUNKS and e["cached"] == 0 and e["failed"] == 0
    # Batching: 20 distinct texts in batches of at most 6 -> 4 requests.
    assert server.batch_sizes and max(server.batch_sizes) <= 6 and sum(server.batch_sizes) == SAMPLE_CHUNKS
    assert e["requests"] == server.request_count == 4
    assert e["tokens"] > 0
    assert any(ev.phase == "embed" and ev.total == SAMPLE_CHUNKS and ev.done == SAMPLE_CHUNKS for ev in events)

    rows = chunk_rows(store, "emb-a")
    assert (
        len(rows) == SAMPLE_CHUNKS == store.read("MATCH (c:Chunk) WHERE c.repo = 'emb-a' RETURN count(c) AS c")[0]["c"]
    )
    assert {r["n"] for r in rows} == {DIMS}  # dimensions honoured, in the graph
    assert "pkg.geometry.util.distance" in {r["owner"] for r in rows}
    assert summary.nodes == dict(sorted(EXPECTED_NODE_COUNTS.items()))
    assert summary.relationships["HAS_CHUNK"] == SAMPLE_CHUNKS

    # The vector index answers with the expected symbol first.
    found = semantic_search(store, "euclidean distance between two points", k=3, repo="emb-a", settings=emb)
    assert found["mode"] == "semantic"
    top = found["results"][0]
    assert top["qualified_name"] == "pkg.geometry.util.distance" and top["kind"] == "Function"
    assert top["path"] == "pkg/geometry/util.py" and top["start_line"] == 8 and top["repo"] == "emb-a"
    assert top["snippet"].startswith("def distance(a: tuple, b: tuple) -> float:")
    assert len({r["qualified_name"] for r in found["results"]}) == len(found["results"])  # one per symbol
    classes = semantic_search(store, "round shape circle", k=2, repo="emb-a", kind="Class", settings=emb)
    assert classes["results"][0]["qualified_name"] == "pkg.shapes.Circle"
    assert {r["kind"] for r in classes["results"]} == {"Class"}

    # Never twice: the same code indexed again (from scratch in the graph) costs no request.
    server.reset()
    again = index(sample, graph_settings, store, "emb-a", small, cache, fresh=True)
    assert again.embeddings["cached"] == SAMPLE_CHUNKS and again.embeddings["embedded"] == 0
    assert again.embeddings["requests"] == 0 and server.request_count == 0
    assert len(chunk_rows(store, "emb-a")) == SAMPLE_CHUNKS

    # A changed file: only its changed symbols are embedded; unchanged files keep their chunks untouched.
    before = {r["id"]: r["hash"] for r in chunk_rows(store, "emb-a")}
    util = sample / "pkg/geometry/util.py"
    util.write_text(util.read_text().replace("return x * x", "return x ** 2"))
    server.reset()
    changed = index(sample, graph_settings, store, "emb-a", small, cache)
    assert changed.files_changed == 1
    assert changed.embeddings["embedded"] == 1  # square's text changed; distance, delta, the module did not
    assert changed.embeddings["cached"] == changed.embeddings["chunks"] - 1
    assert sum(server.batch_sizes) == 1
    after = {r["id"]: r["hash"] for r in chunk_rows(store, "emb-a")}
    assert set(after) == set(before)
    assert [i for i in after if after[i] != before[i]] == ["emb-a:pkg.geometry.util.square"]

    # Nothing changed: nothing to embed at all.
    server.reset()
    quiet = index(sample, graph_settings, store, "emb-a", small, cache)
    assert quiet.embeddings["chunks"] == 0 and server.request_count == 0

    # Deleting the repository deletes its chunks.
    writes.delete_repository(store, "emb-a")
    assert store.read("MATCH (c:Chunk) WHERE c.repo = 'emb-a' RETURN count(c) AS c")[0]["c"] == 0


def test_429_with_retry_after_and_500_are_recovered(
    sample: Path,
    graph_settings: Settings,
    store: GraphStore,
    server: EmbeddingServer,
    emb: EmbeddingSettings,
    tmp_path: Path,
) -> None:
    server.fail_next(1, 429, retry_after="0.2")
    server.fail_next(1, 500)
    summary = index(sample, graph_settings, store, "emb-retry", emb, tmp_path / "c.sqlite", fresh=True)
    e = summary.embeddings
    assert e["failed"] == 0 and e["embedded"] == SAMPLE_CHUNKS and e["retries"] == 2
    # The first batch (16 texts, one request in flight) is retried twice, then the last 4 texts go.
    assert [r.status for r in server.requests] == [429, 500, 200, 200]
    assert summary.files_failed == 0
    assert len(chunk_rows(store, "emb-retry")) == SAMPLE_CHUNKS


def test_permanent_failure_is_reported_per_file_and_keeps_the_graph(
    sample: Path,
    graph_settings: Settings,
    store: GraphStore,
    server: EmbeddingServer,
    emb: EmbeddingSettings,
    tmp_path: Path,
) -> None:
    server.fail_always(500)
    try:
        summary = index(sample, graph_settings, store, "emb-fail", emb, tmp_path / "c.sqlite", fresh=True)
    finally:
        server.fail_always(None)
    e = summary.embeddings
    assert e["failed"] == SAMPLE_CHUNKS and e["embedded"] == 0
    assert server.request_count == 1 + emb.max_retries
    failed = {f["path"]: f["reason"] for f in summary.failed}
    assert set(failed) == {"app.py", "broken.py", "pkg/__init__.py", "pkg/geometry/util.py", "pkg/shapes.py"}
    assert all(r.startswith("embedding failed: HTTP 500") for r in failed.values())
    # The graph is whole.
    assert summary.nodes == dict(sorted(EXPECTED_NODE_COUNTS.items()))
    assert summary.relationships == dict(sorted(EXPECTED_RELATIONSHIP_COUNTS.items()))
    # The failed files are retried at the next run, and then succeed.
    server.reset()
    retry = index(sample, graph_settings, store, "emb-fail", emb, tmp_path / "c.sqlite")
    assert retry.files_retried == len(failed) and retry.files_changed == 0  # retried, not "changed"
    assert retry.embeddings["embedded"] == SAMPLE_CHUNKS
    assert retry.files_failed == 0 and retry.relationships["HAS_CHUNK"] == SAMPLE_CHUNKS
    assert retry.nodes == dict(sorted(EXPECTED_NODE_COUNTS.items()))


def test_no_provider_builds_the_graph_and_search_falls_back(
    sample: Path,
    graph_settings: Settings,
    store: GraphStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    off = EmbeddingSettings.from_env()
    summary = run(sample, graph_settings, repo="emb-off", store=store, embeddings=off)
    assert summary.embeddings == {
        "enabled": False,
        "reason": "OPENAI_API_KEY is not set",
        "model": off.model,
        "dimensions": off.vector_dimensions,
    }
    assert summary.nodes == dict(sorted(EXPECTED_NODE_COUNTS.items()))
    found = semantic_search(store, "Euclidean distance", k=5, repo="emb-off", settings=off)
    assert found["mode"] == "fulltext"
    assert found["note"] == "embeddings are off: OPENAI_API_KEY is not set; results come from text search"
    assert found["results"][0]["qualified_name"] == "pkg.geometry.util.distance"


def test_search_cli_json(
    sample: Path,
    graph_settings: Settings,
    store: GraphStore,
    server: EmbeddingServer,
    emb: EmbeddingSettings,
    tmp_path: Path,
) -> None:
    index(sample, graph_settings, store, "emb-cli", emb, tmp_path / "c.sqlite", fresh=True)
    env = {k: v for k, v in __import__("os").environ.items() if k != "OPENAI_API_KEY"}
    env.update(
        GRAPHDEX_HOME=str(graph_settings.home), OPENAI_BASE_URL=server.base_url, GRAPHDEX_EMBED_DIMENSIONS=str(DIMS)
    )
    env.pop("NEO4J_URI", None)
    cmd = [
        sys.executable,
        "-m",
        "indexer",
        "search",
        "euclidean distance between two points",
        "--k",
        "2",
        "--repo",
        "emb-cli",
        "--json",
    ]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, check=True)
    data = json.loads(out.stdout)
    assert list(data) == ["results", "mode"] and data["mode"] == "semantic"
    assert len(data["results"]) == 2
    assert set(data["results"][0]) >= {"qualified_name", "kind", "score", "path", "start_line", "end_line", "snippet"}
    assert data["results"][0]["qualified_name"] == "pkg.geometry.util.distance"
    env.pop("OPENAI_BASE_URL")
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, check=True)
    data = json.loads(out.stdout)
    assert list(data) == ["results", "mode", "note"] and data["mode"] == "fulltext"
    text = subprocess.run(cmd[:-1], env=env, capture_output=True, text=True, timeout=60, check=True).stdout
    assert "pkg.geometry.util.distance" in text and "text search" in text


def test_changed_dimensions_rebuild_the_vector_index(
    sample: Path,
    graph_settings: Settings,
    store: GraphStore,
    server: EmbeddingServer,
    emb: EmbeddingSettings,
    tmp_path: Path,
) -> None:
    cache = tmp_path / "c.sqlite"
    first = index(sample, graph_settings, store, "emb-dims", emb, cache, fresh=True)
    assert first.embeddings["dimensions"] == DIMS
    smaller = EmbeddingSettings.from_env(dimensions=16)
    second = index(sample, graph_settings, store, "emb-dims", smaller, cache)
    e = second.embeddings
    assert second.files_changed == 0  # nothing re-parsed: the stale chunks alone were redone
    assert e["index_rebuilt"] and e["dimensions"] == 16 and e["embedded"] == SAMPLE_CHUNKS
    assert {r["n"] for r in chunk_rows(store, "emb-dims")} == {16}
    found = semantic_search(store, "euclidean distance between two points", k=3, repo="emb-dims", settings=smaller)
    # 16 hashed dimensions blur the test server's bag of words: the index answers, near the top
    assert "pkg.geometry.util.distance" in [r["qualified_name"] for r in found["results"]]
    writes.delete_repository(store, "emb-dims")


def test_a_run_told_not_to_embed_leaves_chunks_for_the_next(
    sample: Path, graph_settings: Settings, store: GraphStore, emb: EmbeddingSettings, server: EmbeddingServer,
    tmp_path: Path,
) -> None:
    """`--no-embed` / embed=false: the graph is built, no request is sent, the summary says why; the next run
    that embeds catches those files up (they have no chunks), with nothing else to do."""
    skipped = index(sample, graph_settings, store, "emb-skip", emb, tmp_path / "cache.sqlite", fresh=True,
                    embed=False)
    assert skipped.embeddings is not None and skipped.embeddings["enabled"] is False
    assert "skipped for this run" in skipped.embeddings["reason"]
    assert server.request_count == 0 and chunk_rows(store, "emb-skip") == []
    caught_up = index(sample, graph_settings, store, "emb-skip", emb, tmp_path / "cache.sqlite")
    assert caught_up.files_changed == 0 and caught_up.embeddings is not None
    assert caught_up.embeddings["embedded"] == SAMPLE_CHUNKS and len(chunk_rows(store, "emb-skip")) == SAMPLE_CHUNKS
