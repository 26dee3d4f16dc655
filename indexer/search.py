"""Search the code graph by meaning (the vector index over embedded chunks), or by text when embeddings are off.

`semantic_search` returns one result per symbol (its best chunk), ranked by the index's score
((1 + cosine) / 2, so 0.5 is "unrelated" and 1.0 identical). Without a configured provider it falls back to a
case-insensitive text match of the query's words over name, qualified name and docstring, ranked by how many
words match, and says so in "note".
"""

from __future__ import annotations

import logging
import re
from typing import Any

from neo4j.exceptions import Neo4jError

from .embeddings.provider import EmbeddingSettings
from .errors import ConfigError, EmbeddingError, GraphdexError
from .results import SearchHit, SearchResults
from .settings import Settings
from .source import source_lines
from .store import GraphStore, open_store, vectors

log = logging.getLogger(__name__)

SEARCH_KINDS = ("Function", "Method", "Class", "Module", "File")  # File: a module's own code (its Module node)
SNIPPET_LINES = 10
MAX_CANDIDATES = 1000
_WORD = re.compile(r"\w+")


def _kind_label(kind: str | None) -> str | None:
    if kind is None:
        return None
    if kind not in SEARCH_KINDS:
        raise ConfigError(f"kind must be one of {', '.join(SEARCH_KINDS)}, not {kind!r}")
    return "Module" if kind == "File" else kind


def semantic_search(
    store: GraphStore,
    query: str,
    k: int = 10,
    repo: str | None = None,
    kind: str | None = None,
    settings: EmbeddingSettings | None = None,
) -> SearchResults:
    """Ranked symbols for `query`: {"mode": "semantic" | "fulltext", "results": [...], "note"?: str}."""
    if not query.strip():
        raise ConfigError("the search query is empty")
    if k < 1:
        raise ConfigError(f"k must be at least 1, not {k}")
    label = _kind_label(kind)
    settings = settings or EmbeddingSettings.from_env()
    if not settings.enabled:
        return {
            "mode": "fulltext",
            "results": text_search(store, query, k, repo, label),
            "note": f"embeddings are off: {settings.disabled_reason}; results come from text search",
        }
    from .pipeline.embed import shared_embedder

    vector = shared_embedder(settings).embed_query(query)
    fetch = min(MAX_CANDIDATES, k * (20 if repo or label else 4))
    try:
        hits = vectors.nearest_chunks(store, [float(x) for x in vector], fetch)
    except (GraphdexError, Neo4jError) as exc:
        raise EmbeddingError(f"the vector index cannot be queried (has anything been embedded?): {exc}") from exc
    best: dict[str, float] = {}
    for hit in hits:
        owner = hit["owner_id"]
        if owner and (repo is None or hit["repo"] == repo) and hit["score"] > best.get(owner, -1.0):
            best[owner] = float(hit["score"])
    nodes = _nodes(store, list(best), label)
    ranked = sorted((n for n in nodes if n["id"] in best), key=lambda n: (-best[n["id"]], n["qualified_name"]))
    roots = _roots(store)
    results = [_result(n, best[n["id"]], roots) for n in ranked[:k]]
    return {"mode": "semantic", "results": results}


def text_search(store: GraphStore, query: str, k: int, repo: str | None, label: str | None) -> list[SearchHit]:
    """Symbols whose name, qualified name or docstring contains the query's words, most matches first."""
    words = sorted({w.lower() for w in _WORD.findall(query)}) or [query.strip().lower()]
    matches = " + ".join(
        f"(CASE WHEN toLower(n.name) CONTAINS $w{i} OR toLower(n.qualified_name) CONTAINS $w{i} "
        f"OR toLower(coalesce(n.docstring, '')) CONTAINS $w{i} THEN 1 ELSE 0 END)"
        for i in range(len(words))
    )
    kinds = [label] if label else ["Function", "Method", "Class", "Module"]
    rows = store.read(
        "MATCH (n:Code) WHERE n.kind IN $kinds AND ($repo IS NULL OR n.repo = $repo) "
        f"WITH n, {matches} AS m WHERE m > 0 "
        "RETURN n.id AS id, n.repo AS repo, n.kind AS kind, n.qualified_name AS qualified_name, n.path AS path, "
        "n.start_line AS start_line, n.end_line AS end_line, n.signature AS signature, n.docstring AS docstring, "
        "m ORDER BY m DESC, size(n.qualified_name) ASC, n.qualified_name ASC LIMIT $k",
        kinds=kinds,
        repo=repo,
        k=k,
        **{f"w{i}": w for i, w in enumerate(words)},
    )
    roots = _roots(store)
    return [_result(r, round(r["m"] / len(words), 4), roots) for r in rows]


def _nodes(store: GraphStore, ids: list[str], label: str | None) -> list[dict[str, Any]]:
    if not ids:
        return []
    return store.read(
        "UNWIND $ids AS i MATCH (n:Code {id: i}) WHERE $kind IS NULL OR n.kind = $kind "
        "RETURN n.id AS id, n.repo AS repo, n.kind AS kind, n.qualified_name AS qualified_name, n.path AS path, "
        "n.start_line AS start_line, n.end_line AS end_line, n.signature AS signature, n.docstring AS docstring",
        ids=ids,
        kind=label,
    )


def _roots(store: GraphStore) -> dict[str, str]:
    return {r["id"]: r["root"] for r in store.read("MATCH (r:Repository) RETURN r.id AS id, r.root AS root")}


def _result(node: dict[str, Any], score: float, roots: dict[str, str]) -> SearchHit:
    return {
        "qualified_name": node["qualified_name"],
        "kind": node["kind"],
        "score": round(score, 4),
        "path": node["path"],
        "start_line": node["start_line"],
        "end_line": node["end_line"],
        "snippet": snippet(roots.get(node["repo"]), node),
        "repo": node["repo"],
    }


def snippet(root: str | None, node: dict[str, Any], lines: int = SNIPPET_LINES) -> str:
    """The first lines of the symbol's source from disk; its signature and docstring if the file is gone."""
    start, end = node.get("start_line") or 1, node.get("end_line") or 1
    if root and node.get("path"):
        try:
            text: list[str] | None = source_lines(root, node["path"])
        except (OSError, ValueError):
            text = None
        if text is not None and start <= len(text):
            return "\n".join(text[start - 1 : min(end, start + lines - 1)])
    parts = [node.get("signature") or node.get("qualified_name") or "", node.get("docstring") or ""]
    return "\n".join(p for p in parts if p)


def search_with_settings(query: str, settings: Settings, **kwargs: Any) -> SearchResults:
    """Open the configured graph, search, close (for the CLI)."""
    with open_store(settings) as store:
        return semantic_search(store, query, **kwargs)
