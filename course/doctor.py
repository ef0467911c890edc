"""`python -m course doctor`: is this machine ready for the course? Each problem comes with its fix.

What it checks, and why each one bites learners:
  python    the course needs Python 3.11+ (asyncio.TaskGroup, asyncio.timeout, ExceptionGroup)
  packages  every pin in requirements.lock is installed at exactly that version
  plugins   no second async test plugin (pytest-trio...), no trio doubling anyio tests,
            no stray pytest config or PYTEST_ADDOPTS that changes asyncio_mode behind the course's back
  venv      .venv was built from the current requirements.lock (the Makefile's stamp file)
  ports     8001 (`make app`) and 8000 (`make serve`) are free on 127.0.0.1
  git       `make reset` restores exercises with git
Exit 0 when every check passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import errno
import importlib.metadata
import os
import re
import shutil
import socket
import sys
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from course.paths import ROOT

MIN_PYTHON = (3, 11)
PORTS = {8001: "make app", 8000: "make serve"}
SETUP = "run `make setup` (or: .venv/bin/python -m pip install -r requirements.lock)"
# Plugins that claim async tests too, or change how every test runs; the course expects none of them.
CONFLICTING_PLUGINS = {
    "pytest-trio": "it also runs async tests, with trio instead of asyncio",
    "pytest-aiohttp": "its own async fixtures and loop handling compete with pytest-asyncio",
    "pytest-tornasync": "it also claims async def tests",
    "pytest-asyncio-cooperative": "it also claims async def tests",
    "pytest-rerunfailures": "it re-runs failing tests, which hides the flaky ones the course teaches you to fix",
    "pytest-flakefinder": "it multiplies every test run",
}
PYTEST_CONFIG_FILES = ("pytest.ini", ".pytest.ini", "tox.ini", "setup.cfg", "pyproject.toml")
EXPECTED_INI = {"asyncio_mode": "strict"}


@dataclass(frozen=True)
class Finding:
    check: str
    ok: bool
    detail: str
    fix: str = ""


def normalise(name: str) -> str:
    """PEP 503: `Jinja2`, `jinja2` and `jinja_2` name the same distribution."""
    return re.sub(r"[-_.]+", "-", name).lower()


def check_python(version: tuple[int, ...] = tuple(sys.version_info[:3])) -> list[Finding]:
    shown = ".".join(map(str, version))
    if version[:2] >= MIN_PYTHON:
        return [Finding("python", True, f"Python {shown} ({sys.executable})")]
    return [Finding("python", False, f"Python {shown} is too old: the course needs 3.11 or newer",
                    "install Python 3.11+, then `make clean setup PYTHON=python3.11`")]


def pins(lock_text: str) -> dict[str, str]:
    """{normalised name: version} from requirements.lock (`name==version` lines)."""
    found = {}
    for line in lock_text.splitlines():
        requirement = line.split("#", 1)[0].split(";", 1)[0].strip()
        name, sep, version = requirement.partition("==")
        if sep:
            found[normalise(name.strip())] = version.strip()
    return found


def installed_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def check_packages(lock_text: str, version_of: Callable[[str], str | None] = installed_version) -> list[Finding]:
    wanted = pins(lock_text)
    missing = sorted(name for name in wanted if version_of(name) is None)
    wrong = sorted((name, version_of(name), version) for name, version in wanted.items()
                   if name not in missing and version_of(name) != version)
    findings = []
    if "pytest-asyncio" in missing:
        findings.append(Finding("packages", False, "pytest-asyncio is not installed in this Python: every async "
                                "test fails with 'async def functions are not natively supported'", SETUP))
    if missing:
        findings.append(Finding("packages", False, f"{len(missing)} pinned package(s) missing: {', '.join(missing[:8])}"
                                + (" …" if len(missing) > 8 else ""), SETUP))
    if wrong:
        shown = ", ".join(f"{name} {have} (pinned {want})" for name, have, want in wrong[:8])
        findings.append(Finding("packages", False, f"{len(wrong)} package(s) at other versions than pinned: {shown}"
                                + (" …" if len(wrong) > 8 else ""), SETUP))
    if not findings:
        findings.append(Finding("packages", True, f"all {len(wanted)} pinned packages installed at their pinned versions"))
    return findings


def pytest_plugins() -> dict[str, str]:
    """{normalised distribution name: entry point} of every installed pytest plugin."""
    return {normalise(ep.dist.name if ep.dist else ep.name): ep.value
            for ep in importlib.metadata.entry_points(group="pytest11")}


def _config_sections(path: Path) -> dict[str, str]:
    """The pytest options a config file sets, if it is one pytest would read."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.name == "pyproject.toml":
        try:
            options = tomllib.loads(text).get("tool", {}).get("pytest", {}).get("ini_options")
        except tomllib.TOMLDecodeError:
            return {}
        return {str(k): str(v) for k, v in options.items()} if isinstance(options, dict) else {}
    section = {"setup.cfg": "tool:pytest"}.get(path.name, "pytest")
    if path.name in ("tox.ini", "setup.cfg") and f"[{section}]" not in text:
        return {}
    return dict(re.findall(r"^\s*([\w-]+)\s*=\s*(.*?)\s*$", text, re.MULTILINE)) or {"(file)": path.name}


