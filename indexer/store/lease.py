"""One index run per repository at a time, across processes and machines: a lease node in the graph itself.

`(:IndexLease {repo, token, owner, host, pid, expires_at})`, unique on `repo`. A run takes the lease before it
plans, renews it every RENEW_SECONDS while it works and deletes it at the end. Expiry uses the server's clock
(`timestamp()`), so machines with skewed clocks agree. A holder that died without releasing is recognised at once
when it ran on this machine (its pid is gone) and otherwise when its lease expires (LEASE_SECONDS after its last
renewal). The CLI and the MCP server share it, because it lives in the graph they share.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psutil
from neo4j.exceptions import ConstraintError

from ..errors import GraphdexError, RepositoryBusyError, StoreError
from .graph import GraphStore

log = logging.getLogger(__name__)

LEASE_SECONDS = 30.0
RENEW_SECONDS = 5.0
POLL_SECONDS = 0.5

# The version is written first: on ArcadeDB (optimistic concurrency) two runs taking over one expired lease
# then conflict on the write and one is retried, instead of both reading "free" and both winning.
_ACQUIRE = """
MERGE (l:IndexLease {repo: $repo})
SET l.version = coalesce(l.version, 0) + 1
WITH l, timestamp() AS now
WITH l, now, (l.token IS NULL OR l.expires_at < now OR l.token = $token OR l.token = $stale) AS free
SET l.token = CASE WHEN free THEN $token ELSE l.token END,
    l.owner = CASE WHEN free THEN $owner ELSE l.owner END,
    l.host = CASE WHEN free THEN $host ELSE l.host END,
    l.pid = CASE WHEN free THEN $pid ELSE l.pid END,
    l.expires_at = CASE WHEN free THEN now + $ms ELSE l.expires_at END
RETURN free, l.owner AS owner, l.host AS host, l.pid AS pid, l.token AS token, l.expires_at - now AS left_ms
"""
_RENEW = (
    "MATCH (l:IndexLease {repo: $repo}) WHERE l.token = $token "
    "SET l.expires_at = timestamp() + $ms RETURN count(l) AS n"
)
_RELEASE = "MATCH (l:IndexLease {repo: $repo}) WHERE l.token = $token DELETE l"


@dataclass(frozen=True)
class Holder:
    owner: str
    host: str
    pid: int
    token: str
    seconds_left: float


class LeaseLostError(GraphdexError):
    """The lease expired and another run took the repository: this run must stop writing."""


class Lease:
    """A held lease, renewed by a background thread until released."""

    def __init__(self, store: GraphStore, repo: str, token: str) -> None:
        self.store, self.repo, self.token = store, repo, token
        self._stop = threading.Event()
        self._lost: str | None = None
        self._thread = threading.Thread(target=self._renew_loop, name=f"graphdex-lease-{repo}", daemon=True)
        self._thread.start()

    def check(self) -> None:
        """Raise if the lease was lost: called before each write step of the run."""
        if self._lost:
            raise LeaseLostError(self._lost)

    def release(self) -> None:
        self._stop.set()
        self._thread.join(timeout=LEASE_SECONDS)
        try:
            self.store.execute(_RELEASE, repo=self.repo, token=self.token)
        except GraphdexError as exc:  # the lease then expires on its own
            log.debug("could not release the lease of %s: %s", self.repo, exc)

    def _renew_loop(self) -> None:
        while not self._stop.wait(RENEW_SECONDS):
            try:
                renewed = self.store.write(lambda tx: tx.run(
                    _RENEW, repo=self.repo, token=self.token, ms=int(LEASE_SECONDS * 1000)).single()["n"])
                if renewed == 0:
                    self._lost = f"another run took over repository {self.repo!r} after this run's lease expired"
                    return
            except GraphdexError as exc:  # the run's own writes will report an unreachable server
                log.debug("renewing the lease of %s failed: %s", self.repo, exc)


def describe_owner(what: str) -> str:
    return f"{what} (pid {os.getpid()} on {socket.gethostname()})"


@contextmanager
def held(
    store: GraphStore,
    repo: str,
    owner: str,
    if_busy: str = "wait",
    timeout: float = 600.0,
    on_wait: Callable[[Holder], None] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> Iterator[Lease]:
    """Hold `repo`'s lease for the block. Busy: wait for it (up to `timeout` s) or, with if_busy="fail", raise
    RepositoryBusyError at once. A cancelled wait raises RepositoryBusyError too."""
    lease = acquire(store, repo, owner, if_busy, timeout, on_wait, cancelled)
    try:
        yield lease
    finally:
        lease.release()


def acquire(store: GraphStore, repo: str, owner: str, if_busy: str, timeout: float,
            on_wait: Callable[[Holder], None] | None, cancelled: Callable[[], bool]) -> Lease:
    token = uuid.uuid4().hex
    deadline = time.monotonic() + timeout
    stale: str | None = None
    while True:
        holder = _try(store, repo, owner, token, stale)
        if holder is None:
            return Lease(store, repo, token)
        if _is_dead_here(holder):
            stale = holder.token  # its process is gone: take the lease over without waiting for expiry
            continue
        if if_busy == "fail" or time.monotonic() >= deadline or cancelled():
            raise RepositoryBusyError(_busy_message(repo, holder, if_busy, timeout), repo, holder.owner)
        if on_wait is not None:
            on_wait(holder)
        time.sleep(POLL_SECONDS)


def _try(store: GraphStore, repo: str, owner: str, token: str, stale: str | None) -> Holder | None:
    """None when this run now holds the lease, else who does."""
    def work(tx: Any) -> dict[str, Any]:
        return tx.run(_ACQUIRE, repo=repo, token=token, stale=stale, owner=owner, host=socket.gethostname(),
                      pid=os.getpid(), ms=int(LEASE_SECONDS * 1000)).single().data()

    for _ in range(10):
        try:
            row: dict[str, Any] = store.write(work)
            break
        except StoreError as exc:
            # Two runs creating the first lease of a repository: the loser's commit breaks the unique constraint
            # (not a retryable error for the driver); the lease exists now, so asking again gives its holder.
            if not isinstance(exc.__cause__, ConstraintError):
                raise
    else:
        raise StoreError(f"could not take or read the lease of repository {repo!r}")
    if row["free"]:
        return None
    return Holder(row["owner"] or "?", row["host"] or "?", int(row["pid"] or 0), row["token"] or "",
                  max(0.0, (row["left_ms"] or 0) / 1000))


def _is_dead_here(holder: Holder) -> bool:
    return holder.host == socket.gethostname() and holder.pid > 0 and not psutil.pid_exists(holder.pid)


def _busy_message(repo: str, holder: Holder, if_busy: str, timeout: float) -> str:
    who = f"{holder.owner}"
    if if_busy == "fail":
        return f"repository {repo!r} is being indexed by {who}; try again when it ends (or use --if-busy wait)"
    return f"repository {repo!r} was still being indexed by {who} after waiting {timeout:.0f} s"
