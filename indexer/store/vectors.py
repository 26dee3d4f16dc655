"""The vector index over Chunk.embedding, through the dialect seam: Cypher on Neo4j, SQL over HTTP on ArcadeDB."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from .dialect import Statement, arcadedb_sql
from .graph import GraphStore

log = logging.getLogger(__name__)


def run_statements(store: GraphStore, statements: Iterable[Statement]) -> None:
    """Schema statements from the dialect: Cypher over Bolt, SQL over ArcadeDB's HTTP API."""
    c = store.config
    for statement in statements:
        if statement.language == "sql":
            arcadedb_sql(c.http_url, c.database, c.username, c.password, statement.text)
        else:
            store.run_schema([statement.text])


def vector_dimensions(store: GraphStore) -> int | None:
    """Dimensions of the existing vector index (Neo4j: from its options), else of the stored vectors."""
    query = store.dialect.vector_index_dimensions_query()
    if query:
        rows = store.read(query)
        if rows and rows[0]["dimensions"] is not None:
            return int(rows[0]["dimensions"])
    rows = store.read("MATCH (c:Chunk) WHERE c.embedding IS NOT NULL RETURN size(c.embedding) AS n LIMIT 1")
    return int(rows[0]["n"]) if rows else None


def ensure_vector_index(store: GraphStore, dimensions: int) -> bool:
    """Create the vector index for `dimensions`. If the graph holds vectors of another length (a changed model
    or GRAPHDEX_EMBED_DIMENSIONS), rebuild: drop the index and every Chunk of every repository (one graph holds
    one vector length; files without chunks are re-embedded at their next index, from the embedding cache where
    it has them). True if it rebuilt."""
    existing = vector_dimensions(store)
    rebuilt = existing is not None and existing != dimensions
    if rebuilt:
        log.warning("the vector index holds %d dimensions, not %d: dropping all chunks and rebuilding it",
                    existing, dimensions)
        store.delete_batched("MATCH (n:Chunk)")
    if rebuilt or (existing is None and store.dialect.is_arcadedb):
        # ArcadeDB does not report an index's dimensions: with no vectors stored, recreate it to be sure.
        run_statements(store, store.dialect.drop_vector_index())
    run_statements(store, store.dialect.create_vector_index(dimensions))
    return rebuilt


def nearest_chunks(store: GraphStore, vector: list[float], k: int) -> list[dict[str, Any]]:
    """The k chunks nearest to `vector` over the vector index: rows (id, owner_id, repo, score)."""
    return store.read(store.dialect.vector_query(), index=store.dialect.vector_index_name, k=k, vector=vector)
