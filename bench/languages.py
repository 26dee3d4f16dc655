"""Benchmark of the tree-sitter languages (not a test): parse rate per language, and a polyglot corpus indexed into
the embedded default, side by side with GitNexus in the same sitting.

    python bench/languages.py --corpora DIR [--gitnexus GITNEXUS_BIN] [--runs 3] [--chart docs/languages.png]

DIR holds one folder of real code per language (javascript, typescript, tsx, go, rust, java, c, cpp, csharp, ruby,
php). Measured:
  parse     per language, extraction of every file (read, parse, query, facts) on a warm process pool of 1 and of
            2 workers (each worker has imported tree-sitter and compiled the query: a pass is made before timing),
            and serially in this process; steady-state files/s, median of --runs. The whole pipeline's start-up
            (pool, imports) is in the polyglot figures instead.
  polyglot  every language folder plus this interpreter's standard library (.py, without tests) in one repository,
            indexed with `auto` and 2 workers into a fresh managed ArcadeDB (the embedded default): wall seconds,
            nodes and relationships. Median of --runs.
  gitnexus  `gitnexus analyze --index-only --skip-fts --skip-git` on a fresh copy of the same corpus, its nodes
            and edges as it reports them. Median of --runs.
Writes bench/results/languages.json, and the chart with --chart (matplotlib: the `bench` extra).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
LANGUAGE_FOLDERS = ("javascript", "typescript", "tsx", "go", "rust", "java", "c", "cpp", "csharp", "ruby", "php")


def parse_rate(folder: Path, executor: str, workers: int, runs: int) -> dict[str, Any]:
    from indexer.executors import make_executor
    from indexer.pipeline.discover import discover
    from indexer.pipeline.parse.stage import _batches, plan_routes
    from indexer.settings import Settings
    from indexer.worker import init_process, parse_batch

    settings = Settings.from_env(executor=executor, workers=workers, serial_threshold=0)
    tasks = [t for route in plan_routes(discover(folder).files, settings) for t in route.tasks]
    batches = _batches(tasks, workers, "bench", str(settings.grammars))
    pool = make_executor(executor, workers, init_process, (os.getpid(),), preload=("indexer.worker",))
    try:
        list(pool.map(parse_batch, batches))  # warm-up: imports, grammars and queries in every worker
        seconds = []
        for _ in range(runs):
            started = time.perf_counter()
            list(pool.map(parse_batch, batches))
            seconds.append(time.perf_counter() - started)
    finally:
        pool.shutdown(wait=True)
    median = statistics.median(seconds)
    return {"files": len(tasks), "seconds": round(median, 3), "files_per_second": round(len(tasks) / median, 1)}


def parse_rates(corpora: Path, runs: int) -> list[dict[str, Any]]:
    rows = []
    for name in LANGUAGE_FOLDERS:
        folder = corpora / name
        if not folder.is_dir():
            continue
        row: dict[str, Any] = {"language": name}
        for label, executor, workers in (("serial", "serial", 1), ("process_1", "process", 1),
                                         ("process_2", "process", 2)):
            row[label] = parse_rate(folder, executor, workers, runs)
        row["files"] = row["serial"]["files"]
        row["speedup_2_workers"] = round(row["process_2"]["files_per_second"]
                                         / row["process_1"]["files_per_second"], 2)
        print(f"bench: parse {name:11} {row['files']:4} files  serial {row['serial']['files_per_second']:7.0f}  "
              f"1 worker {row['process_1']['files_per_second']:7.0f}  2 workers "
              f"{row['process_2']['files_per_second']:7.0f} files/s  ({row['speedup_2_workers']}x)", file=sys.stderr)
        rows.append(row)
    return rows


def assemble_polyglot(corpora: Path, dest: Path) -> int:
    """The language folders and this interpreter's stdlib side by side in one tree; the number of files."""
    from bench import copy_stdlib

    for name in LANGUAGE_FOLDERS:
        if (corpora / name).is_dir():
            shutil.copytree(corpora / name, dest / name)
    copy_stdlib(dest / "python-stdlib")
    return sum(1 for p in dest.rglob("*") if p.is_file())


def index_polyglot(corpus: Path, home: Path, runs: int) -> dict[str, Any]:
    from indexer import localdb
    from indexer.pipeline.run import run
    from indexer.settings import Settings
    from indexer.store import open_store, writes

    settings = Settings.from_env(home=home, workers=2)
    localdb.ensure_running(settings)
    walls, summary = [], None
    try:
        with open_store(settings) as store:
            for _ in range(runs):
                writes.delete_repository(store, "polyglot")
                started = time.perf_counter()
                summary = run(corpus, settings, repo="polyglot", store=store)
                walls.append(time.perf_counter() - started)
                print(f"bench: graphdex polyglot {walls[-1]:.1f}s", file=sys.stderr)
    finally:
        localdb.stop(settings)
    assert summary is not None
    return {"wall_seconds": round(statistics.median(walls), 2), "walls": [round(w, 2) for w in walls],
            "files": summary.files_indexed, "nodes": sum(summary.nodes.values()),
            "relationships": sum(summary.relationships.values()), "node_counts": summary.nodes,
            "relationship_counts": summary.relationships, "phases": summary.phases,
            "languages": summary.languages, "executor": summary.executor, "workers": summary.workers}


