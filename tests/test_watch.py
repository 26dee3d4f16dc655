"""Fresh while you work: `graphdex watch` re-indexes a repository when its files change, honouring .gitignore,
and Ctrl-C stops it cleanly. The graph follows an edit within 2 s (plus the burst grouping)."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from sample_repo import make_sample_repo

from indexer.pipeline.discover import Relevance
from indexer.settings import Settings
from indexer.store import GraphStore

REPO = Path(__file__).resolve().parents[1]
FOLLOW_BOUND = 2.0 + 0.2  # seconds from the save to the graph: the 2 s, plus the burst's quiet time


def test_relevance_follows_discovery_rules(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("gen/\n*.tmp.py\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / ".gitignore").write_text("skip.py\n")
    relevance = Relevance(tmp_path)
    verdicts = {p: relevance.relevant(tmp_path / p) for p in (
        "a.py", "gen/x.py", "a.tmp.py", "pkg/skip.py", "pkg/sub/skip.py", "pkg/ok.py", "node_modules/x.py",
        ".git/x.py", "notes.txt", "pkg/.gitignore", "../outside.py")}
    assert [p for p, ok in verdicts.items() if ok] == ["a.py", "pkg/ok.py", "pkg/.gitignore"]


class Watch:
    def __init__(self, root: Path, settings: Settings) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "GRAPHDEX_"))}
        if settings.arcadedb_home:
            env["GRAPHDEX_ARCADEDB_HOME"] = str(settings.arcadedb_home)
        env.update(GRAPHDEX_HOME=str(settings.home), PYTHONPATH=str(REPO))
        self.proc = subprocess.Popen([sys.executable, "-m", "indexer", "watch", str(root), "--name", "watched",
                                      "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.lines: queue.Queue[dict] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(json.loads(line))

    def next(self, timeout: float) -> dict:
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no run within {timeout}s: {self.proc.stderr}") from None


def test_the_graph_follows_edits_and_ctrl_c_stops(tmp_path: Path, graph_settings: Settings,
                                                  store: GraphStore) -> None:
    root = make_sample_repo(tmp_path / "watched")
    watch = Watch(root, graph_settings)
    try:
        first = watch.next(timeout=60)
        assert first["changed_paths"] == [] and first["files_failed"] == 0
        time.sleep(0.5)  # the watcher is set up once the first run printed; give the OS watch a moment

        (root / "ignored.py").write_text("def nothing():\n    pass\n")  # .gitignore'd by the sample: no run
        util = root / "pkg" / "geometry" / "util.py"
        saved = time.monotonic()
        util.write_text(util.read_text() + "\n\ndef cube(x):\n    return square(x) * x\n")
        run = watch.next(timeout=10)
        assert run["changed_paths"] == ["pkg/geometry/util.py"] and run["files_changed"] == 1
        found = store.read("MATCH (a:Code)-[:CALLS]->(b:Code) WHERE a.repo = 'watched' AND a.name = 'cube' "
                           "RETURN b.qualified_name AS q")
        assert found == [{"q": "pkg.geometry.util.square"}]
        assert time.monotonic() - saved < FOLLOW_BOUND + run["wall_seconds"]

        for n in range(20):  # a burst (as a checkout makes) becomes one run
            (root / "pkg" / f"burst_{n}.py").write_text(f"def f{n}():\n    return {n}\n")
        burst = watch.next(timeout=15)
        assert len(burst["changed_paths"]) == 20 and burst["files_changed"] == 20
        assert watch.lines.empty()
    finally:
        watch.proc.send_signal(signal.SIGINT)
        code = watch.proc.wait(timeout=20)
    assert code == 0 and "stopped watching" in (watch.proc.stderr.read() if watch.proc.stderr else "")
