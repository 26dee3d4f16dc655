"""Values followed through assignments, in the manner of an assignment graph: aliases, functions passed as
arguments (*args, **kwargs) or returned, stored in containers, decorators; lambdas are not nodes."""

from __future__ import annotations

import pickle

from resolve_helpers import resolved

from indexer.pipeline.parse import extract_python

FLOW = '''
def target():
    pass

def other():
    pass

class Obj:
    def f(self):
        pass

    def g(self):
        a = self
        a.f()

def aliased():
    t = target
    t()

def apply(fn, *args, **kwargs):
    return fn(*args, **kwargs)

def use_apply():
    apply(target)
    apply(fn=other)

def star(*fns):
    for f in fns:
        f()

def use_star():
    star(target)

def keywords(**callbacks):
    callbacks["x"]()

def use_keywords():
    keywords(x=other)

def factory():
    return target

def use_factory():
    factory()()

HANDLERS = {"a": target, "b": other}
TABLE = [target]

def dispatch(key):
    HANDLERS[key]()
    for handler in TABLE:
        handler()

def dispatch_exact():
    HANDLERS["a"]()

LATER = []
LATER.append(other)

def call_later():
    for fn in LATER:
        fn()

def lambdas():
    f = lambda: target()
    f()
'''


def test_aliases_arguments_returns_and_containers() -> None:
    result, calls = resolved({"flow.py": FLOW})
    assert calls == {
        ("flow.Obj.g", "flow.Obj.f"): ("alias", ""),  # a = self; a.f()
        ("flow.aliased", "flow.target"): ("alias", ""),  # t = target; t()
        ("flow.use_apply", "flow.apply"): ("scope", ""),
        ("flow.apply", "flow.target"): ("argument", ""),  # apply(target)
        ("flow.apply", "flow.other"): ("argument", ""),  # apply(fn=other)
        ("flow.use_star", "flow.star"): ("scope", ""),
        ("flow.star", "flow.target"): ("argument", ""),  # *fns
        ("flow.use_keywords", "flow.keywords"): ("scope", ""),
        ("flow.keywords", "flow.other"): ("argument", ""),  # **callbacks
        ("flow.use_factory", "flow.factory"): ("scope", ""),
        ("flow.use_factory", "flow.target"): ("return", ""),  # factory()()
        ("flow.dispatch", "flow.target"): ("container", ""),  # HANDLERS[key](), for h in TABLE: h()
        ("flow.dispatch", "flow.other"): ("container", ""),
        ("flow.dispatch_exact", "flow.target"): ("container", ""),  # HANDLERS["a"]: that key only
        ("flow.call_later", "flow.other"): ("container", ""),  # LATER.append(other)
        ("flow.lambdas", "flow.target"): ("scope", ""),  # a lambda's body is its enclosing function's code
    }
    # LATER.append() is a builtin call; f() calls a lambda, which is no node: dynamic
    assert (result.call_sites["builtin"], result.call_sites["dynamic"]) == (1, 1)


DECORATED = '''
import functools

def deco(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    return wrapper

def identity(fn):
    return fn

def cache(func=None, *, size=1):
    def decorator(f):
        def inner(*args):
            return f(*args)
        return inner
    if func is not None:
        return decorator(func)
    return decorator

@deco
def decorated():
    pass

@identity
def plain():
    pass

@cache
def cached():
    pass

@functools.lru_cache(maxsize=None)
def memo():
    pass

def caller():
    decorated()
    plain()
    cached()
    memo()
'''


def test_decorators_that_return_the_function_or_another() -> None:
    result, calls = resolved({"deco.py": DECORATED})
    assert calls == {
        # applying a decorator is a call from the scope that runs the def
        ("module:deco", "deco.deco"): ("decorator", ""),
        ("module:deco", "deco.identity"): ("decorator", ""),
        ("module:deco", "deco.cache"): ("decorator", ""),
        ("deco.cache", "deco.cache.decorator"): ("scope", ""),
        # calling the decorated name calls what the decorator returned ...
        ("deco.caller", "deco.deco.wrapper"): ("decorator", ""),
        ("deco.caller", "deco.plain"): ("decorator", ""),  # identity(fn) returns fn
        ("deco.caller", "deco.cache.decorator.inner"): ("decorator", "func is not None"),  # not `decorator`
        ("deco.caller", "deco.memo"): ("scope", ""),  # lru_cache gives back (a cache of) the function
        # ... and the wrappers call the functions they wrap
        ("deco.deco.wrapper", "deco.decorated"): ("argument", ""),
        ("deco.cache.decorator.inner", "deco.cached"): ("argument", ""),
    }
    # functools is outside the repository: wraps(fn), lru_cache(...) and applying what they return
    assert result.call_sites["external"] == 4


def test_facts_stay_plain_and_picklable() -> None:
    facts = extract_python("t", "deco.py", DECORATED.encode(), "deco")
    assert pickle.loads(pickle.dumps(facts)) == facts
    assert all(isinstance(value, tuple) and isinstance(cond, str) for value, cond in facts.values)


def test_what_other_callers_pass_does_not_come_back_to_this_one() -> None:
    """Arguments reach a function's parameters from every call (its own calls see them all), but a return value
    or an attribute read on one object is that caller's: copy.copy(objects) is not whatever anyone copies."""
    result, calls = resolved({"leak.py": '''
class Element:
    def append(self, x):
        pass

def copy(x):
    return x

def reconstruct(x, factory):
    return factory()

class Box:
    def __init__(self, v):
        self.v = v

    def show(self):
        self.v.append(1)

def elsewhere():
    copy(Element())
    reconstruct(None, Element)
    Box(Element())

def link(objects):
    objects = copy(objects or [])
    objects.append(1)

def rebuild():
    reconstruct(None, list).append(1)

def boxed():
    Box([]).v.append(1)
'''})
    assert calls == {
        ("leak.elsewhere", "leak.copy"): ("scope", ""),
        ("leak.elsewhere", "leak.reconstruct"): ("scope", ""),
        ("leak.elsewhere", "leak.Box.__init__"): ("constructor", ""),
        ("leak.link", "leak.copy"): ("scope", ""),
        ("leak.rebuild", "leak.reconstruct"): ("scope", ""),
        ("leak.boxed", "leak.Box.__init__"): ("constructor", ""),
        ("leak.Box.show", "leak.Element.append"): ("argument", ""),  # self.v: some Box holds an Element
    }
    # link's, rebuild's and boxed's append() are list.append: builtin, not Element.append
    assert result.call_sites["builtin"] >= 3


DISPATCH = '''
class Shape:
    def __init__(self, side):
        self.side = side

def square(shape):
    return Shape(shape.side * 2)

def halve(shape):
    return Shape(shape.side / 2)

TABLE = {"square": square, "halve": halve}

def apply(tag, shape):
    out = TABLE[tag](shape)
    return Shape(out.side)

def direct():
    return square(Shape(1))

class Runner:
    def __call__(self):
        pass

RUNNER = Runner()

def call_runner():
    RUNNER()
'''


def test_an_evaluation_over_its_budget_gives_up_alone(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A tiny look budget cuts evaluations short (their sites count as unresolved), never the run: the lookups
    made after an evaluation (a constructor, an instance's __call__) are outside any budget."""
    _, full = resolved({"m.py": DISPATCH})
    monkeypatch.setattr("indexer.pipeline.resolve_values._VISITS", 1)
    result, cut = resolved({"m.py": DISPATCH})
    assert set(cut) < set(full)
    assert ("m.direct", "m.square") in cut and ("m.direct", "m.Shape.__init__") in cut
    assert result.call_sites["dynamic"] > 0
