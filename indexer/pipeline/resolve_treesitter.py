"""Stage 4 for the tree-sitter languages: imports, calls and bases of every non-Python file, resolved the way each
language binds names, over one symbol table per language family (JavaScript with TypeScript, C with C++).

The rule is Python's: an edge only where a name is really bound, by
- scope: the caller's own definitions and enclosing scopes (a class's members too where `f()` means `this.f()`),
  its package or namespace (Go, Java, C#, PHP, C++, Ruby constants), its module file (JS/TS, Rust, C);
- an import: JS/TS relative paths, `index` files and tsconfig `paths`; Go import paths under go.mod; Java
  imports; Rust `mod`/`use crate::`/`super::`; C/C++ `#include` of in-repository headers (and the functions
  they declare); C# `using`; Ruby `require_relative`/`require`; PHP `use` and namespaces;
- a receiver of declared type (`x.m()` with `x: T`), `this`/`self`, `super`/`base`/`parent`, or a class (`T.m()`).
Every call that leads nowhere in the repository is counted, per language, never guessed.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from posixpath import dirname, join, normpath

from ..models import (
    CALLS,
    CLASS,
    FUNCTION,
    IMPORTS,
    INHERITS,
    METHOD,
    Edge,
    FileFacts,
    RawBase,
    RawCall,
    RawImport,
    Resolution,
    Symbol,
    external_module_id,
)
from .parse.languages import LANGUAGES, PYTHON, default_namespace

FAMILY = {"javascript": "js", "typescript": "js", "c": "c", "cpp": "c"}
JS_EXTENSIONS = (".ts", ".tsx", ".d.ts", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")
_MAX_HOPS = 8
# How far a name's lexical lookup climbs: "file" stops at the file's namespace (a module file, a Go package, a
# Java package: their parents are not in scope), "global" climbs every enclosing namespace to the top.
_CLIMB = {"csharp": "global", "cpp": "global", "ruby": "global"}

# A binding's target: a symbol's qualified name, or a module (a file path, or several for a Go/Java package).
Target = tuple[str, str]  # ("symbol", qname) | ("module", namespace) | ("package", name)


def family_of(language: str) -> str:
    return FAMILY.get(language, language)


@dataclass
class _Family:
    """One language family's symbol table."""

    name: str
    files: dict[str, FileFacts] = field(default_factory=dict)
    symbols: dict[str, list[Symbol]] = field(default_factory=lambda: defaultdict(list))
    modules: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # file namespace -> paths
    packages: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # declared -> paths
    raw_bases: dict[str, list[tuple[FileFacts, RawBase]]] = field(default_factory=lambda: defaultdict(list))
    top_level: dict[str, dict[str, str]] = field(default_factory=dict)  # path -> name -> qualified name
    functions: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # name -> top-level functions

    def add(self, facts: FileFacts) -> None:
        self.files[facts.path] = facts
        namespace = default_namespace(facts.path, facts.language)
        self.modules[namespace].append(facts.path)
        own = self.top_level.setdefault(facts.path, {})
        for symbol in facts.symbols:
            if symbol.qualified_name == (f"{namespace}.{symbol.name}" if namespace else symbol.name):
                own.setdefault(symbol.name, symbol.qualified_name)
                if symbol.kind == FUNCTION:
                    self.functions[symbol.name].append(symbol.qualified_name)
        for name in facts.namespaces:
            self.packages[name].append(facts.path)
        for symbol in facts.symbols:
            self.symbols[symbol.qualified_name].append(symbol)
        for base in facts.bases:
            self.raw_bases[base.class_qname].append((facts, base))

    def kind(self, qname: str) -> str | None:
        found = self.symbols.get(qname)
        return str(found[0].kind) if found else None


@dataclass
class LanguageCounts:
    calls: int = 0
    resolved: int = 0
    unresolved: int = 0
    unresolved_bases: int = 0


