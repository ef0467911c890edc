"""The lock files: which packages each group of users installs, and the stamp that says a .venv has them.

Standard library only: the installer and the doctor import this before any package is installed,
possibly from a Python that is too old for the course (they must still say so clearly).

  requirements.lock      learners: the app, grading and the lessons' tools (`make setup`)
  requirements-lab.lock  + JupyterLab, to read the lessons as notebooks (`make lab`)
  requirements-dev.lock  + the site, browser tests, fuzzing, notebook execution (`make test`)

Each lock is complete (every transitive pin) and a lock further down contains the one above it at
the same versions, so installing a bigger group over a smaller one only adds packages.
`make lock` writes all three from pyproject.toml.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

GROUPS = ("learner", "lab", "dev")
LOCK_FILES = {"learner": "requirements.lock", "lab": "requirements-lab.lock", "dev": "requirements-dev.lock"}


@dataclass(frozen=True)
class Pin:
    name: str            # normalised (PEP 503)
    version: str
    marker: str = ""     # an environment marker (`sys_platform == 'win32'`) or "" when every machine needs it


def normalise(name: str) -> str:
    """PEP 503: `Jinja2`, `jinja2` and `jinja_2` name the same distribution."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse(lock_text: str) -> list[Pin]:
    """The `name==version [; marker]` lines of a lock file (comments and blank lines skipped)."""
    found = []
    for line in lock_text.splitlines():
        requirement, _, marker = line.split("#", 1)[0].partition(";")
        name, sep, version = requirement.strip().partition("==")
        if sep:
            found.append(Pin(normalise(name.strip()), version.strip(), marker.strip()))
    return found


def lock_path(root: Path, group: str) -> Path:
    return root / LOCK_FILES[group]


def cksum(data: bytes) -> int:
    """POSIX `cksum` (the CRC the Makefile names its install stamps after); zlib's crc32 is a different CRC."""
    crc = 0
    for byte in data:
        crc = _step(crc, byte)
    length = len(data)
    while length:
        crc = _step(crc, length & 0xFF)
        length >>= 8
    return ~crc & 0xFFFFFFFF


def _step(crc: int, byte: int) -> int:
    crc ^= byte << 24
    for _ in range(8):
        crc = ((crc << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if crc & 0x80000000 else (crc << 1) & 0xFFFFFFFF
    return crc


SETUP_VERSION = "v2"


def stamp_name(lock: Path) -> str:
    """`.installed-v2-requirements-dev-1234567`: the Makefile computes the same name with `cksum`. The setup's
    version (v2: it caches pytest's rewritten plugins) makes an environment set up by an older one run the
    setup once more, which installs nothing already pinned."""
    return f".installed-{SETUP_VERSION}-{lock.stem}-{cksum(lock.read_bytes())}"


def venv_python(venv: Path) -> Path:
    """The virtual environment's interpreter: bin/python, or Scripts/python.exe on Windows."""
    return venv / "Scripts" / "python.exe" if os.name == "nt" else venv / "bin" / "python"
