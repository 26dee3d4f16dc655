"""The typed answers graphdex gives its faces: what the query functions, the job manager and search return.

One source of truth: the library returns these TypedDicts, the CLI prints them as JSON, and the MCP server
declares them as its tools' output types, so their JSON schemas (with these descriptions) are generated from here.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field
from typing_extensions import NotRequired, TypedDict

# ------------------------------------------------------------------------------------------------ symbols


class SymbolInfo(TypedDict):
    id: Annotated[str, Field(description="unique node id (pass it back to get_symbol, callers, ...)")]
    repo: Annotated[str, Field(description="the repository id")]
    kind: Annotated[str, Field(description="File, Module, ExternalModule, Class, Function or Method")]
    name: str
    qualified_name: Annotated[str, Field(description="dotted name, e.g. pkg.module.Class.method; a File's path")]
    path: Annotated[str | None, Field(description="file path relative to the repository root")]
    start_line: int | None
    end_line: int | None
    signature: str | None
    docstring: Annotated[str | None, Field(description="first paragraph of the docstring")]


class SymbolAtDepth(SymbolInfo):
    depth: Annotated[int, Field(description="number of calls between this symbol and the one asked about")]


class FoundSymbols(TypedDict):
    mode_used: Annotated[str, Field(description="how the search ran (full-text index or substring fallback)")]
    count: int
    symbols: list[SymbolInfo]


class SymbolSource(TypedDict):
    symbol: SymbolInfo
    file: NotRequired[Annotated[str, Field(description="absolute path of the file on the indexing machine")]]
    source: Annotated[str | None, Field(description="the symbol's lines (start_line..end_line)")]
    source_error: str | None
    truncated: bool


class UnresolvedSite(TypedDict):
    caller: Annotated[str, Field(description="qualified name of the code that makes the call (a Module or Class "
                                             "for module- or class-level code)")]
    caller_id: str
    path: str | None
    line: int
    target: Annotated[str, Field(description="the callee as written, e.g. self.db.save")]
    reason: Annotated[str, Field(description="unknown_receiver (the object's class cannot be known) or dynamic "
                                             "(getattr, a name never bound, ...)")]


class UnresolvedCalls(TypedDict):
    """Call sites graphdex could not resolve that might reach the repository: so that "no callers" is never a
    silent guess."""

    name: Annotated[str, Field(description="the called name looked for (callers, impact), or '' for the calls "
                                           "made by the symbol and its listed callees (callees)")]
    count: Annotated[int, Field(description="how many such call sites the repository has")]
    sites: Annotated[list[UnresolvedSite], Field(description="the first of them, by file and line")]
    truncated: bool
    note: Annotated[str, Field(description="one sentence: '3 more calls named `save` could not be resolved: "
                                           "…', or '' when there are none")]


class Callers(TypedDict):
    symbol: SymbolInfo
    depth: int
    count: int
    callers: list[SymbolAtDepth]
    unresolved: Annotated[UnresolvedCalls, Field(description="calls carrying this name that could not be "
                                                             "resolved: possible callers the graph cannot see")]


class Callees(TypedDict):
    symbol: SymbolInfo
    depth: int
    count: int
    callees: list[SymbolAtDepth]
    unresolved: Annotated[UnresolvedCalls, Field(description="calls made by the symbol (and by the listed callees "
                                                             "above the last depth) that could not be resolved")]


class ModuleRef(TypedDict):
    qualified_name: str
    kind: Annotated[str, Field(description="Module (in the repository) or ExternalModule")]


class ModuleImports(TypedDict):
    module: SymbolInfo
    imports: list[ModuleRef]
    imported_by: list[ModuleRef]


class ClassRef(TypedDict):
    qualified_name: str
    path: str | None
    depth: Annotated[int, Field(description="inheritance steps away (1 = direct base / subclass)")]


class ClassHierarchy(TypedDict):
    symbol: SymbolInfo
    ancestors: list[ClassRef]
    descendants: list[ClassRef]


# ------------------------------------------------------------------------------------------------ repositories


class Repository(TypedDict):
    id: str
    name: str | None
    root: str | None
    indexed_at: str | None
    files: int | None
    nodes: dict[str, int]
    relationships: dict[str, int]
    languages: Annotated[dict[str, dict[str, int]], Field(
        description="per File.language: files, and the Class, Function and Method nodes in them")]


class Repositories(TypedDict):
    repositories: list[Repository]


class Removed(TypedDict):
    repo: str
    removed_nodes: int


class CypherResult(TypedDict):
    columns: list[str]
    rows: list[dict[str, Any]]
    row_count: int
    truncated: Annotated[bool, Field(description="true when more rows existed than the limit")]
    limit: int


# ------------------------------------------------------------------------------------------------ search


class SearchHit(TypedDict):
    qualified_name: str
    kind: str
    score: Annotated[float, Field(description="similarity (semantic: (1 + cosine) / 2) or word-match score "
                                              "(fulltext)")]
    path: str | None
    start_line: int | None
    end_line: int | None
    snippet: str
    repo: str | None


class SearchResults(TypedDict):
    mode: Annotated[str, Field(description="semantic (vector index) or fulltext (the fallback when embeddings are "
                                           "off)")]
    results: list[SearchHit]
    note: NotRequired[Annotated[str, Field(description="why the fallback ran, when it did")]]


# ------------------------------------------------------------------------------------------------ index jobs


class FileProblem(TypedDict):
    path: str
    reason: str


class JobStatus(TypedDict):
    job_id: str
    trigger: Annotated[str, Field(description="request (index_repository) or watch (a refresh after files "
                                              "changed under a watched repository)")]
    repo: str
    root: str
    state: Annotated[str, Field(description="queued, running, succeeded, failed or cancelled")]
    phase: Annotated[str, Field(description="waiting, discover, plan, parse, resolve, write, embed, count, or "
                                            "the final state")]
    message: str
    files_done: int
    files_total: int
    files_per_second: float
    texts_done: Annotated[int, Field(description="embed phase: texts embedded (or failed) so far")]
    texts_total: Annotated[int, Field(description="embed phase: texts to embed this run")]
    texts_per_second: Annotated[float, Field(description="embed phase: the server's measured speed (slow vs "
                                                         "stuck: 0 with requests in flight for long is stuck)")]
    eta_seconds: Annotated[float | None, Field(description="estimated seconds left while parsing or embedding")]
    elapsed_seconds: float
    executor: Annotated[str, Field(description="serial, thread or process (auto before the run decides)")]
    executor_reason: str | None
    workers: int
    pool_size: Annotated[int, Field(description="Bolt connection pool size")]
    free_threading_build: bool
    gil_enabled: bool
    gil_cause: str | None
    created_at: str
    started_at: str | None
    finished_at: str | None
    error: str | None
    nodes: Annotated[dict[str, int], Field(description="nodes in the graph by kind, after the run")]
    relationships: Annotated[dict[str, int], Field(description="relationships by type, after the run")]
    files_indexed: int | None
    files_changed: int | None
    files_deleted: int | None
    files_skipped: int
    files_failed: int
    syntax_errors: int | None
    skipped: Annotated[list[FileProblem], Field(description="first few skipped files, with reasons")]
    failed: Annotated[list[FileProblem], Field(description="first few failed files, with reasons")]
    wall_seconds: float | None
    cancelled: bool | None
    languages: Annotated[dict[str, dict[str, Any]], Field(
        description="per language: files, syntax errors, definitions, calls and unresolved calls, the executor "
                    "that parsed it and why, or why its files were skipped (no grammar)")]


class IndexStarted(TypedDict):
    job: JobStatus
    created: Annotated[bool, Field(description="false when a job for this path was already queued or running")]
    resource: Annotated[str, Field(description="the job's MCP resource (graphdex://jobs/{job_id}): read it for the "
                                               "job's status, or subscribe to it to be told when it changes")]
    settings: Annotated[dict[str, Any], Field(description="the job's settings (no secrets)")]
    allowed_roots: list[str]
    roots_source: Annotated[str, Field(description="client roots, GRAPHDEX_ALLOWED_ROOTS or current working "
                                                   "directory")]


class RepositoryWatch(TypedDict):
    repo: str
    roots: Annotated[list[str], Field(description="the folders of this repository id the server has indexed")]
    watching: Annotated[bool, Field(description="true while the server re-indexes it when its files change")]
    last_job: Annotated[JobStatus | None, Field(description="the newest job of this repository")]
    last_refresh: Annotated[JobStatus | None, Field(description="the newest refresh after files changed")]


class JobList(TypedDict):
    jobs: Annotated[list[JobStatus], Field(description="newest first")]


# ------------------------------------------------------------------------------------------------ answers (issue 13)


class SymbolRef(TypedDict):
    id: str
    kind: str
    qualified_name: str
    path: str | None
    start_line: int | None


class Dependent(SymbolRef):
    depth: Annotated[int, Field(description="steps from the symbol: 1 = calls, imports, subclasses or overrides "
                                            "it directly")]
    via: Annotated[str, Field(description="calls, references (passes it as an argument), dispatch (calls a base "
                                          "method this one overrides), imports (of its module), inherits (a "
                                          "subclass) or overrides")]
    is_test: Annotated[bool, Field(description="in a test file, or a test by the language's conventions")]


class DepthGroup(TypedDict):
    depth: int
    count: int
    symbols: Annotated[list[str], Field(description="qualified names (the first 50)")]


class FileGroup(TypedDict):
    path: str
    count: int
    is_test: bool
    symbols: Annotated[list[str], Field(description="qualified names (the first 50)")]


class Risk(TypedDict):
    level: Annotated[str, Field(description="low (at most 3 files and 10 symbols), high (more than 20 files or "
                                            "100 symbols), else medium")]
    symbols: Annotated[int, Field(description="dependent symbols (modules, classes, functions, methods)")]
    files: int
    modules: int
    tests: Annotated[int, Field(description="dependent test symbols")]
    summary: str


class Impact(TypedDict):
    symbol: SymbolInfo
    depth: Annotated[int, Field(description="how many steps were followed")]
    count: Annotated[int, Field(description="dependents found (all of them, whatever the limit)")]
    dependents: Annotated[list[Dependent], Field(description="by depth, then name; at most `limit`")]
    by_depth: list[DepthGroup]
    by_file: Annotated[list[FileGroup], Field(description="files with the most dependents first")]
    tests: Annotated[list[str], Field(description="the dependent tests, by qualified name")]
    risk: Risk
    unresolved: UnresolvedCalls
    truncated: Annotated[bool, Field(description="true when `dependents` was cut at the limit, or the search "
                                                 "stopped at its bound of dependents")]


class FileChange(TypedDict):
    path: str
    status: Annotated[str, Field(description="modified, added, deleted, renamed or untracked")]
    lines: Annotated[list[list[int]], Field(description="changed line ranges [first, last] in the working tree")]
    indexed: Annotated[bool, Field(description="the graph holds this file")]
    stale: Annotated[bool, Field(description="the file differs from what was indexed: re-index for exact "
                                             "symbols")]


class ChangedSymbol(SymbolRef):
    end_line: int | None
    changed_lines: Annotated[list[list[int]], Field(description="the changed ranges inside it")]
    dependents: Annotated[int, Field(description="its impact: dependent symbols")]
    files: Annotated[int, Field(description="its impact: files of those dependents")]
    tests: Annotated[list[str], Field(description="its impact: dependent tests")]
    risk: str


class Changes(TypedDict):
    repo: str
    root: str
    base: str
    files: list[FileChange]
    changed: Annotated[list[ChangedSymbol], Field(description="the innermost symbols whose own lines changed "
                                                              "(a module's own code counts as its Module)")]
    affected: Annotated[Risk, Field(description="everything the changed symbols reach, together")]
    affected_symbols: Annotated[list[Dependent], Field(description="their dependents, nearest first; at most "
                                                                   "`limit`")]
    tests: Annotated[list[str], Field(description="the tests among the changed symbols and their dependents")]
    depth: int
    note: str


class DeadSymbol(SymbolRef):
    end_line: int | None
    confidence: Annotated[float, Field(description="0-1: how sure it is unused (0.9: private with no caller "
                                                   "and no unresolved call by its name)")]
    reason: str


class DeadCode(TypedDict):
    repo: str
    count: Annotated[int, Field(description="symbols reported (all of them, whatever the limit)")]
    symbols: Annotated[list[DeadSymbol], Field(description="most certain first; at most `limit`")]
    excluded: Annotated[dict[str, int], Field(description="symbols with no caller that were left out, by reason: "
                                                          "entry point, test, protocol, exported, decorated, "
                                                          "property, overload, override")]
    excluded_symbols: Annotated[list[DeadSymbol], Field(description="with include_excluded: the left-out "
                                                                    "symbols, each with its reason")]
    truncated: bool
    note: str


class Hop(TypedDict):
    caller: str
    callee: str
    path: Annotated[str | None, Field(description="the caller's file")]
    line: Annotated[int | None, Field(description="where the caller calls the callee (the caller's first line "
                                                  "when the call site could not be found by name)")]
    line_is_call: bool
    provenance: Annotated[str, Field(description="how the call was resolved (README: Graph schema)")]
    condition: Annotated[str, Field(description="the branch condition it depends on, '' if unconditional")]


class CallChain(TypedDict):
    length: int
    symbols: list[str]
    hops: list[Hop]


class CallPaths(TypedDict):
    source: SymbolInfo
    target: SymbolInfo
    max_depth: int
    count: int
    paths: Annotated[list[CallChain], Field(description="shortest first; at most k")]
    note: str


class ModuleNode(TypedDict):
    name: str
    files: Annotated[int, Field(description="modules (files) it stands for")]
    fan_in: Annotated[int, Field(description="modules or packages that import it")]
    fan_out: Annotated[int, Field(description="modules or packages it imports")]
    layer: Annotated[int, Field(description="0 = imports nothing of the repository; n = imports layer n-1 at "
                                            "most (a cycle's members share one layer)")]
    cycle: Annotated[int | None, Field(description="index into `cycles` when it is in an import cycle")]


class ImportCycle(TypedDict):
    members: list[str]
    example: Annotated[list[str], Field(description="one concrete cycle through the members: a -> b -> a")]


class Layer(TypedDict):
    layer: int
    members: list[str]


class ExternalUse(TypedDict):
    name: str
    importers: int


class Architecture(TypedDict):
    repo: str
    level: Annotated[str, Field(description="module, or package (top-level package or module)")]
    nodes: Annotated[list[ModuleNode], Field(description="by layer, then name")]
    edges: Annotated[list[list[str]], Field(description="[importer, imported] pairs, at most `limit`")]
    edge_count: int
    cycles: Annotated[list[ImportCycle], Field(description="strongly connected components of the import graph, "
                                                           "largest first")]
    layered: Annotated[bool, Field(description="true when there is no import cycle: the layers are a strict "
                                               "layering")]
    layers: list[Layer]
    most_depended_on: list[ModuleNode]
    most_dependent: list[ModuleNode]
    external: Annotated[list[ExternalUse], Field(description="the most imported modules from outside the "
                                                             "repository")]
    mermaid: Annotated[str, Field(description="the condensed graph as Mermaid (flowchart), at most `max_nodes` "
                                              "nodes: cycles collapsed into one node each")]
    truncated: bool
