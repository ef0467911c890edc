"""The installed distributions, read once by the grader instead of twice by every run.

Each pytest run lists every installed distribution and parses its entry points twice as it starts
(loading plugins, then marking them for assert rewriting), and the files of each pytest plugin's: about
0.014 CPU-s a run, a tenth of a lesson 2 run. The grader reads them once before it forks (`remember`);
each run then gets the same distributions, in the same order, from memory (`install`).
"""

from __future__ import annotations

import functools
import importlib.metadata
from collections.abc import Iterator
from typing import Any

_remembered: list[importlib.metadata.Distribution] = []


class _Remembered(importlib.metadata.Distribution):
    """One installed distribution whose metadata files, entry points and file list are read once."""

    def __init__(self, distribution: importlib.metadata.Distribution) -> None:
        self._distribution = distribution

    @functools.cache  # noqa: B019 - a few hundred objects that live as long as the grader
    def read_text(self, filename: str) -> str | None:
        return self._distribution.read_text(filename)

    def locate_file(self, path: Any) -> Any:  # noqa: ANN401 - importlib.metadata's own signature
        return self._distribution.locate_file(path)

    @functools.cached_property
    def entry_points(self) -> importlib.metadata.EntryPoints:  # type: ignore[override]
        return super().entry_points

    @functools.cached_property
    def files(self) -> list[importlib.metadata.PackagePath] | None:  # type: ignore[override]
        return super().files


def remember() -> None:
    """Read what a run's pytest reads of each distribution (once per grading process)."""
    if _remembered:
        return
    for distribution in importlib.metadata.distributions():
        remembered = _Remembered(distribution)
        if any(point.group == "pytest11" for point in remembered.entry_points):
            remembered.files  # noqa: B018 - read now, not in every run
        _remembered.append(remembered)


def install() -> None:
    """In a run: list the remembered distributions (a query by name or path still reads the disk)."""
    if not _remembered:
        return
    everything = importlib.metadata.distributions

    def distributions(**query: Any) -> Iterator[importlib.metadata.Distribution]:  # noqa: ANN401
        return iter(_remembered) if not query else everything(**query)

    importlib.metadata.distributions = distributions  # type: ignore[assignment]
