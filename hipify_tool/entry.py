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

    from .console import sources_from

    if not all(stat.S_ISREG(os.stat(list_file).st_mode) for list_file in lists):
        raise _NotPlain
    return sources_from(lists)


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
    counts: tuple[int, int, int] | None = None  # written, unchanged, removed
    if outcome is None:
        plain = o.report is None and not o.strict and o.rocm_path is None
        if command == "check" or not plain or sys.stderr.isatty():
            return False  # a report, a diff or a progress bar: click's command prints them
        from . import api

        if command == "run":
            ran = api.full_run(o, also_read=lists, suspects=verdict.suspects, previous=record)
            counts = (len(ran.written), len(ran.unchanged), len(ran.removed))
            outcome = ran.outcome
        else:
            outcome = api.full_plan(o, also_read=lists, suspects=verdict.suspects).outcome
    from .console import Log, print_plan, print_run, print_up_to_date

    log = Log(front["quiet"], front["verbose"])
    if command == "run":
        count = len(outcome.all_outputs)
        written, unchanged, removed = counts if counts is not None else (0, count, 0)
        seconds = time.perf_counter() - started
        print_run(outcome, o, log, counts=(written, unchanged, removed), seconds=seconds)
    elif command == "plan":
        print_plan(outcome, o, log)
    else:
        print_up_to_date(o.output_dir, outcome.file_count, log)
    return True


def main(argv: list[str] | None = None) -> None:
    """``hipify-tool``: a plain command line answered here, everything else by click's command tree;
    errors as :func:`hipify_tool.cli.main` reports them (one line each, the documented exit code)."""
    from .console import one_line_errors

    with one_line_errors():
        answered = _answer(sys.argv[1:] if argv is None else argv)
    if answered:
        sys.stdout.flush()
        sys.exit(0)
    from .cli import main as full

    full(argv)
