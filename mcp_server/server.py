"""graphdex's MCP stdio server: index jobs, graph tools, the runtime and schema resources, and a prompt.

A face over the library: every tool calls one library function and returns its typed answer (indexer/results.py),
so the output schemas come from the library. Nothing here touches the graph server before a tool needs it.
Blocking work runs in worker threads so the event loop keeps answering. stdout carries the protocol only; logs go
to stderr. Every failure reaches the client as a tool error with a one-sentence reason.

A client sees an index job move in two ways: `index_repository(wait=true)` keeps its request open and sends
progress notifications with the request's token until the job ends (and none after the answer); and each job is
a resource, `graphdex://jobs/{id}`, whose subscribers are told when it changes (jobfeed.py).
"""

from __future__ import annotations

import json
import logging
import math
import sys
import warnings
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

import anyio
from mcp import types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel.server import NotificationOptions
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from mcp.server.stdio import stdio_server
from mcp.server.subscriptions import InMemorySubscriptionBus
from mcp.types import ToolAnnotations
from pydantic import Field

from indexer import __version__, runtime
from indexer import results as r
from indexer.answers import architecture as layering
from indexer.answers import changes as diffs
from indexer.answers import dead_code as unused
from indexer.answers import impact as dependents
from indexer.answers import paths as chains
from indexer.errors import ConfigError, GraphdexError
from indexer.pipeline.cache import forget_facts
from indexer.pipeline.parse.languages import support as language_support
from indexer.roots import allowed_path, uri_path
from indexer.settings import EXECUTORS, MAX_WORKERS
from indexer.store import queries
from indexer.store.connect import server_info
from indexer.store.queries import DEFAULT_ROWS, MAX_DEPTH, MAX_ROWS

from .app import App
from .jobfeed import JOBS_URI, REPOS_URI, JobFeed, job_uri

if TYPE_CHECKING:
    from indexer.jobs import IndexJob

log = logging.getLogger("graphdex.mcp")
T = TypeVar("T")
PROGRESS_PACE = 0.25  # wait=true: at least this long between progress notifications while the job moves ...
HEARTBEAT = 0.8  # ... and at most this long while it does not (clients that reset a time-out on progress)

APP = App()
BUS = InMemorySubscriptionBus()  # 2026-07-28 subscriptions/listen streams
FEED = JobFeed(BUS)


@asynccontextmanager
async def lifespan(server: MCPServer[Any]) -> AsyncIterator[None]:
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(FEED.run)
        try:
            yield
        finally:
            tasks.cancel_scope.cancel()
            FEED.close()
            await anyio.to_thread.run_sync(APP.close)


class GraphdexServer(MCPServer[Any]):
    """MCPServer plus what the SDK (2.3) has no decorator for: `resources/subscribe` and `resources/unsubscribe`
    for handshake-era clients, the resources `listChanged` capability on the handshake, and each index job in
    `resources/list`. (At 2026-07-28 the SDK derives both capabilities from its `subscriptions/listen` handler.)"""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        low = self._lowlevel_server  # no public hook for these two methods on MCPServer
        low.add_request_handler("resources/subscribe", types.SubscribeRequestParams, self._subscribe)
        low.add_request_handler("resources/unsubscribe", types.UnsubscribeRequestParams, self._unsubscribe)

    async def _subscribe(
        self, ctx: ServerRequestContext[Any], params: types.SubscribeRequestParams
    ) -> types.EmptyResult:
        FEED.subscribe(ctx.session, ctx.protocol_version, str(params.uri))
        return types.EmptyResult()

    async def _unsubscribe(
        self, ctx: ServerRequestContext[Any], params: types.UnsubscribeRequestParams
    ) -> types.EmptyResult:
        FEED.unsubscribe(str(params.uri))
        return types.EmptyResult()

    async def list_resources(self) -> list[types.Resource]:
        jobs = [
            types.Resource(
                uri=job_uri(job.id),
                name=f"job {job.id}",
                description=f"index job of {job.repo} ({job.state}): its index_status as JSON",
                mime_type="application/json",
            )
            for job in APP.job_list()
        ]
        return [*await super().list_resources(), *jobs]

    async def run_stdio_async(self) -> None:
        low = self._lowlevel_server
        async with stdio_server() as (read, write):
            await low.run(read, write, low.create_initialization_options(NotificationOptions(resources_changed=True)))


