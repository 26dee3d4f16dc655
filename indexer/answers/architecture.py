"""architecture: how a repository is layered, from its IMPORTS edges.

The import graph is built between modules (`level="module"`) or between top-level packages (`level="package"`:
`email.mime.text` counts as `email`). Its strongly connected components are the import cycles; collapsing each
into one node condenses the graph into a DAG, whose longest-path layering gives every node a layer: 0 imports
nothing of the repository, n imports nothing above layer n-1. Without cycles that layering is strict
(`layered`); with them a cycle's members share one layer and the cycles are listed, each with one concrete
example. Fan-in (importers) and fan-out (imports) rank the most depended-on and the most dependent nodes.

The condensed graph is also given as Mermaid text (for an assistant) and as Graphviz DOT, which `render_svg`
draws with the `dot` program (for a person); both keep the `max_nodes` best-connected nodes.
"""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter, defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .. import results as r
from ..errors import ConfigError, GraphdexError, ToolMissingError
from ..store.graph import GraphStore
from . import lookup
from .common import MAX_LIMIT, check_range

LEVELS = ("module", "package")
TOP = 10  # most depended-on / most dependent / external listed


@dataclass
class ImportGraph:
    """Nodes (module or package names) and edges importer -> imported, inside the repository."""

    names: set[str] = field(default_factory=set)
    out: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    files: Counter[str] = field(default_factory=Counter)
    external: Counter[str] = field(default_factory=Counter)  # outside module -> importing nodes

    def into(self) -> dict[str, set[str]]:
        incoming: dict[str, set[str]] = defaultdict(set)
        for source, targets in self.out.items():
            for target in targets:
                incoming[target].add(source)
        return incoming


def architecture(store: GraphStore, repo: str, level: str = "module", limit: int = 500,
                 max_nodes: int = 60) -> r.Architecture:
    if level not in LEVELS:
        raise ConfigError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    check_range("limit", limit, 1, 100_000)
    check_range("max_nodes", max_nodes, 2, MAX_LIMIT)
    lookup.repository_root(store, repo)  # a clear error for an unknown repository
    graph = import_graph(lookup.modules(store, repo), lookup.module_imports(store, repo), level)
    components = strongly_connected(graph)
    cycles = sorted((c for c in components if len(c) > 1), key=lambda c: (-len(c), sorted(c)[0]))
    cycle_of = {name: i for i, members in enumerate(cycles) for name in members}
    layer = layers(graph, components)
    incoming = graph.into()
    nodes = [_node(graph, incoming, name, layer[name], cycle_of.get(name)) for name in graph.names]
    nodes.sort(key=lambda n: (n["layer"], n["name"]))
    edges = sorted([source, target] for source, targets in graph.out.items() for target in targets)
    return {
        "repo": repo,
        "level": level,
        "nodes": nodes,
        "edges": edges[:limit],
        "edge_count": len(edges),
        "cycles": [{"members": sorted(c), "example": example_cycle(graph, c)} for c in cycles],
        "layered": not cycles,
        "layers": _layer_list(layer),
        "most_depended_on": sorted(nodes, key=lambda n: (-n["fan_in"], n["name"]))[:TOP],
        "most_dependent": sorted(nodes, key=lambda n: (-n["fan_out"], n["name"]))[:TOP],
        "external": [{"name": n, "importers": c} for n, c in
                     sorted(graph.external.items(), key=lambda item: (-item[1], item[0]))[:TOP]],
        "mermaid": mermaid(graph, components, layer, max_nodes),
        "truncated": len(edges) > limit,
    }


def group_name(module: str, level: str) -> str:
    return module.split(".", 1)[0] if level == "package" else module


def import_graph(modules: list[dict[str, object]], imports: list[dict[str, object]], level: str) -> ImportGraph:
    graph = ImportGraph()
    name_of = {str(m["id"]): group_name(str(m["qualified_name"]), level) for m in modules}
    tops = {str(m["qualified_name"]).split(".", 1)[0] for m in modules}
    for name in name_of.values():
        graph.names.add(name)
        graph.files[name] += 1
    importers_of: dict[str, set[str]] = defaultdict(set)
    for edge in imports:
        source = name_of.get(str(edge["source"]))
        if source is None:
            continue
        if edge["external"]:
            importers_of[_outside_name(str(edge["name"]), tops)].add(source)
            continue
        target = name_of.get(str(edge["target"]))
        if target is not None and target != source:
            graph.out[source].add(target)
    graph.external = Counter({name: len(users) for name, users in importers_of.items()})
    return graph


def _outside_name(name: str, tops: set[str]) -> str:
    """An outside module by its top-level package (`numpy.linalg` -> numpy), unless that package is the
    repository's own (`os.path` when os.py is in the repository): then its whole name."""
    top = name.split(".", 1)[0]
    return name if top in tops else top


