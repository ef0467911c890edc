"""What a failing test raised, as data: a pytest plugin that the graded child runs.

Diagnoses must rest on the exception itself, never on the report's text (which also holds
the learner's source, docstrings and comments). So each failure is recorded as its type, its
message, its cause and context chain, the leaves of an exception group, and the frames it
passed through, each frame classified as the app's, a library's, a test file's or the
learner's own module.
"""

from __future__ import annotations

import inspect
import os
import sys
import textwrap
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import httpx

MAX_MESSAGE = 2000  # characters of a message kept: enough for any rule, bounded for the JSON
MAX_FRAMES = 40  # innermost frames kept per exception
MAX_DEPTH = 6  # causes, contexts and nested groups followed
MAX_LEAVES = 20  # sub-exceptions kept per group


def qualified_name(kind: type) -> str:
    """`RuntimeError`, `httpx.ConnectError`: builtins need no module (nor pytest's outcomes, such as
    `Failed`, which pytest itself files under builtins)."""
    module = kind.__module__
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"


class FrameClassifier:
    """Says whose code a file is, relative to the workspace pytest runs in (cached: a traceback
    repeats the same few files, and this runs inside the test's time budget)."""

    def __init__(self, root: Path) -> None:
        self.root = os.path.abspath(root) + os.sep
        self._seen: dict[str, tuple[str, str]] = {}

    def describe(self, filename: str, line: int, function: str) -> dict[str, Any]:
        if filename not in self._seen:
            self._seen[filename] = self._classify(filename)
        kind, shown = self._seen[filename]
        return {"kind": kind, "file": shown, "line": line, "function": function}

    def _classify(self, filename: str) -> tuple[str, str]:
        if filename.startswith("<"):
            return "library", filename
        path = os.path.abspath(filename)
        if not path.startswith(self.root) or f"{os.sep}site-packages{os.sep}" in path:
            return "library", _library_path(Path(path))
        shown = path[len(self.root):].replace(os.sep, "/")
        name = shown.rsplit("/", 1)[-1]
        if shown.startswith("app/"):
            return "app", shown
        if name == "conftest.py" or name.startswith("test_") or name.endswith("_test.py"):
            return "test", shown
        return "learner", shown


def _library_path(path: Path) -> str:
    """`httpx/_client.py`, `asyncio/timeouts.py`: the path inside site-packages or the standard library."""
    parts = path.parts
    if "site-packages" in parts:
        return "/".join(parts[parts.index("site-packages") + 1:])
    for index in range(len(parts) - 1, -1, -1):
        if parts[index].startswith("python3"):
            return "/".join(parts[index + 1:])
    return path.as_posix()


def _frames(tb: TracebackType | None, classifier: FrameClassifier) -> tuple[list[dict[str, Any]], TracebackType | None]:
    """The traceback's frames, outermost first, and its innermost entry."""
    frames, last = [], None
    while tb is not None:
        code = tb.tb_frame.f_code
        frames.append(classifier.describe(code.co_filename, tb.tb_lineno, code.co_name))
        last, tb = tb, tb.tb_next
    return frames[-MAX_FRAMES:], last


def _facts(error: BaseException, last: TracebackType | None) -> dict[str, Any]:
    """What the raising frame knows that the message does not say: for a mock's failed `assert_*`
    check, whether the mock was called at all (never reached, or called without await); for a
    failed `assert`, the HTTP responses it looked at (their status and the start of their body)."""
    if last is None:
        return {}
    frame = last.tb_frame
    # Looked up, not imported: a mock or a response can only exist once its module is loaded, and
    # importing httpx (with its command-line extras) in every grader cost 0.1 s before the first run.
    mock_module, httpx_module = sys.modules.get("unittest.mock"), sys.modules.get("httpx")
    if (mock_module and frame.f_code.co_name.startswith("assert_")
            and isinstance(frame.f_locals.get("self"), mock_module.NonCallableMock)):
        mock = frame.f_locals["self"]
        return {"mock_called": mock.call_count > 0, "mock_awaited": getattr(mock, "await_count", 0) > 0}
    if httpx_module and isinstance(error, AssertionError):
        responses = [value for value in frame.f_locals.values() if isinstance(value, httpx_module.Response)]
        return {"responses": [_response_summary(r) for r in responses[:5]]} if responses else {}
    return {}


