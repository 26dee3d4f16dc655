"""Small repositories, one per tree-sitter language plus a polyglot one, each with its graph worked out by hand.

Each fixture has every node label, cross-file calls, imports (in-repository and external), inheritance, a file
with a syntax error, and a call that must stay unresolved because the only definition of that name sits in a
file the caller never imports (a bare-name match across the repository would link it: that is the bug this
guards against). Symbols are (kind, qualified name, subkind, parent), the parent being a file path (its Module
contains the symbol) or a symbol's qualified name. Edges are by qualified name; a Module's is its file path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

Symbol = tuple[str, str, str, str]  # kind, qualified name, subkind, parent


@dataclass(frozen=True)
class Fixture:
    language: str
    files: dict[str, str]
    symbols: list[Symbol]
    calls: list[tuple[str, str]]
    imports: list[tuple[str, str]]  # (module, module or external name)
    externals: list[str]
    inherits: list[tuple[str, str, str]]  # (class, base, relation)
    unresolved_calls: int
    syntax_errors: list[str]
    languages: dict[str, str] = field(default_factory=dict)  # path -> language when not self.language

    def write(self, root: Path) -> Path:
        for path, text in self.files.items():
            target = root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        return root


FIXTURES: dict[str, Fixture] = {}

# ------------------------------------------------------------------------------------------------ JavaScript

FIXTURES["javascript"] = Fixture(
    language="javascript",
    files={
        "src/shapes.js": """\
/** Something with an area. */
export class Shape {
  area() { return 0; }
  describe() { return "shape " + this.area(); }
}

export class Square extends Shape {
  constructor(side) { super(); this.side = side; }
  area() { return this.side * this.side; }
}

export function scale(shape, k) { return shape.area() * k; }

export default Square;
""",
        "src/main.js": """\
import Square, { scale as grow } from "./shapes";
import * as util from "./util/index.js";
import fs from "fs";

function run() {
  const sq = new Square(2);
  sq.area();
  grow(sq, 3);
  util.helper();
  describe();
  fs.readFileSync("x");
}

export { run };
""",
        "src/util/index.js": """\
export function helper() { return format(1); }
function format(n) { return String(n); }
""",
        "src/other.js": """\
export function describe() { return "other"; }
""",
        "src/broken.js": """\
function ok() { return 1; }
let = ;
""",
    },
    symbols=[
        ("Class", "src/shapes.Shape", "class", "src/shapes.js"),
        ("Method", "src/shapes.Shape.area", "", "src/shapes.Shape"),
        ("Method", "src/shapes.Shape.describe", "", "src/shapes.Shape"),
        ("Class", "src/shapes.Square", "class", "src/shapes.js"),
        ("Method", "src/shapes.Square.constructor", "", "src/shapes.Square"),
        ("Method", "src/shapes.Square.area", "", "src/shapes.Square"),
        ("Function", "src/shapes.scale", "", "src/shapes.js"),
        ("Function", "src/main.run", "", "src/main.js"),
        ("Function", "src/util.helper", "", "src/util/index.js"),
        ("Function", "src/util.format", "", "src/util/index.js"),
        ("Function", "src/other.describe", "", "src/other.js"),
        ("Function", "src/broken.ok", "", "src/broken.js"),
    ],
    calls=[
        ("src/shapes.Shape.describe", "src/shapes.Shape.area"),
        ("src/main.run", "src/shapes.Square.constructor"),
        ("src/main.run", "src/shapes.Square.area"),
        ("src/main.run", "src/shapes.scale"),
        ("src/main.run", "src/util.helper"),
        ("src/util.helper", "src/util.format"),
    ],
    imports=[("src/main.js", "src/shapes.js"), ("src/main.js", "src/util/index.js"), ("src/main.js", "fs")],
    externals=["fs"],
    inherits=[("src/shapes.Square", "src/shapes.Shape", "extends")],
    # shape.area() (untyped parameter), describe() (defined only in src/other.js, never imported),
    # fs.readFileSync (external), String (a global)
    unresolved_calls=4,
    syntax_errors=["src/broken.js"],
)

# ------------------------------------------------------------------------------------------------ TypeScript

FIXTURES["typescript"] = Fixture(
    language="typescript",
    files={
        "tsconfig.json": """\
{
  // comments are allowed here
  "compilerOptions": {"baseUrl": ".", "paths": {"@lib/*": ["src/lib/*"]}},
}
""",
        "src/lib/repo.ts": """\
export interface Store {
  get(key: string): string;
}

export enum Mode { Fast, Safe }

export class MemoryStore implements Store {
  get(key: string): string { return key; }
}

export class Repo {
  constructor(private store: Store) {}
  load(key: string): string { return this.store.get(key); }
}
""",
        "src/app.ts": """\
import { Repo, MemoryStore } from "@lib/repo";
import { render } from "./view";
import * as path from "path";

export namespace Tools {
  export function twice(n: number): number { return n * 2; }
}

