"""The one seam between Neo4j and ArcadeDB: the few statements they spell differently, and ArcadeDB's SQL-over-HTTP
client for the statements its Bolt face refuses.

Chosen once per connection from the server's agent string (ArcadeDB reports
"Neo4j/5.26.0 compatible (ArcadeDB …)"). Everything else in graphdex is plain Cypher both understand.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from ..errors import StoreError

CHUNK_LABEL = "Chunk"  # embedding chunks: their own label only (ArcadeDB's vector index is per vertex type)
FULLTEXT_INDEX = "graphdex_code_text"  # Neo4j only
NEO4J_VECTOR_INDEX = "graphdex_chunk_embedding"
ARCADEDB_VECTOR_INDEX = "Chunk[embedding]"


@dataclass(frozen=True)
class Statement:
    """One schema statement: Cypher over Bolt, or (ArcadeDB only) SQL over its HTTP API."""

    language: str  # "cypher" | "sql"
    text: str


@dataclass(frozen=True)
class Dialect:
    name: str  # "neo4j" | "arcadedb"

    @property
    def is_arcadedb(self) -> bool:
        return self.name == "arcadedb"

    @property
    def parallel_writes(self) -> bool:
        """Do concurrent write transactions scale? Neo4j: yes (row locks). ArcadeDB: no; its page-level
        optimistic concurrency makes parallel writers of one type conflict and retry (measured: 2 writers
        took 2.7x the write time of 1 on the stdlib), so graphdex serialises its writes there."""
        return not self.is_arcadedb

    @property
    def trusts_explain(self) -> bool:
        """Does `EXPLAIN`'s query type tell reads from writes? Neo4j: yes ("r" for read-only). ArcadeDB answers
        "w" for every query, so there only the rolled-back transaction and the update counters guard."""
        return not self.is_arcadedb

    @property
    def supports_fulltext_index(self) -> bool:
        """Neo4j has `CREATE FULLTEXT INDEX` + `db.index.fulltext.queryNodes`; ArcadeDB's Bolt face has neither."""
        return not self.is_arcadedb

    def schema_statements(self) -> list[str]:
        """Constraints and indexes, created before any write; idempotent."""
        statements = [
            "CREATE CONSTRAINT graphdex_code_id IF NOT EXISTS FOR (n:Code) REQUIRE n.id IS UNIQUE",
            "CREATE CONSTRAINT graphdex_repository_id IF NOT EXISTS FOR (n:Repository) REQUIRE n.id IS UNIQUE",
            "CREATE INDEX graphdex_code_path IF NOT EXISTS FOR (n:Code) ON (n.path)",
            "CREATE INDEX graphdex_code_repo IF NOT EXISTS FOR (n:Code) ON (n.repo)",
            "CREATE INDEX graphdex_code_qualified_name IF NOT EXISTS FOR (n:Code) ON (n.qualified_name)",
            "CREATE INDEX graphdex_code_name IF NOT EXISTS FOR (n:Code) ON (n.name)",
            "CREATE INDEX graphdex_chunk_repo IF NOT EXISTS FOR (n:Chunk) ON (n.repo)",
            "CREATE INDEX graphdex_chunk_path IF NOT EXISTS FOR (n:Chunk) ON (n.path)",
            "CREATE CONSTRAINT graphdex_lease_repo IF NOT EXISTS FOR (n:IndexLease) REQUIRE n.repo IS UNIQUE",
        ]
        if self.supports_fulltext_index:
            statements.append(
                f"CREATE FULLTEXT INDEX {FULLTEXT_INDEX} IF NOT EXISTS FOR (n:Code) "
                "ON EACH [n.name, n.qualified_name, n.docstring]"
            )
        return statements

    def fulltext_query(self, filters: str, projection: str) -> str | None:
        """Cypher for code nodes matching $q in the full-text index, best first ($limit rows, `filters` on `n`
        appended with AND), or None where there is no such index (ArcadeDB: callers match substrings)."""
        if not self.supports_fulltext_index:
            return None
        return (f"CALL db.index.fulltext.queryNodes('{FULLTEXT_INDEX}', $q) YIELD node AS n, score "
                f"WHERE true{filters} RETURN {projection}, score ORDER BY score DESC LIMIT $limit")

    # -- vectors ----------------------------------------------------------------------------------------

    @property
    def vector_index_name(self) -> str:
        """The name `db.index.vector.queryNodes` takes (both servers answer it over Bolt)."""
        return ARCADEDB_VECTOR_INDEX if self.is_arcadedb else NEO4J_VECTOR_INDEX

    def create_vector_index(self, dimensions: int) -> list[Statement]:
        """Idempotent statements creating the cosine vector index on Chunk.embedding with `dimensions`.

        Neo4j: `CREATE VECTOR INDEX` over Bolt. ArcadeDB rejects that; its SQL over HTTP creates the vertex
        type, the ARRAY_OF_FLOATS property and an LSM_VECTOR index named "Chunk[embedding]"."""
        if dimensions < 1:
            raise ValueError(f"vector dimensions must be positive, not {dimensions}")
        if self.is_arcadedb:
            return [
                Statement("sql", f"CREATE VERTEX TYPE {CHUNK_LABEL} IF NOT EXISTS"),
                Statement("sql", f"CREATE PROPERTY {CHUNK_LABEL}.embedding IF NOT EXISTS ARRAY_OF_FLOATS"),
                Statement("sql", f"CREATE INDEX IF NOT EXISTS ON {CHUNK_LABEL} (embedding) LSM_VECTOR "
                                 f"METADATA {{dimensions: {int(dimensions)}, similarity: 'COSINE'}}"),
            ]
        return [Statement(
            "cypher",
            f"CREATE VECTOR INDEX {NEO4J_VECTOR_INDEX} IF NOT EXISTS FOR (c:{CHUNK_LABEL}) ON (c.embedding) "
            f"OPTIONS {{indexConfig: {{`vector.dimensions`: {int(dimensions)}, "
            "`vector.similarity_function`: 'cosine'}}",
        )]

    def drop_vector_index(self) -> list[Statement]:
        if self.is_arcadedb:
            return [Statement("sql", f"DROP INDEX `{ARCADEDB_VECTOR_INDEX}` IF EXISTS")]
        return [Statement("cypher", f"DROP INDEX {NEO4J_VECTOR_INDEX} IF EXISTS")]

    def vector_index_dimensions_query(self) -> str | None:
        """Cypher answering `dimensions` of the existing vector index (no row: no index), or None where the
        server does not tell (ArcadeDB's schema hides the metadata: the stored vectors' length stands in)."""
        if self.is_arcadedb:
            return None
        return (
            "SHOW INDEXES YIELD name, options WHERE name = '" + NEO4J_VECTOR_INDEX + "' "
            "RETURN options.indexConfig.`vector.dimensions` AS dimensions"
        )

    def vector_query(self) -> str:
        """Cypher for the k nearest chunks to $vector: rows (id, owner_id, score), score = (1 + cos) / 2."""
        return (
            "CALL db.index.vector.queryNodes($index, $k, $vector) YIELD node, score "
            "RETURN node.id AS id, node.owner_id AS owner_id, node.repo AS repo, score"
        )


def detect_dialect(agent: str) -> Dialect:
    """ArcadeDB names itself in its Bolt agent string; anything else is taken for Neo4j."""
    return Dialect("arcadedb" if "arcadedb" in agent.lower() else "neo4j")


def arcadedb_sql(http_url: str | None, database: str | None, username: str, password: str,
                 command: str) -> list[dict[str, Any]]:
    """One ArcadeDB SQL command through its HTTP API (POST /api/v1/command/{database}, basic auth)."""
    if not http_url:
        raise StoreError(
            "this ArcadeDB server's HTTP address is unknown, so its vector index cannot be created "
            "(graphdex knows it only for the managed local server)"
        )
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    request = urllib.request.Request(
        f"{http_url.rstrip('/')}/api/v1/command/{database or 'neo4j'}",
        data=json.dumps({"language": "sql", "command": command}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Basic {token}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.loads(response.read() or b"{}").get("result", [])
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:300].decode("utf-8", "replace")
        raise StoreError(f"ArcadeDB SQL {command.split(' ', 3)[:3]} failed: HTTP {exc.code}: {detail}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise StoreError(f"cannot reach ArcadeDB's HTTP API at {http_url}: {exc}") from None