class Resolver:
    """Resolves one repository's non-Python facts; see the module docstring."""

    def __init__(self, repo: str, root: str, facts: Iterable[FileFacts]) -> None:
        self.repo, self.root = repo, root
        self.families: dict[str, _Family] = {}
        for f in facts:
            self.families.setdefault(family_of(f.language), _Family(family_of(f.language))).add(f)
        self._bindings: dict[str, dict[str, list[Target]]] = {}
        self._imported: dict[str, list[tuple[RawImport, list[str], str]]] = {}
        self._bases: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self._includes: dict[str, set[str]] = {}
        self._included_names: dict[str, dict[str, list[Target]]] = {}
        self.config = _ProjectConfig(root)

    # -- the run ---------------------------------------------------------------------------------------------

    def resolve(self) -> tuple[Resolution, dict[str, LanguageCounts]]:
        result = Resolution()
        counts: defaultdict[str, LanguageCounts] = defaultdict(LanguageCounts)
        edges: set[Edge] = set()
        for family in self.families.values():
            for file in family.files.values():
                self._file_imports(family, file, edges, result)
                self._file_calls(family, file, edges, counts[file.language])
            self._inherits(family, edges, counts)
        result.edges = sorted(edges, key=lambda e: (e.type, e.source, e.target, e.relation))
        result.unresolved_calls = sum(c.unresolved for c in counts.values())
        result.unresolved_bases = sum(c.unresolved_bases for c in counts.values())
        return result, dict(counts)

    def _file_imports(self, family: _Family, file: FileFacts, edges: set[Edge], out: Resolution) -> None:
        for _, paths, external in self.imports_of(family, file):
            if paths:
                for path in paths:
                    target = family.files[path].module_id
                    if target != file.module_id:
                        edges.add(Edge(IMPORTS, file.module_id, target))
            elif external:
                target = external_module_id(self.repo, external)
                out.external_modules[target] = external
                edges.add(Edge(IMPORTS, file.module_id, target))

    def _file_calls(self, family: _Family, file: FileFacts, edges: set[Edge], counts: LanguageCounts) -> None:
        for call in file.calls:
            counts.calls += 1
            target = self.call_target(family, file, call)
            if target is None:
                counts.unresolved += 1
                continue
            counts.resolved += 1
            for symbol in _overloads(family.symbols[target], call.arguments):
                edges.add(Edge(CALLS, call.caller_id, symbol.id))

    def _inherits(self, family: _Family, edges: set[Edge], counts: dict[str, LanguageCounts]) -> None:
        for qname, raws in family.raw_bases.items():
            children = [s for s in family.symbols.get(qname, []) if s.kind == CLASS]
            for file, raw in raws:
                found = self.base_target(family, file, raw)
                if not found or not children:
                    counts[file.language].unresolved_bases += 1
                    continue
                base = family.symbols[found][0]
                relation = _relation(raw, children[0], base)
                for child in children:
                    if child.id != base.id:
                        edges.add(Edge(INHERITS, child.id, base.id, relation=relation))

    # -- imports ---------------------------------------------------------------------------------------------

    def imports_of(self, family: _Family, file: FileFacts) -> list[tuple[RawImport, list[str], str]]:
        """Each import with the repository files it reaches, or the external module it names."""
        if file.path not in self._imported:
            self._imported[file.path] = [(imp, *self._import_target(family, file, imp)) for imp in file.imports
                                         if imp.module or imp.name]
        return self._imported[file.path]

    def _import_target(self, family: _Family, file: FileFacts, imp: RawImport) -> tuple[list[str], str]:
        language = file.language
        if language in ("javascript", "typescript"):
            return self._js_import(family, file, imp.module)
        if language == "go":
            return self._go_import(family, file, imp.module)
        if language == "rust":
            return self._rust_import(family, file, imp)
        if language in ("c", "cpp"):
            return self._c_include(family, file, imp.module)
        if language == "ruby":
            return self._ruby_require(family, file, imp.module)
        return self._dotted_import(family, file, imp)

    def _js_import(self, family: _Family, file: FileFacts, spec: str) -> tuple[list[str], str]:
        if not spec:
            return [], ""
        if spec.startswith((".", "/")):
            found = _js_file(family, normpath(join(dirname(file.path), spec)))
            return ([found], "") if found else ([], spec)
        for candidate in self.config.ts_paths(spec):
            found = _js_file(family, candidate)
            if found:
                return [found], ""
        return [], _js_package(spec)

    def _go_import(self, family: _Family, file: FileFacts, spec: str) -> tuple[list[str], str]:
        module_root, module_path = self.config.go_module(file.path)
        if module_path and (spec == module_path or spec.startswith(module_path + "/")):
            folder = normpath(join(module_root, spec[len(module_path):].lstrip("/"))) if spec != module_path \
                else module_root
            folder = "" if folder == "." else folder
            paths = [p for p in family.modules.get(folder, []) if dirname(p) == folder]
            if paths:
                return sorted(paths), ""
        return [], spec

    def _rust_import(self, family: _Family, file: FileFacts, imp: RawImport) -> tuple[list[str], str]:
        target = self._rust_path(family, file, imp.module, imp.name)
        if target is None:
            head = imp.module.split("::", 1)[0] or imp.name or ""
            return [], head if head not in ("crate", "self", "super") else ""
        kind, name = target
        if kind == "module":
            return sorted(family.modules.get(name, [])), ""
        return sorted({s.path for s in family.symbols.get(name, [])}), ""

    def _rust_path(self, family: _Family, file: FileFacts, module: str, name: str | None) -> Target | None:
        """A `use` path (`crate::a::b` + name) to the module or item it names in this crate, or None."""
        parts = [p for p in module.split("::") if p] + ([name] if name and name != "*" else [])
        if not parts:
            return None
        here = default_namespace(file.path, "rust")
        if parts[0] == "crate":
            current, parts = self.config.rust_crate_root(file.path, family), parts[1:]
        elif parts[0] in ("self", "super"):
            current = here
            while parts and parts[0] in ("self", "super"):
                current = dirname(current) if parts[0] == "super" else current
                parts = parts[1:]
        else:
            return None  # another crate (std, a dependency)
        return _descend(family, current, parts)

    def _c_include(self, family: _Family, file: FileFacts, spec: str) -> tuple[list[str], str]:
        local = normpath(join(dirname(file.path), spec))
        if local in family.files:
            return [local], ""
        ends = [p for p in family.files if p == spec or p.endswith("/" + spec)]
        if ends:
            return [min(ends, key=lambda p: (p.count("/"), p))], ""
        return [], spec

    def _ruby_require(self, family: _Family, file: FileFacts, spec: str) -> tuple[list[str], str]:
        name = spec if spec.endswith(".rb") else spec + ".rb"
        if spec.startswith("./"):
            local = normpath(join(dirname(file.path), name))
            return ([local], "") if local in family.files else ([], spec[2:])
        ends = [p for p in family.files if p == name or p.endswith("/lib/" + name) or p.endswith("/" + name)]
        return ([min(ends, key=lambda p: (p.count("/"), p))], "") if ends else ([], spec)

    def _dotted_import(self, family: _Family, file: FileFacts, imp: RawImport) -> tuple[list[str], str]:
        """Java, C#, PHP: `a.b.C` names a type (files defining it); `a.b.*` a package or namespace."""
        if imp.module.startswith("./"):  # PHP require
            local = normpath(join(dirname(file.path), imp.module))
            return ([local], "") if local in family.files else ([], imp.module[2:])
        if imp.name == "*":
            paths = family.packages.get(imp.module, [])
            return (sorted(paths), "") if paths else ([], imp.module)
        qname = f"{imp.module}.{imp.name}" if imp.module else imp.name or ""
        for candidate in (qname, imp.module):
            paths = sorted({s.path for s in family.symbols.get(candidate, [])})
            if paths:
                return paths, ""
        return [], qname

    # -- names -----------------------------------------------------------------------------------------------

    def bindings(self, family: _Family, file: FileFacts) -> dict[str, list[Target]]:
        """What each imported local name refers to in this file."""
        if file.path not in self._bindings:
            out: dict[str, list[Target]] = defaultdict(list)
            for imp, paths, _ in self.imports_of(family, file):
                for alias, target in self._bind(family, file, imp, paths):
                    out[alias].append(target)
            self._bindings[file.path] = dict(out)
        return self._bindings[file.path]

    def _bind(self, family: _Family, file: FileFacts, imp: RawImport,
              paths: list[str]) -> list[tuple[str, Target]]:
        language = file.language
        if not paths:
            return []
        if language == "rust":
            target = self._rust_path(family, file, imp.module, imp.name)
            if target is None:
                return []
            if imp.name == "*":
                return [("*", target)]
            return [(imp.alias, target)]
        if language in ("javascript", "typescript"):
            module = default_namespace(paths[0], family.files[paths[0]].language)
            if imp.name is None:
                return [(imp.alias, ("module", module))] if imp.alias else []
            if imp.name == "default":
                name = _default_export(family.files[paths[0]])
                return [(imp.alias, ("symbol", f"{module}.{name}" if module else name))] if name else []
            return [(imp.alias, ("symbol", f"{module}.{imp.name}" if module else imp.name))]
        if language == "go":
            folder = dirname(paths[0])
            alias = imp.alias or _go_package_name(family, paths) or imp.module.rsplit("/", 1)[-1]
            return [(alias, ("module", folder or _go_package_name(family, paths)))]
        if language in ("java", "csharp", "php"):
            if imp.name == "*":
                return [("*", ("package", imp.module))]
            return [(imp.alias or imp.name or "", ("symbol", f"{imp.module}.{imp.name}" if imp.module
                                                    else imp.name or ""))]
        return []

    def lookup(self, family: _Family, file: FileFacts, scope: str, dotted: str) -> str | None:
        """The qualified name `dotted` (written in `scope` of `file`) refers to: a symbol or a module path."""
        head, _, rest = dotted.partition(".")
        for start in self._heads(family, file, scope, head):
            found = self.canonical(family, file, start, rest)
            if found is not None:
                return found
        return None

    def _heads(self, family: _Family, file: FileFacts, scope: str, head: str) -> Iterable[Target]:
        """Where a name's first part may be bound, innermost first."""
        for prefix in self._scope_chain(family, file, scope):
            candidate = f"{prefix}.{head}" if prefix else head
            if candidate in family.symbols and self._loaded(family, file, candidate):
                yield ("symbol", candidate)
            elif candidate in family.packages:  # a namespace (TS, C#, C++, a Rust inline module)
                yield ("module", candidate)
        bound = self.bindings(family, file)
        yield from bound.get(head, [])
        if file.language == "rust":
            for star in bound.get("*", []):
                yield ("symbol", f"{star[1]}.{head}")
        for kind, package in bound.get("*", []) if file.language != "rust" else []:
            if kind == "package":
                yield ("symbol", f"{package}.{head}")
        yield from self._included(family, file, head)
        if file.language in ("java", "go", "csharp", "php", "ruby", "cpp") and (
                head in family.packages or head in family.modules):
            yield ("module", head)

    def _scope_chain(self, family: _Family, file: FileFacts, scope: str) -> list[str]:
        """The lexical scopes around `scope`, innermost first: its qualified name's prefixes, down to the file's
        namespace (or to the top, in languages whose namespaces nest)."""
        namespace = _file_namespace(file)
        climbs = _CLIMB.get(file.language) == "global"
        chain, current = [], scope
        while current:
            chain.append(current)
            if current == namespace and not climbs:
                break
            current = current.rpartition(".")[0] if "." in current else ""
        if climbs or not namespace or file.language == "php":  # PHP: an unqualified function falls back to global
            chain.append("")
        return chain

    def _loaded(self, family: _Family, file: FileFacts, qname: str) -> bool:
        """Ruby: a constant or method is visible once its file is loaded: this file or one it requires
        (transitively). Elsewhere scope alone decides."""
        if file.language != "ruby":
            return True
        here = self.include_closure(family, file) | {file.path}
        return any(s.path in here for s in family.symbols[qname])

    def _included(self, family: _Family, file: FileFacts, head: str) -> list[Target]:
        """C/C++: top-level names of the files this one includes (transitively), and the definitions of the
        functions those headers declare; Ruby: constants and methods of the files it requires."""
        if file.language not in ("c", "cpp", "ruby"):
            return []
        if file.path not in self._included_names:
            names: dict[str, list[Target]] = defaultdict(list)
            for path in sorted(self.include_closure(family, file)):
                for name, qname in family.top_level[path].items():
                    names[name].append(("symbol", qname))
                for name in family.files[path].declarations:  # declared here: bound to its definitions
                    names[name].extend(("symbol", q) for q in sorted(set(family.functions.get(name, []))))
            self._included_names[file.path] = dict(names)
        return self._included_names[file.path].get(head, [])

    def include_closure(self, family: _Family, file: FileFacts) -> set[str]:
        if file.path not in self._includes:
            seen: set[str] = set()
            stack = [file.path]
            while stack:
                current = family.files[stack.pop()]
                for _, paths, _ in self.imports_of(family, current):
                    for path in paths:
                        if path not in seen and path != file.path:
                            seen.add(path)
                            stack.append(path)
            self._includes[file.path] = seen
        return self._includes[file.path]

    def canonical(self, family: _Family, file: FileFacts, start: Target, rest: str, hops: int = 0) -> str | None:
        """Follow `rest` from a bound start (a symbol or a module) to what it names."""
        kind, name = start
        if hops > _MAX_HOPS:
            return None
        if kind == "package":
            return None
        if kind == "module":
            if not rest:
                return None
            head, _, tail = rest.partition(".")
            inner = f"{name}.{head}" if name else head
            if inner in family.symbols:
                return self.canonical(family, file, ("symbol", inner), tail, hops + 1)
            reexport = self._reexport(family, name, head)
            if reexport is not None:
                return self.canonical(family, file, reexport, tail, hops + 1)
            return None
        if not rest:
            return name if name in family.symbols else self._follow_reexport(family, name, hops)
        head, _, tail = rest.partition(".")
        if family.kind(name) == CLASS:
            found = self.find_method(family, name, head) if not tail else None
            if found is None and f"{name}.{head}" in family.symbols:  # a nested type
                return self.canonical(family, file, ("symbol", f"{name}.{head}"), tail, hops + 1)
            return found
        if f"{name}.{head}" in family.symbols:
            return self.canonical(family, file, ("symbol", f"{name}.{head}"), tail, hops + 1)
        return None

    def _reexport(self, family: _Family, module: str, name: str) -> Target | None:
        """JS/TS: `export {x} from "./y"` in an index file; Rust: `pub use`."""
        for path in family.modules.get(module, []):
            bound = self.bindings(family, family.files[path]).get(name)
            if bound:
                return bound[0]
        return None

    def _follow_reexport(self, family: _Family, qname: str, hops: int) -> str | None:
        module, _, name = qname.rpartition(".")
        target = self._reexport(family, module, name) if module in family.modules else None
        if target is None or target == ("symbol", qname):
            return None
        kind, found = target
        return found if kind == "symbol" and found in family.symbols else None

    # -- classes ---------------------------------------------------------------------------------------------

    def base_target(self, family: _Family, file: FileFacts, raw: RawBase) -> str | None:
        scope = raw.class_qname.rpartition(".")[0]
        found = self.lookup(family, file, scope, raw.base)
        if found == raw.class_qname:  # `class Foo < Foo` never; a same-named base lives further out
            found = self.lookup(family, file, scope.rpartition(".")[0], raw.base)
        return found if found and family.kind(found) == CLASS and found != raw.class_qname else None

    def bases(self, family: _Family, class_qname: str) -> list[str]:
        key = (family.name, class_qname)
        if key not in self._bases:
            self._bases[key] = []  # guards against cycles while resolving
            found = []
            for file, raw in family.raw_bases.get(class_qname, []):
                target = self.base_target(family, file, raw)
                if target:
                    found.append((target, raw.relation))
            self._bases[key] = found
        return [qname for qname, _ in self._bases[key]]

    def find_method(self, family: _Family, class_qname: str, name: str, skip_self: bool = False) -> str | None:
        seen: set[str] = set()
        stack = list(reversed(self.bases(family, class_qname))) if skip_self else [class_qname]
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            candidate = f"{current}.{name}"
            if family.kind(candidate) in (METHOD, FUNCTION):
                return candidate
            stack.extend(reversed(self.bases(family, current)))
        return None

    # -- calls -----------------------------------------------------------------------------------------------

    def call_target(self, family: _Family, file: FileFacts, call: RawCall) -> str | None:
        spec = LANGUAGES[file.language]
        if call.construct:
            return self._constructor(family, file, call)
        head, _, rest = call.target.partition(".")
        if not rest:
            return self._bare_call(family, file, call)
        if call.receiver:
            return self._typed_call(family, file, call, call.target.rsplit(".", 1)[1])
        if head in spec.self_names or head == "Self":
            return self.find_method(family, call.class_qname, rest) if call.class_qname and "." not in rest \
                else None
        if head in spec.super_names:
            return self.find_method(family, call.class_qname, rest, skip_self=True) \
                if call.class_qname and "." not in rest else None
        if head == "?":
            return None
        found = self.lookup(family, file, call.caller_qname, call.target)
        return found if found and family.kind(found) in (METHOD, FUNCTION) else None

    def _bare_call(self, family: _Family, file: FileFacts, call: RawCall) -> str | None:
        spec = LANGUAGES[file.language]
        if spec.implicit_this and call.class_qname:
            found = self.find_method(family, call.class_qname, call.target)
            if found is not None:
                return found
        scope = call.caller_qname
        if call.class_qname and not spec.implicit_this:
            scope = _outside(call.caller_qname, call.class_qname)
        found = self.lookup(family, file, scope, call.target)
        if found is not None and family.kind(found) == CLASS and file.language == "cpp":
            return self._constructor_of(family, found, file)  # `T(x)`: a C++ construction
        # Without an implicit `this`, a bare name binds a function, never a method (`send()` is not `res.send`).
        wanted = (METHOD, FUNCTION) if spec.implicit_this else (FUNCTION,)
        return found if found and family.kind(found) in wanted else None

    def _typed_call(self, family: _Family, file: FileFacts, call: RawCall, method: str) -> str | None:
        klass = self.lookup(family, file, call.caller_qname, call.receiver)
        if klass is None or family.kind(klass) != CLASS:
            return None
        return self.find_method(family, klass, method)

    def _constructor(self, family: _Family, file: FileFacts, call: RawCall) -> str | None:
        klass = self.lookup(family, file, call.caller_qname, call.target)
        if klass is None or family.kind(klass) != CLASS:
            return None
        return self._constructor_of(family, klass, file)

    def _constructor_of(self, family: _Family, klass: str, file: FileFacts) -> str | None:
        spec = LANGUAGES[file.language]
        if not spec.constructor:
            return None
        name = klass.rsplit(".", 1)[-1] if spec.constructor == "<class>" else spec.constructor
        if spec.constructor == "<class>":
            return f"{klass}.{name}" if family.kind(f"{klass}.{name}") == METHOD else None
        return self.find_method(family, klass, name)


