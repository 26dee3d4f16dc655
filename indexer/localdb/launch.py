"""Starting the ArcadeDB server process: its command line, free loopback ports, and waiting until it answers."""

from __future__ import annotations

import base64
import contextlib
import json
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import neo4j
from neo4j.exceptions import AuthError, DriverError, Neo4jError

from ..errors import LocalServerError
from . import process
from .home import READER, Paths, password_for_start, read_reader_password, write_private
from .info import DATABASE, HOST, USERNAME, ServerInfo, info_from_state

START_ATTEMPTS = 3  # a chosen free port can be taken before the JVM binds it
_LOG_MAX_BYTES = 5 * 1024 * 1024
# When a plugin fails (e.g. its port is taken) the main thread dies but other threads keep the JVM alive.
_MAIN_FAILED = 'Exception in thread "main"'
_PORT_TAKEN = re.compile(r"Unable to listen|Address already in use|BindException")


def start(runtime: Path, paths: Paths, heap: str, timeout: float) -> ServerInfo:
    """Start the server (the caller holds the lock and checked that none runs) and wait until it answers."""
    password = password_for_start(paths)
    write_private(paths.secret_args, f"-Darcadedb.server.rootPassword={password}\n")
    _ensure_reader_group(paths)
    _rotate_log(paths.log)
    try:
        for attempt in range(1, START_ATTEMPTS + 1):
            info = _start_once(runtime, paths, heap, timeout, last_attempt=attempt == START_ATTEMPTS)
            if info is not None:
                ensure_reader(info)
                return info
        raise LocalServerError("the local graph server found no free loopback ports")
    finally:
        with contextlib.suppress(FileNotFoundError):
            paths.secret_args.unlink()  # the JVM has read it by now (or is gone)


# The read-only user: ArcadeDB ignores a Bolt session's READ access mode, and a rolled-back transaction does not
# undo schema or security statements (`ALTER USER root ...` commits at once), so cypher_query connects as a user
# whose group may only read records: the server itself refuses every write, whatever the query says.
_READER_GROUP = {"resultSetLimit": -1, "readTimeout": -1, "access": [], "types": {"*": {"access": ["readRecord"]}}}
_DEFAULT_GROUPS = {
    "admin": {"resultSetLimit": -1, "readTimeout": -1,
              "access": ["updateSecurity", "updateSchema", "updateDatabaseSettings"],
              "types": {"*": {"access": ["createRecord", "readRecord", "updateRecord", "deleteRecord"]}}},
    "*": {"resultSetLimit": -1, "readTimeout": -1, "access": [], "types": {"*": {"access": []}}},
}


def _ensure_reader_group(paths: Paths) -> None:
    """Add the read-only group to the server's groups file (read at start), writing ArcadeDB's defaults first
    when the server never ran."""
    path = paths.data / "config" / "server-groups.json"
    try:
        groups = json.loads(path.read_text())
    except (OSError, ValueError):
        groups = {"databases": {"*": {"groups": dict(_DEFAULT_GROUPS)}}, "version": 2}
    database = groups.setdefault("databases", {}).setdefault("*", {}).setdefault("groups", {})
    if database.get(READER) == _READER_GROUP and path.exists():
        return
    database[READER] = _READER_GROUP
    path.parent.mkdir(parents=True, exist_ok=True)
    write_private(path, json.dumps(groups, indent=2) + "\n")


def ensure_reader(info: ServerInfo) -> None:
    """Make sure the read-only user logs in with the stored password, (re)creating it over HTTP if not."""
    if not info.reader_password:
        return
    reader = _as_reader(info)
    try:
        ping(reader, timeout=5.0)
        return
    except AuthError:
        pass
    _server_command(info, f"drop user {READER}", missing_ok=True)
    user = {"name": READER, "password": info.reader_password, "databases": {DATABASE: [READER]}}
    _server_command(info, "create user " + json.dumps(user))
    ping(reader, timeout=5.0)


def _as_reader(info: ServerInfo) -> ServerInfo:
    from dataclasses import replace

    return replace(info, username=READER, password=info.reader_password or "")


