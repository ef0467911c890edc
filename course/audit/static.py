"""The audit's own rules: what the lessons teach and no kept linter checks, read from syntax trees.

Each rule is one function from the project (and its pytest settings) to findings. Rules prefer
silence to guessing: when the tree does not show the problem for certain, there is no finding.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

from course.audit.config import PytestConfig
from course.audit.project import SCOPES, Function, Module, Project, constant_str, dotted, keyword, last_name, walk_body
from course.audit.rules import Finding

ASYNC_SLEEPS = {"asyncio.sleep", "anyio.sleep", "trio.sleep"}
TIMEOUT_HELPERS = {"timeout", "timeout_at", "fail_after", "fail_at", "move_on_after", "move_on_at", "wait_for"}
LIFESPAN_RUNNERS = {"LifespanManager", "lifespan_context", "TestClient"}
GATES = {"Barrier", "Event", "Condition", "Semaphore", "BoundedSemaphore"}
CALL_CHECKS = {"assert_called", "assert_called_once", "assert_called_with", "assert_called_once_with", "assert_any_call",
               "assert_has_calls"}
MUTATORS = {"append", "extend", "insert", "update", "setdefault", "add", "pop", "popitem", "remove", "discard"}

Rule = Callable[[Project, PytestConfig], Iterator[Finding]]


def _finding(rule: str, fn: Function | None, node: ast.AST, module: Module, detail: str = "") -> Finding:
    return Finding(rule, module.rel, getattr(node, "lineno", 0), fn.label if fn else "", detail)


def _functions(project: Project) -> Iterator[Function]:
    for module in project.modules:
        yield from module.functions


def _drives_tests(fn: Function) -> bool:
    """Tests, fixtures and module-level helpers; not the methods of fakes, whose waits the test controls."""
    return fn.kind in ("test", "fixture") or fn.cls is None or fn.cls.name.startswith("Test")


def _number(node: ast.expr | None, module: Module) -> float | None:
    if isinstance(node, ast.Name) and isinstance(module.constants.get(node.id), ast.Constant):
        node = module.constants[node.id]
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    return None


def _sleep_delay(call: ast.Call, module: Module) -> float | None:
    """The delay of a sleep call, when the code states it (a literal or a module constant)."""
    arg = call.args[0] if call.args else keyword(call, "delay") or keyword(call, "seconds")
    return _number(arg, module)


def _awaited_calls(fn: Function) -> Iterator[tuple[ast.Await, ast.Call]]:
    for node in fn.nodes:
        if isinstance(node, ast.Await) and isinstance(node.value, ast.Call):
            yield node, node.value


# ---------------------------------------------------------------- waiting by sleeping, waiting forever

def sleeps_and_polls(project: Project, config: PytestConfig) -> Iterator[Finding]:
    for fn in _functions(project):
        module, in_loops = fn.module, set()
        for loop in (n for n in fn.nodes if isinstance(n, (ast.While, ast.For, ast.AsyncFor))):
            inner = walk_body(loop)
            if id(loop) in in_loops or any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in inner):
                continue
            if isinstance(loop, (ast.For, ast.AsyncFor)) and not any(isinstance(n, (ast.Break, ast.Return)) for n in inner):
                continue
            # Async sleeps only: a sync retry loop around an outside process has no signal to wait on instead.
            sleeps = [n for n in inner if isinstance(n, ast.Call) and dotted(n.func, module.aliases) in ASYNC_SLEEPS
                      and (_sleep_delay(n, module) is None or _sleep_delay(n, module) > 0)]
            if sleeps and _drives_tests(fn):
                yield _finding("poll-loop", fn, loop, module, f"sleeps {_describe(sleeps[0], module)} per turn")
                in_loops.update(id(n) for n in inner)
        for _, call in _awaited_calls(fn):
            delay = _sleep_delay(call, module)
            if dotted(call.func, module.aliases) in ASYNC_SLEEPS and id(call) not in in_loops and delay and delay > 0:
                yield _finding("sleep-wait", fn, call, module, f"sleeps {delay:g} s")


def _describe(call: ast.Call, module: Module) -> str:
    delay = _sleep_delay(call, module)
    return f"{delay:g} s" if delay is not None else ast.unparse(call.args[0]) if call.args else "a while"


def _inside_timeouts(fn: Function) -> set[int]:
    covered: set[int] = set()
    for node in fn.nodes:
        if isinstance(node, (ast.With, ast.AsyncWith)) and any(
                isinstance(item.context_expr, ast.Call) and last_name(item.context_expr.func) in TIMEOUT_HELPERS
                for item in node.items):
            covered.update(id(n) for n in walk_body(node))
    return covered


def unbounded_waits(project: Project, config: PytestConfig) -> Iterator[Finding]:
    for fn in _functions(project):
        if not _drives_tests(fn):
            continue
        covered = _inside_timeouts(fn)
        for await_node, call in _awaited_calls(fn):
            if id(await_node) in covered or call.keywords:
                continue
            # `event.wait()`, `queue.join()`, `it.__anext__()`; `anext(it)` without a default
            method = isinstance(call.func, ast.Attribute) and call.func.attr in ("wait", "join", "__anext__")
            builtin = isinstance(call.func, ast.Name) and call.func.id == "anext"
            if (method and not call.args) or (builtin and len(call.args) == 1):
                yield _finding("unbounded-wait", fn, call, fn.module, f"`await {ast.unparse(call)}`")


# ---------------------------------------------------------------- clients and the lifespan

def asyncclient_app(project: Project, config: PytestConfig) -> Iterator[Finding]:
    for fn in _functions(project):
        for call in fn.calls:
            if dotted(call.func, fn.module.aliases) in ("httpx.AsyncClient", "httpx.Client") and keyword(call, "app"):
                yield _finding("asyncclient-app", fn, call, fn.module)


def _is_testclient(call: ast.Call, module: Module) -> bool:
    name = dotted(call.func, module.aliases)
    return name in ("fastapi.testclient.TestClient", "starlette.testclient.TestClient", "TestClient")


def _fixture_chain(project: Project, fn: Function) -> list[Function]:
    """The fixtures `fn` requests, and theirs, and the autouse fixtures in scope: what runs around it."""
    seen: dict[int, Function] = {}
    todo = list(fn.params)
    for candidate in (fn.module, *project.conftests_for(fn.module)):
        todo += [f.fixture.name for f in candidate.functions if f.fixture and _autouse(f)]
    while todo:
        fixture = project.fixture(todo.pop(), fn.module)
        if fixture and id(fixture) not in seen and fixture is not fn:
            seen[id(fixture)] = fixture
            todo += fixture.params
    return list(seen.values())


def _autouse(fn: Function) -> bool:
    return any(isinstance(d, ast.Call) and isinstance(keyword(d, "autouse"), ast.Constant) and keyword(d, "autouse").value
               for d in fn.node.decorator_list)


def testclient_in_async(project: Project, config: PytestConfig) -> Iterator[Finding]:
    for fn in _functions(project):
        if fn.kind != "test" or not fn.is_async:
            continue
        direct = [c for c in fn.calls if _is_testclient(c, fn.module)]
        for call in direct:
            yield _finding("testclient-in-async-test", fn, call, fn.module)
        if not direct:
            for name in fn.params:
                fixture = project.fixture(name, fn.module)
                if fixture and any(_is_testclient(c, fixture.module) for c in fixture.calls):
                    yield _finding("testclient-in-async-test", fn, fn.node, fn.module,
                                   f"through fixture `{name}` ({fixture.module.rel}:{fixture.node.lineno})")


def _runs_lifespan(fn: Function) -> bool:
    return any(last_name(c.func) in LIFESPAN_RUNNERS for c in fn.calls)


@cache
def _module_has_lifespan(path: Path) -> bool:
    try:
        tree = ast.parse(path.read_bytes())
    except (SyntaxError, ValueError, OSError):
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            lifespan = keyword(node, "lifespan")
            if last_name(node.func) in ("FastAPI", "Starlette") and lifespan is not None and \
                    not (isinstance(lifespan, ast.Constant) and lifespan.value is None):
                return True
            if last_name(node.func) in ("on_event", "add_event_handler") and node.args and \
                    constant_str(node.args[0]) in ("startup", "shutdown"):
                return True
    return False


def _source_file(project: Project, name: str) -> Path | None:
    """The file of the module that defines `name` (`app.main.create_app` -> app/main.py), under the project."""
    parts = name.split(".")
    for base in (project.app_root, project.app_root / "src"):
        for cut in range(len(parts) - 1, 0, -1):
            stem = base.joinpath(*parts[:cut])
            for candidate in (stem.with_suffix(".py"), stem / "__init__.py"):
                if candidate.is_file():
                    return candidate
    return None


def _app_sources(project: Project, fn: Function, expr: ast.expr) -> Iterator[tuple[Function | None, str]]:
    """Where the app handed to ASGITransport comes from: (fixture that makes it, dotted name of its maker)."""
    if not isinstance(expr, ast.Name):
        return
    name = expr.id
    for node in fn.nodes:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets) \
                and isinstance(node.value, ast.Call):
            yield None, dotted(node.value.func, fn.module.aliases)
    if name in fn.module.aliases:
        yield None, fn.module.aliases[name]
    fixture = project.fixture(name, fn.module) if name in fn.params else None
    if fixture:
        yield fixture, ""
        for node in fixture.nodes:
            if isinstance(node, ast.Call):
                yield fixture, dotted(node.func, fixture.module.aliases)
            elif isinstance(node, (ast.Return, ast.Yield)) and isinstance(node.value, ast.Name) \
                    and node.value.id in fixture.module.aliases:
                yield fixture, fixture.module.aliases[node.value.id]


def asgitransport_no_lifespan(project: Project, config: PytestConfig) -> Iterator[Finding]:
    for fn in _functions(project):
        for call in fn.calls:
            if not dotted(call.func, fn.module.aliases).endswith("ASGITransport") or _runs_lifespan(fn):
                continue
            app = keyword(call, "app") or (call.args[0] if call.args else None)
            if app is None or isinstance(app, ast.Attribute):  # manager.app: the lifespan manager's app
                continue
            sources = list(_app_sources(project, fn, app))
            if any(fixture and _runs_lifespan(fixture) for fixture, _ in sources):
                continue
            files = {path for _, maker in sources if maker and (path := _source_file(project, maker))}
            inline = any(maker.endswith(("FastAPI", "Starlette")) for _, maker in sources) and _module_has_lifespan(fn.module.path)
            if inline or any(_module_has_lifespan(path) for path in files):
                yield _finding("asgitransport-no-lifespan", fn, call, fn.module)


# ---------------------------------------------------------------- pytest-asyncio: loops and fixtures

def event_loop_fixture(project: Project, config: PytestConfig) -> Iterator[Finding]:
    for fn in _functions(project):
        if fn.fixture and fn.fixture.name == "event_loop":
            yield _finding("event-loop-fixture", fn, fn.node, fn.module, "defines it")
        if "event_loop" in fn.params:
            yield _finding("event-loop-fixture", fn, fn.node, fn.module, "requests it")
        for call in fn.calls + _decorator_calls(fn):
            if last_name(call.func) == "usefixtures" and any(constant_str(a) == "event_loop" for a in call.args):
                yield _finding("event-loop-fixture", fn, call, fn.module, "requests it with usefixtures")


def _decorator_calls(fn: Function) -> list[ast.Call]:
    return [d for d in fn.node.decorator_list if isinstance(d, ast.Call)]


def get_event_loop_in_fixture(project: Project, config: PytestConfig) -> Iterator[Finding]:
    for fn in _functions(project):
        if fn.kind == "fixture" and not fn.is_async:
            for call in fn.calls:
                if dotted(call.func, fn.module.aliases) == "asyncio.get_event_loop":
                    yield _finding("get-event-loop-in-fixture", fn, call, fn.module)


def _uses_anyio(project: Project, config: PytestConfig) -> bool:
    """AnyIO's pytest plugin runs async fixtures under a plain @pytest.fixture for anyio-marked tests."""
    if "anyio_mode" in config.options:
        return True
    for module in project.modules:
        if "anyio_backend" in module.fixtures or any(
                isinstance(n, ast.Attribute) and n.attr == "anyio" and dotted(n.value, module.aliases) == "pytest.mark"
                for n in module.nodes):
            return True
    return False