# ------------------------------------------------------------------------------------------------ helpers


def _overloads(symbols: list[Symbol], arguments: int) -> list[Symbol]:
    """Of same-named definitions (overloads), those a call with this many arguments can reach; all of them when
    the count is unknown or none fits (a count never makes an edge, it only chooses among bound names)."""
    if len(symbols) < 2 or arguments < 0:
        return symbols
    fitting = [s for s in symbols if _accepts(s.signature, arguments)]
    return fitting or symbols


def _accepts(signature: str, arguments: int) -> bool:
    low, high = _arity(signature)
    return low <= arguments <= high


@lru_cache(maxsize=65536)
def _arity(signature: str) -> tuple[int, float]:
    """(fewest, most) arguments from a signature's first parameter list; defaults lower the fewest, varargs
    (`...`, `params`, `*args`) lift the most."""
    start = signature.find("(")
    if start < 0:
        return 0, float("inf")
    depth, parts, current = 0, [], ""
    for ch in signature[start + 1:]:
        if ch in "([{<":
            depth += 1
        elif ch in ")]}>":
            if depth == 0 and ch == ")":
                break
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts = [p.strip() for p in [*parts, current] if p.strip() and p.strip() not in ("void", "self", "&self",
                                                                                      "&mut self", "this")]
    variadic = any("..." in p or p.startswith(("params ", "*")) for p in parts)
    required = sum(1 for p in parts if not ("=" in p or "..." in p or p.startswith(("params ", "*", "&"))))
    return required, float("inf") if variadic else len(parts)


