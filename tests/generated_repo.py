"""A deterministic generated Python repository of any size, for the stress and free-threading tests and bench.

`make_generated_repo(root, modules=N)` writes N modules in packages of 25 (`gen/pkg_000/mod_000.py`, …). Each
module imports up to three earlier modules (`from … import`, `import … as`), defines two classes (one inheriting
from a class of an imported module), methods calling each other through `self.`, module-level functions calling
functions of the imported modules, and a nested function. The same arguments always give the same bytes, so
every index run over it must give the same graph.

`expected_counts(modules)` gives the Class / Function / Method node counts the generator produces.
"""

from __future__ import annotations

import random
from pathlib import Path

PACKAGE_SIZE = 25
CLASSES_PER_MODULE = 2
METHODS_PER_CLASS = 3
FUNCTIONS_PER_MODULE = 3  # module level; each has one nested function as well


def _module(index: int) -> tuple[str, str]:
    """(dotted name, relative path) of module `index`."""
    package = f"pkg_{index // PACKAGE_SIZE:03d}"
    name = f"mod_{index % PACKAGE_SIZE:03d}"
    return f"gen.{package}.{name}", f"gen/{package}/{name}.py"


def module_source(index: int, seed: int = 0) -> str:
    rng = random.Random(seed * 1_000_003 + index)
    dotted, _ = _module(index)
    imports = sorted(set(rng.sample(range(index), min(3, index)))) if index else []
    lines = [f'"""Generated module {index}."""', "", "import json", "import os.path"]
    aliases: list[tuple[int, str]] = []
    for n, other in enumerate(imports):
        other_name, _ = _module(other)
        if n % 2 == 0:
            lines.append(f"from {other_name} import Base{other}, func_{other}_0, func_{other}_1")
            aliases.append((other, ""))
        else:
            alias = f"m{other}"
            lines.append(f"import {other_name} as {alias}")
            aliases.append((other, alias))
    lines += ["", ""]

    def ref(other: int, attr: str, alias: str) -> str:
        return f"{alias}.{attr}" if alias else attr

    # Classes: Base{i} inherits from an imported module's Base (across files) or from nothing.
    for c in range(CLASSES_PER_MODULE):
        cls = f"Base{index}" if c == 0 else f"Impl{index}"
        if c == 0 and aliases:
            other, alias = aliases[0]
            base = ref(other, f"Base{other}", alias)
        elif c == 1:
            base = f"Base{index}"
        else:
            base = ""
        lines.append(f"class {cls}({base}):" if base else f"class {cls}:")
        lines.append(f'    """Class {cls} of module {dotted}."""')
        lines.append("")
        for m in range(METHODS_PER_CLASS):
            lines.append(f"    def method_{m}(self, value: int = {m}) -> int:")
            if m:
                lines.append(f"        total = self.method_{m - 1}(value)")
            else:
                lines.append("        total = value")
            if aliases and m == METHODS_PER_CLASS - 1:
                other, alias = aliases[rng.randrange(len(aliases))]
                lines.append(f"        total += {ref(other, f'func_{other}_0', alias)}(total)")
            lines.append("        return total + len(json.dumps(value))")
            lines.append("")
        lines.append("")

    # Module-level functions, each with a nested helper; calls into imported modules and into this module.
    for f in range(FUNCTIONS_PER_MODULE):
        lines.append(f"def func_{index}_{f}(x: int) -> int:")
        lines.append(f'    """Function {f} of module {index}."""')
        lines.append("")
        lines.append("    def helper(y: int) -> int:")
        lines.append(f"        return y * {f + 2}")
        lines.append("")
        lines.append("    result = helper(x)")
        if f:
            lines.append(f"    result += func_{index}_{f - 1}(x)")
        for other, alias in aliases[: 1 + f % 2]:
            lines.append(f"    result += {ref(other, f'func_{other}_{f % 2}', alias)}(result)")
        if f == FUNCTIONS_PER_MODULE - 1:
            lines.append(f"    result += Impl{index}().method_{METHODS_PER_CLASS - 1}(result)")
            lines.append("    result += len(os.path.join('a', 'b'))")
        lines.append("    return result")
        lines.append("")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def make_generated_repo(root: Path, modules: int = 500, seed: int = 0) -> Path:
    """Write the repository under `root` (created) and return it."""
    root = Path(root)
    packages = {_module(i)[1].rsplit("/", 1)[0] for i in range(modules)}
    (root / "gen").mkdir(parents=True, exist_ok=True)
    (root / "gen" / "__init__.py").write_text('"""Generated repository."""\n')
    for package in sorted(packages):
        (root / package).mkdir(parents=True, exist_ok=True)
        (root / package / "__init__.py").write_text("")
    for i in range(modules):
        (root / _module(i)[1]).write_text(module_source(i, seed))
    return root


def expected_counts(modules: int) -> dict[str, int]:
    """Node counts by kind for `make_generated_repo(root, modules)` (files include the package __init__s)."""
    packages = len({i // PACKAGE_SIZE for i in range(modules)})
    files = modules + packages + 1
    return {
        "File": files,
        "Module": files,
        "Class": modules * CLASSES_PER_MODULE,
        "Function": modules * FUNCTIONS_PER_MODULE * 2,  # each with its nested helper
        "Method": modules * CLASSES_PER_MODULE * METHODS_PER_CLASS,
    }


if __name__ == "__main__":  # python tests/generated_repo.py DEST [MODULES]
    import sys

    dest = Path(sys.argv[1])
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    make_generated_repo(dest, count)
    print(f"{count} modules in {dest}")
