"""Background index jobs: a face starts a run and answers at once; clients poll, watch or cancel it by id.

A small thread pool runs the pipeline (which brings its own parse pool); each job's state sits behind a lock
because the pipeline's progress callback writes it from the job thread while the server reads it. Observers
learn of every change without polling through `JobManager.watch`; `ProgressSeries` turns a job's progress into
a strictly increasing series for observers that must never repeat a value.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from . import runtime
from .errors import GraphdexError, NotFoundError
from .models import Progress, Summary
from .pipeline.run import repo_name_for, run
from .results import JobStatus
from .settings import Settings
from .store import GraphStore

log = logging.getLogger(__name__)

JobState = Literal["queued", "running", "succeeded", "failed", "cancelled"]
ACTIVE: tuple[JobState, ...] = ("queued", "running")
REPORTED_PROBLEMS = 5  # skipped / failed files listed in a job's status; the counts are complete
# Steps after parsing, so overall progress keeps increasing through resolve, write, embed and count.
_AFTER_PARSE = {"resolve": 1, "write": 2, "embed": 3, "count": 4}

JobChange = Literal["created", "state", "progress"]
"""What happened to a job: it was submitted, its state changed (queued, running, and one final state), or the
pipeline reported progress (phase, message, files done)."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class IndexJob:
    id: str
    repo: str
    root: str
    settings: Settings
    state: JobState = "queued"
    phase: str = "queued"
    message: str = ""
    files_done: int = 0
    files_total: int = 0
    files_per_second: float = 0.0
    texts_done: int = 0  # embed phase: texts embedded (or failed) of texts_total, at texts_per_second
    texts_total: int = 0
    texts_per_second: float = 0.0
    embed_eta: float | None = None
    created_at: str = field(default_factory=_now)
    started_at: str | None = None
    finished_at: str | None = None
    error: str | None = None
    summary: Summary | None = None
    trigger: str = "request"  # "request": asked for by a client; "watch": a refresh after files changed
    embed: bool = True  # false: this job skips embedding
    cancel_event: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _started: float | None = None
    _ended: float | None = None
    _notify: Callable[[IndexJob, JobChange], None] | None = field(default=None, repr=False)

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    def on_progress(self, p: Progress) -> None:
        """The pipeline's progress callback (called from the job thread)."""
        with self._lock:
            self.phase, self.message = p.phase, p.message
            if p.phase == "parse":
                self.files_done, self.files_total = p.done, p.total
                self.files_per_second = round(p.files_per_second, 1)
            elif p.phase == "embed":
                self.texts_done, self.texts_total = p.done, p.total
                self.texts_per_second, self.embed_eta = round(p.texts_per_second, 2), p.eta_seconds
        self._changed("progress")

    def overall_progress(self) -> tuple[float, float | None, str]:
        """(progress, total, message) that only grows: files parsed, then one step per later phase; at the end
        progress equals total. The message says the state, the phase, files done / total and the pipeline's
        latest words, e.g. `running / parse 412/734 files: parsing`."""
        done, total, message, _ = self._overall()
        return done, total, message

    def _overall(self) -> tuple[float, float | None, str, bool]:
        with self._lock:
            steps = self.files_total + len(_AFTER_PARSE) + 1  # each file, each later phase, and the end
            total = steps if self.files_total else None
            done = self.files_done + _AFTER_PARSE.get(self.phase, 0)
            ended = not self.active
            if ended:  # the final report: one more step than any before it
                total = done = steps
            files = f" {self.files_done}/{self.files_total} files" if self.files_total else ""
            words = f": {self.message}" if self.message else ""
            return float(done), float(total) if total else None, f"{self.state} / {self.phase}{files}{words}", ended

    def status(self) -> JobStatus:
        """A JSON-ready view of the job, safe to hand to a client."""
        with self._lock:
            s = self.settings
            elapsed = (self._ended or time.monotonic()) - self._started if self._started else 0.0
            out: JobStatus = {
                "job_id": self.id,
                "trigger": self.trigger,
                "repo": self.repo,
                "root": self.root,
                "state": self.state,
                "phase": self.phase,
                "message": self.message,
                "files_done": self.files_done,
                "files_total": self.files_total,
                "files_per_second": self.files_per_second,
                "texts_done": self.texts_done,
                "texts_total": self.texts_total,
                "texts_per_second": self.texts_per_second,
                "eta_seconds": self._eta(),
                "elapsed_seconds": round(elapsed, 2),
                "executor": s.executor,
                "executor_reason": None,
                "workers": s.workers,
                "pool_size": s.connection_pool_size,
                "free_threading_build": runtime.is_free_threading_available(),
                "gil_enabled": runtime.is_gil_enabled(),
                "gil_cause": runtime.gil_cause(),
                "created_at": self.created_at,
                "started_at": self.started_at,
                "finished_at": self.finished_at,
                "error": self.error,
                "nodes": {},
                "relationships": {},
                "files_indexed": None,
                "files_changed": None,
                "files_deleted": None,
                "files_skipped": 0,
                "files_failed": 0,
                "syntax_errors": None,
                "skipped": [],
                "failed": [],
                "wall_seconds": None,
                "cancelled": None,
                "languages": {},
            }
            if self.summary is not None:
                out.update(_from_summary(self.summary))  # type: ignore[typeddict-item]
            return out

    def _eta(self) -> float | None:
        if self.state != "running":
            return None
        if self.phase == "embed":
            return None if self.embed_eta is None else round(self.embed_eta, 1)
        if self.phase != "parse" or self.files_per_second <= 0:
            return None
        return round((self.files_total - self.files_done) / self.files_per_second, 1)

    def _set(self, **changes: Any) -> None:
        with self._lock:
            for name, value in changes.items():
                setattr(self, name, value)

    def _changed(self, change: JobChange) -> None:
        """Tell the manager's watchers (outside every lock: a watcher may read the job)."""
        if self._notify is not None:
            self._notify(self, change)


