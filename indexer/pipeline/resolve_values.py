"""Evaluating extracted values over the whole repository: what a name, an attribute or a call can be.

Extraction (parse/python.py) leaves every file's bindings and call sites as small tuples (the grammar is in
models.py). Here they are evaluated to *objects*, each with the rank of the least direct step that produced it
(a Provenance, by index) and the branch conditions of the bindings it passed through:

    ("def", id)        a function or method           ("cls", id)        a class
    ("inst", id)       an instance of a class         ("bound", id, cls) a method bound to an instance of cls
    ("sm", id)         a staticmethod                 ("cm", id)         a classmethod
    ("prop", id)       a property's getter            ("super", cls, receiver)
    ("mod", name)      a module of the repository     ("ext", dotted)    anything from outside the repository
    ("bi", name)       a builtin function, type or builtin method         ("bv", type)  a builtin value
    ("seq", ctx, binding)  a container literal bound to a name (with what is stored into it later)
    ("lit", ctx, expr) another container literal      ("lam", ctx, expr) a lambda
    ("args", id, name) the *args/**kwargs of a function                   ("gen", id, cls) a generator
    ("getter", c), ("view", c, kind), ("pair", c)    a container's get/items/values and their results
    ("deco", origin)   what a decorator factory returns (it gives back what it decorates); origin "ext"
                       for a factory from outside the repository
    ("unk", reason)    unknown: "receiver" (an attribute of something unknown), anything else is dynamic

Methods are looked up along the C3 MRO of in-repository classes; a base from outside the repository (or a
builtin other than `object`) is opaque: a name not found before it stays unresolved. An attribute stored on
`self` in a method shadows the class attribute when `__init__` stores it. Values are never guessed: what
cannot be followed is unknown, and the call site is counted as unresolved.

Functions passed as arguments reach the parameters of every function the call site resolved to (context-
insensitive, as assignment-graph call-graph tools do); the driver iterates that to a fixpoint. A call's
result is followed into the callee's returns with its first argument substituted when the returns depend on
it (decorators, identity-like wrappers).
"""

from __future__ import annotations

import builtins
from collections import defaultdict
from functools import lru_cache
from typing import Any

from ..models import CLASS, MODULE, PROVENANCE_ORDER, Expr, FileFacts, ScopeFacts, Symbol

(SCOPE, IMPORT, SELF, CLS, SUPER, CONSTRUCTOR, ALIAS, INFERRED, RETURN, ARGUMENT, CONTAINER,
 DECORATOR) = range(len(PROVENANCE_ORDER))

Obj = tuple[Any, ...]
Found = dict[Obj, tuple[int, str]]  # object -> (rank, condition)

BUILTINS = frozenset(dir(builtins))
BUILTIN_TYPES = frozenset(n for n in BUILTINS if isinstance(getattr(builtins, n), type))
# Builtin functions whose result is a builtin value (their results' methods are builtin methods).
BUILTIN_VALUES = frozenset({"len", "repr", "ascii", "hash", "id", "ord", "chr", "format", "hex", "oct", "bin",
                            "abs", "round", "divmod", "pow", "sum", "isinstance", "issubclass", "callable",
                            "hasattr", "open", "input", "print", "sorted", "any", "all", "dir", "setattr",
                            "delattr", "compile", "zip", "map", "filter", "enumerate", "iter", "reversed"})
# Decorators that give back the function they decorate (by qualified name, in or outside the repository).
TRANSPARENT = frozenset({
    "functools.lru_cache", "functools.cache", "functools.total_ordering", "functools.singledispatch",
    "functools.wraps", "functools.update_wrapper", "contextlib.contextmanager", "contextlib.asynccontextmanager",
    "abc.abstractmethod", "typing.overload", "typing.final", "typing.override", "typing.no_type_check",
    "typing.runtime_checkable", "typing.dataclass_transform", "typing_extensions.overload",
    "typing_extensions.final", "typing_extensions.override", "typing_extensions.runtime_checkable",
    "dataclasses.dataclass", "enum.unique", "enum.verify", "atexit.register", "types.coroutine",
    "asyncio.coroutine", "reprlib.recursive_repr", "unittest.mock.patch", "pytest.fixture",
})
PROPERTIES = frozenset({"property", "functools.cached_property", "types.DynamicClassAttribute", "enum.property",
                        "abc.abstractproperty"})
STATICS = frozenset({"staticmethod", "abc.abstractstaticmethod"})
CLASSMETHODS = frozenset({"classmethod", "abc.abstractclassmethod"})
PARTIALS = frozenset({"functools.partial", "functools.partialmethod"})
FACTORIES = frozenset({"functools.wraps", "reprlib.recursive_repr", "typing.dataclass_transform"})  # always

_CALLABLE = frozenset({"def", "bound", "cls", "sm", "cm", "lam"})
_FLOWING = _CALLABLE | {"inst"}
_MAX_DEPTH = 60  # memoised computations in progress at once (the evaluation's depth)
_BUDGET = 40_000  # evaluation steps per call site before giving up (pathological assignment graphs)
_VISITS = 3_000  # memoised results looked at per evaluation, found or computed: dispatch tables of functions
#                  (`_TAGS[tag](...)`) fan out to every entry's returns (30-100k looks, 0.2 s each, for nothing:
#                  the same CALLS and REFERENCES on the standard library and on graphdex, 3-16x faster here)
_COND_LIMIT = 300


@lru_cache(maxsize=1 << 16)
def _alternatives(text: str) -> tuple[str, ...]:
    """`text` split at its top-level ` or ` (not inside brackets or quotes). Pure and memoised: conditions
    are few and repeated."""
    if " or " not in text:
        return (text,)
    parts: list[str] = []
    current = ""
    for piece in text.split(" or "):
        current = f"{current} or {piece}" if current else piece
        if _balanced(current):
            parts.append(current)
            current = ""
    if current:
        parts.append(current)  # unbalanced (a cut condition): as it is
    return tuple(parts)


def _balanced(text: str) -> bool:
    return (text.count("(") == text.count(")") and text.count("[") == text.count("]")
            and text.count("'") % 2 == 0 and text.count('"') % 2 == 0)


def _cut(text: str) -> str:
    return text if len(text) <= _COND_LIMIT else text[: _COND_LIMIT - 1] + "…"


def and_(a: str, b: str) -> str:
    """Both conditions (an alternative is parenthesised, so that `and` keeps its meaning)."""
    if not a or a == b:
        return b
    if not b:
        return a
    a, b = (f"({x})" if len(_alternatives(x)) > 1 else x for x in (a, b))
    return _cut(f"{a} and {b}")


def or_(a: str, b: str) -> str:
    """Either condition: "" (unconditional) wins; otherwise the distinct alternatives, sorted."""
    if not a or not b:
        return ""
    if a == b:
        return a
    return _cut(" or ".join(sorted(set(_alternatives(a)) | set(_alternatives(b)))))


def add(out: Found, obj: Obj, rank: int, cond: str) -> None:
    old = out.get(obj)
    if old is None:
        out[obj] = (rank, cond)
    elif old != (rank, cond):
        out[obj] = (min(old[0], rank), or_(old[1], cond))


class _Stop(Exception):
    """The evaluation budget of one call site ran out."""


