"""Output names (PyTorch's rules) and the checks that make a plan safe to write: no two inputs on one
output, no hand-written file shadowed or overwritten."""

from __future__ import annotations

import os
import posixpath
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol

from .errors import FileProblem, PlanConflict

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
    exists: Callable[[str], bool],
    read: Callable[[str], bytes],
    problems: Iterable[FileProblem] = (),
) -> None:
    """Raise :class:`PlanConflict` listing every output that two inputs share, every output that would
    shadow a hand-written project file, and every file in the output root that ``owned`` (the
    manifest's outputs) does not cover and that holds other bytes, after the ``problems`` already found.

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
        if f.output in owned:
            continue
        target = os.path.join(output_dir, f.output)
        if not os.path.isfile(target):
            continue
        data = f.data
        if data is not None and read(target) != data:
            problems.append(
                FileProblem(
                    target, f"exists and was not written by hipify-tool; refusing to overwrite it with {f.source}"
                )
            )
    if problems:
        raise PlanConflict(problems)


def _group(files: Iterable[_Planned]) -> dict[str, list[str]]:
    by_output: dict[str, list[str]] = {}
    for f in files:
        by_output.setdefault(f.output, []).append(f.source)
    return by_output
