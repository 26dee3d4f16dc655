"""Parsing on a Dask cluster (issue 16): a `distributed.LocalCluster` on loopback, two single-threaded worker
processes, builds the very graph a serial run builds (node and relationship multisets), on the fixture and on a
generated repository of 1,000 files; a cancelled run converges at the next one; a worker killed mid-run costs
nothing but time (the scheduler reruns its tasks).

Without the `distributed` package (the `dask` extra) these tests skip, saying so; GRAPHDEX_REQUIRE_DASK=1 (set by
.ci/run in the lanes that install the extra) turns that into a failure, so a lane that claims Dask cannot pass by
skipping. The module's tests take about a minute on two busy cores (marker `dask`: `-m "not dask"` deselects
them).
"""

from __future__ import annotations

import importlib.util
import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from generated_repo import make_generated_repo
from graph_helpers import assert_same_graph

from indexer import executors
from indexer.errors import ClusterError, ConfigError
from indexer.models import Progress
from indexer.pipeline.parse import stage
from indexer.pipeline.run import run
from indexer.settings import Settings
from indexer.store import GraphStore
from indexer.worker import BatchResult, ParseBatch, ParseTask, parse_batch, parse_shipped, ship, unpack

pytestmark = [
    pytest.mark.dask,
    # a scheduler's HTTP endpoint moves to a free port when 8787 is taken (another cluster on this machine)
    pytest.mark.filterwarnings("ignore:Port 8787 is already in use:UserWarning"),
]
REQUIRED = os.environ.get("GRAPHDEX_REQUIRE_DASK") == "1"
HAVE_DISTRIBUTED = importlib.util.find_spec("distributed") is not None
GENERATED_MODULES = 950  # + 38 package __init__ files + the root package: 989 files
WORKERS = 2


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """Two single-threaded worker processes on loopback, for the whole module."""
    if not HAVE_DISTRIBUTED:
        reason = "the `distributed` package is not installed (pip install 'graphdex[dask]')"
        if REQUIRED:
            pytest.fail(f"GRAPHDEX_REQUIRE_DASK=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    import distributed

    with distributed.LocalCluster(n_workers=WORKERS, threads_per_worker=1, host="127.0.0.1",
                                  dashboard_address=None, processes=True) as local:
        yield local


@pytest.fixture(scope="module")
def on_dask(cluster: Any, graph_settings: Settings) -> Settings:
    return graph_settings.with_overrides(executor="dask", dask_scheduler=cluster.scheduler_address)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory, graph_settings: Settings, store: GraphStore) -> Path:
    """The generated repository, and its serial index under `dask-gen-serial` (the reference)."""
    root = make_generated_repo(tmp_path_factory.mktemp("dask") / "gen", modules=GENERATED_MODULES)
    summary = run(root, graph_settings.with_overrides(executor="serial"), repo="dask-gen-serial", store=store)
    assert summary.files_failed == 0 and summary.files_indexed >= 950
    return root


def _worker_pids(cluster: Any) -> list[int]:
    import distributed

    with distributed.Client(cluster.scheduler_address, set_as_default=False) as client:
        return sorted(client.run(os.getpid).values())


# -- the same graph -------------------------------------------------------------------------------------------


def test_the_fixture_on_dask_is_the_serial_graph(sample: Path, on_dask: Settings, graph_settings: Settings,
                                                 store: GraphStore) -> None:
    summary = run(sample, on_dask, repo="dask-sample", store=store)
    assert summary.executor == "dask" and summary.workers == WORKERS and summary.files_failed == 0
    run(sample, graph_settings.with_overrides(executor="serial"), repo="dask-sample-serial", store=store)
    assert_same_graph(store, "dask-sample", "dask-sample-serial")


def test_a_thousand_files_on_dask_are_the_serial_graph(generated: Path, on_dask: Settings,
                                                       store: GraphStore) -> None:
    summary = run(generated, on_dask, repo="dask-gen", store=store)
    assert summary.files_failed == 0 and summary.pool_restarts == 0
    assert summary.files_parsed == summary.files_indexed == len(list(generated.rglob("*.py")))
    assert_same_graph(store, "dask-gen", "dask-gen-serial")


def test_a_worker_killed_mid_run_costs_only_time(generated: Path, cluster: Any, on_dask: Settings,
                                                 store: GraphStore) -> None:
    """SIGKILL one worker process at the first progress report: its nanny starts another, the scheduler reruns
    its tasks, and the graph is the serial one."""
    pids = _worker_pids(cluster)
    killed: list[int] = []

    def kill_one(p: Progress) -> None:
        if p.phase == "parse" and p.done and not killed:
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

    summary = run(generated, on_dask, repo="dask-killed", store=store, progress=kill_one)
    assert killed and summary.files_failed == 0 and not summary.cancelled
    assert_same_graph(store, "dask-killed", "dask-gen-serial")
    assert pids[0] not in _worker_pids(cluster)


