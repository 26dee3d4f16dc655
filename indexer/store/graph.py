"""GraphStore: one neo4j Driver per process, a Session per unit of work, bounded retries, and errors in one sentence.

Sessions are not thread-safe, so nothing here keeps one: every call opens its own from the shared driver (cheap:
connections are pooled, and the pool is sized to at least the number of workers).

Failures are bounded. The driver retries a transaction that fails transiently (Neo4j deadlocks, ArcadeDB page
conflicts, a dropped connection) for at most RETRY_SECONDS. When the server stays unreachable past that, the
store marks itself unavailable and every later call fails at once with GraphUnavailableError: a run whose server
died ends in one clear line within that bound, not after every batch has waited out its own retries.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import neo4j
from neo4j import Driver, GraphDatabase
from neo4j.exceptions import AuthError, DriverError, Neo4jError, ServiceUnavailable, SessionExpired

from ..errors import GraphUnavailableError, StoreError
from .dialect import Dialect, detect_dialect

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRY_SECONDS = 8.0  # the driver's retries of one transaction (its last backoff can double the wait)
CONNECT_SECONDS = 5.0  # opening one connection
ACQUIRE_SECONDS = 20.0  # waiting for a pooled connection (the pool is sized to the workers, so this is rare)


@dataclass(frozen=True)
class StoreConfig:
    """Everything needed to open a driver; picklable, and the password is never printed."""

    uri: str
    username: str
    password: str
    database: str | None
    pool_size: int
    managed: bool  # the local ArcadeDB server graphdex manages
    http_url: str | None = None  # ArcadeDB's HTTP API (for its SQL-only statements); set for the managed server
    reader: str | None = None  # a user the server lets only read (the managed server's); for untrusted queries
    reader_password: str | None = None

    def __repr__(self) -> str:
        return f"StoreConfig(uri={self.uri!r}, database={self.database!r}, pool_size={self.pool_size})"


class GraphStore:
    def __init__(self, config: StoreConfig, driver: Driver | None = None) -> None:
        self.config = config
        self.driver = driver or GraphDatabase.driver(
            config.uri,
            auth=(config.username, config.password),
            max_connection_pool_size=config.pool_size,
            # Transient conflicts clear in milliseconds: retry soon, backing off exponentially with jitter.
            max_transaction_retry_time=RETRY_SECONDS,
            initial_retry_delay=0.05,
            retry_delay_multiplier=2.0,
            retry_delay_jitter_factor=0.5,
            connection_timeout=CONNECT_SECONDS,
            connection_acquisition_timeout=ACQUIRE_SECONDS,
        )
        self._reader_driver: Driver | None = None
        self._agent: str | None = None
        self._dialect: Dialect | None = None
        self._unavailable: str | None = None  # why the server was given up on; set once, by any thread
        self._lock = threading.Lock()

    # -- connection ------------------------------------------------------------------------------------

    def verify(self) -> None:
        try:
            self.driver.verify_connectivity()
            self._agent = self.driver.get_server_info().agent
        except AuthError:
            raise GraphUnavailableError(
                f"the graph server at {self.config.uri} refused the credentials", self.config.uri) from None
        except (ServiceUnavailable, SessionExpired, DriverError, OSError) as exc:
            raise GraphUnavailableError(f"cannot reach the graph server at {self.config.uri}: {_reason(exc)}",
                                        self.config.uri) from None

    @property
    def agent(self) -> str:
        if self._agent is None:
            self.verify()
        return self._agent or ""

    @property
    def dialect(self) -> Dialect:
        if self._dialect is None:
            self._dialect = detect_dialect(self.agent)
        return self._dialect

    @property
    def available(self) -> bool:
        """False once the server stopped answering (then every call fails at once; open a new store)."""
        return self._unavailable is None

    def close(self) -> None:
        self.driver.close()
        if self._reader_driver is not None:
            self._reader_driver.close()

    def __enter__(self) -> GraphStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def session(self, read_only: bool = False) -> neo4j.Session:
        self._check_available()
        access = neo4j.READ_ACCESS if read_only else neo4j.WRITE_ACCESS
        return self.driver.session(database=self.config.database, default_access_mode=access)

    def untrusted_session(self) -> neo4j.Session:
        """A READ_ACCESS session for queries graphdex did not write (cypher_query): as the server's read-only user
        where there is one, so the server itself refuses writes (ArcadeDB ignores access modes)."""
        self._check_available()
        c = self.config
        if c.reader and c.reader_password:
            with self._lock:
                if self._reader_driver is None:
                    self._reader_driver = GraphDatabase.driver(
                        c.uri, auth=(c.reader, c.reader_password), max_connection_pool_size=4,
                        connection_timeout=CONNECT_SECONDS, connection_acquisition_timeout=ACQUIRE_SECONDS)
            return self._reader_driver.session(database=c.database, default_access_mode=neo4j.READ_ACCESS)
        return self.session(read_only=True)

    # -- transactions ----------------------------------------------------------------------------------

    def write(self, work: Callable[..., T], *args: Any) -> T:
        """`work(tx, *args)` in a managed write transaction, retried on transient failures."""
        with self._errors("graph write failed"), self.session() as session:
            result: T = session.execute_write(work, *args)
        return result

    def read(self, query: str, **params: Any) -> list[dict[str, Any]]:
        with self._errors("graph query failed"), self.session(read_only=True) as session:
            rows: list[dict[str, Any]] = session.execute_read(lambda tx: tx.run(query, **params).data())
        return rows

    def execute(self, query: str, **params: Any) -> None:
        """One write statement in its own (retried) transaction."""
        self.write(lambda tx: tx.run(query, **params).consume())

    def execute_batches(self, query: str, key: str, items: Sequence[Any], size: int, **params: Any) -> None:
        """`query` once per batch of `items`, bound to `$key`: bounded transactions for long lists."""
        for batch in chunked(items, size):
            self.execute(query, **{key: list(batch)}, **params)

    def delete_batched(self, match: str, size: int = 5000, **params: Any) -> int:
        """DETACH DELETE the nodes `match` binds to `n`, `size` per transaction; how many went."""
        query = f"{match} WITH n LIMIT $size DETACH DELETE n RETURN count(*) AS c"
        removed = 0
        while True:
            count = self.write(lambda tx: tx.run(query, size=size, **params).single()["c"])
            removed += count
            if count < size:
                return removed

    def run_schema(self, statements: Sequence[str]) -> None:
        """Schema statements (idempotent), each in its own auto-commit transaction as servers require."""
        with self._errors("graph schema statement failed"), self.session() as session:
            for statement in statements:
                session.run(statement).consume()

    # -- failures --------------------------------------------------------------------------------------

    def _check_available(self) -> None:
        if self._unavailable is not None:
            raise GraphUnavailableError(self._unavailable, self.config.uri)

    def _gone(self, exc: BaseException) -> GraphUnavailableError:
        with self._lock:
            if self._unavailable is None:
                self._unavailable = (
                    f"the graph server at {self.config.uri} stopped answering "
                    f"({_reason(exc)}); nothing half-written is kept: run again when it is back"
                )
                log.debug("%s", self._unavailable)
        return GraphUnavailableError(self._unavailable, self.config.uri)

    def _errors(self, what: str) -> _ErrorMapping:
        return _ErrorMapping(self, what)


class _ErrorMapping:
    """Driver exceptions -> graphdex's: an unreachable server marks the store unavailable."""

    def __init__(self, store: GraphStore, what: str) -> None:
        self.store, self.what = store, what

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if exc is None or isinstance(exc, (GraphUnavailableError, StoreError)):
            return
        if isinstance(exc, AuthError):
            raise GraphUnavailableError(
                f"the graph server at {self.store.config.uri} refused the credentials", self.store.config.uri
            ) from None
        if isinstance(exc, (ServiceUnavailable, SessionExpired)):
            raise self.store._gone(exc) from exc
        if isinstance(exc, Neo4jError):
            raise StoreError(f"{self.what}: {exc.message or exc}") from exc
        if isinstance(exc, DriverError):
            raise StoreError(f"{self.what}: {type(exc).__name__}: {_reason(exc)}") from exc


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def chunked(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
