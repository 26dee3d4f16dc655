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

        def __format__(self, spec: str) -> str:
            return str.__format__(str(self.value), spec)


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
    REFERENCES = "REFERENCES"  # issue 13: a function or class passed as an argument (a callback, a key)
    HAS_CHUNK = "HAS_CHUNK"


# Short names for the members, used throughout the stages.
REPOSITORY, FILE, MODULE, EXTERNAL_MODULE = Kind.REPOSITORY, Kind.FILE, Kind.MODULE, Kind.EXTERNAL_MODULE
CLASS, FUNCTION, METHOD = Kind.CLASS, Kind.FUNCTION, Kind.METHOD
SYMBOL_KINDS = (CLASS, FUNCTION, METHOD)
CODE_KINDS = (FILE, MODULE, EXTERNAL_MODULE, CLASS, FUNCTION, METHOD)  # the nodes labelled `Code`
CONTAINS, IMPORTS, CALLS, INHERITS = Rel.CONTAINS, Rel.IMPORTS, Rel.CALLS, Rel.INHERITS
REFERENCES = Rel.REFERENCES
# resolved across files (CONTAINS is written with each file's nodes)
EDGE_TYPES = (IMPORTS, CALLS, INHERITS, REFERENCES)


def compact_pickle(cls: type[T]) -> type[T]:
    """Pickle instances as (class, field values): ~10x faster than the default path for slotted dataclasses,
    which matters because every file's facts cross a process boundary in the process executor."""
    names = tuple(f.name for f in fields(cls))  # type: ignore[arg-type]

    def __reduce__(self: Any) -> tuple[type[T], tuple[Any, ...]]:
        return cls, tuple(getattr(self, name) for name in names)

    cls.__reduce__ = __reduce__  # type: ignore[method-assign]
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


@dataclass(frozen=True)
class IndexState:
    """What the last complete run of a repository left on its Repository node: a generation naming the edges it
    wrote (the facts cache keeps a copy under the same name) and its figures, so that a run finding nothing
    changed can answer without resolving or counting."""

    generation: str
    version: str  # the extractor version that produced it (indexer/pipeline/cache.py)
    nodes: dict[str, int] = field(default_factory=dict)
    relationships: dict[str, int] = field(default_factory=dict)
    unresolved_calls: int = 0
    unresolved_bases: int = 0
    call_sites: dict[str, int] = field(default_factory=dict)
    languages: dict[str, dict[str, Any]] = field(default_factory=dict)  # the Summary's per-language rows


@dataclass(frozen=True, slots=True)
class Plan:
    """What the graph holds against what discovery found: files to (re)write, to keep, and to remove."""

    changed: frozenset[str]  # new, or content differs from the graph's
    retried: frozenset[str]  # in the graph but never finished (an interrupted or failed run): redone
    unchanged: frozenset[str]
    deleted: tuple[str, ...]  # in the graph, gone from the tree
    fresh: bool  # the graph holds nothing of this repository yet
    known: frozenset[str] = frozenset()  # paths that have nodes in the graph (a write must delete them first)
    state: IndexState | None = None  # the last complete run's, if the graph holds one

    @property
    def nothing_changed(self) -> bool:
        return not (self.changed or self.retried or self.deleted)

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
    decorators: tuple[str, ...] = ()  # each decorator as written, short (`app.route()`, `property`), outermost
    #                                   first; the answers (dead_code) read them from the node
    subkind: str = ""  # what a Class really is in its language: class, struct, interface, trait, enum, record, ...


@compact_pickle
@dataclass(frozen=True, slots=True)
class RawImport:
    """One imported name as written; resolution happens later, over the whole repository."""

    module: str  # absolute dotted module (relative imports already made absolute), "" if unresolvable
    name: str | None  # `from module import name`; None for `import module`
    alias: str  # the local name it binds ("" for `import *`)
    line: int


