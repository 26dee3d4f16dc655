"""`graphdex …`: arguments in, the library called, results out. No indexing logic lives here."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from threading import Event
from typing import Any

from . import __version__, localdb, runtime
from .errors import EXIT_CODES, GraphdexError
from .settings import BY_NAME, EMBEDDING_SETTINGS, EXECUTORS, IF_BUSY, SETTINGS, Settings, parse_size

log = logging.getLogger("graphdex")

def epilog() -> str:
    names = ", ".join(s.env for s in SETTINGS if s.env)
    embedding = ", ".join(s.env for s in EMBEDDING_SETTINGS if s.env)
    codes = "\n".join(f"  {code:<4} {text}" for code, text in EXIT_CODES.items())
    return (f"environment (the README's configuration tables say what each does):\n  {names}\n"
            f"  embeddings: {embedding}\n"
            "Options given on the command line override the environment.\n\n"
            f"exit codes:\n{codes}\n")


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: the run stops, its worker processes end, the graph stays consistent."""


def main(argv: Sequence[str] | None = None) -> int:
    runtime.watch_gil()
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, stream=sys.stderr,
                        format="graphdex: %(levelname)s: %(message)s")
    if not args.verbose:  # the driver's retry chatter: a failure ends in graphdex's one line instead
        logging.getLogger("neo4j").setLevel(logging.CRITICAL)
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        with _sigterm_as_interrupt():
            return args.handler(args)
    except GraphdexError as exc:
        print(f"graphdex: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        print(f"graphdex: {'terminated' if isinstance(exc, Terminated) else 'interrupted'}", file=sys.stderr)
        return 130


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    def handler(signum: int, frame: Any) -> None:
        raise Terminated()

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (called from a test harness): leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="graphdex",
        description="Index a source repository into a code graph (Neo4j / ArcadeDB over Bolt) for AI assistants.",
        epilog=epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"graphdex {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details to stderr")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    index = commands.add_parser("index", help="index a repository into the graph", epilog=epilog(),
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                description="Index the repository at PATH into the code graph and print a summary.")
    index.add_argument("path", metavar="PATH", help="the repository's root folder")
    index.add_argument("--name", help="repository id in the graph (default: the folder's name)")
    _add_setting_options(index)
    index.add_argument("--dry-run", action="store_true", help="parse and resolve without writing to a graph")
    index.add_argument("--no-embed", action="store_true",
                       help="skip embedding for this run (the next run that embeds catches up)")
    index.add_argument("--json", action="store_true", help="print the summary as one JSON object on stdout")
    index.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    index.set_defaults(handler=cmd_index)

    watch = commands.add_parser("watch", help="index a repository, then re-index it whenever its files change",
                                description="Index the repository at PATH, then keep it fresh: each burst of "
                                "changes to its source files (a save, a git checkout) becomes one incremental "
                                "run. .gitignore'd files are not watched. Ctrl-C stops it.")
    watch.add_argument("path", metavar="PATH", help="the repository's root folder")
    watch.add_argument("--name", help="repository id in the graph (default: the folder's name)")
    _add_setting_options(watch)
    watch.add_argument("--json", action="store_true", help="print each run's summary as one JSON line")
    watch.set_defaults(handler=cmd_watch)

    search = commands.add_parser("search", help="search indexed code by meaning (or by text without embeddings)",
                                 description="Rank symbols by similarity to QUERY over the vector index.")
    search.add_argument("query", metavar="QUERY", help="what the code does, in words")
    search.add_argument("--k", type=int, default=10, help="number of results (default 10)")
    search.add_argument("--repo", help="only this repository")
    search.add_argument("--kind", choices=("Function", "Method", "Class", "File"), help="only this kind of symbol")
    search.add_argument("--json", action="store_true",
                        help='print {"results": [...], "mode": ..., "note"?: ...} on stdout')
    search.set_defaults(handler=cmd_search)

    db = commands.add_parser("db", help="manage the local graph server (used when NEO4J_URI is unset)")
    db_commands = db.add_subparsers(title="actions", metavar="ACTION")
    for name, handler, text in (
        ("start", cmd_db_start, "start the local server (or report the running one)"),
        ("stop", cmd_db_stop, "stop the local server"),
        ("status", cmd_db_status, "is the local server running? where? (exit 3: not running; 1: damaged)"),
        ("install-runtime", cmd_db_install_runtime,
         "download ArcadeDB's Java runtime and jars (for interpreters without the arcadedb-embedded wheel)"),
    ):
        action = db_commands.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        action.add_argument("--json", action="store_true", help="print JSON on stdout")
        action.set_defaults(handler=handler)

    cache = commands.add_parser("cache", help="the facts cache ($GRAPHDEX_HOME/facts.sqlite)")
    cache_commands = cache.add_subparsers(title="actions", metavar="ACTION")
    clear = cache_commands.add_parser("clear", help="forget cached facts (the next run parses every file again)",
                                      description="Forget the facts cache: of one repository, or all of it.")
    clear.add_argument("--repo", help="only this repository id")
    clear.set_defaults(handler=cmd_cache_clear)
    grammars = commands.add_parser("grammars", help="the tree-sitter grammars of the other languages")
    grammar_commands = grammars.add_subparsers(title="actions", metavar="ACTION")
    status = grammar_commands.add_parser("status", help="where each grammar comes from, or how to install it",
                                         description="Where each grammar comes from (exit 3: some are missing).")
    status.add_argument("--json", action="store_true", help="print JSON on stdout")
    status.set_defaults(handler=cmd_grammars_status)
    install = grammar_commands.add_parser(
        "install", help="compile the pinned grammars into $GRAPHDEX_HOME (needed on free-threaded Python)",
        description="Download the pinned grammar sdists with pip and compile them with the C compiler into "
                    "$GRAPHDEX_HOME/grammars (for interpreters without the grammar wheels, such as 3.14t).")
    install.add_argument("names", nargs="*", metavar="GRAMMAR", help="only these grammars (default: all)")
    install.add_argument("--force", action="store_true", help="rebuild grammars already installed")
    install.add_argument("--json", action="store_true", help="print JSON on stdout")
    install.set_defaults(handler=cmd_grammars_install)

    info = commands.add_parser("runtime", help="show the Python build, GIL state and executor choice")
    info.add_argument("--json", action="store_true", help="print JSON on stdout")
    info.set_defaults(handler=cmd_runtime)

    serve = commands.add_parser("serve", help="run the MCP stdio server")
    serve.set_defaults(handler=cmd_serve)
    _add_answer_commands(commands)
    return parser


