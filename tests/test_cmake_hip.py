"""The README's "Use from CMake" snippet, verbatim, compiling the reference kernels as HIP.

enable_language(HIP) with Debian's clang-19 and HIP packages needs CMake >= 3.27 (.ci/run installs
one in /opt/cmake-hip, off PATH) and the device bitcode path; the object must hold gfx90a code.
Skipped without that toolchain, except in CI (CI set), where it fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO
from test_cmake import readme_snippet, tool

HIP_CMAKE = Path(os.environ.get("PTGQ_HIP_CMAKE", "/opt/cmake-hip/cmake/data/bin/cmake"))
BITCODE = Path(os.environ.get("PTGQ_ROCM_BITCODE", "/usr/lib/x86_64-linux-gnu/amdgcn/bitcode"))
CLANGXX = shutil.which("clang++-19")
ARCH = "gfx90a"

KERNELS = ["per_token_group_quant.cu", "per_token_group_quant_packed.cu"]
"""The reference project's CUDA kernels (csrc_example/csrc), which need USE_ROCM on ROCm."""


def _missing() -> str | None:
    version = None
    if HIP_CMAKE.is_file():
        out = subprocess.run([HIP_CMAKE, "--version"], capture_output=True, text=True, check=False).stdout
        if m := re.search(r"cmake version (\d+)\.(\d+)", out):
            version = (int(m.group(1)), int(m.group(2)))
    if version is None or version < (3, 27):
        return f"a CMake >= 3.27 at {HIP_CMAKE} (pip install --target /opt/cmake-hip 'cmake>=3.27')"
    if CLANGXX is None or not Path("/usr/include/hip/hip_runtime.h").is_file() or not (BITCODE / "ocml.bc").is_file():
        return "clang-19 with Debian's HIP headers and device bitcode (apt: clang-19 libamdhip64-dev rocm-device-libs)"
    if shutil.which("ninja") is None:
        return "ninja"
    return None


def _run(*cmd: str | Path) -> str:
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{cmd}\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


@pytest.mark.slow
def test_readme_snippet_compiles_the_reference_kernels_for_gfx90a(tmp_path: Path) -> None:
    """The snippet as it stands, with CUDA_SOURCES set to the reference kernels: no edit, no USE_ROCM
    added by hand (hipify_tool_target_sources() adds it)."""
    missing = _missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must build the README snippet as HIP, but this machine lacks {missing}")
        pytest.skip(f"lacks {missing}")
    source = tmp_path / "readme project"
    shutil.copytree(REPO / "csrc_example" / "csrc", source / "csrc")
    sources = " ".join(f'"${{CMAKE_CURRENT_SOURCE_DIR}}/csrc/{name}"' for name in KERNELS)
    (source / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.25)\nproject(readme_snippet LANGUAGES CXX)\n"
        f"set(CUDA_SOURCES {sources})\n" + readme_snippet()
    )
    build = tmp_path / "build"
    _run(
        HIP_CMAKE,
        "-S",
        source,
        "-B",
        build,
        "-G",
        "Ninja",
        "-DCMAKE_HIP_PLATFORM=amd",
        f"-DCMAKE_HIP_COMPILER={CLANGXX}",
        f"-DCMAKE_HIP_ARCHITECTURES={ARCH}",
        f"-DCMAKE_HIP_FLAGS=--rocm-device-lib-path={BITCODE}",
        f"-Dhipify_tool_DIR={tool('--cmake-dir').stdout.strip()}",
        f"-DPython_EXECUTABLE={sys.executable}",
        "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON",
    )
    log = _run(HIP_CMAKE, "--build", build)
    assert "Translating 2 CUDA sources to HIP in hipified" in log
    commands = {c["file"]: c["command"] for c in json.loads((build / "compile_commands.json").read_text())}
    assert set(commands) == {str(build / "hipified" / Path(name).with_suffix(".hip")) for name in KERNELS}
    for name in KERNELS:
        stem = Path(name).stem
        assert f"Building HIP object CMakeFiles/kernels.dir/hipified/{stem}.hip.o" in log
        command = commands[str(build / "hipified" / f"{stem}.hip")]
        assert f"--offload-arch={ARCH}" in command and "-x hip" in command and "-DUSE_ROCM" in command
        obj = build / "CMakeFiles" / "kernels.dir" / "hipified" / f"{stem}.hip.o"
        assert f"amdgcn-amd-amdhsa--{ARCH}".encode() in obj.read_bytes(), f"{name}: no device code for the arch"
    assert "no work to do" in _run(HIP_CMAKE, "--build", build)