def async_fixture_plain_decorator(project: Project, config: PytestConfig) -> Iterator[Finding]:
    if config.asyncio_mode != "strict" or _uses_anyio(project, config):
        return
    for fn in _functions(project):
        if fn.fixture and fn.is_async and not fn.fixture.by_pytest_asyncio:
            yield _finding("async-fixture-plain-decorator", fn, fn.node, fn.module)


def _rank(scope: str | None) -> int:
    return SCOPES.index(scope) if scope in SCOPES else 0


def _runs_async(fn: Function, config: PytestConfig) -> bool:
    return fn.is_async and fn.fixture is not None and (fn.fixture.by_pytest_asyncio or config.asyncio_mode == "auto")


def _fixture_loop_scope(fn: Function, config: PytestConfig) -> str:
    assert fn.fixture
    return fn.fixture.loop_scope or config.fixture_loop_scope or fn.fixture.scope


def _asyncio_mark_scope(marks: list[ast.expr], module: Module) -> tuple[bool, str | None]:
    """(an asyncio mark is there, its loop_scope) for the first asyncio mark among `marks`."""
    for mark in marks:
        for node in (mark.elts if isinstance(mark, (ast.List, ast.Tuple)) else [mark]):
            if dotted(node, module.aliases) == "pytest.mark.asyncio":
                call = node if isinstance(node, ast.Call) else None
                return True, constant_str(keyword(call, "loop_scope") or keyword(call, "scope")) if call else None
    return False, None


