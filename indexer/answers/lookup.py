"""The answers' reads of the graph: one read-only Cypher statement per question, a frontier at a time.

ArcadeDB answers a query with thousands of rows slowly (tens of microseconds a row over Bolt), so the answers
walk the graph from the symbol asked about, a frontier of ids per query, and return only the fields they use.
Patterns name the `Code` label and filter on `kind`: ArcadeDB's planner uses the `Code` indexes (id, path,
repo, name, qualified_name) that way, and scans a kind's label otherwise (measured: 13 ms against 0.4 ms for
a method's class on the standard library's graph).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from neo4j.exceptions import Neo4jError

from ..errors import NotFoundError, StoreError
from ..models import file_id
from ..store.graph import GraphStore

# The fields of a symbol the answers carry (SymbolRef), for a node bound to `n`.
REF = "n.id AS id, n.kind AS kind, n.qualified_name AS qualified_name, n.path AS path, n.start_line AS start_line"
CODE_FIELDS = f"{REF}, n.name AS name, n.end_line AS end_line, n.decorators AS decorators"


def read(store: GraphStore, query: str, **params: Any) -> list[dict[str, Any]]:
    try:
        return store.read(query, **params)
    except Neo4jError as exc:
        raise StoreError(f"graph query failed: {exc.message or exc}") from exc


def repository_root(store: GraphStore, repo: str) -> str:
    rows = read(store, "MATCH (r:Repository {id: $repo}) RETURN r.root AS root", repo=repo)
    if not rows:
        raise NotFoundError(f"no repository {repo!r}; list_repositories shows the indexed ones", "repository", repo)
    return str(rows[0]["root"])


def repository_at(store: GraphStore, path: str) -> dict[str, Any]:
    """The indexed repository whose root is `path` or holds it (the deepest such root)."""
    rows = read(store, "MATCH (r:Repository) RETURN r.id AS id, r.root AS root")
    holding = [r for r in rows if r["root"] and (path == r["root"] or path.startswith(r["root"].rstrip("/") + "/"))]
    if not holding:
        raise NotFoundError(f"no indexed repository holds {path}; index it first (graphdex index PATH)",
                            "repository", path)
    return max(holding, key=lambda r: len(r["root"]))


def callers_of(store: GraphStore, ids: Iterable[str], references: bool = False) -> list[dict[str, Any]]:
    """Who calls these nodes (with `references`, also who passes them as arguments): the caller's fields plus
    `callee` (the id it calls), `type` (CALLS or REFERENCES), provenance and condition."""
    types = "CALLS|REFERENCES" if references else "CALLS"
    return read(
        store,
        f"MATCH (n:Code)-[x:{types}]->(b:Code) WHERE b.id IN $ids RETURN {CODE_FIELDS}, b.id AS callee, "
        "type(x) AS type, x.provenance AS provenance, x.condition AS condition",
        ids=sorted(set(ids)),
    )


def callees_of(store: GraphStore, ids: Iterable[str]) -> list[dict[str, Any]]:
    """What these nodes call: `caller` (its id) and the callee's id, provenance and condition."""
    return read(
        store,
        "MATCH (a:Code)-[x:CALLS]->(n:Code) WHERE a.id IN $ids RETURN a.id AS caller, n.id AS id, "
        "x.provenance AS provenance, x.condition AS condition",
        ids=sorted(set(ids)),
    )


