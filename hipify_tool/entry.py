"""The ``hipify-tool`` command's entry point: a plain ``run``, ``plan`` or ``check`` command line is
answered from the output root's state record when nothing changed (:mod:`hipify_tool.fastpath`),
before click, the planner or PyTorch's tables are imported; a plain ``run`` or ``plan`` that must plan
goes through the API without click. Everything else goes to click's command tree
(:mod:`hipify_tool.cli`), which prints the same lines.

The command line is read here with the options model's own declarations and converters, and the
configuration file with the same loader, so the :class:`~hipify_tool.options.Options` are the ones
click would build. Anything this reader does not take as plain (``--help``, combined short flags, an
unknown flag, a value the model refuses, a bad configuration file) goes to click, which gives its own
answer and message.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["main", "parse_plain"]

_COMMANDS = ("run", "plan", "check")


class _NotPlain(Exception):
    """This command line is click's to read."""


def parse_plain(argv: list[str]) -> tuple[str, Any, dict[str, Any]] | None:
    """``(command, Options, front-end values)`` for a plain ``run``/``plan``/``check`` command line,
    exactly as click would build them; ``None`` when click must read it."""
    try:
        return _parse(argv)
    except _NotPlain:
        return None


def _parse(argv: list[str]) -> tuple[str, Any, dict[str, Any]]:
    if not argv or argv[0] not in _COMMANDS:
        raise _NotPlain  # --version, --help, translate, doctor, init: click's, with nothing imported here
    from .errors import HipifyToolError
    from .options import FRONT_END_SPECS, OPTION_SPECS, Options, check_value, parse_text

    command = argv[0]
    specs = [s for s in (*OPTION_SPECS, *FRONT_END_SPECS) if command in s.commands]
    by_flag = {flag: spec for spec in specs for flag in spec.flags}
    given: dict[str, Any] = {}
    sources: list[Any] = []
    config: str | None = None
    no_config = False
    words = iter(argv[1:])
    positional_only = False
    for word in words:
        if positional_only or word == "-" or not word.startswith("-"):
            sources.append(word)
            continue
        if word == "--":
            positional_only = True
            continue
        name, eq, attached = word.partition("=") if word.startswith("--") else (word, "", "")
        if name == "--no-config" and not eq:
            no_config = True
            continue
        if name == "--config":
            config = attached if eq else next(words, None)
            if config is None:
                raise _NotPlain
            continue
        spec = by_flag.get(name)
        if spec is None:
            raise _NotPlain  # unknown, --help, -qv, -ofoo: click's to read
        if spec.kind == "bool":
            if eq:
                raise _NotPlain
            given[spec.name] = True
            continue
        value = attached if eq else next(words, None)
        if value is None:
            raise _NotPlain
        try:
            converted = parse_text(spec, value)
            if spec.kind in ("paths", "strings"):
                given.setdefault(spec.name, []).append(check_value(spec, [converted], spec.flags[-1])[0])
            else:
                given[spec.name] = check_value(spec, converted, spec.flags[-1])
        except HipifyToolError:
            raise _NotPlain from None
    sources_spec = next(s for s in specs if s.name == "sources")
    try:
        given_sources = [check_value(sources_spec, [parse_text(sources_spec, s)], "sources")[0] for s in sources]
        defaults = {} if no_config else _config_defaults(config, {s.name for s in specs})
    except HipifyToolError:
        raise _NotPlain from None
    values: dict[str, Any] = {"project_dir": Path(".")}
    values.update(defaults)
    values.update({k: tuple(v) if isinstance(v, list) else v for k, v in given.items()})
    front = {s.name: values.pop(s.name, s.default) for s in FRONT_END_SPECS}
    configured = values.pop("sources", ())
    if not given_sources:  # as click fills an argument given no value from the configuration
        given_sources = list(configured)
    if "output_dir" not in values:
        raise _NotPlain  # click names the missing option
    values = {k: v for k, v in values.items() if not (isinstance(v, tuple) and not v)}
    lists = tuple(front["sources_from"])
    front["sources_from"] = lists
    try:
        options = Options(**values, sources=(*given_sources, *_sources_from(lists)))
    except (HipifyToolError, OSError):
        raise _NotPlain from None
    return command, options, front


def _config_defaults(path: str | None, own: set[str]) -> dict[str, Any]:
    """The configuration file's values for this command's options, as click's default map gets them."""
    from .config import load_config

    config = load_config(Path(path) if path is not None else None)
    if config is None:
        return {}
    defaults = {key: v for key, v in config.values.items() if key in own}
    defaults.setdefault("project_dir", config.base)
    return defaults


