"""The CMake package's keywords, derived from the option model (:mod:`hipify_tool.options`).

``hipify_tool_sources()`` and ``hipify_tool_target_sources()`` take one keyword per option the package
does not set itself, named after its flag (``--map`` -> ``MAPS``). HipifyTool.cmake keeps no list of
its own: it reads this table, a CMake script defining the macro ``_hipify_tool_keyword_table()``. The
wheel build writes it (the top-level CMakeLists.txt runs ``python -m hipify_tool.cmake_keywords``); in a
source checkout the launcher's ``--probe`` prints it at configure time, from the tool that will run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from .options import FRONT_END_SPECS, OPTION_SPECS, OptionSpec

__all__ = ["Keyword", "keywords", "format_table"]

Values = Literal["none", "one", "many"]
PathBase = Literal["", "source", "binary"]


@dataclass(frozen=True)
class Keyword:
    """One keyword of the CMake package's commands."""

    name: str
    flag: str
    """The CLI flag it becomes; empty for ``SOURCES`` (the package passes a list file)."""
    values: Values
    configure: bool
    """Also given to ``plan`` at configure time (it decides which files are written)."""
    identity: bool
    """Part of the call's identity: two calls that differ in it get two rules."""
    path: PathBase
    """How a relative value is made absolute: from the current source dir, the binary dir, or not at all."""
    choices: tuple[str, ...] = ()


def _keyword(spec: OptionSpec, name: str) -> Keyword:
    long_flags = [f for f in spec.flags if f.startswith("--")]
    values: Values = "none" if spec.kind == "bool" else "many" if spec.multi else "one"
    path: PathBase = ""
    if spec.kind in ("path", "optional-path", "paths"):
        path = "binary" if spec.writes else "source"
    return Keyword(
        name=name,
        flag=long_flags[0] if long_flags else "",
        values=values,
        configure=spec.cmake == "configure",
        identity=spec.affects_result,
        path=path,
        choices=spec.choices,
    )


def keywords(specs: Iterable[OptionSpec] = (*OPTION_SPECS, *FRONT_END_SPECS)) -> tuple[Keyword, ...]:
    """The keywords, in the model's order."""
    return tuple(_keyword(spec, name) for spec in specs if (name := spec.cmake_keyword) is not None)


def _cmake_list(items: Iterable[str]) -> str:
    return '"' + ";".join(items) + '"'


def format_table(table: Iterable[Keyword] | None = None) -> str:
    """The table as a CMake script (HipifyTool.cmake calls the macro in each command)."""
    kws = keywords() if table is None else tuple(table)

    def names(pick: Callable[[Keyword], bool]) -> str:
        return _cmake_list(k.name for k in kws if pick(k))

    lines = [
        "# The keywords of hipify_tool_sources() and hipify_tool_target_sources() that pass an option on to",
        "# hipify-tool. Generated from hipify_tool/options.py by hipify_tool/cmake_keywords.py: do not edit.",
        "macro(_hipify_tool_keyword_table)",
        f"  set(_hipify_tool_no_value {names(lambda k: k.values == 'none')})",
        f"  set(_hipify_tool_one_value {names(lambda k: k.values == 'one')})",
        f"  set(_hipify_tool_multi_value {names(lambda k: k.values == 'many')})",
        f"  set(_hipify_tool_configure {names(lambda k: k.configure)})",
        f"  set(_hipify_tool_identity {names(lambda k: k.identity)})",
        f"  set(_hipify_tool_source_paths {names(lambda k: k.path == 'source')})",
        f"  set(_hipify_tool_binary_paths {names(lambda k: k.path == 'binary')})",
    ]
    for k in kws:
        lines.append(f'  set(_hipify_tool_flag_{k.name} "{k.flag}")')
        if k.choices:
            lines.append(f"  set(_hipify_tool_choices_{k.name} {_cmake_list(k.choices)})")
    lines.append("endmacro()")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import sys

    sys.stdout.write(format_table())
