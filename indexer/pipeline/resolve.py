"""Stage 4: one pass in the parent over every file's facts, turning them into IMPORTS/CALLS/INHERITS edges.

Resolution needs the whole repository (a call in one file names a function in another), so it runs once,
after extraction. Extraction kept each file's bindings in execution order, with Python's scoping (see
parse/python.py); here every call site's callee is evaluated over the repository (resolve_values.py): names
through the bindings that reach them, imports and re-exports across modules, attributes along class MROs,
instances from constructors, annotations, `isinstance` and `with`, values through assignments, returns,
containers, decorators and function arguments.

A call site gets a CALLS edge to every Function/Method its callee may be, each with its provenance and the
branch condition it depends on; a site that reaches none is counted by reason (builtin, external,
unknown_receiver, dynamic), never guessed. One edge per (caller, callee): over several sites the most direct
provenance wins and the conditions are or-ed ("" if any site is unconditional).
"""

from __future__ import annotations

import gc
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from ..models import (
    BUILTIN,
    CALLS,
    CLASS,
    DYNAMIC,
    EXTERNAL,
    IMPORTS,
    INHERITS,
    PROVENANCE_ORDER,
    REFERENCES,
    UNKNOWN_RECEIVER,
    UNRESOLVED_REASONS,
    Edge,
    Expr,
    FileFacts,
    RawCall,
    Resolution,
    UnresolvedCall,
    external_module_id,
)
from .resolve_values import (
    CONSTRUCTOR,
    DECORATOR,
    INFERRED,
    Evaluator,
    Obj,
    and_,
    or_,
)

_ROUNDS = 4  # passes that carry functions passed as arguments into the callees' parameters


@dataclass(slots=True)
class SiteOutcome:
    """What one call site resolved to: (callee id, provenance rank, condition, arguments offset) per edge."""

    edges: list[tuple[str, int, str, int]]
    reason: str | None  # why there is no edge
    reads: frozenset[tuple[str, str]] | None  # parameters whose incoming arguments it read: evaluated again
    #                                           when those change


def resolve(repo: str, facts: list[FileFacts]) -> Resolution:
    was_enabled = gc.isenabled()
    gc.disable()  # the memoised values are many small tuples alive until the end, and make no cycles:
    try:          # the cyclic collector would only rescan them (2.5x the resolution time on the stdlib)
        return _resolve(repo, facts)
    finally:
        if was_enabled:
            gc.enable()


def _resolve(repo: str, facts: list[FileFacts]) -> Resolution:
    result = Resolution()
    edges: set[Edge] = set()
    modules = {f.module: f.module_id for f in facts}
    for file in facts:
        _resolve_imports(repo, modules, file, edges, result)
    evaluator = Evaluator(facts)
    sites, outcomes = resolve_sites(evaluator, facts)
    calls: dict[tuple[str, str], tuple[int, str]] = {}
    counts = dict.fromkeys(("resolved", "unresolved", *UNRESOLVED_REASONS), 0)
    for (ctx, call), outcome in zip(sites, outcomes, strict=True):
        edges.update(_references(evaluator, ctx, call))  # issue 13: functions and classes passed as arguments
        if outcome.reason is not None:
            counts["unresolved"] += 1
            counts[outcome.reason] += 1
            _keep_unresolved(call, outcome.reason, result.unresolved_sites)  # issue 13: on the calling node
            continue
        counts["resolved"] += 1
        for target, rank, cond, _ in outcome.edges:
            key = (call.caller_id, target)
            old = calls.get(key)
            calls[key] = (rank, cond) if old is None else (min(old[0], rank), or_(old[1], cond))
    for (source, target), (rank, cond) in calls.items():
        edges.add(Edge(CALLS, source, target, PROVENANCE_ORDER[rank], cond))
    for file in facts:
        for scope in file.scopes:
            if scope.kind != CLASS:
                continue
            found = evaluator.base_classes(scope.id)
            for base in found:
                edges.add(Edge(INHERITS, scope.id, base))
            result.unresolved_bases += len(scope.bases) - min(len(found), len(scope.bases))
    result.call_sites = counts
    result.unresolved_calls = counts["unresolved"]
    result.unresolved_sites.sort(key=lambda u: (u.caller_id, u.name, u.line, u.target))
    result.edges = sorted(edges, key=lambda e: (e.type, e.source, e.target))
    return result


