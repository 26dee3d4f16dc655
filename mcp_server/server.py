"""graphdex's MCP stdio server: index jobs, graph tools, the runtime and schema resources, and a prompt.

Nothing here touches the graph server before a tool needs it: the first such tool opens one shared GraphStore
(starting or reusing the managed ArcadeDB when NEO4J_URI is unset). Blocking work runs in worker threads so
the event loop keeps answering. stdout carries the protocol only; logs go to stderr.

Adding a tool is a few lines: a query function taking the GraphStore (indexer/store/queries.py), an output
model below, and an `@mcp.tool` function that returns `Model(**await graph(fn, ...))`.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import warnings
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar
from urllib.parse import unquote, urlsplit, urlunsplit
from urllib.request import url2pathname

import anyio
from anyio.abc import TaskGroup
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

from indexer import __version__, localdb, runtime
from indexer.errors import ConfigError, GraphdexError
from indexer.settings import EXECUTORS, MAX_WORKERS, Settings
from indexer.store import GraphStore, queries
from indexer.store.queries import DEFAULT_ROWS, MAX_DEPTH, MAX_ROWS

if TYPE_CHECKING:  # the job machinery imports the whole pipeline: loaded at the first index job
    from indexer.jobs import IndexJob, JobManager

log = logging.getLogger("graphdex.mcp")
T = TypeVar("T")
PROGRESS_INTERVAL = 0.25  # seconds between progress notifications while a job runs


# ----------------------------------------------------------------------------------------- output models


class Symbol(BaseModel):
    id: str = Field(description="unique node id (pass it back to get_symbol, callers, ...)")
    repo: str = Field(description="the repository id")
    kind: str = Field(description="File, Module, ExternalModule, Class, Function or Method")
    name: str
    qualified_name: str = Field(description="dotted name, e.g. pkg.module.Class.method; a File's path")
    path: str | None = Field(None, description="file path relative to the repository root")
    start_line: int | None = None
    end_line: int | None = None
    signature: str | None = None
    docstring: str | None = Field(None, description="first paragraph of the docstring")


class SymbolAtDepth(Symbol):
    depth: int = Field(description="number of calls between this symbol and the one asked about")


class JobStatus(BaseModel):
    job_id: str
    repo: str
    root: str
    state: str = Field(description="queued, running, succeeded, failed or cancelled")
    phase: str = Field(description="discover, plan, parse, resolve, write, count, or the final state")
    message: str = ""
    files_done: int = 0
    files_total: int = 0
    files_per_second: float = 0.0
    eta_seconds: float | None = Field(None, description="estimated seconds left while parsing")
    elapsed_seconds: float = 0.0
    executor: str = Field(description="serial, thread or process (auto before the run decides)")
    executor_reason: str | None = None
    workers: int
    pool_size: int = Field(description="Bolt connection pool size")
    free_threading_build: bool
    gil_enabled: bool
    gil_cause: str | None = None
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    error: str | None = None
    nodes: dict[str, int] = Field(default_factory=dict, description="nodes in the graph by kind, after the run")
    relationships: dict[str, int] = Field(default_factory=dict, description="relationships by type, after the run")
    files_indexed: int | None = None
    files_changed: int | None = None
    files_deleted: int | None = None
    files_skipped: int = 0
    files_failed: int = 0
    syntax_errors: int | None = None
    skipped: list[dict[str, str]] = Field(default_factory=list, description="first few skipped files, with reasons")
    failed: list[dict[str, str]] = Field(default_factory=list, description="first few failed files, with reasons")
    wall_seconds: float | None = None
    cancelled: bool | None = None


class IndexStarted(BaseModel):
    job: JobStatus
    created: bool = Field(description="false when a job for this path was already queued or running")
    settings: dict[str, Any] = Field(description="the job's settings (no secrets)")
    allowed_roots: list[str]
    roots_source: str = Field(description="client roots, GRAPHDEX_ALLOWED_ROOTS or current working directory")


class JobList(BaseModel):
    jobs: list[JobStatus] = Field(description="newest first")


class FoundSymbols(BaseModel):
    mode_used: str = Field(description="how the search ran (full-text index or substring fallback)")
    count: int
    symbols: list[Symbol]


class SymbolSource(BaseModel):
    symbol: Symbol
    file: str | None = Field(None, description="absolute path of the file on the indexing machine")
    source: str | None = Field(None, description="the symbol's lines (start_line..end_line)")
    source_error: str | None = None
    truncated: bool = False


class Callers(BaseModel):
    symbol: Symbol
    depth: int
    count: int
    callers: list[SymbolAtDepth]


class Callees(BaseModel):
    symbol: Symbol
    depth: int
    count: int
    callees: list[SymbolAtDepth]


class ModuleRef(BaseModel):
    qualified_name: str
    kind: str = Field(description="Module (in the repository) or ExternalModule")


class ModuleImports(BaseModel):
    module: Symbol
    imports: list[ModuleRef]
    imported_by: list[ModuleRef]


class ClassRef(BaseModel):
    qualified_name: str
    path: str | None = None
    depth: int = Field(description="inheritance steps away (1 = direct base / subclass)")


class ClassHierarchy(BaseModel):
    symbol: Symbol
    ancestors: list[ClassRef]
    descendants: list[ClassRef]


class Repository(BaseModel):
    id: str
    name: str | None = None
    root: str | None = None
    indexed_at: str | None = None
    files: int | None = None
    nodes: dict[str, int]
    relationships: dict[str, int]


class Repositories(BaseModel):
    repositories: list[Repository]


class Removed(BaseModel):
    repo: str
    removed_nodes: int


class CypherResult(BaseModel):
    columns: list[str]
    rows: list[dict[str, Any]]
    row_count: int
    truncated: bool = Field(description="true when more rows existed than the limit")
    limit: int


# ----------------------------------------------------------------------------------------- state


class App:
    """Process-wide state: settings, the lazily opened shared GraphStore, and the index jobs."""

    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._store: GraphStore | None = None
        self._lock = threading.Lock()
        self._jobs: JobManager | None = None
        self._jobs_lock = threading.Lock()  # not _lock: that one is held while the graph server starts
        self.tasks: TaskGroup | None = None  # lives as long as the server: progress streams of running jobs

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings.from_env()  # ConfigError names the bad variable
        return self._settings

    def store(self) -> GraphStore:
        """The shared store, opened on first use; later calls reuse it."""
        with self._lock:
            if self._store is None:
                from indexer.connect import open_store  # imported late: start-up stays light

                self._store = open_store(self.settings)
                log.info("connected to %s (%s)", self._store.config.uri, self._store.agent)
            return self._store

    @property
    def jobs(self) -> JobManager:
        with self._jobs_lock:
            if self._jobs is None:
                from indexer.jobs import JobManager

                self._jobs = JobManager(self.store_for)
            return self._jobs

    @property
    def open_store(self) -> GraphStore | None:
        return self._store

    def store_for(self, settings: Settings) -> GraphStore | None:
        """The shared store for a job whose pool size matches it; else None and the run opens its own."""
        store = self.store()
        return store if settings.connection_pool_size == store.config.pool_size else None

    def close(self) -> None:
        if self._jobs is not None:
            self._jobs.shutdown()
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None
        if "indexer.vectors" in sys.modules:  # loaded only if a search or an embedding run happened
            sys.modules["indexer.vectors"].close_shared_embedders()


APP = App()


@asynccontextmanager
async def lifespan(server: MCPServer[Any]) -> AsyncIterator[None]:
    async with anyio.create_task_group() as tasks:
        APP.tasks = tasks
        try:
            yield
        finally:
            tasks.cancel_scope.cancel()
            APP.tasks = None
            await anyio.to_thread.run_sync(APP.close)


mcp: MCPServer[Any] = MCPServer(
    "graphdex",
    version=__version__,
    instructions=(
        "graphdex answers questions about a code repository from its code graph (modules, classes, functions, "
        "methods; imports, calls, inheritance). Index a repository with index_repository and poll index_status, "
        "then use find_symbols to find names and get_symbol / callers / callees / module_imports / "
        "class_hierarchy to explore. cypher_query runs read-only Cypher over the schema in graphdex://schema."
    ),
    lifespan=lifespan,
)

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)


async def blocking(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run blocking library code off the event loop; graphdex's own errors become tool errors (isError)."""
    try:
        return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs))
    except GraphdexError as exc:
        raise ToolError(str(exc)) from exc


