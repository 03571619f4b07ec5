"""Command-line front end: parses flags into :class:`Options` and calls the API; nothing else.

stdout carries only the output list (when no ``--output-list`` file is given); logs go to stderr.
Exit codes are those of :mod:`hipify_tool.errors`.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from . import __version__
from .errors import HipifyToolError, UsageError
from .options import DEFAULT_EXTENSIONS, LAUNCH_SYNTAXES, Options, option_help

if TYPE_CHECKING:
    from .plan import Plan

__all__ = ["main", "cli"]

F = TypeVar("F", bound=Callable[..., Any])


class _Log:
    """stderr logging at the chosen verbosity (-q: errors only, default: warnings, -v: summaries)."""

    def __init__(self, verbosity: int) -> None:
        self.verbosity = verbosity

    def warn(self, message: str) -> None:
        if self.verbosity >= 0:
            click.echo(f"hipify-tool: warning: {message}", err=True)

    def info(self, message: str) -> None:
        if self.verbosity >= 1:
            click.echo(f"hipify-tool: {message}", err=True)


def _common_options(func: F) -> F:
    """Flags shared by ``run`` and ``plan`` (one definition, so the two cannot drift)."""
    decorators = [
        click.argument("sources", nargs=-1, type=click.Path(path_type=Path, readable=False)),  # we say why
        click.option(
            "-p",
            "--project-dir",
            type=click.Path(path_type=Path),
            default=Path("."),
            show_default=True,
            help=option_help("project_dir"),
        ),
        click.option(
            "-o", "--output-dir", type=click.Path(path_type=Path), required=True, help=option_help("output_dir")
        ),
        click.option(
            "-I",
            "--include-dir",
            "include_dirs",
            multiple=True,
            type=click.Path(path_type=Path),
            help=option_help("include_dirs"),
        ),
        click.option("--include", "include", multiple=True, metavar="PATTERN", help=option_help("include")),
        click.option("--exclude", "exclude", multiple=True, metavar="PATTERN", help=option_help("exclude")),
        click.option(
            "--extension",
            "extensions",
            multiple=True,
            metavar=".EXT",
            help=option_help("extensions") + f" Repeatable; default: {' '.join(DEFAULT_EXTENSIONS)}",
        ),
        click.option(
            "--launch-syntax",
            type=click.Choice(LAUNCH_SYNTAXES),
            default="ggl",
            show_default=True,
            help=option_help("launch_syntax"),
        ),
        click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, help=option_help("jobs")),
        click.option(
            "--output-list",
            type=click.Path(path_type=Path),
            default=None,
            help="Write the list here (rewritten only when it changes) instead of stdout.",
        ),
        click.option(
            "--list-format",
            type=click.Choice(["lines", "cmake", "json"]),
            default="lines",
            show_default=True,
            help="Format of the output list.",
        ),
        click.option(
            "--sources-from",
            "sources_from",
            multiple=True,
            type=click.Path(path_type=Path),
            help="Read more SOURCES from this file, one path a line (no command-line length limit).",
        ),
        click.option(
            "--cmake-plan",
            type=click.Path(path_type=Path),
            default=None,
            help="Also write a CMake script setting HIPIFY_TOOL_OUTPUTS (one per input, in order) and "
            "HIPIFY_TOOL_ALL_OUTPUTS (every output); rewritten only when it changes.",
        ),
        click.option(
            "--map",
            "maps",
            multiple=True,
            type=click.Path(path_type=Path),
            metavar="FILE",
            help=option_help("maps") + " Repeatable; see docs/configuration.md.",
        ),
        click.option(
            "--config",
            type=click.Path(path_type=Path),
            default=None,
            is_eager=True,
            expose_value=False,
            callback=_apply_config,
            metavar="FILE",
            help="Read defaults from FILE ([tool.hipify-tool] or top-level keys) instead of the nearest "
            "pyproject.toml with a [tool.hipify-tool] table. Flags override it.",
        ),
        click.option(
            "--no-config",
            is_flag=True,
            is_eager=True,
            expose_value=False,
            callback=_drop_config,
            help="Read no configuration file (what build systems that pass every option want).",
        ),
        click.option("-q", "--quiet", is_flag=True, help="Print errors only."),
        click.option("-v", "--verbose", is_flag=True, help="Also print what was done."),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def _report_options(func: F) -> F:
    """``--report``/``--report-file``/``--strict`` for ``run`` and ``plan``."""
    decorators = [
        click.option(
            "--report",
            type=click.Choice(["text", "json", "sarif"]),
            default=None,
            help="Report replaced, unsupported and leftover CUDA names: text on stderr (or in "
            "--report-file), json or sarif (SARIF 2.1.0) in --report-file.",
        ),
        click.option(
            "--report-file",
            type=click.Path(path_type=Path),
            default=None,
            metavar="FILE",
            help="Write the report here.",
        ),
        click.option(
            "--strict",
            is_flag=True,
            help="Exit with code 6 when a CUDA name is left or unsupported in code ROCm compiles.",
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def _apply_config(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    """Eager: the configuration file's values become this command's defaults (flags still win)."""
    if ctx.resilient_parsing or ctx.meta.get("hipify_tool.no_config"):
        return
    from .config import load_config, option_keys

    config = load_config(value)
    if config is None:
        return
    fields = option_keys()
    run_params = {p.name for p in cli.commands["run"].params if p.name and p.name != "config"}
    config.check_keys([*fields, *run_params])
    own = {p.name: p for p in ctx.command.params if p.name}
    defaults: dict[str, Any] = {}
    if "project_dir" not in config.values:
        defaults["project_dir"] = config.base
    for key, raw in config.values.items():
        param = own.get(key)
        if param is None:  # a flag of `run` that this command does not have
            continue
        if key in fields:
            defaults[key] = config.option_value(key)
            continue
        if isinstance(param.type, click.Path):
            raw = [config.path_value(key, v) for v in raw] if isinstance(raw, list) else config.path_value(key, raw)
        try:
            param.type_cast_value(ctx, raw)
        except click.BadParameter as exc:
            raise UsageError(f"{config.path}: [tool.hipify-tool]: {key.replace('_', '-')}: {exc.message}") from None
        defaults[key] = raw
    ctx.meta["hipify_tool.config_defaults"] = ctx.default_map
    if not ctx.meta.get("hipify_tool.no_config"):
        ctx.default_map = {**(ctx.default_map or {}), **defaults}


def _drop_config(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """``--no-config``, whichever side of ``--config`` it is on."""
    if value:
        ctx.meta["hipify_tool.no_config"] = True
        if "hipify_tool.config_defaults" in ctx.meta:  # --config was processed first: undo it
            ctx.default_map = ctx.meta["hipify_tool.config_defaults"]


def _sources(kwargs: dict[str, Any]) -> tuple[Path, ...]:
    """Command-line sources, then those of each ``--sources-from`` file (blank lines skipped)."""
    sources = list(kwargs["sources"])
    for list_file in kwargs["sources_from"]:
        try:
            lines = os.fsdecode(Path(list_file).read_bytes()).splitlines()
        except OSError as exc:
            raise UsageError(f"{list_file}: cannot read the sources list ({exc.strerror})") from None
        sources.extend(Path(line) for line in lines if line.strip())
    return tuple(sources)


def _options(kwargs: dict[str, Any], prune: bool = False) -> Options:
    return Options(
        project_dir=kwargs["project_dir"],
        output_dir=kwargs["output_dir"],
        sources=_sources(kwargs),
        include_dirs=tuple(kwargs["include_dirs"]),
        include=tuple(kwargs["include"]),
        exclude=tuple(kwargs["exclude"]),
        extensions=tuple(kwargs["extensions"]) or DEFAULT_EXTENSIONS,
        launch_syntax=kwargs["launch_syntax"],
        jobs=kwargs["jobs"],
        prune=prune,
        maps=tuple(kwargs["maps"]),
    )


def _emit_list(paths: list[Path], kwargs: dict[str, Any]) -> None:
    from .materialise import format_list, write_list

    if kwargs["output_list"] is not None:
        write_list(Path(os.path.abspath(kwargs["output_list"])), paths, kwargs["list_format"])
    else:
        sys.stdout.write(format_list(paths, kwargs["list_format"]))


def _emit_cmake_plan(the_plan: Plan, kwargs: dict[str, Any]) -> None:
    if kwargs["cmake_plan"] is not None:
        from .cmake_dir import write_cmake_plan

        write_cmake_plan(Path(os.path.abspath(kwargs["cmake_plan"])), the_plan)


def _log(kwargs: dict[str, Any]) -> _Log:
    return _Log(-1 if kwargs["quiet"] else (1 if kwargs["verbose"] else 0))


def _print_cmake_dir(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from .cmake_dir import cmake_dir

    click.echo(str(cmake_dir()))
    ctx.exit()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="hipify-tool")
@click.option(
    "--cmake-dir",
    "--cmakedir",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_cmake_dir,
    help="Print the directory of the CMake package (hipify_tool_DIR) and exit.",
)
def cli() -> None:
    """Translate CUDA C++ sources to HIP with PyTorch's hipify: exact outputs, incremental, safe."""


