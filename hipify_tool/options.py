"""Every option, declared once: its name, type, default, choices, help, and who may set it.

The CLI's flags (:mod:`hipify_tool.cli`), the ``[tool.hipify-tool]`` reader (:mod:`hipify_tool.config`)
and the Python API's keywords (:mod:`hipify_tool.api`) are all derived from the fields below, and
every value is checked here, by :func:`check_value`, whichever front end it came from. Adding an option
is one field here plus its effect in the stage that uses it.
"""

from __future__ import annotations

import os
import re
import typing
from collections.abc import Iterable
from dataclasses import MISSING, Field, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from .errors import UsageError

__all__ = [
    "Options",
    "FrontEndOptions",
    "OptionSpec",
    "DEFAULT_EXTENSIONS",
    "LaunchSyntax",
    "ListFormat",
    "ReportFormat",
    "Command",
    "CMakeUse",
    "OPTION_SPECS",
    "FRONT_END_SPECS",
    "check_value",
    "parse_text",
    "list_option",
]

LaunchSyntax = Literal["ggl", "chevron"]
ListFormat = Literal["lines", "cmake", "json"]
ReportFormat = Literal["text", "json", "sarif"]
Command = Literal["run", "plan", "check", "translate"]

DEFAULT_EXTENSIONS: tuple[str, ...] = (".cu", ".cuh", ".c", ".cc", ".cpp", ".h", ".in", ".hpp")
"""PyTorch's ``hipify()`` default extensions."""

_ALL: frozenset[Command] = frozenset({"run", "plan", "check"})
_BUILD: frozenset[Command] = frozenset({"run", "plan"})
_RUN: frozenset[Command] = frozenset({"run"})
_TRANSLATE: frozenset[Command] = _ALL | {"translate"}
"""Options that change an output's bytes: ``translate`` takes them too."""

Kind = Literal["path", "optional-path", "paths", "strings", "choice", "int", "bool"]
CMakeUse = Literal["configure", "build", "package"]
"""How the CMake package passes an option on: ``configure``, to ``plan`` at configure time and to ``run`` in
the build (it decides which files are written); ``build``, to ``run`` only (reports, the gate, pruning);
``package``, never as a keyword (the package sets it itself: its build files, its list of sources)."""


@dataclass(frozen=True)
class OptionSpec:
    """What the front ends need to know about one option (kept in the field's metadata)."""

    name: str
    kind: Kind
    help: str
    default: Any
    choices: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    """CLI spellings; empty for a positional argument (``sources``)."""
    metavar: str | None = None
    commands: frozenset[Command] = _ALL
    """The CLI commands that take it."""
    affects_output: bool = False
    """Part of the manifest key: changing it re-translates."""
    affects_result: bool = True
    """False for options that only change how a run goes (speed, verbosity), never what it writes or how
    it exits: the CMake package leaves them out of a call's identity."""
    writes: bool = False
    """It names a file or directory the run writes (the CMake package takes it relative to the binary dir)."""
    cmake: CMakeUse = "build"
    item_pattern: str | None = None
    """A list option's items must match this regular expression (whole); its metavar says the form."""

    @property
    def multi(self) -> bool:
        """It takes several values (a repeatable flag, a list in ``[tool.hipify-tool]``)."""
        return self.kind in ("paths", "strings")

    @property
    def cmake_keyword(self) -> str | None:
        """The keyword of the CMake package's commands: the long flag upper-cased, hyphens as underscores,
        plural when it takes several values (``--map`` -> ``MAPS``); ``None`` when the package sets it."""
        if self.cmake == "package":
            return None
        long_flags = [f for f in self.flags if f.startswith("--")]
        word = (long_flags[0][2:] if long_flags else self.name).replace("-", "_").upper()
        if self.multi and not word.endswith("S"):
            word += "ES" if word.endswith(("X", "CH", "SH")) else "S"
        return word


