"""Typed data passed between the pipeline's stages (and across process boundaries): plain, picklable, one source
of truth for the graph's schema names."""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, field, fields
from enum import Enum
from typing import Any, TypeVar

T = TypeVar("T")

if sys.version_info >= (3, 11):
    from enum import StrEnum
else:  # pragma: no cover - 3.10

    class StrEnum(str, Enum):
        """Members are their values as strings: in f-strings, JSON and Cypher parameters alike."""

        def __str__(self) -> str:
            return str(self.value)

        __format__ = str.__format__


class Kind(StrEnum):
    """Node kinds: each is a label (besides `Code`) and the `kind` property of its nodes."""

    REPOSITORY = "Repository"
    FILE = "File"
    MODULE = "Module"
    EXTERNAL_MODULE = "ExternalModule"
    CLASS = "Class"
    FUNCTION = "Function"
    METHOD = "Method"


class Rel(StrEnum):
    """Relationship types."""

    CONTAINS = "CONTAINS"
    IMPORTS = "IMPORTS"
    CALLS = "CALLS"
    INHERITS = "INHERITS"
    HAS_CHUNK = "HAS_CHUNK"


# Short names for the members, used throughout the stages.
REPOSITORY, FILE, MODULE, EXTERNAL_MODULE = Kind.REPOSITORY, Kind.FILE, Kind.MODULE, Kind.EXTERNAL_MODULE
CLASS, FUNCTION, METHOD = Kind.CLASS, Kind.FUNCTION, Kind.METHOD
SYMBOL_KINDS = (CLASS, FUNCTION, METHOD)
CODE_KINDS = (FILE, MODULE, EXTERNAL_MODULE, CLASS, FUNCTION, METHOD)  # the nodes labelled `Code`
CONTAINS, IMPORTS, CALLS, INHERITS = Rel.CONTAINS, Rel.IMPORTS, Rel.CALLS, Rel.INHERITS
EDGE_TYPES = (IMPORTS, CALLS, INHERITS)  # resolved across files (CONTAINS is written with each file's nodes)


def compact_pickle(cls: type[T]) -> type[T]:
    """Pickle instances as (class, field values): ~10x faster than the default path for slotted dataclasses,
    which matters because every file's facts cross a process boundary in the process executor."""
    names = tuple(f.name for f in fields(cls))  # type: ignore[arg-type]

    def __reduce__(self: Any) -> tuple[type[T], tuple[Any, ...]]:
        return cls, tuple(getattr(self, name) for name in names)

    cls.__reduce__ = __reduce__  # type: ignore[method-assign, assignment]
    return cls


# ---------------------------------------------------------------------------------------------- discover


@compact_pickle
@dataclass(frozen=True, slots=True)
class SourceFile:
    """A file that discovery decided to index."""

    path: str  # relative to the repository root, POSIX separators, valid UTF-8
    abspath: str
    size: int
    sha: str  # content hash (blake2b, hex); the plan compares it with the graph's


@compact_pickle
@dataclass(frozen=True, slots=True)
class SkippedFile:
    path: str
    reason: str  # "binary", "too large (2.3 MiB > 1.0 MiB)", "unreadable: …", "broken symlink", …


@dataclass(frozen=True, slots=True)
class Discovery:
    root: str
    files: list[SourceFile]
    skipped: list[SkippedFile]


# ---------------------------------------------------------------------------------------------- plan


@dataclass(frozen=True, slots=True)
class Plan:
    """What the graph holds against what discovery found: files to (re)write, to keep, and to remove."""

    changed: frozenset[str]  # new, or content differs from the graph's
    retried: frozenset[str]  # in the graph but never finished (an interrupted or failed run): redone
    unchanged: frozenset[str]
    deleted: tuple[str, ...]  # in the graph, gone from the tree
    fresh: bool  # the graph holds nothing of this repository yet

    @property
    def to_write(self) -> frozenset[str]:
        """Files whose nodes this run (re)writes."""
        return self.changed | self.retried


# ---------------------------------------------------------------------------------------------- parse


@compact_pickle
@dataclass(frozen=True, slots=True)
class Symbol:
    """A Class, Function or Method definition."""

    id: str
    kind: Kind  # CLASS | FUNCTION | METHOD
    qualified_name: str  # module.Outer.method
    name: str
    path: str
    start_line: int
    end_line: int
    signature: str
    docstring: str  # first paragraph of the docstring, or ""
    parent_id: str  # the Module or the enclosing Class/Function (for CONTAINS)
    subkind: str = ""  # what a Class really is in its language: class, struct, interface, trait, enum, record, ...


@compact_pickle
@dataclass(frozen=True, slots=True)
class RawImport:
    """One imported name as written; resolution happens later, over the whole repository."""

    module: str  # absolute dotted module (relative imports already made absolute), "" if unresolvable
    name: str | None  # `from module import name`; None for `import module`
    alias: str  # the local name it binds ("" for `import *`)
    line: int


