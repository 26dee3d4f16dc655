"""Stage 3, parse: every discovered file through the executor (indexer/worker.py does the work), feeding the
facts of files to (re)write to the node writer as they arrive, so writing overlaps parsing.

Files go by route: Python files on the executor `auto` (or the user) chose; the tree-sitter languages on the same
one, except on a free-threaded build, where they always go to worker processes, because importing tree-sitter
turns the GIL back on (runtime.choose_executors). The routes run one after the other, each with its own pool.

A worker process that dies (killed, out of memory) breaks its pool: the pool is rebuilt and the lost batches are
parsed once more (parsing is pure, so nothing is doubled); a second death ends the run with the files named.
On Dask one client serves the whole phase: the scheduler itself reruns the tasks of a lost worker, and a task
that killed its workers too often (KilledWorker) is a lost batch, parsed once more here like the others.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError, Executor, Future
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from threading import Event

from ... import runtime
from ...errors import ClusterError, WorkerCrashedError
from ...executors import DaskExecutor, bounded_map, make_executor, shutdown_now
from ...models import FailedFile, FileFacts, Progress, SourceFile
from ...settings import Settings
from ...worker import (
    BatchResult,
    ParseBatch,
    ParseTask,
    gc_paused,
    init_process,
    parse_batch,
    parse_shipped,
    ship,
    unpack,
)
from ..cache import extractor_version
from . import module_names
from .languages import PYTHON, assign

log = logging.getLogger(__name__)

FactsSink = Callable[[list[FileFacts]], None]  # takes the facts of files to (re)write, as they are parsed
MAX_BATCH_FILES = 32


@dataclass(frozen=True)
class Route:
    """Files parsed on one executor."""

    kind: str
    reason: str
    workers: int
    tasks: list[ParseTask]

    @property
    def languages(self) -> list[str]:
        return sorted({t.language for t in self.tasks})


@dataclass
class ParseOutcome:
    facts: list[FileFacts] = field(default_factory=list)  # sorted by path
    failed: list[FailedFile] = field(default_factory=list)
    executor: str = "serial"  # of the first route (Python's, when there are Python files)
    reason: str = ""
    workers: int = 1
    executors: dict[str, tuple[str, str, int]] = field(default_factory=dict)  # language -> (kind, reason, workers)
    seconds: float = 0.0  # wall time of the phase
    worker_seconds: float = 0.0  # extraction time summed over workers
    restarts: int = 0  # pools rebuilt after a worker died


def parse(
    files: list[SourceFile],
    repo: str,
    settings: Settings,
    to_write: frozenset[str],
    sink: FactsSink | None,
    report: Callable[[Progress], None],
    cancel: Event,
    modules: dict[str, str] | None = None,
) -> ParseOutcome:
    """Parse `files`; `modules` names every file's module (from the whole tree's layout, when `files` is part of
    it: see `module_names_for`)."""
    routes = plan_routes(files, settings, modules)
    started = time.perf_counter()
    with _cluster(routes, settings) as cluster:
        if cluster is not None:  # a Dask route has as many workers as the cluster has threads
            routes = [replace(r, workers=cluster.workers) if r.kind == "dask" else r for r in routes]
        first = routes[0] if routes else Route("serial", "no files", 1, [])
        out = ParseOutcome(executor=first.kind, reason=first.reason, workers=first.workers)
        for route in routes:
            for language in route.languages:
                out.executors[language] = (route.kind, route.reason, route.workers)
        total = sum(len(r.tasks) for r in routes)
        progress = _Counter(total, report, started)
        shown = "; ".join(f"{', '.join(r.languages)}: {r.kind}, {r.workers} workers" for r in routes)
        report(Progress("parse", 0, total, f"parsing {total} files ({shown})"))
        with gc_paused():
            for route in routes:
                if not cancel.is_set():
                    _run_route(route, repo, str(settings.grammars), out, to_write, sink, progress, cancel,
                               cluster if route.kind == "dask" else None)
    out.facts.sort(key=lambda f: f.path)
    out.seconds = time.perf_counter() - started
    return out


def module_names_for(paths: list[str]) -> dict[str, str]:
    """Every file's module name: a Python file's dotted one from the package layout (of the Python files only),
    any other language's file path."""
    languages = assign(paths)
    names = module_names([p for p in paths if languages.get(p, PYTHON) == PYTHON])
    return {p: names.get(p, p) for p in paths}


