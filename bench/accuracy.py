"""Definition counts per language: graphdex's tree-sitter extraction against an independent parser, same files.

    python bench/accuracy.py CORPUS_DIR [--json OUT]

CORPUS_DIR holds one folder per language (javascript, typescript, tsx, go, rust, java, c, cpp, csharp, ruby, php);
a missing folder is skipped. Definitions are classes (of every subkind), functions and methods. The reference:
- JavaScript, TypeScript, TSX: the TypeScript compiler's parser (bench/independent/ts_count.js; needs node and
  the `typescript` npm package, found through TYPESCRIPT_MODULE or node's own resolution), with graphdex's rules;
- Java: javac's tree API (bench/independent/JavaCount.java; needs a JDK 17+);
- the others, or when those tools are missing: Universal Ctags, its kinds mapped to the same set (KINDS below).
  Anonymous ctags entries (`__anon…`, `Anonymous…`) are left out: graphdex names a typedef'd anonymous struct by
  its typedef and lists no unnamed definition.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.pipeline.parse.languages import assign  # noqa: E402
from indexer.settings import Settings  # noqa: E402

# ctags language name and the kinds that are graphdex definitions (classes of every subkind, functions, methods).
KINDS: dict[str, tuple[str, set[str]]] = {
    "javascript": ("JavaScript", {"class", "function", "generator", "method", "getter", "setter"}),
    "typescript": ("TypeScript", {"class", "function", "generator", "interface", "enum", "method"}),
    "tsx": ("TypeScript", {"class", "function", "generator", "interface", "enum", "method"}),
    "go": ("Go", {"func", "interface", "struct", "type", "methodSpec"}),
    "rust": ("Rust", {"function", "method", "enum", "interface", "struct"}),
    "java": ("Java", {"class", "interface", "enum", "annotation", "method"}),
    "c": ("C", {"function", "struct", "union", "enum"}),
    "cpp": ("C++", {"function", "class", "struct", "union", "enum"}),
    "csharp": ("C#", {"class", "interface", "struct", "enum", "method"}),
    "ruby": ("Ruby", {"class", "module", "method", "singletonMethod"}),
    "php": ("PHP", {"class", "interface", "trait", "function"}),
}


def ctags_counts(files: list[Path], ctags_language: str, kinds: set[str]) -> tuple[int, Counter[str]]:
    proc = subprocess.run(["ctags", "--output-format=json", "--fields=+K", f"--languages={ctags_language}",
                           f"--language-force={ctags_language}", "-f", "-", *map(str, files)],
                          capture_output=True, text=True, check=True)
    by_kind: Counter[str] = Counter()
    for line in proc.stdout.splitlines():
        tag = json.loads(line)
        if tag.get("_type") == "tag" and tag.get("kind") in kinds and "__anon" not in tag["name"] \
                and not tag["name"].startswith("Anonymous"):
            by_kind[tag["kind"]] += 1
    return sum(by_kind.values()), by_kind


def reference_counts(folder: str, files: list[Path], ctags_language: str,
                     kinds: set[str]) -> tuple[str, int, Counter[str]]:
    """(name of the reference parser, its definition count, by kind)."""
    here = Path(__file__).resolve().parent / "independent"
    command: list[str] | None = None
    if folder in ("javascript", "typescript", "tsx") and shutil.which("node"):
        command, name = ["node", str(here / "ts_count.js")], "tsc-api"
    elif folder == "java" and shutil.which("java"):
        command, name = ["java", str(here / "JavaCount.java")], "javac"
    if command is not None:
        proc = subprocess.run([*command, *map(str, files)], capture_output=True, text=True)
        if proc.returncode == 0:
            by_kind = Counter(json.loads(proc.stdout.strip().splitlines()[-1]))
            return name, sum(by_kind.values()), by_kind
    total, by_kind = ctags_counts(files, ctags_language, kinds)
    return "ctags", total, by_kind


def graphdex_counts(folder: Path, files: list[Path], home: str) -> tuple[int, Counter[str], int, int]:
    from indexer.pipeline.parse.treesitter import extract_treesitter

    rel = [str(f.relative_to(folder)) for f in files]
    languages = assign(rel)
    by_kind: Counter[str] = Counter()
    errors = calls = 0
    for path, name in zip(files, rel, strict=False):
        facts = extract_treesitter("bench", name, path.read_bytes(), name, "", languages[name], home)
        errors += facts.error is not None
        calls += len(facts.calls)
        for symbol in facts.symbols:
            by_kind[symbol.subkind or str(symbol.kind)] += 1
    return sum(by_kind.values()), by_kind, errors, calls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    home = str(Settings.from_env().home)
    rows = []
    for folder_name, (ctags_language, kinds) in KINDS.items():
        folder = args.corpus / folder_name
        if not folder.is_dir():
            continue
        files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in _suffixes(folder_name))
        ours, our_kinds, errors, calls = graphdex_counts(folder, files, home)
        reference, theirs, their_kinds = reference_counts(folder_name, files, ctags_language, kinds)
        diff = (ours - theirs) / theirs * 100 if theirs else 0.0
        rows.append({"language": folder_name, "files": len(files), "graphdex": ours, "reference": reference,
                     "reference_count": theirs,
                     "diff_percent": round(diff, 2), "graphdex_kinds": dict(our_kinds),
                     "ctags_kinds": dict(their_kinds), "files_with_errors": errors, "calls": calls})
        print(f"{folder_name:11} files {len(files):4}  graphdex {ours:5}  {reference:8} {theirs:5}  {diff:+6.2f}%   "
              f"{dict(our_kinds)}  vs  {dict(their_kinds)}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


def _suffixes(folder: str) -> set[str]:
    from indexer.pipeline.parse.languages import LANGUAGES

    name = {"tsx": "typescript"}.get(folder, folder)
    exts = set(LANGUAGES[name].extensions) | ({".h"} if name == "cpp" else set())
    return {".tsx"} if folder == "tsx" else exts - {".tsx"} if folder == "typescript" else exts


if __name__ == "__main__":
    os.environ.setdefault("GRAPHDEX_HOME", str(Path.home() / ".local/share/graphdex"))
    sys.exit(main())
