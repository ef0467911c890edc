"""Blocking calls in async code, found by ruff's flake8-async rules (ASYNC...) and mapped onto the course's rules.

ruff already knows these patterns and keeps them current; the audit only translates its findings.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from course.audit.project import Project
from course.audit.rules import Finding

# ruff codes the audit reports, and the course rule each belongs to. Others (file access in tests,
# functions with a timeout parameter) are ruff's business, not the lessons'.
RUFF_RULES = {
    "ASYNC110": "poll-loop",
    "ASYNC210": "blocking-call-in-async", "ASYNC212": "blocking-call-in-async", "ASYNC220": "blocking-call-in-async",
    "ASYNC221": "blocking-call-in-async", "ASYNC222": "blocking-call-in-async", "ASYNC250": "blocking-call-in-async",
    "ASYNC251": "blocking-call-in-async",
}


class LinterMissing(Exception):
    """ruff is not installed where the audit runs."""


def ruff_executable() -> str:
    beside = Path(sys.executable).with_name("ruff")
    found = str(beside) if beside.is_file() else shutil.which("ruff")
    if not found:
        raise LinterMissing("ruff is not installed, so blocking calls in async code were not checked "
                            "(pip install -r requirements.lock installs it).")
    return found


def start_ruff(files: list[Path]) -> subprocess.Popen[str] | None:
    """Start ruff on the audited files only, with its defaults (--isolated: the project's ruff settings do not
    apply). It runs while the audit parses the same files, so on two cores it costs almost no wall time."""
    if not files:
        return None
    return subprocess.Popen([ruff_executable(), "check", "--isolated", "--no-cache", "--exit-zero", "--select", "ASYNC",
                             "--output-format", "json", *map(str, files)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def ruff_findings(process: subprocess.Popen[str] | None, project: Project) -> list[Finding]:
    """ruff's findings, as the course's rules, each with the test it is in."""
    if process is None:
        return []
    try:
        stdout, stderr = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise LinterMissing("ruff took more than 120 s, so blocking calls in async code were not checked.") from None
    if process.returncode != 0:
        raise LinterMissing(f"ruff failed ({stderr.strip().splitlines()[-1:] or process.returncode}), "
                            "so blocking calls in async code were not checked.")
    by_path = {str(module.path): module for module in project.modules}
    findings = []
    for item in json.loads(stdout or "[]"):
        rule = RUFF_RULES.get(item.get("code") or "")
        module = by_path.get(item["filename"])
        if rule is None or module is None:
            continue
        line = item["location"]["row"]
        enclosing = [fn for fn in module.functions if fn.node.lineno <= line <= (fn.node.end_lineno or fn.node.lineno)]
        label = enclosing[-1].label if enclosing else ""
        findings.append(Finding(rule, module.rel, line, label, f"ruff {item['code']}: {item['message']}"))
    return findings