async def graph(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`fn(store, *args)` with the shared store, opened on first use."""
    return await blocking(lambda: fn(APP.store(), *args, **kwargs))


# ----------------------------------------------------------------------------------------- argument types

RepoArg = Annotated[str | None, Field(description="repository id (see list_repositories); all when omitted")]
NameArg = Annotated[str, Field(min_length=1, description="qualified name (e.g. pkg.module.Class.method) or node id")]
DepthArg = Annotated[int, Field(ge=1, le=MAX_DEPTH, description=f"how many calls away to follow (1-{MAX_DEPTH})")]
LimitArg = Annotated[int, Field(ge=1, le=MAX_ROWS, description=f"maximum rows (1-{MAX_ROWS}); larger is refused")]
KindArg = Annotated[
    Literal["File", "Module", "ExternalModule", "Class", "Function", "Method"] | None,
    Field(description="only nodes of this kind"),
]


# ----------------------------------------------------------------------------------------- index jobs


@mcp.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True))
async def index_repository(
    ctx: Context,
    path: Annotated[str, Field(min_length=1, description="absolute path of the repository's root folder")],
    workers: Annotated[int | None, Field(ge=1, le=MAX_WORKERS, description="parallel parse workers")] = None,
    executor: Annotated[
        Literal[EXECUTORS] | None,  # type: ignore[valid-type]
        Field(description="auto (default): threads on free-threaded Python with the GIL off, else processes"),
    ] = None,
    pool_size: Annotated[int | None, Field(ge=1, description="Bolt connection pool size (>= workers)")] = None,
    name: Annotated[str | None, Field(min_length=1, description="repository id (default: the folder name)")] = None,
) -> IndexStarted:
    """Index (or re-index) a repository into the code graph in the background and return at once with a job id.

    Re-indexing is incremental: only changed files are rewritten. The path must lie inside an allowed root (the
    client's MCP roots, else GRAPHDEX_ALLOWED_ROOTS, else the server's working directory). A second request
    for a path already being indexed returns the running job. Poll index_status(job_id) until its state is
    succeeded, failed or cancelled; with a progress token, progress notifications (files parsed / total)
    follow the job.
    """
    roots, source = await allowed_roots(ctx)
    root = check_path(path, roots, source)
    try:
        settings = APP.settings.with_overrides(workers=workers, executor=executor, pool_size=pool_size)
    except ConfigError as exc:
        raise ToolError(str(exc)) from exc
    job, created = await blocking(APP.jobs.submit, root, settings, name)
    token = progress_token(ctx)
    if token is not None:
        await ctx.report_progress(0, None, f"job {job.id} {job.state}: {job.root}")
        if created and APP.tasks is not None:
            APP.tasks.start_soon(stream_progress, ctx.session, token, job)
    return IndexStarted(
        job=JobStatus(**job.snapshot()),
        created=created,
        settings=settings.public_dict(),
        allowed_roots=[str(r) for r in roots],
        roots_source=source,
    )


@mcp.tool(annotations=READ_ONLY)
async def index_status(
    job_id: Annotated[
        str | None, Field(description="a job id from index_repository; all recent jobs if omitted")
    ] = None,
) -> JobList:
    """State of one index job, or of all recent jobs (newest first): state (queued, running, succeeded, failed,
    cancelled), phase, files done / total, files/s, ETA, nodes and relationships written, skipped and failed
    files with reasons, executor, workers, pool size, GIL state, start / end times and any error."""
    if job_id is None:
        return JobList(jobs=[JobStatus(**j.snapshot()) for j in APP.jobs.list()])
    return JobList(jobs=[JobStatus(**find_job(job_id).snapshot())])


@mcp.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True))
async def cancel_index(job_id: Annotated[str, Field(min_length=1, description="the job to stop")]) -> JobStatus:
    """Stop an index job: a queued job never starts; a running one stops at its next batch (usually within a
    second or two) and leaves the graph consistent: a later index_repository of the same path converges.
    Returns the job; poll index_status until its state is cancelled."""
    find_job(job_id)
    job = APP.jobs.cancel(job_id)
    assert job is not None
    return JobStatus(**job.snapshot())


def find_job(job_id: str) -> IndexJob:
    job = APP.jobs.get(job_id)
    if job is None:
        raise ToolError(f"no index job with id {job_id!r}; index_status without job_id lists recent jobs")
    return job


# ----------------------------------------------------------------------------------------- graph tools


@mcp.tool(annotations=READ_ONLY)
async def find_symbols(
    query: Annotated[str, Field(min_length=1, description="a name, qualified-name prefix or words")],
    mode: Annotated[
        Literal["exact", "prefix", "fulltext"],
        Field(
            description="exact: name or qualified_name equals query; prefix: either starts with it; fulltext: "
            "words in names and docstrings"
        ),
    ] = "exact",
    kind: KindArg = None,
    repo: RepoArg = None,
    limit: LimitArg = 20,
) -> FoundSymbols:
    """Find classes, functions, methods, modules and files by name. Returns ids, qualified names, kinds,
    locations, signatures and docstrings; `mode_used` says how a fulltext search ran (the full-text index on
    Neo4j, a case-insensitive substring match on ArcadeDB)."""
    return FoundSymbols(**await graph(queries.find_symbols, query, mode, kind, repo, limit))


@mcp.tool(annotations=READ_ONLY)
async def get_symbol(name: NameArg, repo: RepoArg = None) -> SymbolSource:
    """A symbol's location (file, lines), signature, docstring and source code, read from the indexed checkout
    (at most 400 lines; `truncated` says when it was cut)."""
    return SymbolSource(**await graph(queries.get_symbol, name, repo))


@mcp.tool(annotations=READ_ONLY)
async def callers(name: NameArg, repo: RepoArg = None, depth: DepthArg = 1, limit: LimitArg = 100) -> Callers:
    """Functions and methods that call the given function or method: direct callers (depth 1) or, with a
    larger depth, callers of callers; each with its distance. Only calls graphdex could resolve are known."""
    return Callers(**await graph(queries.callers, name, repo, depth, limit))


@mcp.tool(annotations=READ_ONLY)
async def callees(name: NameArg, repo: RepoArg = None, depth: DepthArg = 1, limit: LimitArg = 100) -> Callees:
    """Functions and methods the given function or method calls: directly (depth 1) or, with a larger depth,
    transitively; each with its distance. Calls into libraries outside the repository are not in the graph."""
    return Callees(**await graph(queries.callees, name, repo, depth, limit))


@mcp.tool(annotations=READ_ONLY)
async def module_imports(
    module: Annotated[str, Field(min_length=1, description="dotted module name (e.g. pkg.shapes) or node id")],
    repo: RepoArg = None,
) -> ModuleImports:
    """What a module imports (modules of the repository and external ones) and which modules import it.
    Works for external modules too (e.g. `json`: who imports it)."""
    return ModuleImports(**await graph(queries.module_imports, module, repo))


@mcp.tool(annotations=READ_ONLY)
async def class_hierarchy(
    name: Annotated[str, Field(min_length=1, description="qualified class name or node id")],
    repo: RepoArg = None,
    depth: Annotated[int, Field(ge=1, le=MAX_DEPTH, description="inheritance steps to follow")] = MAX_DEPTH,
) -> ClassHierarchy:
    """A class's ancestors (base classes, transitively) and descendants (subclasses, transitively), each with
    its distance. Only bases defined in the indexed repository are linked."""
    return ClassHierarchy(**await graph(queries.class_hierarchy, name, repo, depth))


@mcp.tool(annotations=READ_ONLY)
async def list_repositories() -> Repositories:
    """Indexed repositories: id, root folder, when indexed, file count, and node / relationship counts."""
    return Repositories(repositories=await graph(queries.list_repositories))


@mcp.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True))
async def remove_repository(
    repo: Annotated[str, Field(min_length=1, description="repository id (see list_repositories)")],
) -> Removed:
    """Delete a repository and all its nodes and relationships from the graph (the files on disk are not
    touched). Refused while an index job for it is queued or running."""
    active = APP.jobs.active_for_repo(repo)
    if active is not None:
        raise ToolError(f"repository {repo!r} is being indexed by job {active.id}; cancel_index it first")

    def remove(store: GraphStore) -> int:
        if store.repository(repo) is None:
            raise ConfigError(f"no repository {repo!r}; list_repositories shows the indexed ones")
        return store.delete_repository(repo)

    return Removed(repo=repo, removed_nodes=await graph(remove))


@mcp.tool(annotations=READ_ONLY)
async def cypher_query(
    query: Annotated[str, Field(min_length=1, description="a read-only Cypher query (schema: graphdex://schema)")],
    params: Annotated[dict[str, Any] | None, Field(description="query parameters ($name in the query)")] = None,
    limit: Annotated[
        int, Field(ge=1, le=MAX_ROWS, description=f"maximum rows returned (1-{MAX_ROWS}); larger is refused")
    ] = DEFAULT_ROWS,
) -> CypherResult:
    """Run a read-only Cypher query over the code graph. Writes are refused (CREATE, MERGE, DELETE, SET, REMOVE,
    DROP, FOREACH, LOAD CSV, CALL … IN TRANSACTIONS, write procedures) and the query runs in a read-access
    session; at most `limit` rows come back (`truncated` says when there were more). Nodes are returned as
    their properties plus `labels`."""
    return CypherResult(**await graph(queries.read_only_cypher, query, params, limit))


class SearchHit(BaseModel):
    qualified_name: str
    kind: str
    score: float = Field(description="similarity (semantic: (1 + cosine) / 2) or word-match score (fulltext)")
    path: str | None
    start_line: int | None
    end_line: int | None
    snippet: str
    repo: str | None = None


class SearchResults(BaseModel):
    mode: str = Field(description="semantic (vector index) or fulltext (the fallback when embeddings are off)")
    results: list[SearchHit]
    note: str | None = Field(default=None, description="why the fallback ran, when it did")


@mcp.tool(annotations=READ_ONLY)
async def semantic_search(
    query: Annotated[str, Field(min_length=1, description="what the code does, in words")],
    k: Annotated[int, Field(ge=1, le=100, description="how many results (1-100)")] = 10,
    repo: RepoArg = None,
    kind: Annotated[
        Literal["Function", "Method", "Class", "Module", "File"] | None,
        Field(description="only symbols of this kind (File: a module's own top-level code)"),
    ] = None,
) -> SearchResults:
    """Search code by meaning: embeds the query and ranks functions, methods, classes and module code by vector
    similarity, one result per symbol with its score, location and a snippet. When no embedding provider is
    configured (OPENAI_API_KEY / OPENAI_BASE_URL), falls back to text search over names and docstrings and says
    so in `note`."""
    from indexer.search import semantic_search as search

    return SearchResults(**await graph(search, query, k, repo, kind))


# ----------------------------------------------------------------------------------------- roots and progress


async def allowed_roots(ctx: Context) -> tuple[list[Path], str]:
    """The client's MCP roots when it offers them, else GRAPHDEX_ALLOWED_ROOTS, else the working directory."""
    caps = ctx.client_capabilities
    if caps is not None and caps.roots is not None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # roots are deprecated in the newest protocol, still offered
                listed = await ctx.session.list_roots()
            paths = [uri_path(str(r.uri)) for r in listed.roots if str(r.uri).startswith("file:")]
            if paths:
                return paths, "client roots"
        except Exception as exc:  # noqa: BLE001 - a client that fails roots/list falls back, with a note
            log.warning("roots/list failed (%s); falling back to GRAPHDEX_ALLOWED_ROOTS", exc)
    env = os.environ.get("GRAPHDEX_ALLOWED_ROOTS", "").strip()
    if env:
        return [Path(p).expanduser() for p in env.split(os.pathsep) if p.strip()], "GRAPHDEX_ALLOWED_ROOTS"
    return [Path.cwd()], "current working directory"


def uri_path(uri: str) -> Path:
    return Path(url2pathname(unquote(urlsplit(uri).path)))


def check_path(path: str, roots: list[Path], source: str) -> Path:
    given = Path(path).expanduser()
    if not given.is_absolute():
        raise ToolError(f"path must be absolute, not {path!r}")
    resolved = given.resolve()
    if not any(resolved.is_relative_to(r.resolve()) for r in roots):
        allowed = ", ".join(str(r) for r in roots)
        raise ToolError(f"{path} is outside the allowed roots ({source}: {allowed})")
    if not resolved.is_dir():
        raise ToolError(f"{path}: " + ("not a directory" if resolved.exists() else "no such directory"))
    return resolved


def progress_token(ctx: Context) -> str | int | None:
    meta = ctx.request_context.meta or {}
    return meta.get("progress_token", meta.get("progressToken"))  # type: ignore[return-value]


async def stream_progress(session: Any, token: str | int, job: IndexJob) -> None:
    """Progress notifications for a job until it ends, against the index_repository request's token.

    The tool has answered already, so these go on the connection rather than the (closed) request; the
    progress value only grows, as the protocol asks, and the last one carries the final state."""
    last = 0.0
    while True:
        active = job.active
        done, total, message = job.overall_progress()
        if done > last:
            try:
                await session.send_progress_notification(token, done, total, message)
            except Exception as exc:  # noqa: BLE001 - a gone client ends the stream, not the job
                log.debug("progress stream for job %s ended: %s", job.id, exc)
                return
            last = done
        if not active:
            return
        await anyio.sleep(PROGRESS_INTERVAL)


# ----------------------------------------------------------------------------------------- resources and prompt


@mcp.resource(
    "graphdex://runtime",
    name="runtime",
    mime_type="application/json",
    description="Python build, free-threading and GIL state, the executor `auto` picks and why, default "
    "workers, connection pool size, and the graph server's address and agent.",
)
async def runtime_resource() -> str:
    """Answers without starting the graph server: before the first graph tool it says `connected: false`."""
    info = runtime.report().to_dict()
    try:
        settings = APP.settings
    except ConfigError as exc:
        return json.dumps({**info, "settings_error": str(exc)}, indent=2)
    info.update(
        default_executor=settings.executor,
        default_workers=settings.workers,
        connection_pool_size=settings.connection_pool_size,
        home=str(settings.home),
        graph_server=await anyio.to_thread.run_sync(graph_server_info, settings),
    )
    return json.dumps(info, indent=2)


def graph_server_info(settings: Settings) -> dict[str, Any]:
    store = APP.open_store
    if store is not None:
        return {
            "connected": True,
            "address": public_uri(store.config.uri),
            "agent": store.agent,
            "dialect": store.dialect.name,
            "managed": store.config.managed,
            "database": store.config.database,
        }
    if settings.neo4j_uri:
        return {
            "connected": False,
            "address": public_uri(settings.neo4j_uri),
            "agent": None,
            "managed": False,
            "note": "not connected yet: graphdex connects at the first tool that needs the graph",
        }
    info = localdb.status(settings)  # reads the state file and pings; never starts a server
    return {
        "connected": False,
        "address": info.bolt_uri if info else None,
        "agent": None,
        "managed": True,
        "note": "managed local ArcadeDB "
        + ("running, " if info else "not running (starts on first use), ")
        + "not connected yet: graphdex connects at the first tool that needs the graph",
    }


def public_uri(uri: str) -> str:
    """The URI without any user:password@ part."""
    parts = urlsplit(uri)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=host))


