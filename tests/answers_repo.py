"""The fixture repository of the answers (issue 13), with every answer worked out by hand below.

A shop in layers: `shop.models` and `shop.util` import nothing of the repository (layer 0); `shop.db` and
`shop.service` import each other (the one import cycle) and the models (layer 1, with the package `shop`);
`shop.report` (layer 2) uses the service; `shop.cli` (layer 3) is the console script; `tests/test_service.py`
tests the service. Dead code of every kind the answers leave out is there, each with a reason, and symbols
that are really unused, each with a known confidence.
"""

from __future__ import annotations

from pathlib import Path

FILES: dict[str, str] = {
    "pyproject.toml": '[project]\nname = "shop"\n\n[project.scripts]\nshop = "shop.cli:main"\n',
    "shop/__init__.py": '"""The shop."""\nfrom .models import Order\nfrom .util import public_api\n',
    "shop/models.py": '''"""Orders."""
from typing import overload

__all__ = ["Base", "Order", "exported_but_unused"]


class Base:
    def save(self):
        return self._write()

    def _write(self):
        return 1

    def describe(self):
        return "base"


class Order(Base):
    def __init__(self, total):
        self.total = total

    def describe(self):
        return f"order {self.total}"

    def __repr__(self):
        return "Order"

    @property
    def doubled(self):
        return self.total * 2


class Refund(Order):
    def describe(self):
        return "refund"


class ShopError(Exception):
    pass


class Legacy:
    def run(self):
        return 1


def exported_but_unused():
    return None


def _unused_helper():
    return 42


def unused_public():
    return 0


@overload
def convert(x: int) -> int: ...
@overload
def convert(x: str) -> str: ...
def convert(x):
    return x
''',
    "shop/util.py": '''import functools


def public_api():
    return 1


def _private_dead():
    return 2


@functools.lru_cache(maxsize=None)
def _cached_rate():
    return 1.0


def _sort_key(item):
    return item


def ordered(items):
    return sorted(items, key=_sort_key)
''',
    "shop/db.py": '''from shop import service


def connect():
    return service.ready()


def flush(conn):
    return conn
''',
    "shop/service.py": '''import threading

from shop import db
from shop.models import Order


def ready():
    return True


def place(total):
    conn = db.connect()
    order = Order(total)
    order.save()
    return conn


def checkout(cart):
    cart.flush()
    return place(sum(cart))


class Worker(threading.Thread):
    def run(self):
        pass
''',
    "shop/report.py": '''from shop.models import Base
from shop.service import checkout


def summary(item: Base):
    return item.describe()


def run_report(cart):
    return summary(checkout(cart))
''',
    "shop/cli.py": '''import sys

import click

from shop.report import run_report


def main():
    def _unused_inner():
        pass

    print(run_report(sys.argv[1:]))


@click.command()
def serve():
    pass
''',
    "tests/test_service.py": '''from shop.service import place


def test_place():
    assert place(3)


def helper_unused():
    return None


class TestOrders:
    def test_describe(self):
        from shop.models import Order
        assert Order(1).describe()
''',
}

R = "answers-shop"  # the repository id the tests index it under


def make_answers_repo(root: Path) -> Path:
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


# ------------------------------------------------------------------------------------------------ architecture

MODULES = ["shop", "shop.cli", "shop.db", "shop.models", "shop.report", "shop.service", "shop.util",
           "test_service"]
IMPORT_EDGES = [
    ["shop", "shop.models"], ["shop", "shop.util"],
    ["shop.cli", "shop.report"],
    ["shop.db", "shop.service"],
    ["shop.report", "shop.models"], ["shop.report", "shop.service"],
    ["shop.service", "shop.db"], ["shop.service", "shop.models"],
    ["test_service", "shop.models"], ["test_service", "shop.service"],  # one import inside a test method
]
CYCLES = [{"members": ["shop.db", "shop.service"], "example": ["shop.db", "shop.service", "shop.db"]}]
LAYERS = [
    {"layer": 0, "members": ["shop.models", "shop.util"]},
    {"layer": 1, "members": ["shop", "shop.db", "shop.service"]},
    {"layer": 2, "members": ["shop.report", "test_service"]},
    {"layer": 3, "members": ["shop.cli"]},
]
# fan-in: models 4 (shop, report, service, test_service), service 3 (db, report, test_service)
MOST_DEPENDED_ON = [("shop.models", 4), ("shop.service", 3), ("shop.db", 1), ("shop.report", 1),
                    ("shop.util", 1), ("shop", 0), ("shop.cli", 0), ("test_service", 0)]
EXTERNAL = [{"name": "click", "importers": 1}, {"name": "functools", "importers": 1},
            {"name": "sys", "importers": 1}, {"name": "threading", "importers": 1},
            {"name": "typing", "importers": 1}]

# ------------------------------------------------------------------------------------------------ impact

