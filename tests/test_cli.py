"""The `graphdex` command: options, environment, JSON summary, exit codes and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sample_repo import EXPECTED_NODE_COUNTS, EXPECTED_RELATIONSHIP_COUNTS, make_sample_repo

from indexer.errors import ConfigError
from indexer.settings import Settings

SUMMARY_KEYS = {"files_indexed", "files_skipped", "files_failed", "nodes", "relationships", "phases",
                "wall_seconds", "executor", "workers", "gil_enabled"}


def graphdex(*args: str, home: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "GRAPHDEX_"))}
    environ.update(GRAPHDEX_HOME=str(home), **(env or {}))
    return subprocess.run([sys.executable, "-m", "indexer", *args], capture_output=True, text=True, env=environ,
                          timeout=300)


def test_index_json_summary(tmp_path: Path, graph_home: Path, graph_server: object) -> None:
    repo = make_sample_repo(tmp_path / "sample")
    done = graphdex("index", str(repo), "--json", "--name", "cli-sample", "--workers", "2", home=graph_home)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert set(summary) >= SUMMARY_KEYS
    assert {"discover", "parse", "resolve", "write"} <= set(summary["phases"])
    assert summary["nodes"] == dict(sorted(EXPECTED_NODE_COUNTS.items()))
    assert summary["relationships"] == dict(sorted(EXPECTED_RELATIONSHIP_COUNTS.items()))
    assert summary["files_skipped"] == 2 and summary["workers"] == 1  # serial: a 6-file repository


def test_index_text_summary_and_progress(tmp_path: Path, graph_home: Path, graph_server: object) -> None:
    repo = make_sample_repo(tmp_path / "sample")
    done = graphdex("index", str(repo), "--name", "cli-text", home=graph_home)
    assert done.returncode == 0, done.stderr
    assert "indexed cli-text" in done.stdout and "executor  serial" in done.stdout
    assert "parse:" in done.stderr  # phase lines when stderr is not a terminal
    assert done.stdout.count("skipped   ") == 2


@pytest.mark.parametrize(("args", "env", "message"), [
    (["--workers", "0"], {}, "GRAPHDEX_WORKERS / --workers: must be a whole number from 1 to 256"),
    (["--workers", "4", "--pool-size", "2"], {}, "must be at least the number of workers (4)"),
    ([], {"GRAPHDEX_EXECUTOR": "gpu"}, "must be one of auto, thread, process, serial, dask, not 'gpu'"),
    ([], {"GRAPHDEX_WORKERS": "many"}, "GRAPHDEX_WORKERS must be a whole number, not 'many'"),
    (["--max-file-size", "huge"], {}, "--max-file-size must be a size such as 1048576, 512K or 1M"),
    ([], {"NEO4J_URI": "http://x"}, "NEO4J_URI: must start with one of bolt://"),
    (["--if-busy", "wait"], {"GRAPHDEX_BUSY_TIMEOUT": "-1"}, "GRAPHDEX_BUSY_TIMEOUT: must be from 0 to 86400"),
    ([], {"GRAPHDEX_DB_HEAP": "lots"}, "GRAPHDEX_DB_HEAP: must be a JVM heap size such as 512m or 2g"),
])
def test_bad_configuration_is_one_clear_line(tmp_path: Path, args: list[str], env: dict[str, str],
                                             message: str) -> None:
    done = graphdex("index", str(tmp_path), *args, home=tmp_path / "home", env=env)
    assert done.returncode == 2  # invalid input
    assert done.stderr.strip().splitlines() == [f"graphdex: error: {done.stderr.split('error: ', 1)[1].strip()}"]
    assert message in done.stderr


def test_bad_option_and_bad_path(tmp_path: Path) -> None:
    done = graphdex("index", str(tmp_path), "--executor", "gpu", home=tmp_path / "home")
    assert done.returncode == 2 and "invalid choice: 'gpu'" in done.stderr
    done = graphdex("index", str(tmp_path / "missing"), "--dry-run", home=tmp_path / "home")
    assert done.returncode == 2 and "no such directory" in done.stderr


def test_unreachable_server_is_one_clear_line(tmp_path: Path) -> None:
    done = graphdex("index", str(make_sample_repo(tmp_path / "s")), home=tmp_path / "home",
                    env={"NEO4J_URI": "bolt://127.0.0.1:9", "NEO4J_PASSWORD": "secret-pw"})
    assert done.returncode == 1
    assert "cannot reach the graph server at bolt://127.0.0.1:9" in done.stderr
    assert "secret-pw" not in done.stderr + done.stdout


def test_dry_run_needs_no_server(tmp_path: Path) -> None:
    done = graphdex("index", str(make_sample_repo(tmp_path / "s")), "--dry-run", "--json",
                    home=tmp_path / "home", env={"NEO4J_URI": "bolt://127.0.0.1:9"})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["relationships"]["CALLS"] == EXPECTED_RELATIONSHIP_COUNTS["CALLS"]


def test_settings_layering() -> None:
    s = Settings.from_env({"GRAPHDEX_WORKERS": "3", "GRAPHDEX_EXECUTOR": "thread"}, workers=5)
    assert (s.workers, s.executor, s.connection_pool_size) == (5, "thread", 7)
    assert Settings.from_env({"GRAPHDEX_MAX_FILE_SIZE": "512K"}).max_file_size == 512 * 1024
    assert "neo4j_password" not in Settings.from_env({"NEO4J_PASSWORD": "pw"}).public_dict()
    with pytest.raises(ConfigError, match="GRAPHDEX_BATCH_SIZE / --batch-size: must be from 1 to 100000"):
        Settings.from_env({}, batch_size=0)


def test_help_lists_commands_and_environment() -> None:
    done = subprocess.run([sys.executable, "-m", "indexer", "--help"], capture_output=True, text=True)
    assert done.returncode == 0
    for word in ("index", "db", "serve", "runtime", "NEO4J_URI", "GRAPHDEX_WORKERS", "exit codes:"):
        assert word in done.stdout
    for code in ("0", "1", "2", "3", "4", "130"):
        assert f"\n  {code:<4} " in done.stdout


def test_serve_speaks_only_protocol_on_stdout(tmp_path: Path) -> None:
    """`graphdex serve` starts the MCP face; with stdin closed it ends cleanly, having written nothing to stdout
    (the protocol's channel) and its log line to stderr, without touching a graph server."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "GRAPHDEX_"))}
    environ["GRAPHDEX_HOME"] = str(tmp_path / "home")
    done = subprocess.run([sys.executable, "-m", "indexer", "serve"], capture_output=True, text=True,
                          env=environ, stdin=subprocess.DEVNULL, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert "graphdex MCP server" in done.stderr
    assert not (tmp_path / "home" / "server.json").exists()


def test_the_facts_cache_spares_parsing_and_can_be_cleared(tmp_path: Path, graph_home: Path,
                                                           graph_server: object) -> None:
    repo = make_sample_repo(tmp_path / "cached")
    first = json.loads(graphdex("index", str(repo), "--json", "--name", "cli-cache", home=graph_home).stdout)
    assert first["files_parsed"] == first["files_indexed"] + first["files_failed"] == 6
    util = repo / "pkg" / "geometry" / "util.py"
    util.write_text(util.read_text() + "\n# edited\n")
    second = json.loads(graphdex("index", str(repo), "--json", "--name", "cli-cache", home=graph_home).stdout)
    assert (second["files_parsed"], second["files_changed"], second["files_indexed"]) == (1, 1, 6)
    nothing = json.loads(graphdex("index", str(repo), "--json", "--name", "cli-cache", home=graph_home).stdout)
    assert nothing["files_parsed"] == 0 and nothing["relationships"] == second["relationships"]
    cleared = graphdex("cache", "clear", "--repo", "cli-cache", home=graph_home)
    assert cleared.returncode == 0 and "forgot the cached facts of 'cli-cache'" in cleared.stdout
    again = json.loads(graphdex("index", str(repo), "--json", "--name", "cli-cache", home=graph_home).stdout)
    assert again["files_parsed"] == 6 and again["files_changed"] == 0 and again["edges_added"] == 0
