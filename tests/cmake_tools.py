"""The CMake + Ninja installs the CMake tests run on: Debian's (CMake 3.25, the floor) and a current CMake 4
with Ninja 1.13 from PyPI, installed by .ci/run with ``pip install --target /opt/cmake4 cmake ninja``.

Tests that build take a ``CMakeTool`` parameter: every one runs on Debian's CMake, and a representative
subset also on CMake 4 (``BOTH``). Set ``HIPIFY_TOOL_CMAKE4`` to another ``pip --target`` directory to
use it, or to an empty string to run on Debian's only. Without CMake 4 the CMake 4 cases are skipped,
except in CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

__all__ = ["CMakeTool", "DEBIAN", "CMAKE4", "TOOLS", "BOTH", "ids", "require"]


@dataclass(frozen=True)
class CMakeTool:
    """A ``cmake`` and the ``ninja`` it builds with."""

    label: str
    cmake: str
    ninja: str

    def generator_args(self, generator: str) -> list[str]:
        """``-G`` plus, for Ninja, the Ninja that belongs with this CMake."""
        args = ["-G", generator]
        if "Ninja" in generator:
            args.append(f"-DCMAKE_MAKE_PROGRAM={self.ninja}")
        return args

    @property
    def missing(self) -> str | None:
        """What this machine lacks to run it, or ``None``."""
        for program in (self.cmake, self.ninja):
            if not (os.path.isfile(program) and os.access(program, os.X_OK)) and shutil.which(program) is None:
                return program
        return None

    def configure(
        self, source: Path, build: Path, generator: str, cmake_dir: Path | str, *extra: str
    ) -> subprocess.CompletedProcess[str]:
        """``cmake -S source -B build`` with the generator, the package and this interpreter, as every
        CMake test configures (never checked here: some tests expect it to fail)."""
        return subprocess.run(
            [
                self.cmake,
                "-S",
                str(source),
                "-B",
                str(build),
                *self.generator_args(generator),
                f"-Dhipify_tool_DIR={cmake_dir}",
                f"-DPython_EXECUTABLE={sys.executable}",
                *extra,
            ],
            capture_output=True,
            text=True,
            check=False,
        )

    def version(self) -> tuple[int, int]:
        return _version(self.cmake, "--version")

    def ninja_version(self) -> tuple[int, int]:
        return _version(self.ninja, "--version")


@cache
def _version(program: str, flag: str) -> tuple[int, int]:
    out = subprocess.run([program, flag], capture_output=True, text=True, check=True).stdout
    m = re.search(r"(\d+)\.(\d+)", out)
    assert m is not None, out
    return int(m.group(1)), int(m.group(2))


def _cmake4() -> CMakeTool:
    root = Path(os.environ.get("HIPIFY_TOOL_CMAKE4", "/opt/cmake4"))
    return CMakeTool("cmake4", str(root / "cmake" / "data" / "bin" / "cmake"), str(root / "bin" / "ninja"))


DEBIAN = CMakeTool("cmake3", "cmake", "ninja")
CMAKE4 = _cmake4()


def require(tool: CMakeTool) -> CMakeTool:
    """``tool``, or skip the test (fail in CI) when this machine lacks it."""
    if tool is CMAKE4 and os.environ.get("HIPIFY_TOOL_CMAKE4") == "":
        pytest.skip("CMake 4 switched off (HIPIFY_TOOL_CMAKE4 is empty)")
    missing = tool.missing
    if missing is not None:
        message = f"needs {missing} (pip install --target /opt/cmake4 cmake ninja)"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the CMake tests on {tool.label}, but this machine {message}")
        pytest.skip(message)
    if tool is CMAKE4 and tool.version() < (4, 0):
        pytest.fail(f"{tool.cmake} is CMake {tool.version()}, not 4.x")
    return tool


TOOLS = (DEBIAN, CMAKE4)
BOTH = [pytest.param(tool, id=tool.label) for tool in TOOLS]
"""Parametrise a test over Debian's CMake and CMake 4 (pass the value through :func:`require`)."""


def ids(value: object) -> str:
    """Test ids for ``(CMakeTool, generator)`` parameters: ``cmake4-Ninja``."""
    if isinstance(value, tuple):
        return "-".join(ids(v) for v in value)
    if isinstance(value, CMakeTool):
        return value.label
    return str(value).replace(" ", "")
