"""Platform branches and conditional imports: every candidate gets its edge, each with its condition; the last
binding never silently wins (issue 12, cause 1)."""

from __future__ import annotations

from resolve_helpers import calls_of, resolved

POSIX = "'posix' in _names"
NT = "not ('posix' in _names) and 'nt' in _names"

# The shape of the standard library's os.py: os.path is posixpath on POSIX, ntpath on Windows.
OS_LIKE = {
    "myos.py": (
        "import sys\n"
        "_names = sys.builtin_module_names\n"
        "if 'posix' in _names:\n"
        "    from posix import *\n"
        "    import mposix as path\n"
        "elif 'nt' in _names:\n"
        "    from nt import *\n"
        "    import mnt as path\n"
        "else:\n"
        "    raise ImportError('no os specific module found')\n"
    ),
    "mposix.py": "def join(a, b):\n    pass\n\ndef split(p):\n    pass\n",
    "mnt.py": "def join(a, b):\n    pass\n\ndef split(p):\n    pass\n",
    "user.py": (
        "import myos\n"
        "from myos import path as p2\n"
        "from myos.path import join as j\n"
        "\n"
        "def f():\n    return myos.path.join('a', 'b')\n\n"
        "def g():\n    return p2.split('x')\n\n"
        "def h():\n    return j('a', 'b')\n"
    ),
}


def test_the_os_path_pattern_gives_both_platforms_each_with_its_condition() -> None:
    result, calls = resolved(OS_LIKE)
    assert calls == {
        ("user.f", "mposix.join"): ("import", POSIX),
        ("user.f", "mnt.join"): ("import", NT),
        ("user.g", "mposix.split"): ("import", POSIX),
        ("user.g", "mnt.split"): ("import", NT),
        ("user.h", "mposix.join"): ("import", POSIX),  # `from myos.path import join`: an attribute path
        ("user.h", "mnt.join"): ("import", NT),
    }
    # the three sites resolve; the ImportError() raised at module level is a builtin call
    assert result.call_sites == {"resolved": 3, "unresolved": 1, "builtin": 1, "external": 0,
                                 "unknown_receiver": 0, "dynamic": 0}


def test_try_except_import_error_fallbacks() -> None:
    calls = calls_of({
        "accel.py": (
            "def helper():\n    pass\n\n"
            "try:\n    from _accel import helper\nexcept ImportError:\n    pass\n\n"  # the C version wins
            "try:\n    from fastjson import loads\nexcept ImportError:\n    def loads(s):\n        pass\n\n"
            "try:\n    import impl_c as impl\nexcept ImportError:\n    import impl_py as impl\n\n"
            "def use():\n    helper()\n    loads('x')\n    impl.go()\n"
        ),
        "impl_c.py": "def go():\n    pass\n",
        "impl_py.py": "def go():\n    pass\n",
    })
    assert calls == {
        ("accel.use", "accel.helper"): ("scope", "ImportError fallback"),  # only if _accel is missing
        ("accel.use", "accel.loads"): ("scope", "ImportError fallback"),
        ("accel.use", "impl_c.go"): ("import", ""),
        ("accel.use", "impl_py.go"): ("import", "ImportError fallback"),
    }


def test_a_star_import_from_outside_may_replace_what_was_defined_before() -> None:
    """heapq.py and operator.py end with `from _heapq import *`: their Python definitions run only where the
    accelerator lacks them."""
    calls = calls_of({
        "fastq.py": (
            "def push(heap, item):\n    pass\n\n"
            "def _private():\n    pass\n\n"
            "try:\n    from _fastq import *\nexcept ImportError:\n    pass\n\n"
            "def after():\n    pass\n"
        ),
        "user.py": "from fastq import push, after\nimport fastq\n\ndef use():\n    push([], 1)\n    after()\n"
                   "    fastq._private()\n",
    })
    assert calls == {
        ("user.use", "fastq.push"): ("import", "ImportError fallback or not hasattr(_fastq, 'push')"),
        ("user.use", "fastq.after"): ("import", ""),  # defined after the star import
        ("user.use", "fastq._private"): ("import", ""),  # a star import does not bring private names
    }


def test_branches_in_a_class_body_and_conditional_bases() -> None:
    calls = calls_of({
        "proc.py": (
            "import sys\n"
            "_mswindows = sys.platform == 'win32'\n\n"
            "class Popen:\n"
            "    if _mswindows:\n"
            "        def _wait(self):\n            pass\n"
            "    else:\n"
            "        def _wait(self):\n            pass\n\n"
            "    def communicate(self):\n        self._wait()\n\n"
            "try:\n    from _cbase import Base\nexcept ImportError:\n"
            "    class Base:\n        def close(self):\n            pass\n\n"
            "class Child(Base):\n    def stop(self):\n        self.close()\n"
        ),
    })
    assert calls == {
        ("proc.Popen.communicate", "proc.Popen._wait"): ("self", "_mswindows"),
        ("proc.Popen.communicate", "proc.Popen._wait#1"): ("self", "not (_mswindows)"),
        # the Python base class only where the C one is missing
        ("proc.Child.stop", "proc.Base.close"): ("self", "ImportError fallback"),
    }


def test_a_function_that_returns_early_leaves_its_condition_on_what_follows() -> None:
    calls = calls_of({
        "plat.py": (
            "import sys\n\n"
            "def posix_impl():\n    pass\n\n"
            "def nt_impl():\n    pass\n\n"
            "def pick():\n"
            "    if sys.platform == 'win32':\n        return nt_impl\n"
            "    return posix_impl\n\n"
            "def use():\n    pick()()\n"
        ),
    })
    assert calls == {
        ("plat.use", "plat.pick"): ("scope", ""),
        ("plat.use", "plat.nt_impl"): ("return", "sys.platform == 'win32'"),
        ("plat.use", "plat.posix_impl"): ("return", "not (sys.platform == 'win32')"),
    }


def test_a_name_rebound_in_a_try_else_keeps_its_fallback_conditional() -> None:
    """asyncio/futures.py: `try: import _asyncio / except ImportError: pass / else: Future = _asyncio.Future`."""
    calls = calls_of({
        "futures.py": (
            "class Future:\n    def done(self):\n        pass\n\n"
            "try:\n    import _asyncio\nexcept ImportError:\n    pass\nelse:\n    Future = _asyncio.Future\n"
        ),
        "tasks.py": "import futures\n\ndef wait():\n    futures.Future().done()\n",
    })
    assert calls == {("tasks.wait", "futures.Future.done"): ("inferred-receiver", "ImportError fallback")}