class ProgressSeries:
    """A job's overall progress as a strictly increasing series, for observers that must never repeat a value.

    `next()` gives the job's progress when it moved, else a heartbeat a little above the previous value and still
    below the next whole step (0.5, 0.67, 0.75, ... of the way), so an observer may report at a steady pace through
    a phase that counts nothing (resolving, writing, waiting for another run). After the job has ended, `next()`
    gives its total once (above every heartbeat), then None: nothing may follow the final report.
    """

    def __init__(self, job: IndexJob) -> None:
        self.job = job
        self.last = -math.inf
        self.beats = 0  # heartbeats since the progress last moved
        self.finished = False

    def next(self) -> tuple[float, float | None, str] | None:
        if self.finished:
            return None
        done, total, message, ended = self.job._overall()
        self.finished = ended
        if done > self.last:
            self.beats = 0
            self.last = done
        else:
            self.beats += 1
            self.last = math.floor(self.last) + self.beats / (self.beats + 1)
        return self.last, total, message


def _from_summary(sm: Summary) -> dict[str, Any]:
    return {
        "nodes": sm.nodes,
        "relationships": sm.relationships,
        "files_indexed": sm.files_indexed,
        "files_changed": sm.files_changed,
        "files_deleted": sm.files_deleted,
        "files_skipped": sm.files_skipped,
        "files_failed": sm.files_failed,
        "syntax_errors": sm.syntax_errors,
        "skipped": sm.skipped[:REPORTED_PROBLEMS],
        "failed": sm.failed[:REPORTED_PROBLEMS],
        "executor": sm.executor or "serial",
        "executor_reason": sm.executor_reason,
        "workers": sm.workers,
        "gil_enabled": sm.gil_enabled,
        "gil_cause": sm.gil_cause,
        "wall_seconds": sm.wall_seconds,
        "files_per_second": sm.files_per_second,
        "cancelled": sm.cancelled,
        "languages": sm.languages,
    }


