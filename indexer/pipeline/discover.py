"""Stage 1, discover: walk a repository and decide which source files to index.

Honours `.gitignore` files (root and nested, deeper files overriding shallower ones, as git does) and
`.git/info/exclude`, prunes well-known tool and virtualenv directories, follows symlinks only within the
repository, and reads each candidate exactly once (hash, size and binary check share that read).
"""

from __future__ import annotations

import errno
import hashlib
import heapq
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from ..errors import RepositoryError
from ..models import Discovery, SkippedFile, SourceFile
from .parse.languages import EXTENSIONS

KIB = 1024
MIB = KIB * KIB
DEFAULT_MAX_FILE_SIZE = MIB
DEFAULT_EXTENSIONS = EXTENSIONS  # Python and the tree-sitter languages (parse/languages.py)
STUB_SUFFIX = ".pyi"  # a type stub; skipped beside the .py it describes (the same module)
BINARY_SNIFF_BYTES = 8192

# Directories never descended into. `venv`/`env` are deliberately absent: they are detected by their
# `pyvenv.cfg` (see VENV_MARKER), because a plain package may be called `venv` (the stdlib has one).
DEFAULT_EXCLUDED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "node_modules",
        "__pycache__",
        "build",
        "dist",
        "site-packages",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
    }
)
EXCLUDED_DIR_SUFFIXES = (".egg-info",)
VENV_MARKER = "pyvenv.cfg"  # any directory holding it is a virtual environment

# One ignore file's rules in file order: (compiled pattern, True to exclude / False for a "!" negation).
Rules = tuple[tuple[re.Pattern[str], bool], ...]
# A chain of (prefix, rules), shallowest first; `prefix` is the directory of the ignore file relative
# to the root, with a trailing "/" ("" for the root). Tuples, so a deferred symlinked dir keeps its own.
IgnoreStack = tuple[tuple[str, Rules], ...]
_Entry = os.DirEntry[str]
# pathspec's name for the regex group that matches a directory's trailing "/" (GitIgnoreSpecPattern).
_DIR_MARK = "ps_d"


@dataclass(frozen=True, slots=True)
class _Dir:
    rel: str  # "" for the root, else "a/b"
    path: str  # as walked (may pass through symlinks)
    real: str  # resolved
    ignores: IgnoreStack


@dataclass(frozen=True, slots=True)
class _Candidate:
    rel: str
    path: str
    real: str
    size: int


@dataclass(slots=True)
class _Walk:
    root: str
    extensions: frozenset[str]
    candidates: list[_Candidate] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    visited: set[str] = field(default_factory=set)  # real paths of directories already walked
    # Symlinked directories still to follow, a heap of (rel, dir, real path of the link's parent).
    deferred: list[tuple[str, _Dir, str]] = field(default_factory=list)


def discover(
    root: str | Path,
    *,
    max_file_size: int = DEFAULT_MAX_FILE_SIZE,
    extensions: frozenset[str] = DEFAULT_EXTENSIONS,
) -> Discovery:
    """The files under `root` to index, and the candidates skipped (with why), both sorted by path."""
    if any(not ext.startswith(".") for ext in extensions):
        raise ValueError(f"extensions must start with '.', got {sorted(extensions)}")
    real_root = _resolve_root(root)
    walk = _Walk(root=real_root, extensions=extensions)
    top = _Dir("", real_root, real_root, _root_excludes(real_root))
    walk.visited.add(real_root)
    try:
        _walk_tree(walk, top)
    except OSError as exc:  # only the root's own listing propagates; deeper failures are "skipped"
        raise RepositoryError(f"cannot read the repository directory {real_root}: {exc.strerror}") from None
    _walk_deferred(walk)
    files = _read_all(walk, max_file_size)
    return Discovery(
        root=real_root,
        files=sorted(files, key=lambda f: f.path),
        skipped=sorted((SkippedFile(printable(s.path), s.reason) for s in walk.skipped),
                       key=lambda s: (s.path, s.reason)),
    )


def _resolve_root(root: str | Path) -> str:
    path = os.path.abspath(os.fspath(root))
    if not _is_utf8(path):
        raise RepositoryError(f"the repository path {printable(path)} is not valid UTF-8; rename or link it")
    if not os.path.exists(path):
        raise RepositoryError(f"repository path does not exist: {path}")
    if not os.path.isdir(path):
        raise RepositoryError(f"repository path is not a directory: {path}")
    return os.path.realpath(path)


