"""How sure each edge is (issue 13, item 6): the unresolved call sites that might have reached the repository are
kept on their calling nodes (`unresolved_calls`), and an incremental run keeps them equal to a clean index's,
also on unchanged files whose calls another file's change resolved or unresolved."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from graph_helpers import assert_same_graph
from resolve_helpers import resolved

from indexer.models import UnresolvedCall
from indexer.pipeline.run import run
from indexer.settings import Settings
from indexer.store import GraphStore, open_store, writes

LIB_V1 = "def helper():\n    pass\n"
LIB_V2 = "def missing():\n    pass\n\n\ndef gone():\n    pass\n"
APP = (  # never edited: its unresolved calls (and its REFERENCES edge to lib.helper) change with lib.py
    "import lib\nfrom lib import gone\n\n\ndef run(db):\n    lib.helper()\n    lib.missing()\n    db.save()\n"
    "    gone()\n    getattr(db, 'x')()\n    len(db)\n    sorted(db, key=lib.helper)\n\n\nclass Job:\n"
    "    db.flush()\n"
)


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture(scope="module")
def store(graph_settings: Settings) -> Iterator[GraphStore]:
    with open_store(graph_settings) as s:
        yield s


def stored(store: GraphStore, repo: str) -> dict[str, list[str]]:
    rows = store.read("MATCH (n:Code) WHERE n.repo = $repo AND n.unresolved_calls IS NOT NULL "
                      "RETURN n.qualified_name AS q, n.unresolved_calls AS u", repo=repo)
    return {r["q"]: list(r["u"]) for r in rows}


def test_resolution_keeps_the_named_sites_that_might_reach_the_repository() -> None:
    result, _ = resolved({"lib.py": LIB_V1, "app.py": APP})
    assert result.unresolved_sites == [
        UnresolvedCall("t:app.Job", "flush", 16, "unknown_receiver", "db.flush"),  # class-level code
        UnresolvedCall("t:app.run", "gone", 9, "dynamic", "gone"),  # imported, never bound in lib
        UnresolvedCall("t:app.run", "missing", 7, "dynamic", "lib.missing"),
        UnresolvedCall("t:app.run", "save", 8, "unknown_receiver", "db.save"),
    ]  # not kept: getattr(db, 'x')() (no name), getattr, len and sorted (builtins)
    assert result.call_sites["unresolved"] == 8 and result.call_sites["builtin"] == 3
    assert [(e.source, e.target) for e in result.edges if e.type == "REFERENCES"] == [("t:app.run", "t:lib.helper")]


def test_an_unchanged_callers_unresolved_calls_follow_another_files_change(
        tmp_path: Path, graph_settings: Settings, store: GraphStore) -> None:
    root = write(tmp_path / "evolving", {"lib.py": LIB_V1, "app.py": APP})
    run(root, graph_settings, repo="unres-inc", store=store)
    assert stored(store, "unres-inc") == {
        "app.Job": ["flush:16:unknown_receiver:db.flush"],
        "app.run": ["gone:9:dynamic:gone", "missing:7:dynamic:lib.missing", "save:8:unknown_receiver:db.save"],
    }
    # lib.py now defines missing and gone and no longer helper: two of app.run's calls resolve, one does not
    for version, expected in ((LIB_V2, ["helper:6:dynamic:lib.helper", "save:8:unknown_receiver:db.save"]),
                              (LIB_V1, None)):
        (root / "lib.py").write_text(version)
        summary = run(root, graph_settings, repo="unres-inc", store=store)
        assert summary.files_changed == 1 and summary.files_unchanged == 1  # app.py was not rewritten
        if expected is not None:
            assert stored(store, "unres-inc")["app.run"] == expected
        clean = tmp_path / f"clean-{len(version)}"
        shutil.copytree(root, clean)
        run(clean, graph_settings, repo="unres-clean", store=store)
        try:
            assert_same_graph(store, "unres-inc", "unres-clean")
        finally:
            writes.delete_repository(store, "unres-clean")


def test_a_caller_left_with_no_unresolved_call_loses_the_property(
        tmp_path: Path, graph_settings: Settings, store: GraphStore) -> None:
    root = write(tmp_path / "shrinking", {"lib.py": LIB_V2, "app.py": "import lib\n\n\ndef run():\n"
                                                                      "    lib.missing()\n"})
    run(root, graph_settings, repo="unres-gone", store=store)
    assert stored(store, "unres-gone") == {}
    (root / "lib.py").write_text(LIB_V1)
    run(root, graph_settings, repo="unres-gone", store=store)
    assert stored(store, "unres-gone") == {"app.run": ["missing:5:dynamic:lib.missing"]}
    (root / "lib.py").write_text(LIB_V2)
    run(root, graph_settings, repo="unres-gone", store=store)
    assert stored(store, "unres-gone") == {}
    rows = store.read("MATCH (n:Code) WHERE n.repo = 'unres-gone' AND n.qualified_name = 'app.run' "
                      "RETURN properties(n) AS p")
    assert "unresolved_calls" not in rows[0]["p"]  # removed, not stored as null
