"""The Cypher of every write, and the rows it takes: node batches of changed files, edges, deletions.

Every statement is an UNWIND over rows and every transaction function is safe to retry: `execute_write` re-runs
it after transient errors (deadlocks, leader switches, page conflicts) with the driver's bounded backoff.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from neo4j import ManagedTransaction

from ..models import CALLS, CODE_KINDS, CONTAINS, EDGE_TYPES, FILE, INHERITS, MODULE, Edge, FileFacts, Kind, Rel

# Labels can't be parameters in Cypher, so there is one statement per label (all from this fixed set).
# A file's nodes are created afresh (its old ones were deleted first): CREATE with both labels is fast on
# Neo4j and ArcadeDB alike, where MERGE on two labels is not (ArcadeDB scans), and a label can't be added
# to an ArcadeDB vertex after the fact.
_CREATE_NODES = {label: f"UNWIND $rows AS r CREATE (n:Code:{label}) SET n = r.props" for label in CODE_KINDS}
# The guard keeps a retried transaction (whose first commit did land, unacknowledged) from doubling an edge;
# concurrent runs of one repository cannot happen at all (store/lease.py). CONTAINS edges are created with their
# fresh nodes, so they need none.
_CREATE_EDGES = {
    rel: f"UNWIND $rows AS r MATCH (a:Code {{id: r.a}}) MATCH (b:Code {{id: r.b}}) "
    f"WHERE NOT EXISTS {{ (a)-[:{rel}]->(b) }} CREATE (a)-[:{rel}]->(b)"
    for rel in EDGE_TYPES
}
# A CALLS edge carries how it was resolved and the branch condition it depends on (README: Graph schema).
_CREATE_EDGES[CALLS] = (
    "UNWIND $rows AS r MATCH (a:Code {id: r.a}) MATCH (b:Code {id: r.b}) WHERE NOT EXISTS { (a)-[:CALLS]->(b) } "
    "CREATE (a)-[:CALLS {provenance: r.provenance, condition: r.condition}]->(b)"
)
# INHERITS says how (extends, implements, embeds, includes); a retried transaction must not double it either.
_CREATE_EDGES[INHERITS] = (
    "UNWIND $rows AS r MATCH (a:Code {id: r.a}) MATCH (b:Code {id: r.b}) "
    "WHERE NOT EXISTS { (a)-[:INHERITS {relation: r.relation}]->(b) } "
    "CREATE (a)-[:INHERITS {relation: r.relation}]->(b)"
)
_CREATE_EDGES[CONTAINS] = (
    "UNWIND $rows AS r MATCH (a:Code {id: r.a}) MATCH (b:Code {id: r.b}) CREATE (a)-[:CONTAINS]->(b)"
)
# Deletes every parallel copy: a duplicated edge (from an older, unlocked concurrent run) is removed whole and
# created once again by the same run.
_DELETE_EDGES = {
    rel: f"UNWIND $rows AS r MATCH (:Code {{id: r.a}})-[x:{rel}]->(:Code {{id: r.b}}) DELETE x" for rel in EDGE_TYPES
}
_DELETE_EDGES[INHERITS] = (
    "UNWIND $rows AS r MATCH (:Code {id: r.a})-[x:INHERITS]->(:Code {id: r.b}) "
    "WHERE coalesce(x.relation, '') = r.relation DELETE x"
)


def file_rows(repo: str, facts: Iterable[FileFacts]) -> dict[Kind, list[dict[str, Any]]]:
    """Node rows by label for a batch of files. The File's `sha` is set only when the run finishes."""
    rows: dict[Kind, list[dict[str, Any]]] = defaultdict(list)
    for f in facts:
        name = f.path.rsplit("/", 1)[-1]
        rows[FILE].append({"props": {
            "id": f.file_id, "repo": repo, "path": f.path, "name": name, "qualified_name": f.path, "kind": FILE,
            "language": f.language, "lines": f.lines, "size": f.size, "error": f.error,
            "warnings": f.warnings or None,
        }})
        rows[MODULE].append({"props": {
            "id": f.module_id, "repo": repo, "path": f.path,
            # A Python module is named by its last dotted part; any other language's Module by its file's name.
            "name": f.module.rsplit(".", 1)[-1] if f.language == "python" else name,
            "qualified_name": f.module,
            "kind": MODULE, "is_package": f.is_package,
            "start_line": 1, "end_line": max(f.lines, 1),
            # issue 13 (dead_code): the module's literal __all__, and what a package re-exports by name
            "exports": _exports(f), "reexports": _reexports(f),
        }})
        for s in f.symbols:
            rows[s.kind].append({"props": {
                "id": s.id, "repo": repo, "path": s.path, "name": s.name, "qualified_name": s.qualified_name,
                "kind": s.kind, "start_line": s.start_line, "end_line": s.end_line,
                "signature": s.signature, "docstring": s.docstring,
                "decorators": list(s.decorators) or None,  # issue 13 (dead_code: decorated handlers)
                **({"subkind": s.subkind} if s.subkind else {}),
            }})
    return rows


def _exports(f: FileFacts) -> list[str] | None:
    """The names of a literal `__all__` (None when the module has none, or it is not literal)."""
    exports = f.scopes[0].exports if f.scopes else None
    return None if exports is None else list(exports)


