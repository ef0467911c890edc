"""A project's test files as syntax trees: which functions are tests, fixtures or helpers, and how names resolve.

Everything comes from `ast`: nothing is imported or executed, so a finding can never come from a
word in a string, a comment or a docstring.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

SKIPPED_DIRS = {".git", ".hg", ".venv", "venv", "env", ".env", "node_modules", "__pycache__", ".tox", ".nox",
                "site-packages", "build", "dist", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".eggs"}
TEST_DIR_NAMES = {"tests", "test", "testing"}
FIXTURE_DECORATORS = {"pytest.fixture", "pytest_asyncio.fixture"}
SCOPES = ("function", "class", "module", "package", "session")

FuncNode = ast.FunctionDef | ast.AsyncFunctionDef


def is_test_file(name: str) -> bool:
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))


def audited_files(root: Path) -> list[Path]:
    """Test files, conftest.py files, and the helper modules that sit beside them or in a tests folder."""
    chosen: list[Path] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.endswith(".egg-info"))
        here = Path(folder)
        in_tests = any(part in TEST_DIR_NAMES for part in here.relative_to(root).parts) or here.name in TEST_DIR_NAMES
        has_tests = any(is_test_file(name) or name == "conftest.py" for name in files)
        for name in sorted(files):
            if name.endswith(".py") and (is_test_file(name) or name == "conftest.py" or in_tests or has_tests):
                chosen.append(here / name)
    return chosen


def dotted(node: ast.expr, aliases: dict[str, str]) -> str:
    """`httpx.AsyncClient` for `httpx.AsyncClient`, `AsyncClient` imported from httpx, or `h.AsyncClient` with `import httpx as h`."""
    if isinstance(node, ast.Name):
        return aliases.get(node.id, node.id)
    if isinstance(node, ast.Attribute):
        base = dotted(node.value, aliases)
        return f"{base}.{node.attr}" if base else ""
    if isinstance(node, ast.Call):
        return dotted(node.func, aliases)
    return ""


def last_name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def constant_str(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def _index(tree: ast.Module, bodies: dict[int, list[ast.AST]]) -> list[ast.AST]:
    """Every node of the tree in source order, in one pass; also fills `bodies` (keyed by a function node's id)
    with what walk_body would give for that function."""
    everything: list[ast.AST] = []
    stack: list[tuple[ast.AST, list[ast.AST] | None]] = [(tree, None)]
    while stack:
        node, owner = stack.pop()
        everything.append(node)
        if owner is not None:
            owner.append(node)
        if id(node) in bodies:
            inner = bodies[id(node)]
        else:
            inner = None if owner is not None and isinstance(node, _SCOPES) else owner
        children = list(ast.iter_child_nodes(node))
        stack.extend((child, inner) for child in reversed(children))
    return everything


def walk_body(node: ast.AST) -> list[ast.AST]:
    """Every node inside `node`, without descending into nested functions, lambdas or classes."""
    found: list[ast.AST] = []
    stack = list(ast.iter_child_nodes(node))
    while stack:
        child = stack.pop()
        found.append(child)
        if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(child))
    return found


@dataclass(frozen=True)
class Fixture:
    name: str
    scope: str
    loop_scope: str | None  # as written; None when not given
    by_pytest_asyncio: bool


@dataclass
class Function:
    node: FuncNode
    module: "Module"
    cls: ast.ClassDef | None
    kind: str  # "test", "fixture" or "helper"
    fixture: Fixture | None = None
    nodes: list[ast.AST] = field(default_factory=list)  # its body, flattened (see walk_body)

    @property
    def is_async(self) -> bool:
        return isinstance(self.node, ast.AsyncFunctionDef)

    @property
    def label(self) -> str:
        name = self.node.name if self.kind != "fixture" else f"fixture {self.fixture.name if self.fixture else self.node.name}"
        return f"{self.cls.name}::{name}" if self.cls else name

    @property
    def params(self) -> list[str]:
        args = self.node.args
        names = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
        return [n for n in names if n not in ("self", "cls", "request")] if self.cls else [n for n in names if n != "request"]

    @cached_property
    def calls(self) -> list[ast.Call]:
        return [n for n in self.nodes if isinstance(n, ast.Call)]


@dataclass
class Module:
    path: Path
    rel: str
    tree: ast.Module
    aliases: dict[str, str]
    constants: dict[str, ast.expr]
    nodes: list[ast.AST]  # every node of the tree, walked once
    functions: list[Function] = field(default_factory=list)
    fixtures: dict[str, Function] = field(default_factory=dict)

    @property
    def is_conftest(self) -> bool:
        return self.path.name == "conftest.py"


def _aliases(nodes: list[ast.AST]) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def _fixture_decl(node: FuncNode, aliases: dict[str, str]) -> Fixture | None:
    for decorator in node.decorator_list:
        name = dotted(decorator, aliases)
        if name not in FIXTURE_DECORATORS:
            continue
        call = decorator if isinstance(decorator, ast.Call) else None
        scope = constant_str(keyword(call, "scope")) if call else None
        loop_scope = constant_str(keyword(call, "loop_scope")) if call else None
        alias = constant_str(keyword(call, "name")) if call else None
        return Fixture(alias or node.name, scope or "function", loop_scope, name == "pytest_asyncio.fixture")
    return None


def _is_test_class(node: ast.ClassDef) -> bool:
    return node.name.startswith("Test") and not any(
        isinstance(item, ast.FunctionDef) and item.name == "__init__" for item in node.body)


def parse_module(path: Path, root: Path) -> Module | None:
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (SyntaxError, ValueError):
        return None
    methods = [(node, None) for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))] + [
        (item, node) for node in tree.body if isinstance(node, ast.ClassDef)
        for item in node.body if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))]
    bodies: dict[int, list[ast.AST]] = {id(node): [] for node, _ in methods}
    nodes = _index(tree, bodies)
    aliases = _aliases(nodes)
    constants = {target.id: node.value for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
                 and node.value is not None
                 for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
                 if isinstance(target, ast.Name)}
    module = Module(path, path.relative_to(root).as_posix(), tree, aliases, constants, nodes)
    testable = is_test_file(path.name)

    for node, cls in methods:
        fixture = _fixture_decl(node, aliases)
        if fixture:
            kind = "fixture"
        elif testable and node.name.startswith("test") and (cls is None or _is_test_class(cls)):
            kind = "test"
        else:
            kind = "helper"
        module.functions.append(Function(node, module, cls, kind, fixture, bodies[id(node)]))
    module.fixtures = {f.fixture.name: f for f in module.functions if f.fixture}
    return module


@dataclass
class Project:
    root: Path  # the audited folder
    modules: list[Module]
    app_root: Path  # where the project's own packages live (application modules are looked up there)
    _chains: dict[Path, list[Module]] = field(default_factory=dict)
    _conftests: dict[Path, Module] = field(default_factory=dict)

    def conftests_for(self, module: Module) -> list[Module]:
        """The conftest.py files that apply to `module`, nearest first (not itself when it is one)."""
        if not self._chains:
            self._conftests = {m.path.parent: m for m in self.modules if m.is_conftest}
        if module.path not in self._chains:
            by_folder = self._conftests
            folders = [module.path.parent, *module.path.parent.parents]
            self._chains[module.path] = [by_folder[f] for f in folders if f in by_folder and by_folder[f] is not module]
        return self._chains[module.path]

    def fixture(self, name: str, module: Module) -> Function | None:
        """The fixture a test in `module` gets for `name`: its own module's first, then the nearest conftest's."""
        for candidate in (module, *self.conftests_for(module)):
            found = candidate.fixtures.get(name)
            if found:
                return found
        return None


def load_project(root: Path, app_root: Path, files: list[Path] | None = None) -> Project:
    modules = [m for path in (audited_files(root) if files is None else files) if (m := parse_module(path, root))]
    return Project(root, modules, app_root)
