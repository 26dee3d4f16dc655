"""How graphdex's cost grows with the repository (not a test): 1x, 2x, 4x and 8x the standard library.

    python bench/growth.py                  # sizes 1,2,4,8; writes bench/results/growth-<tag>.json and docs/growth.png
    python bench/growth.py --sizes 1,2 --workers 2

Each size is N copies of the running interpreter's standard library (as bench/bench.py copies it), each copy a
package of its own (stdlib_0, stdlib_1, ...), indexed fresh into the managed ArcadeDB by a child interpreter
with the default settings. Reported per size: wall seconds, files, nodes, relationships, the peak resident
memory of the graphdex processes (the run and its workers, sampled every 50 ms; the graph server is apart), the
run's own peak and its MB per 1,000 files, and the ratios to 1x. The targets: time grows at most 1.1x the size
ratio; peak RSS at 8x at most 600 MB (issue 16: the run's own at most 400 MB, not reached; docs/scaling.md says
what it holds and why).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from bench import copy_stdlib, interpreter_tag  # noqa: E402


def make_corpus(base: Path, dest: Path, copies: int) -> int:
    """`copies` packages stdlib_0.. each holding the stdlib corpus; the number of files."""
    dest.mkdir(parents=True)
    for n in range(copies):
        package = dest / f"stdlib_{n}"
        shutil.copytree(base, package)
        (package / "__init__.py").write_text("")
    return sum(1 for _ in dest.rglob("*.py"))


def child(corpus: str, workers: int) -> dict[str, Any]:
    """Index `corpus` fresh; wall time, counts and the peak RSS of this process tree (the server excluded)."""
    import psutil

    sys.path.insert(0, str(ROOT))
    from indexer.pipeline.run import run
    from indexer.settings import Settings
    from indexer.store import open_store, writes

    settings = Settings.from_env(workers=workers)
    me = psutil.Process()
    peak = [0, 0]  # the run and its workers; the run's own process
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                try:
                    if "java" not in proc.name():
                        total += proc.memory_info().rss
                except psutil.Error:
                    continue
            peak[0] = max(peak[0], total)
            peak[1] = max(peak[1], me.memory_info().rss)

    with open_store(settings) as store:
        writes.delete_repository(store, "growth")
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.perf_counter()
        summary = run(corpus, settings, repo="growth", store=store)
        wall = time.perf_counter() - started
        done.set()
        sampler.join()
        writes.delete_repository(store, "growth")
    return {"wall": round(wall, 2), "files": summary.files_indexed, "nodes": sum(summary.nodes.values()),
            "relationships": sum(summary.relationships.values()), "peak_rss_mb": round(peak[0] / 2**20, 1),
            "parent_peak_rss_mb": round(peak[1] / 2**20, 1),
            "phases": summary.phases, "executor": summary.executor, "workers": summary.workers}


def measure(corpus: Path, workers: int) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, "--child", str(corpus), "--workers", str(workers)],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise SystemExit(f"growth: {corpus} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(rows: list[dict[str, Any]]) -> str:
    head = ("| size | files | nodes | relationships | wall s | time x1 | peak RSS MB | RSS x1 | parent peak MB |"
            " parent MB per 1,000 files |")
    lines = [head, "|" + "---|" * 10]
    base = rows[0]
    for r in rows:
        lines.append(f"| {r['size']}x | {r['files']} | {r['nodes']} | {r['relationships']} | {r['wall']:.1f} | "
                     f"{r['wall'] / base['wall']:.2f}x | {r['peak_rss_mb']:.0f} | "
                     f"{r['peak_rss_mb'] / base['peak_rss_mb']:.2f}x | {r['parent_peak_rss_mb']:.0f} | "
                f"{r['parent_peak_rss_mb'] * 1000 / r['files']:.0f} |")
    return "\n".join(lines)


def chart(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["size"] for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(sizes, [r["wall"] for r in rows], "o-", label="graphdex")
    left.plot(sizes, [rows[0]["wall"] * s * 1.1 for s in sizes], "--", color="grey", label="1.1x the size")
    left.set(xlabel="copies of the standard library", ylabel="wall seconds", title="index time")
    left.legend()
    right.plot(sizes, [r["peak_rss_mb"] for r in rows], "o-")
    right.axhline(600, linestyle="--", color="grey", label="600 MB")
    right.set(xlabel="copies of the standard library", ylabel="MB", title="peak RSS of the graphdex processes")
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,2,4,8")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.workers)))
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="graphdex-growth-") as tmp:
        base = Path(tmp) / "stdlib"
        copy_stdlib(base)
        for size in sizes:
            corpus = Path(tmp) / f"x{size}"
            make_corpus(base, corpus, size)
            row = {"size": size, **measure(corpus, args.workers)}
            rows.append(row)
            print(f"{size}x: {row}", file=sys.stderr)
            shutil.rmtree(corpus)
    print(table(rows))
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    out = {"interpreter": interpreter_tag(), "workers": args.workers, "rows": rows}
    (results / f"growth-{interpreter_tag()}.json").write_text(json.dumps(out, indent=2))
    try:
        chart(rows, ROOT / "docs" / "growth.png")
    except ImportError:
        print("(matplotlib is not installed: no chart; pip install -e '.[bench]')", file=sys.stderr)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
