"""graphdex imports and runs where POSIX-only modules do not exist (Windows): none of its own modules imports
fcntl, termios, pwd, grp or resource. The standard library and third-party packages choose their own platform
modules (on Linux psutil needs `resource`, which Windows psutil never imports), so only imports made by
graphdex's code are blocked: the test finds the importing module from the stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from sample_repo import EXPECTED_RELATIONSHIP_COUNTS, make_sample_repo

REPO = Path(__file__).resolve().parents[1]
POSIX_ONLY = ("fcntl", "termios", "pwd", "grp", "resource")

BLOCKER = textwrap.dedent(f"""
    import importlib.abc, sys
    BLOCKED = set({POSIX_ONLY!r})
    OURS = ("indexer", "mcp_server")

    def importer():
        frame = sys._getframe(2)
        while frame is not None:
            name = frame.f_globals.get("__name__", "")
            if not name.startswith(("importlib", "_frozen_importlib")) and name != __name__:
                return name
            frame = frame.f_back
        return ""

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            who = importer()
            if name.partition(".")[0] in BLOCKED and who.startswith(OURS):
                raise ImportError(f"{{who}} imports {{name}}, which does not exist on Windows")
            return None

    sys.meta_path.insert(0, Block())
    for module in BLOCKED:  # some builds import one at start-up (3.14t: fcntl); a cached module skips the finder
        sys.modules.pop(module, None)
""")


def python(code: str, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "GRAPHDEX_"))}
    env.update(GRAPHDEX_HOME=str(home), PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-c", BLOCKER + code, *args], capture_output=True, text=True, env=env,
                          timeout=300)


def test_every_module_imports_without_posix_only_modules(tmp_path: Path) -> None:
    done = python(textwrap.dedent("""
        import importlib, pkgutil, indexer, mcp_server
        failed = []
        for package in (indexer, mcp_server):
            for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
                try:
                    importlib.import_module(info.name)
                except ImportError as exc:
                    failed.append(f"{info.name}: {exc}")
        print("\\n".join(failed) or "ok")
    """), home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_the_blocker_does_block_our_imports(tmp_path: Path) -> None:
    """The test above proves something only if an import of ours would be refused."""
    done = python("import indexer\nexec('import fcntl', {'__name__': 'indexer.fake'})", home=tmp_path)
    assert done.returncode != 0 and "indexer.fake imports fcntl" in done.stderr


def test_help_runtime_and_a_dry_run_work_without_posix_only_modules(tmp_path: Path) -> None:
    run_cli = ("import runpy, sys\nsys.argv = ['graphdex', *sys.argv[1:]]\n"
               "runpy.run_module('indexer', run_name='__main__')")
    done = python(run_cli, "--help", home=tmp_path)
    assert done.returncode == 0 and "exit codes:" in done.stdout, done.stderr
    done = python(run_cli, "runtime", "--json", home=tmp_path)
    assert done.returncode == 0 and "auto_executor" in json.loads(done.stdout), done.stderr
    repo = make_sample_repo(tmp_path / "sample")
    done = python(run_cli, "index", str(repo), "--dry-run", "--json", "--executor", "process", "--workers", "2",
                  home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["relationships"]["CALLS"] == EXPECTED_RELATIONSHIP_COUNTS["CALLS"]