def _add_answer_commands(commands: Any) -> None:
    """impact, changes, dead-code, path, architecture (issue 13): the library's answers, printed."""
    impact = commands.add_parser("impact", help="what depends on a symbol: what breaks if it changes",
                                 description="Callers (transitively), overriders, subclasses and importers of "
                                 "SYMBOL, by depth and file, with the tests among them and a risk summary.")
    impact.add_argument("symbol", metavar="SYMBOL", help="qualified name or node id")
    impact.add_argument("--repo", help="repository id (needed when the name exists in several)")
    impact.add_argument("--depth", type=int, default=3, help="steps to follow, 1-5 (default 3)")
    impact.add_argument("--limit", type=int, default=100, help="dependents listed (default 100)")
    impact.add_argument("--json", action="store_true", help="print the answer as JSON")
    impact.set_defaults(handler=cmd_impact)

    changes = commands.add_parser("changes", help="what the working tree's diff touches, and its impact",
                                  description="Symbols changed between the working tree and --base (git diff), "
                                  "each with its impact. Exit 1 when --fail-over N is passed and the changes "
                                  "reach more than N (of --metric).")
    changes.add_argument("path", metavar="PATH", nargs="?", default=".",
                         help="a folder of the indexed repository (default: the current one)")
    changes.add_argument("--repo", help="repository id (default: the indexed repository holding PATH)")
    changes.add_argument("--base", default="HEAD", help="git revision to compare with (default HEAD)")
    changes.add_argument("--depth", type=int, default=2, help="impact depth, 1-5 (default 2)")
    changes.add_argument("--fail-over", type=int, metavar="N", help="exit 1 when the changes reach more than N")
    changes.add_argument("--metric", choices=("symbols", "files", "modules", "tests"), default="symbols",
                         help="what --fail-over counts: dependent symbols (default), files, modules or tests")
    changes.add_argument("--limit", type=int, default=100, help="dependents listed (default 100)")
    changes.add_argument("--json", action="store_true", help="print the answer as JSON")
    changes.set_defaults(handler=cmd_changes)

    dead = commands.add_parser("dead-code", help="functions, methods and classes nothing calls",
                               description="Symbols with no caller or reference in the repository, most certain "
                               "first, each with a confidence and a reason; what was left out is counted by reason.")
    dead.add_argument("--repo", help="repository id (default: the indexed repository holding the current folder)")
    dead.add_argument("--kind", choices=("Function", "Method", "Class"), help="only this kind")
    dead.add_argument("--limit", type=int, default=50, help="symbols listed (default 50)")
    dead.add_argument("--include-excluded", action="store_true", help="also list what was left out, and why")
    dead.add_argument("--json", action="store_true", help="print the answer as JSON")
    dead.set_defaults(handler=cmd_dead_code)

    path = commands.add_parser("path", help="how one symbol reaches another through calls",
                               description="Up to K shortest call chains from A to B, each hop with its file and "
                               "line.")
    path.add_argument("source", metavar="A", help="where the chain starts (function, method, class or module)")
    path.add_argument("target", metavar="B", help="where it ends (function or method)")
    path.add_argument("--repo", help="repository id")
    path.add_argument("--max-depth", type=int, default=5, help="longest chain in calls, 1-10 (default 5)")
    path.add_argument("--k", type=int, default=3, help="chains, 1-20 (default 3)")
    path.add_argument("--json", action="store_true", help="print the answer as JSON")
    path.set_defaults(handler=cmd_path)

    arch = commands.add_parser("architecture", help="layers, import cycles and the most depended-on modules",
                               description="The import graph condensed: cycles, layers, fan-in and fan-out. "
                               "--mermaid prints it as Mermaid; --svg FILE draws it with Graphviz (dot).")
    arch.add_argument("--repo", help="repository id (default: the indexed repository holding the current folder)")
    arch.add_argument("--level", choices=("module", "package"), default="module",
                      help="module (default) or package (top-level packages)")
    arch.add_argument("--max-nodes", type=int, default=None,
                      help="nodes drawn: Mermaid 60, SVG 150 by default")
    arch.add_argument("--mermaid", action="store_true", help="print only the Mermaid text")
    arch.add_argument("--svg", metavar="FILE", help="draw the graph into FILE with Graphviz's dot")
    arch.add_argument("--json", action="store_true", help="print the answer as JSON")
    arch.set_defaults(handler=cmd_architecture)