class Evaluator:
    """Objects for the values of a repository's files; memoised per binding."""

    def __init__(self, facts: list[FileFacts]) -> None:
        self.facts = facts
        self.values = [f.values for f in facts]
        self.module_ctx: dict[str, int] = {}
        self.module_scope: list[ScopeFacts] = []
        self.symbols: dict[str, Symbol] = {}
        self.scopes: dict[str, tuple[int, ScopeFacts]] = {}
        for ctx, file in enumerate(facts):
            self.module_ctx[file.module] = ctx
            for symbol in file.symbols:
                self.symbols[symbol.id] = symbol
            for scope in file.scopes:
                self.scopes[scope.id] = (ctx, scope)
            self.module_scope.append(file.scopes[0] if file.scopes else ScopeFacts(file.module_id, MODULE))
        self.memo: dict[tuple[Any, ...], tuple[Found, frozenset[tuple[str, str]] | None]] = {}
        # bindings evaluated with no self or argument substitution, by file and binding: (found, reads)
        self.plain: list[list[tuple[Found, frozenset[tuple[str, str]] | None] | None]] = [
            [None] * len(f.values) for f in facts]
        self.active: set[tuple[Any, ...]] = set()
        # the arguments reaching each parameter, by (call site, argument): set by the driver
        self.flows: dict[tuple[str, str], dict[tuple[int, int], tuple[int, Expr]]] = {}
        self.readers: dict[tuple[str, str], list[tuple[Any, ...]]] = defaultdict(list)  # memo keys by param
        self.store_reads: set[tuple[str, str]] = set()
        self.adds: dict[Obj, list[tuple[int, Expr, str]]] = defaultdict(list)
        self.attr_stores: dict[tuple[str, str], list[tuple[int, Expr]]] = defaultdict(list)
        self._mro: dict[str, list[tuple[Any, ...]]] = {}
        self._bases: dict[str, list[tuple[Any, ...]]] = {}
        self._slot_cond: dict[tuple[str, str], str] = {}
        self._conds: dict[str, dict[str, str]] = {}
        self._depends: dict[str, bool] = {}
        self._guarded: dict[str, frozenset[str]] = {}
        self._signatures: dict[str, tuple[list[str], str | None, str | None, set[str]] | None] = {}
        self.reads: set[tuple[str, str]] | None = None  # parameters whose incoming arguments were read
        self.steps = 0
        self.visits = 0
        self.bounded = False  # inside evaluate() or isolated(), whose budgets apply (and which catch _Stop)

    # -- driving -----------------------------------------------------------------------------------------

    def evaluate(self, ctx: int, expr: Expr) -> Found:
        """The objects `expr`, written in file `ctx`, can be; budgeted and guarded (never raises). Memoised:
        the same callee is written many times in a file (`self.m`, `os.path.join`)."""
        key = ("top", ctx, expr)
        memo = self.memo.get(key)
        if memo is not None:
            if memo[1]:
                self.read(memo[1])
            return memo[0]
        self.steps = self.visits = 0
        self.active.clear()
        self.bounded = True
        try:
            return self.cached(key, self._evaluate, ctx, expr)
        finally:
            self.bounded = False

    def _evaluate(self, ctx: int, expr: Expr) -> Found:
        try:
            return _TAGS[expr[0]](self, ctx, expr, None, None)
        except (_Stop, RecursionError):
            return {("unk", "dynamic"): (SCOPE, "")}

    def cached(self, key: tuple[Any, ...], work: Any, *args: Any) -> Found:
        """`work(*args)`, memoised with the parameters it read; cut when it reaches itself again (a value
        stored into what it is read from: {} there)."""
        self.visits += 1
        if self.visits > _VISITS and self.bounded:
            raise _Stop
        memo = self.memo.get(key)
        if memo is not None:
            if memo[1]:
                self.read(memo[1])
            return memo[0]
        if key in self.active:
            return {}
        self._step()
        self.active.add(key)
        outer, self.reads = self.reads, None
        try:
            found = work(*args)
            if self.reads:
                reads = frozenset(self.reads)
                for param in reads:
                    self.readers[param].append(key)
                self.memo[key] = (found, reads)
            else:
                self.memo[key] = (found, None)
            return found
        finally:
            self.active.discard(key)
            mine, self.reads = self.reads, outer
            if mine:
                self.read(mine)

    def read(self, params: Any) -> None:
        if self.reads is None:
            self.reads = set(params)
        else:
            self.reads.update(params)

    def signature(self, function: str) -> tuple[list[str], str | None, str | None, set[str]] | None:
        """(positional parameters, *args, **kwargs, named parameters) of a function, memoised."""
        found = self._signatures.get(function)
        if found is None and function not in self._signatures:
            where = self.scopes.get(function)
            if where is not None:
                params = where[1].params
                found = ([p[0] for p in params if p[1] == "pos"], next((p[0] for p in params if p[1] == "*"), None),
                         next((p[0] for p in params if p[1] == "**"), None),
                         {p[0] for p in params if p[1] in ("pos", "kw")})
            self._signatures[function] = found
        return found

    def isolated(self, ctx: int, expr: Expr) -> Found:
        """Evaluate with a budget and cycle guard of its own (for what is memoised for good: bases)."""
        saved = self.steps, self.visits, self.active, self.bounded
        self.steps, self.visits, self.active, self.bounded = 0, 0, set(), True
        try:
            return _TAGS[expr[0]](self, ctx, expr, None, None)
        except (_Stop, RecursionError):
            return {("unk", "dynamic"): (SCOPE, "")}
        finally:
            self.steps, self.visits, self.active, self.bounded = saved

    def prepare(self) -> None:
        """Every class's MRO, each evaluated on its own."""
        for cls, (_, scope) in self.scopes.items():
            if scope.kind == CLASS:
                self.mro(cls)

    def register_stores(self) -> None:
        """What `d[k] = v`, `l.append(v)`, ... put into which container literal, and what `obj.attr = v`
        stores on which class's instances (besides `self.attr = v` in its methods)."""
        self.adds.clear()
        self.attr_stores.clear()
        self.reads = None
        for ctx, file in enumerate(self.facts):
            for target, value, kind in file.stores:
                if kind == "attr":
                    receiver, name = target
                    for obj in self.evaluate(ctx, receiver):
                        if obj[0] == "inst":
                            self.attr_stores[(obj[1], name)].append((ctx, value))
                    continue
                for obj in self.evaluate(ctx, target):
                    if obj[0] in ("seq", "lit"):
                        self.adds[obj].append((ctx, value, kind))
        self.store_reads = set(self.reads or ())
        self.reads = None

    def reset(self, changed: set[tuple[str, str]]) -> None:
        """Forget what read the incoming arguments of the parameters that changed; keep the rest."""
        for param in changed:
            for key in self.readers.pop(param, ()):
                if key[0] == "plain":
                    self.plain[key[1]][key[2]] = None
                else:
                    self.memo.pop(key, None)
        if self.store_reads & changed:
            self.register_stores()

    # -- the evaluation ----------------------------------------------------------------------------------

    def eval(self, ctx: int, expr: Expr, selfsub: str | None, argsub: tuple[Any, ...] | None) -> Found:
        return _TAGS[expr[0]](self, ctx, expr, selfsub, argsub)

    def _step(self) -> None:
        """Budget and depth, counted where evaluation recurses: each memoised computation it starts."""
        self.steps += 1
        if (self.steps > _BUDGET or len(self.active) > _MAX_DEPTH) and self.bounded:
            raise _Stop

    def binding(self, ctx: int, bid: int, selfsub: str | None, argsub: tuple[Any, ...] | None) -> Found:
        if selfsub is None and argsub is None:  # the hot path: memoised in a list per file, no hashing
            slot = self.plain[ctx][bid]
            if slot is not None:
                if slot[1]:
                    self.read(slot[1])
                return slot[0]
            key: tuple[Any, ...] = ("plain", ctx, bid)
            if key in self.active:
                return {}
            self.active.add(key)
            outer, self.reads = self.reads, None
            try:
                found = self._binding(ctx, bid, None, None)
                reads = frozenset(self.reads) if self.reads else None
                for param in reads or ():  # type: ignore[var-annotated]
                    self.readers[param].append(key)
                self.plain[ctx][bid] = (found, reads)
                return found
            finally:
                self.active.discard(key)
                mine, self.reads = self.reads, outer
                if mine:
                    self.read(mine)
        key = (ctx, bid, selfsub, argsub)
        memo = self.memo.get(key)
        if memo is not None:
            if memo[1]:
                self.read(memo[1])
            return memo[0]
        return self.cached(key, self._binding, ctx, bid, selfsub, argsub)

    def _binding(self, ctx: int, bid: int, selfsub: str | None, argsub: tuple[Any, ...] | None) -> Found:
        value, cond = self.values[ctx][bid]
        tag = value[0]
        if tag == "seq" or tag == "dict":
            found: Found = {("seq", ctx, bid): (SCOPE, "")}
        else:
            found = _TAGS[tag](self, ctx, value, selfsub, argsub)
            if tag not in _DIRECT:
                found = {obj: (max(rank, ALIAS) if obj[0] in _CALLABLE or obj[0] == "inst" else rank, c)
                         for obj, (rank, c) in found.items()}
        if cond:
            found = {obj: (rank, and_(cond, c)) for obj, (rank, c) in found.items()}
        return found

    def _union(self, ctx: int, ids: tuple[int, ...], selfsub: str | None, argsub: tuple[Any, ...] | None) -> Found:
        if len(ids) == 1:
            return self.binding(ctx, ids[0], selfsub, argsub)
        out: Found = {}
        for bid in ids:
            for obj, value in self.binding(ctx, bid, selfsub, argsub).items():
                old = out.get(obj)
                if old is None:
                    out[obj] = value
                elif old != value:
                    out[obj] = (min(old[0], value[0]), or_(old[1], value[1]))
        return out

    def t_l(self, ctx: int, expr: Expr, selfsub: str | None, argsub: Any) -> Found:
        ids = expr[1]
        if len(ids) == 1:
            return self.binding(ctx, ids[0], selfsub, argsub)
        if not ids:
            return {("unk", "unbound"): (SCOPE, "")}
        return self._union(ctx, ids, selfsub, argsub)

    def t_g(self, ctx: int, expr: Expr, selfsub: str | None, argsub: Any) -> Found:
        name = expr[1]
        ids = self.module_scope[ctx].names.get(name)
        if ids:
            return self._union(ctx, ids, None, None)
        return self.t_b(ctx, expr, selfsub, argsub)

    def t_b(self, ctx: int, expr: Expr, selfsub: str | None, argsub: Any) -> Found:
        name = expr[1]
        found = self.star(ctx, name, set())
        if found is not None:
            return found
        if name in BUILTINS:
            return {("bi", name): (SCOPE, "")}
        return {("unk", "dynamic"): (SCOPE, "")}

    def star(self, ctx: int, name: str, seen: set[int], only: tuple[str, ...] | None = None,
             bare: bool = True) -> Found | None:
        """`name` through the module's star imports, the last one first (the one that wins at runtime)."""
        seen.add(ctx)
        for module, cond in reversed(self.module_scope[ctx].stars):
            if only is not None and module not in only:
                continue
            target = self.module_ctx.get(module)
            if target is None:
                if bare and name in BUILTINS:
                    continue  # an outside module's star import shadowing a builtin: unlikely, not assumed
                return {("ext", f"{module}.{name}"): (IMPORT, cond)}
            if target in seen:
                continue
            scope = self.module_scope[target]
            if scope.exports is not None and name not in scope.exports:
                continue
            if scope.exports is None and name.startswith("_"):
                continue
            ids = scope.names.get(name)
            found = self._union(target, ids, None, None) if ids else self.star(target, name, seen, bare=bare)
            if found:
                return {obj: (max(rank, IMPORT), and_(cond, c)) for obj, (rank, c) in found.items()}
        return None

    def t_star(self, ctx: int, expr: Expr, selfsub: str | None, argsub: Any) -> Found:
        """A public name bound before `from module import *`: the module's, if it has it."""
        _, module, name, before = expr
        target = self.module_ctx.get(module)
        if target is None:
            out: Found = {("ext", f"{module}.{name}"): (IMPORT, "")}
            lacks = f"not hasattr({module}, {name!r})"
            for obj, (rank, cond) in _TAGS[before[0]](self, ctx, before, selfsub, argsub).items():
                add(out, obj, rank, and_(cond, lacks))
            return out
        found = self.star(ctx, name, set(), only=(module,))
        return found if found is not None else _TAGS[before[0]](self, ctx, before, selfsub, argsub)

    def t_imp(self, ctx: int, expr: Expr, selfsub: str | None, argsub: Any) -> Found:
        _, module, name = expr
        if module not in self.module_ctx:
            parts = module.split(".")
            for cut in range(len(parts) - 1, 0, -1):  # `os.path`: an attribute path below a module
                head = ".".join(parts[:cut])
                if head in self.module_ctx:
                    found: Found = {("mod", head): (IMPORT, "")}
                    for part in [*parts[cut:], *([name] if name else [])]:
                        found = self.t_a(ctx, ("a", ("u", ""), part), None, None, found)
                    return found
            return {("ext", f"{module}.{name}" if name else module): (IMPORT, "")}
        if name is None:
            return {("mod", module): (IMPORT, "")}
        sub = f"{module}.{name}"
        if sub not in self.module_ctx:
            return self.module_attr(module, name, IMPORT)
        found = {("mod", sub): (IMPORT, "")}
        if self.module_scope[self.module_ctx[module]].names.get(name):
            # the package's own binding of the name (`from .main import main` in it) as well
            for obj, value in self.module_attr(module, name, IMPORT).items():
                if obj[0] != "unk":
                    found[obj] = value
        return found

    def module_attr(self, module: str, name: str, rank: int) -> Found:
        ctx = self.module_ctx[module]
        scope = self.module_scope[ctx]
        ids = scope.names.get(name)
        if ids:
            found = self._union(ctx, ids, None, None)
        elif f"{module}.{name}" in self.module_ctx:
            return {("mod", f"{module}.{name}"): (rank, "")}
        else:
            found = self.star(ctx, name, set(), bare=False) or {("unk", "dynamic"): (SCOPE, "")}
        return {obj: (max(r, rank), c) for obj, (r, c) in found.items()}

    def t_d(self, ctx: int, expr: Expr, selfsub: str | None, argsub: Any) -> Found:
        symbol = self.symbols.get(expr[1])
        if symbol is None:
            return {("unk", "dynamic"): (SCOPE, "")}
        return {("cls" if symbol.kind == CLASS else "def", symbol.id): (SCOPE, "")}

    def t_self(self, ctx: int, expr: Expr, selfsub: str | None, argsub: Any) -> Found:
        return {("inst", selfsub or expr[1]): (SELF, "")}

    def t_cls(self, ctx: int, expr: Expr, selfsub: str | None, argsub: Any) -> Found:
        return {("cls", selfsub or expr[1]): (CLS, "")}

    def t_super(self, ctx: int, expr: Expr, selfsub: str | None, argsub: Any) -> Found:
        return {("super", expr[1], selfsub or expr[1]): (SUPER, "")}

    def t_bv(self, ctx: int, expr: Expr, selfsub: str | None, argsub: Any) -> Found:
        return {("bv", expr[1]): (SCOPE, "")}

    def t_u(self, ctx: int, expr: Expr, selfsub: str | None, argsub: Any) -> Found:
        return {("unk", expr[1]): (SCOPE, "")}

    def t_union(self, ctx: int, expr: Expr, selfsub: str | None, argsub: Any) -> Found:
        out: Found = {}
        for part in expr[1:]:
            for obj, (rank, cond) in _TAGS[part[0]](self, ctx, part, selfsub, argsub).items():
                add(out, obj, rank, cond)
        return out

    def t_guard(self, ctx: int, expr: Expr, selfsub: str | None, argsub: Any) -> Found:
        """A returned value under `if` tests on parameters: dropped when the call's arguments make a test
        false (`wave.open(f, 'r')` returns no Wave_write; a decorator factory called with the function it
        decorates does not return the decorator)."""
        _, guards, value = expr
        if argsub is not None:
            for name, op, values, *filled in guards:
                if name == argsub[1]:  # the first argument's objects: only whether it is None is known
                    given = _TAGS[argsub[3][0]](self, argsub[2], argsub[3], argsub[5], argsub[6])
                    kinds = {o[0] if o != _NONE else "None" for o in given}
                    if kinds and kinds <= _TRUTHY and op in ("is", "falsy") and values in ((None,), ()):
                        return {}
                    if kinds == {"None"} and op in ("is not", "truthy") and values in ((None,), ()):
                        return {}
                for pname, constant in argsub[4]:
                    if filled and not constant:
                        continue  # None (or falsy) is replaced by a default before the test
                    if pname == name and _test(op, constant, values) is False:
                        return {}
        return _TAGS[value[0]](self, ctx, value, selfsub, argsub)

    def guarded_params(self, function: str) -> frozenset[str]:
        """The parameters that `if` tests around the function's returns look at."""
        found = self._guarded.get(function)
        if found is None:
            ctx, scope = self.scopes[function]
            values = self.values[ctx]
            found = frozenset(g[0] for bid in scope.returns if values[bid][0][0] == "guard"
                              for g in values[bid][0][1])
            self._guarded[function] = found
        return found

    def t_phi(self, ctx: int, expr: Expr, selfsub: str | None, argsub: Any) -> Found:
        return self._union(ctx, expr[1], selfsub, argsub) if expr[1] else {}

    def t_lit(self, ctx: int, expr: Expr, selfsub: str | None, argsub: Any) -> Found:
        return {("lit", ctx, expr): (SCOPE, "")}

    def t_lam(self, ctx: int, expr: Expr, selfsub: str | None, argsub: Any) -> Found:
        return {("lam", ctx, expr[1]): (SCOPE, "")}

    def t_p(self, ctx: int, expr: Expr, selfsub: str | None, argsub: Any) -> Found:
        _, function, name = expr
        if argsub is not None and argsub[0] == function:
            # What the function returns to one caller: its arguments, as far as the call shows them. What
            # every other call passes is not this caller's (copy.copy(objects) is not whatever anyone copies).
            if argsub[1] == name:
                return _TAGS[argsub[3][0]](self, argsub[2], argsub[3], argsub[5], argsub[6])
            for pname, constant in argsub[4]:
                if pname == name:
                    return {("bv", type(constant).__name__): (SCOPE, "")}
            return {("unk", "param"): (SCOPE, "")}
        where = self.scopes.get(function)
        out: Found = {}
        if where is None:
            return {("unk", "param"): (SCOPE, "")}
        fctx, scope = where
        for pname, kind, annotation, default in scope.params:
            if pname != name:
                continue
            if kind in ("*", "**"):
                return {("args", function, name): (ARGUMENT, "")}
            if annotation is not None:
                declared = _TAGS[annotation[0]](self, fctx, annotation, None, None)
                if any(obj[0] in ("inst", "cls") for obj in declared):
                    return declared
                out.update((obj, v) for obj, v in declared.items() if obj[0] != "unk")
            if default is not None:
                for obj, (rank, cond) in _TAGS[default[0]](self, fctx, default, None, None).items():
                    if obj[0] != "unk" and obj != _NONE:  # `x=None`: a placeholder, not what x.m() runs on
                        add(out, obj, max(rank, ARGUMENT), cond)
            break
        self.read(((function, name),))
        for actx, aexpr in self.flows.get((function, name), {}).values():
            for obj, (rank, cond) in _TAGS[aexpr[0]](self, actx, aexpr, None, None).items():
                if obj[0] in _FLOWING:
                    add(out, obj, max(rank, ARGUMENT), cond)
        return out or {("unk", "param"): (SCOPE, "")}

    def t_inst(self, ctx: int, expr: Expr, selfsub: str | None, argsub: Any) -> Found:
        out: Found = {}
        for obj, (rank, cond) in _TAGS[expr[1][0]](self, ctx, expr[1], selfsub, argsub).items():
            kind = obj[0]
            if kind == "cls":
                add(out, ("inst", obj[1]), max(rank, INFERRED), cond)
            elif kind == "bi" and obj[1] in BUILTIN_TYPES:
                add(out, ("bv", obj[1]), rank, cond)
            elif kind == "ext":
                add(out, ("ext", f"{obj[1]}()"), rank, cond)
            else:
                add(out, ("unk", "dynamic"), SCOPE, "")
        return out

    def t_type(self, ctx: int, expr: Expr, selfsub: str | None, argsub: Any) -> Found:
        out: Found = {}
        for obj, (rank, cond) in _TAGS[expr[1][0]](self, ctx, expr[1], selfsub, argsub).items():
            if obj[0] == "inst":
                add(out, ("cls", obj[1]), rank, cond)
            elif obj[0] == "bv":
                add(out, ("bi", obj[1]), rank, cond)
            else:
                add(out, ("unk", "dynamic"), SCOPE, "")
        return out

    def t_a(self, ctx: int, expr: Expr, selfsub: str | None, argsub: Any, base: Found | None = None) -> Found:
        name = expr[2]
        if base is None:
            inner = expr[1]
            objs = _TAGS[inner[0]](self, ctx, inner, selfsub, argsub)
        else:
            objs = base
        if len(objs) == 1:  # the common case: one receiver
            for obj, (rank, cond) in objs.items():
                found = self.attr(obj, name)
                if obj[0] == "inst" and rank < ARGUMENT and rank not in (SELF, CLS, SUPER):
                    found = _own(found)
                if not rank and not cond:
                    return found
                if not cond:
                    return {f: (r if r > rank else rank, c) for f, (r, c) in found.items()}
                return {f: (r if r > rank else rank, and_(cond, c)) for f, (r, c) in found.items()}
        out: Found = {}
        for obj, (rank, cond) in objs.items():
            found = self.attr(obj, name)
            if obj[0] == "inst" and rank < ARGUMENT and rank not in (SELF, CLS, SUPER):
                found = _own(found)
            for value, (r, c) in found.items():
                add(out, value, max(rank, r), and_(cond, c))
        return out

    def t_c(self, ctx: int, expr: Expr, selfsub: str | None, argsub: Any) -> Found:
        out: Found = {}
        _, callee, arg0, shape = expr
        for obj, (rank, cond) in _TAGS[callee[0]](self, ctx, callee, selfsub, argsub).items():
            for found, (r, c) in self.call(obj, ctx, arg0, shape, selfsub, argsub).items():
                add(out, found, max(rank, r), and_(cond, c))
        return out

    def t_deco(self, ctx: int, expr: Expr, selfsub: str | None, argsub: Any) -> Found:
        out: Found = {}
        _, decorator, target = expr
        for obj, (_, cond) in _TAGS[decorator[0]](self, ctx, decorator, selfsub, argsub).items():
            # the result's own rank: the decorated function's through a decorator known to give it back, else
            # "decorator" (the highest) for what a decorator made of it
            for found, (r, c) in self.decorate(obj, ctx, target).items():
                add(out, found, r, and_(cond, c))
        return out

    def t_enter(self, ctx: int, expr: Expr, selfsub: str | None, argsub: Any) -> Found:
        out: Found = {}
        for obj, (rank, cond) in _TAGS[expr[1][0]](self, ctx, expr[1], selfsub, argsub).items():
            if obj[0] == "inst":
                for method, (r, c) in self.attr(obj, "__enter__").items():
                    for found, (r2, c2) in self.call(method, ctx, None, None, None, None).items():
                        # `return self`: the context manager itself, known as surely as it was
                        r2 = INFERRED if found == obj else r2
                        add(out, found, max(rank, r, r2), and_(cond, and_(c, c2)))
            elif obj[0] in ("ext", "bv"):
                add(out, (obj[0], f"{obj[1]}.__enter__()" if obj[0] == "ext" else "?"), rank, cond)
            else:
                add(out, ("unk", "dynamic"), SCOPE, "")
        return out

    def t_i(self, ctx: int, expr: Expr, selfsub: str | None, argsub: Any) -> Found:
        out: Found = {}
        for obj, (rank, cond) in _TAGS[expr[1][0]](self, ctx, expr[1], selfsub, argsub).items():
            for found, (r, c) in self.elements(obj, expr[2]).items():
                add(out, found, max(rank, r), and_(cond, c))
        return out

    def t_it(self, ctx: int, expr: Expr, selfsub: str | None, argsub: Any) -> Found:
        out: Found = {}
        for obj, (rank, cond) in _TAGS[expr[1][0]](self, ctx, expr[1], selfsub, argsub).items():
            for found, (r, c) in self.elements(obj, None, iterate=True).items():
                add(out, found, max(rank, r), and_(cond, c))
        return out

    def t_x(self, ctx: int, expr: Expr, selfsub: str | None, argsub: Any) -> Found:
        out: Found = {}
        index = expr[2]
        for obj, (rank, cond) in _TAGS[expr[1][0]](self, ctx, expr[1], selfsub, argsub).items():
            items = self.literal(obj)
            if obj[0] == "pair":
                found = self.elements(obj[1], None) if index == 1 else {("unk", "dynamic"): (SCOPE, "")}
            elif items is not None and items[1][0] == "seq" and index < len(items[1][2]):
                found = self.eval(items[0], items[1][2][index], None, None)
            else:
                found = {("unk", "dynamic"): (SCOPE, "")}
            for value, (r, c) in found.items():
                add(out, value, max(rank, r) if value[0] != "unk" else r, and_(cond, c))
        return out

    # -- objects -----------------------------------------------------------------------------------------

    def literal(self, obj: Obj) -> tuple[int, Expr] | None:
        """(file, literal expression) of a container object."""
        if obj[0] == "seq":
            return obj[1], self.values[obj[1]][obj[2]][0]
        if obj[0] == "lit":
            return obj[1], obj[2]
        return None

    def elements(self, obj: Obj, key: Any, iterate: bool = False) -> Found:
        """What taking an item of (or iterating over) `obj` gives."""
        return self.cached(("elements", obj, key, iterate), self._elements, obj, key, iterate)

    def _elements(self, obj: Obj, key: Any, iterate: bool) -> Found:
        kind = obj[0]
        out: Found = {}
        literal = self.literal(obj)
        if literal is not None:
            lctx, expr = literal
            adds = self.adds.get(obj, ())
            if expr[0] == "dict":
                if iterate:
                    return {("unk", "dynamic"): (SCOPE, "")}  # the keys
                pairs = expr[1]
                exact = key is not None and not adds and all(k is not None for k, _ in pairs)
                items = [v for k, v in pairs if not exact or k == key]
            else:
                items = list(expr[2]) if key is None or not isinstance(key, int) or adds else (
                    [expr[2][key]] if -len(expr[2]) <= key < len(expr[2]) else [])
            for item in items:
                for found, (r, c) in _TAGS[item[0]](self, lctx, item, None, None).items():
                    add(out, found, max(r, CONTAINER) if found[0] != "unk" else r, c)
            for actx, value, how in adds:
                for found, (r, c) in _TAGS[value[0]](self, actx, value, None, None).items():
                    inner = self.elements(found, None) if how == "items" else {found: (r, c)}
                    for element, (r2, c2) in inner.items():
                        add(out, element, max(r, r2, CONTAINER) if element[0] != "unk" else r2, and_(c, c2))
            return out or {("unk", "dynamic"): (SCOPE, "")}
        if kind == "args":
            for actx, aexpr in self.flows.get((obj[1], obj[2]), {}).values():
                for found, (r, c) in _TAGS[aexpr[0]](self, actx, aexpr, None, None).items():
                    if found[0] in _CALLABLE:
                        add(out, found, max(r, ARGUMENT), c)
            self.read(((obj[1], obj[2]),))
            return out or {("unk", "param"): (SCOPE, "")}
        if kind == "view":
            if obj[2] == "items":
                return {("pair", obj[1]): (SCOPE, "")}
            return self.elements(obj[1], None)
        if kind == "gen":
            where = self.scopes.get(obj[1])
            if where is not None:
                for bid in where[1].yields:
                    for found, (r, c) in self.binding(where[0], bid, obj[2], None).items():
                        add(out, found, max(r, RETURN) if found[0] != "unk" else r, c)
            return out or {("unk", "dynamic"): (SCOPE, "")}
        if kind in ("bv", "bi"):
            return {("bv", "?"): (SCOPE, "")}
        if kind == "ext":
            return {("ext", f"{obj[1]}[]"): (SCOPE, "")}
        return {("unk", "dynamic"): (SCOPE, "")}

    def attr(self, obj: Obj, name: str) -> Found:
        kind = obj[0]
        if kind == "inst":
            return self.instance_attr(obj[1], name)
        if kind == "mod":
            return self.module_attr(obj[1], name, SCOPE)
        if kind == "cls":
            return self.class_attr(obj[1], name)
        if kind == "ext":
            return {("ext", f"{obj[1]}.{name}"): (SCOPE, "")}
        if kind == "bi" or kind == "bv":
            return {("bi", f"{obj[1]}.{name}"): (SCOPE, "")}
        if kind == "super":
            return self.super_attr(obj[1], obj[2], name)
        if kind in ("seq", "lit"):
            if name in ("get", "pop", "setdefault"):
                return {("getter", obj): (SCOPE, "")}
            if name in ("items", "values"):
                return {("getter", ("view", obj, name)): (SCOPE, "")}
            return {("bi", f"container.{name}"): (SCOPE, "")}
        if kind == "unk":
            return {("unk", "receiver"): (SCOPE, "")}
        if kind == "args":
            return {("bi", f"args.{name}"): (SCOPE, "")}  # a tuple or a dict
        return {("unk", "dynamic"): (SCOPE, "")}

    def instance_attr(self, cls: str, name: str) -> Found:
        """`name` on an instance of `cls`: attributes stored through self, then the class's (bound)."""
        key = ("attr", cls, name)
        memo = self.memo.get(key)
        if memo is not None:
            if memo[1]:
                self.read(memo[1])
            return memo[0]
        return self.cached(key, self._instance_attr, cls, name)

    def _instance_attr(self, cls: str, name: str) -> Found:
        out: Found = {}
        shadowed = False
        for entry in self.mro(cls):
            if entry[0] != "c":
                continue
            where = self.scopes.get(entry[1])
            stored = where[1].attrs.get(name) if where is not None else None
            if stored:
                ids, by_init = stored
                shadowed = shadowed or by_init
                for obj, (rank, cond) in self._union(where[0], ids, None, None).items():  # type: ignore[index]
                    add(out, obj, max(rank, INFERRED) if obj[0] != "unk" else rank, cond)
            for actx, value in self.attr_stores.get((entry[1], name), ()):
                for obj, (rank, cond) in _TAGS[value[0]](self, actx, value, None, None).items():
                    if obj[0] != "unk":
                        add(out, obj, max(rank, INFERRED), cond)
        if not shadowed:
            for obj, (rank, cond) in self.lookup(cls, name).items():
                for bound, (r, c) in self.bind(obj, cls, True).items():
                    add(out, bound, max(rank, r), and_(cond, c))
        return out

    def class_attr(self, cls: str, name: str) -> Found:
        out: Found = {}
        found = self.lookup(cls, name)
        if ("unk", "dynamic") in found and len(found) == 1:
            meta = self.metaclass(self.mro(cls))
            if meta is not None:  # a method of the metaclass, bound to the class
                found = {o: v for o, v in self.instance_attr(meta, name).items()}
                return found
        for obj, (rank, cond) in found.items():
            for bound, (r, c) in self.bind(obj, cls, False).items():
                add(out, bound, max(rank, r), and_(cond, c))
        return out

    def metaclass(self, order: list[tuple[Any, ...]]) -> str | None:
        """The in-repository metaclass a class (or the first of its bases that names one) declares."""
        for entry in order:
            if entry[0] != "c":
                return None
            where = self.scopes.get(entry[1])
            if where is not None and where[1].metaclass is not None:
                found = self.isolated(where[0], where[1].metaclass)
                classes = [o[1] for o in found if o[0] == "cls"]
                return classes[0] if len(found) == 1 and classes else None
        return None

    def super_attr(self, cls: str, receiver: str, name: str) -> Found:
        out: Found = {}
        instance = self.symbols.get(receiver) is not None
        for obj, (rank, cond) in self.lookup(receiver, name, after=cls).items():
            for bound, (r, c) in self.bind(obj, receiver, instance).items():
                add(out, bound, max(rank, r), and_(cond, c))
        return out

    def bind(self, obj: Obj, cls: str, on_instance: bool) -> Found:
        """A class attribute as seen through an instance (functions bind) or through the class."""
        kind = obj[0]
        if kind == "def":
            return {("bound", obj[1], cls) if on_instance else obj: (SCOPE, "")}
        if kind == "lam":
            return {obj: (SCOPE, "")}
        if kind == "sm":
            return {("def", obj[1]): (SCOPE, "")}
        if kind == "cm":
            return {("bound", obj[1], cls): (SCOPE, "")}
        if kind == "prop":
            if not on_instance:
                return {("unk", "dynamic"): (SCOPE, "")}
            return self.returns(obj[1], cls, None)
        return {obj: (SCOPE, "")}

    def lookup(self, cls: str, name: str, after: str | None = None) -> Found:
        """`name` along the MRO of `cls` (after the class `after`, for super()): the first class that
        defines it, or why it cannot be known (an opaque base first, or a __getattr__ that answers what no
        class defines). A class reached through a conditionally bound base carries that condition."""
        order = self.mro(cls)
        if after is not None:
            for i, entry in enumerate(order):
                if entry == ("c", after):
                    order = order[i + 1:]
                    break
            else:
                order = self.mro(after)[1:]
        conds = self.mro_conds(cls)
        fallback = False
        for entry in order:
            if entry[0] != "c":
                if entry[1] == "builtin" and not hasattr(getattr(builtins, entry[2], None), name):
                    continue  # a builtin base without it (class Converting(tuple, Mixin))
                return {("bv", "?") if entry[1] == "builtin" else
                        ("ext", f"{entry[2]}.{name}") if entry[1] == "external" else ("unk", "dynamic"): (SCOPE, "")}
            where = self.scopes.get(entry[1])
            if where is None:
                continue
            names = where[1].names
            ids = names.get(name)
            if ids:
                found = self._union(where[0], ids, None, None)
                cond = conds.get(entry[1], "")
                return {o: (r, and_(cond, c)) for o, (r, c) in found.items()} if cond else found
            fallback = fallback or "__getattr__" in names or "__getattribute__" in names
        if name in _OBJECT_ATTRS and not fallback:
            return {("bi", f"object.{name}"): (SCOPE, "")}
        return {("unk", "dynamic"): (SCOPE, "")}

    # -- classes -------------------------------------------------------------------------------------------

    def bases(self, cls: str) -> list[tuple[Any, ...]]:
        """A class's bases: ("c", class id) in the repository, ("o", "builtin"|"external"|"dynamic", name)
        opaque; `object` left out. Memoised."""
        found = self._bases.get(cls)
        if found is None:
            self._bases[cls] = []  # a cycle reads no bases
            found = []
            where = self.scopes.get(cls)
            if where is not None:
                ctx, scope = where
                for expr in scope.bases:
                    objs = self.isolated(ctx, expr)
                    classes = [o for o in objs if o[0] == "cls" and o[1] != cls]
                    if len(classes) == 1:
                        # one class of the repository (perhaps a fallback of an outside one: its condition)
                        found.append(("c", classes[0][1]))
                        if len(objs) > 1 and objs[classes[0]][1]:
                            self._slot_cond[(cls, classes[0][1])] = objs[classes[0]][1]
                    elif len(objs) == 1 and ("bi", "object") in objs:
                        continue
                    elif objs and all(o[0] == "bi" for o in objs):
                        found.append(("o", "builtin", next(iter(objs))[1]))
                    elif objs and all(o[0] == "ext" for o in objs):
                        found.append(("o", "external", next(iter(objs))[1]))
                    else:
                        found.append(("o", "dynamic", ""))
            self._bases[cls] = found
        return found

    def base_classes(self, cls: str) -> list[str]:
        """Every in-repository class a base expression may be (for INHERITS)."""
        where = self.scopes.get(cls)
        if where is None:
            return []
        ctx, scope = where
        out = []
        for expr in scope.bases:
            for obj in self.evaluate(ctx, expr):
                if obj[0] == "cls" and obj[1] != cls and obj[1] not in out:
                    out.append(obj[1])
        return out

    def mro_conds(self, cls: str) -> dict[str, str]:
        """The condition under which each class of the MRO is a base (a conditionally bound base)."""
        found = self._conds.get(cls)
        if found is None:
            self._conds[cls] = {}
            found = {}
            for base in self.bases(cls):
                if base[0] != "c":
                    continue
                first = self._slot_cond.get((cls, base[1]), "")
                inherited = self.mro_conds(base[1])
                for entry in self.mro(base[1]):
                    if entry[0] == "c" and entry[1] not in found:
                        cond = and_(first, inherited.get(entry[1], ""))
                        if cond:
                            found[entry[1]] = cond
            self._conds[cls] = found
        return found

    def mro(self, cls: str) -> list[tuple[Any, ...]]:
        """C3 linearisation over in-repository classes, opaque bases kept in place; depth-first if C3 fails."""
        found = self._mro.get(cls)
        if found is not None:
            return found
        self._mro[cls] = [("c", cls)]  # guards cycles
        bases = self.bases(cls)
        seqs = [list(self.mro(b[1])) if b[0] == "c" else [b] for b in bases]
        seqs.append(list(bases))
        merged: list[tuple[Any, ...]] = []
        while True:
            seqs = [s for s in seqs if s]
            if not seqs:
                break
            for seq in seqs:
                head = seq[0]
                if not any(head in s[1:] for s in seqs):
                    break
            else:
                merged = []
                for b in bases:  # inconsistent: depth-first, each once
                    for entry in (self.mro(b[1]) if b[0] == "c" else [b]):
                        if entry not in merged:
                            merged.append(entry)
                break
            merged.append(head)
            seqs = [s[1:] if s[0] == head else s for s in seqs]
        result = [("c", cls), *(e for e in merged if e != ("c", cls))]
        self._mro[cls] = result
        return result

    # -- calls -----------------------------------------------------------------------------------------------

    def qualified(self, obj: Obj) -> str:
        if obj[0] in ("def", "cls"):
            symbol = self.symbols.get(obj[1])
            return symbol.qualified_name if symbol is not None else ""
        if obj[0] in ("ext", "bi"):
            return obj[1]
        return ""

    def call(self, obj: Obj, ctx: int, arg0: Expr | None, shape: Any, selfsub: str | None,
             argsub: Any) -> Found:
        """The value a call of `obj` returns (arg0: the call's first argument, evaluated in `ctx`; shape: None
        or (number of positional arguments, constant arguments))."""
        kind = obj[0]
        if kind in ("def", "bound", "sm", "cm"):
            name = self.qualified(("def", obj[1]))
            if name in PARTIALS:
                return self._arg(ctx, arg0, selfsub, argsub, ALIAS)
            if name in TRANSPARENT:
                return self._transparent(ctx, arg0, selfsub, argsub, name, "")
            receiver = obj[2] if kind in ("bound",) else None
            return self.returns(obj[1], receiver, (ctx, arg0, shape, selfsub, argsub), skip=kind in ("bound", "cm"))
        if kind == "cls":
            name = self.qualified(obj)
            if name in PARTIALS:
                return self._arg(ctx, arg0, selfsub, argsub, ALIAS) if arg0 is not None else {}
            if name in PROPERTIES:
                return self._wrap(ctx, arg0, selfsub, argsub, "prop")
            if name in TRANSPARENT:
                return self._transparent(ctx, arg0, selfsub, argsub, name, "")
            new = self.lookup(obj[1], "__new__")
            if any(o[0] in _CALLABLE for o in new):
                return {("unk", "dynamic"): (SCOPE, "")}  # __new__ may return anything
            return {("inst", obj[1]): (INFERRED, "")}
        if kind in ("bi", "ext") and obj[1].endswith(".__new__") and arg0 is not None:
            made: Found = {}  # object.__new__(cls), super().__new__(cls): an instance of cls
            for target, (rank, cond) in _TAGS[arg0[0]](self, ctx, arg0, selfsub, argsub).items():
                add(made, ("inst", target[1]) if target[0] == "cls" else ("unk", "dynamic"),
                    max(rank, INFERRED) if target[0] == "cls" else SCOPE, cond)
            return made
        if kind == "bi":
            name = obj[1]
            if name in STATICS or name in CLASSMETHODS or name in PROPERTIES:
                how = "sm" if name in STATICS else "cm" if name in CLASSMETHODS else "prop"
                return self._wrap(ctx, arg0, selfsub, argsub, how)
            const = next((v for k, v in shape[1] if k == 1 and isinstance(v, str)), None) if shape else None
            if name == "getattr" and arg0 is not None and const is not None:
                out: Found = {}
                for target, (rank, cond) in _TAGS[arg0[0]](self, ctx, arg0, selfsub, argsub).items():
                    for found, (r, c) in self.attr(target, const).items():
                        add(out, found, max(rank, r), and_(cond, c))
                return out
            if name == "type" and arg0 is not None and shape is None:
                return self.t_type(ctx, ("type", arg0), selfsub, argsub)
            if name in BUILTIN_TYPES:
                return {("bv", name): (SCOPE, "")}
            if name in BUILTIN_VALUES or "." in name:
                return {("bv", "?"): (SCOPE, "")}
            return {("unk", "receiver"): (SCOPE, "")}
        if kind == "ext":
            if obj[1] in PARTIALS and arg0 is not None:
                return self._arg(ctx, arg0, selfsub, argsub, ALIAS)
            if obj[1] in PROPERTIES:
                return self._wrap(ctx, arg0, selfsub, argsub, "prop")
            if obj[1] in TRANSPARENT:
                return self._transparent(ctx, arg0, selfsub, argsub, obj[1], "ext")
            return {("ext", f"{obj[1]}()"): (SCOPE, "")}
        if kind == "inst":
            out = {}
            for method, (rank, cond) in self.instance_attr(obj[1], "__call__").items():
                if method[0] in _CALLABLE:
                    for found, (r, c) in self.call(method, ctx, arg0, shape, selfsub, argsub).items():
                        add(out, found, max(rank, r), and_(cond, c))
            return out or {("unk", "dynamic"): (SCOPE, "")}
        if kind == "lam":
            found = _TAGS[obj[2][0]](self, obj[1], obj[2], None, None)  # type: ignore[assignment]
            return {o: (max(r, RETURN) if o[0] != "unk" else r, c) for o, (r, c) in found.items()}  # type: ignore[attr-defined]
        if kind == "getter":
            inner = obj[1]
            if inner[0] == "view":
                return {inner: (SCOPE, "")}
            return self.elements(inner, None)
        if kind == "deco":
            return self._arg(ctx, arg0, selfsub, argsub, SCOPE) if arg0 is not None else {obj: (SCOPE, "")}
        return {("unk", "dynamic"): (SCOPE, "")}

    def _transparent(self, ctx: int, arg0: Expr | None, selfsub: str | None, argsub: Any, name: str,
                     origin: str) -> Found:
        """A call of a decorator that gives back what it decorates: applied to a function (`cache(f)`), that
        function; a factory (`wraps(f)`, `lru_cache(maxsize=8)`), a decorator that will."""
        if arg0 is not None and name not in FACTORIES:
            found = {o: v for o, v in _TAGS[arg0[0]](self, ctx, arg0, selfsub, argsub).items() if o[0] in _CALLABLE}
            if found:
                return found
        return {("deco", origin): (SCOPE, "")}

    def _arg(self, ctx: int, arg0: Expr | None, selfsub: str | None, argsub: Any, rank: int) -> Found:
        if arg0 is None:
            return {("unk", "dynamic"): (SCOPE, "")}
        return {o: (max(r, rank) if o[0] != "unk" else r, c) for o, (r, c) in
                _TAGS[arg0[0]](self, ctx, arg0, selfsub, argsub).items()}

    def _wrap(self, ctx: int, arg0: Expr | None, selfsub: str | None, argsub: Any, how: str) -> Found:
        out: Found = {}
        if arg0 is None:
            return {("unk", "dynamic"): (SCOPE, "")}
        for obj, (rank, cond) in _TAGS[arg0[0]](self, ctx, arg0, selfsub, argsub).items():
            if obj[0] in ("def", "sm", "cm"):
                add(out, (how, obj[1]), rank, cond)
            elif obj[0] == "prop" and how == "prop":
                add(out, obj, rank, cond)
            else:
                add(out, ("unk", "dynamic"), SCOPE, "")
        return out

    def returns(self, function: str, receiver: str | None, site: tuple[Any, ...] | None,
                skip: bool = False) -> Found:
        """What calling `function` returns: its return annotation's instances when it names a class, else its
        return statements' values (a generator for a generator function). With `site` (ctx, arg0, ...) the
        first argument is substituted when the returns depend on that parameter."""
        where = self.scopes.get(function)
        if where is None:
            return {("unk", "dynamic"): (SCOPE, "")}
        ctx, scope = where
        argsub: tuple[Any, ...] = (function, None, None, None, (), None, None)  # returns for one call
        if site is not None:  # (ctx, arg0, shape): substitute what the returns depend on
            sctx, arg0, shape, outer_self, outer_sub = site
            positional = [p[0] for p in scope.params if p[1] == "pos"]
            index = 1 if skip or (scope.method in ("method", "class") and receiver is not None) else 0
            first = positional[index] if len(positional) > index else None
            guarded = self.guarded_params(function)
            if first is None or arg0 is None or not (first in guarded or self.depends_on(function, first)):
                first = None
            consts: tuple[tuple[str, Any], ...] = ()
            if shape and shape[1] and guarded:
                named = ((positional[index + k] if isinstance(k, int) and index + k < len(positional) else k, v)
                         for k, v in shape[1])
                consts = tuple(sorted(((n, v) for n, v in named if isinstance(n, str) and n in guarded),
                                      key=lambda pair: pair[0]))
            if first is not None:  # the argument as the caller sees it (its own substitutions)
                argsub = (function, first, sctx, arg0, consts, outer_self, outer_sub)
            elif consts:
                argsub = (function, None, None, None, consts, None, None)
        return self.cached(("returns", function, receiver, argsub), self._returns, ctx, scope, function, receiver,
                           argsub)

    def _returns(self, ctx: int, scope: ScopeFacts, function: str, receiver: str | None,
                 argsub: tuple[Any, ...] | None) -> Found:
        if scope.yields:
            return {("gen", function, receiver): (RETURN, "")}
        if scope.returns_annotation is not None:
            declared = self.eval(ctx, scope.returns_annotation, None, None)
            if any(obj[0] in ("inst", "cls") for obj in declared):
                return declared
        out: Found = {}
        for bid in scope.returns:
            found = self.binding(ctx, bid, receiver, argsub)
            unknown = any(obj[0] == "unk" for obj in found)
            for obj, (rank, cond) in found.items():
                # A return statement whose value may be something unknown as well (`w = self`, then rebound
                # in a loop) is followed only for the values it returns under a known condition.
                if obj[0] != "unk" and (cond or not unknown):
                    add(out, obj, max(rank, RETURN), cond)
            if unknown:
                out[("unk", "dynamic")] = (SCOPE, "")
        return out or {("unk", "dynamic"): (SCOPE, "")}

    def depends_on(self, function: str, param: str) -> bool:
        """Whether a return value of `function` is, through its own bindings, the parameter `param`."""
        key = f"{function}\x00{param}"
        found = self._depends.get(key)
        if found is None:
            ctx, scope = self.scopes[function]
            values = self.values[ctx]
            seen: set[int] = set()
            stack = list(scope.returns)
            found = False
            while stack and not found:
                bid = stack.pop()
                if bid in seen or len(seen) > 200:
                    continue
                seen.add(bid)
                found = _mentions(values[bid][0], function, param, stack)
            self._depends[key] = found
        return found

    def decorate(self, obj: Obj, ctx: int, target: Expr) -> Found:
        """What `@obj` makes of the decorated def or class (`target`, evaluated in ctx)."""
        kind = obj[0]
        name = self.qualified(obj)
        if kind == "deco" or name in TRANSPARENT:
            return _TAGS[target[0]](self, ctx, target, None, None)
        if name in STATICS or name in CLASSMETHODS or name in PROPERTIES:
            return self._wrap(ctx, target, None, None, "sm" if name in STATICS else
                              "cm" if name in CLASSMETHODS else "prop")
        if kind in ("def", "bound") and self.symbols.get(obj[1]) is not None:
            found = self.call(obj, ctx, target, None, None, None)
            if any(o[0] in _CALLABLE or o[0] in ("inst", "prop", "sm", "cm") for o in found):
                return {o: (max(r, DECORATOR) if o[0] != "unk" else r, c) for o, (r, c) in found.items()}
        elif kind == "cls" and name not in PARTIALS:
            return {("inst", obj[1]): (DECORATOR, "")}
        # A decorator that cannot be followed: assumed to give back (a wrapper of) what it decorates.
        return {o: (max(r, DECORATOR) if o[0] != "unk" else r, c) for o, (r, c) in
                _TAGS[target[0]](self, ctx, target, None, None).items()}