mcp = GraphdexServer(
    "graphdex",
    version=__version__,
    instructions=(
        "graphdex answers questions about a code repository from its code graph (modules, classes, functions, "
        "methods; imports, calls, inheritance). Index a repository with index_repository (wait=true keeps the "
        "request open with progress until the job ends; otherwise poll index_status or subscribe to the job's "
        "resource graphdex://jobs/{job_id}), then use find_symbols to find names and get_symbol / callers / "
        "callees / module_imports / class_hierarchy to explore. impact (what a change breaks), detect_changes "
        "(what the working tree's diff touches), dead_code, call_path and architecture answer whole questions. "
        "cypher_query runs read-only Cypher over the schema in graphdex://schema."
    ),
    lifespan=lifespan,
    subscriptions=BUS,
)

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)


async def blocking(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run blocking library code off the event loop; every failure becomes a tool error with its reason."""
    try:
        return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs))
    except GraphdexError as exc:
        raise ToolError(str(exc)) from exc
    except (OSError, ValueError) as exc:
        raise ToolError(f"{type(exc).__name__}: {getattr(exc, 'strerror', None) or exc}") from exc
    except Exception as exc:
        log.exception("internal error")
        raise ToolError(f"internal error ({type(exc).__name__}: {exc}); the server log has the details") from exc


async def graph(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`fn(store, *args)` with the shared store, reconnecting once if its server went away."""
    return await blocking(APP.with_store, lambda store: fn(store, *args, **kwargs))


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
        Field(description="auto (default): threads on free-threaded Python with the GIL off, else processes; "
                          "dask: the Dask cluster the server's GRAPHDEX_DASK_SCHEDULER names (graphdex[dask])"),
    ] = None,
    pool_size: Annotated[int | None, Field(ge=1, description="Bolt connection pool size (>= workers)")] = None,
    name: Annotated[str | None, Field(min_length=1, description="repository id (default: the folder name)")] = None,
    wait: Annotated[
        bool,
        Field(description="keep the request open until the job ends, with progress notifications (files done / "
                          "total, phase) at least every second when the request has a progress token; "
                          "cancelling the request cancels the job. false (default): answer at once"),
    ] = False,
    wait_seconds: Annotated[
        float | None,
        Field(gt=0, description="with wait=true, answer after this many seconds at the latest, with the job "
                                "still running (no limit when omitted)"),
    ] = None,
    embed: Annotated[
        bool,
        Field(description="false: skip embedding for this job (semantic search then lacks its changed files "
                          "until a later job embeds them)"),
    ] = True,
    watch: Annotated[
        bool | None,
        Field(description="true: keep the repository fresh, re-indexing it whenever its files change (its "
                          "resource graphdex://repos/{repo} tells subscribers of each refresh); false: stop; "
                          "omitted: GRAPHDEX_WATCH decides for a repository not watched yet"),
    ] = None,
) -> r.IndexStarted:
    """Index (or re-index) a repository into the code graph in the background, and answer with the job.

    By default the answer comes at once; follow the job with index_status(job_id), or read or subscribe to its
    resource (`resource` in the answer, graphdex://jobs/{job_id}): subscribers are told as it moves. With
    wait=true the answer comes when the job has ended (or after wait_seconds), with progress notifications
    meanwhile; cancelling such a request cancels the job it started. Re-indexing is incremental: only changed
    files are rewritten. The path must lie inside an allowed root (the client's MCP roots, else
    GRAPHDEX_ALLOWED_ROOTS, else the server's working directory). A second request for a path already being
    indexed returns the running job; a run of the same repository elsewhere (the CLI, another server) is waited
    for.
    """
    roots, source = await allowed_roots(ctx)
    root = await blocking(allowed_path, path, roots, source)
    settings = await blocking(APP.settings.with_overrides, workers=workers, executor=executor, pool_size=pool_size)
    FEED.meet(ctx.session, ctx.request_context.protocol_version)
    FEED.attach(await blocking(lambda: APP.jobs))
    job, created = await blocking(APP.jobs.submit, root, settings, name, "request", embed)
    if watch or (watch is None and settings.watch):
        await blocking(APP.jobs.keep_fresh, root, settings, name)
    elif watch is False:
        await blocking(APP.jobs.stop_fresh, root)
    if wait:
        try:
            await wait_for(ctx, job, wait_seconds)
        except anyio.get_cancelled_exc_class():
            if created:  # the request that started the job was cancelled: so is the job
                log.info("index_repository request cancelled: cancelling job %s", job.id)
                APP.jobs.cancel(job.id)
            raise
    return {
        "job": job.status(),
        "created": created,
        "resource": job_uri(job.id),
        "settings": settings.public_dict(),
        "allowed_roots": [str(p) for p in roots],
        "roots_source": source,
    }


