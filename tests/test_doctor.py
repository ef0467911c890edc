"""The doctor: every check finds the problem it exists for, says how to fix it, and passes a sound setup."""

from __future__ import annotations

import argparse
import shutil
import socket
import ssl
import subprocess
import sys
import urllib.error
from pathlib import Path

import pytest

from course.paths import ROOT
from course.tools import doctor, locks
from course.tools.doctor import BrokenVenv, Environment, Finding

LOCK = ("fastapi==0.163.2\npytest-asyncio==1.5.0\n# a comment\nJinja2==3.1.6  # why\n"
        "colorama==0.4.6 ; sys_platform == 'win32'\n")
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


def test_cksum_is_the_posix_one_the_makefile_names_its_stamps_after() -> None:
    assert locks.cksum(b"") == 4294967295
    if shutil.which("cksum") is None:
        pytest.skip("no cksum program on this machine to compare with")
    lock = ROOT / "requirements.lock"
    expected = subprocess.run(["cksum"], input=lock.read_bytes(), capture_output=True, check=True)
    assert locks.stamp_name(lock) == f".installed-{locks.SETUP_VERSION}-requirements-{int(expected.stdout.split()[0])}"


def test_an_old_python_is_refused_with_how_to_get_a_newer_one() -> None:
    [finding] = doctor.check_python((3, 10, 12), "/usr/bin/python3")
    assert not finding.ok
    assert "3.10.12 (/usr/bin/python3) is too old" in finding.detail
    assert "uv python install" in finding.fix and "PYTHON=python3.12" in finding.fix
    assert doctor.check_python((3, 11, 7))[0].ok


def test_an_old_python_beside_a_sound_venv_is_only_a_note_and_an_old_venv_is_a_problem() -> None:
    assert all(f.ok for f in doctor.check_python((3, 10, 12), venv_version=(3, 12, 1)))
    [_, old_venv] = doctor.check_python((3, 12, 1), venv_version=(3, 10, 4))
    assert not old_venv.ok and "built with Python 3.10.4" in old_venv.detail


def test_pinned_packages_all_present_pass() -> None:
    [finding] = doctor.check_packages(LOCK, INSTALLED.get)
    assert finding.ok
    assert "all 3 pinned packages" in finding.detail


def test_a_platform_only_pin_may_be_absent_but_not_at_another_version() -> None:
    assert doctor.check_packages(LOCK, {**INSTALLED, "colorama": "0.4.6"}.get)[0].ok
    [finding] = failed(doctor.check_packages(LOCK, {**INSTALLED, "colorama": "0.4.1"}.get))
    assert "colorama 0.4.1 (pinned 0.4.6)" in finding.detail


def test_a_missing_or_different_package_is_named_with_the_fix() -> None:
    installed = {**INSTALLED, "fastapi": "0.110.0", "jinja2": None}
    findings = failed(doctor.check_packages(LOCK, installed.get))
    text = " ".join(f.detail for f in findings)
    assert "fastapi 0.110.0 (pinned 0.163.2)" in text
    assert "missing: jinja2" in text
    assert all("make" in f.fix and "setup" in f.fix for f in findings)


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


def sound(python: Path) -> Environment:
    return Environment((3, 11, 7), dict(INSTALLED), {"pytest-asyncio": "pytest_asyncio.plugin"})


def with_python(course_root: Path) -> Path:
    python = locks.venv_python(course_root / ".venv")
    python.parent.mkdir(parents=True)
    python.touch()
    return python


def test_no_virtual_environment_means_make_setup(course_root: Path) -> None:
    [finding], environment = doctor.check_venv(course_root, sound)
    assert not finding.ok and environment is None
    assert "make setup" in finding.fix


def test_a_venv_without_its_python_is_broken(course_root: Path) -> None:
    (course_root / ".venv").mkdir()
    [finding], _ = doctor.check_venv(course_root, sound)
    assert not finding.ok
    assert ".venv is broken: it has no" in finding.detail and "make clean setup" in finding.fix


