"""The plan's data: what a run will write, decided by :mod:`hipify_tool.planner` before anything is.

Read by every later stage (materialise, build files, report, check) and returned to API users.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ._version import __version__
from .fileio import read_input
from .includes import IncludeSite, Resolution
from .manifest import Entry
from .options import Options
from .outcome import Outcome, ReadFile

__all__ = ["Plan", "PlannedFile", "IncludeWarning", "Ownership", "options_key"]

Ownership = Literal["recorded", "adopt", "compare"]
"""Which files in the output root a plan takes as hipify-tool's own (it may replace those, never others):

* ``recorded``: those the manifest records (a root runs have written);
* ``adopt``: a root without a manifest (new, or a committed tree in a fresh clone): a file at a planned
  output path that carries PyTorch's generated banner or already holds the planned bytes; a bannered
  file no source produces is a stale output; in a root inside the project dir, any other file is a
  conflict (the root may hold sources);
* ``compare``: ``check``: every file at a planned output path, and nothing on disk is trusted or
  reused (every output is translated afresh); nothing is written.
"""


@dataclass(frozen=True)
class PlannedFile:
    """One input and the output the run writes for it."""

    source: str
    """Relative to the project dir, POSIX separators."""
    output: str
    """Relative to the output root, POSIX separators."""
    translated: bool
    """False for files reached by ``#include`` whose extension is not translated: copied as they are."""
    changed: bool
    """The translation changed the text (an unchanged header keeps its name, as with PyTorch)."""
    resolutions: tuple[Resolution, ...]
    """Each include directive (as step 1 of the translation left it) and what it reached."""
    data: bytes | None
    """Bytes to write; ``None`` when the manifest shows the output on disk is already right."""
    source_data: bytes | None
    """The source's bytes when the plan read them (``None``: unchanged since the last run, not read)."""
    entry: Entry
    mode: int
    """The source's permission bits, which the output (and its copies) keep."""

    @property
    def includes(self) -> tuple[str, ...]:
        """Planned files this file includes (sources), in the order written."""
        return tuple(r.target for r in self.resolutions if r.target is not None)


@dataclass(frozen=True)
class IncludeWarning:
    """An include the output root cannot honour: found nowhere, or reached by a relative path out of
    the project. ``line``/``col`` are the include path's, in the source."""

    source: str
    line: int
    col: int
    site: IncludeSite
    kind: Literal["not-found", "leaves-project"]
    message: str
    """Without the ``file:line:`` prefix."""
    reaches: str | None = None
    """``leaves-project``: the file reached outside the project."""


