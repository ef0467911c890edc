"""Read a project's pytest configuration the way pytest finds it, without importing or running anything.

pytest (9.x) takes its settings from the first of these files it meets, walking up from the tests:
pytest.toml and .pytest.toml (a [pytest] table), pytest.ini and .pytest.ini, pyproject.toml (with a
[tool.pytest.ini_options] or [tool.pytest] table), tox.ini ([pytest]) and setup.cfg ([tool:pytest]).
Only that one file counts; a pytest.toml or pytest.ini counts even without a pytest section.
"""

from __future__ import annotations

import configparser
import shlex
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

_TOML_FILES = ("pytest.toml", ".pytest.toml")
_INI_SECTIONS = (("pytest.ini", "pytest"), (".pytest.ini", "pytest"), ("tox.ini", "pytest"), ("setup.cfg", "tool:pytest"))
_CONFIG_FILES = (*_TOML_FILES, *(name for name, _ in _INI_SECTIONS), "pyproject.toml")


@dataclass(frozen=True)
class PytestConfig:
    path: Path | None  # the file the settings come from; None when the project has none
    line: int  # the line of its pytest section
    options: dict[str, object] = field(default_factory=dict)

    def _text(self, key: str) -> str | None:
        value = self.options.get(key)
        return None if value is None else str(value).strip()

    def _lines(self, key: str) -> list[str]:
        value = self.options.get(key, [])
        items = value if isinstance(value, list) else str(value).splitlines()
        return [str(item).strip() for item in items if str(item).strip()]

    @property
    def addopts(self) -> list[str]:
        value = self.options.get("addopts", "")
        text = " ".join(map(str, value)) if isinstance(value, list) else str(value)
        try:
            return shlex.split(text)
        except ValueError:
            return text.split()

    def addopt(self, flag: str) -> str | None:
        """The value given to `flag` in addopts (`--flag=v` or `--flag v`)."""
        opts = self.addopts
        for index, opt in enumerate(opts):
            if opt.startswith(flag + "="):
                return opt.split("=", 1)[1]
            if opt == flag and index + 1 < len(opts):
                return opts[index + 1]
        return None

    @property
    def asyncio_mode(self) -> str:
        return (self.addopt("--asyncio-mode") or self._text("asyncio_mode") or "strict").lower()

    @property
    def fixture_loop_scope(self) -> str | None:
        given = [o.split("=", 1)[1] for o in self.addopts if o.startswith("asyncio_default_fixture_loop_scope=")]
        return (given[-1] if given else None) or self._text("asyncio_default_fixture_loop_scope") or None

    @property
    def test_loop_scope(self) -> str:
        return self._text("asyncio_default_test_loop_scope") or "function"

    @property
    def warnings_as_errors(self) -> bool:
        """True when a forgotten await fails the test: every warning an error (`filterwarnings = error`,
        `error::Warning` or `-W error`), or both warnings it raises (the RuntimeWarning, and pytest's
        unraisable-exception warning that carries it out of the coroutine's finalizer)."""
        entries = {entry.replace(" ", "") for entry in self._lines("filterwarnings")}
        if entries & {"error", "error::Warning", "error::builtins.Warning"}:
            return True
        if "error::RuntimeWarning" in entries and entries & {"error::pytest.PytestUnraisableExceptionWarning",
                                                             "error::PytestUnraisableExceptionWarning"}:
            return True
        opts = self.addopts
        pairs = zip(opts, opts[1:] + [""])
        return any(opt in ("-Werror", "-W=error") or (opt == "-W" and nxt == "error") for opt, nxt in pairs)

    def disabled_plugins(self) -> set[str]:
        opts = self.addopts
        return {nxt.removeprefix("no:") for opt, nxt in zip(opts, opts[1:]) if opt == "-p" and nxt.startswith("no:")}


def _section_line(path: Path, header: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        if line.strip() == header:
            return number
    return 1


def _from_pytest_toml(path: Path) -> PytestConfig:
    """pytest.toml / .pytest.toml: its [pytest] table, in native TOML types (lists stay lists)."""
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("pytest")
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        table = None
    if not isinstance(table, dict):
        return PytestConfig(path, 1)
    return PytestConfig(path, _section_line(path, "[pytest]"), dict(table))


def _from_pyproject(path: Path) -> PytestConfig | None:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return None
    pytest_table = data.get("tool", {}).get("pytest")
    if not isinstance(pytest_table, dict):
        return None
    if isinstance(pytest_table.get("ini_options"), dict):
        return PytestConfig(path, _section_line(path, "[tool.pytest.ini_options]"), dict(pytest_table["ini_options"]))
    return PytestConfig(path, _section_line(path, "[tool.pytest]"), dict(pytest_table))


def _from_ini(path: Path, section: str) -> PytestConfig | None:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return None
    if not parser.has_section(section):
        return None
    return PytestConfig(path, _section_line(path, f"[{section}]"), dict(parser.items(section)))


def find_config(start: Path) -> PytestConfig:
    """The settings pytest would use for tests in `start`: the first config file found walking up."""
    for folder in (start, *start.parents):
        for name in _TOML_FILES:
            if (folder / name).is_file():
                return _from_pytest_toml(folder / name)
        for name, section in _INI_SECTIONS[:2]:
            if (folder / name).is_file():
                return _from_ini(folder / name, section) or PytestConfig(folder / name, 1)
        if (folder / "pyproject.toml").is_file() and (found := _from_pyproject(folder / "pyproject.toml")):
            return found
        for name, section in _INI_SECTIONS[2:]:
            if (folder / name).is_file() and (found := _from_ini(folder / name, section)):
                return found
    return PytestConfig(None, 0)


def project_root(start: Path) -> Path:
    """The folder that holds the project (its config file or .git), where application modules are looked up."""
    for folder in (start, *start.parents):
        if any((folder / marker).exists() for marker in (*_CONFIG_FILES, "setup.py", ".git")):
            return folder
    return start
