"""Stage 5, write: the nodes of changed files while parsing goes on, then the edge difference, then the stamps.

Nodes: a NodeWriter drains the facts the parse stage hands it from one thread (ArcadeDB serialises writes; its
page-level concurrency makes parallel writers conflict) or several (Neo4j). A batch that fails is split until
the file that fails it is found: that file is reported, the others are written. An unreachable server ends the
writer, and the parse stage with it.

Edges: the difference between the resolved edges and the stored ones, compared as multisets: a duplicated
edge (left by an older, unlocked concurrent run) is deleted and written once.

Stamps last: a file's hash is set only when everything of the run is written, so an interrupted run leaves its
files unstamped and the next run redoes them.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import GraphUnavailableError
from ..models import Edge, FailedFile, FileFacts, Plan, Progress, Resolution
from ..store import GraphStore, reads, writes
from ..store.lease import Lease, LeaseLostError

log = logging.getLogger(__name__)


@dataclass
class NodeWrites:
    written: list[str] = field(default_factory=list)  # paths whose nodes are in the graph
    failed: list[FailedFile] = field(default_factory=list)
    seconds: float = 0.0  # time spent writing, summed over writer threads


class NodeWriter:
    """Writes files' nodes from background threads while the caller keeps parsing; see the module docstring."""

    def __init__(self, store: GraphStore, repo: str, batch_nodes: int, writers: int, lease: Lease | None,
                 known: frozenset[str] = frozenset()) -> None:
        self.store, self.repo, self.batch_nodes, self.lease = store, repo, batch_nodes, lease
        self.known = known  # paths with nodes in the graph: only those need deleting before a write
        self.out = NodeWrites()
        self._pending: list[FileFacts] = []
        self._queue: queue.Queue[list[FileFacts] | None] = queue.Queue(maxsize=writers * 4)
        self._error: BaseException | None = None
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._drain, name=f"graphdex-nodes-{i}", daemon=True)
                         for i in range(writers)]
        for thread in self._threads:
            thread.start()

    def submit(self, facts: list[FileFacts]) -> None:
        """Queue files to write (blocks when the writers are behind). Raises what stopped the writers."""
        self._raise_if_failed()
        self._pending.extend(facts)
        if _nodes(self._pending) >= self.batch_nodes:
            self._put(self._pending)
            self._pending = []

    def close(self) -> NodeWrites:
        """Write what is left, wait for the writers, and raise what stopped them, if anything did."""
        if self._pending and self._error is None:
            self._put(self._pending)
        self._pending = []
        self._stop_threads()
        self._raise_if_failed()
        return self.out

    def abandon(self) -> None:
        """Stop without writing what is queued (the run was cancelled or failed); waits for the batch in hand."""
        with self._lock:
            self._error = self._error or _Abandoned()
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._stop_threads()

    def _put(self, batch: list[FileFacts]) -> None:
        while self._error is None:
            try:
                self._queue.put(batch, timeout=0.2)
                return
            except queue.Full:
                continue
        self._raise_if_failed()

    def _stop_threads(self) -> None:
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()

    def _raise_if_failed(self) -> None:
        if self._error is not None and not isinstance(self._error, _Abandoned):
            raise self._error

    def _drain(self) -> None:
        while (batch := self._queue.get()) is not None:
            if self._error is not None:
                continue  # stopped: drain without writing until the sentinel
            started = time.perf_counter()
            try:
                self._write(batch)
            except (GraphUnavailableError, LeaseLostError) as exc:
                with self._lock:
                    self._error = self._error or exc
            finally:
                with self._lock:
                    self.out.seconds += time.perf_counter() - started

    def _write(self, batch: list[FileFacts]) -> None:
        """Write a batch; on a failure that is not the server's, split it to find the file that fails."""
        if self.lease is not None:
            self.lease.check()
        try:
            writes.write_files(self.store, self.repo, batch, self.known)
        except (GraphUnavailableError, LeaseLostError):
            raise
        except Exception as exc:  # noqa: BLE001 - one bad file must not fail the others
            if len(batch) > 1:
                middle = len(batch) // 2
                self._write(batch[:middle])
                self._write(batch[middle:])
                return
            log.warning("writing the nodes of %s failed: %s", batch[0].path, exc)
            with self._lock:
                self.out.failed.append(FailedFile(batch[0].path, f"write failed: {type(exc).__name__}: {exc}"))
            return
        with self._lock:
            self.out.written.extend(f.path for f in batch)


