"""Buggy variants of the app: copies of `app/` with one bug's patches applied, never the app itself."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

from course.metadata import Bug, Patch
from course.paths import APP_DIR, ROOT

_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.db")


class PatchError(ValueError):
    """A bug's `find` text is not in the app exactly once: the metadata and the app have drifted."""


def apply_patch(text: str, patch: Patch, bug_id: str) -> str:
    count = text.count(patch.find)
    if count != 1:
        raise PatchError(f"bug {bug_id}: the text to replace occurs {count} times in {patch.file}, not once")
    return text.replace(patch.find, patch.replace)


def patched_files(bug: Bug) -> dict[str, tuple[str, str]]:
    """{relative path: (original text, patched text)} for every file the bug touches."""
    files: dict[str, tuple[str, str]] = {}
    for patch in bug.patches:
        original = files.get(patch.file, (None, None))[0] or (ROOT / patch.file).read_text(encoding="utf-8")
        current = files.get(patch.file, (original, original))[1]
        files[patch.file] = (original, apply_patch(current, patch, bug.id))
    return files


def materialise(bug: Bug | None, workspace: Path) -> Path:
    """Copy the app into `workspace/app` and apply `bug` (None: the real app)."""
    target = workspace / "app"
    shutil.copytree(APP_DIR, target, ignore=_IGNORE)
    if bug is not None:
        for relative, (_, patched) in patched_files(bug).items():
            (workspace / relative).write_text(patched, encoding="utf-8")
    return target


def diff(bug: Bug) -> str:
    """The bug as a unified diff against the real app."""
    chunks = []
    for relative, (original, patched) in patched_files(bug).items():
        chunks.extend(difflib.unified_diff(original.splitlines(keepends=True), patched.splitlines(keepends=True),
                                           fromfile=f"a/{relative}", tofile=f"b/{relative}"))
    return "".join(chunks)
