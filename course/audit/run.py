"""`course audit --run`: what only running the suite shows, with the project's own interpreter.

The suite runs several times in random order (pytest-randomly, else pytest-random-order, else file
order, said plainly) and once with every warning turned into an error. From pytest's JUnit XML and
its warnings summary come the tests whose outcome changes between runs (with the seeds), the
coroutines nobody awaited, the tests that pass only while warnings are ignored, and where the wall
time goes. Nothing is written into the project: no cache, no bytecode, the XML goes to a temporary folder.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from course.audit.config import find_config, project_root
from course.audit.rules import Finding

NEVER_AWAITED = re.compile(r"coroutine '([^']+)' was never awaited")
SLOW_SHARE, SLOW_SECONDS, SLOWEST_SHOWN = 0.10, 1.0, 5


@dataclass
class Run:
    label: str  # "seed 1234", "file order" or "-W error"
    seed: int | None
    outcomes: dict[str, str]  # test id -> passed / failed / error / skipped
    seconds: dict[str, float]
    locations: dict[str, tuple[str, int]]
    wall: float
    output: str
    finished: bool = True


@dataclass
class Outcome:
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    summary: dict[str, object] = field(default_factory=dict)
    headline: str = ""


def interpreter(root: Path, given: str | None) -> str:
    """The project's own Python: --python, else its .venv, else the one running the audit."""
    if given:
        return str(Path(given).absolute())  # not resolve(): a venv's python is a symlink that must stay one
    for folder in (root, project_root(root)):
        for candidate in (folder / ".venv" / "bin" / "python", folder / ".venv" / "Scripts" / "python.exe"):
            if candidate.is_file():
                return str(candidate)
    return sys.executable


def shuffler(python: str) -> str | None:
    """Which random-order plugin the project's Python has: "randomly", "random_order" or None."""
    probe = ("import importlib.util as u; print(' '.join(n for n in ('pytest_randomly', 'random_order') "
             "if u.find_spec(n)))")
    found = subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=60).stdout.split()
    return "randomly" if "pytest_randomly" in found else "random_order" if "random_order" in found else None


def _order_args(plugin: str | None, seed: int | None) -> list[str]:
    if plugin == "randomly":
        return ["-p", "randomly", f"--randomly-seed={seed}"]
    if plugin == "random_order":
        return ["-p", "no:randomly", "-p", "random_order", "--random-order", f"--random-order-seed={seed}"]
    return ["-p", "no:randomly"]


def _parse_junit(path: Path) -> tuple[dict[str, str], dict[str, float], dict[str, tuple[str, int]]]:
    outcomes: dict[str, str] = {}
    seconds: dict[str, float] = {}
    locations: dict[str, tuple[str, int]] = {}
    if not path.exists():
        return outcomes, seconds, locations
    for case in ET.parse(path).getroot().iter("testcase"):
        file = case.get("file") or case.get("classname", "").replace(".", "/") + ".py"
        test_id = f"{file}::{case.get('name')}"
        kinds = {child.tag for child in case}
        outcome = ("error" if "error" in kinds else "failed" if "failure" in kinds
                   else "skipped" if "skipped" in kinds else "passed")
        if outcomes.get(test_id) in ("failed", "error"):  # a teardown error comes as a second entry
            outcome = outcomes[test_id]
        outcomes[test_id] = outcome
        seconds[test_id] = seconds.get(test_id, 0.0) + float(case.get("time") or 0)
        locations[test_id] = (file, int(case.get("line") or -1) + 1)
    return outcomes, seconds, locations


def run_once(python: str, root: Path, args: list[str], label: str, seed: int | None, timeout: float) -> Run:
    cwd = find_config(root).path.parent if find_config(root).path else root
    with tempfile.TemporaryDirectory(prefix="course-audit-") as scratch:
        junit = Path(scratch) / "junit.xml"
        command = [python, "-m", "pytest", str(root), "-p", "no:cacheprovider", "-rN", "--color=no",
                   f"--junitxml={junit}", "-o", "junit_family=xunit1", "-o", "junit_logging=no", *args]
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, start_new_session=True)
        finished = False
        try:
            output, _ = process.communicate(timeout=timeout)
            finished = True
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
        finally:
            if process.poll() is None:  # interrupted: never leave the suite running behind us
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        wall = time.perf_counter() - started
        outcomes, seconds, locations = _parse_junit(junit)
    rel = {test: (_relative(file, cwd, root), line) for test, (file, line) in locations.items()}
    return Run(label, seed, outcomes, seconds, rel, wall, output, finished)


def _relative(file: str, cwd: Path, root: Path) -> str:
    try:
        return (cwd / file).resolve().relative_to(root).as_posix()
    except ValueError:
        return file


def never_awaited(output: str) -> dict[str, set[str]]:
    """Test ids -> coroutine names, from pytest's warnings summary."""
    found: dict[str, set[str]] = defaultdict(set)
    section = output.split("warnings summary", 1)[1] if "warnings summary" in output else ""
    tests: list[str] = []
    fresh = True
    for line in section.splitlines():
        if line.startswith(("-- Docs", "====")):
            break
        if line and not line.startswith(" "):
            tests = tests + [line.strip()] if not fresh else [line.strip()]
            fresh = False
        else:
            fresh = True
            for name in NEVER_AWAITED.findall(line):
                for test in tests:
                    found[test].add(name)
    return found


