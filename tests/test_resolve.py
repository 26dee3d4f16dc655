"""Resolution over a whole repository: imports, re-exports, self/cls/super, nested scopes, inheritance."""

from __future__ import annotations

from indexer.pipeline.parse import extract_python, module_names
from indexer.pipeline.resolve import resolve

FILES = {
    "lib/__init__.py": "from .core import Engine as Engine\nfrom . import helpers\n",
    "lib/core.py": (
        "class Base:\n    def start(self):\n        self.ready()\n    def ready(self):\n        pass\n"
        "class Engine(Base):\n    def __init__(self):\n        super().start()\n"
        "    @classmethod\n    def make(cls):\n        return cls.build()\n"
        "    @classmethod\n    def build(cls):\n        return cls()\n"
    ),
    "lib/helpers.py": "def util():\n    pass\n",
    "main.py": (
        "import lib\nfrom lib import Engine\nimport lib.helpers as h\n"
        "def run():\n    def inner():\n        h.util()\n    inner()\n    Engine()\n    lib.helpers.util()\n"
        "    lib.Engine.make()\n    print('x')\n    unknown.thing()\n"
        "class Car(lib.Engine):\n    def go(self):\n        self.start()\n"
    ),
}


def resolved():
    names = module_names(list(FILES))
    facts = [extract_python("t", p, s.encode(), names[p]) for p, s in FILES.items()]
    result = resolve("t", facts)
    strip = lambda i: i.removeprefix("t:").replace("module:", "").replace("external:", "ext:")  # noqa: E731
    return result, {(e.type, strip(e.source), strip(e.target)) for e in result.edges}


def test_calls_resolve_through_imports_reexports_and_classes() -> None:
    result, edges = resolved()
    calls = {(a, b) for t, a, b in edges if t == "CALLS"}
    assert calls == {
        ("lib.core.Base.start", "lib.core.Base.ready"),        # self. on the class
        ("lib.core.Engine.__init__", "lib.core.Base.start"),   # super()
        ("lib.core.Engine.make", "lib.core.Engine.build"),     # cls.
        ("main.run.inner", "lib.helpers.util"),                # import ... as h
        ("main.run", "main.run.inner"),                        # nested scope
        ("main.run", "lib.core.Engine.__init__"),              # class call -> __init__, via a re-export
        ("main.run", "lib.helpers.util"),                      # package attribute path
        ("main.run", "lib.core.Engine.make"),                  # re-exported class attribute
        ("main.Car.go", "lib.core.Base.start"),                # inherited through two files
        ("lib.core.Engine.build", "lib.core.Engine.__init__"), # cls()
    }
    # print() and unknown.thing() stay unresolved (and the two @classmethod applications, builtin call sites
    # since decorators count as calls); cls() reaches Engine.__init__
    assert result.call_sites == {"resolved": 10, "unresolved": 4, "builtin": 3, "external": 0,
                                 "unknown_receiver": 1, "dynamic": 0}
    assert result.unresolved_calls == 4


def test_inheritance_and_imports() -> None:
    _, edges = resolved()
    assert {(a, b) for t, a, b in edges if t == "INHERITS"} == {
        ("lib.core.Engine", "lib.core.Base"), ("main.Car", "lib.core.Engine")}
    assert {(a, b) for t, a, b in edges if t == "IMPORTS"} == {
        ("lib", "lib.core"), ("lib", "lib.helpers"), ("main", "lib"), ("main", "lib.helpers")}
