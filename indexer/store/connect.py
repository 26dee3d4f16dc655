"""From Settings to a connected GraphStore: the configured Neo4j, or the managed local server (started on need).
Also what the faces may say about the graph server without connecting to it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .. import localdb
from ..settings import Settings
from .graph import GraphStore, StoreConfig


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
        reader=info.reader if info.reader_password else None,
        reader_password=info.reader_password,
    )


def open_store(settings: Settings) -> GraphStore:
    """A verified connection (raises GraphUnavailableError / LocalServerError with one clear sentence)."""
    store = GraphStore(store_config(settings))
    try:
        store.verify()
    except BaseException:
        store.close()
        raise
    return store


def public_uri(uri: str) -> str:
    """The URI without any user:password@ part."""
    parts = urlsplit(uri)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=host))


def server_info(settings: Settings, store: GraphStore | None) -> dict[str, Any]:
    """The graph server as a face reports it: the open store's, else what the settings and the managed server's
    state say (never starts a server, never shows a password)."""
    if store is not None:
        return {
            "connected": store.available,
            "address": public_uri(store.config.uri),
            "agent": store.agent if store.available else None,
            "dialect": store.dialect.name if store.available else None,
            "managed": store.config.managed,
            "database": store.config.database,
            **({} if store.available else {"note": "the server stopped answering: the next graph tool reconnects"
                                            + (" and restarts it" if store.config.managed else "")}),
        }
    if settings.neo4j_uri:
        return {
            "connected": False,
            "address": public_uri(settings.neo4j_uri),
            "agent": None,
            "managed": False,
            "note": "not connected yet: graphdex connects at the first tool that needs the graph",
        }
    state = localdb.status(settings)
    return {
        "connected": False,
        "address": state.info.bolt_uri if state.info else None,
        "agent": None,
        "managed": True,
        "note": f"managed local ArcadeDB {state.summary}; graphdex connects at the first tool that needs the graph",
    }
