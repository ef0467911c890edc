"""Lessons are written once, as Markdown; their notebooks are generated from it with jupytext.

`sync` writes every `lessons/NN-*.ipynb` from its `.md`; `drift` says which committed notebooks
no longer match their Markdown; `execute` runs a notebook top to bottom in a fresh kernel, and
`expected_output_mismatches` checks that each output block the lesson shows is what the cell
above it really printed.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat

from course.paths import LESSONS_DIR

# A lesson's first code cell makes the course importable wherever Jupyter started: it is written
# ```python {.course-setup} in the Markdown (the site can hide it by that class) and tagged in the notebook.
SETUP_TAG = "course-setup"
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
        # ```python {.course-setup}: the site hides the fence by its class, the notebook tags the cell.
        setup = cell.metadata.get("incorrectly_encoded_metadata") == f"{{.{SETUP_TAG}}}"
        cell.metadata = {"tags": [SETUP_TAG]} if setup else {}
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
    shown: str  # the block as the lesson shows it
    output: str  # what the cell really printed (normalised)
    reason: str


ELISION = "…"  # a line that is exactly this, in a shown block, says that lines were left out there

# What may differ between the shown block and a new run (on another machine, or another Python 3.11+),
# and nothing else; each is masked the same way in the block and in the output:
_VARYING = (
    (re.compile(r"0x[0-9a-fA-F]+"), "0x…"),  # memory addresses: new on every run
    # durations, and differences of durations ("in 0.12s", "5.01s call", "[took 8.1 s]", "saved -0.05 ms"):
    (re.compile(r"-?\b\d+\.\d+(?= ?m?s\b)"), "…"),
    (re.compile(r"\bgw\d+\b"), "gw…"),  # the pytest-xdist worker that happened to run a test ("[gw1]")
    (re.compile(r"\bid='\d+'"), "id='…'"),  # object ids in unittest.mock's reprs
    (re.compile(r"\b[0-9a-f]{32}\b"), "…"),  # random ids (uuid4().hex: conversation and request ids)
    (re.compile(r"[^\s\"']*/ipykernel_\d+/"), "…/ipykernel_…/"),  # the kernel's folder for its cells' code
    # where Python and its packages are installed ("/usr/lib/python3.11/", ".venv/lib/python3.11/site-packages/",
    # or relative to the demo's folder, "../../usr/lib/..."), and the line numbers in those files:
    (re.compile(r"[^\s\"'<>()\[\]]*/lib/python3\.\d+/(?:site-packages/)?"), "…/"),
    (re.compile(r"(…/[\w/.-]+\.py):\d+"), r"\1:…"),
    (re.compile(r'(File "…/[^"]+", line )\d+'), r"\1…"),
)


def normalise(text: str) -> list[str]:
    """The lines of `text` as compared: without colour codes, trailing spaces, or blank lines at either
    end, and with the values in `_VARYING` (addresses, durations, xdist workers, where Python and the
    kernel keep their files) masked."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    for pattern, mask in _VARYING:
        text = pattern.sub(mask, text)
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _cell_output(cell: nbformat.NotebookNode) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type in ("execute_result", "display_data"):
            parts.append(output.data.get("text/plain", "") + "\n")
        elif output.output_type == "error":
            parts.append("\n".join(output.traceback) + "\n")
    return "".join(parts)


def shows(shown: list[str], output: list[str]) -> bool:
    """Whether a shown block is the output: line for line, where each `…` line stands for the lines left
    out there, however many the run printed (a thread dump, a list sorted by timings; possibly none),
    and the lines around it must still appear in the same order."""
    pattern = "".join(r"(?:[^\n]*\n)*?" if line == ELISION else re.escape(line + "\n") for line in shown)
    return re.fullmatch(pattern, "".join(line + "\n" for line in output)) is not None


_EXPECTED = re.compile(r"\A```text\n(.*?)\n?```", re.S)


def expected_output_mismatches(notebook: nbformat.NotebookNode) -> list[Mismatch]:
    """Each ```text block right after a code cell must be that cell's output, as `shows` says."""
    mismatches = []
    cells = notebook.cells
    for index in range(1, len(cells)):
        previous, cell = cells[index - 1], cells[index]
        match = _EXPECTED.match(cell.source) if cell.cell_type == "markdown" else None
        if previous.cell_type != "code" or not match:
            continue
        shown, output = normalise(match.group(1)), normalise(_cell_output(previous))
        if not shows(shown, output):
            mismatches.append(Mismatch(cell=index - 1, shown="\n".join(shown), output="\n".join(output),
                                       reason=_first_difference(shown, output)))
    return mismatches


def _first_difference(shown: list[str], output: list[str]) -> str:
    """Where a shown block without elisions departs from the output (a hint for the author)."""
    for number, (want, got) in enumerate(zip(shown, output), start=1):
        if want != got and want != ELISION:
            return f"line {number} shows {want!r} but the cell printed {got!r}"
    if ELISION in shown:
        return f"the lines around {ELISION!r} do not follow each other in the output"
    if len(shown) != len(output):
        return f"the block shows {len(shown)} line(s) but the cell printed {len(output)}"
    return "the block differs from the output"


KERNEL_START_SECONDS = 300


def execute(markdown: Path, timeout: int = 180) -> nbformat.NotebookNode:
    """Run a lesson's notebook top to bottom in a fresh kernel started in lessons/, as Jupyter would.

    The kernel gets no PYTHONPATH: the notebook's setup cell must find the course by itself."""
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    notebook = build_notebook(markdown)
    with tempfile.TemporaryDirectory(prefix="course-kernel-") as sockets:
        # Over TCP the kernel manager picks free ports, closes them, and the kernel binds them a second
        # later; anything that takes one meanwhile (another notebook's kernel, a test's client) kills the
        # kernel before it answers ("Kernel died before replying to kernel_info", jupyter_client#154).
        # Unix sockets in a directory of this run's own cannot be taken by anyone else.
        kernel = KernelManager(kernel_name="python3", transport="ipc",
                               connection_file=os.path.join(sockets, "kernel.json"))
        # A kernel that starts slowly is a busy machine, not a broken notebook: nbclient's 60 s default
        # failed lesson 7 in CI while the other notebooks and verify's grading shared two CPUs.
        client = NotebookClient(notebook, km=kernel, timeout=timeout, startup_timeout=KERNEL_START_SECONDS,
                                resources={"metadata": {"path": str(LESSONS_DIR)}})
        try:
            client.execute(env={key: value for key, value in os.environ.items() if key != "PYTHONPATH"})
        finally:  # nbclient shuts down only the kernels it made itself
            if kernel.has_kernel:
                kernel.shutdown_kernel(now=True)
    return notebook
