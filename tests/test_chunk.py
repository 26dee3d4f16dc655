"""Chunking of symbols and module code, and offline tiktoken."""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from indexer.embeddings.chunk import (
    chunks_for_module,
    chunks_for_symbol,
    symbol_header,
    text_hash,
    truncate_to_tokens,
)
from indexer.embeddings.tokens import encoding_for
from indexer.models import FUNCTION, FileFacts, Symbol

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def enc():
    return encoding_for("text-embedding-3-small")


def count(enc, text: str) -> int:
    return len(enc.encode_ordinary(text))


def make_symbol(lines: list[str], start: int = 1, end: int | None = None, **kw) -> Symbol:
    defaults = {
        "id": "repo:pkg.mod.big",
        "kind": FUNCTION,
        "qualified_name": "pkg.mod.big",
        "name": "big",
        "path": "pkg/mod.py",
        "start_line": start,
        "end_line": end or len(lines),
        "signature": "def big(x: int) -> int",
        "docstring": "Do a big thing.",
        "parent_id": "repo:module:pkg.mod",
    }
    return Symbol(**{**defaults, **kw})


def huge_function(n_lines: int) -> list[str]:
    body = [f"    total += compute_value_{i}(alpha, beta, gamma)  # step {i}" for i in range(n_lines)]
    head = ["def big(x: int) -> int:", '    """Do a big thing."""', "    total = 0"]
    return [*head, *body, "    return total"]


def test_small_symbol_is_one_chunk_with_header_and_dedented_source(enc):
    source = ["class A:", "    def m(self):", '        """Say hi."""', "        return 'hi'", ""]
    sym = make_symbol(
        source,
        2,
        4,
        id="repo:mod.A.m",
        kind="Method",
        qualified_name="mod.A.m",
        signature="def m(self)",
        docstring="Say hi.",
    )
    [chunk] = chunks_for_symbol(sym, source, enc)
    assert chunk.id == chunk.owner_id == "repo:mod.A.m" and chunk.index == 0
    assert chunk.text.split("\n") == [
        "Method mod.A.m | def m(self) | Say hi.",
        "def m(self):",
        '    """Say hi."""',
        "    return 'hi'",
    ]
    assert chunk.tokens == count(enc, chunk.text)
    assert chunk.text_hash == hashlib.sha256(chunk.text.encode()).hexdigest() == text_hash(chunk.text)


def test_source_lines_with_newlines_are_accepted(enc):
    source = ["def f():\n", "    return 1\n"]
    [chunk] = chunks_for_symbol(make_symbol(source), source, enc)
    assert chunk.text.endswith("def f():\n    return 1")


def test_huge_function_splits_on_line_boundaries_within_the_limit(enc):
    source = huge_function(3000)
    sym = make_symbol(source)
    chunks = chunks_for_symbol(sym, source, enc, max_tokens=1000)
    header = symbol_header(sym)
    assert len(chunks) > 10
    assert [c.id for c in chunks] == [f"{sym.id}#chunk{i}" for i in range(len(chunks))]
    assert [c.index for c in chunks] == list(range(len(chunks)))
    body: list[str] = []
    for c in chunks:
        assert c.owner_id == sym.id
        assert c.tokens == count(enc, c.text) <= 1000
        first, *lines = c.text.split("\n")
        assert first == header  # each chunk stands alone
        body += lines
    assert body == textwrap.dedent("\n".join(source)).split("\n")  # every line, whole, once, in order
    # Greedy packing: chunks are reasonably full, not halves of halves.
    assert sum(c.tokens for c in chunks) / len(chunks) > 800


def test_default_limit_keeps_a_normal_big_function_whole(enc):
    source = huge_function(300)
    [chunk] = chunks_for_symbol(make_symbol(source), source, enc)
    assert 3000 < chunk.tokens <= 8191


def test_monstrous_single_line_is_truncated_to_fit(enc):
    data_line = "    DATA = [" + ", ".join(str(i * 7919 % 100003) for i in range(40000)) + "]"
    source = ["def big(x: int) -> int:", data_line, "    return len(DATA)"]
    chunks = chunks_for_symbol(make_symbol(source), source, enc, max_tokens=8191)
    assert count(enc, data_line) > 8191 * 5
    assert all(c.tokens == count(enc, c.text) <= 8191 for c in chunks)
    texts = [c.text.split("\n")[1:] for c in chunks]
    lines = [line for t in texts for line in t]
    kept = next(line for line in lines if line.startswith("    DATA = ["))
    assert data_line.startswith(kept)  # a prefix of the line, the rest dropped
    assert len(kept) < len(data_line)
    assert lines[0] == "def big(x: int) -> int:" and lines[-1] == "    return len(DATA)"


def test_truncation_never_leaves_a_partial_character(enc):
    text = "数据🙂" * 2000 + "tail"
    for limit in (1, 2, 3, 7, 100, 999):
        cut = truncate_to_tokens(text, enc, limit)
        assert text.startswith(cut)
        assert "\ufffd" not in cut
        assert count(enc, cut) <= limit


def test_header_is_capped_to_a_quarter_of_the_limit(enc):
    source = ["def f():", "    pass"]
    sym = make_symbol(source, docstring="word " * 5000, signature="def f(" + "a, " * 3000 + ")")
    [chunk] = chunks_for_symbol(sym, source, enc, max_tokens=400)
    header = chunk.text.split("\n")[0]
    assert count(enc, header) <= 100
    assert chunk.text.endswith("def f():\n    pass")


