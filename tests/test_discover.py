"""Discovery (stage 1): which files a repository walk yields, which it skips and why."""

from __future__ import annotations

import builtins
import hashlib
import importlib
import os
import subprocess
from pathlib import Path

import pytest

from indexer.errors import RepositoryError
from indexer.models import SkippedFile
from indexer.pipeline.discover import DEFAULT_EXCLUDED_DIRS, discover

# The module itself (a package __init__ re-exporting the function must not shadow it here).
discover_module = importlib.import_module("indexer.pipeline.discover")


def make(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


def paths(root: Path, **kwargs: object) -> list[str]:
    return [f.path for f in discover(root, **kwargs).files]  # type: ignore[arg-type]


def skipped(root: Path, **kwargs: object) -> dict[str, str]:
    return {s.path: s.reason for s in discover(root, **kwargs).skipped}  # type: ignore[arg-type]


# --- ignore rules -----------------------------------------------------------------------------------


def test_nested_gitignore_anchoring_and_negation(tmp_path: Path) -> None:
    make(
        tmp_path,
        {
            ".gitignore": "*_pb2.py\n/top_only.py\ngen/\n",
            "top_only.py": "",
            "keep.py": "",
            "api_pb2.py": "",
            "gen/out.py": "",
            "sub/.gitignore": "/local.py\n*.py\n!wanted.py\n!special_pb2.py\n",
            "sub/top_only.py": "",  # root's "/top_only.py" is anchored to the root: but sub's "*.py" applies
            "sub/local.py": "",
            "sub/wanted.py": "",
            "sub/special_pb2.py": "",  # deeper negation beats the root's *_pb2.py
            "sub/deeper/local.py": "",  # sub's "/local.py" is anchored to sub/, but "*.py" still matches
            "sub/deeper/wanted.py": "",
            "other/top_only.py": "",  # anchored root pattern does not reach here
            "other/local.py": "",  # sub/.gitignore does not apply outside sub/
            "other/x_pb2.py": "",
        },
    )
    assert paths(tmp_path) == [
        "keep.py",
        "other/local.py",
        "other/top_only.py",
        "sub/deeper/wanted.py",
        "sub/special_pb2.py",
        "sub/wanted.py",
    ]
    assert skipped(tmp_path) == {}  # ignored files are excluded, not reported


def test_anchored_pattern_in_nested_gitignore_is_relative_to_its_directory(tmp_path: Path) -> None:
    make(
        tmp_path,
        {
            "pkg/.gitignore": "/conf.py\nlib/x.py\n",
            "pkg/conf.py": "",
            "pkg/inner/conf.py": "",
            "pkg/lib/x.py": "",
            "pkg/inner/lib/x.py": "",  # a pattern with a slash is anchored to pkg/
            "conf.py": "",
        },
    )
    assert paths(tmp_path) == ["conf.py", "pkg/inner/conf.py", "pkg/inner/lib/x.py"]


def test_ignored_directory_is_pruned_and_cannot_be_reopened_by_a_file_negation(tmp_path: Path) -> None:
    make(tmp_path, {".gitignore": "vendor/\n!vendor/keep.py\n", "vendor/keep.py": "", "a.py": ""})
    seen: list[str] = []
    real_scandir = os.scandir

    def spying_scandir(path: str):  # type: ignore[no-untyped-def]
        seen.append(os.path.basename(path))
        return real_scandir(path)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(discover_module.os, "scandir", spying_scandir)
        assert paths(tmp_path) == ["a.py"]  # as git: a file can't be re-included inside an excluded dir
    assert "vendor" not in seen  # never descended into


def test_whitelist_idiom_reopens_directories(tmp_path: Path) -> None:
    # "ignore everything but directories and .py files": pathspec's check_file on "sub/" would say
    # excluded (its file-pattern "*" outranks the directory pattern "!*/"); git descends, and so must we.
    make(
        tmp_path,
        {".gitignore": "*\n!*/\n!*.py\n", "a.py": "", "a.txt": "", "sub/deep/b.py": "", "sub/c.md": ""},
    )
    assert paths(tmp_path) == ["a.py", "sub/deep/b.py"]


def test_pathspec_still_marks_directory_patterns_as_expected() -> None:
    # discover relies on GitIgnoreSpecPattern's regex naming the "/" that makes a match a directory match.
    import pathspec

    regex = pathspec.GitIgnoreSpec.from_lines(["build/"]).patterns[0].regex
    assert regex is not None
    found = regex.search("src/build/")
    assert found is not None and found.end(discover_module._DIR_MARK) == len("src/build/")


def test_git_info_exclude_is_honoured(tmp_path: Path) -> None:
    make(tmp_path, {".git/info/exclude": "scratch*.py\n", "scratch1.py": "", "main.py": ""})
    assert paths(tmp_path) == ["main.py"]


def test_git_file_pointing_at_a_gitdir_is_followed_for_info_exclude(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    make(tmp_path, {"gitdirs/wt/info/exclude": "mine.py\n", "repo/.git": "gitdir: ../gitdirs/wt\n"})
    make(repo, {"mine.py": "", "ours.py": ""})
    assert paths(repo) == ["ours.py"]


def test_gitignore_outranks_info_exclude(tmp_path: Path) -> None:
    make(tmp_path, {".git/info/exclude": "*.py\n", ".gitignore": "!main.py\n", "main.py": "", "x.py": ""})
    assert paths(tmp_path) == ["main.py"]


def test_agrees_with_git_on_a_mixed_tree(tmp_path: Path) -> None:
    make(
        tmp_path,
        {
            ".gitignore": "*.gen.py\n/scripts/\ndocs/**/conf.py\n!important.gen.py\nlogs\n",
            "a.py": "",
            "x.gen.py": "",
            "important.gen.py": "",
            "scripts/run.py": "",
            "src/scripts/run.py": "",
            "docs/en/conf.py": "",
            "docs/en/other.py": "",
            "src/logs/l.py": "",
            "src/pkg/.gitignore": "*\n!*.py\n!*/\nsecret*\n",
            "src/pkg/m.py": "",
            "src/pkg/secret_m.py": "",
            "src/pkg/deep/n.py": "",
            "src/pkg/deep/.gitignore": "!secret_ok.py\n",
            "src/pkg/deep/secret_ok.py": "",
        },
    )
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    listed = subprocess.run(
        ["git", "-C", str(tmp_path), "ls-files", "--others", "--exclude-standard"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert paths(tmp_path) == sorted(p for p in listed if p.endswith(".py"))


# --- default excludes -------------------------------------------------------------------------------


def test_default_excluded_directories_are_not_walked(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {f"{name}/mod.py": "" for name in DEFAULT_EXCLUDED_DIRS}
    files |= {f"nested/{name}/mod.py": "" for name in DEFAULT_EXCLUDED_DIRS}
    files |= {"foo.egg-info/x.py": "", "src/app.py": "", "nested/ok.py": ""}
    make(tmp_path, files)
    assert paths(tmp_path) == ["nested/ok.py", "src/app.py"]
    assert skipped(tmp_path) == {}


def test_virtualenv_detected_by_pyvenv_cfg_whatever_its_name(tmp_path: Path) -> None:
    make(
        tmp_path,
        {
            "env/pyvenv.cfg": "home = /usr/bin\n",
            "env/lib/python3.11/x.py": "",
            "tools/py311/pyvenv.cfg": "",
            "tools/py311/bin/activate_this.py": "",
            "venv/__init__.py": "",  # a package named venv (the stdlib has one) is still source
            "app.py": "",
        },
    )
    assert paths(tmp_path) == ["app.py", "venv/__init__.py"]


def test_root_containing_pyvenv_cfg_is_still_walked(tmp_path: Path) -> None:
    make(tmp_path, {"pyvenv.cfg": "", "a.py": ""})
    assert paths(tmp_path) == ["a.py"]


def test_other_extensions_are_not_candidates_and_not_reported(tmp_path: Path) -> None:
    make(tmp_path, {"a.py": "", "c.txt": b"\0\0", "d.pyc": b"\0"})
    assert paths(tmp_path) == ["a.py"]


def test_stubs_are_indexed_alone_and_skipped_beside_their_source(tmp_path: Path) -> None:
    """A .pyi stub is Python: indexed when it is the module's only file, listed as skipped (with the reason)
    when the .py it describes is there."""
    make(tmp_path, {"a.py": "", "a.pyi": "", "b.pyi": ""})
    found = discover(tmp_path)
    assert [f.path for f in found.files] == ["a.py", "b.pyi"]
    assert [(s.path, s.reason) for s in found.skipped] == [
        ("a.pyi", "type stub of a.py (the module is indexed from its source)")]
    assert paths(tmp_path, extensions=frozenset({".py"})) == ["a.py"]


def test_extensions_must_have_a_dot(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="must start with"):
        discover(tmp_path, extensions=frozenset({"py"}))


# --- skipped candidates -----------------------------------------------------------------------------


def test_binary_file_is_skipped(tmp_path: Path) -> None:
    make(tmp_path, {"blob.py": b"x = 1\n\0\x01\x02", "late_nul.py": b"#" * 9000 + b"\0", "ok.py": "x = 1\n"})
    result = discover(tmp_path)
    assert [f.path for f in result.files] == ["late_nul.py", "ok.py"]  # only the first 8 KiB is sniffed
    assert result.skipped == [SkippedFile("blob.py", "binary")]


def test_too_large_file_is_skipped_with_the_limit_in_the_reason(tmp_path: Path) -> None:
    make(tmp_path, {"big.py": "x" * 2049, "edge.py": "y" * 2048, "small.py": "z"})
    result = discover(tmp_path, max_file_size=2048)
    assert [f.path for f in result.files] == ["edge.py", "small.py"]  # the limit itself is allowed
    assert result.skipped == [SkippedFile("big.py", "too large (2.0 KiB > 2.0 KiB)")]


def test_too_large_reason_in_mib(tmp_path: Path) -> None:
    make(tmp_path, {"huge.py": b"#" * int(2.3 * 1024 * 1024)})
    assert skipped(tmp_path) == {"huge.py": "too large (2.3 MiB > 1.0 MiB)"}


def test_too_large_file_is_never_opened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make(tmp_path, {"big.py": "x" * 100})
    opened: list[str] = []
    real_open = builtins.open

    def spying_open(file, *args, **kwargs):  # type: ignore[no-untyped-def]
        opened.append(os.fspath(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", spying_open)
    assert skipped(tmp_path, max_file_size=10) == {"big.py": "too large (100 B > 10 B)"}
    assert not any(p.endswith("big.py") for p in opened)


def test_unreadable_file_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make(tmp_path, {"locked.py": "x = 1\n", "ok.py": ""})
    locked = tmp_path / "locked.py"
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):  # root ignores permission bits: simulate the denial for that one path
            real_open = builtins.open

            def denying_open(file, *args, **kwargs):  # type: ignore[no-untyped-def]
                if os.fspath(file).endswith("locked.py"):
                    raise PermissionError(13, "Permission denied", os.fspath(file))
                return real_open(file, *args, **kwargs)

            monkeypatch.setattr(builtins, "open", denying_open)
        result = discover(tmp_path)
    finally:
        locked.chmod(0o644)
    assert [f.path for f in result.files] == ["ok.py"]
    assert result.skipped == [SkippedFile("locked.py", "unreadable: Permission denied")]


def test_unreadable_dir_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make(tmp_path, {"locked/a.py": "", "ok/b.py": ""})
    real_scandir = os.scandir

    def denying_scandir(path: str):  # type: ignore[no-untyped-def]
        if os.path.basename(path) == "locked":  # simulated: chmod does not stop root
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(discover_module.os, "scandir", denying_scandir)
    result = discover(tmp_path)
    assert [f.path for f in result.files] == ["ok/b.py"]
    assert result.skipped == [SkippedFile("locked", "unreadable: Permission denied")]


def test_unreadable_root_raises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def denying_scandir(path: str):  # type: ignore[no-untyped-def]
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(discover_module.os, "scandir", denying_scandir)
    with pytest.raises(RepositoryError, match="cannot read the repository directory"):
        discover(tmp_path)


def test_directory_named_like_a_source_file_is_walked_not_read(tmp_path: Path) -> None:
    make(tmp_path, {"weird.py/inner.py": ""})
    assert paths(tmp_path) == ["weird.py/inner.py"]
    assert skipped(tmp_path) == {}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_is_skipped_without_being_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.py")  # opening it would block forever
    assert skipped(tmp_path) == {"pipe.py": "not a regular file"}


def test_ignored_candidates_are_not_reported_even_if_they_would_be_skipped(tmp_path: Path) -> None:
    make(tmp_path, {".gitignore": "*.bin.py\n", "data.bin.py": b"\0", "a.py": ""})
    (tmp_path / "dangling.bin.py").symlink_to(tmp_path / "nowhere")
    assert skipped(tmp_path) == {}


# --- symlinks ---------------------------------------------------------------------------------------


def test_broken_symlink_is_skipped(tmp_path: Path) -> None:
    make(tmp_path, {"a.py": ""})
    (tmp_path / "gone.py").symlink_to(tmp_path / "missing.py")
    (tmp_path / "gone_dir").symlink_to(tmp_path / "missing")  # not a candidate by name: not reported
    result = discover(tmp_path)
    assert [f.path for f in result.files] == ["a.py"]
    assert result.skipped == [SkippedFile("gone.py", "broken symlink")]


def test_self_referencing_symlink_is_a_cycle(tmp_path: Path) -> None:
    (tmp_path / "loop.py").symlink_to("loop.py")
    assert skipped(tmp_path) == {"loop.py": "symlink cycle"}


def test_symlink_cycle_ends_and_is_reported_once(tmp_path: Path) -> None:
    make(tmp_path, {"pkg/mod.py": "", "pkg/sub/leaf.py": ""})
    (tmp_path / "pkg" / "sub" / "up").symlink_to(tmp_path / "pkg")  # pkg/sub/up -> pkg: a loop
    (tmp_path / "pkg" / "self").symlink_to(".")
    result = discover(tmp_path)
    assert [f.path for f in result.files] == ["pkg/mod.py", "pkg/sub/leaf.py"]
    assert result.skipped == [
        SkippedFile("pkg/self", "symlink cycle"),
        SkippedFile("pkg/sub/up", "symlink cycle"),
    ]


def test_symlinked_directory_inside_the_root_is_followed(tmp_path: Path) -> None:
    make(tmp_path, {".gitignore": "/outside_tree/\n", "outside_tree/lib.py": "", "a.py": ""})
    (tmp_path / "linked").symlink_to(tmp_path / "outside_tree")  # target ignored, link is not
    result = discover(tmp_path)
    assert [f.path for f in result.files] == ["a.py", "linked/lib.py"]
    assert result.files[1].abspath == str(tmp_path.resolve() / "linked" / "lib.py")


def test_file_reachable_twice_is_indexed_once_under_its_real_path(tmp_path: Path) -> None:
    make(tmp_path, {"pkg/mod.py": "x = 1\n", "zz.py": ""})
    (tmp_path / "alias").symlink_to(tmp_path / "pkg")  # sorts before pkg/, still not preferred
    (tmp_path / "a_link.py").symlink_to(tmp_path / "zz.py")
    result = discover(tmp_path)
    assert [f.path for f in result.files] == ["pkg/mod.py", "zz.py"]
    assert result.skipped == []


def test_file_reachable_only_through_symlinks_is_indexed_under_the_first_path(tmp_path: Path) -> None:
    make(tmp_path, {".gitignore": "/real/\n", "real/m.py": ""})
    (tmp_path / "b_link").symlink_to(tmp_path / "real")
    (tmp_path / "a_link").symlink_to(tmp_path / "real")
    assert paths(tmp_path) == ["a_link/m.py"]


def test_symlink_outside_the_root_is_not_followed(tmp_path: Path) -> None:
    repo = make(tmp_path / "repo", {"a.py": ""})
    outside = make(tmp_path / "elsewhere", {"secret.py": "", "lib/x.py": ""})
    (repo / "ext").symlink_to(outside / "lib")
    (repo / "ext.py").symlink_to(outside / "secret.py")
    (repo / "notes.txt").symlink_to(outside / "secret.py")  # not a candidate: not reported
    result = discover(repo)
    assert [f.path for f in result.files] == ["a.py"]
    assert result.skipped == [
        SkippedFile("ext", "symlink outside the repository"),
        SkippedFile("ext.py", "symlink outside the repository"),
    ]


def test_root_given_through_a_symlink_is_resolved(tmp_path: Path) -> None:
    make(tmp_path / "real", {"a.py": ""})
    (tmp_path / "link").symlink_to(tmp_path / "real")
    result = discover(tmp_path / "link")
    assert result.root == str((tmp_path / "real").resolve())
    assert [f.path for f in result.files] == ["a.py"]  # not mistaken for a symlink outside the root


# --- root, output -----------------------------------------------------------------------------------


def test_missing_root_raises(tmp_path: Path) -> None:
    with pytest.raises(RepositoryError, match="does not exist"):
        discover(tmp_path / "nope")


def test_file_as_root_raises(tmp_path: Path) -> None:
    make(tmp_path, {"a.py": ""})
    with pytest.raises(RepositoryError, match="not a directory"):
        discover(tmp_path / "a.py")


def test_relative_root_becomes_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make(tmp_path, {"pkg/a.py": ""})
    monkeypatch.chdir(tmp_path)
    result = discover("pkg")
    assert result.root == str((tmp_path / "pkg").resolve())
    assert result.files[0].abspath == str((tmp_path / "pkg" / "a.py").resolve())


def test_output_is_sorted_posix_and_deterministic(tmp_path: Path) -> None:
    names = ["b/z.py", "a.py", "a/b.py", "B.py", "b/a/c.py", "a_b.py", "c.py"]
    make(tmp_path, {n: "" for n in names} | {f"bad{i}.py": b"\0" for i in (3, 1, 2)})
    first = discover(tmp_path)
    assert [f.path for f in first.files] == sorted(names)  # plain string order of the POSIX paths
    assert [s.path for s in first.skipped] == ["bad1.py", "bad2.py", "bad3.py"]
    assert discover(tmp_path) == first


def test_size_and_sha_describe_the_content(tmp_path: Path) -> None:
    content = "def f():\n    return 'é'\n".encode()
    make(tmp_path, {"m.py": content, "same.py": content, "other.py": b"x = 2\n"})
    files = {f.path: f for f in discover(tmp_path).files}
    assert files["m.py"].size == len(content)
    assert files["m.py"].sha == hashlib.blake2b(content, digest_size=16).hexdigest()
    assert files["m.py"].sha == files["same.py"].sha != files["other.py"].sha
    assert files["m.py"].abspath == str(tmp_path.resolve() / "m.py")
    (tmp_path / "other.py").write_bytes(b"x = 3\n")
    again = {f.path: f for f in discover(tmp_path).files}
    assert again["m.py"].sha == files["m.py"].sha  # stable across runs
    assert again["other.py"].sha != files["other.py"].sha  # follows edits
