"""Stage 4, resolve: one pass in the parent over every file's facts, turning raw names into edges.

Resolution needs the whole repository (a call in one file names a function in another), so it runs once,
on dictionaries, after extraction. Names are resolved the way Python binds them: enclosing function scopes,
then the module's own definitions, then its imports (following re-exports through packages), with
`self.`/`cls.`/`super()` looked up along the class's in-repository bases. A name that leads nowhere in the
repository is counted, never guessed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from ..models import (
    CALLS,
    CLASS,
    FUNCTION,
    IMPORTS,
    INHERITS,
    METHOD,
    MODULE,
    Edge,
    FileFacts,
    RawCall,
    Resolution,
    Symbol,
    external_module_id,
)

_MAX_HOPS = 8  # re-export chains and alias hops followed before giving up


class SymbolTable:
    """Qualified names of a repository's modules and definitions, with each module's import bindings."""

    def __init__(self, facts: Iterable[FileFacts]) -> None:
        self.modules: dict[str, FileFacts] = {}
        self.symbols: dict[str, list[Symbol]] = defaultdict(list)
        self.bindings: dict[str, dict[str, str]] = {}
        for file in facts:
            self.modules[file.module] = file
            for symbol in file.symbols:
                self.symbols[symbol.qualified_name].append(symbol)
            self.bindings[file.module] = _bindings(file)
        self._bases: dict[str, list[str]] = {}
        self._raw_bases: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for file in self.modules.values():
            for base in file.bases:
                self._raw_bases[base.class_qname].append((file.module, base.base))

    def kind(self, qname: str) -> str | None:
        found = self.symbols.get(qname)
        return found[0].kind if found else (MODULE if qname in self.modules else None)

    # -- names -------------------------------------------------------------------------------------------

    def resolve(self, module: str, dotted: str, scope: str | None = None) -> str | None:
        """The repository qualified name that `dotted`, written in `module` (inside `scope`), refers to."""
        head, _, rest = dotted.partition(".")
        start = self._lookup_head(module, head, scope)
        if start is None:
            return None
        return self.canonical(f"{start}.{rest}" if rest else start)

    def _lookup_head(self, module: str, head: str, scope: str | None) -> str | None:
        # Enclosing function scopes first (nested definitions), skipping class bodies as Python does.
        while scope and scope != module:
            if self.kind(scope) != CLASS and f"{scope}.{head}" in self.symbols:
                return f"{scope}.{head}"
            scope = scope.rpartition(".")[0]
        if f"{module}.{head}" in self.symbols:
            return f"{module}.{head}"
        return self.bindings.get(module, {}).get(head)

    def canonical(self, qname: str, hops: int = 0) -> str | None:
        """Follow a dotted name through modules, re-exports and class attributes to what it defines."""
        if qname in self.symbols or qname in self.modules:
            return qname
        if hops > _MAX_HOPS:
            return None
        parts = qname.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            prefix, rest = ".".join(parts[:cut]), parts[cut:]
            kind = self.kind(prefix)
            if kind == MODULE:
                target = self.bindings[prefix].get(rest[0])
                if target is None or target == qname:
                    return None
                return self.canonical(".".join([target, *rest[1:]]), hops + 1)
            if kind == CLASS and len(rest) == 1:
                return self.find_method(prefix, rest[0])
            if kind is not None:
                return None
        return None

    # -- classes -----------------------------------------------------------------------------------------

    def bases(self, class_qname: str) -> list[str]:
        """In-repository base classes, resolved once and memoised."""
        if class_qname not in self._bases:
            self._bases[class_qname] = []  # guards against cycles while resolving
            found = []
            for module, raw in self._raw_bases.get(class_qname, []):
                target = self.resolve(module, raw, class_qname.rpartition(".")[0])
                if target and self.kind(target) == CLASS and target != class_qname:
                    found.append(target)
            self._bases[class_qname] = found
        return self._bases[class_qname]

    def find_method(self, class_qname: str, name: str, skip_self: bool = False) -> str | None:
        """`name` on the class or along its bases (depth-first, left to right, each class once)."""
        seen: set[str] = set()
        stack = list(reversed(self.bases(class_qname))) if skip_self else [class_qname]
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            candidate = f"{current}.{name}"
            if candidate in self.symbols:
                return candidate
            stack.extend(reversed(self.bases(current)))
        return None


def _bindings(file: FileFacts) -> dict[str, str]:
    """Local name -> absolute dotted target, for every import in the file."""
    out: dict[str, str] = {}
    for imp in file.imports:
        if not imp.module or not imp.alias:
            continue
        if imp.name is None:
            # `import a.b` binds `a`; `import a.b as c` binds `c` to `a.b`.
            top = imp.module.partition(".")[0]
            out[imp.alias] = top if imp.alias == top else imp.module
        else:
            out[imp.alias] = f"{imp.module}.{imp.name}"
    return out


def resolve(repo: str, facts: list[FileFacts]) -> Resolution:
    table = SymbolTable(facts)
    result = Resolution()
    edges: set[Edge] = set()
    for file in facts:
        _resolve_imports(repo, table, file, edges, result)
        for base in file.bases:
            targets = table.bases(base.class_qname)
            if not targets:
                result.unresolved_bases += 1
        for call in file.calls:
            target = _resolve_call(table, file.module, call)
            if target is None:
                result.unresolved_calls += 1
                continue
            for symbol in table.symbols[target]:
                edges.add(Edge(CALLS, call.caller_id, symbol.id))
    for qname, symbols in list(table.symbols.items()):
        if symbols[0].kind != CLASS:
            continue
        for base in table.bases(qname):
            for child in symbols:
                edges.add(Edge(INHERITS, child.id, table.symbols[base][0].id))
    result.edges = sorted(edges, key=lambda e: (e.type, e.source, e.target))
    return result


def _resolve_imports(repo: str, table: SymbolTable, file: FileFacts, edges: set[Edge], out: Resolution) -> None:
    for imp in file.imports:
        if not imp.module:
            continue
        submodule = f"{imp.module}.{imp.name}" if imp.name and imp.name != "*" else None
        target = submodule if submodule and submodule in table.modules else imp.module
        if target in table.modules:
            target_id = table.modules[target].module_id
        else:
            target_id = external_module_id(repo, target)
            out.external_modules[target_id] = target
        if target_id != file.module_id:
            edges.add(Edge(IMPORTS, file.module_id, target_id))


def _resolve_call(table: SymbolTable, module: str, call: RawCall) -> str | None:
    """The Function/Method a call reaches; a class call reaches its __init__."""
    target = call.target
    if call.class_qname and target == "cls":
        found: str | None = call.class_qname  # cls(): the class's constructor
    elif call.class_qname and target.startswith(("self.", "cls.")):
        rest = target.split(".", 1)[1]
        found = table.find_method(call.class_qname, rest) if "." not in rest else None
    elif call.class_qname and target.startswith("super()."):
        found = table.find_method(call.class_qname, target[len("super().") :], skip_self=True)
    else:
        found = table.resolve(module, target, call.caller_qname)
    if found is None:
        return None
    kind = table.kind(found)
    if kind == CLASS:
        return table.find_method(found, "__init__")
    return found if kind in (METHOD, FUNCTION) else None
