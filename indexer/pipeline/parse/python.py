"""Python extraction on the stdlib `ast`: definitions, imports, bases, and the file's values and call sites.

One pass per scope, in execution order, keeps the bindings that reach each point (an assignment graph): every
assignment, import, def, class, parameter, `for`/`with`/`except` target and `isinstance` narrowing is a
binding in `FileFacts.values` (a value and the branch condition it was made under), and each name read
becomes the bindings that reach it. Python's scoping is honoured: a name bound anywhere in a function is local
to it (`global`/`nonlocal` aside), class bodies are skipped by nested scopes, comprehension and lambda
variables stay inside them, an import inside a function binds only there. Branches fork and merge the
bindings, loops meet their own later bindings through a placeholder (a phi) filled when the loop ends, and an
`except` handler sees every binding its `try` body made. Function bodies are walked after the scope that
defines them has finished, so a closure sees all of its enclosing function's bindings.

Values are plain tuples (grammar in models.py) that the resolver evaluates over the whole repository. Pure:
no global mutable state, so it runs in worker processes and in free-threaded threads alike.
"""

from __future__ import annotations

import ast
from collections import Counter, deque
from collections.abc import Callable
from typing import Any

from ...models import (
    CLASS,
    FUNCTION,
    METHOD,
    MODULE,
    Expr,
    FileFacts,
    RawBase,
    RawCall,
    RawImport,
    ScopeFacts,
    Symbol,
    file_id,
    module_id,
    symbol_id,
)

_DOC_LIMIT = 300
_SIGNATURE_LIMIT = 400
_CONDITION_LIMIT = 200
_Def = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_TRY = (ast.Try, getattr(ast, "TryStar", ast.Try))
_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_REFS = (ast.Name, ast.Attribute, ast.Lambda, ast.Call)  # argument forms that may carry a function or an object

UNKNOWN: Expr = ("u", "value")
UNBOUND: Expr = ("u", "unbound")
PARAM: Expr = ("u", "param")
_CONST = {str: ("bv", "str"), bytes: ("bv", "bytes"), int: ("bv", "int"), float: ("bv", "float"),
          complex: ("bv", "complex"), bool: ("bv", "bool"), type(None): ("bv", "NoneType"),
          type(...): ("bv", "ellipsis")}
_STR, _BOOL = _CONST[str], _CONST[bool]
_PLAIN = ("bv", "u")
_SEQ_KIND = {ast.List: "list", ast.Tuple: "tuple", ast.Set: "set"}
_COMP_KIND = {ast.ListComp: "list", ast.SetComp: "set", ast.GeneratorExp: "gen"}
# Container methods that put a value in: (argument index, "item" = that value, "items" = its elements)
_MUTATORS = {"append": (0, "item"), "add": (0, "item"), "insert": (1, "item"), "setdefault": (1, "item"),
             "extend": (0, "items"), "update": (0, "items")}
_CONSTANTS = (str, int, float, bytes, type(None))  # (bool is an int)
_NEGATED = {"truthy": "falsy", "falsy": "truthy", "is": "is not", "is not": "is", "==": "!=", "!=": "==",
            "in": "not in", "not in": "in"}
_COMPARISONS = {ast.Is: "is", ast.IsNot: "is not", ast.Eq: "==", ast.NotEq: "!=", ast.In: "in", ast.NotIn: "not in"}
_TYPING_WRAPPERS = {"Optional", "Annotated", "ClassVar", "Final", "Required", "NotRequired", "ReadOnly", "InitVar"}


def extract_python(repo: str, path: str, data: bytes, module: str, sha: str = "") -> FileFacts:
    """Everything one Python file defines and refers to. Never raises on bad source: errors are recorded."""
    is_package = path.rsplit("/", 1)[-1] == "__init__.py"
    facts = FileFacts(
        path=path,
        sha=sha,
        module=module,
        module_id=module_id(repo, module),
        file_id=file_id(repo, path),
        size=len(data),
        lines=data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1),
        is_package=is_package,
    )
    tree = _parse(data, path, facts)
    if tree is not None:
        _Walker(repo, facts, nonlocals=b"nonlocal" in data).run(tree)
    return facts


def _parse(data: bytes, path: str, facts: FileFacts) -> ast.Module | None:
    try:
        return ast.parse(data, filename=path)
    except SyntaxError as exc:
        if not _is_decoding_error(exc) and b"\x00" not in data:
            facts.error = _syntax_error(exc)
            return None
    except (ValueError, UnicodeDecodeError):
        pass  # an undecodable encoding declaration: retry on replaced text below
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        facts.warnings.append(f"NUL bytes replaced with U+FFFD (first on line {line})")
    else:
        facts.warnings.append("undecodable bytes replaced with U+FFFD")
    text = data.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    try:
        return ast.parse(text, filename=path)
    except SyntaxError as exc:
        facts.error = _syntax_error(exc)
        return None


def _syntax_error(exc: SyntaxError) -> str:
    where = f" (line {exc.lineno})" if exc.lineno else ""
    return f"SyntaxError: {exc.msg}{where}"


def _is_decoding_error(exc: SyntaxError) -> bool:
    return "decode" in (exc.msg or "") or "encoding" in (exc.msg or "")


class _Frame:
    """A scope being walked (or walked already: a closure reads its finished bindings)."""

    __slots__ = ("kind", "id", "qname", "name", "parent", "class_id", "class_qname", "scope", "locals",
                 "globals", "nonlocals", "all", "env", "done", "self_name", "method", "late", "returns",
                 "yields", "params", "refills")

    def __init__(self, kind: str, id: str, qname: str, name: str, parent: _Frame | None, class_id: str,
                 class_qname: str | None, scope: ScopeFacts) -> None:
        self.kind, self.id, self.qname, self.name, self.parent = kind, id, qname, name, parent
        self.class_id, self.class_qname, self.scope = class_id, class_qname, scope
        self.locals: set[str] = set()
        self.globals: set[str] = set()
        self.nonlocals: set[str] = set()
        self.all: dict[str, list[int]] = {}  # function: every binding of each local, for closures
        self.env: dict[str, tuple[int, ...]] = {}  # the bindings reaching the current point (while suspended)
        self.done = False
        self.self_name = ""  # a method's first parameter
        self.method = ""
        self.late: dict[str, int] = {}  # locals a nested function rebinds through `nonlocal`: a phi each
        self.returns: list[int] = []
        self.yields: list[int] = []
        self.params: set[str] = set()  # a function's parameters, once bound: rebinding them is watched
        self.refills: dict[str, bool] = {}  # parameter -> every rebinding is under `if p is None` (a default)


class _Loop:
    __slots__ = ("assigned", "phis", "rec", "breaks", "continues")

    def __init__(self, assigned: set[str]) -> None:
        self.assigned = assigned
        self.phis: dict[str, int] = {}
        self.rec: dict[str, list[int]] = {}
        self.breaks: list[tuple[dict[str, tuple[int, ...]], bool]] = []
        self.continues: list[tuple[dict[str, tuple[int, ...]], bool]] = []


_State = tuple[dict[str, tuple[int, ...]], bool]  # (bindings reaching a point, the point is unreachable)