class _Abandoned(Exception):
    pass


def _nodes(facts: Sequence[FileFacts]) -> int:
    return sum(2 + len(f.symbols) for f in facts)


# ---------------------------------------------------------------------------------------------- edges


@dataclass
class EdgeWrites:
    added: int = 0
    removed: int = 0  # edges deleted, counting each parallel copy of a duplicate


def write_edges(store: GraphStore, repo: str, plan: Plan, resolution: Resolution, batch_size: int, writers: int,
                report: Callable[[Progress], None], previous: set[Edge] | None = None,
                rewritten: set[str] | None = None) -> EdgeWrites:
    """Make the stored edges equal the resolved ones (as a multiset), and remove files gone from the tree.

    `previous`: the edges the last complete run wrote (the facts cache's copy, valid for the graph's current
    generation), compared in memory instead of reading every edge back; `rewritten`: the ids of nodes this run
    wrote afresh, whose edges went with their old nodes and are written again."""
    report(Progress("write", 0, 3, "writing relationships"))
    if plan.deleted:
        writes.delete_files(store, repo, plan.deleted)
    present = set() if plan.fresh else reads.external_module_ids(store, repo)
    writes.add_external_modules(store, repo, resolution.external_modules, batch_size, present)
    desired = set(resolution.edges)
    if previous is not None:
        existing = _remaining(previous, rewritten or set())
    else:
        existing = Counter() if plan.fresh else reads.existing_edges(store, repo)
    add, remove = edge_difference(desired, existing)
    report(Progress("write", 1, 3, f"+{len(add)} / -{len(remove)} relationships"))
    writes.apply_edges(store, sorted(add, key=_key), sorted(remove, key=_key), batch_size, writers)
    return EdgeWrites(added=len(add), removed=sum(existing[e] for e in remove))


def _remaining(previous: set[Edge], rewritten: set[str]) -> Counter[Edge]:
    """The last run's edges still in the graph: those touching a node written afresh went with the old node."""
    return Counter(e for e in previous if e.source not in rewritten and e.target not in rewritten)


def edge_difference(desired: set[Edge], existing: Counter[Edge]) -> tuple[set[Edge], set[Edge]]:
    """(to create, to delete): a stored edge that is not desired, or stored more than once, is deleted (all its
    copies); a desired edge not stored exactly once is created."""
    duplicated = {e for e, n in existing.items() if n > 1}
    remove = {e for e in existing if e not in desired} | duplicated
    add = {e for e in desired if existing.get(e, 0) != 1}
    return add, remove


def write_unresolved_calls(store: GraphStore, repo: str, plan: Plan, resolution: Resolution,
                           batch_size: int) -> int:
    """issue 13: make every node's `unresolved_calls` property equal what this resolution found; nodes written.

    The property depends on other files (a call in an unchanged file becomes resolved when another file
    defines its callee), so, like the edges, it is compared for every node and not only for changed files:
    the stored lists are read back (the nodes of changed files were created without one) and each node
    whose list differs is set, or cleared when it has none left."""
    wanted: dict[str, list[str]] = defaultdict(list)
    for site in resolution.unresolved_sites:  # sorted: each list comes out in a stable order
        wanted[site.caller_id].append(site.entry())
    stored = {} if plan.fresh else reads.unresolved_calls(store, repo)
    rows: list[dict[str, Any]] = [{"id": node, "calls": calls} for node, calls in wanted.items()
                                  if stored.get(node) != calls]
    rows += [{"id": node, "calls": None} for node in stored if node not in wanted]
    writes.set_unresolved_calls(store, sorted(rows, key=lambda r: r["id"]), batch_size)
    return len(rows)


def finish(store: GraphStore, repo: str, facts: Sequence[FileFacts], written: set[str], batch_size: int,
           report: Callable[[Progress], None]) -> None:
    """Stamp the files whose nodes were written (the run's last write) and drop unused external modules."""
    writes.finish_files(store, repo, [f for f in facts if f.path in written], batch_size)
    writes.remove_orphan_external_modules(store, repo)
    report(Progress("write", 3, 3, "done"))


def node_ids(facts: Sequence[FileFacts]) -> set[str]:
    """The ids of every node these files' writes create."""
    return {i for f in facts for i in (f.file_id, f.module_id, *(s.id for s in f.symbols))}


def _key(edge: Edge) -> tuple[str, str, str]:
    return (edge.type, edge.source, edge.target)
