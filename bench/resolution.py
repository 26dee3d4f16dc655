"""Call resolution on a corpus (not a test): counts, and random samples to check by hand.

    python bench/resolution.py stats  [--corpus PATH]          # call sites by reason, edges by provenance
    python bench/resolution.py edges  [--corpus PATH] [--seed 12] [--n 100]   # random CALLS edges
    python bench/resolution.py sites  [--corpus PATH] [--seed 12] [--n 100] [--unresolved]  # random call sites

The corpus defaults to the running interpreter's standard library without site-packages and test folders
(as bench/bench.py copies it). Parsing is serial; nothing is written anywhere. An edge is shown with the first
call site (in file order) that gave it: caller, callee, file:line, provenance, condition and the source line,
so a reader can decide, against the source, whether the call really reaches the callee.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from indexer.models import MODULE, PROVENANCE_ORDER  # noqa: E402
from indexer.pipeline.discover import discover  # noqa: E402
from indexer.pipeline.parse import extract_python, module_names  # noqa: E402
from indexer.pipeline.resolve import resolve, resolve_sites  # noqa: E402
from indexer.pipeline.resolve_values import Evaluator  # noqa: E402

REPO = "corpus"


def load(corpus: Path) -> list:
    found = discover(str(corpus))
    names = module_names([f.path for f in found.files])
    return [extract_python(REPO, f.path, Path(f.abspath).read_bytes(), names[f.path], f.sha) for f in found.files]


def corpus_path(given: str | None, tmp: str) -> Path:
    if given:
        return Path(given)
    from bench import copy_stdlib

    dest = Path(tmp) / "stdlib"
    copy_stdlib(dest)
    return dest


def line_of(corpus: Path, path: str, line: int, cache: dict[str, list[str]]) -> str:
    if path not in cache:
        cache[path] = (corpus / path).read_text(encoding="utf-8", errors="replace").split("\n")
    lines = cache[path]
    return lines[line - 1].strip() if 0 < line <= len(lines) else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["stats", "edges", "sites"])
    parser.add_argument("--corpus")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--unresolved", action="store_true", help="sites: only unresolved ones")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = corpus_path(args.corpus, tmp)
        started = time.perf_counter()
        facts = load(corpus)
        parsed = time.perf_counter()
        result = resolve(REPO, facts)
        resolved = time.perf_counter()
        evaluator = Evaluator(facts)
        sites, outcomes = resolve_sites(evaluator, facts)
        kinds = {s.id: s.kind for f in facts for s in f.symbols}
        kinds.update({f.module_id: MODULE for f in facts})
        qnames = {s.id: s.qualified_name for f in facts for s in f.symbols}
        paths = [f.path for f in facts]
        cache: dict[str, list[str]] = {}
        if args.what == "stats":
            inside = Counter()
            for (_, call), outcome in zip(sites, outcomes, strict=True):
                where = "function" if kinds.get(call.caller_id) in ("Function", "Method") else \
                    kinds.get(call.caller_id, "?").lower()
                inside[(where, call.kind, outcome.reason or "resolved")] += 1
            calls = [e for e in result.edges if e.type == "CALLS"]
            report = {
                "files": len(facts), "parse_seconds": round(parsed - started, 2),
                "resolve_seconds": round(resolved - parsed, 2),
                "call_sites": result.call_sites,
                "calls_edges": len(calls),
                "edges_from": dict(Counter(kinds.get(e.source, "?") for e in calls)),
                "provenance": dict(Counter(e.provenance for e in calls).most_common()),
                "conditional_edges": sum(1 for e in calls if e.condition),
                "sites_by_scope": {"/".join(k): v for k, v in sorted(inside.items())},
            }
            for scope in ("function", "module", "class"):
                for kind in ("call", "decorator", "all"):
                    total = sum(v for k, v in inside.items() if k[0] == scope and kind in ("all", k[1]))
                    unresolved = sum(v for k, v in inside.items() if k[0] == scope and kind in ("all", k[1])
                                     and k[2] != "resolved")
                    if total:
                        report[f"unresolved_share_{scope}_{kind}"] = round(100 * unresolved / total, 1)
            print(json.dumps(report, indent=1))
            return
        rng = random.Random(args.seed)
        if args.what == "edges":
            first: dict[tuple[str, str], tuple[int, object, tuple]] = {}
            for (ctx, call), outcome in zip(sites, outcomes, strict=True):
                for target, rank, cond, _ in outcome.edges:
                    first.setdefault((call.caller_id, target), (ctx, call, (rank, cond)))
            calls = sorted((e for e in result.edges if e.type == "CALLS"), key=lambda e: (e.source, e.target))
            for i, edge in enumerate(rng.sample(calls, min(args.n, len(calls))), 1):
                ctx, call, _ = first[(edge.source, edge.target)]
                print(f"#{i} {qnames.get(edge.source, edge.source.split(':', 1)[-1])} -> {qnames[edge.target]}"
                      f"  [{edge.provenance}]" + (f" if {edge.condition}" if edge.condition else ""))
                print(f"    {paths[ctx]}:{call.line}  {line_of(corpus, paths[ctx], call.line, cache)}")
        else:
            chosen = [i for i, o in enumerate(outcomes) if o.reason or not args.unresolved]
            for n, i in enumerate(sorted(rng.sample(chosen, min(args.n, len(chosen)))), 1):
                (ctx, call), outcome = sites[i], outcomes[i]
                got = outcome.reason or ", ".join(
                    f"{qnames[t]} [{PROVENANCE_ORDER[r]}]" + (f" if {c}" if c else "") for t, r, c, _ in outcome.edges)
                print(f"#{n} {paths[ctx]}:{call.line} {call.caller_qname}: {call.target}() -> {got}")
                print(f"    {line_of(corpus, paths[ctx], call.line, cache)}")


if __name__ == "__main__":
    main()
