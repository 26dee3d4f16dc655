"""The facts cache: hits only when everything the facts depend on matches, shared across processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from indexer.models import CALLS, Edge
from indexer.pipeline.cache import FactsCache, extractor_version
from indexer.pipeline.parse import extract_python

REPO = Path(__file__).resolve().parents[1]


def facts(path: str, source: str, module: str, sha: str):  # noqa: ANN201
    return extract_python("r", path, source.encode(), module, sha)


def test_a_hit_needs_the_same_path_module_and_hash(tmp_path: Path) -> None:
    with FactsCache(tmp_path / "facts.sqlite") as cache:
        cache.store("r", [facts("a.py", "def f():\n    g()\n", "a", "h1"), facts("b.py", "x = 1\n", "b", "h2")])
        hit = cache.facts("r", [("a.py", "a", "h1"), ("b.py", "b", "h2")])
        assert sorted(hit) == ["a.py", "b.py"]
        assert hit["a.py"].symbols[0].qualified_name == "a.f" and hit["a.py"].calls[0].target == "g"
        assert cache.facts("r", [("a.py", "a", "changed")]) == {}  # edited
        assert cache.facts("r", [("a.py", "pkg.a", "h1")]) == {}  # moved into a package
        assert cache.facts("other", [("a.py", "a", "h1")]) == {}  # another repository
        cache.forget("r", keep=["b.py"])
        assert sorted(cache.facts("r", [("a.py", "a", "h1"), ("b.py", "b", "h2")])) == ["b.py"]


def test_another_extractor_version_is_a_miss(tmp_path: Path) -> None:
    with FactsCache(tmp_path / "facts.sqlite") as cache:
        cache.store("r", [facts("a.py", "x = 1\n", "a", "h")])
        cache.version = "older"
        assert cache.facts("r", [("a.py", "a", "h")]) == {}
    assert extractor_version().startswith("0.")


def test_edges_only_for_the_generation_the_graph_has(tmp_path: Path) -> None:
    edges = {Edge(CALLS, "r:a.f", "r:a.g")}
    with FactsCache(tmp_path / "facts.sqlite") as cache:
        cache.store_edges("r", "gen-1", edges)
        assert cache.edges("r", "gen-1") == edges
        assert cache.edges("r", "gen-2") is None and cache.edges("r", None) is None


def test_two_processes_share_the_file(tmp_path: Path) -> None:
    path = tmp_path / "facts.sqlite"
    code = ("import sys; from indexer.pipeline.cache import FactsCache; from indexer.pipeline.parse import "
            "extract_python as x; c = FactsCache(sys.argv[1]); c.store('r', [x('r', 'a.py', b'x = 1', 'a', 'h')])")
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, env={"PYTHONPATH": str(REPO)})
    with FactsCache(path) as cache:
        assert list(cache.facts("r", [("a.py", "a", "h")])) == ["a.py"]
