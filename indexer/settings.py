"""One typed Settings object: defaults < environment < explicit arguments (CLI options, tool arguments).

Validated once, here; the rest of graphdex trusts it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError

EXECUTORS = ("auto", "thread", "process", "serial")
MAX_WORKERS = 256


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def default_home() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "graphdex"


@dataclass(frozen=True)
class Settings:
    # Graph server: None means the managed local ArcadeDB server.
    neo4j_uri: str | None = None
    neo4j_username: str = "neo4j"
    neo4j_password: str | None = None
    neo4j_database: str | None = None
    # Parallelism.
    executor: str = "auto"
    workers: int = default_workers()
    pool_size: int | None = None  # connection pool size; None -> workers + 2
    serial_threshold: int = 50  # fewer changed files than this run serially ("auto" only)
    # Discovery and writing.
    max_file_size: int = 1024 * 1024
    batch_size: int = 1000
    home: Path = default_home()

    @property
    def connection_pool_size(self) -> int:
        return self.pool_size if self.pool_size is not None else self.workers + 2

    def public_dict(self) -> dict[str, Any]:
        """The settings as JSON-ready values, without secrets."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if "password" not in f.name}
        out["home"] = str(self.home)
        out["connection_pool_size"] = self.connection_pool_size
        return out

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with the given non-None values applied and validated."""
        given = {k: v for k, v in overrides.items() if v is not None}
        unknown = set(given) - {f.name for f in fields(self)}
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        return _validated(replace(self, **given))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for name, (var, parse) in _ENV.items():
            raw = env.get(var, "").strip()
            if raw:
                values[name] = parse(raw, var)
        base = cls(**values) if values else cls()
        return base.with_overrides(**overrides)


def parse_int(raw: str, source: str) -> int:
    try:
        return int(raw.replace("_", ""))
    except ValueError:
        raise ConfigError(f"{source} must be a whole number, not {raw!r}") from None


def parse_size(raw: str, source: str) -> int:
    """Bytes, with an optional K/M/G suffix (binary units): 1048576, 512K, 1M."""
    units = {"k": 1024, "m": 1024**2, "g": 1024**3}
    text = raw.strip().lower().removesuffix("b").removesuffix("i")
    factor = units.get(text[-1:], 1)
    number = text[:-1] if factor != 1 else text
    try:
        return int(float(number) * factor)
    except ValueError:
        raise ConfigError(f"{source} must be a size such as 1048576, 512K or 1M, not {raw!r}") from None


def parse_text(raw: str, source: str) -> str:
    return raw


def _path(raw: str, source: str) -> Path:
    return Path(raw).expanduser()


_ENV = {
    "neo4j_uri": ("NEO4J_URI", parse_text),
    "neo4j_username": ("NEO4J_USERNAME", parse_text),
    "neo4j_password": ("NEO4J_PASSWORD", parse_text),
    "neo4j_database": ("NEO4J_DATABASE", parse_text),
    "executor": ("GRAPHDEX_EXECUTOR", parse_text),
    "workers": ("GRAPHDEX_WORKERS", parse_int),
    "pool_size": ("NEO4J_MAX_CONNECTION_POOL_SIZE", parse_int),
    "serial_threshold": ("GRAPHDEX_SERIAL_THRESHOLD", parse_int),
    "max_file_size": ("GRAPHDEX_MAX_FILE_SIZE", parse_size),
    "batch_size": ("GRAPHDEX_BATCH_SIZE", parse_int),
    "home": ("GRAPHDEX_HOME", _path),
}

# The name a user knows each setting by, for error messages.
SOURCE_NAMES = {name: f"{var} / --{name.replace('_', '-')}" for name, (var, _) in _ENV.items()}


def _validated(s: Settings) -> Settings:
    def bad(name: str, why: str) -> ConfigError:
        return ConfigError(f"{SOURCE_NAMES.get(name, name)}: {why}")

    if s.executor not in EXECUTORS:
        raise bad("executor", f"must be one of {', '.join(EXECUTORS)}, not {s.executor!r}")
    if not isinstance(s.workers, int) or not 1 <= s.workers <= MAX_WORKERS:
        raise bad("workers", f"must be a whole number from 1 to {MAX_WORKERS}, not {s.workers!r}")
    if s.pool_size is not None and (not isinstance(s.pool_size, int) or s.pool_size < s.workers):
        raise bad("pool_size", f"must be at least the number of workers ({s.workers}), not {s.pool_size!r}")
    if not isinstance(s.batch_size, int) or not 1 <= s.batch_size <= 100_000:
        raise bad("batch_size", f"must be from 1 to 100000, not {s.batch_size!r}")
    if not isinstance(s.max_file_size, int) or s.max_file_size < 1:
        raise bad("max_file_size", f"must be a positive size, not {s.max_file_size!r}")
    if not isinstance(s.serial_threshold, int) or s.serial_threshold < 0:
        raise bad("serial_threshold", f"must be 0 or more, not {s.serial_threshold!r}")
    if s.neo4j_uri and s.neo4j_uri.split("://", 1)[0] not in _URI_SCHEMES:
        raise bad("neo4j_uri", f"must start with one of {', '.join(s + '://' for s in _URI_SCHEMES)}")
    return s


_URI_SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")