# impact("shop.models.Base.describe", depth=3): (qualified name, depth, via, is_test)
IMPACT_BASE_DESCRIBE = [
    ("shop", 1, "imports", False),  # the importers of shop.models
    ("shop.models.Order.describe", 1, "overrides", False),
    ("shop.models.Refund.describe", 1, "overrides", False),  # two inheritance steps down
    ("shop.report", 1, "imports", False),
    ("shop.report.summary", 1, "calls", False),  # item: Base -> item.describe()
    ("shop.service", 1, "imports", False),
    ("test_service", 1, "imports", True),
    ("shop.report.run_report", 2, "calls", False),
    ("shop.cli.main", 3, "calls", False),
]
# impact("shop.models.Order.describe"): its own caller, the callers of Base.describe, which it overrides (a call
# of Base.describe may run it), and Refund.describe, which overrides it
IMPACT_ORDER_DESCRIBE = [
    ("shop", 1, "imports", False),
    ("shop.models.Refund.describe", 1, "overrides", False),
    ("shop.report", 1, "imports", False),
    ("shop.report.summary", 1, "dispatch", False),
    ("shop.service", 1, "imports", False),
    ("test_service", 1, "imports", True),
    ("test_service.TestOrders.test_describe", 1, "calls", True),
    ("shop.report.run_report", 2, "calls", False),
    ("shop.cli.main", 3, "calls", False),
]
# impact("shop.service.place", depth=2)
IMPACT_PLACE = [
    ("shop.db", 1, "imports", False),
    ("shop.report", 1, "imports", False),
    ("shop.service.checkout", 1, "calls", False),
    ("test_service", 1, "imports", True),
    ("test_service.test_place", 1, "calls", True),
    ("shop.report.run_report", 2, "calls", False),
]
# impact("shop.models.Base", depth=1): its subclass, the callers of its methods (from outside it), importers
IMPACT_BASE = [
    ("shop", 1, "imports", False),
    ("shop.models.Order", 1, "inherits", False),  # Refund is two steps down
    ("shop.report", 1, "imports", False),
    ("shop.report.summary", 1, "calls", False),
    ("shop.service", 1, "imports", False),
    ("shop.service.place", 1, "calls", False),  # order.save(): Base.save through Order's MRO
    ("test_service", 1, "imports", True),
]

# impact("shop.util._sort_key"): passed as an argument, never called in the repository
IMPACT_SORT_KEY = [
    ("shop", 1, "imports", False),
    ("shop.util.ordered", 1, "references", False),
]

# ------------------------------------------------------------------------------------------------ unresolved

# callers("shop.db.flush"): no edge, one call named flush that could not be resolved
FLUSH_NOTE = ("1 more call named `flush` could not be resolved: shop/service.py:19 cart.flush in "
              "shop.service.checkout (unknown receiver)")

# ------------------------------------------------------------------------------------------------ call_path

# call_path("shop.cli.main", "shop.models.Base._write"): (caller, callee, path, line, provenance)
PATH_MAIN_TO_WRITE = [
    ("shop.cli.main", "shop.report.run_report", "shop/cli.py", 12, "import"),
    ("shop.report.run_report", "shop.service.checkout", "shop/report.py", 10, "import"),
    ("shop.service.checkout", "shop.service.place", "shop/service.py", 20, "scope"),
    ("shop.service.place", "shop.models.Base.save", "shop/service.py", 14, "inferred-receiver"),
    ("shop.models.Base.save", "shop.models.Base._write", "shop/models.py", 9, "self"),
]

# ------------------------------------------------------------------------------------------------ dead code

# (id without the repository, confidence) of the reported symbols: most certain first, then by file and line
DEAD = [
    ("shop.models._unused_helper", 0.9),
    ("shop.util._private_dead", 0.9),
    ("shop.util._cached_rate", 0.9),  # lru_cache does not register it
    ("shop.cli.main._unused_inner", 0.7),  # nested
    ("shop.models.unused_public", 0.6),
    ("shop.models.convert#2", 0.6),  # the implementation; its two @overload stubs are left out
    ("shop.util.ordered", 0.6),  # _sort_key, which it passes to sorted(), is used
    ("test_service.helper_unused", 0.6),  # a helper in a test file, not a test
    ("shop.models.Refund", 0.5),
    ("shop.models.Legacy", 0.5),
    ("shop.models.Legacy.run", 0.5),
    ("shop.service.Worker", 0.5),
    ("shop.models.ShopError", 0.25),  # an exception class: raise and except are no calls
    ("shop.service.Worker.run", 0.25),  # threading.Thread is outside the repository: it may override run
    ("shop.db.flush", 0.18),  # cart.flush() could not be resolved and may reach it
]
# (id without the repository, reason) of what is left out, by file and line
DEAD_EXCLUDED = [
    ("shop.cli.main", "entry point"),  # the console script of pyproject.toml
    ("shop.cli.serve", "decorated"),  # @click.command()
    ("shop.models.Order.__repr__", "protocol"),
    ("shop.models.Order.doubled", "property"),
    ("shop.models.Refund.describe", "override"),  # Order.describe is called (TestOrders.test_describe)
    ("shop.models.exported_but_unused", "exported"),  # __all__
    ("shop.models.convert", "overload"),
    ("shop.models.convert#1", "overload"),
    ("shop.util.public_api", "exported"),  # re-exported by shop/__init__.py
    ("test_service.test_place", "test"),
    ("test_service.TestOrders", "test"),
    ("test_service.TestOrders.test_describe", "test"),
]

# ------------------------------------------------------------------------------------------------ changes

EDITED_PLACE = '''def place(total):
    conn = db.connect()
    order = Order(total + 1)
    order.save()
    return conn
'''
