"""The indexing spine end to end against a real ArcadeDB server over Bolt."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from graph_helpers import comparable, edges_by_name, names_of, snapshot
from sample_repo import (
    EXPECTED_CALLS,
    EXPECTED_CLASSES,
    EXPECTED_EXTERNAL,
    EXPECTED_FILES,
    EXPECTED_FUNCTIONS,
    EXPECTED_IMPORTS,
    EXPECTED_INHERITS,
    EXPECTED_METHODS,
    EXPECTED_MODULES,
    EXPECTED_NODE_COUNTS,
    EXPECTED_RELATIONSHIP_COUNTS,
    EXPECTED_SKIPPED,
    EXPECTED_SYNTAX_ERRORS,
    make_sample_repo,
)

from indexer.errors import RepositoryError
from indexer.models import Progress
from indexer.pipeline.run import run
from indexer.settings import Settings
from indexer.store import GraphStore, reads, writes


def index(root: Path, settings: Settings, store: GraphStore, repo: str, **overrides: object):
    return run(root, settings.with_overrides(**overrides), repo=repo, store=store)


def test_sample_repository_has_its_known_graph(sample: Path, graph_settings: Settings, store: GraphStore) -> None:
    events: list[Progress] = []
    summary = run(sample, graph_settings, repo="known", store=store, progress=events.append)

    assert summary.nodes == dict(sorted(EXPECTED_NODE_COUNTS.items()))
    assert summary.relationships == dict(sorted(EXPECTED_RELATIONSHIP_COUNTS.items()))
    assert summary.files_indexed == len(EXPECTED_FILES) and summary.files_failed == 0
    assert {s["path"]: s["reason"] for s in summary.skipped} == EXPECTED_SKIPPED
    assert summary.syntax_errors == len(EXPECTED_SYNTAX_ERRORS)
    assert summary.executor == "serial"  # 6 files: below the serial threshold
    assert {"discover", "parse", "resolve", "write"} <= set(summary.phases)

    assert names_of(store, "known", "File") == EXPECTED_FILES  # ignored.py and build/ are not there
    assert names_of(store, "known", "Module") == EXPECTED_MODULES
    assert names_of(store, "known", "Class") == EXPECTED_CLASSES
    assert names_of(store, "known", "Function") == EXPECTED_FUNCTIONS
    assert names_of(store, "known", "Method") == EXPECTED_METHODS
    assert names_of(store, "known", "ExternalModule") == EXPECTED_EXTERNAL
    assert edges_by_name(store, "known", "CALLS") == EXPECTED_CALLS
    assert edges_by_name(store, "known", "INHERITS") == EXPECTED_INHERITS
    assert edges_by_name(store, "known", "IMPORTS") == EXPECTED_IMPORTS

    broken = store.read("MATCH (f:File) WHERE f.repo = 'known' AND f.path = 'broken.py' RETURN f.error AS e")
    assert broken[0]["e"].startswith("SyntaxError")
    method = store.read(
        "MATCH (m:Method) WHERE m.repo = 'known' AND m.qualified_name = 'pkg.shapes.Shape.describe' "
        "RETURN m.start_line AS s, m.end_line AS e, m.signature AS sig, m.docstring AS doc, m.path AS path"
    )[0]
    assert method == {"s": 11, "e": 13, "sig": "def describe(self) -> str", "doc": "Say what the shape is.",
                      "path": "pkg/shapes.py"}
    assert [e.phase for e in events][:1] == ["discover"] and any(e.phase == "parse" for e in events)
    parse_events = [e for e in events if e.phase == "parse"]
    assert parse_events[-1].done == parse_events[-1].total == len(EXPECTED_FILES)


def test_reindexing_is_idempotent(sample: Path, graph_settings: Settings, store: GraphStore) -> None:
    first = index(sample, graph_settings, store, "idem")
    before = snapshot(store, "idem")
    second = index(sample, graph_settings, store, "idem")
    assert snapshot(store, "idem") == before
    assert second.files_changed == 0 and second.files_unchanged == first.files_indexed
    assert second.edges_added == 0 and second.edges_removed == 0
    assert second.nodes == first.nodes and second.relationships == first.relationships


def test_every_executor_yields_the_identical_graph(sample: Path, graph_settings: Settings,
                                                   store: GraphStore) -> None:
    graphs = {}
    for executor in ("serial", "thread", "process"):
        repo = f"exec-{executor}"
        summary = index(sample, graph_settings, store, repo, executor=executor, workers=2)
        assert summary.executor == executor
        graphs[executor] = comparable(store, repo)
    assert graphs["thread"] == graphs["serial"]
    assert graphs["process"] == graphs["serial"]


def test_changed_and_deleted_files_converge_to_a_fresh_index(tmp_path: Path, graph_settings: Settings,
                                                             store: GraphStore) -> None:
    root = make_sample_repo(tmp_path / "evolving")
    index(root, graph_settings, store, "evolving")
    # Edit: rename a function (its callers from an unchanged file must be re-pointed), delete a file,
    # add a file that calls into an unchanged one, and fix the syntax error.
    util = root / "pkg/geometry/util.py"
    util.write_text(util.read_text().replace("def square", "def squared").replace("square(a", "squared(a"))
    (root / "app.py").unlink()
    (root / "broken.py").write_text("from pkg.shapes import make_circle\n\ndef fixed():\n    make_circle(2)\n")
    summary = index(root, graph_settings, store, "evolving")
    assert summary.files_deleted == 1 and summary.files_changed == 2

    fresh_root = tmp_path / "fresh"
    shutil.copytree(root, fresh_root, symlinks=True)
    index(fresh_root, graph_settings, store, "evolving-fresh")
    evolved = _strip_sha(comparable(store, "evolving"))
    fresh = _strip_sha(comparable(store, "evolving-fresh"))
    assert evolved == fresh
    calls = edges_by_name(store, "evolving", "CALLS")
    assert ("pkg.geometry.util.distance.delta", "pkg.geometry.util.squared") in calls
    assert ("broken.fixed", "pkg.shapes.make_circle") in calls
    assert not [c for c in calls if c[0].startswith("app.")]


def _strip_sha(graph: dict) -> dict:
    graph["nodes"] = [n[:-1] for n in graph["nodes"]]
    return graph


def test_interrupted_run_is_redone_by_the_next(sample: Path, graph_settings: Settings, store: GraphStore) -> None:
    """A run cancelled before its end leaves the changed files unstamped, so the next run finishes them."""
    from threading import Event

    cancel = Event()

    def stop_after_parse(p: Progress) -> None:
        if p.phase == "resolve":
            cancel.set()

    first = run(sample, graph_settings, repo="interrupted", store=store, progress=stop_after_parse, cancel=cancel)
    assert first.cancelled
    second = index(sample, graph_settings, store, "interrupted")
    assert not second.cancelled and second.files_retried == len(EXPECTED_FILES) and second.files_changed == 0
    assert second.relationships == dict(sorted(EXPECTED_RELATIONSHIP_COUNTS.items()))


def test_two_roots_cannot_share_a_repository_name(tmp_path: Path, graph_settings: Settings,
                                                  store: GraphStore) -> None:
    a = make_sample_repo(tmp_path / "a" / "same")
    b = make_sample_repo(tmp_path / "b" / "same")
    index(a, graph_settings, store, "same-name")
    with pytest.raises(RepositoryError, match="already belongs to"):
        index(b, graph_settings, store, "same-name")


def test_missing_path_is_a_clear_error(tmp_path: Path, graph_settings: Settings, store: GraphStore) -> None:
    with pytest.raises(RepositoryError, match="no such directory"):
        run(tmp_path / "nope", graph_settings, store=store)
    (tmp_path / "file.py").write_text("x = 1\n")
    with pytest.raises(RepositoryError, match="not a directory"):
        run(tmp_path / "file.py", graph_settings, store=store)


def test_remove_repository(sample: Path, graph_settings: Settings, store: GraphStore) -> None:
    index(sample, graph_settings, store, "doomed")
    assert writes.delete_repository(store, "doomed") > 0
    assert snapshot(store, "doomed") == {"nodes": [], "relationships": [], "repository": []}
    assert reads.repository(store, "doomed") is None
