"""The answers (issue 13) on the fixture repository of tests/answers_repo.py, against the real graph server: each
answer equals what was worked out by hand there."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from answers_repo import (
    CYCLES,
    DEAD,
    DEAD_EXCLUDED,
    EXTERNAL,
    FLUSH_NOTE,
    IMPACT_BASE,
    IMPACT_BASE_DESCRIBE,
    IMPACT_ORDER_DESCRIBE,
    IMPACT_PLACE,
    IMPACT_SORT_KEY,
    IMPORT_EDGES,
    LAYERS,
    MODULES,
    MOST_DEPENDED_ON,
    PATH_MAIN_TO_WRITE,
    R,
    make_answers_repo,
)

from indexer.answers import architecture, conventions, dead_code, facts, impact, paths
from indexer.errors import ConfigError, NotFoundError, ToolMissingError
from indexer.pipeline.run import run
from indexer.settings import Settings
from indexer.store import GraphStore, open_store, queries


@pytest.fixture(scope="module")
def store(graph_settings: Settings) -> Iterator[GraphStore]:
    with open_store(graph_settings) as s:
        yield s


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory, graph_settings: Settings, store: GraphStore) -> Path:
    root = make_answers_repo(tmp_path_factory.mktemp("answers") / "shop")
    run(root, graph_settings, repo=R, store=store)
    return root


def rows(dependents: list[dict[str, Any]]) -> list[tuple[str, int, str, bool]]:
    return [(d["qualified_name"], d["depth"], d["via"], d["is_test"]) for d in dependents]


def short(node_id: str) -> str:
    return node_id.removeprefix(f"{R}:")


# ------------------------------------------------------------------------------------------------ impact


@pytest.mark.parametrize(("name", "depth", "expected"), [
    ("shop.models.Base.describe", 3, IMPACT_BASE_DESCRIBE),
    ("shop.models.Order.describe", 3, IMPACT_ORDER_DESCRIBE),
    ("shop.service.place", 2, IMPACT_PLACE),
    ("shop.models.Base", 1, IMPACT_BASE),
    ("shop.util._sort_key", 3, IMPACT_SORT_KEY),
])
def test_impact_is_the_hand_worked_answer(shop: Path, store: GraphStore, name: str, depth: int,
                                          expected: list[tuple[str, int, str, bool]]) -> None:
    answer = impact.impact(store, name, R, depth=depth)
    assert rows(answer["dependents"]) == expected
    assert answer["count"] == len(expected) and not answer["truncated"]
    assert answer["tests"] == sorted(n for n, _, _, test in expected if test)


def test_impact_groups_by_depth_and_file_and_sums_up_the_risk(shop: Path, store: GraphStore) -> None:
    answer = impact.impact(store, "shop.models.Base.describe", R, depth=3)
    assert [(g["depth"], g["count"]) for g in answer["by_depth"]] == [(1, 7), (2, 1), (3, 1)]
    assert [(f["path"], f["count"], f["is_test"]) for f in answer["by_file"]] == [
        ("shop/report.py", 3, False), ("shop/models.py", 2, False), ("shop/__init__.py", 1, False),
        ("shop/cli.py", 1, False), ("shop/service.py", 1, False), ("tests/test_service.py", 1, True)]
    assert answer["risk"] == {
        "level": "medium", "symbols": 9, "files": 6, "modules": 6, "tests": 1,
        "summary": "medium risk: 9 dependents (3 functions, 2 methods, 4 modules) in 6 files, 1 test among them"}
    assert answer["unresolved"]["count"] == 0 and answer["unresolved"]["note"] == ""


def test_impact_limits_the_list_not_the_counts(shop: Path, store: GraphStore) -> None:
    answer = impact.impact(store, "shop.models.Base.describe", R, depth=3, limit=2)
    assert len(answer["dependents"]) == 2 and answer["count"] == 9 and answer["truncated"]
    with pytest.raises(ConfigError, match="depth must be from 1 to 5"):
        impact.impact(store, "shop.models.Base.describe", R, depth=9)
    with pytest.raises(NotFoundError):
        impact.impact(store, "shop.models.Nothing", R)


def test_unresolved_calls_by_name_are_reported_beside_callers_and_impact(shop: Path, store: GraphStore) -> None:
    callers = queries.callers(store, "shop.db.flush", R)
    assert callers["count"] == 0
    assert callers["unresolved"]["note"] == FLUSH_NOTE
    assert callers["unresolved"]["sites"] == [{
        "caller": "shop.service.checkout", "caller_id": f"{R}:shop.service.checkout", "path": "shop/service.py",
        "line": 19, "target": "cart.flush", "reason": "unknown_receiver"}]
    assert impact.impact(store, "shop.db.flush", R)["unresolved"]["note"] == FLUSH_NOTE
    callees = queries.callees(store, "shop.service.checkout", R)  # the calls it makes that could not be resolved
    assert [s["target"] for s in callees["unresolved"]["sites"]] == ["cart.flush"]
    assert callees["unresolved"]["note"].startswith("1 call could not be resolved: shop/service.py:19")


# ------------------------------------------------------------------------------------------------ call_path


def test_call_path_gives_each_hop_with_its_file_and_line(shop: Path, store: GraphStore) -> None:
    answer = paths.call_path(store, "shop.cli.main", "shop.models.Base._write", R)
    assert answer["count"] == 1
    chain = answer["paths"][0]
    assert chain["length"] == 5
    assert [(h["caller"], h["callee"], h["path"], h["line"], h["provenance"]) for h in chain["hops"]] \
        == PATH_MAIN_TO_WRITE
    assert all(h["line_is_call"] for h in chain["hops"])


def test_call_path_respects_max_depth_and_says_when_there_is_none(shop: Path, store: GraphStore) -> None:
    answer = paths.call_path(store, "shop.cli.main", "shop.models.Base._write", R, max_depth=4)
    assert answer["paths"] == []
    assert answer["note"].startswith("no chain of resolved calls from shop.cli.main to shop.models.Base._write "
                                     "within 4 calls")
    # shortest first, up to k: the module reaches place through checkout (2 calls) and through main (4)
    two = paths.call_path(store, "shop.report.run_report", "shop.service.place", R, k=5)
    assert [c["symbols"] for c in two["paths"]] == [
        ["shop.report.run_report", "shop.service.checkout", "shop.service.place"]]


def test_shortest_chains_are_enumerated_in_length_order() -> None:
    edges = {"a": {"b": ("scope", ""), "c": ("scope", ""), "d": ("scope", "")}, "b": {"z": ("scope", "")},
             "c": {"d": ("scope", "")}, "d": {"z": ("scope", ""), "a": ("scope", "")}}
    assert paths.shortest_chains(edges, "a", "z", 5, 5) == [["a", "b", "z"], ["a", "d", "z"],
                                                             ["a", "c", "d", "z"]]
    assert paths.shortest_chains(edges, "a", "z", 2, 1) == [["a", "b", "z"]]
    assert paths.shortest_chains(edges, "z", "a", 5, 3) == []


# ------------------------------------------------------------------------------------------------ architecture


def test_architecture_finds_the_cycle_the_layers_and_the_fan_in(shop: Path, store: GraphStore) -> None:
    answer = architecture.architecture(store, R)
    assert sorted(n["name"] for n in answer["nodes"]) == MODULES
    assert answer["edges"] == IMPORT_EDGES and answer["edge_count"] == len(IMPORT_EDGES)
    assert answer["cycles"] == CYCLES and not answer["layered"]
    assert answer["layers"] == LAYERS
    assert [(n["name"], n["fan_in"]) for n in answer["most_depended_on"]] == MOST_DEPENDED_ON
    assert answer["external"] == EXTERNAL
    node = {n["name"]: n for n in answer["nodes"]}
    assert node["shop.db"]["cycle"] == 0 and node["shop.models"]["cycle"] is None
    assert node["shop.report"]["fan_out"] == 2
    mermaid = answer["mermaid"].splitlines()
    assert mermaid[0] == "flowchart TD"
    assert any('["cycle: shop.db, shop.service (L1)"]' in line for line in mermaid)
    assert len([line for line in mermaid if "-->" in line]) == 8  # the cycle's two edges are inside one node


def test_architecture_by_package(shop: Path, store: GraphStore) -> None:
    answer = architecture.architecture(store, R, level="package")
    assert [(n["name"], n["files"], n["layer"]) for n in answer["nodes"]] == [("shop", 7, 0),
                                                                              ("test_service", 1, 1)]
    assert answer["edges"] == [["test_service", "shop"]] and answer["layered"] and answer["cycles"] == []
    with pytest.raises(ConfigError, match="level must be one of module, package"):
        architecture.architecture(store, R, level="file")


def test_tarjan_and_layers_on_a_known_graph() -> None:
    graph = architecture.ImportGraph(names={"a", "b", "c", "d", "e"})
    for source, target in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("e", "a")]:
        graph.out[source].add(target)
    components = architecture.strongly_connected(graph)
    assert sorted(sorted(c) for c in components) == [["a", "b", "c"], ["d"], ["e"]]
    assert architecture.layers(graph, components) == {"a": 1, "b": 1, "c": 1, "d": 0, "e": 2}
    assert architecture.example_cycle(graph, {"a", "b", "c"}) == ["a", "b", "c", "a"]


def test_svg_needs_graphviz_and_says_so(tmp_path: Path) -> None:
    with pytest.raises(ToolMissingError, match="Graphviz's `no-such-dot` program, which is not installed"):
        architecture.render_svg("digraph { a -> b }", tmp_path / "x.svg", program="no-such-dot")


def test_svg_is_drawn_with_dot(shop: Path, store: GraphStore, tmp_path: Path) -> None:
    dot = architecture.architecture_dot(store, R)
    assert "cycle: shop.db, shop.service" in dot
    out = architecture.render_svg(dot, tmp_path / "shop.svg")  # .ci/run installs graphviz
    assert out.read_text().lstrip().startswith(("<?xml", "<svg"))


# ------------------------------------------------------------------------------------------------ dead code


def test_dead_code_is_the_hand_worked_list(shop: Path, store: GraphStore) -> None:
    answer = dead_code.dead_code(store, R, include_excluded=True)
    assert [(short(s["id"]), s["confidence"]) for s in answer["symbols"]] == DEAD
    assert [(short(s["id"]), s["reason"].split(":")[0]) for s in answer["excluded_symbols"]] == DEAD_EXCLUDED
    assert answer["count"] == len(DEAD)
    assert answer["excluded"] == {"decorated": 1, "entry point": 1, "exported": 2, "overload": 2, "override": 1,
                                  "property": 1, "protocol": 1, "test": 3}
    reasons = {short(s["id"]): s["reason"] for s in answer["symbols"]}
    assert reasons["shop.db.flush"].endswith("1 unresolved call named `flush` might reach it")
    assert "derives from Thread, outside the repository" in reasons["shop.service.Worker.run"]
    left_out = {short(s["id"]): s["reason"] for s in answer["excluded_symbols"]}
    assert left_out["shop.models.Refund.describe"] == ("override: overrides shop.models.Order.describe, which is "
                                                       "called")
    assert left_out["shop.cli.serve"].startswith("decorated: @click.command() may register it")


def test_dead_code_by_kind_and_limit(shop: Path, store: GraphStore) -> None:
    classes = dead_code.dead_code(store, R, kind="Class")
    assert [short(s["id"]) for s in classes["symbols"]] == ["shop.models.Refund", "shop.models.Legacy",
                                                            "shop.service.Worker", "shop.models.ShopError"]
    top = dead_code.dead_code(store, R, limit=3)
    assert len(top["symbols"]) == 3 and top["count"] == len(DEAD) and top["truncated"]
    with pytest.raises(ConfigError, match="kind must be one of Function, Method, Class"):
        dead_code.dead_code(store, R, kind="Module")


def test_dead_code_facts_are_read_again_after_an_index_run(shop: Path, store: GraphStore,
                                                           graph_settings: Settings) -> None:
    before = facts.repo_facts(store, R)
    assert facts.repo_facts(store, R) is before  # cached while the repository is not indexed again
    (shop / "shop" / "extra.py").write_text("def _orphan():\n    pass\n")
    try:
        run(shop, graph_settings, repo=R, store=store)
        assert facts.repo_facts(store, R) is not before
        assert "shop.extra._orphan" in [short(s["id"]) for s in dead_code.dead_code(store, R)["symbols"]]
    finally:
        (shop / "shop" / "extra.py").unlink()
        run(shop, graph_settings, repo=R, store=store)


def test_console_scripts_from_pyproject_and_setup_cfg(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project.scripts]\ntool = "pkg.cli:main"\n[project.gui-scripts]\ngui = "pkg.gui:run"\n'
        '[project.entry-points."pkg.plugins"]\nplug = "pkg.plugin:hook"\n[tool.poetry.scripts]\np = "pkg.p:go"\n')
    (tmp_path / "setup.cfg").write_text("[options.entry_points]\nconsole_scripts =\n    old = pkg.old:start\n")
    assert facts.console_scripts(tmp_path) == {"pkg.cli.main", "pkg.gui.run", "pkg.plugin.hook", "pkg.p.go",
                                               "pkg.old.start"}


# ------------------------------------------------------------------------------------------------ conventions


@pytest.mark.parametrize(("path", "declared", "language"), [
    ("a/b.py", None, "python"), ("src/x.go", None, "go"), ("lib/y.rs", None, "rust"), ("A.java", None, "java"),
    ("p.cs", None, "csharp"), ("m.c", None, "c"), ("m.h", None, "c"), ("m.cc", None, "cpp"),
    ("m.hpp", None, "cpp"), ("m.cpp", None, "cpp"), ("w.js", None, "javascript"), ("w.mjs", None, "javascript"),
    ("w.jsx", None, "javascript"), ("w.ts", None, "typescript"), ("w.tsx", None, "typescript"),
    ("r.rb", None, "ruby"), ("i.php", None, "php"), ("README", None, "python"), ("x.txt", "Go", "go"),
    ("x.h", "c++", "cpp"),
])
def test_languages_come_from_the_file_node_else_the_extension(path: str, declared: str | None,
                                                              language: str) -> None:
    assert conventions.language(path, declared).name == language


@pytest.mark.parametrize(("path", "kind", "name", "decorators", "test"), [
    ("tests/test_x.py", "Function", "test_it", None, True),
    ("pkg/mod.py", "Function", "test_it", None, False),  # test_* outside a test file is an ordinary function
    ("pkg/mod.py", "Function", "db", ["pytest.fixture()"], True),
    ("x_test.go", "Function", "TestParse", None, True),
    ("x_test.go", "Function", "helper", None, False),
    ("src/lib.rs", "Function", "parses", ["test"], True),
    ("src/main/java/AppTest.java", "Method", "checks", ["Test"], True),
    ("Tests/CalcTests.cs", "Method", "Adds", ["Fact"], True),
    ("web/app.test.ts", "Function", "anything", None, False),  # a JS test's cases are calls, not names
    ("spec/user_spec.rb", "Function", "test_name", None, True),
    ("tests/UserTest.php", "Method", "testSave", None, True),
    ("tests/test_x.py", "Class", "TestThing", None, True),
])
def test_test_conventions_per_language(path: str, kind: str, name: str, decorators: list[str] | None,
                                       test: bool) -> None:
    lang = conventions.language(path)
    in_file = conventions.is_test_file(path, lang)
    assert conventions.is_test_symbol(kind, name, decorators, lang, in_file) is test


def test_entry_points_and_protocol_methods_per_language() -> None:
    assert conventions.is_entry_point("main", conventions.language("cmd/app.go"))
    assert conventions.is_entry_point("Main", conventions.language("Program.cs"))
    assert conventions.is_entry_point("main", conventions.language("App.java"))
    assert conventions.is_entry_point("main", conventions.language("main.c"))
    assert not conventions.is_entry_point("main", conventions.language("app.py"))  # console scripts instead
    assert conventions.is_protocol_method("__eq__", conventions.PYTHON)
    assert conventions.is_protocol_method("_missing_", conventions.PYTHON)
    assert conventions.is_protocol_method("String", conventions.language("x.go"))
    assert conventions.is_protocol_method("__construct", conventions.language("x.php"))
    assert conventions.is_test_file("web/__tests__/a.js", conventions.language("web/__tests__/a.js"))
