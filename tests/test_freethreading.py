"""The free-threaded lane (issue 5): on CPython 3.14t the thread executor indexes with the GIL really off, the
graph is identical however many threads write it, and the runtime tells the truth about the GIL.

Tests marked by the `free_threaded` fixture need a free-threaded build with the GIL off; elsewhere they skip with
the reason. With GRAPHDEX_EXPECT_FREE_THREADING=1 (set by .ci/run in its 3.14t lane) a build that is not
free-threaded, or a GIL that is on, fails them instead: the lane must never pass on skips.
The other tests run on every interpreter.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path
from typing import Any

import pytest
from generated_repo import expected_counts, make_generated_repo
from graph_helpers import comparable
from sample_repo import EXPECTED_NODE_COUNTS, EXPECTED_RELATIONSHIP_COUNTS, make_sample_repo

from indexer import models, runtime
from indexer.pipeline.run import run as index_run
from indexer.settings import Settings
from indexer.store import GraphStore, reads, writes

EXPECT_FT = os.environ.get("GRAPHDEX_EXPECT_FREE_THREADING") == "1"
FREE_THREADED_BUILD = runtime.is_free_threading_available()
LARGE_MODULES = 400  # "a larger generated repository"
# 1,200 modules + 49 package files; four full index runs of it (three threaded, one serial) into ArcadeDB take
# about a minute on 3.14t here. GRAPHDEX_STRESS_MODULES=5000 (or more) for a longer soak.
STRESS_MODULES = int(os.environ.get("GRAPHDEX_STRESS_MODULES", "1200"))
STRESS_RUNS = 3
STRESS_WORKERS = 12
ROOT = Path(__file__).resolve().parent.parent


def _child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHON_GIL", "PYTHONWARNINGS")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(extra)
    return env


def _python(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env or _child_env(),
                          timeout=timeout, cwd=ROOT, stdin=subprocess.DEVNULL)


# -- the lane's guard -----------------------------------------------------------------------------------------


def test_free_threaded_lane_really_is_free_threaded() -> None:
    """In the 3.14t CI lane, an interpreter with a GIL is a failure, not a skip."""
    if not EXPECT_FT:
        pytest.skip("GRAPHDEX_EXPECT_FREE_THREADING is not set: not the free-threaded CI lane")
    assert FREE_THREADED_BUILD, f"GRAPHDEX_EXPECT_FREE_THREADING=1 but {sys.version} is not a free-threaded build"
    assert not runtime.is_gil_enabled(), f"the GIL is on in the free-threaded lane: {runtime.gil_cause()}"


@pytest.fixture
def free_threaded() -> None:
    """Require a free-threaded build with the GIL off now: skip elsewhere, fail in the 3.14t lane."""
    problem = None
    if not FREE_THREADED_BUILD:
        problem = f"needs a free-threaded CPython build (Py_GIL_DISABLED=1); this is {sys.version.split()[0]}"
    elif runtime.is_gil_enabled():
        problem = f"needs the GIL off, but it is on ({runtime.gil_cause()})"
    if problem:
        if EXPECT_FT:
            pytest.fail(f"free-threaded lane: {problem}", pytrace=False)
        pytest.skip(problem)


# -- reading a graph back -------------------------------------------------------------------------------------


def graph_snapshot(store: GraphStore, repo: str) -> tuple[dict[str, int], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """(node counts by kind, sorted nodes, sorted edges) with the repository id cut from every node id."""
    graph = comparable(store, repo)
    counts, _ = reads.counts(store, repo)
    return counts, graph["nodes"], graph["relationships"] + [("Repository", *r) for r in graph["repository"]]


def _index(root: Path, settings: Settings, store: GraphStore, repo: str, **overrides: object) -> models.Summary:
    return index_run(root, settings.with_overrides(**overrides), repo=repo, store=store)


def _assert_gil_still_off(summary: models.Summary) -> None:
    assert sys._is_gil_enabled() is False, f"the GIL was turned on: {runtime.gil_cause()}"
    assert runtime.gil_cause() is None
    assert summary.free_threading_build is True
    assert summary.gil_enabled_at_start is False
    assert summary.gil_enabled is False
    assert summary.gil_cause is None


# -- on free-threaded CPython with the GIL off ------------------------------------------------------------------


def test_sample_repo_on_threads_keeps_the_gil_off(free_threaded: None, graph_settings: Settings,
                                                   store: GraphStore, tmp_path: Path) -> None:
    root = make_sample_repo(tmp_path / "sample")
    summary = _index(root, graph_settings, store, "ft-sample", executor="thread", workers=4)
    try:
        assert summary.executor == "thread" and summary.workers == 4
        assert summary.files_failed == 0
        assert summary.nodes == EXPECTED_NODE_COUNTS
        assert summary.relationships == EXPECTED_RELATIONSHIP_COUNTS
        _assert_gil_still_off(summary)
    finally:
        writes.delete_repository(store, "ft-sample")


def test_large_generated_repo_auto_picks_threads_and_keeps_the_gil_off(
        free_threaded: None, graph_settings: Settings, store: GraphStore, tmp_path: Path) -> None:
    root = make_generated_repo(tmp_path / "large", LARGE_MODULES)
    summary = _index(root, graph_settings, store, "ft-large", executor="auto", workers=4)
    try:
        assert summary.executor == "thread", summary.executor_reason
        assert "GIL off" in summary.executor_reason
        assert summary.files_failed == 0 and summary.files_indexed == expected_counts(LARGE_MODULES)["File"]
        for kind, count in expected_counts(LARGE_MODULES).items():
            assert summary.nodes[kind] == count, kind
        _assert_gil_still_off(summary)
        # Every module this process imported kept the GIL off (no extension needing it was loaded).
        assert runtime.report().gil_enabled is False
    finally:
        writes.delete_repository(store, "ft-large")


@pytest.fixture(scope="module")
def stress_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_generated_repo(tmp_path_factory.mktemp("stress") / "repo", STRESS_MODULES)


def test_stress_many_threads_give_the_identical_graph_every_time(
        free_threaded: None, graph_settings: Settings, store: GraphStore, stress_repo: Path) -> None:
    """12 threads over 1,249 files, three times, then serial once: the same graph every time."""
    snapshots = []
    for run in range(STRESS_RUNS):
        repo = f"ft-stress-{run}"
        summary = _index(stress_repo, graph_settings, store, repo, executor="thread", workers=STRESS_WORKERS,
                         batch_size=500)
        try:
            assert summary.executor == "thread" and summary.workers == STRESS_WORKERS
            assert summary.files_failed == 0, summary.failed
            assert summary.files_indexed == expected_counts(STRESS_MODULES)["File"]
            snapshots.append(graph_snapshot(store, repo))
            _assert_gil_still_off(summary)
        finally:
            writes.delete_repository(store, repo)
    summary = _index(stress_repo, graph_settings, store, "ft-stress-serial", executor="serial")
    try:
        assert summary.executor == "serial"
        serial = graph_snapshot(store, "ft-stress-serial")
    finally:
        writes.delete_repository(store, "ft-stress-serial")
    counts, nodes, edges = serial
    for kind, count in expected_counts(STRESS_MODULES).items():
        assert counts[kind] == count, kind
    assert len(edges) > 4 * len(nodes) // 2  # CONTAINS, CALLS, IMPORTS and INHERITS, all there
    for run, snapshot in enumerate(snapshots):
        assert snapshot[0] == counts, f"thread run {run}: node counts differ from serial"
        assert snapshot[1] == nodes, f"thread run {run}: nodes differ from serial"
        assert snapshot[2] == edges, f"thread run {run}: relationships differ from serial"


# -- the GIL turned on: -X gil=1, PYTHON_GIL=1, an extension that needs it ------------------------------------

_REPORT = "import json; from indexer import runtime; print(json.dumps(runtime.report().to_dict()))"


@pytest.mark.parametrize("how", ["-X gil=1", "PYTHON_GIL=1"])
def test_forcing_the_gil_on_is_named_as_the_cause(free_threaded: None, how: str) -> None:
    args = ["-X", "gil=1", "-c", _REPORT] if how.startswith("-X") else ["-c", _REPORT]
    env = _child_env(PYTHON_GIL="1") if how.startswith("PYTHON_GIL") else _child_env()
    done = _python(*args, env=env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["free_threading_build"] is True
    assert report["gil_enabled"] is True
    assert report["gil_cause"] == how
    assert report["auto_executor"] == "process"
    assert how in report["auto_reason"]


def test_auto_picks_processes_when_the_gil_is_on(tmp_path: Path) -> None:
    """On any interpreter: with the GIL on (3.11/3.10, or 3.14t under PYTHON_GIL=1) `auto` means processes,
    and both `graphdex runtime --json` and the index summary say build, GIL state, cause and why."""
    root = make_generated_repo(tmp_path / "repo", 60)
    extra = {"PYTHON_GIL": "1"} if FREE_THREADED_BUILD else {}
    env = _child_env(GRAPHDEX_HOME=str(tmp_path / "home"), **extra)
    done = _python("-m", "indexer", "runtime", "--json", env=env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["free_threading_build"] is FREE_THREADED_BUILD
    assert report["gil_enabled"] is True
    assert report["gil_cause"] == ("PYTHON_GIL=1" if FREE_THREADED_BUILD else None)
    assert report["auto_executor"] == "process"
    assert "GIL" in report["auto_reason"]

    done = _python("-m", "indexer", "index", str(root), "--dry-run", "--json", "--no-progress",
                   "--executor", "auto", "--workers", "2", env=env)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["executor"] == "process" and summary["workers"] == 2
    assert "GIL" in summary["executor_reason"]
    assert summary["free_threading_build"] is FREE_THREADED_BUILD
    assert summary["gil_enabled"] is True and summary["gil_enabled_at_start"] is True
    assert summary["gil_cause"] == ("PYTHON_GIL=1" if FREE_THREADED_BUILD else None)
    assert summary["files_failed"] == 0
    assert summary["nodes"]["Class"] == expected_counts(60)["Class"]


def test_small_repo_stays_serial_under_auto(tmp_path: Path) -> None:
    root = make_generated_repo(tmp_path / "small", 20)
    summary = index_run(root, Settings(executor="auto", workers=4), dry_run=True)
    assert summary.executor == "serial" and "threshold" in summary.executor_reason


# -- an extension that needs the GIL: CPython's warning is captured and names it -------------------------------

_EXTENSION = """
#include <Python.h>
/* Single-phase init and no Py_mod_gil slot: a free-threaded CPython turns the GIL on to load it. */
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "gilneeder", "needs the GIL", -1, NULL};
PyMODINIT_FUNC PyInit_gilneeder(void) { return PyModule_Create(&def); }
"""


@pytest.fixture(scope="module")
def gil_extension(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny C extension that does not declare it can run without the GIL, built with the system compiler."""
    compiler = shutil.which(os.environ.get("CC", "gcc")) or shutil.which("cc")
    if not compiler:
        message = "no C compiler (gcc/cc) to build the GIL-needing test extension"
        if os.environ.get("GRAPHDEX_EXPECT_FREE_THREADING") == "1":
            pytest.fail(f"{message}: the free-threaded lane must not pass by skipping", pytrace=False)
        pytest.skip(message)
    folder = tmp_path_factory.mktemp("ext")
    source = folder / "gilneeder.c"
    source.write_text(_EXTENSION)
    target = folder / f"gilneeder{sysconfig.get_config_var('EXT_SUFFIX')}"
    done = subprocess.run([compiler, "-shared", "-fPIC", "-O0", f"-I{sysconfig.get_paths()['include']}",
                           str(source), "-o", str(target)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return folder


def test_watch_gil_names_the_extension_that_turned_it_on(free_threaded: None, gil_extension: Path,
                                                         tmp_path: Path) -> None:
    """Import the extension in the middle of an index run (from the progress callback, during the parse
    phase): the summary names it, `auto` had picked threads at start, one warning names the cause."""
    root = make_generated_repo(tmp_path / "repo", 60)
    script = textwrap.dedent(f"""
        import json, logging, sys
        from indexer import runtime
        runtime.watch_gil()
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="LOG %(levelname)s %(message)s")
        from indexer.pipeline.run import run as index_run
        from indexer.settings import Settings
        sys.path.insert(0, {str(gil_extension)!r})
        before = sys._is_gil_enabled()

        def progress(p):
            if p.phase == "parse" and p.done and "gilneeder" not in sys.modules:
                import gilneeder  # noqa: F401

        s = index_run({str(root)!r}, Settings(executor="auto", workers=2, serial_threshold=10),
                      progress=progress, dry_run=True)
        second = index_run({str(root)!r}, Settings(executor="auto", workers=2, serial_threshold=10),
                           dry_run=True)
        print(json.dumps({{"before": before, "after": sys._is_gil_enabled(), "summary": s.to_dict(),
                          "second": second.to_dict(), "cause": runtime.gil_cause()}}))
    """)
    done = _python("-c", script)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["before"] is False and out["after"] is True
    assert "gilneeder" in out["cause"]
    first = out["summary"]
    assert first["executor"] == "thread"  # chosen while the GIL was still off
    assert first["gil_enabled_at_start"] is False and first["gil_enabled"] is True
    assert "gilneeder" in first["gil_cause"]
    assert first["files_failed"] == 0
    # CPython's own RuntimeWarning, and graphdex's one warning naming the cause.
    assert "has been enabled to load module 'gilneeder'" in done.stderr
    warnings = [line for line in done.stderr.splitlines() if line.startswith("LOG WARNING") and "GIL" in line]
    assert len(warnings) == 1, done.stderr
    assert "gilneeder" in warnings[0]
    # The next run starts with the GIL on: `auto` now picks processes, which are faster in that state.
    second = out["second"]
    assert second["executor"] == "process" and "gilneeder" in second["executor_reason"]
    assert second["gil_enabled_at_start"] is True and "gilneeder" in second["gil_cause"]
