"""From Settings to a connected GraphStore: the configured Neo4j, or the managed local server."""

from __future__ import annotations

from . import localdb
from .settings import Settings
from .store import GraphStore, StoreConfig


def store_config(settings: Settings) -> StoreConfig:
    if settings.neo4j_uri:
        return StoreConfig(
            uri=settings.neo4j_uri,
            username=settings.neo4j_username,
            password=settings.neo4j_password or "",
            database=settings.neo4j_database,
            pool_size=settings.connection_pool_size,
            managed=False,
        )
    info = localdb.ensure_running(settings)
    return StoreConfig(
        uri=info.bolt_uri,
        username=info.username,
        password=info.password,
        database=info.database,
        pool_size=settings.connection_pool_size,
        managed=True,
        http_url=info.http_url,
    )


def open_store(settings: Settings) -> GraphStore:
    """A verified connection (raises StoreError / LocalServerError with one clear sentence)."""
    store = GraphStore(store_config(settings))
    try:
        store.verify()
    except BaseException:
        store.close()
        raise
    return store
