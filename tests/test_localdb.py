"""The managed local graph server: start, reuse, status, stop, recovery, secrets, loopback, persistence."""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import stat
import subprocess
import sys
import sysconfig
from pathlib import Path

import neo4j
import pytest

from indexer import localdb
from indexer.errors import ConfigError, LocalServerError
from indexer.localdb import install
from indexer.settings import Settings

REPO = Path(__file__).resolve().parents[1]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _query(info: localdb.ServerInfo, cypher: str, **params: object) -> list[neo4j.Record]:
    with neo4j.GraphDatabase.driver(info.bolt_uri, auth=(info.username, info.password)) as driver:
        records, _, _ = driver.execute_query(cypher, params, database_=info.database)
    return records


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# -------------------------------------------------------------------------------- the shared session server


def test_server_answers_over_bolt(graph_server: localdb.ServerInfo, neo4j_driver: neo4j.Driver) -> None:
    info = graph_server
    assert info.bolt_uri == f"bolt://127.0.0.1:{info.bolt_port}"
    assert info.http_url == f"http://127.0.0.1:{info.http_port}"
    assert (info.username, info.database) == ("root", "neo4j")
    with neo4j_driver.session(database=info.database) as session:
        assert session.run("RETURN 1 AS x").single()["x"] == 1
    assert info.password and info.password not in repr(info)


def test_ensure_running_reuses_the_server(graph_settings: Settings, graph_server: localdb.ServerInfo) -> None:
    assert localdb.ensure_running(graph_settings) == graph_server


def test_start_refuses_a_second_server(graph_settings: Settings, graph_server: localdb.ServerInfo) -> None:
    with pytest.raises(LocalServerError, match="already running"):
        localdb.start(graph_settings)


def test_status_reports_the_running_server(
    graph_settings: Settings,
    graph_server: localdb.ServerInfo,
) -> None:
    status = localdb.status(graph_settings)
    assert (status.running, status.info, status.pid, status.problem) == (True, graph_server, graph_server.pid, None)


def test_secrets_are_private(graph_settings: Settings, graph_server: localdb.ServerInfo) -> None:
    home = graph_settings.home
    assert _mode(home) == 0o700
    assert _mode(home / "credentials") == 0o600
    assert _mode(home / "server.json") == 0o600
    assert not (home / "arcadedb.args").exists()  # the password's argfile is gone once the JVM read it
    password = graph_server.password
    for text in [(home / "server.json").read_text(), (home / "logs" / "arcadedb.log").read_text()]:
        assert password not in text
    assert password.encode() not in Path(f"/proc/{graph_server.pid}/cmdline").read_bytes()


def _listening(pid: int) -> list[tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]]:
    """(address, port) of the TCP sockets pid listens on, from /proc/net."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except FileNotFoundError:  # closed while we looked: the JVM opens and closes files all the time
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            cols = line.split()
            if cols[3] != "0A" or cols[9] not in inodes:  # 0A: LISTEN
                continue
            raw, port = cols[1].split(":")
            words = bytes.fromhex(raw)  # 32-bit words in host (little-endian) order
            addr = b"".join(words[i : i + 4][::-1] for i in range(0, len(words), 4))
            found.append((ipaddress.ip_address(addr), int(port, 16)))
    return found


def _is_loopback(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    mapped = getattr(addr, "ipv4_mapped", None)
    return addr.is_loopback or bool(mapped and mapped.is_loopback)


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux /proc/net")
def test_listens_on_loopback_only(graph_server: localdb.ServerInfo) -> None:
    sockets = _listening(graph_server.pid)
    assert {graph_server.bolt_port, graph_server.http_port} <= {port for _, port in sockets}
    assert all(_is_loopback(addr) for addr, _ in sockets), sockets
    outward = _outward_address()
    if outward:  # the same ports refuse a connection through a non-loopback address of this machine
        for port in (graph_server.bolt_port, graph_server.http_port):
            with pytest.raises(OSError), socket.create_connection((outward, port), timeout=2):
                pass


def _outward_address() -> str | None:
    """This machine's address on its default route (a UDP connect sends nothing), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if ipaddress.ip_address(address).is_loopback else address


# -------------------------------------------------------------------------------- runtime lookup


def test_broken_runtime_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("GRAPHDEX_ARCADEDB_HOME", str(empty))
    settings = Settings.from_env(home=tmp_path / "home")
    with pytest.raises(LocalServerError) as caught:
        localdb.ensure_running(settings)
    message = str(caught.value)
    assert "GRAPHDEX_ARCADEDB_HOME" in message and str(empty / "jre" / "bin" / "java") in message
    assert "pip install arcadedb-embedded" in message
    assert not localdb.status(settings).running and not (settings.home / "server.json").exists()


def test_missing_runtime_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(install, "_package_dir", lambda: None)
    with pytest.raises(LocalServerError, match="no ArcadeDB runtime found") as caught:
        localdb.find_runtime(tmp_path)
    assert "pip install arcadedb-embedded" in str(caught.value)
    assert "graphdex db install-runtime" in str(caught.value)


