"""What graphdex knows of a running managed server: ServerInfo, and how it is read back from the state file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .home import READER, USERNAME, Paths

DATABASE = "neo4j"
HOST = "127.0.0.1"


@dataclass(frozen=True)
class ServerInfo:
    pid: int
    bolt_port: int
    http_port: int
    bolt_uri: str
    http_url: str
    username: str
    password: str = field(repr=False)
    database: str
    data_dir: Path
    log_path: Path
    started_at: float  # seconds since the epoch
    reader: str = READER  # a user that may only read records (cypher_query runs as it)
    reader_password: str | None = field(default=None, repr=False)


def info_from_state(paths: Paths, state: dict, password: str, reader_password: str | None = None) -> ServerInfo:
    """ServerInfo from a state dict (server.json, or one rebuilt from the process); ValueError if incomplete."""
    try:
        bolt, http = int(state["bolt_port"]), int(state["http_port"])
        return ServerInfo(
            pid=int(state["pid"]),
            bolt_port=bolt,
            http_port=http,
            bolt_uri=f"bolt://{HOST}:{bolt}",
            http_url=f"http://{HOST}:{http}",
            username=USERNAME,
            password=password,
            database=DATABASE,
            data_dir=paths.data,
            log_path=paths.log,
            started_at=float(state.get("started_at") or 0.0),
            reader_password=reader_password,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{paths.state} is incomplete: {exc}") from None