def _sources_from(lists: tuple[Path, ...]) -> list[Path]:
    """The lists' sources; a list that is not a regular file (a pipe can be read once) is click's."""
    import stat

    from .fileio import read_regular

    sources: list[Path] = []
    for list_file in lists:
        if not stat.S_ISREG(os.stat(list_file).st_mode):
            raise _NotPlain
        data = read_regular(list_file)
        sources.extend(Path(line) for line in os.fsdecode(data).splitlines() if line.strip())
    return sources


def _answer(argv: list[str]) -> bool:
    """Answer a plain command line without click: from the state record, or (``run`` and ``plan``
    asking for no report and drawing no progress bar) by the full path through the API, printed as
    click's command would print it. ``False``: click's command tree must."""
    from .errors import HipifyToolError

    started = time.perf_counter()
    try:
        parsed = parse_plain(argv)
        if parsed is None:
            return False
        command, options, front = parsed
        from . import fastpath

        o = options.resolved()
        record = fastpath.previous_record(o)
        lists = front["sources_from"]
        if command == "run":
            verdict = fastpath.quick_run(o, record, lists)
        elif command == "plan":
            verdict = fastpath.quick_plan(o, record, lists)
        else:
            verdict = fastpath.quick_check(o, record)
    except HipifyToolError:
        raise  # what the full path would say too (a build file on a source...)
    except Exception:  # a doubt of any kind: click's command takes the full path
        if os.environ.get("HIPIFY_TOOL_DEBUG"):
            raise
        return False
    outcome = verdict.outcome
    counts: tuple[int, int, int, int] | None = None  # written, unchanged, removed, translated
    if outcome is None:
        plain = o.report is None and not o.strict and o.rocm_path is None
        if command == "check" or not plain or sys.stderr.isatty():
            return False  # a report, a diff or a progress bar: click's command prints them
        from . import api

        if command == "run":
            ran = api.full_run(o, also_read=lists, suspects=verdict.suspects, previous=record)
            counts = (len(ran.written), len(ran.unchanged), len(ran.removed), ran.outcome.translated_count)
            outcome = ran.outcome
        else:
            outcome = api.full_plan(o, also_read=lists, suspects=verdict.suspects).outcome
    quiet, verbose = front["quiet"], front["verbose"]
    err = sys.stderr
    if not quiet:
        for warning in outcome.warnings:
            err.write(f"hipify-tool: warning: {warning}\n")
        if command == "run" and not o.prune:
            for stale in outcome.stale:
                out = o.output_dir / stale
                err.write(f"hipify-tool: warning: {out}: stale output (its source is gone); --prune removes it\n")
    verbose = verbose and not quiet
    if command == "plan" and verbose:
        for header in outcome.external_headers:
            err.write(f"hipify-tool: external header (outside the project: read, never written): {header}\n")
    if command in ("run", "plan") and o.output_list is None:
        from .buildfiles import format_list

        listed = outcome.input_outputs if command == "run" else outcome.all_outputs
        sys.stdout.write(format_list(listed, o.list_format))
    if verbose and command == "run":
        count = len(outcome.all_outputs)
        written, unchanged, removed, translated = counts if counts is not None else (0, count, 0, 0)
        err.write(
            f"hipify-tool: {_plural(count, 'output')}: {written} written, {unchanged} unchanged, {removed} removed; "
            f"{translated} translated in {time.perf_counter() - started:.2f} s\n"
        )
    elif verbose and command == "check":
        err.write(f"hipify-tool: {o.output_dir}: up to date ({_plural(outcome.file_count, 'output')})\n")
    return True


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def main(argv: list[str] | None = None) -> None:
    """``hipify-tool``: a plain command line answered here, everything else by click's command tree;
    errors as :func:`hipify_tool.cli.main` reports them (one line each, the documented exit code)."""
    from .errors import HipifyToolError

    try:
        answered = _answer(sys.argv[1:] if argv is None else argv)
    except HipifyToolError as exc:
        for line in str(exc).splitlines() or [type(exc).__name__]:
            sys.stderr.write(f"hipify-tool: error: {line}\n")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("hipify-tool: interrupted\n")
        sys.exit(130)
    except Exception as exc:  # a bug: one line, and the traceback only when asked for
        if os.environ.get("HIPIFY_TOOL_DEBUG"):
            raise
        sys.stderr.write(
            f"hipify-tool: internal error: {type(exc).__name__}: {exc} "
            "(set HIPIFY_TOOL_DEBUG=1 for a traceback, and please report it)\n"
        )
        sys.exit(1)
    if answered:
        sys.stdout.flush()
        sys.exit(0)
    from .cli import main as full

    full(argv)
