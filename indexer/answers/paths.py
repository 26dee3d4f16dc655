"""call_path: how one symbol reaches another through calls: the shortest chains first, each hop with its file and
the line of the call.

The search goes both ways at once (what the source calls, what calls the target), a level per query, always
widening the smaller side, until the two depths add up to `max_depth`: every chain of at most that length is
then made of edges it has seen. Chains are enumerated over those edges in order of length (a best-first search
guided by each node's exact distance to the target), simple (no symbol twice), at most `k`.

A CALLS edge does not keep its call sites' lines, so each hop's line is found in the caller's source: the first
line in the caller that calls the callee's name (its class's name for a constructor); when none does (a call
through an alias or an argument), the caller's first line, and `line_is_call` is false.
"""

from __future__ import annotations

import heapq
import re
from collections import defaultdict, deque
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from .. import results as r
from ..models import CLASS, FUNCTION, METHOD, MODULE
from ..source import source_lines
from ..store import queries
from ..store.graph import GraphStore
from . import lookup
from .common import MAX_DEPTH, check_range

MAX_K = 20
FRONTIER_BOUND = 4000  # a side whose frontier grows past this stops widening (the note says so)

Edges = dict[str, dict[str, tuple[str, str]]]  # caller -> callee -> (provenance, condition)


def call_path(store: GraphStore, source: str, target: str, repo: str | None = None, max_depth: int = MAX_DEPTH,
              k: int = 3) -> r.CallPaths:
    check_range("max_depth", max_depth, 1, 10)
    check_range("k", k, 1, MAX_K)
    start = queries.resolve_symbol(store, source, repo, kinds=(MODULE, CLASS, FUNCTION, METHOD))
    goal = queries.resolve_symbol(store, target, repo or start["repo"], kinds=(FUNCTION, METHOD))
    edges, bounded = explore(store, start["id"], goal["id"], max_depth)
    chains = shortest_chains(edges, start["id"], goal["id"], max_depth, k)
    paths = _described(store, start["repo"], chains, edges)
    return {"source": start, "target": goal, "max_depth": max_depth, "count": len(paths), "paths": paths,
            "note": _note(start, goal, paths, max_depth, bounded)}


def explore(store: GraphStore, source: str, target: str, max_depth: int) -> tuple[Edges, bool]:
    """The CALLS edges of every chain from source to target of at most max_depth calls (and others seen on the
    way); True when a frontier outgrew its bound and the search may have missed chains."""
    edges: Edges = defaultdict(dict)
    ahead, behind = {source}, {target}  # the frontiers
    seen_ahead, seen_behind = {source}, {target}
    depth_ahead = depth_behind = 0
    bounded = False
    while depth_ahead + depth_behind < max_depth and ahead and behind:
        if len(ahead) <= len(behind):
            rows = lookup.callees_of(store, ahead)
            ahead = _grow(rows, "id", seen_ahead)
            depth_ahead += 1
        else:
            rows = lookup.callers_of(store, behind)
            behind = _grow(rows, "id", seen_behind)
            depth_behind += 1
        for row in rows:
            caller, callee = (row["caller"], row["id"]) if "caller" in row else (row["id"], row["callee"])
            edges[caller][callee] = (row["provenance"] or "", row["condition"] or "")
        if len(ahead) > FRONTIER_BOUND or len(behind) > FRONTIER_BOUND:
            bounded = True
            break
    return edges, bounded


def _grow(rows: list[dict[str, Any]], key: str, seen: set[str]) -> set[str]:
    new = {row[key] for row in rows} - seen
    seen.update(new)
    return new


