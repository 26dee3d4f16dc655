"""The ten tree-sitter languages end to end (issue 10): each fixture repository of tests/language_fixtures.py is
indexed into the real graph server and its whole graph must equal the one worked out by hand: every node with
its kind, qualified name, subkind and language, every CONTAINS, CALLS, IMPORTS and INHERITS edge (with its
relation), the unresolved calls counted per language, the files with syntax errors.

These tests go through the pipeline only, never importing tree_sitter here: on free-threaded Python the parse
stage sends these files to worker processes, and the pytest process keeps the GIL off for the threaded tests.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from language_fixtures import FIXTURES, Fixture, language_of, module_name, source_files

from indexer import runtime
from indexer.models import Summary
from indexer.pipeline.parse import languages as language_table
from indexer.pipeline.run import run as index_run
from indexer.settings import Settings
from indexer.store import GraphStore, open_store

EdgeRow = tuple[str, str, str, str, str, str]  # type, source kind, source name, target kind, target name, relation


@pytest.fixture(scope="module")
def store(graph_settings: Settings):
    with open_store(graph_settings) as opened:
        yield opened


def expected_nodes(fx: Fixture) -> Counter[tuple[str, str, str, str]]:
    """(kind, qualified name, subkind, language): Files carry their language, Classes their subkind."""
    nodes: Counter[tuple[str, str, str, str]] = Counter()
    for path in source_files(fx):
        nodes[("File", path, "", language_of(fx, path))] += 1
        nodes[("Module", module_name(fx, path), "", "")] += 1
    for kind, qname, subkind, _ in fx.symbols:
        nodes[(kind, qname, subkind, "")] += 1
    for name in fx.externals:
        nodes[("ExternalModule", name, "", "")] += 1
    return nodes


def expected_edges(fx: Fixture) -> Counter[EdgeRow]:
    kinds = {qname: kind for kind, qname, _, _ in fx.symbols}
    modules = {module_name(fx, p) for p in source_files(fx)}
    edges: Counter[EdgeRow] = Counter()
    for path in source_files(fx):
        edges[("CONTAINS", "File", path, "Module", module_name(fx, path), "")] += 1
    for kind, qname, _, parent in fx.symbols:
        if parent in fx.files:
            edges[("CONTAINS", "Module", module_name(fx, parent), kind, qname, "")] += 1
        else:
            edges[("CONTAINS", kinds[parent], parent, kind, qname, "")] += 1
    for caller, callee in fx.calls:
        edges[("CALLS", kinds[caller], caller, kinds[callee], callee, "")] += 1
    for source, target in fx.imports:
        target_kind = "Module" if module_name(fx, target) in modules else "ExternalModule"
        edges[("IMPORTS", "Module", module_name(fx, source), target_kind, module_name(fx, target), "")] += 1
    for child, base, relation in fx.inherits:
        edges[("INHERITS", "Class", child, "Class", base, relation)] += 1
    return edges


def graph_of(store: GraphStore, repo: str) -> tuple[Counter[Any], Counter[EdgeRow]]:
    nodes = store.read(
        "MATCH (n:Code) WHERE n.repo = $repo RETURN n.kind AS kind, n.qualified_name AS q, "
        "coalesce(n.subkind, '') AS subkind, coalesce(n.language, '') AS language", repo=repo)
    rels = store.read(
        "MATCH (a:Code)-[x]->(b:Code) WHERE a.repo = $repo RETURN type(x) AS t, a.kind AS ak, "
        "a.qualified_name AS a, b.kind AS bk, b.qualified_name AS b, coalesce(x.relation, '') AS relation",
        repo=repo)
    return (Counter((n["kind"], n["q"], n["subkind"], n["language"]) for n in nodes),
            Counter((r["t"], r["ak"], r["a"], r["bk"], r["b"], r["relation"]) for r in rels))


def assert_same(part: str, got: Counter[Any], want: Counter[Any]) -> None:
    missing, extra = want - got, got - want
    assert not missing and not extra, f"{part}: missing {sorted(missing.elements())}, extra {sorted(extra.elements())}"


def index(fx: Fixture, root: Path, settings: Settings, store: GraphStore, repo: str, **overrides: Any) -> Summary:
    return index_run(fx.write(root), settings.with_overrides(**overrides), repo=repo, store=store)


# -- every language's known graph --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_fixture_graph_is_exactly_the_hand_worked_one(name: str, graph_settings: Settings, store: GraphStore,
                                                      tmp_path: Path) -> None:
    fx = FIXTURES[name]
    summary = index(fx, tmp_path / name, graph_settings, store, f"lang-{name}")
    nodes, edges = graph_of(store, f"lang-{name}")
    assert_same("nodes", nodes, expected_nodes(fx))
    assert_same("relationships", edges, expected_edges(fx))
    assert sorted(f["path"] for f in summary.syntax_error_files) == sorted(fx.syntax_errors)
    unresolved = sum(row.get("unresolved_calls", 0) for lang, row in summary.languages.items() if lang != "python")
    assert unresolved == fx.unresolved_calls
    assert summary.files_failed == 0 and summary.files_skipped == 0
    names = store.read("MATCH (f:File)-[:CONTAINS]->(m:Module) WHERE f.repo = $repo AND f.language <> 'python' "
                       "RETURN f.name AS file, m.name AS module", repo=f"lang-{name}")
    assert names and all(row["file"] == row["module"] for row in names)  # a Module is named by its file


def test_reindexing_a_fixture_changes_nothing(graph_settings: Settings, store: GraphStore, tmp_path: Path) -> None:
    """Incremental runs converge: a second index of an unchanged tree writes and removes no edge."""
    fx = FIXTURES["java"]
    root = fx.write(tmp_path / "java")
    first = index_run(root, graph_settings, repo="lang-again", store=store)
    second = index_run(root, graph_settings, repo="lang-again", store=store)
    assert first.edges_added > 0
    assert (second.edges_added, second.edges_removed, second.files_changed) == (0, 0, 0)


def test_summary_counts_each_language_and_names_its_executor(graph_settings: Settings, store: GraphStore,
                                                             tmp_path: Path) -> None:
    fx = FIXTURES["polyglot"]
    summary = index(fx, tmp_path / "poly", graph_settings, store, "lang-summary")
    rows = summary.languages
    assert set(rows) == {"python", "typescript", "go", "c"}
    assert rows["typescript"]["files"] == 2 and rows["typescript"]["Function"] == 3
    assert rows["typescript"]["calls"] == 3 and rows["typescript"]["unresolved_calls"] == 1
    assert rows["python"]["files"] == 2 and rows["python"]["unresolved_calls"] == 0
    for row in rows.values():
        assert row["executor"] in ("serial", "thread", "process") and row["executor_reason"]
    if runtime.is_free_threading_available():
        assert rows["go"]["executor"] == "process" and "GIL" in rows["go"]["executor_reason"]


def test_a_missing_grammar_skips_its_files_with_the_reason(graph_settings: Settings, store: GraphStore,
                                                           tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No silent loss: without a grammar, the files are listed as skipped, with the command that fixes it."""
    real = language_table.grammars.missing

    def without_go(names: list[str], home: Path | str) -> dict[str, str]:
        found = real(names, home)
        if "go" in names:
            found["go"] = "no tree-sitter grammar for go: pip install 'graphdex[languages]'"
        return found

    monkeypatch.setattr(language_table.grammars, "missing", without_go)
    summary = index(FIXTURES["polyglot"], tmp_path / "poly", graph_settings, store, "lang-missing")
    assert summary.skipped == [{"path": "svc/main.go",
                                "reason": "no tree-sitter grammar for go: pip install 'graphdex[languages]'"}]
    assert summary.languages["go"]["skipped"].startswith("no tree-sitter grammar for go")
    nodes, _ = graph_of(store, "lang-missing")
    assert ("File", "svc/main.go", "", "go") not in nodes


