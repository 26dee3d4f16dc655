"""Extraction for every tree-sitter language: one generic pass from a declarative query to the same FileFacts as
Python's. The query (queries/<language>.scm) says what is a definition, a call, an import, a base or a typed
variable, with one capture scheme for all languages (see queries/javascript.scm); this module nests what the
query found by byte ranges, qualifies names, and writes the facts. Per-language facts are data in languages.py.

Imports tree_sitter: only ever imported in a process where that is safe (a worker process on a free-threaded
build, any process on a build with a GIL); parse/__init__.py imports it lazily.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from tree_sitter import Node, Parser, Query, QueryCursor

from ...models import CLASS, FUNCTION, METHOD, FileFacts, RawBase, RawCall, RawImport, Symbol, file_id, module_id
from ...models import symbol_id as make_symbol_id
from . import grammars
from .languages import LANGUAGES, LanguageSpec, default_namespace, grammar_of

_DOC_LIMIT = 300
_SIGNATURE_LIMIT = 400
_IDENTIFIER_PATH = re.compile(r"[A-Za-z_\\][\w\\]*(?:\.[A-Za-z_\\][\w\\]*)*")
_COMMENT_LINE = re.compile(r"^\s*(?:#|//|/\*|\*)")
_COMMENT_MARKS = re.compile(r"^\s*(?:/\*\*?|\*/|\*|///?|#|--)\s?")
FUNCTION_SUBKINDS = ("function", "method")
# Statement keywords that error recovery around the preprocessor can mistake for a definition's name (C, C++, C#).
_NOT_NAMES = frozenset({"if", "else", "for", "foreach", "while", "do", "switch", "case", "return", "using", "lock",
                        "throw", "sizeof", "typeof"})
_PREPROCESSED = ("c", "cpp", "csharp")
_local = threading.local()  # a Parser per thread and grammar: parsers are not shareable across threads


# ------------------------------------------------------------------------------------------------ loading


@cache
def query_text(language: str) -> str:
    """queries/<language>.scm, after the text of the files its first line names in `; inherits: a,b`."""
    text = resources.files(__package__).joinpath("queries").joinpath(f"{language}.scm").read_text(encoding="utf-8")
    first = text.partition("\n")[0]
    if not first.startswith(_INHERITS):
        return text
    parents = [name.strip() for name in first.removeprefix(_INHERITS).split(",")]
    return "\n".join([*(query_text(name) for name in parents), text])


_INHERITS = "; inherits:"


_queries: dict[tuple[str, str], Query] = {}
_queries_lock = threading.Lock()


def _query(language: str, grammar: str, home: str) -> Query:
    key = (language, grammar)
    with _queries_lock:
        if key not in _queries:
            _queries[key] = Query(grammars.language(grammar, home), query_text(language))
        return _queries[key]


def _parser(grammar: str, home: str) -> Parser:
    parsers: dict[str, Parser] = _local.__dict__.setdefault("parsers", {})
    if grammar not in parsers:
        parsers[grammar] = Parser(grammars.language(grammar, home))
    return parsers[grammar]


# ------------------------------------------------------------------------------------------------ what the query found


@dataclass(eq=False)
class _Scope:
    """A definition, namespace or impl block found by the query: what nests other things."""

    node: Node
    role: str  # "definition", "namespace" or "impl"
    name: str
    subkind: str = ""  # definitions: class, struct, interface, ..., function, method
    receiver: str = ""  # Go methods: the receiver type; C++: the class of an out-of-class definition
    trait: str = ""  # Rust impl blocks: the trait implemented
    start: int = 0
    end: int = 0
    parent: _Scope | None = None
    qname: str = ""
    symbol: Symbol | None = None
    variables: dict[str, str] = field(default_factory=dict)  # name -> declared type (locals, params, fields)

    @property
    def is_class(self) -> bool:
        return self.role == "definition" and self.subkind not in FUNCTION_SUBKINDS

    @property
    def is_function(self) -> bool:
        return self.role == "definition" and self.subkind in FUNCTION_SUBKINDS


@dataclass
class _Found:
    scopes: list[_Scope] = field(default_factory=list)
    file_namespaces: list[tuple[int, str]] = field(default_factory=list)  # (start byte, name) of `package x;`
    calls: list[tuple[Node, str, str, bool, int]] = field(default_factory=list)  # node, name, receiver, new, args
    imports: dict[int, list[dict[str, str]]] = field(default_factory=dict)  # by source node start
    bases: list[tuple[Node, str, str]] = field(default_factory=list)  # node, type text, relation
    variables: list[tuple[Node, str, str, bool]] = field(default_factory=list)  # node, name, type, is_field
    declarations: list[str] = field(default_factory=list)  # C/C++ prototypes; "default=<name>" (JS/TS exports)


def _text(node: Node | None) -> str:
    return node.text.decode("utf-8", "replace") if node is not None and node.text is not None else ""


_roles: dict[tuple[int, int], tuple[str, str]] = {}  # (query, pattern) -> (role, capture): fixed per pattern


def _collect(query: Query, root: Node, language: str) -> _Found:
    found = _Found()
    for pattern, captures in QueryCursor(query).matches(root):
        one = {name: nodes[0] for name, nodes in captures.items()}
        role = _roles.get((id(query), pattern))
        if role is None:
            role = _roles.setdefault((id(query), pattern), _role(one))
        _sort_match(one, found, role)
    if language in _PREPROCESSED:
        found.scopes = [s for s in found.scopes if s.name not in _NOT_NAMES]
    return found


def _role(c: dict[str, Node]) -> tuple[str, str]:
    """What a pattern captures: a definition or a base (with the capture naming its subkind), or anything else."""
    for name in c:
        if name.startswith(("definition.", "base.")):
            return name.split(".", 1)[0], name
    return "other", ""


def _sort_match(c: dict[str, Node], found: _Found, role: tuple[str, str]) -> None:
    kind, capture = role
    if kind == "definition":
        found.scopes.append(_definition(c[capture], capture.split(".", 1)[1], c))
        return
    if kind == "base":
        node = c[capture]
        found.bases.append((node, _text(node), capture.split(".", 1)[1]))
        return
    if "scope.namespace" in c:
        node, name = c["scope.namespace"], _namespace_name(_text(c.get("name")))
        if node.child_by_field_name("body") is None and not _has_block(node):
            found.file_namespaces.append((node.start_byte, name))
        else:
            found.scopes.append(_Scope(node, "namespace", name))
    elif "scope.impl" in c:
        found.scopes.append(_Scope(c["scope.impl"], "impl", _type_name(_text(c.get("impl.type"))),
                                   trait=_type_name(_text(c.get("impl.trait")))))
    elif "call" in c:
        found.calls.append((c["call"], _name(c.get("call.name")), _text(c.get("call.receiver")), False,
                            _count(c.get("call.arguments"))))
    elif "new" in c:
        found.calls.append((c["new"], _type_name(_text(c.get("new.type"))), "", True, _count(c.get("new.arguments"))))
    elif "import" in c:
        _add_import(c, found)
    elif "declaration" in c:
        found.declarations.append(_name(c.get("declaration")))
    elif "export.default" in c:
        found.declarations.append(f"default={_name(c['export.default'])}")
    elif "var" in c or "var.field" in c:
        node = c.get("var") or c["var.field"]
        found.variables.append((node, _name(c.get("var.name")), _type_name(_text(c.get("var.type"))),
                                "var.field" in c))


def _definition(node: Node, subkind: str, c: dict[str, Node]) -> _Scope:
    name, receiver = _name(c.get("name")), _type_name(_text(c.get("receiver")))
    if "::" in name:  # C++ `R Cls::m() {}`: a method of Cls, defined outside it
        scope, _, name = name.rpartition("::")
        receiver = _type_name(scope)
    elif "<" in name:
        name = _type_name(name)
    return _Scope(node, "definition", name, subkind, receiver=receiver)


def _count(arguments: Node | None) -> int:
    """How many arguments a call passes; -1 when the query did not say."""
    if arguments is None:
        return -1
    return sum(1 for child in arguments.named_children if "comment" not in child.type)


def _has_block(node: Node) -> bool:
    return any(child.type in ("declaration_list", "block", "compound_statement") for child in node.named_children)


def _add_import(c: dict[str, Node], found: _Found) -> None:
    if "import.tree" in c:  # a Rust `use` tree: one row per name it binds
        tree = c["import.tree"]
        rows = [{"source": path, "name": name, "alias": alias, "line": str(tree.start_point[0] + 1)}
                for path, name, alias in _use_tree(tree, "")]
        found.imports.setdefault(tree.start_byte, []).extend(rows)
        return
    if "import.module" in c:  # a Rust `mod x;`: the child module's file
        node = c["import.module"]
        found.imports.setdefault(node.start_byte, []).append(
            {"source": "self", "name": _text(node), "alias": _text(node), "line": str(node.start_point[0] + 1)})
        return
    if "import.path" in c:  # a dotted path whose last part is the name imported (Java, C#, PHP)
        node = c["import.path"]
        path = _namespace_name(_text(node))
        if "import.prefix" in c:  # PHP's group use: `use A\B\{C, D as E}`
            path = f"{_namespace_name(_text(c['import.prefix']))}.{path}"
        parent, _, name = path.rpartition(".")
        row = {"source": path, "name": "*", "alias": ""} if "import.all" in c else {
            "source": parent, "name": name, "alias": _text(c.get("import.alias")) or name}
        row["line"] = str(node.start_point[0] + 1)
        found.imports.setdefault(node.start_byte, []).append(row)
        return
    source = c.get("import.source") or c.get("import.relative")
    if source is None:
        return
    row = {key.split(".", 1)[1]: _text(node) for key, node in c.items() if key.startswith("import.")}
    if "relative" in row:  # Ruby's require_relative: a path from the requiring file's folder
        row["source"] = "./" + row.pop("relative").lstrip("/")
    row["line"] = str(source.start_point[0] + 1)
    found.imports.setdefault(source.start_byte, []).append(row)


def _use_tree(node: Node, prefix: str) -> list[tuple[str, str, str]]:
    """A Rust use tree as (parent path, name, local alias) rows: `a::{b, c as d, e::*}`."""
    kind = node.type
    if kind == "scoped_use_list":
        path = _text(node.child_by_field_name("path"))
        inner = _join_path(prefix, path)
        items = node.child_by_field_name("list")
        return [row for child in (items.named_children if items else []) for row in _use_tree(child, inner)]
    if kind == "use_list":
        return [row for child in node.named_children for row in _use_tree(child, prefix)]
    if kind == "use_as_clause":
        full = _join_path(prefix, _text(node.child_by_field_name("path")))
        parent, _, name = full.rpartition("::")
        return [(parent, name, _text(node.child_by_field_name("alias")))]
    if kind == "use_wildcard":
        inner = _text(node).removesuffix("*").rstrip(":")
        return [(_join_path(prefix, inner), "*", "")]
    full = _join_path(prefix, _text(node))
    if full.endswith("::self"):
        full = full[: -len("::self")]
    parent, _, name = full.rpartition("::")
    return [(parent, name, name)]


def _join_path(prefix: str, path: str) -> str:
    return f"{prefix}::{path}" if prefix and path else prefix or path


def _name(node: Node | None) -> str:
    text = _text(node).strip()
    if len(text) >= 2 and text[0] in "'\"" and text[-1] == text[0]:
        text = text[1:-1]
    return text.lstrip("$@")


def _namespace_name(text: str) -> str:
    return ".".join(p for p in re.split(r"::|\\|\.", text.strip()) if p)


_GENERIC = re.compile(r"<[^<>]*>")
_PLAIN = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")


def _type_name(text: str) -> str:
    """`*pkg.Server`, `&mut Foo<T>`, `List<Foo>`, `Foo[]`, `\\App\\User`, `?Foo`: the named type, dotted."""
    if _PLAIN.fullmatch(text):  # the common case, without the regular expressions below
        return text
    text = text.strip()
    while "<" in text and _GENERIC.search(text):
        text = _GENERIC.sub("", text)
    text = re.sub(r"^(?:&\s*(?:mut\s+)?|\*+|\?|const\s+|mut\s+|dyn\s+|impl\s+)+", "", text.strip())
    text = text.split("[", 1)[0].rstrip("*&? ").strip()
    text = re.sub(r"::|\\", ".", text).strip(".")
    return text if _IDENTIFIER_PATH.fullmatch(text) else ""


# ------------------------------------------------------------------------------------------------ nesting


def _nest(found: _Found) -> list[_Scope]:
    """Give each scope its enclosing one (scopes nest by byte range); sorted outermost first."""
    scopes = sorted(found.scopes, key=lambda s: (s.node.start_byte, -s.node.end_byte))
    stack: list[_Scope] = []
    kept: list[_Scope] = []
    for scope in scopes:
        scope.start, scope.end = scope.node.start_byte, scope.node.end_byte
        while stack and stack[-1].end <= scope.start:
            stack.pop()
        if stack and stack[-1].node == scope.node:
            continue  # two patterns matched one node: keep the first
        scope.parent = stack[-1] if stack else None
        stack.append(scope)
        kept.append(scope)
    return kept


class _Locator:
    """The innermost scope around a byte offset (scopes nest, so a sweep of starts finds it)."""

    def __init__(self, scopes: list[_Scope]) -> None:
        self.scopes = scopes
        self.starts = [s.start for s in scopes]

    def innermost(self, node: Node) -> _Scope | None:
        i = bisect_right(self.starts, node.start_byte) - 1
        scope = self.scopes[i] if i >= 0 else None
        while scope is not None and not (scope.start <= node.start_byte and node.end_byte <= scope.end
                                         and scope.node != node):
            scope = scope.parent
        return scope


def _enclosing(scope: _Scope | None, test: str) -> _Scope | None:
    while scope is not None and not getattr(scope, test):
        scope = scope.parent
    return scope


# ------------------------------------------------------------------------------------------------ the extractor


@dataclass
class _File:
    repo: str
    path: str
    language: LanguageSpec
    facts: FileFacts
    file_namespaces: list[tuple[int, str]]
    ordinals: Counter[str] = field(default_factory=Counter)
    classes: dict[str, _Scope] = field(default_factory=dict)  # this file's classes by qualified name
    file_variables: dict[str, str] = field(default_factory=dict)

    def namespace_at(self, offset: int) -> str:
        name = ""
        for start, declared in self.file_namespaces:
            if start <= offset:
                name = declared
        if self.language.default_namespace == "folder":  # a Go package is its folder; at the root, its name
            return default_namespace(self.path, self.language.name) or name
        return name or default_namespace(self.path, self.language.name)


def extract_treesitter(repo: str, path: str, data: bytes, module: str, sha: str, language: str,
                       home: str) -> FileFacts:
    """Everything one file of a tree-sitter language defines and refers to. Never raises on bad source: a syntax
    error is recorded and what the parser recovered is kept."""
    grammar = grammar_of(path, language)
    facts = FileFacts(path=path, sha=sha, module=module, module_id=module_id(repo, module),
                      file_id=file_id(repo, path), size=len(data),
                      lines=data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1), language=language)
    tree = _parser(grammar, home).parse(data)
    root = tree.root_node
    if root.has_error:
        facts.error = _syntax_error(root)
    found = _collect(_query(language, grammar, home), root, language)
    file = _File(repo, path, LANGUAGES[language], facts, sorted(found.file_namespaces))
    scopes = _nest(found)
    for scope in scopes:
        _define(file, scope)
    facts.namespaces = sorted(({name for _, name in found.file_namespaces}
                               | {s.qname for s in scopes if s.role == "namespace"}) - {""})
    facts.declarations = sorted(set(found.declarations))
    locator = _Locator(scopes)
    _attach_variables(file, found, locator)
    _add_calls(file, found, locator)
    _add_bases(file, found, locator, scopes)
    _add_imports(facts, found)
    return facts


def _define(file: _File, scope: _Scope) -> None:
    parent = scope.parent
    if scope.role == "namespace":
        outer = parent.qname if parent is not None else (
            file.namespace_at(scope.start) if file.language.local_namespaces else "")
        scope.qname = f"{outer}.{scope.name}" if outer else scope.name
        return
    prefix = parent.qname if parent is not None else file.namespace_at(scope.start)
    if scope.role == "impl":
        scope.qname = _join(prefix, scope.name)
        return
    owner = _join(prefix, scope.receiver) if scope.receiver else prefix
    scope.qname = _join(owner, scope.name)
    if not scope.name:
        return
    kind = CLASS if scope.is_class else _function_kind(scope)
    ordinal_key = scope.qname
    ordinal = file.ordinals[ordinal_key]
    file.ordinals[ordinal_key] += 1
    holder = _holder(file, scope, owner)
    scope.symbol = Symbol(
        id=make_symbol_id(file.repo, f"{file.path}:{scope.qname}", ordinal), kind=kind,
        qualified_name=scope.qname, name=scope.name, path=file.path,
        start_line=scope.node.start_point[0] + 1, end_line=scope.node.end_point[0] + 1,
        signature=_signature(scope.node), docstring=_docstring(scope.node),
        parent_id=holder.symbol.id if holder is not None and holder.symbol else file.facts.module_id,
        subkind=scope.subkind if kind == CLASS else "")
    file.facts.symbols.append(scope.symbol)
    if kind == CLASS:
        file.classes.setdefault(scope.qname, scope)


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix and name else prefix or name


def _function_kind(scope: _Scope) -> Any:
    if scope.subkind == "method" or scope.receiver:
        return METHOD
    parent = scope.parent
    return METHOD if parent is not None and (parent.is_class or parent.role == "impl") else FUNCTION


def _holder(file: _File, scope: _Scope, owner: str) -> _Scope | None:
    """The definition that CONTAINS this one: the enclosing definition, else (a Go method, a Rust impl, a C++
    out-of-class method) its type when that is defined in this file."""
    parent = scope.parent
    while parent is not None and parent.role != "definition":
        if parent.role == "impl":
            return file.classes.get(parent.qname)
        parent = parent.parent
    if parent is not None:
        return parent
    return file.classes.get(owner) if scope.receiver else None


def _class_of(scope: _Scope | None) -> str | None:
    """The class a function belongs to (for this/self calls): the enclosing class, impl, or receiver type."""
    while scope is not None:
        if scope.is_class or scope.role == "impl":
            return scope.qname
        if scope.is_function and scope.receiver:
            return scope.qname.rsplit(".", 1)[0]
        scope = scope.parent
    return None


def _attach_variables(file: _File, found: _Found, locator: _Locator) -> None:
    for node, name, type_name, is_field in found.variables:
        if not name or not type_name:
            continue
        scope = locator.innermost(node)
        if is_field:
            scope = _enclosing(scope, "is_class") or _impl(scope)
        if scope is None:
            file.file_variables.setdefault(name, type_name)
        else:
            scope.variables.setdefault(name, type_name)


def _impl(scope: _Scope | None) -> _Scope | None:
    while scope is not None and scope.role != "impl":
        scope = scope.parent
    return scope


def _add_calls(file: _File, found: _Found, locator: _Locator) -> None:
    spec = file.language
    for node, name, receiver_text, construct, arguments in found.calls:
        caller = _enclosing(locator.innermost(node), "is_function")
        if caller is None or caller.symbol is None or not name:
            continue  # calls outside functions (module top level, class bodies) are not graph edges, as in Python
        klass = _class_of(caller)
        if construct:
            target, receiver = name, ""
        else:
            path = _receiver_path(receiver_text, spec) if receiver_text else ""
            target = f"{path}.{name}" if path else name
            receiver = _receiver_type(file, caller, path) if path else ""
            if receiver_text.startswith("new ") and path == "?":  # `new T().m()`: the receiver's type is T
                receiver = _type_name(receiver_text[4:].split("(", 1)[0])
        file.facts.calls.append(RawCall(caller.symbol.id, caller.qname, klass, target, node.start_point[0] + 1,
                                        receiver=receiver, construct=construct, arguments=arguments))


def _receiver_path(text: str, spec: LanguageSpec) -> str:
    """The receiver as a dotted path (`this.repo`, `pkg`, `Foo.Bar`), "?" when it is an expression."""
    text = re.sub(r"\s+", "", text)
    text = text.replace("->", ".").replace("::", ".").replace("?.", ".").replace("\\", ".").replace("$", "")
    text = text.lstrip("@").strip(".")
    if text.startswith("(*") and text.endswith(")"):
        text = text[2:-1]
    return text if _IDENTIFIER_PATH.fullmatch(text) else "?"


def _receiver_type(file: _File, caller: _Scope, path: str) -> str:
    """The declared type of a receiver that is a typed local, parameter or field; "" when unknown."""
    head, _, rest = path.partition(".")
    spec = file.language
    if head in spec.self_names:
        return _field_type(file, caller, rest) if rest and "." not in rest else ""
    declared = _local_type(caller, head)
    if not declared:
        declared = _field_type(file, caller, head) if spec.implicit_this else ""
        declared = declared or file.file_variables.get(head, "")
    if rest:  # `s.eng.m()`: a field of a typed local, when its class is defined in this file
        return _class_field(file, declared, rest) if declared and "." not in rest else ""
    return declared


def _local_type(caller: _Scope, name: str) -> str:
    scope: _Scope | None = caller
    while scope is not None:
        if name in scope.variables and not scope.is_class and scope.role != "impl":
            return scope.variables[name]
        scope = scope.parent
    return ""


def _class_field(file: _File, type_name: str, field_name: str) -> str:
    short = type_name.rsplit(".", 1)[-1]
    for qname, scope in file.classes.items():
        if qname == type_name or qname.rsplit(".", 1)[-1] == short:
            return scope.variables.get(field_name, "")
    return ""


def _field_type(file: _File, caller: _Scope, name: str) -> str:
    """A field's declared type, on the class the caller is a method of (defined in this file)."""
    scope: _Scope | None = caller
    while scope is not None:
        if scope.is_class and name in scope.variables:
            return scope.variables[name]
        scope = scope.parent
    owner = file.classes.get(_class_of(caller) or "")
    return owner.variables.get(name, "") if owner is not None else ""


