"""The working tree's changes against a revision, from `git diff`: per file, its status and changed line ranges.

`git diff --unified=0 BASE` compares the working tree (staged and not) with BASE; untracked files (not ignored)
count as added in whole. Line ranges are on the working tree's side; a deletion, which has no lines there,
touches the lines on either side of where it was.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import GitError

GIT_TIMEOUT = 60.0
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


@dataclass
class FileDiff:
    path: str  # relative to the repository root, POSIX
    status: str  # modified, added, deleted, renamed, untracked
    ranges: list[tuple[int, int]] = field(default_factory=list)  # [first, last] lines in the working tree
    whole: bool = False  # every line counts as changed (added, untracked, deleted)


def git(root: Path, *args: str) -> str:
    executable = shutil.which("git")
    if executable is None:
        raise GitError("detect_changes needs git, which is not installed (apt-get install git)")
    try:
        done = subprocess.run([executable, "-C", str(root), *args], capture_output=True, text=True,
                              timeout=GIT_TIMEOUT, check=False, errors="replace")
    except subprocess.TimeoutExpired as exc:
        raise GitError(f"git {args[0]} in {root} took more than {GIT_TIMEOUT:.0f} s") from exc
    if done.returncode != 0:
        raise GitError(_explained(root, args, done.stderr.strip()))
    return done.stdout


def _explained(root: Path, args: tuple[str, ...], stderr: str) -> str:
    if "not a git repository" in stderr:
        return f"{root} is not in a git repository: detect_changes compares a git working tree with a revision"
    if "unknown revision" in stderr or "bad revision" in stderr or "ambiguous argument" in stderr:
        return f"unknown git revision in {root}: {stderr.splitlines()[0] if stderr else 'git ' + ' '.join(args)}"
    return f"git {' '.join(args[:2])} failed in {root}: {stderr.splitlines()[-1] if stderr else 'no message'}"


def changed_files(root: Path, base: str = "HEAD") -> list[FileDiff]:
    """Files that differ between the working tree and `base` (untracked ones included), under `root`."""
    if base.startswith("-"):
        raise GitError(f"not a revision: {base!r}")
    git(root, "rev-parse", "--show-toplevel")  # outside a work tree `git diff` would compare folders instead
    diff = git(root, "diff", "--no-color", "--no-ext-diff", "--unified=0", "-M", "--relative", base, "--", ".")
    files = parse_diff(diff)
    known = {f.path for f in files}
    untracked = git(root, "ls-files", "--others", "--exclude-standard", "-z", "--", ".")
    files += [FileDiff(p, "untracked", whole=True) for p in untracked.split("\0") if p and p not in known]
    return sorted(files, key=lambda f: f.path)


def parse_diff(text: str) -> list[FileDiff]:
    files: list[FileDiff] = []
    current: FileDiff | None = None
    for line in text.splitlines():
        if line.startswith("diff --git "):
            current = FileDiff("", "modified")
            files.append(current)
        elif current is None:
            continue
        elif line.startswith("rename from "):
            current.status = "renamed"
        elif line.startswith("--- "):
            if line[4:] == "/dev/null":
                current.status, current.whole = "added", True
            else:
                current.path = _path(line[4:], "a/")
        elif line.startswith("+++ "):
            if line[4:] == "/dev/null":
                current.status, current.whole = "deleted", True
            else:
                current.path = _path(line[4:], "b/")
        elif line.startswith("@@"):
            current.ranges.append(_hunk(line))
    return [f for f in files if f.path]


def _hunk(line: str) -> tuple[int, int]:
    match = _HUNK.match(line)
    if match is None:
        return (1, 1)
    start, count = int(match.group(1)), int(match.group(2) if match.group(2) is not None else 1)
    if count == 0:  # lines deleted after `start`: the lines on either side
        return (max(start, 1), start + 1)
    return (start, start + count - 1)


def _path(text: str, prefix: str) -> str:
    text = text.rstrip("\t")
    if text.startswith('"') and text.endswith('"'):  # core.quotePath: C-style quoting
        text = text[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape").encode("latin-1") \
            .decode("utf-8", "replace")
    return text.removeprefix(prefix)
