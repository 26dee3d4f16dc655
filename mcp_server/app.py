"""The MCP server's process-wide state: settings, the lazily opened shared GraphStore, and the index jobs.

The store is opened at the first tool that needs the graph and replaced when its server is gone: the managed
server's process ended (killed, or replaced by a CLI run), or a call found the server unreachable. The next call
then reconnects, starting the managed server again if needed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from indexer import localdb
from indexer.errors import GraphUnavailableError
from indexer.localdb import process
from indexer.settings import Settings
from indexer.store import GraphStore, open_store

if TYPE_CHECKING:  # the job machinery imports the whole pipeline: loaded at the first index job
    from indexer.jobs import IndexJob, JobManager

log = logging.getLogger("graphdex.mcp")
T = TypeVar("T")


class App:
    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._store: GraphStore | None = None
        self._server: localdb.ServerInfo | None = None  # the managed server the store talks to
        self._lock = threading.Lock()
        self._jobs: JobManager | None = None
        self._jobs_lock = threading.Lock()  # not _lock: that one is held while the graph server starts

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings.from_env()  # ConfigError names the bad variable
        return self._settings

    def store(self) -> GraphStore:
        """The shared store: opened on first use, reopened when its server is gone."""
        with self._lock:
            if self._store is not None and not self._usable():
                log.warning("the graph server went away; reconnecting")
                self._drop()
            if self._store is None:
                self._store = open_store(self.settings)
                if self._store.config.managed:
                    self._server = localdb.status(self.settings).info
                log.info("connected to %s (%s)", self._store.config.uri, self._store.agent)
            return self._store

    def with_store(self, fn: Callable[[GraphStore], T]) -> T:
        """`fn(store)`; when the server turns out to be gone, reconnect (restarting the managed server) and try
        once more."""
        try:
            return fn(self.store())
        except GraphUnavailableError:
            with self._lock:
                self._drop()
            return fn(self.store())

    @property
    def open_store(self) -> GraphStore | None:
        """The store if one is open and usable, without opening one."""
        with self._lock:
            return self._store if self._store is not None and self._usable() else None

    @property
    def jobs(self) -> JobManager:
        with self._jobs_lock:
            if self._jobs is None:
                from indexer.jobs import JobManager

                self._jobs = JobManager(self.store_for)
            return self._jobs

    def job_list(self) -> list[IndexJob]:
        """Recent jobs, newest first; none (and nothing imported) before the first index job."""
        with self._jobs_lock:
            jobs = self._jobs
        return [] if jobs is None else jobs.list()

    def store_for(self, settings: Settings) -> GraphStore | None:
        """The shared store for a job whose pool size matches it; else None and the run opens its own."""
        store = self.store()
        return store if settings.connection_pool_size == store.config.pool_size else None

    def close(self) -> None:
        if self._jobs is not None:
            self._jobs.shutdown()
        with self._lock:
            self._drop()
        from indexer.pipeline.embed import close_shared_embedders

        close_shared_embedders()

    def _usable(self) -> bool:
        assert self._store is not None
        if not self._store.available:
            return False
        server = self._server
        return server is None or process.is_server(server.pid, server.data_dir)

    def _drop(self) -> None:
        if self._store is not None:
            try:
                self._store.close()
            except Exception as exc:  # noqa: BLE001 - a dead connection may fail to close; it is dropped anyway
                log.debug("closing the old store: %s", exc)
        self._store, self._server = None, None