def _relation(raw: RawBase, child: Symbol, base: Symbol) -> str:
    """extends / implements / embeds / includes; a C# base list says nothing, so the base's subkind decides."""
    relation = raw.relation or "extends"
    if relation == "extends" and base.subkind == "interface" and child.subkind != "interface":
        return "implements"
    return relation


def _outside(caller: str, klass: str) -> str:
    """The scope around a class (JS/TS/PHP/Rust: a bare name inside a method does not see the class's members)."""
    return klass.rpartition(".")[0] if caller.startswith(klass + ".") else caller


@lru_cache(maxsize=65536)
def _namespace_of(path: str, language: str, declared: tuple[str, ...]) -> str:
    spec = LANGUAGES[language]
    if spec.default_namespace == "global" and declared:
        return declared[0]
    path_namespace = default_namespace(path, language)
    if spec.default_namespace == "folder":
        return path_namespace or (declared[0] if declared else "")
    return path_namespace


def _file_namespace(file: FileFacts) -> str:
    return _namespace_of(file.path, file.language, tuple(file.namespaces[:1]))


def _descend(family: _Family, current: str, parts: list[str]) -> Target | None:
    """Rust: walk `a::b::C` from a module namespace through file modules, inline modules and items."""
    if not parts:
        return ("module", current)
    head, tail = parts[0], parts[1:]
    file_module = f"{current}/{head}" if current else head
    if file_module in family.modules:
        return _descend(family, file_module, tail)
    inner = f"{current}.{head}" if current else head
    if inner in family.symbols:
        return ("symbol", ".".join([inner, *tail]))
    return None


