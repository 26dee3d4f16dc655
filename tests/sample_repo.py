"""The fixture repository with a known graph: every node and relationship type, cross-file calls, imports and
inheritance, nested functions, a syntax error, a binary file, an ignored file and a symlink cycle.

`make_sample_repo(path)` writes it; the EXPECTED_* constants are its graph, worked out by hand.
"""

from __future__ import annotations

import os
from pathlib import Path

FILES: dict[str, str] = {
    ".gitignore": "ignored.py\nbuild/\n",
    "pkg/__init__.py": '"""The sample package."""\nfrom .shapes import Shape\n',
    "pkg/shapes.py": '''"""Shapes with areas."""
import math


class Shape:
    """A shape with an area."""

    def area(self) -> float:
        return 0.0

    def describe(self) -> str:
        """Say what the shape is."""
        return f"{type(self).__name__} of area {self.area()}"


class Circle(Shape):
    """A round shape."""

    def __init__(self, radius: float) -> None:
        self.radius = radius

    def area(self) -> float:
        return math.pi * self.radius ** 2


def make_circle(radius: float) -> Circle:
    """Build a circle."""
    return Circle(radius)
''',
    "pkg/geometry/__init__.py": "",
    "pkg/geometry/util.py": '''"""Distances."""


def square(x: float) -> float:
    return x * x


def distance(a: tuple, b: tuple) -> float:
    """Euclidean distance between two points."""
    def delta(i: int) -> float:
        return square(a[i] - b[i])

    return (delta(0) + delta(1)) ** 0.5
''',
    "app.py": '''"""The application."""
import json

import pkg.geometry.util as gu
from pkg import Shape
from pkg.shapes import make_circle


class Square(Shape):
    def __init__(self, side: float) -> None:
        self.side = side

    def area(self) -> float:
        return gu.square(self.side)

    def describe(self) -> str:
        return "square: " + super().describe()


def main() -> None:
    shapes = [make_circle(1.0), Square(2.0)]
    print(json.dumps([s.describe() for s in shapes]))
    print(gu.distance((0, 0), (3, 4)))
''',
    "broken.py": "def broken(:\n    pass\n",
    "ignored.py": "def ignored():\n    pass\n",
    "build/generated.py": "def generated():\n    pass\n",
}

R = "sample"  # the repository id tests index it under

EXPECTED_FILES = ["app.py", "broken.py", "pkg/__init__.py", "pkg/geometry/__init__.py",
                  "pkg/geometry/util.py", "pkg/shapes.py"]
EXPECTED_MODULES = ["app", "broken", "pkg", "pkg.geometry", "pkg.geometry.util", "pkg.shapes"]
EXPECTED_CLASSES = ["app.Square", "pkg.shapes.Circle", "pkg.shapes.Shape"]
EXPECTED_FUNCTIONS = ["app.main", "pkg.geometry.util.distance", "pkg.geometry.util.distance.delta",
                      "pkg.geometry.util.square", "pkg.shapes.make_circle"]
EXPECTED_METHODS = ["app.Square.__init__", "app.Square.area", "app.Square.describe", "pkg.shapes.Circle.__init__",
                    "pkg.shapes.Circle.area", "pkg.shapes.Shape.area", "pkg.shapes.Shape.describe"]
EXPECTED_EXTERNAL = ["json", "math"]

# (caller, callee) by qualified name.
EXPECTED_CALLS = sorted([
    ("app.Square.area", "pkg.geometry.util.square"),
    ("app.Square.describe", "pkg.shapes.Shape.describe"),
    ("app.main", "pkg.shapes.make_circle"),
    ("app.main", "app.Square.__init__"),
    # s.describe() for s in [make_circle(1.0), Square(2.0)]: receivers known from the list's elements
    ("app.main", "pkg.shapes.Shape.describe"),
    ("app.main", "app.Square.describe"),
    ("app.main", "pkg.geometry.util.distance"),
    ("pkg.geometry.util.distance", "pkg.geometry.util.distance.delta"),
    ("pkg.geometry.util.distance.delta", "pkg.geometry.util.square"),
    ("pkg.shapes.Shape.describe", "pkg.shapes.Shape.area"),
    ("pkg.shapes.make_circle", "pkg.shapes.Circle.__init__"),
])
EXPECTED_INHERITS = sorted([("app.Square", "pkg.shapes.Shape"), ("pkg.shapes.Circle", "pkg.shapes.Shape")])
EXPECTED_IMPORTS = sorted([
    ("app", "json"), ("app", "pkg"), ("app", "pkg.geometry.util"), ("app", "pkg.shapes"),
    ("pkg", "pkg.shapes"), ("pkg.shapes", "math"),
])
EXPECTED_SKIPPED = {"blob.py": "binary", "loop": "symlink cycle"}
EXPECTED_SYNTAX_ERRORS = ["broken.py"]

EXPECTED_NODE_COUNTS = {
    "Repository": 1, "File": 6, "Module": 6, "ExternalModule": 2, "Class": 3, "Function": 5, "Method": 7,
}
# CONTAINS: repository->6 files, 6 files->modules, 15 symbols from their parents.
EXPECTED_RELATIONSHIP_COUNTS = {"CONTAINS": 27, "IMPORTS": 6, "CALLS": 11, "INHERITS": 2}


def make_sample_repo(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "blob.py").write_bytes(b"\x00\x01\x02binary\x00")
    os.symlink(".", root / "loop")  # a symlink cycle: discovery must end
    return root
