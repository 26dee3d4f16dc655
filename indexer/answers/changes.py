"""detect_changes: the symbols a working tree's diff touches, and what depends on them.

`git diff` against a base revision (default HEAD; untracked files too) gives changed line ranges, which are
mapped onto the graph's `start_line`/`end_line`: each changed line belongs to the innermost symbol that holds
it (a method, not its class; a module's own code, such as its imports, to its Module). A deleted or new file
changes everything in it. Each changed symbol's impact is measured as `impact` measures it, and everything the
changes reach together is summed up in `affected`.

The graph describes the tree as it was last indexed: a changed file whose content differs from what was
indexed is marked `stale`, and its symbols' lines may have moved since (index again for exact answers).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import results as r
from ..store.graph import GraphStore
from . import gitdiff, impact, lookup
from .common import MAX_DEPTH, MAX_LIMIT, TestCode, check_range, ref

DEFAULT_DEPTH = 2
PER_SYMBOL = 50  # changed symbols whose own impact is measured one by one (the rest only count together)


def detect_changes(store: GraphStore, repo: str, base: str = "HEAD", depth: int = DEFAULT_DEPTH,
                   limit: int = 100) -> r.Changes:
    check_range("depth", depth, 1, MAX_DEPTH)
    check_range("limit", limit, 1, MAX_LIMIT)
    root = lookup.repository_root(store, repo)
    diffs = gitdiff.changed_files(Path(root), base)
    hashes = lookup.file_hashes(store, repo, [d.path for d in diffs])
    files = [_file_change(Path(root), d, hashes) for d in diffs]
    symbols = lookup.symbols_in_files(store, repo, [d.path for d in diffs if d.path in hashes])
    changed_rows = changed_symbols(symbols, diffs, _BlankLines(Path(root)))
    together = impact.search(store, repo, [row for row, _ in changed_rows], depth)
    judge = TestCode.read(store, repo, (row["path"] for row, _ in changed_rows))
    changed = [_changed(store, repo, row, ranges, depth, n < PER_SYMBOL) for n, (row, ranges)
               in enumerate(changed_rows)]
    dependents = list(together.dependents.values())
    tests = sorted({row["qualified_name"] for row, _ in changed_rows if judge.is_test(row)}
                   | {d["qualified_name"] for d in dependents if d["is_test"]})
    return {
        "repo": repo, "root": root, "base": base, "files": files, "changed": changed,
        "affected": impact.risk(dependents, together.modules),
        "affected_symbols": dependents[:limit], "tests": tests, "depth": depth,
        "note": _note(files, changed, dependents),
    }


METRICS = ("symbols", "files", "modules", "tests")


def changed_files_of(root: Path, base: str = "HEAD") -> list[dict[str, Any]]:
    """The changed files of a git working tree (no graph needed): path, status and line ranges."""
    return [{"path": d.path, "status": d.status, "ranges": d.ranges} for d in gitdiff.changed_files(root, base)]


def over_threshold(result: r.Changes, metric: str, limit: int) -> bool:
    """Whether the changes reach more than `limit` dependent symbols, files, modules or tests (a pre-commit or
    CI gate: `graphdex changes --fail-over N`)."""
    return result["affected"][metric] > limit  # type: ignore[literal-required]


class _BlankLines:
    """Whether lines of a working-tree file are all blank: blank lines between symbols change no module."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: dict[str, list[bytes]] = {}

    def __call__(self, path: str, first: int, last: int) -> bool:
        if path not in self.files:
            try:
                self.files[path] = (self.root / path).read_bytes().split(b"\n")
            except OSError:
                self.files[path] = []
        lines = self.files[path][first - 1:last]
        return bool(lines) and all(not line.strip() for line in lines)


def changed_symbols(symbols: list[dict[str, Any]], diffs: list[gitdiff.FileDiff],
                    blank: Callable[[str, int, int], bool] = lambda path, first, last: False,
                    ) -> list[tuple[dict[str, Any], list[list[int]]]]:
    """(symbol, its changed ranges) for the innermost symbols holding changed lines, in file and line order;
    blank lines that only a module holds are no change of it."""
    by_path: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in symbols:
        by_path[row["path"]].append(row)
    out: list[tuple[dict[str, Any], list[list[int]]]] = []
    for diff in diffs:
        rows = by_path.get(diff.path, [])
        if diff.whole:
            out += [(row, [[row["start_line"], row["end_line"]]]) for row in rows if row["kind"] == "Module"]
            continue
        touched: dict[str, list[list[int]]] = defaultdict(list)
        for first, last in diff.ranges:
            for segment_first, segment_last, row in _segments(rows, first, last):
                if row["kind"] == "Module" and blank(diff.path, segment_first, segment_last):
                    continue
                touched[row["id"]].append([segment_first, segment_last])
        found = {row["id"]: row for row in rows}
        out += [(found[i], ranges) for i, ranges in sorted(touched.items(), key=lambda t: _position(found[t[0]]))]
    return out


