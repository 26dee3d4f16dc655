"""Questions about the graph, for the faces: symbols, source, calls, imports, inheritance, repositories, and a
guarded read-only Cypher. Each returns a typed answer from indexer/results.py.

ArcadeDB drops a map-projection column that holds an aggregate, so aggregates happen in a WITH first.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import neo4j
from neo4j.exceptions import Forbidden, Neo4jError

from .. import results as r
from ..errors import ConfigError, NotFoundError, StoreError
from ..models import CLASS, EXTERNAL_MODULE, FILE, FUNCTION, METHOD, MODULE
from ..source import source_lines
from . import reads, writes
from .graph import GraphStore

FIND_MODES = ("exact", "prefix", "fulltext")
MAX_DEPTH = 5
DEFAULT_ROWS, MAX_ROWS = 100, 1000
MAX_SOURCE_LINES = 400

# Symbol fields every answer carries (docstrings are the first paragraph only, so short).
_FIELDS = ("id", "repo", "kind", "name", "qualified_name", "path", "start_line", "end_line", "signature", "docstring")
_PROJECTION = ", ".join(f"n.{f} AS {f}" for f in _FIELDS)

SCHEMA: dict[str, Any] = {
    "node_labels": {
        "Repository": ["id", "name", "root", "indexed_at", "files"],
        "Code": [
            "id",
            "repo",
            "path",
            "name",
            "qualified_name",
            "kind",
            "start_line",
            "end_line",
            "signature",
            "docstring",
        ],
        FILE: ["lines", "size", "error", "warnings", "sha", "language"],
        MODULE: ["is_package", "exports", "reexports", "unresolved_calls"],
        EXTERNAL_MODULE: [],
        CLASS: ["subkind", "decorators", "unresolved_calls"],
        **{kind: ["decorators", "unresolved_calls"] for kind in (FUNCTION, METHOD)},
        "Chunk": ["id", "repo", "path", "owner_id", "index", "text_hash", "tokens", "model", "dimensions",
                  "embedding"],
        "IndexLease": ["repo", "owner", "host", "pid", "token", "expires_at"],
    },
    "notes": [
        "Every node except Repository has the label Code plus one kind label (File, Module, ExternalModule, "
        "Class, Function, Method); `kind` holds the same name. The Code properties apply to all of them.",
        "`id` is unique across repositories; `repo` is the Repository id; `qualified_name` is dotted "
        "(pkg.module.Class.method), a File's is its path.",
        "Chunk nodes (label Chunk only) hold the embedding of a symbol's code, or of one part of it when it is "
        "long; they exist when embeddings are on.",
        "An IndexLease node exists while an index run holds a repository (one run per repository at a time).",
        "unresolved_calls (on the calling Module, Class, Function or Method): its call sites that reached no "
        "function of the repository but might have (unknown receiver, dynamic), as 'name:line:reason:target'.",
        "decorators: a symbol's decorators as written, short (app.route(), property); exports: a module's "
        "literal __all__; reexports: what a package's __init__ imports by name (module.name).",
        "File.language is python, javascript, typescript, go, rust, java, c, cpp, csharp, ruby or php. A Python "
        "Module's qualified_name is its dotted module, any other language's is its file path; other languages' "
        "symbols are qualified by their package or namespace (Java, C#, PHP, C++, Ruby, a Go package's folder), "
        "else by their file's path without extension. Class.subkind says class, struct, interface, trait, enum, "
        "record, union, module (Ruby), type (Go).",
    ],
    "relationship_types": {
        "CONTAINS": "Repository->File->Module->top-level Class/Function; Class->Method; Function->nested Function",
        "IMPORTS": "Module->Module|ExternalModule",
        "CALLS": "Module|Class|Function|Method->Function|Method (resolved calls only; module- and class-level "
        "code calls from its Module or Class); properties: provenance (how it was resolved: scope, import, "
        "self, cls, super, constructor, alias, inferred-receiver, return, argument, container, decorator), "
        "condition (the branch the callee is bound under, '' if unconditional)",
        "INHERITS": "Class->Class (bases defined in the repository); property relation: extends, implements, "
                    "embeds (Go), includes (Ruby/PHP mixins and traits)",
        "REFERENCES": "Module|Class|Function|Method->Function|Method|Class: passes it as an argument (a callback, "
        "a key function, isinstance's class), so code outside the repository may call it",
        "HAS_CHUNK": "Class|Function|Method|Module->Chunk (embeddings)",
    },
}


# ------------------------------------------------------------------------------------------------- helpers


def _read(store: GraphStore, query: str, **params: Any) -> list[Any]:
    """Rows as the query shapes them (each answer's TypedDict says which)."""
    try:
        return store.read(query, **params)
    except Neo4jError as exc:
        raise StoreError(f"graph query failed: {exc.message or exc}") from exc


def _repo_filter(repo: str | None, var: str = "n") -> str:
    return f" AND {var}.repo = $repo" if repo else ""


def resolve_symbol(
    store: GraphStore, name: str, repo: str | None = None, kinds: tuple[str, ...] | None = None
) -> r.SymbolInfo:
    """The one node whose id or qualified_name is `name` (of `kinds`, in `repo`); clear errors otherwise."""
    kind_filter = " AND n.kind IN $kinds" if kinds else ""
    rows: list[Any] = []
    for key in ("qualified_name", "id"):  # one equality each: ArcadeDB scans for an OR of the two (28 ms, not 0.4)
        rows = _read(
            store,
            f"MATCH (n:Code) WHERE n.{key} = $name{_repo_filter(repo)}{kind_filter} "
            f"RETURN {_PROJECTION} ORDER BY repo, id LIMIT 20",
            name=name,
            repo=repo,
            kinds=list(kinds or ()),
        )
        if rows:
            break
    what = "/".join(kinds) if kinds else "symbol"
    if not rows:
        where = f" in repository {repo!r}" if repo else ""
        raise NotFoundError(f"no {what} named {name!r}{where}; find_symbols finds names by prefix or text",
                            what, name)
    repos = sorted({r["repo"] for r in rows})
    if len(repos) > 1:
        raise ConfigError(f"{name!r} exists in several repositories ({', '.join(repos)}): pass repo")
    return rows[0]  # several in one repo: a name defined twice (e.g. under if/else); the first by id


def _depth(depth: int, top: int = MAX_DEPTH) -> int:
    if not isinstance(depth, int) or not 1 <= depth <= top:
        raise ConfigError(f"depth must be from 1 to {top}, not {depth!r}")
    return depth


def _limit(limit: int) -> int:
    if not isinstance(limit, int) or not 1 <= limit <= MAX_ROWS:
        raise ConfigError(f"limit must be from 1 to {MAX_ROWS}, not {limit!r}")
    return limit


# ------------------------------------------------------------------------------------------------- symbols


def find_symbols(
    store: GraphStore,
    query: str,
    mode: str = "exact",
    kind: str | None = None,
    repo: str | None = None,
    limit: int = 20,
) -> r.FoundSymbols:
    """Nodes by name: `exact` (name or qualified_name), `prefix`, or `fulltext` (the full-text index on Neo4j,
    else a case-insensitive substring match over name, qualified_name and docstring; `mode_used` says which)."""
    if mode not in FIND_MODES:
        raise ConfigError(f"mode must be one of {', '.join(FIND_MODES)}, not {mode!r}")
    if not query.strip():
        raise ConfigError("query must not be empty")
    params = {"q": query, "kind": kind, "repo": repo, "limit": _limit(limit)}
    filters = (" AND n.kind = $kind" if kind else "") + _repo_filter(repo)
    fulltext = store.dialect.fulltext_query(filters, _PROJECTION) if mode == "fulltext" else None
    if fulltext is not None:
        cypher = fulltext
        mode_used = "fulltext index"
    else:
        match = {
            "exact": "(n.name = $q OR n.qualified_name = $q)",
            "prefix": "(n.name STARTS WITH $q OR n.qualified_name STARTS WITH $q)",
            "fulltext": "(toLower(n.name) CONTAINS toLower($q) OR toLower(n.qualified_name) CONTAINS toLower($q) "
            "OR toLower(coalesce(n.docstring, '')) CONTAINS toLower($q))",
        }[mode]
        cypher = (
            f"MATCH (n:Code) WHERE {match}{filters} RETURN {_PROJECTION} ORDER BY qualified_name, repo LIMIT $limit"
        )
        mode_used = "case-insensitive substring (no full-text index on this server)" if mode == "fulltext" else mode
    rows = _read(store, cypher, **params)
    return {"mode_used": mode_used, "count": len(rows), "symbols": rows}


def get_symbol(store: GraphStore, name: str, repo: str | None = None) -> r.SymbolSource:
    """A symbol's location and source text, read from the indexed checkout (Repository.root + path)."""
    sym = resolve_symbol(store, name, repo)
    rows = _read(store, "MATCH (r:Repository {id: $repo}) RETURN r.root AS root", repo=sym["repo"])
    path = sym.get("path")
    if not rows or not path:
        return {"symbol": sym, "source": None, "source_error": "no file on record for this node", "truncated": False}
    root = Path(rows[0]["root"])
    source, error, truncated = read_lines(root, path, sym.get("start_line"), sym.get("end_line"))
    return {"symbol": sym, "file": str(root / path), "source": source, "source_error": error, "truncated": truncated}


def read_lines(root: Path, rel: str, start: int | None, end: int | None) -> tuple[str | None, str | None, bool]:
    """(text, error, truncated) for lines start..end of root/rel; refuses paths that escape the root."""
    try:
        lines = source_lines(root, rel)
    except ValueError as exc:
        return None, str(exc), False
    except OSError as exc:
        return None, f"cannot read {root / rel}: {exc.strerror or exc}", False
    first = max((start or 1) - 1, 0)
    last = end or len(lines)
    truncated = last - first > MAX_SOURCE_LINES
    return "\n".join(lines[first : min(last, first + MAX_SOURCE_LINES)]), None, truncated


# ------------------------------------------------------------------------------------------------- calls


def callers(store: GraphStore, name: str, repo: str | None = None, depth: int = 1, limit: int = 100) -> r.Callers:
    """Functions/methods that call `name`, directly (depth 1) or through up to `depth` calls."""
    return _calls(store, name, repo, depth, limit, incoming=True)


def callees(store: GraphStore, name: str, repo: str | None = None, depth: int = 1, limit: int = 100) -> r.Callees:
    """Functions/methods `name` calls, directly (depth 1) or through up to `depth` calls."""
    return _calls(store, name, repo, depth, limit, incoming=False)


def _calls(store: GraphStore, name: str, repo: str | None, depth: int, limit: int, incoming: bool) -> Any:
    target = resolve_symbol(store, name, repo, kinds=(FUNCTION, METHOD))
    hops = f"[:CALLS*1..{_depth(depth)}]"  # a bound can't be a parameter; _depth validated it
    pattern = f"(n:Code)-{hops}->(t:Code {{id: $id}})" if incoming else f"(t:Code {{id: $id}})-{hops}->(n:Code)"
    rows = _read(
        store,
        f"MATCH p = {pattern} WHERE n.id <> $id WITH n, min(length(p)) AS depth "
        f"RETURN {_PROJECTION}, depth ORDER BY depth, qualified_name LIMIT $limit",
        id=target["id"],
        limit=_limit(limit),
    )
    if incoming:
        unresolved = unresolved_calls_named(store, target["repo"], called_names(target))
    else:  # what the symbol, and the callees whose own callees are listed, call without an edge
        unresolved = unresolved_calls_of(store, [target["id"], *(r["id"] for r in rows if r["depth"] < depth)])
    return {"symbol": target, "depth": depth, "count": len(rows), ("callers" if incoming else "callees"): rows,
            "unresolved": unresolved}


# ------------------------------------------------------------------------------------------------- unresolved
# Nodes keep their unresolved call sites that might reach the repository in `unresolved_calls`, a list of
# `name:line:reason:target` (README: Graph schema; written by pipeline/write.py).

UNRESOLVED_SHOWN = 10  # sites listed in an answer; `count` is always complete
_REASON_WORDS = {"unknown_receiver": "unknown receiver", "dynamic": "dynamic"}


def called_names(symbol: Mapping[str, Any]) -> list[str]:
    """The names a call of this symbol is written with: its own, and its class's for a constructor."""
    names = [symbol["name"]]
    if symbol["kind"] == METHOD and symbol["name"] in ("__init__", "__new__"):
        names.append(symbol["qualified_name"].split(".")[-2])
    return names


def unresolved_calls_named(store: GraphStore, repo: str, names: list[str],
                           shown: int = UNRESOLVED_SHOWN) -> r.UnresolvedCalls:
    """The unresolved call sites of a repository that call one of `names` (e.g. `x.save()` for save)."""
    sites: list[r.UnresolvedSite] = []
    for name in names:
        rows = _read(
            store,
            "MATCH (n:Code) WHERE n.repo = $repo AND n.unresolved_calls IS NOT NULL "
            "AND any(x IN n.unresolved_calls WHERE x STARTS WITH $prefix) "
            "RETURN n.id AS id, n.qualified_name AS qualified_name, n.path AS path, "
            "[x IN n.unresolved_calls WHERE x STARTS WITH $prefix] AS calls",
            repo=repo, prefix=f"{name}:",
        )
        sites.extend(_sites(rows))
    return _unresolved(", ".join(f"`{n}`" for n in names), sites, shown, named=True)


def unresolved_calls_of(store: GraphStore, ids: list[str], shown: int = UNRESOLVED_SHOWN) -> r.UnresolvedCalls:
    """The unresolved call sites made by these nodes' own code."""
    rows = _read(
        store,
        "MATCH (n:Code) WHERE n.id IN $ids AND n.unresolved_calls IS NOT NULL "
        "RETURN n.id AS id, n.qualified_name AS qualified_name, n.path AS path, n.unresolved_calls AS calls",
        ids=ids,
    )
    return _unresolved("", list(_sites(rows)), shown, named=False)


def _sites(rows: list[dict[str, Any]]) -> Iterator[r.UnresolvedSite]:
    for row in rows:
        for entry in row["calls"]:
            _, line, reason, target = entry.split(":", 3)
            yield {"caller": row["qualified_name"], "caller_id": row["id"], "path": row["path"],
                   "line": int(line), "target": target, "reason": reason}


def _unresolved(names: str, sites: list[r.UnresolvedSite], shown: int, named: bool) -> r.UnresolvedCalls:
    sites.sort(key=lambda s: (s["path"] or "", s["line"], s["target"]))
    listed = "; ".join(f"{s['path']}:{s['line']} {s['target']} in {s['caller']} ({_REASON_WORDS[s['reason']]})"
                       for s in sites[:shown])
    more = f"; and {len(sites) - shown} more" if len(sites) > shown else ""
    calls = "call" if len(sites) == 1 else "calls"
    if not sites:
        note = ""
    elif named:
        note = f"{len(sites)} more {calls} named {names} could not be resolved: {listed}{more}"
    else:
        note = f"{len(sites)} {calls} could not be resolved: {listed}{more}"
    return {"name": names.replace("`", ""), "count": len(sites), "sites": sites[:shown],
            "truncated": len(sites) > shown, "note": note}


# ------------------------------------------------------------------------------------------------- modules


def module_imports(store: GraphStore, module: str, repo: str | None = None) -> r.ModuleImports:
    """What a module imports (modules of the repository and external ones) and which modules import it."""
    target = resolve_symbol(store, module, repo, kinds=(MODULE, EXTERNAL_MODULE))
    out = "MATCH (t:Code {id: $id})-[:IMPORTS]->(n:Code) RETURN n.qualified_name AS qualified_name, n.kind AS kind"
    inc = "MATCH (n:Code)-[:IMPORTS]->(t:Code {id: $id}) RETURN n.qualified_name AS qualified_name, n.kind AS kind"
    return {
        "module": target,
        "imports": sorted(_read(store, out, id=target["id"]), key=lambda r: r["qualified_name"]),
        "imported_by": sorted(_read(store, inc, id=target["id"]), key=lambda r: r["qualified_name"]),
    }


def class_hierarchy(store: GraphStore, name: str, repo: str | None = None,
                    depth: int = MAX_DEPTH) -> r.ClassHierarchy:
    """A class's ancestors (bases, transitively) and descendants (subclasses, transitively), with distances."""
    target = resolve_symbol(store, name, repo, kinds=(CLASS,))
    hops = f"[:INHERITS*1..{_depth(depth)}]"
    tail = (
        "WITH n, min(length(p)) AS depth RETURN n.qualified_name AS qualified_name, n.path AS path, depth "
        "ORDER BY depth, qualified_name"
    )
    up = _read(store, f"MATCH p = (t:Code {{id: $id}})-{hops}->(n:Code) {tail}", id=target["id"])
    down = _read(store, f"MATCH p = (n:Code)-{hops}->(t:Code {{id: $id}}) {tail}", id=target["id"])
    return {"symbol": target, "ancestors": up, "descendants": down}


# ------------------------------------------------------------------------------------------------- repositories


def list_repositories(store: GraphStore) -> r.Repositories:
    rows = _read(
        store,
        "MATCH (r:Repository) RETURN r.id AS id, r.name AS name, r.root AS root, "
        "r.indexed_at AS indexed_at, r.files AS files ORDER BY id",
    )
    for row in rows:
        row["nodes"], row["relationships"] = reads.counts(store, row["id"])
        row["languages"] = reads.languages(store, row["id"])
    return {"repositories": rows}


def remove_repository(store: GraphStore, repo: str) -> r.Removed:
    """Delete a repository's graph (its nodes, relationships, chunks and lease; never its files)."""
    if reads.repository(store, repo) is None:
        raise NotFoundError(f"no repository {repo!r}; list_repositories shows the indexed ones", "repository", repo)
    return {"repo": repo, "removed_nodes": writes.delete_repository(store, repo)}


# ------------------------------------------------------------------------------------------------- cypher

# Clauses and procedures that write or administer; matched as whole words outside strings and comments.
# INSERT is GQL's CREATE (ArcadeDB accepts it over Bolt).
_WRITE_WORDS = re.compile(
    r"(?<![\w.$`])(CREATE|INSERT|UPSERT|MERGE|DELETE|DETACH|SET|REMOVE|DROP|FOREACH|LOAD\s+CSV|IN\s+TRANSACTIONS|"
    r"ALTER|GRANT|DENY|REVOKE|RENAME|START\s+DATABASE|STOP\s+DATABASE|TERMINATE)(?![\w`])",
    re.IGNORECASE,
)
_CALL = re.compile(r"(?<![\w.$`])CALL\s+([A-Za-z_][\w.]*)", re.IGNORECASE)
READ_PROCEDURES = frozenset(
    p.lower()
    for p in (
        "db.labels",
        "db.relationshipTypes",
        "db.propertyKeys",
        "db.schema.visualization",
        "db.schema.nodeTypeProperties",
        "db.schema.relTypeProperties",
        "db.indexes",
        "db.constraints",
        "db.info",
        "db.index.fulltext.queryNodes",
        "db.index.fulltext.queryRelationships",
        "db.index.vector.queryNodes",
        "dbms.components",
        "dbms.info",
    )
)
_STRIP = re.compile(r"'(?:\\.|[^'\\])*'|\"(?:\\.|[^\"\\])*\"|`[^`]*`|//[^\n]*|/\*.*?\*/", re.DOTALL)
CYPHER_TIMEOUT = 30.0  # seconds a read-only query may run


def write_clause(query: str) -> str | None:
    """The first write clause or non-read procedure in `query` (string literals and comments ignored)."""
    text = _STRIP.sub(" ", query)
    match = _WRITE_WORDS.search(text)
    if match:
        return " ".join(match.group(1).upper().split())
    for proc in _CALL.findall(text):
        if proc.lower() not in READ_PROCEDURES:
            return f"CALL {proc}"
    return None


def read_only_cypher(
    store: GraphStore, query: str, params: Mapping[str, Any] | None = None, limit: int = DEFAULT_ROWS
) -> r.CypherResult:
    """Run a query that must not change the graph, with defence in depth (no check stands alone):

    1. the clause check refuses write clauses and procedures outside a read allow-list;
    2. the server's own guarantee: on Neo4j, `EXPLAIN` must classify the query as read-only ("r") and the
       session is READ_ACCESS, which Neo4j enforces; on the managed ArcadeDB (which ignores access modes) the
       query runs as a user whose group may only read records;
    3. on every server the query runs in an explicit transaction that is always rolled back, so whatever a
       check missed is undone;
    4. a query whose summary counts any update is refused after that rollback.

    At most `limit` rows come back (`truncated` says when there were more)."""
    if not query.strip():
        raise ConfigError("query must not be empty")
    clause = write_clause(query)
    if clause:
        raise ConfigError(f"read-only: the query contains {clause}, which writes or administers the graph")
    limit = _limit(limit)
    arguments = dict(params or {})
    try:
        with store.untrusted_session() as session:
            if store.dialect.trusts_explain:
                _refuse_unless_planned_read(session, query, arguments)
            columns, rows, truncated, updates = _rolled_back(session, query, arguments, limit)
    except Forbidden as exc:
        raise ConfigError(f"read-only: the graph server refused the query ({exc.message or exc})") from exc
    except Neo4jError as exc:
        raise StoreError(f"the query failed: {exc.message or exc}") from exc
    if updates:
        raise ConfigError("read-only: the query tried to change the graph; its changes were rolled back")
    return {"columns": columns, "rows": rows, "row_count": len(rows), "truncated": truncated, "limit": limit}


def _refuse_unless_planned_read(session: neo4j.Session, query: str, params: dict[str, Any]) -> None:
    summary = session.run(f"EXPLAIN {query}", params).consume()
    if summary.query_type != "r":
        raise ConfigError(f"read-only: the server plans this query as {summary.query_type!r}, not read-only")


def _rolled_back(
    session: neo4j.Session, query: str, params: dict[str, Any], limit: int
) -> tuple[list[str], list[dict[str, Any]], bool, bool]:
    """(columns, rows, truncated, updated) of `query` in a transaction that is never committed."""
    tx = session.begin_transaction(timeout=CYPHER_TIMEOUT)
    try:
        result = tx.run(query, params)
        rows: list[dict[str, Any]] = []
        truncated = False
        for record in result:
            if len(rows) == limit:
                truncated = True
                break
            rows.append({k: to_json(v) for k, v in record.items()})
        columns = list(result.keys())
        counters = result.consume().counters
        return columns, rows, truncated, counters.contains_updates or counters.contains_system_updates
    finally:
        tx.rollback()
        tx.close()


def to_json(value: Any) -> Any:
    """Graph values as JSON: nodes and relationships as their properties plus labels/type, temporals as ISO."""
    if isinstance(value, neo4j.graph.Node):
        return {"labels": sorted(value.labels), **{k: to_json(v) for k, v in value.items()}}
    if isinstance(value, neo4j.graph.Relationship):
        return {"type": value.type, **{k: to_json(v) for k, v in value.items()}}
    if isinstance(value, neo4j.graph.Path):
        return {"nodes": [to_json(n) for n in value.nodes], "relationships": [to_json(r) for r in value]}
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