export function main(): void {
  const repo: Repo = new Repo(new MemoryStore());
  repo.load("k");
  Tools.twice(2);
  render("x");
  describe();
  path.join("a", "b");
}
""",
        "src/view.tsx": """\
export function render(text: string) {
  return <div>{text}</div>;
}
""",
        "src/other.ts": """\
export function describe(): string { return "other"; }
""",
        "src/broken.ts": """\
export function fine(): number { return 1; }
class {
""",
    },
    symbols=[
        ("Class", "src/lib/repo.Store", "interface", "src/lib/repo.ts"),
        ("Method", "src/lib/repo.Store.get", "", "src/lib/repo.Store"),
        ("Class", "src/lib/repo.Mode", "enum", "src/lib/repo.ts"),
        ("Class", "src/lib/repo.MemoryStore", "class", "src/lib/repo.ts"),
        ("Method", "src/lib/repo.MemoryStore.get", "", "src/lib/repo.MemoryStore"),
        ("Class", "src/lib/repo.Repo", "class", "src/lib/repo.ts"),
        ("Method", "src/lib/repo.Repo.constructor", "", "src/lib/repo.Repo"),
        ("Method", "src/lib/repo.Repo.load", "", "src/lib/repo.Repo"),
        ("Function", "src/app.Tools.twice", "", "src/app.ts"),
        ("Function", "src/app.main", "", "src/app.ts"),
        ("Function", "src/view.render", "", "src/view.tsx"),
        ("Function", "src/other.describe", "", "src/other.ts"),
        ("Function", "src/broken.fine", "", "src/broken.ts"),
    ],
    calls=[
        ("src/lib/repo.Repo.load", "src/lib/repo.Store.get"),  # this.store: Store (a constructor parameter property)
        ("src/app.main", "src/lib/repo.Repo.constructor"),
        ("src/app.main", "src/lib/repo.Repo.load"),
        ("src/app.main", "src/app.Tools.twice"),
        ("src/app.main", "src/view.render"),
    ],
    imports=[("src/app.ts", "src/lib/repo.ts"), ("src/app.ts", "src/view.tsx"), ("src/app.ts", "path")],
    externals=["path"],
    inherits=[("src/lib/repo.MemoryStore", "src/lib/repo.Store", "implements")],
    # new MemoryStore() (no constructor of its own), describe() (in src/other.ts, not imported), path.join
    unresolved_calls=3,
    syntax_errors=["src/broken.ts"],
)

# ------------------------------------------------------------------------------------------------ Go

FIXTURES["go"] = Fixture(
    language="go",
    files={
        "go.mod": "module example.com/geo\n\ngo 1.21\n",
        "shapes/shape.go": """\
package shapes

// Shape has an area.
type Shape interface {
	Area() float64
}

type Base struct{ name string }

func (b *Base) Name() string { return b.name }

type Square struct {
	Base
	Side float64
}

func (s *Square) Area() float64 { return s.Side * s.Side }

func NewSquare(side float64) *Square { return &Square{Side: side} }
""",
        "shapes/scale.go": """\
package shapes

func Scale(s Shape, k float64) float64 { return s.Area() * k }

func double(s *Square) float64 { return Scale(s, 2) + s.Area() }
""",
        "main.go": """\
package main

import (
	"fmt"

	"example.com/geo/shapes"
)

func main() {
	sq := shapes.NewSquare(2)
	fmt.Println(sq.Area())
	var s shapes.Square
	s.Name()
	helper()
	describe()
}
""",
        "helper.go": "package main\n\nfunc helper() {}\n",
        "other/other.go": "package other\n\nfunc describe() {}\n",
        "broken/broken.go": "package broken\n\nfunc ok() {}\n\nfunc bad( {\n",
    },
    symbols=[
        ("Class", "shapes.Shape", "interface", "shapes/shape.go"),
        ("Method", "shapes.Shape.Area", "", "shapes.Shape"),
        ("Class", "shapes.Base", "struct", "shapes/shape.go"),
        ("Method", "shapes.Base.Name", "", "shapes.Base"),
        ("Class", "shapes.Square", "struct", "shapes/shape.go"),
        ("Method", "shapes.Square.Area", "", "shapes.Square"),
        ("Function", "shapes.NewSquare", "", "shapes/shape.go"),
        ("Function", "shapes.Scale", "", "shapes/scale.go"),
        ("Function", "shapes.double", "", "shapes/scale.go"),
        ("Function", "main.main", "", "main.go"),
        ("Function", "main.helper", "", "helper.go"),
        ("Function", "other.describe", "", "other/other.go"),
        ("Function", "broken.ok", "", "broken/broken.go"),
    ],
    calls=[
        ("shapes.Scale", "shapes.Shape.Area"),  # s Shape: the interface's method
        ("shapes.double", "shapes.Scale"),  # same package, another file
        ("shapes.double", "shapes.Square.Area"),
        ("main.main", "shapes.NewSquare"),
        ("main.main", "shapes.Base.Name"),  # s shapes.Square: Name comes from the embedded Base
        ("main.main", "main.helper"),
    ],
    imports=[("main.go", "shapes/shape.go"), ("main.go", "shapes/scale.go"), ("main.go", "fmt")],
    externals=["fmt"],
    inherits=[("shapes.Square", "shapes.Base", "embeds")],
    # fmt.Println, sq.Area (sq's type is not declared), describe() (package other, not imported)
    unresolved_calls=3,
    syntax_errors=["broken/broken.go"],
)

# ------------------------------------------------------------------------------------------------ Rust

FIXTURES["rust"] = Fixture(
    language="rust",
    files={
        "Cargo.toml": '[package]\nname = "geo"\nversion = "0.1.0"\nedition = "2021"\n',
        "src/lib.rs": """\
pub mod shapes;
mod util;

use crate::shapes::{Shape, Square};
use std::fmt;

pub fn run() -> f64 {
    let sq = Square::new(2.0);
    let s: Square = Square { side: 1.0 };
    s.area();
    util::helper();
    describe();
    fmt::format(format_args!(""));
    sq.area()
}
""",
        "src/shapes.rs": """\
/// Something with an area.
pub trait Shape {
    fn area(&self) -> f64;
    fn describe(&self) -> f64 {
        self.area() * 2.0
    }
}

pub struct Square {
    pub side: f64,
}

impl Square {
    pub fn new(side: f64) -> Self {
        Square { side }
    }
}

impl Shape for Square {
    fn area(&self) -> f64 {
        self.side * self.side
    }
}

pub enum Kind {
    Flat,
    Solid,
}
""",
        "src/util.rs": "pub fn helper() -> u8 {\n    inner()\n}\n\nfn inner() -> u8 {\n    1\n}\n",
        "src/other.rs": "pub fn describe() {}\n",
        "src/broken.rs": "fn ok() {}\n\nfn bad( {\n",
    },
    symbols=[
        ("Function", "src.run", "", "src/lib.rs"),
        ("Class", "src/shapes.Shape", "trait", "src/shapes.rs"),
        ("Method", "src/shapes.Shape.area", "", "src/shapes.Shape"),
        ("Method", "src/shapes.Shape.describe", "", "src/shapes.Shape"),
        ("Class", "src/shapes.Square", "struct", "src/shapes.rs"),
        ("Method", "src/shapes.Square.new", "", "src/shapes.Square"),
        ("Method", "src/shapes.Square.area", "", "src/shapes.Square"),
        ("Class", "src/shapes.Kind", "enum", "src/shapes.rs"),
        ("Function", "src/util.helper", "", "src/util.rs"),
        ("Function", "src/util.inner", "", "src/util.rs"),
        ("Function", "src/other.describe", "", "src/other.rs"),
        ("Function", "src/broken.ok", "", "src/broken.rs"),
    ],
    calls=[
        ("src/shapes.Shape.describe", "src/shapes.Shape.area"),
        ("src.run", "src/shapes.Square.new"),
        ("src.run", "src/shapes.Square.area"),  # s: Square
        ("src.run", "src/util.helper"),  # through `mod util;`
        ("src/util.helper", "src/util.inner"),
    ],
    imports=[("src/lib.rs", "src/shapes.rs"), ("src/lib.rs", "src/util.rs"), ("src/lib.rs", "std")],
    externals=["std"],
    inherits=[("src/shapes.Square", "src/shapes.Shape", "implements")],
    # describe() (src/other.rs is no module of the crate), fmt::format (std), sq.area (sq's type is inferred)
    unresolved_calls=3,
    syntax_errors=["src/broken.rs"],
)

# ------------------------------------------------------------------------------------------------ Java

_JAVA = "src/main/java/com/geo"
FIXTURES["java"] = Fixture(
    language="java",
    files={
        f"{_JAVA}/shapes/Shape.java": """\
package com.geo.shapes;

/** Something with an area. */
public interface Shape {
    double area();
}
""",
        f"{_JAVA}/shapes/Base.java": """\
package com.geo.shapes;

public abstract class Base {
    private final String name;

