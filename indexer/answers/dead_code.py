"""dead_code: functions, methods and classes that nothing in the repository calls or builds on.

A candidate has no CALLS edge from other code (a class: no subclass and no method called from outside it).
Left out, each with its reason kept (`excluded`), so that the list can be trusted:
- entry point: a console script of pyproject.toml / setup.cfg, or the language's `main` (Go, C, C++, Java, C#,
  Rust); module-level code (`__main__`, `if __name__ == "__main__":`) calls from its Module node, so what it
  calls has a caller already;
- test: a test, test hook or fixture by the language's conventions (conventions.py);
- protocol: dunder and protocol methods, which the language calls implicitly;
- exported: named in its module's `__all__`, re-exported by a package's `__init__`, or a public method of
  such a class;
- decorated: a decorator that may register it (a route, a fixture, a CLI command); property: read as an
  attribute, which is no call; overload: a typing stub;
- override: it overrides a base-class method that is called (a call of the base method may run it).

Each reported symbol carries a confidence (0-1) and the reason: private names are surest; public ones may be
used from outside the repository; methods of a class with a base outside the repository may override a method
called there; an unresolved call carrying the name (`x.save()` on an unknown receiver) may reach it; classes
are also used in ways that are no calls (isinstance, except, annotations).
"""

from __future__ import annotations

import ast
from collections import Counter
from dataclasses import dataclass
from typing import Any

from .. import results as r
from ..errors import ConfigError
from ..models import CLASS, FUNCTION, METHOD
from ..store.graph import GraphStore
from . import conventions
from .common import MAX_LIMIT, check_range, ref
from .facts import RepoFacts, repo_facts

KINDS = (FUNCTION, METHOD, CLASS)
EXCEPTION_SUFFIXES = ("Error", "Exception", "Warning", "Exit", "Interrupt")


@dataclass(frozen=True)
class Verdict:
    excluded: str | None  # why it is left out, or None: reported
    confidence: float
    reason: str


def dead_code(store: GraphStore, repo: str, kind: str | None = None, limit: int = 100,
              include_excluded: bool = False) -> r.DeadCode:
    if kind is not None and kind not in KINDS:
        raise ConfigError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    check_range("limit", limit, 1, MAX_LIMIT)
    reported: list[r.DeadSymbol] = []
    left_out: list[r.DeadSymbol] = []
    for row, verdict in judged(repo_facts(store, repo)):
        if kind is not None and row["kind"] != kind:
            continue
        item: r.DeadSymbol = {**ref(row), "end_line": row["end_line"], "confidence": verdict.confidence,
                              "reason": verdict.reason}
        (left_out if verdict.excluded else reported).append(item)
    excluded = Counter(d["reason"].split(":", 1)[0] for d in left_out)
    return {
        "repo": repo,
        "count": len(reported),
        "symbols": reported[:limit],
        "excluded": dict(sorted(excluded.items())),
        "excluded_symbols": left_out[:limit] if include_excluded else [],
        "truncated": len(reported) > limit or (include_excluded and len(left_out) > limit),
        "note": _note(reported, excluded),
    }


def judged(facts: RepoFacts) -> list[tuple[dict[str, Any], Verdict]]:
    """Every candidate with its verdict, reported ones most certain first, then the left-out ones by file and
    line; judged once per facts (per index run)."""
    if facts.judged is None:
        verdicts = [(row, judge(facts, row)) for row in [*facts.candidates, *facts.unused_classes]]
        verdicts.sort(key=lambda item: (item[1].excluded is not None, -item[1].confidence, item[0]["path"] or "",
                                        item[0]["start_line"] or 0, item[0]["qualified_name"]))
        facts.judged = verdicts
    return facts.judged


def judge(facts: RepoFacts, row: dict[str, Any]) -> Verdict:
    exclusion = excluded_because(facts, row)
    if exclusion is not None:
        return Verdict(exclusion.split(":", 1)[0], 0.0, exclusion)
    confidence, reasons = _base(facts, row)
    outside = _outside_bases(facts, row)
    if outside:
        confidence *= 0.5
        reasons.append(f"its class derives from {', '.join(outside)}, outside the repository: it may override "
                       "a method called there")
    if row["kind"] == CLASS and row["name"].endswith(EXCEPTION_SUFFIXES):
        confidence *= 0.5
        reasons.append("an exception class: raise and except name it without a call the graph keeps")
    unresolved = sum(facts.unresolved[name] for name in _called_names(row))
    if unresolved:
        confidence *= 0.3
        reasons.append(f"{unresolved} unresolved call{'s' if unresolved != 1 else ''} named "
                       f"`{_called_names(row)[0]}` might reach it")
    return Verdict(None, round(confidence, 2), "; ".join(reasons))


