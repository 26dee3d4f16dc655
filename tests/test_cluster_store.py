"""Storage on a Neo4j cluster (issue 16), proved where it can be without a Neo4j: routing `neo4j://` URIs and
NEO4J_DATABASE reach the server (ArcadeDB answers the routing protocol), every write is a managed write
transaction (routed to the leader, retried within bounds), every read of the stages and the graph tools is in a
READ session (which a cluster may send to a follower), and the statements only Neo4j understands live behind
the dialect seam, each checked here by its text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import neo4j
import pytest
from graph_helpers import assert_same_graph

from indexer import localdb
from indexer.pipeline.run import run
from indexer.settings import Settings
from indexer.store import GraphStore, open_store, queries, reads
from indexer.store.dialect import Dialect, Statement

NEO4J, ARCADEDB = Dialect("neo4j"), Dialect("arcadedb")


# -- the dialect seam: every Neo4j-only statement, by its text ------------------------------------------------


def test_the_full_text_index_is_created_on_neo4j_only() -> None:
    fulltext = ("CREATE FULLTEXT INDEX graphdex_code_text IF NOT EXISTS FOR (n:Code) "
                "ON EACH [n.name, n.qualified_name, n.docstring]")
    assert NEO4J.schema_statements()[-1] == fulltext
    assert not any("FULLTEXT" in s for s in ARCADEDB.schema_statements())
    assert NEO4J.schema_statements()[:-1] == ARCADEDB.schema_statements()


def test_the_full_text_query_is_neo4j_only() -> None:
    assert NEO4J.fulltext_query(" AND n.repo = $repo", "n.id AS id") == (
        "CALL db.index.fulltext.queryNodes('graphdex_code_text', $q) YIELD node AS n, score "
        "WHERE true AND n.repo = $repo RETURN n.id AS id, score ORDER BY score DESC LIMIT $limit")
    assert ARCADEDB.fulltext_query("", "n.id AS id") is None


def test_the_vector_index_statements_by_server() -> None:
    assert NEO4J.create_vector_index(384) == [Statement(
        "cypher", "CREATE VECTOR INDEX graphdex_chunk_embedding IF NOT EXISTS FOR (c:Chunk) ON (c.embedding) "
                  "OPTIONS {indexConfig: {`vector.dimensions`: 384, `vector.similarity_function`: 'cosine'}}")]
    assert NEO4J.drop_vector_index() == [Statement("cypher", "DROP INDEX graphdex_chunk_embedding IF EXISTS")]
    assert NEO4J.vector_index_dimensions_query() == (
        "SHOW INDEXES YIELD name, options WHERE name = 'graphdex_chunk_embedding' "
        "RETURN options.indexConfig.`vector.dimensions` AS dimensions")
    assert NEO4J.vector_index_name == "graphdex_chunk_embedding"
    assert [s.language for s in ARCADEDB.create_vector_index(8)] == ["sql", "sql", "sql"]
    assert ARCADEDB.create_vector_index(8)[2].text == (
        "CREATE INDEX IF NOT EXISTS ON Chunk (embedding) LSM_VECTOR METADATA {dimensions: 8, similarity: 'COSINE'}")
    assert ARCADEDB.drop_vector_index() == [Statement("sql", "DROP INDEX `Chunk[embedding]` IF EXISTS")]
    assert ARCADEDB.vector_index_dimensions_query() is None
    both = ("CALL db.index.vector.queryNodes($index, $k, $vector) YIELD node, score "
            "RETURN node.id AS id, node.owner_id AS owner_id, node.repo AS repo, score")
    assert NEO4J.vector_query() == ARCADEDB.vector_query() == both


def test_what_a_cluster_changes_is_said_by_the_dialect() -> None:
    assert NEO4J.parallel_writes and NEO4J.trusts_explain and NEO4J.supports_fulltext_index
    assert not (ARCADEDB.parallel_writes or ARCADEDB.trusts_explain or ARCADEDB.supports_fulltext_index)


# -- sessions: writes in managed write transactions, reads in READ sessions ----------------------------------


class _Recorder:
    """Wraps a driver's sessions, recording each one's access mode and how it ran its work."""

    def __init__(self, store: GraphStore) -> None:
        self.calls: list[tuple[str, str]] = []
        self._open = store.driver.session
        store.driver.session = self.session  # type: ignore[method-assign]

    def session(self, **kwargs: Any) -> Any:
        mode = kwargs.get("default_access_mode", neo4j.WRITE_ACCESS)
        return _Session(self._open(**kwargs), mode, self.calls)

    def modes(self, how: str) -> set[str]:
        return {mode for mode, used in self.calls if used == how}


class _Session:
    def __init__(self, inner: neo4j.Session, mode: str, calls: list[tuple[str, str]]) -> None:
        self.inner, self.mode, self.calls = inner, mode, calls

    def __enter__(self) -> _Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.inner.close()

    def __getattr__(self, name: str) -> Any:
        if name in ("execute_read", "execute_write", "run", "begin_transaction"):
            self.calls.append((self.mode, name))
        return getattr(self.inner, name)


@pytest.fixture
def recorded(graph_settings: Settings) -> Iterator[tuple[GraphStore, _Recorder]]:
    with open_store(graph_settings) as own:
        yield own, _Recorder(own)


def test_an_index_run_writes_in_managed_write_transactions(sample: Path, graph_settings: Settings,
                                                           recorded: tuple[GraphStore, _Recorder]) -> None:
    own, recorder = recorded
    run(sample, graph_settings, repo="sessions", store=own)
    assert recorder.modes("execute_write") == {neo4j.WRITE_ACCESS}
    assert recorder.modes("execute_read") == {neo4j.READ_ACCESS}
    assert recorder.modes("begin_transaction") == set()  # no unmanaged transaction writes
    # auto-commit statements are the schema's (a cluster routes a WRITE session's to the leader)
    assert recorder.modes("run") <= {neo4j.WRITE_ACCESS}


def test_the_graph_tools_read_in_read_sessions(sample: Path, graph_settings: Settings, store: GraphStore,
                                               recorded: tuple[GraphStore, _Recorder]) -> None:
    run(sample, graph_settings, repo="tools", store=store)
    own, recorder = recorded
    queries.find_symbols(own, "area", repo="tools")
    queries.find_symbols(own, "sha", mode="fulltext", repo="tools")
    queries.get_symbol(own, "pkg.shapes.Shape", repo="tools")
    queries.callers(own, "pkg.shapes.Shape.area", repo="tools", depth=2)
    queries.callees(own, "pkg.shapes.Shape.describe", repo="tools")
    queries.module_imports(own, "pkg.shapes", repo="tools")
    queries.class_hierarchy(own, "pkg.shapes.Shape", repo="tools")
    queries.list_repositories(own)
    queries.read_only_cypher(own, "MATCH (n:Code) WHERE n.repo = 'tools' RETURN count(n) AS n")
    reads.counts(own, "tools")
    assert recorder.calls and {mode for mode, _ in recorder.calls} == {neo4j.READ_ACCESS}


# -- a routing URI and a named database, against the server that is here ---------------------------------------


def test_a_neo4j_routing_uri_and_a_database_name_index_the_same_graph(
        sample: Path, graph_server: localdb.ServerInfo, graph_settings: Settings, store: GraphStore) -> None:
    assert graph_server.bolt_uri.startswith("bolt://")
    routed = Settings.from_env(
        {"NEO4J_URI": graph_server.bolt_uri.replace("bolt://", "neo4j://", 1),
         "NEO4J_USERNAME": graph_server.username, "NEO4J_PASSWORD": graph_server.password,
         "NEO4J_DATABASE": graph_server.database or "neo4j", "GRAPHDEX_HOME": str(graph_settings.home)})
    with open_store(routed) as over_routing:
        assert over_routing.config.uri.startswith("neo4j://") and over_routing.config.database
        summary = run(sample, routed, repo="routed", store=over_routing)
        assert summary.files_failed == 0
        assert queries.find_symbols(over_routing, "Shape", repo="routed")["count"] == 1
    run(sample, graph_settings, repo="routed-bolt", store=store)
    assert_same_graph(store, "routed", "routed-bolt")
