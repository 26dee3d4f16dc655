"""graphdex benchmark (not a test): a whole run, a re-index with nothing changed, and a re-index after one edit.

    python bench/incremental.py                          # a copy of this interpreter's stdlib
    python bench/incremental.py --corpus PATH --runs 5   # e.g. Django's source tree

One corpus, in one sitting, into the managed (embedded) ArcadeDB server:
  fresh      the whole repository into an empty graph, the facts cache emptied first (`--workers`, and 1 worker
             for the ratio): wall seconds, files/s and the slowest phases
  no-op      the same tree again: pipeline seconds (`pipeline.run` in this warm process) and end to end through
             the CLI (`graphdex index PATH`, a new process)
  one edit   a function added at the end of one file (another file each run): pipeline and CLI seconds
  start-up   the CLI's own start (`graphdex --version`), which the end-to-end figures include, reported apart
Each figure is the median of --runs. Prints a table; writes JSON to bench/results/incremental-<tag>-<corpus>.json.
"""

from __future__ import annotations

import argparse
import json
import os
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
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(ROOT))

from bench import copy_stdlib, interpreter_tag  # noqa: E402

REPO = "bench-incremental"


def median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


def slowest(phases: list[dict[str, float]], n: int = 4) -> str:
    """The n slowest phases, by their median over the runs."""
    names = {name for p in phases for name in p}
    medians = {name: statistics.median(p.get(name, 0.0) for p in phases) for name in names}
    top = sorted(medians.items(), key=lambda item: -item[1])[:n]
    return ", ".join(f"{name} {seconds:.2f}" for name, seconds in top)


def edit(corpus: Path, files: list[Path], run: int) -> str:
    """Add a function at the end of the run's file; its path relative to the corpus."""
    target = files[run % len(files)]
    with target.open("a", encoding="utf-8") as handle:
        handle.write(f"\n\ndef _bench_edited_{run}():\n    return {run}\n")
    return target.relative_to(corpus).as_posix()


def cli(corpus: Path, env: dict[str, str], *args: str) -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "indexer", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"bench: graphdex {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return seconds


def measure(corpus: Path, home: Path, runs: int, workers: int) -> dict[str, Any]:
    from indexer.pipeline.cache import forget_facts
    from indexer.pipeline.run import run as index_run
    from indexer.settings import Settings
    from indexer.store import open_store, writes

    settings = Settings.from_env(home=home, workers=workers)
    one = Settings.from_env(home=home, workers=1)
    env = dict(os.environ, GRAPHDEX_HOME=str(home), GRAPHDEX_WORKERS=str(workers))
    index = ["index", str(corpus), "--name", REPO, "--no-embed", "--no-progress", "--json"]
    out: dict[str, Any] = {}
    with open_store(settings) as store:
        def fresh(with_settings: Settings) -> Any:
            writes.delete_repository(store, REPO)
            forget_facts(home, REPO)
            return index_run(str(corpus), with_settings, repo=REPO, store=store, embed=False)

        fresh(settings)  # warm-up: the server's JIT, the fork server, the OS cache
        for label, chosen in (("fresh", settings), ("fresh, 1 worker", one)):
            summaries = [fresh(chosen) for _ in range(runs)]
            out[label] = {"seconds": median([s.wall_seconds for s in summaries]),
                          "files": summaries[0].files_indexed,
                          "phases": slowest([s.phases for s in summaries])}
        fresh(settings)
        noop = [index_run(str(corpus), settings, repo=REPO, store=store, embed=False) for _ in range(runs)]
        out["no-op"] = {"seconds": median([s.wall_seconds for s in noop]), "phases": slowest([s.phases for s in noop])}
        out["no-op, CLI"] = {"seconds": median([cli(corpus, env, *index) for _ in range(runs)])}
        files = sorted(p for p in corpus.rglob("*.py") if "\ndef " in p.read_text(encoding="utf-8", errors="replace"))
        edits = []
        for run in range(runs):
            edit(corpus, files, run)
            edits.append(index_run(str(corpus), settings, repo=REPO, store=store, embed=False))
        out["one edit"] = {"seconds": median([s.wall_seconds for s in edits]),
                           "phases": slowest([s.phases for s in edits]),
                           "parsed": max(s.files_parsed for s in edits)}
        cli_edits = []
        for run in range(runs, 2 * runs):
            edit(corpus, files, run)
            cli_edits.append(cli(corpus, env, *index))
        out["one edit, CLI"] = {"seconds": median(cli_edits)}
        out["CLI start-up"] = {"seconds": median([cli(corpus, env, "--version") for _ in range(runs)])}
        writes.delete_repository(store, REPO)
        forget_facts(home, REPO)
    out["fresh"]["x1"] = round(out["fresh, 1 worker"]["seconds"] / out["fresh"]["seconds"], 2)
    return out


def table(results: dict[str, Any]) -> str:
    lines = ["| measure | median s | notes |", "| --- | ---: | --- |"]
    for label, row in results.items():
        notes = []
        if "files" in row:
            notes.append(f"{row['files']} files, {row['files'] / row['seconds']:.0f} files/s")
        if "parsed" in row:
            notes.append(f"at most {row['parsed']} file(s) parsed")
        if "x1" in row:
            notes.append(f"{row['x1']}x the 1-worker run")
        if "phases" in row:
            notes.append(f"slowest phases: {row['phases']}")
        lines.append(f"| {label} | {row['seconds']:.3f} | {'; '.join(notes)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", help="a repository (copied first, as it is edited; default: the stdlib)")
    parser.add_argument("--runs", type=int, default=5, help="runs per measure; the median is reported")
    parser.add_argument("--workers", type=int, default=2, help="parse workers of the runs (default 2)")
    parser.add_argument("--out", help="JSON output (default bench/results/incremental-<tag>-<corpus>.json)")
    args = parser.parse_args(argv)

    from indexer import localdb
    from indexer.settings import Settings

    work = Path(tempfile.mkdtemp(prefix="graphdex-incremental-"))
    home = work / "home"
    corpus = work / "corpus"
    name = Path(args.corpus).name if args.corpus else "stdlib"
    try:
        if args.corpus:
            shutil.copytree(args.corpus, corpus, symlinks=True)
        else:
            copy_stdlib(corpus)
        settings = Settings.from_env(home=home)
        localdb.ensure_running(settings)
        try:
            started = time.perf_counter()
            results = measure(corpus, home, args.runs, args.workers)
        finally:
            localdb.stop(settings)
        print(f"corpus {name}, {args.workers} workers, median of {args.runs}, "
              f"{time.perf_counter() - started:.0f} s in all")
        print(table(results))
        out = Path(args.out) if args.out else HERE / "results" / f"incremental-{interpreter_tag()}-{name}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"corpus": name, "workers": args.workers, "runs": args.runs,
                                   "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
                                   "results": results}, indent=2) + "\n")
        print(f"bench: wrote {out}", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
