"""Stage 2, plan: which files' nodes to (re)write, keep or remove, from content hashes against the graph's.
Reads only: the run writes nothing before it holds the repository's lease and has a plan."""

from __future__ import annotations

import json
from typing import Any

from ..errors import RepositoryError
from ..models import Discovery, IndexState, Plan
from ..store import GraphStore, reads


def plan(store: GraphStore, repo: str, root: str, found: Discovery) -> Plan:
    owner = reads.repository(store, repo)
    if owner and owner.get("root") not in (None, root):
        raise RepositoryError(
            f"repository name {repo!r} already belongs to {owner['root']}; choose another with --name"
        )
    return compare(found, reads.file_hashes(store, repo), _state(owner))


def _state(owner: dict[str, Any] | None) -> IndexState | None:
    """The last complete run's state, from the Repository node's `state` (JSON: Neo4j has no map properties)."""
    raw = (owner or {}).get("state")
    try:
        values = json.loads(raw) if isinstance(raw, str) else None
        return IndexState(**values) if isinstance(values, dict) else None
    except (TypeError, ValueError):
        return None  # written by another version: a full run rewrites it


def compare(found: Discovery, known: dict[str, str | None], state: IndexState | None = None) -> Plan:
    """The plan for `found` against the graph's stamped hashes (None: written by a run that did not finish)."""
    changed, retried, unchanged = set(), set(), set()
    for f in found.files:
        stamped = known.get(f.path, "")
        if stamped == f.sha:
            unchanged.add(f.path)
        elif stamped is None:
            retried.add(f.path)
        else:
            changed.add(f.path)
    present = {f.path for f in found.files}
    return Plan(frozenset(changed), frozenset(retried), frozenset(unchanged),
                tuple(sorted(set(known) - present)), fresh=not known, known=frozenset(known), state=state)
