"""impact: everything that depends on a symbol, nearest first.

What depends on a symbol:
- its callers, and theirs, up to `depth` calls away (code that passes it as an argument, a callback, counts
  as a caller: `references`);
- for a method, the callers of the base-class methods it overrides (a call of the base method may run it:
  `dispatch`), and the methods that override it in subclasses (`overrides`);
- for a class, the callers of its methods (its constructor too) and its subclasses (`inherits`);
- the modules that import its module (`imports`); for a module, its importers up to `depth` imports away.

Only edges the graph holds are followed; the calls carrying the symbol's name that could not be resolved are
reported beside them (`unresolved`), so that a short list is never a silent guess.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from .. import results as r
from ..models import CLASS, FUNCTION, METHOD, MODULE
from ..store import queries
from ..store.graph import GraphStore
from . import lookup
from .common import MAX_DEPTH, MAX_LIMIT, TestCode, check_range, ref

DEFAULT_DEPTH = 3
MAX_DEPENDENTS = 3000  # the search stops widening beyond this many dependents (`truncated`)
LISTED = 50  # qualified names listed per depth or file group
KINDS = (MODULE, CLASS, FUNCTION, METHOD)


@dataclass
class Found:
    """Dependents by id (nearest first), and whether the search stopped at its bound."""

    dependents: dict[str, r.Dependent] = field(default_factory=dict)
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> the node's fields
    modules: dict[str, str] = field(default_factory=dict)  # path -> the qualified name of its module
    truncated: bool = False
    inside: set[tuple[str | None, str]] = field(default_factory=set)  # (path, qualified-name prefix) of the
    #                                      roots' own parts: methods and nested functions are not dependents


def impact(store: GraphStore, name: str, repo: str | None = None, depth: int = DEFAULT_DEPTH,
           limit: int = 100) -> r.Impact:
    check_range("depth", depth, 1, MAX_DEPTH)
    check_range("limit", limit, 1, MAX_LIMIT)
    target = queries.resolve_symbol(store, name, repo, kinds=KINDS)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="graphdex-unresolved") as pool:
        # a scan of the repository's nodes, independent of the search: asked for meanwhile, on its own session
        unresolved = pool.submit(queries.unresolved_calls_named, store, target["repo"], names_of(target))
        found = search(store, target["repo"], [dict(target)], depth)
    dependents = list(found.dependents.values())
    return {
        "symbol": target,
        "depth": depth,
        "count": len(dependents),
        "dependents": dependents[:limit],
        "by_depth": by_depth(dependents),
        "by_file": by_file(dependents),
        "tests": sorted(d["qualified_name"] for d in dependents if d["is_test"]),
        "risk": risk(dependents, found.modules),
        "unresolved": unresolved.result(),
        "truncated": found.truncated or len(dependents) > limit,
    }


def names_of(target: dict[str, Any] | r.SymbolInfo) -> list[str]:
    """The names calls of this symbol are written with (a class: its own name; a constructor: its class's)."""
    if target["kind"] == MODULE:
        return []
    return queries.called_names(target)


def search(store: GraphStore, repo: str, roots: list[dict[str, Any]], depth: int) -> Found:
    """Everything that depends on any of `roots` within `depth` steps (roots and their own parts excluded)."""
    found = Found(inside={(root["path"], f"{root['qualified_name']}.") for root in roots if root["kind"] != MODULE})
    own: set[str] = {root["id"] for root in roots}  # the roots and what they are made of: never dependents
    seeds: dict[str, str] = {}  # id -> "calls" or "dispatch": whose callers are depth-1 dependents
    structural: list[tuple[dict[str, Any], int, str]] = []  # (row, depth, via)
    for root in roots:
        _expand_root(store, repo, root, depth, own, seeds, structural)
    for row, level, via in sorted(structural, key=lambda s: s[1]):
        _add(found, row, level, via, own)
    _follow_calls(store, seeds, depth, own, found)
    files = lookup.file_facts(store, repo, (d["path"] for d in found.dependents.values() if d["path"]))
    _mark_tests(found, files)
    found.modules = {path: module for path, (_, module) in files.items()}
    found.dependents = dict(sorted(found.dependents.items(),
                                   key=lambda item: (item[1]["depth"], item[1]["qualified_name"], item[0])))
    return found


def _expand_root(store: GraphStore, repo: str, root: dict[str, Any], depth: int, own: set[str],
                 seeds: dict[str, str], structural: list[tuple[dict[str, Any], int, str]]) -> None:
    kind = root["kind"]
    if kind == MODULE:
        structural.extend(_importers(store, [root["id"]], depth))
        return
    seeds.setdefault(root["id"], "calls")
    if kind == CLASS:
        for method in lookup.methods(store, [root["id"]]):
            own.add(method["id"])
            seeds.setdefault(method["id"], "calls")
        structural.extend((row, row["distance"], "inherits")
                          for row in lookup.related_classes(store, root["id"], depth, down=True))
    elif kind == METHOD:
        _expand_method(store, root, depth, seeds, structural)
    module = lookup.module_of(store, repo, root.get("path"))
    if module is not None:
        own.add(module["id"])
        structural.extend(_importers(store, [module["id"]], 1))


def _expand_method(store: GraphStore, method: dict[str, Any], depth: int, seeds: dict[str, str],
                   structural: list[tuple[dict[str, Any], int, str]]) -> None:
    owner = lookup.owner_class(store, method["id"])
    if owner is None:
        return
    below = [row["id"] for row in lookup.related_classes(store, owner, depth, down=True)]
    structural.extend((row, 1, "overrides") for row in lookup.methods(store, below, method["name"]))
    above = [row["id"] for row in lookup.related_classes(store, owner, MAX_DEPTH, down=False)]
    for base in lookup.methods(store, above, method["name"]):
        seeds.setdefault(base["id"], "dispatch")


def _importers(store: GraphStore, module_ids: list[str], depth: int) -> list[tuple[dict[str, Any], int, str]]:
    out: list[tuple[dict[str, Any], int, str]] = []
    seen = set(module_ids)
    frontier = module_ids
    for level in range(1, depth + 1):
        rows = [row for row in lookup.importers(store, frontier) if row["id"] not in seen]
        seen.update(row["id"] for row in rows)
        out.extend((row, level, "imports") for row in rows)
        frontier = sorted({row["id"] for row in rows})
        if not frontier:
            break
    return out


def _follow_calls(store: GraphStore, seeds: dict[str, str], depth: int, own: set[str], found: Found) -> None:
    """Callers of the seeds, then theirs, a level per query."""
    frontier = dict(seeds)
    for level in range(1, depth + 1):
        if not frontier or found.truncated:
            return
        reached: dict[str, tuple[dict[str, Any], str]] = {}
        for row in lookup.callers_of(store, frontier, references=True):
            via = frontier.get(row["callee"], "calls") if level == 1 else "calls"
            via = "references" if row["type"] == "REFERENCES" else via
            known = reached.get(row["id"])
            if known is None or (via == "calls" and known[1] == "dispatch"):
                reached[row["id"]] = (row, via)
        frontier = {}
        for node_id, (row, via) in sorted(reached.items()):
            if _add(found, row, level, via, own):
                frontier[node_id] = "calls"
        found.truncated = found.truncated or len(found.dependents) >= MAX_DEPENDENTS


def _add(found: Found, row: dict[str, Any], level: int, via: str, own: set[str]) -> bool:
    """Record a dependent first reached at this level; False if it is known already, or one of the roots."""
    node_id = row["id"]
    if node_id in own or node_id in found.dependents or _inside(found, row):
        return False
    found.dependents[node_id] = {**ref(row), "depth": level, "via": via, "is_test": False}
    found.rows[node_id] = row
    return True


def _inside(found: Found, row: dict[str, Any]) -> bool:
    return any(row["path"] == path and row["qualified_name"].startswith(prefix) for path, prefix in found.inside)


def _mark_tests(found: Found, files: dict[str, tuple[str | None, str]]) -> None:
    judge = TestCode({path: language for path, (language, _) in files.items()})
    for node_id, dependent in found.dependents.items():
        dependent["is_test"] = judge.is_test(found.rows[node_id])


# ------------------------------------------------------------------------------------------------ summaries


def by_depth(dependents: list[r.Dependent]) -> list[r.DepthGroup]:
    groups: dict[int, list[str]] = defaultdict(list)
    for d in dependents:
        groups[d["depth"]].append(d["qualified_name"])
    return [{"depth": level, "count": len(names), "symbols": sorted(names)[:LISTED]}
            for level, names in sorted(groups.items())]


def by_file(dependents: list[r.Dependent]) -> list[r.FileGroup]:
    groups: dict[str, list[r.Dependent]] = defaultdict(list)
    for d in dependents:
        groups[d["path"] or ""].append(d)
    ordered = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
    return [{"path": path, "count": len(items), "is_test": all(d["is_test"] for d in items),
             "symbols": sorted(d["qualified_name"] for d in items)[:LISTED]} for path, items in ordered]


def _counted(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}es" if noun.endswith("s") else f"{n} {noun}s"


def risk(dependents: list[r.Dependent], modules_by_path: dict[str, str]) -> r.Risk:
    """How far a change reaches: `low` (at most 3 files and 10 symbols), `high` (more than 20 files or 100
    symbols), else `medium`; counts of symbols, files, modules and tests, and one sentence."""
    files = {d["path"] for d in dependents if d["path"]}
    modules = {modules_by_path.get(path, path) for path in files}
    tests = sum(1 for d in dependents if d["is_test"])
    symbols = len(dependents)
    if len(files) <= 3 and symbols <= 10:
        level = "low"
    elif len(files) > 20 or symbols > 100:
        level = "high"
    else:
        level = "medium"
    kinds = Counter(d["kind"] for d in dependents)
    what = ", ".join(_counted(n, k.lower()) for k, n in sorted(kinds.items())) or "nothing"
    summary = (f"{level} risk: {symbols} dependent{'s' if symbols != 1 else ''} ({what}) in {len(files)} "
               f"file{'s' if len(files) != 1 else ''}, {tests} test{'s' if tests != 1 else ''} among them")
    return {"level": level, "symbols": symbols, "files": len(files), "modules": len(modules), "tests": tests,
            "summary": summary}