# A value as extraction writes it: nested tuples, a tag first, evaluated by the resolver over the whole
# repository (indexer/resolve_values.py). The tags:
#   ("l", ids)                 the bindings (indexes into FileFacts.values) that reach this point
#   ("phi", ids)               a loop's (or a closure's) later bindings of a name, filled when they are known
#   ("g", name)                a global read from a function: the module's namespace when the module has run
#   ("b", name)                a name not bound in the module at this point: star imports, then builtins
#   ("imp", module, name)      `from module import name`; name None: `import module` (the module object)
#   ("star", module, name, v)  a public name bound (to v) before `from module import *`, which may rebind it
#   ("d", symbol_id)           the object a def or class statement made
#   ("a", value, attr)         attribute
#   ("c", callee, arg0, shape) the result of a call (arg0: its first positional argument's value or None;
#                              shape: None for at most one positional argument and no keyword, else
#                              (number of positional arguments, ((position or keyword, constant), ...)))
#   ("deco", decorator, value) a decorator applied to a def or class
#   ("i", value, key)          an item of a container (key: a str/int constant or None)
#   ("it", value)              an element of an iteration over value
#   ("x", value, n)            the n-th element when value is unpacked
#   ("seq", kind, items)       a list/tuple/set literal (kind "list", "tuple", "set", "gen")
#   ("dict", ((key, value), ...))
#   ("lam", value)             a lambda whose body evaluates to value
#   ("p", function_id, name)   a parameter ("*args", "**kwargs" for the variadic ones)
#   ("self", class_id), ("cls", class_id)   the first parameter of a method / classmethod
#   ("super", class_id)        super() in a method of class_id
#   ("inst", value)            an instance of the class value evaluates to (annotations, isinstance, except)
#   ("type", value)            the class of value (type(x), x.__class__)
#   ("enter", value)           `with value as x`: what value.__enter__() returns
#   ("|", value, ...)          one of several values
#   ("bv", type)               a builtin value (literal) of that type: "str", "int", "list", ...
#   ("u", reason)              unknown ("value", "param", "unbound", ...)
#   ("guard", guards, value)   a returned value and what the `if` tests on parameters around the `return`
#                              require: ((parameter, op, constants[, True]), ...) (truthy, falsy, is, ==,
#                              in, ...; True: the parameter may be given a default first, when None)
Expr = tuple[Any, ...]


@compact_pickle
@dataclass(frozen=True, slots=True)
class RawCall:
    """One call site: a Call expression, or a decorator applied to a def or class."""

    caller_id: str  # the Module, Class, Function or Method whose code makes the call
    caller_qname: str
    class_qname: str | None  # the class whose method (or body) makes the call
    target: str  # the callee as written: "f", "mod.f", "self.m", "super().m"
    line: int
    callee: Expr = ("u", "dynamic")  # the callee's value
    args: tuple[Any, ...] | None = None  # ((positional values or None, ...), ((keyword, value), ...)) when a
    #                                      value might be a function (names, attributes, lambdas); else None
    kind: str = "call"  # "call" | "decorator"
    receiver: str = ""  # tree-sitter languages: the declared type of the receiver (`x.m()` with `x: T`), if known
    construct: bool = False  # tree-sitter languages: `new T()`; target is the type's name
    arguments: int = -1  # tree-sitter languages: how many arguments (-1: unknown), to tell overloads apart


@compact_pickle
@dataclass(slots=True)
class ScopeFacts:
    """What resolution needs to know about one module, class or function beyond its Symbol."""

    id: str  # the Module's or the symbol's node id
    kind: str  # MODULE | CLASS | FUNCTION | METHOD
    names: dict[str, tuple[int, ...]] = field(default_factory=dict)  # module: globals when it has run (and
    #                                 `global` stores from functions); class: the class namespace after its body
    stars: tuple[tuple[str, str], ...] = ()  # module: (star-imported module, condition)
    exports: tuple[str, ...] | None = None  # module: a literal __all__
    bases: tuple[Expr, ...] = ()  # class: base expressions, evaluated where the class statement runs
    metaclass: Expr | None = None  # class: its metaclass= keyword
    attrs: dict[str, tuple[tuple[int, ...], bool]] = field(default_factory=dict)  # class: attributes stored
    #                                 through `self.` in its methods: (bindings, stored by __init__)
    params: tuple[tuple[str, str, Expr | None, Expr | None], ...] = ()  # function: (name, kind, annotation,
    #                                 default); kind "pos", "kw", "*", "**"
    returns: tuple[int, ...] = ()  # function: bindings of the returned values
    yields: tuple[int, ...] = ()  # function: bindings of the yielded values (a generator)
    returns_annotation: Expr | None = None
    method: str = ""  # "method" | "static" | "class" for a function defined in a class body
    class_id: str = ""  # the class a method belongs to


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
    scopes: list[ScopeFacts] = field(default_factory=list)  # the module's first
    values: list[tuple[Expr, str]] = field(default_factory=list)  # bindings: (value, condition)
    stores: list[tuple[Any, Expr, str]] = field(default_factory=list)  # (container, value, "item"|"items"):
    #                                   d[k] = v, l.append(v), l.extend(vs), ...; ((receiver, attr), value,
    #                                   "attr"): obj.attr = v on another receiver than a method's self
    language: str = "python"  # File.language
    namespaces: list[str] = field(default_factory=list)  # tree-sitter languages: packages / namespaces declared
    declarations: list[str] = field(default_factory=list)  # C/C++: functions declared (prototypes), not defined


