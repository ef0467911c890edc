"""Every command the course prints works exactly as printed, and the learner's commands behave.

The commands are collected from what the CLI prints and from the course's own text (code,
README, docs, lessons), then checked against the Makefile's targets and the CLI's parser; the
ones a learner is sent to by the grader are run for real.
"""

from __future__ import annotations

import io
import os
import queue
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from course import cli
from course.checks import verify
from course.grading import report
from course.learner import quiz
from course.metadata import load
from course.paths import ROOT
from tests.test_engine_parts import RECALL

MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")
TARGETS = set(re.findall(r"^([a-z][\w-]*):", MAKEFILE, re.M))
MAKE_VARIABLES = set(re.findall(r"\$\((?:or \$\()?([A-Z_]+)\)", MAKEFILE)) | set(re.findall(r"^([A-Z_]+) \?=", MAKEFILE, re.M))
COMMAND = re.compile(r"`((?:make|python -m course|\.venv/(?:bin|Scripts)/python -m course)(?:\s[^`]*)?)`")
TEXTS = [*sorted((ROOT / "course").glob("*.py")), *sorted((ROOT / "course").glob("*.toml")), ROOT / "README.md",
         *sorted((ROOT / "docs").rglob("*.md")), *sorted((ROOT / "lessons").glob("*.md"))]


def _recipe(target: str) -> str:
    match = re.search(rf"^{re.escape(target)}:.*\n((?:\t.*\n)+)", MAKEFILE, re.M)
    return match.group(1) if match else ""


def _course_argv(target: str, variables: dict[str, str]) -> list[str] | None:
    """What `make target VAR=...` passes to `python -m course`, or None for targets that run something else."""
    call = re.search(r"-m course (\w+)", _recipe(target))
    if call is None:
        return None
    argv = [call.group(1)]
    for variable in ("LESSON", "PROJECT"):  # the make variables a recipe passes on as an argument
        if f"$({variable})" in _recipe(target) and variables.get(variable):
            argv.append(variables[variable])
    return argv + shlex.split(variables.get("ARGS", ""))


def problems_with(command: str) -> list[str]:
    """Why `command` would not work as printed (empty: it would)."""
    command = re.sub(r"\{[^}]*\}", "4", command)  # an f-string's placeholders, e.g. {lesson.number}
    command = re.sub(r"\s[<>]\s*\S+", "", command)  # a shell redirection: `make reset LESSON=1 < /dev/null`
    if re.search(r"<\w+>|\.\.\.|…", command):
        return []  # a pattern, not a command: `python -m course <command>`, `python -m course ...`
    words = shlex.split(re.sub(r"\b[NS]\b", "4", command))
    if words[0] == "make":
        variables = dict(word.split("=", 1) for word in words[1:] if "=" in word)
        targets = [word for word in words[1:] if "=" not in word]
        problems = [f"{command}: make has no target {t}" for t in targets if t not in TARGETS]
        problems += [f"{command}: the Makefile never reads {v}" for v in variables if v not in MAKE_VARIABLES]
        for target in (t for t in targets if t in TARGETS):
            argv = _course_argv(target, variables)
            if argv is not None and (variables.get("LESSON") or "$(LESSON)" not in _recipe(target)):
                problems += _parse_problems(command, argv)
        return problems
    argv = words[words.index("course") + 1:]
    return _parse_problems(command, argv) if argv else []


def _parse_problems(command: str, argv: list[str]) -> list[str]:
    try:
        cli.build_parser().parse_args(argv)
    except SystemExit:
        return [f"{command}: `python -m course {' '.join(argv)}` is not a valid command"]
    return []


def _printed_by_the_cli() -> list[str]:
    """The next steps the grader prints after grading a lesson with bugs, done and not done."""
    lesson = next(lesson for lesson in load().lessons if lesson.bugs)
    texts = [report.next_step(SimpleNamespace(lesson=lesson, complete=done), for_solutions=False)  # type: ignore[arg-type]
             for done in (True, False)]
    return [command for text in texts for command in re.findall(r"`?(make \w+ LESSON=\d+)", text)]


def test_the_grader_points_to_make_commands_that_exist() -> None:
    printed = _printed_by_the_cli()
    assert any(command.startswith("make bugs LESSON=") for command in printed), printed
    assert [p for command in printed for p in problems_with(command)] == []


@pytest.mark.parametrize("path", TEXTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_command_the_course_shows_exists(path: Path) -> None:
    commands = COMMAND.findall(path.read_text(encoding="utf-8"))
    assert [p for command in commands for p in problems_with(command)] == []


def test_the_command_check_finds_a_wrong_target_or_argument() -> None:
    assert problems_with("make nosuch LESSON=1")
    assert problems_with("make bugs LESSON=4 ARGS=--nosuch")
    assert problems_with("python -m course bugs")
    assert problems_with("make check LESSONS=1")
    assert problems_with("python -m course bugs 4 --show") == []


# --- running the printed commands -----------------------------------------------------------------

def _make(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "-s", *_up_to_date(), *args], cwd=ROOT, text=True, capture_output=True,
                          env=_outside_make(), timeout=120, **kwargs)  # type: ignore[call-overload, no-any-return]


