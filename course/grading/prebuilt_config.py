"""Build pytest's plugin manager and its built-in plugins once per grading, not once per run.

`pytest.main` starts with `_pytest.config.get_config`: a new plugin manager, a new `Config`, and the
registration of some forty built-in plugins (their modules are imported already in a fork; registering
one scans it for hooks and replays every option hook to it). That is about 0.025 CPU-s, a fifth of a
short forked run, and none of it depends on the run, except through `-p no:NAME`, which must block a
built-in plugin before it registers. So the grader builds one such config for each set of blocked
names before it forks (`prime`), and a run's pytest takes its own copy (`install`), with the
invocation parameters (arguments, plugins, directory) that `get_config` would have given it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from _pytest import config as pytest_config

_built: dict[frozenset[str], pytest_config.Config] = {}
_PROG = "pytest.main()"  # what pytest.main passes on to get_config (it names the program in usage errors)


def blocked_names(args: Sequence[str]) -> frozenset[str]:
    """The NAMEs of `-p no:NAME` in `args`, read as pytest's `consider_preparse` reads them."""
    names = set()
    words = iter(args)
    for word in words:
        if word == "-p":
            word = next(words, "")
        elif word.startswith("-p"):
            word = word[2:]
        else:
            continue
        if word.strip().startswith("no:"):
            names.add(word.strip()[3:])
    return frozenset(names)


def prime(args: Sequence[str]) -> None:
    """Build, in the grader, the config that runs with these arguments start from (once per blocked set)."""
    key = blocked_names(args)
    if key in _built or os.environ.get("PYTEST_DEBUG"):  # its tracing would write to the grader's stderr
        return
    _built[key] = pytest_config.get_config([arg for name in sorted(key) for arg in ("-p", f"no:{name}")], prog=_PROG)


def install(args: Sequence[str]) -> None:
    """In a run: its pytest's first `get_config` returns the primed config for `args`, if there is one.

    Any other call (a second session in the same run, other arguments, another `prog`) builds its own,
    as pytest always does."""
    config = _built.get(blocked_names(args))
    if config is None:
        return
    original = pytest_config.get_config

    def get_config(args: Sequence[str] | None = None, plugins: Sequence[object] | None = None, *,
                   prog: str | None = None) -> pytest_config.Config:
        pytest_config.get_config = original
        if prog != _PROG or blocked_names(args or ()) != blocked_names(config.invocation_params.args):
            return original(args, plugins, prog=prog)  # type: ignore[arg-type]
        config.invocation_params = pytest_config.Config.InvocationParams(args=args or (), plugins=plugins,  # type: ignore[arg-type]
                                                                         dir=Path.cwd())
        return config

    pytest_config.get_config = get_config  # type: ignore[assignment]
