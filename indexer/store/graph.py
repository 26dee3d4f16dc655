"""GraphStore: one neo4j Driver per process, a Session per unit of work, the schema, and repository-level writes.

Sessions are not thread-safe, so nothing here keeps one: every call opens its own from the shared driver
(cheap: connections are pooled, and the pool is sized to at least the number of workers).
"""

from __future__ import annotations

import base64
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, TypeVar

import neo4j
from neo4j import Driver, GraphDatabase
from neo4j.exceptions import AuthError, Neo4jError, ServiceUnavailable

from ..errors import StoreError
from ..models import EXTERNAL_MODULE, Edge, FileFacts
from .dialect import Dialect, Statement, detect_dialect
from .writes import chunked, create_edges, create_nodes, delete_edges, delete_paths, edge_rows, write_files

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class StoreConfig:
    """Everything a worker process needs to open its own driver; picklable, and the password stays in memory."""

    uri: str
    username: str
    password: str
    database: str | None
    pool_size: int
    managed: bool  # the local ArcadeDB server graphdex manages
    http_url: str | None = None  # ArcadeDB's HTTP API (for its SQL-only statements); set for the managed server

    def __repr__(self) -> str:  # never print the password
        return f"StoreConfig(uri={self.uri!r}, database={self.database!r}, pool_size={self.pool_size})"


