"""Create .venv and install a group's lock file into it: what `make setup` runs, and `python -m course setup` without make.

Standard library only, because it runs before anything is installed. One implementation for every
platform, so the Windows path (no make) is the same code the Makefile uses:

  python -m course setup               the learner's packages (requirements.lock)
  python -m course setup --group dev   everything `make test` needs (requirements-dev.lock)
  python -m course setup --bundle DIR  from a folder of wheels made by `make bundle`, without the network

It uses uv when it is on PATH; otherwise pip installs the pinned uv first, which is still faster than
pip alone (docs/setup.md has the measured times); offline from a bundle, pip.
Output goes to .venv/install.log; on failure its last lines are shown and the log is kept.
Each installed lock leaves a stamp file named after its checksum, so a changed lock is reinstalled.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from course.paths import ROOT
from course.tools.locks import GROUPS, lock_path, stamp_name, venv_python

MIN_PYTHON = (3, 11)
UV_VERSION = "0.13.9"  # the Makefile's UV_VERSION, which `make lock` uses: one uv for the locks and the installs
LOG_NAME = "install.log"
TOO_OLD = ("This course needs Python 3.11 or newer; {exe} is {version}. Get a newer one with "
           "`uv python install 3.12` or pyenv (see the setup page), then run the setup with it, "
           "for example `make setup PYTHON=python3.12`.")


class InstallError(Exception):
    """A step of the setup failed: the message says which and what to do."""


def needed_groups(group: str) -> list[str]:
    """The learner's lock always goes first: the bigger groups only add to it."""
    return ["learner"] if group == "learner" else ["learner", group]


def choose_installer(requested: str, bundle: Path | None, which=shutil.which) -> str:  # noqa: ANN001 (shutil.which)
    """The fastest way that works here (measured in docs/setup.md):

    uv      uv is on PATH: it installs the learner's set in a third of pip's time;
    pip+uv  no uv: pip installs the pinned uv first (one download), then uv installs the rest, still faster;
    pip     offline from a bundle of wheels, which holds no uv.
    """
    if requested != "auto":
        return requested
    if which("uv"):
        return "uv"
    return "pip" if bundle else "pip+uv"


def uv_in(folder: Path) -> Path | None:
    """The uv program that `pip install --target folder uv` wrote (bin/ on Linux and macOS, Scripts\\ on Windows)."""
    for path in (folder / "bin" / "uv", folder / "Scripts" / "uv.exe", folder / "bin" / "uv.exe"):
        if path.is_file():
            return path
    return None


def bootstrap_uv(python: Path, venv: Path, log: Path) -> str | None:
    """pip installs the pinned uv inside .venv's folder but not into its packages (it is no package of the course,
    and `make clean` removes it with .venv). None if that fails: pip then installs everything itself."""
    folder = venv / "uv-tool"
    if uv_in(folder) is None:
        try:
            run_logged([str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--quiet",
                        "--target", str(folder), f"uv=={UV_VERSION}"], log)
        except InstallError:
            return None
    uv = uv_in(folder)
    return str(uv) if uv else None


def install_command(uv: str | None, python: Path, lock: Path, bundle: Path | None) -> list[str]:
    """uv's command when `uv` names its program, pip's otherwise; with a bundle, neither touches the network."""
    offline = ["--no-index", "--find-links", str(bundle)] if bundle else []
    if uv:  # --compile-bytecode as pip does: else the first graded run compiles every module, against its deadlines
        return [uv, "pip", "install", "--python", str(python), "--compile-bytecode", "-r", str(lock), *offline,
                *(["--offline"] if bundle else [])]
    return [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-r", str(lock), *offline]


# One sync and one async test, run by one xdist worker: what loads the modules of every plugin a graded run,
# a demo or the course's own suite loads (the controller's and the worker's side of xdist included).
PRIMER_TESTS = """import pytest


def test_sync():
    assert True


@pytest.mark.asyncio
async def test_async():
    assert True
"""


def cache_plugin_rewrites(python: Path, log: Path) -> None:
    """Start pytest once with bytecode writing on, so that it saves its assertion-rewritten copies of the
    installed plugins' modules next to them.

    pytest rewrites the asserts of every module of a plugin's distribution as it imports it, and keeps the
    result only where Python may write bytecode. Where PYTHONDONTWRITEBYTECODE is set (many containers and CI
    images set it), every later pytest process would rewrite them all again: with the dev plugins, 3.5 s of
    CPU per start instead of 1.5 s (measured), paid by each demo, xdist worker and suite run. A failure here
    only costs that time, so it is logged, never raised."""
    env = {name: value for name, value in os.environ.items() if name not in ("PYTHONDONTWRITEBYTECODE", "PYTEST_ADDOPTS")}
    with tempfile.TemporaryDirectory(prefix="course-primer-") as folder:
        (Path(folder) / "test_primer.py").write_text(PRIMER_TESTS, encoding="utf-8")
        with log.open("a", encoding="utf-8") as out:
            out.write("$ python -m pytest -n 1 test_primer.py  (caching pytest's rewritten plugin modules)\n")
            out.flush()
            subprocess.run([str(python.absolute()), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                            "-n", "1", "test_primer.py"],
                           cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def remove_venv(venv: Path) -> None:
    """Remove an environment built from other pins; a symlinked .venv loses only the link, never its target."""
    if venv.is_symlink() or venv.is_file():
        venv.unlink()
    elif venv.exists():
        shutil.rmtree(venv)


def create_venv(venv: Path, base_python: str) -> None:
    result = subprocess.run([base_python, "-m", "venv", str(venv)], capture_output=True, text=True)
    if result.returncode != 0:
        raise InstallError(f"Creating {venv.name} failed:\n{result.stderr.strip()}\nOn Debian or Ubuntu, "
                           "`sudo apt install python3-venv` adds the venv module.")


def run_logged(command: list[str], log: Path) -> None:
    with log.open("a", encoding="utf-8") as out:
        out.write(f"$ {' '.join(command)}\n")
        out.flush()
        returncode = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL).returncode
    if returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-30:]
        raise InstallError("\n".join(tail) + f"\nInstalling the pinned packages failed; the full log is in {log}. "
                           "`make doctor` (or `python3 -m course doctor`) checks the network, proxy and Python.")


