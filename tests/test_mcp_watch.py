"""An MCP server keeps the repositories it indexed fresh (opt-in): an edit under a watched repository is in the
graph within 2 s, index_status lists the refresh and what it changed, and a subscriber to the repository's
resource is told of each refresh."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from mcp import types
from mcp_client import Client, mcp_client
from sample_repo import make_sample_repo

from indexer.settings import Settings

FOLLOW_BOUND = 2.0 + 0.2  # the 2 s, plus the quiet time that ends a burst of changes


def _updates(client: Client, uri: str, since: int) -> int:
    return sum(1 for _, n in client.arrivals[since:]
               if isinstance(n, types.ResourceUpdatedNotification) and str(n.params.uri) == uri)


def _until(predicate: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout}s")


def test_a_watched_repository_follows_its_files(tmp_path: Path, graph_settings: Settings,
                                                graph_server: object) -> None:
    root = make_sample_repo(tmp_path / "repos" / "kept")
    with mcp_client(graph_settings.home, root.parent, tmp_path / "mcp.log") as client:
        started = client.ok("index_repository", path=str(root), name="mcp-kept", watch=True, wait=True)
        assert started["job"]["state"] == "succeeded" and started["job"]["trigger"] == "request"
        resource = "graphdex://repos/mcp-kept"
        assert json.loads(client.resource(resource))["watching"] is True
        client.subscribe(resource)
        mark = len(client.arrivals)
        time.sleep(0.5)  # the watch is set up as the job ends; give the OS watch a moment

        util = root / "pkg" / "geometry" / "util.py"
        saved = time.monotonic()
        util.write_text(util.read_text() + "\n\ndef cube(x):\n    return square(x) * x\n")

        def in_graph() -> bool:
            found = client.ok("find_symbols", query="pkg.geometry.util.cube", repo="mcp-kept")["symbols"]
            return bool(found)

        _until(in_graph, 10)
        followed = time.monotonic() - saved
        refresh = _until(lambda: next((j for j in client.ok("index_status")["jobs"]
                                       if j["trigger"] == "watch" and j["state"] == "succeeded"), None), 10)
        assert refresh["repo"] == "mcp-kept" and refresh["files_changed"] == 1, refresh
        assert followed < FOLLOW_BOUND, f"the graph followed the edit after {followed:.2f}s"
        _until(lambda: _updates(client, resource, mark) >= 2, 5)  # the refresh began, and ended
        kept = json.loads(client.resource(resource))
        assert kept["last_refresh"]["job_id"] == refresh["job_id"] and kept["roots"] == [str(root.resolve())]
        callees = client.ok("callees", name="pkg.geometry.util.cube", repo="mcp-kept")["callees"]
        assert [c["qualified_name"] for c in callees] == ["pkg.geometry.util.square"]

        stopped = client.ok("index_repository", path=str(root), name="mcp-kept", watch=False, wait=True)
        assert stopped["job"]["state"] == "succeeded"
        assert json.loads(client.resource(resource))["watching"] is False
