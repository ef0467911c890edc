"""The doctor: every check finds the problem it exists for, says how to fix it, and passes a sound setup."""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from course import doctor
from course.doctor import Finding
from course.paths import ROOT

LOCK = "fastapi==0.163.2\npytest-asyncio==1.5.0\n# a comment\nJinja2==3.1.6  # why\n"
INSTALLED = {"fastapi": "0.163.2", "pytest-asyncio": "1.5.0", "jinja2": "3.1.6"}


def failed(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if not f.ok]


@pytest.fixture
def course_root(tmp_path: Path) -> Path:
    """A folder laid out like the course, with the settings it ships."""
    (tmp_path / "pyproject.toml").write_text('[tool.pytest.ini_options]\nasyncio_mode = "strict"\n', encoding="utf-8")
    (tmp_path / "requirements.lock").write_text(LOCK, encoding="utf-8")
    for folder in ("exercises/lesson01", "solutions/lesson01", "tests"):
        (tmp_path / folder).mkdir(parents=True)
    return tmp_path


def test_cksum_is_the_posix_one_the_makefile_names_its_stamp_after() -> None:
    assert doctor.cksum(b"") == 4294967295
    if shutil.which("cksum") is None:
        pytest.skip("no cksum program on this machine to compare with")
    lock = ROOT / "requirements.lock"
    expected = subprocess.run(["cksum"], input=lock.read_bytes(), capture_output=True, check=True)
    assert doctor.cksum(lock.read_bytes()) == int(expected.stdout.split()[0])


def test_an_old_python_is_refused_with_what_to_install() -> None:
    [finding] = doctor.check_python((3, 10, 12))
    assert not finding.ok
    assert "3.10.12 is too old" in finding.detail
    assert "3.11" in finding.fix
    assert doctor.check_python((3, 11, 7))[0].ok


def test_pinned_packages_all_present_pass() -> None:
    [finding] = doctor.check_packages(LOCK, INSTALLED.get)
    assert finding.ok
    assert "all 3 pinned packages" in finding.detail


def test_a_missing_or_different_package_is_named_with_the_fix() -> None:
    installed = {**INSTALLED, "fastapi": "0.110.0", "jinja2": None}
    findings = failed(doctor.check_packages(LOCK, installed.get))
    text = " ".join(f.detail for f in findings)
    assert "fastapi 0.110.0 (pinned 0.163.2)" in text
    assert "missing: jinja2" in text
    assert all("make setup" in f.fix for f in findings)


def test_a_missing_pytest_asyncio_says_what_learners_will_see() -> None:
    findings = failed(doctor.check_packages(LOCK, {**INSTALLED, "pytest-asyncio": None}.get))
    assert any("async def functions are not natively supported" in f.detail for f in findings)


def test_a_clean_plugin_setup_passes(course_root: Path) -> None:
    [finding] = doctor.check_plugins({"pytest-asyncio": "pytest_asyncio.plugin"}, {}, course_root, trio_installed=False)
    assert finding.ok


@pytest.mark.parametrize(("plugins", "environ", "trio", "says"), [
    ({}, {}, False, "pytest-asyncio is not registered"),
    ({"pytest-asyncio": "x", "pytest-trio": "pytest_trio.plugin"}, {}, False, "pytest-trio is installed"),
    ({"pytest-asyncio": "x"}, {}, True, "runs every @pytest.mark.anyio test twice"),
    ({"pytest-asyncio": "x"}, {"PYTEST_ADDOPTS": "--asyncio-mode=auto"}, False, "PYTEST_ADDOPTS='--asyncio-mode=auto'"),
], ids=["no pytest-asyncio", "pytest-trio", "trio doubles anyio tests", "PYTEST_ADDOPTS"])
def test_conflicting_plugins_are_named(
    plugins: dict[str, str], environ: dict[str, str], trio: bool, says: str, course_root: Path
) -> None:
    findings = failed(doctor.check_plugins(plugins, environ, course_root, trio_installed=trio))
    assert any(says in f.detail and f.fix for f in findings), findings