_CHOICES = {"executor": EXECUTORS, "if_busy": IF_BUSY}
_TYPES = {"workers": int, "pool_size": int, "batch_size": int}


def _add_setting_options(parser: argparse.ArgumentParser) -> None:
    """One option per setting that has one, with its help and default from the settings table."""
    for setting in SETTINGS:
        if setting.option is None:
            continue
        parser.add_argument(setting.option, dest=setting.name, choices=_CHOICES.get(setting.name),
                            type=_TYPES.get(setting.name, str),
                            help=f"{setting.help} (default {setting.default}; env {setting.env})")


def settings_from(args: argparse.Namespace) -> Settings:
    given = {s.name: getattr(args, s.name, None) for s in SETTINGS if s.option}
    raw_size = given.get("max_file_size")
    if raw_size is not None:
        given["max_file_size"] = parse_size(str(raw_size), BY_NAME["max_file_size"].option or "")
    return Settings.from_env(**given)


# -- commands ---------------------------------------------------------------------------------------------------


def cmd_index(args: argparse.Namespace) -> int:
    from .pipeline.run import run
    from .progress import ProgressBar

    settings = settings_from(args)
    bar = None if args.no_progress else ProgressBar()
    cancel = Event()
    try:
        summary = run(args.path, settings, repo=args.name, progress=bar, cancel=cancel, dry_run=args.dry_run,
                      embed=not args.no_embed)
    except KeyboardInterrupt:
        cancel.set()
        raise
    finally:
        if bar:
            bar.close()
    data = summary.to_dict()
    print(json.dumps(data) if args.json else format_summary(data))
    return 0