def _own(found: Found) -> Found:
    """An attribute read on one object (not `self`): without the values its class's methods got through
    parameters from every caller (`Box(Foo()).v` is not whatever any Box was given)."""
    if not any(rank == ARGUMENT for rank, _ in found.values()):
        return found
    kept = {obj: value for obj, value in found.items() if value[0] != ARGUMENT}
    return kept or {("unk", "dynamic"): (SCOPE, "")}


def _test(op: str, value: Any, values: tuple[Any, ...]) -> bool | None:
    """Whether `value <op> values` holds (None when it cannot be told)."""
    try:
        if op == "truthy":
            return bool(value)
        if op == "falsy":
            return not value
        if op == "is":
            return value is values[0] or value == values[0] and values[0] is None
        if op == "is not":
            return not (value is values[0] or value == values[0] and values[0] is None)
        if op == "==":
            return bool(value == values[0])
        if op == "!=":
            return bool(value != values[0])
        if op == "in":
            return value in values
        if op == "not in":
            return value not in values
    except Exception:  # noqa: BLE001 - an odd comparison: undecided
        return None
    return None


def _mentions(expr: Expr, function: str, param: str, stack: list[int]) -> bool:
    """Whether `expr` is the parameter (or a def, lambda or call made of it); pushes bindings to follow."""
    tag = expr[0]
    if tag == "p":
        return expr[1] == function and expr[2] == param
    if tag == "l" or tag == "phi":
        stack.extend(expr[1])
        return False
    if tag in ("c", "deco", "|", "a", "i", "it", "x", "lam", "inst", "enter", "type", "guard"):
        return any(isinstance(part, tuple) and part and isinstance(part[0], str) and
                   _mentions(part, function, param, stack) for part in expr[1:])
    return tag == "d"  # a nested def: a wrapper closing over the parameter (decorators)


