"""Recall questions, parsed from the lesson's own Markdown (its `## Recall` section is the one source)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_QUESTION = re.compile(r"^### Q(\d+)\. (.+?)\n(.*?)(?=^### Q\d+\. |^## |\Z)", re.S | re.M)
_CHOICE = re.compile(r"^(\d+)\. (.+)$", re.M)
_ANSWER = re.compile(r"<summary>Answer</summary>\s*\*\*(\d+)\.\*\*\s*(.+?)(?=^- \*\*\d+\*\*|</details>)", re.S | re.M)
_WRONG = re.compile(r"^- \*\*(\d+)\*\* (.+?)(?=^- \*\*\d+\*\*|</details>)", re.S | re.M)


class RecallFormatError(ValueError):
    """A recall question is not in the format the quiz reads."""


@dataclass(frozen=True)
class Question:
    number: int
    text: str
    choices: tuple[str, ...]
    answer: int  # 1-based
    why: str
    wrong: dict[int, str]


def _clean(text: str) -> str:
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", text)  # links: keep the words
    return " ".join(text.replace("`", "").split())


def parse(markdown: str, source: str = "lesson") -> list[Question]:
    section = markdown.split("\n## Recall", 1)
    if len(section) < 2:
        raise RecallFormatError(f"{source}: no '## Recall' section")
    body = re.split(r"^## (?!Recall)", section[1], maxsplit=1, flags=re.M)[0]
    questions = []
    for match in _QUESTION.finditer(body):
        number, text, rest = int(match.group(1)), match.group(2), match.group(3)
        head = rest.split("<details", 1)[0]
        choices = tuple(_clean(c) for _, c in _CHOICE.findall(head))
        answer = _ANSWER.search(rest)
        if len(choices) < 2 or not answer:
            raise RecallFormatError(f"{source}: Q{number} needs numbered choices and an Answer block starting **N.**")
        correct = int(answer.group(1))
        wrong = {int(n): _clean(t) for n, t in _WRONG.findall(rest)}
        missing = set(range(1, len(choices) + 1)) - {correct} - set(wrong)
        if not 1 <= correct <= len(choices) or missing:
            raise RecallFormatError(f"{source}: Q{number} must explain every wrong choice (missing {sorted(missing)})")
        questions.append(Question(number, _clean(text), choices, correct, _clean(answer.group(2)), wrong))
    if not questions:
        raise RecallFormatError(f"{source}: the Recall section has no '### Q1. …' questions")
    return questions


def load_questions(page: Path) -> list[Question]:
    return parse(page.read_text(encoding="utf-8"), page.name)


def run(questions: list[Question], ask=input, say=print) -> int:
    """Ask each question in the terminal; return how many were answered right first time."""
    score = 0
    for q in questions:
        say(f"\nQ{q.number}. {q.text}")
        for index, choice in enumerate(q.choices, 1):
            say(f"  {index}. {choice}")
        while True:
            reply = ask(f"Your answer (1-{len(q.choices)}, or q to stop): ").strip().lower()
            if reply == "q":
                say(f"\nStopped: {score} right so far.")
                return score
            if reply.isdigit() and 1 <= int(reply) <= len(q.choices):
                break
            say(f"Please type a number from 1 to {len(q.choices)}.")
        picked = int(reply)
        if picked == q.answer:
            score += 1
            say(f"Right. {q.why}")
        else:
            say(f"Not quite. {picked} {q.wrong[picked]}")  # the lesson writes "- **2** is wrong: …"
            say(f"The answer is {q.answer}: {q.why}")
    say(f"\n{score}/{len(questions)} right first time.")
    return score
