"""graphdex embedding benchmark (not a test): 1 vs 8 concurrent embedding requests on the stdlib corpus.

    python bench/bench_embed.py                  # median of 3 runs per configuration
    python bench/bench_embed.py --runs 1 --latency-ms 50 --workers 1,8

Corpus: the running interpreter's standard library without site-packages and folders named test, tests or
idle_test, copied to a temporary folder. Provider: tests/openai_server.py in a child process (so its CPU work
does not share our GIL) adding `--latency-ms` per request, reached through the real openai SDK. Graph: the managed
ArcadeDB in a temporary GRAPHDEX_HOME (started here, stopped at the end).

The graph is built once without embeddings; each run then deletes the repository's chunks and re-indexes with
a fresh embedding cache, so the embed stage finds every file without chunks and embeds the whole corpus.
Reported per configuration (median run): chunks, requests, tokens, the embed stage's steps (chunk = reading
and tokenising, embed = requests, write = Chunk nodes into the graph), texts/s over the embed step (what
concurrency speeds up) and over the whole stage, and the speedup of each over the 1-worker run.

Writes JSON to bench/results/embed-<interpreter tag>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
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
sys.path.insert(0, str(HERE))
from bench import copy_stdlib, interpreter_tag  # noqa: E402 - the main benchmark's corpus and naming


def start_server(latency_ms: float) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "openai_server.py"), "--latency-ms", str(latency_ms)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("listening on "):
        proc.terminate()
        raise SystemExit(f"the embeddings server did not start: {line!r}")
    return proc, line.removeprefix("listening on ")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", default="1,8", help="embedding concurrencies to compare")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--dimensions", type=int, default=256)
    parser.add_argument(
        "--batch-texts",
        type=int,
        default=None,
        help="texts per request (default: EmbeddingSettings' 512); smaller batches make the "
        "run latency-bound rather than bound by the local server's CPU",
    )
    parser.add_argument("--corpus", type=Path, help="a folder to embed instead of the stdlib")
    args = parser.parse_args(argv)
    concurrencies = [int(w) for w in args.workers.split(",")]

    from indexer import localdb
    from indexer.embeddings.provider import EmbeddingSettings
    from indexer.pipeline.run import run
    from indexer.settings import Settings
    from indexer.store import open_store

    tmp = Path(tempfile.mkdtemp(prefix="graphdex-bench-embed-"))
    settings = Settings.from_env(home=tmp / "home").with_overrides(neo4j_uri=None)
    if os.environ.get("NEO4J_URI"):
        settings = Settings(home=tmp / "home")
    server, base_url = start_server(args.latency_ms)
    results: dict[str, Any] = {}
    try:
        corpus = args.corpus or tmp / "stdlib"
        files = sum(1 for _ in corpus.rglob("*.py")) if args.corpus else copy_stdlib(corpus)
        off = EmbeddingSettings(api_key=None, base_url=None)
        with open_store(settings) as store:
            started = time.perf_counter()
            graph = run(corpus, settings, repo="corpus", store=store, embeddings=off)
            print(
                f"corpus: {files} files, graph built in {time.perf_counter() - started:.1f}s "
                f"({sum(graph.nodes.values())} nodes)",
                flush=True,
            )
            runs: dict[int, list[dict[str, Any]]] = {w: [] for w in concurrencies}
            for r in range(args.runs):
                for workers in concurrencies:
                    while store.write(
                        lambda tx: tx.run(
                            "MATCH (c:Chunk) WHERE c.repo = 'corpus' WITH c LIMIT 5000 DETACH DELETE c "
                            "RETURN count(*) AS c"
                        ).single()["c"]
                    ):
                        pass
                    emb = EmbeddingSettings(
                        base_url=base_url,
                        concurrency=workers,
                        dimensions=args.dimensions,
                        **({"max_batch_texts": args.batch_texts} if args.batch_texts else {}),
                    )
                    cache = tmp / f"cache-{workers}-{r}.sqlite"
                    summary = run(corpus, settings, repo="corpus", store=store, embeddings=emb, embedding_cache=cache)
                    e = summary.embeddings or {}
                    assert e.get("failed") == 0 and e.get("cached") == 0, e
                    row = {
                        "chunks": e["chunks"],
                        "requests": e["requests"],
                        "tokens": e["tokens"],
                        "stage_seconds": e["seconds"],
                        **{f"{k}_seconds": v for k, v in e["steps"].items()},
                    }
                    row["texts_per_second"] = round(row["chunks"] / row["embed_seconds"], 1)
                    row["stage_texts_per_second"] = round(row["chunks"] / row["stage_seconds"], 1)
                    runs[workers].append(row)
                    print(f"run {r + 1} workers {workers}: {json.dumps(row)}", flush=True)
        base = None
        for workers in concurrencies:
            rows = runs[workers]
            median = sorted(rows, key=lambda x: x["embed_seconds"])[len(rows) // 2]
            med = dict(
                median,
                runs=len(rows),
                embed_seconds_all=[x["embed_seconds"] for x in rows],
                embed_seconds_median=statistics.median(x["embed_seconds"] for x in rows),
            )
            if base is None:
                base = med
            med["speedup"] = round(base["embed_seconds_median"] / med["embed_seconds_median"], 2)
            med["stage_speedup"] = round(base["stage_seconds"] / med["stage_seconds"], 2)
            results[str(workers)] = med
    finally:
        server.terminate()
        server.wait(timeout=10)
        localdb.stop(settings)
        shutil.rmtree(tmp, ignore_errors=True)

    print()
    header = (
        f"{'workers':>7} {'chunks':>7} {'requests':>8} {'tokens':>9} {'chunk s':>8} {'embed s':>8} "
        f"{'write s':>8} {'texts/s':>8} {'speedup':>7} {'stage s':>8} {'stage x':>7}"
    )
    print(header)
    for workers, m in results.items():
        print(
            f"{workers:>7} {m['chunks']:>7} {m['requests']:>8} {m['tokens']:>9} {m['chunk_seconds']:>8.2f} "
            f"{m['embed_seconds_median']:>8.2f} {m['write_seconds']:>8.2f} {m['texts_per_second']:>8.1f} "
            f"{m['speedup']:>7.2f} {m['stage_seconds']:>8.2f} {m['stage_speedup']:>7.2f}"
        )
    out = {
        "tag": interpreter_tag(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "latency_ms": args.latency_ms,
        "runs": args.runs,
        "dimensions": args.dimensions,
        "batch_texts": args.batch_texts or 512,
        "corpus_files": files,
        "results": results,
    }
    suffix = f"-b{args.batch_texts}" if args.batch_texts else ""
    target = HERE / "results" / f"embed-{interpreter_tag()}{suffix}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(out, indent=2) + "\n")
    print(f"\nwrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