@cli.command()
@_common_options
@click.option(
    "--depfile",
    type=click.Path(path_type=Path),
    default=None,
    help="Write a Make-syntax depfile naming every output and every file read.",
)
@click.option(
    "--stamp",
    type=click.Path(path_type=Path),
    default=None,
    help="Touch this file after a successful run and make it the depfile's only target.",
)
@click.option("--prune", is_flag=True, help=option_help("prune"))
@_report_options
def run(depfile: Path | None, stamp: Path | None, prune: bool, **kwargs: Any) -> None:
    """Translate SOURCES (or every matching file) into the output dir.

    Prints one output per input, in input order: the list a build compiles.
    """
    from .api import run_with_options
    from .materialise import touch_stamp, write_depfile

    log = _log(kwargs)
    _check_report_flags(kwargs)
    start = time.perf_counter()
    with _progress(kwargs) as progress:
        result = run_with_options(_options(kwargs, prune), progress=progress)
    for warning in result.warnings:
        log.warn(warning)
    for stale in result.stale:
        if not prune:
            log.warn(f"{result.plan.output_path(stale)}: stale output (its source is gone); --prune removes it")
    stamp_path = Path(os.path.abspath(stamp)) if stamp is not None else None
    if depfile is not None:
        targets = [stamp_path] if stamp_path is not None else result.all_outputs
        write_depfile(Path(os.path.abspath(depfile)), targets, result.plan.dependencies())
    _emit_cmake_plan(result.plan, kwargs)
    _emit_list(list(result.outputs), kwargs)
    if stamp_path is not None:
        touch_stamp(stamp_path)
    log.info(
        f"{len(result.plan.files)} outputs: {len(result.written)} written, {len(result.unchanged)} unchanged, "
        f"{len(result.removed)} removed; {result.plan.translated_count} translated "
        f"in {time.perf_counter() - start:.2f} s"
    )
    _emit_report(result.plan, kwargs, log)


