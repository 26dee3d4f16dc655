"""Reading a repository's whole graph back, for comparisons in tests."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from indexer.store import GraphStore


def snapshot(store: GraphStore, repo: str) -> dict[str, Any]:
    """Every node (id, labels, key properties) and relationship (type, from id, to id) of a repository."""
    nodes = store.read(
        "MATCH (n:Code) WHERE n.repo = $repo RETURN n.id AS id, labels(n) AS labels, n.kind AS kind, "
        "n.qualified_name AS qname, n.path AS path, n.start_line AS start, n.end_line AS end, n.sha AS sha",
        repo=repo,
    )
    rels = store.read(
        "MATCH (a:Code)-[x]->(b:Code) WHERE a.repo = $repo RETURN type(x) AS t, a.id AS a, b.id AS b", repo=repo
    )
    repo_rels = store.read(
        "MATCH (r:Repository {id: $repo})-[x]->(b) RETURN type(x) AS t, b.id AS b", repo=repo
    )
    return {
        "nodes": sorted((n["id"], tuple(sorted(n["labels"])), n["kind"], n["qname"], n["path"], n["start"],
                         n["end"], n["sha"]) for n in nodes),
        "relationships": sorted((r["t"], r["a"], r["b"]) for r in rels),
        "repository": sorted((r["t"], r["b"]) for r in repo_rels),
    }


def comparable(store: GraphStore, repo: str) -> dict[str, Any]:
    """`snapshot` with the repository id cut from every node id, so graphs indexed under two ids compare equal.
    Fails on a duplicate relationship (a set of edges is what indexing promises)."""
    graph = snapshot(store, repo)
    assert len(graph["relationships"]) == len(set(graph["relationships"])), "duplicate relationships"

    def strip(node_id: str) -> str:
        return node_id.removeprefix(f"{repo}:")

    return {
        "nodes": sorted((strip(n[0]), *n[1:]) for n in graph["nodes"]),
        "relationships": sorted((t, strip(a), strip(b)) for t, a, b in graph["relationships"]),
        "repository": sorted((t, strip(b)) for t, b in graph["repository"]),
    }


def edges_by_name(store: GraphStore, repo: str, rel: str) -> list[tuple[str, str]]:
    rows = store.read(
        f"MATCH (a:Code)-[:{rel}]->(b:Code) WHERE a.repo = $repo "
        "RETURN a.qualified_name AS a, b.qualified_name AS b",
        repo=repo,
    )
    return sorted((r["a"], r["b"]) for r in rows)


def names_of(store: GraphStore, repo: str, kind: str) -> list[str]:
    rows = store.read("MATCH (n:Code) WHERE n.repo = $repo AND n.kind = $kind RETURN n.qualified_name AS q",
                      repo=repo, kind=kind)
    return sorted(r["q"] for r in rows)


def graph_multiset(store: GraphStore, repo: str) -> dict[str, Counter]:
    """A repository's whole graph as multisets, with the repository id cut from ids and properties, so that an
    incremental, concurrent, cancelled or faulty run can be compared with a clean index of the same tree under
    another id: nodes (labels and every property) and relationships (type, ends, properties), counted with
    multiplicity, so a duplicated edge shows."""
    def strip(value: Any) -> Any:
        if isinstance(value, str):
            return "<repo>" if value == repo else value.removeprefix(f"{repo}:")
        if isinstance(value, list):
            return tuple(strip(v) for v in value)
        return value

    def props(values: dict[str, Any]) -> tuple:
        return tuple(sorted((k, strip(v)) for k, v in values.items() if k not in ("repo", "indexed_at")))

    nodes = store.read(
        "MATCH (n) WHERE n.repo = $repo OR (n:Repository AND n.id = $repo) RETURN labels(n) AS labels, "
        "properties(n) AS props", repo=repo)
    rels = store.read(
        "MATCH (a)-[x]->(b) WHERE a.repo = $repo OR (a:Repository AND a.id = $repo) "
        "RETURN type(x) AS t, a.id AS a, b.id AS b, properties(x) AS props", repo=repo)
    node_set: Counter = Counter()
    for n in nodes:
        labels = tuple(sorted(n["labels"]))
        values = {k: v for k, v in n["props"].items() if not ("Repository" in labels and k in ("id", "name", "root"))}
        if "state" in values:  # the run's generation names the run, not the graph
            state = json.loads(values["state"])
            state.pop("generation", None)
            values["state"] = json.dumps(state, sort_keys=True)
        node_set[(labels, props(values))] += 1
    rel_set: Counter = Counter((r["t"], strip(r["a"]), strip(r["b"]), props(r["props"])) for r in rels)
    return {"nodes": node_set, "relationships": rel_set}


def assert_same_graph(store: GraphStore, repo: str, clean: str) -> None:
    """The one correctness criterion: `repo`'s graph equals the clean index `clean` of the same tree."""
    got, want = graph_multiset(store, repo), graph_multiset(store, clean)
    for part in ("nodes", "relationships"):
        missing, extra = want[part] - got[part], got[part] - want[part]
        assert not missing and not extra, (
            f"{part} differ from a clean index: missing {sorted(missing.items())[:5]} ({sum(missing.values())}), "
            f"extra {sorted(extra.items())[:5]} ({sum(extra.values())})")
