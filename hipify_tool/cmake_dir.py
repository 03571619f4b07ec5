"""Where the CMake package lives, and the plan script ``hipify_sources()`` reads at configure time.

Kept apart from the CLI so ``hipify-tool --cmake-dir`` imports nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import EnvironmentProblem

if TYPE_CHECKING:
    from .plan import Plan

__all__ = ["cmake_dir", "format_cmake_plan", "write_cmake_plan"]

_CONFIG = "hipify_toolConfig.cmake"


def cmake_dir() -> Path:
    """The directory holding ``hipify_toolConfig.cmake`` (what ``hipify_tool_DIR`` must name).

    A wheel lays the package out in ``hipify_tool/cmake``; a source checkout (or an editable
    install that imports from one) has it only as ``templates/cmake`` next to the package.
    """
    package = Path(__file__).resolve().parent
    for candidate in (package / "cmake", package.parent / "templates" / "cmake"):
        if (candidate / _CONFIG).is_file():
            return candidate
    raise EnvironmentProblem(f"{package}: the CMake package ({_CONFIG}) is missing; reinstall hipify-tool")


def _quote(path: Path) -> str:
    text = str(path)
    for char in ("\\", '"', "$", ";"):
        text = text.replace(char, "\\" + char)
    return f'"{text}"'


def format_cmake_plan(input_outputs: Sequence[Path], all_outputs: Sequence[Path]) -> str:
    """A CMake script setting the two lists; ``include()`` reads it without any parsing code."""
    lines = ["# Written by hipify-tool; rewritten only when a list changes.", "set(HIPIFY_TOOL_OUTPUTS"]
    lines += [f"  {_quote(p)}" for p in input_outputs]
    lines += [")", "set(HIPIFY_TOOL_ALL_OUTPUTS"]
    lines += [f"  {_quote(p)}" for p in all_outputs]
    lines.append(")")
    return "\n".join(lines) + "\n"


def write_cmake_plan(path: Path, plan: Plan) -> None:
    """Written only when it changes: a build registers it as a configure dependency, so CMake
    re-runs exactly when the set of outputs changes."""
    from .materialise import write_text_if_changed

    write_text_if_changed(path, format_cmake_plan(plan.input_outputs(), plan.all_outputs()))