# --- ignore rules ---------------------------------------------------------------------------------


def _load_rules(path: str) -> Rules:
    try:
        # surrogateescape: undecodable bytes round-trip like the file names os.scandir returns
        with open(path, encoding="utf-8", errors="surrogateescape") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return ()  # an unreadable ignore file can't be honoured; git skips it too
    spec = pathspec.GitIgnoreSpec.from_lines(lines)
    return tuple((p.regex, p.include) for p in spec.patterns if p.include is not None and p.regex is not None)


def _root_excludes(root: str) -> IgnoreStack:
    """`.git/info/exclude` (lowest precedence, root-relative); `.git` may be a worktree/submodule file."""
    git_dir = os.path.join(root, ".git")
    if os.path.isfile(git_dir):
        git_dir = _gitdir_from_file(git_dir, root)
    if not git_dir:
        return ()
    common = _first_line(os.path.join(git_dir, "commondir"))  # linked worktrees share the main info/
    if common:
        git_dir = os.path.join(git_dir, common)
    rules = _load_rules(os.path.join(git_dir, "info", "exclude"))
    return (("", rules),) if rules else ()


def _gitdir_from_file(path: str, root: str) -> str:
    first = _first_line(path)
    if not first.startswith("gitdir:"):
        return ""
    return os.path.join(root, first.removeprefix("gitdir:").strip())