async def wait_for(ctx: Context, job: IndexJob, wait_seconds: float | None) -> None:
    """Until the job ends (or wait_seconds pass): progress notifications with the request's token, at most one per
    PROGRESS_PACE while the job moves and at least one per HEARTBEAT while it does not, strictly increasing, the
    last one at the total. They all precede the answer: nothing is sent with the token afterwards."""
    from indexer.jobs import ProgressSeries

    series = ProgressSeries(job)
    deadline = math.inf if wait_seconds is None else anyio.current_time() + wait_seconds
    last, moved = -math.inf, True
    while True:
        change = FEED.next_change(job.id)  # taken before reading the job: no change slips between
        if not job.active:
            break
        now = anyio.current_time()
        if now >= deadline:
            return
        if (moved and now - last >= PROGRESS_PACE) or now - last >= HEARTBEAT:
            report = series.next()
            if report is not None:
                await ctx.report_progress(*report)
            last, moved = now, False
        wake = min(last + (PROGRESS_PACE if moved else HEARTBEAT), deadline)
        if moved:  # a change waits for the pace
            await anyio.sleep(max(wake - anyio.current_time(), 0.0))
            continue
        with anyio.move_on_after(max(wake - anyio.current_time(), 0.0)):
            await change.wait()
            moved = True
    report = series.next()  # the final one, at the total (None if the loop already sent it)
    if report is not None:
        await ctx.report_progress(*report)


@mcp.tool(annotations=READ_ONLY)
async def index_status(
    job_id: Annotated[
        str | None, Field(description="a job id from index_repository; all recent jobs if omitted")
    ] = None,
) -> r.JobList:
    """State of one index job, or of all recent jobs (newest first): state (queued, running, succeeded, failed,
    cancelled), phase, files done / total, files/s, ETA, nodes and relationships written, skipped and failed
    files with reasons, executor, workers, pool size, GIL state, start / end times and any error."""
    if job_id is None:
        return {"jobs": [j.status() for j in APP.jobs.list()]}
    job = await blocking(APP.jobs.get, job_id)
    return {"jobs": [job.status()]}


@mcp.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True))
async def cancel_index(job_id: Annotated[str, Field(min_length=1, description="the job to stop")]) -> r.JobStatus:
    """Stop an index job: a queued job never starts; a running one stops at its next batch (usually within a
    second or two) and leaves the graph consistent: a later index_repository of the same path converges.
    Returns the job; poll index_status until its state is cancelled."""
    job = await blocking(APP.jobs.cancel, job_id)
    return job.status()


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
) -> r.FoundSymbols:
    """Find classes, functions, methods, modules and files by name. Returns ids, qualified names, kinds,
    locations, signatures and docstrings; `mode_used` says how a fulltext search ran (the full-text index on
    Neo4j, a case-insensitive substring match on ArcadeDB)."""
    return await graph(queries.find_symbols, query, mode, kind, repo, limit)


@mcp.tool(annotations=READ_ONLY)
async def get_symbol(name: NameArg, repo: RepoArg = None) -> r.SymbolSource:
    """A symbol's location (file, lines), signature, docstring and source code, read from the indexed checkout
    (at most 400 lines; `truncated` says when it was cut)."""
    return await graph(queries.get_symbol, name, repo)


@mcp.tool(annotations=READ_ONLY)
async def callers(name: NameArg, repo: RepoArg = None, depth: DepthArg = 1, limit: LimitArg = 100) -> r.Callers:
    """Functions and methods that call the given function or method: direct callers (depth 1) or, with a
    larger depth, callers of callers; each with its distance. Only calls graphdex could resolve are edges;
    `unresolved` lists the calls carrying the same name that could not be resolved (`x.save()` on a receiver
    of unknown class), so that few callers is never a silent guess."""
    return await graph(queries.callers, name, repo, depth, limit)


@mcp.tool(annotations=READ_ONLY)
async def callees(name: NameArg, repo: RepoArg = None, depth: DepthArg = 1, limit: LimitArg = 100) -> r.Callees:
    """Functions and methods the given function or method calls: directly (depth 1) or, with a larger depth,
    transitively; each with its distance. Calls into libraries outside the repository are not in the graph;
    `unresolved` lists the calls it (and the callees above the last depth) makes that could not be resolved."""
    return await graph(queries.callees, name, repo, depth, limit)