def test_runtime_in_home_is_found_without_the_package(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(install, "_package_dir", lambda: None)
    runtime = tmp_path / "runtime" / "arcadedb_embedded"
    (runtime / "jre" / "bin").mkdir(parents=True)
    (runtime / "jars").mkdir()
    (runtime / "jars" / "engine.jar").touch()
    (runtime / "jre" / "bin" / "java").touch(mode=0o755)
    assert localdb.find_runtime(tmp_path) == runtime


def test_installed_package_is_found_without_importing_it() -> None:
    found = install._package_dir()
    if sysconfig.get_config_var("Py_GIL_DISABLED") == 1:
        # No arcadedb-embedded wheel exists for 3.14t: the lane runs on install-runtime's copy instead.
        assert found is None
    else:
        assert found is not None and install._layout_problem(found) is None
    assert "arcadedb_embedded" not in sys.modules and "jpype" not in sys.modules


def test_bad_heap_setting_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAPHDEX_DB_HEAP", "lots")
    with pytest.raises(ConfigError, match="GRAPHDEX_DB_HEAP"):
        Settings.from_env(home=tmp_path / "home")


# -------------------------------------------------------------------------------- servers with their own home


def _ensure_running_in_processes(home: Path, count: int) -> list[int]:
    """Call ensure_running from `count` separate Python processes at once; their reported pids."""
    code = (
        "import sys; from pathlib import Path; from indexer import localdb; "
        "from indexer.settings import Settings; "
        "print(localdb.ensure_running(Settings.from_env(home=Path(sys.argv[1]))).pid)"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(home)], stdout=subprocess.PIPE, text=True, env=env)
        for _ in range(count)
    ]
    outs = [proc.communicate(timeout=120)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * count
    return [int(out.strip()) for out in outs]


def test_one_server_for_concurrent_callers_and_data_survives_restart(tmp_path: Path) -> None:
    settings = Settings.from_env(home=tmp_path / "home")
    try:
        pids = _ensure_running_in_processes(settings.home, 2)
        assert len(set(pids)) == 1  # the lock gave both callers one server, which outlived them
        first = localdb.status(settings).info
        assert first is not None and first.pid == pids[0]
        _query(first, "CREATE (:Probe {name: $name})", name="kept")

        assert localdb.stop(settings) is True
        assert not localdb.status(settings).running
        assert not (settings.home / "server.json").exists()
        assert localdb.stop(settings) is False

        second = localdb.start(settings)
        assert second.pid != first.pid and second.password == first.password
        assert [r["name"] for r in _query(second, "MATCH (p:Probe) RETURN p.name AS name")] == ["kept"]
    finally:
        localdb.stop(settings)


def test_stale_state_with_a_dead_pid_is_recovered(tmp_path: Path) -> None:
    settings = Settings.from_env(home=tmp_path / "home")
    settings.home.mkdir()
    dead = _dead_pid()
    state = {"pid": dead, "bolt_port": 1, "http_port": 2, "started_at": 0}
    (settings.home / "server.json").write_text(json.dumps(state))
    assert not localdb.status(settings).running
    try:
        info = localdb.ensure_running(settings)
        assert info.pid != dead
        assert json.loads((settings.home / "server.json").read_text())["pid"] == info.pid
        assert _query(info, "RETURN 1 AS x")[0]["x"] == 1
    finally:
        localdb.stop(settings)


def test_state_naming_an_unrelated_process_never_signals_it(tmp_path: Path) -> None:
    settings = Settings.from_env(home=tmp_path / "home")
    settings.home.mkdir()
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        state = {"pid": bystander.pid, "bolt_port": 1, "http_port": 2, "started_at": 0}
        (settings.home / "server.json").write_text(json.dumps(state))
        assert not localdb.status(settings).running
        assert localdb.stop(settings) is False
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_install_runtime_downloads_a_working_runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real download from PyPI (the path for interpreters without a wheel), then a server from it."""
    home = tmp_path / "home"
    runtime = localdb.install_runtime(home)
    assert runtime == home / "runtime" / "arcadedb_embedded"
    assert _mode(runtime / "jre" / "bin" / "java") & 0o111
    assert not list(runtime.glob("*.py"))  # only jre/ and jars/, not the Python package
    monkeypatch.setattr(install, "_package_dir", lambda: None)
    settings = Settings(home=home)
    try:
        info = localdb.ensure_running(settings)
        assert json.loads((home / "server.json").read_text())["runtime"] == str(runtime)
        assert _query(info, "RETURN 1 AS x")[0]["x"] == 1
    finally:
        localdb.stop(settings)


def test_a_home_with_spaces_is_recognised_as_its_server(tmp_path: Path) -> None:
    """The server is identified by its command line as a list (psutil), so a data folder with spaces (common on
    macOS: "Application Support") is this home's server, not a stranger."""
    settings = Settings.from_env(home=tmp_path / "my graph home")
    try:
        info = localdb.ensure_running(settings)
        status = localdb.status(settings)
        assert status.running and status.pid == info.pid and status.problem is None
        assert localdb.ensure_running(settings).pid == info.pid  # reused, not replaced
    finally:
        assert localdb.stop(settings) is True
