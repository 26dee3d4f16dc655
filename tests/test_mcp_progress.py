"""Progress that MCP clients see (issue 14), over stdio with the SDK's own clients against the session's graph
server: index_repository(wait=true) streams progress inside its open request and nothing with its token follows the
answer (checked on the recorded wire); cancelling that request cancels the job and a re-index converges; a job's
resource tells its subscribers as the job moves, on the handshake-era protocol (ClientSession: resources/subscribe)
and on 2026-07-28 (the SDK's Client: subscriptions/listen).

The library's side (indexer/jobs.py: JobManager.watch, ProgressSeries) is checked first, without MCP.

Measured numbers go to stderr (`pytest -s` shows them): notifications per run, the largest gap, the highest rate.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from generated_repo import expected_counts, make_generated_repo
from graph_helpers import assert_same_graph
from mcp import types
from mcp.client import Client as SdkClient
from mcp.client.stdio import stdio_client
from mcp_client import Client, Wire, mcp_client, server_params, text, wait_until

from indexer import localdb
from indexer.jobs import IndexJob, JobManager, ProgressSeries
from indexer.models import Progress as PipelineProgress
from indexer.settings import Settings
from indexer.store import GraphStore

MODULES = 400  # a fresh index takes several seconds (5-8 s on two busy cores)
FILES = expected_counts(MODULES)["File"]
STEPS = 5  # overall progress: one step per file, then resolve, write, embed, count and the end
MAX_GAP = 1.0  # seconds: progress at least every second while the request is open ...
JITTER = 0.5  # ... give or take what two busy cores add between the server's write and the test's clock
PACE = 0.25  # resources/updated: at most 4 a second per resource, plus one per state change
FINAL = ("succeeded", "failed", "cancelled")


def measured(what: str) -> None:
    print(f"[measured] {what}", file=sys.stderr)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The allowed root, holding one generated repository indexed under several ids."""
    base = tmp_path_factory.mktemp("mcp-progress")
    make_generated_repo(base / "gen", MODULES)
    return base


@pytest.fixture(scope="module")
def wire() -> Wire:
    return []


