"""The core's entry points: plan -> (materialise) -> build files and report, for every front end.

``plan()`` and ``run()`` are the Python API; the CLI calls :func:`plan_with_options` and
:func:`run_with_options` with the :class:`~hipify_tool.options.Options` it parsed. Each call builds
its own state: calls in one process never see each other's results (unlike PyTorch's ``hipify()``,
whose module-level result dict leaks between calls).
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import fastpath
from .options import Options
from .outcome import Outcome

if TYPE_CHECKING:
    from .errors import CheckFailed
    from .inputs import Walked
    from .manifest import Manifest
    from .maps import CustomMap
    from .planned import Ownership, Plan
    from .report import Report
    from .report.baseline import Baseline
    from .rocm_headers import RocmHeaders
    from .state import Record
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


class _PlanHolder:
    """A result's plan: the one computed, or (after the fast path, which computes none) how to compute
    it on first use, so that a caller who never asks for it never pays for it."""

    def __init__(self, plan: Plan | None, compute: Callable[[], Plan] | None = None) -> None:
        self._plan = plan
        self._compute = compute
        self.computed = plan is not None
        """The plan came from the planner when the result was made (not from the state record)."""

    def get(self) -> Plan:
        if self._plan is None:
            assert self._compute is not None
            self._plan = self._compute()
        return self._plan


@dataclass(frozen=True)
class PlanResult:
    """What ``plan`` computed."""

    outcome: Outcome
    """The plan's lists (outputs, dependencies, warnings): all a build needs, known on either path."""
    options: Options
    """Resolved."""
    report: Report | None = None
    """The translation report, when the options ask for one (``report`` or ``strict``)."""
    planned: _PlanHolder | None = field(default=None, compare=False, repr=False)

    @property
    def plan(self) -> Plan:
        """The full :class:`~hipify_tool.planned.Plan`. When the state record answered (nothing had
        changed), it is computed on first access, from the tree as it is then."""
        assert self.planned is not None
        return self.planned.get()

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.outcome.warnings

    @property
    def from_record(self) -> bool:
        """The output root's state record answered (nothing had changed): nothing was planned."""
        return self.planned is not None and not self.planned.computed

    def strict_failure(self) -> CheckFailed | None:
        """The ``strict`` verdict: the error to raise, or ``None`` when the run passes."""
        if self.report is None or not self.options.strict:
            return None
        return self.report.strict_failure()


@dataclass(frozen=True)
class RunResult(PlanResult):
    """What a run did."""

    written: tuple[Path, ...] = ()
    """Outputs whose bytes changed (or were created) in this run."""
    unchanged: tuple[Path, ...] = ()
    removed: tuple[Path, ...] = ()

    @property
    def outputs(self) -> tuple[Path, ...]:
        """One output per input, in input order (what a build compiles)."""
        return tuple(map(Path, self.outcome.input_outputs))

    @property
    def all_outputs(self) -> list[Path]:
        return list(map(Path, self.outcome.all_outputs))

    @property
    def stale(self) -> tuple[str, ...]:
        return self.outcome.stale


def plan_against(
    options: Options,
    manifest: Manifest,
    custom: CustomMap | None = None,
    progress: Progress | None = None,
    inputs: Sequence[str] | None = None,
    overrides: dict[str, bytes] | None = None,
    hipify: PyTorchHipify | None = None,
    ownership: Ownership = "recorded",
    suspects: frozenset[str] = frozenset(),
) -> Plan:
    """The plan for resolved ``options`` against ``manifest``, with PyTorch's tables and the run's maps.

    The maps' digest joins the tables' fingerprint in the manifest key, so editing a map re-translates.
    ``overrides``: files given in memory (relative path -> bytes) instead of read from disk.
    ``hipify``: PyTorch's hipify to translate with (default: the installed torch's).
    ``ownership``: which files in the output root are ours (:data:`~hipify_tool.planned.Ownership`).
    ``suspects``: files to read even where the manifest's size and mtime agree (:mod:`.state`).
    """
    from . import torch_adapter
    from .maps import load_maps
    from .planner import make_plan

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
        ownership=ownership,
        suspects=suspects,
    )


def _wants_report(o: Options) -> bool:
    return o.report is not None or o.strict