def _pytestmark(body: list[ast.stmt]) -> list[ast.expr]:
    return [node.value for node in body if isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets)]


def test_loop_scope(fn: Function, config: PytestConfig) -> str:
    """The loop a test runs on: its nearest asyncio mark's loop_scope, else the configured default."""
    levels = [fn.node.decorator_list]
    if fn.cls:
        levels += [fn.cls.decorator_list, _pytestmark(fn.cls.body)]
    levels.append(_pytestmark(fn.module.tree.body))
    for marks in levels:
        found, scope = _asyncio_mark_scope(marks, fn.module)
        if found:
            return scope or config.test_loop_scope
    return config.test_loop_scope


def loop_scope_mismatch(project: Project, config: PytestConfig) -> Iterator[Finding]:
    for fn in _functions(project):
        if fn.fixture and _runs_async(fn, config):
            loop = _fixture_loop_scope(fn, config)
            if _rank(fn.fixture.scope) > _rank(loop):
                yield _finding("loop-scope-mismatch", fn, fn.node, fn.module,
                               f"`scope=\"{fn.fixture.scope}\"` runs on a {loop} loop: ScopeMismatch")
        if fn.kind == "test" and fn.is_async:
            mine = test_loop_scope(fn, config)
            for name in fn.params:
                fixture = project.fixture(name, fn.module)
                if fixture and fixture.fixture and fixture.fixture.loop_scope and _runs_async(fixture, config) \
                        and _rank(fixture.fixture.loop_scope) > _rank(mine):
                    yield _finding("loop-scope-mismatch", fn, fn.node, fn.module,
                                   f"runs on a {mine} loop; fixture `{name}` lives on the {fixture.fixture.loop_scope} loop")
    default = config.fixture_loop_scope
    if default in SCOPES and _rank(default) > _rank(config.test_loop_scope) and _uses_asyncio(project, config):
        yield Finding("loop-scope-mismatch", _config_name(project, config), config.line, "",
                      f"async fixtures default to the {default} loop while tests run on "
                      f"{config.test_loop_scope} loops")