@pytest.fixture(scope="module")
def client(graph_home: Path, graph_server: localdb.ServerInfo, tree: Path, wire: Wire,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    with mcp_client(graph_home, tree, tmp_path_factory.mktemp("mcp-log") / "stderr.log", wire=wire) as connected:
        yield connected


Progress = list[tuple[float, float, float | None, str | None]]  # (arrival, progress, total, message)


def recorder() -> tuple[Progress, Any]:
    seen: Progress = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((time.monotonic(), progress, total, message))

    return seen, on_progress


def request_id(wire: Wire, tool: str, repo: str, wait: bool) -> int | str:
    """The id of the one tools/call of `tool` with these arguments the client sent."""
    ids = [m["id"] for _, way, m in wire if way == "out" and m.get("method") == "tools/call"
           and m["params"]["name"] == tool and m["params"]["arguments"].get("name") == repo
           and m["params"]["arguments"].get("wait", False) == wait]
    assert len(ids) == 1, ids
    return ids[0]


def around_the_answer(wire: Wire, rid: int | str) -> tuple[list[dict[str, Any]], list[dict[str, Any]], float | None]:
    """The progress notifications with this request's token that the server wrote before its answer and after it,
    in wire order, and when the answer arrived (None: never answered)."""
    sent = next(m for _, way, m in wire if way == "out" and m.get("id") == rid and "method" in m)
    token = sent["params"]["_meta"]["progressToken"]
    before: list[dict[str, Any]] = []
    after: list[dict[str, Any]] = []
    answered: float | None = None
    for at, way, m in wire:
        if way != "in":
            continue
        if m.get("id") == rid and "method" not in m:
            answered = at
        elif m.get("method") == "notifications/progress" and m["params"]["progressToken"] == token:
            (before if answered is None else after).append(m["params"])
    return before, after, answered


# --------------------------------------------------------------------------------------------- the library


def test_a_progress_series_only_grows_and_ends_once_at_the_total(tmp_path: Path) -> None:
    job = IndexJob(id="j", repo="r", root=str(tmp_path), settings=Settings(home=tmp_path), state="running")
    series = ProgressSeries(job)
    reports = [series.next(), series.next()]  # nothing counted yet: 0, then a heartbeat
    job.on_progress(PipelineProgress("parse", 3, 10, "parsing"))
    reports += [series.next(), series.next(), series.next()]  # 3, then heartbeats below 4
    job.on_progress(PipelineProgress("parse", 10, 10, "parsed"))
    job.on_progress(PipelineProgress("resolve", 0, 1, "resolving"))
    reports.append(series.next())  # 10 files, then resolve
    job._set(state="succeeded", phase="succeeded")
    reports.append(series.next())
    assert series.next() is None  # nothing after the final report
    values = [r[0] for r in reports if r is not None]
    assert values == [0.0, 0.5, 3.0, 3.5, 3.0 + 2 / 3, 11.0, 10.0 + STEPS]
    assert reports[-1] is not None and reports[-1][1] == 10.0 + STEPS and "succeeded" in reports[-1][2]
    assert reports[2] is not None and reports[2][2] == "running / parse 3/10 files: parsing"


def test_a_watcher_sees_every_change_of_a_job_in_order(graph_settings: Settings, tmp_path: Path) -> None:
    from sample_repo import make_sample_repo

    root = make_sample_repo(tmp_path / "sample")
    jobs = JobManager(lambda settings: None)
    seen: list[tuple[str, str, str | None]] = []
    stop = jobs.watch(lambda job, change: seen.append((change, job.state, job.finished_at)))
    try:
        job, created = jobs.submit(root, graph_settings, "mcp_watcher")
        assert created
        wait_until(lambda: not job.active, 60, "the job's end")
        stop()
        jobs.submit(root, graph_settings, "mcp_watcher")  # no longer watched
        wait_until(lambda: all(not j.active for j in jobs.list()), 60, "the second job's end")
    finally:
        jobs.shutdown()
    changes = [c for c, _, _ in seen]
    assert changes[:2] == ["created", "state"] and changes[-1] == "state", changes
    assert set(changes[2:-1]) == {"progress"}, changes
    assert seen[1][1] == "running" and seen[-1][1] == "succeeded" and seen[-1][2] is not None
    assert len([c for c in changes if c == "created"]) == 1


# --------------------------------------------------------------------------------------------- wait=true


@pytest.fixture(scope="module")
def waited(client: Client, tree: Path) -> dict[str, Any]:
    """A fresh index through index_repository(wait=true) with a progress callback (the reference for the cancel
    test: a clean index of the same tree)."""
    seen, on_progress = recorder()
    started = time.monotonic()
    result = client.call("index_repository", {"path": str(tree / "gen"), "name": "mcp_wait", "wait": True},
                         progress=on_progress, timeout=240)
    answered = time.monotonic()
    assert not result.is_error, text(result)
    assert result.structured_content is not None
    return {"answer": result.structured_content, "progress": seen, "started": started, "answered": answered}


def test_wait_streams_progress_inside_the_request_until_the_job_ends(waited: dict[str, Any], wire: Wire) -> None:
    answer, seen = waited["answer"], waited["progress"]
    job = answer["job"]
    assert job["state"] == "succeeded", job
    assert job["files_done"] == job["files_total"] == FILES
    assert {k: job["nodes"][k] for k in expected_counts(MODULES)} == expected_counts(MODULES)
    assert answer["resource"] == f"graphdex://jobs/{job['job_id']}" and answer["created"] is True

    assert len(seen) >= 5, seen
    values = [p for _, p, _, _ in seen]
    assert values == sorted(set(values)), f"progress must increase: {values}"
    _, last, total, message = seen[-1]
    assert last == total == FILES + STEPS and "succeeded" in (message or ""), seen[-1]
    assert any(f"/{FILES} files" in (m or "") for *_, m in seen), "files done / total in the messages"
    times = [waited["started"], *(t for t, *_ in seen)]
    gap = max(b - a for a, b in zip(times, times[1:], strict=False))
    assert gap <= MAX_GAP + JITTER, f"{gap:.2f}s without a progress notification"

    # On the wire: every one before the answer, none after it.
    before, after, answered = around_the_answer(wire, request_id(wire, "index_repository", "mcp_wait", True))
    assert answered is not None and not after, after
    assert [p["progress"] for p in before] == values
    measured(f"wait=true, fresh index of {FILES} files in {waited['answered'] - waited['started']:.1f}s: "
             f"{len(seen)} progress notifications, largest gap {gap:.2f}s, all {len(before)} before the answer")


def test_wait_false_answers_at_once_and_sends_no_progress(waited: dict[str, Any], client: Client, tree: Path,
                                                          wire: Wire) -> None:
    seen, on_progress = recorder()
    started = time.monotonic()
    result = client.call("index_repository", {"path": str(tree / "gen"), "name": "mcp_wait"}, progress=on_progress)
    assert time.monotonic() - started < 5 and result.structured_content is not None
    job = result.structured_content["job"]
    assert job["state"] in ("queued", "running")
    assert client.wait(job["job_id"], timeout=120)["state"] == "succeeded"
    time.sleep(0.5)  # anything that would follow the job's end has had time to arrive
    before, after, answered = around_the_answer(wire, request_id(wire, "index_repository", "mcp_wait", False))
    assert answered is not None and before == [] and after == [] and seen == []


def test_wait_seconds_answers_with_the_running_job(waited: dict[str, Any], client: Client, tree: Path) -> None:
    started = time.monotonic()
    answer = client.ok("index_repository", path=str(tree / "gen"), name="mcp_wait_short", wait=True,
                       wait_seconds=1.0)
    assert 1.0 <= time.monotonic() - started < 5
    assert answer["job"]["state"] in ("queued", "running"), answer["job"]
    assert client.wait(answer["job"]["job_id"], timeout=240)["state"] == "succeeded"
    client.ok("remove_repository", repo="mcp_wait_short")


# --------------------------------------------------------------------------------------------- cancel


def test_cancelling_the_request_cancels_the_job_and_a_reindex_converges(
    waited: dict[str, Any], client: Client, tree: Path, wire: Wire, store: GraphStore
) -> None:
    seen, on_progress = recorder()
    parsing = threading.Event()

    async def on_progress_then_cancel(progress: float, total: float | None, message: str | None) -> None:
        await on_progress(progress, total, message)
        if total and progress >= FILES // 4:  # a quarter of the files parsed: cancel mid-run
            parsing.set()

    args = {"path": str(tree / "gen"), "name": "mcp_cancel", "wait": True}
    call = client.start_call("index_repository", args, progress=on_progress_then_cancel)
    assert parsing.wait(180), f"the job never got a quarter through: {seen[-3:]}"
    cancelled_at = time.monotonic()
    call.cancel()
    job = wait_until(lambda: next((j for j in client.ok("index_status")["jobs"]
                                   if j["repo"] == "mcp_cancel" and j["state"] in FINAL), None),
                     60, "the cancelled job's end")
    took = time.monotonic() - cancelled_at
    assert job["state"] == "cancelled" and job["cancelled"] is True, job
    assert job["files_done"] < job["files_total"] or job["phase"] == "cancelled", job

    rid = request_id(wire, "index_repository", "mcp_cancel", True)
    assert any(way == "out" and m.get("method") == "notifications/cancelled" and m["params"]["requestId"] == rid
               for _, way, m in wire), "the SDK sent no notifications/cancelled"
    before, after, answered = around_the_answer(wire, rid)
    assert answered is None, "a cancelled request is never answered"
    measured(f"cancel: the job ended cancelled {took:.2f}s after the request was cancelled "
             f"(at {job['files_done']}/{job['files_total']} files; {len(before)} progress notifications before)")

    again = client.ok("index_repository", path=str(tree / "gen"), name="mcp_cancel", wait=True)["job"]
    assert again["state"] == "succeeded", again
    assert_same_graph(store, "mcp_cancel", "mcp_wait")  # mcp_wait: a fresh index of the same tree


# --------------------------------------------------------------------------------------------- job resources


def updates_for(arrivals: list[tuple[float, Any]], uri: str, since: int = 0) -> list[float]:
    return [t for t, n in arrivals[since:]
            if isinstance(n, types.ResourceUpdatedNotification) and str(n.params.uri) == uri]


def busiest_second(times: list[float]) -> int:
    """The most notifications in any one second (a sliding window, half open)."""
    return max((sum(1 for u in times if t <= u < t + 1.0) for t in times), default=0)


def test_a_subscriber_is_told_as_the_job_moves(waited: dict[str, Any], client: Client, tree: Path) -> None:
    """Handshake era (the SDK's ClientSession negotiates 2025-11-25): resources/subscribe, then
    notifications/resources/updated on the connection until the job ends."""
    caps = client.session.server_capabilities
    assert client.session.protocol_version == "2025-11-25"
    assert caps is not None and caps.resources is not None
    assert caps.resources.subscribe is True and caps.resources.list_changed is True
    mark = len(client.arrivals)
    started = client.ok("index_repository", path=str(tree / "gen"), name="mcp_watch")
    uri = started["resource"]
    client.subscribe(uri)

    def final_state() -> dict[str, Any] | None:
        if not updates_for(client.arrivals, uri, mark):
            return None
        status = json.loads(client.resource(uri))
        return status if status["state"] in FINAL else None

    status = wait_until(final_state, 240, "a final state after resources/updated")
    time.sleep(1.0)  # nothing more may come once the job has ended
    times = updates_for(client.arrivals, uri, mark)
    final = json.loads(client.resource(uri))
    assert status["state"] == final["state"] == "succeeded", final
    assert final["files_done"] == FILES and final["finished_at"]
    assert len(times) >= 3, times
    busiest = busiest_second(times)
    assert busiest <= 4 + 2, f"{busiest} resources/updated in one second (4, plus 2 state changes)"
    listed = [n for _, n in client.arrivals[mark:] if isinstance(n, types.ResourceListChangedNotification)]
    assert listed, "no resources/list_changed when the job appeared"
    uris = {str(r.uri) for r in client.portal.call(client.session.list_resources).resources}
    assert uri in uris and "graphdex://jobs" in uris
    listing = json.loads(client.resource("graphdex://jobs"))["jobs"]  # the same as index_status, newest first
    polled = client.ok("index_status")["jobs"]
    assert [(j["job_id"], j["state"]) for j in listing] == [(j["job_id"], j["state"]) for j in polled]
    assert listing[0]["job_id"] == final["job_id"]
    client.unsubscribe(uri)
    measured(f"resources/updated, handshake era: {len(times)} for one job of {FILES} files over "
             f"{times[-1] - times[0]:.1f}s, at most {busiest} in one second")


def test_an_unknown_job_resource_is_a_clear_error(client: Client) -> None:
    from mcp.shared.exceptions import MCPError

    with pytest.raises(MCPError, match="no index job with id 'nope'"):
        client.resource("graphdex://jobs/nope")


def test_a_2026_client_listens_for_job_updates_and_waits_with_progress(
    graph_home: Path, graph_server: localdb.ServerInfo, tree: Path, tmp_path: Path
) -> None:
    """The SDK's Client (mode auto) negotiates 2026-07-28 over stdio: no resources/subscribe; it opens a
    subscriptions/listen stream naming the job's URI, and the updates ride that stream."""

    async def run() -> tuple[str | None, list[float], dict[str, Any], Progress, dict[str, Any]]:
        seen, on_progress = recorder()
        with warnings.catch_warnings(), (tmp_path / "stderr.log").open("w") as errlog:
            warnings.simplefilter("ignore")
            async with SdkClient(stdio_client(server_params(graph_home, tree), errlog=errlog)) as sdk:
                version = sdk.session.protocol_version
                started = await sdk.call_tool("index_repository", {"path": str(tree / "gen"), "name": "mcp_listen"})
                assert started.structured_content is not None, text(started)
                uri = started.structured_content["resource"]
                times: list[float] = []
                with anyio.fail_after(240):
                    async with sdk.listen(resource_subscriptions=[uri]) as events:
                        async for event in events:
                            assert getattr(event, "uri", None) == uri, event
                            times.append(time.monotonic())
                            read = await sdk.read_resource(uri)
                            status = json.loads(read.contents[0].text)  # type: ignore[union-attr]
                            if status["state"] in FINAL:
                                break
                again = await sdk.call_tool("index_repository",
                                            {"path": str(tree / "gen"), "name": "mcp_listen", "wait": True},
                                            progress_callback=on_progress)
                assert again.structured_content is not None, text(again)
                return version, times, status, seen, again.structured_content

    version, times, status, seen, again = anyio.run(run)
    assert version == "2026-07-28"
    assert status["state"] == "succeeded" and status["files_done"] == FILES
    assert len(times) >= 3 and busiest_second(times) <= 4 + 2, times
    assert again["job"]["state"] == "succeeded" and again["job"]["files_changed"] == 0
    values = [p for _, p, _, _ in seen]
    assert values and values == sorted(set(values)) and seen[-1][1] == seen[-1][2], seen
    measured(f"resources/updated, 2026-07-28 listen stream: {len(times)} for one job, at most "
             f"{busiest_second(times)} in one second; wait=true re-index: {len(seen)} progress notifications")
