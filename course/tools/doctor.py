"""`make doctor` (`python3 -m course doctor`): is this machine ready for the course? Each problem comes with its fix.

It runs before and without the course's environment: standard library only, started by the
Python that builds .venv, so it can say why an install fails as well as what an installed one lacks.

What it checks, and why each one bites learners:
  python    the course needs Python 3.11+ (asyncio.TaskGroup, asyncio.timeout, ExceptionGroup)
  venv      .venv exists, its Python runs, and it was built from the current lock files (the stamp files)
  packages  every pin of the installed groups' locks is in .venv at exactly that version
  plugins   no second async test plugin (pytest-trio...), no trio doubling anyio tests,
            no stray pytest config or PYTEST_ADDOPTS that changes asyncio_mode behind the course's back
  network   the package index answers within a few seconds (through HTTPS_PROXY or pip's proxy setting)
  ports     8001 (`make app`) and 8000 (`make serve`) are free on 127.0.0.1
  git       `make reset` restores exercises with git
The last line says `ready` when every check passes (exit 0); otherwise it names the failed checks (exit 1).
"""

from __future__ import annotations

import argparse
import configparser
import errno
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from course.paths import ROOT
from course.tools.locks import (
    GROUPS,
    Pin,
    lock_path,
    normalise,
    parse,
    stamp_name,
    venv_python,
)

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the doctor still runs, to say that the course needs 3.11
    tomllib = None  # type: ignore[assignment]

MIN_PYTHON = (3, 11)
PORTS = {8001: "make app", 8000: "make serve"}
SETUP = "run `make setup` (without make: python -m course setup)"
SETUP_PAGE = "the setup page, docs/setup.md"
DEFAULT_INDEX = "https://pypi.org/simple/"
NETWORK_TIMEOUT = 5.0
PROBE_TIMEOUT = 30.0
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
# Run by .venv's Python: what is installed there, as JSON (the doctor itself may run in another Python).
PROBE = """
import importlib.metadata as m, json, sys
dists = {d.metadata["Name"]: d.version for d in m.distributions() if d.metadata["Name"]}
plugins = {(ep.dist.name if ep.dist else ep.name): ep.value for ep in m.entry_points(group="pytest11")}
print(json.dumps({"version": list(sys.version_info[:3]), "dists": dists, "plugins": plugins}))
"""


@dataclass(frozen=True)
class Finding:
    check: str
    ok: bool
    detail: str
    fix: str = ""


@dataclass
class Environment:
    """What .venv's own Python reports about itself."""
    version: tuple[int, ...]
    dists: dict[str, str] = field(default_factory=dict)       # normalised name: version
    plugins: dict[str, str] = field(default_factory=dict)     # normalised distribution name: entry point

    def version_of(self, name: str) -> str | None:
        return self.dists.get(normalise(name))


class BrokenVenv(Exception):
    """.venv's Python does not run, or does not answer the probe: the message says what happened."""


def check_python(version: tuple[int, ...] = tuple(sys.version_info[:3]), executable: str = sys.executable,
                 venv_version: tuple[int, ...] | None = None) -> list[Finding]:
    """The Python that builds .venv (the one running the doctor), and .venv's own when it is another."""
    shown = ".".join(map(str, version))
    findings = []
    if version[:2] >= MIN_PYTHON:
        findings.append(Finding("python", True, f"Python {shown} ({executable})"))
    elif venv_version is not None and venv_version[:2] >= MIN_PYTHON:
        findings.append(Finding("python", True, f"note: {executable} is Python {shown}, too old to build .venv again; "
                                "the existing .venv has a newer one"))
    else:
        findings.append(Finding("python", False, f"Python {shown} ({executable}) is too old: the course needs 3.11 or "
                                "newer", f"`uv python install 3.12` or pyenv, then `make setup PYTHON=python3.12` "
                                f"(see {SETUP_PAGE})"))
    if venv_version is not None and venv_version[:2] < MIN_PYTHON:
        findings.append(Finding("python", False, f".venv was built with Python {'.'.join(map(str, venv_version))}, "
                                "too old for the course", "`make clean setup PYTHON=python3.12` with a Python 3.11+"))
    return findings


def pins(lock_text: str) -> dict[str, str]:
    """{normalised name: version} of the lock's pins that every machine needs (no environment marker)."""
    return {pin.name: pin.version for pin in parse(lock_text) if not pin.marker}