def _js_file(family: _Family, base: str) -> str | None:
    """`./x` -> x.ts / x.js / x/index.ts ... (the first that is in the repository)."""
    if base in family.files:
        return base
    for ext in JS_EXTENSIONS:
        if base + ext in family.files:
            return base + ext
    stem = base.rsplit(".", 1)[0]
    for ext in JS_EXTENSIONS:  # `./x.js` written for a TypeScript source x.ts (ESM style)
        if stem + ext in family.files:
            return stem + ext
    for ext in JS_EXTENSIONS:
        if f"{base}/index{ext}" in family.files:
            return f"{base}/index{ext}"
    return None


def _js_package(spec: str) -> str:
    parts = spec.split("/")
    return "/".join(parts[:2]) if spec.startswith("@") else parts[0]


def _default_export(file: FileFacts) -> str:
    return next((d.split("=", 1)[1] for d in file.declarations if d.startswith("default=")), "")


def _go_package_name(family: _Family, paths: list[str]) -> str:
    names = Counter(n for p in paths for n in family.files[p].namespaces)
    return names.most_common(1)[0][0] if names else ""


class _ProjectConfig:
    """The few project files resolution reads: go.mod, tsconfig.json / jsconfig.json, Cargo crate roots."""

    def __init__(self, root: str) -> None:
        self.root = root
        self._go: dict[str, tuple[str, str]] = {}
        self._ts: list[tuple[str, list[str]]] | None = None

    def go_module(self, path: str) -> tuple[str, str]:
        """(folder of the nearest go.mod above `path`, its module path); ("", "") without one."""
        folder = dirname(path)
        if folder not in self._go:
            text = _read(self.root, join(folder, "go.mod"))
            match = re.search(r"^module\s+(\S+)", text or "", re.M)
            if match:
                self._go[folder] = (folder, match.group(1))
            elif folder:
                self._go[folder] = self.go_module(folder)
            else:
                self._go[folder] = ("", "")
        return self._go[folder]

    def ts_paths(self, spec: str) -> list[str]:
        """Repository paths a bare specifier maps to through the root tsconfig's baseUrl and paths."""
        if self._ts is None:
            self._ts = _tsconfig_paths(self.root)
        out = []
        for pattern, targets in self._ts:
            prefix, star, suffix = pattern.partition("*")
            if star and spec.startswith(prefix) and spec.endswith(suffix):
                middle = spec[len(prefix): len(spec) - len(suffix)]
                out += [normpath(t.replace("*", middle)) for t in targets]
            elif not star and spec == pattern:
                out += [normpath(t) for t in targets]
        return out

    def rust_crate_root(self, path: str, family: _Family) -> str:
        """The module namespace of the crate root above `path` (the folder holding lib.rs or main.rs)."""
        folder = dirname(path)
        while True:
            for root_file in ("lib.rs", "main.rs"):
                if join(folder, root_file) in family.files:
                    return folder
            if not folder:
                return ""
            folder = dirname(folder)