def _finding(rule: str, test: str, run: Run | None, detail: str) -> Finding:
    path, line = run.locations.get(test, (test.split("::")[0], 0)) if run else (test.split("::")[0], 0)
    return Finding(rule, path, max(line, 0), test.split("::", 1)[-1], detail)


def _flaky(runs: list[Run]) -> list[Finding]:
    findings = []
    tests = sorted({t for run in runs for t in run.outcomes})
    for test in tests:
        seen = {run.label: run.outcomes[test] for run in runs if test in run.outcomes}
        if len({o for o in seen.values() if o != "skipped"}) > 1:
            by = defaultdict(list)
            for label, outcome in seen.items():
                by[outcome].append(label)
            detail = "; ".join(f"{outcome} with {', '.join(labels)}" for outcome, labels in sorted(by.items()))
            findings.append(_finding("flaky-outcome", test, runs[0], detail))
    return findings


def _warning_errors(runs: list[Run], strict: Run) -> list[Finding]:
    findings = []
    for test, outcome in sorted(strict.outcomes.items()):
        if outcome in ("failed", "error") and all(run.outcomes.get(test) == "passed" for run in runs):
            findings.append(_finding("fails-with-warnings-as-errors", test, strict, "passes with warnings shown, fails with -W error"))
    return findings


def _slowest(runs: list[Run]) -> tuple[list[dict[str, object]], list[Finding]]:
    finished = [run for run in runs if run.finished and run.seconds]
    if not finished:
        return [], []
    wall = sorted(run.wall for run in finished)[len(finished) // 2]
    totals: dict[str, list[float]] = defaultdict(list)
    for run in finished:
        for test, seconds in run.seconds.items():
            totals[test].append(seconds)
    typical = {test: sorted(values)[len(values) // 2] for test, values in totals.items()}
    ranked = sorted(typical.items(), key=lambda item: -item[1])[:SLOWEST_SHOWN]
    table = [{"test": test, "seconds": round(seconds, 3), "share": round(seconds / wall, 3)} for test, seconds in ranked]
    findings = [_finding("slow-test", test, finished[0], f"{seconds:.2f} s, {seconds / wall:.0%} of the {wall:.1f} s run")
                for test, seconds in ranked if seconds >= SLOW_SECONDS and seconds / wall >= SLOW_SHARE]
    return table, findings


def run_suite(root: Path, python: str | None, count: int, timeout: float, seeds: list[int] | None = None) -> Outcome:
    """`count` shuffled runs (with `seeds`, or fresh random ones) and one with -W error, read into findings."""
    outcome = Outcome()
    python = interpreter(root, python)
    plugin = shuffler(python)
    if plugin is None:
        outcome.notes.append(f"Neither pytest-randomly nor pytest-random-order is installed for {python}: the "
                             f"{count} runs kept file order, so tests that depend on the order could not show. "
                             "Install pytest-randomly in the project to shuffle.")
    chosen: list[int | None] = list(seeds or [random.randrange(1, 2**31) for _ in range(count)])
    if plugin is None:
        chosen = [None] * count
    runs = [run_once(python, root, _order_args(plugin, seed), f"seed {seed}" if seed else "file order", seed, timeout)
            for seed in chosen]
    strict = run_once(python, root, ["-p", "no:randomly", "-W", "error"], "-W error", None, timeout)
    for run in (*runs, strict):
        if not run.finished:
            outcome.notes.append(f"The run with {run.label} did not finish within {timeout:g} s and was stopped: "
                                 "a test hangs (add pytest-timeout to see which).")
        elif not run.outcomes:
            last = next((line for line in reversed(run.output.strip().splitlines()) if line.strip()), "no output")
            outcome.notes.append(f"The run with {run.label} ran no test: {last.strip()}")
    outcome.findings += _flaky(runs)
    for test, names in sorted(never_awaited("\n".join(run.output for run in runs)).items()):
        outcome.findings.append(_finding("never-awaited", test, runs[0], ", ".join(f"`{n}`" for n in sorted(names))))
    outcome.findings += _warning_errors(runs, strict)
    table, slow = _slowest(runs)
    outcome.findings += slow
    outcome.summary = {"python": python, "shuffled_by": plugin, "runs": [
        {"label": run.label, "seed": run.seed, "wall_seconds": round(run.wall, 2), "finished": run.finished,
         "tests": len(run.outcomes), "failed": sum(o in ("failed", "error") for o in run.outcomes.values())}
        for run in (*runs, strict)], "slowest": table}
    shown = ", ".join(f"{row['test'].split('::')[-1]} {row['seconds']:.2f} s ({row['share']:.0%})" for row in table)
    outcome.headline = (f"Ran the suite {count} time(s) with {plugin or 'no shuffling'} and once with -W error, "
                        f"using {python}. Slowest: {shown or 'none'}.")
    return outcome