_DIRECT = frozenset({"d", "imp", "phi", "p", "self", "cls", "super", "inst", "deco", "star", "guard"})
_NONE = ("bv", "NoneType")
_TRUTHY = frozenset({"def", "cls", "inst", "bound", "sm", "cm", "lam", "mod"})
_OBJECT_ATTRS = frozenset(n for n in dir(object))

_TAGS = {
    "l": Evaluator.t_l,
    "g": Evaluator.t_g,
    "b": Evaluator.t_b,
    "imp": Evaluator.t_imp,
    "d": Evaluator.t_d,
    "a": Evaluator.t_a,
    "c": Evaluator.t_c,
    "deco": Evaluator.t_deco,
    "i": Evaluator.t_i,
    "it": Evaluator.t_it,
    "x": Evaluator.t_x,
    "seq": Evaluator.t_lit,
    "dict": Evaluator.t_lit,
    "lam": Evaluator.t_lam,
    "p": Evaluator.t_p,
    "self": Evaluator.t_self,
    "cls": Evaluator.t_cls,
    "super": Evaluator.t_super,
    "inst": Evaluator.t_inst,
    "type": Evaluator.t_type,
    "enter": Evaluator.t_enter,
    "|": Evaluator.t_union,
    "bv": Evaluator.t_bv,
    "u": Evaluator.t_u,
    "phi": Evaluator.t_phi,
    "star": Evaluator.t_star,
    "guard": Evaluator.t_guard,
}