@compact_pickle
@dataclass(frozen=True, slots=True)
class RawCall:
    caller_id: str
    caller_qname: str
    class_qname: str | None  # the class whose method makes the call (for self./cls.)
    target: str  # dotted callee expression: "f", "mod.f", "self.m", "Cls.m"
    line: int
    receiver: str = ""  # tree-sitter languages: the declared type of the receiver (`x.m()` with `x: T`), if known
    construct: bool = False  # tree-sitter languages: `new T()`; target is the type's name
    arguments: int = -1  # tree-sitter languages: how many arguments (-1: unknown), to tell overloads apart


@compact_pickle
@dataclass(frozen=True, slots=True)
class RawBase:
    class_id: str
    class_qname: str
    base: str  # dotted base-class expression
    relation: str = ""  # extends, implements, embeds (Go), includes (Ruby/PHP mixins); "" = extends


@compact_pickle
@dataclass(slots=True)
class FileFacts:
    """Everything extraction learns from one file; the unit a worker returns."""

    path: str
    sha: str
    module: str  # dotted module name from the package layout
    module_id: str
    file_id: str
    size: int = 0
    lines: int = 0
    error: str | None = None  # syntax error (the File is still written)
    warnings: list[str] = field(default_factory=list)  # e.g. undecodable bytes replaced
    is_package: bool = False  # an __init__.py
    symbols: list[Symbol] = field(default_factory=list)
    imports: list[RawImport] = field(default_factory=list)
    calls: list[RawCall] = field(default_factory=list)
    bases: list[RawBase] = field(default_factory=list)
    language: str = "python"  # File.language
    namespaces: list[str] = field(default_factory=list)  # tree-sitter languages: packages / namespaces declared
    declarations: list[str] = field(default_factory=list)  # C/C++: functions declared (prototypes), not defined


@dataclass(frozen=True, slots=True)
class FailedFile:
    path: str
    reason: str


# ---------------------------------------------------------------------------------------------- resolve


@dataclass(frozen=True, slots=True)
class Edge:
    type: Rel  # IMPORTS | CALLS | INHERITS | CONTAINS
    source: str  # node id
    target: str  # node id
    relation: str = ""  # INHERITS only: extends, implements, embeds, includes (the relationship's property)


@dataclass(slots=True)
class Resolution:
    """Edges that resolution found, and what it could not resolve."""

    edges: list[Edge] = field(default_factory=list)
    external_modules: dict[str, str] = field(default_factory=dict)  # id -> dotted name
    unresolved_calls: int = 0
    unresolved_bases: int = 0


# ---------------------------------------------------------------------------------------------- ids


def file_id(repo: str, path: str) -> str:
    return f"{repo}:file:{path}"


def module_id(repo: str, module: str) -> str:
    return f"{repo}:module:{module}"


def external_module_id(repo: str, module: str) -> str:
    return f"{repo}:external:{module}"


def symbol_id(repo: str, qualified_name: str, ordinal: int) -> str:
    """Stable across edits that only move lines; `ordinal` separates same-named definitions in one file."""
    return f"{repo}:{qualified_name}" if ordinal == 0 else f"{repo}:{qualified_name}#{ordinal}"


# ---------------------------------------------------------------------------------------------- a run


@dataclass(frozen=True)
class Progress:
    """One progress report of a run: its phase, work done of total, and a rate where one is known."""

    phase: str
    done: int
    total: int
    message: str = ""
    files_per_second: float = 0.0


REPORTED_PROBLEMS = 20  # skipped / failed files listed by path in a summary; the counts are always complete


@dataclass
class Summary:
    """What one index run did, built from its stages' outputs."""

    repo: str
    root: str
    files_indexed: int = 0  # parsed this run (changed and unchanged)
    files_changed: int = 0  # new or modified: their nodes were (re)written
    files_retried: int = 0  # left unfinished by an earlier run (interrupted, or a write or embedding failed)
    files_unchanged: int = 0
    files_deleted: int = 0
    files_skipped: int = 0
    files_failed: int = 0
    syntax_errors: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    syntax_error_files: list[dict[str, str]] = field(default_factory=list)
    nodes: dict[str, int] = field(default_factory=dict)
    relationships: dict[str, int] = field(default_factory=dict)
    edges_added: int = 0
    edges_removed: int = 0
    unresolved_calls: int = 0
    unresolved_bases: int = 0
    phases: dict[str, float] = field(default_factory=dict)  # wall seconds per phase
    worker_seconds: dict[str, float] = field(default_factory=dict)  # summed over workers, within `parse`
    wall_seconds: float = 0.0
    files_per_second: float = 0.0
    executor: str = ""
    executor_reason: str = ""
    pool_restarts: int = 0  # process pools rebuilt after a worker process died
    workers: int = 0
    pool_size: int = 0
    free_threading_build: bool = False
    gil_enabled: bool = True
    gil_enabled_at_start: bool = True
    gil_cause: str | None = None
    cancelled: bool = False
    dry_run: bool = False
    embeddings: dict[str, Any] | None = None
    # Per language: files, syntax errors, definitions, calls, unresolved calls, which executor parsed them and
    # why; and the files skipped for want of a grammar.
    languages: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def listed(items: list[Any], limit: int = REPORTED_PROBLEMS) -> list[dict[str, str]]:
    """The first `limit` skipped / failed files as {"path", "reason"} rows for a summary."""
    return [{"path": item.path, "reason": item.reason} for item in items[:limit]]
