"""``hipify-tool doctor``: the facts a bug report needs, one ``name: value`` line each.

Nothing here imports torch or fails: a missing piece is reported as ``not found`` (with why), so the
output is always complete enough to paste.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence

from ._version import __version__
from .errors import HipifyToolError

__all__ = ["collect", "format_lines"]


def _first_version_line(command: Sequence[str], pattern: str = r"\d+\.\d+(?:\.\d+)?") -> str | None:
    """``path (version text)`` of a program, or None when it is not on PATH."""
    path = shutil.which(command[0])
    if path is None:
        return None
    try:
        proc = subprocess.run([path, *command[1:]], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{path} (cannot run: {exc})"
    text = proc.stdout + proc.stderr
    for line in text.splitlines():
        if re.search(pattern, line):
            return f"{line.strip()} ({path})"
    return f"unknown version ({path})"


def _torch() -> str:
    from importlib import metadata

    try:
        version = metadata.version("torch")
    except metadata.PackageNotFoundError:
        return "not installed"
    try:
        from .torch_adapter import locate

        return f"{version} ({locate().directory.parent.parent})"
    except HipifyToolError as exc:
        return f"{version} ({exc})"


def _tables() -> str:
    try:
        from .torch_adapter import locate

        tables = locate().tables()
        markers = tables.unsupported
        support = "no HIP-support markers" if markers is None else f"{len(markers)} marked unsupported"
        return f"{tables.version} ({len(tables.token_map)} mappings, {support})"
    except HipifyToolError as exc:
        return f"not found ({exc})"


def _hip_compiler() -> str:
    for command in (["hipcc", "--version"], ["amdclang++", "--version"]):
        found = _first_version_line(command, r"HIP version|clang version")
        if found is not None:
            return found
    for name in ("clang++", *(f"clang++-{v}" for v in range(22, 16, -1))):
        found = _first_version_line([name, "--version"], r"clang version")
        if found is not None:
            return f"{found}; HIP via --offload-arch needs ROCm device libs"
    return "not found (hipcc, amdclang++ or clang++ on PATH)"


def _cmake_package() -> str:
    try:
        from .cmake_dir import cmake_dir

        return str(cmake_dir())
    except (HipifyToolError, ImportError) as exc:
        return f"not found ({exc})"


def _rocm() -> str:
    """The ROCm a report checks against, found as the report finds it."""
    from .rocm_headers import RocmHeaders, discover

    found = discover(None, os.environ)
    if isinstance(found, str):
        return f"not found ({found.removeprefix('no ROCm headers found (').removesuffix(')')})"
    return f"{found.root} ({RocmHeaders(found.root, found.found_by).describe()}, from {found.found_by})"


def collect() -> list[tuple[str, str]]:
    """Every line of the report, in order."""
    probes: list[tuple[str, Callable[[], str]]] = [
        ("hipify-tool", lambda: f"{__version__} ({os.path.dirname(os.path.abspath(__file__))})"),
        ("python", lambda: f"{platform.python_version()} ({sys.executable})"),
        ("platform", platform.platform),
        ("torch", _torch),
        ("hipify tables", _tables),
        ("nvcc", lambda: _first_version_line(["nvcc", "--version"], r"release") or "not found on PATH"),
        ("hip compiler", _hip_compiler),
        ("rocm", _rocm),
        ("cmake", lambda: _first_version_line(["cmake", "--version"]) or "not found on PATH"),
        ("ninja", lambda: _first_version_line(["ninja", "--version"]) or "not found on PATH"),
        ("cmake package", _cmake_package),
    ]
    lines: list[tuple[str, str]] = []
    for name, probe in probes:
        try:
            value = probe()
        except Exception as exc:  # doctor must always finish: a failing probe is itself a fact
            value = f"error ({type(exc).__name__}: {exc})"
        lines.append((name, value))
    return lines


def format_lines(lines: Sequence[tuple[str, str]]) -> str:
    return "".join(f"{name}: {value}\n" for name, value in lines)
