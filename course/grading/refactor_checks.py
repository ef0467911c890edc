"""Lesson 07's planted anti-patterns, found by reading the learner's code (its syntax tree, so a
string, a comment or a docstring never counts) and, for the order, by what the graded runs did.

Each rule returns Findings: the file and line, and the specific thing found, in plain words.
course.toml lists the rules (`anti_patterns`) with the fix and the lesson section to read; the
grader joins the two into one sentence per refusal.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    rule: str
    file: str
    line: int
    what: str  # the specific thing found, e.g. "`app` is a session-scoped fixture shared by every test"


Files = dict[str, ast.Module]  # file name -> its parsed code
Rule = Callable[[Files], Iterator[Finding]]

_SLEEPS = {"asyncio.sleep", "anyio.sleep", "trio.sleep", "time.sleep", "anyio.sleep_until"}
_ORDER_HOOKS = {"pytest_collection_modifyitems", "pytest_collection", "pytest_collection_finish",
                "pytest_cmdline_preparse", "pytest_load_initial_conftests", "pytest_cmdline_parse"}
_ORDER_MARKS = {"order", "run", "dependency", "first", "last", "xdist_group"}
_ORDER_WORDS = ("no:randomly", "no:random_order", "no:random-order", "no:xdist", "randomly_dont_reorganize",
                "randomly-dont-reorganize", "randomly_seed", "randomly-seed", "addopts", "random_order")
_ORDER_ATTRIBUTES = {"randomly_dont_reorganize", "randomly_seed", "set_blocked", "unregister", "randomly_reorganize"}
_MUTATING = {"append", "extend", "insert", "update", "setdefault", "pop", "popitem", "clear", "add", "remove",
             "discard", "__setitem__", "appendleft"}
_CONTAINER_CALLS = {"dict", "list", "set", "defaultdict", "OrderedDict", "Counter", "deque"}
_BOUNDS = ("timeout", "fail_after", "move_on_after", "wait_for")


def parse(sources: dict[str, str]) -> Files:
    """Parse each file; a file Python cannot read is left out (preflight has already said so)."""
    files = {}
    for name, text in sources.items():
        try:
            files[name] = ast.parse(text, filename=name)
        except SyntaxError:
            continue
    return files


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _aliases(tree: ast.Module) -> dict[str, str]:
    """Local name -> the full name it stands for: `import asyncio as aio`, `from time import sleep as nap`."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    for node in ast.walk(tree):  # one level of plain assignment: `nap = asyncio.sleep`
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            target = _resolve(node.value, names)
            if target in _SLEEPS:
                names[node.targets[0].id] = target
    return names


def _resolve(node: ast.expr, names: dict[str, str]) -> str | None:
    dotted = _dotted(node)
    if dotted is None:
        return None
    head, _, rest = dotted.partition(".")
    full = names.get(head, head)
    return f"{full}.{rest}" if rest else full


def _decorator_calls(function: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[tuple[str, ast.Call | None]]:
    for decorator in function.decorator_list:
        call = decorator if isinstance(decorator, ast.Call) else None
        name = _dotted(call.func if call else decorator) or ""
        yield name, call


def _is_fixture(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(name.endswith("fixture") for name, _ in _decorator_calls(function))


def _functions(tree: ast.Module) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    yield from (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef))


def _keyword(call: ast.Call | None, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None) if call else None


def shared_fixture_scope(files: Files) -> Iterator[Finding]:
    """A fixture whose value lives longer than one test (scope session, package, module or class)."""
    for file, tree in files.items():
        for function in _functions(tree):
            for name, call in _decorator_calls(function):
                scope = _keyword(call, "scope") if name.endswith("fixture") else None
                if scope is None:
                    continue
                value = scope.value if isinstance(scope, ast.Constant) else "dynamically"
                if value != "function":
                    yield Finding("shared-fixture-scope", file, function.lineno,
                                  f"`{function.name}` is a {value}-scoped fixture shared by every test"
                                  if value != "dynamically" else f"`{function.name}` chooses its scope at run time")


def shared_loop(files: Files) -> Iterator[Finding]:
    """Tests or fixtures run on one loop wider than the test (`loop_scope` other than function)."""
    for file, tree in files.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                scope = _keyword(node, "loop_scope")
                if scope is not None and not (isinstance(scope, ast.Constant) and scope.value == "function"):
                    value = scope.value if isinstance(scope, ast.Constant) else "a chosen"
                    yield Finding("shared-loop", file, node.lineno,
                                  f"`loop_scope={value!r}` runs tests on one {value} event loop they all share"
                                  if isinstance(scope, ast.Constant) else "`loop_scope` is chosen at run time")


def _module_containers(tree: ast.Module) -> dict[str, tuple[int, str]]:
    """Module-level names bound to a mutable container: name -> (line, what it is)."""
    found = {}
    for node in tree.body:
        value, targets = None, []
        if isinstance(node, ast.Assign):
            value, targets = node.value, node.targets
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            value, targets = node.value, [node.target]
        if isinstance(value, ast.Dict | ast.DictComp):
            kind = "dict"
        elif isinstance(value, ast.List | ast.ListComp):
            kind = "list"
        elif isinstance(value, ast.Set | ast.SetComp):
            kind = "set"
        elif isinstance(value, ast.Call) and (_dotted(value.func) or "").split(".")[-1] in _CONTAINER_CALLS:
            kind = (_dotted(value.func) or "").split(".")[-1]
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name):
                found[target.id] = (node.lineno, kind)
    return found


