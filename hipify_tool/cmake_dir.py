"""Where the CMake package lives (``hipify-tool --cmake-dir``, ``hipify_tool_DIR``).

Kept apart from the CLI so ``hipify-tool --cmake-dir`` imports nothing else.
"""

from __future__ import annotations

from pathlib import Path

from .errors import EnvironmentProblem

__all__ = ["cmake_dir"]

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
