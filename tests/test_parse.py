"""Extraction of one Python file with the stdlib ast: pure, picklable, never raising on bad source."""

from __future__ import annotations

import pickle

from indexer.models import CLASS, FUNCTION, METHOD
from indexer.pipeline.parse import extract_python, module_names

SOURCE = b'''"""Module doc."""
import os.path
import numpy as np
from . import sibling
from ..up import thing as alias


class Base(object, metaclass=Meta):
    """Base doc.

    More text."""

    @property
    def value(self):
        return self._value

    @value.setter
    def value(self, v):
        self.check(v)
        super().reset()

    async def run(self, *args, timeout: float = 1.0, **kw) -> None:
        def helper():
            return os.path.join("a", "b")
        helper()


def top(x: int) -> int:
    return sibling.f(x) + np.sum(alias(x))
'''


def facts():
    return extract_python("r", "pkg/sub/mod.py", SOURCE, "pkg.sub.mod", sha="abc")


def test_symbols_kinds_names_lines_and_ordinals() -> None:
    by_id = {s.id: s for s in facts().symbols}
    assert set(by_id) == {
        "r:pkg.sub.mod.Base", "r:pkg.sub.mod.Base.value", "r:pkg.sub.mod.Base.value#1",
        "r:pkg.sub.mod.Base.run", "r:pkg.sub.mod.Base.run.helper", "r:pkg.sub.mod.top",
    }
    base = by_id["r:pkg.sub.mod.Base"]
    assert (base.kind, base.start_line, base.end_line, base.docstring) == (CLASS, 8, 25, "Base doc.")
    assert base.signature == "class Base(object, metaclass=Meta)"
    setter = by_id["r:pkg.sub.mod.Base.value#1"]
    assert (setter.kind, setter.start_line, setter.parent_id) == (METHOD, 17, "r:pkg.sub.mod.Base")
    run = by_id["r:pkg.sub.mod.Base.run"]
    assert run.signature == "async def run(self, *args, timeout: float=1.0, **kw) -> None"
    helper = by_id["r:pkg.sub.mod.Base.run.helper"]
    assert (helper.kind, helper.parent_id) == (FUNCTION, "r:pkg.sub.mod.Base.run")
    assert by_id["r:pkg.sub.mod.top"].kind == FUNCTION


def test_imports_are_made_absolute() -> None:
    got = [(i.module, i.name, i.alias) for i in facts().imports]
    assert got == [("os.path", None, "os"), ("numpy", None, "np"), ("pkg.sub", "sibling", "sibling"),
                   ("pkg.up", "thing", "alias")]


def test_calls_carry_caller_and_class() -> None:
    got = {(c.caller_qname.rsplit(".", 1)[-1], c.target) for c in facts().calls}
    assert {("value", "self.check"), ("value", "super().reset"), ("helper", "os.path.join"),
            ("run", "helper"), ("top", "sibling.f"), ("top", "np.sum"), ("top", "alias")} <= got
    assert all(c.class_qname == "pkg.sub.mod.Base" for c in facts().calls if "Base" in c.caller_qname)


def test_bases_and_pickling() -> None:
    f = facts()
    assert [(b.class_qname, b.base) for b in f.bases] == [("pkg.sub.mod.Base", "object")]
    assert pickle.loads(pickle.dumps(f)) == f


def test_syntax_error_is_recorded_not_raised() -> None:
    f = extract_python("r", "bad.py", b"def f(:\n", "bad")
    assert f.error and f.error.startswith("SyntaxError") and f.symbols == []


def test_undecodable_bytes_are_replaced_and_reported() -> None:
    f = extract_python("r", "latin.py", b"# -*- coding: utf-8 -*-\ns = '\xff\xfe'\ndef g():\n    pass\n", "latin")
    assert f.error is None and [s.name for s in f.symbols] == ["g"]
    assert f.warnings == ["undecodable bytes replaced with U+FFFD"]


def test_module_names_follow_packages_and_stay_unique() -> None:
    names = module_names(["src/pkg/__init__.py", "src/pkg/a.py", "src/pkg/sub/__init__.py", "src/pkg/sub/b.py",
                          "tools/util.py", "scripts/util.py", "setup.py"])
    assert names == {"src/pkg/__init__.py": "pkg", "src/pkg/a.py": "pkg.a", "src/pkg/sub/__init__.py": "pkg.sub",
                     "src/pkg/sub/b.py": "pkg.sub.b", "tools/util.py": "tools.util",
                     "scripts/util.py": "scripts.util", "setup.py": "setup"}


def test_source_lines_number_lines_as_the_parser_does(tmp_path) -> None:
    """A form feed (common in the stdlib) is no line break for `ast`: reading a symbol's source back by its
    line numbers must land on its `def`, and a path that climbs out of the root is refused."""
    import pytest

    from indexer.source import source_lines

    code = b"x = 1\r\n\x0c\r\n# section\x0cend\r\ndef f():\r\n    return x\r\n"
    (tmp_path / "m.py").write_bytes(code)
    (symbol,) = extract_python("r", "m.py", code, "m").symbols
    lines = source_lines(tmp_path, "m.py")
    assert lines[symbol.start_line - 1 : symbol.end_line] == ["def f():", "    return x"]
    with pytest.raises(ValueError, match="outside the repository root"):
        source_lines(tmp_path / "sub", "../m.py")