def check_packages(lock_text: str, version_of: Callable[[str], str | None]) -> list[Finding]:
    """Every unconditional pin at its version; a pin for some platforms only (`; sys_platform == 'win32'`)
    may be absent, but when present it must be one of its pinned versions."""
    wanted = pins(lock_text)
    conditional: dict[str, set[str]] = {}
    for pin in parse(lock_text):
        if pin.marker:
            conditional.setdefault(pin.name, set()).add(pin.version)
    missing = sorted(name for name in wanted if version_of(name) is None)
    wrong = sorted((name, version_of(name), version) for name, version in wanted.items()
                   if name not in missing and version_of(name) != version)
    wrong += sorted((name, version_of(name), " or ".join(sorted(versions))) for name, versions in conditional.items()
                    if name not in wanted and version_of(name) is not None and version_of(name) not in versions)
    findings = []
    if "pytest-asyncio" in missing:
        findings.append(Finding("packages", False, "pytest-asyncio is not installed in .venv: every async "
                                "test fails with 'async def functions are not natively supported'", SETUP))
    if missing:
        findings.append(Finding("packages", False, f"{len(missing)} pinned package(s) missing: {', '.join(missing[:8])}"
                                + (" …" if len(missing) > 8 else ""), SETUP))
    if wrong:
        shown = ", ".join(f"{name} {have} (pinned {want})" for name, have, want in wrong[:8])
        findings.append(Finding("packages", False, f"{len(wrong)} package(s) at other versions than pinned: {shown}"
                                + (" …" if len(wrong) > 8 else ""), "`make clean setup`: it rebuilds .venv from the locks"))
    if not findings:
        findings.append(Finding("packages", True, f"all {len(wanted)} pinned packages installed at their pinned versions"))
    return findings


def _config_sections(path: Path) -> dict[str, str]:
    """The pytest options a config file sets, if it is one pytest would read."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.name == "pyproject.toml":
        if tomllib is None:
            return {}
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


def check_plugins(plugins: dict[str, str] | None, environ: dict[str, str], root: Path = ROOT,
                  trio_installed: bool = False) -> list[Finding]:
    """`plugins` are .venv's pytest plugins, None before there is a .venv (the config checks still run)."""
    findings = []
    if plugins is not None and "pytest-asyncio" not in plugins:
        findings.append(Finding("plugins", False, "pytest-asyncio is not registered as a pytest plugin", SETUP))
    for name, why in CONFLICTING_PLUGINS.items():
        if plugins is not None and name in plugins:
            findings.append(Finding("plugins", False, f"{name} is installed: {why}",
                                    f"`.venv/bin/python -m pip uninstall {name}`"))
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
    if not findings and plugins is None:
        findings.append(Finding("plugins", True, "no pytest config or PYTEST_ADDOPTS against strict mode (the plugins "
                                "are checked once .venv is installed)"))
    elif not findings:
        findings.append(Finding("plugins", True, "pytest-asyncio in strict mode, no conflicting plugins or config"))
    return findings


def probe_venv(python: Path, timeout: float = PROBE_TIMEOUT) -> Environment:
    """Ask .venv's Python what it has installed (a subprocess: the doctor may run in another Python)."""
    try:
        result = subprocess.run([str(python), "-c", PROBE], capture_output=True, text=True, timeout=timeout)
    except OSError as error:
        raise BrokenVenv(f"{python} does not start ({error.strerror or error})") from None
    except subprocess.TimeoutExpired:
        raise BrokenVenv(f"{python} did not answer within {timeout:.0f} s") from None
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise BrokenVenv(f"{python} fails: {last}")
    data = json.loads(result.stdout)
    return Environment(tuple(data["version"]), {normalise(k): v for k, v in data["dists"].items()},
                       {normalise(k): v for k, v in data["plugins"].items()})


def installed_groups(root: Path) -> list[str]:
    """The groups whose current lock has its stamp in .venv (the learner's first)."""
    venv = root / ".venv"
    return [group for group in GROUPS if lock_path(root, group).is_file()
            and (venv / stamp_name(lock_path(root, group))).exists()]


def check_venv(root: Path = ROOT, probe: Callable[[Path], Environment] = probe_venv) -> tuple[list[Finding], Environment | None]:
    """Is there a .venv, does its Python run, and was it built from the current requirements.lock?"""
    venv = root / ".venv"
    if not venv.exists():
        return [Finding("venv", False, "there is no .venv in the course folder yet", SETUP)], None
    python = venv_python(venv)
    if not python.exists():
        return [Finding("venv", False, f".venv is broken: it has no {python.relative_to(root)}",
                        "`make clean setup` rebuilds it")], None
    try:
        environment = probe(python)
    except BrokenVenv as error:
        return [Finding("venv", False, f".venv is broken: {error} (was its Python moved or upgraded?)",
                        "`make clean setup` rebuilds it")], None
    groups = installed_groups(root)
    if "learner" not in groups:
        return [Finding("venv", False, ".venv was not built from the current requirements.lock (an older lock, or an "
                        "install that did not finish)", "run `make setup`: it rebuilds .venv from the current lock")], environment
    return [Finding("venv", True, f".venv matches {', '.join(lock_path(root, g).name for g in groups)}")], environment


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