_REFERENCED = {"def": 1, "sm": 1, "bound": 1, "cm": 1, "cls": 1}  # object kinds -> where their node id is


def _references(evaluator: Evaluator, ctx: int, call: RawCall) -> list[Edge]:
    """REFERENCES edges from the calling code to the functions and classes of the repository a call site passes
    as arguments (`sorted(xs, key=_key)`, `Thread(target=self._run)`, `isinstance(x, Foo)`): code outside the
    repository may call them, so they are used even with no CALLS edge. A decorator application passes the
    function it decorates, which is no reference."""
    if call.args is None or call.kind == "decorator":
        return []
    positional, keywords = call.args
    values = [a[1] if a[0] == "star" else a for a in positional if a is not None] + [v for _, v in keywords]
    found: list[Edge] = []
    for value in values:
        for obj in evaluator.evaluate(ctx, value):
            at = _REFERENCED.get(obj[0])
            if at is not None and isinstance(obj[at], str) and obj[at] != call.caller_id:
                found.append(Edge(REFERENCES, call.caller_id, obj[at]))
    return found


# The called name of a callee as written: its last identifier (`self.db.save` -> save, `f().g` -> g); callees
# without one (`x[]`, `f()()`, `<lambda>`, `@deco()`) cannot carry an asked-for name and are not kept.
_CALLED_NAME = re.compile(r"(?:^|\.)([A-Za-z_]\w*)$")
_MIGHT_REACH_THE_REPOSITORY = (UNKNOWN_RECEIVER, DYNAMIC)  # builtin and external sites are known not to


def _keep_unresolved(call: RawCall, reason: str, kept: list[UnresolvedCall]) -> None:
    """Keep an unresolved site that carries a name and might have reached a function of the repository."""
    if reason not in _MIGHT_REACH_THE_REPOSITORY:
        return
    match = _CALLED_NAME.search(call.target.removeprefix("@"))
    if match:
        kept.append(UnresolvedCall(call.caller_id, match.group(1), call.line, reason, call.target))


def resolve_sites(evaluator: Evaluator, facts: list[FileFacts]) -> tuple[list[tuple[int, RawCall]],
                                                                         list[SiteOutcome]]:
    """Every call site's outcome. Functions passed as arguments flow into the parameters of the functions
    the sites reached; the sites that read such parameters are evaluated again until nothing changes."""
    sites = [(ctx, call) for ctx, file in enumerate(facts) for call in file.calls]
    outcomes: list[SiteOutcome] = [SiteOutcome([], DYNAMIC, None)] * len(sites)
    carried: list[list[tuple[tuple[str, str], tuple[int, Expr]]]] = [[] for _ in sites]
    flows: dict[tuple[str, str], dict[tuple[int, int], tuple[int, Expr]]] = defaultdict(dict)
    readers: dict[tuple[str, str], list[int]] = defaultdict(list)  # parameter -> the sites that read it
    pending: Iterable[int] = range(len(sites))
    evaluator.flows = flows
    evaluator.prepare()
    evaluator.register_stores()
    cache: dict[tuple[int, Expr, str], SiteOutcome] = {}  # a callee written again in a file: the same outcome
    for _ in range(_ROUNDS):
        changed: set[tuple[str, str]] = set()
        for i in pending:
            ctx, call = sites[i]
            key = (ctx, call.callee, call.kind)
            outcome = cache.get(key)
            if outcome is None:
                outcome = cache[key] = _outcome(evaluator, ctx, call)
            outcomes[i] = outcome
            for param in outcome.reads or ():
                readers[param].append(i)
            if call.args is None and not carried[i]:
                continue
            new = _carried(evaluator, ctx, call, outcome)
            if new != carried[i]:
                for n, (param, _) in enumerate(carried[i]):
                    flows[param].pop((i, n), None)
                    changed.add(param)
                for n, (param, arg) in enumerate(new):
                    flows[param][(i, n)] = arg
                    changed.add(param)
                carried[i] = new
        if not changed:
            break
        evaluator.reset(changed)
        pending = sorted({i for param in changed for i in readers.pop(param, ())})
        for i in pending:
            cache.pop((sites[i][0], sites[i][1].callee, sites[i][1].kind), None)
    return sites, outcomes