def excluded_because(facts: RepoFacts, row: dict[str, Any]) -> str | None:
    """`reason: detail` when the symbol is left out of the list, else None."""
    lang = facts.language(row["path"])
    name, kind = row["name"], row["kind"]
    decorators = row["decorators"] or []
    in_test_file = bool(row["path"]) and conventions.is_test_file(row["path"], lang)
    if kind != CLASS and conventions.is_protocol_method(name, lang):
        return "protocol: called implicitly by the language or its runtime"
    if conventions.is_test_symbol(kind, name, decorators, lang, in_test_file):
        return "test: a test, test hook or fixture by the language's conventions"
    if row["qualified_name"] in facts.scripts:
        return "entry point: a console script of the project"
    if kind == FUNCTION and row["parent_kind"] == "Module" and conventions.is_entry_point(name, lang):
        return f"entry point: `{name}` starts a program in {lang.name}"
    return _by_decorator(decorators, lang) or _by_export(facts, row) or _by_override(facts, row)


def _by_decorator(decorators: list[str], lang: conventions.Language) -> str | None:
    names = [conventions.decorator_name(d) for d in decorators]
    if any(n in lang.stub_decorators for n in names):
        return "overload: a typing stub, never run"
    if any(n in lang.property_decorators for n in names):
        return "property: read as an attribute, which is not a call"
    registering = [d for d, n in zip(decorators, names, strict=True) if n not in lang.plain_decorators]
    if registering:
        return f"decorated: @{registering[0]} may register it (a route, a fixture, a command)"
    return None


def _by_export(facts: RepoFacts, row: dict[str, Any]) -> str | None:
    if exported(facts, row):
        return "exported: part of the module's or package's public API (__all__, a package re-export)"
    return None


def exported(facts: RepoFacts, row: dict[str, Any]) -> bool:
    """Named in its module's __all__ or re-exported by a package; a public method of such a class."""
    name, parent_kind = row["name"], row.get("parent_kind")
    if parent_kind == "Module":
        module = row["qualified_name"].rsplit(".", 1)[0]
        return (name in facts.exports.get(row["path"], ()) or row["qualified_name"] in facts.reexported
                or (f"{module}.*" in facts.reexported and not name.startswith("_")))
    if parent_kind == CLASS and not name.startswith("_"):
        owner = facts.classes.get(row["parent"])
        return owner is not None and exported(facts, owner)
    return False


def _by_override(facts: RepoFacts, row: dict[str, Any]) -> str | None:
    if row["kind"] != METHOD or row.get("parent_kind") != CLASS:
        return None
    for base in facts.ancestors(row["parent"]):
        if (base, row["name"]) in facts.called_base_methods:
            base_name = facts.classes[base]["qualified_name"] if base in facts.classes else base
            return f"override: overrides {base_name}.{row['name']}, which is called"
    return None


def _base(facts: RepoFacts, row: dict[str, Any]) -> tuple[float, list[str]]:
    """The confidence before penalties, and why."""
    name, kind, parent_kind = row["name"], row["kind"], row.get("parent_kind")
    what = {FUNCTION: "function", METHOD: "method", CLASS: "class"}[kind]
    private_module = any(part.startswith("_") for part in row["qualified_name"].split(".")[:-1])
    if parent_kind in (FUNCTION, METHOD):
        return 0.7, [f"no caller: a nested {what} its enclosing function never calls (it may return it)"]
    if name.startswith("_"):
        return (0.7 if kind == CLASS else 0.9), [f"no caller in the repository: a private {what}"]
    if private_module:
        return (0.6 if kind == CLASS else 0.8), ["no caller in the repository: public, in a private module"]
    if kind == CLASS:
        return 0.5, ["no subclass and no method called from outside it: public, and classes are also used by "
                     "isinstance and annotations, which the graph does not keep"]
    return (0.6 if kind == FUNCTION else 0.5), [f"no caller in the repository: a public {what}, which code "
                                                "outside the repository may call"]


def _outside_bases(facts: RepoFacts, row: dict[str, Any]) -> list[str]:
    """The bases of a method's class (a class's own) that are not classes of the repository."""
    class_row = row if row["kind"] == CLASS else facts.classes.get(row.get("parent") or "")
    if class_row is None or row["kind"] == CLASS:
        return []
    inside = facts.base_names.get(class_row["id"], set())
    return [b for b in base_names(class_row.get("signature") or "") if b not in inside and b != "object"]


def base_names(signature: str) -> list[str]:
    """The last names of a class statement's positional bases: `class A(b.C, D[T])` -> [C, D]."""
    try:
        tree = ast.parse(signature.rstrip("…") + ": pass")
    except SyntaxError:
        return []
    node = tree.body[0] if tree.body else None
    if not isinstance(node, ast.ClassDef):
        return []
    names = []
    for base in node.bases:
        expr = base.value if isinstance(base, ast.Subscript) else base
        if isinstance(expr, ast.Attribute):
            names.append(expr.attr)
        elif isinstance(expr, ast.Name):
            names.append(expr.id)
    return names


def _called_names(row: dict[str, Any]) -> list[str]:
    return [row["name"]]


def _note(reported: list[r.DeadSymbol], excluded: Counter[str]) -> str:
    sure = sum(1 for d in reported if d["confidence"] >= 0.8)
    left = ", ".join(f"{n} {reason}" for reason, n in sorted(excluded.items())) or "none"
    return (f"{len(reported)} symbols with no caller or reference in the repository ({sure} with confidence 0.8 "
            f"or more); left out: {left}")