def _outside_make(**extra: str) -> dict[str, str]:
    """The environment without a surrounding make's flags (`make test` runs this suite)."""
    return {**{k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}, **extra}


def _up_to_date() -> list[str]:
    """`-o STAMP`: never let a test rebuild the environment it runs in, whatever the file times say."""
    stamps = sorted((ROOT / ".venv").glob(".installed-*"))
    if not stamps or subprocess.run(["make", "--version"], capture_output=True).returncode != 0:
        pytest.skip("needs make and an environment built by `make setup`")
    return [option for stamp in stamps for option in ("-o", str(stamp.relative_to(ROOT)))]


def _first_bug() -> tuple[int, str]:
    lesson = next(lesson for lesson in load().lessons if lesson.bugs)
    return lesson.number, lesson.bugs[0].id


def test_make_bugs_shows_the_diffs() -> None:
    number, bug = _first_bug()
    completed = _make("bugs", f"LESSON={number}", "ARGS=--show")
    assert completed.returncode == 0, completed.stderr
    assert f"── {bug} " in completed.stdout


def test_make_bugs_without_a_lesson_says_which_to_give() -> None:
    completed = _make("bugs")
    assert completed.returncode != 0
    assert "make bugs LESSON=1" in completed.stdout


def test_python_m_course_from_another_python_reruns_itself_in_the_course_environment() -> None:
    """`python -m course bugs 4` as printed, from a Python without the course's packages."""
    if not (ROOT / ".venv" / "bin" / "python").is_file():
        pytest.skip("needs the .venv that make setup builds")
    other = getattr(sys, "_base_executable", sys.executable)
    number, bug = _first_bug()
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    completed = subprocess.run([other, "-m", "course", "bugs", str(number), "--show"], cwd=ROOT, env=env,
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert f"── {bug} " in completed.stdout


@pytest.mark.parametrize(("argv", "code", "says"), [(["bugs", "2", "--show"], 0, "── "),
                                                    (["check", "99"], 2, "There is no lesson 99")])
def test_python_m_course_leaves_fast_with_its_exit_code_its_whole_output_and_its_exit_handlers_run(
        argv: list[str], code: int, says: str) -> None:
    """`python -m course` skips the interpreter's teardown (course/__main__.py): it must lose nothing."""
    script = ("import atexit, runpy, sys\n"
              "atexit.register(lambda: print('the exit handler ran', file=sys.stderr))\n"
              f"sys.argv = ['course', *{argv!r}]\n"
              "runpy.run_module('course', run_name='__main__')\n")
    completed = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert completed.returncode == code, completed.stdout + completed.stderr
    assert says in completed.stdout + completed.stderr
    assert completed.stderr.endswith("the exit handler ran\n")


# --- reset -------------------------------------------------------------------------------------------

@pytest.fixture
def restored(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Record what reset would restore instead of touching the working tree."""
    calls: list[tuple[str, str]] = []
    monkeypatch.setattr(cli, "_shipped_ref", lambda: "HEAD")
    monkeypatch.setattr(cli, "restore", lambda ref, folder: calls.append((ref, folder)))
    return calls


@pytest.mark.parametrize(("stdin", "said"), [("", "No answer, so nothing changed"), ("n\n", "Nothing changed.")],
                         ids=["no input", "no"])
def test_reset_without_a_yes_changes_nothing_and_exits_0(
    stdin: str, said: str, restored: list[tuple[str, str]],
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    assert cli.main(["reset", "1"]) == 0
    out = capsys.readouterr().out
    assert said in out and "Traceback" not in out
    assert restored == []


def test_reset_with_yes_restores_the_lesson(restored: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    assert cli.main(["reset", "1"]) == 0
    assert restored == [("HEAD", "exercises/lesson01")]


def test_make_reset_with_no_terminal_exits_0_with_one_sentence() -> None:
    before = subprocess.run(["git", "status", "--porcelain", "exercises/lesson01"], cwd=ROOT, capture_output=True, text=True)
    completed = _make("reset", "LESSON=1", stdin=subprocess.DEVNULL)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "nothing changed" in completed.stdout and "Error" not in completed.stderr
    after = subprocess.run(["git", "status", "--porcelain", "exercises/lesson01"], cwd=ROOT, capture_output=True, text=True)
    assert after.stdout == before.stdout


# --- verify's shipped step ---------------------------------------------------------------------------

def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=course", "-c", "user.email=course@example.invalid", *args],
                   cwd=root, check=True, capture_output=True)


def test_the_shipped_exercises_come_from_git_not_the_working_files(tmp_path: Path) -> None:
    exercise = tmp_path / "exercises" / "lesson01" / "test_basics.py"
    exercise.parent.mkdir(parents=True)
    exercise.write_text("shipped\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-q", "-m", "course")
    exercise.write_text("finished by the learner\n")
    with verify.shipped_exercises(tmp_path) as (folder, note):
        assert (folder / "lesson01" / "test_basics.py").read_text() == "shipped\n"
        assert "committed at HEAD" in note and "not the working files" in note
    assert not folder.exists()


def test_without_git_the_shipped_step_says_it_judged_the_working_files(tmp_path: Path) -> None:
    with verify.shipped_exercises(tmp_path) as (folder, note):
        assert folder == tmp_path / "exercises"
        assert note.startswith("not a git checkout")


def test_the_shipped_step_grades_the_committed_copy_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    if verify._head_commit(ROOT) is None:
        pytest.skip("the course folder is not a git checkout")
    graded: list[Path] = []

    def grade(lesson: object, source: Path) -> SimpleNamespace:
        graded.append(source)
        return SimpleNamespace(complete=False)

    monkeypatch.setattr(verify, "grade", grade)
    monkeypatch.setattr(verify, "_notes", {})
    monkeypatch.setattr(verify._running, "step", "shipped", raising=False)
    assert verify.check_shipped() == []
    assert graded and not any(ROOT / "exercises" in source.parents for source in graded)
    [said] = verify._notes["shipped"]
    assert "committed at HEAD" in said


# --- quiz --------------------------------------------------------------------------------------------

def test_the_quiz_names_the_wrong_choice_it_explains() -> None:
    said: list[str] = []
    replies = iter(["3", "2"])
    quiz.run(quiz.parse(RECALL), ask=lambda _: next(replies), say=said.append)
    assert "Not quite. 3 is wrong: that is a function, not a call." in said


# --- servers: make app and make serve ----------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _answers(port: int) -> bool:
    """A page served proves the server's loop runs. A listening socket does not: mkdocs prints "Serving on"
    and listens before its serving thread has started, and Ctrl-C in that window gives a traceback of mkdocs's."""
    return httpx.get(f"http://127.0.0.1:{port}/", timeout=30).status_code < 500


class Server:
    """`make TARGET PORT=...` (APP_PORT for the app) in its own process group, its output read by a thread so waits have deadlines."""

    def __init__(self, target: str, port: int, db: Path) -> None:
        env = _outside_make(CHAT_DB_PATH=str(db))  # not the learner's chat.db
        variable = "APP_PORT" if target == "app" else "PORT"
        self.process = subprocess.Popen(["make", "-s", *_up_to_date(), target, f"{variable}={port}"], cwd=ROOT, text=True,
                                        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        start_new_session=True, preexec_fn=_as_a_terminal_starts_it)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.reader = threading.Thread(target=self._pump, daemon=True)
        self.reader.start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put("")  # end of output

    def wait_for(self, ready: str) -> None:
        while ready not in (line := self.lines.get(timeout=90)):
            assert line, "the server exited before it was ready:\n" + "".join(self.seen)
            self.seen.append(line)

    def rest(self) -> str:
        """Everything the server printed after it was ready, up to its exit."""
        lines = []
        while line := self.lines.get(timeout=30):
            lines.append(line)
        return "".join(lines)

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.reader.join(timeout=10)
        assert self.process.stdout is not None
        self.process.stdout.close()


def _as_a_terminal_starts_it() -> None:
    """Ctrl-C interrupts a command a terminal runs in the foreground. A suite started in the background
    (`make test &`, a CI runner's `nohup`) inherits SIGINT ignored, and the server would inherit that too."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    """Whatever a test started is stopped and closed, even when the test failed half-way."""
    started: list[Server] = []
    yield started
    for server in started:
        server.close()


@pytest.mark.timeout(150)  # make serve builds the site before it serves; Server.wait_for allows 90 s for that
@pytest.mark.parametrize(
    ("target", "ready", "stop"),
    [("app", "Uvicorn running on", "interrupt"), ("app", "Uvicorn running on", "terminate make"),
     ("serve", "Serving on", "interrupt"), ("serve", "Serving on", "terminate make")],
)
def test_stopping_make_stops_the_server_and_frees_its_port(
    target: str, ready: str, stop: str, servers: list[Server], tmp_path: Path
) -> None:
    port = _free_port()
    server = Server(target, port, tmp_path / "chat.db")
    servers.append(server)
    server.wait_for(ready)
    assert _answers(port)
    if stop == "interrupt":  # Ctrl-C: the terminal signals the whole foreground group
        os.killpg(server.process.pid, signal.SIGINT)
    else:  # `kill <make's pid>`
        server.process.send_signal(signal.SIGTERM)
    server.process.wait(timeout=60)
    said = server.rest()
    assert "Traceback" not in said, said
    assert not _listening(port), f"something still listens on {port} after make {target} stopped"
    leftovers = subprocess.run(["pgrep", "-g", str(server.process.pid)], capture_output=True, text=True).stdout.split()
    assert leftovers == [], f"make {target} left processes {leftovers} running"