def module_state(files: Files) -> Iterator[Finding]:
    """A module-level variable that functions write to (or rebind with `global`): state one test
    leaves for the next."""
    for file, tree in files.items():
        containers = _module_containers(tree)
        for function in _functions(tree):
            for node in ast.walk(function):
                name = None
                if isinstance(node, ast.Global):
                    for declared in node.names:
                        yield Finding("module-state", file, node.lineno,
                                      f"`{function.name}` rebinds the module-level `{declared}` with `global`, "
                                      "state that every later test sees")
                elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store | ast.Del):
                    name = _dotted(node.value)
                elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                        and node.func.attr in _MUTATING:
                    name = _dotted(node.func.value)
                elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Subscript):
                    name = _dotted(node.target.value)
                if name in containers:
                    line, kind = containers[name]
                    yield Finding("module-state", file, node.lineno,
                                  f"`{function.name}` writes to `{name}`, a module-level {kind} (line {line}) "
                                  "that every test in the run shares")
            yield from _attribute_state(file, tree, function)


def _attribute_state(file: str, tree: ast.Module, function: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[Finding]:
    """`State.conversation_id = ...` on a module-level class or object: the same shared state, renamed."""
    shared = {t.id for n in tree.body if isinstance(n, ast.Assign | ast.AnnAssign)
              for t in (n.targets if isinstance(n, ast.Assign) else [n.target]) if isinstance(t, ast.Name)}
    shared |= {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    local = {a.arg for a in (*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs)}
    local |= {n.id for n in ast.walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    for node in ast.walk(function):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and isinstance(node.value, ast.Name) \
                and node.value.id in shared - local:
            yield Finding("module-state", file, node.lineno,
                          f"`{function.name}` sets `{ast.unparse(node)}` on the module-level `{node.value.id}`, "
                          "state that every later test sees")


def _overrides(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "dependency_overrides"


def leaked_override(files: Files) -> Iterator[Finding]:
    """Overrides are set, but no fixture removes them after its `yield` (in teardown, where a
    failing test cannot skip it)."""
    sets: list[tuple[str, int]] = []
    cleaned = False
    for file, tree in files.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store) and _overrides(node.value):
                sets.append((file, node.lineno))
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and _overrides(node):
                sets.append((file, node.lineno))  # app.dependency_overrides = {...}
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "update" \
                    and _overrides(node.func.value):
                sets.append((file, node.lineno))
        for function in _functions(tree):
            if _is_fixture(function) and _clears_after_yield(function):
                cleaned = True
    if not cleaned:
        for file, line in sets:
            yield Finding("leaked-override", file, line,
                          "this dependency override is never removed by a fixture's teardown, so it can "
                          "reach the tests that run after this one")


def _clears_after_yield(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Some statement after the fixture's `yield` (or in a `finally` around it) clears or pops the overrides."""
    seen_yield = False
    for statement in function.body:
        if seen_yield and _clears(statement):
            return True
        if any(isinstance(n, ast.Yield | ast.YieldFrom) for n in ast.walk(statement)):
            seen_yield = True
            if isinstance(statement, ast.Try | ast.With | ast.AsyncWith) and _clears_in(statement):
                return True
    return False


def _clears(statement: ast.AST) -> bool:
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in ("clear", "pop")
               and _overrides(n.func.value) for n in ast.walk(statement))


def _clears_in(statement: ast.Try | ast.With | ast.AsyncWith) -> bool:
    if isinstance(statement, ast.Try):
        return any(_clears(s) for s in statement.finalbody)
    after = False
    for inner in statement.body:
        if after and _clears(inner):
            return True
        after = after or any(isinstance(n, ast.Yield | ast.YieldFrom) for n in ast.walk(inner))
    return False


def _is_zero(call: ast.Call) -> bool:
    argument = call.args[0] if call.args else _keyword(call, "delay") or _keyword(call, "seconds")
    return isinstance(argument, ast.Constant) and argument.value == 0 and not isinstance(argument.value, bool)


def sleep_wait(files: Files) -> Iterator[Finding]:
    """A sleep used to wait: any `time.sleep`, any other sleep but `sleep(0)`, however it was
    imported or renamed, called or handed to something else to call."""
    for file, tree in files.items():
        names = _aliases(tree)
        called = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                target = _resolve(node.func, names)
                if target in _SLEEPS:
                    called.add(id(node.func))
                    if target == "time.sleep" or not _is_zero(node):
                        yield Finding("sleep-wait", file, node.lineno, f"`{ast.unparse(node)}` waits for a guess, "
                                      "not for the thing it waits for" if target != "time.sleep" else
                                      f"`{ast.unparse(node)}` blocks the whole event loop while it waits")
        skipped = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Attribute | ast.Assign)}
        for node in ast.walk(tree):  # not called here: handed on, e.g. `start_soon(asyncio.sleep, 1)`
            if isinstance(node, ast.Name | ast.Attribute) and isinstance(node.ctx, ast.Load) \
                    and id(node) not in called and id(node) not in skipped and _resolve(node, names) in _SLEEPS:
                yield Finding("sleep-wait", file, node.lineno,
                              f"`{ast.unparse(node)}` is handed on to be called later: a sleep all the same")


def _bounded(parents: list[ast.AST]) -> bool:
    """Inside `async with asyncio.timeout(...)` (or fail_after, move_on_after)."""
    for parent in parents:
        if isinstance(parent, ast.With | ast.AsyncWith):
            for item in parent.items:
                call = item.context_expr
                if isinstance(call, ast.Call) and (_dotted(call.func) or "").split(".")[-1] in _BOUNDS:
                    return True
    return False


def poll_loop(files: Files) -> Iterator[Finding]:
    """A `while` loop that awaits (polls) with no time bound around it: on the bug it waits for, it
    never ends."""
    for file, tree in files.items():
        yield from _polls(file, tree, [])


def _polls(file: str, node: ast.AST, parents: list[ast.AST]) -> Iterator[Finding]:
    if isinstance(node, ast.While) and any(isinstance(n, ast.Await) for n in ast.walk(node)) \
            and not _bounded(parents):
        yield Finding("poll-loop", file, node.lineno,
                      f"`while {ast.unparse(node.test)}:` polls with no time bound, so on the bug it waits "
                      "for it never ends")
    for child in ast.iter_child_nodes(node):
        yield from _polls(file, child, [*parents, node])


def _docstrings(tree: ast.Module) -> set[int]:
    return {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)}