def _config_name(project: Project, config: PytestConfig) -> str:
    if config.path is None:
        return "(no pytest configuration file)"
    try:
        return config.path.relative_to(project.root).as_posix()
    except ValueError:
        return str(config.path)


def _uses_asyncio(project: Project, config: PytestConfig) -> bool:
    """Does the suite run on pytest-asyncio? Only then do its settings matter."""
    if any(key.startswith("asyncio_") for key in config.options) or config.addopt("--asyncio-mode"):
        return True
    for module in project.modules:
        if any(name.startswith("pytest_asyncio") for name in (*module.aliases.values(), *module.aliases)) or any(
                isinstance(n, ast.Import) and any(a.name == "pytest_asyncio" for a in n.names) for n in module.tree.body):
            return True
        if any(isinstance(n, ast.Attribute) and n.attr == "asyncio" and dotted(n.value, module.aliases) == "pytest.mark"
               for n in module.nodes):
            return True
    return False


def no_default_fixture_loop_scope(project: Project, config: PytestConfig) -> Iterator[Finding]:
    if config.fixture_loop_scope is None and _uses_asyncio(project, config):
        yield Finding("no-default-fixture-loop-scope", _config_name(project, config), config.line, "")


def warnings_not_errors(project: Project, config: PytestConfig) -> Iterator[Finding]:
    has_async_tests = any(fn.kind == "test" and fn.is_async for fn in _functions(project))
    if has_async_tests and not config.warnings_as_errors:
        yield Finding("warnings-not-errors", _config_name(project, config), config.line, "")