@mcp.tool(annotations=READ_ONLY)
async def module_imports(
    module: Annotated[str, Field(min_length=1, description="dotted module name (e.g. pkg.shapes) or node id")],
    repo: RepoArg = None,
) -> r.ModuleImports:
    """What a module imports (modules of the repository and external ones) and which modules import it.
    Works for external modules too (e.g. `json`: who imports it)."""
    return await graph(queries.module_imports, module, repo)


@mcp.tool(annotations=READ_ONLY)
async def class_hierarchy(
    name: Annotated[str, Field(min_length=1, description="qualified class name or node id")],
    repo: RepoArg = None,
    depth: Annotated[int, Field(ge=1, le=MAX_DEPTH, description="inheritance steps to follow")] = MAX_DEPTH,
) -> r.ClassHierarchy:
    """A class's ancestors (base classes, transitively) and descendants (subclasses, transitively), each with
    its distance. Only bases defined in the indexed repository are linked."""
    return await graph(queries.class_hierarchy, name, repo, depth)


@mcp.tool(annotations=READ_ONLY)
async def list_repositories() -> r.Repositories:
    """Indexed repositories: id, root folder, when indexed, file count, and node / relationship counts."""
    return await graph(queries.list_repositories)


@mcp.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True))
async def remove_repository(
    repo: Annotated[str, Field(min_length=1, description="repository id (see list_repositories)")],
) -> r.Removed:
    """Delete a repository and all its nodes and relationships from the graph (the files on disk are not
    touched), stop watching it, and forget its cached facts. Refused while an index job for it is queued or
    running."""
    active = APP.jobs.active_for_repo(repo)
    if active is not None:
        raise ToolError(f"repository {repo!r} is being indexed by job {active.id}; cancel_index it first")
    APP.jobs.stop_fresh(repo=repo)
    removed = await graph(queries.remove_repository, repo)
    await blocking(forget_facts, APP.settings.home, repo)
    return removed


@mcp.tool(annotations=READ_ONLY)
async def cypher_query(
    query: Annotated[str, Field(min_length=1, description="a read-only Cypher query (schema: graphdex://schema)")],
    params: Annotated[dict[str, Any] | None, Field(description="query parameters ($name in the query)")] = None,
    limit: Annotated[
        int, Field(ge=1, le=MAX_ROWS, description=f"maximum rows returned (1-{MAX_ROWS}); larger is refused")
    ] = DEFAULT_ROWS,
) -> r.CypherResult:
    """Run a read-only Cypher query over the code graph. Writes are refused (CREATE, INSERT, MERGE, DELETE, SET,
    REMOVE, DROP, FOREACH, LOAD CSV, CALL … IN TRANSACTIONS, write procedures), and whatever a check could miss
    is undone: the query runs in a transaction that is always rolled back, and one that changed anything is
    refused. At most `limit` rows come back (`truncated` says when there were more). Nodes are returned as
    their properties plus `labels`."""
    return await graph(queries.read_only_cypher, query, params, limit)


@mcp.tool(annotations=READ_ONLY)
async def semantic_search(
    query: Annotated[str, Field(min_length=1, description="what the code does, in words")],
    k: Annotated[int, Field(ge=1, le=100, description="how many results (1-100)")] = 10,
    repo: RepoArg = None,
    kind: Annotated[
        Literal["Function", "Method", "Class", "Module", "File"] | None,
        Field(description="only symbols of this kind (File: a module's own top-level code)"),
    ] = None,
) -> r.SearchResults:
    """Search code by meaning: embeds the query and ranks functions, methods, classes and module code by vector
    similarity, one result per symbol with its score, location and a snippet. When no embedding provider is
    configured (OPENAI_API_KEY / OPENAI_BASE_URL), falls back to text search over names and docstrings and says
    so in `note`."""
    from indexer.search import semantic_search as search

    return await graph(search, query, k, repo, kind)


# ----------------------------------------------------------------------------------------- answers (issue 13)

RepoRequired = Annotated[str, Field(min_length=1, description="repository id (see list_repositories)")]


@mcp.tool(annotations=READ_ONLY)
async def impact(
    name: Annotated[str, Field(min_length=1, description="qualified name or id of a function, method, class or "
                                                         "module")],
    repo: RepoArg = None,
    depth: Annotated[int, Field(ge=1, le=MAX_DEPTH, description=f"steps to follow (1-{MAX_DEPTH})")] = 3,
    limit: LimitArg = 100,
) -> r.Impact:
    """What breaks if this symbol changes: its callers and theirs up to `depth` calls away, the callers of the
    base methods it overrides, the methods overriding it, its subclasses, and the modules importing its module;
    grouped by depth and by file, the tests among them named, and a risk summary (files, modules, tests). Also
    the calls carrying its name that could not be resolved (possible dependents the graph cannot see)."""
    return await graph(dependents.impact, name, repo, depth, limit)


