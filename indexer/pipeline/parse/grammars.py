"""tree-sitter grammars: one way to get a `tree_sitter.Language` on every interpreter, and to say when there is none.

* CPython 3.10-3.14 with a GIL: the pinned abi3 wheel packages (the `languages` extra).
* Free-threaded 3.14t has no wheels for them, and 7 of the 10 sdists do not build as Python packages there, so
  `install_grammars()` (`graphdex grammars install`) downloads the same pinned sdists with pip, adds the few files
  they lack from `overlays/` (see overlays/SOURCES.md), compiles each grammar's C sources into a plain shared
  library under `<home>/grammars/<name>-<version>/` (no Python ABI involved), and `language()` hands its
  `tree_sitter_<lang>()` pointer to `tree_sitter.Language` as a PyCapsule.

Importing this module never imports `tree_sitter`, which turns the GIL back on in a free-threaded interpreter:
only `language()` (and the install check, in a child process) does, and graphdex calls it in worker processes
only on such a build. `missing()` answers from file checks alone, so the parent may call it.

PHP is pinned to 0.25.1 on every interpreter (the wheel's version). Its sdist lacks `common/scanner.h`, which no
registry has at 0.25.1; the overlay carries 0.24.2's (same 12 external tokens in the same order, identical
scanner.c) with 0.24.2's array/alloc headers. Trees of the compiled library equal the 0.25.1 wheel's on a real
corpus (106 files), and one version per language keeps the graph the same on every interpreter.
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OVERLAYS = Path(__file__).resolve().parent / "overlays"
CORE_PIN = "tree-sitter==0.26.1"


class GrammarError(RuntimeError):
    """A one-line, user-facing reason why a grammar cannot be had."""


@dataclass(frozen=True)
class Grammar:
    name: str  # the grammar's name, also the shared library's
    dist: str  # PyPI distribution
    version: str  # pinned version (the same for the wheel and the sdist)
    sha256: str  # of the sdist
    func: str  # function of the wheel's module that returns the language capsule
    subdir: str  # grammar folder inside the sdist ("" = its root)

    @property
    def module(self) -> str:
        return self.dist.replace("-", "_")

    @property
    def symbol(self) -> str:
        return f"tree_sitter_{self.name}"

    @property
    def pin(self) -> str:
        return f"{self.dist}=={self.version}"


def _g(name: str, dist: str, version: str, sha256: str, func: str = "language", subdir: str = "") -> Grammar:
    return Grammar(name, dist, version, sha256, func, subdir)


_TS_SHA = "7b167b5827c882261cb7a50dfa0fb567975f9b315e87ed87ad0a0a3aedb3834d"
_PHP_SHA = "db2f82bc9a33664f150750a1b6d3cb0291760d9ab5727455d713141f7dc9e6a9"
GRAMMARS: dict[str, Grammar] = {g.name: g for g in [
    _g("javascript", "tree-sitter-javascript", "0.25.0",
       "329b5414874f0588a98f1c291f1b28138286617aa907746ffe55adfdcf963f38"),
    _g("typescript", "tree-sitter-typescript", "0.23.2", _TS_SHA, "language_typescript", "typescript"),
    _g("tsx", "tree-sitter-typescript", "0.23.2", _TS_SHA, "language_tsx", "tsx"),
    _g("go", "tree-sitter-go", "0.25.0", "a7466e9b8d94dda94cae8d91629f26edb2d26166fd454d4831c3bf6dfa2e8d68"),
    _g("rust", "tree-sitter-rust", "0.24.2", "54fb02a5911e345308b405174465112479f56dc39e3f1e7744d7568595f00db9"),
    _g("java", "tree-sitter-java", "0.23.5", "f5cd57b8f1270a7f0438878750d02ccc79421d45cca65ff284f1527e9ef02e38"),
    _g("c", "tree-sitter-c", "0.24.2", "1628584df0299b5a340aa63f8e67b6c97c91517f52fa7e7a4c557e40adb330a9"),
    _g("cpp", "tree-sitter-cpp", "0.23.4", "6a59c4cebb1ad1dc2e8d586cf8a72b39d21b8108b7b139d089719e81a339e41d"),
    _g("c_sharp", "tree-sitter-c-sharp", "0.23.5",
       "2635c7d5ec93e59f2e831b571bed99c4cc68a5d183a0994020aa769e1b990a71"),
    _g("ruby", "tree-sitter-ruby", "0.23.1", "886ed200bfd1f3ca7628bf1c9fefd42421bbdba70c627363abda67f662caa21e"),
    _g("php", "tree-sitter-php", "0.25.1", _PHP_SHA, "language_php", "php"),
]}

# A snippet per grammar whose tree must come out error-free: the post-install check.
_SNIPPETS = {
    "javascript": b"class A { m() { return f(1); } }\n",
    "typescript": b"interface I { x: number }\nfunction f<T>(a: T): T { return a; }\n",
    "tsx": b"const C = (p: {n: string}) => <div className='x'>{p.n}</div>;\n",
    "go": b"package p\n\nfunc F(a int) int { return a }\n",
    "rust": b"fn f(a: i32) -> i32 { a }\nstruct S { x: u8 }\n",
    "java": b"class A { int f(int a) { return a; } }\n",
    "c": b"int f(int a) { return a; }\n",
    "cpp": b"namespace n { template <class T> T f(T a) { return a; } }\n",
    "c_sharp": b"namespace N { class A { int F(int a) => a; } }\n",
    "ruby": b"class A\n  def f(a)\n    a\n  end\nend\n",
    "php": b"<?php\nfunction f($a) { return $a; }\n",
}


def free_threaded_build() -> bool:
    return sysconfig.get_config_var("Py_GIL_DISABLED") == 1


def grammar(name: str) -> Grammar:
    if name not in GRAMMARS:
        raise GrammarError(f"unknown grammar {name!r}; known: {', '.join(GRAMMARS)}")
    return GRAMMARS[name]


def grammar_dir(name: str, home: Path | str) -> Path:
    g = grammar(name)
    return Path(home) / "grammars" / f"{g.name}-{g.version}"


def library_path(name: str, home: Path | str) -> Path:
    return grammar_dir(name, home) / f"{name}.so"


# ------------------------------------------------------------------------------------------------ loading

_lock = threading.Lock()
_cache: dict[tuple[str, str], Any] = {}
_libraries: list[ctypes.CDLL] = []  # never unloaded: a Language points into its library's static tables


def _capsule(pointer: int) -> Any:
    new = ctypes.pythonapi.PyCapsule_New
    new.restype = ctypes.py_object
    new.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
    return new(pointer, b"tree_sitter.Language", None)  # the capsule name py-tree-sitter checks


def _from_wheel(g: Grammar) -> Any | None:
    """The grammar package's language capsule, if it is installed and loads here."""
    if importlib.util.find_spec(g.module) is None:
        return None
    try:
        return getattr(importlib.import_module(g.module), g.func)()
    except (ImportError, AttributeError, OSError):
        return None  # e.g. c-sharp 0.23.5 built from its sdist: "undefined symbol ..._external_scanner_create"