def _add_bases(file: _File, found: _Found, locator: _Locator, scopes: list[_Scope]) -> None:
    for node, text, relation in found.bases:
        owner = _enclosing(locator.innermost(node), "is_class")
        base = _type_name(text)
        if owner is None or owner.symbol is None or not base:
            continue
        file.facts.bases.append(RawBase(owner.symbol.id, owner.qname, base, relation))
    for scope in scopes:
        if scope.role == "impl" and scope.trait and scope.name:
            holder = file.classes.get(scope.qname)
            class_id = holder.symbol.id if holder is not None and holder.symbol else ""
            file.facts.bases.append(RawBase(class_id, scope.qname, scope.trait, "implements"))


def _add_imports(facts: FileFacts, found: _Found) -> None:
    for rows in found.imports.values():
        bound = [r for r in rows if any(k in r for k in ("name", "default", "namespace", "alias"))]
        for row in _unique_rows(bound or rows[:1]):
            module, line = _unquote(row["source"]), int(row["line"])
            if row.get("name"):
                facts.imports.append(RawImport(module, row["name"], row.get("alias") or row["name"], line))
            elif row.get("default") or row.get("namespace") or row.get("alias"):
                alias = row.get("default") or row.get("namespace") or row.get("alias", "")
                name = "default" if row.get("default") else None
                facts.imports.append(RawImport(module, name, alias, line))
            else:
                facts.imports.append(RawImport(module, None, "", line))


