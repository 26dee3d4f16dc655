"""The MCP face over the real protocol: `python -m mcp_server` as a subprocess, driven by the SDK's stdio client,
against the session's real graph server. One server subprocess serves the module; tests run in file order.

The client lives in a blocking portal (an event loop in a thread), so the tests themselves stay synchronous.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import types
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp_client import REPO_ROOT, Client, mcp_client, server_env, text
from sample_repo import (
    EXPECTED_CALLS,
    EXPECTED_CLASSES,
    EXPECTED_EXTERNAL,
    EXPECTED_FUNCTIONS,
    EXPECTED_IMPORTS,
    EXPECTED_INHERITS,
    EXPECTED_METHODS,
    EXPECTED_MODULES,
    EXPECTED_NODE_COUNTS,
    EXPECTED_RELATIONSHIP_COUNTS,
    make_sample_repo,
)

from indexer import localdb
from indexer.settings import Settings

SAMPLE = "mcp_sample"  # repository ids of their own: other test modules share the graph server
BIG = "mcp_big"
BIG_FILES = 400
TOOLS = {
    "index_repository",
    "index_status",
    "cancel_index",
    "find_symbols",
    "get_symbol",
    "callers",
    "callees",
    "module_imports",
    "class_hierarchy",
    "list_repositories",
    "remove_repository",
    "cypher_query",
    "semantic_search",
}


@pytest.fixture(scope="module")
def repos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The allowed root: the sample repository and a big generated one."""
    base = tmp_path_factory.mktemp("mcp-repos")
    make_sample_repo(base / "sample")
    big = base / "big"
    big.mkdir()
    for i in range(BIG_FILES):
        (big / f"gen_{i:03d}.py").write_text(
            f'"""Generated module {i}."""\n\n\ndef f1(x):\n    return x + {i}\n\n\n'
            "def f2(x):\n    return f1(x) * 2\n\n\ndef f3(x):\n    return f2(x) - 1\n"
        )
    return base


@pytest.fixture(scope="module")
def client(
    graph_home: Path, graph_server: localdb.ServerInfo, repos: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Client]:
    with mcp_client(graph_home, repos, tmp_path_factory.mktemp("mcp-log") / "stderr.log") as connected:
        yield connected


@pytest.fixture(scope="module")
def indexed(client: Client, repos: Path) -> dict[str, Any]:
    """The sample repository indexed through index_repository, with a progress token."""
    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total, message))

    result = client.call("index_repository", {"path": str(repos / "sample"), "name": SAMPLE}, progress=on_progress)
    assert not result.is_error, text(result)
    started = result.structured_content
    assert started is not None
    job = client.wait(started["job"]["job_id"])
    return {"started": started, "job": job, "progress": seen}


def names(rows: list[dict[str, Any]]) -> list[str]:
    return sorted(r["qualified_name"] for r in rows)


# --------------------------------------------------------------------------------------------- listing


def test_lists_tools_resources_and_prompt(client: Client) -> None:
    tools = client.portal.call(client.session.list_tools).tools
    assert {t.name for t in tools} >= TOOLS
    for tool in tools:
        assert tool.description and len(tool.description) > 40, tool.name
        assert tool.output_schema is not None, tool.name
        for prop, schema in tool.input_schema.get("properties", {}).items():
            assert schema.get("description"), f"{tool.name}.{prop} has no description"
    uris = {str(r.uri) for r in client.portal.call(client.session.list_resources).resources}
    assert {"graphdex://runtime", "graphdex://schema", "graphdex://jobs"} <= uris
    templates = client.portal.call(client.session.list_resource_templates).resource_templates
    assert "graphdex://jobs/{job_id}" in {t.uri_template for t in templates}
    prompts = client.portal.call(client.session.list_prompts).prompts
    assert "explore_codebase" in {p.name for p in prompts}


def test_schema_resource(client: Client) -> None:
    schema = json.loads(client.resource("graphdex://schema"))
    assert set(schema["node_labels"]) == {
        "Repository",
        "Code",
        "File",
        "Module",
        "ExternalModule",
        "Class",
        "Function",
        "Method",
        "Chunk",
        "IndexLease",
    }
    assert set(schema["relationship_types"]) == {"CONTAINS", "IMPORTS", "CALLS", "INHERITS", "REFERENCES",
                                                 "HAS_CHUNK"}
    assert "qualified_name" in schema["node_labels"]["Code"]


