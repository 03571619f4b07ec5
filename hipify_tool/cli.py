"""Command-line front end: flags derived from :mod:`hipify_tool.options`, then a call into the core,
then printing. No decision about outputs, build files or ``--strict`` is taken here.

stdout carries only the output list (when no ``--output-list`` file is given) or ``check``'s diff;
logs go to stderr. Exit codes are those of :mod:`hipify_tool.errors`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ._version import __version__
from .console import Log, one_line_errors, print_plan, print_run, print_up_to_date, sources_from
from .errors import UsageError
from .options import FRONT_END_SPECS, OPTION_SPECS, Command, Options, OptionSpec, check_value, parse_text

if TYPE_CHECKING:
    from .api import PlanResult

__all__ = ["main", "cli"]

F = TypeVar("F", bound=Callable[..., Any])

_CLI_DEFAULTS: dict[str, Any] = {"project_dir": Path(".")}
"""The command line's own defaults: the project is the working directory unless said otherwise."""


class _ModelType(click.ParamType[Any]):
    """Converts one command-line word with the options model, so its message is the model's."""

    def __init__(self, spec: OptionSpec) -> None:
        self.spec = spec
        self.name = spec.kind

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        shown = self.spec.flags[-1] if self.spec.flags else self.spec.name
        if isinstance(value, str):
            value = parse_text(self.spec, value)
        if self.spec.kind in ("paths", "strings"):  # one item of a repeatable flag
            return check_value(self.spec, [value], shown)[0]
        return check_value(self.spec, value, shown)


def _click_option(spec: OptionSpec) -> Callable[[F], F]:
    if not spec.flags:
        return click.argument(spec.name, nargs=-1, type=_ModelType(spec))
    required = spec.name == "output_dir"
    common: dict[str, Any] = {"help": spec.help, "metavar": spec.metavar}
    if spec.kind == "bool":
        return click.option(*spec.flags, spec.name, is_flag=True, help=spec.help)
    if spec.kind in ("paths", "strings"):
        default = "; default: " + " ".join(spec.default) if spec.default else ""
        return click.option(
            *spec.flags,
            spec.name,
            multiple=True,
            type=_ModelType(spec),
            **{**common, "help": f"{spec.help} Repeatable{default}."},
        )
    default = _CLI_DEFAULTS.get(spec.name, spec.default)
    if default is not None:
        common.update(default=default, show_default=True)
    return click.option(*spec.flags, spec.name, type=_ModelType(spec), required=required, **common)


def _options_for(command: Command) -> Callable[[F], F]:
    """Every option the model gives ``command``, plus ``--config``/``--no-config``."""

    def decorate(func: F) -> F:
        decorators = [_click_option(s) for s in (*OPTION_SPECS, *FRONT_END_SPECS) if command in s.commands]
        decorators += [
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
        ]
        for decorator in reversed(decorators):
            func = decorator(func)
        return func

    return decorate


