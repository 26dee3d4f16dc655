"""Reading an indexed checkout's source, numbered the way the parser numbered it."""

from __future__ import annotations

from pathlib import Path


def source_lines(root: str | Path, rel: str) -> list[str]:
    """The lines of `root/rel`, split on "\\n" only as `ast` counts them (str.splitlines would also split on
    form feeds and other separators, shifting every line after one), utf-8 with replacement, without "\\r".

    Raises OSError when the file can't be read, ValueError when `rel` leads outside `root`."""
    base = Path(root).resolve()
    path = (base / rel).resolve()
    if not path.is_relative_to(base):
        raise ValueError(f"{rel}: outside the repository root")
    text = path.read_bytes().decode("utf-8", "replace")
    return [line.removesuffix("\r") for line in text.split("\n")]
