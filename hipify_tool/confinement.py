"""What a run may touch, decided in one place (docs/robustness.md, "What hipify-tool may touch").

A run writes in two kinds of places and nowhere else:

- its **output root**, judged by where it really is (symlinks resolved): it may not be the project
  dir or contain it; one inside the project may hold only hipify-tool's files (the planner decides,
  :data:`~hipify_tool.planned.Ownership`: recorded in its manifest, or carrying the generated banner
  or the planned bytes in a committed tree). Below the root nothing is
  reached through a symlink: every directory on the way to an output must be a real directory, the
  state dir too, and a link at an output's own path is replaced, never followed (:mod:`.fileio`);
- the **build files** it was asked for (``--depfile``, ``--stamp``, ``--output-list``,
  ``--cmake-plan``, ``--report-file``): wherever the build wants them, but never a file the run
  reads, an output of the run or the output root's state, and never two of them on one file.

:class:`OutputRoot` guards writes in the root; :func:`check_roots` and :func:`check_build_files`
refuse a run before it writes anything; :func:`write_build_file` writes the files outside the root.
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import EnvironmentProblem, FileProblem, PlanConflict, UsageError
from .fileio import NAME_MAX, PATH_MAX, atomic_write, holds, is_within, kind_of
from .manifest import STATE_DIR
from .options import OPTION_SPECS, Options

if TYPE_CHECKING:
    from .outcome import Outcome
    from .planned import Plan

__all__ = [
    "OutputRoot",
    "symlink_problem",
    "BUILD_FILE_OPTIONS",
    "check_roots",
    "output_spellings",
    "root_in_project",
    "check_build_files",
    "check_names",
    "shown",
    "make_build_dir",
    "write_build_file",
    "write_cache_file",
]

BUILD_FILE_OPTIONS = tuple(s.name for s in OPTION_SPECS if s.writes and s.name != "output_dir")
"""The options naming files a run writes outside its output root (``depfile``, ``stamp`` ...)."""
_FLAGS = {s.name: s.flags[-1] for s in OPTION_SPECS if s.name in BUILD_FILE_OPTIONS}
_STATE_GITIGNORE = b"# hipify-tool's state: absolute paths and mtimes of this machine, never committed\n*\n"


def shown(path: str) -> str:
    """A path as one line of a message: line breaks (legal in names) made visible."""
    return (
        path.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r") if "\n" in path or "\r" in path else path
    )


# -- the output root --------------------------------------------------------------------------------


def check_roots(o: Options) -> None:
    """The output root against the project and the include dirs, by their real paths: a root that is a
    link into the project (or a project that is a link into the root) is refused like a plain path.
    ``o`` must be :meth:`Options.resolved`."""
    project, output = str(o.project_dir), str(o.output_dir)
    real_project, real_output = os.path.realpath(project), os.path.realpath(output)
    resolves = f" (it resolves to {real_output})" if real_output != output else ""
    if is_within(real_project, real_output) or is_within(project, output):
        raise UsageError(
            f"{output}: output dir must not be the project dir or contain it{resolves} (sources are never "
            "written; in-place translation is not offered)"
        )
    if os.path.lexists(output) and not os.path.isdir(output):
        raise UsageError(f"{output}: output dir exists and is not a directory")
    if len(os.fsencode(os.path.join(real_output, STATE_DIR, "manifest.json"))) > PATH_MAX:
        raise UsageError(f"{output}: output dir path is too long for its state files (over {PATH_MAX} bytes)")
    for nested, base in ((output, project), (real_output, real_project)):
        if is_within(nested, base) and STATE_DIR in Path(nested).relative_to(base).parts:
            raise UsageError(f"{output}: output dir must not be inside a {STATE_DIR} directory")
    for d in o.include_dirs:  # outside the project: a read-only search path, as for a compiler
        if not d.is_dir():
            raise UsageError(f"{d}: include dir does not exist")
        if is_within(str(d), output) or is_within(os.path.realpath(d), real_output):
            raise UsageError(f"{d}: include dir is inside the output dir {output} (outputs are not inputs)")


def root_in_project(o: Options) -> bool:
    """The output root lies in the project dir, by its path or where it resolves: such a root is
    never searched for inputs, and may hold only hipify-tool's files."""
    project, output = str(o.project_dir), str(o.output_dir)
    return is_within(output, project) or is_within(os.path.realpath(output), os.path.realpath(project))


def output_spellings(o: Options) -> tuple[str, ...]:
    """The output root as paths in the project reach it: its own path and, when it resolves into the
    project (``-o`` a link to ``proj/gen``), the project path it resolves to. Discovery and include
    lookups take neither for an input, so a run never reads back what it wrote."""
    project, output = str(o.project_dir), str(o.output_dir)
    real_project, real_output = os.path.realpath(project), os.path.realpath(output)
    if is_within(real_output, real_project):
        seen = os.path.normpath(os.path.join(project, os.path.relpath(real_output, real_project)))
        if seen != output:
            return (output, seen)
    return (output,)


