"""The inputs of a run: checking the paths it was given and discovering sources. Reads only.

Both run before a run locks (or creates) its output root, so a rejected run leaves nothing behind.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from .confinement import check_roots, output_spellings, root_in_project
from .errors import FileProblem, PlanConflict, UsageError
from .fileio import kind_of
from .includes import is_within
from .options import Options

__all__ = ["check_options", "discover_inputs", "Walked"]


def check_options(o: Options) -> None:
    """Reject bad paths before anything touches the disk. ``o`` must be :meth:`Options.resolved`."""
    if not o.project_dir.is_dir():
        raise UsageError(f"{o.project_dir}: project dir does not exist or is not a directory")
    check_roots(o)
    project, output = str(o.project_dir), str(o.output_dir)
    outputs = output_spellings(o)
    problems: list[FileProblem] = []
    for src in o.sources:
        s = str(src)
        if not src.is_file():
            raise UsageError(f"{s}: {_not_a_file(s, project)}")
        if not is_within(s, project):
            problems.append(FileProblem(s, f"is outside the project dir {project}"))
        elif any(is_within(s, out) for out in outputs):
            problems.append(FileProblem(s, f"is inside the output dir {output}"))
    if problems:
        raise PlanConflict(problems)


def _not_a_file(path: str, project: str) -> str:
    """Why an explicit source cannot be read, in the words a user can act on."""
    if os.path.isdir(path):
        return "is a directory, not a source file"
    if os.path.islink(path):
        try:
            os.stat(path)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return "symlink loop"
            return f"broken symlink (to {os.readlink(path)})"
    if os.path.lexists(path):
        return f"is not a regular file ({kind_of(os.stat(path).st_mode)})"
    return f"no such file{_cwd_hint(path, project)}"


def _cwd_hint(path: str, project: str) -> str:
    """Sources are taken from the current directory; a user may have meant the project dir."""
    meant = os.path.normpath(os.path.join(project, os.path.relpath(path)))
    if is_within(meant, project) and os.path.isfile(meant):
        return f" (paths are taken from the current directory: did you mean {meant}?)"
    return ""


@dataclass
class Walked:
    """What whole-tree discovery looked at, for the state record (:mod:`hipify_tool.state`): a later
    run with the same listings, links and CMake markers would discover the same inputs."""

    dirs: list[str] = field(default_factory=list)
    """Directories listed (absolute)."""
    links: list[str] = field(default_factory=list)
    """Symlinks found in them: what they point to decides whether they are walked or selected."""
    markers: list[str] = field(default_factory=list)
    """``CMakeCache.txt`` files that made the walk skip their directory."""


def discover_inputs(o: Options, walked: Walked | None = None) -> tuple[str, ...]:
    """The inputs: explicit sources in order, then pattern (or default) selections, sorted.

    ``o`` must be :meth:`Options.resolved` and pass :func:`check_options`. ``walked``, when given,
    receives what the discovery looked at.
    """
    project = str(o.project_dir)
    inputs: dict[str, None] = {}
    for src in o.sources:
        inputs.setdefault(os.path.relpath(src, project).replace(os.sep, "/"))
    if not o.sources or o.include or o.exclude:
        for rel in _walk(o, walked if walked is not None else Walked()):
            inputs.setdefault(rel)
    if not inputs:
        skipped = ""
        if root_in_project(o):
            skipped = f"; the output dir {o.output_dir} is inside the project dir and never searched"
        raise UsageError(f"{project}: no input files (give sources or patterns, or check --extension){skipped}")
    return tuple(inputs)


def _cannot_list(exc: OSError) -> None:
    """A directory the walk cannot read would silently drop its sources: make it an error instead."""
    raise UsageError(f"{exc.filename}: cannot list directory ({exc.strerror})")


def _pathspec(patterns: Sequence[str]):  # type: ignore[no-untyped-def]
    import pathspec  # deferred: only pattern-driven runs pay for it

    return pathspec.GitIgnoreSpec.from_lines(patterns)


def _skipped_dir(path: str, name: str, outputs: tuple[str, ...], walked: Walked) -> bool:
    """Directories the walk never enters: hidden ones (``.git``, ``.hipify-tool``), the output root,
    and CMake build trees (a directory holding ``CMakeCache.txt``), whose generated sources are
    not the project's (docs/cli.md, "Inputs")."""
    if name.startswith(".") or any(is_within(path, out) for out in outputs):
        return True
    marker = os.path.join(path, "CMakeCache.txt")
    if os.path.exists(marker):
        walked.markers.append(marker)
        return True
    return False


def _listing(top: str, walked: Walked) -> Iterator[tuple[str, list[str], list[str]]]:
    """``os.walk(top)`` (top-down, links to directories listed but not entered, an unreadable
    directory an error), noting what it looked at in ``walked``."""
    try:
        entries = list(os.scandir(top))
    except OSError as exc:
        _cannot_list(exc)
        return
    walked.dirs.append(top)
    dirs: list[str] = []
    files: list[str] = []
    for entry in entries:
        if entry.is_symlink():
            walked.links.append(entry.path)
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        (dirs if is_dir else files).append(entry.name)
    yield top, dirs, files
    for name in dirs:
        path = os.path.join(top, name)
        if not os.path.islink(path):
            yield from _listing(path, walked)


def _walk(o: Options, walked: Walked) -> list[str]:
    include = _pathspec(o.include) if o.include else None
    exclude = _pathspec(o.exclude) if o.exclude else None
    extensions = tuple(o.extensions)
    project, outputs = str(o.project_dir), output_spellings(o)
    found: list[str] = []
    for dirpath, dirnames, filenames in _listing(project, walked):
        dirnames[:] = sorted(d for d in dirnames if not _skipped_dir(os.path.join(dirpath, d), d, outputs, walked))
        reldir = os.path.relpath(dirpath, project).replace(os.sep, "/")
        for name in filenames:
            if not name.endswith(extensions):
                continue
            rel = name if reldir == "." else f"{reldir}/{name}"
            if include is not None and not include.match_file(rel):
                continue
            if exclude is not None and exclude.match_file(rel):
                continue
            found.append(rel)
    return sorted(found)