def _response_summary(response: httpx.Response) -> str:
    """`422 {"detail": ...}`: the status, then the body if it was read (a stream may not be)."""
    try:
        body = response.text[:MAX_MESSAGE]
    except sys.modules["httpx"].ResponseNotRead:
        body = ""
    return f"{response.status_code} {body}"


def describe(error: BaseException, classifier: FrameClassifier, depth: int = 0) -> dict[str, Any]:
    """One exception as plain data (JSON-ready), with its chain and group leaves."""
    frames, last = _frames(error.__traceback__, classifier)
    kind = type(error)
    record: dict[str, Any] = {
        "type": qualified_name(kind),
        "mro": [qualified_name(k) for k in kind.__mro__ if k is not object],
        "message": _message(error)[:MAX_MESSAGE],
        "frames": frames,
        "facts": _facts(error, last),
    }
    if isinstance(error, Warning):
        record["warning"] = True  # a warning that filterwarnings = error turned into this exception
    if depth >= MAX_DEPTH:
        return record
    if isinstance(error, BaseExceptionGroup):
        record["exceptions"] = [describe(sub, classifier, depth + 1) for sub in error.exceptions[:MAX_LEAVES]]
    if error.__cause__ is not None:
        record["cause"] = describe(error.__cause__, classifier, depth + 1)
    elif error.__context__ is not None and not error.__suppress_context__:
        record["context"] = describe(error.__context__, classifier, depth + 1)
    return record


def _message(error: BaseException) -> str:
    try:
        if isinstance(error, BaseExceptionGroup):
            return error.message
        if isinstance(error, pytest.FixtureLookupError):  # its str() is a tuple: say what pytest says
            return error.msg or f"fixture '{error.argname}' not found"
        return str(error)
    except Exception:  # noqa: BLE001 - a broken __str__ must not break grading
        return f"<{type(error).__name__} whose message could not be read>"


def _unwrapped(error: BaseException) -> BaseException:
    """pytest wraps an import failure as CollectError `from` the real exception: keep the real one."""
    if isinstance(error, pytest.Collector.CollectError) and error.__cause__ is not None:
        return error.__cause__
    return error


def _code_of(item: pytest.Item, classifier: FrameClassifier) -> list[str]:
    """The test function's source, then each fixture it uses that the workspace defines: what
    rules that need the test's code parse (as code, never as text)."""
    functions = [getattr(item, "function", None)]
    info = getattr(item, "_fixtureinfo", None)
    for definitions in (info.name2fixturedefs.values() if info is not None else ()):
        functions += [getattr(definition, "func", None) for definition in definitions]
    sources = []
    for function in functions:
        function = inspect.unwrap(function) if function is not None else None
        code = getattr(function, "__code__", None)
        if code is None or classifier.describe(code.co_filename, 0, "")["kind"] == "library":
            continue
        try:
            source = textwrap.dedent(inspect.getsource(function))
        except (OSError, TypeError):
            continue
        if source not in sources:
            sources.append(source)
    return sources


class ExceptionCapture:
    """Records what each failing test phase and each failing collection raised."""

    def __init__(self) -> None:
        self.tests: dict[str, dict[str, Any]] = {}
        self.collection: dict[str, list[dict[str, Any]]] = {}
        self._classifier: FrameClassifier | None = None

    def pytest_configure(self, config: pytest.Config) -> None:
        self._classifier = FrameClassifier(config.rootpath)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]):
        report = yield
        if report.failed and call.excinfo is not None and self._classifier is not None:
            try:
                record = {"when": call.when, **describe(call.excinfo.value, self._classifier)}
                code = _code_of(item, self._classifier)
            except (Exception, pytest.fail.Exception):  # noqa: BLE001 - e.g. the test's timeout firing now:
                return report  # the report itself must survive; this failure just gets no diagnosis
            entry = self.tests.setdefault(item.nodeid, {"raised": [], "code": []})
            entry["raised"].append(record)
            entry["code"] = entry["code"] or code
        return report

    def pytest_exception_interact(self, node: pytest.Item | pytest.Collector, call: pytest.CallInfo[Any],
                                  report: pytest.CollectReport | pytest.TestReport) -> None:
        if isinstance(report, pytest.CollectReport) and call.excinfo is not None and self._classifier is not None:
            try:
                record = describe(_unwrapped(call.excinfo.value), self._classifier)
            except Exception:  # noqa: BLE001 - the collection error is reported anyway, just undiagnosed
                return
            self.collection.setdefault(report.nodeid, []).append({"when": "collect", **record})