def _load_library(g: Grammar, home: Path | str) -> int:
    path = library_path(g.name, home)
    if not path.is_file():
        raise GrammarError(f"no grammar for {g.name}: {fix_command([g.name])}")
    try:
        library = ctypes.CDLL(str(path))
        function = getattr(library, g.symbol)
    except (OSError, AttributeError) as exc:
        raise GrammarError(f"grammar library {path} does not load ({exc}); reinstall: "
                           f"graphdex grammars install --force {g.name}") from None
    function.restype = ctypes.c_void_p
    function.argtypes = []
    _libraries.append(library)
    return int(function())


def language(name: str, home: Path | str) -> Any:
    """The `tree_sitter.Language` of a grammar: on GIL builds the wheel first, else the compiled library; on a
    free-threaded build the compiled library first (abi3 wheels cannot load there). Cached per process.

    Imports tree_sitter, which turns the GIL back on in a free-threaded interpreter: call it where that is
    harmless (a worker process, or any process of a GIL build)."""
    g = grammar(name)
    key = (g.name, str(home))
    with _lock:
        if key not in _cache:
            import tree_sitter

            compiled = library_path(g.name, home).is_file()
            capsule = None if (compiled and free_threaded_build()) else _from_wheel(g)
            if capsule is None:
                capsule = _capsule(_load_library(g, home))
            _cache[key] = tree_sitter.Language(capsule)
        return _cache[key]


