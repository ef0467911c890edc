"""`python -m course audit PATH`: the command line around the audit (arguments, bad input, exit codes)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="the folder of the project (or of its tests) to audit")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="text for people, json for CI")
    parser.add_argument("--run", action="store_true",
                        help="also run the suite: several random orders and once with warnings as errors")
    parser.add_argument("--python", default=None,
                        help="the project's own interpreter for --run (default: the project's .venv, else this Python)")
    parser.add_argument("--runs", type=int, default=3, help="random-order runs with --run (default 3)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds each run of the suite may take (default 600)")


def _bad_input(args: argparse.Namespace) -> str | None:
    path = Path(args.path)
    if not path.exists():
        return f"{args.path} does not exist: give the folder of a project or of its tests."
    if not path.is_dir():
        return f"{args.path} is not a folder: give the folder of a project or of its tests, not a file."
    if args.runs < 1 or args.timeout <= 0:
        return "--runs must be at least 1 and --timeout more than 0."
    if args.python and not Path(args.python).is_file():
        return f"--python {args.python} is not a file: give the path of the project's Python interpreter."
    return None


def main(args: argparse.Namespace) -> int:
    # Imported here: every command of `python -m course` builds this command's parser, and the audit's
    # rules take 35 ms to import, a cost that grading paid before each of its runs could start.
    from course.audit.engine import audit
    from course.audit.output import render_json, render_text

    problem = _bad_input(args)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    report = audit(Path(args.path))
    findings, notes = list(report.findings), list(report.notes)
    summary: dict[str, object] = {"path": str(report.root), "files": report.files,
                                  "config": str(report.config.path) if report.config.path else None}
    if args.run:
        from course.audit.run import run_suite  # only --run needs subprocesses and a temporary folder

        outcome = run_suite(report.root, args.python, args.runs, args.timeout)
        findings += outcome.findings
        notes += outcome.notes
        summary["runs"] = outcome.summary
    if args.format == "json":
        print(render_json(findings, summary, notes))
    else:
        config = report.config.path or "none found"
        header = [f"Audit of {report.root}: {report.files} Python file(s) read, pytest settings from {config}."]
        if args.run:
            header.append(outcome.headline)
        print(render_text(findings, header, notes))
    return 1 if findings else 0