def plan_routes(files: list[SourceFile], settings: Settings, modules: dict[str, str] | None = None
                ) -> list[Route]:
    """The executors this run parses on, each with its files (runtime.choose_executors says which and why)."""
    languages = assign([f.path for f in files])
    names = modules or module_names_for([f.path for f in files])
    tasks = [ParseTask(f.path, f.abspath, names[f.path], f.sha, languages.get(f.path, PYTHON)) for f in files]
    ours = [t for t in tasks if t.language == PYTHON]
    theirs = [t for t in tasks if t.language != PYTHON]
    (py_kind, py_reason), (ts_kind, ts_reason) = runtime.choose_executors(
        settings.executor, len(ours), len(theirs), settings.workers, settings.serial_threshold)
    if (py_kind, py_reason) == (ts_kind, ts_reason):
        return [Route(py_kind, py_reason, _workers(py_kind, settings.workers), tasks)]
    ts_workers = 1 if py_kind == "serial" else settings.workers  # a small run: one worker process suffices
    routes = [Route(py_kind, py_reason, _workers(py_kind, settings.workers), ours),
              Route(ts_kind, ts_reason, ts_workers, theirs)]
    return [r for r in routes if r.tasks]


def _workers(kind: str, workers: int) -> int:
    return 1 if kind == "serial" else workers


@contextmanager
def _cluster(routes: list[Route], settings: Settings) -> Iterator[DaskExecutor | None]:
    """The Dask executor the whole phase shares (its client, and the local cluster it may start); None when no
    route with files runs on Dask (the local kinds' pools are made, and rebuilt, by `_run`)."""
    if not any(r.kind == "dask" and r.tasks for r in routes):
        yield None
        return
    executor = make_executor("dask", settings.workers, scheduler=settings.dask_scheduler)
    assert isinstance(executor, DaskExecutor)
    try:
        yield executor
    finally:
        executor.shutdown(wait=False, cancel_futures=True)


def _run_route(route: Route, repo: str, home: str, out: ParseOutcome, to_write: frozenset[str],
               sink: FactsSink | None, progress: _Counter, cancel: Event, cluster: DaskExecutor | None) -> None:
    pending = _batches(route.tasks, route.workers, repo, home)
    while pending and not cancel.is_set():
        lost = _run(route.kind, route.workers, pending, out, to_write, sink, progress, cancel, cluster)
        if lost and out.restarts >= 1:
            paths = [t.path for b in lost for t in b.tasks]
            raise WorkerCrashedError(_crash_message(paths, len(out.facts)), paths)
        if lost:
            out.restarts += 1
            log.warning("%s; parsing its %d files again", "Dask gave up on a task whose workers kept dying"
                        if cluster else "a worker process died; rebuilding the pool",
                        sum(len(b.tasks) for b in lost))
        pending = lost


