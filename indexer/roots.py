"""Which folders a face may index: a path checked against the allowed roots (the MCP client's roots, else
GRAPHDEX_ALLOWED_ROOTS, else the working directory), with a one-sentence reason for every refusal."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from .errors import RepositoryError
from .pipeline.run import check_root, unusable_path


def allowed_path(path: str, roots: Sequence[Path], source: str) -> Path:
    """`path` resolved, if it is an absolute path to a folder inside one of `roots`."""
    shown = path if len(path) <= 200 else path[:200] + "…"
    try:
        given = Path(path).expanduser()
        if not given.is_absolute():
            raise RepositoryError(f"path must be absolute, not {shown!r}")
        resolved = given.resolve()
        inside = any(resolved.is_relative_to(r.resolve()) for r in roots)
    except (OSError, ValueError) as exc:  # ENAMETOOLONG, a NUL byte, a symlink loop
        raise unusable_path(f"{shown!r} is", exc) from None
    if not inside:
        allowed = ", ".join(str(r) for r in roots)
        raise RepositoryError(f"{shown} is outside the allowed roots ({source}: {allowed})")
    return check_root(resolved)


def uri_path(uri: str) -> Path:
    """A file:// URI (as MCP roots are given) as a local path."""
    return Path(url2pathname(unquote(urlsplit(uri).path)))