def _first_line(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.readline().strip()
    except OSError:
        return ""


def _is_ignored(ignores: IgnoreStack, rel: str, is_dir: bool) -> bool:
    """Git's rule: the deepest ignore file with a matching pattern decides, and in it the last match."""
    for prefix, rules in reversed(ignores):
        path = rel[len(prefix) :]
        for regex, excludes in reversed(rules):
            if _matches(regex, path, is_dir):
                return excludes
    return False


def _matches(regex: re.Pattern[str], path: str, is_dir: bool) -> bool:
    """Whether a pattern matches `path` itself, as git matches it.

    GitIgnoreSpec.check_file answers "is this file excluded?": it counts matches on any parent directory
    (through the pattern's directory mark, a group on a "/") and ranks them below file matches. Asked
    about a directory, that gets the whitelist idiom (`*`, `!*/`, `!*.py`) wrong, and we would prune
    directories git descends into. Excluded directories are pruned here instead, so only a match on the
    path itself counts: one not made through a parent's "/", or for a directory, through its own.
    """
    has_mark = _DIR_MARK in regex.groupindex
    found = regex.search(path)
    if found is not None and not (has_mark and found.group(_DIR_MARK) is not None):
        return True
    if not (is_dir and has_mark):
        return False
    target = path + "/"
    pos = 0
    while (found := regex.search(target, pos)) is not None:  # unanchored ("*/") may hit a parent's "/"
        if found.end(_DIR_MARK) == len(target):
            return True
        pos = found.start() + 1
    return False


class Relevance:
    """Would discovery look at this path? For change events (watch mode): the same rules as the walk, the
    .gitignore files read once per folder and kept."""

    def __init__(self, root: str | Path, extensions: frozenset[str] = DEFAULT_EXTENSIONS) -> None:
        self.root = os.path.realpath(os.fspath(root))
        self.extensions = extensions
        self._stacks: dict[str, IgnoreStack] = {}

    def relevant(self, path: str | Path) -> bool:
        """A candidate source file (or a .gitignore, which changes what is) that no rule excludes."""
        rel = os.path.relpath(os.path.realpath(os.fspath(path)), self.root).replace(os.sep, "/")
        if rel.startswith("../") or rel == "..":
            return False
        parts = rel.split("/")
        if any(_is_default_excluded(part) for part in parts[:-1]):
            return False
        name = parts[-1]
        if name == ".gitignore":
            self._stacks.clear()  # the rules changed: read them again
            return True
        if os.path.splitext(name)[1] not in self.extensions:
            return False
        folder = "/".join(parts[:-1])
        return not _is_ignored(self._stack(folder), rel, is_dir=False) and not self._folder_ignored(parts[:-1])

    def _folder_ignored(self, parts: list[str]) -> bool:
        for depth in range(1, len(parts) + 1):
            folder = "/".join(parts[:depth])
            if _is_ignored(self._stack("/".join(parts[: depth - 1])), folder, is_dir=True):
                return True
        return False

    def _stack(self, folder: str) -> IgnoreStack:
        """The ignore rules in force inside `folder` (relative; "" for the root)."""
        if folder not in self._stacks:
            parent = folder.rpartition("/")[0] if "/" in folder else ""
            stack = self._stack(parent) if folder else _root_excludes(self.root)
            rules = _load_rules(os.path.join(self.root, folder, ".gitignore"))
            self._stacks[folder] = (*stack, (folder + "/" if folder else "", rules)) if rules else stack
        return self._stacks[folder]


def _is_default_excluded(name: str) -> bool:
    return name in DEFAULT_EXCLUDED_DIRS or name.endswith(EXCLUDED_DIR_SUFFIXES)


# --- the walk -------------------------------------------------------------------------------------


def _walk_tree(walk: _Walk, top: _Dir) -> None:
    """Depth-first over real subdirectories; symlinked directories are deferred (see _walk_deferred)."""
    stack = [top]
    while stack:
        current = stack.pop()
        try:
            with os.scandir(current.path) as it:
                entries = list(it)
        except OSError as exc:
            if not current.rel:
                raise
            walk.skipped.append(SkippedFile(current.rel, f"unreadable: {exc.strerror}"))
            continue
        if current.rel and any(e.name == VENV_MARKER for e in entries):
            continue  # a virtualenv, whatever it is called
        ignores = _with_gitignore(current, entries)
        for entry in entries:
            sub = _visit(walk, current, ignores, entry)
            if sub is not None:
                stack.append(sub)


def _with_gitignore(current: _Dir, entries: list[_Entry]) -> IgnoreStack:
    if not any(e.name == ".gitignore" for e in entries):
        return current.ignores
    rules = _load_rules(os.path.join(current.path, ".gitignore"))
    if not rules:
        return current.ignores
    return (*current.ignores, (current.rel + "/" if current.rel else "", rules))


def _visit(walk: _Walk, parent: _Dir, ignores: IgnoreStack, entry: _Entry) -> _Dir | None:
    """Handle one directory entry; return a real subdirectory to descend into, if any."""
    rel = f"{parent.rel}/{entry.name}" if parent.rel else entry.name
    if entry.is_symlink():
        _visit_symlink(walk, parent, ignores, entry, rel)
    elif entry.is_dir(follow_symlinks=False):
        return _subdir(walk, parent, ignores, entry, rel)
    elif _is_candidate(walk, entry.name) and not _is_ignored(ignores, rel, is_dir=False):
        _visit_file(walk, parent, entry, rel)
    return None


def _subdir(walk: _Walk, parent: _Dir, ignores: IgnoreStack, entry: _Entry, rel: str) -> _Dir | None:
    real = os.path.join(parent.real, entry.name)
    if _is_default_excluded(entry.name) or real in walk.visited or _is_ignored(ignores, rel, is_dir=True):
        return None
    walk.visited.add(real)
    return _Dir(rel, entry.path, real, ignores)


def _visit_file(walk: _Walk, parent: _Dir, entry: _Entry, rel: str) -> None:
    if not entry.is_file(follow_symlinks=False):
        walk.skipped.append(SkippedFile(rel, "not a regular file"))  # FIFO, socket, device: never open
        return
    try:
        size = entry.stat(follow_symlinks=False).st_size
    except OSError as exc:
        walk.skipped.append(SkippedFile(rel, f"unreadable: {exc.strerror}"))
        return
    walk.candidates.append(_Candidate(rel, entry.path, os.path.join(parent.real, entry.name), size))


def _visit_symlink(walk: _Walk, parent: _Dir, ignores: IgnoreStack, entry: _Entry, rel: str) -> None:
    name = entry.name
    try:
        st = os.stat(entry.path)  # follows the link
    except OSError as exc:
        # The target's kind is unknown, so only links that look like candidates are worth reporting.
        if _is_candidate(walk, name) and not _is_ignored(ignores, rel, is_dir=False):
            reason = "symlink cycle" if exc.errno == errno.ELOOP else "broken symlink"
            walk.skipped.append(SkippedFile(rel, reason))
        return
    is_dir = stat.S_ISDIR(st.st_mode)
    if is_dir and _is_default_excluded(name):
        return
    if not is_dir and not _is_candidate(walk, name):
        return
    if _is_ignored(ignores, rel, is_dir=is_dir):
        return
    real = os.path.realpath(entry.path)
    if not _inside(walk.root, real):
        walk.skipped.append(SkippedFile(rel, "symlink outside the repository"))
    elif is_dir:
        heapq.heappush(walk.deferred, (rel, _Dir(rel, entry.path, real, ignores), parent.real))
    elif stat.S_ISREG(st.st_mode):
        walk.candidates.append(_Candidate(rel, entry.path, real, st.st_size))
    else:
        walk.skipped.append(SkippedFile(rel, "not a regular file"))


def _walk_deferred(walk: _Walk) -> None:
    """Follow symlinked directories after every real one, in path order, so content is found under its
    real location first; a link to a directory already walked is a duplicate (or, if it points at one of
    its own ancestors, a cycle) and is not followed again."""
    while walk.deferred:
        rel, link, link_parent_real = heapq.heappop(walk.deferred)
        if link.real in walk.visited:
            if link_parent_real == link.real or _inside(link.real, link_parent_real):
                walk.skipped.append(SkippedFile(rel, "symlink cycle"))
            continue
        walk.visited.add(link.real)
        _walk_tree(walk, link)


def _inside(root: str, path: str) -> bool:
    return path == root or path.startswith(root if root.endswith(os.sep) else root + os.sep)


def _is_candidate(walk: _Walk, name: str) -> bool:
    return os.path.splitext(name)[1] in walk.extensions


# --- reading --------------------------------------------------------------------------------------


def _read_all(walk: _Walk, max_file_size: int) -> list[SourceFile]:
    files = []
    unique = _unique(walk.root, walk.candidates)
    modules = {c.rel for c in unique if not c.rel.endswith(STUB_SUFFIX)}
    for cand in unique:
        if not _is_utf8(cand.rel):
            walk.skipped.append(SkippedFile(cand.rel, "the file name is not valid UTF-8; rename it to index it"))
            continue
        if cand.rel.endswith(STUB_SUFFIX) and cand.rel[:-1] in modules:
            walk.skipped.append(SkippedFile(cand.rel, f"type stub of {cand.rel[:-1]} (the module is indexed "
                                                      "from its source)"))
            continue
        result = _read_one(cand, max_file_size)
        if isinstance(result, SkippedFile):
            walk.skipped.append(result)
        else:
            files.append(result)
    return files


def _is_utf8(name: str) -> bool:
    """A name os.scandir decoded without surrogate escapes (undecodable bytes): safe for the graph and JSON."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def printable(name: str) -> str:
    """A file name as text that any output accepts: undecodable bytes shown as \\xNN."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def _unique(root: str, candidates: list[_Candidate]) -> list[_Candidate]:
    """One candidate per real file: its real location when that was walked, else the first path."""
    by_real: dict[str, _Candidate] = {}
    for cand in sorted(candidates, key=lambda c: c.rel):
        kept = by_real.get(cand.real)
        if kept is None or (_is_canonical(root, cand) and not _is_canonical(root, kept)):
            by_real[cand.real] = cand
    return list(by_real.values())


def _is_canonical(root: str, cand: _Candidate) -> bool:
    return cand.real == os.path.join(root, *cand.rel.split("/"))


def _read_one(cand: _Candidate, max_file_size: int) -> SourceFile | SkippedFile:
    if cand.size > max_file_size:  # decided from stat, so huge files are never read
        return SkippedFile(cand.rel, _too_large(cand.size, max_file_size))
    try:
        with open(cand.path, "rb") as fh:
            content = fh.read(max_file_size + 1)  # +1: notice a file that grew since the stat
            if len(content) > max_file_size:
                return SkippedFile(cand.rel, _too_large(os.fstat(fh.fileno()).st_size, max_file_size))
    except OSError as exc:
        return SkippedFile(cand.rel, f"unreadable: {exc.strerror or exc}")
    if b"\0" in content[:BINARY_SNIFF_BYTES]:
        return SkippedFile(cand.rel, "binary")
    sha = hashlib.blake2b(content, digest_size=16).hexdigest()
    return SourceFile(path=cand.rel, abspath=cand.path, size=len(content), sha=sha)


def _too_large(size: int, limit: int) -> str:
    return f"too large ({_human(size)} > {_human(limit)})"


def _human(size: int) -> str:
    if size >= MIB:
        return f"{size / MIB:.1f} MiB"
    if size >= KIB:
        return f"{size / KIB:.1f} KiB"
    return f"{size} B"