def strongly_connected(graph: ImportGraph) -> list[frozenset[str]]:
    """Tarjan's algorithm, iterative; components come out after every component they import."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[frozenset[str]] = []
    for root in sorted(graph.names):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.out.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.out.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                members = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.add(member)
                    if member == node:
                        break
                components.append(frozenset(members))
    return components


def layers(graph: ImportGraph, components: list[frozenset[str]]) -> dict[str, int]:
    """Longest-path layering of the condensation: components arrive after everything they import."""
    component_of = {name: i for i, members in enumerate(components) for name in members}
    level: list[int] = []
    for i, members in enumerate(components):
        below = [level[component_of[t]] for m in members for t in graph.out.get(m, ()) if component_of[t] != i]
        level.append(1 + max(below) if below else 0)
    return {name: level[component_of[name]] for name in graph.names}


def example_cycle(graph: ImportGraph, members: Iterable[str]) -> list[str]:
    """A shortest import cycle through the first member (by name), inside the component: [a, b, ..., a]."""
    inside = set(members)
    start = min(inside)
    previous: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for target in sorted(graph.out.get(node, ())):
            if target == start:
                chain = [node]
                while chain[-1] != start:
                    chain.append(previous[chain[-1]])
                return [start, *reversed(chain[:-1]), start] if node != start else [start, start]
            if target in inside and target not in previous:
                previous[target] = node
                queue.append(target)
    return [start]


def _node(graph: ImportGraph, incoming: dict[str, set[str]], name: str, layer: int,
          cycle: int | None) -> r.ModuleNode:
    return {"name": name, "files": graph.files[name], "fan_in": len(incoming.get(name, ())),
            "fan_out": len(graph.out.get(name, ())), "layer": layer, "cycle": cycle}


def _layer_list(layer: dict[str, int]) -> list[r.Layer]:
    by_layer: dict[int, list[str]] = defaultdict(list)
    for name, n in layer.items():
        by_layer[n].append(name)
    return [{"layer": n, "members": sorted(names)} for n, names in sorted(by_layer.items())]


# ------------------------------------------------------------------------------------------------ drawings


@dataclass
class Condensed:
    """The condensation, cut to the best-connected nodes: labels, layers and edges between kept nodes."""

    labels: dict[str, str]
    layer: dict[str, int]
    edges: list[tuple[str, str]]
    dropped: int


def condensed(graph: ImportGraph, components: list[frozenset[str]], layer: dict[str, int],
              max_nodes: int) -> Condensed:
    key = {name: f"n{i}" for i, members in enumerate(components) for name in members}
    labels = {f"n{i}": _label(members) for i, members in enumerate(components)}
    edges = {(key[s], key[t]) for s, targets in graph.out.items() for t in targets if key[s] != key[t]}
    degree: Counter[str] = Counter()
    for source, target in edges:
        degree[source] += 1
        degree[target] += 1
    kept = set(sorted(labels, key=lambda n: (-degree[n], labels[n]))[:max_nodes])
    node_layer = {key[name]: n for name, n in layer.items()}
    return Condensed({n: labels[n] for n in sorted(kept, key=lambda n: (-node_layer[n], labels[n]))},
                     {n: node_layer[n] for n in kept},
                     sorted((s, t) for s, t in edges if s in kept and t in kept), len(labels) - len(kept))


def _label(members: frozenset[str]) -> str:
    names = sorted(members)
    if len(names) == 1:
        return names[0]
    shown = ", ".join(names[:4]) + (f" +{len(names) - 4}" if len(names) > 4 else "")
    return f"cycle: {shown}"


def mermaid(graph: ImportGraph, components: list[frozenset[str]], layer: dict[str, int], max_nodes: int) -> str:
    c = condensed(graph, components, layer, max_nodes)
    lines = ["flowchart TD"]
    if c.dropped:
        lines.append(f"  %% {c.dropped} less connected nodes left out")
    lines += [f'  {n}["{label} (L{c.layer[n]})"]' for n, label in c.labels.items()]
    lines += [f"  {s} --> {t}" for s, t in c.edges]
    return "\n".join(lines)


def dot(graph: ImportGraph, components: list[frozenset[str]], layer: dict[str, int], max_nodes: int) -> str:
    c = condensed(graph, components, layer, max_nodes)
    lines = ["digraph imports {", "  rankdir=TB;", '  node [shape=box, fontname="Helvetica", fontsize=10];']
    for n, label in c.labels.items():
        style = ', style=filled, fillcolor="#f4cccc"' if label.startswith("cycle:") else ""
        lines.append(f'  {n} [label="{label}\\nlayer {c.layer[n]}"{style}];')
    by_layer: dict[int, list[str]] = defaultdict(list)
    for n, level in c.layer.items():
        by_layer[level].append(n)
    lines += [f"  {{ rank=same; {'; '.join(sorted(ns))}; }}" for _, ns in sorted(by_layer.items())]
    lines += [f"  {s} -> {t};" for s, t in c.edges]
    lines.append("}")
    return "\n".join(lines)


def architecture_dot(store: GraphStore, repo: str, level: str = "module", max_nodes: int = 150) -> str:
    if level not in LEVELS:
        raise ConfigError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    lookup.repository_root(store, repo)
    graph = import_graph(lookup.modules(store, repo), lookup.module_imports(store, repo), level)
    components = strongly_connected(graph)
    return dot(graph, components, layers(graph, components), max_nodes)


def render_svg(dot_text: str, out: str | Path, program: str = "dot") -> Path:
    """Draw DOT text as SVG with Graphviz; a clear error when Graphviz is missing or fails."""
    executable = shutil.which(program)
    if executable is None:
        raise ToolMissingError(
            f"drawing an SVG needs Graphviz's `{program}` program, which is not installed: install the graphviz "
            "package (apt-get install graphviz, brew install graphviz, choco install graphviz), or use --mermaid")
    path = Path(out)
    done = subprocess.run([executable, "-Tsvg", "-o", str(path)], input=dot_text, text=True, capture_output=True,
                          timeout=120, check=False)
    if done.returncode != 0:
        raise GraphdexError(f"Graphviz failed to draw {path}: {done.stderr.strip() or f'exit {done.returncode}'}")
    return path