# --------------------------------------------------------------------------------------------- indexing


def test_index_repository_returns_job_and_settings(indexed: dict[str, Any], repos: Path) -> None:
    started = indexed["started"]
    assert started["created"] is True
    assert started["job"]["state"] in ("queued", "running")
    assert started["job"]["root"] == str((repos / "sample").resolve())
    assert started["settings"]["workers"] == 2
    assert "neo4j_password" not in started["settings"]
    assert started["roots_source"] == "GRAPHDEX_ALLOWED_ROOTS"


def test_the_answer_names_the_job_resource_and_no_progress_follows_it(indexed: dict[str, Any], client: Client) -> None:
    # wait=false answers at once; with a progress token it sends no progress: a token ends with its request
    # (tests/test_mcp_progress.py follows wait=true, subscriptions and the wire).
    started = indexed["started"]
    assert started["resource"] == f"graphdex://jobs/{started['job']['job_id']}"
    assert indexed["progress"] == []
    assert not [n for n in client.notifications if isinstance(n, types.ProgressNotification)]
    assert json.loads(client.resource(started["resource"]))["state"] == indexed["job"]["state"]


def test_index_status_succeeded_with_counts(indexed: dict[str, Any], client: Client) -> None:
    job = indexed["job"]
    assert job["state"] == "succeeded", job
    assert job["nodes"] == EXPECTED_NODE_COUNTS
    assert job["relationships"] == EXPECTED_RELATIONSHIP_COUNTS
    assert job["files_total"] == 6 and job["files_done"] == 6
    assert {s["path"]: s["reason"] for s in job["skipped"]}.get("blob.py") == "binary"
    assert job["syntax_errors"] == 1
    for key in ("executor", "workers", "pool_size", "gil_enabled", "started_at", "finished_at", "files_per_second"):
        assert job[key] is not None, key
    listed = client.ok("index_status")["jobs"]
    assert job["job_id"] in {j["job_id"] for j in listed}


def test_runtime_resource_after_connecting(
    indexed: dict[str, Any], client: Client, graph_server: localdb.ServerInfo
) -> None:
    raw = client.resource("graphdex://runtime")
    info = json.loads(raw)
    assert info["python"] == sys.version.split()[0]
    assert isinstance(info["free_threading_build"], bool) and isinstance(info["gil_enabled"], bool)
    assert info["auto_executor"] in ("thread", "process") and info["auto_reason"]
    assert info["default_workers"] == 2 and info["connection_pool_size"] == 4
    server = info["graph_server"]
    assert server["connected"] is True
    assert server["address"] == graph_server.bolt_uri
    assert "arcadedb" in server["agent"].lower()
    assert graph_server.password not in raw


# --------------------------------------------------------------------------------------------- graph tools


def test_find_symbols(indexed: dict[str, Any], client: Client) -> None:
    exact = client.ok("find_symbols", query="Shape", kind="Class", repo=SAMPLE)
    assert names(exact["symbols"]) == ["pkg.shapes.Shape"]
    assert exact["symbols"][0]["path"] == "pkg/shapes.py" and exact["mode_used"] == "exact"
    symbols = EXPECTED_CLASSES + EXPECTED_FUNCTIONS + EXPECTED_METHODS
    prefix = client.ok("find_symbols", query="pkg.shapes.", mode="prefix", repo=SAMPLE, limit=100)
    assert names(prefix["symbols"]) == sorted(q for q in symbols if q.startswith("pkg.shapes."))
    text_hit = client.ok("find_symbols", query="EUCLIDEAN", mode="fulltext", repo=SAMPLE)
    assert names(text_hit["symbols"]) == ["pkg.geometry.util.distance"]
    assert "substring" in text_hit["mode_used"]  # ArcadeDB: no full-text index over Bolt, and it says so
    assert client.ok("find_symbols", query="no_such_name", repo=SAMPLE)["count"] == 0


def test_every_kind_via_cypher(indexed: dict[str, Any], client: Client) -> None:
    expected = {
        "Module": EXPECTED_MODULES,
        "Class": EXPECTED_CLASSES,
        "Function": EXPECTED_FUNCTIONS,
        "Method": EXPECTED_METHODS,
        "ExternalModule": EXPECTED_EXTERNAL,
    }
    for kind, want in expected.items():
        rows = client.ok(
            "cypher_query",
            query=f"MATCH (n:{kind}) WHERE n.repo = $repo RETURN n.qualified_name AS q ORDER BY q",
            params={"repo": SAMPLE},
        )
        assert [r["q"] for r in rows["rows"]] == sorted(want), kind
        assert rows["truncated"] is False


