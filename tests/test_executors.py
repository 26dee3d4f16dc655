"""The executor seam's promises about process pools whose workers die: every item comes back exactly once, and a
pool whose manager thread was left waiting on half a result breaks instead of hanging the run (and the exit)."""

from __future__ import annotations

import gc
import os
import struct
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.queues import SimpleQueue

import pytest

from indexer.executors import bounded_map, make_executor, shutdown_now

BOUND = 60.0  # seconds: far beyond what each case needs, so a hang fails instead of stalling the suite


def square(n: int) -> int:
    return n * n


def write_half_a_result() -> None:
    """Write the start of a result to the pool's results pipe, as a worker killed mid-write leaves it."""
    results = next(o for o in gc.get_objects() if isinstance(o, SimpleQueue))
    os.write(results._writer.fileno(), struct.pack("!i", 1_000) + b"\x80" * 10)  # 10 of 1,000 bytes


def die_mid_result(_: int) -> None:
    write_half_a_result()
    os._exit(9)


def hang_mid_result(_: int) -> None:
    write_half_a_result()
    time.sleep(600)


def bounded(fn, *args):  # type: ignore[no-untyped-def]
    """fn(*args) in a thread that must end within BOUND seconds."""
    out: list[object] = []
    thread = threading.Thread(target=lambda: out.append(fn(*args)), daemon=True)
    thread.start()
    thread.join(BOUND)
    assert not thread.is_alive(), f"{fn.__name__} still running after {BOUND} s"
    return out[0]


def manager_ends(manager: threading.Thread | None) -> bool:
    """The pool's manager thread (taken before shutdown drops it) ends: nothing left to wait on at exit."""
    assert manager is not None
    manager.join(BOUND)
    return not manager.is_alive()


def test_every_item_comes_back_once() -> None:
    pool = make_executor("process", 2)
    try:
        got = bounded(lambda: {item: f.result() for item, f in bounded_map(pool, square, range(50), 4)})
    finally:
        shutdown_now(pool)
    assert got == {n: n * n for n in range(50)}


def test_a_worker_dying_mid_result_breaks_the_pool_instead_of_hanging() -> None:
    pool = make_executor("process", 1)
    assert isinstance(pool, ProcessPoolExecutor)
    try:
        results: list[tuple[int, Future[None]]] = bounded(lambda: list(bounded_map(pool, die_mid_result, [7], 2)))
        manager = pool._executor_manager_thread
    finally:
        shutdown_now(pool)
    [(item, future)] = results
    assert item == 7
    with pytest.raises(BrokenProcessPool):
        future.result()
    assert manager_ends(manager)


def test_a_stopped_pool_whose_worker_hangs_mid_result_lets_its_manager_end() -> None:
    pool = make_executor("process", 1)
    assert isinstance(pool, ProcessPoolExecutor)
    future = pool.submit(hang_mid_result, 0)
    deadline = time.monotonic() + BOUND
    while not future.running() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # the half result is in the pipe, the manager reading it
    manager = pool._executor_manager_thread
    shutdown_now(pool, grace=0.5)
    assert manager_ends(manager)
