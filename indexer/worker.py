"""The work a parse worker does: read a batch of files and extract their facts. Pure, picklable, no graph access.

The same function runs in the parent (serial, threads on free-threaded Python) and in worker processes. In a
process, `init_process` runs first: it ends the worker when the run's process is gone, whatever ended it, so no
worker outlives its run.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field

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


def parse_batch(batch: ParseBatch) -> BatchResult:
    """Parse a batch of files. One file's failure never fails the batch: it is that file's failure."""
    result = BatchResult()
    started = time.perf_counter()
    # In the parent (serial, threads) the parse stage pauses the collector for the whole phase.
    with gc_paused() if _in_worker_process else nullcontext():
        for task in batch.tasks:
            try:
                with open(task.abspath, "rb") as handle:
                    data = handle.read()
                result.facts.append(extract(batch.repo, task.path, data, task.module, task.sha, task.language,
                                            batch.grammar_home))
            except Exception as exc:  # noqa: BLE001 - reported per file
                reason = f"{type(exc).__name__}: {exc}"
                result.failed.append(FailedFile(task.path, reason))
                result.facts.append(failed_facts(batch.repo, task.path, task.module, task.sha, reason,
                                                 task.language))
    result.seconds = time.perf_counter() - started
    return result


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
