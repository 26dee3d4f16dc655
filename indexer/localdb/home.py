"""The managed server's files under GRAPHDEX_HOME: paths, the start/stop lock, the state file and the credentials.

    server.json     pid, ports, paths of the running server (0600; no secrets)
    credentials     the generated root password (0600; kept across restarts: ArcadeDB stores its hash)
    server.lock     held while starting or stopping (filelock: works on every platform)
    arcadedb/       the server's root: databases/, config/, its own log/ (persistent)
    logs/arcadedb.log   the server's stdout and stderr
    runtime/arcadedb_embedded/  jre/ and jars/, where install_runtime() puts them
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout

from ..errors import LocalServerError

USERNAME = "root"
READER = "graphdex_reader"  # a server user that may only read records: what cypher_query connects as


@dataclass(frozen=True)
class Paths:
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

    @property
    def users(self) -> Path:
        return self.data / "config" / "server-users.jsonl"


def paths_for(home: Path) -> Paths:
    # Absolute and resolved: the data dir's spelling identifies our server process in its command line.
    return Paths(Path(home).expanduser().resolve())


def prepare(home: Path) -> Paths:
    paths = paths_for(home)
    try:
        paths.home.mkdir(parents=True, exist_ok=True)
        paths.home.chmod(0o700)  # it holds the credentials
        paths.log.parent.mkdir(exist_ok=True)
        paths.data.mkdir(exist_ok=True)
    except OSError as exc:
        raise LocalServerError(f"cannot prepare graphdex's data folder {paths.home}: {exc}") from None
    return paths


@contextlib.contextmanager
def locked(paths: Paths, timeout: float) -> Iterator[None]:
    """An exclusive lock on server.lock; waits for a concurrent start (bounded, so a hung holder shows)."""
    lock = FileLock(str(paths.lock), mode=0o600)
    try:
        lock.acquire(timeout=timeout + 30)
    except Timeout:
        raise LocalServerError(f"another graphdex process holds {paths.lock}; try again") from None
    try:
        yield
    finally:
        lock.release()


def write_private(path: Path, text: str) -> None:
    """Write atomically with mode 0600 (created so, never briefly world-readable)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)
        os.write(fd, text.encode())
    finally:
        os.close(fd)
    os.replace(tmp, path)


class Damaged(ValueError):
    """A state or credentials file exists but cannot be read as graphdex wrote it."""


def read_json(path: Path) -> dict | None:
    """The file's object; None when the file does not exist; Damaged when it exists but is not valid."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise Damaged(f"{path} cannot be read: {exc.strerror or exc}") from None
    try:
        value = json.loads(text)
    except ValueError:
        raise Damaged(f"{path} is corrupt (not JSON)") from None
    if not isinstance(value, dict):
        raise Damaged(f"{path} is corrupt (not a JSON object)")
    return value


def read_password(paths: Paths) -> str | None:
    """The stored password; None if there is no credentials file; Damaged if it is unreadable."""
    creds = read_json(paths.credentials)
    if creds is None:
        return None
    password = creds.get("password")
    if not isinstance(password, str) or not password:
        raise Damaged(f"{paths.credentials} holds no password")
    return password


def read_reader_password(paths: Paths) -> str | None:
    """The read-only user's password, if the credentials file holds one."""
    try:
        creds = read_json(paths.credentials) or {}
    except Damaged:
        return None
    password = creds.get("reader_password")
    return password if isinstance(password, str) and password else None


def password_for_start(paths: Paths) -> str:
    """The stored root password, or a new one when there is none (or it is damaged and no server runs: the
    caller checked); a read-only user's password is added beside it when missing. ArcadeDB keeps the root hash
    in config/server-users.jsonl and ignores rootPassword once that exists, so a new password means forgetting
    the old user file."""
    try:
        password = read_password(paths)
    except Damaged:
        password = None
    reader = read_reader_password(paths)
    if password and reader:
        paths.credentials.chmod(0o600)
        return password
    if not password:
        password = secrets.token_urlsafe(24)
        with contextlib.suppress(FileNotFoundError):
            paths.users.unlink()
    credentials = {"username": USERNAME, "password": password, "reader": READER,
                   "reader_password": reader or secrets.token_urlsafe(24)}
    write_private(paths.credentials, json.dumps(credentials) + "\n")
    return password
