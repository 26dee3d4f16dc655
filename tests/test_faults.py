"""The fault suite, on a real server of each test's own (it gets killed): servers dying, workers dying, runs at once,
cancels at random points, odd file names, signals. Each case states its time bound, asserts the clear outcome,
and ends with the one correctness criterion: the graph equals a clean index of the same tree (nodes and
relationships as multisets, so a duplicated edge counts)."""

from __future__ import annotations

import json
import os
import queue
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from generated_repo import make_generated_repo
from graph_helpers import assert_same_graph
from mcp_client import mcp_client
from sample_repo import make_sample_repo

from indexer import localdb
from indexer.errors import RepositoryBusyError, WorkerCrashedError
from indexer.models import Progress
from indexer.pipeline.run import run
from indexer.settings import Settings
from indexer.store import GraphStore, open_store

pytestmark = pytest.mark.faults
REPO = Path(__file__).resolve().parents[1]
SERVER_DEATH_BOUND = 30.0  # seconds from the server's death to the run's clear end (issue: within 30 s)


@pytest.fixture
def own(tmp_path: Path) -> Iterator[Settings]:
    """A managed server in a home of this test's own, stopped (and its leftovers killed) at the end."""
    settings = Settings.from_env(home=tmp_path / "home", workers=2)
    localdb.ensure_running(settings)
    try:
        yield settings
    finally:
        localdb.stop(settings)


@pytest.fixture
def store(own: Settings) -> Iterator[GraphStore]:
    with open_store(own) as s:
        yield s


def clean_index(settings: Settings, root: Path, name: str) -> None:
    """A fresh index of `root` under `name`, in a new connection (the reference a faulty run must equal)."""
    with open_store(settings) as fresh:
        summary = run(root, settings, repo=name, store=fresh)
    assert not summary.cancelled and summary.files_failed == 0


