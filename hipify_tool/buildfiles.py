"""The files a build system reads after a run: output list, CMake plan script, depfile, stamp.

Each is written atomically and only when its text changes (a build registers some of them as
configure or rule dependencies), and the stamp last: it is the build's proof that everything
before it is in place.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .confinement import make_build_dir, write_build_file
from .errors import EnvironmentProblem
from .fileio import touch

if TYPE_CHECKING:
    from .options import ListFormat, Options
    from .outcome import Outcome

StrPath = str | os.PathLike[str]

__all__ = ["format_list", "format_depfile", "format_cmake_plan", "write_build_files", "touch_stamp", "remove_stamp"]


def format_list(paths: Sequence[StrPath], fmt: ListFormat) -> str:
    """Output lists: one path a line, a CMake list, or a JSON array."""
    items = [str(p) for p in paths]
    if fmt == "json":
        return json.dumps(items, indent=1) + "\n"
    if fmt == "cmake":
        return ";".join(item.replace(";", "\\;") for item in items) + "\n"
    return "".join(f"{item}\n" for item in items)


def _escape_make(path: str) -> str:
    return path.replace("$", "$$").replace("#", "\\#").replace(" ", "\\ ")


def format_depfile(targets: Sequence[StrPath], dependencies: Sequence[StrPath]) -> str:
    """Make syntax, as CMake's ``DEPFILE`` and Ninja's ``deps = gcc`` read it."""
    head = " ".join(_escape_make(str(t)) for t in targets)
    deps = " \\\n  ".join(_escape_make(str(d)) for d in dependencies)
    return f"{head}: \\\n  {deps}\n"


def _cmake_quote(path: StrPath) -> str:
    text = str(path)
    for char in ("\\", '"', "$", ";"):
        text = text.replace(char, "\\" + char)
    return f'"{text}"'


def format_cmake_plan(input_outputs: Sequence[StrPath], all_outputs: Sequence[StrPath]) -> str:
    """A CMake script setting the two lists; ``include()`` reads it without any parsing code."""
    lines = ["# Written by hipify-tool; rewritten only when a list changes.", "set(HIPIFY_TOOL_OUTPUTS"]
    lines += [f"  {_cmake_quote(p)}" for p in input_outputs]
    lines += [")", "set(HIPIFY_TOOL_ALL_OUTPUTS"]
    lines += [f"  {_cmake_quote(p)}" for p in all_outputs]
    lines.append(")")
    return "\n".join(lines) + "\n"


def _newest_mtime_ns(outcome: Outcome, others: Iterable[StrPath]) -> int:
    """The newest mtime among the files a run read: the plan's own record of each planned file (no
    second ``stat``), then the few others (external headers, maps)."""
    newest = outcome.newest_read_mtime_ns
    for path in others:
        try:
            newest = max(newest, os.stat(path).st_mtime_ns)
        except OSError:  # gone since the plan read it: the next build sees that for itself
            continue
    return newest


def touch_stamp(stamp: Path, outcome: Outcome, others: Iterable[StrPath] = ()) -> None:
    """Create ``stamp`` or bump its mtime: the build's proof that a run finished, since unchanged
    outputs keep their mtime and cannot serve as one.

    The mtime is now, or the newest mtime among the files the run read when that is later (a file
    dated ahead of the clock): a stamp older than an input it covers would make Make run the rule
    again on every build. A link at the stamp's path is replaced, never followed.
    """
    make_build_dir(stamp)
    touch(stamp, max(time.time_ns(), _newest_mtime_ns(outcome, others)))


def remove_stamp(stamp: Path) -> None:
    """A failed gate (``--strict``) leaves no stamp, so the build runs the rule, and fails, again."""
    try:
        stamp.unlink(missing_ok=True)
    except OSError as exc:
        raise EnvironmentProblem(f"{stamp}: cannot remove ({exc.strerror})") from None


def write_build_files(
    outcome: Outcome, options: Options, *, listed: Sequence[StrPath], ran: bool, passed: bool = True
) -> None:
    """Every build file ``options`` asks for, from a plan's :class:`~hipify_tool.outcome.Outcome` (a
    full plan's or the state record's: one writer for both paths). ``listed`` is the output list
    (``run``: one output per input; ``plan``: every output); ``ran``: the outputs exist, so the depfile
    and stamp may be written; ``passed``: the run passed ``--strict`` (else the stamp is removed, not
    touched).

    The CMake plan script is written only when it changes: a build registers it as a configure
    dependency, so CMake re-runs exactly when the set of outputs changes.
    """
    o = options.resolved()
    if ran and o.depfile is not None:
        targets: Sequence[StrPath] = [o.stamp] if o.stamp is not None else outcome.all_outputs
        write_build_file(o.depfile, format_depfile(targets, outcome.dependencies))
    if o.cmake_plan is not None:
        write_build_file(o.cmake_plan, format_cmake_plan(outcome.input_outputs, outcome.all_outputs))
    if o.output_list is not None:
        write_build_file(o.output_list, format_list(listed, o.list_format))
    if ran and o.stamp is not None:
        if passed:
            touch_stamp(o.stamp, outcome, [*outcome.external_headers, *o.maps])
        else:
            remove_stamp(o.stamp)
