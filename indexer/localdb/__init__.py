"""The managed local graph server: ArcadeDB with its Bolt plugin, run as a shared background daemon.

graphdex's zero-config default when no NEO4J_URI is set. One server per GRAPHDEX_HOME, shared by the CLI and the
MCP server through a state file, started under a file lock so concurrent callers get one instance. A server is
recognised by its process (its command line names this home's data folder), so a missing or damaged state file
is repaired from the process rather than taken for "not running", and graphdex never ends a server it has not
proved to be its own and unresponsive.

    install.py  the Java runtime and jars     home.py    files under GRAPHDEX_HOME, the lock
    process.py  which process is the server   launch.py  starting it and waiting until it answers
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from dataclasses import dataclass, replace

from neo4j.exceptions import AuthError, DriverError, Neo4jError

from ..errors import LocalServerError
from ..settings import Settings
from . import launch, process
from .home import (
    Damaged,
    Paths,
    locked,
    paths_for,
    prepare,
    read_json,
    read_password,
    read_reader_password,
    write_private,
)
from .info import ServerInfo, info_from_state
from .install import ARCADEDB_VERSION, find_runtime, install_runtime

__all__ = ["ARCADEDB_VERSION", "ServerInfo", "ServerStatus", "ensure_running", "find_runtime", "install_runtime",
           "start", "status", "stop"]

log = logging.getLogger(__name__)

READY_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
REUSE_PATIENCE = 20.0  # how long a live but silent server gets before it is taken for hung and replaced


@dataclass(frozen=True)
class ServerStatus:
    """What `graphdex db status` reports. `info` is set when graphdex can log in to the running server."""

    running: bool
    info: ServerInfo | None = None
    pid: int | None = None
    problem: str | None = None  # damaged files, a rejected password, a server that does not answer

    @property
    def summary(self) -> str:
        if not self.running:
            return "not running" + (f" ({self.problem})" if self.problem else "")
        where = f"pid {self.pid}" + (f", {self.info.bolt_uri}" if self.info else "")
        return f"running ({where})" + (f", but {self.problem}" if self.problem else "")


@dataclass
class _Survey:
    """This home's server as found: its process, and what the state and credentials files say."""

    paths: Paths
    server: process.ServerProcess | None
    state: dict | None
    state_problem: str | None
    password: str | None
    password_problem: str | None

    @property
    def info(self) -> ServerInfo | None:
        if self.server is None or self.password is None:
            return None
        return info_from_state(self.paths, self.state or _state_of(self.paths, self.server), self.password,
                               read_reader_password(self.paths))


def status(settings: Settings) -> ServerStatus:
    """The server's status, read from its process and files; changes nothing, starts nothing."""
    survey = _survey(paths_for(settings.home))
    if survey.server is None:
        problem = survey.state_problem
        if survey.state is not None and problem is None:
            problem = f"{survey.paths.state} names a process that is gone"
        return ServerStatus(False, problem=problem)
    pid = survey.server.pid
    if survey.password is None:
        return ServerStatus(True, pid=pid, problem=_no_login(survey))
    info = survey.info
    assert info is not None
    problem = survey.state_problem
    try:
        launch.ping(info, timeout=5.0)
    except AuthError:
        problem = "it rejects the stored password"
    except (Neo4jError, DriverError, OSError):
        problem = "it does not answer over Bolt"
    return ServerStatus(True, info=info, pid=pid, problem=problem)


def ensure_running(settings: Settings, timeout: float = READY_TIMEOUT) -> ServerInfo:
    """The running server for settings.home, started if none runs."""
    paths = prepare(settings.home)
    with locked(paths, timeout):
        info = _reuse(_survey(paths))
        return info if info is not None else _start(settings, paths, timeout)


def start(settings: Settings, timeout: float = READY_TIMEOUT) -> ServerInfo:
    """Start the server; LocalServerError if one is already running for this home."""
    paths = prepare(settings.home)
    with locked(paths, timeout):
        survey = _survey(paths)
        if survey.server is not None:
            where = f", {survey.info.bolt_uri}" if survey.info else ""
            raise LocalServerError(f"the local graph server is already running (pid {survey.server.pid}{where})")
        return _start(settings, paths, timeout)