def test_a_venv_whose_python_does_not_run_is_broken(course_root: Path) -> None:
    with_python(course_root)

    def dead(python: Path) -> Environment:
        raise BrokenVenv(f"{python} does not start (No such file or directory)")

    [finding], _ = doctor.check_venv(course_root, dead)
    assert not finding.ok
    assert "does not start" in finding.detail and "make clean setup" in finding.fix


def test_the_real_probe_reads_the_running_python_and_a_missing_one_is_broken(tmp_path: Path) -> None:
    environment = doctor.probe_venv(Path(sys.executable))
    assert environment.version == tuple(sys.version_info[:3])
    assert environment.version_of("pytest-asyncio") == "1.5.0"
    assert "pytest-asyncio" in environment.plugins
    with pytest.raises(BrokenVenv, match="does not start"):
        doctor.probe_venv(tmp_path / "no-python")


def test_a_venv_built_from_an_older_lock_is_stale(course_root: Path) -> None:
    with_python(course_root)
    (course_root / ".venv" / ".installed-requirements-12345").touch()
    [finding], _ = doctor.check_venv(course_root, sound)
    assert not finding.ok
    assert "not built from the current requirements.lock" in finding.detail


def test_a_venv_built_from_this_lock_is_current(course_root: Path) -> None:
    with_python(course_root)
    (course_root / ".venv" / locks.stamp_name(course_root / "requirements.lock")).touch()
    [finding], environment = doctor.check_venv(course_root, sound)
    assert finding.ok and environment is not None
    assert "matches requirements.lock" in finding.detail


def timeout_error(*_: object) -> None:
    raise urllib.error.URLError(TimeoutError("timed out"))


@pytest.mark.parametrize(("error", "says", "fix"), [
    (urllib.error.URLError(TimeoutError("timed out")), "did not answer within 5 s", "HTTPS_PROXY"),
    (urllib.error.URLError(socket.gaierror(-2, "Name or service not known")), "cannot find https://pypi.org", "offline bundle"),
    (urllib.error.URLError(ssl.SSLCertVerificationError(1, "self-signed certificate in chain")), "certificate is not trusted",
     "PIP_CERT"),
    (urllib.error.URLError(ConnectionRefusedError(111, "refused")), "connection to https://pypi.org was refused", "firewall"),
    (urllib.error.HTTPError("https://pypi.org/simple/pip/", 403, "Forbidden", {}, None), "answered HTTP 403", "index-url"),
], ids=["timeout", "no DNS", "TLS inspected", "refused", "HTTP error"])
def test_each_network_failure_is_named_with_its_fix(error: Exception, says: str, fix: str) -> None:
    def get(url: str, proxy: str | None, timeout: float) -> None:
        assert url == "https://pypi.org/simple/pip/" and timeout == doctor.NETWORK_TIMEOUT
        raise error

    [finding] = doctor.check_network({}, {}, needed=True, get=get)
    assert not finding.ok
    assert says in finding.detail and fix in finding.fix


def test_a_proxy_that_wants_a_password_is_named_without_showing_secrets() -> None:
    def get(url: str, proxy: str | None, timeout: float) -> None:
        assert proxy == "http://me:secret@proxy.corp:3128"
        raise urllib.error.HTTPError(url, 407, "Proxy Authentication Required", {}, None)

    [finding] = doctor.check_network({}, {"proxy": "http://me:secret@proxy.corp:3128"}, needed=True, get=get)
    assert not finding.ok
    assert "http://proxy.corp:3128 asks for a user name and password" in finding.detail
    assert "secret" not in finding.detail and "HTTPS_PROXY=http://USER:PASSWORD@HOST:PORT" in finding.fix


def test_the_index_and_proxy_come_from_pip_config_and_pip_variables(tmp_path: Path) -> None:
    config = tmp_path / "pip.conf"
    config.write_text("[global]\nindex-url = https://mirror.corp/simple\nproxy = http://proxy.corp:3128\n", encoding="utf-8")
    assert doctor.pip_config_files({"PIP_CONFIG_FILE": str(config)}, prefix=str(tmp_path / "none"))[-1] == config
    settings = doctor.pip_settings({"PIP_PROXY": "http://other:8080"}, [config])
    assert settings["index-url"] == "https://mirror.corp/simple" and settings["proxy"] == "http://other:8080"
    seen = []
    doctor.check_network({}, settings, needed=True, get=lambda url, proxy, timeout: seen.append((url, proxy)))
    assert seen == [("https://mirror.corp/simple/pip/", "http://other:8080")]