def _segments(rows: list[dict[str, Any]], first: int, last: int) -> list[tuple[int, int, dict[str, Any]]]:
    """[first, last] cut where symbols begin and end, each piece with the innermost symbol holding it."""
    cuts = {first, last + 1}
    for row in rows:
        for point in (row["start_line"], row["end_line"] + 1):
            if first < point <= last:
                cuts.add(point)
    points = sorted(cuts)
    pieces: list[tuple[int, int, dict[str, Any]]] = []
    for start, end in zip(points, points[1:], strict=False):
        holder = _innermost(rows, start)
        if holder is None:
            continue
        if pieces and pieces[-1][2]["id"] == holder["id"] and pieces[-1][1] == start - 1:
            pieces[-1] = (pieces[-1][0], end - 1, holder)
        else:
            pieces.append((start, end - 1, holder))
    return pieces


def _innermost(rows: list[dict[str, Any]], line: int) -> dict[str, Any] | None:
    holding = [row for row in rows if row["start_line"] <= line <= row["end_line"]]
    if not holding:
        return None
    return min(holding, key=lambda row: (row["end_line"] - row["start_line"], row["kind"] == "Module"))


def _position(row: dict[str, Any]) -> tuple[int, int]:
    return row["start_line"] or 0, row["end_line"] or 0


def _changed(store: GraphStore, repo: str, row: dict[str, Any], ranges: list[list[int]], depth: int,
             measured: bool) -> r.ChangedSymbol:
    found = impact.search(store, repo, [row], depth) if measured else None
    dependents = list(found.dependents.values()) if found is not None else []
    return {**ref(row), "end_line": row["end_line"], "changed_lines": ranges,
            "dependents": len(dependents) if found is not None else -1,
            "files": len({d["path"] for d in dependents if d["path"]}) if found is not None else -1,
            "tests": sorted(d["qualified_name"] for d in dependents if d["is_test"]),
            "risk": impact.risk(dependents, found.modules)["level"] if found is not None else "unmeasured"}


def _file_change(root: Path, diff: gitdiff.FileDiff, hashes: dict[str, str | None]) -> r.FileChange:
    indexed = diff.path in hashes
    current = _content_hash(root / diff.path)
    stale = indexed and current != hashes[diff.path] if diff.status != "deleted" else indexed
    lines = [[1, _line_count(root / diff.path)]] if diff.whole and diff.status != "deleted" else \
        [list(r) for r in diff.ranges]
    return {"path": diff.path, "status": diff.status, "lines": lines, "indexed": indexed, "stale": bool(stale)}


def _content_hash(path: Path) -> str | None:
    """The hash discovery gives a file (pipeline/discover.py), to tell whether the graph has this content."""
    try:
        return hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()
    except OSError:
        return None


def _line_count(path: Path) -> int:
    try:
        return max(len(path.read_bytes().splitlines()), 1)
    except OSError:
        return 1


def _note(files: list[r.FileChange], changed: list[r.ChangedSymbol], dependents: list[r.Dependent]) -> str:
    if not files:
        return "no changes against the base revision"
    stale = [f["path"] for f in files if f["stale"]]
    unindexed = [f["path"] for f in files if not f["indexed"] and f["status"] != "deleted"]
    parts = [f"{len(files)} changed file{'s' if len(files) != 1 else ''}, {len(changed)} changed symbol"
             f"{'s' if len(changed) != 1 else ''}, {len(dependents)} dependent{'s' if len(dependents) != 1 else ''}"]
    if stale:
        parts.append(f"indexed before these changes (index again for exact lines): {', '.join(stale[:5])}"
                     + (f" and {len(stale) - 5} more" if len(stale) > 5 else ""))
    if unindexed:
        parts.append(f"not in the graph: {', '.join(unindexed[:5])}" + (f" and {len(unindexed) - 5} more"
                                                                         if len(unindexed) > 5 else ""))
    return "; ".join(parts)
