"""The work a parse worker does: read a batch of files and extract their facts. Pure, picklable, no graph access.

The same function runs in the parent (serial, threads on free-threaded Python) and in worker processes. In a
process, `init_process` runs first: it ends the worker when the run's process is gone, whatever ended it, so no
worker outlives its run.

On a Dask cluster (`parse_shipped`) the workers may run on other machines, which need not see the repository:
each task carries its files' bytes, read by the parent as it submits the batch (at most two batches per worker
are in flight, so the parent holds a bounded amount). Measured against workers reading a shared path
(bench/dask_bench.py, docs/scaling.md): shipping costs little next to parsing and needs no shared file system,
so it is the only way graphdex sends work to Dask. What crosses: ParseBatch (repository id; per file its path,
module name, hash and bytes) one way, BatchResult (the facts, failures, seconds and the worker's extractor
version, which the parent checks against its own) the other.
"""

from __future__ import annotations

import gc
import os
import pickle
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace

import psutil

from .models import FailedFile, FileFacts
from .pipeline.parse import extract, failed_facts

PARENT_CHECK_SECONDS = 1.0
_in_worker_process = False


@dataclass(frozen=True, slots=True)
class ParseTask:
    path: str
    abspath: str
    module: str
    sha: str
    language: str = "python"
    data: bytes | None = None  # the file's bytes, shipped with the task (Dask); None: read from abspath
    unreadable: str = ""  # why the parent could not read the file it was to ship


@dataclass(frozen=True, slots=True)
class ParseBatch:
    repo: str
    tasks: list[ParseTask]
    grammar_home: str = ""  # where compiled tree-sitter grammars live ($GRAPHDEX_HOME)


@dataclass(slots=True)
class BatchResult:
    facts: list[FileFacts] = field(default_factory=list)
    failed: list[FailedFile] = field(default_factory=list)
    seconds: float = 0.0  # extraction time, summed in the parent over workers
    version: str = ""  # the extractor version of the worker (set on Dask, whose workers are installed apart)


def parse_batch(batch: ParseBatch) -> BatchResult:
    """Parse a batch of files. One file's failure never fails the batch: it is that file's failure."""
    result = BatchResult()
    started = time.perf_counter()
    # In the parent (serial, threads) the parse stage pauses the collector for the whole phase.
    with gc_paused() if _in_worker_process else nullcontext():
        for task in batch.tasks:
            try:
                result.facts.append(extract(batch.repo, task.path, _bytes_of(task), task.module, task.sha,
                                            task.language, batch.grammar_home))
            except Exception as exc:  # noqa: BLE001 - reported per file
                reason = task.unreadable or f"{type(exc).__name__}: {exc}"
                result.failed.append(FailedFile(task.path, reason))
                result.facts.append(failed_facts(batch.repo, task.path, task.module, task.sha, reason,
                                                 task.language))
    result.seconds = time.perf_counter() - started
    return result


def parse_shipped(batch: ParseBatch) -> bytes:
    """`parse_batch` on a Dask worker: the files' bytes came with the batch; the collector is paused while it
    parses, as in a worker process; the result names this worker's extractor version.

    The result is pickled here, in the task's thread, and `unpack` restores it in the run: distributed then moves
    one bytes frame instead of serialising the facts on the worker's event loop, which competes with the next
    parse for the GIL (measured on the stdlib: 25% more files/s with one worker, 8% with two)."""
    from .pipeline.cache import extractor_version

    with gc_paused():
        result = parse_batch(batch)
    result.version = extractor_version()
    return pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)


def unpack(result: BatchResult | bytes) -> BatchResult:
    """A batch's result as the executor delivered it: pickled by `parse_shipped`, or as it is."""
    if isinstance(result, bytes):
        loaded: BatchResult = pickle.loads(result)  # noqa: S301 - our own worker's result, as Dask itself unpickles
        return loaded
    return result


def ship(batch: ParseBatch) -> ParseBatch:
    """The batch with its files' bytes read here, for workers that may not see the repository. A file that
    cannot be read is sent with the reason, and fails there as it would have in a local worker."""
    return ParseBatch(batch.repo, [_shipped(task) for task in batch.tasks], batch.grammar_home)


def _shipped(task: ParseTask) -> ParseTask:
    try:
        with open(task.abspath, "rb") as handle:
            return replace(task, data=handle.read())
    except OSError as exc:
        return replace(task, unreadable=f"{type(exc).__name__}: {exc}")


def _bytes_of(task: ParseTask) -> bytes:
    if task.unreadable:
        raise OSError(task.unreadable)
    if task.data is not None:
        return task.data
    with open(task.abspath, "rb") as handle:
        return handle.read()


def init_process(run_pid: int) -> None:
    """ProcessPoolExecutor initializer: mark this a worker, keep GC off the inherited objects, and watch the run."""
    global _in_worker_process
    _in_worker_process = True
    # What the worker inherited from the fork server is never garbage: keep collections off it (and off its
    # copy-on-write pages).
    gc.freeze()
    threading.Thread(target=_exit_with, args=(run_pid,), name="graphdex-watch-run", daemon=True).start()


def _exit_with(run_pid: int) -> None:
    """End this worker as soon as the run's process is gone (SIGKILL, a crash: no chance to shut the pool)."""
    while psutil.pid_exists(run_pid):
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while parsing: the facts kept so far would be rescanned at every collection
    (measured: 40% of the serial parse time on the stdlib), and parsing makes no cycles (AST nodes hold no parent
    links), so reference counting frees everything. Restored afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