@mcp.tool(annotations=READ_ONLY)
async def detect_changes(
    repo: RepoRequired,
    base: Annotated[str, Field(min_length=1, description="git revision to compare the working tree with")] = "HEAD",
    depth: Annotated[int, Field(ge=1, le=MAX_DEPTH, description="how far each change's impact is followed")] = 2,
    limit: LimitArg = 100,
) -> r.Changes:
    """What the uncommitted changes touch: `git diff` between the repository's working tree (untracked files
    included) and `base`, mapped onto the graph's symbol lines: the innermost changed symbols, each with its
    impact, and everything they reach together (with the tests among them). Files changed since the last index
    are marked stale. A repository that is not in git is a tool error saying so."""
    return await graph(diffs.detect_changes, repo, base, depth, limit)


@mcp.tool(annotations=READ_ONLY)
async def dead_code(
    repo: RepoRequired,
    kind: Annotated[Literal["Function", "Method", "Class"] | None, Field(description="only this kind")] = None,
    limit: LimitArg = 100,
    include_excluded: Annotated[bool, Field(description="also list the symbols left out, with their reason")] = False,
) -> r.DeadCode:
    """Functions, methods and classes that nothing in the repository calls or builds on, most certain first,
    each with a confidence (0-1) and the reason. Left out, and counted by reason: entry points (console scripts,
    `main` in Go/C/Java/C#), tests and fixtures, dunder and protocol methods, names in `__all__` or re-exported
    by a package, decorated handlers (routes, fixtures, commands), properties, overloads, and overriders of a
    called base method."""
    return await graph(unused.dead_code, repo, kind, limit, include_excluded)


@mcp.tool(annotations=READ_ONLY)
async def call_path(
    source: Annotated[str, Field(min_length=1, description="where the chain starts: qualified name or id of a "
                                                           "function, method, class or module")],
    target: Annotated[str, Field(min_length=1, description="where it ends: a function or method")],
    repo: RepoArg = None,
    max_depth: Annotated[int, Field(ge=1, le=10, description="longest chain, in calls (1-10)")] = 5,
    k: Annotated[int, Field(ge=1, le=chains.MAX_K, description="how many chains (1-20)")] = 3,
) -> r.CallPaths:
    """How `source` reaches `target` through calls: up to k call chains, shortest first, each hop with the
    caller's file and the line of the call, and how the call was resolved."""
    return await graph(chains.call_path, source, target, repo, max_depth, k)


@mcp.tool(annotations=READ_ONLY)
async def architecture(
    repo: RepoRequired,
    level: Annotated[Literal["module", "package"], Field(description="module, or package (top-level package)")
                     ] = "module",
    max_nodes: Annotated[int, Field(ge=2, le=MAX_ROWS, description="nodes in the Mermaid drawing")] = 60,
    limit: Annotated[int, Field(ge=1, le=100_000, description="import edges listed")] = 500,
) -> r.Architecture:
    """How the code base is layered: the module (or package) import graph with its import cycles (strongly
    connected components, each with a concrete example), a layering (0 = imports nothing of the repository),
    the most depended-on and most dependent modules (fan-in, fan-out), the most used outside modules, and the
    condensed graph as Mermaid text."""
    return await graph(layering.architecture, repo, level, limit, max_nodes)


# ----------------------------------------------------------------------------------------- roots


async def allowed_roots(ctx: Context) -> tuple[list[Path], str]:
    """The client's MCP roots when it offers them, else GRAPHDEX_ALLOWED_ROOTS, else the working directory."""
    caps = ctx.client_capabilities
    if caps is not None and caps.roots is not None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # roots are deprecated in the newest protocol, still offered
                listed = await ctx.session.list_roots()
            paths = [uri_path(str(root.uri)) for root in listed.roots if str(root.uri).startswith("file:")]
            if paths:
                return paths, "client roots"
        except Exception as exc:  # noqa: BLE001 - a client that fails roots/list falls back, with a note
            log.warning("roots/list failed (%s); falling back to GRAPHDEX_ALLOWED_ROOTS", exc)
    settings = await blocking(lambda: APP.settings)
    if settings.allowed_roots:
        return list(settings.allowed_roots), "GRAPHDEX_ALLOWED_ROOTS"
    return [Path.cwd()], "current working directory"


