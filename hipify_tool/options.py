"""The one options model shared by the CLI, the Python API and (later) configuration files."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

from .errors import UsageError
from .translate import LaunchSyntax

__all__ = ["Options", "DEFAULT_EXTENSIONS", "LAUNCH_SYNTAXES", "option_help", "list_option"]

T = TypeVar("T")


def list_option(name: str, value: Iterable[T]) -> tuple[T, ...]:
    """A list-valued option as a tuple; a bare string is refused rather than split into characters
    (``include="*.cu"`` would otherwise select every file through its ``*``)."""
    if isinstance(value, (str, bytes, os.PathLike)):
        raise UsageError(f"{name}: expected a list, got the single value {value!r} (write [{value!r}])")
    return tuple(value)


DEFAULT_EXTENSIONS: tuple[str, ...] = (".cu", ".cuh", ".c", ".cc", ".cpp", ".h", ".in", ".hpp")
"""PyTorch's ``hipify()`` default extensions."""

LAUNCH_SYNTAXES: tuple[LaunchSyntax, ...] = ("ggl", "chevron")


def _help(text: str) -> dict[str, str]:
    return {"help": text}


@dataclass(frozen=True)
class Options:
    """What to translate and how. Paths may be relative: they are taken from the current directory."""

    project_dir: Path = field(metadata=_help("Root of the CUDA sources; every input must be under it."))
    output_dir: Path = field(metadata=_help("Output root; everything written goes under it."))
    sources: tuple[Path, ...] = field(
        default=(), metadata=_help("Files to translate, in build order (headers they include follow).")
    )
    include_dirs: tuple[Path, ...] = field(
        default=(),
        metadata=_help(
            "Header search directories, searched in order after the includer's directory (default: the project dir)."
        ),
    )
    include: tuple[str, ...] = field(
        default=(), metadata=_help("Gitignore-style patterns (relative to the project dir) selecting inputs.")
    )
    exclude: tuple[str, ...] = field(
        default=(), metadata=_help("Gitignore-style patterns removing files from the selected inputs.")
    )
    extensions: tuple[str, ...] = field(
        default=DEFAULT_EXTENSIONS, metadata=_help("File extensions that are translated (others are copied).")
    )
    launch_syntax: LaunchSyntax = field(
        default="ggl",
        metadata=_help("'ggl': rewrite <<<>>> to hipLaunchKernelGGL (PyTorch's default); 'chevron': keep <<<>>>."),
    )
    jobs: int | None = field(default=None, metadata=_help("Parallel translation jobs (default: available cores)."))
    prune: bool = field(default=False, metadata=_help("Remove generated files whose source no longer exists."))
    maps: tuple[Path, ...] = field(
        default=(),
        metadata=_help("Custom mapping files (TOML or JSON), applied before PyTorch's tables; later files win."),
    )

    def __post_init__(self) -> None:
        for f in fields(self):
            if isinstance(f.default, tuple):  # the list-valued options
                list_option(f.name, getattr(self, f.name))
        if self.launch_syntax not in LAUNCH_SYNTAXES:
            raise UsageError(f"launch_syntax: expected one of {', '.join(LAUNCH_SYNTAXES)}, got {self.launch_syntax!r}")
        if self.jobs is not None and (not isinstance(self.jobs, int) or self.jobs < 1):
            raise UsageError(f"jobs: expected a positive integer, got {self.jobs!r}")

    def resolved(self) -> Options:
        """The same options with absolute, normalised paths (symlinks kept, as compilers keep them)."""

        def absolute(p: Path) -> Path:
            return Path(os.path.abspath(p))

        return Options(
            project_dir=absolute(self.project_dir),
            output_dir=absolute(self.output_dir),
            sources=tuple(absolute(p) for p in self.sources),
            # Without -I, the project dir is searched (vLLM's hipify call passes header_include_dirs=["."])
            include_dirs=tuple(absolute(p) for p in self.include_dirs) or (absolute(self.project_dir),),
            include=self.include,
            exclude=self.exclude,
            extensions=self.extensions,
            launch_syntax=self.launch_syntax,
            jobs=self.jobs,
            prune=self.prune,
            maps=tuple(absolute(p) for p in self.maps),
        )

    def effective_jobs(self) -> int:
        if self.jobs is not None and self.jobs > 0:
            return self.jobs
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # not on Linux
            return max(1, os.cpu_count() or 1)


def option_help(name: str) -> str:
    """Help text of one option, so the CLI and the docs never drift from the model."""
    for f in fields(Options):
        if f.name == name:
            meta: Any = f.metadata
            return str(meta.get("help", ""))
    raise KeyError(name)
