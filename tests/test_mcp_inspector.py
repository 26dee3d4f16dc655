"""The MCP Inspector (the protocol's official debugging client, in Node) against graphdex over stdio, on the
handshake-era protocol it negotiates by default.

A job lives in one server process. The Inspector's single-shot CLI (`inspector --cli <server command> --method …`)
starts a server of its own for each call and runs one method, so a job started in one call is gone in the next:
the CLI reads the job listing (`graphdex://jobs`, empty in its fresh server). The job's own resource is read with
`mcpdo`, the Inspector's connection CLI from the same package, which keeps one server for many commands: connect,
index_repository, resources/subscribe to the job (mcpdo prints each resources/updated), index_repository(wait=true)
on the same path (the running job, waited for), resources/read graphdex://jobs/{id}, disconnect.

`.ci/run` installs the Inspector once into its cache and points GRAPHDEX_INSPECTOR_DIR at it; without that
variable npx fetches the pinned version itself. A missing npx fails these tests: it is never a skip.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from generated_repo import expected_counts, make_generated_repo
from mcp_client import REPO_ROOT

from indexer import localdb

INSPECTOR = "@modelcontextprotocol/inspector"
VERSION = "2.12.0"  # the same pin as .ci/run
MODULES = 300  # a job long enough (several seconds) to subscribe to while it runs


def npx_command(binary: str) -> tuple[list[str], str]:
    """(command, working directory) that runs one of the Inspector package's commands (`inspector`, `mcpdo`)."""
    found = shutil.which("npx")
    if found is None:
        pytest.fail("npx is not installed: the MCP Inspector tests need Node.js with npx (apt-get install npm)",
                    pytrace=False)
    installed = os.environ.get("GRAPHDEX_INSPECTOR_DIR")
    if installed:  # installed by .ci/run: npx resolves the package and its commands from that folder
        return [found, "--no-install", INSPECTOR if binary == "inspector" else binary], installed
    name = "mcp-inspector" if binary == "inspector" else binary
    return [found, "--yes", f"--package={INSPECTOR}@{VERSION}", name], str(REPO_ROOT)