def cmd_watch(args: argparse.Namespace) -> int:
    from .pipeline.run import check_root, run
    from .store import open_store
    from .watch import changes

    settings, root = settings_from(args), check_root(args.path)
    stop = Event()
    try:
        with open_store(settings) as store:
            summary = run(root, settings, repo=args.name, store=store, cancel=stop)
            print(_watch_line(summary.to_dict(), [], args.json), flush=True)
            print(f"graphdex: watching {root} (Ctrl-C stops)", file=sys.stderr, flush=True)
            for paths in changes(root, stop):  # a Ctrl-C while waiting ends this loop quietly
                summary = run(root, settings, repo=args.name, store=store, cancel=stop)
                print(_watch_line(summary.to_dict(), paths, args.json), flush=True)
    except KeyboardInterrupt:  # during a run: it stopped at a batch boundary, the graph is consistent
        stop.set()
    print(f"graphdex: stopped watching {root}", file=sys.stderr)
    return 0


def _watch_line(s: dict[str, Any], paths: list[str], as_json: bool) -> str:
    if as_json:
        return json.dumps({"changed_paths": paths, **s})
    shown = ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
    what = f"{shown} changed: " if paths else "indexed: "
    return (f"{what}{s['files_changed'] + s['files_retried']} files rewritten, {s['files_deleted']} deleted, "
            f"+{s['edges_added']} / -{s['edges_removed']} relationships in {s['wall_seconds']:.2f}s")


def cmd_search(args: argparse.Namespace) -> int:
    from .search import search_with_settings

    found = search_with_settings(args.query, settings_from(args), k=args.k, repo=args.repo, kind=args.kind)
    data: dict[str, Any] = {"results": found["results"], "mode": found["mode"]}
    if "note" in found:
        data["note"] = found["note"]
    print(json.dumps(data) if args.json else format_search(data))
    return 0


def format_search(data: dict[str, Any]) -> str:
    lines = [f"graphdex: {len(data['results'])} results ({data['mode']})"]
    if data.get("note"):
        lines.append(f"  note: {data['note']}")
    for rank, r in enumerate(data["results"], 1):
        lines.append(f"{rank:>3}. {r['score']:.3f}  {r['kind']:<8} {r['qualified_name']}  "
                     f"{r['repo']}:{r['path']}:{r['start_line']}-{r['end_line']}")
    return "\n".join(lines)


