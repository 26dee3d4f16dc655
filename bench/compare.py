"""Merge bench/results/*.json of several interpreters into one table and a PNG chart.

    python bench/compare.py                                   # every bench/results/*.json -> docs/bench.png
    python bench/compare.py bench/results/py311.json bench/results/py314t.json --png docs/bench.png

The table puts side by side, for each interpreter: serial, threads and processes with 1 and 2 workers, on
parse/extract (files per second of the parallel `parse` phase, no server) and on a whole index run into the
embedded server (files per second of wall time). The chart draws files/s by executor and workers (matplotlib,
from the `bench` extra: pip install -e '.[bench]').
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ORDER = {"serial": 0, "thread": 1, "process": 2, "auto": 3}
MODES = (("parse", "parse/extract (no server)"), ("index", "index into the embedded server"))


def load(paths: list[Path]) -> list[dict[str, Any]]:
    data = [json.loads(p.read_text()) for p in paths]
    # bench/results/ also holds other benchmarks' JSON (embed-*.json): keep bench.py's own.
    data = [d for d in data if isinstance(d, dict) and "interpreter" in d and "results" in d]
    # free-threaded interpreters first, then by version, newest first
    return sorted(data, key=lambda d: (not d["interpreter"]["free_threading_build"], d["interpreter"]["tag"]))


def rows_of(data: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for bench in data:
        tag = bench["interpreter"]["tag"]
        for r in bench["results"]:
            if r["mode"] in ("parse", "index"):
                rows.append({**r, "tag": tag})
    return rows


def table(data: list[dict[str, Any]]) -> str:
    rows = rows_of(data)
    keys = sorted({(r["tag"], r["requested"], r["workers"]) for r in rows},
                  key=lambda k: ([d["interpreter"]["tag"] for d in data].index(k[0]), ORDER.get(k[1], 9), k[2]))
    head = (f"| {'interpreter':<11} | {'executor':<8} | {'workers':>7} | {'parse files/s':>13} | {'parse x1':>8} "
            f"| {'index wall s':>12} | {'index files/s':>13} | {'index x1':>8} | {'peak RSS MB':>11} |")
    lines = [head, "|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|"]
    for tag, kind, workers in keys:
        by_mode = {r["mode"]: r for r in rows if (r["tag"], r["requested"], r["workers"]) == (tag, kind, workers)}
        p, i = by_mode.get("parse"), by_mode.get("index")
        rss = max((r["peak_rss_mb"] for r in by_mode.values()), default=0)
        lines.append(
            f"| {tag:<11} | {kind:<8} | {workers:>7} | {_f(p, 'files_per_second'):>13} | {_x(p):>8} "
            f"| {_f(i, 'wall_seconds', 2):>12} | {_f(i, 'files_per_second'):>13} | {_x(i):>8} | {rss:>11.0f} |"
        )
    small = []
    for bench in data:
        by_kind = {r["requested"]: r for r in bench["results"] if r["mode"] == "small"}
        if "serial" in by_kind and "auto" in by_kind:
            s, a = by_kind["serial"], by_kind["auto"]
            small.append(f"{bench['interpreter']['tag']}: {s['files']} files, serial {s['wall_seconds']:.3f} s, "
                         f"auto ({a['executor']}) {a['wall_seconds']:.3f} s")
    files = {d["interpreter"]["tag"]: d.get("files") for d in data}
    notes = [f"corpus: {', '.join(f'{t} {n} files' for t, n in files.items())}; median of "
             f"{', '.join(str(d['runs']) for d in data)} runs; x1 = files/s over the same executor with 1 worker"]
    if small:
        notes.append("small repository (auto vs serial, into the server): " + "; ".join(small))
    capacity = [f"{d['interpreter']['tag']} {d['machine_parallel_capacity']}x" for d in data
                if "machine_parallel_capacity" in d]
    if capacity:
        notes.append("machine parallel capacity (two serial parses at once vs one; 2.0 = two free cores): "
                     + "; ".join(capacity))
    return "\n".join(lines + [""] + notes)


def _f(row: dict[str, Any] | None, key: str, digits: int = 0) -> str:
    return "-" if row is None else f"{row[key]:.{digits}f}"


def _x(row: dict[str, Any] | None) -> str:
    value = None if row is None else row.get("speedup_vs_1_worker")
    return "-" if value is None else f"{value:.2f}x"


def chart(data: list[dict[str, Any]], png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = rows_of(data)
    groups = []  # (tag, executor) in display order
    for bench in data:
        tag = bench["interpreter"]["tag"]
        kinds = sorted({r["requested"] for r in rows if r["tag"] == tag}, key=lambda k: ORDER.get(k, 9))
        groups += [(tag, k) for k in kinds]
    workers = sorted({r["workers"] for r in rows})
    fig, axes = plt.subplots(1, len(MODES), figsize=(6 * len(MODES), 4.2), constrained_layout=True)
    width = 0.8 / max(1, len(workers))
    colours = ["#4c72b0", "#dd8452", "#55a868", "#c44e52"]
    for ax, (mode, title) in zip(axes, MODES, strict=True):
        for n, w in enumerate(workers):
            values = []
            for tag, kind in groups:
                row = next((r for r in rows if (r["tag"], r["requested"], r["workers"], r["mode"])
                            == (tag, kind, w, mode)), None)
                values.append(row["files_per_second"] if row else 0.0)
            xs = [g + (n - (len(workers) - 1) / 2) * width for g in range(len(groups))]
            bars = ax.bar(xs, values, width, label=f"{w} worker{'s' if w > 1 else ''}", color=colours[n % 4])
            ax.bar_label(bars, labels=[f"{v:.0f}" if v else "" for v in values], fontsize=7, padding=2)
        ax.set_xticks(range(len(groups)), [f"{tag}\n{kind}" for tag, kind in groups], fontsize=8)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel("files / s")
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=8)
    files = {d.get("files") for d in data}
    fig.suptitle(f"graphdex: stdlib corpus ({'/'.join(str(f) for f in sorted(files))} .py files), 2 CPUs, "
                 "median of 3", fontsize=10)
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", nargs="*", type=Path, help="bench JSON files (default bench/results/*.json)")
    parser.add_argument("--png", type=Path, default=HERE.parent / "docs" / "bench.png", help="chart output")
    parser.add_argument("--no-chart", action="store_true")
    args = parser.parse_args(argv)
    paths = args.results or sorted((HERE / "results").glob("*.json"))
    if not paths:
        print("compare: no results; run bench/bench.py first", file=sys.stderr)
        return 1
    data = load(paths)
    if not data:
        print("compare: none of the files is a bench/bench.py result", file=sys.stderr)
        return 1
    print(table(data))
    if not args.no_chart:
        chart(data, args.png)
        print(f"compare: wrote {args.png}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
