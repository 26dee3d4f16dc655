"""detect_changes against a real git history (commits made here), and the answers' CLI commands: `graphdex changes`
with its exit code from --fail-over, dead-code, path, impact and architecture (Mermaid, SVG, and a clear error
without Graphviz)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from answers_repo import EDITED_PLACE, make_answers_repo

from indexer.answers import changes
from indexer.errors import GitError
from indexer.pipeline.run import run
from indexer.settings import Settings
from indexer.store import GraphStore, open_store

R = "answers-git"
PLACE = "def place(total):\n    conn = db.connect()\n    order = Order(total)\n    order.save()\n    return conn\n"


@pytest.fixture(scope="module")
def store(graph_settings: Settings) -> Iterator[GraphStore]:
    with open_store(graph_settings) as s:
        yield s


def git(root: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, env=env, check=True)
    return done.stdout


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory, graph_settings: Settings, store: GraphStore) -> Path:
    """The shop committed, then edited: a line in place(), an import added to report.py, a new untracked
    file; indexed after the edits (the graph has the working tree's lines)."""
    root = make_answers_repo(tmp_path_factory.mktemp("git") / "shop")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "shop")
    service = root / "shop" / "service.py"
    service.write_text(service.read_text().replace(PLACE, EDITED_PLACE))
    report = root / "shop" / "report.py"
    report.write_text("import json\n" + report.read_text())
    (root / "shop" / "new.py").write_text("def fresh():\n    return 1\n")
    run(root, graph_settings, repo=R, store=store)
    return root


AFFECTED = [("shop.cli", 1, "imports"), ("shop.db", 1, "imports"), ("shop.service.checkout", 1, "calls"),
            ("test_service", 1, "imports"), ("test_service.test_place", 1, "calls"),
            ("shop.report.run_report", 2, "calls")]


def test_changed_lines_map_onto_the_innermost_symbols(repo: Path, store: GraphStore) -> None:
    answer = changes.detect_changes(store, R)
    assert [(f["path"], f["status"], f["lines"], f["indexed"], f["stale"]) for f in answer["files"]] == [
        ("shop/new.py", "untracked", [[1, 2]], True, False),
        ("shop/report.py", "modified", [[1, 1]], True, False),  # the import: the module's own code
        ("shop/service.py", "modified", [[13, 13]], True, False),
    ]
    assert [(c["qualified_name"], c["kind"], c["changed_lines"], c["dependents"], c["files"], c["risk"])
            for c in answer["changed"]] == [
        ("shop.new", "Module", [[1, 2]], 0, 0, "low"),
        ("shop.report", "Module", [[1, 1]], 1, 1, "low"),  # imported by shop.cli
        ("shop.service.place", "Function", [[13, 13]], 6, 4, "medium"),  # answers_repo.IMPACT_PLACE
    ]
    assert [(d["qualified_name"], d["depth"], d["via"]) for d in answer["affected_symbols"]] == AFFECTED
    assert answer["tests"] == ["test_service", "test_service.test_place"]
    assert answer["affected"]["symbols"] == 6 and answer["affected"]["tests"] == 2
    assert answer["note"] == "3 changed files, 3 changed symbols, 6 dependents"


def test_a_file_changed_since_the_index_is_stale(repo: Path, store: GraphStore) -> None:
    util = repo / "shop" / "util.py"
    original = util.read_text()
    util.write_text(original.replace("return 2", "return 3"))
    try:
        answer = changes.detect_changes(store, R)
        stale = {f["path"]: f["stale"] for f in answer["files"]}
        assert stale == {"shop/new.py": False, "shop/report.py": False, "shop/service.py": False,
                         "shop/util.py": True}
        assert [c["qualified_name"] for c in answer["changed"]][-1] == "shop.util._private_dead"
        assert "indexed before these changes (index again for exact lines): shop/util.py" in answer["note"]
    finally:
        util.write_text(original)