def fixed_order(files: Files) -> Iterator[Finding]:
    """Anything that takes the test order (or the parallel run) out of the grader's hands: a hook
    that reorders, an order mark, or the options and plugin switches that turn random order off."""
    for file, tree in files.items():
        for function in _functions(tree):
            if function.name in _ORDER_HOOKS:
                yield Finding("fixed-order", file, function.lineno,
                              f"the hook `{function.name}` can reorder or filter the tests the grader shuffles")
        docstrings = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                dotted = _dotted(node) or ""
                mark = dotted.split(".mark.", 1)[1].split(".")[0] if ".mark." in dotted else None
                if mark in _ORDER_MARKS and dotted.startswith("pytest.mark."):
                    yield Finding("fixed-order", file, node.lineno, f"`{dotted}` pins the order of the tests")
                elif node.attr in _ORDER_ATTRIBUTES and isinstance(node.ctx, ast.Load | ast.Store):
                    yield Finding("fixed-order", file, node.lineno,
                                  f"`{ast.unparse(node)}` changes how the grader's random-order plugin runs")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                word = next((w for w in _ORDER_WORDS if w in node.value), None)
                if word:
                    yield Finding("fixed-order", file, node.lineno,
                                  f"the option `{word}` in {node.value!r} turns the grader's random order off or fixes it")
            elif isinstance(node, ast.Name) and node.id in ("pytest_plugins",) and isinstance(node.ctx, ast.Store):
                yield Finding("fixed-order", file, node.lineno, "`pytest_plugins` loads plugins the grader does not run")


RULES: dict[str, Rule] = {
    "shared-fixture-scope": shared_fixture_scope, "shared-loop": shared_loop, "module-state": module_state,
    "leaked-override": leaked_override, "sleep-wait": sleep_wait, "poll-loop": poll_loop, "fixed-order": fixed_order,
}


def find(sources: dict[str, str], rules: list[str]) -> list[Finding]:
    """Every finding of the named rules in `sources` (file name -> text), in file and line order."""
    files = parse(sources)
    found = {(f.rule, f.file, f.line, f.what): f for rule in rules for f in RULES[rule](files)}
    return sorted(found.values(), key=lambda f: (f.file, f.line, f.rule))


def orders_vary(orders: list[list[str]]) -> bool:
    """Whether the random-order runs really ran the tests in different orders. With four tests or
    more, five shuffles giving one order happen by chance less than once in 10^5 gradings."""
    distinct = {tuple(order) for order in orders if order}
    tests = max((len(order) for order in orders), default=0)
    return len(distinct) > 1 or tests < 4 or len(orders) < 2