    protected Base(String name) { this.name = name; }

    public String name() { return name; }
}
""",
        f"{_JAVA}/shapes/Square.java": """\
package com.geo.shapes;

public class Square extends Base implements Shape {
    private final double side;

    public Square(double side) {
        super("square");
        this.side = side;
    }

    public double area() { return side * side; }

    public String label() { return name() + area(); }
}
""",
        f"{_JAVA}/App.java": """\
package com.geo;

import com.geo.shapes.Square;
import com.geo.shapes.*;
import java.util.List;

public class App {
    private Square square = new Square(1);

    enum Mode { FAST, SAFE }

    record Pair(Shape left, Shape right) {
        double total() { return left.area() + right.area(); }
    }

    public static void main(String[] args) {
        Square sq = new Square(2);
        sq.label();
        Helper.help();
        describe();
        List.of(1);
    }

    void run() { square.area(); }
}
""",
        f"{_JAVA}/Helper.java": "package com.geo;\n\nclass Helper {\n    static void help() {}\n}\n",
        f"{_JAVA}/other/Other.java": "package com.geo.other;\n\npublic class Other {\n"
                                     "    public static void describe() {}\n}\n",
        f"{_JAVA}/Broken.java": "package com.geo;\n\nclass Broken {\n    void ok() {}\n    int = ;\n}\n",
    },
    symbols=[
        ("Class", "com.geo.shapes.Shape", "interface", f"{_JAVA}/shapes/Shape.java"),
        ("Method", "com.geo.shapes.Shape.area", "", "com.geo.shapes.Shape"),
        ("Class", "com.geo.shapes.Base", "class", f"{_JAVA}/shapes/Base.java"),
        ("Method", "com.geo.shapes.Base.Base", "", "com.geo.shapes.Base"),
        ("Method", "com.geo.shapes.Base.name", "", "com.geo.shapes.Base"),
        ("Class", "com.geo.shapes.Square", "class", f"{_JAVA}/shapes/Square.java"),
        ("Method", "com.geo.shapes.Square.Square", "", "com.geo.shapes.Square"),
        ("Method", "com.geo.shapes.Square.area", "", "com.geo.shapes.Square"),
        ("Method", "com.geo.shapes.Square.label", "", "com.geo.shapes.Square"),
        ("Class", "com.geo.App", "class", f"{_JAVA}/App.java"),
        ("Class", "com.geo.App.Mode", "enum", "com.geo.App"),
        ("Class", "com.geo.App.Pair", "record", "com.geo.App"),
        ("Method", "com.geo.App.Pair.total", "", "com.geo.App.Pair"),
        ("Method", "com.geo.App.main", "", "com.geo.App"),
        ("Method", "com.geo.App.run", "", "com.geo.App"),
        ("Class", "com.geo.Helper", "class", f"{_JAVA}/Helper.java"),
        ("Method", "com.geo.Helper.help", "", "com.geo.Helper"),
        ("Class", "com.geo.other.Other", "class", f"{_JAVA}/other/Other.java"),
        ("Method", "com.geo.other.Other.describe", "", "com.geo.other.Other"),
        ("Class", "com.geo.Broken", "class", f"{_JAVA}/Broken.java"),
        ("Method", "com.geo.Broken.ok", "", "com.geo.Broken"),
    ],
    calls=[
        ("com.geo.shapes.Square.label", "com.geo.shapes.Base.name"),  # inherited, through implicit this
        ("com.geo.shapes.Square.label", "com.geo.shapes.Square.area"),
        ("com.geo.App.Pair.total", "com.geo.shapes.Shape.area"),  # record components left/right: Shape
        ("com.geo.App.main", "com.geo.shapes.Square.Square"),  # the constructor
        ("com.geo.App.main", "com.geo.shapes.Square.label"),
        ("com.geo.App.main", "com.geo.Helper.help"),  # same package
        ("com.geo.App.run", "com.geo.shapes.Square.area"),  # the field square: Square
    ],
    imports=[(f"{_JAVA}/App.java", f"{_JAVA}/shapes/Square.java"), (f"{_JAVA}/App.java", f"{_JAVA}/shapes/Shape.java"),
             (f"{_JAVA}/App.java", f"{_JAVA}/shapes/Base.java"), (f"{_JAVA}/App.java", "java.util.List")],
    externals=["java.util.List"],
    inherits=[("com.geo.shapes.Square", "com.geo.shapes.Base", "extends"),
              ("com.geo.shapes.Square", "com.geo.shapes.Shape", "implements")],
    # describe() (com.geo.other.Other's, not imported), List.of (external)
    unresolved_calls=2,
    syntax_errors=[f"{_JAVA}/Broken.java"],
)

# ------------------------------------------------------------------------------------------------ C

FIXTURES["c"] = Fixture(
    language="c",
    files={
        "include/geo.h": """\
#ifndef GEO_H
#define GEO_H
struct point { int x; int y; };
typedef struct { double side; } square_t;
double square_area(const square_t* s);
int helper(int n);
#endif
""",
        "src/square.c": '#include "geo.h"\n\ndouble square_area(const square_t* s) { return s->side * s->side; }\n',
        "src/util.c": """\
#include "../include/geo.h"

static int twice(int n) { return n * 2; }

int helper(int n) { return twice(n); }
""",
        "src/main.c": """\
#include <stdio.h>
#include "geo.h"

enum mode { FAST, SAFE };

int main(void) {
    square_t sq = { 2.0 };
    square_area(&sq);
    helper(1);
    describe();
    printf("x");
    return 0;
}
""",
        "src/other.c": "void describe(void) {}\n",
        "src/broken.c": "int ok(void) { return 1; }\n\nint bad( {\n",
    },
    symbols=[
        ("Class", "include/geo.point", "struct", "include/geo.h"),
        ("Class", "include/geo.square_t", "struct", "include/geo.h"),
        ("Function", "src/square.square_area", "", "src/square.c"),
        ("Function", "src/util.twice", "", "src/util.c"),
        ("Function", "src/util.helper", "", "src/util.c"),
        ("Class", "src/main.mode", "enum", "src/main.c"),
        ("Function", "src/main.main", "", "src/main.c"),
        ("Function", "src/other.describe", "", "src/other.c"),
        ("Function", "src/broken.ok", "", "src/broken.c"),
    ],
    calls=[
        ("src/util.helper", "src/util.twice"),
        ("src/main.main", "src/square.square_area"),  # declared in the included geo.h, defined in square.c
        ("src/main.main", "src/util.helper"),
    ],
    imports=[("src/square.c", "include/geo.h"), ("src/util.c", "include/geo.h"), ("src/main.c", "include/geo.h"),
             ("src/main.c", "stdio.h")],
    externals=["stdio.h"],
    inherits=[],  # C has none
    # describe() (defined in other.c, declared in no header main.c includes), printf (stdio.h)
    unresolved_calls=2,
    syntax_errors=["src/broken.c"],
)

# ------------------------------------------------------------------------------------------------ C++

FIXTURES["cpp"] = Fixture(
    language="cpp",
    files={
        "include/shapes.h": """\
#pragma once
#include <string>

namespace geo {

class Shape {
 public:
  virtual double Area() const = 0;
  std::string Describe() const;
};

class Square : public Shape {
 public:
  explicit Square(double side);
  double Area() const override;

