"""The executor seam: serial, threads, processes or a Dask cluster behind `concurrent.futures.Executor`, and
bounded submission.

Knows nothing of what runs on it: the pipeline hands it a picklable function (indexer/worker.py) and its items.
`distributed` is an optional extra (`graphdex[dask]`), imported only when a Dask executor is made.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from dataclasses import dataclass
from threading import Event
from types import ModuleType
from typing import Any, TypeVar

from .errors import ClusterError, ConfigError

T = TypeVar("T")
R = TypeVar("R")

KINDS = ("serial", "thread", "process", "dask")
GRACE_SECONDS = 10.0  # how long a stopping pool's workers may take to finish the batch in hand
STUCK_SECONDS = 3.0  # a pool with a dead worker that is not broken after this long has its manager stuck
DASK_EXTRA = "pip install 'graphdex[dask]'"
DASK_CONNECT_SECONDS = 10.0  # reaching the scheduler
DASK_WORKERS_SECONDS = 30.0  # waiting for the cluster's first worker


class SerialExecutor(Executor):
    """Runs each task at once in the caller: for small repositories, where a pool costs more than it saves."""

    def submit(self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> Future[R]:
        future: Future[R] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - delivered through the future, like the pools do
            future.set_exception(exc)
        return future


def make_executor(
    kind: str,
    workers: int,
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
    preload: tuple[str, ...] = (),
    scheduler: str | None = None,
) -> Executor:
    """An executor of `kind` with `workers` workers. `initializer(*initargs)` runs in each worker process;
    `preload` names modules the fork server imports once, so each worker forks ready to run. `dask` connects to
    `scheduler` (tcp://host:8786), or starts a local cluster of `workers` processes when it is None; neither
    initializer nor preload applies there (a Dask worker outlives the run)."""
    if kind == "dask":
        return DaskExecutor(scheduler, workers)
    if kind == "serial":
        return SerialExecutor()
    if kind == "thread":
        return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="graphdex-worker")
    if kind == "process":
        # forkserver (3.14's default on Linux) and spawn need importable workers; fork is unsafe with threads.
        method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        context = multiprocessing.get_context(method)
        if method == "forkserver" and preload:
            context.set_forkserver_preload(["__main__", *preload])
        return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=initializer,
                                   initargs=initargs)
    raise ValueError(f"unknown executor kind {kind!r}")


def bounded_map(
    executor: Executor,
    fn: Callable[[T], R],
    items: Iterable[T],
    max_in_flight: int,
    cancel: Event | None = None,
) -> Iterator[tuple[T, Future[R]]]:
    """Submit `fn(item)` with at most `max_in_flight` pending; yield (item, finished future) as they complete.

    A submission the executor refuses (a broken pool) is yielded as a future holding that error, so the caller
    sees every item exactly once. Stops submitting when `cancel` is set and cancels what has not started.
    """
    pending: dict[Future[R], T] = {}
    iterator = iter(items)
    exhausted = False
    watch = _StuckPoolWatch(executor)
    try:
        while True:
            while not exhausted and len(pending) < max_in_flight and not (cancel and cancel.is_set()):
                try:
                    item = next(iterator)
                except StopIteration:
                    exhausted = True
                    break
                pending[_submit(executor, fn, item)] = item
            if not pending:
                return
            done, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            if not done:
                watch.check()
            for future in done:
                yield pending.pop(future), future
            if cancel and cancel.is_set():
                exhausted = True
    finally:
        for future in pending:
            future.cancel()


def _submit(executor: Executor, fn: Callable[[T], R], item: T) -> Future[R]:
    try:
        return executor.submit(fn, item)
    except RuntimeError as exc:  # BrokenExecutor, or submit after shutdown
        future: Future[R] = Future()
        future.set_exception(exc)
        return future


def shutdown_now(executor: Executor, grace: float = GRACE_SECONDS) -> None:
    """Stop soon: queued work is cancelled at once; running work finishes (a batch is short), and a worker
    process still busy after `grace` seconds is ended. Not ended at once: a worker killed while it writes its
    result leaves a half message that the pool's manager thread waits on (the interpreter joins that thread at
    exit) until `_free_manager` frees it."""
    inside = _PoolInside.of(executor) if isinstance(executor, ProcessPoolExecutor) else None
    executor.shutdown(wait=False, cancel_futures=True)  # drops the pool's references to its processes and pipe
    if inside is not None:
        threading.Thread(target=_end_stragglers, args=(inside, grace), name="graphdex-pool-reaper",
                         daemon=True).start()


def _end_stragglers(inside: _PoolInside, grace: float) -> None:
    deadline = time.monotonic() + grace
    for proc in inside.processes:
        proc.join(timeout=max(0.0, deadline - time.monotonic()))
    if any(proc.is_alive() for proc in inside.processes):  # hung on a file, or on a result too big for the pipe
        _free_manager(inside)


@dataclass(frozen=True)
class _PoolInside:
    """What `_free_manager` needs of a ProcessPoolExecutor, taken before `shutdown()` drops it (no public way
    reaches these)."""

    processes: list[Any]
    results: Any  # the SimpleQueue its workers write results to

    @classmethod
    def of(cls, pool: ProcessPoolExecutor) -> _PoolInside:
        return cls(list((pool._processes or {}).values()), pool._result_queue)  # noqa: SLF001


class _StuckPoolWatch:
    """Notices a process pool whose manager thread waits for ever on a result (CPython's ProcessPoolExecutor
    reads each result whole: a worker killed while it writes one leaves half a message, the pool is never
    marked broken, and no future ever completes) and frees it, so the pool breaks as it should have."""

    def __init__(self, executor: Executor) -> None:
        self.pool = executor if isinstance(executor, ProcessPoolExecutor) else None
        self.since: float | None = None

    def check(self) -> None:
        pool = self.pool
        if pool is None or getattr(pool, "_broken", False):
            return
        inside = _PoolInside.of(pool)
        if not any(proc.exitcode is not None for proc in inside.processes):
            self.since = None
            return
        now = time.monotonic()
        self.since = self.since or now
        if now - self.since >= STUCK_SECONDS:  # a death the manager would have seen within milliseconds
            _free_manager(inside)
            self.since = None


def _free_manager(inside: _PoolInside) -> None:
    """End every worker, then close the parent's end of the results pipe: the manager thread's read then
    ends (no writer is left), the pool breaks and its futures fail with BrokenProcessPool."""
    for proc in inside.processes:
        if proc.is_alive():
            proc.kill()
    for proc in inside.processes:
        proc.join(timeout=5.0)
    if inside.results is not None:
        inside.results._writer.close()  # noqa: SLF001


# ---------------------------------------------------------------------------------------------- Dask


def import_distributed() -> ModuleType:
    """The `distributed` package, or one clear ConfigError naming the extra that installs it."""
    try:
        import distributed
    except ImportError:
        raise ConfigError(f"--executor dask needs the `distributed` package, which is not installed: {DASK_EXTRA}",
                          setting="executor") from None
    return distributed


class DaskExecutor(Executor):
    """Tasks on a Dask cluster through distributed's own concurrent.futures executor (`Client.get_executor`),
    with its caveats handled here: `pure=False` (else identical calls are deduplicated into one task),
    positional arguments only (its map() rejects other keywords), and a `shutdown` whose `cancel_futures` it
    lacks (wait=False cancels what is pending there).

    Owns its client, and the local cluster it started when no scheduler was given (single-threaded worker
    processes on loopback); `shutdown` closes both. A worker lost mid-task is the scheduler's business: it
    reschedules the task on another worker (up to `distributed.scheduler.allowed-failures` times, then the
    task's future raises KilledWorker)."""

    def __init__(self, scheduler: str | None, workers: int) -> None:
        distributed = import_distributed()
        self._closed = False
        self._cluster: Any = None
        if scheduler:
            self._client = _connect(distributed, scheduler)
        else:
            self._cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, host="127.0.0.1",
                                                     dashboard_address=None, processes=True)
            self._client = distributed.Client(self._cluster, set_as_default=False)
        self.address: str = self._client.scheduler.address
        try:
            self._client.wait_for_workers(1, timeout=DASK_WORKERS_SECONDS)
        except (TimeoutError, OSError) as exc:
            self._close()
            raise ClusterError(f"the Dask scheduler at {self.address} has no worker (waited "
                               f"{DASK_WORKERS_SECONDS:.0f} s): start some with `dask worker {self.address}`",
                               self.address) from exc
        self._executor = self._client.get_executor(pure=False)

    @property
    def workers(self) -> int:
        """Threads across the cluster's workers now (workers may come and go)."""
        return max(1, sum(self._client.nthreads().values()))

    def submit(self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> Future[R]:
        if kwargs:  # the client would take some of them (key, workers, retries, ...) as its own
            raise TypeError("the Dask executor passes positional arguments only")
        return self._executor.submit(fn, *args)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Idempotent; closes the client (and the local cluster) whatever `wait` says."""
        if self._closed:
            return
        try:
            self._executor.shutdown(wait=wait and not cancel_futures)
        finally:
            self._close()

    def _close(self) -> None:
        self._closed = True
        try:
            self._client.close()
        finally:
            if self._cluster is not None:
                self._cluster.close()


def _connect(distributed: ModuleType, scheduler: str) -> Any:
    try:
        return distributed.Client(scheduler, timeout=DASK_CONNECT_SECONDS, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {scheduler}: {_first_line(exc)}", scheduler) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__
