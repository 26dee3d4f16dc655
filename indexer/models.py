"""Plain, typed, picklable data passed between the pipeline's stages (and across process boundaries)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

T = TypeVar("T")


def compact_pickle(cls: type[T]) -> type[T]:
    """Pickle instances as (class, field values): ~10x faster than the default path for slotted dataclasses,
    which matters because every file's facts cross a process boundary in the process executor."""
    names = tuple(f.name for f in fields(cls))  # type: ignore[arg-type]

    def __reduce__(self: Any) -> tuple[type[T], tuple[Any, ...]]:
        return cls, tuple(getattr(self, name) for name in names)

    cls.__reduce__ = __reduce__  # type: ignore[method-assign, assignment]
    return cls

# Node labels and relationship types of the public schema (documented in README.md).
REPOSITORY = "Repository"
FILE = "File"
MODULE = "Module"
EXTERNAL_MODULE = "ExternalModule"
CLASS = "Class"
FUNCTION = "Function"
METHOD = "Method"
SYMBOL_KINDS = (CLASS, FUNCTION, METHOD)

CONTAINS = "CONTAINS"
IMPORTS = "IMPORTS"
CALLS = "CALLS"
INHERITS = "INHERITS"


@compact_pickle
@dataclass(frozen=True, slots=True)
class SourceFile:
    """A file that discovery decided to index."""

    path: str  # relative to the repository root, POSIX separators
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


@compact_pickle
@dataclass(frozen=True, slots=True)
class Symbol:
    """A Class, Function or Method definition."""

    id: str
    kind: str  # CLASS | FUNCTION | METHOD
    qualified_name: str  # module.Outer.method
    name: str
    path: str
    start_line: int
    end_line: int
    signature: str
    docstring: str  # first paragraph of the docstring, or ""
    parent_id: str  # the Module or the enclosing Class/Function (for CONTAINS)


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


@compact_pickle
@dataclass(frozen=True, slots=True)
class RawBase:
    class_id: str
    class_qname: str
    base: str  # dotted base-class expression


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


@dataclass(frozen=True, slots=True)
class Edge:
    type: str  # IMPORTS | CALLS | INHERITS | CONTAINS
    source: str  # node id
    target: str  # node id


@dataclass(slots=True)
class Resolution:
    """Edges that resolution found, and what it could not resolve."""

    edges: list[Edge] = field(default_factory=list)
    external_modules: dict[str, str] = field(default_factory=dict)  # id -> dotted name
    unresolved_calls: int = 0
    unresolved_bases: int = 0


def file_id(repo: str, path: str) -> str:
    return f"{repo}:file:{path}"


def module_id(repo: str, module: str) -> str:
    return f"{repo}:module:{module}"


def external_module_id(repo: str, module: str) -> str:
    return f"{repo}:external:{module}"


def symbol_id(repo: str, qualified_name: str, ordinal: int) -> str:
    """Stable across edits that only move lines; `ordinal` separates same-named definitions in one file."""
    return f"{repo}:{qualified_name}" if ordinal == 0 else f"{repo}:{qualified_name}#{ordinal}"
