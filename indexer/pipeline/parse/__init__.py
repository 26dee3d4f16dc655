"""Stage 3, extraction: (relative path, bytes) -> FileFacts, per language, pure and picklable.

Python uses the stdlib `ast` (exact, fast, and safe with the GIL off). The other languages use tree-sitter
(treesitter.py, from declarative queries in queries/<language>.scm), which re-enables the GIL when imported: it
is imported lazily, at the first non-Python file, and the parse stage sends those files to worker processes on a
free-threaded build. The stage that runs extraction on an executor is stage.py; this package is what a worker
imports.
"""

from __future__ import annotations

from collections import Counter
from posixpath import dirname

from ...models import FileFacts, file_id, module_id
from .languages import PYTHON
from .python import extract_python

__all__ = ["extract", "extract_python", "failed_facts", "module_names"]


def extract(repo: str, path: str, data: bytes, module: str, sha: str = "", language: str = PYTHON,
            grammar_home: str = "") -> FileFacts:
    """The facts of one file. Never raises on bad source: errors are recorded."""
    if language == PYTHON:
        return extract_python(repo, path, data, module, sha)
    from .treesitter import extract_treesitter  # imports tree_sitter: never in a GIL-free parent (stage.py)

    return extract_treesitter(repo, path, data, module, sha, language, grammar_home)


def failed_facts(repo: str, path: str, module: str, sha: str, reason: str, language: str = PYTHON) -> FileFacts:
    """The facts of a file extraction failed on: its File and Module, carrying the error, and nothing else.
    Written like a file with a syntax error, so the graph lists it and the next run does not redo it unchanged."""
    return FileFacts(path=path, sha=sha, module=module, module_id=module_id(repo, module),
                     file_id=file_id(repo, path), error=reason, language=language)


def module_names(paths: list[str]) -> dict[str, str]:
    """Dotted module names from the package layout: the run of `__init__.py` folders above each file.

    `src/pkg/sub/mod.py` with `pkg/` and `pkg/sub/` packages is `pkg.sub.mod`. Files outside packages whose
    short names collide (two loose `util.py` in different folders) fall back to their folder path, so that
    every module name in a repository is unique.
    """
    packages = {dirname(p) for p in paths if p.rsplit("/", 1)[-1] == "__init__.py"}
    names = {p: _dotted(p, packages) for p in paths}
    counts = Counter(names.values())
    for path, name in names.items():
        if counts[name] > 1:
            names[path] = _path_dotted(path)
    return names


def _dotted(path: str, packages: set[str]) -> str:
    folder, _, filename = path.rpartition("/")
    stem = filename.rsplit(".", 1)[0]
    parts = [] if stem == "__init__" else [stem]
    while folder and folder in packages:
        folder, _, package = folder.rpartition("/")
        parts.append(package)
    return ".".join(reversed(parts)) or _path_dotted(path)


def _path_dotted(path: str) -> str:
    stem = path.rsplit(".", 1)[0]
    if stem.endswith("/__init__") or stem == "__init__":
        stem = stem[: -len("__init__")].rstrip("/") or "__init__"
    return stem.replace("/", ".")