 private:
  double side_;
};

struct Point { int x; int y; };

}  // namespace geo
""",
        "include/util.h": "#pragma once\n\nnamespace util {\ninline int Twice(int n) { return n * 2; }\n"
                          "}  // namespace util\n",
        "src/shapes.cc": """\
#include "shapes.h"

namespace geo {

std::string Shape::Describe() const { return std::to_string(Area()); }

Square::Square(double side) : side_(side) {}

double Square::Area() const { return side_ * side_; }

}  // namespace geo
""",
        "src/main.cc": """\
#include "shapes.h"
#include "util.h"

int main() {
  geo::Square sq(2.0);
  sq.Area();
  geo::Square* p = new geo::Square(3.0);
  p->Describe();
  util::Twice(2);
  describe();
  return 0;
}
""",
        "src/other.cc": "void describe() {}\n",
        "src/broken.cc": "int ok() { return 1; }\n\nint bad( {\n",
    },
    symbols=[
        ("Class", "geo.Shape", "class", "include/shapes.h"),
        ("Class", "geo.Square", "class", "include/shapes.h"),
        ("Class", "geo.Point", "struct", "include/shapes.h"),
        ("Function", "util.Twice", "", "include/util.h"),
        ("Method", "geo.Shape.Describe", "", "src/shapes.cc"),  # out of its class: its file's Module holds it
        ("Method", "geo.Square.Square", "", "src/shapes.cc"),
        ("Method", "geo.Square.Area", "", "src/shapes.cc"),
        ("Function", "src/main.main", "", "src/main.cc"),
        ("Function", "src/other.describe", "", "src/other.cc"),
        ("Function", "src/broken.ok", "", "src/broken.cc"),
    ],
    calls=[
        ("src/main.main", "geo.Square.Area"),  # sq: geo::Square
        ("src/main.main", "geo.Square.Square"),  # new geo::Square
        ("src/main.main", "geo.Shape.Describe"),  # p: geo::Square*, Describe inherited from Shape
        ("src/main.main", "util.Twice"),
    ],
    imports=[("include/shapes.h", "string"), ("src/shapes.cc", "include/shapes.h"), ("src/main.cc", "include/shapes.h"),
             ("src/main.cc", "include/util.h")],
    externals=["string"],
    inherits=[("geo.Square", "geo.Shape", "extends")],
    # Area() in Describe (pure virtual: declared, never defined), std::to_string, describe() (other.cc, not included)
    unresolved_calls=3,
    syntax_errors=["src/broken.cc"],
)

# ------------------------------------------------------------------------------------------------ C#

FIXTURES["csharp"] = Fixture(
    language="csharp",
    files={
        "src/Shapes/IShape.cs": """\
namespace Geo.Shapes
{
    /// <summary>Something with an area.</summary>
    public interface IShape
    {
        double Area();
    }
}
""",
        "src/Shapes/Square.cs": """\
using System;

namespace Geo.Shapes
{
    public class Base
    {
        public string Name() { return "base"; }
    }

