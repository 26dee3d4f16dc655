"""What each language calls a test, an entry point or a protocol method: one table, so that a new language is one
entry. The answers read a file's language from `File.language` when the graph has it, else from its extension
(default: Python, the language every graph holds today).

Names and file names are matched with `fnmatch.fnmatchcase` patterns; decorators (Python decorators, Java/C#
annotations and attributes, Rust attributes) by their last identifier (`pytest.fixture()` -> `fixture`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import lru_cache


@dataclass(frozen=True)
class Language:
    name: str
    extensions: tuple[str, ...]
    test_files: tuple[str, ...] = ()  # file-name patterns of test files
    test_dirs: tuple[str, ...] = ("test", "tests")  # a folder of this name anywhere in the path holds tests
    test_functions: tuple[str, ...] = ()  # function and method names that are tests (or test hooks)
    test_classes: tuple[str, ...] = ()  # class names that hold tests
    test_decorators: tuple[str, ...] = ()  # decorators / annotations / attributes that make a test or fixture
    entry_points: tuple[str, ...] = ()  # function names the runtime starts the program with
    protocol_methods: tuple[str, ...] = ()  # names the language or its runtime calls implicitly
    # decorators that do not register the function anywhere (a function with no caller stays unused)
    plain_decorators: frozenset[str] = field(default_factory=frozenset)
    property_decorators: frozenset[str] = field(default_factory=frozenset)  # read as attributes, never called
    stub_decorators: frozenset[str] = field(default_factory=frozenset)  # typing overloads: never run


PYTHON = Language(
    "python", (".py", ".pyi"),
    test_files=("test_*.py", "*_test.py", "tests.py", "conftest.py"),
    test_dirs=("test", "tests", "testing"),
    test_functions=("test*", "setUp", "tearDown", "setUpClass", "tearDownClass", "setUpModule", "tearDownModule",
                    "asyncSetUp", "asyncTearDown", "setup_module", "teardown_module", "setup_function",
                    "teardown_function", "setup_method", "teardown_method", "setup_class", "teardown_class",
                    "pytest_*"),
    test_classes=("Test*",),
    test_decorators=("fixture", "yield_fixture", "parametrize", "given", "hookimpl"),
    protocol_methods=("__*__", "_*_"),  # dunders; the enum's sunders (_missing_, _generate_next_value_)
    plain_decorators=frozenset({
        "staticmethod", "classmethod", "wraps", "lru_cache", "cache", "abstractmethod", "abstractclassmethod",
        "abstractstaticmethod", "override", "final", "contextmanager", "asynccontextmanager", "dataclass",
        "total_ordering", "unique", "coroutine", "no_type_check", "runtime_checkable", "recursive_repr",
        "deprecated",
    }),
    property_decorators=frozenset({"property", "cached_property", "setter", "getter", "deleter",
                                   "abstractproperty"}),
    stub_decorators=frozenset({"overload"}),
)

LANGUAGES: tuple[Language, ...] = (
    PYTHON,
    Language("javascript", (".js", ".jsx", ".mjs", ".cjs"),
             test_files=("*.test.js", "*.spec.js", "*.test.jsx", "*.spec.jsx", "*.test.mjs", "*.spec.mjs"),
             test_dirs=("test", "tests", "__tests__", "spec"),
             protocol_methods=("constructor", "toString", "valueOf", "toJSON", "then", "connectedCallback",
                               "disconnectedCallback", "attributeChangedCallback", "render")),
    Language("typescript", (".ts", ".tsx", ".mts", ".cts"),
             test_files=("*.test.ts", "*.spec.ts", "*.test.tsx", "*.spec.tsx"),
             test_dirs=("test", "tests", "__tests__", "spec"),
             protocol_methods=("constructor", "toString", "valueOf", "toJSON", "then", "render", "ngOnInit",
                               "ngOnDestroy")),
    Language("go", (".go",),
             test_files=("*_test.go",), test_dirs=("testdata",),
             test_functions=("Test*", "Benchmark*", "Example*", "Fuzz*"),
             entry_points=("main", "init"),
             protocol_methods=("String", "Error", "Len", "Less", "Swap", "ServeHTTP", "MarshalJSON",
                               "UnmarshalJSON", "Read", "Write", "Close")),
    Language("rust", (".rs",),
             test_dirs=("tests", "benches"),
             test_decorators=("test", "bench", "rstest", "fixture"),
             entry_points=("main",),
             protocol_methods=("fmt", "drop", "deref", "deref_mut", "from", "into", "clone", "eq", "cmp",
                               "partial_cmp", "hash", "next", "default")),
    Language("java", (".java",),
             test_files=("*Test.java", "*Tests.java", "Test*.java", "*IT.java"),
             test_decorators=("Test", "ParameterizedTest", "RepeatedTest", "TestFactory", "BeforeEach",
                              "AfterEach", "BeforeAll", "AfterAll", "Before", "After", "BeforeClass",
                              "AfterClass"),
             entry_points=("main",),
             protocol_methods=("toString", "equals", "hashCode", "compareTo", "run", "call", "close",
                               "iterator", "get", "accept", "apply")),
    Language("csharp", (".cs",),
             test_files=("*Tests.cs", "*Test.cs"),
             test_decorators=("Test", "TestMethod", "Fact", "Theory", "TestCase", "SetUp", "TearDown",
                              "OneTimeSetUp", "OneTimeTearDown", "TestInitialize", "TestCleanup"),
             entry_points=("Main",),
             protocol_methods=("ToString", "Equals", "GetHashCode", "CompareTo", "Dispose", "GetEnumerator",
                               "DisposeAsync")),
    Language("c", (".c", ".h"),
             test_files=("test_*.c", "*_test.c", "*_tests.c"),
             entry_points=("main",)),
    Language("cpp", (".cpp", ".hpp", ".cc", ".hh", ".cxx", ".hxx"),
             test_files=("*_test.cc", "*_test.cpp", "*_unittest.cc", "*_unittest.cpp", "test_*.cpp",
                         "test_*.cc"),
             entry_points=("main", "WinMain", "wmain"),
             protocol_methods=("operator*",)),
    Language("ruby", (".rb",),
             test_files=("*_spec.rb", "*_test.rb", "test_*.rb"),
             test_dirs=("test", "tests", "spec"),
             test_functions=("test_*", "setup", "teardown"),
             protocol_methods=("initialize", "method_missing", "respond_to_missing?", "to_s", "to_str",
                               "inspect", "each", "<=>", "==", "hash", "eql?", "call", "coerce")),
    Language("php", (".php",),
             test_files=("*Test.php",),
             test_functions=("test*", "setUp", "tearDown", "setUpBeforeClass", "tearDownAfterClass"),
             test_decorators=("test", "Test", "dataProvider", "DataProvider"),
             protocol_methods=("__*",)),  # magic methods: __construct, __get, __toString, ...
)

ALIASES = {"py": "python", "js": "javascript", "ts": "typescript", "tsx": "typescript", "c++": "cpp",
           "c#": "csharp", "cs": "csharp", "golang": "go", "rb": "ruby"}
BY_NAME = {lang.name: lang for lang in LANGUAGES}
BY_EXTENSION = {ext: lang for lang in LANGUAGES for ext in lang.extensions}

_LAST_NAME = re.compile(r"([A-Za-z_][\w]*)(?:\(\))?$")


def language(path: str | None, declared: str | None = None) -> Language:
    """The language of a file: its declared `File.language`, else its extension, else Python."""
    if declared:
        name = declared.lower()
        found = BY_NAME.get(ALIASES.get(name, name))
        if found is not None:
            return found
    if path:
        _, dot, ext = path.rpartition(".")
        if dot:
            return BY_EXTENSION.get("." + ext.lower(), PYTHON)
    return PYTHON


@lru_cache(maxsize=4096)
def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatchcase(name, p) for p in patterns)


def decorator_name(text: str) -> str:
    """A decorator's last identifier: `pytest.fixture()` -> fixture, `app.route()` -> route."""
    match = _LAST_NAME.search(text.strip().lstrip("@"))
    return match.group(1) if match else text


def is_test_file(path: str, lang: Language) -> bool:
    folders, _, filename = path.rpartition("/")
    if _matches(filename, lang.test_files):
        return True
    return any(part in lang.test_dirs for part in folders.split("/") if part)


def is_test_symbol(kind: str, name: str, decorators: list[str] | None, lang: Language, in_test_file: bool) -> bool:
    """A test, a test hook or a fixture: by its test decorator anywhere (`#[test]`, `@Test`,
    `@pytest.fixture`), or by its name in a test file (`test_*` outside one is an ordinary function)."""
    if any(decorator_name(d) in lang.test_decorators for d in decorators or ()):
        return True
    if not in_test_file:
        return False
    return _matches(name, lang.test_classes if kind == "Class" else lang.test_functions)


def is_entry_point(name: str, lang: Language) -> bool:
    return name in lang.entry_points


def is_protocol_method(name: str, lang: Language) -> bool:
    return _matches(name, lang.protocol_methods)
