"""Per-language extraction: (relative path, bytes) -> FileFacts, pure and picklable.

Python uses the stdlib `ast` (exact, fast, and safe with the GIL off). Other languages would arrive on
tree-sitter, which re-enables the GIL when imported, so it must only ever be imported in worker processes.
"""

from __future__ import annotations

from collections import Counter
from posixpath import dirname

from .python import extract_python

__all__ = ["extract_python", "module_names"]


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