def _target(o: Options, *, ran: bool) -> RocmHeaders | str | None:
    """The ROCm headers a report checks names against (or why there are none), found before anything
    is written: a ``rocm_path`` without HIP headers is a usage error. A run caches their index in its
    state dir (under the output root's lock); ``plan`` only reads that cache."""
    if not _wants_report(o) and o.rocm_path is None:
        return None
    from .manifest import STATE_DIR
    from .preprocessor import parse_defines
    from .report.analysis import CUDA_LOOKING
    from .rocm_headers import locate

    return locate(
        o.rocm_path,
        os.environ,
        cache_dir=o.output_dir / STATE_DIR,
        write_cache=ran,
        defines=parse_defines(o.defines),
        declarations=CUDA_LOOKING,
    )


def _baseline(o: Options) -> Baseline | None:
    """The ``--baseline`` report, read before anything is written (a bad one is a usage error)."""
    if o.baseline is None or not _wants_report(o):
        return None
    from .report.baseline import load_baseline

    return load_baseline(o.baseline)


def _report(
    the_plan: Plan,
    custom: CustomMap,
    hipify: PyTorchHipify,
    target: RocmHeaders | str | None = None,
    baseline: Baseline | None = None,
) -> Report | None:
    """The report the options ask for (loading PyTorch's tables only then), its file written."""
    o = the_plan.options
    if not _wants_report(o):
        return None
    from .report import analyse_plan
    from .report.baseline import apply_baseline
    from .report.writers import format_report

    report = analyse_plan(the_plan, token_map=hipify.tables().token_map, custom=custom, rocm=target)
    if baseline is not None:
        report = apply_baseline(report, baseline)
    if o.report is not None and o.report_file is not None:
        from .confinement import write_build_file

        text = format_report(report, o.report, verbose=True, base=str(o.report_file.parent))
        write_build_file(o.report_file, text)
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
    started: int
    """``time.time_ns()`` before anything was looked at: the state record's reference for racy entries."""
    walked: Walked
    suspects: frozenset[str]
    baseline: Baseline | None = None

    @classmethod
    def prepare(
        cls, o: Options, *, ran: bool, also_read: Sequence[Path] = (), suspects: frozenset[str] = frozenset()
    ) -> _Run:
        from . import torch_adapter
        from .inputs import Walked, check_options, discover_inputs
        from .maps import load_maps

        started = time.time_ns()
        check_options(o)  # a rejected run must not even create the output root
        target = _target(o, ran=ran)
        baseline = _baseline(o)
        custom = load_maps(o.maps)  # a bad map is named before "no input files"
        hipify = torch_adapter.locate()
        walked = Walked()
        inputs = discover_inputs(o, walked)
        read = tuple(Path(os.path.abspath(p)) for p in also_read)
        return cls(o, inputs, custom, hipify, target, read, started, walked, suspects, baseline)

    def plan(self, manifest: Manifest, progress: Progress | None) -> Plan:
        """The plan, refused before anything is written when a name cannot be expressed or a build
        file would overwrite what the run reads or writes (:mod:`.confinement`). A root without a
        manifest (new, or a committed tree in a fresh clone) is adopted (:data:`.planned.Ownership`)."""
        from .confinement import check_build_files, check_names

        ownership: Ownership = "recorded" if manifest.recorded else "adopt"
        the_plan = plan_against(
            self.options,
            manifest,
            self.custom,
            progress,
            self.inputs,
            hipify=self.hipify,
            ownership=ownership,
            suspects=self.suspects,
        )
        check_names(the_plan)
        check_build_files(self.options, the_plan.outcome(), self.also_read)
        return the_plan

    def report(self, the_plan: Plan) -> Report | None:
        return _report(the_plan, self.custom, self.hipify, self.target, self.baseline)


def _replan(o: Options) -> Callable[[], Plan]:
    """The plan of ``o`` as the tree is now (what a fast-path result computes when asked for it)."""

    def compute() -> Plan:
        from .manifest import Manifest

        return _Run.prepare(o, ran=False).plan(Manifest.load(o.output_dir), None)

    return compute


def plan_with_options(
    options: Options, *, progress: Progress | None = None, also_read: Sequence[Path] = ()
) -> PlanResult:
    """The plan for ``options``; writes only the build files and report asked for (never an output).
    ``also_read``: files the caller read to build ``options`` (they may not be build files).

    When the output root's state record proves nothing changed since the last run, the answer comes
    from it (:mod:`.fastpath`); the result's ``plan`` is then computed only if asked for."""
    o = options.resolved()
    verdict = fastpath.quick_plan(o, fastpath.previous_record(o), also_read)
    if verdict.outcome is not None:
        return PlanResult(verdict.outcome, o, None, _PlanHolder(None, _replan(o)))
    return full_plan(o, progress=progress, also_read=also_read, suspects=verdict.suspects)


