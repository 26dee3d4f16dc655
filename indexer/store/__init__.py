"""The graph over Bolt, for Neo4j and the managed ArcadeDB alike: the connection (graph), the Cypher of writes
(statements), writes and reads for the pipeline, the vector index, the tools' read-only queries, the one
repository lease, and the dialect seam between the two servers."""

from .connect import open_store
from .dialect import Dialect, detect_dialect
from .graph import GraphStore, StoreConfig

__all__ = ["Dialect", "GraphStore", "StoreConfig", "detect_dialect", "open_store"]