def _outcome(evaluator: Evaluator, ctx: int, call: RawCall) -> SiteOutcome:
    evaluator.reads = None
    found = evaluator.evaluate(ctx, call.callee)
    targets: dict[str, tuple[int, str, int]] = {}
    reasons: set[str] = set()
    floor = DECORATOR if call.kind == "decorator" else 0
    for obj, (rank, cond) in found.items():
        for target, r, c, offset in _targets(evaluator, obj, rank, cond, reasons):
            r = max(r, floor)
            old = targets.get(target)
            targets[target] = (r, c, offset) if old is None else (min(old[0], r), or_(old[1], c), old[2])
    reads = frozenset(evaluator.reads) if evaluator.reads else None
    if targets:
        edges = [(t, r, c, o) for t, (r, c, o) in sorted(targets.items())]
        return SiteOutcome(edges, None, reads)
    reason = next((r for r in (EXTERNAL, BUILTIN, UNKNOWN_RECEIVER) if r in reasons), DYNAMIC)
    return SiteOutcome([], reason, reads)


def _targets(evaluator: Evaluator, obj: Obj, rank: int, cond: str,
             reasons: set[str]) -> list[tuple[str, int, str, int]]:
    """The functions and methods calling `obj` runs (id, rank, condition, arguments offset); else a reason."""
    kind = obj[0]
    if kind in ("def", "sm"):
        return [(obj[1], rank, cond, 0)]
    if kind in ("bound", "cm"):
        return [(obj[1], rank, cond, 1)]
    if kind == "cls":
        out = []
        for name in ("__init__", "__new__"):
            for method, (r, c) in evaluator.lookup(obj[1], name).items():
                if method[0] in ("def", "sm", "cm"):
                    out.append((method[1], max(rank, r, CONSTRUCTOR), and_(cond, c), 1))
                elif name == "__init__":
                    reasons.add(_reason(method))
        return out
    if kind == "inst":
        out = []
        for method, (r, c) in evaluator.instance_attr(obj[1], "__call__").items():
            if method[0] in ("bound", "def", "sm", "cm"):
                out.append((method[1], max(rank, r, INFERRED), and_(cond, c), 1 if method[0] in ("bound", "cm")
                            else 0))
            else:
                reasons.add(_reason(method))
        return out
    reasons.add(_reason(obj))
    return []


def _reason(obj: Obj) -> str:
    kind = obj[0]
    if kind in ("bi", "bv", "getter", "view"):
        return BUILTIN
    if kind == "ext" or (kind == "deco" and obj[1] == "ext"):
        return EXTERNAL
    if kind == "unk" and obj[1] == "receiver":
        return UNKNOWN_RECEIVER
    return DYNAMIC


def _carried(evaluator: Evaluator, ctx: int, call: RawCall,
             outcome: SiteOutcome) -> list[tuple[tuple[str, str], tuple[int, Expr]]]:
    """The arguments of a call site that may carry functions or objects, by the parameter of each callee
    they reach."""
    flows: list[tuple[tuple[str, str], tuple[int, Expr]]] = []
    if call.args is not None:
        positional, keywords = call.args
        for target, _, _, offset in outcome.edges:
            signature = evaluator.signature(target)
            if signature is None:
                continue
            ordered, star, double, named = signature
            for i, arg in enumerate(positional, offset):
                if arg is not None and arg[0] == "star":
                    break
                if arg is None:
                    continue
                name = ordered[i] if i < len(ordered) else star
                if name is not None:
                    flows.append(((target, name), (ctx, arg)))
            for keyword, arg in keywords:
                name = keyword if keyword in named else double if keyword is not None else None
                if name is not None:
                    flows.append(((target, name), (ctx, arg)))
    return flows


def _resolve_imports(repo: str, modules: dict[str, str], file: FileFacts, edges: set[Edge],
                     out: Resolution) -> None:
    for imp in file.imports:
        if not imp.module:
            continue
        submodule = f"{imp.module}.{imp.name}" if imp.name and imp.name != "*" else None
        target = submodule if submodule and submodule in modules else imp.module
        if target in modules:
            target_id = modules[target]
        else:
            target_id = external_module_id(repo, target)
            out.external_modules[target_id] = target
        if target_id != file.module_id:
            edges.add(Edge(IMPORTS, file.module_id, target_id))
