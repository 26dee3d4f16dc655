"""graphdex benchmark (not a test): how fast each executor parses and indexes a corpus on this interpreter.

    python bench/bench.py                       # the running interpreter's stdlib, every mode, median of 3
    python bench/bench.py --corpus PATH --runs 5 --modes parse,index

Corpus: by default the running interpreter's standard library without site-packages and folders named test,
tests or idle_test (734 .py files on 3.11.7), copied to a temporary folder.

Modes (each configuration runs in a fresh child interpreter, so peak RSS and the GIL state are its own):
  parse   pipeline.run.run(dry_run=True): discovery, parse/extract in the pool, resolve; no graph server.
          files/s = files / the `parse` phase, the part that runs in parallel.
  index   the whole corpus into the managed (embedded) ArcadeDB server; the repository is deleted before each
          run. files/s = files / wall seconds.
  small   a 20-file repository into the server: `auto` vs `serial` (auto must never be slower).
Executors: serial; process with 1 and 2 workers; thread with 1 and 2 workers where threads run in parallel
(a free-threaded build with the GIL off), or everywhere with --executors.

Prints a table and writes JSON to bench/results/<interpreter tag>.json (py311, py314t, ...).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SKIP_DIRS = {"site-packages", "dist-packages", "test", "tests", "idle_test", "__pycache__"}
SMALL_FILES = 20


def interpreter_tag() -> str:
    free = sysconfig.get_config_var("Py_GIL_DISABLED") == 1
    return f"py{sys.version_info.major}{sys.version_info.minor}{'t' if free else ''}"


def interpreter_info() -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from indexer import runtime

    return {
        "tag": interpreter_tag(),
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "free_threading_build": runtime.is_free_threading_available(),
        "gil_enabled": runtime.is_gil_enabled(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
    }


def copy_stdlib(dest: Path) -> int:
    """Copy the interpreter's stdlib .py files (minus site-packages and test folders) into dest."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    count = 0
    for folder, dirs, files in os.walk(stdlib):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in sorted(files):
            if name.endswith(".py"):
                source = Path(folder) / name
                target = dest / source.relative_to(stdlib)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
                count += 1
    return count


def copy_small(corpus: Path, dest: Path, files: int = SMALL_FILES) -> None:
    """The first `files` top-level modules of the corpus: a small repository."""
    for source in sorted(corpus.glob("*.py"))[:files]:
        shutil.copyfile(source, dest / source.name)


# -- one configuration, in a child interpreter ------------------------------------------------------------------


def child(config: dict[str, Any]) -> dict[str, Any]:
    """Run one configuration `runs` times; return per-run figures and this process tree's peak RSS."""
    sys.path.insert(0, str(ROOT))
    from indexer import runtime
    from indexer.pipeline.run import run as index_run
    from indexer.settings import Settings
    from indexer.store import open_store, writes

    runtime.watch_gil()
    settings = Settings.from_env(executor=config["executor"], workers=config["workers"])
    store = None if config["mode"] == "parse" else open_store(settings)
    repo = f"bench-{config['mode']}"
    runs = []
    try:
        for _ in range(config["runs"] + config.get("warmup", 0)):
            if store is not None:
                writes.delete_repository(store, repo)
            summary = index_run(config["corpus"], settings, repo=repo, store=store,
                                   dry_run=config["mode"] == "parse")
            runs.append({
                "wall": summary.wall_seconds, "phases": summary.phases, "files": summary.files_indexed,
                "failed": summary.files_failed, "executor": summary.executor, "workers": summary.workers,
                "gil_enabled": summary.gil_enabled, "nodes": sum(summary.nodes.values()),
                "relationships": sum(summary.relationships.values()),
            })
        if store is not None:
            writes.delete_repository(store, repo)
    finally:
        if store is not None:
            store.close()
    rss_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rss_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    return {
        "runs": runs[config.get("warmup", 0):],
        "peak_rss_mb": round((rss_self + rss_children) * scale / 2**20, 1),
        "gil_enabled_after": runtime.is_gil_enabled(),
        "gil_cause": runtime.gil_cause(),
    }