def already_pinned(venv: Path, lock: Path) -> bool:
    """Does .venv already hold every pin of `lock` (a lock changed only in comments, or stamps named anew)?
    Then the install is only its stamp, and a working environment is never rebuilt for nothing."""
    from course.tools.doctor import (  # standard library only, like this module
        BrokenVenv,
        check_packages,
        probe_venv,
    )

    if not venv_python(venv).exists():
        return False
    try:
        environment = probe_venv(venv_python(venv))
    except BrokenVenv:
        return False
    return all(finding.ok for finding in check_packages(lock.read_text(encoding="utf-8"), environment.version_of))


def install(group: str, root: Path = ROOT, installer: str = "auto", bundle: Path | None = None,
            base_python: str = sys.executable, say=print) -> None:  # noqa: ANN001 (print's signature)
    """Bring .venv up to `group`'s lock files; a no-op for locks whose stamp is already there."""
    venv = root / ".venv"
    tool = choose_installer(installer, bundle)
    changed = False  # anything installed or stamped: then pytest's rewrites are cached (again)
    for step in needed_groups(group):
        lock = lock_path(root, step)
        stamp = venv / stamp_name(lock)
        if stamp.exists():
            continue
        changed = True
        if already_pinned(venv, lock):
            stamp.touch()
            continue
        if step == "learner":
            say(f"Setting up the course environment in {venv.name} with {tool} (first run only)...")
            remove_venv(venv)
            create_venv(venv, base_python)
        elif not venv_python(venv).exists():
            raise InstallError(f"{venv.name} has no Python: run the learner setup first (`make setup`).")
        else:
            say(f"Adding {lock.name} to {venv.name} with {tool}...")
        log = venv / LOG_NAME
        uv = {"uv": shutil.which("uv"), "pip+uv": None, "pip": None}[tool]
        if tool == "pip+uv":
            uv = bootstrap_uv(venv_python(venv), venv, log)
        run_logged(install_command(uv, venv_python(venv), lock, bundle), log)
        stamp.touch()
    if changed:
        cache_plugin_rewrites(venv_python(venv), venv / LOG_NAME)
    say("Environment ready.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--group", choices=GROUPS, default="learner",
                        help="learner (default: lessons and grading), lab (+ JupyterLab) or dev (+ site and course tests)")
    parser.add_argument("--installer", choices=("auto", "uv", "pip+uv", "pip"), default=os.environ.get("COURSE_INSTALLER", "auto"),
                        help="auto (default): uv when it is on PATH, else pip installs uv first (pip alone with --bundle)")
    parser.add_argument("--bundle", type=Path, help="install from this folder of wheels (made by `make bundle`), offline")


def main(args: argparse.Namespace) -> int:
    if sys.version_info[:2] < MIN_PYTHON:
        print(TOO_OLD.format(exe=sys.executable, version=sys.version.split()[0]), file=sys.stderr)
        return 2
    if args.bundle is not None and not args.bundle.is_dir():
        print(f"There is no folder {args.bundle}: build it with `make bundle` on a machine with network.", file=sys.stderr)
        return 2
    try:
        install(args.group, installer=args.installer, bundle=args.bundle.resolve() if args.bundle else None)
    except InstallError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m course setup", description=__doc__.splitlines()[0])
    add_arguments(parser)
    sys.exit(main(parser.parse_args()))