def shortest_chains(edges: Edges, source: str, target: str, max_depth: int, k: int) -> list[list[str]]:
    """Up to k simple chains source -> ... -> target of at most max_depth calls, shortest first (ties by ids)."""
    distance = _distances_to(edges, target, max_depth)
    if source not in distance:
        return []
    found: list[list[str]] = []
    heap: list[tuple[int, tuple[str, ...]]] = [(distance[source], (source,))]
    while heap and len(found) < k:
        _, chain = heapq.heappop(heap)
        last = chain[-1]
        if last == target:
            found.append(list(chain))
            continue
        for callee in edges.get(last, {}):
            if callee in distance and callee not in chain and len(chain) + distance[callee] <= max_depth:
                heapq.heappush(heap, (len(chain) + distance[callee], (*chain, callee)))
    return found


def _distances_to(edges: Edges, target: str, max_depth: int) -> dict[str, int]:
    """Each node's fewest calls to the target, over these edges (within max_depth)."""
    callers: dict[str, list[str]] = defaultdict(list)
    for caller, callees in edges.items():
        for callee in callees:
            callers[callee].append(caller)
    distance = {target: 0}
    queue = deque([target])
    while queue:
        node = queue.popleft()
        if distance[node] == max_depth:
            continue
        for caller in callers[node]:
            if caller not in distance:
                distance[caller] = distance[node] + 1
                queue.append(caller)
    return distance


def _described(store: GraphStore, repo: str, chains: list[list[str]], edges: Edges) -> list[r.CallChain]:
    info = lookup.nodes(store, (node for chain in chains for node in chain))
    root = lookup.repository_root(store, repo) if chains else ""
    out: list[r.CallChain] = []
    for chain in chains:
        hops = [_hop(root, info[a], info[b], edges[a][b]) for a, b in zip(chain, chain[1:], strict=False)]
        out.append({"length": len(hops), "symbols": [info[n]["qualified_name"] for n in chain], "hops": hops})
    return out


def _hop(root: str, caller: dict[str, Any], callee: dict[str, Any], how: tuple[str, str]) -> r.Hop:
    provenance, condition = how
    line = call_line(root, caller, _names_called(callee, provenance))
    return {"caller": caller["qualified_name"], "callee": callee["qualified_name"], "path": caller["path"],
            "line": line or caller["start_line"], "line_is_call": line is not None, "provenance": provenance,
            "condition": condition}


def _names_called(callee: dict[str, Any], provenance: str) -> list[str]:
    names = [callee["name"]]
    if provenance == "constructor" or callee["name"] in ("__init__", "__new__"):
        names.insert(0, callee["qualified_name"].split(".")[-2])
    return names


def call_line(root: str, caller: dict[str, Any], names: Iterable[str]) -> int | None:
    """The first line of the caller's source that calls one of `names` (`name(`), else one that names it."""
    lines = _lines(root, caller["path"]) if caller.get("path") else None
    if not lines:
        return None
    first = caller["start_line"] or 1
    last = min(caller["end_line"] or len(lines), len(lines))
    for pattern in _patterns(tuple(names)):
        for number in range(first, last + 1):
            if pattern.search(lines[number - 1]):
                return number
    return None


@lru_cache(maxsize=256)
def _patterns(names: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    words = "|".join(re.escape(n) for n in names)
    return re.compile(rf"(?<![\w.]def )\b(?:{words})\s*\("), re.compile(rf"\b(?:{words})\b")


def _lines(root: str, path: str) -> list[str] | None:
    try:
        return source_lines(root, path)
    except (OSError, ValueError):
        return None


def _note(start: r.SymbolInfo, goal: r.SymbolInfo, paths: list[r.CallChain], max_depth: int,
          bounded: bool) -> str:
    if paths:
        note = (f"{len(paths)} chain{'s' if len(paths) != 1 else ''} from {start['qualified_name']} to "
                f"{goal['qualified_name']}, the shortest of {paths[0]['length']} call"
                f"{'s' if paths[0]['length'] != 1 else ''}")
    else:
        note = (f"no chain of resolved calls from {start['qualified_name']} to {goal['qualified_name']} within "
                f"{max_depth} calls; unresolved calls (see callers / impact) may still connect them")
    if bounded:
        note += f"; the search stopped widening past {FRONTIER_BOUND} symbols on one side, so chains may be missing"
    return note
