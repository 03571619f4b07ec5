"""What the command line prints and how it ends, in one wording for both of its readers: the quick
entry point (:mod:`hipify_tool.entry`, which must not import click) and click's command tree
(:mod:`hipify_tool.cli`). stdout carries only the output list; every other line goes to stderr.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import HipifyToolError, UsageError

if TYPE_CHECKING:
    from .options import Options
    from .outcome import Outcome

__all__ = [
    "Log",
    "plural",
    "sources_from",
    "print_list",
    "print_run",
    "print_plan",
    "print_up_to_date",
    "one_line_errors",
]


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """``1 file``, ``2 files``: counts as a reader expects them."""
    return f"{count} {noun if count == 1 else (plural_form or noun + 's')}"


class Log:
    """stderr logging at the chosen verbosity (-q: errors only, default: warnings, -v: summaries)."""

    def __init__(self, quiet: bool, verbose: bool) -> None:
        self.verbosity = -1 if quiet else (1 if verbose else 0)

    def warn(self, message: str) -> None:
        if self.verbosity >= 0:
            sys.stderr.write(f"hipify-tool: warning: {message}\n")

    def info(self, message: str) -> None:
        if self.verbosity >= 1:
            sys.stderr.write(f"hipify-tool: {message}\n")


def sources_from(lists: Sequence[Path]) -> list[Path]:
    """The sources of each ``--sources-from`` list, one a line (blank lines skipped); a list may be a
    pipe (``<(find ...)``), read up to the stream limit."""
    from .fileio import read_list

    sources: list[Path] = []
    for list_file in lists:
        try:
            data = read_list(list_file)
        except OSError as exc:
            raise UsageError(f"{list_file}: cannot read the sources list ({exc.strerror})") from None
        sources.extend(Path(line) for line in os.fsdecode(data).splitlines() if line.strip())
    return sources


def print_list(paths: Sequence[str], options: Options) -> None:
    """The output list on stdout, unless it goes to ``--output-list``."""
    if options.output_list is None:
        from .buildfiles import format_list

        sys.stdout.write(format_list(paths, options.list_format))


def print_run(outcome: Outcome, options: Options, log: Log, *, counts: tuple[int, int, int], seconds: float) -> None:
    """A run's warnings, its list (one output per input) and, with -v, its summary line.
    ``counts``: outputs written, unchanged and removed."""
    for warning in outcome.warnings:
        log.warn(warning)
    if not options.prune:
        for stale in outcome.stale:
            log.warn(f"{options.output_dir / stale}: stale output (its source is gone); --prune removes it")
    print_list(outcome.input_outputs, options)
    written, unchanged, removed = counts
    log.info(
        f"{plural(len(outcome.all_outputs), 'output')}: {written} written, {unchanged} unchanged, "
        f"{removed} removed; {outcome.translated_count} translated in {seconds:.2f} s"
    )


def print_plan(outcome: Outcome, options: Options, log: Log) -> None:
    """A plan's warnings, the external headers (-v) and its list (every output)."""
    for warning in outcome.warnings:
        log.warn(warning)
    for header in outcome.external_headers:
        log.info(f"external header (outside the project: read, never written): {header}")
    print_list(outcome.all_outputs, options)


def print_up_to_date(output_dir: Path, file_count: int, log: Log) -> None:
    log.info(f"{output_dir}: up to date ({plural(file_count, 'output')})")


@contextmanager
def one_line_errors() -> Iterator[None]:
    """Every known error as one line per problem and its exit code; a bug as one line and exit 1
    (``HIPIFY_TOOL_DEBUG=1`` shows its traceback). Never a traceback for bad input."""
    try:
        yield
    except HipifyToolError as exc:
        for line in str(exc).splitlines() or [type(exc).__name__]:
            sys.stderr.write(f"hipify-tool: error: {line}\n")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("hipify-tool: interrupted\n")
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("HIPIFY_TOOL_DEBUG"):
            raise
        sys.stderr.write(
            f"hipify-tool: internal error: {type(exc).__name__}: {exc} "
            "(set HIPIFY_TOOL_DEBUG=1 for a traceback, and please report it)\n"
        )
        sys.exit(1)
