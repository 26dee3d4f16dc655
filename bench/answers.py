"""graphdex benchmark (not a test): how fast the answers (issue 13) come on the standard library's graph.

    python bench/answers.py            # copies this interpreter's stdlib, indexes it (once), times every answer

The stdlib is copied as bench/bench.py does, made a git repository (one commit, then one edited function, for
detect_changes) and indexed into the managed (embedded) ArcadeDB server under the id `bench-answers`, unless
that repository is already there. Each answer is then called through the library with one open store, as the
MCP server calls it: `cold` is the first call in this process, `warm` the median of the next five. dead_code's
first call reads the repository's facts (cached until the next index run); the others read a frontier at a time.
Prints a Markdown table and writes it to bench/results/answers-<interpreter tag>.md.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from bench import copy_stdlib, interpreter_tag  # noqa: E402
from indexer.answers import architecture, changes, dead_code, impact, paths  # noqa: E402
from indexer.pipeline.run import run  # noqa: E402
from indexer.settings import Settings  # noqa: E402
from indexer.store import GraphStore, open_store, queries, reads  # noqa: E402

REPO = "bench-answers"
WARM_RUNS = 5
BUDGET = {"architecture": 1.0}  # seconds; every other answer: 0.2

CASES: list[tuple[str, str, Any, tuple[Any, ...]]] = [
    ("impact", "posixpath.join, depth 3", impact.impact, ("posixpath.join", REPO, 3)),
    ("impact", "json.decoder.JSONDecoder.decode, depth 3", impact.impact,
     ("json.decoder.JSONDecoder.decode", REPO, 3)),
    ("callers", "email.message.Message.get_payload (+ unresolved)", queries.callers,
     ("email.message.Message.get_payload", REPO)),
    ("call_path", "zipfile -> posixpath.join, k=3", paths.call_path, ("zipfile", "posixpath.join", REPO)),
    ("call_path", "json.tool.main -> JSONDecoder.raw_decode", paths.call_path,
     ("json.tool.main", "json.decoder.JSONDecoder.raw_decode", REPO)),
    ("detect_changes", "one edited function, depth 2", changes.detect_changes, (REPO,)),
    ("dead_code", "whole repository, top 100", dead_code.dead_code, (REPO,)),
    ("architecture", "module level (734 modules)", architecture.architecture, (REPO,)),
    ("architecture", "package level", architecture.architecture, (REPO, "package")),
]


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), "-c", "user.name=bench", "-c", "user.email=bench@localhost", *args],
                   check=True, capture_output=True)


def prepare(store: GraphStore, settings: Settings) -> None:
    if reads.repository(store, REPO) is not None:
        return
    root = Path(tempfile.mkdtemp(prefix="graphdex-answers-")) / "stdlib"
    print(f"copying the stdlib: {copy_stdlib(root)} files", flush=True)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "stdlib")
    shlex = root / "shlex.py"
    shlex.write_text(shlex.read_text().replace("    return \"'\" + s.replace(", "    return \"'\" +  s.replace("))
    started = time.perf_counter()
    run(root, settings, repo=REPO, store=store)
    print(f"indexed in {time.perf_counter() - started:.1f} s", flush=True)


def timed(store: GraphStore, fn: Any, args: tuple[Any, ...]) -> tuple[float, float]:
    started = time.perf_counter()
    fn(store, *args)
    cold = time.perf_counter() - started
    warm = []
    for _ in range(WARM_RUNS):
        started = time.perf_counter()
        fn(store, *args)
        warm.append(time.perf_counter() - started)
    return cold, statistics.median(warm)


def main() -> None:
    settings = Settings.from_env()
    with open_store(settings) as store:
        prepare(store, settings)
        rows = []
        for tool, case, fn, args in CASES:
            cold, warm = timed(store, fn, args)
            budget = BUDGET.get(tool, 0.2)
            rows.append(f"| {tool} | {case} | {cold * 1000:.0f} | {warm * 1000:.0f} | {budget * 1000:.0f} | "
                        f"{'yes' if warm <= budget else 'NO'} |")
            print(rows[-1], flush=True)
    table = "\n".join(["| answer | case | cold ms | warm ms (median of 5) | budget ms | warm within |",
                       "|---|---|---|---|---|---|", *rows])
    out = HERE / "results" / f"answers-{interpreter_tag()}.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(table + "\n")
    print(f"\n{table}\n\nwritten to {out}")


if __name__ == "__main__":
    main()