@mcp.resource(
    "graphdex://schema",
    name="schema",
    mime_type="application/json",
    description="The code graph's node labels, relationship types and properties, for cypher_query.",
)
def schema_resource() -> str:
    return json.dumps(queries.SCHEMA, indent=2)


@mcp.prompt(description="How to explore a code base with graphdex's tools.")
def explore_codebase(question: str = "How is this code base organised?") -> str:
    return (
        "You have graphdex, a code graph of indexed repositories. Answer this question with it:\n\n"
        f"{question}\n\n"
        "1. list_repositories shows what is indexed; if the repository is missing, index_repository(path) and "
        "poll index_status(job_id) until succeeded.\n"
        "2. find_symbols(query, mode='prefix' or 'fulltext') finds classes, functions, methods and modules.\n"
        "3. get_symbol(qualified_name) gives the source; callers / callees follow calls (depth 1-5); "
        "module_imports shows imports both ways; class_hierarchy shows bases and subclasses.\n"
        "4. For anything else, cypher_query runs read-only Cypher; read graphdex://schema first.\n"
        "Cite qualified names and file:line locations in your answer."
    )


# ----------------------------------------------------------------------------------------- entry point


def main() -> None:
    """Run the stdio server (`graphdex serve`, `python -m mcp_server`)."""
    level = os.environ.get("GRAPHDEX_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(
        stream=sys.stderr, level=level, force=True, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    runtime.watch_gil()
    log.info("graphdex MCP server %s on Python %s (stdio)", __version__, sys.version.split()[0])
    mcp.run("stdio")
