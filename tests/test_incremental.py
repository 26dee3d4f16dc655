"""Incremental runs converge: after 50 random edits, adds, deletes and renames, each followed by one run (which
parses only what changed and compares edges with the last run's in memory), the graph equals a fresh index of
the final tree: nodes and relationships as multisets."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

from generated_repo import make_generated_repo, module_source
from graph_helpers import assert_same_graph

from indexer.models import Summary
from indexer.pipeline.run import run
from indexer.settings import Settings
from indexer.store import GraphStore

STEPS = 50
CHECK_EVERY = 10


def _python_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if p.name != "__init__.py")


def _edit(rng: random.Random, root: Path, step: int) -> str:
    """One random change to the tree; what it was."""
    files = _python_files(root)
    target = rng.choice(files)
    action = rng.choice(["edit", "edit", "calls", "add", "delete", "rename", "touch"])
    if action == "edit":  # rename a function: its callers elsewhere lose their edge (and count it unresolved)
        text = target.read_text()
        names = [line.split("(")[0][4:] for line in text.splitlines() if line.startswith("def ")]
        if names:
            old = rng.choice(names)
            target.write_text(text.replace(f"def {old}(", f"def {old}_v{step}("))
    elif action == "calls":  # a new module-level function calling into an imported module
        target.write_text(target.read_text() + f"\n\ndef added_{step}(x):\n    return helper_{step}(x) + len(str(x))\n"
                          f"\n\ndef helper_{step}(y):\n    return y\n")
    elif action == "add":  # a new module importing an existing one (written as a generated module would be)
        package = target.parent
        (package / f"added_{step}.py").write_text(module_source(rng.randrange(1, 40), seed=step).replace(
            "Generated module", "Added module"))
    elif action == "delete":
        target.unlink()
    elif action == "rename":  # moved to another package: a new module name, every id of it changes
        packages = sorted({p.parent for p in files} - {target.parent}) or [target.parent]
        target.rename(rng.choice(packages) / f"moved_{step}_{target.name}")
    else:  # rewritten with the same content: nothing changes
        target.write_text(target.read_text())
    return f"{action} {target.relative_to(root)}"


def test_fifty_random_changes_converge_to_a_fresh_index(tmp_path: Path, graph_settings: Settings,
                                                         store: GraphStore) -> None:
    rng = random.Random(1128)
    root = make_generated_repo(tmp_path / "tree", 60)
    run(root, graph_settings, repo="incremental", store=store)
    history: list[tuple[str, Summary]] = []
    for step in range(1, STEPS + 1):
        change = _edit(rng, root, step)
        summary = run(root, graph_settings, repo="incremental", store=store)
        history.append((change, summary))
        assert not summary.cancelled and summary.files_failed == 0, change
        if step % CHECK_EVERY == 0:
            fresh = tmp_path / f"fresh-{step}"
            shutil.copytree(root, fresh)
            run(fresh, graph_settings, repo=f"incremental-fresh-{step}", store=store)
            assert_same_graph(store, "incremental", f"incremental-fresh-{step}")
    parsed = [s.files_parsed for _, s in history]
    assert max(parsed) < 10, f"incremental runs parse only what changed: {parsed}"
    touched = [s for change, s in history if change.startswith("touch")]
    assert all(s.files_changed == 0 and s.edges_added == 0 for s in touched)