def test_get_symbol_source(indexed: dict[str, Any], client: Client) -> None:
    got = client.ok("get_symbol", name="pkg.geometry.util.distance", repo=SAMPLE)
    assert got["symbol"]["kind"] == "Function" and got["symbol"]["path"] == "pkg/geometry/util.py"
    assert got["source"].startswith("def distance(a: tuple, b: tuple) -> float:")
    assert "return (delta(0) + delta(1)) ** 0.5" in got["source"]
    assert got["file"].endswith("pkg/geometry/util.py") and got["source_error"] is None
    by_id = client.ok("get_symbol", name=got["symbol"]["id"])
    assert by_id["symbol"]["qualified_name"] == "pkg.geometry.util.distance"


def test_callers_and_callees_match_the_graph(indexed: dict[str, Any], client: Client) -> None:
    functions = EXPECTED_FUNCTIONS + EXPECTED_METHODS
    for name in functions:
        callees = client.ok("callees", name=name, repo=SAMPLE)["callees"]
        assert names(callees) == sorted(b for a, b in EXPECTED_CALLS if a == name), name
        callers = client.ok("callers", name=name, repo=SAMPLE)["callers"]
        assert names(callers) == sorted(a for a, b in EXPECTED_CALLS if b == name), name
    deep = client.ok("callers", name="pkg.geometry.util.square", repo=SAMPLE, depth=3)["callers"]
    assert {r["qualified_name"]: r["depth"] for r in deep} == {
        "app.Square.area": 1,
        "pkg.geometry.util.distance.delta": 1,
        "pkg.geometry.util.distance": 2,
        "app.main": 3,
    }


def test_module_imports(indexed: dict[str, Any], client: Client) -> None:
    for module in EXPECTED_MODULES + EXPECTED_EXTERNAL:
        got = client.ok("module_imports", module=module, repo=SAMPLE)
        assert names(got["imports"]) == sorted(b for a, b in EXPECTED_IMPORTS if a == module), module
        assert names(got["imported_by"]) == sorted(a for a, b in EXPECTED_IMPORTS if b == module), module
    kinds = {r["qualified_name"]: r["kind"] for r in client.ok("module_imports", module="app", repo=SAMPLE)["imports"]}
    assert kinds["json"] == "ExternalModule" and kinds["pkg.shapes"] == "Module"


def test_class_hierarchy(indexed: dict[str, Any], client: Client) -> None:
    for cls in EXPECTED_CLASSES:
        got = client.ok("class_hierarchy", name=cls, repo=SAMPLE)
        assert names(got["ancestors"]) == sorted(b for a, b in EXPECTED_INHERITS if a == cls), cls
        assert names(got["descendants"]) == sorted(a for a, b in EXPECTED_INHERITS if b == cls), cls


def test_list_repositories(indexed: dict[str, Any], client: Client, repos: Path) -> None:
    listed = {r["id"]: r for r in client.ok("list_repositories")["repositories"]}
    sample = listed[SAMPLE]
    assert sample["root"] == str((repos / "sample").resolve()) and sample["indexed_at"]
    assert sample["nodes"] == EXPECTED_NODE_COUNTS
    assert sample["relationships"] == EXPECTED_RELATIONSHIP_COUNTS


def test_cypher_caps_rows_and_returns_nodes(indexed: dict[str, Any], client: Client) -> None:
    capped = client.ok("cypher_query", query="MATCH (n:Code) WHERE n.repo = $r RETURN n", params={"r": SAMPLE}, limit=3)
    assert capped["row_count"] == 3 and capped["truncated"] is True and capped["columns"] == ["n"]
    assert "Code" in capped["rows"][0]["n"]["labels"] and capped["rows"][0]["n"]["repo"] == SAMPLE
    # Write words inside strings are data, not clauses.
    quoted = client.ok("cypher_query", query="RETURN 'CREATE (x) SET x.a = 1' AS s")
    assert quoted["rows"] == [{"s": "CREATE (x) SET x.a = 1"}]


# --------------------------------------------------------------------------------------------- jobs