# ---------------------------------------------------------------- mocks and dependency overrides

def _mock_kind(node: ast.expr, module: Module) -> str:
    """"sync", "async" or "" for an expression that builds a mock."""
    if not isinstance(node, ast.Call):
        return ""
    name = last_name(node.func)
    root = dotted(node.func, module.aliases)
    if name == "AsyncMock":
        return "async"
    if name in ("Mock", "MagicMock") and (root.startswith(("unittest.mock.", "mock.", "mocker.")) or root == name):
        if any(k.arg in ("spec", "spec_set", "wraps") for k in node.keywords) or node.args:
            return ""  # a spec makes async methods AsyncMocks
        return "sync"
    return ""


def _bindings(nodes: list[ast.AST], module: Module) -> dict[str, tuple[str, ast.AST]]:
    """Targets (`m`, `self.repo`, `svc.fetch`) bound to a new mock, with the kind of mock."""
    bound: dict[str, tuple[str, ast.AST]] = {}
    for node in nodes:
        if isinstance(node, ast.Assign) and (kind := _mock_kind(node.value, module)):
            for target in node.targets:
                if (name := dotted(target, {})):
                    bound[name] = (kind, node)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if isinstance(item.context_expr, ast.Call) and item.optional_vars is not None \
                        and last_name(keyword(item.context_expr, "new_callable") or ast.Name("")) == "AsyncMock":
                    bound[dotted(item.optional_vars, {})] = ("async", node)
    return bound


def _fn_bindings(fn: Function) -> dict[str, tuple[str, ast.AST]]:
    """_bindings of a function's body, computed once: three rules ask for it."""
    if "_mocks" not in fn.__dict__:
        fn.__dict__["_mocks"] = _bindings(fn.nodes, fn.module)
    return fn.__dict__["_mocks"]


def _assigned(nodes: list[ast.AST]) -> set[str]:
    return {dotted(t, {}) for n in nodes if isinstance(n, ast.Assign) for t in n.targets}


def sync_mock_awaited(project: Project, config: PytestConfig) -> Iterator[Finding]:
    for fn in _functions(project):
        mocks = {name for name, (kind, _) in _fn_bindings(fn).items() if kind == "sync"}
        if not mocks:
            continue
        assigned = _assigned(fn.nodes)
        for _, call in _awaited_calls(fn):
            target = dotted(call.func, {})
            root = next((m for m in mocks if target == m or target.startswith(m + ".")), None)
            if root is None or any(a == target or a.startswith(target + ".") for a in assigned - {root}):
                continue  # the awaited attribute was given its own value (an AsyncMock, a future...)
            yield _finding("sync-mock-awaited", fn, call, fn.module, f"`{root}` is a plain mock")


def _overrides_target(node: ast.expr) -> bool:
    return isinstance(node, ast.Subscript) and last_name(node.value) == "dependency_overrides"