class _Walker:
    def __init__(self, repo: str, facts: FileFacts, nonlocals: bool) -> None:
        self.repo, self.facts, self.find_nonlocals = repo, facts, nonlocals
        self.values = facts.values
        self.dedupe: dict[Expr, int] = {}
        self.def_ids: dict[ast.AST, tuple[str, int]] = {}
        self.loop_sets: dict[ast.AST, set[str]] = {}
        self.late_names: dict[ast.AST, set[str]] = {}
        self.cond_cache: dict[tuple[Any, ...], str] = {}
        self.text_cache: dict[ast.AST, str] = {}
        self.order: list[tuple[int, int, Symbol]] = []
        self.queue: deque[tuple[ast.FunctionDef | ast.AsyncFunctionDef, Symbol, ScopeFacts, _Frame]] = deque()
        self.class_scopes: dict[str, ScopeFacts] = {}
        self.exports: list[str] | None = None
        self.stars: list[tuple[str, str]] = []
        # the walk's state in the current frame
        self.frame: _Frame
        self.env: dict[str, tuple[int, ...]] = {}
        self.dead = False
        self.conds: list[tuple[str, Any, bool]] = []
        self.loops: list[_Loop] = []
        self.recorders: list[dict[str, list[int]]] = []
        self.overlay: dict[str, Expr] | None = None  # lambda parameters and comprehension variables
        self.recording = True
        self.late_lookup = False  # annotations: module names as they are once the module has run

    # -- the file ----------------------------------------------------------------------------------------

    def run(self, tree: ast.Module) -> None:
        facts = self.facts
        self._number(tree.body, facts.module, Counter())
        if self.find_nonlocals:
            self._find_nonlocals(tree.body, [])
        scope = ScopeFacts(facts.module_id, MODULE)
        facts.scopes.append(scope)
        self.module_scope = scope
        frame = _Frame(MODULE, facts.module_id, facts.module, facts.module, None, "", None, scope)
        self._enter(frame, tree.body)
        self._stmts(tree.body)
        frame.done = True
        scope.names = self.env
        for name, ids in self.env.items():
            if not ids and name in frame.all:  # deleted at the end (`del helper`): functions ran before
                scope.names[name] = tuple(frame.all[name])
        scope.stars = tuple(self.stars)
        scope.exports = tuple(self.exports) if self.exports is not None else None
        while self.queue:
            self._function(*self.queue.popleft())
        self.order.sort(key=lambda o: (o[0], o[1]))
        facts.symbols = [symbol for _, _, symbol in self.order]

    def _number(self, body: list[ast.stmt], parent: str, counter: Counter[str]) -> None:
        """Qualified names and ordinals of every def, in source order (so ids do not depend on walk order)."""
        for st in body:
            if isinstance(st, _DEFS):
                qname = f"{parent}.{st.name}"
                self.def_ids[st] = (qname, counter[qname])
                counter[qname] += 1
                self._number(st.body, qname, counter)
            else:
                for child in _bodies(st):
                    self._number(child, parent, counter)

    def _find_nonlocals(self, body: list[ast.stmt], functions: list[ast.AST]) -> None:
        for st in body:
            if isinstance(st, _FUNCS):
                self._find_nonlocals(st.body, [*functions, st])
            elif isinstance(st, ast.ClassDef):
                self._find_nonlocals(st.body, functions)
            elif isinstance(st, ast.Nonlocal):
                if len(functions) >= 2:
                    self.late_names.setdefault(functions[-2], set()).update(st.names)
            else:
                for child in _bodies(st):
                    self._find_nonlocals(child, functions)

    def _enter(self, frame: _Frame, body: list[ast.stmt]) -> None:
        self.frame = frame
        self.env, self.dead, self.conds, self.loops, self.recorders, self.overlay = {}, False, [], [], [], None
        names: set[str] = set()
        self._scan(body, names, frame)
        if frame.kind in (FUNCTION, METHOD):
            frame.locals |= names - frame.globals - frame.nonlocals

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, symbol: Symbol, scope: ScopeFacts,
                  parent: _Frame) -> None:
        frame = _Frame(symbol.kind, symbol.id, symbol.qualified_name, node.name, parent, parent.class_id,
                       parent.class_qname, scope)
        frame.method = scope.method
        params = [p[0] for p in scope.params]
        frame.locals.update(params)
        self._enter(frame, node.body)
        for name in self.late_names.get(node, ()):
            frame.late[name] = self._new(("phi", ()), unique=True)
        for i, (name, kind, _, _) in enumerate(scope.params):
            if i == 0 and kind == "pos" and (scope.method in ("method", "class") or node.name == "__new__"):
                value: Expr = ("self" if scope.method == "method" else "cls", scope.class_id)
                frame.self_name = name if scope.method == "method" else ""
            else:
                value = ("p", symbol.id, name)
            self._bind(name, self._new(value))
        frame.params = {p[0] for p in scope.params}
        self._stmts(node.body)
        if frame.refills:
            # A guard speaks of the argument: not of a parameter assigned again, unless only to fill in a
            # default (`if mode is None: mode = 'rb'`): then it holds for arguments that are not None.
            for rid in frame.returns:
                value, cond = self.values[rid]
                if value[0] == "guard" and any(g[0] in frame.refills for g in value[1]):
                    kept = tuple((g[0], g[1], g[2], True) if frame.refills.get(g[0]) else g for g in value[1]
                                 if frame.refills.get(g[0], True))
                    self.values[rid] = (("guard", kept, value[2]) if kept else value[2], cond)
        scope.returns = tuple(frame.returns)
        scope.yields = tuple(frame.yields)
        frame.done = True

    # -- bindings ------------------------------------------------------------------------------------------

    def _new(self, value: Expr, unique: bool = False) -> int:
        if value[0] in _PLAIN:  # a literal or an unknown value: shared, and never worth a condition
            found = self.dedupe.get(value)
            if found is None:
                found = self.dedupe[value] = len(self.values)
                self.values.append((value, ""))
            return found
        self.values.append((value, self._cond() if self.conds else ""))
        return len(self.values) - 1

    def _bind(self, name: str, bid: int) -> None:
        frame = self.frame
        if frame.kind is MODULE:
            frame.all.setdefault(name, []).append(bid)
        elif frame.kind is not CLASS:
            if name in frame.globals:
                names = self.module_scope.names
                names[name] = (*names.get(name, ()), bid)
                return
            if name in frame.nonlocals:
                owner = frame.parent
                while owner is not None and (owner.kind is CLASS or name not in owner.locals):
                    owner = owner.parent
                if owner is not None and owner.kind is not MODULE:
                    owner.all.setdefault(name, []).append(bid)
                    phi = owner.late.get(name)
                    if phi is not None:
                        self.values[phi] = (("phi", (*self.values[phi][0][1], bid)), "")
                return
            frame.all.setdefault(name, []).append(bid)
            if name in frame.params:
                fills = any(g[0] == name and (g[1] == "falsy" or g[1] in ("is", "==") and g[2] == (None,))
                            for g in self._guards())
                frame.refills[name] = frame.refills.get(name, True) and fills
        self.env[name] = (bid,)
        for rec in self.recorders:
            rec.setdefault(name, []).append(bid)

    def _assign_name(self, name: str, value: Expr) -> None:
        self._bind(name, self._new(value, unique=value[0] == "seq" or value[0] == "dict"))

    def _load(self, name: str) -> Expr:
        if self.overlay is not None and name in self.overlay:
            return self.overlay[name]
        frame = self.frame
        if name in frame.locals and not self.loops and not frame.late:  # a function's local: the common case
            ids = self.env.get(name)  # (locals exclude `global` and `nonlocal` names)
            return ("l", ids) if ids else UNBOUND
        kind = frame.kind
        if kind is MODULE:
            ids = self.env.get(name)
            if ids is None and not any(name in loop.assigned for loop in self.loops):
                return ("g", name) if self.late_lookup else ("b", name)
            return self._ref(name, ids or ())
        if kind is CLASS:
            ids = self.env.get(name)
            if ids or any(name in loop.assigned for loop in self.loops):
                return self._ref(name, ids or ())
            return self._free(name, frame.parent)
        if name in frame.globals:
            return ("g", name)
        if name in frame.nonlocals:
            return self._free(name, frame.parent)
        if name in frame.locals:
            return self._ref(name, self.env.get(name, ()))
        return self._free(name, frame.parent)

    def _ref(self, name: str, ids: tuple[int, ...]) -> Expr:
        for loop in self.loops:
            if name in loop.assigned:
                phi = loop.phis.get(name)
                if phi is None:
                    phi = loop.phis[name] = self._new(("phi", ()), unique=True)
                ids = (*ids, phi)
        late = self.frame.late.get(name) if self.frame.late else None
        if late is not None:
            ids = (*ids, late)
        return ("l", ids) if ids else UNBOUND

    def _free(self, name: str, frame: _Frame | None) -> Expr:
        """A name a scope does not bind: enclosing functions (class bodies skipped), then the module."""
        while frame is not None:
            kind = frame.kind
            if kind is MODULE:
                if frame.done or self.late_lookup:
                    return ("g", name)
                ids = frame.env.get(name)
                return ("l", ids) if ids else ("b", name)
            if kind is not CLASS:
                if name in frame.globals:
                    return ("g", name)
                if name in frame.locals and name not in frame.nonlocals:
                    ids = tuple(frame.all.get(name, ())) if frame.done else frame.env.get(name, ())
                    late = frame.late.get(name)
                    if late is not None:
                        ids = (*ids, late)
                    return ("l", ids) if ids else UNBOUND
            frame = frame.parent
        return ("g", name)

    # -- scans before a scope is walked ------------------------------------------------------------------

    def _scan(self, body: list[ast.stmt], names: set[str], frame: _Frame) -> None:
        """Names bound by these statements (outside nested scopes); each loop gets the names bound in it."""
        for st in body:
            t = type(st)
            if t is ast.Assign:
                for target in st.targets:  # type: ignore[attr-defined]
                    _target_names(target, names)
            elif t in _DEFS:
                names.add(st.name)  # type: ignore[attr-defined]
            elif t is ast.AugAssign or t is ast.AnnAssign:
                _target_names(st.target, names)  # type: ignore[attr-defined]
            elif t is ast.Import or t is ast.ImportFrom:
                for alias in st.names:  # type: ignore[attr-defined]
                    if alias.name != "*":
                        names.add(alias.asname or alias.name.partition(".")[0])
            elif t in _LOOPS:
                inner: set[str] = set()
                if t is not ast.While:
                    _target_names(st.target, inner)  # type: ignore[attr-defined]
                self._scan(st.body, inner, frame)  # type: ignore[attr-defined]
                self.loop_sets[st] = inner
                names |= inner
                self._scan(st.orelse, names, frame)  # type: ignore[attr-defined]
                continue
            elif t is ast.If:
                self._scan(st.body, names, frame)  # type: ignore[attr-defined]
                self._scan(st.orelse, names, frame)  # type: ignore[attr-defined]
            elif t is ast.With or t is ast.AsyncWith:
                for item in st.items:  # type: ignore[attr-defined]
                    if item.optional_vars is not None:
                        _target_names(item.optional_vars, names)
                self._scan(st.body, names, frame)  # type: ignore[attr-defined]
            elif t in _TRY:
                self._scan(st.body, names, frame)  # type: ignore[attr-defined]
                for handler in st.handlers:  # type: ignore[attr-defined]
                    if handler.name:
                        names.add(handler.name)
                    self._scan(handler.body, names, frame)
                self._scan(st.orelse, names, frame)  # type: ignore[attr-defined]
                self._scan(st.finalbody, names, frame)  # type: ignore[attr-defined]
            elif t is ast.Global:
                frame.globals.update(st.names)  # type: ignore[attr-defined]
            elif t is ast.Nonlocal:
                frame.nonlocals.update(st.names)  # type: ignore[attr-defined]
            elif t is ast.Delete:
                for target in st.targets:  # type: ignore[attr-defined]
                    _target_names(target, names)
            elif t is ast.Match:
                for case in st.cases:  # type: ignore[attr-defined]
                    _pattern_names(case.pattern, names)
                    self._scan(case.body, names, frame)

    # -- conditions --------------------------------------------------------------------------------------

    def _cond(self) -> str:
        key = tuple(self.conds)
        found = self.cond_cache.get(key)
        if found is None:
            parts = []
            for kind, node, negated in self.conds:
                if negated and kind == "if" and type(node) is ast.UnaryOp and type(node.op) is ast.Not:
                    parts.append(self._unparse(node.operand))  # not (not x): x
                    continue
                text = self._unparse(node) if kind == "if" else node
                parts.append(f"not ({text})" if negated else text)
            found = " and ".join(parts)
            if len(found) > _CONDITION_LIMIT:
                found = found[: _CONDITION_LIMIT - 1] + "…"
            self.cond_cache[key] = found
        return found

    def _unparse(self, node: ast.expr) -> str:
        text = self.text_cache.get(node)
        if text is None:
            text = _render(node, 0)
            if text is None:
                text = " ".join(ast.unparse(node).split())
            self.text_cache[node] = text
        return text

    # -- flow ----------------------------------------------------------------------------------------------

    def _snapshot(self) -> _State:
        return self.env, self.dead

    def _restore(self, state: _State) -> None:
        self.env, self.dead = state

    @staticmethod
    def _merge(states: list[_State]) -> _State:
        live = [env for env, dead in states if not dead]
        if not live:
            return (dict(states[0][0]) if states else {}), True
        out = live[0]
        copied = False
        for env in live[1:]:
            if env is out:
                continue
            for name, ids in env.items():
                mine = out.get(name)
                if mine == ids:
                    continue
                if not copied:
                    out, copied = dict(out), True
                out[name] = ids if mine is None else (*mine, *(i for i in ids if i not in mine))
        return out, False

    def _stmts(self, body: list[ast.stmt]) -> None:
        depth = len(self.conds)
        for st in body:
            handler = _STATEMENTS.get(type(st))
            if handler is not None:
                handler(self, st)  # type: ignore[operator]
            else:
                self._generic(st)
        del self.conds[depth:]  # conditions an `if` that returns left for the rest of this block

    def _generic(self, node: ast.AST) -> None:
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.expr):
                        self._x(item)
                    elif isinstance(item, ast.stmt):
                        self._stmts([item])
            elif isinstance(value, ast.expr):
                self._x(value)

    def s_expr(self, st: ast.Expr) -> None:
        self._x(st.value)

    def s_assign(self, st: ast.Assign) -> None:
        value = self._x(st.value)
        for target in st.targets:
            self._assign(target, value, st.value)
        if self.frame.kind is MODULE and len(st.targets) == 1 and _is_name(st.targets[0], "__all__"):
            self.exports = _literal_strings(st.value)

    def s_augassign(self, st: ast.AugAssign) -> None:
        value = self._x(st.value)
        target = st.target
        if type(target) is ast.Name:
            if isinstance(st.value, (ast.List, ast.Tuple)):
                self.facts.stores.append((self._load(target.id), value, "items"))
                if self.frame.kind is MODULE and target.id == "__all__" and self.exports is not None:
                    more = _literal_strings(st.value)
                    self.exports = None if more is None else [*self.exports, *more]
        else:
            self._x(target)

    def s_annassign(self, st: ast.AnnAssign) -> None:
        annotation = self._annotation(st.annotation)
        target = st.target
        if st.value is not None:
            value = self._x(st.value)
            if annotation is not None and value[0] in ("c", "u"):
                value = ("|", value, annotation)
            self._assign(target, value, st.value)
        elif annotation is not None:
            if type(target) is ast.Name and self.frame.kind is CLASS:
                self._instance_attr(self.frame.scope, target.id, annotation, False)
            elif type(target) is ast.Attribute:
                self._assign(target, annotation, None)

    def _assign(self, target: ast.expr, value: Expr, node: ast.expr | None) -> None:
        t = type(target)
        if t is ast.Name:
            self._assign_name(target.id, value)  # type: ignore[attr-defined]
        elif t is ast.Attribute:
            receiver = target.value  # type: ignore[attr-defined]
            frame = self.frame
            if frame.self_name and type(receiver) is ast.Name and receiver.id == frame.self_name:
                scope = self.class_scopes.get(frame.class_id)
                if scope is not None:
                    self._instance_attr(scope, target.attr, value, frame.name == "__init__")  # type: ignore
                    return
            owner = self._x(receiver)
            if value[0] not in _PLAIN and owner[0] not in _PLAIN:
                self.facts.stores.append(((owner, target.attr), value, "attr"))  # type: ignore[attr-defined]
        elif t is ast.Tuple or t is ast.List:
            elts = target.elts  # type: ignore[attr-defined]
            starred = any(type(e) is ast.Starred for e in elts)
            if value[0] == "seq" and value[1] in ("tuple", "list") and len(value[2]) == len(elts) and not starred:
                for sub, item in zip(elts, value[2], strict=True):
                    self._assign(sub, item, None)
            else:
                for i, sub in enumerate(elts):
                    self._assign(sub, UNKNOWN if starred else ("x", value, i), None)
        elif t is ast.Subscript:
            container = self._x(target.value)  # type: ignore[attr-defined]
            self._x(target.slice)  # type: ignore[attr-defined]
            if node is not None and type(node) in _REFS:
                self.facts.stores.append((container, value, "item"))
        elif t is ast.Starred:
            self._assign(target.value, UNKNOWN, None)  # type: ignore[attr-defined]
        else:
            self._x(target)

    def _instance_attr(self, scope: ScopeFacts, name: str, value: Expr, in_init: bool) -> None:
        bid = self._new(value)
        ids, by_init = scope.attrs.get(name, ((), False))
        scope.attrs[name] = ((*ids, bid), by_init or in_init)

    def s_delete(self, st: ast.Delete) -> None:
        for target in st.targets:
            if type(target) is ast.Name:
                if self.frame.kind is MODULE or self.frame.kind is CLASS or target.id in self.frame.locals:
                    self.env[target.id] = ()
            else:
                self._x(target)

    def s_return(self, st: ast.Return) -> None:
        if st.value is not None:
            value = self._x(st.value)
            if value != _CONST[type(None)]:
                guards = self._guards()
                self.frame.returns.append(self._new(("guard", guards, value) if guards else value))
        self.dead = True

    def _guards(self) -> tuple[tuple[str, str, tuple[Any, ...]], ...]:
        """What the enclosing `if` tests on parameters require of a return: (parameter, op, constants), op one
        of truthy, falsy, is, is not, ==, !=, in, not in (`if mode in ('r', 'rb'): return Reader(f)`)."""
        params = {p[0] for p in self.frame.scope.params}
        found: list[tuple[str, str, tuple[Any, ...]]] = []
        if params:
            for kind, test, negated in self.conds:
                if kind == "if":
                    found.extend(_guards_of(test, negated, params))
        return tuple(found)

    def s_raise(self, st: ast.Raise) -> None:
        if st.exc is not None:
            self._x(st.exc)
        if st.cause is not None:
            self._x(st.cause)
        self.dead = True

    def s_break(self, st: ast.Break) -> None:
        if self.loops:
            self.loops[-1].breaks.append((dict(self.env), self.dead))
        self.dead = True

    def s_continue(self, st: ast.Continue) -> None:
        if self.loops:
            self.loops[-1].continues.append((dict(self.env), self.dead))
        self.dead = True

    def s_pass(self, st: ast.stmt) -> None:
        pass

    def s_import(self, st: ast.Import) -> None:
        for alias in st.names:
            bound = alias.asname or alias.name.partition(".")[0]
            self.facts.imports.append(RawImport(alias.name, None, bound, st.lineno))
            self._assign_name(bound, ("imp", alias.name if alias.asname else bound, None))

    def s_importfrom(self, st: ast.ImportFrom) -> None:
        base = _absolute_module(self.facts.module, self.facts.is_package, st.level, st.module)
        for alias in st.names:
            bound = "" if alias.name == "*" else alias.asname or alias.name
            self.facts.imports.append(RawImport(base, alias.name, bound, st.lineno))
            if not bound:
                if base and self.frame.kind is MODULE:
                    self.stars.append((base, self._cond() if self.conds else ""))
                    for name, ids in list(self.env.items()):  # public names it may rebind
                        if ids and not name.startswith("_"):
                            self._bind(name, self._new(("star", base, name, ("phi", ids))))
            else:
                self._assign_name(bound, ("imp", base, alias.name) if base else ("u", "dynamic"))

    def s_if(self, st: ast.If) -> None:
        self._x(st.test)
        then, otherwise = self._narrowings(st.test)
        entry, dead = self.env, self.dead
        self.env = dict(entry)
        self.conds.append(("if", st.test, False))
        for name, value in then:
            self._narrow(name, value)
        self._stmts(st.body)
        self.conds[-1] = ("if", st.test, True)
        first = self._snapshot()
        self._restore((entry, dead))
        for name, value in otherwise:
            self._narrow(name, value)
        self._stmts(st.orelse)
        self.conds.pop()
        second = self._snapshot()
        self._restore(self._merge([first, second]))
        if first[1] != second[1]:  # one branch cannot fall through: what follows runs under the other
            self.conds.append(("if", st.test, first[1]))

    def s_assert(self, st: ast.Assert) -> None:
        self._x(st.test)
        if st.msg is not None:
            self._x(st.msg)
        for name, value in self._narrowings(st.test)[0]:
            self._narrow(name, value)

    def _narrowings(self, test: ast.expr) -> tuple[list[tuple[str, Expr]], list[tuple[str, Expr]]]:
        """(name, value) pairs that hold when `test` is true, and when it is false: isinstance narrowing."""
        t = type(test)
        if t is ast.Call:
            func, args = test.func, test.args  # type: ignore[attr-defined]
            if (type(func) is ast.Name and func.id == "isinstance" and len(args) == 2
                    and type(args[0]) is ast.Name and not test.keywords):  # type: ignore[attr-defined]
                classes = args[1].elts if type(args[1]) is ast.Tuple else [args[1]]
                recording, self.recording = self.recording, False
                values = [("inst", self._x(c)) for c in classes]
                self.recording = recording
                if values:
                    return [(args[0].id, values[0] if len(values) == 1 else ("|", *values))], []
        elif t is ast.UnaryOp and type(test.op) is ast.Not:  # type: ignore[attr-defined]
            then, otherwise = self._narrowings(test.operand)  # type: ignore[attr-defined]
            return otherwise, then
        elif t is ast.BoolOp and type(test.op) is ast.And:  # type: ignore[attr-defined]
            found: list[tuple[str, Expr]] = []
            for value in test.values:  # type: ignore[attr-defined]
                found.extend(self._narrowings(value)[0])
            return found, []
        return [], []

    def _narrow(self, name: str, value: Expr) -> None:
        frame = self.frame
        if frame.kind is MODULE or frame.kind is CLASS or (name in frame.locals and name not in frame.globals
                                                            and name not in frame.nonlocals):
            bid = self._new(value)
            self.env[name] = (bid,)
            for rec in self.recorders:
                rec.setdefault(name, []).append(bid)

    def _loop_start(self, st: ast.stmt) -> _Loop:
        loop = _Loop(self.loop_sets.get(st, set()))
        self.loops.append(loop)
        self.recorders.append(loop.rec)
        return loop

    def _loop_end(self, loop: _Loop) -> None:
        self.loops.pop()
        self.recorders.pop()
        for name, phi in loop.phis.items():
            self.values[phi] = (("phi", tuple(loop.rec.get(name, ()))), "")

    def s_for(self, st: ast.For | ast.AsyncFor) -> None:
        iterated = self._x(st.iter)
        self._loop(st, lambda: self._assign(st.target, ("it", iterated), None))

    def s_while(self, st: ast.While) -> None:
        self._loop(st, lambda: self._x(st.test))

    def _loop(self, st: ast.For | ast.AsyncFor | ast.While, head: Callable[[], Any]) -> None:
        """A loop: `head` (the target bound, or the test read) and the body, which may run again (its later
        bindings reach its start: phis), then the else part unless a break left."""
        entry = self.env, self.dead
        self.env = dict(self.env)
        loop = self._loop_start(st)
        head()
        self._stmts(st.body)
        end = self._merge([self._snapshot(), *loop.continues])
        self._loop_end(loop)
        self._restore(self._merge([entry, end]))
        if st.orelse:
            self.env = dict(self.env)
            self._stmts(st.orelse)
        self._restore(self._merge([self._snapshot(), *loop.breaks]))

    def s_try(self, st: ast.Try) -> None:
        entry, dead = self.env, self.dead
        self.env = dict(entry)
        rec: dict[str, list[int]] = {}
        self.recorders.append(rec)
        self._stmts(st.body)
        self.recorders.pop()
        rebound = set(rec)
        if st.orelse:
            after: dict[str, list[int]] = {}
            self.recorders.append(after)
            self._stmts(st.orelse)
            self.recorders.pop()
            rebound.update(after)  # `else: Future = _asyncio.Future`: what a handler's path keeps is conditional
        ends = [self._snapshot()]
        handler_env = dict(entry)
        for name, ids in rec.items():
            mine = handler_env.get(name, ())
            handler_env[name] = (*mine, *(i for i in ids if i not in mine))
        for handler in st.handlers:
            self._restore((dict(handler_env), dead))
            caught = self._x(handler.type) if handler.type is not None else None
            self.conds.append(("except", _except_label(handler), False))
            for name in rebound:
                # what the body (or else) would have rebound reaches the handler only on this handler's path
                old = entry.get(name)
                if old:
                    mine = self.env[name]
                    self.env[name] = (self._new(("phi", old)), *(i for i in mine if i not in old))
            if handler.name:
                exc: Expr = UNKNOWN
                if caught is not None:
                    exc = ("|", *(("inst", c) for c in caught[2])) if caught[0] == "seq" else ("inst", caught)
                self._assign_name(handler.name, exc)
            self._stmts(handler.body)
            self.conds.pop()
            ends.append(self._snapshot())
        self._restore(self._merge(ends))
        if st.finalbody:
            if self.dead:
                self._restore((self._merge([(handler_env, False), *ends])[0], False))
                self._stmts(st.finalbody)
                self.dead = True
            else:
                self._stmts(st.finalbody)

    def s_with(self, st: ast.With | ast.AsyncWith) -> None:
        for item in st.items:
            value = self._x(item.context_expr)
            if item.optional_vars is not None:
                self._assign(item.optional_vars, ("enter", value), None)
        self._stmts(st.body)

    def s_match(self, st: ast.Match) -> None:
        self._x(st.subject)
        entry, dead = self.env, self.dead
        ends = [(entry, dead)]
        for case in st.cases:
            self._restore((dict(entry), dead))
            captured: set[str] = set()
            _pattern_names(case.pattern, captured)
            for name in sorted(captured):
                self._assign_name(name, UNKNOWN)
            if case.guard is not None:
                self._x(case.guard)
            self._stmts(case.body)
            ends.append(self._snapshot())
        self._restore(self._merge(ends))

    def s_global(self, st: ast.stmt) -> None:
        pass

    # -- definitions -------------------------------------------------------------------------------------

    def _define(self, node: _Def, kind: str) -> Symbol:
        qname, ordinal = self.def_ids[node]
        start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        symbol = Symbol(
            id=symbol_id(self.repo, qname, ordinal),
            kind=kind,  # type: ignore[arg-type]
            qualified_name=qname,
            name=node.name,
            path=self.facts.path,
            start_line=start,
            end_line=node.end_lineno or node.lineno,
            signature=_signature(node),
            docstring=_summary(ast.get_docstring(node, clean=True)),
            parent_id=self.frame.id,
            decorators=tuple(self._text(d) for d in node.decorator_list),  # issue 13: dead_code reads them
        )
        self.order.append((node.lineno, node.col_offset, symbol))
        return symbol

    def _decorate(self, node: _Def, decorators: list[Expr], value: Expr) -> Expr:
        """`@d def f` is `f = d(f)`: each decorator is a call site of the scope running the def."""
        for expr, dnode in reversed(list(zip(decorators, node.decorator_list, strict=True))):
            self._record(dnode.lineno, expr, ((value,), ()), "@" + self._text(dnode), "decorator")
            value = ("deco", expr, value)
        return value

    def s_functiondef(self, st: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        decorators = [self._x(d) for d in st.decorator_list]
        args = st.args
        positional = [*args.posonlyargs, *args.args]
        defaults: list[Expr | None] = [None] * (len(positional) - len(args.defaults))
        defaults += [self._x(d) for d in args.defaults]
        kw_defaults = [self._x(d) if d is not None else None for d in args.kw_defaults]
        params: list[tuple[str, str, Expr | None, Expr | None]] = []
        annotation = self._annotation
        for arg, default in zip(positional, defaults, strict=True):
            params.append((arg.arg, "pos", annotation(arg.annotation) if arg.annotation else None, default))
        if args.vararg is not None:
            params.append((args.vararg.arg, "*", None, None))
        for arg, default in zip(args.kwonlyargs, kw_defaults, strict=True):
            params.append((arg.arg, "kw", annotation(arg.annotation) if arg.annotation else None, default))
        if args.kwarg is not None:
            params.append((args.kwarg.arg, "**", None, None))
        returns = self._annotation(st.returns)
        in_class = self.frame.kind is CLASS
        symbol = self._define(st, METHOD if in_class else FUNCTION)
        method = ""
        if in_class:
            names = {_last_name(d) for d in st.decorator_list}
            if "staticmethod" in names:
                method = "static"
            elif "classmethod" in names or st.name in ("__init_subclass__", "__class_getitem__"):
                method = "class"
            elif st.name == "__new__":
                method = "static"
            else:
                method = "method"
        scope = ScopeFacts(symbol.id, symbol.kind, params=tuple(params), returns_annotation=returns, method=method,
                           class_id=self.frame.id if in_class else "")
        self.facts.scopes.append(scope)
        self._assign_name(st.name, self._decorate(st, decorators, ("d", symbol.id)))
        self.queue.append((st, symbol, scope, self.frame))

    def s_classdef(self, st: ast.ClassDef) -> None:
        decorators = [self._x(d) for d in st.decorator_list]
        bases = tuple(self._x(b.value if type(b) is ast.Subscript else b) for b in st.bases)  # Generic[T]
        metaclass = None
        for keyword in st.keywords:
            value = self._x(keyword.value)
            if keyword.arg == "metaclass":
                metaclass = value
        symbol = self._define(st, CLASS)
        for base in st.bases:
            dotted = _dotted(base.value if isinstance(base, ast.Subscript) else base)
            if dotted:
                self.facts.bases.append(RawBase(symbol.id, symbol.qualified_name, dotted))
        scope = ScopeFacts(symbol.id, CLASS, bases=bases, metaclass=metaclass)
        self.facts.scopes.append(scope)
        self.class_scopes[symbol.id] = scope
        outer = self.frame
        saved = (self.env, self.dead, self.conds, self.loops, self.recorders, self.overlay)
        outer.env = self.env
        frame = _Frame(CLASS, symbol.id, symbol.qualified_name, st.name, outer, symbol.id,
                       symbol.qualified_name, scope)
        self._enter(frame, st.body)
        self._stmts(st.body)
        scope.names = self.env
        self.frame = outer
        self.env, self.dead, self.conds, self.loops, self.recorders, self.overlay = saved
        self._assign_name(st.name, self._decorate(st, decorators, ("d", symbol.id)))

    def _annotation(self, node: ast.expr | None) -> Expr | None:
        """An annotation as the value it declares: `x: Foo` an instance of Foo, `type[Foo]` the class."""
        if node is None:
            return None
        recording, late = self.recording, self.late_lookup
        self.recording, self.late_lookup = False, True
        try:
            return self._declared(node, 0)
        finally:
            self.recording, self.late_lookup = recording, late

    def _declared(self, node: ast.expr, depth: int) -> Expr | None:
        t = type(node)
        if depth > 4:
            return None
        if t is ast.Name or t is ast.Attribute:
            return ("inst", self._x(node))
        if t is ast.Constant:
            if not isinstance(node.value, str):  # type: ignore[attr-defined]
                return None
            try:
                parsed = ast.parse(node.value.strip(), mode="eval").body  # type: ignore[attr-defined]
            except (SyntaxError, ValueError):
                return None
            return self._declared(parsed, depth + 1)
        if t is ast.BinOp and type(node.op) is ast.BitOr:  # type: ignore[attr-defined]
            parts = [self._declared(node.left, depth + 1), self._declared(node.right, depth + 1)]  # type: ignore
            found = [p for p in parts if p is not None]
            return found[0] if len(found) == 1 else (("|", *found) if found else None)
        if t is ast.Subscript:
            base = _last_name(node.value)  # type: ignore[attr-defined]
            inner = node.slice  # type: ignore[attr-defined]
            items = inner.elts if type(inner) is ast.Tuple else [inner]
            if base in _TYPING_WRAPPERS:
                return self._declared(items[0], depth + 1) if items else None
            if base == "Union":
                found = [p for p in (self._declared(i, depth + 1) for i in items) if p is not None]
                return found[0] if len(found) == 1 else (("|", *found) if found else None)
            if base in ("Type", "type") and items:
                declared = self._declared(items[0], depth + 1)
                return declared[1] if declared is not None and declared[0] == "inst" else None
            return ("inst", self._x(node.value))  # type: ignore[attr-defined]
        return None

    # -- expressions -------------------------------------------------------------------------------------

    def _x(self, node: ast.expr) -> Expr:
        handler = _EXPRESSIONS.get(type(node))
        if handler is not None:
            return handler(self, node)  # type: ignore[operator]
        self._generic(node)  # an expression graphdex has no type rule for: only what it contains counts
        return UNKNOWN

    def x_name(self, node: ast.Name) -> Expr:
        name = node.id
        frame = self.frame
        if name in frame.locals and not self.loops and not frame.late and self.overlay is None:
            ids = self.env.get(name)  # a function's local: the common case (see _load)
            return ("l", ids) if ids else UNBOUND
        return self._load(name)

    def x_attribute(self, node: ast.Attribute) -> Expr:
        value = self._x(node.value)
        return ("type", value) if node.attr == "__class__" else ("a", value, node.attr)

    def x_constant(self, node: ast.Constant) -> Expr:
        return _CONST.get(type(node.value), UNKNOWN)

    def x_joinedstr(self, node: ast.JoinedStr) -> Expr:
        for value in node.values:
            if type(value) is ast.FormattedValue:
                self._x(value.value)
                if value.format_spec is not None:
                    self._x(value.format_spec)
        return _STR

    def x_seq(self, node: ast.List | ast.Tuple | ast.Set) -> Expr:
        items = []
        for elt in node.elts:
            if type(elt) is ast.Starred:
                self._x(elt.value)
                items.append(UNKNOWN)
            else:
                items.append(self._x(elt))
        return ("seq", _SEQ_KIND[type(node)], tuple(items))

    def x_dict(self, node: ast.Dict) -> Expr:
        items = []
        for key, value in zip(node.keys, node.values, strict=True):
            if key is not None and type(key) is not ast.Constant:
                self._x(key)
            v = self._x(value)
            if key is not None:
                const = key.value if type(key) is ast.Constant else None
                items.append((const if isinstance(const, (str, int)) else None, v))
        return ("dict", tuple(items))

    def x_subscript(self, node: ast.Subscript) -> Expr:
        value = self._x(node.value)
        key = node.slice
        if type(key) is ast.Constant:
            const = key.value if isinstance(key.value, (str, int)) and not isinstance(key.value, bool) else None
            return ("i", value, const)
        self._x(key)
        return ("i", value, None)

    def x_boolop(self, node: ast.BoolOp) -> Expr:
        values = [self._x(v) for v in node.values]
        return ("|", *values) if type(node.op) is ast.Or else values[-1]

    def x_ifexp(self, node: ast.IfExp) -> Expr:
        self._x(node.test)
        return ("|", self._x(node.body), self._x(node.orelse))

    def x_binop(self, node: ast.BinOp) -> Expr:
        left = self._x(node.left)
        self._x(node.right)
        return left if left[0] == "bv" and left[1] in ("str", "bytes") else UNKNOWN

    def x_compare(self, node: ast.Compare) -> Expr:
        self._x(node.left)
        for comparator in node.comparators:
            self._x(comparator)
        return _BOOL

    def x_unaryop(self, node: ast.UnaryOp) -> Expr:
        self._x(node.operand)
        return _BOOL if type(node.op) is ast.Not else UNKNOWN

    def x_await(self, node: ast.Await) -> Expr:
        return self._x(node.value)

    def x_yield(self, node: ast.Yield | ast.YieldFrom) -> Expr:
        value = self._x(node.value) if node.value is not None else None
        if value is not None and self.frame.kind is not MODULE and self.frame.kind is not CLASS:
            self.frame.yields.append(self._new(value if type(node) is ast.Yield else ("it", value)))
        return UNKNOWN

    def x_namedexpr(self, node: ast.NamedExpr) -> Expr:
        value = self._x(node.value)
        frame = self.frame
        if frame.kind is not MODULE and frame.kind is not CLASS and node.target.id not in frame.globals:
            frame.locals.add(node.target.id)  # a walrus binds in the function (reads before it: rare)
        self._assign_name(node.target.id, value)
        return value

    def x_starred(self, node: ast.Starred) -> Expr:
        self._x(node.value)
        return UNKNOWN

    def x_lambda(self, node: ast.Lambda) -> Expr:
        args = node.args
        for default in [*args.defaults, *args.kw_defaults]:
            if default is not None:
                self._x(default)
        saved = self.overlay
        overlay = dict(saved) if saved else {}
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
            if arg is not None:
                overlay[arg.arg] = PARAM
        self.overlay = overlay
        body = self._x(node.body)
        self.overlay = saved
        return ("lam", body)

    def x_comprehension(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp) -> Expr:
        generators = node.generators
        first = self._x(generators[0].iter)
        saved = self.overlay
        self.overlay = dict(saved) if saved else {}
        for i, generator in enumerate(generators):
            iterated = first if i == 0 else self._x(generator.iter)
            self._bind_overlay(generator.target, ("it", iterated))
            for test in generator.ifs:
                self._x(test)
        if type(node) is ast.DictComp:
            self._x(node.key)
            result: Expr = ("dict", ((None, self._x(node.value)),))
        else:
            result = ("seq", _COMP_KIND[type(node)], (self._x(node.elt),))  # type: ignore[union-attr]
        self.overlay = saved
        return result

    def _bind_overlay(self, target: ast.expr, value: Expr) -> None:
        assert self.overlay is not None
        t = type(target)
        if t is ast.Name:
            self.overlay[target.id] = value  # type: ignore[attr-defined]
        elif t is ast.Tuple or t is ast.List:
            for i, sub in enumerate(target.elts):  # type: ignore[attr-defined]
                self._bind_overlay(sub, ("x", value, i) if type(sub) is not ast.Starred else UNKNOWN)
        elif t is ast.Starred:
            self._bind_overlay(target.value, UNKNOWN)  # type: ignore[attr-defined]
        else:
            self._x(target)

    def x_call(self, node: ast.Call) -> Expr:
        func = node.func
        args = node.args
        if type(func) is ast.Name and func.id == "super":
            frame = self.frame
            if not node.keywords and (not args or (len(args) == 2 and type(args[0]) is ast.Name
                                                   and frame.kind is METHOD and args[0].id == frame.parent.name  # type: ignore[union-attr]
                                                   and type(args[1]) is ast.Name)):
                # super() itself is part of the super().m() call site
                return ("super", frame.class_id) if frame.kind is METHOD else UNKNOWN
        callee = self._x(func)
        positional: list[Expr | None] = []
        refs = False
        arg0: Expr | None = None
        consts: list[tuple[Any, Any]] = []
        x = self._x
        for i, arg in enumerate(args):
            t = type(arg)
            if t is ast.Constant:
                value = _CONST.get(type(arg.value), UNKNOWN)  # type: ignore[attr-defined]
                if isinstance(arg.value, _CONSTANTS):  # type: ignore[attr-defined]
                    consts.append((i, arg.value))  # type: ignore[attr-defined]
                positional.append(None)
            elif t is ast.Starred:
                positional.append(("star", x(arg.value)))  # type: ignore[attr-defined]
                refs = True
                continue
            else:
                value = x(arg)
                if t in _REFS:
                    positional.append(value)
                    refs = True
                else:
                    positional.append(None)
            if i == 0:
                arg0 = value
        keywords = []
        for keyword in node.keywords:
            kv = keyword.value
            if type(kv) is ast.Constant:
                if keyword.arg and isinstance(kv.value, _CONSTANTS):
                    consts.append((keyword.arg, kv.value))
                continue
            value = x(kv)
            if type(kv) in _REFS:
                keywords.append((keyword.arg, value))
                refs = True
        shape = (len(args), tuple(consts)) if consts or len(args) > 1 or node.keywords else None
        self._record(node.lineno, callee, (tuple(positional), tuple(keywords)) if refs else None, self._text(func))
        if (type(func) is ast.Attribute and func.attr == "extend" and _is_name(func.value, "__all__")
                and self.frame.kind is MODULE and self.exports is not None):
            more = _literal_strings(args[0]) if args else None
            self.exports = None if more is None else [*self.exports, *more]
        if type(func) is ast.Attribute and func.attr in _MUTATORS:
            index, kind = _MUTATORS[func.attr]
            if len(args) > index:
                carried = args[index]
                if type(carried) in _REFS or (kind == "items" and type(carried) in (ast.List, ast.Tuple,
                                                                                     ast.Set, ast.Dict)):
                    value = arg0 if index == 0 else self._x_quiet(carried)  # type: ignore[assignment]
                    if value is not None:
                        self.facts.stores.append((callee[1], value, kind))
        return ("c", callee, arg0, shape)

    def _x_quiet(self, node: ast.expr) -> Expr:
        recording, self.recording = self.recording, False
        try:
            return self._x(node)
        finally:
            self.recording = recording

    def _record(self, line: int, callee: Expr, args: tuple[Any, ...] | None, target: str,
                kind: str = "call") -> None:
        if self.recording:
            frame = self.frame
            self.facts.calls.append(RawCall(frame.id, frame.qname, frame.class_qname, target, line, callee,
                                            args, kind))

    def _text(self, node: ast.expr) -> str:
        """The callee as written, short: `a.b.c`, `super().m`, `f().g`, `x[].m`."""
        t = type(node)
        if t is ast.Name:
            return node.id  # type: ignore[attr-defined]
        if t is ast.Attribute:
            return f"{self._text(node.value)}.{node.attr}"  # type: ignore[attr-defined]
        if t is ast.Call:
            return f"{self._text(node.func)}()"  # type: ignore[attr-defined]
        if t is ast.Subscript:
            return f"{self._text(node.value)}[]"  # type: ignore[attr-defined]
        return f"<{t.__name__.lower()}>"


_STATEMENTS = {
    ast.Expr: _Walker.s_expr,
    ast.Assign: _Walker.s_assign,
    ast.AugAssign: _Walker.s_augassign,
    ast.AnnAssign: _Walker.s_annassign,
    ast.Delete: _Walker.s_delete,
    ast.Return: _Walker.s_return,
    ast.Raise: _Walker.s_raise,
    ast.Break: _Walker.s_break,
    ast.Continue: _Walker.s_continue,
    ast.Pass: _Walker.s_pass,
    ast.Global: _Walker.s_global,
    ast.Nonlocal: _Walker.s_global,
    ast.Import: _Walker.s_import,
    ast.ImportFrom: _Walker.s_importfrom,
    ast.If: _Walker.s_if,
    ast.Assert: _Walker.s_assert,
    ast.For: _Walker.s_for,
    ast.AsyncFor: _Walker.s_for,
    ast.While: _Walker.s_while,
    ast.Try: _Walker.s_try,
    ast.With: _Walker.s_with,
    ast.AsyncWith: _Walker.s_with,
    ast.Match: _Walker.s_match,
    ast.FunctionDef: _Walker.s_functiondef,
    ast.AsyncFunctionDef: _Walker.s_functiondef,
    ast.ClassDef: _Walker.s_classdef,
}
if hasattr(ast, "TryStar"):
    _STATEMENTS[ast.TryStar] = _Walker.s_try

_EXPRESSIONS = {
    ast.Name: _Walker.x_name,
    ast.Attribute: _Walker.x_attribute,
    ast.Call: _Walker.x_call,
    ast.Constant: _Walker.x_constant,
    ast.JoinedStr: _Walker.x_joinedstr,
    ast.List: _Walker.x_seq,
    ast.Tuple: _Walker.x_seq,
    ast.Set: _Walker.x_seq,
    ast.Dict: _Walker.x_dict,
    ast.Subscript: _Walker.x_subscript,
    ast.BoolOp: _Walker.x_boolop,
    ast.IfExp: _Walker.x_ifexp,
    ast.BinOp: _Walker.x_binop,
    ast.Compare: _Walker.x_compare,
    ast.UnaryOp: _Walker.x_unaryop,
    ast.Await: _Walker.x_await,
    ast.Yield: _Walker.x_yield,
    ast.YieldFrom: _Walker.x_yield,
    ast.NamedExpr: _Walker.x_namedexpr,
    ast.Starred: _Walker.x_starred,
    ast.Lambda: _Walker.x_lambda,
    ast.ListComp: _Walker.x_comprehension,
    ast.SetComp: _Walker.x_comprehension,
    ast.GeneratorExp: _Walker.x_comprehension,
    ast.DictComp: _Walker.x_comprehension,
}


_OPERATORS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Is: "is",
              ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in"}


def _render(node: ast.expr, depth: int) -> str | None:
    """The source of a common condition (names, attributes, constants, comparisons, calls, not/and/or), as
    ast.unparse writes it but much faster; None for anything else."""
    t = type(node)
    if t is ast.Name:
        return node.id  # type: ignore[attr-defined]
    if depth > 6:
        return None
    if t is ast.Attribute:
        value = _render(node.value, depth + 1)  # type: ignore[attr-defined]
        return None if value is None else f"{value}.{node.attr}"  # type: ignore[attr-defined]
    if t is ast.Constant:
        value = node.value  # type: ignore[attr-defined]
        return repr(value) if isinstance(value, (str, int, float, bool, type(None))) else None
    if t is ast.Compare:
        if len(node.ops) != 1 or type(node.left) in (ast.Compare, ast.BoolOp):  # type: ignore[attr-defined]
            return None
        left = _render(node.left, depth + 1)  # type: ignore[attr-defined]
        right = _render(node.comparators[0], depth + 1)  # type: ignore[attr-defined]
        op = _OPERATORS.get(type(node.ops[0]))  # type: ignore[attr-defined]
        return None if left is None or right is None or op is None else f"{left} {op} {right}"
    if t is ast.Call:
        if node.keywords:  # type: ignore[attr-defined]
            return None
        func = _render(node.func, depth + 1)  # type: ignore[attr-defined]
        args = [_render(a, depth + 1) for a in node.args]  # type: ignore[attr-defined]
        return None if func is None or None in args else f"{func}({', '.join(args)})"  # type: ignore[arg-type]
    if t is ast.UnaryOp and type(node.op) is ast.Not:  # type: ignore[attr-defined]
        operand = _render(node.operand, depth + 1)  # type: ignore[attr-defined]
        if operand is None or type(node.operand) in (ast.BoolOp, ast.Compare):  # type: ignore[attr-defined]
            return None
        return f"not {operand}"
    if t is ast.BoolOp:
        parts = []
        for value in node.values:  # type: ignore[attr-defined]
            if type(value) is ast.BoolOp:
                return None
            text = _render(value, depth + 1)
            if text is None:
                return None
            parts.append(text)
        return f" {'and' if type(node.op) is ast.And else 'or'} ".join(parts)  # type: ignore[attr-defined]
    return None


def _guards_of(test: ast.expr, negated: bool, params: set[str]) -> list[tuple[str, str, tuple[Any, ...]]]:
    t = type(test)
    if t is ast.Name:
        name = test.id  # type: ignore[attr-defined]
        return [(name, "falsy" if negated else "truthy", ())] if name in params else []
    if t is ast.UnaryOp and type(test.op) is ast.Not:  # type: ignore[attr-defined]
        return _guards_of(test.operand, not negated, params)  # type: ignore[attr-defined]
    if t is ast.BoolOp and (type(test.op) is ast.And) != negated:  # type: ignore[attr-defined]
        return [g for value in test.values for g in _guards_of(value, negated, params)]  # type: ignore
    if t is ast.Compare and len(test.ops) == 1 and type(test.left) is ast.Name:  # type: ignore[attr-defined]
        name, op, right = test.left.id, _COMPARISONS.get(type(test.ops[0])), test.comparators[0]  # type: ignore
        if name not in params or op is None:
            return []
        if op in ("in", "not in"):
            items = right.elts if type(right) in (ast.Tuple, ast.List, ast.Set) else None
            if items is None or not all(type(e) is ast.Constant for e in items):
                return []
            values = tuple(e.value for e in items)
        elif type(right) is ast.Constant:
            values = (right.value,)
        else:
            return []
        if not all(isinstance(v, _CONSTANTS) for v in values):
            return []
        return [(name, _NEGATED[op] if negated else op, values)]
    return []


def _bodies(st: ast.stmt) -> list[list[ast.stmt]]:
    """The statement lists nested in a compound statement (not in nested scopes)."""
    t = type(st)
    if t is ast.If or t in _LOOPS:
        return [st.body, st.orelse]  # type: ignore[attr-defined]
    if t is ast.With or t is ast.AsyncWith:
        return [st.body]  # type: ignore[attr-defined]
    if t in _TRY:
        return [st.body, *(h.body for h in st.handlers), st.orelse, st.finalbody]  # type: ignore[attr-defined]
    if t is ast.Match:
        return [case.body for case in st.cases]  # type: ignore[attr-defined]
    return []


def _target_names(target: ast.expr, out: set[str]) -> None:
    t = type(target)
    if t is ast.Name:
        out.add(target.id)  # type: ignore[attr-defined]
    elif t is ast.Tuple or t is ast.List:
        for elt in target.elts:  # type: ignore[attr-defined]
            _target_names(elt, out)
    elif t is ast.Starred:
        _target_names(target.value, out)  # type: ignore[attr-defined]


def _pattern_names(pattern: ast.AST, out: set[str]) -> None:
    for node in ast.walk(pattern):
        name = getattr(node, "name", None) if isinstance(node, (ast.MatchAs, ast.MatchStar)) else None
        if isinstance(node, ast.MatchMapping):
            name = node.rest
        if name:
            out.add(name)


def _is_name(node: ast.expr, name: str) -> bool:
    return type(node) is ast.Name and node.id == name


def _last_name(node: ast.expr) -> str:
    if type(node) is ast.Call:
        node = node.func
    if type(node) is ast.Name:
        return node.id
    if type(node) is ast.Attribute:
        return node.attr
    return ""


def _literal_strings(node: ast.expr) -> list[str] | None:
    if isinstance(node, (ast.List, ast.Tuple)) and all(
            isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
        return [e.value for e in node.elts]  # type: ignore[attr-defined]
    return None


def _except_label(handler: ast.ExceptHandler) -> str:
    if handler.type is None:
        return "except"
    caught = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    names = [_dotted(c) or "?" for c in caught]
    if any(n.rsplit(".", 1)[-1] in ("ImportError", "ModuleNotFoundError") for n in names):
        return "ImportError fallback"
    return "except " + ", ".join(names)


def _absolute_module(module: str, is_package: bool, level: int, name: str | None) -> str:
    """`from ..x import y` inside `a.b.c` is `a.x`; "" when the dots climb above the top package."""
    if level == 0:
        return name or ""
    parts = module.split(".") if is_package else module.split(".")[:-1]
    if level - 1 > len(parts) or (level - 1 == len(parts) and not name):
        return ""
    base = parts[: len(parts) - (level - 1)]
    return ".".join([*base, name] if name else base)


def _dotted(expr: ast.expr) -> str:
    """`a.b.c` for a Name/Attribute chain, else ""."""
    parts: list[str] = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if isinstance(expr, ast.Name):
        parts.append(expr.id)
        return ".".join(reversed(parts))
    return ""


def _signature(node: _Def) -> str:
    if isinstance(node, ast.ClassDef):
        bases = ", ".join(ast.unparse(b) for b in [*node.bases, *node.keywords])
        text = f"class {node.name}({bases})" if bases else f"class {node.name}"
    else:
        prefix = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
        returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
        text = f"{prefix} {node.name}({ast.unparse(node.args)}){returns}"
    return text if len(text) <= _SIGNATURE_LIMIT else text[: _SIGNATURE_LIMIT - 1] + "…"


def _summary(doc: str | None) -> str:
    if not doc:
        return ""
    first = doc.strip().split("\n\n", 1)[0]
    first = " ".join(first.split())
    return first if len(first) <= _DOC_LIMIT else first[: _DOC_LIMIT - 1] + "…"
