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


class Callers(TypedDict):
    symbol: SymbolInfo
    depth: int
    count: int
    callers: list[SymbolAtDepth]


class Callees(TypedDict):
    symbol: SymbolInfo
    depth: int
    count: int
    callees: list[SymbolAtDepth]


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
    repo: str
    root: str
    state: Annotated[str, Field(description="queued, running, succeeded, failed or cancelled")]
    phase: Annotated[str, Field(description="waiting, discover, plan, parse, resolve, write, embed, count, or "
                                            "the final state")]
    message: str
    files_done: int
    files_total: int
    files_per_second: float
    eta_seconds: Annotated[float | None, Field(description="estimated seconds left while parsing")]
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
    settings: Annotated[dict[str, Any], Field(description="the job's settings (no secrets)")]
    allowed_roots: list[str]
    roots_source: Annotated[str, Field(description="client roots, GRAPHDEX_ALLOWED_ROOTS or current working "
                                                   "directory")]


class JobList(TypedDict):
    jobs: Annotated[list[JobStatus], Field(description="newest first")]