def _unique_rows(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    seen, out = set(), []
    for row in rows:
        key = tuple(sorted(row.items()))
        if key not in seen:
            seen.add(key)
            out.append(row)
    return out


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] in "'\"<`" and text[-1] in "'\">`":
        return text[1:-1]
    return text


# ------------------------------------------------------------------------------------------------ text of a node


def _signature(node: Node) -> str:
    """The definition's head: its text up to the body (the first line when it has none), comments left out."""
    body = node.child_by_field_name("body")
    end = body.start_byte if body is not None and body.start_byte > node.start_byte else None
    raw = node.text[: end - node.start_byte] if end is not None and node.text else (node.text or b"")
    lines = raw.decode("utf-8", "replace").splitlines() or [""]
    lines = [ln for ln in lines if not _COMMENT_LINE.match(ln)] if end is not None else lines[:1]
    text = " ".join(" ".join(lines).split()).rstrip("{ =").rstrip()
    return text if len(text) <= _SIGNATURE_LIMIT else text[: _SIGNATURE_LIMIT - 1] + "…"


def _docstring(node: Node) -> str:
    """The comment right above a definition (or above the export / attribute wrapping it), first paragraph."""
    target = node
    while target.parent is not None and target.parent.type in ("export_statement", "decorated_definition",
                                                                  "template_declaration", "attribute_item",
                                                                  "type_declaration"):
        target = target.parent
    lines: list[str] = []
    sibling = target.prev_named_sibling
    row = target.start_point[0]
    while sibling is not None and "comment" in sibling.type and sibling.end_point[0] >= row - 1:
        lines[:0] = _text(sibling).splitlines()
        row = sibling.start_point[0]
        sibling = sibling.prev_named_sibling
    cleaned = [_COMMENT_MARKS.sub("", ln).rstrip("*/ ").strip() for ln in lines]
    paragraph: list[str] = []
    for ln in cleaned:
        if not ln and paragraph:
            break
        if ln:
            paragraph.append(ln)
    first = " ".join(" ".join(paragraph).split())
    return first if len(first) <= _DOC_LIMIT else first[: _DOC_LIMIT - 1] + "…"


def _syntax_error(root: Node) -> str:
    node = _first_error(root)
    if node is None:
        return "SyntaxError: the parser could not read part of the file"
    line = node.start_point[0] + 1
    if node.is_missing:
        return f"SyntaxError: missing {node.type!r} (line {line})"
    snippet = " ".join(_text(node).split())[:40]
    return f"SyntaxError: unexpected {snippet!r} (line {line})" if snippet else f"SyntaxError: (line {line})"


def _first_error(node: Node) -> Node | None:
    if node.is_error or node.is_missing:
        return node
    for child in node.children:
        if child.has_error or child.is_missing or child.is_error:
            found = _first_error(child)
            if found is not None:
                return found
    return None
