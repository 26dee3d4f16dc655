"""Background index jobs: a face starts a run and answers at once; clients poll, watch or cancel it by id.

A small thread pool runs the pipeline (which brings its own parse pool); each job's state sits behind a lock
because the pipeline's progress callback writes it from the job thread while the server reads it.
"""

from __future__ import annotations

import logging
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
    created_at: str = field(default_factory=_now)
    started_at: str | None = None
    finished_at: str | None = None
    error: str | None = None
    summary: Summary | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _started: float | None = None

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

    def overall_progress(self) -> tuple[float, float | None, str]:
        """(progress, total, message) that only grows: files parsed, then one step per later phase."""
        with self._lock:
            total = self.files_total + len(_AFTER_PARSE) + 1 if self.files_total else None
            done = self.files_done + _AFTER_PARSE.get(self.phase, 0)
            if not self.active:  # the final notification: one more step than any before it
                total = done = total or done + 1
            return float(done), float(total) if total else None, f"{self.state} / {self.phase}: {self.message}"

    def status(self) -> JobStatus:
        """A JSON-ready view of the job, safe to hand to a client."""
        with self._lock:
            s = self.settings
            out: JobStatus = {
                "job_id": self.id,
                "repo": self.repo,
                "root": self.root,
                "state": self.state,
                "phase": self.phase,
                "message": self.message,
                "files_done": self.files_done,
                "files_total": self.files_total,
                "files_per_second": self.files_per_second,
                "eta_seconds": self._eta(),
                "elapsed_seconds": round(time.monotonic() - self._started, 2) if self._started else 0.0,
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
        if self.state != "running" or self.phase != "parse" or self.files_per_second <= 0:
            return None
        return round((self.files_total - self.files_done) / self.files_per_second, 1)

    def _set(self, **changes: Any) -> None:
        with self._lock:
            for name, value in changes.items():
                setattr(self, name, value)


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

    def submit(self, root: str | Path, settings: Settings, repo: str | None = None) -> tuple[IndexJob, bool]:
        """Start indexing `root` (an existing directory); (job, False) when one for it is already active."""
        path = Path(root).expanduser().resolve()
        name = repo_name_for(path, repo)
        with self._lock:
            for job in self._jobs.values():
                if job.root == str(path) and job.active:
                    return job, False
            job = IndexJob(id=uuid.uuid4().hex[:12], repo=name, root=str(path), settings=settings)
            self._jobs[job.id] = job
            self._trim()
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
            if job.state == "queued":
                job.state, job.phase, job.finished_at = "cancelled", "cancelled", _now()
        return job

    def shutdown(self) -> None:
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
        try:
            store = self._store_for(job.settings)
            summary = run(job.root, job.settings, repo=job.repo, store=store, progress=job.on_progress,
                          cancel=job.cancel_event, owner=self._owner)
        except GraphdexError as exc:
            job._set(state="failed", error=str(exc))
        except Exception as exc:  # noqa: BLE001 - a job thread must record every failure, not die silently
            log.exception("index job %s failed", job.id)
            job._set(state="failed", error=f"{type(exc).__name__}: {exc}")
        else:
            state: JobState = "cancelled" if summary.cancelled else "succeeded"
            job._set(state=state, summary=summary, files_per_second=summary.files_per_second)
        job._set(phase=job.state, finished_at=_now())
        log.info("index job %s (%s) %s", job.id, job.root, job.state)