def test_asyncio_mode_changed_in_pyproject_is_found(course_root: Path) -> None:
    (course_root / "pyproject.toml").write_text('[tool.pytest.ini_options]\nasyncio_mode = "auto"\n', encoding="utf-8")
    [finding] = failed(doctor.check_plugins({"pytest-asyncio": "x"}, {}, course_root, trio_installed=False))
    assert "asyncio_mode = auto" in finding.detail
    assert 'asyncio_mode = "strict"' in finding.fix


@pytest.mark.parametrize("where", ["pytest.ini", "exercises/lesson01/pytest.ini", "tests/tox.ini", "solutions/setup.cfg"])
def test_a_stray_pytest_config_that_would_win_over_pyproject_is_found(where: str, course_root: Path) -> None:
    section = "[tool:pytest]" if where.endswith("setup.cfg") else "[pytest]"
    (course_root / where).write_text(f"{section}\nasyncio_mode = auto\n", encoding="utf-8")
    [finding] = failed(doctor.check_plugins({"pytest-asyncio": "x"}, {}, course_root, trio_installed=False))
    assert where in finding.detail
    assert f"delete {where}" in finding.fix


def test_an_anyio_backend_override_to_trio_is_found(course_root: Path) -> None:
    conftest = course_root / "exercises" / "lesson01" / "conftest.py"
    conftest.write_text('import pytest\n\n@pytest.fixture(params=["asyncio", "trio"])\ndef anyio_backend(request):\n'
                        '    return request.param\n', encoding="utf-8")
    [finding] = failed(doctor.check_plugins({"pytest-asyncio": "x"}, {}, course_root, trio_installed=False))
    assert "exercises/lesson01/conftest.py gives anyio_backend a trio value" in finding.detail
    assert 'return "asyncio"' in finding.fix


def test_a_tox_ini_without_a_pytest_section_is_not_a_pytest_config(course_root: Path) -> None:
    (course_root / "tox.ini").write_text("[tox]\nenvlist = py311\n", encoding="utf-8")
    assert doctor.check_plugins({"pytest-asyncio": "x"}, {}, course_root, trio_installed=False)[0].ok


def test_no_virtual_environment_means_make_setup(course_root: Path) -> None:
    [finding] = doctor.check_venv(course_root)
    assert not finding.ok
    assert finding.fix == "run `make setup`"


def test_a_venv_built_from_an_older_lock_is_stale(course_root: Path) -> None:
    (course_root / ".venv").mkdir()
    (course_root / ".venv" / ".installed-12345").touch()
    [finding] = doctor.check_venv(course_root, prefix=str(course_root / ".venv"))
    assert not finding.ok
    assert "older requirements.lock" in finding.detail


def test_a_venv_built_from_this_lock_is_current(course_root: Path) -> None:
    (course_root / ".venv").mkdir()
    stamp = f".installed-{doctor.cksum((course_root / 'requirements.lock').read_bytes())}"
    (course_root / ".venv" / stamp).touch()
    [finding] = doctor.check_venv(course_root, prefix=str(course_root / ".venv"))
    assert finding.ok


def test_a_port_in_use_is_reported_and_a_free_one_is_not() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        [busy] = doctor.check_ports({port: "make app"})
    assert not busy.ok
    assert f"port {port} on 127.0.0.1 is in use, so `make app` cannot start" in busy.detail
    assert f"lsof -i :{port}" in busy.fix
    [free] = doctor.check_ports({port: "make app"})
    assert free.ok


def test_the_exit_code_is_0_only_when_every_check_passes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(doctor, "run_checks", lambda: [Finding("python", True, "Python 3.11.7")])
    assert doctor.main(argparse.Namespace()) == 0
    assert "All good" in capsys.readouterr().out
    monkeypatch.setattr(doctor, "run_checks", lambda: [Finding("ports", False, "port 8001 is in use", "stop it")])
    assert doctor.main(argparse.Namespace()) == 1
    out = capsys.readouterr().out
    assert "✘ ports" in out and "fix: stop it" in out and "1 problem(s) to fix" in out


def test_the_real_doctor_runs_every_check() -> None:
    assert {f.check for f in doctor.run_checks()} == {"python", "packages", "plugins", "venv", "ports", "git"}
