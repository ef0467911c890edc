"""The installer behind `make setup` and `python -m course setup`: which tool, which command, and a real offline install."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from course.paths import ROOT
from course.tools import install, locks


def test_uv_on_path_wins_then_pip_bootstraps_uv_and_a_bundle_means_plain_pip() -> None:
    assert install.choose_installer("auto", None, which=lambda name: "/usr/bin/uv") == "uv"
    assert install.choose_installer("auto", None, which=lambda name: None) == "pip+uv"
    assert install.choose_installer("auto", Path("bundle"), which=lambda name: None) == "pip"
    assert install.choose_installer("pip", None, which=lambda name: "/usr/bin/uv") == "pip"


def test_the_offline_commands_never_ask_an_index(tmp_path: Path) -> None:
    python, lock, bundle = tmp_path / "python", tmp_path / "requirements.lock", tmp_path / "bundle"
    pip = install.install_command(None, python, lock, bundle)
    assert pip[:3] == [str(python), "-m", "pip"] and pip[-3:] == ["--no-index", "--find-links", str(bundle)]
    uv = install.install_command("/bin/uv", python, lock, bundle)
    assert uv[:3] == ["/bin/uv", "pip", "install"] and "--offline" in uv and "--no-index" in uv
    assert "--no-index" not in install.install_command(None, python, lock, None)


def test_the_pinned_uv_is_the_one_make_lock_uses() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert f"UV_VERSION := {install.UV_VERSION}\n" in makefile


def test_a_symlinked_venv_loses_its_link_never_its_target(tmp_path: Path) -> None:
    target = tmp_path / "shared-venv"
    (target / "bin").mkdir(parents=True)
    link = tmp_path / ".venv"
    link.symlink_to(target)
    install.remove_venv(link)
    assert not link.exists() and (target / "bin").is_dir()


def test_the_learner_lock_goes_first_for_every_group() -> None:
    assert install.needed_groups("learner") == ["learner"]
    assert install.needed_groups("dev") == ["learner", "dev"]


def tiny_wheel(folder: Path) -> None:
    """A one-module wheel made by hand, so the test needs no index to get one."""
    folder.mkdir()
    info = "tinycourse_pkg-1.0.dist-info"
    files = {
        "tinycourse_pkg.py": "ANSWER = 42\n",
        f"{info}/METADATA": "Metadata-Version: 2.1\nName: tinycourse-pkg\nVersion: 1.0\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{name},,\n" for name in [*files, f"{info}/RECORD"])
    with zipfile.ZipFile(folder / "tinycourse_pkg-1.0-py3-none-any.whl", "w") as wheel:
        for name, text in {**files, f"{info}/RECORD": record}.items():
            wheel.writestr(name, text)


# Each creates a real venv: ensurepip alone takes 4 s of CPU, far more on a loaded machine.
@pytest.mark.timeout(180)
def test_a_bundle_installs_with_the_network_off_and_a_second_run_does_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The offline path of the setup page: a fresh venv, pip told not to use an index, and a proxy that
    answers nothing, so any attempt to reach the network would fail the install."""
    (tmp_path / "requirements.lock").write_text("tinycourse-pkg==1.0\n", encoding="utf-8")
    tiny_wheel(tmp_path / "bundle")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    for variable in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.setenv(variable, "http://127.0.0.1:9")
    said: list[str] = []
    install.install("learner", tmp_path, "pip", tmp_path / "bundle", sys.executable, said.append)
    python = locks.venv_python(tmp_path / ".venv")
    answer = subprocess.run([str(python), "-c", "import tinycourse_pkg; print(tinycourse_pkg.ANSWER)"],
                            capture_output=True, text=True, check=True)
    assert answer.stdout == "42\n"
    assert said == ["Setting up the course environment in .venv with pip (first run only)...", "Environment ready."]
    assert (tmp_path / ".venv" / locks.stamp_name(tmp_path / "requirements.lock")).exists()
    said.clear()
    install.install("learner", tmp_path, "pip", tmp_path / "bundle", sys.executable, said.append)
    assert said == ["Environment ready."]
    # A lock that changed only in its comments: the environment already has every pin, so it is kept.
    lock = tmp_path / "requirements.lock"
    lock.write_text("# regenerated\ntinycourse-pkg==1.0\n", encoding="utf-8")
    said.clear()
    install.install("learner", tmp_path, "pip", tmp_path / "bundle", sys.executable, said.append)
    assert said == ["Environment ready."] and (tmp_path / ".venv" / locks.stamp_name(lock)).exists()


