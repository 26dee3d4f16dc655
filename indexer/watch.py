"""Fresh while you work: watch a repository's files and re-index when they change.

Changes are grouped: a burst (a `git checkout` of 500 files, an editor saving several) becomes one run, made once
the tree has been quiet for QUIET_MS (or after at most BURST_MS of continuous change). Only changes discovery
would look at count: source files it indexes, not ignored by any .gitignore, outside excluded folders; a
.gitignore change counts too. Each run is an ordinary incremental run (indexer/pipeline/run.py), so a watched
repository converges exactly as a re-index would.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from .pipeline.discover import Relevance

log = logging.getLogger(__name__)

QUIET_MS = 200  # a burst ends after this much quiet
BURST_MS = 1600  # ... or after this long, whatever comes


def changes(root: str | Path, stop: threading.Event, quiet_ms: int = QUIET_MS,
            burst_ms: int = BURST_MS) -> Iterator[list[str]]:
    """Each burst of relevant changes under `root` as the sorted paths (relative) it touched, until `stop`."""
    import watchfiles  # imported on use: only watchers need it

    relevance = Relevance(root)

    def relevant(change: watchfiles.Change, path: str) -> bool:
        return relevance.relevant(path)

    for batch in watchfiles.watch(root, watch_filter=relevant, debounce=burst_ms, step=quiet_ms, stop_event=stop,
                                  raise_interrupt=False, rust_timeout=500, yield_on_timeout=False):
        yield sorted({os.path.relpath(path, relevance.root) for _, path in batch})


class Watcher:
    """A background thread calling `on_change(paths)` for each burst of changes under `root`, until stopped."""

    def __init__(self, root: str | Path, on_change: Callable[[list[str]], None]) -> None:
        self.root = str(root)
        self._on_change = on_change
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"graphdex-watch-{Path(root).name}", daemon=True)

    def start(self) -> Watcher:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _loop(self) -> None:
        try:
            for paths in changes(self.root, self._stop):
                try:
                    self._on_change(paths)
                except Exception:  # noqa: BLE001 - a failing refresh must not end the watch
                    log.exception("refreshing %s after a change failed", self.root)
        except Exception:  # noqa: BLE001 - the folder went away, or the OS refused to watch it
            log.exception("watching %s stopped", self.root)
