"""Look through each plugin module for fixtures once per grading, not once per run.

When a pytest session starts, its fixture manager looks at every name of every plugin module registered
(`FixtureManager.parsefactories`): some 35 modules and 2,400 names, about 0.015 CPU-s, a sixth of a short
forked run. Those modules are pytest's and its plugins', loaded by the grader before it forks and the same
in every run. The grader finds, once, the few names in each that the look-through can act on: a fixture, or
anything a fixture may hide behind (a wrapper, a classmethod or staticmethod). A run then hands pytest, for
each such module, a stand-in that holds those names only, and pytest's own code does the rest: the same
fixtures, registered in the same order, and the same warnings. A module that has gained or lost a name
since, whose kept names now hold something else, or that makes names up on request is looked through
whole, as always.
"""

from __future__ import annotations

import functools
import sys
import types
from importlib.metadata import entry_points

from _pytest.compat import NOTSET, safe_getattr
from _pytest.fixtures import FixtureFunctionDefinition, FixtureManager


class _Primed:
    """A module's names that matter to the look-through, and what it held when they were found."""

    def __init__(self, module: types.ModuleType, names: list[str]) -> None:
        self.size = len(module.__dict__)
        self.kept = {name: module.__dict__[name] for name in names}
        self.stand_in = types.ModuleType(module.__name__)
        self.stand_in.__dict__.update(self.kept)

    def still_true_of(self, module: types.ModuleType) -> bool:
        return len(module.__dict__) == self.size and all(module.__dict__.get(n) is v for n, v in self.kept.items())


_primed: dict[int, tuple[types.ModuleType, _Primed]] = {}  # by id(module); the module is kept alive with it


def _may_matter(value: object) -> bool:
    """Whether the look-through can act on `value`: a fixture, or something with a fixture behind it."""
    return (type(value) is FixtureFunctionDefinition or type(value) in (classmethod, staticmethod)
            or safe_getattr(value, "__wrapped__", None) is not None)


@functools.cache
def _entry_modules() -> frozenset[str]:
    """The installed plugins' entry modules (read from disk once, not at every grading of `course watch`)."""
    return frozenset(point.module for point in entry_points(group="pytest11"))


def _plugin_modules() -> list[types.ModuleType]:
    """pytest's own plugin modules and the installed plugins' entry modules that are loaded now (plain
    modules only: a module of a class of its own may answer an attribute other than its dictionary does)."""
    names = _entry_modules()
    return [module for name, module in list(sys.modules.items())
            if type(module) is types.ModuleType and (name.startswith("_pytest.") or name in names)]


def prime() -> None:
    """Find, in the grader, the names of each loaded plugin module that a run's look-through can act on."""
    for module in _plugin_modules():
        if id(module) in _primed:
            continue
        names = dir(module)
        if any(name not in module.__dict__ for name in names):  # a module that makes names up: leave it whole
            continue
        _primed[id(module)] = (module, _Primed(module, [n for n in names if _may_matter(module.__dict__[n])]))


def install() -> None:
    """In a run: pytest looks through the stand-in of each primed module that has not changed since."""
    if not _primed:
        return
    original = FixtureManager.parsefactories

    def parsefactories(self: FixtureManager, node_or_obj: object = NOTSET, nodeid: object = NOTSET, *,
                       holder: object = NOTSET, node: object = NOTSET) -> None:
        entry = _primed.get(id(holder))
        if entry is not None and entry[0] is holder and entry[1].still_true_of(holder):  # type: ignore[arg-type]
            holder = entry[1].stand_in
        return original(self, node_or_obj, nodeid, holder=holder, node=node)  # type: ignore[call-overload, no-any-return]

    FixtureManager.parsefactories = parsefactories  # type: ignore[method-assign, assignment]