def asyncmock_override(project: Project, config: PytestConfig) -> Iterator[Finding]:
    for fn in _functions(project):
        mocks = {name for name, (kind, _) in _fn_bindings(fn).items() if kind == "async"}
        for node in fn.nodes:
            if isinstance(node, ast.Assign) and any(_overrides_target(t) for t in node.targets):
                value = node.value
                if _mock_kind(value, fn.module) == "async" or (isinstance(value, ast.Name) and value.id in mocks):
                    yield _finding("asyncmock-override", fn, node, fn.module)


def _override_writes(fn: Function) -> list[ast.AST]:
    writes: list[ast.AST] = []
    for node in fn.nodes:
        if isinstance(node, ast.Assign):
            if any(_overrides_target(t) for t in node.targets):
                writes.append(node)
            elif any(last_name(t) == "dependency_overrides" for t in node.targets) and \
                    isinstance(node.value, ast.Dict) and node.value.keys:
                writes.append(node)
        elif isinstance(node, ast.Call) and last_name(node.func) == "update" and \
                isinstance(node.func, ast.Attribute) and last_name(node.func.value) == "dependency_overrides":
            writes.append(node)
    return writes


def _override_resets(nodes: list[ast.AST]) -> list[ast.AST]:
    resets: list[ast.AST] = []
    for node in nodes:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("clear", "pop") \
                and last_name(node.func.value) == "dependency_overrides":
            resets.append(node)
        elif isinstance(node, ast.Delete) and any(_overrides_target(t) for t in node.targets):
            resets.append(node)
        elif isinstance(node, ast.Assign) and any(last_name(t) == "dependency_overrides" for t in node.targets) \
                and not (isinstance(node.value, ast.Dict) and node.value.keys):
            resets.append(node)  # `= {}`, or `= saved`: a copy taken earlier, put back
    return resets


def _in_finally(fn: Function) -> set[int]:
    inside: set[int] = set()
    for node in fn.nodes:
        if isinstance(node, ast.Try):
            for stmt in node.finalbody:
                inside.update(id(n) for n in (stmt, *walk_body(stmt)))
    return inside


def _after_yield(fn: Function) -> set[int]:
    """Nodes of a generator fixture's statements that run after its (first top-level) yield: the teardown."""
    after: set[int] = set()
    seen_yield = False
    for stmt in fn.node.body:
        if seen_yield:
            after.update(id(n) for n in (stmt, *walk_body(stmt)))
        if any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in (stmt, *walk_body(stmt))):
            seen_yield = True
            if isinstance(stmt, (ast.With, ast.AsyncWith, ast.Try)):
                after.update(id(n) for n in walk_body(stmt))  # a yield inside a block: its cleanup follows in it
    return after


def _fresh_app(project: Project, fn: Function, write: ast.AST) -> bool:
    """True when the overridden app is made for this test only, so its overrides die with it."""
    target = write.targets[0] if isinstance(write, ast.Assign) else write.func.value  # type: ignore[attr-defined]
    base = target.value if isinstance(target, ast.Subscript) else target
    root = base
    while isinstance(root, ast.Attribute):
        root = root.value
    if not isinstance(root, ast.Name):
        return False
    maker = {dotted(n.value.func, fn.module.aliases) for n in fn.nodes if isinstance(n, ast.Assign)
             and isinstance(n.value, ast.Call) and any(isinstance(t, ast.Name) and t.id == root.id for t in n.targets)}
    if any("app" in m.rsplit(".", 1)[-1].lower() for m in maker):
        return True
    fixture = project.fixture(root.id, fn.module) if root.id in fn.params else None
    return bool(fixture and fixture.fixture and fixture.fixture.scope == "function" and any(
        last_name(c.func) == "FastAPI" or "app" in last_name(c.func).lower() for c in fixture.calls))


