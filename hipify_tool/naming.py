"""Output names (PyTorch's rules) and the checks that make a plan safe to write: no two inputs on one
output, no hand-written file shadowed or overwritten."""

from __future__ import annotations

import os
import posixpath
import stat
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol

from .errors import FileProblem, PlanConflict
from .fileio import kind_of, read_regular
from .translate import has_breadcrumb

__all__ = ["hip_path", "output_name", "check_conflicts", "repeated"]


def hip_path(rel: str) -> str:
    """PyTorch's extension-mode output name (``get_hip_file_path(rel, is_pytorch_extension=True)``)."""
    dirpath, filename = posixpath.split(rel)
    root, ext = posixpath.splitext(filename)
    if ext == ".cu":
        ext = ".hip"
    new_dir = dirpath.replace("cuda", "hip").replace("CUDA", "HIP").replace("THC", "THH")
    new_root = root.replace("cuda", "hip").replace("CUDA", "HIP")
    if new_dir != "caffe2/core":
        new_root = new_root.replace("THC", "THH")
    if new_dir == dirpath and new_root + ext == filename:
        new_root += "_hip"
    return posixpath.join(new_dir, new_root + ext)


def output_name(rel: str, *, changed: bool, forced: bool) -> str:
    """Where a translated file goes. PyTorch renames a file whose text changed (and every ``.cu``);
    an unchanged one keeps its name unless its directory is renamed (``cuda/`` -> ``hip/``).
    ``forced``: a member of an include cycle, which PyTorch names by its HIP name while processing it."""
    if forced or changed or rel.endswith(".cu"):
        return hip_path(rel)
    candidate = hip_path(rel)
    return candidate if posixpath.dirname(candidate) != posixpath.dirname(rel) else rel


def repeated(items: Sequence[str]) -> list[str]:
    return [item for item, count in Counter(items).items() if count > 1]


class _Planned(Protocol):
    @property
    def source(self) -> str: ...
    @property
    def output(self) -> str: ...
    @property
    def data(self) -> bytes | None: ...


def check_conflicts(
    planned: Iterable[_Planned],
    *,
    project_prefix: str,
    output_dir: str,
    owned: set[str],
    other_owner: Callable[[str], str | None],
    exists: Callable[[str], bool],
    problems: Iterable[FileProblem] = (),
    adopt: bool = False,
) -> None:
    """Raise :class:`PlanConflict` listing every output that two inputs share, every output that would
    shadow a hand-written project file, every output another run into this root wrote from another
    live source (``other_owner(output)``: that source, from the manifest), and every entry in the output root
    that ``owned`` (the manifest's outputs) does not cover and that is not a regular file with the
    same bytes, after the ``problems`` already found. ``adopt``: a root no run has recorded, where a
    file that carries PyTorch's generated banner is hipify's output too (a committed tree).

    ``planned`` holds the sibling copies too (their ``source`` is the header they copy); a copy in its
    header's own place shadows nothing."""
    files = sorted(planned, key=lambda f: f.output)
    problems = list(problems)
    by_output: Mapping[str, list[str]] = _group(files)
    for output, sources in sorted(by_output.items()):
        if len(sources) > 1:
            names = " and ".join(sorted(sources))
            problems.append(FileProblem(output, f"{names} would all be written to this output"))
    for f in files:
        if f.output != f.source and exists(project_prefix + f.output):
            problems.append(
                FileProblem(
                    project_prefix + f.output,
                    f"hand-written file would be shadowed by the translation of {f.source}; rename one of them",
                )
            )
        target = os.path.join(output_dir, f.output)
        owner = other_owner(f.output)
        if owner is not None:
            problems.append(
                FileProblem(
                    target,
                    f"written from {owner} by another run into this output root; refusing to overwrite it with "
                    f"the translation of {project_prefix + f.source} (use separate output dirs, or rename one)",
                )
            )
            continue
        if f.output in owned:
            continue
        problem = _foreign(target, f, adopt=adopt)
        if problem is not None:
            problems.append(
                FileProblem(target, f"{problem}; refusing to replace it with the translation of {f.source}")
            )
    if problems:
        raise PlanConflict(problems)


def _foreign(target: str, f: _Planned, *, adopt: bool) -> str | None:
    """What is wrong with an entry at an output path no run of ours wrote (``None``: nothing there, or
    a regular file already holding the planned bytes, or with ``adopt`` one carrying the generated
    banner: adopted)."""
    try:
        mode = os.lstat(target).st_mode
    except OSError:
        return None
    if not stat.S_ISREG(mode):
        return f"exists and is {kind_of(mode)}, not a file hipify-tool wrote"
    data = f.data
    if data is None:
        return None
    try:
        found = read_regular(target, follow=False)
    except OSError:
        found = None
    if found == data or (adopt and found is not None and has_breadcrumb(found)):
        return None
    if adopt:
        return "exists and was not written by hipify-tool (no generated banner, nor what a fresh translation writes)"
    return "exists and was not written by hipify-tool"


def _group(files: Iterable[_Planned]) -> dict[str, list[str]]:
    by_output: dict[str, list[str]] = {}
    for f in files:
        by_output.setdefault(f.output, []).append(f.source)
    return by_output