def source_of(name: str, home: Path | str) -> str:
    """Where `language(name)` would come from, found without importing anything."""
    g = grammar(name)
    compiled = library_path(g.name, home)
    if compiled.is_file() and (free_threaded_build() or importlib.util.find_spec(g.module) is None):
        return f"compiled {compiled}"
    if not free_threaded_build() and importlib.util.find_spec(g.module) is not None:
        return f"package {g.pin}"
    return "missing"


# ------------------------------------------------------------------------------------------------ missing


def fix_command(names: Iterable[str]) -> str:
    """The command that installs these grammars on this interpreter."""
    if free_threaded_build():
        return f"pip install '{CORE_PIN}' && graphdex grammars install"
    pins = sorted({grammar(n).pin for n in names})
    return f"pip install 'graphdex[languages]' (or: pip install {CORE_PIN} {' '.join(pins)})"


def core_missing() -> str | None:
    """Why tree-sitter itself is unusable here, with the fix; None when it is installed."""
    if importlib.util.find_spec("tree_sitter") is None:
        return f"tree-sitter is not installed: {fix_command([])}"
    return None


def missing(names: Iterable[str], home: Path | str) -> dict[str, str]:
    """{grammar: reason with the command that fixes it} for grammars with no usable library; {} when all are there.

    Answers from file checks only, never importing tree_sitter or a grammar (safe in a GIL-free parent). On a
    free-threaded build a grammar package does not count: abi3 wheels cannot load there, and packages built from
    these sdists can be broken (c-sharp 0.23.5 installs, then fails to import)."""
    wanted = [grammar(n).name for n in names]
    core = core_missing()
    if core:
        return {n: core for n in wanted}
    lacking = [n for n in wanted if not library_path(n, home).is_file()
               and (free_threaded_build() or importlib.util.find_spec(GRAMMARS[n].module) is None)]
    return {n: f"no tree-sitter grammar for {n}: {fix_command(lacking)}" for n in lacking}


# ------------------------------------------------------------------------------------------------ installing


def _compiler() -> list[str]:
    cc = os.environ.get("CC")
    if cc:
        parts = cc.split()
        if shutil.which(parts[0]):
            return parts
        raise GrammarError(f"no C compiler: CC={cc!r} is not found")
    for candidate in ("cc", "gcc", "clang"):
        if shutil.which(candidate):
            return [candidate]
    raise GrammarError("no C compiler found (install gcc, e.g. `apt-get install gcc`, or set CC)")