class Cli:
    """`graphdex index` as a subprocess whose stderr lines are read as they come (phase lines: not a terminal)."""

    def __init__(self, root: Path, settings: Settings, *args: str, env: dict[str, str] | None = None) -> None:
        environ = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "GRAPHDEX_"))}
        if settings.arcadedb_home:
            environ["GRAPHDEX_ARCADEDB_HOME"] = str(settings.arcadedb_home)
        environ.update(GRAPHDEX_HOME=str(settings.home), PYTHONPATH=str(REPO), **(env or {}))
        self.proc = subprocess.Popen([sys.executable, "-m", "indexer", "index", str(root), *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environ)
        self.lines: queue.Queue[str] = queue.Queue()
        self.stderr: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line)
            self.lines.put(line)

    def wait_for(self, prefix: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.lines.get(timeout=0.1).startswith(prefix):
                    return
            except queue.Empty:
                assert self.proc.poll() is None, f"ended before {prefix!r}: {''.join(self.stderr)}"
        raise AssertionError(f"no {prefix!r} line within {timeout}s: {''.join(self.stderr)}")

    def finish(self, timeout: float = 300) -> tuple[int, str, str]:
        """Wait for the run to end (a hang fails the test at `timeout`, killing the run)."""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(f"the run did not end within {timeout}s: {''.join(self.stderr)}") from None
        assert self.proc.stdout is not None
        out = self.proc.stdout.read()  # the summary is small: it never fills the pipe
        self.reader.join(timeout=10)
        return self.proc.returncode, out, "".join(self.stderr)


def server_pid(settings: Settings) -> int:
    status = localdb.status(settings)
    assert status.running and status.pid
    return status.pid


def kill_server(settings: Settings) -> float:
    os.kill(server_pid(settings), signal.SIGKILL)
    return time.monotonic()


def one_clear_error_line(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("graphdex: error:")]
    assert len(errors) == 1, stderr
    return errors[0]


# --------------------------------------------------------------------------------------------- the server dies


@pytest.mark.parametrize("phase", ["parse:", "write:"])
def test_server_killed_mid_run_ends_in_one_line_then_the_next_run_converges(
    tmp_path: Path, own: Settings, phase: str
) -> None:
    """Bound: the run ends with exit 1 and one line within 30 s of the server's SIGKILL; the next run (which
    restarts the managed server) builds the graph a clean index builds."""
    root = make_generated_repo(tmp_path / "repo", 400)
    first = Cli(root, own, "--executor", "process", "--workers", "2", "--name", "victim",
                env={"GRAPHDEX_BATCH_SIZE": "40"})  # small batches: each phase lasts long enough to be hit
    first.wait_for(phase)
    killed = kill_server(own)
    code, _, stderr = first.finish(timeout=120)
    ended = time.monotonic() - killed
    assert code == 1, stderr
    assert "stopped answering" in one_clear_error_line(stderr)
    assert ended < SERVER_DEATH_BOUND, f"{ended:.1f} s from the server's death to the run's end"
    print(f"server killed {phase[:-1]}: the run ended {ended:.1f} s later")  # the figure, shown with -rP

    again = Cli(root, own, "--name", "victim")
    code, _, stderr = again.finish()
    assert code == 0, stderr
    clean_index(own, root, "victim-clean")
    with open_store(own) as store:
        assert_same_graph(store, "victim", "victim-clean")


# --------------------------------------------------------------------------------------------- workers die


def _workers() -> list[psutil.Process]:
    """This process's live pool workers: the children of its multiprocessing fork server."""
    found = []
    for child in psutil.Process().children():
        try:
            if "forkserver" in " ".join(child.cmdline()):
                found.extend(w for w in child.children() if w.status() != psutil.STATUS_ZOMBIE)
        except psutil.Error:  # a process that ended meanwhile
            continue
    return found


def _kill(worker: psutil.Process) -> bool:
    """SIGKILL a worker; False when it had already ended (a race the pool itself can win)."""
    try:
        worker.kill()
    except (psutil.Error, ProcessLookupError):
        return False
    return True


def test_a_killed_worker_is_replaced_and_its_files_parsed_again(tmp_path: Path, own: Settings,
                                                               store: GraphStore) -> None:
    """Bound: the run completes (one pool rebuilt, its lost batches parsed once more) and equals a clean index."""
    root = make_generated_repo(tmp_path / "repo", 400)
    killed: list[int] = []

    def kill_one_worker(p: Progress) -> None:
        if p.phase == "parse" and p.done and not killed:
            for worker in _workers()[:1]:
                if _kill(worker):
                    killed.append(worker.pid)

    summary = run(root, own.with_overrides(executor="process", workers=2), repo="worker", store=store,
                  progress=kill_one_worker)
    assert killed and summary.pool_restarts == 1 and summary.files_failed == 0
    clean_index(own, root, "worker-clean")
    assert_same_graph(store, "worker", "worker-clean")


def test_workers_dying_again_fail_the_run_with_the_files_named(tmp_path: Path, own: Settings,
                                                               store: GraphStore) -> None:
    root = make_generated_repo(tmp_path / "repo", 300)

    def kill_every_time(p: Progress) -> None:
        if p.phase == "parse" and p.done < p.total:
            for worker in _workers():
                _kill(worker)

    with pytest.raises(WorkerCrashedError, match=r"a worker process died twice while parsing \d+ files \(gen/"):
        run(root, own.with_overrides(executor="process", workers=2), repo="crashing", store=store,
            progress=kill_every_time)
    summary = run(root, own, repo="crashing", store=store)  # the next run converges
    assert summary.files_failed == 0
    clean_index(own, root, "crashing-clean")
    assert_same_graph(store, "crashing", "crashing-clean")


# --------------------------------------------------------------------------------------------- runs at once


def test_two_cli_runs_at_once_leave_no_duplicate(tmp_path: Path, own: Settings, store: GraphStore) -> None:
    """Bound: both end with exit 0 (the second waits for the first's lease); no relationship is doubled."""
    root = make_generated_repo(tmp_path / "repo", 300)
    runs = [Cli(root, own, "--name", "twice", "--workers", "2") for _ in range(2)]
    results = [r.finish() for r in runs]
    assert [code for code, _, _ in results] == [0, 0], [err for _, _, err in results]
    clean_index(own, root, "twice-clean")
    assert_same_graph(store, "twice", "twice-clean")


def test_if_busy_fail_says_who_holds_the_repository(tmp_path: Path, own: Settings, store: GraphStore) -> None:
    root = make_generated_repo(tmp_path / "repo", 500)
    holder = Cli(root, own, "--name", "busy", "--executor", "process", env={"GRAPHDEX_BATCH_SIZE": "40"})
    holder.wait_for("parse:")
    started = time.monotonic()
    second = Cli(root, own, "--name", "busy", "--if-busy", "fail")
    code, _, stderr = second.finish(timeout=60)
    assert code == 4 and time.monotonic() - started < 20, stderr
    line = one_clear_error_line(stderr)
    assert "repository 'busy' is being indexed by graphdex index (pid" in line and str(holder.proc.pid) in line
    assert holder.finish()[0] == 0

    # A waiting run gives up after its bound (a fresh repository id: the holder has the whole tree to write).
    holder = Cli(root, own, "--name", "busy-wait", "--executor", "process", env={"GRAPHDEX_BATCH_SIZE": "40"})
    holder.wait_for("parse:")
    with pytest.raises(RepositoryBusyError, match="was still being indexed by graphdex index"):
        run(root, own.with_overrides(if_busy="wait", busy_timeout=1.0), repo="busy-wait", store=store)
    assert holder.finish()[0] == 0
    clean_index(own, root, "busy-clean")
    assert_same_graph(store, "busy", "busy-clean")


def test_a_cli_run_alongside_an_mcp_job(tmp_path: Path, own: Settings, store: GraphStore) -> None:
    """The MCP server and the CLI share the lease in the graph: both finish, and the graph is a clean index's."""
    root = make_generated_repo(tmp_path / "repos" / "shared", 300)
    with mcp_client(own.home, root.parent, tmp_path / "mcp.log") as client:
        job = client.ok("index_repository", path=str(root), name="shared")["job"]
        cli = Cli(root, own, "--name", "shared")
        finished = client.wait(job["job_id"], timeout=180)
        code, _, stderr = cli.finish()
    assert finished["state"] == "succeeded", finished
    assert code == 0, stderr
    clean_index(own, root, "shared-clean")
    assert_same_graph(store, "shared", "shared-clean")


# --------------------------------------------------------------------------------------------- cancels


def test_cancels_at_ten_random_points_then_one_run_converges(tmp_path: Path, own: Settings,
                                                             store: GraphStore) -> None:
    """Ten runs cancelled at random progress reports (seeded), each after a random edit of the tree, leave
    states that the next complete run repairs: the graph equals a clean index of the final tree."""
    rng = random.Random(20261128)
    root = make_generated_repo(tmp_path / "repo", 160)
    files = sorted(root.rglob("*.py"))
    points = []
    for attempt in range(10):
        target = rng.choice(files)
        if target.exists():
            target.write_text(target.read_text() + f"\n\ndef added_{attempt}():\n    return {attempt}\n")
        stop_at = rng.randint(0, 12)
        seen = [0]
        cancel = threading.Event()

        def cancel_at(p: Progress, stop_at: int = stop_at, seen: list[int] = seen, cancel: threading.Event = cancel
                      ) -> None:
            seen[0] += 1
            if seen[0] >= stop_at:
                cancel.set()

        executor = "process" if attempt % 2 else "serial"
        summary = run(root, own.with_overrides(executor=executor, workers=2), repo="cancelled", store=store,
                      progress=cancel_at, cancel=cancel)
        points.append((stop_at, summary.cancelled))
    assert any(cancelled for _, cancelled in points), points
    final = run(root, own, repo="cancelled", store=store)
    assert not final.cancelled and final.files_failed == 0
    clean_index(own, root, "cancelled-clean")
    assert_same_graph(store, "cancelled", "cancelled-clean")


# --------------------------------------------------------------------------------------------- odd names


def test_a_name_that_is_not_utf8_is_skipped_with_its_reason(tmp_path: Path, own: Settings,
                                                            store: GraphStore) -> None:
    root = make_sample_repo(tmp_path / "odd")
    (Path(os.fsdecode(bytes(root) + b"/caf\xff.py"))).write_text("def f():\n    return 1\n")
    folder = Path(os.fsdecode(bytes(root) + b"/d\xfe"))
    folder.mkdir()
    (folder / "inner.py").write_text("def g():\n    pass\n")
    summary = run(root, own, repo="odd", store=store)
    assert summary.files_failed == 0
    reasons = {s["path"]: s["reason"] for s in summary.skipped}
    assert reasons["caf\\xff.py"] == reasons["d\\xfe/inner.py"] == (
        "the file name is not valid UTF-8; rename it to index it")
    again = run(root, own, repo="odd", store=store)
    assert again.files_changed == again.edges_added == again.edges_removed == 0
    clean_index(own, root, "odd-clean")
    assert_same_graph(store, "odd", "odd-clean")


# --------------------------------------------------------------------------------------------- signals


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _gone_within(processes: list[psutil.Process], seconds: float) -> list[psutil.Process]:
    _, alive = psutil.wait_procs(processes, timeout=seconds)
    return alive


def test_sigterm_ends_a_run_like_ctrl_c_and_leaves_no_process(tmp_path: Path, own: Settings,
                                                              store: GraphStore) -> None:
    """Bound: exit 130 and the line "graphdex: terminated" within 20 s; no worker, fork server or resource
    tracker outlives it (10 s); the next run converges."""
    root = make_generated_repo(tmp_path / "repo", 400)
    cli = Cli(root, own, "--executor", "process", "--workers", "2", "--name", "term",
              env={"GRAPHDEX_BATCH_SIZE": "40"})
    cli.wait_for("parse:")
    time.sleep(0.5)
    children = _descendants(cli.proc.pid)
    assert children, "the run has worker processes"
    cli.proc.send_signal(signal.SIGTERM)
    code, _, stderr = cli.finish(timeout=20)
    assert code == 130 and stderr.strip().splitlines()[-1] == "graphdex: terminated", stderr
    assert not _gone_within(children, 10)
    assert run(root, own, repo="term", store=store).files_failed == 0
    clean_index(own, root, "term-clean")
    assert_same_graph(store, "term", "term-clean")


def test_a_killed_run_takes_its_workers_with_it(tmp_path: Path, own: Settings) -> None:
    """SIGKILL gives the run no chance to clean up: its workers notice on their own (bound: 10 s)."""
    root = make_generated_repo(tmp_path / "repo", 400)
    cli = Cli(root, own, "--executor", "process", "--workers", "2", "--name", "killed",
              env={"GRAPHDEX_BATCH_SIZE": "40"})
    cli.wait_for("parse:")
    time.sleep(0.5)
    children = _descendants(cli.proc.pid)
    assert children
    cli.proc.kill()
    cli.proc.wait(timeout=10)
    assert not _gone_within(children, 10)


# --------------------------------------------------------------------------------------------- the MCP server


def test_the_mcp_server_reconnects_after_its_graph_server_died(tmp_path: Path, own: Settings) -> None:
    """Bound: after the managed server's SIGKILL, the runtime resource says so at once, and the next graph tool
    answers (the server restarted, the graph intact) within 60 s."""
    root = make_sample_repo(tmp_path / "repos" / "sample")
    with mcp_client(own.home, root.parent, tmp_path / "mcp.log") as client:
        job = client.ok("index_repository", path=str(root), name="mcp-sample")["job"]
        assert client.wait(job["job_id"])["state"] == "succeeded"
        before = client.ok("find_symbols", query="pkg.shapes.Shape")["symbols"]
        assert before
        old = server_pid(own)
        os.kill(old, signal.SIGKILL)
        while localdb.status(own).running:
            time.sleep(0.1)
        runtime = json.loads(client.resource("graphdex://runtime"))["graph_server"]
        assert runtime["connected"] is False and "not running" in runtime["note"], runtime
        started = time.monotonic()
        after = client.ok("find_symbols", query="pkg.shapes.Shape")["symbols"]
        assert time.monotonic() - started < 60
        assert after == before and server_pid(own) != old
        assert json.loads(client.resource("graphdex://runtime"))["graph_server"]["connected"] is True


# --------------------------------------------------------------------------------------------- a damaged home


def test_db_status_and_index_never_kill_a_server_they_cannot_log_in_to(tmp_path: Path, own: Settings) -> None:
    pid = server_pid(own)
    credentials = own.home / "credentials"
    saved = credentials.read_bytes()
    credentials.unlink()
    done = subprocess.run([sys.executable, "-m", "indexer", "db", "status"], capture_output=True, text=True,
                          env={**os.environ, "GRAPHDEX_HOME": str(own.home), "PYTHONPATH": str(REPO)})
    assert done.returncode == 1 and f"running (pid {pid}), but graphdex cannot log in" in done.stdout
    root = make_sample_repo(tmp_path / "s")
    code, _, stderr = Cli(root, own).finish()
    assert code == 1 and "cannot log in" in one_clear_error_line(stderr)
    assert server_pid(own) == pid  # not killed
    credentials.write_bytes(saved)

    state = own.home / "server.json"
    state.write_text("{not json")
    status = localdb.status(own)
    assert status.running and status.pid == pid and "corrupt" in (status.problem or "")
    code, _, stderr = Cli(root, own).finish()
    assert code == 0, stderr  # repaired from the process, not replaced
    assert server_pid(own) == pid and localdb.status(own).problem is None

    shutil.copy(credentials, tmp_path / "good")
    credentials.write_text('{"username": "root", "password": "wrong-password"}')
    code, _, stderr = Cli(root, own).finish()
    assert code == 1 and "rejects the password" in one_clear_error_line(stderr)
    assert server_pid(own) == pid
    shutil.copy(tmp_path / "good", credentials)
