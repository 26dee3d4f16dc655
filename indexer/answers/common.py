"""Helpers the answers share: symbol references, which code is test code, argument checks."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from .. import results as r
from ..errors import ConfigError
from ..settings import Settings
from ..store import open_store
from ..store.graph import GraphStore
from . import conventions, lookup

T = TypeVar("T")

MAX_DEPTH = 5
MAX_LIMIT = 1000


def ref(row: dict[str, Any]) -> r.SymbolRef:
    return {"id": row["id"], "kind": row["kind"], "qualified_name": row["qualified_name"], "path": row["path"],
            "start_line": row["start_line"]}


def check_range(name: str, value: int, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{name} must be from {low} to {high}, not {value!r}")
    return value


class TestCode:
    """Decides which symbols are test code, by their file's language conventions."""

    def __init__(self, declared: dict[str, str | None]) -> None:
        """`declared`: path -> the File's language (None: from the extension)."""
        self._langs = {path: conventions.language(path, language) for path, language in declared.items()}

    @classmethod
    def read(cls, store: GraphStore, repo: str, paths: Iterable[str | None]) -> TestCode:
        wanted = {p for p in paths if p}
        return cls(lookup.languages(store, repo, wanted) if wanted else {})

    def language(self, path: str | None) -> conventions.Language:
        return self._langs.get(path or "", conventions.PYTHON) if path else conventions.PYTHON

    def in_test_file(self, path: str | None) -> bool:
        return bool(path) and conventions.is_test_file(path or "", self.language(path))

    def is_test(self, row: dict[str, Any]) -> bool:
        """In a test file, or a test (or fixture) by its decorators."""
        path = row.get("path")
        if self.in_test_file(path):
            return True
        if row["kind"] not in ("Class", "Function", "Method"):
            return False
        return conventions.is_test_symbol(row["kind"], row.get("name") or "", row.get("decorators"),
                                          self.language(path), in_test_file=False)


def answer_with_settings(settings: Settings, fn: Callable[..., T], *args: Any, repo_at: str | None = None,
                         **kwargs: Any) -> T:
    """Open the configured graph, answer, close (for the CLI). With `repo_at` (a folder), the repository whose
    root holds that folder is passed as the first argument."""
    with open_store(settings) as store:
        if repo_at is not None:
            args = (lookup.repository_at(store, str(Path(repo_at).resolve()))["id"], *args)
        return fn(store, *args, **kwargs)