    public class Square : Base, IShape
    {
        private readonly double side;

        public Square(double side) { this.side = side; }

        public double Area() { return side * side; }

        public string Label() { return Name() + Area(); }
    }

    public struct Point { public int X; }

    public enum Mode { Fast, Safe }
}
""",
        "src/App.cs": """\
using Geo.Shapes;
using Ext = Other.Lib.Thing;

namespace Geo
{
    public class App
    {
        private IShape shape;

        public static void Main()
        {
            var sq = new Square(2);
            sq.Label();
            Helper.Help();
            Describe();
            Console.WriteLine();
        }

        public double Run() { return shape.Area(); }
    }

    static class Helper
    {
        public static void Help() { }
    }
}
""",
        "src/Other/Tools.cs": "namespace Geo.Other\n{\n    public static class Tools\n    {\n"
                              "        public static void Describe() { }\n    }\n}\n",
        "src/Broken.cs": "namespace Geo\n{\n    class Broken\n    {\n        void Ok() { int x = ; }\n    }\n}\n",
    },
    symbols=[
        ("Class", "Geo.Shapes.IShape", "interface", "src/Shapes/IShape.cs"),
        ("Method", "Geo.Shapes.IShape.Area", "", "Geo.Shapes.IShape"),
        ("Class", "Geo.Shapes.Base", "class", "src/Shapes/Square.cs"),
        ("Method", "Geo.Shapes.Base.Name", "", "Geo.Shapes.Base"),
        ("Class", "Geo.Shapes.Square", "class", "src/Shapes/Square.cs"),
        ("Method", "Geo.Shapes.Square.Square", "", "Geo.Shapes.Square"),
        ("Method", "Geo.Shapes.Square.Area", "", "Geo.Shapes.Square"),
        ("Method", "Geo.Shapes.Square.Label", "", "Geo.Shapes.Square"),
        ("Class", "Geo.Shapes.Point", "struct", "src/Shapes/Square.cs"),
        ("Class", "Geo.Shapes.Mode", "enum", "src/Shapes/Square.cs"),
        ("Class", "Geo.App", "class", "src/App.cs"),
        ("Method", "Geo.App.Main", "", "Geo.App"),
        ("Method", "Geo.App.Run", "", "Geo.App"),
        ("Class", "Geo.Helper", "class", "src/App.cs"),
        ("Method", "Geo.Helper.Help", "", "Geo.Helper"),
        ("Class", "Geo.Other.Tools", "class", "src/Other/Tools.cs"),
        ("Method", "Geo.Other.Tools.Describe", "", "Geo.Other.Tools"),
        ("Class", "Geo.Broken", "class", "src/Broken.cs"),
        ("Method", "Geo.Broken.Ok", "", "Geo.Broken"),
    ],
    calls=[
        ("Geo.Shapes.Square.Label", "Geo.Shapes.Base.Name"),  # inherited, through implicit this
        ("Geo.Shapes.Square.Label", "Geo.Shapes.Square.Area"),
        ("Geo.App.Main", "Geo.Shapes.Square.Square"),  # `using Geo.Shapes;`
        ("Geo.App.Main", "Geo.Shapes.Square.Label"),  # var sq = new Square(...)
        ("Geo.App.Main", "Geo.Helper.Help"),  # same namespace
        ("Geo.App.Run", "Geo.Shapes.IShape.Area"),  # the field shape: IShape
    ],
    imports=[("src/App.cs", "src/Shapes/IShape.cs"), ("src/App.cs", "src/Shapes/Square.cs"),
             ("src/App.cs", "Other.Lib.Thing"), ("src/Shapes/Square.cs", "System")],
    externals=["Other.Lib.Thing", "System"],
    inherits=[("Geo.Shapes.Square", "Geo.Shapes.Base", "extends"),
              ("Geo.Shapes.Square", "Geo.Shapes.IShape", "implements")],
    # Describe() (Geo.Other.Tools's, not in scope), Console.WriteLine (System)
    unresolved_calls=2,
    syntax_errors=["src/Broken.cs"],
)

# ------------------------------------------------------------------------------------------------ Ruby

FIXTURES["ruby"] = Fixture(
    language="ruby",
    files={
        "lib/geo.rb": """\
require_relative "geo/shapes"
require "json"

module Geo
  def self.run
    sq = Shapes::Square.new(2)
    sq.area
    Helpers.shout("x")
    describe()
    JSON.parse("{}")
  end
end
""",
        "lib/geo/shapes.rb": """\
require_relative "helpers"

module Geo
  module Shapes
    # Something with an area.
    class Shape
      def area; 0; end
      def describe; "shape " + area().to_s; end
    end

