"""The executor: serial, threads or processes behind one small `concurrent.futures` interface.

Workers parse a batch of files and, when a store is configured, write those files' nodes themselves through
their own session on their process's one driver: parsing is CPU-bound and writing is I/O-bound, so each
worker keeps both busy. Submission is bounded, so a huge repository never has all its futures in flight.
"""

from __future__ import annotations

import gc
import multiprocessing
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from threading import Event
from typing import Any, TypeVar

from .models import FileFacts
from .parse import extract_python
from .store import GraphStore, StoreConfig

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class ParseTask:
    path: str
    abspath: str
    module: str
    sha: str
    changed: bool  # write this file's nodes


@dataclass(frozen=True, slots=True)
class ParseBatch:
    repo: str
    tasks: list[ParseTask]


@dataclass(slots=True)
class BatchResult:
    facts: list[FileFacts]
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    unwritten: list[str] = field(default_factory=list)  # parsed, but their nodes could not be written
    extract_seconds: float = 0.0
    write_seconds: float = 0.0


class SerialExecutor(Executor):
    """Runs each task at once in the caller: for small repositories, where a pool costs more than it saves."""

    def submit(self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> Future[R]:
        future: Future[R] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - delivered through the future, like the pools do
            future.set_exception(exc)
        return future


# -- worker state: one store (one driver) per process, shared by that process's threads ---------------------

_worker_store: GraphStore | None = None
# Held around node writes when the server's writes don't scale in parallel (see Dialect.parallel_writes).
_write_lock: AbstractContextManager[Any] = nullcontext()
_in_worker_process = False  # True in a ProcessPoolExecutor worker (set by its initializer)


def init_worker_process(config: StoreConfig | None, write_lock: Any = None) -> None:
    """ProcessPoolExecutor initializer: each worker process builds its own driver."""
    global _worker_store, _write_lock, _in_worker_process
    _worker_store = GraphStore(config) if config is not None else None
    _write_lock = write_lock if write_lock is not None else nullcontext()
    _in_worker_process = True
    # What the worker inherited from the fork server is never garbage: keep collections off it (and off
    # its copy-on-write pages).
    gc.freeze()


def use_store_in_this_process(store: GraphStore | None) -> None:
    """For the serial and thread executors: workers share the parent's driver (sessions stay per task)."""
    global _worker_store, _write_lock
    _worker_store = store
    _write_lock = threading.Lock() if store is not None and not store.dialect.parallel_writes else nullcontext()


def process_batch(batch: ParseBatch) -> BatchResult:
    """Parse a batch of files and write the changed ones' nodes. One file's failure never fails the batch."""
    result = BatchResult(facts=[])
    started = time.perf_counter()
    # In the parent (serial, threads) the pipeline pauses the collector for the whole parse phase.
    with gc_paused() if _in_worker_process else nullcontext():
        for task in batch.tasks:
            try:
                with open(task.abspath, "rb") as handle:
                    data = handle.read()
                result.facts.append(extract_python(batch.repo, task.path, data, task.module, task.sha))
            except Exception as exc:  # noqa: BLE001 - reported per file
                result.failed.append((task.path, f"{type(exc).__name__}: {exc}"))
    result.extract_seconds = time.perf_counter() - started
    changed = {t.path for t in batch.tasks if t.changed}
    to_write = [f for f in result.facts if f.path in changed]
    if _worker_store is not None and to_write:
        started = time.perf_counter()
        try:
            with _write_lock:
                _worker_store.write_files(batch.repo, to_write)
        except Exception as exc:  # noqa: BLE001 - the facts still serve resolution; the files are reported
            result.unwritten = [f.path for f in to_write]
            result.failed.extend((f.path, f"write failed: {exc}") for f in to_write)
        result.write_seconds = time.perf_counter() - started
    return result


# -- executors ------------------------------------------------------------------------------------------------


def make_executor(kind: str, workers: int, store: GraphStore | None) -> Executor:
    if kind == "serial":
        use_store_in_this_process(store)
        return SerialExecutor()
    if kind == "thread":
        use_store_in_this_process(store)
        return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="graphdex-worker")
    if kind == "process":
        # forkserver (3.14's default on Linux) and spawn need importable workers; fork is unsafe with threads.
        method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        context = multiprocessing.get_context(method)
        if method == "forkserver":
            # The fork server imports the caller's main module and the worker code (with the neo4j driver)
            # once; each worker forks from it ready to run instead of re-importing them (~0.6 s per worker).
            context.set_forkserver_preload(["__main__", __name__])
        serialise = store is not None and not store.dialect.parallel_writes
        return ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=init_worker_process,
            initargs=(store.config if store is not None else None, context.Lock() if serialise else None),
        )
    raise ValueError(f"unknown executor kind {kind!r}")


def bounded_map(
    executor: Executor,
    fn: Callable[[T], R],
    items: Iterable[T],
    max_in_flight: int,
    cancel: Event | None = None,
) -> Iterator[tuple[T, Future[R]]]:
    """Submit `fn(item)` with at most `max_in_flight` pending; yield (item, finished future) as they complete.

    Stops submitting when `cancel` is set and cancels what has not started.
    """
    pending: dict[Future[R], T] = {}
    iterator = iter(items)
    exhausted = False
    try:
        while True:
            while not exhausted and len(pending) < max_in_flight and not (cancel and cancel.is_set()):
                try:
                    item = next(iterator)
                except StopIteration:
                    exhausted = True
                    break
                pending[executor.submit(fn, item)] = item
            if not pending:
                return
            done, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for future in done:
                yield pending.pop(future), future
            if cancel and cancel.is_set():
                exhausted = True
    finally:
        for future in pending:
            future.cancel()


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while parsing: the facts kept so far would be rescanned at every
    collection (measured: 40% of the serial parse time on the stdlib), and parsing makes no cycles
    (AST nodes hold no parent links), so reference counting frees everything. Restored afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def batches(tasks: list[ParseTask], workers: int, repo: str) -> list[ParseBatch]:
    """Enough batches to balance the workers, few enough to keep per-task overhead low."""
    size = max(1, min(32, len(tasks) // (workers * 8) or 1))
    return [ParseBatch(repo, tasks[i : i + size]) for i in range(0, len(tasks), size)]


def default_in_flight(workers: int) -> int:
    """Two batches per worker: one running, one queued, so no worker waits on the parent."""
    return max(2, workers * 2)