def nodes(store: GraphStore, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    rows = read(store, f"MATCH (n:Code) WHERE n.id IN $ids RETURN {CODE_FIELDS}", ids=sorted(set(ids)))
    return {row["id"]: row for row in rows}


def methods(store: GraphStore, class_ids: Iterable[str], name: str | None = None) -> list[dict[str, Any]]:
    """The methods of these classes (only those called `name`, when given), with `owner` (the class id)."""
    where = " AND n.name = $name" if name is not None else ""
    return read(
        store,
        f"MATCH (c:Code)-[:CONTAINS]->(n:Code) WHERE c.id IN $ids AND n.kind = 'Method'{where} "
        f"RETURN {CODE_FIELDS}, c.id AS owner",
        ids=sorted(set(class_ids)), name=name,
    )


def related_classes(store: GraphStore, class_id: str, depth: int, down: bool) -> list[dict[str, Any]]:
    """Subclasses (down) or base classes (up) within `depth` inheritance steps, each with its `distance`."""
    pattern = "(n:Code)-[:INHERITS*1..{d}]->(c:Code {{id: $id}})" if down else \
        "(c:Code {{id: $id}})-[:INHERITS*1..{d}]->(n:Code)"
    return read(
        store,
        f"MATCH p = {pattern.format(d=int(depth))} WITH n, min(length(p)) AS distance "
        f"RETURN {CODE_FIELDS}, distance",
        id=class_id,
    )


def owner_class(store: GraphStore, method_id: str) -> str | None:
    rows = read(store, "MATCH (c:Code)-[:CONTAINS]->(m:Code {id: $id}) WHERE c.kind = 'Class' RETURN c.id AS id",
                id=method_id)
    return rows[0]["id"] if rows else None


def module_of(store: GraphStore, repo: str, path: str | None) -> dict[str, Any] | None:
    """The Module node of a file."""
    if path is None:
        return None
    rows = read(store, f"MATCH (n:Code) WHERE n.path = $path AND n.repo = $repo AND n.kind = 'Module' "
                f"RETURN {CODE_FIELDS}",
                repo=repo, path=path)
    return rows[0] if rows else None


def importers(store: GraphStore, module_ids: Iterable[str]) -> list[dict[str, Any]]:
    """Modules that import these modules, with `imported` (the id they import)."""
    return read(
        store,
        f"MATCH (n:Code)-[:IMPORTS]->(b:Code) WHERE b.id IN $ids RETURN {CODE_FIELDS}, b.id AS imported",
        ids=sorted(set(module_ids)),
    )


def languages(store: GraphStore, repo: str, paths: Iterable[str]) -> dict[str, str | None]:
    """path -> the File's declared language (None where the graph has none)."""
    rows = read(store, "MATCH (f:Code) WHERE f.id IN $ids RETURN f.path AS path, f.language AS language",
                ids=_file_ids(repo, paths))
    return {row["path"]: row["language"] for row in rows}


def symbols_in_files(store: GraphStore, repo: str, paths: Iterable[str]) -> list[dict[str, Any]]:
    """Every Module, Class, Function and Method of these files."""
    return read(
        store,
        f"UNWIND $paths AS p MATCH (n:Code {{path: p}}) WHERE n.repo = $repo AND n.kind IN ['Module', 'Class', "
        f"'Function', 'Method'] RETURN {CODE_FIELDS}",
        repo=repo, paths=sorted(set(paths)),
    )


def file_hashes(store: GraphStore, repo: str, paths: Iterable[str]) -> dict[str, str | None]:
    rows = read(store, "MATCH (f:Code) WHERE f.id IN $ids RETURN f.path AS path, f.sha AS sha",
                ids=_file_ids(repo, paths))
    return {row["path"]: row["sha"] for row in rows}


def _file_ids(repo: str, paths: Iterable[str]) -> list[str]:
    """File node ids (a lookup by id uses the unique index; `path IN $paths` scans on ArcadeDB)."""
    return sorted({file_id(repo, path) for path in paths})


def modules(store: GraphStore, repo: str) -> list[dict[str, Any]]:
    """The repository's Module nodes: id, qualified_name, path, is_package, exports, reexports."""
    return read(store, "MATCH (n:Code) WHERE n.repo = $repo AND n.kind = 'Module' RETURN n.id AS id, "
                "n.qualified_name AS qualified_name, n.path AS path, n.is_package AS is_package, "
                "n.exports AS exports, n.reexports AS reexports", repo=repo)


def module_imports(store: GraphStore, repo: str) -> list[dict[str, Any]]:
    """Every IMPORTS edge of the repository: importer id, imported id, and whether the imported is external."""
    return read(store, "MATCH (a:Code)-[:IMPORTS]->(b:Code) WHERE a.repo = $repo RETURN a.id AS source, "
                "b.id AS target, b.qualified_name AS name, b.kind = 'ExternalModule' AS external", repo=repo)


def uncalled(store: GraphStore, repo: str, kinds: list[str]) -> list[dict[str, Any]]:
    """Functions and methods (of `kinds`) that nothing else in the repository calls or passes as an argument, with
    their parent's id and kind (a method's class)."""
    return read(
        store,
        f"MATCH (p:Code)-[:CONTAINS]->(n:Code) WHERE n.repo = $repo AND n.kind IN $kinds "
        "AND NOT EXISTS { MATCH (c:Code)-[:CALLS|REFERENCES]->(n) WHERE c.id <> n.id } "
        f"RETURN {CODE_FIELDS}, p.id AS parent, p.kind AS parent_kind",
        repo=repo, kinds=kinds,
    )


def unused_classes(store: GraphStore, repo: str) -> list[dict[str, Any]]:
    """Classes with no subclass, not passed as an argument and no method called (or passed) from outside the
    class."""
    return read(
        store,
        "MATCH (p:Code)-[:CONTAINS]->(n:Code) WHERE n.repo = $repo AND n.kind = 'Class' "
        "AND NOT EXISTS { MATCH (:Code)-[:INHERITS]->(n) } "
        "AND NOT EXISTS { MATCH (n)-[:CONTAINS]->(:Code)<-[:CALLS|REFERENCES]-(c:Code) WHERE NOT (c.path = n.path "
        "AND c.qualified_name STARTS WITH n.qualified_name + '.') } "
        "AND NOT EXISTS { MATCH (c:Code)-[:REFERENCES]->(n) WHERE NOT (c.path = n.path "
        "AND c.qualified_name STARTS WITH n.qualified_name + '.') } "
        f"RETURN {CODE_FIELDS}, p.id AS parent, p.kind AS parent_kind, n.signature AS signature",
        repo=repo,
    )


def called_methods_of_base_classes(store: GraphStore, repo: str) -> list[dict[str, Any]]:
    """(class id, method name) of the methods that have a caller, in classes that have subclasses."""
    return read(
        store,
        "MATCH (c:Code)-[:CONTAINS]->(m:Code) WHERE c.repo = $repo AND c.kind = 'Class' AND m.kind = 'Method' "
        "AND EXISTS { MATCH (:Code)-[:INHERITS]->(c) } AND EXISTS { MATCH (:Code)-[:CALLS|REFERENCES]->(m) } "
        "RETURN c.id AS owner, m.name AS name",
        repo=repo,
    )


def inherits(store: GraphStore, repo: str) -> list[dict[str, Any]]:
    """Every INHERITS edge: subclass id, base id, base name."""
    return read(store, "MATCH (a:Code)-[:INHERITS]->(b:Code) WHERE a.repo = $repo RETURN a.id AS sub, "
                "b.id AS base, b.name AS name", repo=repo)


def unresolved_names(store: GraphStore, repo: str) -> list[list[str]]:
    """Every node's `unresolved_calls` list."""
    rows = read(store, "MATCH (n:Code) WHERE n.repo = $repo AND n.unresolved_calls IS NOT NULL "
                "RETURN n.unresolved_calls AS calls", repo=repo)
    return [row["calls"] for row in rows]


def files(store: GraphStore, repo: str) -> dict[str, str | None]:
    """path -> declared language of every file."""
    rows = read(store, "MATCH (f:Code) WHERE f.repo = $repo AND f.kind = 'File' RETURN f.path AS path, "
                "f.language AS language", repo=repo)
    return {row["path"]: row["language"] for row in rows}


def classes(store: GraphStore, repo: str) -> list[dict[str, Any]]:
    """Every class, with its signature (its bases as written) and its parent's id and kind."""
    return read(
        store,
        "MATCH (p:Code)-[:CONTAINS]->(n:Code) WHERE n.repo = $repo AND n.kind = 'Class' "
        f"RETURN {CODE_FIELDS}, n.signature AS signature, p.id AS parent, p.kind AS parent_kind",
        repo=repo,
    )


def file_facts(store: GraphStore, repo: str, paths: Iterable[str]) -> dict[str, tuple[str | None, str]]:
    """path -> (the File's declared language, the qualified name of its Module)."""
    rows = read(store, "MATCH (f:Code)-[:CONTAINS]->(n:Code) WHERE f.id IN $ids AND n.kind = 'Module' "
                "RETURN f.path AS path, f.language AS language, n.qualified_name AS module",
                ids=_file_ids(repo, paths))
    return {row["path"]: (row["language"], row["module"]) for row in rows}
