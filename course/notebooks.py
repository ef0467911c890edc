"""Lessons are written once, as Markdown; their notebooks are generated from it with jupytext.

`sync` writes every `lessons/NN-*.ipynb` from its `.md`; `drift` says which committed notebooks
no longer match their Markdown; `execute` runs a notebook top to bottom in a fresh kernel and
checks that each expected-output block in the lesson really appears in the cell above it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat

from course.paths import LESSONS_DIR, ROOT

KERNELSPEC = {"display_name": "Python 3 (course)", "language": "python", "name": "python3"}


def lesson_sources() -> list[Path]:
    return sorted(LESSONS_DIR.glob("[0-9][0-9]-*.md"))


# jupytext turns shell fences into executable cells; in a lesson only ```python fences run.
_SHELL_FENCE = re.compile(r"^```(bash|sh|shell|zsh|console|powershell|ps1|bat|cmd)\b", re.M)
_KEPT_FENCE = re.compile(r"^```kept-", re.M)


def build_notebook(markdown: Path) -> nbformat.NotebookNode:
    """The notebook a lesson's Markdown defines (no outputs).

    Deliberately not a jupytext pair: in JupyterLab a paired notebook rewrites its Markdown on every
    save, so a learner's experiments would land in the lesson page. The notebook is generated; only
    the Markdown is a source.
    """
    text = _SHELL_FENCE.sub(r"```kept-\1", markdown.read_text(encoding="utf-8"))
    notebook = jupytext.reads(text, fmt="md")
    notebook.metadata = {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}}
    for index, cell in enumerate(notebook.cells):
        cell.metadata = {}
        cell.id = f"cell-{index:03d}"
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        else:
            cell.source = _KEPT_FENCE.sub("```", cell.source)
    return notebook


def notebook_path(markdown: Path) -> Path:
    return markdown.with_suffix(".ipynb")


def render(notebook: nbformat.NotebookNode) -> str:
    return nbformat.writes(notebook) + "\n"


def sync(sources: list[Path] | None = None) -> list[Path]:
    """Write each lesson's notebook; return the ones that changed."""
    changed = []
    for markdown in sources or lesson_sources():
        target, text = notebook_path(markdown), render(build_notebook(markdown))
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
            changed.append(target)
    return changed


def drift(sources: list[Path] | None = None) -> list[Path]:
    """Committed notebooks that differ from what their Markdown generates."""
    return [notebook_path(md) for md in sources or lesson_sources()
            if not notebook_path(md).exists()
            or notebook_path(md).read_text(encoding="utf-8") != render(build_notebook(md))]


@dataclass(frozen=True)
class Mismatch:
    cell: int
    missing: str
    output: str


_HEX = re.compile(r"0x[0-9a-fA-F]+")


def _normalise(text: str) -> str:
    return _HEX.sub("0x…", text).strip()


def _cell_output(cell: nbformat.NotebookNode) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type in ("execute_result", "display_data"):
            parts.append(output.data.get("text/plain", ""))
        elif output.output_type == "error":
            parts.append("\n".join(output.traceback))
    return re.sub(r"\x1b\[[0-9;]*m", "", "".join(parts))


_EXPECTED = re.compile(r"\A```text\n(.*?)\n```", re.S)


def expected_output_mismatches(notebook: nbformat.NotebookNode) -> list[Mismatch]:
    """Each ```text block right after a code cell must appear, line by line, in that cell's output."""
    mismatches = []
    cells = notebook.cells
    for index in range(1, len(cells)):
        previous, cell = cells[index - 1], cells[index]
        match = _EXPECTED.match(cell.source) if cell.cell_type == "markdown" else None
        if previous.cell_type != "code" or not match:
            continue
        actual = _normalise(_cell_output(previous))
        for line in match.group(1).splitlines():
            wanted = _normalise(line)
            # pytest shortens summary lines to the terminal's width (not on CI): a line that ends in
            # "..." claims only its beginning.
            claim = wanted[:-3].rstrip() if wanted.endswith("...") else wanted
            if claim and wanted != "..." and claim not in actual:
                mismatches.append(Mismatch(cell=index - 1, missing=wanted, output=actual))
                break
    return mismatches


def execute(markdown: Path, timeout: int = 180) -> nbformat.NotebookNode:
    """Run a lesson's notebook top to bottom in a fresh kernel (cwd: lessons/)."""
    from nbclient import NotebookClient

    notebook = build_notebook(markdown)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(LESSONS_DIR)}})
    client.execute(env=_kernel_env())
    return notebook


def _kernel_env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env
