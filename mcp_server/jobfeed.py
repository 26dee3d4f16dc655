"""Job changes for MCP clients, pushed rather than polled.

The job manager calls a watcher in its job threads; the watcher only records what changed and wakes the event
loop. One task on the loop then
- sends `notifications/resources/list_changed` when a job appears,
- sends `notifications/resources/updated` for `graphdex://jobs/{id}` (and the `graphdex://jobs` listing) to the
  clients that asked: at most one per resource per `UPDATE_INTERVAL` while progress moves, plus one at once on
  every state change, the last at the final state;
- wakes the `index_repository(wait=true)` requests waiting on that job.

Delivery depends on the protocol era the client negotiated. Handshake-era clients (`initialize`, 2024-11-05 to
2025-11-25: the SDK's ClientSession, the Inspector) subscribe with `resources/subscribe` and get the notifications
on the connection. 2026-07-28 clients (the SDK's `Client` in its default mode) have no `resources/subscribe`:
they open a `subscriptions/listen` stream naming the URIs, and the notifications ride that stream, so every
change is also published on the server's subscription bus. graphdex serves stdio: one client per process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import anyio
from mcp.server.session import ServerSession
from mcp.server.subscriptions import ResourcesListChanged, ResourceUpdated, SubscriptionBus
from mcp.types.version import HANDSHAKE_PROTOCOL_VERSIONS

if TYPE_CHECKING:
    from indexer.jobs import IndexJob, JobChange, JobManager

log = logging.getLogger("graphdex.mcp")

JOBS_URI = "graphdex://jobs"
REPOS_URI = "graphdex://repos"
UPDATE_INTERVAL = 0.25  # seconds: at most 4 resources/updated per resource per second, besides state changes


def job_uri(job_id: str) -> str:
    return f"{JOBS_URI}/{job_id}"


class JobFeed:
    def __init__(self, bus: SubscriptionBus, interval: float = UPDATE_INTERVAL) -> None:
        self.bus = bus
        self.interval = interval
        self._lock = threading.Lock()  # guards what job threads write: _dirty, _dirty_jobs, _created, _poked
        self._dirty: dict[str, bool] = {}  # uri -> a state change (sent at once) rather than progress (paced)
        self._dirty_jobs: set[str] = set()
        self._created = False
        self._poked = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: anyio.Event | None = None
        self._watching: JobManager | None = None
        self._stop_watching: Callable[[], None] | None = None
        # Event-loop side only:
        self._peer: ServerSession | None = None  # the handshake-era client
        self._subscribed: set[str] = set()  # its resources/subscribe URIs
        self._changes: dict[str, anyio.Event] = {}  # job id -> set at that job's next change
        self._last_sent: dict[str, float] = {}

    # ------------------------------------------------------------------------------------- set-up

    def attach(self, jobs: JobManager) -> None:
        """Watch the job manager (once; call on the event loop before submitting jobs)."""
        if self._watching is not jobs:
            if self._stop_watching is not None:
                self._stop_watching()
            self._watching, self._stop_watching = jobs, jobs.watch(self._on_job)

    def meet(self, session: ServerSession, protocol_version: str | None) -> None:
        """Remember a handshake-era client, for list_changed and its subscriptions."""
        if protocol_version in HANDSHAKE_PROTOCOL_VERSIONS:
            self._peer = session

    def subscribe(self, session: ServerSession, protocol_version: str | None, uri: str) -> None:
        self.meet(session, protocol_version)
        self._subscribed.add(uri)

    def unsubscribe(self, uri: str) -> None:
        self._subscribed.discard(uri)

    def next_change(self, job_id: str) -> anyio.Event:
        """An event set at the job's next change. Take it before reading the job, so no change is missed."""
        event = self._changes.get(job_id)
        if event is None:
            event = self._changes[job_id] = anyio.Event()
        return event

    # ------------------------------------------------------------------------------------- job threads

    def _on_job(self, job: IndexJob, change: JobChange) -> None:
        """The job manager's watcher: runs in job threads, so it records and wakes the loop, nothing more."""
        urgent = change != "progress"
        with self._lock:
            self._created = self._created or change == "created"
            self._dirty_jobs.add(job.id)
            for uri in (job_uri(job.id), JOBS_URI):
                self._dirty[uri] = self._dirty.get(uri, False) or urgent
            if urgent:  # a repository's resource changes with its jobs' states (a refresh began or ended)
                self._dirty[f"{REPOS_URI}/{job.repo}"] = True
            if self._poked or self._loop is None:
                return
            self._poked = True
            loop = self._loop
        with contextlib.suppress(RuntimeError):  # the loop has closed: the server is shutting down
            loop.call_soon_threadsafe(self._poke)

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake.set()

    # ------------------------------------------------------------------------------------- event loop

    async def run(self) -> None:
        """Deliver changes until cancelled (the server's lifespan runs this)."""
        with self._lock:
            self._loop = asyncio.get_running_loop()
        due: dict[str, bool] = {}  # uri -> urgent, waiting for its pace
        while True:
            self._wake = anyio.Event()
            with self._lock:
                self._poked = False
                dirty, self._dirty = self._dirty, {}
                jobs, self._dirty_jobs = self._dirty_jobs, set()
                created, self._created = self._created, False
            for job_id in jobs:
                event = self._changes.pop(job_id, None)
                if event is not None:
                    event.set()
            if created:
                await self._list_changed()
            for uri, urgent in dirty.items():
                due[uri] = due.get(uri, False) or urgent
            now = anyio.current_time()
            for uri, urgent in list(due.items()):
                if urgent or now - self._last_sent.get(uri, -math.inf) >= self.interval:
                    del due[uri]
                    self._last_sent[uri] = now
                    await self._updated(uri)
            for uri in [u for u, t in self._last_sent.items() if now - t > self.interval and u not in due]:
                del self._last_sent[uri]
            timeout = min((self._last_sent[u] + self.interval - now for u in due), default=math.inf)
            with anyio.move_on_after(max(timeout, 0.0)):
                await self._wake.wait()

    async def _list_changed(self) -> None:
        if self._peer is not None:
            try:
                await self._peer.send_resource_list_changed()
            except Exception as exc:  # noqa: BLE001 - a gone client loses its notifications, nothing more
                log.debug("resources/list_changed not sent: %s", exc)
                self._peer = None
        await self.bus.publish(ResourcesListChanged())

    async def _updated(self, uri: str) -> None:
        if self._peer is not None and uri in self._subscribed:
            try:
                await self._peer.send_resource_updated(uri)
            except Exception as exc:  # noqa: BLE001
                log.debug("resources/updated %s not sent: %s", uri, exc)
                self._peer = None
        await self.bus.publish(ResourceUpdated(uri=uri))

    def close(self) -> None:
        if self._stop_watching is not None:
            self._stop_watching()
        self._stop_watching = self._watching = None
        with self._lock:
            self._loop = None