def full_plan(
    o: Options,
    *,
    progress: Progress | None = None,
    also_read: Sequence[Path] = (),
    suspects: frozenset[str] = frozenset(),
) -> PlanResult:
    """:func:`plan_with_options`'s full path (``o`` resolved), for a front end that has tried the fast
    path itself; ``suspects``: what its verdict named."""
    from .buildfiles import write_build_files
    from .manifest import Manifest

    prepared = _Run.prepare(o, ran=False, also_read=also_read, suspects=suspects)
    the_plan = prepared.plan(Manifest.load(o.output_dir), progress)
    report = prepared.report(the_plan)
    outcome = the_plan.outcome()
    write_build_files(outcome, o, listed=outcome.all_outputs, ran=False)
    return PlanResult(outcome, o, report, _PlanHolder(the_plan))


def run_with_options(
    options: Options, *, progress: Progress | None = None, also_read: Sequence[Path] = ()
) -> RunResult:
    """Plan and write, holding the output root's lock so parallel runs cannot interleave; then the build
    files (the stamp last) and the report. A root no run has locked yet is planned before the lock is
    taken (and planned again under it if another run wrote meanwhile): a failed run creates nothing.
    ``also_read``: as for :func:`plan_with_options`.

    A run the state record proves has nothing to do writes only its build files (:mod:`.fastpath`);
    a run that took the full path leaves a new record (:mod:`.state`)."""
    o = options.resolved()
    previous = fastpath.previous_record(o)
    verdict = fastpath.quick_run(o, previous, also_read)
    if verdict.outcome is not None:
        everything = tuple(map(Path, verdict.outcome.all_outputs))
        return RunResult(verdict.outcome, o, None, _PlanHolder(None, _replan(o)), unchanged=everything)
    return full_run(o, progress=progress, also_read=also_read, suspects=verdict.suspects, previous=previous)


def full_run(
    o: Options,
    *,
    progress: Progress | None = None,
    also_read: Sequence[Path] = (),
    suspects: frozenset[str] = frozenset(),
    previous: Record | None = None,
) -> RunResult:
    """:func:`run_with_options`'s full path (``o`` resolved), for a front end that has tried the fast
    path itself: ``suspects`` is what its verdict named, ``previous`` the record it found."""
    from .buildfiles import write_build_files
    from .manifest import Manifest
    from .materialise import locked_output_root, root_is_locked_before, write_plan

    prepared = _Run.prepare(o, ran=True, also_read=also_read, suspects=suspects)
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
        report = prepared.report(the_plan)  # under the lock: it may cache the ROCm index in the state dir
        # A root that adopted stale outputs (a committed tree in a fresh clone) is recorded by the next
        # run, once the manifest names them: that run's plan is the one a record must stand for.
        if written.manifest is not None and (manifest.recorded or not the_plan.adopted_stale):
            _record(prepared, the_plan, written.manifest, manifest.warnings, previous)
    outcome = the_plan.outcome()
    result = RunResult(
        outcome,
        o,
        report,
        _PlanHolder(the_plan),
        written=written.written,
        unchanged=written.unchanged,
        removed=written.removed,
    )
    write_build_files(outcome, o, listed=outcome.input_outputs, ran=True, passed=result.strict_failure() is None)
    return result


def _record(
    prepared: _Run, the_plan: Plan, saved: Manifest, found_warnings: Sequence[str], previous: Record | None
) -> None:
    """Leave the state record of this run (under the lock, after the manifest): a cache, so a record
    that cannot be written only costs the next run its fast path."""
    from . import state
    from .confinement import write_cache_file
    from .manifest import STATE_DIR

    o = prepared.options
    text = state.capture(
        o,
        started=prepared.started,
        walked=prepared.walked,
        plan=the_plan,
        manifest=saved,
        previous=previous,
        manifest_warnings=found_warnings,
    )
    write_cache_file(o.output_dir / STATE_DIR / state.RECORD, text)


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

    from .errors import FileProblem, PlanConflict
    from .includes import is_within
    from .inputs import check_options
    from .manifest import Manifest

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
    ``report``, ``report_file``, ``strict``, ``rocm_path``, ``defines``, ``baseline`` ...). With
    ``strict=True``, leftovers (those ``baseline`` does not hold) raise
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