def pip_settings(environ: dict[str, str], files: Iterable[Path]) -> dict[str, str]:
    """pip's index-url, proxy, cert and no-index, from its config files (later files win) and PIP_* variables."""
    found: dict[str, str] = {}
    for path in files:
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, OSError):
            continue
        for section in ("global", "install", "download"):
            if parser.has_section(section):
                found.update({key: value.strip() for key, value in parser.items(section)})
    for key in ("index-url", "proxy", "cert", "no-index"):
        variable = "PIP_" + key.upper().replace("-", "_")
        if environ.get(variable):
            found[key] = environ[variable]
    return found


def pip_config_files(environ: dict[str, str], prefix: str = sys.prefix) -> list[Path]:
    """Where pip reads its configuration, lowest priority first (pip's documented order)."""
    home = Path.home()
    xdg = Path(environ.get("XDG_CONFIG_HOME", home / ".config"))
    files = [Path("/etc/xdg/pip/pip.conf"), Path("/etc/pip.conf"), home / ".pip" / "pip.conf", xdg / "pip" / "pip.conf",
             home / "Library" / "Application Support" / "pip" / "pip.conf", Path(prefix) / "pip.conf"]
    if environ.get("APPDATA"):
        files.insert(3, Path(environ["APPDATA"]) / "pip" / "pip.ini")
    if environ.get("PIP_CONFIG_FILE"):
        files.append(Path(environ["PIP_CONFIG_FILE"]))
    return [path for path in files if path.is_file()]


