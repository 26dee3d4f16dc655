"""The documentation says what the code does: the README's configuration table and layout, server.json's
environment list, and the CLI's help come from (or agree with) the code."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from indexer.errors import EXIT_CODES
from indexer.settings import EMBEDDING_SETTINGS, SETTINGS, markdown_table

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()


def test_the_configuration_tables_are_the_settings_tables() -> None:
    assert markdown_table() in README
    assert markdown_table(EMBEDDING_SETTINGS) in README


def test_every_module_is_in_the_layout_section() -> None:
    layout = README[README.index("## Layout"):]
    modules = sorted(p for folder in ("indexer", "mcp_server") for p in (REPO / folder).rglob("*.py"))
    missing = [str(p.relative_to(REPO)) for p in modules
               if p.name not in ("__init__.py", "__main__.py") and p.name not in layout]
    assert not missing, f"modules the README's layout section does not name: {missing}"
    named = set(re.findall(r"([a-z_]+\.py)", layout))
    existing = {p.name for p in modules}
    assert named <= existing, f"the layout names files that do not exist: {sorted(named - existing)}"


def test_server_json_lists_real_settings_with_their_secrets_marked() -> None:
    server = json.loads((REPO / "server.json").read_text())
    listed = {v["name"]: v for v in server["packages"][0]["environmentVariables"]}
    known = {s.env: s for s in (*SETTINGS, *EMBEDDING_SETTINGS) if s.env}
    assert set(listed) <= set(known)
    for name, entry in listed.items():
        assert entry.get("isSecret", False) == known[name].secret, name


def test_help_lists_every_option_setting_and_exit_code() -> None:
    done = subprocess.run([sys.executable, "-m", "indexer", "index", "--help"], capture_output=True, text=True)
    assert done.returncode == 0
    for setting in (*SETTINGS, *EMBEDDING_SETTINGS):
        if setting.option:
            assert setting.option in done.stdout
        if setting.env:
            assert setting.env in done.stdout
    for code, meaning in EXIT_CODES.items():
        assert f"{code:<4} {meaning}" in done.stdout