def _opt(
    default: Any,
    help: str,
    *,
    flags: tuple[str, ...] | None = None,
    metavar: str | None = None,
    commands: frozenset[Command] = _ALL,
    affects_output: bool = False,
    affects_result: bool = True,
    writes: bool = False,
    cmake: CMakeUse | None = None,
    item_pattern: str | None = None,
) -> Any:
    """A dataclass field whose metadata carries the option's declaration (completed by :func:`_spec`).

    ``cmake`` defaults to ``configure`` for an option that changes an output's bytes (``translate`` takes
    it), else ``build``: a new option becomes a CMake keyword by itself.
    """
    if cmake is None:
        cmake = "configure" if "translate" in commands else "build"
    meta = {
        "help": help,
        "flags": flags,
        "metavar": metavar,
        "commands": commands,
        "affects_output": affects_output,
        "affects_result": affects_result,
        "writes": writes,
        "cmake": cmake,
        "item_pattern": item_pattern,
    }
    if default is MISSING:
        return field(metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Options:
    """What to translate, how, and which build files to write. Paths may be relative: they are taken
    from the current directory (the CLI's and the API's) or from the configuration file's directory."""

    project_dir: Path = _opt(
        MISSING,
        "Root of the CUDA sources; every input must be under it.",
        flags=("-p", "--project-dir"),
        commands=_TRANSLATE,
    )
    output_dir: Path = _opt(
        MISSING,
        "Output root; everything written goes under it.",
        flags=("-o", "--output-dir"),
        writes=True,
        cmake="configure",
    )
    sources: tuple[Path, ...] = _opt(
        (), "Files to translate, in build order (headers they include follow).", flags=(), cmake="configure"
    )
    include_dirs: tuple[Path, ...] = _opt(
        (),
        "Header search directories, searched in order after the includer's directory (default: the project "
        "dir); one outside the project is only read, never written.",
        flags=("-I", "--include-dir"),
        metavar="DIR",
        affects_output=True,
        commands=_TRANSLATE,
    )
    include: tuple[str, ...] = _opt(
        (),
        "Gitignore-style patterns (relative to the project dir) selecting inputs.",
        metavar="PATTERN",
        cmake="configure",
    )
    exclude: tuple[str, ...] = _opt(
        (), "Gitignore-style patterns removing files from the selected inputs.", metavar="PATTERN", cmake="configure"
    )
    extensions: tuple[str, ...] = _opt(
        DEFAULT_EXTENSIONS,
        "File extensions that are translated (others are copied).",
        flags=("--extension",),
        metavar=".EXT",
        affects_output=True,
        commands=_TRANSLATE,
    )
    launch_syntax: LaunchSyntax = _opt(
        "ggl",
        "'ggl': rewrite <<<>>> to hipLaunchKernelGGL (PyTorch's default); 'chevron': keep <<<>>>.",
        affects_output=True,
        commands=_TRANSLATE,
    )
    jobs: int | None = _opt(
        None,
        "Parallel translation jobs (default: available cores).",
        flags=("-j", "--jobs"),
        affects_result=False,
        cmake="configure",
    )
    prune: bool = _opt(False, "Remove generated files whose source no longer exists.", commands=_RUN)
    maps: tuple[Path, ...] = _opt(
        (),
        "Custom mapping files (TOML or JSON), applied before PyTorch's tables; later files win.",
        flags=("--map",),
        metavar="FILE",
        commands=_TRANSLATE,
    )
    output_list: Path | None = _opt(
        None,
        "Write the list of outputs here (rewritten only when it changes) instead of stdout.",
        metavar="FILE",
        commands=_BUILD,
        writes=True,
        cmake="package",
    )
    list_format: ListFormat = _opt("lines", "Format of the output list.", commands=_BUILD, cmake="package")
    cmake_plan: Path | None = _opt(
        None,
        "Also write a CMake script setting HIPIFY_TOOL_OUTPUTS (one per input, in order) and "
        "HIPIFY_TOOL_ALL_OUTPUTS (every output); rewritten only when it changes.",
        metavar="FILE",
        commands=_BUILD,
        writes=True,
        cmake="package",
    )
    depfile: Path | None = _opt(
        None,
        "Write a Make-syntax depfile naming every output and every file read.",
        metavar="FILE",
        commands=_RUN,
        writes=True,
        cmake="package",
    )
    stamp: Path | None = _opt(
        None,
        "Touch this file after a successful run (no older than any input it covers) and make it the "
        "depfile's only target.",
        metavar="FILE",
        commands=_RUN,
        writes=True,
        cmake="package",
    )
    report: ReportFormat | None = _opt(
        None,
        "Report replaced, unsupported and leftover CUDA names: text on stderr (or in --report-file), "
        "json or sarif (SARIF 2.1.0) in --report-file.",
        commands=_BUILD,
    )
    report_file: Path | None = _opt(None, "Write the report here.", metavar="FILE", commands=_BUILD, writes=True)
    strict: bool = _opt(
        False, "Exit with code 6 when a CUDA name is left or unsupported in code ROCm compiles.", commands=_BUILD
    )
    rocm_path: Path | None = _opt(
        None,
        "ROCm root whose headers (DIR/include/hip, hipcub ...) the report checks replacements against: a HIP "
        "name they do not declare is reported unsupported (default: $ROCM_PATH, $HIP_PATH, /opt/rocm, /usr).",
        metavar="DIR",
        commands=_BUILD,
    )
    defines: tuple[str, ...] = _opt(
        (),
        "A macro the ROCm build defines (NAME or NAME=VALUE, as the compiler's -D): the report evaluates the "
        "project's #if branches and the --rocm-path headers' conditionals with it.",
        flags=("-D", "--define"),
        metavar="NAME[=VALUE]",
        commands=_BUILD,
        item_pattern=r"[A-Za-z_]\w*(?:\([\w\s,.]*\))?(?:=.*)?",
    )
    baseline: Path | None = _opt(
        None,
        "An earlier JSON report (--report json): --strict fails only on findings it does not hold (matched by "
        "file, rule and name, not by line).",
        metavar="FILE",
        commands=_BUILD,
    )

    def __post_init__(self) -> None:
        for spec in OPTION_SPECS:
            object.__setattr__(self, spec.name, check_value(spec, getattr(self, spec.name), spec.name))
        if self.report in ("json", "sarif") and self.report_file is None:
            raise UsageError(f"report: {self.report!r} needs report_file (--report-file FILE)")
        if self.report_file is not None and self.report is None:
            raise UsageError("report_file: needs report (--report text|json|sarif)")

    def resolved(self) -> Options:
        """The same options with absolute, normalised paths (symlinks kept, as compilers keep them).

        Without ``include_dirs`` the project dir is searched (vLLM's hipify call passes
        ``header_include_dirs=["."]``).
        """
        changes: dict[str, Any] = {}
        for spec in OPTION_SPECS:
            value = getattr(self, spec.name)
            if spec.kind in ("path", "optional-path") and value is not None:
                changes[spec.name] = Path(os.path.abspath(value))
            elif spec.kind == "paths":
                changes[spec.name] = tuple(Path(os.path.abspath(p)) for p in value)
        if not changes["include_dirs"]:
            changes["include_dirs"] = (changes["project_dir"],)
        return replace(self, **changes)

    def effective_jobs(self) -> int:
        if self.jobs is not None:
            return self.jobs
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # not on Linux
            return max(1, os.cpu_count() or 1)

    def output_key_parts(self) -> list[str]:
        """The options that change outputs, as text for the manifest key."""
        parts: list[str] = []
        for spec in OPTION_SPECS:
            if spec.affects_output:
                value = getattr(self, spec.name)
                parts.append(",".join(map(str, value)) if isinstance(value, tuple) else str(value))
        return parts


@dataclass(frozen=True)
class FrontEndOptions:
    """Options of the command line (and ``[tool.hipify-tool]``) that the Python API has no use for."""

    sources_from: tuple[Path, ...] = _opt(
        (),
        "Read more SOURCES from this file, one path a line (no command-line length limit).",
        metavar="FILE",
        cmake="package",
    )
    quiet: bool = _opt(False, "Print errors only.", flags=("-q", "--quiet"), affects_result=False, cmake="package")
    verbose: bool = _opt(
        False, "Also print what was done.", flags=("-v", "--verbose"), affects_result=False, cmake="package"
    )


def _kind(hint: Any) -> tuple[Kind, tuple[str, ...]]:
    """An option's kind and choices, from its type annotation (the annotation is the declaration)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Path:
        return "path", ()
    if hint is bool:
        return "bool", ()
    if origin is Literal:
        return "choice", tuple(args)
    if origin is tuple:
        return ("paths" if args[0] is Path else "strings"), ()
    non_none = [a for a in args if a is not type(None)]
    if len(non_none) == 1 and non_none[0] is Path:
        return "optional-path", ()
    if len(non_none) == 1 and non_none[0] is int:
        return "int", ()
    if len(non_none) == 1 and typing.get_origin(non_none[0]) is Literal:
        return "choice", tuple(typing.get_args(non_none[0]))
    raise TypeError(f"options: unsupported option type {hint!r}")  # pragma: no cover - a new kind: add it


def _spec(f: Field[Any], hint: Any) -> OptionSpec:
    kind, choices = _kind(hint)
    meta = f.metadata
    flags = meta["flags"]
    if flags is None:
        flags = ("--" + f.name.replace("_", "-"),)
    metavar = meta["metavar"] or ("[" + "|".join(choices) + "]" if choices else None)
    default = f.default if f.default is not MISSING else None
    return OptionSpec(
        name=f.name,
        kind=kind,
        help=meta["help"],
        default=default,
        choices=choices,
        flags=flags,
        metavar=metavar,
        commands=meta["commands"],
        affects_output=meta["affects_output"],
        affects_result=meta["affects_result"],
        writes=meta["writes"],
        cmake=meta["cmake"],
        item_pattern=meta["item_pattern"],
    )


def _specs_of(model: type) -> tuple[OptionSpec, ...]:
    hints = typing.get_type_hints(model)
    return tuple(_spec(f, hints[f.name]) for f in fields(model))


OPTION_SPECS: tuple[OptionSpec, ...] = _specs_of(Options)
"""The :class:`Options` fields' declarations, in order."""
FRONT_END_SPECS: tuple[OptionSpec, ...] = _specs_of(FrontEndOptions)
"""The :class:`FrontEndOptions` fields' declarations, in order."""


def list_option(name: str, value: Any) -> tuple[Any, ...]:
    """A list-valued option as a tuple; a bare string is refused rather than split into characters
    (``include="*.cu"`` would otherwise select every file through its ``*``)."""
    if isinstance(value, (str, bytes, os.PathLike)):
        raise UsageError(f"{name}: expected a list, got the single value {value!r} (write [{value!r}])")
    if not isinstance(value, Iterable):
        raise UsageError(f"{name}: expected a list, got {value!r}")
    return tuple(value)


def _path(name: str, value: Any) -> Path:
    if isinstance(value, (str, os.PathLike)) and os.fspath(value):
        return Path(value)
    raise UsageError(f"{name}: expected a path, got {value!r}")


def check_value(spec: OptionSpec, value: Any, shown: str) -> Any:
    """``value`` checked against ``spec`` and normalised (paths become :class:`Path`, lists tuples).

    The one place values are validated; ``shown`` is the option's name as the user wrote it
    (``jobs``, ``--jobs``, ``[tool.hipify-tool] jobs``), and the message is otherwise the same.
    """
    kind = spec.kind
    if kind == "path":
        return _path(shown, value)
    if kind == "optional-path":
        return None if value is None else _path(shown, value)
    if kind == "paths":
        return tuple(_path(shown, v) for v in list_option(shown, value))
    if kind == "strings":
        items = list_option(shown, value)
        if not all(isinstance(v, str) for v in items):
            raise UsageError(f"{shown}: expected a list of strings, got {list(items)!r}")
        if spec.item_pattern is not None:
            for item in items:
                if re.fullmatch(spec.item_pattern, item, re.S) is None or "\n" in item:
                    raise UsageError(f"{shown}: expected {spec.metavar}, got {item!r}")
        return items
    if kind == "bool":
        if not isinstance(value, bool):
            raise UsageError(f"{shown}: expected true or false, got {value!r}")
        return value
    if kind == "int":
        if value is None and spec.default is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise UsageError(f"{shown}: expected a positive integer, got {value!r}")
        return value
    if value is None and spec.default is None:  # an optional choice
        return None
    if value not in spec.choices:
        raise UsageError(f"{shown}: expected one of {', '.join(spec.choices)}, got {value!r}")
    return value


def parse_text(spec: OptionSpec, text: str) -> Any:
    """One command-line word as the option's type (then checked by :func:`check_value`)."""
    if spec.kind == "int":
        try:
            return int(text)
        except ValueError:
            return text  # check_value names it
    return text
