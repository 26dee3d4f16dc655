"""Stage 3, parse: every discovered file through the executor (indexer/worker.py does the work), feeding the
facts of files to (re)write to the node writer as they arrive, so writing overlaps parsing.

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

log = logging.getLogger(__name__)

FactsSink = Callable[[list[FileFacts]], None]  # takes the facts of files to (re)write, as they are parsed
MAX_BATCH_FILES = 32


@dataclass
class ParseOutcome:
    facts: list[FileFacts] = field(default_factory=list)  # sorted by path
    failed: list[FailedFile] = field(default_factory=list)
    executor: str = "serial"
    reason: str = ""
    workers: int = 1
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
    it)."""
    names = modules or module_names([f.path for f in files])
    tasks = [ParseTask(f.path, f.abspath, names[f.path], f.sha) for f in files]
    kind, reason = runtime.choose_executor(settings.executor, len(tasks), settings.workers,
                                           settings.serial_threshold)
    started = time.perf_counter()
    with _cluster(kind, settings, needed=bool(tasks)) as cluster:
        workers = cluster.workers if cluster else 1 if kind == "serial" else settings.workers
        out = ParseOutcome(executor=kind, reason=reason, workers=workers)
        report(Progress("parse", 0, len(tasks), f"parsing {len(tasks)} files ({kind}, {workers} workers)"))
        _parse_all(_batches(tasks, workers, repo), kind, out, to_write, sink, _Counter(len(tasks), report, started),
                   cancel, cluster)
    out.facts.sort(key=lambda f: f.path)
    out.seconds = time.perf_counter() - started
    return out


@contextmanager
def _cluster(kind: str, settings: Settings, needed: bool) -> Iterator[DaskExecutor | None]:
    """The Dask executor the whole phase shares (its client, and the local cluster it may start); None for the
    local kinds, whose pools `_run` makes (and rebuilds), and when there is nothing to parse."""
    if kind != "dask" or not needed:
        yield None
        return
    executor = make_executor("dask", settings.workers, scheduler=settings.dask_scheduler)
    assert isinstance(executor, DaskExecutor)
    try:
        yield executor
    finally:
        executor.shutdown(wait=False, cancel_futures=True)


def _parse_all(pending: list[ParseBatch], kind: str, out: ParseOutcome, to_write: frozenset[str],
               sink: FactsSink | None, progress: _Counter, cancel: Event, cluster: DaskExecutor | None) -> None:
    workers = out.workers
    with gc_paused():
        while pending and not cancel.is_set():
            lost = _run(kind, workers, pending, out, to_write, sink, progress, cancel, cluster)
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
    return ParseBatch(batch.repo, [replace(t, data=None, unreadable="") for t in batch.tasks])


def _batches(tasks: list[ParseTask], workers: int, repo: str) -> list[ParseBatch]:
    """Enough batches to balance the workers, few enough to keep per-task overhead low."""
    size = max(1, min(MAX_BATCH_FILES, len(tasks) // (workers * 8) or 1))
    return [ParseBatch(repo, tasks[i : i + size]) for i in range(0, len(tasks), size)]


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