def test_header_language_follows_its_sources() -> None:
    assign = language_table.assign
    assert assign(["a/x.h", "a/x.cc", "b/y.h", "b/y.c"]) == {"a/x.h": "cpp", "a/x.cc": "cpp", "b/y.h": "c",
                                                              "b/y.c": "c"}
    assert assign(["inc/z.h", "src/a.cc", "src/b.cc", "src/c.c"])["inc/z.h"] == "cpp"
    assert assign(["only.h"]) == {"only.h": "c"}
    # two projects side by side: each header follows its own project's sources, not the repository's majority
    mono = assign(["p/include/q.h", "p/src/a.cc", "r/include/s.h", "r/src/a.c", "r/src/b.c", "r/src/c.c"])
    assert (mono["p/include/q.h"], mono["r/include/s.h"]) == ("cpp", "c")


def test_grammar_status_never_imports_tree_sitter() -> None:
    import sys

    from indexer.pipeline.parse import grammars

    before = "tree_sitter" in sys.modules
    grammars.missing(list(grammars.GRAMMARS), "/nonexistent")
    assert ("tree_sitter" in sys.modules) == before


# -- free-threaded Python: tree-sitter only in worker processes ---------------------------------------------------


@pytest.mark.parametrize("threshold, python_executor", [(0, "thread"), (50, "serial")])
def test_polyglot_on_free_threaded_python_keeps_the_parent_gil_off(
        threshold: int, python_executor: str, graph_settings: Settings, store: GraphStore, tmp_path: Path) -> None:
    """On 3.14t with `auto`, Python files parse on threads (or serially) here with the GIL off, every other
    language in worker processes: tree_sitter never enters this process, and the graph is the known one."""
    import os
    import sys

    if not runtime.is_free_threading_available() or runtime.is_gil_enabled():
        problem = "needs a free-threaded build with the GIL off"
        if os.environ.get("GRAPHDEX_EXPECT_FREE_THREADING") == "1":
            pytest.fail(f"free-threaded lane: {problem}", pytrace=False)
        pytest.skip(problem)
    fx = FIXTURES["polyglot"]
    repo = f"lang-ft-{threshold}"
    summary = index(fx, tmp_path / "poly", graph_settings, store, repo, executor="auto", workers=2,
                    serial_threshold=threshold)
    assert sys._is_gil_enabled() is False, runtime.gil_cause()
    assert "tree_sitter" not in sys.modules
    assert summary.gil_enabled is False and summary.gil_cause is None
    assert summary.languages["python"]["executor"] == python_executor
    for language in ("typescript", "go", "c"):
        assert summary.languages[language]["executor"] == "process"
    nodes, edges = graph_of(store, repo)
    assert_same("nodes", nodes, expected_nodes(fx))
    assert_same("relationships", edges, expected_edges(fx))


def test_grammars_status_lists_every_grammar(graph_settings: Settings) -> None:
    """`graphdex grammars status --json`: every grammar with its version and source; exit 0 when none is missing
    (the CI lanes install them: wheels with a GIL, compiled on 3.14t)."""
    import json
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "indexer", "grammars", "status", "--json"], capture_output=True,
                          text=True, timeout=60)
    data = json.loads(done.stdout)
    assert set(data["grammars"]) == {"javascript", "typescript", "tsx", "go", "rust", "java", "c", "cpp",
                                     "c_sharp", "ruby", "php"}
    assert done.returncode == 0, data
    assert all(row["missing"] is None and row["source"] != "missing" for row in data["grammars"].values())