def symlink_problem(path: Path) -> EnvironmentProblem:
    """A link where hipify-tool needs a directory or file of its own (exit 5): never followed."""
    try:
        target = f" (to {os.readlink(path)})"
    except OSError:
        target = ""
    return EnvironmentProblem(f"{path}: is a symlink{target}; hipify-tool never writes through one (remove it)")


class OutputRoot:
    """Guards every write below one output root: each directory on the way is a real directory of the
    root (created as needed), never a symlink, whatever it points to."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.state = root / STATE_DIR
        self.real = os.path.realpath(root)
        self._ready: set[Path] = set()

    def inside(self, path: str) -> bool:
        """``path`` (resolved) lies in the root."""
        return is_within(path, self.real)

    def prepare_state_dir(self) -> Path:
        """The root (created like ``mkdir -p``: a root that is itself a link is the user's choice) and
        its state dir, which must be a real directory."""
        if self.state not in self._ready:
            try:
                self.root.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                where = Path(exc.filename) if exc.filename else self.root
                raise EnvironmentProblem(f"{where}: cannot create the output root ({exc.strerror})") from None
            self.prepare_dir(self.state)
        return self.state

    def keep_state_out_of_git(self) -> None:
        """A ``.gitignore`` in the state dir, so ``git add`` of a committed tree never takes the state:
        it holds absolute paths and mtimes (a fresh clone needs none). Written under the root's lock
        (a run holding it clears other runs' temporary files there)."""
        ignore = self.prepare_state_dir() / ".gitignore"
        if not os.path.lexists(ignore):
            atomic_write(ignore, _STATE_GITIGNORE)

    def prepare_dir(self, directory: Path) -> None:
        """``directory`` (below the root) exists as real directories all the way down."""
        if directory in self._ready:
            return
        rel = os.path.relpath(directory, self.root)
        if rel == os.curdir:
            self._ready.add(directory)
            return
        if rel.startswith(os.pardir):
            raise EnvironmentProblem(f"{directory}: is outside the output root {self.root}; refusing to write")
        current = self.root
        for part in rel.split(os.sep):
            current = current / part
            if current in self._ready:
                continue
            self._make_dir(current)
            self._ready.add(current)

    @staticmethod
    def _make_dir(path: Path) -> None:
        for _ in range(2):  # a concurrent run may create it between the lstat and the mkdir
            try:
                mode = os.lstat(path).st_mode
            except FileNotFoundError:
                try:
                    os.mkdir(path)
                    return
                except FileExistsError:
                    continue
                except OSError as exc:
                    raise EnvironmentProblem(f"{path}: cannot create directory ({exc.strerror})") from None
            except OSError as exc:
                raise EnvironmentProblem(f"{path}: cannot create directory ({exc.strerror})") from None
            if stat.S_ISLNK(mode):
                raise symlink_problem(path)
            if not stat.S_ISDIR(mode):
                raise EnvironmentProblem(f"{path}: is {kind_of(mode)}, not a directory; refusing to write below it")
            return
        raise EnvironmentProblem(f"{path}: cannot create directory")

    def is_symlink_dir(self, directory: Path) -> bool:
        """A directory below the root reached through a link (reads of the root do not follow one)."""
        rel = os.path.relpath(directory, self.root)
        current = self.root
        for part in () if rel == os.curdir else rel.split(os.sep):
            current = current / part
            if os.path.islink(current):
                return True
        return False


# -- build files ------------------------------------------------------------------------------------


def _named(o: Options) -> Iterator[tuple[str, Path]]:
    for name in BUILD_FILE_OPTIONS:
        path = getattr(o, name)
        if path is not None:
            yield _FLAGS[name], path


def check_build_files(o: Options, outcome: Outcome, also_read: Iterable[Path] = ()) -> None:
    """Refuse (exit 2) a build file that is a file the run reads, one of its outputs, in its state
    dir, or named twice. ``also_read``: files a front end read (``--sources-from`` lists).

    Where it is written is its directory's real path and its own name (a link there is replaced);
    what it is compared with the inputs by is the file it reaches (a link or a hard link to a
    source is refused all the same: replacing it is never what was meant). Cheap on a no-op: only
    inputs of the build file's size are looked at. ``outcome`` is the plan's (full or recorded)."""
    named = list(_named(o))
    if not named:
        return
    root = OutputRoot(o.output_dir)
    real_project = os.path.realpath(o.project_dir)
    outputs: Mapping[str, str] | None = None
    seen: dict[str, str] = {}
    for flag, path in named:
        # The entry that will be replaced: a link at the path itself is replaced, never followed.
        written = os.path.join(os.path.realpath(path.parent), path.name)
        if written in seen:
            raise UsageError(f"{path}: named by both {seen[written]} and {flag}; each build file needs its own path")
        seen[written] = flag
        if os.path.isdir(written) and not os.path.islink(written):
            raise UsageError(f"{path}: {flag} names a directory")
        if root.inside(written):
            rel = os.path.relpath(written, root.real).replace(os.sep, "/")
            if rel.split("/")[0] == STATE_DIR:
                raise UsageError(
                    f"{path}: {flag} names hipify-tool's state in the output root; refusing to overwrite it"
                )
            if outputs is None:
                outputs = outcome.produced()
            if rel in outputs:
                raise UsageError(
                    f"{path}: {flag} names an output of this run (the translation of {outputs[rel]}); "
                    "refusing to overwrite it"
                )
        read = _read_by_run(path, outcome, o, also_read)
        if read is not None:
            raise UsageError(f"{path}: {flag} names {read}, which this run reads; refusing to overwrite it")
        if is_within(written, real_project) and not root.inside(written) and written.endswith(o.extensions):
            raise UsageError(
                f"{path}: {flag} names a source of the project dir {o.project_dir} (its extension is "
                "translated); refusing to write it"
            )


def _read_by_run(path: Path, outcome: Outcome, o: Options, also_read: Iterable[Path]) -> str | None:
    """What ``path`` is among the run's inputs (``None``: none of them): by identity, so a link or
    another spelling of a source is caught too."""
    try:
        st = os.stat(path)
    except OSError:
        return None  # missing: not an input (every input exists)
    ident = (st.st_dev, st.st_ino)
    candidates: list[tuple[str, str]] = [
        (candidate, what) for candidate, what, size in outcome.read() if size is None or size == st.st_size
    ]
    candidates += [(str(p), "a --map file") for p in o.maps]
    candidates += [(str(p), "the --baseline report") for p in (o.baseline,) if p is not None]
    candidates += [(str(p), "a --sources-from list") for p in also_read]
    for candidate, what in candidates:
        try:
            other = os.stat(candidate)
        except OSError:
            continue
        if (other.st_dev, other.st_ino) == ident:
            return f"{what} ({candidate})" if candidate != str(path) else what
    return None


def check_names(plan: Plan) -> None:
    """Refuse (exit 4), before anything is written, names no build file can express (a line break:
    depfiles and output lists are line-based) and outputs the file system cannot hold. String tests
    first: bytes are counted only for names long enough to matter."""
    problems: list[FileProblem] = []
    prefix, root = str(plan.options.project_dir), str(plan.options.output_dir)
    broken = [f"{prefix}/{f.source}" for f in plan.files.values() if "\n" in f.source or "\r" in f.source]
    broken += [str(p) for p in plan.external_headers() if "\n" in str(p) or "\r" in str(p)]
    for path in broken:
        message = "a name with a line break cannot be written to a depfile or output list; rename it"
        problems.append(FileProblem(shown(path), message))
    room = PATH_MAX - len(os.fsencode(root)) - 1
    for f in plan.files.values():
        if len(f.output) * 4 <= min(NAME_MAX, room):  # 4: the most bytes one character can take
            continue
        name = os.fsencode(posixpath.basename(f.output))
        path = f"{root}/{f.output}"
        if len(name) > NAME_MAX:
            message = (
                f"output name is {len(name)} bytes, longer than file systems allow ({NAME_MAX}); rename {f.source}"
            )
            problems.append(FileProblem(shown(path), message))
        elif len(os.fsencode(path)) > PATH_MAX:
            problems.append(FileProblem(shown(path), f"output path is longer than systems allow ({PATH_MAX} bytes)"))
    if problems:
        raise PlanConflict(problems)


def make_build_dir(path: Path) -> None:
    """The directory of a build file, created as ``mkdir -p`` would (the build chose where it goes)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EnvironmentProblem(f"{path.parent}: cannot create directory ({exc.strerror})") from None


def write_build_file(path: Path, text: str) -> None:
    """A build file, written atomically and only when its text changes (a build registers some as
    dependencies); its directory is created as needed, a link at its path replaced, never followed."""
    make_build_dir(path)
    data = text.encode()
    if not holds(path, data):
        atomic_write(path, data)


def write_cache_file(path: Path, text: str) -> bool:
    """A cache in an output root's state dir: written only into a real, existing state dir (never
    created here, never through a link); ``False`` when it was not written."""
    try:
        if not stat.S_ISDIR(os.lstat(path.parent).st_mode):
            return False
        write_build_file(path, text)
    except (OSError, EnvironmentProblem):
        return False
    return True
