"""What the graph holds of a repository, as the pipeline's stages need it: hashes, edges, chunks, counts."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..models import CODE_KINDS, EDGE_TYPES, REPOSITORY, Edge, Rel
from .graph import GraphStore


def repository(store: GraphStore, repo: str) -> dict[str, Any] | None:
    rows = store.read("MATCH (r:Repository {id: $repo}) RETURN r {.*} AS r", repo=repo)
    return rows[0]["r"] if rows else None


def file_hashes(store: GraphStore, repo: str) -> dict[str, str | None]:
    """path -> stamped content hash (None: written but not finished, so redone next run)."""
    rows = store.read("MATCH (f:File) WHERE f.repo = $repo RETURN f.path AS path, f.sha AS sha", repo=repo)
    return {r["path"]: r["sha"] for r in rows}


def existing_edges(store: GraphStore, repo: str) -> Counter[Edge]:
    """The resolved edges leaving this repository's nodes, with multiplicity (a duplicate shows as 2) and the
    CALLS properties, so they compare as whole Edge values with what resolution wants (a changed provenance or
    condition is a delete and a create)."""
    types = "|".join(EDGE_TYPES)
    rows = store.read(
        f"MATCH (a:Code)-[x:{types}]->(b:Code) WHERE a.repo = $repo "
        "RETURN type(x) AS t, a.id AS a, b.id AS b, x.provenance AS p, x.condition AS c, "
        "coalesce(x.relation, '') AS relation",
        repo=repo,
    )
    return Counter(Edge(Rel(r["t"]), r["a"], r["b"], provenance=r["p"] or "", condition=r["c"] or "",
                        relation=r["relation"]) for r in rows)


def unresolved_calls(store: GraphStore, repo: str) -> dict[str, list[str]]:
    """node id -> its stored `unresolved_calls` (issue 13), for the nodes that have one."""
    rows = store.read(
        "MATCH (n:Code) WHERE n.repo = $repo AND n.unresolved_calls IS NOT NULL "
        "RETURN n.id AS id, n.unresolved_calls AS calls",
        repo=repo,
    )
    return {r["id"]: list(r["calls"]) for r in rows}


def external_module_ids(store: GraphStore, repo: str) -> set[str]:
    rows = store.read("MATCH (n:ExternalModule) WHERE n.repo = $repo RETURN n.id AS id", repo=repo)
    return {r["id"] for r in rows}


def chunk_state(store: GraphStore, repo: str) -> dict[str, tuple[str | None, int | None, int]]:
    """Per path: (model, dimensions, chunk count) of the repository's stored chunks."""
    rows = store.read(
        "MATCH (c:Chunk) WHERE c.repo = $repo "
        "RETURN c.path AS path, c.model AS model, c.dimensions AS dims, count(*) AS n",
        repo=repo,
    )
    state: dict[str, tuple[str | None, int | None, int]] = {}
    for r in rows:
        model, dims, n = state.get(r["path"], (r["model"], r["dims"], 0))
        if (model, dims) != (r["model"], r["dims"]):
            model = None  # mixed models in one file: treated as stale
        state[r["path"]] = (model, dims, n + r["n"])
    return state


def languages(store: GraphStore, repo: str) -> dict[str, dict[str, int]]:
    """Per File.language: files, and the Class / Function / Method nodes defined in them."""
    files = store.read("MATCH (f:File) WHERE f.repo = $repo RETURN f.language AS language, count(*) AS c", repo=repo)
    symbols = store.read(
        "MATCH (f:File) WHERE f.repo = $repo WITH f.path AS path, f.language AS language "
        "MATCH (n:Code {path: path}) WHERE n.repo = $repo AND n.kind IN ['Class', 'Function', 'Method'] "
        "RETURN language, n.kind AS kind, count(*) AS c", repo=repo)
    out: dict[str, dict[str, int]] = {}
    for row in files:
        out.setdefault(row["language"] or "python", {})["files"] = row["c"]
    for row in symbols:
        out.setdefault(row["language"] or "python", {})[row["kind"]] = row["c"]
    return dict(sorted(out.items()))


def counts(store: GraphStore, repo: str) -> tuple[dict[str, int], dict[str, int]]:
    """Nodes by kind and relationships by type of one repository (its Repository node and links included)."""
    nodes = store.read("MATCH (n:Code) WHERE n.repo = $repo RETURN n.kind AS kind, count(*) AS c", repo=repo)
    rels = store.read("MATCH (a:Code)-[x]->() WHERE a.repo = $repo RETURN type(x) AS t, count(*) AS c", repo=repo)
    repo_links = store.read("MATCH (:Repository {id: $repo})-[x:CONTAINS]->() RETURN count(x) AS c", repo=repo)
    node_counts = {r["kind"]: r["c"] for r in nodes if r["kind"] in CODE_KINDS}
    node_counts[REPOSITORY.value] = 1 if repository(store, repo) else 0
    rel_counts = {r["t"]: r["c"] for r in rels}
    rel_counts["CONTAINS"] = rel_counts.get("CONTAINS", 0) + repo_links[0]["c"]
    return dict(sorted(node_counts.items())), dict(sorted(rel_counts.items()))
