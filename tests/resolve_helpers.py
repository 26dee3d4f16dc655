"""Resolving small in-memory repositories, for the resolution tests (tests/test_resolve_*.py)."""

from __future__ import annotations

from indexer.models import Resolution
from indexer.pipeline.parse import extract_python, module_names
from indexer.pipeline.resolve import resolve


def resolved(files: dict[str, str]) -> tuple[Resolution, dict[tuple[str, str], tuple[str, str]]]:
    """The resolution of `files` (path -> source) and its CALLS edges as {(caller, callee): (provenance,
    condition)}, nodes named by their ids without the repository: `pkg.mod.f`, `pkg.mod.f#1` (the second
    same-named definition), `module:pkg.mod`."""
    names = module_names(list(files))
    facts = [extract_python("t", path, source.encode(), names[path]) for path, source in files.items()]
    result = resolve("t", facts)
    calls = {(e.source.removeprefix("t:"), e.target.removeprefix("t:")): (e.provenance, e.condition)
             for e in result.edges if e.type == "CALLS"}
    return result, calls


def calls_of(files: dict[str, str]) -> dict[tuple[str, str], tuple[str, str]]:
    return resolved(files)[1]