def stray_configs(root: Path) -> list[Path]:
    """pytest config files that would win over pyproject.toml for some part of the course."""
    folders = [root] + [p for base in ("exercises", "solutions", "tests", "lessons") if (root / base).is_dir()
                        for p in [root / base, *sorted(d for d in (root / base).iterdir() if d.is_dir())]]
    found = []
    for folder in folders:
        for name in PYTEST_CONFIG_FILES:
            path = folder / name
            if path.is_file() and not (folder == root and name == "pyproject.toml") and _config_sections(path):
                found.append(path)
    return found


def trio_backends(root: Path) -> list[Path]:
    """conftest.py files (yours, under exercises/) that point anyio's backend at trio."""
    pattern = re.compile(r"""['"]trio['"][^\n]*\)\s*\ndef anyio_backend\b|def anyio_backend\b[\s\S]{0,400}?['"]trio['"]""")
    folder = root / "exercises"
    return [path for path in sorted(folder.rglob("conftest.py")) if pattern.search(path.read_text(encoding="utf-8",
            errors="replace"))] if folder.is_dir() else []


def check_plugins(plugins: dict[str, str], environ: dict[str, str], root: Path = ROOT,
                  trio_installed: bool | None = None) -> list[Finding]:
    findings = []
    if "pytest-asyncio" not in plugins:
        findings.append(Finding("plugins", False, "pytest-asyncio is not registered as a pytest plugin", SETUP))
    for name, why in CONFLICTING_PLUGINS.items():
        if name in plugins:
            findings.append(Finding("plugins", False, f"{name} is installed: {why}",
                                    f"`.venv/bin/python -m pip uninstall {name}`"))
    if trio_installed is None:
        trio_installed = installed_version("trio") is not None
    if trio_installed:
        findings.append(Finding("plugins", False, "trio is installed: anyio's plugin then runs every @pytest.mark.anyio "
                                "test twice (asyncio and trio)", "`.venv/bin/python -m pip uninstall trio`, or give "
                                "the tests an anyio_backend fixture that returns \"asyncio\""))
    for variable in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS"):
        if environ.get(variable):
            findings.append(Finding("plugins", False, f"{variable}={environ[variable]!r} is set: it changes every pytest "
                                    "run (the grader ignores it, your own runs do not)", f"`unset {variable}`"))
    options = _config_sections(root / "pyproject.toml") if (root / "pyproject.toml").is_file() else {}
    for key, value in EXPECTED_INI.items():
        if options.get(key, value).strip("'\"") != value:
            findings.append(Finding("plugins", False, f"pyproject.toml sets {key} = {options[key]}, the course teaches "
                                    f"and grades with {key} = \"{value}\"", f"set {key} = \"{value}\" again"))
    for path in trio_backends(root):
        findings.append(Finding("plugins", False, f"{path.relative_to(root)} gives anyio_backend a trio value: anyio "
                                "tests then run on trio, which the course does not install",
                                "make the anyio_backend fixture return \"asyncio\""))
    for path in stray_configs(root):
        findings.append(Finding("plugins", False, f"{path.relative_to(root)} is a pytest config file: pytest uses it "
                                "instead of pyproject.toml there (asyncio_mode, timeouts and warnings may differ)",
                                f"delete {path.relative_to(root)} (the course's settings live in pyproject.toml)"))
    if not findings:
        findings.append(Finding("plugins", True, "pytest-asyncio in strict mode, no conflicting plugins or config"))
    return findings