def stop(settings: Settings, timeout: float = STOP_TIMEOUT) -> bool:
    """Stop every server on this home's data folder (SIGTERM, then SIGKILL after timeout); True if one ran."""
    paths = paths_for(settings.home)
    if not paths.home.is_dir():
        return False
    with locked(paths, READY_TIMEOUT):
        servers = process.servers_of(paths.data)
        for server in servers:
            process.terminate(server.pid, paths.data, timeout)
        with contextlib.suppress(FileNotFoundError):
            paths.state.unlink()
        return bool(servers)


# ---------------------------------------------------------------------------------------------- internals


def _survey(paths: Paths) -> _Survey:
    try:
        state, state_problem = read_json(paths.state), None
    except Damaged as exc:
        state, state_problem = None, str(exc)
    try:
        password, password_problem = read_password(paths), None
    except Damaged as exc:
        password, password_problem = None, str(exc)
    servers = process.servers_of(paths.data)
    named = state.get("pid") if state else None
    server = next((s for s in servers if s.pid == named), servers[0] if servers else None)
    if server is not None and state is not None and state.get("pid") != server.pid:
        state, state_problem = None, f"{paths.state} names pid {named}, but pid {server.pid} is the server"
    if server is not None and state is None and state_problem is None:
        state_problem = f"{paths.state} is missing"
    return _Survey(paths, server, state, state_problem, password, password_problem)


def _reuse(survey: _Survey) -> ServerInfo | None:
    """The running server if it answers; None if there is none (or it was ours and hung, and is now ended)."""
    paths, server = survey.paths, survey.server
    if server is None:
        with contextlib.suppress(FileNotFoundError):
            paths.state.unlink()  # a dead server's state
        return None
    if survey.password is None:
        raise LocalServerError(f"the local graph server (pid {server.pid}) is running, but {_no_login(survey)}")
    info = survey.info
    assert info is not None
    if survey.state_problem:  # repaired from the process: it is ours, its command line names our data folder
        write_private(paths.state, json.dumps(_state_of(paths, server), indent=2) + "\n")
    deadline = time.monotonic() + REUSE_PATIENCE
    while process.is_server(server.pid, paths.data):
        try:
            launch.ping(info, timeout=5.0)
            return _with_reader(info)
        except AuthError:
            raise LocalServerError(
                f"the local graph server (pid {server.pid}) rejects the password in {paths.credentials}; it was "
                "left running: `graphdex db stop` then any graphdex command starts it with a new password"
            ) from None
        except (Neo4jError, DriverError, OSError):
            if time.monotonic() >= deadline:
                break
        time.sleep(0.5)
    # Ours (by its command line) and silent for REUSE_PATIENCE seconds: proved hung, so it is replaced.
    process.terminate(server.pid, paths.data, STOP_TIMEOUT)
    with contextlib.suppress(FileNotFoundError):
        paths.state.unlink()
    return None


def _with_reader(info: ServerInfo) -> ServerInfo:
    """`info`, with the read-only user checked; without it (reader_password None) if the server cannot give one:
    cypher_query then relies on its other guards, and the next server start sets the user up."""
    try:
        launch.ensure_reader(info)
        return info
    except (LocalServerError, Neo4jError, DriverError, OSError) as exc:
        log.warning("the read-only user of the local graph server is unavailable (%s)", exc)
        return replace(info, reader_password=None)


def _start(settings: Settings, paths: Paths, timeout: float) -> ServerInfo:
    runtime = find_runtime(paths.home, settings.arcadedb_home)
    return launch.start(runtime, paths, settings.db_heap, timeout)


def _state_of(paths: Paths, server: process.ServerProcess) -> dict:
    """A state file's contents rebuilt from the server process's command line."""
    return {"pid": server.pid, "bolt_port": server.bolt_port, "http_port": server.http_port,
            "started_at": server.started_at, "data_dir": str(paths.data), "log_path": str(paths.log)}


def _no_login(survey: _Survey) -> str:
    why = survey.password_problem or f"{survey.paths.credentials} is missing"
    return (f"graphdex cannot log in to it ({why}); `graphdex db stop` then any graphdex command "
            "starts it with a new password")