def test_another_base_and_a_deleted_file(repo: Path, store: GraphStore, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    shutil.copytree(repo, clone)
    git(clone, "add", "-A")
    git(clone, "commit", "-q", "-m", "edits")
    assert [f["path"] for f in changes.changed_files_of(clone, "HEAD")] == []
    assert [f["path"] for f in changes.changed_files_of(clone, "HEAD~1")] == ["shop/new.py", "shop/report.py",
                                                                             "shop/service.py"]
    (clone / "shop" / "db.py").unlink()
    deleted = changes.changed_files_of(clone, "HEAD")
    assert [(f["path"], f["status"]) for f in deleted] == [("shop/db.py", "deleted")]


def test_no_git_and_unknown_revisions_are_clear_errors(tmp_path: Path, repo: Path, store: GraphStore,
                                                       graph_settings: Settings) -> None:
    plain = make_answers_repo(tmp_path / "plain")
    run(plain, graph_settings, repo="answers-nogit", store=store)
    with pytest.raises(GitError, match="is not in a git repository: detect_changes compares a git working tree"):
        changes.detect_changes(store, "answers-nogit")
    with pytest.raises(GitError, match="unknown git revision"):
        changes.detect_changes(store, R, base="no-such-branch")
    with pytest.raises(GitError, match="not a revision"):
        changes.detect_changes(store, R, base="--output=/tmp/x")


def test_parse_diff_statuses_and_ranges() -> None:
    diff = (
        "diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -3,2 +3,4 @@ x\n@@ -10 +12,0 @@\n"
        "diff --git a/new.py b/new.py\nnew file mode 100644\n--- /dev/null\n+++ b/new.py\n@@ -0,0 +1,3 @@\n"
        "diff --git a/old.py b/old.py\ndeleted file mode 100644\n--- a/old.py\n+++ /dev/null\n@@ -1,2 +0,0 @@\n"
        "diff --git a/x.py b/y.py\nsimilarity index 90%\nrename from x.py\nrename to y.py\n--- a/x.py\n"
        "+++ b/y.py\n@@ -1 +1 @@\n"
    )
    files = changes.gitdiff.parse_diff(diff)
    assert [(f.path, f.status, f.ranges, f.whole) for f in files] == [
        ("a.py", "modified", [(3, 6), (12, 13)], False),  # a deletion touches the lines either side of it
        ("new.py", "added", [(1, 3)], True),
        ("old.py", "deleted", [(1, 1)], True),
        ("y.py", "renamed", [(1, 1)], False),
    ]


# ------------------------------------------------------------------------------------------------ the CLI


def graphdex(*args: str, home: Path, cwd: Path | None = None,
             path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "GRAPHDEX_"))}
    env["GRAPHDEX_HOME"] = str(home)
    if "GRAPHDEX_ARCADEDB_HOME" in os.environ:
        env["GRAPHDEX_ARCADEDB_HOME"] = os.environ["GRAPHDEX_ARCADEDB_HOME"]
    if path is not None:
        env["PATH"] = path
    return subprocess.run([sys.executable, "-m", "indexer", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=300)


def test_changes_exit_code_follows_the_threshold(repo: Path, graph_home: Path) -> None:
    over = graphdex("changes", "--fail-over", "5", home=graph_home, cwd=repo / "shop")  # the repository holding it
    assert over.returncode == 1, over.stderr
    assert over.stderr.strip() == "graphdex: the changes reach 6 symbols, more than 5"
    assert ("changed  Function shop.service.place  shop/service.py:11  -> 6 dependents in 4 files (medium)"
            in over.stdout)
    under = graphdex("changes", str(repo), "--fail-over", "6", "--json", home=graph_home)
    assert under.returncode == 0, under.stderr
    assert json.loads(under.stdout)["affected"]["symbols"] == 6
    tests = graphdex("changes", "--repo", R, "--fail-over", "1", "--metric", "tests", home=graph_home)
    assert tests.returncode == 1 and "reach 2 tests, more than 1" in tests.stderr


def test_the_other_answer_commands(repo: Path, graph_home: Path) -> None:
    dead = graphdex("dead-code", "--repo", R, "--json", "--limit", "2", home=graph_home)
    assert dead.returncode == 0, dead.stderr
    assert [s["qualified_name"] for s in json.loads(dead.stdout)["symbols"]] == ["shop.models._unused_helper",
                                                                                 "shop.util._private_dead"]
    path = graphdex("path", "shop.cli.main", "shop.models.Base._write", "--repo", R, home=graph_home)
    assert path.returncode == 0, path.stderr
    assert "shop.service.place -> shop.models.Base.save  shop/service.py:14  [inferred-receiver]" in path.stdout
    impact = graphdex("impact", "shop.db.flush", "--repo", R, home=graph_home)
    assert impact.returncode == 0 and "1 more call named `flush` could not be resolved" in impact.stdout
    mermaid = graphdex("architecture", "--repo", R, "--mermaid", home=graph_home)
    assert mermaid.returncode == 0 and mermaid.stdout.startswith("flowchart TD")
    missing = graphdex("impact", "nothing.here", "--repo", R, home=graph_home)
    assert missing.returncode == 2 and missing.stderr.startswith("graphdex: error: no ")


def test_architecture_svg_and_its_error_without_graphviz(repo: Path, graph_home: Path, tmp_path: Path) -> None:
    svg = tmp_path / "shop.svg"
    drawn = graphdex("architecture", "--repo", R, "--svg", str(svg), home=graph_home)
    assert drawn.returncode == 0, drawn.stderr
    assert "<svg" in svg.read_text()
    bare = graphdex("architecture", "--repo", R, "--svg", str(tmp_path / "no.svg"), home=graph_home,
                    path=str(tmp_path))  # no `dot` on this PATH
    assert bare.returncode == 1
    assert bare.stderr.strip().splitlines() == [
        "graphdex: error: drawing an SVG needs Graphviz's `dot` program, which is not installed: install the "
        "graphviz package (apt-get install graphviz, brew install graphviz, choco install graphviz), or use "
        "--mermaid"]
