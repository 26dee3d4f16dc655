"""Receivers of known class, found where they are certain, and methods looked up along the MRO; an instance
attribute stored over a method replaces it (issue 12, cause 4)."""

from __future__ import annotations

from resolve_helpers import calls_of, resolved


def test_an_instance_attribute_stored_by_init_replaces_the_method() -> None:
    """xml.dom.pulldom.PullDOM.pop is list.pop; threading.Condition.acquire is its lock's."""
    result, calls = resolved({"attrs.py": '''
class RLock:
    def acquire(self):
        pass

class PullDOM:
    def __init__(self):
        self.elementStack = []
        try:
            self.pop = self.elementStack.pop
        except AttributeError:
            pass

    def pop(self):
        pass

    def end(self):
        self.pop()

class Condition:
    def __init__(self, lock=None):
        if lock is None:
            lock = RLock()
        self._lock = lock
        self.acquire = lock.acquire

    def acquire(self):
        pass

    def wait(self):
        self.acquire()
'''})
    assert calls == {("attrs.Condition.wait", "attrs.RLock.acquire"): ("inferred-receiver", "lock is None")}
    assert result.call_sites["builtin"] == 2  # self.pop() is list.pop; RLock() runs object.__init__


RECEIVERS = '''
class Foo:
    def m(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

class Bar(Foo):
    def m(self):
        pass

def make() -> Foo:
    pass

def make_bar():
    return Bar()

class Holder:
    def __init__(self):
        self.foo = Foo()

    def run(self):
        self.foo.m()

def assigned():
    x = Foo()
    x.m()

def annotated(x: Foo):
    x.m()

def annotated_late(x: "Bar | None"):
    x.m()

def return_annotation():
    make().m()

def return_value():
    make_bar().m()

def with_form():
    with Bar() as b:
        b.m()

def narrowed(x):
    if isinstance(x, Bar):
        x.m()

def narrowed_early(x):
    if not isinstance(x, Foo):
        raise TypeError(x)
    x.m()

def unknown(x):
    x.m()
'''


def test_each_receiver_form() -> None:
    result, calls = resolved({"recv.py": RECEIVERS})
    assert calls == {
        ("recv.Holder.run", "recv.Foo.m"): ("inferred-receiver", ""),  # self.attr = Foo() in __init__
        ("recv.assigned", "recv.Foo.m"): ("inferred-receiver", ""),  # x = Foo()
        ("recv.annotated", "recv.Foo.m"): ("inferred-receiver", ""),  # x: Foo
        ("recv.annotated_late", "recv.Bar.m"): ("inferred-receiver", ""),  # x: "Bar | None"
        ("recv.return_annotation", "recv.make"): ("scope", ""),
        ("recv.return_annotation", "recv.Foo.m"): ("inferred-receiver", ""),  # def make() -> Foo
        ("recv.return_value", "recv.make_bar"): ("scope", ""),
        ("recv.return_value", "recv.Bar.m"): ("return", ""),  # return Bar()
        ("recv.with_form", "recv.Bar.m"): ("inferred-receiver", ""),  # with Bar() as b (__enter__ -> self)
        ("recv.narrowed", "recv.Bar.m"): ("inferred-receiver", "isinstance(x, Bar)"),
        ("recv.narrowed_early", "recv.Foo.m"): ("inferred-receiver", "isinstance(x, Foo)"),
    }
    assert result.call_sites["unknown_receiver"] == 1  # unknown(x): x.m() on a parameter nobody passes


def test_methods_along_the_mro_and_opaque_bases() -> None:
    calls = calls_of({"mro.py": '''
import outside

class A:
    def who(self):
        pass

class B(A):
    pass

class C(A):
    def who(self):
        pass

class D(B, C):
    def run(self):
        self.who()
        super().who()

class Mixin:
    def convert(self):
        pass

class Converting(tuple, Mixin):
    def get(self):
        self.convert()
        self.count(1)

class Remote(outside.Base, Mixin):
    def go(self):
        self.convert()

class Local(Mixin, outside.Base):
    def go(self):
        self.convert()
'''})
    assert calls == {
        ("mro.D.run", "mro.C.who"): ("self", ""),  # C3: D, B, C, A
        ("mro.Converting.get", "mro.Mixin.convert"): ("self", ""),  # tuple has no convert: looked past
        ("mro.Local.go", "mro.Mixin.convert"): ("self", ""),  # found before the outside base
        # super().who() from D also reaches C.who: the same edge. Remote.go: outside.Base might define
        # convert, so no edge.
    }


def test_self_cls_super_and_constructors() -> None:
    calls = calls_of({"kinds.py": '''
class Base:
    def __init__(self):
        pass

    def start(self):
        self.ready()

    def ready(self):
        pass

class Engine(Base):
    def __init__(self):
        super().__init__()

    @classmethod
    def make(cls):
        return cls()

    @staticmethod
    def tool():
        pass

    def use(self):
        self.tool()
        Engine.tool()
        type(self).make()
'''})
    assert calls == {
        ("kinds.Base.start", "kinds.Base.ready"): ("self", ""),
        ("kinds.Engine.__init__", "kinds.Base.__init__"): ("super", ""),
        ("kinds.Engine.make", "kinds.Engine.__init__"): ("constructor", ""),
        # two sites, self.tool() and Engine.tool(): one edge, the more direct provenance
        ("kinds.Engine.use", "kinds.Engine.tool"): ("scope", ""),
        ("kinds.Engine.use", "kinds.Engine.make"): ("self", ""),
        # module-level: the @classmethod and @staticmethod applications are builtin calls
    }


def test_a_factory_dispatching_on_a_constant_argument() -> None:
    """wave.open(f, 'r') returns a Wave_read only; an argument nobody knows leaves both, each with its branch."""
    calls = calls_of({
        "wav.py": '''
class Reader:
    def rate(self):
        pass

class Writer:
    def rate(self):
        pass

def open(f, mode=None):
    if mode is None:
        mode = 'rb'
    if mode in ('r', 'rb'):
        return Reader()
    elif mode in ('w', 'wb'):
        return Writer()
    raise ValueError(mode)
''',
        "user.py": '''
import wav

def read(f):
    wav.open(f, 'r').rate()

def write(f):
    wav.open(f, mode='wb').rate()

def either(f, m):
    wav.open(f, m).rate()
''',
    })
    reader, writer = "mode in ('r', 'rb')", "not (mode in ('r', 'rb')) and mode in ('w', 'wb')"
    assert calls == {
        ("user.read", "wav.open"): ("import", ""),
        ("user.read", "wav.Reader.rate"): ("return", reader),
        ("user.write", "wav.open"): ("import", ""),
        ("user.write", "wav.Writer.rate"): ("return", writer),
        ("user.either", "wav.open"): ("import", ""),
        ("user.either", "wav.Reader.rate"): ("return", reader),
        ("user.either", "wav.Writer.rate"): ("return", writer),
    }