def override_not_cleared(project: Project, config: PytestConfig) -> Iterator[Finding]:
    for module in project.modules:
        if module.is_conftest:
            continue  # a conftest sets session-wide defaults on purpose; a test module's import-time override leaks
        for node in module.tree.body:
            if isinstance(node, ast.Assign) and any(_overrides_target(t) for t in node.targets):
                yield _finding("override-not-cleared", None, node, module,
                               "set when the module is imported, for every test that runs after it")
    for fn in _functions(project):
        if fn.kind not in ("test", "fixture"):
            continue
        writes = _override_writes(fn)
        if not writes:
            continue
        if any(f.fixture and _override_resets(f.nodes) for f in _fixture_chain(project, fn)):
            continue  # a fixture around it resets the overrides (in its teardown, or before every test that uses it)
        resets = {id(r) for r in _override_resets(fn.nodes)}
        safe = _after_yield(fn) if fn.kind == "fixture" else _in_finally(fn)
        for write in writes:
            if resets & safe or _fresh_app(project, fn, write):
                continue
            detail = ("removed only at the end of the test, which a failure skips" if resets
                      else "never removed")
            yield _finding("override-not-cleared", fn, write, fn.module, detail)
            break


def _returns_async_mock(fixture: Function) -> bool:
    """A fixture whose value is an AsyncMock it made (`m = AsyncMock(); ...; return m`)."""
    mocks = {name for name, (kind, _) in _fn_bindings(fixture).items() if kind == "async"}
    return any(isinstance(n, (ast.Return, ast.Yield)) and n.value is not None and
               (_mock_kind(n.value, fixture.module) == "async" or dotted(n.value, {}) in mocks) for n in fixture.nodes)


def called_not_awaited(project: Project, config: PytestConfig) -> Iterator[Finding]:
    for module in project.modules:
        module_mocks = _bindings(list(module.tree.body), module)
        for fn in module.functions:
            mocks = {n for n, (kind, _) in {**module_mocks, **_fn_bindings(fn)}.items() if kind == "async"}
            mocks |= {p for p in fn.params if (f := project.fixture(p, module)) and f.fixture and _returns_async_mock(f)}
            for call in fn.calls:
                if not (isinstance(call.func, ast.Attribute) and call.func.attr in CALL_CHECKS):
                    continue
                checked = dotted(call.func.value, {})  # an AsyncMock's attributes are AsyncMocks too:
                if any(checked == m or checked.startswith(m + ".") for m in mocks):
                    yield _finding("called-not-awaited", fn, call, module, f"`{ast.unparse(call.func)}`")


# ---------------------------------------------------------------- tests that prove nothing, races left to luck

def _asserting_helpers(project: Project) -> set[str]:
    """Names of helper functions that assert, directly or through another such helper."""
    helpers = [fn for fn in _functions(project) if fn.kind == "helper"]
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for fn in helpers:
            if fn.node.name not in found and _asserts(fn.nodes, found):
                found.add(fn.node.name)
                changed = True
    return found


def _asserts(nodes: list[ast.AST], helpers: set[str]) -> bool:
    for node in nodes:
        if isinstance(node, ast.Assert):
            return True
        if isinstance(node, ast.Raise) and node.exc is not None and "AssertionError" in ast.unparse(node.exc):
            return True
        if isinstance(node, ast.Call):
            name = last_name(node.func)
            if name.startswith(("assert", "expect", "check_", "verify_", "validate_response", "call_and_validate",
                                "raise_for_status")) \
                    or "assert" in name.lower() or name in helpers:
                return True
            if isinstance(node.func, ast.Attribute) and name in ("raises", "warns", "fail", "deprecated_call") \
                    and last_name(node.func.value) == "pytest":
                return True
            if name in ("raises", "warns", "fail", "deprecated_call") and isinstance(node.func, ast.Name):
                return True
    return False


def _skipped(fn: Function) -> bool:
    return any("skip" in ast.unparse(d) or "xfail" in ast.unparse(d) for d in fn.node.decorator_list)


def no_assertion(project: Project, config: PytestConfig) -> Iterator[Finding]:
    helpers = _asserting_helpers(project)
    for fn in _functions(project):
        # The whole test, nested functions included: a test may assert inside a callback it defines.
        if fn.kind == "test" and not _skipped(fn) and not _asserts(fn.nodes, helpers) \
                and not _asserts(list(ast.walk(fn.node)), helpers):
            yield _finding("no-assertion", fn, fn.node, fn.module)


def _gates(module: Module) -> bool:
    return any(isinstance(n, ast.Call) and last_name(n.func) in GATES for n in module.nodes)