def test_duplicate_request_returns_running_job_and_cancel(indexed: dict[str, Any], client: Client, repos: Path) -> None:
    args = {"path": str(repos / "big"), "name": BIG}
    first = client.ok("index_repository", **args)
    second = client.ok("index_repository", **args)
    assert second["created"] is False and second["job"]["job_id"] == first["job"]["job_id"]
    cancelled = client.ok("cancel_index", job_id=first["job"]["job_id"])
    assert cancelled["job_id"] == first["job"]["job_id"]
    job = client.wait(first["job"]["job_id"])
    assert job["state"] == "cancelled", job
    # A cancelled run leaves the graph consistent: indexing again converges to the full graph.
    again = client.ok("index_repository", **args)
    assert again["created"] is True
    done = client.wait(again["job"]["job_id"], timeout=60)
    assert done["state"] == "succeeded", done
    assert done["nodes"] == {"Repository": 1, "File": BIG_FILES, "Module": BIG_FILES, "Function": 3 * BIG_FILES}
    assert done["relationships"] == {"CONTAINS": 5 * BIG_FILES, "CALLS": 2 * BIG_FILES}


def test_remove_repository(indexed: dict[str, Any], client: Client) -> None:
    removed = client.ok("remove_repository", repo=BIG)
    assert removed["removed_nodes"] == 5 * BIG_FILES
    assert BIG not in {r["id"] for r in client.ok("list_repositories")["repositories"]}
    assert "no repository" in client.error("remove_repository", {"repo": BIG})


# --------------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("tool", "args", "expected"),
    [
        ("index_repository", {}, "path"),
        ("index_repository", {"path": "/"}, "outside the allowed roots"),
        ("index_repository", {"path": "relative/dir"}, "must be absolute"),
        ("index_repository", {"path": "{root}/missing"}, "no such directory"),
        ("index_repository", {"path": "{root}/" + "a" * 10_000}, "not a usable path (File name too long)"),
        ("index_repository", {"path": "{root}/" + "a/" * 3_000}, "not a usable path (File name too long)"),
        ("index_repository", {"path": "{root}/a\x00b"}, "not a usable path (embedded null"),
        ("index_repository", {"path": "{root}/sample", "workers": 4, "pool_size": 2}, "at least the number"),
        ("index_status", {"job_id": "nope"}, "no index job"),
        ("cancel_index", {"job_id": "nope"}, "no index job"),
        ("cypher_query", {"query": "CREATE (n:Code {id: 'x'}) RETURN n"}, "read-only"),
        ("cypher_query", {"query": "MATCH (n:Code) DETACH DELETE n"}, "read-only"),
        ("cypher_query", {"query": "MERGE (n:Repository {id: 'x'})"}, "read-only"),
        ("cypher_query", {"query": "MATCH (n) SET n.x = 1"}, "read-only"),
        ("cypher_query", {"query": "CALL apoc.create.node(['X'], {})"}, "read-only"),
        ("cypher_query", {"query": "INSERT (n:Pwn {x: 10})"}, "read-only"),
        ("cypher_query", {"query": "MATCH (n) RETURN n", "limit": 10**6}, "less than or equal to 1000"),
        ("cypher_query", {"query": "THIS IS NOT CYPHER"}, "query failed"),
        ("find_symbols", {"query": "x", "limit": 5000}, "less than or equal to 1000"),
        ("find_symbols", {"query": "x", "mode": "fuzzy"}, "mode"),
        ("callers", {"name": "pkg.geometry.util.square", "depth": 50}, "less than or equal to 5"),
        ("callers", {"name": "no.such.function", "repo": SAMPLE}, "no Function/Method named"),
        ("get_symbol", {"name": "no.such.symbol"}, "no symbol named"),
        ("class_hierarchy", {"name": "app.main", "repo": SAMPLE}, "no Class named"),
    ],
)
def test_bad_input_is_a_clear_tool_error(
    indexed: dict[str, Any], client: Client, repos: Path, tool: str, args: dict[str, Any], expected: str
) -> None:
    args = {k: v.replace("{root}", str(repos)) if isinstance(v, str) else v for k, v in args.items()}
    message = client.error(tool, args)
    assert expected.lower() in message.lower(), message
    assert client.ok("list_repositories")["repositories"] is not None  # the server still answers