class GraphStore:
    def __init__(self, config: StoreConfig, driver: Driver | None = None) -> None:
        self.config = config
        self.driver = driver or GraphDatabase.driver(
            config.uri,
            auth=(config.username, config.password),
            max_connection_pool_size=config.pool_size,
            # Transient conflicts (Neo4j deadlocks, ArcadeDB page conflicts between parallel writers) clear
            # in milliseconds: retry soon, backing off exponentially with jitter, for at most 60 s.
            max_transaction_retry_time=60.0,
            initial_retry_delay=0.05,
            retry_delay_multiplier=2.0,
            retry_delay_jitter_factor=0.5,
            connection_acquisition_timeout=120.0,
        )
        self._agent: str | None = None
        self._dialect: Dialect | None = None

    # -- connection ------------------------------------------------------------------------------------

    def verify(self) -> None:
        try:
            self.driver.verify_connectivity()
            self._agent = self.driver.get_server_info().agent
        except AuthError:
            raise StoreError(f"the graph server at {self.config.uri} refused the credentials") from None
        except (ServiceUnavailable, OSError) as exc:
            raise StoreError(f"cannot reach the graph server at {self.config.uri}: {exc}") from None

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

    def close(self) -> None:
        self.driver.close()

    def __enter__(self) -> GraphStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def session(self, read_only: bool = False) -> neo4j.Session:
        access = neo4j.READ_ACCESS if read_only else neo4j.WRITE_ACCESS
        return self.driver.session(database=self.config.database, default_access_mode=access)

    def write(self, work: Callable[..., T], *args: Any) -> T:
        with self.session() as session:
            try:
                return session.execute_write(work, *args)
            except Neo4jError as exc:
                raise StoreError(f"graph write failed: {exc.message or exc}") from exc

    def read(self, query: str, **params: Any) -> list[dict[str, Any]]:
        with self.session(read_only=True) as session:
            return session.execute_read(lambda tx: tx.run(query, **params).data())

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

    # -- schema and repository ---------------------------------------------------------------------------

    def ensure_schema(self) -> None:
        with self.session() as session:
            for statement in self.dialect.schema_statements():
                session.run(statement).consume()

    def repository(self, repo: str) -> dict[str, Any] | None:
        rows = self.read("MATCH (r:Repository {id: $repo}) RETURN r {.*} AS r", repo=repo)
        return rows[0]["r"] if rows else None

    def upsert_repository(self, repo: str, root: str) -> None:
        self.execute("MERGE (r:Repository {id: $repo}) SET r.name = $repo, r.root = $root", repo=repo, root=root)

    def file_hashes(self, repo: str) -> dict[str, str | None]:
        rows = self.read("MATCH (f:File) WHERE f.repo = $repo RETURN f.path AS path, f.sha AS sha", repo=repo)
        return {r["path"]: r["sha"] for r in rows}

    def existing_edges(self, repo: str) -> set[Edge]:
        """The stored CALLS/INHERITS/IMPORTS edges, with the CALLS properties, to compare whole Edge values
        with what resolution wants (a changed provenance or condition is a delete and a create)."""
        rows = self.read(
            "MATCH (a:Code)-[x:CALLS|INHERITS|IMPORTS]->(b:Code) WHERE a.repo = $repo "
            "RETURN type(x) AS t, a.id AS a, b.id AS b, x.provenance AS p, x.condition AS c",
            repo=repo,
        )
        return {Edge(r["t"], r["a"], r["b"], r["p"] or "", r["c"] or "") for r in rows}

    # -- writes --------------------------------------------------------------------------------------------

    def write_files(self, repo: str, facts: list[FileFacts]) -> int:
        return self.write(write_files, repo, facts)

    def delete_files(self, repo: str, paths: list[str]) -> None:
        for batch in chunked(paths, 200):
            self.write(delete_paths, repo, list(batch))

    def add_external_modules(self, repo: str, modules: dict[str, str], batch_size: int) -> None:
        """Create the ExternalModule nodes not in the graph yet (few: one per imported outside module)."""
        present = {r["id"] for r in self.read(
            "MATCH (n:ExternalModule) WHERE n.repo = $repo RETURN n.id AS id", repo=repo)}
        rows = [
            {"props": {"id": node_id, "repo": repo, "name": name, "qualified_name": name, "kind": EXTERNAL_MODULE}}
            for node_id, name in sorted(modules.items()) if node_id not in present
        ]
        for batch in chunked(rows, batch_size):
            self.write(create_nodes, EXTERNAL_MODULE, list(batch))

    def apply_edges(self, add: Iterable[Edge], remove: Iterable[Edge], batch_size: int, workers: int) -> None:
        """Delete then create edges in batches over parallel sessions (relationship writes scale with them)."""
        self._parallel(delete_edges, edge_rows(remove), batch_size, workers)
        self._parallel(create_edges, edge_rows(add), batch_size, workers)

    def _parallel(self, work: Callable[..., None], rows: dict[str, list[dict[str, str]]], size: int,
                  workers: int) -> None:
        jobs = [(rel, batch) for rel, items in rows.items() for batch in chunked(items, size)]
        if len(jobs) <= 1 or workers <= 1:
            for rel, batch in jobs:
                self.write(work, rel, batch)
            return
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="graphdex-write") as pool:
            for future in [pool.submit(self.write, work, rel, batch) for rel, batch in jobs]:
                future.result()

    def finish_files(self, repo: str, facts: list[FileFacts], batch_size: int) -> None:
        """Link changed files to the repository and stamp their hashes: the last step, so an interrupted run
        leaves those files looking changed and the next run redoes them."""
        self.execute_batches(
            "MATCH (r:Repository {id: $repo}) UNWIND $rows AS row MATCH (f:Code {id: row.id}) "
            "MERGE (r)-[:CONTAINS]->(f) SET f.sha = row.sha",
            "rows", [{"id": f.file_id, "sha": f.sha} for f in facts], batch_size, repo=repo,
        )

    def remove_orphan_external_modules(self, repo: str) -> None:
        self.execute(
            "MATCH (n:ExternalModule) WHERE n.repo = $repo AND NOT EXISTS { MATCH ()-[:IMPORTS]->(n) } "
            "DETACH DELETE n", repo=repo,
        )

    def stamp_repository(self, repo: str, summary: dict[str, Any]) -> None:
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.execute("MATCH (r:Repository {id: $repo}) SET r.indexed_at = $now, r += $summary",
                     repo=repo, now=now, summary=summary)

    def delete_repository(self, repo: str, batch_size: int = 5000) -> int:
        """Remove a repository and everything in it (its embedding chunks too), in bounded batches."""
        self.delete_batched("MATCH (n:Chunk) WHERE n.repo = $repo", batch_size, repo=repo)
        removed = self.delete_batched("MATCH (n:Code) WHERE n.repo = $repo", batch_size, repo=repo)
        self.execute("MATCH (r:Repository {id: $repo}) DETACH DELETE r", repo=repo)
        return removed

    # -- embedding chunks and the vector index ---------------------------------------------------------------

    def run_statements(self, statements: Iterable[Statement]) -> None:
        """Schema statements from the dialect: Cypher over Bolt, SQL over ArcadeDB's HTTP API."""
        for statement in statements:
            if statement.language == "sql":
                self.sql(statement.text)
            else:
                with self.session() as session:
                    try:
                        session.run(statement.text).consume()
                    except Neo4jError as exc:
                        raise StoreError(f"graph statement failed: {exc.message or exc}") from exc

    def sql(self, command: str) -> list[dict[str, Any]]:
        """One ArcadeDB SQL command through its HTTP API (POST /api/v1/command/{database}, basic auth)."""
        url = self.config.http_url
        if not url:
            raise StoreError(
                "this ArcadeDB server's HTTP address is unknown, so its vector index cannot be created "
                "(graphdex knows it only for the managed local server)"
            )
        database = self.config.database or "neo4j"
        token = base64.b64encode(f"{self.config.username}:{self.config.password}".encode()).decode()
        request = urllib.request.Request(
            f"{url.rstrip('/')}/api/v1/command/{database}",
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
            raise StoreError(f"cannot reach ArcadeDB's HTTP API at {url}: {exc}") from None

    def vector_dimensions(self) -> int | None:
        """Dimensions of the existing vector index (Neo4j: from its options), else of the stored vectors."""
        query = self.dialect.vector_index_dimensions_query()
        if query:
            rows = self.read(query)
            if rows and rows[0]["dimensions"] is not None:
                return int(rows[0]["dimensions"])
        rows = self.read("MATCH (c:Chunk) WHERE c.embedding IS NOT NULL RETURN size(c.embedding) AS n LIMIT 1")
        return int(rows[0]["n"]) if rows else None

    def ensure_vector_index(self, dimensions: int) -> bool:
        """Create the vector index for `dimensions`. If the graph holds vectors of another length (a changed
        model or GRAPHDEX_EMBED_DIMENSIONS), rebuild: drop the index and every Chunk of every repository
        (one graph holds one vector length; files without chunks are re-embedded at their next index, from
        the embedding cache where it has them). True if it rebuilt."""
        existing = self.vector_dimensions()
        rebuilt = existing is not None and existing != dimensions
        if rebuilt:
            log.warning("the vector index holds %d dimensions, not %d: dropping all chunks and rebuilding it",
                        existing, dimensions)
            self.delete_batched("MATCH (n:Chunk)")
        if rebuilt or (existing is None and self.dialect.is_arcadedb):
            # ArcadeDB does not report an index's dimensions: with no vectors stored, recreate it to be sure.
            self.run_statements(self.dialect.drop_vector_index())
        self.run_statements(self.dialect.create_vector_index(dimensions))
        return rebuilt

    def chunk_state(self, repo: str) -> dict[str, tuple[str | None, int | None, int]]:
        """Per path: (model, dimensions, chunk count) of the repository's stored chunks."""
        rows = self.read(
            "MATCH (c:Chunk) WHERE c.repo = $repo "
            "RETURN c.path AS path, c.model AS model, c.dimensions AS dims, count(*) AS n",
            repo=repo,
        )
        state: dict[str, tuple[str | None, int | None, int]] = {}
        for r in rows:
            model, dims, n = state.get(r["path"], (r["model"], r["dims"], 0))
            if (model, dims) != (r["model"], r["dims"]):
                model = None  # mixed models in one file: treated as stale
            state[r["path"]] = (model, dims, n + r["n"])
        return state

    def delete_chunks(self, repo: str, paths: list[str]) -> None:
        self.execute_batches(
            "UNWIND $paths AS p MATCH (c:Chunk {path: p}) WHERE c.repo = $repo DETACH DELETE c",
            "paths", paths, 200, repo=repo,
        )

    def write_chunks(self, rows: list[dict[str, Any]], batch_size: int) -> None:
        """Create Chunk nodes linked from their owners: rows {"owner": id, "props": {...}}. Owners that are
        gone (a file changed meanwhile) get none."""
        self.execute_batches(
            "UNWIND $rows AS r MATCH (o:Code {id: r.owner}) CREATE (o)-[:HAS_CHUNK]->(c:Chunk) SET c = r.props",
            "rows", rows, batch_size,
        )

    def unstamp_files(self, repo: str, paths: list[str]) -> None:
        """Forget these files' hashes, so the next run treats them as changed (and retries their embedding)."""
        self.execute("UNWIND $paths AS p MATCH (f:File {path: p}) WHERE f.repo = $repo SET f.sha = null",
                     paths=paths, repo=repo)

    def nearest_chunks(self, vector: list[float], k: int) -> list[dict[str, Any]]:
        """The k chunks nearest to `vector` over the vector index: rows (id, owner_id, repo, score)."""
        return self.read(self.dialect.vector_query(), index=self.dialect.vector_index_name, k=k, vector=vector)

    # -- counts --------------------------------------------------------------------------------------------

    def counts(self, repo: str) -> tuple[dict[str, int], dict[str, int]]:
        nodes = self.read(
            "MATCH (n:Code) WHERE n.repo = $repo RETURN n.kind AS kind, count(*) AS c", repo=repo
        )
        rels = self.read(
            "MATCH (a:Code)-[x]->() WHERE a.repo = $repo RETURN type(x) AS t, count(*) AS c", repo=repo
        )
        repo_links = self.read(
            "MATCH (:Repository {id: $repo})-[x:CONTAINS]->() RETURN count(x) AS c", repo=repo
        )
        node_counts = {r["kind"]: r["c"] for r in nodes}
        node_counts["Repository"] = 1 if self.repository(repo) else 0
        rel_counts = {r["t"]: r["c"] for r in rels}
        rel_counts["CONTAINS"] = rel_counts.get("CONTAINS", 0) + repo_links[0]["c"]
        return dict(sorted(node_counts.items())), dict(sorted(rel_counts.items()))