def test_random_code_always_fits(enc):
    rng = random.Random(7)
    vocab = ["x", "self.value", "(", ")", "return", "'str'", "数据", "🙂", "    ", "\t", "0x1F", "=="]
    for _ in range(25):
        source = ["def f():"] + [
            " " * rng.choice((4, 8)) + " ".join(rng.choice(vocab) for _ in range(rng.randint(0, 60)))
            for _ in range(rng.randint(1, 400))
        ]
        limit = rng.choice((32, 64, 200, 1000))
        for c in chunks_for_symbol(make_symbol(source), source, enc, max_tokens=limit):
            assert c.tokens == count(enc, c.text) <= limit


def test_limit_too_small_is_rejected(enc):
    with pytest.raises(ValueError):
        chunks_for_symbol(make_symbol(["def f(): pass"]), ["def f(): pass"], enc, max_tokens=8)


MODULE = '''\
"""Module docstring: configuration helpers."""

import os

DEFAULT = 3


def parse_config(path):
    return open(path).read()



class Loader:
    def load(self):
        return 1


if __name__ == "__main__":
    print(parse_config(os.sys.argv[1]))
'''


def module_facts(source: str) -> FileFacts:
    lines = source.splitlines()
    facts = FileFacts(
        path="pkg/conf.py",
        sha="0",
        module="pkg.conf",
        module_id="r:module:pkg.conf",
        file_id="r:file:pkg/conf.py",
    )

    def span(first: str, last: str) -> tuple[int, int]:
        return lines.index(first) + 1, lines.index(last) + 1

    for qname, (start, end) in {
        "pkg.conf.parse_config": span("def parse_config(path):", "    return open(path).read()"),
        "pkg.conf.Loader": span("class Loader:", "        return 1"),
        "pkg.conf.Loader.load": span("    def load(self):", "        return 1"),
    }.items():
        facts.symbols.append(make_symbol(lines, start, end, id=f"r:{qname}", qualified_name=qname))
    return facts


def test_module_chunk_holds_only_module_level_code(enc):
    [chunk] = chunks_for_module(module_facts(MODULE), MODULE.splitlines(keepends=True), enc)
    assert chunk.id == chunk.owner_id == "r:module:pkg.conf"
    assert chunk.text == (
        "Module pkg.conf | pkg/conf.py\n"
        '"""Module docstring: configuration helpers."""\n\nimport os\n\nDEFAULT = 3\n\n'
        'if __name__ == "__main__":\n    print(parse_config(os.sys.argv[1]))'
    )
    assert chunk.tokens == count(enc, chunk.text)


def test_module_without_own_code_has_no_chunk(enc):
    source = "\n\ndef f():\n    return 1\n\n\n"
    facts = FileFacts(path="a.py", sha="0", module="a", module_id="r:module:a", file_id="r:file:a.py")
    facts.symbols.append(make_symbol(source.splitlines(), 3, 4, id="r:a.f", qualified_name="a.f"))
    assert chunks_for_module(facts, source.splitlines(), enc) == []


# ------------------------------------------------------------------------------------ offline tiktoken

_CHILD = r"""
import json, os, socket, sys

def refuse(*args, **kwargs):
    raise AssertionError("network attempted")

socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
import tiktoken.load
_read = tiktoken.load.read_file
def guarded(path):
    if "://" in path:
        raise AssertionError(f"download attempted: {path}")
    return _read(path)
tiktoken.load.read_file = guarded

if sys.argv[1] == "control":  # prove the guard catches a download: plain tiktoken, empty cache
    try:
        tiktoken.get_encoding("cl100k_base")
    except AssertionError as exc:
        print(json.dumps({"blocked": str(exc)}))
    sys.exit(0)

from indexer.embeddings.tokens import encoding_for, ensure_offline_cache
small = encoding_for("text-embedding-3-small")
print(json.dumps({
    "small": small.name,
    "hello": small.encode_ordinary("hello world"),
    "gpt4o": encoding_for("gpt-4o").name,
    "unknown": encoding_for("nomic-embed-text").name,
    "dir": ensure_offline_cache() and os.environ["TIKTOKEN_CACHE_DIR"],
}))
"""

CL100K_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"


def run_child(mode: str, env_extra: dict[str, str], tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR")}
    env.update(PYTHONPATH=str(REPO_ROOT), GRAPHDEX_HOME=str(tmp_path / "home"), TMPDIR=str(tmp_path))
    env.update(env_extra)
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, mode],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_guard_catches_a_download_attempt(tmp_path):
    result = run_child("control", {"TIKTOKEN_CACHE_DIR": str(tmp_path / "empty")}, tmp_path)
    assert "download attempted" in result["blocked"] or "network attempted" in result["blocked"]


@pytest.mark.parametrize("where", ["graphdex-home", "given-dir", "empty-var", "corrupt-file"])
def test_tiktoken_works_offline_from_an_empty_cache(tmp_path, where):
    given = tmp_path / "given"
    env = {
        "graphdex-home": {},
        "given-dir": {"TIKTOKEN_CACHE_DIR": str(given)},
        "empty-var": {"TIKTOKEN_CACHE_DIR": ""},
        "corrupt-file": {"TIKTOKEN_CACHE_DIR": str(given)},
    }[where]
    if where == "corrupt-file":  # a truncated earlier download: tiktoken would delete it and re-fetch
        given.mkdir()
        (given / hashlib.sha1(CL100K_URL.encode()).hexdigest()).write_bytes(b"garbage")
    result = run_child("seed", env, tmp_path)
    expected_dir = given if where in ("given-dir", "corrupt-file") else tmp_path / "home" / "tiktoken"
    assert result == {
        "small": "cl100k_base",
        "hello": [15339, 1917],
        "gpt4o": "o200k_base",
        "unknown": "cl100k_base",
        "dir": str(expected_dir),
    }
    seeded = expected_dir / hashlib.sha1(CL100K_URL.encode()).hexdigest()
    assert hashlib.sha256(seeded.read_bytes()).hexdigest() == (
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
    )