@cli.command()
@_common_options
@_report_options
def plan(**kwargs: Any) -> None:
    """Print every output a run would write (headers and copies included), writing nothing.

    This is the list a build system declares as the outputs of the translation step.
    """
    from .api import plan_with_options

    log = _log(kwargs)
    _check_report_flags(kwargs)
    with _progress(kwargs) as progress:
        the_plan = plan_with_options(_options(kwargs), progress=progress)
    for warning in the_plan.warnings:
        log.warn(warning)
    _emit_cmake_plan(the_plan, kwargs)
    _emit_list(the_plan.all_outputs(), kwargs)
    _emit_report(the_plan, kwargs, log)


@cli.command()
@_common_options
def check(**kwargs: Any) -> None:
    """Exit 6 with a unified diff on stdout when the committed output dir differs from a fresh run.

    For projects that commit their translated tree: run it in CI or as a pre-commit hook. Writes nothing.
    """
    from .check import check_tree
    from .errors import CheckFailed

    log = _log(kwargs)
    result = check_tree(_options(kwargs))
    for warning in result.plan.warnings:
        log.warn(warning)
    sys.stdout.write(result.diff)
    if not result.ok:
        parts = [f"{len(result.changed)} changed", f"{len(result.missing)} missing", f"{len(result.extra)} extra"]
        raise CheckFailed(
            f"{result.plan.options.output_dir}: out of date ({', '.join(parts)}); "
            "update it with `hipify-tool run --prune` and the same options"
        )
    log.info(f"{result.plan.options.output_dir}: up to date ({len(result.plan.files)} outputs)")


# `check` prints a diff, not an output list.
check.params = [p for p in check.params if p.name not in ("output_list", "list_format", "cmake_plan")]