def run_child(config: dict[str, Any], home: str) -> dict[str, Any]:
    env = dict(os.environ, GRAPHDEX_HOME=home)
    env.pop("NEO4J_URI", None)
    done = subprocess.run([sys.executable, __file__, "--child", json.dumps(config)], capture_output=True,
                          text=True, env=env, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise SystemExit(f"bench: {config} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def machine_capacity(corpus: Path, home: str) -> float:
    """The machine's real parallel capacity now: throughput of two serial parses run at the same time, over
    one alone (2.0 = two free cores). Shared or throttled cores show here, and bound every speedup below."""
    config = {"mode": "parse", "executor": "serial", "workers": 1, "runs": 1, "corpus": str(corpus)}
    alone = run_child(config, home)["runs"][0]["phases"]["parse"]
    with ThreadPoolExecutor(2) as pool:
        both = [r["runs"][0]["phases"]["parse"] for r in pool.map(lambda _: run_child(config, home), range(2))]
    return round(2 * alone / max(both), 2)


# -- the parent: configurations, medians, table, JSON -----------------------------------------------------------


def summarise(config: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    runs = result["runs"]
    phases: dict[str, float] = {}
    for name in runs[0]["phases"]:
        phases[name] = round(statistics.median(r["phases"].get(name, 0.0) for r in runs), 4)
    wall = statistics.median(r["wall"] for r in runs)
    files = runs[0]["files"]
    basis = phases.get("parse", 0.0) if config["mode"] == "parse" else wall
    return {
        "mode": config["mode"], "requested": config["executor"], "executor": runs[0]["executor"],
        "workers": runs[0]["workers"], "files": files, "failed": runs[0]["failed"],
        "nodes": runs[0]["nodes"], "relationships": runs[0]["relationships"],
        "wall_seconds": round(wall, 3), "wall_runs": [r["wall"] for r in runs],
        "parse_runs": [r["phases"].get("parse", 0.0) for r in runs],
        "phases": phases, "files_per_second": round(files / basis, 1) if basis else 0.0,
        "peak_rss_mb": result["peak_rss_mb"], "gil_enabled": runs[-1]["gil_enabled"],
        "gil_cause": result["gil_cause"],
    }


def add_speedups(rows: list[dict[str, Any]]) -> None:
    """speedup = files/s over files/s of the same mode and executor with 1 worker (serial: 1.0)."""
    for row in rows:
        base = next((r for r in rows if r["mode"] == row["mode"] and r["requested"] == row["requested"]
                     and r["workers"] == 1), None)
        serial = next((r for r in rows if r["mode"] == row["mode"] and r["requested"] == "serial"), None)
        row["speedup_vs_1_worker"] = round(row["files_per_second"] / base["files_per_second"], 2) if base else None
        row["speedup_vs_serial"] = (round(row["files_per_second"] / serial["files_per_second"], 2)
                                    if serial and serial["files_per_second"] else None)


def format_table(rows: list[dict[str, Any]]) -> str:
    header = (f"{'mode':<6} {'executor':<9} {'w':>2} {'files':>5} {'wall s':>8} {'parse s':>8} {'write s':>8} "
              f"{'files/s':>8} {'x1 worker':>9} {'xserial':>8} {'RSS MB':>7}  GIL")
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(
            f"{r['mode']:<6} {r['requested']:<9} {r['workers']:>2} {r['files']:>5} {r['wall_seconds']:>8.2f} "
            f"{r['phases'].get('parse', 0):>8.2f} {r['phases'].get('write', 0):>8.2f} {r['files_per_second']:>8.1f} "
            f"{_x(r['speedup_vs_1_worker']):>9} {_x(r['speedup_vs_serial']):>8} {r['peak_rss_mb']:>7.0f}  "
            f"{'on' if r['gil_enabled'] else 'off'}" + (f" ({r['gil_cause']})" if r["gil_cause"] else "")
        )
    return "\n".join(lines)


def _x(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def executors(requested: str | None, info: dict[str, Any]) -> list[tuple[str, int]]:
    if requested:
        kinds = [k.strip() for k in requested.split(",") if k.strip()]
    else:
        threads_parallel = info["free_threading_build"] and not info["gil_enabled"]
        kinds = ["serial", "process"] + (["thread"] if threads_parallel else [])
    configs: list[tuple[str, int]] = []
    for kind in kinds:
        configs += [(kind, 1)] if kind == "serial" else [(kind, 1), (kind, 2)]
    return configs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--corpus", help="a repository to index (default: a copy of this interpreter's stdlib)")
    parser.add_argument("--runs", type=int, default=3, help="runs per configuration; the median is reported")
    parser.add_argument("--modes", default="parse,index,small", help="parse, index, small (comma-separated)")
    parser.add_argument("--executors", help="e.g. serial,process,thread (default: those that apply here)")
    parser.add_argument("--home", help="GRAPHDEX_HOME of the benchmark's server (default: a temporary one)")
    parser.add_argument("--out", help="JSON output (default bench/results/<interpreter tag>.json)")
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return 0

    sys.path.insert(0, str(ROOT))
    from indexer import localdb
    from indexer.settings import Settings

    info = interpreter_info()
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    work = Path(tempfile.mkdtemp(prefix="graphdex-bench-"))
    home = args.home or str(work / "home")
    started_server = False
    try:
        if args.corpus:
            corpus, files = Path(args.corpus).resolve(), None
        else:
            corpus = work / "stdlib"
            files = copy_stdlib(corpus)
        small = work / "small"
        small.mkdir()
        copy_small(corpus, small)
        print(f"bench: {info['tag']} ({info['python']}, free-threaded={info['free_threading_build']}, "
              f"GIL {'on' if info['gil_enabled'] else 'off'}), corpus {corpus}"
              f"{f' ({files} .py files)' if files else ''}, {os.cpu_count()} CPUs, median of {args.runs}",
              file=sys.stderr)
        if {"index", "small"} & set(modes):
            settings = Settings.from_env(home=Path(home))
            if not localdb.status(settings).running:
                started_server = True
            localdb.ensure_running(settings)
        capacity = machine_capacity(corpus, home)
        print(f"bench: machine parallel capacity {capacity}x (two serial parses at once vs one)", file=sys.stderr)
        rows: list[dict[str, Any]] = []
        for mode in modes:
            configs = executors(args.executors, info) if mode != "small" else [("serial", 1), ("auto", 2)]
            for kind, workers in configs:
                config = {"mode": mode, "executor": kind, "workers": workers, "runs": args.runs if mode != "small"
                          else max(11, args.runs), "warmup": 1 if mode != "parse" else 0,
                          "corpus": str(small if mode == "small" else corpus)}
                t0 = time.perf_counter()
                row = summarise(config, run_child(config, home))
                print(f"bench: {mode} {kind} x{workers}: {row['files_per_second']} files/s, "
                      f"wall {row['wall_seconds']}s ({time.perf_counter() - t0:.0f}s)", file=sys.stderr)
                rows.append(row)
        add_speedups(rows)
        print(format_table(rows))
        print(f"machine parallel capacity: {capacity}x (two serial parses at once vs one; 2.0 = two free cores)")
        out = Path(args.out) if args.out else HERE / "results" / f"{info['tag']}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        data = {"interpreter": info, "corpus": str(corpus) if args.corpus else "stdlib", "files": rows[0]["files"]
                if rows else 0, "runs": args.runs, "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
                "machine_parallel_capacity": capacity, "results": rows}
        out.write_text(json.dumps(data, indent=2) + "\n")
        print(f"bench: wrote {out}", file=sys.stderr)
    finally:
        if started_server:
            localdb.stop(Settings.from_env(home=Path(home)))
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