def _reexports(f: FileFacts) -> list[str] | None:
    """What a package's `__init__` imports by name under a public alias, as `module.name` (`module.*` for a
    star import): the package's public API, for dead_code. None for other modules."""
    if not f.is_package:
        return None
    names = sorted({f"{i.module}.{i.name}" for i in f.imports
                    if i.module and i.name and not i.alias.startswith("_")})
    return names or None


def contains_rows(facts: Iterable[FileFacts]) -> list[dict[str, str]]:
    rows = []
    for f in facts:
        rows.append({"a": f.file_id, "b": f.module_id})
        rows.extend({"a": s.parent_id, "b": s.id} for s in f.symbols)
    return rows


def write_files(tx: ManagedTransaction, repo: str, facts: list[FileFacts], known: frozenset[str]) -> int:
    """Replace the nodes of a batch of changed files, with their CONTAINS tree; files not `known` to the graph
    have nothing to delete first (a round trip saved per batch on a fresh index).

    Their relationships to other files go with the old nodes; the parent's edge pass finds them missing and
    writes them again, so the result is the same as an update in place.
    """
    stale = [f.path for f in facts if f.path in known]
    if stale:
        delete_paths(tx, repo, stale)
    written = 0
    for label, rows in file_rows(repo, facts).items():
        tx.run(_CREATE_NODES[label], rows=rows).consume()
        written += len(rows)
    tx.run(_CREATE_EDGES[CONTAINS], rows=contains_rows(facts)).consume()
    return written


def delete_paths(tx: ManagedTransaction, repo: str, paths: list[str]) -> None:
    """Delete every node of these paths: Code nodes and their embedding Chunks (which carry repo + path)."""
    tx.run(
        "UNWIND $paths AS p MATCH (c:Chunk {path: p}) WHERE c.repo = $repo DETACH DELETE c", paths=paths, repo=repo
    ).consume()
    tx.run(
        "UNWIND $paths AS p MATCH (n:Code {path: p}) WHERE n.repo = $repo DETACH DELETE n", paths=paths, repo=repo
    ).consume()


def create_nodes(tx: ManagedTransaction, label: Kind, rows: list[dict[str, Any]]) -> None:
    tx.run(_CREATE_NODES[label], rows=rows).consume()


def create_edges(tx: ManagedTransaction, rel: Rel, rows: Sequence[dict[str, str]]) -> None:
    tx.run(_CREATE_EDGES[rel], rows=list(rows)).consume()


def delete_edges(tx: ManagedTransaction, rel: Rel, rows: Sequence[dict[str, str]]) -> None:
    tx.run(_DELETE_EDGES[rel], rows=list(rows)).consume()


def edge_rows(edges: Iterable[Edge]) -> dict[Rel, list[dict[str, str]]]:
    """Rows by relationship type; CALLS rows carry the edge's provenance and condition. Deleting matches on
    (type, source, target) alone: there is at most one CALLS edge per pair."""
    rows: dict[Rel, list[dict[str, str]]] = defaultdict(list)
    for e in edges:
        if e.type == CALLS:
            rows[e.type].append({"a": e.source, "b": e.target, "provenance": e.provenance, "condition": e.condition})
        elif e.type == INHERITS:
            rows[e.type].append({"a": e.source, "b": e.target, "relation": e.relation})
        else:
            rows[e.type].append({"a": e.source, "b": e.target})
    return rows


# The rest are single statements, run through GraphStore.execute / execute_batches / delete_batched.

# issue 13: the unresolved call sites of a node's own code (UnresolvedCall.entry), set after resolution on
# every node whose list changed; null removes the property.
SET_UNRESOLVED_CALLS = "UNWIND $rows AS r MATCH (n:Code {id: r.id}) SET n.unresolved_calls = r.calls"

FINISH_FILES = (
    "MATCH (r:Repository {id: $repo}) UNWIND $rows AS row MATCH (f:Code {id: row.id}) "
    "MERGE (r)-[:CONTAINS]->(f) SET f.sha = row.sha"
)
UNSTAMP_FILES = "UNWIND $paths AS p MATCH (f:File {path: p}) WHERE f.repo = $repo SET f.sha = null"
REMOVE_ORPHAN_EXTERNAL_MODULES = (
    "MATCH (n:ExternalModule) WHERE n.repo = $repo AND NOT EXISTS { MATCH ()-[:IMPORTS]->(n) } DETACH DELETE n"
)
# A run about to write forgets the last run's state first: until it stamps its own, the graph's edges are not the
# ones the facts cache remembers under that generation.
UPSERT_REPOSITORY = "MERGE (r:Repository {id: $repo}) SET r.name = $repo, r.root = $root, r.state = null"
STAMP_REPOSITORY = "MATCH (r:Repository {id: $repo}) SET r.indexed_at = $now, r += $summary"
DELETE_REPOSITORY = "MATCH (r:Repository {id: $repo}) DETACH DELETE r"
DELETE_LEASE = "MATCH (l:IndexLease {repo: $repo}) DELETE l"
DELETE_CHUNKS = "UNWIND $paths AS p MATCH (c:Chunk {path: p}) WHERE c.repo = $repo DETACH DELETE c"
CREATE_CHUNKS = (
    "UNWIND $rows AS r MATCH (o:Code {id: r.owner}) CREATE (o)-[:HAS_CHUNK]->(c:Chunk) SET c = r.props"
)
