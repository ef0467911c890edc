"""The audit's two outputs: text grouped by lesson for people, JSON for CI."""

from __future__ import annotations

import json
from collections import defaultdict

from course.audit.rules import RULES, Finding
from course.metadata import load


def _lesson_titles() -> dict[int, str]:
    return {lesson.number: lesson.title for lesson in load().lessons}


def render_text(findings: list[Finding], header: list[str], notes: list[str]) -> str:
    lines = list(header)
    by_lesson: dict[int, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_lesson[RULES[finding.rule].lesson].append(finding)
    titles = _lesson_titles()
    for lesson in sorted(by_lesson):
        lines += ["", f"── Lesson {lesson}: {titles.get(lesson, '')} " + "─" * 20]
        for rule_id in dict.fromkeys(f.rule for f in by_lesson[lesson]):
            rule = RULES[rule_id]
            mine = [f for f in by_lesson[lesson] if f.rule == rule_id]
            lines += ["", f"{rule.title} [{rule.id}] ({len(mine)})", f"  why: {rule.why}", f"  fix: {rule.fix}",
                      f"  read: {rule.link}"]
            for f in mine:
                where = f"{f.path}:{f.line}" if f.line else f.path
                lines.append(f"  - {where}" + (f"  {f.test}" if f.test else "") + (f": {f.detail}" if f.detail else ""))
    lines += [""] + [f"note: {note}" for note in notes]
    count = len(findings)
    rules = len({f.rule for f in findings})
    lines.append(f"{count} finding(s) of {rules} kind(s)." if count else "No findings: nothing the lessons warn about was seen.")
    return "\n".join(lines)


def render_json(findings: list[Finding], summary: dict[str, object], notes: list[str]) -> str:
    items = [{"rule": f.rule, "path": f.path, "line": f.line, "test": f.test, "detail": f.detail,
              "lesson": RULES[f.rule].lesson, "section": RULES[f.rule].link, "why": RULES[f.rule].why,
              "fix": RULES[f.rule].fix, "source": "ruff" if f.detail.startswith("ruff ") else "course"}
             for f in findings]
    return json.dumps({**summary, "notes": notes, "count": len(items), "findings": items}, indent=1)