def test_a_proxy_only_in_pip_config_is_named_since_uv_does_not_read_it() -> None:
    [finding] = doctor.check_uv_settings({}, {"proxy": "http://proxy.corp:3128"}, needed=True)
    assert not finding.ok
    assert "proxy (uv reads HTTPS_PROXY)" in finding.detail and "COURSE_INSTALLER=pip" in finding.fix
    assert doctor.check_uv_settings({"HTTPS_PROXY": "http://proxy.corp:3128"}, {"proxy": "x"}, needed=True) == []
    assert doctor.check_uv_settings({"COURSE_INSTALLER": "pip"}, {"proxy": "x"}, needed=True) == []
    assert doctor.check_uv_settings({}, {"proxy": "x"}, needed=False)[0].ok


def test_a_reachable_index_passes_and_names_the_environment_proxy() -> None:
    [finding] = doctor.check_network({"HTTPS_PROXY": "http://u:p@proxy.corp:3128"}, {}, needed=True,
                                     get=lambda *_: None)
    assert finding.ok
    assert finding.detail == "the package index https://pypi.org answers through the proxy http://proxy.corp:3128"


def test_no_network_once_everything_is_installed_is_only_a_note() -> None:
    [finding] = doctor.check_network({}, {}, needed=False, get=timeout_error)
    assert finding.ok
    assert "nothing is left to install" in finding.detail


def test_an_offline_pip_setting_skips_the_probe() -> None:
    [finding] = doctor.check_network({}, doctor.pip_settings({"PIP_NO_INDEX": "1"}, []), needed=True, get=timeout_error)
    assert finding.ok and "without an index" in finding.detail


def test_the_real_fetch_gives_up_quickly_on_a_silent_server() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()  # accepts the connection, never answers
        with pytest.raises((urllib.error.URLError, TimeoutError, socket.timeout)):
            doctor.fetch(f"http://127.0.0.1:{server.getsockname()[1]}/simple/pip/", None, 0.2)


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


def test_the_last_line_says_ready_only_when_every_check_passes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(doctor, "run_checks", lambda: [Finding("python", True, "Python 3.11.7")])
    assert doctor.main(argparse.Namespace()) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "ready"
    monkeypatch.setattr(doctor, "run_checks", lambda: [Finding("ports", False, "port 8001 is in use", "stop it"),
                                                       Finding("network", False, "no answer", "proxy")])
    assert doctor.main(argparse.Namespace()) == 1
    out = capsys.readouterr().out
    assert "✘ ports" in out and "fix: stop it" in out
    assert out.splitlines()[-1] == "not ready: 2 check(s) to fix: ports, network (each ✘ above has its fix)"


def test_the_real_doctor_runs_every_check(course_root: Path) -> None:
    with_python(course_root)
    (course_root / ".venv" / locks.stamp_name(course_root / "requirements.lock")).touch()
    findings = doctor.run_checks(course_root, {}, probe=sound, get=lambda *_: None)
    assert {f.check for f in findings} == {"python", "venv", "packages", "plugins", "network", "ports", "git"}


def test_before_any_install_the_doctor_checks_the_network_and_says_setup(course_root: Path) -> None:
    findings = doctor.run_checks(course_root, {}, probe=sound, get=timeout_error)
    problems = {f.check: f for f in failed(findings)}
    assert set(problems) >= {"venv", "network"}
    assert "packages" not in {f.check for f in findings}


@pytest.mark.parametrize("module", ["course.tools.doctor", "course.tools.install", "course.tools.locks"])
def test_the_setup_modules_import_without_any_installed_package(module: str) -> None:
    """-S -I: no site-packages at all, as with a bare python3 before `make setup`."""
    code = f"import sys; sys.path.insert(0, {str(ROOT)!r}); import {module}; " \
           "print(sorted(m for m in sys.modules if m.split('.')[0] not in sys.stdlib_module_names and m not in ('course', '__main__') " \
           "and not m.startswith('course.')))"
    result = subprocess.run([sys.executable, "-S", "-I", "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
