"""The graph: schema, batched writes and queries over Bolt, for Neo4j and the managed ArcadeDB alike."""

from .dialect import Dialect, detect_dialect
from .graph import GraphStore, StoreConfig

__all__ = ["Dialect", "GraphStore", "StoreConfig", "detect_dialect"]
