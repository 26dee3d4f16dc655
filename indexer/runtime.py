"""What this interpreter can do in parallel: a free-threaded build? the GIL on now? turned on by what?

`auto` picks threads only when they really run in parallel (free-threaded build with the GIL off);
otherwise processes, which parallelise CPU-bound parsing on any build.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import sysconfig
import threading
import warnings
from dataclasses import asdict, dataclass
from typing import Any

log = logging.getLogger(__name__)
_GIL_WARNING = re.compile(r"GIL\) has been enabled to load module '([^']+)'")
_gil_cause: str | None = None
_watching = False
_warned = False  # the one "GIL re-enabled" warning of this process has been logged
_lock = threading.Lock()


def is_free_threading_available() -> bool:
    """A free-threaded build (3.13t/3.14t): `Py_GIL_DISABLED == 1`."""
    return sysconfig.get_config_var("Py_GIL_DISABLED") == 1


def is_gil_enabled() -> bool:
    """Is the GIL on right now? Always True before 3.13 and on default builds."""
    check = getattr(sys, "_is_gil_enabled", None)
    return True if check is None else bool(check())


def should_use_threads() -> bool:
    return is_free_threading_available() and not is_gil_enabled()


def gil_cause() -> str | None:
    """Why the GIL is on in a free-threaded build, where Python lets it be known."""
    if not is_free_threading_available() or not is_gil_enabled():
        return None
    if _gil_cause:
        return _gil_cause
    xoption = getattr(sys, "_xoptions", {}).get("gil")
    if xoption == "1":
        return "-X gil=1"
    if os.environ.get("PYTHON_GIL") == "1":
        return "PYTHON_GIL=1"
    return "an extension module imported before graphdex started watching"


def watch_gil() -> None:
    """Record the module named by CPython's "GIL has been enabled to load module" warning, once it fires.

    CPython (3.13+) raises that RuntimeWarning when an extension that did not declare `Py_mod_gil` is imported
    into a free-threaded interpreter with the GIL off. Idempotent; a no-op on builds with a GIL.
    """
    global _watching
    if not is_free_threading_available():
        return
    with _lock:
        if _watching:
            return
        _watching = True
    # Shown (hence seen) even when the user's filters ignore RuntimeWarnings; "default" shows it once.
    warnings.filterwarnings("default", message=r".*GIL\) has been enabled", category=RuntimeWarning)
    original = warnings.showwarning

    def show(message: Any, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        note_warning(str(message))
        original(message, category, *args, **kwargs)

    warnings.showwarning = show


def note_warning(text: str) -> str | None:
    """Take the cause from a warning's text if it is CPython's GIL warning; the module named, or None."""
    global _gil_cause
    match = _GIL_WARNING.search(text)
    if not match:
        return None
    with _lock:
        _gil_cause = _gil_cause or f"module {match.group(1)!r} (an extension that needs the GIL)"
    return match.group(1)


def check_gil(stage: str, was_enabled: bool, logger: logging.Logger | None = None) -> bool:
    """The GIL state now; logs one warning per process, naming the cause, the first time a check finds the GIL
    on after it was off (`was_enabled` False). Call it after imports and after each phase of a run."""
    global _warned
    enabled = is_gil_enabled()
    if enabled and not was_enabled and is_free_threading_available():
        with _lock:
            first = not _warned
            _warned = True
        if first:
            (logger or log).warning(
                "the GIL was re-enabled (noticed %s) by %s: threads no longer run in parallel; "
                "`auto` uses processes from here on", stage, gil_cause())
    return enabled


@dataclass(frozen=True)
class RuntimeReport:
    python: str
    implementation: str
    free_threading_build: bool
    gil_enabled: bool
    gil_cause: str | None
    auto_executor: str
    auto_reason: str
    cpu_count: int
    language_executors: dict[str, dict[str, str]]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def auto_executor() -> tuple[str, str]:
    """The executor `auto` means for a large repository here, and why."""
    if should_use_threads():
        return "thread", "free-threaded build with the GIL off: threads run Python in parallel"
    if is_free_threading_available():
        return "process", f"free-threaded build but the GIL is on ({gil_cause()}): threads would serialise"
    return "process", "the GIL serialises Python threads on this build; processes parse in parallel"


def choose_executor(requested: str, files: int, workers: int, serial_threshold: int) -> tuple[str, str]:
    """(executor kind, reason) for a run over `files` files to parse."""
    if requested != "auto":
        return requested, f"requested --executor {requested}"
    if workers <= 1:
        return "serial", "one worker"
    if files < serial_threshold:
        return "serial", f"{files} files < serial threshold {serial_threshold}: a pool would cost more than it saves"
    return auto_executor()


TREE_SITTER_REASON = ("tree-sitter needs the GIL (importing it turns the GIL back on): these languages are parsed "
                      "in worker processes, so the parent keeps the GIL off")


def choose_executors(requested: str, python_files: int, other_files: int, workers: int,
                     serial_threshold: int) -> tuple[tuple[str, str], tuple[str, str]]:
    """((kind, reason) for Python files, (kind, reason) for the tree-sitter languages) of one run.

    Both follow `choose_executor` over all the files, except on a free-threaded build: there tree-sitter (which
    turns the GIL back on where it is imported) only ever runs in worker processes, while Python keeps its
    threads (or serial run) in the parent with the GIL off. Dask workers are processes of their own: both go there."""
    python = choose_executor(requested, python_files + other_files, workers, serial_threshold)
    other = python
    if is_free_threading_available() and other_files and python[0] not in ("process", "dask"):
        other = ("process", TREE_SITTER_REASON)
    return python, other


def language_executors() -> dict[str, dict[str, str]]:
    """What `auto` uses for each kind of file on a large repository here, and why."""
    (py_kind, py_reason), (ts_kind, ts_reason) = choose_executors("auto", 1000, 1000, 2, 50)
    return {"python": {"executor": py_kind, "reason": py_reason},
            "tree-sitter languages": {"executor": ts_kind, "reason": ts_reason}}


def report() -> RuntimeReport:
    kind, reason = auto_executor()
    return RuntimeReport(
        python=sys.version.split()[0],
        implementation=f"{sys.implementation.name} {sys.version}",
        free_threading_build=is_free_threading_available(),
        gil_enabled=is_gil_enabled(),
        gil_cause=gil_cause(),
        auto_executor=kind,
        auto_reason=reason,
        cpu_count=os.cpu_count() or 1,
        language_executors=language_executors(),
    )