def test_a_cancelled_run_on_dask_stops_and_the_next_converges(generated: Path, on_dask: Settings,
                                                              store: GraphStore) -> None:
    cancel = threading.Event()

    def cancel_soon(p: Progress) -> None:
        if p.phase == "parse" and p.done >= 100:
            cancel.set()

    started = time.monotonic()
    summary = run(generated, on_dask, repo="dask-cancelled", store=store, progress=cancel_soon, cancel=cancel)
    assert summary.cancelled and summary.files_parsed < 900
    assert time.monotonic() - started < 60
    final = run(generated, on_dask, repo="dask-cancelled", store=store)
    assert not final.cancelled and final.files_failed == 0
    assert_same_graph(store, "dask-cancelled", "dask-gen-serial")


# -- the executor seam ------------------------------------------------------------------------------------------


def test_identical_calls_are_distinct_tasks(cluster: Any) -> None:
    """pure=False: distributed would otherwise run two identical submissions once."""
    executor = executors.make_executor("dask", 1, scheduler=cluster.scheduler_address)
    try:
        first, second = executor.submit(time.perf_counter_ns), executor.submit(time.perf_counter_ns)
        assert first.result(timeout=30) != second.result(timeout=30)
        with pytest.raises(TypeError, match="positional"):
            executor.submit(sorted, [2, 1], reverse=True)
    finally:
        executor.shutdown(wait=False, cancel_futures=True)


def test_shipped_bytes_parse_like_a_shared_path(sample: Path, cluster: Any) -> None:
    """What crosses to a Dask worker: the files' bytes, so a worker needs no view of the repository."""
    tasks = [ParseTask(p.relative_to(sample).as_posix(), str(p), p.stem, "") for p in sorted(sample.rglob("*.py"))]
    batch = ParseBatch("shipped", tasks)
    shipped = ship(batch)
    assert all(t.data == Path(t.abspath).read_bytes() for t in shipped.tasks)
    moved = [replace(t, abspath="/nowhere/" + t.path) for t in shipped.tasks]
    executor = executors.make_executor("dask", 1, scheduler=cluster.scheduler_address)
    try:
        remote = unpack(executor.submit(parse_shipped, ParseBatch("shipped", moved)).result(timeout=60))
    finally:
        executor.shutdown()
    assert remote.facts == parse_batch(batch).facts and not remote.failed
    assert remote.version == stage.extractor_version()


def test_a_file_the_parent_cannot_read_fails_alone(tmp_path: Path) -> None:
    good = tmp_path / "good.py"
    good.write_text("def f():\n    pass\n")
    shipped = ship(ParseBatch("r", [ParseTask("gone.py", str(tmp_path / "gone.py"), "gone", ""),
                                    ParseTask("good.py", str(good), "good", "")]))
    result = parse_batch(shipped)
    assert [f.path for f in result.failed] == ["gone.py"]
    assert result.failed[0].reason.startswith("FileNotFoundError")
    assert [f.path for f in result.facts] == ["gone.py", "good.py"] and result.facts[1].symbols


def test_another_extractor_version_on_a_worker_is_refused() -> None:
    class Cluster:
        address = "tcp://127.0.0.1:1"

    with pytest.raises(ClusterError, match="same graphdex"):
        stage._check_version(BatchResult(version="0.0.1/py3.9/abc"), Cluster())  # type: ignore[arg-type]


def test_an_unreachable_scheduler_is_one_clear_error(monkeypatch: pytest.MonkeyPatch, cluster: Any) -> None:
    monkeypatch.setattr(executors, "DASK_CONNECT_SECONDS", 1.0)
    started = time.monotonic()
    with pytest.raises(ClusterError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        executors.make_executor("dask", 1, scheduler="tcp://127.0.0.1:9")
    assert time.monotonic() - started < 15


def test_a_scheduler_without_workers_is_one_clear_error(monkeypatch: pytest.MonkeyPatch, cluster: Any) -> None:
    import distributed

    monkeypatch.setattr(executors, "DASK_WORKERS_SECONDS", 0.5)
    with distributed.LocalCluster(n_workers=0, host="127.0.0.1", dashboard_address=None) as empty, \
            pytest.raises(ClusterError, match="has no worker"):
        executors.make_executor("dask", 1, scheduler=empty.scheduler_address)


# -- settings -------------------------------------------------------------------------------------------------


def test_dask_without_distributed_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "distributed" else real(name, *a))
    with pytest.raises(ConfigError, match=r"graphdex\[dask\]"):
        Settings.from_env(executor="dask")


def test_the_scheduler_comes_from_the_environment() -> None:
    settings = Settings.from_env({"GRAPHDEX_DASK_SCHEDULER": "tcp://10.0.0.5:8786"})
    assert settings.dask_scheduler == "tcp://10.0.0.5:8786"
    with pytest.raises(ConfigError, match="GRAPHDEX_DASK_SCHEDULER"):
        Settings.from_env({"GRAPHDEX_DASK_SCHEDULER": "10.0.0.5"})


def test_nothing_to_parse_reaches_no_cluster(cluster: Any) -> None:
    """A run whose files all come from the facts cache (or were only deleted) starts no cluster and connects to
    none: the unreachable scheduler below is never asked."""
    settings = Settings.from_env({}, executor="dask", dask_scheduler="tcp://127.0.0.1:9")
    out = stage.parse([], "empty", settings, frozenset(), None, lambda p: None, threading.Event())
    assert out.executor == "dask" and out.facts == [] and out.restarts == 0
