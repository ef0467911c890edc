"""The static audit of one folder: parse it, read its pytest settings, apply the rules, ruff's included."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from course.audit import linter, static
from course.audit.config import PytestConfig, find_config, project_root
from course.audit.project import audited_files, load_project
from course.audit.rules import Finding


@dataclass
class Report:
    root: Path
    config: PytestConfig
    files: int
    findings: list[Finding]
    notes: list[str] = field(default_factory=list)  # what could not be checked, said plainly


def audit(root: Path, use_ruff: bool = True) -> Report:
    root = root.resolve()
    config = find_config(root)
    files = audited_files(root)
    notes: list[str] = []
    ruff = None
    if use_ruff:
        try:
            ruff = linter.start_ruff(files)
        except linter.LinterMissing as missing:
            notes.append(str(missing))
    project = load_project(root, project_root(root), files)
    findings = static.check(project, config)
    try:
        findings += linter.ruff_findings(ruff, project)
    except linter.LinterMissing as missing:
        notes.append(str(missing))
    unique = {finding.key(): finding for finding in sorted(findings, key=lambda f: not f.detail.startswith("ruff"))}
    return Report(root, config, len(project.modules), sorted(unique.values(), key=Finding.key), notes)