def test_writes_never_reached_the_graph(indexed: dict[str, Any], client: Client) -> None:
    for query in ("CREATE (n:Code {id: 'x'}) RETURN n", "MATCH (n:Code) SET n.x = 1", "INSERT (n:Pwn {x: 1})"):
        assert "read-only" in client.error("cypher_query", {"query": query})
    rows = client.ok("cypher_query", query="MATCH (n) WHERE n.id = 'x' OR n.x = 1 OR n:Pwn RETURN count(n) AS c")
    assert rows["rows"] == [{"c": 0}]


def test_logs_go_to_stderr_and_stdout_is_protocol_only(client: Client) -> None:
    # The SDK client hands unparseable stdout lines to the message handler as exceptions: there must be none.
    assert not [n for n in client.notifications if isinstance(n, Exception)]
    assert "graphdex MCP server" in client.stderr.read_text()


# --------------------------------------------------------------------------------------------- start-up


def test_startup_touches_no_graph_server_and_speaks_only_json_rpc(tmp_path: Path) -> None:
    """Raw stdio, a fresh home: the handshake and the runtime resource answer without starting a server."""
    home = tmp_path / "home"
    requests = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": types.LATEST_PROTOCOL_VERSION,
                "capabilities": {},
                "clientInfo": {"name": "raw", "version": "0"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "resources/read", "params": {"uri": "graphdex://runtime"}},
    ]
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mcp_server"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=server_env(home, tmp_path),
        cwd=REPO_ROOT,
    )
    assert proc.stdin is not None and proc.stdout is not None
    out: list[str] = []
    try:
        proc.stdin.write("".join(json.dumps(r) + "\n" for r in requests))
        proc.stdin.flush()
        while not any('"id":2' in line.replace(" ", "") for line in out):  # keep stdin open until answered
            line = proc.stdout.readline()
            assert line, "the server closed stdout early"
            out.append(line)
        proc.stdin.close()  # end of input: the server exits
        out += proc.stdout.readlines()
        stderr = proc.stderr.read() if proc.stderr else ""
        proc.wait(timeout=15)
    finally:
        proc.kill()
    elapsed = time.monotonic() - started
    lines = [json.loads(line) for line in out if line.strip()]  # every stdout line is JSON
    assert all(m.get("jsonrpc") == "2.0" for m in lines)
    replies = {m["id"]: m for m in lines if "id" in m}
    assert replies[1]["result"]["serverInfo"]["name"] == "graphdex"
    runtime_info = json.loads(replies[2]["result"]["contents"][0]["text"])
    assert runtime_info["graph_server"]["connected"] is False
    assert "not running" in runtime_info["graph_server"]["note"]
    assert not localdb.status(Settings(home=home)).running
    assert "graphdex MCP server" in stderr
    assert elapsed < 15, f"start-up and exit took {elapsed:.1f}s"


# --------------------------------------------------------------------------------------------- client roots


def test_client_roots_decide_what_may_be_indexed(
    graph_home: Path, graph_server: localdb.ServerInfo, repos: Path
) -> None:
    """A client that offers MCP roots: they, not GRAPHDEX_ALLOWED_ROOTS, bound index_repository."""

    async def list_roots(context: Any) -> types.ListRootsResult:
        return types.ListRootsResult(roots=[types.Root(uri=(repos / "sample").resolve().as_uri(), name="sample")])

    async def run() -> tuple[str, dict[str, Any]]:
        params = StdioServerParameters(
            command=sys.executable, args=["-m", "mcp_server"], env=server_env(graph_home, repos), cwd=str(REPO_ROOT)
        )
        with open(os.devnull, "w") as errlog:
            async with (
                stdio_client(params, errlog=errlog) as (read, write),
                ClientSession(read, write, list_roots_callback=list_roots) as session,
            ):
                await session.initialize()
                refused = await session.call_tool("index_repository", {"path": str(repos / "big")})
                assert refused.is_error
                # A dry question about the sample: already indexed under SAMPLE, so this run changes nothing.
                ok = await session.call_tool("index_repository", {"path": str(repos / "sample"), "name": SAMPLE})
                assert not ok.is_error, text(ok)
                assert ok.structured_content is not None
                job_id = ok.structured_content["job"]["job_id"]
                for _ in range(300):
                    status = await session.call_tool("index_status", {"job_id": job_id})
                    assert status.structured_content is not None
                    job = status.structured_content["jobs"][0]
                    if job["state"] not in ("queued", "running"):
                        break
                    await anyio.sleep(0.1)
                return text(refused), {**ok.structured_content, "final": job}

    refused, ok = anyio.run(run)
    assert "outside the allowed roots (client roots" in refused
    assert ok["roots_source"] == "client roots"
    assert ok["final"]["state"] == "succeeded" and ok["final"]["files_changed"] == 0
    assert ok["final"]["nodes"] == EXPECTED_NODE_COUNTS