@cli.command()
def doctor() -> None:
    """Print versions and locations to paste into a bug report (tool, torch, tables, compilers, CMake)."""
    from .doctor import collect, format_lines

    sys.stdout.write(format_lines(collect()))


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--name", default=None, help="Python package and torch op namespace (default: from DIRECTORY).")
@click.option("--force", is_flag=True, help="Write into a directory that is not empty (existing files are kept).")
def init(directory: Path, name: str | None, force: bool) -> None:
    """Create a PyTorch extension project in DIRECTORY that builds for CUDA (nvcc) and ROCm (hipify_sources)."""
    from .init import init_project

    written = init_project(directory, name=name, force=force)
    for path in written:
        click.echo(str(path))
    click.echo(f"hipify-tool: created {len(written)} files in {directory}; see {directory / 'README.md'}", err=True)


def _check_report_flags(kwargs: dict[str, Any]) -> None:
    if kwargs["report"] in ("json", "sarif") and kwargs["report_file"] is None:
        raise UsageError(f"--report {kwargs['report']} needs --report-file FILE")
    if kwargs["report_file"] is not None and kwargs["report"] is None:
        raise UsageError("--report-file needs --report text|json|sarif")


class _NoProgress:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *_exc: object) -> None:
        return None


def _progress(kwargs: dict[str, Any]) -> Any:
    """A context manager giving a progress callback (a bar on a terminal) or None."""
    if not sys.stderr.isatty():
        return _NoProgress()
    from contextlib import contextmanager

    from .progress import progress_for

    @contextmanager
    def bar() -> Any:
        progress = progress_for(kwargs["quiet"])
        try:
            yield progress
        finally:
            if progress is not None:
                progress.close()

    return bar()


def _emit_report(the_plan: Plan, kwargs: dict[str, Any], log: _Log) -> None:
    """The report in the chosen format, the summary on stderr, and ``--strict``'s verdict."""
    fmt, report_file, strict = kwargs["report"], kwargs["report_file"], kwargs["strict"]
    if fmt is None and not strict:
        return
    from .errors import CheckFailed
    from .progress import color_enabled
    from .report import analyse_plan

    report = analyse_plan(the_plan)
    color = color_enabled()
    if report_file is not None:
        from .materialise import write_text_if_changed

        write_text_if_changed(Path(os.path.abspath(report_file)), report.format(fmt, verbose=True))
    if log.verbosity >= 0:
        lines = report.to_text(verbose=log.verbosity >= 1).splitlines()
        if report_file is not None and not strict:  # the findings are in the file: just the summary
            lines = [line for line in lines if line.startswith("hipify-tool: report:")][:1]
        for line in lines:
            click.echo(_colored(line, color), err=True, color=color)
    problems = report.problems
    if strict and problems:
        if log.verbosity < 0:  # -q: the problems are still what the user needs to see
            for f in problems:
                click.echo(f"{report.display_path(f.path)}:{f.line}:{f.col}: {f.message} [{f.rule}]", err=True)
        raise CheckFailed(f"--strict: {len(problems)} CUDA names are left or unsupported in code ROCm compiles")


def _colored(line: str, color: bool) -> str:
    if not color:
        return line
    for level, fg in ((": error:", "red"), (": warning:", "yellow"), (": note:", "cyan")):
        if level in line:
            head, _, tail = line.partition(level)
            return head + click.style(level, fg=fg, bold=True) + tail
    return line


def main(argv: list[str] | None = None) -> None:
    """Entry point: turns every known error into one line per problem and its exit code."""
    try:
        cli.main(args=argv, prog_name="hipify-tool", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:  # one line, like every other error (not click's usage block)
        hint = " (see --help)" if isinstance(exc, click.UsageError) else ""
        click.echo(f"hipify-tool: error: {exc.format_message()}{hint}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("hipify-tool: aborted", err=True)
        sys.exit(130)
    except HipifyToolError as exc:
        for line in str(exc).splitlines() or [type(exc).__name__]:
            click.echo(f"hipify-tool: error: {line}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("hipify-tool: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # a bug: one line, and the traceback only when asked for
        if os.environ.get("HIPIFY_TOOL_DEBUG"):
            raise
        click.echo(
            f"hipify-tool: internal error: {type(exc).__name__}: {exc} "
            "(set HIPIFY_TOOL_DEBUG=1 for a traceback, and please report it)",
            err=True,
        )
        sys.exit(1)
    sys.exit(0)
