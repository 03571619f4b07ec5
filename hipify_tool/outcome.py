"""What a plan decided, as build files and front ends read it: paths as text, nothing else.

A full plan (:meth:`hipify_tool.planned.Plan.outcome`) and the state record of an unchanged output
root (:mod:`hipify_tool.state`) both give one, so the build files, the ``--output-list`` on stdout and
the build-file checks are the same code whichever path a run took. Kept free of the planner's types
so that the fast path can build one without importing the planner.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

__all__ = ["Outcome", "ReadFile"]

ReadFile = tuple[str, str, "int | None"]
"""A file a run read: its absolute path, what it is in messages (``a source``, ``a header``) and its
size (``None``: not known, compare it whatever its size)."""


@dataclass(frozen=True)
class Outcome:
    """The lists a run's build files and output are made of (absolute paths, in the plan's order)."""

    inputs: tuple[str, ...]
    """The given or selected sources (absolute), in order."""
    input_outputs: tuple[str, ...]
    """One output per input, in input order: what a build compiles."""
    all_outputs: tuple[str, ...]
    """Every output and sibling copy, sorted as paths: what a build declares as OUTPUT."""
    dependencies: tuple[str, ...]
    """Every file the plan read (external headers included)."""
    external_headers: tuple[str, ...]
    warnings: tuple[str, ...]
    stale: tuple[str, ...]
    """Outputs (relative to the output root) whose source is gone."""
    translated_count: int
    file_count: int
    """Planned files (inputs and the headers they reach; sibling copies not counted)."""
    newest_read_mtime_ns: int
    """The newest mtime among the planned files as the plan read them (the stamp is no older)."""
    produced: Callable[[], Mapping[str, str]] = field(compare=False, repr=False)
    """Output (relative to the root) -> what it is the translation of, as messages name it."""
    read: Callable[[], Iterable[ReadFile]] = field(compare=False, repr=False)
    """The files the plan read, for the build-file checks."""