def gitnexus_polyglot(gitnexus: str, corpus: Path, work: Path, runs: int) -> dict[str, Any]:
    walls, nodes, edges = [], 0, 0
    for i in range(runs):
        copy = work / f"gitnexus-{i}"
        shutil.copytree(corpus, copy)
        env = dict(os.environ, HOME=str(work / "gitnexus-home"))
        started = time.perf_counter()
        done = subprocess.run([gitnexus, "analyze", "--index-only", "--skip-fts", "--skip-git", "."], cwd=copy,
                              capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
        walls.append(time.perf_counter() - started)
        found = re.search(r"([\d,]+) nodes \| ([\d,]+) edges", done.stdout + done.stderr)
        if done.returncode != 0 or not found:
            raise SystemExit(f"bench: gitnexus failed ({done.returncode}): {(done.stdout + done.stderr)[-2000:]}")
        nodes, edges = (int(found.group(i).replace(",", "")) for i in (1, 2))
        shutil.rmtree(copy, ignore_errors=True)
        print(f"bench: gitnexus polyglot {walls[-1]:.1f}s", file=sys.stderr)
    version = subprocess.run([gitnexus, "--version"], capture_output=True, text=True).stdout.strip()
    return {"wall_seconds": round(statistics.median(walls), 2), "walls": [round(w, 2) for w in walls],
            "nodes": nodes, "relationships": edges, "version": version}


def markdown(data: dict[str, Any]) -> str:
    """The README's tables, from the results."""
    lines = ["| language | files | serial files/s | 1 worker files/s | 2 workers files/s | x1 |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in data.get("parse", []):
        lines.append(f"| {r['language']} | {r['files']} | {r['serial']['files_per_second']:.0f} | "
                     f"{r['process_1']['files_per_second']:.0f} | {r['process_2']['files_per_second']:.0f} | "
                     f"{r['speedup_2_workers']:.2f}x |")
    poly = data.get("polyglot")
    if poly:
        g = poly["graphdex"]
        lines += ["", "| polyglot corpus | files | wall s (median) | runs | nodes | relationships |",
                  "| --- | ---: | ---: | --- | ---: | ---: |",
                  f"| graphdex (auto, 2 workers, embedded ArcadeDB) | {g['files']} | {g['wall_seconds']:.1f} | "
                  f"{', '.join(f'{w:.1f}' for w in g['walls'])} | {g['nodes']} | {g['relationships']} |"]
        if "gitnexus" in poly:
            n = poly["gitnexus"]
            lines.append(f"| GitNexus {n.get('version', '')} (`analyze --index-only --skip-fts --skip-git`) | "
                         f"{poly['files']} | {n['wall_seconds']:.1f} | {', '.join(f'{w:.1f}' for w in n['walls'])} "
                         f"| {n['nodes']} | {n['relationships']} |")
            lines += ["", f"graphdex is **{poly['speedup']}x** faster than GitNexus on this corpus (wall time, "
                          "same sitting)."]
    return "\n".join(lines)


def chart(data: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = data["parse"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2), gridspec_kw={"width_ratios": [3, 1]})
    names = [r["language"] for r in rows]
    xs = range(len(rows))
    for offset, key, label in ((-0.2, "process_1", "1 worker"), (0.2, "process_2", "2 workers")):
        left.bar([x + offset for x in xs], [r[key]["files_per_second"] for r in rows], 0.4, label=label)
    left.set_xticks(list(xs), names, rotation=30)
    left.set_ylabel("files/s (extraction, warm pool)")
    left.set_title("tree-sitter parse rate per language (process pool)")
    left.legend()
    poly = data.get("polyglot", {})
    bars = [("graphdex", poly.get("graphdex", {}).get("wall_seconds", 0))]
    if "gitnexus" in poly:
        bars.append(("GitNexus", poly["gitnexus"]["wall_seconds"]))
    right.bar([b[0] for b in bars], [b[1] for b in bars], color=["tab:green", "tab:gray"][: len(bars)])
    right.set_ylabel("wall seconds")
    right.set_title(f"polyglot corpus, {poly.get('files', '?')} files")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpora", type=Path, help="one folder of real code per language (required to measure)")
    parser.add_argument("--gitnexus", help="the gitnexus executable (node_modules/.bin/gitnexus)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-parse", action="store_true")
    parser.add_argument("--table", action="store_true", help="print the README tables from --out and stop")
    parser.add_argument("--chart", type=Path)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "languages.json")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE))
    if args.table:
        print(markdown(json.loads(args.out.read_text())))
        return 0
    if args.corpora is None:
        parser.error("--corpora is required to measure")
    data: dict[str, Any] = json.loads(args.out.read_text()) if args.skip_parse and args.out.exists() else {}
    data["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    data["python"] = sys.version.split()[0]
    if not args.skip_parse:
        data["parse"] = parse_rates(args.corpora, args.runs)
    work = Path(tempfile.mkdtemp(prefix="graphdex-bench-languages-"))
    try:
        corpus = work / "polyglot"
        files = assemble_polyglot(args.corpora, corpus)
        from bench import machine_capacity

        data["machine_parallel_capacity"] = machine_capacity(corpus / "python-stdlib", str(work / "home"))
        print(f"bench: machine parallel capacity {data['machine_parallel_capacity']}x", file=sys.stderr)
        data["polyglot"] = {"files": files, "graphdex": index_polyglot(corpus, work / "home", args.runs)}
        if args.gitnexus:
            data["polyglot"]["gitnexus"] = gitnexus_polyglot(args.gitnexus, corpus, work, args.runs)
            data["polyglot"]["speedup"] = round(data["polyglot"]["gitnexus"]["wall_seconds"]
                                                / data["polyglot"]["graphdex"]["wall_seconds"], 1)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=2) + "\n")
    if args.chart:
        chart(data, args.chart)
    print(json.dumps({k: v for k, v in data["polyglot"].items() if k != "graphdex"} | {
        "graphdex_wall": data["polyglot"]["graphdex"]["wall_seconds"]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
