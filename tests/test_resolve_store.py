"""CALLS edge properties in the real graph server: written, read back for the edge diff (a no-op re-index writes
no edge), rewritten when they change."""

from __future__ import annotations

from pathlib import Path

from test_resolve_branches import NT, OS_LIKE, POSIX

from indexer.pipeline.run import run
from indexer.settings import Settings
from indexer.store import GraphStore


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def stored_calls(store: GraphStore, repo: str) -> dict[tuple[str, str], tuple[str, str]]:
    rows = store.read(
        "MATCH (a:Code)-[x:CALLS]->(b:Code) WHERE a.repo = $repo "
        "RETURN a.qualified_name AS a, b.qualified_name AS b, x.provenance AS p, x.condition AS c",
        repo=repo,
    )
    return {(r["a"], r["b"]): (r["p"], r["c"]) for r in rows}


FILES = {**OS_LIKE, "main.py": "import user\n\nuser.f()\n"}  # a module-level caller


def test_properties_are_stored_and_a_noop_reindex_writes_no_edge(tmp_path: Path, graph_settings: Settings,
                                                                  store: GraphStore) -> None:
    root = write(tmp_path / "os-like", FILES)
    first = run(root, graph_settings, repo="os-like", store=store)
    assert first.call_sites == {"resolved": 4, "unresolved": 1, "builtin": 1, "external": 0,
                                "unknown_receiver": 0, "dynamic": 0}
    calls = stored_calls(store, "os-like")
    assert calls == {
        ("user.f", "mposix.join"): ("import", POSIX), ("user.f", "mnt.join"): ("import", NT),
        ("user.g", "mposix.split"): ("import", POSIX), ("user.g", "mnt.split"): ("import", NT),
        ("user.h", "mposix.join"): ("import", POSIX), ("user.h", "mnt.join"): ("import", NT),
        ("main", "user.f"): ("import", ""),  # Module -> Function
    }
    again = run(root, graph_settings, repo="os-like", store=store)
    assert (again.edges_added, again.edges_removed) == (0, 0)
    assert stored_calls(store, "os-like") == calls


def test_a_changed_property_rewrites_the_edge(tmp_path: Path, graph_settings: Settings, store: GraphStore) -> None:
    """Between two unchanged files, through a re-export that changes: the diff sees the new condition."""
    files = {"lib.py": "def go():\n    pass\n", "mid.py": "from lib import go\n",
             "app.py": "from mid import go\n\ndef main():\n    go()\n"}
    root = write(tmp_path / "changing", files)
    run(root, graph_settings, repo="changing", store=store)
    assert stored_calls(store, "changing") == {("app.main", "lib.go"): ("import", "")}
    (root / "mid.py").write_text("try:\n    from _fast import go\nexcept ImportError:\n    from lib import go\n")
    changed = run(root, graph_settings, repo="changing", store=store)
    # the CALLS edge is deleted and created again with its new condition; the IMPORTS of and into mid went
    # with its nodes (app -> mid, mid -> lib) and mid -> _fast is new
    assert changed.edges_removed == 1
    assert changed.edges_added == 4
    assert stored_calls(store, "changing") == {("app.main", "lib.go"): ("import", "ImportError fallback")}
    again = run(root, graph_settings, repo="changing", store=store)
    assert (again.edges_added, again.edges_removed) == (0, 0)