def format_summary(s: dict[str, Any]) -> str:
    gil = "on" if s["gil_enabled"] else "off"
    build = "free-threaded" if s["free_threading_build"] else "default (GIL)"
    lines = [
        f"graphdex: indexed {s['repo']} ({s['root']}){' [dry run]' if s['dry_run'] else ''}"
        f"{' [CANCELLED]' if s['cancelled'] else ''}",
        f"  files     {s['files_indexed']} indexed ({s['files_changed']} changed, {s['files_unchanged']} unchanged,"
        f" {s['files_deleted']} deleted" + (f", {s['files_retried']} retried" if s["files_retried"] else "")
        + f"), {s['files_skipped']} skipped, {s['files_failed']} failed, {s['syntax_errors']} with syntax errors",
        "  nodes     " + ", ".join(f"{k} {v}" for k, v in s["nodes"].items()),
        "  rels      " + ", ".join(f"{k} {v}" for k, v in s["relationships"].items()),
        f"  unresolved calls {s['unresolved_calls']}, bases {s['unresolved_bases']}",
        "  phases    " + ", ".join(f"{k} {v:.2f}s" for k, v in s["phases"].items()),
        "  workers   " + ", ".join(f"{k} {v:.2f}s" for k, v in s["worker_seconds"].items()) + " (summed)",
        f"  speed     {s['files_per_second']} files/s (parse), {s['wall_seconds']:.2f}s wall",
        f"  executor  {s['executor']} x{s['workers']} ({s['executor_reason']}); pool size {s['pool_size']}",
        f"  python    {build}, GIL {gil}" + (f" (turned on by {s['gil_cause']})" if s["gil_cause"] else ""),
    ]
    for language, row in s.get("languages", {}).items():
        if "skipped" in row:
            lines.append(f"  {language:<9} skipped: {row['skipped']}")
        else:
            lines.append(f"  {language:<9} {row['files']} files, {row['Class']} classes, {row['Function']} functions, "
                         f"{row['Method']} methods, {row.get('calls', 0)} calls ({row.get('unresolved_calls', 0)} "
                         f"unresolved), {row['syntax_errors']} with syntax errors; {row.get('executor', '?')}")
    if s.get("embeddings"):
        e = s["embeddings"]
        lines.append("  embedding " + ", ".join(f"{k} {v}" for k, v in e.items()))
    for kind, items in (("skipped", s["skipped"]), ("failed", s["failed"]), ("syntax", s["syntax_error_files"])):
        lines.extend(f"  {kind:<9} {item['path']}: {item['reason']}" for item in items)
    return "\n".join(lines)