def _same_calls(args: list[ast.expr]) -> bool:
    """The same action started several times at once: `*(post() for _ in range(5))`, or one call written twice.

    Calls without arguments (`queue.get()`, `event.wait()`) collect results; they are not actions that race.
    """
    for arg in args:  # `*(post() for _ in range(5))`: the loop variable does not change the call
        if isinstance(arg, ast.Starred) and isinstance(arg.value, (ast.GeneratorExp, ast.ListComp)):
            loop_names = {n.id for g in arg.value.generators for n in ast.walk(g.target) if isinstance(n, ast.Name)}
            if not any(isinstance(n, ast.Name) and n.id in loop_names for n in ast.walk(arg.value.elt)):
                return True
    actions = [ast.unparse(a) for a in args if isinstance(a, ast.Call) and (a.args or a.keywords)]
    return len(actions) > len(set(actions))


def gather_race(project: Project, config: PytestConfig) -> Iterator[Finding]:
    for module in project.modules:
        if _gates(module) or any(_gates(c) for c in project.conftests_for(module)):
            continue
        for fn in module.functions:
            if not _drives_tests(fn):
                continue
            for call in fn.calls:
                if dotted(call.func, module.aliases) in ("asyncio.gather", "anyio.gather") and _same_calls(call.args):
                    yield _finding("gather-race", fn, call, module)


# ---------------------------------------------------------------- state shared between tests

_MUTABLE_CALLS = {"dict", "list", "set", "defaultdict", "OrderedDict", "Counter", "deque"}


def _mutable_globals(module: Module) -> set[str]:
    return {name for name, value in module.constants.items()
            if isinstance(value, (ast.Dict, ast.List, ast.Set))
            or (isinstance(value, ast.Call) and last_name(value.func) in _MUTABLE_CALLS)}


def shared_module_state(project: Project, config: PytestConfig) -> Iterator[Finding]:
    for module in project.modules:
        shared = _mutable_globals(module)
        if not shared:
            continue
        for fn in module.functions:
            if fn.kind != "test":
                continue
            for node in fn.nodes:
                name = _mutated_global(node)
                if name in shared and _read_elsewhere(module, fn, name):
                    yield _finding("shared-module-state", fn, node, module, f"writes `{name}`")
                    break


def _mutated_global(node: ast.AST) -> str:
    if isinstance(node, (ast.Assign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
                return target.value.id
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MUTATORS \
            and isinstance(node.func.value, ast.Name):
        return node.func.value.id
    return ""


def _read_elsewhere(module: Module, writer: Function, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for fn in module.functions if fn is not writer for n in fn.nodes)


def shared_fixture_mutation(project: Project, config: PytestConfig) -> Iterator[Finding]:
    for fn in _functions(project):
        if fn.kind != "test":
            continue
        restored = _in_finally(fn)
        for node in fn.nodes:
            if not isinstance(node, ast.Assign) or id(node) in restored:
                continue
            for target in node.targets:
                if not isinstance(target, ast.Attribute):
                    continue
                root = target
                while isinstance(root, ast.Attribute):
                    root = root.value
                if not (isinstance(root, ast.Name) and root.id in fn.params):
                    continue
                fixture = project.fixture(root.id, fn.module)
                if fixture and fixture.fixture and fixture.fixture.scope != "function":
                    yield _finding("shared-fixture-mutation", fn, node, fn.module,
                                   f"sets `{ast.unparse(target)}` on the {fixture.fixture.scope}-scoped `{root.id}`")


RULE_FUNCTIONS: tuple[Rule, ...] = (
    sleeps_and_polls, unbounded_waits, asyncclient_app, testclient_in_async, asgitransport_no_lifespan,
    event_loop_fixture, get_event_loop_in_fixture, async_fixture_plain_decorator, loop_scope_mismatch,
    no_default_fixture_loop_scope, warnings_not_errors, sync_mock_awaited, asyncmock_override, override_not_cleared,
    called_not_awaited, no_assertion, gather_race, shared_module_state, shared_fixture_mutation,
)


def check(project: Project, config: PytestConfig) -> list[Finding]:
    return [finding for rule in RULE_FUNCTIONS for finding in rule(project, config)]