StoreFor = Callable[[Settings], GraphStore | None]
JobWatcher = Callable[[IndexJob, JobChange], None]


class JobManager:
    """Runs index jobs `max_concurrent` at a time (default 1: the parse pool already uses the cores, and
    ArcadeDB serialises writes) and remembers the last `history` of them."""

    def __init__(self, store_for: StoreFor, max_concurrent: int = 1, history: int = 50,
                 owner: str = "graphdex MCP server") -> None:
        self._store_for = store_for  # a shared store fitting these settings, or None: the run opens its own
        self._pool = ThreadPoolExecutor(max_workers=max_concurrent, thread_name_prefix="graphdex-job")
        self._jobs: OrderedDict[str, IndexJob] = OrderedDict()
        self._lock = threading.Lock()
        self._history = history
        self._owner = owner
        self._watchers: dict[object, JobWatcher] = {}
        self._fresh: dict[str, _Keeper] = {}  # root -> what keeps that repository fresh (watch mode)

    def watch(self, watcher: JobWatcher) -> Callable[[], None]:
        """Call `watcher(job, change)` on every change of every job, and return a function that stops it.

        Changes: "created" when a job is submitted, "state" when its state changes (running, then succeeded,
        failed or cancelled; the final one comes with the summary and end time already set), "progress" on each
        pipeline report. The watcher runs in the thread that made the change (a job thread, or the caller of
        submit / cancel), outside every lock, so it may read the job; it must return quickly. A watcher that
        raises is logged and the job goes on."""
        key = object()
        with self._lock:
            self._watchers[key] = watcher

        def stop() -> None:
            with self._lock:
                self._watchers.pop(key, None)

        return stop

    def _notify(self, job: IndexJob, change: JobChange) -> None:
        with self._lock:
            watchers = list(self._watchers.values())
        for watcher in watchers:
            try:
                watcher(job, change)
            except Exception:  # noqa: BLE001 - an observer's failure must not fail the job
                log.exception("job watcher failed on %s of job %s", change, job.id)

    def submit(self, root: str | Path, settings: Settings, repo: str | None = None,
               trigger: str = "request", embed: bool = True) -> tuple[IndexJob, bool]:
        """Start indexing `root` (an existing directory); (job, False) when one for it is already active."""
        path = Path(root).expanduser().resolve()
        name = repo_name_for(path, repo)
        with self._lock:
            for job in self._jobs.values():
                if job.root == str(path) and job.active:
                    return job, False
            job = IndexJob(id=uuid.uuid4().hex[:12], repo=name, root=str(path), settings=settings,
                           trigger=trigger, embed=embed, _notify=self._notify)
            self._jobs[job.id] = job
            self._trim()
        self._notify(job, "created")
        self._pool.submit(self._run, job)
        return job, True

    def get(self, job_id: str) -> IndexJob:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise NotFoundError(f"no index job with id {job_id!r}; index_status without job_id lists recent jobs",
                                "job", job_id)
        return job

    def list(self) -> list[IndexJob]:
        with self._lock:
            return list(reversed(self._jobs.values()))  # newest first

    def active_for_repo(self, repo: str) -> IndexJob | None:
        with self._lock:
            return next((j for j in self._jobs.values() if j.repo == repo and j.active), None)

    def cancel(self, job_id: str) -> IndexJob:
        """Ask a job to stop: a queued job never starts; a running one stops at its next batch boundary."""
        job = self.get(job_id)
        job.cancel_event.set()
        with job._lock:
            was_queued = job.state == "queued"
            if was_queued:
                job.state, job.phase, job.finished_at = "cancelled", "cancelled", _now()
        if was_queued:
            job._changed("state")
        return job

    # -- keeping repositories fresh (watch mode) -----------------------------------------------------------

    def keep_fresh(self, root: str | Path, settings: Settings, repo: str | None = None) -> None:
        """Re-index `root` whenever its files change, as jobs of trigger "watch" (until `stop_fresh`)."""
        path = str(Path(root).expanduser().resolve())
        with self._lock:
            if path in self._fresh:
                return
            keeper = self._fresh[path] = _Keeper(self, path, settings, repo)
        keeper.start()

    def stop_fresh(self, root: str | Path | None = None, repo: str | None = None) -> bool:
        """Stop watching a root (or every root of a repository id); True if one was watched."""
        with self._lock:
            roots = [r for r, k in self._fresh.items() if r == (str(Path(root).resolve()) if root else None)
                     or (repo is not None and k.repo == repo)]
            keepers = [self._fresh.pop(r) for r in roots]
        for keeper in keepers:
            keeper.stop()
        return bool(keepers)

    def watching(self, root: str) -> bool:
        with self._lock:
            return root in self._fresh

    def _ended(self, job: IndexJob) -> None:
        """A job ended: changes that came meanwhile get their own run now."""
        with self._lock:
            keeper = self._fresh.get(job.root)
        if keeper is not None:
            keeper.job_ended()

    def shutdown(self) -> None:
        with self._lock:
            keepers = list(self._fresh.values())
            self._fresh.clear()
        for keeper in keepers:
            keeper.stop()
        for job in self.list():
            job.cancel_event.set()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _trim(self) -> None:
        """Forget the oldest finished jobs beyond the history size (active ones always stay)."""
        finished = [j.id for j in self._jobs.values() if not j.active]
        for job_id in finished[: max(0, len(self._jobs) - self._history)]:
            del self._jobs[job_id]

    def _run(self, job: IndexJob) -> None:
        with job._lock:
            if job.state != "queued":  # cancelled while queued
                return
            job.state, job.phase, job.started_at, job._started = "running", "starting", _now(), time.monotonic()
        job._changed("state")
        end: dict[str, Any]
        try:
            store = self._store_for(job.settings)
            summary = run(job.root, job.settings, repo=job.repo, store=store, progress=job.on_progress,
                          cancel=job.cancel_event, owner=self._owner, embed=job.embed)
        except GraphdexError as exc:
            end = {"state": "failed", "error": str(exc)}
        except Exception as exc:  # noqa: BLE001 - a job thread must record every failure, not die silently
            log.exception("index job %s failed", job.id)
            end = {"state": "failed", "error": f"{type(exc).__name__}: {exc}"}
        else:
            state: JobState = "cancelled" if summary.cancelled else "succeeded"
            end = {"state": state, "summary": summary, "files_per_second": summary.files_per_second}
        # One step, so no reader sees half an ending; the status of an ended job no longer changes.
        job._set(**end, phase=end["state"], finished_at=_now(), _ended=time.monotonic())
        log.info("index job %s (%s) %s", job.id, job.root, job.state)
        job._changed("state")
        self._ended(job)


class _Keeper:
    """Keeps one repository fresh: a file watcher whose bursts of changes become refresh jobs. Changes that come
    while a job of this root runs are not lost: one more refresh follows it."""

    def __init__(self, jobs: JobManager, root: str, settings: Settings, repo: str | None) -> None:
        from .watch import Watcher  # imported on use: only watching servers need watchfiles

        self.jobs, self.root, self.settings, self.repo = jobs, root, settings, repo
        self.watcher = Watcher(root, self.changed)
        self._pending = False
        self._lock = threading.Lock()

    def start(self) -> None:
        self.watcher.start()

    def stop(self) -> None:
        self.watcher.stop()

    def changed(self, paths: list[str]) -> None:
        log.info("%d files changed under %s: refreshing", len(paths), self.root)
        _, created = self.jobs.submit(self.root, self.settings, self.repo, trigger="watch")
        if not created:  # a job of this root is running: refresh once more when it ends
            with self._lock:
                self._pending = True

    def job_ended(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, False
        if pending:
            self.jobs.submit(self.root, self.settings, self.repo, trigger="watch")
