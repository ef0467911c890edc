"""Facts about a failing test's code that some diagnoses need, read from its syntax tree.

Only code counts: a docstring, a comment or a string that mentions `time.sleep` or `TestClient`
is not a call to it. Each check takes the sources of the test function and of the fixtures it
uses (TestResult.failure["code"]) and answers yes or no.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator

STREAM_READS = {"stream", "aiter_lines", "aiter_bytes", "aiter_text", "aiter_raw"}


def _trees(sources: list[str]) -> Iterator[ast.AST]:
    for source in sources:
        try:
            yield ast.parse(source)
        except SyntaxError:
            continue


def _own_nodes(function: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a function's own body, not of the functions and lambdas defined inside it
    (a plain `def` inside an async test runs wherever it is passed, e.g. in a thread)."""
    stack = list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            stack.extend(ast.iter_child_nodes(node))


def _called_name(call: ast.Call) -> str:
    """`time.sleep`, `TestClient`, `client.stream`: the dotted name a call is made through."""
    parts, target = [], call.func
    while isinstance(target, ast.Attribute):
        parts.append(target.attr)
        target = target.value
    if isinstance(target, ast.Name):
        parts.append(target.id)
    return ".".join(reversed(parts))


def _calls_in_async_functions(sources: list[str]) -> Iterator[str]:
    for tree in _trees(sources):
        for function in ast.walk(tree):
            if isinstance(function, ast.AsyncFunctionDef):
                yield from (_called_name(n) for n in _own_nodes(function) if isinstance(n, ast.Call))


def _calls(sources: list[str]) -> Iterator[str]:
    for tree in _trees(sources):
        yield from (_called_name(n) for n in ast.walk(tree) if isinstance(n, ast.Call))


def testclient_in_async_def(sources: list[str]) -> bool:
    """A TestClient made inside an `async def` (a test or a fixture)."""
    return any(name.split(".")[-1] == "TestClient" for name in _calls_in_async_functions(sources))


def time_sleep_in_async_def(sources: list[str]) -> bool:
    """`time.sleep(...)` called in the body of an `async def`: it blocks the event loop."""
    return any(name == "time.sleep" for name in _calls_in_async_functions(sources))


def reads_a_stream(sources: list[str]) -> bool:
    """The test streams a response (`client.stream(...)`, `response.aiter_lines()`, ...)."""
    return any(name.split(".")[-1] in STREAM_READS and "." in name for name in _calls(sources))


def uses_asgi_transport(sources: list[str]) -> bool:
    return any(name.split(".")[-1] == "ASGITransport" for name in _calls(sources))


CHECKS: dict[str, Callable[[list[str]], bool]] = {
    "testclient-in-async-def": testclient_in_async_def,
    "time-sleep-in-async-def": time_sleep_in_async_def,
    "reads-a-stream": reads_a_stream,
    "uses-asgi-transport": uses_asgi_transport,
}
