"""Python extraction on the stdlib `ast`: definitions, imports, calls and base classes of one file."""

from __future__ import annotations

import ast
from collections import Counter

from ...models import (
    CLASS,
    FUNCTION,
    METHOD,
    MODULE,
    FileFacts,
    RawBase,
    RawCall,
    RawImport,
    Symbol,
    file_id,
    module_id,
    symbol_id,
)

_DOC_LIMIT = 300
_SIGNATURE_LIMIT = 400
_Def = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


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
        _Visitor(repo, facts).visit_module(tree)
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


class _Scope:
    __slots__ = ("kind", "qname", "id", "class_qname")

    def __init__(self, kind: str, qname: str, id: str, class_qname: str | None) -> None:
        self.kind, self.qname, self.id, self.class_qname = kind, qname, id, class_qname


# Subtrees that can hold no definition, import or call: not descended (the walk's hot path).
_LEAVES = (ast.Name, ast.Constant, ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop,
           ast.alias, ast.arg, ast.Pass, ast.Break, ast.Continue, ast.Global, ast.Nonlocal)


class _Visitor:
    """One pass over the tree with a stack of enclosing definitions.

    Faster than ast.NodeVisitor: handlers are found by type in a dict, and leaves are not descended.
    """

    def __init__(self, repo: str, facts: FileFacts) -> None:
        self.repo = repo
        self.facts = facts
        self.ordinals: Counter[str] = Counter()
        self.stack = [_Scope(MODULE, facts.module, facts.module_id, None)]

    def visit_module(self, tree: ast.Module) -> None:
        self.generic_visit(tree)

    def visit(self, node: ast.AST) -> None:
        handler = _HANDLERS.get(type(node))
        if handler is not None:
            handler(self, node)
        elif not isinstance(node, _LEAVES):
            self.generic_visit(node)

    def generic_visit(self, node: ast.AST) -> None:
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        self.visit(item)
            elif isinstance(value, ast.AST):
                self.visit(value)

    def _define(self, node: _Def, kind: str) -> _Scope:
        parent = self.stack[-1]
        qname = f"{parent.qname}.{node.name}"
        ordinal = self.ordinals[qname]
        self.ordinals[qname] += 1
        start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        symbol = Symbol(
            id=symbol_id(self.repo, qname, ordinal),
            kind=kind,
            qualified_name=qname,
            name=node.name,
            path=self.facts.path,
            start_line=start,
            end_line=node.end_lineno or node.lineno,
            signature=_signature(node),
            docstring=_summary(ast.get_docstring(node, clean=True)),
            parent_id=parent.id,
        )
        self.facts.symbols.append(symbol)
        return _Scope(kind, qname, symbol.id, qname if kind == CLASS else parent.class_qname)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for expr in [*node.decorator_list, *node.bases, *(k.value for k in node.keywords)]:
            self.visit(expr)
        scope = self._define(node, CLASS)
        for base in node.bases:
            dotted = _dotted(base.value if isinstance(base, ast.Subscript) else base)
            if dotted:
                self.facts.bases.append(RawBase(scope.id, scope.qname, dotted))
        self._visit_body(scope, node.body)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        # Decorators and defaults run in the enclosing scope.
        for expr in [*node.decorator_list, *node.args.defaults, *node.args.kw_defaults]:
            if expr is not None:
                self.visit(expr)
        kind = METHOD if self.stack[-1].kind == CLASS else FUNCTION
        self._visit_body(self._define(node, kind), node.body)

    def _visit_body(self, scope: _Scope, body: list[ast.stmt]) -> None:
        self.stack.append(scope)
        for statement in body:
            self.visit(statement)
        self.stack.pop()

    def visit_Call(self, node: ast.Call) -> None:
        scope = self.stack[-1]
        if scope.kind in (FUNCTION, METHOD):
            target = _callee(node.func)
            if target and target != "super":  # super() itself; super().m() is recorded as such
                self.facts.calls.append(RawCall(scope.id, scope.qname, scope.class_qname, target, node.lineno))
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            bound = alias.asname or alias.name.partition(".")[0]
            self.facts.imports.append(RawImport(alias.name, None, bound, node.lineno))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = _absolute_module(self.facts.module, self.facts.is_package, node.level, node.module)
        for alias in node.names:
            bound = "" if alias.name == "*" else alias.asname or alias.name
            self.facts.imports.append(RawImport(base, alias.name, bound, node.lineno))


_HANDLERS = {
    ast.ClassDef: _Visitor.visit_ClassDef,
    ast.FunctionDef: _Visitor.visit_FunctionDef,
    ast.AsyncFunctionDef: _Visitor.visit_FunctionDef,
    ast.Call: _Visitor.visit_Call,
    ast.Import: _Visitor.visit_Import,
    ast.ImportFrom: _Visitor.visit_ImportFrom,
}


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


def _callee(func: ast.expr) -> str:
    """The callee as a dotted expression; `super().m` is kept as such for the resolver."""
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call):
        inner = func.value
        if isinstance(inner.func, ast.Name) and inner.func.id == "super":
            return f"super().{func.attr}"
    return _dotted(func)


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