@dataclass(frozen=True)
class Plan:
    """Everything a run will do, decided before anything is written."""

    options: Options
    inputs: tuple[str, ...]
    """The given or selected inputs, in order (what ``run`` lists)."""
    files: dict[str, PlannedFile]
    """Every planned file, inputs and the headers they reach, by source path."""
    warnings: tuple[str, ...]
    stale: tuple[str, ...]
    """Outputs recorded in the manifest whose source no longer exists."""
    key: str
    """The manifest key: hipify-tool's version, PyTorch's tables, the maps and the output-changing options."""
    translated_count: int
    """How many files went through translation in this plan (0 on a no-op rerun)."""
    copies: dict[str, str] = field(default_factory=dict)
    """Sibling copies (output path -> the source whose output they copy): where a moved or copied
    file's includes look for a header, so that the output root is self-contained (:mod:`.layout`)."""
    include_warnings: tuple[IncludeWarning, ...] = ()
    adopted_stale: tuple[str, ...] = ()
    """Stale outputs (also in ``stale``) found by their generated banner in a root no run had recorded:
    the run records them, so a later ``--prune`` still knows them."""
    lookups: Mapping[str, bool] = field(default_factory=dict, compare=False, repr=False)
    """Every path the include search and the layout looked for (absolute) and whether a regular file
    was there: what the resolutions rest on besides the files read (the state record checks them)."""
    _outcome: list[Outcome] = field(default_factory=list, init=False, compare=False, repr=False)
    """:meth:`outcome`'s answer, once computed (one per plan: the plan is immutable)."""

    def output_path(self, rel_output: str) -> Path:
        return self.options.output_dir / rel_output

    def source_path(self, rel_source: str) -> Path:
        return self.options.project_dir / rel_source

    def input_outputs(self) -> list[Path]:
        """One output per input, in input order: what a build compiles."""
        return [self.output_path(self.files[rel].output) for rel in self.inputs]

    def all_outputs(self) -> list[Path]:
        """Every file the run writes, sorted: what a build system declares as OUTPUT."""
        return sorted([*(self.output_path(f.output) for f in self.files.values()), *map(self.output_path, self.copies)])

    def external_headers(self) -> list[Path]:
        """Headers outside the project that includes reached: read-only, never written."""
        found = {r.external for f in self.files.values() for r in f.resolutions if r.external is not None}
        return sorted(Path(p) for p in found)

    def dependencies(self) -> list[Path]:
        """Every file the plan read (the external headers included): what the outputs depend on."""
        return sorted([*(self.source_path(f.source) for f in self.files.values()), *self.external_headers()])

    def planned_outputs(self) -> dict[str, bytes | None]:
        """Every output and sibling copy (relative to the output root) with its planned bytes (``None``:
        the output on disk is already right)."""
        out = {f.output: f.data for f in self.files.values()}
        out.update((copy, self.files[source].data) for copy, source in self.copies.items())
        return out

    def outcome(self) -> Outcome:
        """The plan's lists as the build files and the front ends read them (computed once, as text:
        the same order as :meth:`all_outputs` and :meth:`dependencies`)."""
        if self._outcome:
            return self._outcome[0]
        root = os.path.join(str(self.options.output_dir), "")
        project = os.path.join(str(self.options.project_dir), "")
        external = [str(p) for p in self.external_headers()]
        files = self.files

        def produced() -> dict[str, str]:
            out = {f.output: project + f.source for f in files.values()}
            out.update((copy, f"{project}{source} (a copy)") for copy, source in self.copies.items())
            return out

        def read() -> list[ReadFile]:
            inputs = set(self.inputs)
            found: list[ReadFile] = [
                (project + f.source, "a source" if f.source in inputs else "a header", f.entry.source_size)
                for f in files.values()
            ]
            return found + [(path, "a header", None) for path in external]

        outputs = [root + f.output for f in files.values()] + [root + c for c in self.copies]
        dependencies = [project + f.source for f in files.values()] + external
        outcome = Outcome(
            inputs=tuple(project + rel for rel in self.inputs),
            input_outputs=tuple(root + files[rel].output for rel in self.inputs),
            all_outputs=tuple(sorted(outputs, key=_parts)),
            dependencies=tuple(sorted(dependencies, key=_parts)),
            external_headers=tuple(external),
            warnings=self.warnings,
            stale=self.stale,
            translated_count=self.translated_count,
            file_count=len(files),
            newest_read_mtime_ns=max((f.entry.source_mtime_ns for f in files.values()), default=0),
            produced=produced,
            read=read,
        )
        self._outcome.append(outcome)
        return outcome

    def source_bytes(self, rel: str) -> bytes:
        """A planned file's source, from memory when the plan read it."""
        data = self.files[rel].source_data
        return data if data is not None else read_input(str(self.source_path(rel)))


def _parts(path: str) -> list[str]:
    """A path's sort key as :class:`~pathlib.Path` orders paths: component by component."""
    return path.split("/")


def options_key(options: Options, tables_fingerprint: str) -> str:
    """Fingerprint of everything besides the input bytes that changes outputs."""
    parts = [__version__, tables_fingerprint, str(options.project_dir), *options.output_key_parts()]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:20]
