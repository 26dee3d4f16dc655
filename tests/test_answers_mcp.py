"""The answers as MCP tools over the real protocol: a server subprocess (tests/mcp_client.py) against the session's
graph server, on the fixture repository of tests/answers_repo.py."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from answers_repo import DEAD, FLUSH_NOTE, IMPACT_BASE_DESCRIBE, LAYERS, PATH_MAIN_TO_WRITE, make_answers_repo
from mcp_client import Client, mcp_client

from indexer import localdb
from indexer.pipeline.run import run
from indexer.settings import Settings
from indexer.store import open_store

R = "answers-mcp"
ANSWERS = {"impact", "detect_changes", "dead_code", "call_path", "architecture"}


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory, graph_settings: Settings) -> Path:
    root = make_answers_repo(tmp_path_factory.mktemp("answers-mcp") / "shop")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@t",
                                                                "commit", "-q", "-m", "shop"]):
        subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)
    (root / "shop" / "util.py").write_text((root / "shop" / "util.py").read_text() + "\n\ndef later():\n"
                                           "    return 3\n")
    with open_store(graph_settings) as store:
        run(root, graph_settings, repo=R, store=store)
    return root


@pytest.fixture(scope="module")
def client(graph_home: Path, graph_server: localdb.ServerInfo, root: Path,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    with mcp_client(graph_home, root, tmp_path_factory.mktemp("answers-mcp-log") / "stderr.log") as connected:
        yield connected


def test_the_answers_are_tools_with_output_schemas(client: Client) -> None:
    tools = {t.name: t for t in client.portal.call(client.session.list_tools).tools}
    assert set(tools) >= ANSWERS
    for name in ANSWERS:
        assert tools[name].output_schema is not None and tools[name].annotations.read_only_hint, name


def structured(client: Client, tool: str, **args: object) -> dict:
    answer = client.ok(tool, **args)
    schema = next(t for t in client.portal.call(client.session.list_tools).tools if t.name == tool).output_schema
    jsonschema.validate(answer, schema)
    return answer


def test_impact_and_callers_over_the_protocol(client: Client) -> None:
    answer = structured(client, "impact", name="shop.models.Base.describe", repo=R)
    assert [(d["qualified_name"], d["depth"], d["via"], d["is_test"]) for d in answer["dependents"]] \
        == IMPACT_BASE_DESCRIBE
    assert answer["risk"]["level"] == "medium"
    callers = structured(client, "callers", name="shop.db.flush", repo=R)
    assert callers["count"] == 0 and callers["unresolved"]["note"] == FLUSH_NOTE


def test_dead_code_call_path_and_architecture_over_the_protocol(client: Client) -> None:
    dead = structured(client, "dead_code", repo=R)
    reported = [(s["id"].removeprefix(f"{R}:"), s["confidence"]) for s in dead["symbols"]]
    assert reported == [*DEAD[:7], ("shop.util.later", 0.6), *DEAD[7:]]  # added uncommitted: public
    chain = structured(client, "call_path", source="shop.cli.main", target="shop.models.Base._write", repo=R)
    assert [(h["caller"], h["callee"], h["path"], h["line"], h["provenance"]) for h in chain["paths"][0]["hops"]] \
        == PATH_MAIN_TO_WRITE
    layers = structured(client, "architecture", repo=R)
    assert layers["layers"] == LAYERS and layers["mermaid"].startswith("flowchart TD")


def test_detect_changes_over_the_protocol(client: Client) -> None:
    answer = structured(client, "detect_changes", repo=R)
    assert [(f["path"], f["status"]) for f in answer["files"]] == [("shop/util.py", "modified")]
    assert [c["qualified_name"] for c in answer["changed"]] == ["shop.util.later"]
    error = client.error("detect_changes", {"repo": R, "base": "nowhere"})
    assert "unknown git revision" in error
    assert "no repository 'nobody'" in client.error("dead_code", {"repo": "nobody"})
