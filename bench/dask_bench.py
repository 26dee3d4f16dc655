"""Parsing on Dask against processes (not a test): the stdlib through a local Dask cluster of 1 and 2 workers,
against the process executor with 2 workers; the overhead of one task; what shipping the files' bytes costs.

    python bench/dask_bench.py                  # median of 3; writes bench/results/dask-<tag>.json
    python bench/dask_bench.py --runs 5 --corpus PATH

Needs `distributed` (pip install -e '.[dask,bench]'). No graph server: every run is `pipeline.run(dry_run=True)`
(discover, parse, resolve), and the figure is files/s of the `parse` phase, as in bench/bench.py. The clusters are
`LocalCluster(n_workers=N, threads_per_worker=1, host="127.0.0.1", dashboard_address=None)`, started before the
runs (their start-up is reported apart: a real cluster is already running).

Three measurements:
  parse      the corpus through processes x2, Dask x1 and Dask x2: parse-phase files/s, median of the runs.
  overhead   N empty tasks (a function returning its argument), at most 2 per worker in flight as the parse
             stage submits them: seconds per task on processes x2 and on Dask x2.
  shipping   the corpus's batches (32 files) through Dask x2 twice: workers reading a shared path, and the
             parent reading the bytes and sending them with each task (what graphdex does); wall seconds, bytes
             sent, and the parent's reading time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from pathlib import Path
from threading import Event
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from bench import copy_stdlib, interpreter_tag  # noqa: E402

TASKS = 400  # empty tasks for the overhead figure


def echo(value: int) -> int:
    return value


@contextmanager
def local_cluster(workers: int) -> Iterator[tuple[str, float]]:
    """(scheduler address, seconds to start) of a loopback cluster of `workers` single-threaded processes."""
    import distributed

    started = time.perf_counter()
    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, host="127.0.0.1",
                                  dashboard_address=None, processes=True) as cluster:
        with distributed.Client(cluster, set_as_default=False) as client:
            client.wait_for_workers(workers)
        yield cluster.scheduler_address, time.perf_counter() - started


def parse_runs(corpus: Path, runs: int, executor: str, workers: int, scheduler: str | None) -> list[float]:
    """Parse-phase files/s of `runs` dry runs."""
    from indexer.pipeline.run import run
    from indexer.settings import Settings

    settings = Settings.from_env(executor=executor, workers=workers, dask_scheduler=scheduler)
    rates = []
    for _ in range(runs):
        summary = run(corpus, settings, repo="bench-dask", dry_run=True)
        assert summary.files_failed == 0, summary.failed
        rates.append(summary.files_indexed / summary.phases["parse"])
    return rates


def per_task_seconds(executor: Executor, workers: int) -> float:
    from indexer.executors import bounded_map

    echo_fn: Callable[[int], int] = echo
    list(bounded_map(executor, echo_fn, range(20), workers * 2))  # warm: imports, connections
    started = time.perf_counter()
    for _, future in bounded_map(executor, echo_fn, range(TASKS), workers * 2):
        future.result()
    return (time.perf_counter() - started) / TASKS


def overhead(scheduler: str) -> dict[str, float]:
    from indexer.executors import make_executor

    out = {}
    for kind in ("process", "dask"):
        executor = make_executor(kind, 2, scheduler=scheduler if kind == "dask" else None)
        try:
            out[f"{kind}_x2_ms_per_task"] = round(per_task_seconds(executor, 2) * 1000, 3)
        finally:
            executor.shutdown(wait=True)
    return out


def shipping(corpus: Path, scheduler: str, runs: int) -> dict[str, Any]:
    """Dask x2 over the same batches: workers reading a shared path vs bytes shipped with each task."""
    import pickle

    from indexer.executors import bounded_map, make_executor
    from indexer.pipeline.discover import discover
    from indexer.pipeline.parse import module_names
    from indexer.worker import ParseBatch, ParseTask, parse_shipped, ship, unpack

    found = discover(str(corpus))
    names = module_names([f.path for f in found.files])
    tasks = [ParseTask(f.path, f.abspath, names[f.path], f.sha) for f in found.files]
    batches = [ParseBatch("bench", tasks[i : i + 32]) for i in range(0, len(tasks), 32)]
    executor = make_executor("dask", 2, scheduler=scheduler)
    walls: dict[str, list[float]] = {"shared": [], "shipped": []}
    try:
        for _ in range(runs):
            for label in walls:
                items = map(ship, batches) if label == "shipped" else iter(batches)
                started = time.perf_counter()
                for _, future in bounded_map(executor, parse_shipped, items, 4, Event()):
                    assert not unpack(future.result()).failed
                walls[label].append(time.perf_counter() - started)
    finally:
        executor.shutdown(wait=True)
    started = time.perf_counter()
    shipped = [ship(b) for b in batches]
    reading = time.perf_counter() - started
    return {
        "shared_path_s": round(statistics.median(walls["shared"]), 3),
        "shipped_bytes_s": round(statistics.median(walls["shipped"]), 3),
        "shipped_mb": round(sum(len(t.data or b"") for b in shipped for t in b.tasks) / 2**20, 2),
        "task_pickle_mb_shared": round(sum(len(pickle.dumps(b)) for b in batches) / 2**20, 3),
        "task_pickle_mb_shipped": round(sum(len(pickle.dumps(b)) for b in shipped) / 2**20, 2),
        "parent_read_s": round(reading, 3),
        "batches": len(batches),
    }


def table(rows: dict[str, Any]) -> str:
    base = statistics.median(rows["process_x2"])
    lines = ["| executor | workers | parse files/s (median) | vs processes x2 | runs |", "|---|---|---|---|---|"]
    for key, label, workers in (("process_x1", "process", 1), ("process_x2", "process", 2),
                                ("dask_x1", "dask", 1), ("dask_x2", "dask", 2)):
        rates = rows[key]
        lines.append(f"| {label} | {workers} | {statistics.median(rates):.0f} | "
                     f"{statistics.median(rates) / base:.2f}x | {', '.join(f'{r:.0f}' for r in rates)} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", help="a repository (default: a copy of this interpreter's stdlib)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("GRAPHDEX_HOME", tempfile.mkdtemp(prefix="graphdex-dask-bench-home-"))
    with tempfile.TemporaryDirectory(prefix="graphdex-dask-bench-") as tmp:
        corpus = Path(args.corpus).resolve() if args.corpus else Path(tmp) / "stdlib"
        if not args.corpus:
            copy_stdlib(corpus)
        files = sum(1 for _ in corpus.rglob("*.py"))
        rows: dict[str, Any] = {"interpreter": interpreter_tag(), "files": files, "runs": args.runs,
                                "cpus": os.cpu_count(), "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
        rows["process_x1"] = parse_runs(corpus, args.runs, "process", 1, None)
        rows["process_x2"] = parse_runs(corpus, args.runs, "process", 2, None)
        for workers in (1, 2):
            with local_cluster(workers) as (address, start):
                rows[f"dask_x{workers}_cluster_start_s"] = round(start, 2)
                rows[f"dask_x{workers}"] = parse_runs(corpus, args.runs, "dask", workers, address)
                if workers == 2:
                    rows.update(overhead(address))
                    rows.update(shipping(corpus, address, args.runs))
    print(table(rows))
    print(json.dumps(rows, indent=2))
    out = HERE / "results" / f"dask-{rows['interpreter']}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
