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
from typing import Any, TypeVar

import click

from . import __version__
from .errors import HipifyToolError
from .options import DEFAULT_EXTENSIONS, LAUNCH_SYNTAXES, Options, option_help

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
        click.argument("sources", nargs=-1, type=click.Path(path_type=Path)),
        click.option("-p", "--project-dir", type=click.Path(path_type=Path), default=Path("."), show_default=True,
                     help=option_help("project_dir")),
        click.option("-o", "--output-dir", type=click.Path(path_type=Path), required=True,
                     help=option_help("output_dir")),
        click.option("-I", "--include-dir", "include_dirs", multiple=True, type=click.Path(path_type=Path),
                     help=option_help("include_dirs")),
        click.option("--include", "include", multiple=True, metavar="PATTERN", help=option_help("include")),
        click.option("--exclude", "exclude", multiple=True, metavar="PATTERN", help=option_help("exclude")),
        click.option("--extension", "extensions", multiple=True, metavar=".EXT",
                     help=option_help("extensions") + f" Repeatable; default: {' '.join(DEFAULT_EXTENSIONS)}"),
        click.option("--launch-syntax", type=click.Choice(LAUNCH_SYNTAXES), default="ggl", show_default=True,
                     help=option_help("launch_syntax")),
        click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, help=option_help("jobs")),
        click.option("--output-list", type=click.Path(path_type=Path), default=None,
                     help="Write the list here (rewritten only when it changes) instead of stdout."),
        click.option("--list-format", type=click.Choice(["lines", "cmake", "json"]), default="lines",
                     show_default=True, help="Format of the output list."),
        click.option("-q", "--quiet", is_flag=True, help="Print errors only."),
        click.option("-v", "--verbose", is_flag=True, help="Also print what was done."),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def _options(kwargs: dict[str, Any], prune: bool = False) -> Options:
    return Options(
        project_dir=kwargs["project_dir"],
        output_dir=kwargs["output_dir"],
        sources=tuple(kwargs["sources"]),
        include_dirs=tuple(kwargs["include_dirs"]),
        include=tuple(kwargs["include"]),
        exclude=tuple(kwargs["exclude"]),
        extensions=tuple(kwargs["extensions"]) or DEFAULT_EXTENSIONS,
        launch_syntax=kwargs["launch_syntax"],
        jobs=kwargs["jobs"],
        prune=prune,
    )


def _emit_list(paths: list[Path], kwargs: dict[str, Any]) -> None:
    from .materialise import format_list, write_list

    if kwargs["output_list"] is not None:
        write_list(Path(os.path.abspath(kwargs["output_list"])), paths, kwargs["list_format"])
    else:
        sys.stdout.write(format_list(paths, kwargs["list_format"]))


def _log(kwargs: dict[str, Any]) -> _Log:
    return _Log(-1 if kwargs["quiet"] else (1 if kwargs["verbose"] else 0))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="hipify-tool")
def cli() -> None:
    """Translate CUDA C++ sources to HIP with PyTorch's hipify: exact outputs, incremental, safe."""


@cli.command()
@_common_options
@click.option("--depfile", type=click.Path(path_type=Path), default=None,
              help="Write a Make-syntax depfile naming every output and every file read.")
@click.option("--prune", is_flag=True, help=option_help("prune"))
def run(depfile: Path | None, prune: bool, **kwargs: Any) -> None:
    """Translate SOURCES (or every matching file) into the output dir.

    Prints one output per input, in input order: the list a build compiles.
    """
    from .api import run_with_options
    from .materialise import write_depfile

    log = _log(kwargs)
    start = time.perf_counter()
    result = run_with_options(_options(kwargs, prune))
    for warning in result.warnings:
        log.warn(warning)
    for stale in result.stale:
        if not prune:
            log.warn(f"{result.plan.output_path(stale)}: stale output (its source is gone); --prune removes it")
    if depfile is not None:
        write_depfile(Path(os.path.abspath(depfile)), result.all_outputs, result.plan.dependencies())
    _emit_list(list(result.outputs), kwargs)
    log.info(
        f"{len(result.plan.files)} outputs: {len(result.written)} written, {len(result.unchanged)} unchanged, "
        f"{len(result.removed)} removed; {result.plan.translated_count} translated "
        f"in {time.perf_counter() - start:.2f} s"
    )


@cli.command()
@_common_options
def plan(**kwargs: Any) -> None:
    """Print every output a run would write (headers and copies included), writing nothing.

    This is the list a build system declares as the outputs of the translation step.
    """
    from .api import plan_with_options

    log = _log(kwargs)
    the_plan = plan_with_options(_options(kwargs))
    for warning in the_plan.warnings:
        log.warn(warning)
    _emit_list(the_plan.all_outputs(), kwargs)


def main(argv: list[str] | None = None) -> None:
    """Entry point: turns every known error into one line per problem and its exit code."""
    try:
        cli.main(args=argv, prog_name="hipify-tool", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
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