def _run(kind: str, workers: int, batches: list[ParseBatch], out: ParseOutcome, to_write: frozenset[str],
         sink: FactsSink | None, progress: _Counter, cancel: Event,
         cluster: DaskExecutor | None = None) -> list[ParseBatch]:
    """Parse `batches` on a fresh executor (or the phase's Dask cluster); the batches lost to a broken pool (or
    to workers that kept dying), to be tried again."""
    lost: list[ParseBatch] = []
    executor: Executor = cluster if cluster is not None else make_executor(
        kind, workers, init_process, (os.getpid(),), preload=("indexer.worker",))
    work: Callable[[ParseBatch], BatchResult | bytes] = parse_shipped if cluster else parse_batch
    items = map(ship, batches) if cluster else iter(batches)
    try:
        for batch, future in bounded_map(executor, work, items, max(2, workers * 2), cancel):
            result = _result(batch, future)
            if result is None:
                lost.append(_unshipped(batch))
                continue
            if cluster is not None:
                _check_version(result, cluster)
            out.facts.extend(result.facts)
            out.failed.extend(result.failed)
            out.worker_seconds += result.seconds
            if sink is not None:
                fresh = [f for f in result.facts if f.path in to_write]
                if fresh:
                    sink(fresh)
            progress.add(len(batch.tasks), batch.tasks[-1].path)
    except BaseException:  # the writer failed, Ctrl-C, SIGTERM: end the workers now, not after their batches
        shutdown_now(executor)
        raise
    if cluster is not None:
        return lost  # the phase's cluster: closed when the phase ends
    if lost or cancel.is_set():
        shutdown_now(executor)
    else:
        executor.shutdown(wait=True)
    return lost


def _result(batch: ParseBatch, future: Future[BatchResult | bytes]) -> BatchResult | None:
    """The batch's result; None when its worker process died (the batch is lost, not failed)."""
    try:
        return unpack(future.result())
    except (BrokenProcessPool, RuntimeError) as exc:
        if isinstance(exc, BrokenProcessPool) or "shutdown" in str(exc) or "broken" in str(exc).lower():
            return None
        raise
    except CancelledError:  # not by this run (it stops waiting before it cancels): the cluster went away
        raise ClusterError("the Dask cluster dropped a batch (the scheduler stopped answering?); nothing was "
                           "written for its files: run again") from None
    except Exception as exc:  # noqa: BLE001 - a batch that failed as a whole: each of its files failed
        if type(exc).__name__ == "KilledWorker":  # Dask gave up on it after it killed its workers several times
            return None
        log.warning("a batch of %d files failed: %s", len(batch.tasks), exc)
        return BatchResult(failed=[FailedFile(t.path, f"{type(exc).__name__}: {exc}") for t in batch.tasks])


def _check_version(result: BatchResult, cluster: DaskExecutor) -> None:
    """Facts from a worker running another graphdex or Python minor version would be cached under this one's."""
    if result.version != extractor_version():
        raise ClusterError(f"a worker of the Dask cluster at {cluster.address} extracts with {result.version}, this "
                           f"run with {extractor_version()}: install the same graphdex and Python minor version on "
                           "the workers", cluster.address)


def _unshipped(batch: ParseBatch) -> ParseBatch:
    """A lost batch without the bytes it carried (they are read again if it is sent again)."""
    return ParseBatch(batch.repo, [replace(t, data=None, unreadable="") for t in batch.tasks], batch.grammar_home)


def _batches(tasks: list[ParseTask], workers: int, repo: str, home: str) -> list[ParseBatch]:
    """Enough batches to balance the workers, few enough to keep per-task overhead low."""
    size = max(1, min(MAX_BATCH_FILES, len(tasks) // (workers * 8) or 1))
    return [ParseBatch(repo, tasks[i : i + size], home) for i in range(0, len(tasks), size)]


def _crash_message(paths: list[str], parsed: int) -> str:
    shown = ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
    message = f"a worker process died twice while parsing {len(paths)} files ({shown}); nothing was written for them"
    if parsed == 0:  # no worker ever answered: they die as they start, not on a file
        message += ("; the workers died as they started: a script that runs graphdex must guard its code with "
                    "`if __name__ == '__main__':`, as Python's multiprocessing requires")
    return message


class _Counter:
    """Files parsed so far, reported with the rate."""

    def __init__(self, total: int, report: Callable[[Progress], None], started: float) -> None:
        self.total, self.report, self.started, self.done = total, report, started, 0

    def add(self, files: int, last: str) -> None:
        self.done += files
        rate = self.done / max(time.perf_counter() - self.started, 1e-9)
        self.report(Progress("parse", self.done, self.total, last, rate))