    class Square < Shape
      include Comparable
      def initialize(side); @side = side; end
      def area; @side * @side; end
      def to_s; describe() + Helpers.shout("sq"); end
    end
  end
end
""",
        "lib/geo/helpers.rb": "module Geo\n  module Helpers\n    def self.shout(text); text.upcase; end\n  end\nend\n",
        "lib/other.rb": "def describe; \"other\"; end\n",
        "lib/broken.rb": "def ok; 1; end\n\ndef bad(\n",
    },
    symbols=[
        ("Class", "Geo", "module", "lib/geo.rb"),
        ("Method", "Geo.run", "", "Geo"),
        ("Class", "Geo", "module", "lib/geo/shapes.rb"),
        ("Class", "Geo.Shapes", "module", "Geo"),
        ("Class", "Geo.Shapes.Shape", "class", "Geo.Shapes"),
        ("Method", "Geo.Shapes.Shape.area", "", "Geo.Shapes.Shape"),
        ("Method", "Geo.Shapes.Shape.describe", "", "Geo.Shapes.Shape"),
        ("Class", "Geo.Shapes.Square", "class", "Geo.Shapes"),
        ("Method", "Geo.Shapes.Square.initialize", "", "Geo.Shapes.Square"),
        ("Method", "Geo.Shapes.Square.area", "", "Geo.Shapes.Square"),
        ("Method", "Geo.Shapes.Square.to_s", "", "Geo.Shapes.Square"),
        ("Class", "Geo", "module", "lib/geo/helpers.rb"),
        ("Class", "Geo.Helpers", "module", "Geo"),
        ("Method", "Geo.Helpers.shout", "", "Geo.Helpers"),
        ("Function", "describe", "", "lib/other.rb"),
        ("Function", "ok", "", "lib/broken.rb"),
    ],
    calls=[
        ("Geo.run", "Geo.Shapes.Square.initialize"),  # Shapes::Square.new
        ("Geo.run", "Geo.Shapes.Square.area"),  # sq = Shapes::Square.new(...)
        ("Geo.run", "Geo.Helpers.shout"),  # loaded through geo/shapes.rb's require_relative
        ("Geo.Shapes.Shape.describe", "Geo.Shapes.Shape.area"),
        ("Geo.Shapes.Square.to_s", "Geo.Shapes.Shape.describe"),  # inherited, implicit self
        ("Geo.Shapes.Square.to_s", "Geo.Helpers.shout"),
    ],
    imports=[("lib/geo.rb", "lib/geo/shapes.rb"), ("lib/geo.rb", "json"), ("lib/geo/shapes.rb", "lib/geo/helpers.rb")],
    externals=["json"],
    inherits=[("Geo.Shapes.Square", "Geo.Shapes.Shape", "extends")],  # `include Comparable` is Ruby's own
    # describe() in Geo.run (only lib/other.rb defines it, and nothing requires that file), JSON.parse, text.upcase,
    # and .to_s on the result of area()
    unresolved_calls=4,
    syntax_errors=["lib/broken.rb"],
)

# ------------------------------------------------------------------------------------------------ PHP

FIXTURES["php"] = Fixture(
    language="php",
    files={
        "src/Shapes/Shape.php": """\
<?php
namespace Geo\\Shapes;

/** Something with an area. */
interface Shape
{
    public function area(): float;
}
""",
        "src/Shapes/Square.php": """\
<?php
namespace Geo\\Shapes;

trait Describes
{
    public function describe(): string { return "shape"; }
}

abstract class Base
{
    public function name(): string { return "base"; }
}

class Square extends Base implements Shape
{
    use Describes;

