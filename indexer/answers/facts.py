"""What dead_code reads of a whole repository, cached in the process until the repository is indexed again.

Reading these facts of the standard library's graph takes the embedded ArcadeDB most of a second (it returns
rows at tens of microseconds each), while judging them takes milliseconds; so they are kept per repository and
read again only when its `Repository.indexed_at` stamp changes (every complete index run stamps it, to the
microsecond). A run that was cancelled or failed does not stamp: answers then describe the last complete index.
"""

from __future__ import annotations

import configparser
import sys
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - 3.10
    import tomli as tomllib

from ..store.graph import GraphStore
from . import conventions, lookup


@dataclass
class RepoFacts:
    root: str
    candidates: list[dict[str, Any]]  # functions and methods nothing else calls
    classes: dict[str, dict[str, Any]]  # every class, by id, with its parent and signature
    unused_classes: list[dict[str, Any]]  # classes with no subclass and no method called from outside
    called_base_methods: set[tuple[str, str]]  # (class id, method name): called methods of classes with subclasses
    bases: dict[str, list[str]] = field(default_factory=dict)  # class id -> its in-repository base class ids
    base_names: dict[str, set[str]] = field(default_factory=dict)  # class id -> the names of those bases
    unresolved: Counter[str] = field(default_factory=Counter)  # called name -> unresolved call sites
    exports: dict[str, set[str]] = field(default_factory=dict)  # module path -> its literal __all__
    reexported: set[str] = field(default_factory=set)  # qualified names a package re-exports (`pkg.mod.*` too)
    languages: dict[str, conventions.Language] = field(default_factory=dict)  # path -> language
    scripts: set[str] = field(default_factory=set)  # qualified names of console-script entry points
    judged: list[tuple[dict[str, Any], Any]] | None = None  # dead_code's verdicts, once judged (they only
    #                                                          depend on these facts)

    def language(self, path: str | None) -> conventions.Language:
        return self.languages.get(path or "") or conventions.language(path)

    def ancestors(self, class_id: str) -> list[str]:
        """In-repository base classes, transitively, nearest first."""
        seen: list[str] = []
        frontier = list(self.bases.get(class_id, ()))
        while frontier:
            base = frontier.pop(0)
            if base not in seen:
                seen.append(base)
                frontier.extend(self.bases.get(base, ()))
        return seen


_CACHE: dict[tuple[int, str], tuple[Any, RepoFacts]] = {}
_LOCK = threading.Lock()


def repo_facts(store: GraphStore, repo: str) -> RepoFacts:
    """The repository's facts, read once per index run of it (per store)."""
    stamp = _stamp(store, repo)
    key = (id(store), repo)
    with _LOCK:
        cached = _CACHE.get(key)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    facts = load(store, repo)
    with _LOCK:
        _CACHE[key] = (stamp, facts)
    return facts


def _stamp(store: GraphStore, repo: str) -> tuple[Any, ...]:
    rows = lookup.read(store, "MATCH (r:Repository {id: $repo}) RETURN r.indexed_at AS at, r.root AS root, "
                       "r.files AS files", repo=repo)
    if not rows:
        lookup.repository_root(store, repo)  # raises the clear error
    row = rows[0]
    return row["at"], row["root"], row["files"]


def load(store: GraphStore, repo: str) -> RepoFacts:
    root = lookup.repository_root(store, repo)
    classes = {row["id"]: row for row in lookup.classes(store, repo)}
    facts = RepoFacts(
        root=root,
        candidates=lookup.uncalled(store, repo, ["Function", "Method"]),
        classes=classes,
        unused_classes=lookup.unused_classes(store, repo),
        called_base_methods={(row["owner"], row["name"]) for row in lookup.called_methods_of_base_classes(store,
                                                                                                           repo)},
    )
    for row in lookup.inherits(store, repo):
        facts.bases.setdefault(row["sub"], []).append(row["base"])
        facts.base_names.setdefault(row["sub"], set()).add(row["name"])
    for calls in lookup.unresolved_names(store, repo):
        facts.unresolved.update(entry.split(":", 1)[0] for entry in calls)
    _read_modules(store, repo, facts)
    facts.languages = {path: conventions.language(path, declared) for path, declared in
                       lookup.files(store, repo).items()}
    facts.scripts = console_scripts(Path(root))
    return facts


def _read_modules(store: GraphStore, repo: str, facts: RepoFacts) -> None:
    for module in lookup.modules(store, repo):
        if module["exports"] is not None:
            facts.exports[module["path"]] = set(module["exports"])
        facts.reexported.update(module["reexports"] or ())


# ------------------------------------------------------------------------------------------------ entry points

_SCRIPT_TABLES = ("scripts", "gui-scripts")


def console_scripts(root: Path) -> set[str]:
    """Qualified names of the functions pyproject.toml (PEP 621 scripts, gui-scripts and entry points; Poetry's
    scripts) and setup.cfg (entry_points) start: `pkg.cli:main` -> pkg.cli.main."""
    targets: list[str] = []
    pyproject = _toml(root / "pyproject.toml")
    project = pyproject.get("project", {})
    for table in _SCRIPT_TABLES:
        targets.extend(str(v) for v in project.get(table, {}).values())
    for group in project.get("entry-points", {}).values():
        targets.extend(str(v) for v in group.values())
    targets.extend(str(v) for v in pyproject.get("tool", {}).get("poetry", {}).get("scripts", {}).values()
                   if isinstance(v, str))
    targets.extend(_setup_cfg_entry_points(root / "setup.cfg"))
    return {_qualified(t) for t in targets if ":" in t}


def _qualified(target: str) -> str:
    module, _, attr = target.split("[", 1)[0].strip().partition(":")
    return f"{module.strip()}.{attr.strip()}"


def _toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def _setup_cfg_entry_points(path: Path) -> list[str]:
    parser = configparser.ConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except (OSError, configparser.Error, UnicodeDecodeError):
        return []
    if not parser.has_section("options.entry_points"):
        return []
    targets: list[str] = []
    for value in parser["options.entry_points"].values():
        targets.extend(line.split("=", 1)[1] for line in value.splitlines() if "=" in line)
    return targets