def cksum(data: bytes) -> int:
    """POSIX `cksum` (the CRC the Makefile names its install stamp after); zlib's crc32 is a different CRC."""
    crc = 0
    for byte in data:
        crc = _step(crc, byte)
    length = len(data)
    while length:
        crc = _step(crc, length & 0xFF)
        length >>= 8
    return ~crc & 0xFFFFFFFF


def _step(crc: int, byte: int) -> int:
    crc ^= byte << 24
    for _ in range(8):
        crc = ((crc << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if crc & 0x80000000 else (crc << 1) & 0xFFFFFFFF
    return crc


def check_venv(root: Path = ROOT, prefix: str = sys.prefix) -> list[Finding]:
    venv, lock = root / ".venv", root / "requirements.lock"
    if not venv.is_dir():
        return [Finding("venv", False, "there is no .venv in the course folder", "run `make setup`")]
    stamp = venv / f".installed-{cksum(lock.read_bytes())}"
    if not stamp.exists():
        return [Finding("venv", False, ".venv was built from an older requirements.lock (the pins changed since)",
                        "run `make setup`: it rebuilds .venv from the current lock")]
    findings = [Finding("venv", True, f".venv matches requirements.lock ({stamp.name})")]
    if Path(prefix).resolve() != venv.resolve():
        findings.append(Finding("venv", True, f"note: this doctor runs in {prefix}, not in .venv; the checks above "
                                "describe that Python (`make doctor` checks .venv)"))
    return findings


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True if a server could not bind `port` now (SO_REUSEADDR as uvicorn sets it, so TIME_WAIT is no false alarm)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        if os.name != "nt":
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            return error.errno in (errno.EADDRINUSE, errno.EACCES) or getattr(error, "winerror", None) == 10048
    return False


def check_ports(ports: dict[int, str] = PORTS) -> list[Finding]:
    findings = []
    for port, target in ports.items():
        if port_in_use(port):
            findings.append(Finding("ports", False, f"port {port} on 127.0.0.1 is in use, so `{target}` cannot start",
                                    f"stop what listens there (`lsof -i :{port}` or `ss -ltnp` shows it), "
                                    f"or start it by hand on another --port"))
        else:
            findings.append(Finding("ports", True, f"port {port} is free for `{target}`"))
    return findings


def check_git(root: Path = ROOT) -> list[Finding]:
    if shutil.which("git") is None:
        return [Finding("git", False, "git is not installed: `make reset` cannot restore exercises", "install git")]
    if not (root / ".git").exists():
        return [Finding("git", False, "the course folder is not a git clone: `make reset` cannot restore exercises",
                        "clone the course with git instead of downloading an archive")]
    return [Finding("git", True, "git is available for `make reset`")]


def run_checks(root: Path = ROOT) -> list[Finding]:
    lock = root / "requirements.lock"
    findings = check_python()
    findings += check_packages(lock.read_text(encoding="utf-8")) if lock.is_file() else [
        Finding("packages", False, "requirements.lock is missing", "restore it with `git checkout requirements.lock`")]
    findings += check_plugins(pytest_plugins(), dict(os.environ), root)
    findings += check_venv(root) if lock.is_file() else []
    findings += check_ports()
    findings += check_git(root)
    return findings


def render(findings: Iterable[Finding]) -> str:
    lines = []
    for finding in findings:
        lines.append(f"{'✔' if finding.ok else '✘'} {finding.check:<9} {finding.detail}")
        if finding.fix:
            lines.append(f"  {'':<9} fix: {finding.fix}")
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    findings = run_checks()
    print(render(findings))
    problems = sum(not f.ok for f in findings)
    print(f"\n{'All good: the course is ready.' if not problems else f'{problems} problem(s) to fix (see fix: above).'}")
    return 1 if problems else 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The doctor has no options: it checks everything, quickly."""