    public function __construct(private float $side) {}

    public function area(): float { return $this->side * $this->side; }

    public function label(): string { return $this->name() . $this->describe() . self::unit(); }

    public static function unit(): string { return "cm"; }
}

enum Mode
{
    case Fast;
}
""",
        "src/App.php": """\
<?php
namespace Geo;

use Geo\\Shapes\\Square;
use Vendor\\Lib\\Client as HttpClient;

require_once __DIR__ . "/helpers.php";

function helper(): int { return 1; }

class App
{
    public function __construct(private Square $square) {}

    public function run(Square $sq): void
    {
        $sq->label();
        $this->square->area();
        $s = new Square(2.0);
        helper();
        format_it("x");
        describe();
        HttpClient::get();
    }
}
""",
        "src/helpers.php": "<?php\nfunction format_it(string $s): string { return strtoupper($s); }\n",
        "src/Other/functions.php": "<?php\nnamespace Geo\\Other;\n\n"
                                   "function describe(): string { return \"other\"; }\n",
        "src/Broken.php": "<?php\nfunction ok() { return 1; }\n\nfunction bad( {\n",
    },
    symbols=[
        ("Class", "Geo.Shapes.Shape", "interface", "src/Shapes/Shape.php"),
        ("Method", "Geo.Shapes.Shape.area", "", "Geo.Shapes.Shape"),
        ("Class", "Geo.Shapes.Describes", "trait", "src/Shapes/Square.php"),
        ("Method", "Geo.Shapes.Describes.describe", "", "Geo.Shapes.Describes"),
        ("Class", "Geo.Shapes.Base", "class", "src/Shapes/Square.php"),
        ("Method", "Geo.Shapes.Base.name", "", "Geo.Shapes.Base"),
        ("Class", "Geo.Shapes.Square", "class", "src/Shapes/Square.php"),
        ("Method", "Geo.Shapes.Square.__construct", "", "Geo.Shapes.Square"),
        ("Method", "Geo.Shapes.Square.area", "", "Geo.Shapes.Square"),
        ("Method", "Geo.Shapes.Square.label", "", "Geo.Shapes.Square"),
        ("Method", "Geo.Shapes.Square.unit", "", "Geo.Shapes.Square"),
        ("Class", "Geo.Shapes.Mode", "enum", "src/Shapes/Square.php"),
        ("Function", "Geo.helper", "", "src/App.php"),
        ("Class", "Geo.App", "class", "src/App.php"),
        ("Method", "Geo.App.__construct", "", "Geo.App"),
        ("Method", "Geo.App.run", "", "Geo.App"),
        ("Function", "format_it", "", "src/helpers.php"),
        ("Function", "Geo.Other.describe", "", "src/Other/functions.php"),
        ("Function", "ok", "", "src/Broken.php"),
    ],
    calls=[
        ("Geo.Shapes.Square.label", "Geo.Shapes.Base.name"),
        ("Geo.Shapes.Square.label", "Geo.Shapes.Describes.describe"),  # from the trait it uses
        ("Geo.Shapes.Square.label", "Geo.Shapes.Square.unit"),  # self::unit()
        ("Geo.App.run", "Geo.Shapes.Square.label"),  # Square $sq
        ("Geo.App.run", "Geo.Shapes.Square.area"),  # the promoted property $square: Square
        ("Geo.App.run", "Geo.Shapes.Square.__construct"),
        ("Geo.App.run", "Geo.helper"),  # the current namespace's function
        ("Geo.App.run", "format_it"),  # PHP falls back to the global function
    ],
    imports=[("src/App.php", "src/Shapes/Square.php"), ("src/App.php", "Vendor.Lib.Client"),
             ("src/App.php", "src/helpers.php")],
    externals=["Vendor.Lib.Client"],
    inherits=[("Geo.Shapes.Square", "Geo.Shapes.Base", "extends"),
              ("Geo.Shapes.Square", "Geo.Shapes.Shape", "implements"),
              ("Geo.Shapes.Square", "Geo.Shapes.Describes", "includes")],
    # describe() (Geo\\Other's, not in scope), HttpClient::get (external), strtoupper (a builtin)
    unresolved_calls=3,
    syntax_errors=["src/Broken.php"],
)

# ------------------------------------------------------------------------------------------------ polyglot

FIXTURES["polyglot"] = Fixture(
    language="",
    files={
        "py/app/__init__.py": "",
        "py/app/core.py": "def compute():\n    return helper()\n\n\ndef helper():\n    return 1\n",
        "web/src/api.ts": "export function fetchData(): number { return format(1); }\n\n"
                          "function format(n: number): number { return n; }\n",
        "web/src/index.ts": 'import { fetchData } from "./api";\n\nexport function start(): void {\n'
                            "  fetchData();\n  compute();\n}\n",
        "svc/go.mod": "module example.com/svc\n\ngo 1.21\n",
        "svc/main.go": "package main\n\nfunc main() { serve() }\n\nfunc serve() {}\n",
        "native/lib.h": "int compute(void);\n",
        "native/lib.c": '#include "lib.h"\n\nint compute(void) { return twice(2); }\n\n'
                        "static int twice(int n) { return n * 2; }\n",
    },
    symbols=[
        ("Function", "app.core.compute", "", "py/app/core.py"),
        ("Function", "app.core.helper", "", "py/app/core.py"),
        ("Function", "web/src/api.fetchData", "", "web/src/api.ts"),
        ("Function", "web/src/api.format", "", "web/src/api.ts"),
        ("Function", "web/src.start", "", "web/src/index.ts"),  # an index file is its folder's module
        ("Function", "svc.main", "", "svc/main.go"),
        ("Function", "svc.serve", "", "svc/main.go"),
        ("Function", "native/lib.compute", "", "native/lib.c"),
        ("Function", "native/lib.twice", "", "native/lib.c"),
    ],
    calls=[
        ("app.core.compute", "app.core.helper"),
        ("web/src/api.fetchData", "web/src/api.format"),
        ("web/src.start", "web/src/api.fetchData"),
        ("svc.main", "svc.serve"),
        ("native/lib.compute", "native/lib.twice"),
    ],
    imports=[("web/src/index.ts", "web/src/api.ts"), ("native/lib.c", "native/lib.h")],
    externals=[],
    inherits=[],
    # compute() in index.ts: Python and C define a compute, TypeScript never binds it (no call crosses languages)
    unresolved_calls=1,
    syntax_errors=[],
    languages={"py/app/__init__.py": "python", "py/app/core.py": "python", "web/src/api.ts": "typescript",
               "web/src/index.ts": "typescript", "svc/main.go": "go", "native/lib.h": "c", "native/lib.c": "c"},
)


def module_name(fixture: Fixture, path: str) -> str:
    """A Module's qualified name: Python's dotted module, every other language's file path."""
    if fixture.languages.get(path) == "python":
        stem = path.removeprefix("py/").removesuffix(".py").removesuffix("/__init__")
        return stem.replace("/", ".")
    return path


def source_files(fixture: Fixture) -> list[str]:
    """The files graphdex indexes (project files such as go.mod and tsconfig.json are read, not indexed)."""
    return sorted(p for p in fixture.files if not p.endswith((".mod", ".json", ".toml")))


def language_of(fixture: Fixture, path: str) -> str:
    return fixture.languages.get(path, fixture.language)