def shown_url(url: str) -> str:
    """scheme://host[:port]: never a password from a URL on screen."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}"


def fetch(url: str, proxy: str | None, timeout: float) -> None:
    """One HEAD request, through `proxy` if given, else through HTTPS_PROXY/NO_PROXY as pip and uv use them."""
    handler = urllib.request.ProxyHandler({"http": proxy, "https": proxy}) if proxy else urllib.request.ProxyHandler()
    urllib.request.build_opener(handler).open(urllib.request.Request(url, method="HEAD"), timeout=timeout).close()


def network_problem(error: BaseException, index: str, proxy: str | None) -> tuple[str, str]:
    """(what happened, how to fix it) for an error of `fetch`."""
    host = shown_url(index)
    via = f" through the proxy {shown_url(proxy)}" if proxy else ""
    reason = error.reason if isinstance(error, urllib.error.URLError) and not isinstance(error, urllib.error.HTTPError) else error
    if isinstance(error, urllib.error.HTTPError) and error.code == 407:
        return (f"the proxy {shown_url(proxy or '')} asks for a user name and password".replace(" ://", " "),
                "put them in the proxy address: export HTTPS_PROXY=http://USER:PASSWORD@HOST:PORT")
    if isinstance(error, urllib.error.HTTPError):
        return f"{host} answered HTTP {error.code}{via}", f"check the index address (pip's index-url); {SETUP_PAGE}"
    if isinstance(reason, ssl.SSLCertVerificationError):
        return (f"{host}'s certificate is not trusted{via}: a proxy that inspects HTTPS re-signs it",
                "point pip at your company's CA file: export PIP_CERT=/path/to/ca.pem (and SSL_CERT_FILE for uv)")
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return (f"{host} did not answer within {NETWORK_TIMEOUT:.0f} s{via}",
                "behind a company proxy? export HTTPS_PROXY=http://HOST:PORT; no network at all? install from an "
                f"offline bundle ({SETUP_PAGE})")
    if isinstance(reason, socket.gaierror):
        name = shown_url(proxy) if proxy else host
        return (f"cannot find {name} (no network, or no DNS)",
                f"connect to a network, set HTTPS_PROXY if you need a proxy, or install from an offline bundle ({SETUP_PAGE})")
    if isinstance(reason, ConnectionRefusedError):
        return (f"the connection to {shown_url(proxy) if proxy else host} was refused",
                "check the proxy address in HTTPS_PROXY (or pip's proxy setting)" if proxy else
                f"a firewall blocks it? ask for access, or install from an offline bundle ({SETUP_PAGE})")
    return f"{host} cannot be reached{via}: {reason}", f"see {SETUP_PAGE}"


def check_network(environ: dict[str, str], settings: dict[str, str], needed: bool,
                  get: Callable[[str, str | None, float], None] = fetch) -> list[Finding]:
    """Does the package index answer, as the installer will reach it? A failure matters only while something
    is left to install; the probe gives up after a few seconds instead of hanging."""
    if settings.get("no-index", "").lower() in ("1", "true", "yes", "on"):
        return [Finding("network", True, "pip is set to install without an index (no-index): from a bundle of wheels")]
    index = settings.get("index-url", DEFAULT_INDEX).rstrip("/") + "/"
    proxy = settings.get("proxy") or None
    if proxy is None and not any(environ.get(v) for v in ("HTTPS_PROXY", "https_proxy")):
        via = ""
    else:
        via = f" through the proxy {shown_url(proxy or environ.get('HTTPS_PROXY') or environ['https_proxy'])}"
    try:
        get(index + "pip/", proxy, NETWORK_TIMEOUT)
    except (urllib.error.URLError, OSError, ValueError) as error:
        detail, fix = network_problem(error, index, proxy)
        if not needed:
            return [Finding("network", True, f"note: {detail}; nothing is left to install, so the course works offline")]
        return [Finding("network", False, detail, fix)]
    return [Finding("network", True, f"the package index {shown_url(index)} answers{via}")]


# pip's settings that uv (which the setup uses unless COURSE_INSTALLER=pip) does not read, and uv's own variable.
UV_EQUIVALENTS = {"proxy": ("HTTPS_PROXY", "https_proxy"), "index-url": ("UV_DEFAULT_INDEX", "UV_INDEX_URL"),
                  "cert": ("SSL_CERT_FILE",)}


def check_uv_settings(environ: dict[str, str], file_settings: dict[str, str], needed: bool) -> list[Finding]:
    """A proxy, mirror or CA file set in pip's configuration only: pip finds the index, uv then does not."""
    if environ.get("COURSE_INSTALLER") == "pip":
        return []
    blind = [key for key, variables in UV_EQUIVALENTS.items()
             if key in file_settings and not any(environ.get(v) for v in variables)]
    if not blind:
        return []
    names = ", ".join(f"{key} (uv reads {UV_EQUIVALENTS[key][0]})" for key in blind)
    return [Finding("network", not needed, f"{'note: ' if not needed else ''}pip's configuration sets {names}, "
                    "which uv, the setup's installer, does not read",
                    "export those variables too (see the setup page), or install with pip alone: "
                    "`COURSE_INSTALLER=pip make setup`" if needed else "")]


def run_checks(root: Path = ROOT, environ: dict[str, str] | None = None,
               probe: Callable[[Path], Environment] = probe_venv,
               get: Callable[[str, str | None, float], None] = fetch) -> list[Finding]:
    environ = dict(os.environ) if environ is None else environ
    venv_findings, environment = check_venv(root, probe)
    findings = check_python(venv_version=environment.version if environment else None)
    findings += venv_findings
    groups = installed_groups(root)
    if environment is not None and "learner" in groups:
        lock = lock_path(root, groups[-1])  # the biggest installed group's lock holds the smaller ones' pins
        findings += check_packages(lock.read_text(encoding="utf-8"), environment.version_of)
        findings += check_plugins(environment.plugins, environ, root, trio_installed="trio" in environment.dists)
    else:
        findings += check_plugins(None, environ, root)
    complete = all(f.ok for f in findings if f.check in ("venv", "packages")) and "learner" in groups
    files = pip_config_files(environ)
    findings += check_network(environ, pip_settings(environ, files), needed=not complete, get=get)
    findings += check_uv_settings(environ, pip_settings({}, files), needed=not complete)
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


def verdict(findings: list[Finding]) -> str:
    """The last line, the one learners bring to the room: `ready`, or the checks to fix."""
    failed = list(dict.fromkeys(f.check for f in findings if not f.ok))
    if not failed:
        return "ready"
    return f"not ready: {len(failed)} check(s) to fix: {', '.join(failed)} (each ✘ above has its fix)"


def main(args: argparse.Namespace) -> int:
    findings = run_checks()
    print(render(findings))
    print()
    print(verdict(findings))
    return 0 if all(f.ok for f in findings) else 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The doctor has no options: it checks everything, quickly."""


if __name__ == "__main__":
    sys.exit(main(argparse.Namespace()))
