"""The core's entry points: plan -> (materialise) -> build files and report, for every front end.

``plan()`` and ``run()`` are the Python API; the CLI calls :func:`plan_with_options` and
:func:`run_with_options` with the :class:`~hipify_tool.options.Options` it parsed. Each call builds
its own state: calls in one process never see each other's results (unlike PyTorch's ``hipify()``,
whose module-level result dict leaks between calls).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import torch_adapter
from .buildfiles import write_build_files
from .confinement import check_build_files, check_names, write_build_file
from .errors import FileProblem, PlanConflict
from .includes import is_within
from .inputs import check_options, discover_inputs
from .manifest import STATE_DIR, Manifest
from .maps import CustomMap, load_maps
from .materialise import locked_output_root, root_is_locked_before, write_plan
from .options import Options
from .planned import Plan
from .planner import make_plan

if TYPE_CHECKING:
    from .errors import CheckFailed
    from .report import Report
    from .rocm_headers import RocmHeaders
    from .torch_adapter import PyTorchHipify

__all__ = [
    "plan",
    "run",
    "translate_source",
    "Translation",
    "plan_with_options",
    "run_with_options",
    "plan_against",
    "PlanResult",
    "RunResult",
]

StrPath = str | PathLike[str]

Progress = Callable[[int, int], None]
"""``progress(done, known)``: files translated so far, of those known so far."""


@dataclass(frozen=True)
class PlanResult:
    """What ``plan`` computed."""

    plan: Plan
    report: Report | None = None
    """The translation report, when the options ask for one (``report`` or ``strict``)."""

    def strict_failure(self) -> CheckFailed | None:
        """The ``strict`` verdict: the error to raise, or ``None`` when the run passes."""
        if self.report is None or not self.plan.options.strict:
            return None
        return self.report.strict_failure()


@dataclass(frozen=True)
class RunResult(PlanResult):
    """What a run did."""

    outputs: tuple[Path, ...] = ()
    """One output per input, in input order (what a build compiles)."""
    written: tuple[Path, ...] = ()
    unchanged: tuple[Path, ...] = ()
    removed: tuple[Path, ...] = ()

    @property
    def all_outputs(self) -> list[Path]:
        return self.plan.all_outputs()

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.plan.warnings

    @property
    def stale(self) -> tuple[str, ...]:
        return self.plan.stale


def plan_against(
    options: Options,
    manifest: Manifest,
    custom: CustomMap | None = None,
    progress: Progress | None = None,
    inputs: Sequence[str] | None = None,
    overrides: dict[str, bytes] | None = None,
    hipify: PyTorchHipify | None = None,
) -> Plan:
    """The plan for resolved ``options`` against ``manifest``, with PyTorch's tables and the run's maps.

    The maps' digest joins the tables' fingerprint in the manifest key, so editing a map re-translates.
    ``overrides``: files given in memory (relative path -> bytes) instead of read from disk.
    ``hipify``: PyTorch's hipify to translate with (default: the installed torch's).
    """
    if custom is None:
        custom = load_maps(options.maps)
    if hipify is None:
        hipify = torch_adapter.locate()
    fingerprint = hipify.fingerprint
    if custom:
        fingerprint += f"+map:{custom.digest}"
    return make_plan(
        options,
        tables_fingerprint=fingerprint,
        make_translator=functools.partial(torch_adapter.make_translator, hipify, options.launch_syntax, custom or None),
        manifest=manifest,
        progress=progress,
        inputs=inputs,
        overrides=overrides,
    )


def _target(o: Options, *, ran: bool) -> RocmHeaders | str | None:
    """The ROCm headers a report checks replacements against (or why there are none), found before
    anything is written: a ``rocm_path`` without HIP headers is a usage error. A run caches their index
    in its state dir; ``plan`` only reads that cache."""
    if o.report is None and not o.strict and o.rocm_path is None:
        return None
    from .rocm_headers import locate

    return locate(o.rocm_path, os.environ, cache_dir=o.output_dir / STATE_DIR, write_cache=ran)


def _report(
    the_plan: Plan, custom: CustomMap, hipify: PyTorchHipify, target: RocmHeaders | str | None = None
) -> Report | None:
    """The report the options ask for (loading PyTorch's tables only then), its file written."""
    o = the_plan.options
    if o.report is None and not o.strict:
        return None
    from .report import analyse_plan

    report = analyse_plan(the_plan, token_map=hipify.tables().token_map, custom=custom, rocm=target)
    if o.report is not None and o.report_file is not None:
        write_build_file(o.report_file, report.format(o.report, verbose=True))
    return report


@dataclass(frozen=True)
class _Run:
    """What a plan or a run reads before planning, every input checked before anything is written."""

    options: Options
    """Resolved."""
    inputs: tuple[str, ...]
    custom: CustomMap
    hipify: PyTorchHipify
    target: RocmHeaders | str | None
    also_read: tuple[Path, ...]
    """Files a front end read for this run (``--sources-from`` lists): never a build file."""

    @classmethod
    def prepare(cls, options: Options, *, ran: bool, also_read: Sequence[Path] = ()) -> _Run:
        o = options.resolved()
        check_options(o)  # a rejected run must not even create the output root
        target = _target(o, ran=ran)
        custom = load_maps(o.maps)  # a bad map is named before "no input files"
        hipify = torch_adapter.locate()
        return cls(o, discover_inputs(o), custom, hipify, target, tuple(Path(os.path.abspath(p)) for p in also_read))

    def plan(self, manifest: Manifest, progress: Progress | None) -> Plan:
        """The plan, refused before anything is written when a name cannot be expressed or a build
        file would overwrite what the run reads or writes (:mod:`.confinement`)."""
        the_plan = plan_against(self.options, manifest, self.custom, progress, self.inputs, hipify=self.hipify)
        check_names(the_plan)
        check_build_files(self.options, the_plan, self.also_read)
        return the_plan

    def report(self, the_plan: Plan) -> Report | None:
        return _report(the_plan, self.custom, self.hipify, self.target)


def plan_with_options(
    options: Options, *, progress: Progress | None = None, also_read: Sequence[Path] = ()
) -> PlanResult:
    """The plan for ``options``; writes only the build files and report asked for (never an output).
    ``also_read``: files the caller read to build ``options`` (they may not be build files)."""
    prepared = _Run.prepare(options, ran=False, also_read=also_read)
    o = prepared.options
    the_plan = prepared.plan(Manifest.load(o.output_dir), progress)
    report = prepared.report(the_plan)
    write_build_files(the_plan, o, listed=the_plan.all_outputs(), ran=False)
    return PlanResult(the_plan, report)


def run_with_options(
    options: Options, *, progress: Progress | None = None, also_read: Sequence[Path] = ()
) -> RunResult:
    """Plan and write, holding the output root's lock so parallel runs cannot interleave; then the build
    files (the stamp last) and the report. A root no run has locked yet is planned before the lock is
    taken (and planned again under it if another run wrote meanwhile): a failed run creates nothing.
    ``also_read``: as for :func:`plan_with_options`."""
    prepared = _Run.prepare(options, ran=True, also_read=also_read)
    o = prepared.options
    early: Plan | None = None
    if not root_is_locked_before(o.output_dir):  # a failed plan must not create the root: plan first
        early = prepared.plan(before := Manifest.load(o.output_dir), progress)
    with locked_output_root(o.output_dir):
        manifest = Manifest.load(o.output_dir)
        if early is not None and manifest == before:  # no run wrote in between: the plan holds
            the_plan = early
        else:
            the_plan = prepared.plan(manifest, progress)
        written = write_plan(the_plan, manifest, prune=o.prune)
    report = prepared.report(the_plan)
    outputs = the_plan.input_outputs()
    result = RunResult(
        plan=the_plan,
        report=report,
        outputs=tuple(outputs),
        written=written.written,
        unchanged=written.unchanged,
        removed=written.removed,
    )
    write_build_files(the_plan, o, listed=outputs, ran=True, passed=result.strict_failure() is None)
    return result


@dataclass(frozen=True)
class Translation:
    """One file's translation, as ``run`` would write it."""

    source: Path
    data: bytes
    warnings: tuple[str, ...]


def translate_source(
    source: StrPath | None, project_dir: StrPath = ".", *, data: bytes | None = None, **options: Any
) -> Translation:
    """The bytes ``run`` writes for ``source`` with the same options, computed in memory: nothing is
    written and no output root is needed.

    ``data`` given: those bytes are translated as if they were ``source`` (default: ``stdin.cu`` in the
    project dir), which need not exist. Keywords are :func:`run`'s that change outputs
    (``include_dirs``, ``extensions``, ``launch_syntax``, ``maps``); errors are :func:`run`'s.
    """
    import tempfile  # deferred: only translate needs it (and it imports shutil and random)

    nowhere = Path(tempfile.gettempdir()) / f"hipify-tool-translate-{os.getpid()}"  # planned into, never created
    given = () if data is not None else (source,)
    o = Options(project_dir=project_dir, output_dir=nowhere, sources=given, **options).resolved()  # type: ignore[arg-type]
    check_options(o)
    path = os.path.abspath(source if source is not None else o.project_dir / "stdin.cu")
    if not is_within(path, str(o.project_dir)):
        raise PlanConflict([FileProblem(path, f"is outside the project dir {o.project_dir}")])
    rel = os.path.relpath(path, o.project_dir).replace(os.sep, "/")
    the_plan = plan_against(o, Manifest({}), inputs=[rel], overrides=None if data is None else {rel: data})
    planned = the_plan.files[rel].data
    assert planned is not None  # nothing is reused from a manifest: every file is planned with its bytes
    return Translation(Path(path), planned, the_plan.warnings)


def _options(project_dir: StrPath, output_dir: StrPath, sources: Iterable[StrPath], options: dict[str, Any]) -> Options:
    return Options(project_dir=project_dir, output_dir=output_dir, sources=sources, **options)  # type: ignore[arg-type]


def plan(project_dir: StrPath, output_dir: StrPath, sources: Iterable[StrPath] = (), **options: Any) -> Plan:
    """Compute what :func:`run` would write, writing no output.

    Keywords are the fields of :class:`~hipify_tool.options.Options` (``include_dirs``, ``include``,
    ``exclude``, ``extensions``, ``launch_syntax``, ``jobs``, ``maps``, ``output_list``, ``cmake_plan``,
    ``report``, ``report_file``, ``strict`` ...). With ``strict=True``, leftovers raise
    :class:`~hipify_tool.errors.CheckFailed`.
    """
    result = plan_with_options(_options(project_dir, output_dir, sources, options))
    failure = result.strict_failure()
    if failure is not None:
        raise failure
    return result.plan


def run(project_dir: StrPath, output_dir: StrPath, sources: Iterable[StrPath] = (), **options: Any) -> RunResult:
    """Translate ``sources`` (or every matching file) from ``project_dir`` into ``output_dir``.

    Keywords are the fields of :class:`~hipify_tool.options.Options`, ``depfile``, ``stamp`` and
    ``prune`` included. With ``strict=True``, leftovers raise :class:`~hipify_tool.errors.CheckFailed`
    after everything is written.
    """
    result = run_with_options(_options(project_dir, output_dir, sources, options))
    failure = result.strict_failure()
    if failure is not None:
        raise failure
    return result
