"""Python's scoping: no local or parameter binds to a module-level definition, imports inside a function bind
there only, global/nonlocal are honoured (issue 12, causes 2 and 3); module- and class-level code calls from
its Module or Class node."""

from __future__ import annotations

from resolve_helpers import calls_of, resolved

SHADOW = '''
def path():
    pass

def rule():
    pass

def match():
    pass

def item():
    pass

def handle():
    pass

def param_shadow(path):
    path()

def loop_shadow(rules):
    for rule in rules:
        rule()

def with_shadow(cm):
    with cm as match:
        match()

def comprehension_shadow(xs):
    return [item() for item in xs]

def lambda_shadow():
    return lambda handle: handle()

def used_before_assignment():
    handle()
    handle = None

def except_shadow():
    try:
        pass
    except Exception as rule:
        rule()

def not_shadowed():
    rule()
    path()

current = rule

def set_current():
    global current
    current = match

def call_current():
    current()

def outer():
    def inner_fn():
        pass
    cb = inner_fn
    def setter():
        nonlocal cb
        cb = item
    setter()
    cb()
'''


def test_locals_parameters_and_targets_shadow_module_names() -> None:
    result, calls = resolved({"shadow.py": SHADOW})
    assert calls == {
        ("shadow.not_shadowed", "shadow.rule"): ("scope", ""),
        ("shadow.not_shadowed", "shadow.path"): ("scope", ""),
        # global: the module's binding and what set_current() stores there
        ("shadow.call_current", "shadow.rule"): ("alias", ""),
        ("shadow.call_current", "shadow.match"): ("alias", ""),
        # nonlocal: the closure's rebinding reaches the enclosing function's call
        ("shadow.outer", "shadow.outer.setter"): ("scope", ""),
        ("shadow.outer", "shadow.outer.inner_fn"): ("alias", ""),
        ("shadow.outer", "shadow.item"): ("alias", ""),
    }
    # param, loop, with, comprehension, lambda, unbound local and except targets: no edge, counted
    assert result.call_sites["unresolved"] == 7
    assert result.call_sites["dynamic"] == 6 and result.call_sites["builtin"] == 1  # calling the caught exception


def test_an_import_inside_a_function_binds_only_there() -> None:
    """distutils/command/build.py: show_compilers() imports and calls ccompiler's, not itself."""
    calls = calls_of({
        "ccompiler.py": "def show_compilers():\n    pass\n",
        "build.py": (
            "def show_compilers():\n"
            "    from ccompiler import show_compilers\n"
            "    show_compilers()\n\n"
            "def help_options():\n"
            "    show_compilers()\n"
        ),
    })
    assert calls == {
        ("build.show_compilers", "ccompiler.show_compilers"): ("import", ""),
        ("build.help_options", "build.show_compilers"): ("scope", ""),
    }


def test_a_method_name_is_not_a_module_name() -> None:
    """re/__init__.py's Scanner.scan binds `match` locally; pdb.set_trace's `pdb` is a local Pdb()."""
    calls = calls_of({
        "rx.py": (
            "def match(pattern, string):\n    pass\n\n"
            "class Scanner:\n"
            "    def scan(self, string):\n"
            "        match = self.scanner(string).match\n"
            "        match()\n"
        ),
        "dbg.py": (
            "class Bdb:\n    def set_trace(self, frame=None):\n        pass\n\n"
            "class Pdb(Bdb):\n    pass\n\n"
            "def set_trace():\n"
            "    pdb = Pdb()\n"
            "    pdb.set_trace()\n"
        ),
    })
    assert calls == {("dbg.set_trace", "dbg.Bdb.set_trace"): ("inferred-receiver", "")}


def test_module_and_class_level_code_calls_from_its_node() -> None:
    result, calls = resolved({
        "mod.py": (
            "def helper():\n    return 1\n\n"
            "def main():\n    pass\n\n"
            "class C:\n"
            "    x = helper()\n\n"
            "    def m(self):\n        pass\n\n"
            "c = C()\n"
            "c.m()\n\n"
            "if __name__ == '__main__':\n"
            "    main()\n"
        ),
    })
    assert calls == {
        ("mod.C", "mod.helper"): ("scope", ""),
        ("module:mod", "mod.C.m"): ("inferred-receiver", ""),
        ("module:mod", "mod.main"): ("scope", ""),
    }
    assert result.call_sites["resolved"] == 3  # C() reaches object.__init__ only: a builtin call
    assert result.call_sites["builtin"] == 1


def test_a_name_used_at_module_level_before_its_def_is_not_that_def() -> None:
    calls = calls_of({
        "early.py": "run()\n\ndef run():\n    pass\n\nrun()\n",
    })
    assert calls == {("module:early", "early.run"): ("scope", "")}  # the second call only