@pytest.mark.timeout(180)
def test_a_failed_install_shows_the_log_tail_and_keeps_the_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "requirements.lock").write_text("tinycourse-pkg==2.0\n", encoding="utf-8")
    tiny_wheel(tmp_path / "bundle")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    with pytest.raises(install.InstallError) as failure:
        install.install("learner", tmp_path, "pip", tmp_path / "bundle", sys.executable, lambda _: None)
    message = str(failure.value)
    assert "tinycourse-pkg==2.0" in message
    assert f"the full log is in {tmp_path / '.venv' / 'install.log'}" in message
    assert not (tmp_path / ".venv" / locks.stamp_name(tmp_path / "requirements.lock")).exists()


def test_python_m_course_setup_refuses_an_old_python_in_one_sentence(tmp_path: Path) -> None:
    """Run as Python 3.10 would: the version check comes before anything else."""
    code = ("import sys, runpy; sys.version_info = (3, 10, 12, 'final', 0); sys.argv = ['course', 'setup']; "
            "runpy.run_module('course', run_name='__main__')")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 2
    assert "This course needs Python 3.11 or newer" in result.stderr and "uv python install" in result.stderr


def test_uv_is_found_where_pip_install_target_puts_it_on_each_platform(tmp_path: Path) -> None:
    assert install.uv_in(tmp_path) is None
    windows = tmp_path / "Scripts" / "uv.exe"
    windows.parent.mkdir()
    windows.touch()
    assert install.uv_in(tmp_path) == windows


def test_without_a_bootstrapped_uv_pip_installs_everything(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def pip_fails(command: list[str], log: Path) -> None:
        raise install.InstallError("no uv for this platform")

    monkeypatch.setattr(install, "run_logged", pip_fails)
    assert install.bootstrap_uv(tmp_path / "python", tmp_path, tmp_path / "install.log") is None


def dry_run(*args: str) -> str:
    """What `make -n ...` would run: the Makefile's real commands, none of them executed."""
    # -B: as on a fresh clone, whatever stamps this machine's .venv already has. Under `make test` this
    # runs as a sub-make: without make's own variables it neither inherits flags nor names directories.
    env = {name: value for name, value in os.environ.items() if name not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    return subprocess.run(["make", "-n", "-B", "--no-print-directory", *args], cwd=ROOT, capture_output=True,
                          text=True, check=True, env=env).stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="no make on this machine")
@pytest.mark.parametrize(("args", "says"), [
    (("setup",), "-m course.tools.install --group learner"),
    (("setup", "BUNDLE=bundle"), "-m course.tools.install --bundle bundle --group learner"),
    (("test",), "-m course.tools.install --group dev"),
    (("lab",), "-m course.tools.install --group lab"),
    (("serve", "HOST=0.0.0.0"), "mkdocs serve --dev-addr 0.0.0.0:8000"),
    (("deploy",), "mkdocs gh-deploy --strict"),
    (("learner-site",), "COURSE_SITE=learner"),
    (("handout",), "-m course.tools.handout handout"),
    (("bundle",), "pip download --disable-pip-version-check --no-input --quiet -r requirements.lock -d bundle"),
], ids=lambda value: " ".join(value) if isinstance(value, tuple) else None)
def test_each_make_target_runs_what_the_setup_page_says(args: tuple[str, ...], says: str, tmp_path: Path) -> None:
    assert says in dry_run(*args)


@pytest.mark.skipif(shutil.which("make") is None, reason="no make on this machine")
def test_the_doctor_needs_no_environment_and_the_stamps_follow_the_locks() -> None:
    [command] = dry_run("doctor").strip().splitlines()  # nothing installed first
    assert command.endswith(" -m course.tools.doctor")
    stamps = {locks.stamp_name(locks.lock_path(ROOT, group)) for group in locks.GROUPS}
    assert stamps <= set(dry_run("-p").replace(".venv/", "\n").split())


@pytest.mark.timeout(120)  # starts pytest with an xdist worker: two fresh Pythons
def test_after_setup_a_pytest_start_rewrites_no_plugin_again(tmp_path: Path) -> None:
    """Setup saved pytest's rewritten copies of the plugins' modules, so a pytest process where
    PYTHONDONTWRITEBYTECODE is set (as in CI images) reads them instead of rewriting ~300 modules each time."""
    (tmp_path / "test_primer.py").write_text(install.PRIMER_TESTS, encoding="utf-8")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTEST_DEBUG": "1"}
    env.pop("PYTEST_ADDOPTS", None)
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "-n", "1",
                           "test_primer.py"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-2000:]
    traced = done.stdout + done.stderr
    assert "found cached rewritten pyc" in traced  # the trace this test reads is there at all
    rewritten = sorted(set(re.findall(r"rewriting PosixPath\('([^']*site-packages[^']*)'\)", traced)))
    assert not rewritten, f"{len(rewritten)} plugin modules rewritten again, e.g. {rewritten[:3]}"