class Provenance(str, Enum):
    """How a CALLS edge was resolved, from the most direct to the most inferred; an edge found at several
    call sites keeps the most direct. Documented in README.md (Graph schema)."""

    SCOPE = "scope"  # a name bound by def/class in the caller's own, an enclosing or the module scope
    IMPORT = "import"  # through an import (and re-exports, module attributes)
    SELF = "self"  # self.m(): along the class's MRO
    CLS = "cls"  # cls.m() in a classmethod
    SUPER = "super"  # super().m()
    CONSTRUCTOR = "constructor"  # a class call reaching __init__ / __new__
    ALIAS = "alias"  # a value followed through an assignment: f = mod.func; a = self; C.alias = C.method
    INFERRED_RECEIVER = "inferred-receiver"  # x.m() on a receiver of known class: x = Foo(), x: Foo,
    #                                          self.attr = Foo(), -> Foo, with Foo() as x, isinstance
    RETURN = "return"  # a value returned by a function: make()()
    ARGUMENT = "argument"  # a function passed as an argument (or a parameter default)
    CONTAINER = "container"  # a function stored in a list/tuple/dict/set and called from it
    DECORATOR = "decorator"  # a decorator applied, or a function called through a decorator


PROVENANCE_ORDER: tuple[str, ...] = tuple(p.value for p in Provenance)

# Why a call site got no edge (Resolution.call_sites keys; README.md).
BUILTIN, EXTERNAL, UNKNOWN_RECEIVER, DYNAMIC = "builtin", "external", "unknown_receiver", "dynamic"
UNRESOLVED_REASONS = (BUILTIN, EXTERNAL, UNKNOWN_RECEIVER, DYNAMIC)


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
    provenance: str = ""  # CALLS: a Provenance value
    condition: str = ""  # CALLS: the branch under which the callee is bound ("" when unconditional)
    relation: str = ""  # INHERITS only: extends, implements, embeds, includes (the relationship's property)


@dataclass(frozen=True, slots=True)
class UnresolvedCall:
    """A call site that reached no function of the repository although it might have: its receiver or callee
    could not be known (reasons unknown_receiver and dynamic; builtin and external sites are known to go
    outside the repository). Written on the calling node as `unresolved_calls` (README: Graph schema)."""

    caller_id: str
    name: str  # the called name: the last identifier of the callee as written (`save` for `self.db.save`)
    line: int
    reason: str  # UNKNOWN_RECEIVER | DYNAMIC
    target: str  # the callee as written

    def entry(self) -> str:
        """The property's list item: `name:line:reason:target` (only the target may hold a colon)."""
        return f"{self.name}:{self.line}:{self.reason}:{self.target}"


@dataclass(slots=True)
class Resolution:
    """Edges that resolution found, and what it could not resolve."""

    edges: list[Edge] = field(default_factory=list)
    external_modules: dict[str, str] = field(default_factory=dict)  # id -> dotted name
    unresolved_calls: int = 0  # call sites with no edge (= the sum of the reasons in call_sites)
    unresolved_bases: int = 0
    # Call sites (calls and decorator applications): "resolved", "unresolved", and the unresolved by reason
    # (builtin, external, unknown_receiver, dynamic).
    call_sites: dict[str, int] = field(default_factory=dict)
    # The unresolved call sites that carry a name and might have reached the repository (see UnresolvedCall),
    # sorted by caller, name and line: what `callers` / `impact` report as "N more calls named `save` ...".
    unresolved_sites: list[UnresolvedCall] = field(default_factory=list)


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
    files_per_second: float = 0.0  # parse: files/s
    texts_per_second: float = 0.0  # embed: texts/s
    eta_seconds: float | None = None  # embed: estimated seconds left (parse: from files/s)


REPORTED_PROBLEMS = 20  # skipped / failed files listed by path in a summary; the counts are always complete


@dataclass
class Summary:
    """What one index run did, built from its stages' outputs."""

    repo: str
    root: str
    files_indexed: int = 0  # in the index after this run (parsed now or taken from the facts cache)
    files_parsed: int = 0  # parsed this run: changed files, and unchanged ones the facts cache did not hold
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
    call_sites: dict[str, int] = field(default_factory=dict)  # resolved, unresolved and why (Resolution)
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