def _print(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    print(json.dumps(data) if getattr(args, "json", False) else text)


def _server_text(info: localdb.ServerInfo) -> str:
    return (f"running: pid {info.pid}, bolt {info.bolt_uri}, http {info.http_url}, data {info.data_dir}, "
            f"log {info.log_path}")


def _server_dict(info: localdb.ServerInfo) -> dict[str, Any]:
    return {"running": True, "pid": info.pid, "bolt_uri": info.bolt_uri, "http_url": info.http_url,
            "database": info.database, "data_dir": str(info.data_dir), "log_path": str(info.log_path)}


def cmd_db_start(args: argparse.Namespace) -> int:
    info = localdb.ensure_running(settings_from(args))
    _print(args, _server_dict(info), _server_text(info))
    return 0


def cmd_db_stop(args: argparse.Namespace) -> int:
    stopped = localdb.stop(settings_from(args))
    _print(args, {"stopped": stopped}, "stopped" if stopped else "not running")
    return 0


def cmd_db_status(args: argparse.Namespace) -> int:
    status = localdb.status(settings_from(args))
    data: dict[str, Any] = _server_dict(status.info) if status.info else {"running": status.running}
    data.update(pid=status.pid, problem=status.problem)
    text = _server_text(status.info) if status.info and not status.problem else status.summary
    _print(args, data, text)
    if not status.running:
        return 3
    return 1 if status.problem else 0


def cmd_db_install_runtime(args: argparse.Namespace) -> int:
    path = localdb.install_runtime(settings_from(args).home)
    _print(args, {"runtime": str(path)}, f"ArcadeDB runtime installed in {path}")
    return 0


def cmd_cache_clear(args: argparse.Namespace) -> int:
    from .pipeline.cache import cache_path, forget_facts

    settings = settings_from(args)
    forget_facts(settings.home, args.repo)
    print(f"forgot the cached facts of {args.repo!r}" if args.repo else f"removed {cache_path(settings.home)}")
    return 0


def cmd_grammars_status(args: argparse.Namespace) -> int:
    from .pipeline.parse import grammars

    home = settings_from(args).grammars
    lacking = grammars.missing(list(grammars.GRAMMARS), home)
    rows = {name: {"source": grammars.source_of(name, home), "version": g.version, "missing": lacking.get(name)}
            for name, g in grammars.GRAMMARS.items()}
    text = "\n".join(f"{name:<11} {row['version']:<7} {row['missing'] or row['source']}" for name, row in rows.items())
    _print(args, {"home": str(home), "grammars": rows}, text)
    return 3 if lacking else 0


def cmd_grammars_install(args: argparse.Namespace) -> int:
    from .errors import ConfigError
    from .pipeline.parse import grammars

    home = settings_from(args).grammars
    try:
        built = grammars.install_grammars(home, args.names or None, force=args.force,
                                          log=(lambda line: None) if args.json else print)
    except grammars.GrammarError as exc:
        raise ConfigError(f"grammars install failed: {exc}") from None
    text = "\n".join(f"{name:<11} {info.get('check', 'built')}" for name, info in built.items()) or \
        f"all grammars are installed in {home / 'grammars'}"
    _print(args, {"home": str(home), "built": built}, text)
    return 0


def cmd_runtime(args: argparse.Namespace) -> int:
    from .pipeline.parse.languages import support

    report: dict[str, Any] = dict(runtime.report().to_dict())
    settings = settings_from(args)
    report.update(default_workers=settings.workers, pool_size=settings.connection_pool_size)
    report["languages"] = support(settings.grammars)
    text = "\n".join(f"{k:<22} {v}" for k, v in report.items() if k not in ("languages", "language_executors"))
    text += "\n" + "\n".join(f"{name:<22} {row['executor']}: {row['parser']}"
                              for name, row in report["languages"].items())
    _print(args, report, text)
    return 0


# -- answers (issue 13): the library answers; these only pick the repository and print -----------------------


def _answer(args: argparse.Namespace, fn: Any, *rest: Any, repo_wide: bool = False, **kwargs: Any) -> Any:
    from .answers.common import answer_with_settings

    settings = settings_from(args)
    if repo_wide and not args.repo:
        return answer_with_settings(settings, fn, *rest, repo_at=getattr(args, "path", ".") or ".", **kwargs)
    if repo_wide:
        return answer_with_settings(settings, fn, args.repo, *rest, **kwargs)
    return answer_with_settings(settings, fn, *rest, **kwargs)


def cmd_impact(args: argparse.Namespace) -> int:
    from .answers.impact import impact

    data = _answer(args, impact, args.symbol, args.repo, args.depth, args.limit)
    print(json.dumps(data) if args.json else format_impact(data))
    return 0


def format_impact(d: dict[str, Any]) -> str:
    lines = [f"impact of {d['symbol']['kind']} {d['symbol']['qualified_name']} (depth {d['depth']}): "
             f"{d['risk']['summary']}"]
    for group in d["by_depth"]:
        lines.append(f"  depth {group['depth']}: {group['count']}")
    for dep in d["dependents"]:
        test = " [test]" if dep["is_test"] else ""
        lines.append(f"  {dep['depth']} {dep['via']:<9} {dep['kind']:<8} {dep['qualified_name']}  "
                     f"{dep['path']}:{dep['start_line']}{test}")
    if d["truncated"]:
        lines.append(f"  ... {d['count']} in all")
    if d["unresolved"]["note"]:
        lines.append(f"  {d['unresolved']['note']}")
    return "\n".join(lines)


def cmd_changes(args: argparse.Namespace) -> int:
    from .answers.changes import detect_changes, over_threshold

    data = _answer(args, detect_changes, args.base, args.depth, args.limit, repo_wide=True)
    print(json.dumps(data) if args.json else format_changes(data))
    if args.fail_over is not None and over_threshold(data, args.metric, args.fail_over):
        print(f"graphdex: the changes reach {data['affected'][args.metric]} {args.metric}, more than "
              f"{args.fail_over}", file=sys.stderr)
        return 1
    return 0


def format_changes(d: dict[str, Any]) -> str:
    lines = [f"changes in {d['repo']} against {d['base']}: {d['note']}"]
    for f in d["files"]:
        flags = (" [stale index]" if f["stale"] else "") + ("" if f["indexed"] else " [not indexed]")
        lines.append(f"  {f['status']:<9} {f['path']} {f['lines']}{flags}")
    for c in d["changed"]:
        lines.append(f"  changed  {c['kind']:<8} {c['qualified_name']}  {c['path']}:{c['start_line']}  "
                     f"-> {c['dependents']} dependents in {c['files']} files ({c['risk']})")
    lines.append(f"  affected: {d['affected']['summary']}")
    if d["tests"]:
        lines.append(f"  tests: {', '.join(d['tests'][:20])}" + (" ..." if len(d["tests"]) > 20 else ""))
    return "\n".join(lines)


def cmd_dead_code(args: argparse.Namespace) -> int:
    from .answers.dead_code import dead_code

    data = _answer(args, dead_code, args.kind, args.limit, args.include_excluded, repo_wide=True)
    print(json.dumps(data) if args.json else format_dead_code(data))
    return 0


def format_dead_code(d: dict[str, Any]) -> str:
    lines = [f"dead code in {d['repo']}: {d['note']}"]
    lines += [f"  {s['confidence']:.2f} {s['kind']:<8} {s['qualified_name']}  {s['path']}:{s['start_line']}  "
              f"({s['reason']})" for s in d["symbols"]]
    lines += [f"  left out  {s['kind']:<8} {s['qualified_name']}  {s['path']}:{s['start_line']}  ({s['reason']})"
              for s in d["excluded_symbols"]]
    return "\n".join(lines)


def cmd_path(args: argparse.Namespace) -> int:
    from .answers.paths import call_path

    data = _answer(args, call_path, args.source, args.target, args.repo, args.max_depth, args.k)
    print(json.dumps(data) if args.json else format_path(data))
    return 0


def format_path(d: dict[str, Any]) -> str:
    lines = [d["note"]]
    for chain in d["paths"]:
        lines.append(f"  {chain['length']}: " + " -> ".join(chain["symbols"]))
        lines += [f"      {h['caller']} -> {h['callee']}  {h['path']}:{h['line']}"
                  f"{'' if h['line_is_call'] else ' (definition)'}  [{h['provenance']}]"
                  + (f" if {h['condition']}" if h["condition"] else "") for h in chain["hops"]]
    return "\n".join(lines)


def cmd_architecture(args: argparse.Namespace) -> int:
    from .answers import architecture as layering

    if args.svg:
        dot = _answer(args, layering.architecture_dot, args.level, args.max_nodes or 150, repo_wide=True)
        path = layering.render_svg(dot, args.svg)
        print(f"graphdex: drew {path}")
        return 0
    data = _answer(args, layering.architecture, args.level, 500, args.max_nodes or 60, repo_wide=True)
    if args.mermaid:
        print(data["mermaid"])
    else:
        print(json.dumps(data) if args.json else format_architecture(data))
    return 0


def format_architecture(d: dict[str, Any]) -> str:
    lines = [f"architecture of {d['repo']} ({d['level']} level): {len(d['nodes'])} nodes, {d['edge_count']} "
             f"imports, {len(d['cycles'])} import cycles, {len(d['layers'])} layers"]
    lines += [f"  cycle of {len(c['members'])}: {' -> '.join(c['example'])}" for c in d["cycles"]]
    lines.append("  most depended on: " + ", ".join(f"{n['name']} ({n['fan_in']})" for n in d["most_depended_on"]))
    lines.append("  most dependent:   " + ", ".join(f"{n['name']} ({n['fan_out']})" for n in d["most_dependent"]))
    for layer in d["layers"]:
        shown = ", ".join(layer["members"][:12]) + (f" +{len(layer['members']) - 12}" if len(layer["members"]) > 12
                                                    else "")
        lines.append(f"  layer {layer['layer']}: {shown}")
    if d["external"]:
        lines.append("  outside: " + ", ".join(f"{e['name']} ({e['importers']})" for e in d["external"]))
    return "\n".join(lines)


def cmd_serve(args: argparse.Namespace) -> int:
    from mcp_server.server import main as serve  # the other face; imported only for this command

    serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