# --------------------------------------------------------------------------------------------- packaging


def test_server_json_is_valid_for_the_registry() -> None:
    import jsonschema  # in the test extra: a missing package fails this test, it does not skip it

    schema = json.loads((Path(__file__).parent / "data" / "server.schema.2025-12-11.json").read_text())
    server = json.loads((REPO_ROOT / "server.json").read_text())
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(server)
    version = re.search(r'^version = "([^"]+)"', (REPO_ROOT / "pyproject.toml").read_text(), re.MULTILINE).group(1)
    assert server["$schema"] == schema["$id"]
    assert server["name"].count("/") == 1 and server["version"] == version
    (package,) = server["packages"]
    assert (package["registryType"], package["identifier"], package["version"]) == ("pypi", "graphdex", version)
    assert package["runtimeHint"] == "uvx" and package["transport"] == {"type": "stdio"}
    assert [a["value"] for a in package["packageArguments"]] == ["serve"]
    env = {v["name"]: v for v in package["environmentVariables"]}
    assert {
        "NEO4J_URI",
        "NEO4J_USERNAME",
        "NEO4J_PASSWORD",
        "NEO4J_DATABASE",
        "GRAPHDEX_HOME",
        "GRAPHDEX_WORKERS",
        "GRAPHDEX_EXECUTOR",
        "GRAPHDEX_ALLOWED_ROOTS",
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
    } <= set(env)
    assert all(v["description"] for v in env.values())
    assert {n for n, v in env.items() if v.get("isSecret")} == {"NEO4J_PASSWORD", "OPENAI_API_KEY"}
    docs = (REPO_ROOT / "README.md").read_text()  # the registry reads mcp-name from the README
    assert f"mcp-name: {server['name']}" in docs


# --------------------------------------------------------------------------------------------- clause check


@pytest.mark.parametrize(
    ("query", "clause"),
    [
        ("MATCH (n) RETURN n.created, n.offset, n.settings", None),
        ("MATCH (n) WHERE n.name = 'DELETE me' RETURN n // SET in a comment", None),
        ("MATCH (n) RETURN n.`set`, $set", None),
        ("CALL db.labels() YIELD label RETURN label", None),
        ("CALL { MATCH (n) RETURN n } RETURN count(*)", None),
        ("create (n)", "CREATE"),
        ("MATCH (n) DETACH DELETE n", "DETACH"),
        ("MATCH (n) REMOVE n.x", "REMOVE"),
        ("DROP INDEX graphdex_code_name", "DROP"),
        ("FOREACH (x IN [1] | CREATE ())", "FOREACH"),
        ("LOAD  CSV FROM 'file:///x' AS row RETURN row", "LOAD CSV"),
        ("CALL { MATCH (n) RETURN n } IN TRANSACTIONS", "IN TRANSACTIONS"),
        ("CALL apoc.periodic.iterate('MATCH (n) RETURN n', 'RETURN 1', {})", "CALL apoc.periodic.iterate"),
        ("CALL db.createLabel('X')", "CALL db.createLabel"),
    ],
)
def test_write_clause_check(query: str, clause: str | None) -> None:
    from indexer.store.queries import write_clause

    assert write_clause(query) == clause


def test_semantic_search_falls_back_to_text_search_and_says_so(indexed: dict[str, Any], client: Client) -> None:
    """The server runs with no embedding provider: the tool still answers, from text search, and says why."""
    found = client.ok("semantic_search", query="distance", k=5, repo=SAMPLE)
    assert found["mode"] == "fulltext"
    assert "embeddings are off" in found["note"]
    assert found["results"][0]["qualified_name"] == "pkg.geometry.util.distance"
    assert found["results"][0]["path"] == "pkg/geometry/util.py"
    assert "def distance" in found["results"][0]["snippet"]
    assert "less than or equal to 100" in client.error("semantic_search", {"query": "x", "k": 1000})
