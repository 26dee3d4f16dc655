"""Ten resolved CALLS edges per language, sampled at random from a corpus, with the call's source line and the
callee's definition, for checking by hand.

    python bench/sample_calls.py CORPUS_DIR [--per-language 10] [--seed 10]
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path
from threading import Event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.pipeline.discover import discover  # noqa: E402
from indexer.pipeline.parse.stage import parse  # noqa: E402
from indexer.pipeline.resolve_treesitter import Resolver, _overloads, family_of  # noqa: E402
from indexer.settings import Settings  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--per-language", type=int, default=10)
    parser.add_argument("--seed", type=int, default=10)
    args = parser.parse_args()
    found = discover(args.corpus)
    parsed = parse(found.files, "sample", Settings.from_env(), frozenset(), None, lambda p: None, Event())
    facts = [f for f in parsed.facts if f.language != "python"]
    resolver = Resolver("sample", str(args.corpus), facts)
    by_language: dict[str, list[tuple]] = {}
    for f in facts:
        family = resolver.families[family_of(f.language)]
        for call in f.calls:
            target = resolver.call_target(family, f, call)
            if target is not None:
                callees = _overloads(family.symbols[target], call.arguments)  # the edges the graph gets
                by_language.setdefault(f.language, []).append((f.path, call, callees))
    rng = random.Random(args.seed)
    for language in sorted(by_language):
        rows = by_language[language]
        print(f"\n## {language} ({len(rows)} resolved calls)")
        for path, call, callees in sorted(rng.sample(rows, min(args.per_language, len(rows))),
                                          key=lambda r: (r[0], r[1].line)):
            line = (args.corpus / path).read_text(errors="replace").splitlines()[call.line - 1].strip()
            receiver = f" [receiver: {call.receiver}]" if call.receiver else ""
            where = ", ".join(f"{c.path}:{c.start_line}" for c in callees)
            print(f"- {path}:{call.line} `{line[:110]}`\n    {call.caller_qname} -> {callees[0].qualified_name} "
                  f"({where}){receiver}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