def _server_command(info: ServerInfo, command: str, missing_ok: bool = False) -> None:
    token = base64.b64encode(f"{info.username}:{info.password}".encode()).decode()
    request = urllib.request.Request(
        f"{info.http_url}/api/v1/server", data=json.dumps({"command": command}).encode(), method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Basic {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30):
            return
    except urllib.error.HTTPError as exc:
        if missing_ok:
            return
        detail = exc.read()[:200].decode("utf-8", "replace")
        raise LocalServerError(f"the local graph server refused `{command.split(' {')[0]}`: HTTP {exc.code}: "
                               f"{detail}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise LocalServerError(f"cannot reach the local graph server's HTTP API at {info.http_url}: {exc}") from None


def ping(info: ServerInfo, timeout: float) -> None:
    """`RETURN 1` over Bolt; raises AuthError, Neo4jError, DriverError or OSError when it does not answer."""
    # session.run, not execute_query: that would retry for up to 30 s on its own.
    with (
        neo4j.GraphDatabase.driver(
            info.bolt_uri,
            auth=(info.username, info.password),
            connection_timeout=timeout,
            connection_acquisition_timeout=timeout,
        ) as driver,
        driver.session(database=info.database) as session,
    ):
        session.run("RETURN 1").consume()


def _start_once(runtime: Path, paths: Paths, heap: str, timeout: float, last_attempt: bool) -> ServerInfo | None:
    """One start; None if a chosen port was taken meanwhile (and this is not the last attempt)."""
    bolt, http = _free_ports(2)
    log_offset = paths.log.stat().st_size if paths.log.exists() else 0
    proc = _spawn(_java_command(runtime, paths, heap, bolt, http), paths)
    state = {
        "pid": proc.pid,
        "bolt_port": bolt,
        "http_port": http,
        "started_at": time.time(),
        "data_dir": str(paths.data),
        "log_path": str(paths.log),
        "runtime": str(runtime),
    }
    write_private(paths.state, json.dumps(state, indent=2) + "\n")  # now, so a crash here leaves it findable
    info = info_from_state(paths, state, password_for_start(paths), read_reader_password(paths))
    try:
        _wait_ready(proc, info, paths, timeout, log_offset)
        return info
    except LocalServerError:
        process.terminate(proc.pid, paths.data, 5.0)
        with contextlib.suppress(FileNotFoundError):
            paths.state.unlink()
        if not last_attempt and _PORT_TAKEN.search(log_tail(paths.log, log_offset, 200)):
            return None
        raise


def _wait_ready(proc: subprocess.Popen[bytes], info: ServerInfo, paths: Paths, timeout: float,
                log_offset: int) -> None:
    """Poll `RETURN 1`: the Bolt port opens before the database exists (DatabaseNotFound until then)."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise _start_error(info, f"exited with code {proc.returncode} while starting", log_offset)
        if _MAIN_FAILED in log_tail(paths.log, log_offset, 400):
            raise _start_error(info, "failed to start", log_offset)
        try:
            ping(info, timeout=2.0)
            return
        except AuthError:
            raise _start_error(
                info,
                f"rejected the stored password (delete {paths.users} and {paths.credentials} to reset it)",
                log_offset,
            ) from None
        except (Neo4jError, DriverError, OSError):
            pass
        if time.monotonic() > deadline:
            raise _start_error(info, f"did not answer over Bolt within {timeout:.0f} s", log_offset)
        time.sleep(0.2)


def _free_ports(count: int) -> list[int]:
    """Ports the kernel picks on loopback; the sockets stay open together so the ports differ."""
    socks = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in socks:
            sock.bind((HOST, 0))
        return [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def _java_command(runtime: Path, paths: Paths, heap: str, bolt: int, http: int) -> list[str]:
    data = paths.data
    return [
        str(runtime / "jre" / "bin" / "java"),
        f"@{paths.secret_args}",  # the password, kept off the command line (ps shows that to everyone)
        "-Xms128m",
        f"-Xmx{heap}",
        "-cp",
        str(runtime / "jars" / "*"),
        f"{process.ROOT_FLAG}{data}",
        f"-Darcadedb.server.databaseDirectory={data / 'databases'}",
        "-Darcadedb.server.mode=development",
        f"-Darcadedb.server.httpIncomingHost={HOST}",
        f"-Darcadedb.server.httpIncomingPort={http}",
        "-Darcadedb.server.plugins=Bolt:com.arcadedb.bolt.BoltProtocolPlugin",
        f"-Darcadedb.bolt.host={HOST}",
        f"-Darcadedb.bolt.port={bolt}",
        f"-Darcadedb.server.defaultDatabases={DATABASE}[{USERNAME}]",
        f"-Darcadedb.bolt.defaultDatabase={DATABASE}",
        "-Darcadedb.opencypher.loadCsv.allowFileUrls=false",  # Bolt clients must not read local files
        process.MAIN_CLASS,
    ]


def _rotate_log(log: Path) -> None:
    with contextlib.suppress(OSError):
        if log.stat().st_size > _LOG_MAX_BYTES:
            log.replace(log.with_name(log.name + ".1"))


def _spawn(cmd: list[str], paths: Paths) -> subprocess.Popen[bytes]:
    with open(paths.log, "ab") as log:
        log.write(f"\n--- graphdex starting ArcadeDB at {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
        log.flush()
        # A new session: the server is a shared daemon that outlives this process and its Ctrl-C.
        # Never our stdout: in the MCP server that is the protocol stream.
        proc = subprocess.Popen(
            cmd,
            cwd=paths.data,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            close_fds=True,
            **_detached(),
        )
    process.children[proc.pid] = proc
    return proc


def _detached() -> dict:
    """Popen arguments that keep the server out of our process group (and our console's Ctrl-C)."""
    if hasattr(subprocess, "CREATE_NEW_PROCESS_GROUP"):  # Windows
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


def log_tail(log: Path, offset: int = 0, lines: int = 15) -> str:
    try:
        with open(log, "rb") as f:
            f.seek(offset)
            text = f.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])


def _start_error(info: ServerInfo, what: str, log_offset: int) -> LocalServerError:
    tail = log_tail(info.log_path, log_offset)
    return LocalServerError(
        f"the local graph server (ArcadeDB, pid {info.pid}) {what}; see {info.log_path}"
        + (f". Last log lines:\n{tail}" if tail else "")
    )