# ----------------------------------------------------------------------------------------- resources and prompt


@mcp.resource(
    "graphdex://runtime",
    name="runtime",
    mime_type="application/json",
    description="Python build, free-threading and GIL state, the executor `auto` picks and why (per language), "
    "the languages indexed with where their grammars come from, default workers, connection pool size, and the "
    "graph server's address and agent.",
)
async def runtime_resource() -> str:
    """Answers without starting the graph server: before the first graph tool it says `connected: false`."""
    info: dict[str, Any] = dict(runtime.report().to_dict())
    try:
        settings = APP.settings
    except ConfigError as exc:
        return json.dumps({**info, "settings_error": str(exc)}, indent=2)
    info.update(
        default_executor=settings.executor,
        default_workers=settings.workers,
        connection_pool_size=settings.connection_pool_size,
        home=str(settings.home),
        languages=language_support(settings.grammars),
        graph_server=await anyio.to_thread.run_sync(lambda: server_info(settings, APP.open_store)),
    )
    return json.dumps(info, indent=2)


@mcp.resource(
    JOBS_URI,
    name="jobs",
    mime_type="application/json",
    description="Recent index jobs, newest first: the same as index_status without a job id. Each job is also "
    "a resource of its own, graphdex://jobs/{job_id}.",
)
def jobs_resource() -> str:
    return json.dumps({"jobs": [job.status() for job in APP.job_list()]}, indent=2)


@mcp.resource(
    JOBS_URI + "/{job_id}",
    name="job",
    mime_type="application/json",
    description="One index job's status, the same as index_status(job_id): state, phase, files done / total, "
    "counts, times, error. Subscribe to it to be told when it changes (at most 4 times a second, and at once on "
    "every state change).",
)
def job_resource(job_id: str) -> str:
    job = next((j for j in APP.job_list() if j.id == job_id), None)
    if job is None:
        raise ResourceNotFoundError(f"no index job with id {job_id!r}; graphdex://jobs lists recent jobs")
    return json.dumps(job.status(), indent=2)


@mcp.resource(
    REPOS_URI + "/{repo}",
    name="repository",
    mime_type="application/json",
    description="One repository as this server keeps it: its roots, whether it is watched (re-indexed when its "
    "files change), its newest job and newest refresh. Subscribe to be told of each refresh.",
)
def repository_resource(repo: str) -> str:
    jobs = [j for j in APP.job_list() if j.repo == repo]
    if not jobs:
        raise ResourceNotFoundError(f"this server has not indexed a repository {repo!r}")
    refreshes = [j for j in jobs if j.trigger == "watch"]
    answer: r.RepositoryWatch = {
        "repo": repo,
        "roots": sorted({j.root for j in jobs}),
        "watching": any(APP.jobs.watching(j.root) for j in jobs),
        "last_job": jobs[0].status(),
        "last_refresh": refreshes[0].status() if refreshes else None,
    }
    return json.dumps(answer, indent=2)


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
        "1. list_repositories shows what is indexed; if the repository is missing, index_repository(path, "
        "wait=true) indexes it and answers when done.\n"
        "2. find_symbols(query, mode='prefix' or 'fulltext') finds classes, functions, methods and modules.\n"
        "3. get_symbol(qualified_name) gives the source; callers / callees follow calls (depth 1-5); "
        "module_imports shows imports both ways; class_hierarchy shows bases and subclasses.\n"
        "4. Whole questions: impact (what breaks if it changes), detect_changes (what a diff touches), "
        "dead_code, call_path (how A reaches B), architecture (layers and import cycles). Mention the "
        "`unresolved` calls they report: they are possible edges the graph could not prove.\n"
        "5. For anything else, cypher_query runs read-only Cypher; read graphdex://schema first.\n"
        "Cite qualified names and file:line locations in your answer."
    )


# ----------------------------------------------------------------------------------------- entry point


def main() -> None:
    """Run the stdio server (`graphdex serve`, `python -m mcp_server`)."""
    try:
        level = APP.settings.log_level.upper()
    except ConfigError as exc:
        level = "INFO"
        print(f"graphdex: {exc}", file=sys.stderr)
    logging.basicConfig(
        stream=sys.stderr, level=level, force=True, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    runtime.watch_gil()
    log.info("graphdex MCP server %s on Python %s (stdio)", __version__, sys.version.split()[0])
    mcp.run("stdio")


__all__ = ["APP", "main", "mcp"]
