"""cypher_query's read-only guard against the real server: every write form is refused, and each layer of the
defence holds on its own (the clause check switched off, the rolled-back transaction still stops the write)."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from neo4j.exceptions import Neo4jError

from indexer.errors import ConfigError, StoreError
from indexer.settings import Settings
from indexer.store import GraphStore, open_store, queries
from indexer.store.dialect import Dialect

WRITES = [
    "CREATE (n:Pwn {x: 1})",
    "INSERT (n:Pwn {x: 10})",
    "insert (n:Code {id: 'pwn:fake', repo: 'guard', kind: 'Function', qualified_name: 'fake'})",
    "MERGE (n:Pwn {x: 2})",
    "MATCH (n:GuardTarget) SET n.x = 99",
    "MATCH (n:GuardTarget) REMOVE n.name",
    "MATCH (n:GuardTarget) DELETE n",
    "MATCH (n:GuardTarget) DETACH DELETE n",
    "FOREACH (i IN [1, 2] | CREATE (:Pwn {x: i}))",
    "MATCH (a:GuardTarget) CREATE (a)-[:CALLS]->(a)",
    "CALL { CREATE (:Pwn {x: 3}) } IN TRANSACTIONS",
    "LOAD CSV FROM 'file:///etc/passwd' AS line RETURN line",
    "CREATE INDEX pwn_x IF NOT EXISTS FOR (n:Pwn) ON (n.x)",
    "DROP CONSTRAINT graphdex_code_id",
    "CALL apoc.create.node(['Pwn'], {})",
    "WITH 1 AS one /* comment */ CREATE (:Pwn)",
]


@pytest.fixture(scope="module")
def store(graph_settings: Settings) -> Iterator[GraphStore]:
    with open_store(graph_settings) as s:
        s.execute("MERGE (n:GuardTarget {name: 'target'}) SET n.x = 1")
        yield s
        s.execute("MATCH (n:GuardTarget) DETACH DELETE n")


def state(store: GraphStore) -> tuple[int, int, int, list[dict]]:
    nodes = store.read("MATCH (n) RETURN count(n) AS c")[0]["c"]
    rels = store.read("MATCH ()-[r]->() RETURN count(r) AS c")[0]["c"]
    pwn = store.read("MATCH (n:Pwn) RETURN count(n) AS c")[0]["c"]
    target = store.read("MATCH (n:GuardTarget) RETURN n.name AS name, n.x AS x")
    return nodes, rels, pwn, target


@pytest.mark.parametrize("query", WRITES)
def test_every_write_form_is_refused(store: GraphStore, query: str) -> None:
    before = state(store)
    with pytest.raises(ConfigError, match="read-only"):
        queries.read_only_cypher(store, query)
    assert state(store) == before


DATA_WRITES = [q for q in WRITES if "TRANSACTIONS" not in q and "apoc" not in q and "LOAD CSV" not in q
               and "INDEX" not in q and "CONSTRAINT" not in q]
SERVER_REFUSES = [*WRITES, "ALTER USER root SET PASSWORD 'pwned-password'", "CREATE USER pwn SET PASSWORD 'pwnpwnpwn'"]


@pytest.mark.parametrize("query", [q for q in SERVER_REFUSES if "apoc" not in q and "LOAD CSV" not in q])
def test_the_read_only_user_cannot_write_even_when_committing(store: GraphStore, query: str) -> None:
    """The server's own guarantee, alone: ArcadeDB ignores access modes, so untrusted queries run as a user that
    may only read records. Even a committed transaction of that user changes nothing, schema and security
    statements included."""
    assert store.config.reader and store.config.reader_password
    before = state(store)
    with pytest.raises(Neo4jError), store.untrusted_session() as session:
        session.execute_write(lambda tx: tx.run(query).consume())
    assert state(store) == before
    assert store.read("RETURN 1 AS one") == [{"one": 1}]  # root still logs in: its password is unchanged


@pytest.mark.parametrize("query", SERVER_REFUSES)
def test_writes_are_refused_without_the_clause_check(
    store: GraphStore, query: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queries, "write_clause", lambda q: None)
    before = state(store)
    with pytest.raises((ConfigError, StoreError)):  # refused by the server, or rolled back and refused
        queries.read_only_cypher(store, query)
    assert state(store) == before


@pytest.mark.parametrize("query", DATA_WRITES)
def test_the_rolled_back_transaction_stops_writes_without_the_other_guards(
    store: GraphStore, query: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The clause check off and no read-only user: the write runs, is rolled back, and its update counters get
    it refused."""
    monkeypatch.setattr(queries, "write_clause", lambda q: None)
    monkeypatch.setattr(store, "untrusted_session", lambda: store.session(read_only=True))
    before = state(store)
    with pytest.raises(ConfigError, match="rolled back"):
        queries.read_only_cypher(store, query)
    assert state(store) == before


def test_reads_still_work_and_are_capped(store: GraphStore) -> None:
    out = queries.read_only_cypher(store, "UNWIND range(1, 50) AS i RETURN i", limit=10)
    assert out["row_count"] == 10 and out["truncated"] and out["rows"][0] == {"i": 1}
    quoted = queries.read_only_cypher(store, "RETURN 'CREATE (x) SET x.a = 1' AS s")
    assert quoted["rows"] == [{"s": "CREATE (x) SET x.a = 1"}]


def test_a_planner_that_says_write_refuses_where_the_server_is_trusted() -> None:
    """On Neo4j the EXPLAIN query type is a layer of its own (ArcadeDB answers "w" for every query)."""
    assert Dialect("neo4j").trusts_explain and not Dialect("arcadedb").trusts_explain
    ran: list[str] = []

    class Session:
        def run(self, text: str, params: dict) -> SimpleNamespace:
            ran.append(text)
            return SimpleNamespace(consume=lambda: SimpleNamespace(query_type="rw"))

    with pytest.raises(ConfigError, match="plans this query as 'rw'"):
        queries._refuse_unless_planned_read(Session(), "MATCH (n) RETURN n", {})  # type: ignore[arg-type]
    assert ran == ["EXPLAIN MATCH (n) RETURN n"]