def _download(wanted: dict[str, tuple[str, str]], dest: Path, python: str) -> dict[str, Path]:
    """pip-download the pinned sdists {dist: (version, sha256)} into dest (one pip run); check each sha256."""
    specs = [f"{dist}=={version}" for dist, (version, _) in wanted.items()]
    proc = subprocess.run([python, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps",
                           "--disable-pip-version-check", "--quiet", "--dest", str(dest), *specs],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        lines = [ln.strip() for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
        why = next((ln for ln in reversed(lines) if ln.startswith("ERROR")), lines[-1] if lines else "?")
        raise GrammarError(f"download of {' '.join(specs)} failed: {why}")
    found: dict[str, Path] = {}
    for dist, (version, sha) in wanted.items():
        stem = f"{dist.replace('-', '_')}-{version}"
        archive = next((p for p in dest.glob(f"{stem}.*") if p.name.endswith((".tar.gz", ".zip"))), None)
        if archive is None:
            raise GrammarError(f"download of {dist}=={version} failed: pip gave no sdist")
        digest = hashlib.sha256(archive.read_bytes()).hexdigest()
        if digest != sha:
            raise GrammarError(f"download of {dist}=={version} failed: sha256 {digest[:12]}... is not the pinned "
                               f"{sha[:12]}...")
        found[dist] = archive
    return found


def _extract(archive: Path, dest: Path) -> Path:
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dest, filter="data")
        else:  # pragma: no cover - a Python without the tarfile filters (before 3.10.12 / 3.11.4)
            for member in tar.getmembers():
                if member.name.startswith("/") or ".." in Path(member.name).parts:
                    raise GrammarError(f"unsafe path {member.name!r} in {archive.name}")
            tar.extractall(dest)
    return next(dest.iterdir())


def _overlay(root: Path, g: Grammar) -> list[str]:
    """Copy in what the sdist lacks (headers, scanners, tags.scm) from OVERLAYS; never overwrite."""
    added = []
    own = OVERLAYS / f"{g.dist}-{g.version}"
    for src in sorted(own.rglob("*")) if own.is_dir() else []:
        dst = root / src.relative_to(own)
        if src.is_file() and not dst.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
            added.append(str(dst.relative_to(root)))
    src_dir = root / g.subdir / "src"
    if not (src_dir / "tree_sitter" / "parser.h").is_file():
        shutil.copytree(_headers_for(root, src_dir, g), src_dir / "tree_sitter")
        added.append(f"{g.subdir + '/' if g.subdir else ''}src/tree_sitter/*.h")
    return added


def _headers_for(root: Path, src_dir: Path, g: Grammar) -> Path:
    """A sibling grammar's headers from the same sdist (same generator), else the generic ones of its ABI."""
    sibling = next((p for p in root.glob("*/src/tree_sitter") if (p / "parser.h").is_file()), None)
    if sibling is not None:
        return sibling
    abi = re.search(rb"#define LANGUAGE_VERSION (\d+)", (src_dir / "parser.c").read_bytes())
    headers = OVERLAYS / "headers" / f"abi{int(abi.group(1)) if abi else 15}" / "tree_sitter"
    if not headers.is_dir():
        raise GrammarError(f"{g.name}: no tree_sitter headers for ABI {abi.group(1).decode() if abi else '?'}")
    return headers


def _compile(cc: list[str], root: Path, g: Grammar, out_dir: Path) -> dict[str, Any]:
    src = root / g.subdir / "src"
    sources = [src / "parser.c"] + [src / f for f in ("scanner.c",) if (src / f).is_file()]
    out = out_dir / f"{g.name}.so"
    flags = ["-shared", "-fPIC", "-O2", "-fvisibility=hidden", "-I", str(src)]
    if sys.platform.startswith("linux"):
        flags.append("-Wl,-z,defs")  # a missing scanner fails here, not when the library is loaded
    elif sys.platform == "darwin":
        flags = ["-dynamiclib", *flags[1:]]
    started = time.perf_counter()
    proc = subprocess.run([*cc, *flags, *map(str, sources), "-o", str(out)], capture_output=True, text=True)
    if proc.returncode != 0:
        errors = [ln for ln in proc.stderr.splitlines() if "error" in ln] or proc.stderr.splitlines() or ["?"]
        raise GrammarError(f"{g.name}: compiling {g.dist} {g.version} failed: {errors[0].strip()}")
    return {"seconds": round(time.perf_counter() - started, 2), "bytes": out.stat().st_size,
            "sources": [str(s.relative_to(root)) for s in sources]}


def _check_symbol(path: Path, g: Grammar) -> None:
    """dlopen the library and find tree_sitter_<name>, without tree_sitter (safe in a GIL-free process)."""
    try:
        getattr(ctypes.CDLL(str(path)), g.symbol)
    except (OSError, AttributeError) as exc:
        raise GrammarError(f"{g.name}: the built library does not load: {exc}") from None


def verify(names: list[str], home: str) -> dict[str, str]:
    """Parse each grammar's snippet with its compiled library (run in a child process: imports tree_sitter)."""
    import tree_sitter

    verdicts = {}
    for name in names:
        lang = tree_sitter.Language(_capsule(_load_library(grammar(name), home)))
        root = tree_sitter.Parser(lang).parse(_SNIPPETS[name]).root_node
        verdicts[name] = "error" if root.has_error else f"ok (ABI {lang.abi_version})"
    return verdicts


def _verify_in_child(names: list[str], home: Path, python: str) -> dict[str, str]:
    code = (f"import json; from indexer.pipeline.parse.grammars import verify; "
            f"print(json.dumps(verify({names!r}, {str(home)!r})))")
    proc = subprocess.run([python, "-c", code], capture_output=True, text=True)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        raise GrammarError(f"the parse check of {', '.join(names)} failed: {last}")
    verdicts: dict[str, str] = json.loads(proc.stdout.strip().splitlines()[-1])
    return verdicts


def install_grammars(home: Path | str, names: Iterable[str] | None = None, *, force: bool = False,
                     python: str | None = None, check: bool = True,
                     log: Callable[[str], None] = print) -> dict[str, dict[str, Any]]:
    """Download the pinned sdists with pip and compile them into <home>/grammars/<name>-<version>/<name>.so.

    Each grammar lands whole (built in a temporary folder beside it, then renamed); present ones are skipped
    unless `force`. Returns {name: build info}. Raises GrammarError with a one-line reason."""
    base = Path(home) / "grammars"
    python = python or sys.executable
    todo = [grammar(n) for n in dict.fromkeys(names or GRAMMARS)]
    todo = [g for g in todo if force or not library_path(g.name, home).is_file()]
    if not todo:
        return {}
    cc = _compiler()
    base.mkdir(parents=True, exist_ok=True)
    with _InstallLock(base), tempfile.TemporaryDirectory(prefix=".work-", dir=base) as tmp:
        work = Path(tmp)
        archives = _download({g.dist: (g.version, g.sha256) for g in todo}, work / "sdists", python)
        roots = {dist: _extract(archive, work / "src" / dist) for dist, archive in archives.items()}
        # Overlays one at a time: typescript/tsx share one unpacked sdist.
        added = {g.name: _overlay(roots[g.dist], g) for g in todo}
        built = _build_all(cc, todo, roots, added, base, Path(home), log)
    if check and built and importlib.util.find_spec("tree_sitter") is not None:
        for name, verdict in _verify_in_child(sorted(built), Path(home), python).items():
            built[name]["check"] = verdict
            if not verdict.startswith("ok"):
                raise GrammarError(f"{name}: the check snippet parsed with errors")
    return built


def _build_all(cc: list[str], todo: list[Grammar], roots: dict[str, Path], added: dict[str, list[str]],
               base: Path, home: Path, log: Callable[[str], None]) -> dict[str, dict[str, Any]]:
    def build(g: Grammar) -> tuple[Grammar, Path, dict[str, Any]]:
        stage = Path(tempfile.mkdtemp(prefix=f".{g.name}-", dir=base))
        os.chmod(stage, 0o755)
        try:
            info = _compile(cc, roots[g.dist], g, stage)
            _check_symbol(stage / f"{g.name}.so", g)
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
        info.update(name=g.name, dist=g.dist, version=g.version, sdist_sha256=g.sha256, overlay=added[g.name],
                    compiler=" ".join(cc))
        (stage / "manifest.json").write_text(json.dumps(info, indent=1))
        return g, stage, info

    built, failures = {}, []
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for future in [pool.submit(build, g) for g in todo]:
            try:
                g, stage, info = future.result()
            except GrammarError as exc:
                failures.append(str(exc))
                continue
            _replace_dir(stage, grammar_dir(g.name, home))
            built[g.name] = info
            log(f"built {g.name} {g.version}: {info['bytes'] // 1024} KB in {info['seconds']} s")
    if failures:
        raise GrammarError("; ".join(failures))
    return built


def _replace_dir(stage: Path, final: Path) -> None:
    if final.exists():
        old = final.with_name(f".old-{final.name}-{os.getpid()}")
        os.replace(final, old)
        os.replace(stage, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(stage, final)


class _InstallLock:
    """An exclusive lock on <home>/grammars/.lock, so that two installers do not build into each other."""

    def __init__(self, base: Path) -> None:
        self.path = base / ".lock"

    def __enter__(self) -> _InstallLock:
        from filelock import FileLock

        self.lock = FileLock(str(self.path))
        self.lock.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.lock.release()