def _apply_config(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    """Eager: the configuration file's values become this command's defaults (flags still win)."""
    if ctx.resilient_parsing or ctx.meta.get("hipify_tool.no_config"):
        return
    from .config import load_config

    config = load_config(value)
    if config is None:
        return
    own = {p.name for p in ctx.command.params if p.name}
    defaults = {key: v for key, v in config.values.items() if key in own}  # run-only keys: ignored by plan
    defaults.setdefault("project_dir", config.base)
    ctx.meta["hipify_tool.config_defaults"] = ctx.default_map
    ctx.default_map = {**(ctx.default_map or {}), **defaults}


def _drop_config(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """``--no-config``, whichever side of ``--config`` it is on."""
    if value:
        ctx.meta["hipify_tool.no_config"] = True
        if "hipify_tool.config_defaults" in ctx.meta:  # --config was processed first: undo it
            ctx.default_map = ctx.meta["hipify_tool.config_defaults"]


def _given(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The options a command received; a repeatable flag given no value leaves the model's default."""
    return {k: v for k, v in kwargs.items() if not (isinstance(v, tuple) and not v)}


def _parse(kwargs: dict[str, Any]) -> tuple[Options, Log, tuple[Path, ...]]:
    """The command's :class:`Options`, its log, and the files read to make them (``--sources-from``)."""
    front = {s.name: kwargs.pop(s.name) for s in FRONT_END_SPECS}
    sources = (*kwargs.pop("sources"), *sources_from(front["sources_from"]))
    options = Options(**_given(kwargs), sources=sources)
    return options, Log(front["quiet"], front["verbose"]), front["sources_from"]


@contextmanager
def _progress(log: Log) -> Iterator[Any]:
    """A progress callback drawing a bar on a terminal, or None."""
    if not sys.stderr.isatty():
        yield None
        return
    from .progress import progress_for

    bar = progress_for(log.verbosity < 0)
    try:
        yield bar
    finally:
        if bar is not None:
            bar.close()


def _print_report(result: PlanResult, log: Log) -> None:
    """The report's lines on stderr, then ``--strict``'s verdict (the report's own)."""
    report = result.report
    if report is None:
        return
    o = result.options
    from .progress import color_enabled

    color = color_enabled()
    if log.verbosity >= 0:
        if o.report_file is not None and not o.strict:  # the findings are in the file: just the summary
            lines = report.summary_lines()[:1]
        else:
            from .report.writers import to_text

            lines = to_text(report, verbose=log.verbosity >= 1).splitlines()
        for line in lines:
            click.echo(_colored(line, color), err=True, color=color)
    failure = result.strict_failure()
    if failure is not None:
        if log.verbosity < 0:  # -q: the problems are still what the user needs to see
            for line in report.problem_lines():
                click.echo(line, err=True)
        raise failure


def _colored(line: str, color: bool) -> str:
    if not color:
        return line
    for level, fg in ((": error:", "red"), (": warning:", "yellow"), (": note:", "cyan")):
        if level in line:
            head, _, tail = line.partition(level)
            return head + click.style(level, fg=fg, bold=True) + tail
    return line


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
@_options_for("run")
def run(**kwargs: Any) -> None:
    """Translate SOURCES (or every matching file) into the output dir.

    Prints one output per input, in input order: the list a build compiles.
    """
    from .api import run_with_options

    options, log, lists = _parse(kwargs)
    start = time.perf_counter()
    with _progress(log) as progress:
        result = run_with_options(options, progress=progress, also_read=lists)
    counts = (len(result.written), len(result.unchanged), len(result.removed))
    print_run(result.outcome, result.options, log, counts=counts, seconds=time.perf_counter() - start)
    _print_report(result, log)


@cli.command()
@_options_for("plan")
def plan(**kwargs: Any) -> None:
    """Print every output a run would write (headers and copies included), writing nothing.

    This is the list a build system declares as the outputs of the translation step.
    """
    from .api import plan_with_options

    options, log, lists = _parse(kwargs)
    with _progress(log) as progress:
        result = plan_with_options(options, progress=progress, also_read=lists)
    print_plan(result.outcome, result.options, log)
    _print_report(result, log)


@cli.command()
@_options_for("check")
def check(**kwargs: Any) -> None:
    """Exit 6 with a unified diff on stdout when the committed output dir differs from a fresh run.

    For projects that commit their translated tree: run it in CI or as a pre-commit hook. Writes nothing.
    """
    from .check import check_tree

    options, log, _ = _parse(kwargs)
    result = check_tree(options)
    for warning in result.warnings:
        log.warn(warning)
    sys.stdout.write(result.diff)
    failure = result.failure()
    if failure is not None:
        raise failure
    print_up_to_date(result.options.output_dir, result.file_count, log)


@cli.command()
@click.argument("file", metavar="FILE|-")
@_options_for("translate")
def translate(file: str, **kwargs: Any) -> None:
    """Print the translation of FILE (or of stdin, '-', taken as stdin.cu in the project dir) on stdout.

    The bytes run writes for FILE with the same options; nothing is written.
    """
    from .api import translate_source

    data = None
    if file == "-":
        from .fileio import STREAM_LIMIT, read_stream

        data = read_stream(sys.stdin.buffer)
        if data is None:
            raise UsageError(f"stdin: more than {STREAM_LIMIT >> 20} MiB, the most read from stdin; give a file path")
    result = translate_source(None if file == "-" else file, data=data, **_given(kwargs))
    log = Log(quiet=False, verbose=False)
    for warning in result.warnings:
        log.warn(warning)
    sys.stdout.buffer.write(result.data)
    sys.stdout.buffer.flush()


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
    """Create a PyTorch extension project in DIRECTORY that builds for CUDA (nvcc) and ROCm (hipify-tool's
    CMake package)."""
    from .init import init_project

    written = init_project(directory, name=name, force=force)
    for path in written:
        click.echo(str(path))
    click.echo(f"hipify-tool: created {len(written)} files in {directory}; see {directory / 'README.md'}", err=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point: turns every known error into one line per problem and its exit code."""
    with one_line_errors():
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
    sys.exit(0)