def npx(binary: str, *args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Any:
    """Run one of the Inspector package's commands through npx and return its JSON output."""
    command, cwd = npx_command(binary)
    done = subprocess.run([*command, *args], capture_output=True, text=True, cwd=cwd, timeout=timeout,
                          env={**os.environ, **(env or {})})
    assert done.returncode == 0, f"{binary} {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout)


def server_env(graph_home: Path, allowed: Path) -> dict[str, str]:
    """What the server needs (the Inspector passes its server only a minimal environment plus these)."""
    env = {"GRAPHDEX_HOME": str(graph_home), "GRAPHDEX_ALLOWED_ROOTS": str(allowed), "GRAPHDEX_WORKERS": "2",
           "PYTHONPATH": str(REPO_ROOT)}
    if "GRAPHDEX_ARCADEDB_HOME" in os.environ:  # the free-threaded lane's runtime
        env["GRAPHDEX_ARCADEDB_HOME"] = os.environ["GRAPHDEX_ARCADEDB_HOME"]
    return env


@pytest.fixture
def mcpdo(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A private mcpdo daemon in a home of its own (no ~/.mcp-inspector is touched), stopped at the end."""
    env = {"HOME": str(tmp_path / "home"), "MCP_INSPECTOR_SECRET_STORE": "file"}
    (tmp_path / "home").mkdir()
    command, cwd = npx_command("mcpdo")
    exports = subprocess.run([*command, "private"], capture_output=True, text=True, timeout=120, cwd=cwd,
                             env={**os.environ, **env})
    assert exports.returncode == 0, exports.stderr
    for line in exports.stdout.splitlines():  # export NAME='value'
        name, _, value = line.removeprefix("export ").partition("=")
        env[name] = value.strip("'")
    assert "MCP_INSPECTOR_DAEMON_DIR" in env, exports.stdout
    try:
        yield env
    finally:
        subprocess.run([*command, "daemon", "stop"], capture_output=True, text=True, timeout=60, cwd=cwd,
                       env={**os.environ, **env})
        shutil.rmtree(env["MCP_INSPECTOR_DAEMON_DIR"], ignore_errors=True)


def stream_events(text: str) -> list[dict[str, Any]]:
    """The JSON objects mcpdo's stream commands print one after another (pretty-printed)."""
    decoder, events, at = json.JSONDecoder(), [], 0
    while (at := text.find("{", at)) != -1:
        event, at = decoder.raw_decode(text, at)
        events.append(event)
    return events


def test_the_inspector_follows_a_job_and_reads_its_resource(
    graph_home: Path, graph_server: localdb.ServerInfo, tmp_path: Path, mcpdo: dict[str, str]
) -> None:
    """One mcpdo session: start a job, subscribe to its resource (mcpdo prints each resources/updated), wait for it
    with index_repository(wait=true) on the same path, then read the resource."""
    root = make_generated_repo(tmp_path / "repos" / "gen", MODULES)
    config = tmp_path / "mcp.json"
    config.write_text(json.dumps({"mcpServers": {"graphdex": {
        "command": sys.executable, "args": ["-m", "mcp_server"], "env": server_env(graph_home, root.parent)}}}))
    connected = npx("mcpdo", "--format", "json", "connect", "graphdex", "--config", str(config), env=mcpdo)
    assert connected["protocolEra"] == "legacy", connected
    conn = ["--format", "json", "--connection", "graphdex"]
    args = ["index_repository", f"path:={root}", "name:=mcp_inspector"]

    started = answer(npx("mcpdo", *conn, "tools/call", *args, env=mcpdo))
    uri = started["resource"]
    assert started["created"] is True and uri == f"graphdex://jobs/{started['job']['job_id']}", started
    command, cwd = npx_command("mcpdo")
    with (tmp_path / "subscribe.out").open("w+") as out:
        subscriber = subprocess.Popen([*command, *conn, "resources/subscribe", uri], stdout=out,
                                      stderr=subprocess.DEVNULL, cwd=cwd, env={**os.environ, **mcpdo},
                                      start_new_session=True)  # npx runs mcpdo as a child: end the group
        try:
            waited = answer(npx("mcpdo", *conn, "tools/call", *args, "wait:=true", env=mcpdo, timeout=300))
            time.sleep(1.0)  # the last resources/updated reaches the subscriber
        finally:
            os.killpg(subscriber.pid, signal.SIGTERM)
            subscriber.wait(timeout=30)
        out.seek(0)
        events = stream_events(out.read())
    assert waited["created"] is False and waited["job"]["job_id"] == started["job"]["job_id"], waited
    assert waited["job"]["state"] == "succeeded", waited["job"]
    assert events and events[0] == {"type": "subscribed", "uri": uri}, events
    updates = [e for e in events if e.get("type") == "resources/updated"]
    assert updates and all(e["uri"] == uri for e in updates), events

    read = npx("mcpdo", *conn, "resources/read", uri, env=mcpdo)
    (content,) = read["contents"]
    assert content["uri"] == uri and content["mimeType"] == "application/json"
    status = json.loads(content["text"])
    assert status["job_id"] == started["job"]["job_id"] and status["state"] == "succeeded"
    assert status["files_done"] == status["files_total"] == expected_counts(MODULES)["File"]
    listed = npx("mcpdo", *conn, "resources/list", env=mcpdo)
    assert uri in {r["uri"] for r in listed["resources"]}
    npx("mcpdo", "--format", "json", "disconnect", "graphdex", env=mcpdo)
    print(f"[measured] the Inspector (mcpdo) got {len(updates)} resources/updated for one job", file=sys.stderr)


def answer(called: dict[str, Any]) -> dict[str, Any]:
    """A tools/call result's structured answer, as mcpdo prints it."""
    assert not called.get("isError"), called
    return called.get("structuredContent") or json.loads(called["content"][0]["text"])


def test_the_inspector_cli_reads_the_job_listing(graph_home: Path, graph_server: localdb.ServerInfo,
                                                 tmp_path: Path) -> None:
    env_args = [arg for name, value in server_env(graph_home, tmp_path).items() for arg in ("-e", f"{name}={value}")]
    out = npx("inspector", "--cli", "--format", "json", "-q", *env_args, sys.executable, "-m", "mcp_server",
              "--method", "resources/read", "--uri", "graphdex://jobs", env={"HOME": str(tmp_path)})
    (content,) = out["result"]["contents"] if "result" in out else out["contents"]
    assert content["uri"] == "graphdex://jobs"
    assert json.loads(content["text"]) == {"jobs": []}  # the Inspector's own fresh server has run no job
