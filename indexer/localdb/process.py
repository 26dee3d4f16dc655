"""Which processes are this home's ArcadeDB server, and ending them: identified by their command line (the main
class and our data folder's rootPath, which psutil reads as a list, so a path with spaces is no problem), never
by a pid alone, which the system may have recycled."""

from __future__ import annotations

import contextlib
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

MAIN_CLASS = "com.arcadedb.server.ArcadeDBServer"
ROOT_FLAG = "-Darcadedb.server.rootPath="

# Servers started by this process, so they can be reaped (a zombie still looks alive to a pid check).
children: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class ServerProcess:
    pid: int
    bolt_port: int | None
    http_port: int | None
    started_at: float  # seconds since the epoch


def cmdline(pid: int) -> list[str] | None:
    """The process's arguments; None if it does not exist, is a zombie, or cannot be read."""
    if pid <= 0 or reap(pid):
        return None
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        return proc.cmdline()
    except (psutil.Error, OSError):
        return None


def is_server(pid: int, data_dir: Path) -> bool:
    """pid is alive and is an ArcadeDB server rooted at data_dir."""
    args = cmdline(pid)
    return bool(args) and MAIN_CLASS in args and f"{ROOT_FLAG}{data_dir}" in args  # type: ignore[operator]


def servers_of(data_dir: Path) -> list[ServerProcess]:
    """Every live ArcadeDB server on this data folder, whatever the state file says."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline", "create_time"]):
        args = proc.info.get("cmdline") or []
        if MAIN_CLASS in args and f"{ROOT_FLAG}{data_dir}" in args and is_server(proc.info["pid"], data_dir):
            found.append(ServerProcess(proc.info["pid"], _port(args, "bolt.port"),
                                       _port(args, "server.httpIncomingPort"), proc.info.get("create_time") or 0))
    return sorted(found, key=lambda s: s.pid)


def _port(args: list[str], name: str) -> int | None:
    prefix = f"-Darcadedb.{name}="
    for arg in args:
        if arg.startswith(prefix) and arg[len(prefix):].isdigit():
            return int(arg[len(prefix):])
    return None


def reap(pid: int, wait: float = 0.0) -> bool:
    """True if pid is a child of ours that has exited (now reaped), waiting up to `wait` seconds for that."""
    child = children.get(pid)
    if child is None:
        return False
    try:
        child.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        return False
    children.pop(pid, None)
    return True


def terminate(pid: int, data_dir: Path, timeout: float) -> None:
    """SIGTERM, then SIGKILL after `timeout`: only if pid is still this data folder's server."""
    if not is_server(pid, data_dir):
        reap(pid)
        return
    with contextlib.suppress(psutil.Error):
        proc = psutil.Process(pid)
        proc.terminate()
        with contextlib.suppress(psutil.Error, AttributeError):
            proc.resume()  # a stopped (SIGSTOP) process handles SIGTERM only once continued
    if not wait_gone(pid, data_dir, timeout):
        with contextlib.suppress(psutil.Error):
            psutil.Process(pid).kill()
        wait_gone(pid, data_dir, 5.0)
    reap(pid, wait=5.0)  # its command line empties while it exits, before it can be reaped


def wait_gone(pid: int, data_dir: Path, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_server(pid, data_dir):
            return True
        time.sleep(0.1)
    return False
