"""Python API: ``plan()`` and ``run()``, thin wrappers over plan -> materialise.

Each call builds its own state: calls in one process never see each other's results (unlike
PyTorch's ``hipify()``, whose module-level result dict leaks between calls).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from . import torch_adapter
from .manifest import Manifest
from .maps import load_maps
from .materialise import locked_output_root, write_plan
from .options import DEFAULT_EXTENSIONS, Options, list_option
from .plan import Plan, check_options, discover_inputs, make_plan
from .translate import LaunchSyntax

__all__ = ["plan", "run", "plan_with_options", "run_with_options", "make_plan_for", "RunResult", "Progress"]

StrPath = str | PathLike[str]


@dataclass(frozen=True)
class RunResult:
    """What a run did."""

    plan: Plan
    outputs: tuple[Path, ...]
    """One output per input, in input order (what a build compiles)."""
    written: tuple[Path, ...]
    unchanged: tuple[Path, ...]
    removed: tuple[Path, ...]

    @property
    def all_outputs(self) -> list[Path]:
        return self.plan.all_outputs()

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.plan.warnings

    @property
    def stale(self) -> tuple[str, ...]:
        return self.plan.stale


def _options(
    project_dir: StrPath,
    output_dir: StrPath,
    sources: Iterable[StrPath],
    include_dirs: Iterable[StrPath],
    include: Iterable[str],
    exclude: Iterable[str],
    extensions: Iterable[str],
    launch_syntax: LaunchSyntax,
    jobs: int | None,
    prune: bool,
    maps: Iterable[StrPath] = (),
) -> Options:
    return Options(
        project_dir=Path(project_dir),
        output_dir=Path(output_dir),
        sources=tuple(Path(s) for s in list_option("sources", sources)),
        include_dirs=tuple(Path(d) for d in list_option("include_dirs", include_dirs)),
        include=list_option("include", include),
        exclude=list_option("exclude", exclude),
        extensions=list_option("extensions", extensions),
        launch_syntax=launch_syntax,
        jobs=jobs,
        prune=prune,
        maps=tuple(Path(m) for m in list_option("maps", maps)),
    )


Progress = Callable[[int, int], None]
"""``progress(done, known)``: files translated so far, of those known so far."""


def make_plan_for(
    options: Options, manifest: Manifest, progress: Progress | None = None, inputs: Sequence[str] | None = None
) -> Plan:
    """The plan for resolved ``options`` against ``manifest``, with PyTorch's tables and the run's maps.

    The maps' digest joins the tables' fingerprint in the manifest key, so editing a map re-translates.
    """
    custom = load_maps(options.maps)
    fingerprint = torch_adapter.tables_fingerprint()
    if custom:
        fingerprint += f"+map:{custom.digest}"
    return make_plan(
        options,
        tables_fingerprint=fingerprint,
        make_translator=functools.partial(torch_adapter.make_translator, options.launch_syntax, custom or None),
        manifest=manifest,
        progress=progress,
        inputs=inputs,
    )


def plan_with_options(options: Options, *, progress: Progress | None = None) -> Plan:
    """The plan for ``options``; reads only (the output root's manifest makes it incremental)."""
    o = options.resolved()
    return make_plan_for(o, Manifest.load(o.output_dir), progress)


def run_with_options(options: Options, *, progress: Progress | None = None) -> RunResult:
    """Plan and write, holding the output root's lock throughout so parallel runs cannot interleave."""
    o = options.resolved()
    check_options(o)  # a rejected run must not even create the output root
    inputs = discover_inputs(o)
    with locked_output_root(o.output_dir):
        manifest = Manifest.load(o.output_dir)
        the_plan = make_plan_for(o, manifest, progress, inputs)
        result = write_plan(the_plan, manifest, prune=o.prune)
    return RunResult(
        plan=the_plan,
        outputs=tuple(the_plan.input_outputs()),
        written=result.written,
        unchanged=result.unchanged,
        removed=result.removed,
    )


def plan(
    project_dir: StrPath,
    output_dir: StrPath,
    sources: Iterable[StrPath] = (),
    *,
    include_dirs: Iterable[StrPath] = (),
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
    extensions: Iterable[str] = DEFAULT_EXTENSIONS,
    launch_syntax: LaunchSyntax = "ggl",
    jobs: int | None = None,
    maps: Iterable[StrPath] = (),
) -> Plan:
    """Compute what :func:`run` would write, writing nothing."""
    return plan_with_options(
        _options(
            project_dir,
            output_dir,
            sources,
            include_dirs,
            include,
            exclude,
            extensions,
            launch_syntax,
            jobs,
            False,
            maps,
        )
    )


def run(
    project_dir: StrPath,
    output_dir: StrPath,
    sources: Iterable[StrPath] = (),
    *,
    include_dirs: Iterable[StrPath] = (),
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
    extensions: Iterable[str] = DEFAULT_EXTENSIONS,
    launch_syntax: LaunchSyntax = "ggl",
    jobs: int | None = None,
    prune: bool = False,
    maps: Iterable[StrPath] = (),
) -> RunResult:
    """Translate ``sources`` (or every matching file) from ``project_dir`` into ``output_dir``."""
    return run_with_options(
        _options(
            project_dir,
            output_dir,
            sources,
            include_dirs,
            include,
            exclude,
            extensions,
            launch_syntax,
            jobs,
            prune,
            maps,
        )
    )