def _read(root: str, relative: str) -> str | None:
    try:
        with open(os.path.join(root, relative), encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


def _tsconfig_paths(root: str) -> list[tuple[str, list[str]]]:
    for name in ("tsconfig.json", "jsconfig.json"):
        text = _read(root, name)
        if text is None:
            continue
        try:
            options = json.loads(_strip_json_comments(text)).get("compilerOptions", {})
        except (ValueError, AttributeError):
            return []
        base = normpath(options.get("baseUrl", "."))
        rows = [(pattern, [join(base, t) for t in targets]) for pattern, targets in options.get("paths", {}).items()]
        return rows + ([("*", [join(base, "*")])] if "baseUrl" in options else [])
    return []


def _strip_json_comments(text: str) -> str:
    text = re.sub(r'("(?:\\.|[^"\\])*")|//[^\n]*|/\*.*?\*/', lambda m: m.group(1) or "", text, flags=re.S)
    return re.sub(r",(\s*[}\]])", r"\1", text)


# ------------------------------------------------------------------------------------------------ the hook


def resolve_other(repo: str, root: str, facts: list[FileFacts]) -> tuple[Resolution, dict[str, LanguageCounts]]:
    """Resolution of every non-Python file, and per-language call counts."""
    return Resolver(repo, root, [f for f in facts if f.language != PYTHON]).resolve()


def merge(python: Resolution, other: Resolution) -> Resolution:
    """One Resolution of both. Python's bases are all `extends`, which its INHERITS edges then say."""
    edges = [replace(e, relation="extends") if e.type == INHERITS and not e.relation else e for e in python.edges]
    sites = dict(python.call_sites)
    for reason, count in other.call_sites.items():
        sites[reason] = sites.get(reason, 0) + count
    return Resolution(
        edges=sorted([*edges, *other.edges], key=lambda e: (e.type, e.source, e.target, e.relation)),
        external_modules={**python.external_modules, **other.external_modules},
        unresolved_calls=python.unresolved_calls + other.unresolved_calls,
        unresolved_bases=python.unresolved_bases + other.unresolved_bases,
        call_sites=sites,
        unresolved_sites=[*python.unresolved_sites, *other.unresolved_sites],
    )
