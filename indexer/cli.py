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
from .settings import BY_NAME, EXECUTORS, IF_BUSY, SETTINGS, Settings, parse_size

log = logging.getLogger("graphdex")

EMBEDDING_ENV = "OPENAI_API_KEY, OPENAI_BASE_URL, GRAPHDEX_EMBED_MODEL, GRAPHDEX_EMBED_DIMENSIONS, " \
                "GRAPHDEX_EMBED_CONCURRENCY"


def epilog() -> str:
    names = ", ".join(s.env for s in SETTINGS if s.env)
    codes = "\n".join(f"  {code:<4} {text}" for code, text in EXIT_CODES.items())
    return (f"environment (the README's configuration table says what each does):\n  {names}\n"
            f"  embeddings: {EMBEDDING_ENV}\n"
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
    index.add_argument("--json", action="store_true", help="print the summary as one JSON object on stdout")
    index.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    index.set_defaults(handler=cmd_index)

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
    return parser


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
        summary = run(args.path, settings, repo=args.name, progress=bar, cancel=cancel, dry_run=args.dry_run)
    except KeyboardInterrupt:
        cancel.set()
        raise
    finally:
        if bar:
            bar.close()
    data = summary.to_dict()
    print(json.dumps(data) if args.json else format_summary(data))
    return 0


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


def cmd_serve(args: argparse.Namespace) -> int:
    from mcp_server.server import main as serve  # the other face; imported only for this command

    serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
