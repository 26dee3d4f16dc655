"""The languages graphdex indexes: file extensions, grammars and the few facts that differ between them.

Pure data and path arithmetic: importing this never imports tree_sitter, so the parent process (which may run
Python parse threads with the GIL off) can decide every file's language and executor from it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from posixpath import dirname, splitext
from typing import Any

from ...models import Discovery, SkippedFile
from . import grammars

PYTHON = "python"


@dataclass(frozen=True)
class LanguageSpec:
    name: str  # File.language
    extensions: tuple[str, ...]
    grammars: dict[str, str]  # extension -> tree-sitter grammar ("" = every extension of this language)
    # How a definition outside any declared namespace is qualified: by its file's path ("path"), by its folder
    # ("folder": a Go package is its directory), or not at all ("global": Java, C#, PHP, Ruby top level).
    default_namespace: str = "path"
    implicit_this: bool = False  # `f()` inside a method may be `this.f()` (Java, C#, C++, Ruby)
    constructor: str = ""  # the method a `new T()` runs: "" = none, "<class>" = the one named like its class
    self_names: tuple[str, ...] = ("this",)  # receivers meaning the enclosing class's instance
    super_names: tuple[str, ...] = ("super",)  # receivers meaning its base classes
    local_namespaces: bool = False  # a block namespace lives inside its file's (TypeScript, Rust `mod x {}`)

    def grammar_for(self, path: str) -> str:
        ext = _extension(path)
        return self.grammars.get(ext) or self.grammars[""]


LANGUAGES: dict[str, LanguageSpec] = {spec.name: spec for spec in (
    LanguageSpec(PYTHON, (".py", ".pyi"), {"": ""}),
    LanguageSpec("javascript", (".js", ".mjs", ".cjs", ".jsx"), {"": "javascript"}, constructor="constructor"),
    LanguageSpec("typescript", (".ts", ".mts", ".cts", ".tsx"), {"": "typescript", ".tsx": "tsx"},
                 constructor="constructor", local_namespaces=True),
    LanguageSpec("go", (".go",), {"": "go"}, default_namespace="folder", self_names=()),
    LanguageSpec("rust", (".rs",), {"": "rust"}, self_names=("self",), super_names=(),
                 local_namespaces=True),
    LanguageSpec("java", (".java",), {"": "java"}, default_namespace="global", implicit_this=True,
                 constructor="<class>"),
    LanguageSpec("c", (".c", ".h"), {"": "c"}, self_names=(), super_names=()),
    LanguageSpec("cpp", (".cc", ".cpp", ".cxx", ".c++", ".hpp", ".hh", ".hxx", ".h++"), {"": "cpp"},
                 implicit_this=True, constructor="<class>"),
    LanguageSpec("csharp", (".cs",), {"": "c_sharp"}, default_namespace="global", implicit_this=True,
                 constructor="<class>", super_names=("base",)),
    LanguageSpec("ruby", (".rb", ".rake"), {"": "ruby"}, default_namespace="global", implicit_this=True,
                 constructor="initialize", self_names=("self",)),
    LanguageSpec("php", (".php",), {"": "php"}, default_namespace="global", constructor="__construct",
                 self_names=("this", "self", "static"), super_names=("parent",)),
)}
BY_EXTENSION = {ext: spec for spec in LANGUAGES.values() for ext in spec.extensions}
EXTENSIONS = frozenset(BY_EXTENSION)
C_HEADER = ".h"


def _extension(path: str) -> str:
    return splitext(path)[1].lower()


def assign(paths: Iterable[str]) -> dict[str, str]:
    """Each path's language. The extension alone cannot tell a `.h` header's: it is the language of the source
    file of the same name beside it (x.c or x.cc), else of the majority of C and C++ sources under its folder, or
    under the nearest folder above it that has a majority (a project's own root in a monorepo), else C; that
    grammar parses it best."""
    paths = list(paths)
    out = {p: BY_EXTENSION[_extension(p)].name for p in paths if _extension(p) in BY_EXTENSION}
    headers = [p for p in paths if _extension(p) == C_HEADER]
    if headers:
        by_stem = {splitext(p)[0]: lang for p, lang in out.items() if lang in ("c", "cpp") and not p.endswith(".h")}
        under: dict[str, Counter[str]] = {}  # folder -> C / C++ sources anywhere below it
        for path, lang in out.items():
            if lang in ("c", "cpp") and _extension(path) != C_HEADER:
                for folder in _ancestors(path):
                    under.setdefault(folder, Counter())[lang] += 1
        for path in headers:
            out[path] = by_stem.get(splitext(path)[0]) or next(
                (lang for folder in _ancestors(path) if (lang := _majority(under.get(folder, Counter())))), "c")
    return out


def _ancestors(path: str) -> list[str]:
    """The folders above a path, nearest first, ending with the repository root ("")."""
    out, folder = [], dirname(path)
    while folder:
        out.append(folder)
        folder = dirname(folder)
    return [*out, ""]


def _majority(counts: Counter[str]) -> str:
    if not counts or counts["c"] == counts["cpp"]:
        return ""
    return "cpp" if counts["cpp"] > counts["c"] else "c"


def grammar_of(path: str, language: str) -> str:
    return LANGUAGES[language].grammar_for(path)


def default_namespace(path: str, language: str) -> str:
    """The qualifier of definitions outside any declared namespace, from the file's path alone."""
    how = LANGUAGES[language].default_namespace
    if how == "global":
        return ""
    if how == "folder":
        return dirname(path)
    stem = splitext(path)[0]
    if language == "rust" and stem.rsplit("/", 1)[-1] in ("mod", "lib", "main"):
        return dirname(stem)  # a/mod.rs is module a; src/lib.rs the crate root
    if language in ("javascript", "typescript") and stem.rsplit("/", 1)[-1] == "index":
        return dirname(stem)  # a/index.js is what `import "./a"` loads
    return stem


def without_grammar(found: Discovery, home: Path | str) -> tuple[Discovery, dict[str, str]]:
    """The discovery less the files whose grammar is not usable here, those listed as skipped with the reason and
    the command that installs it; and {language: reason} for the summary. Never imports tree_sitter."""
    languages = assign([f.path for f in found.files])
    grammar = {path: grammar_of(path, lang) for path, lang in languages.items() if lang != PYTHON}
    lacking = grammars.missing(sorted(set(grammar.values())), home)
    if not lacking:
        return found, {}
    dropped = [f for f in found.files if grammar.get(f.path) in lacking]
    skipped = [SkippedFile(f.path, lacking[grammar[f.path]]) for f in dropped]
    kept = [f for f in found.files if grammar.get(f.path) not in lacking]
    by_language = {languages[f.path]: lacking[grammar[f.path]] for f in dropped}
    return Discovery(found.root, kept, sorted([*found.skipped, *skipped], key=lambda s: (s.path, s.reason))), \
        by_language


def support(grammar_home: Path | str) -> dict[str, dict[str, Any]]:
    """Per language: its extensions, where its grammars come from (or why there is none, with the fix), and the
    executor `auto` parses it on here and why. For `graphdex runtime` and graphdex://runtime; never imports
    tree_sitter."""
    from ... import runtime

    executors = runtime.language_executors()
    lacking = grammars.missing(list(grammars.GRAMMARS), grammar_home)
    out: dict[str, dict[str, Any]] = {}
    for name, spec in LANGUAGES.items():
        used = sorted(set(spec.grammars.values()) - {""})
        row: dict[str, Any] = {"extensions": list(spec.extensions)}
        if name == PYTHON:
            row.update(parser="stdlib ast", **executors["python"])
        else:
            row.update(parser=", ".join(f"{g}: {lacking.get(g) or grammars.source_of(g, grammar_home)}"
                                        for g in used), **executors["tree-sitter languages"])
        out[name] = row
    return out
