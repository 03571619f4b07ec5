"""The CLI pieces hipify_sources() relies on (--sources-from, --cmake-plan, --depfile with --stamp), and
the plain-CLI recipe of docs/cmake.md that wires them without the CMake package."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def tool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run(
        [sys.executable, "-m", "hipify_tool", *map(str, args)], capture_output=True, text=True, env=env, check=False
    )


def _tree(root: Path) -> Path:
    src = root / "my src"
    (src / "inc dir").mkdir(parents=True)
    (src / "inc dir" / "h#1.cuh").write_text("#pragma once\n#include <cuda_runtime.h>\n")
    (src / "a b.cu").write_text('#include "inc dir/h#1.cuh"\nvoid f() { cudaDeviceSynchronize(); }\n')
    (src / "fooCUDA.cu").write_text("void g() {}\n")
    return src


def _depfile_tokens(text: str) -> list[str]:
    """Split Make syntax as Ninja and CMake read it: backslash-newline joins, `\\ ` and `\\#` escape."""
    text = text.replace("\\\n", " ")
    return [t.replace("\\ ", " ").replace("\\#", "#").replace("$$", "$") for t in re.findall(r"(?:\\.|[^\s])+", text)]


def test_sources_from_cmake_plan_depfile_and_stamp(tmp_path: Path) -> None:
    src = _tree(tmp_path)
    out = tmp_path / "out dir"
    listing = tmp_path / "sources.txt"
    listing.write_text(f"{src / 'fooCUDA.cu'}\n\n{src / 'a b.cu'}\n")
    plan_file, depfile, stamp = tmp_path / "plan.cmake", tmp_path / "x.d", tmp_path / "st amp"

    planned = tool("plan", "-p", src, "-o", out, "--sources-from", listing, "--cmake-plan", plan_file)
    assert planned.returncode == 0, planned.stderr
    text = plan_file.read_text()
    assert f'set(HIPIFY_TOOL_OUTPUTS\n  "{out}/fooHIP.hip"\n  "{out}/a b.hip"\n)' in text
    assert f'"{out}/inc dir/h#1_hip.cuh"' in text
    mtime = plan_file.stat().st_mtime_ns

    ran = tool(
        "run",
        "-p",
        src,
        "-o",
        out,
        "--sources-from",
        listing,
        "--cmake-plan",
        plan_file,
        "--depfile",
        depfile,
        "--stamp",
        stamp,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines() == [str(out / "fooHIP.hip"), str(out / "a b.hip")]
    assert plan_file.stat().st_mtime_ns == mtime, "same outputs: the plan script is not rewritten"
    tokens = _depfile_tokens(depfile.read_text())
    assert tokens[0] == f"{stamp}:"
    assert sorted(tokens[1:]) == sorted(
        [str(src / "a b.cu"), str(src / "fooCUDA.cu"), str(src / "inc dir" / "h#1.cuh")]
    )
    first = stamp.stat().st_mtime_ns
    time.sleep(0.02)
    assert tool("run", "-p", src, "-o", out, "--sources-from", listing, "--stamp", stamp).returncode == 0
    assert stamp.stat().st_mtime_ns > first, "the stamp is touched by every successful run"


def test_sources_from_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    src = _tree(tmp_path)
    result = tool("plan", "-p", src, "-o", tmp_path / "out", "--sources-from", tmp_path / "nope.txt")
    assert result.returncode == 2
    assert "cannot read the sources list" in result.stderr


# --- the plain-CLI recipe of docs/cmake.md, built verbatim ---------------------------------------

_RECIPE_MARK = "<!-- tests/test_cmake_cli.py builds the next block verbatim, with Ninja and with Make -->"


def recipe() -> str:
    text = (REPO / "docs" / "cmake.md").read_text()
    match = re.search(re.escape(_RECIPE_MARK) + r"\n```cmake\n(.*?)```", text, re.S)
    assert match is not None, "docs/cmake.md: the recipe block is gone"
    return match.group(1)


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("cmake") is None or shutil.which("ninja") is None or shutil.which("make") is None,
    reason="needs cmake, ninja and make",
)
@pytest.mark.parametrize(
    ("generator", "paths"), [("Ninja", "absolute"), ("Unix Makefiles", "absolute"), ("Ninja", "relative")]
)
def test_docs_recipe_without_the_package(tmp_path: Path, generator: str, paths: str) -> None:
    """Builds, then does nothing, then follows a header edit to exactly its includers, then settles;
    with CUDA_SOURCES absolute, or relative to the current source dir."""
    from test_cmake import SAMPLES, compiled, is_noop

    root = tmp_path / "work space"
    shutil.copytree(SAMPLES / "sample" / "csrc", root / "csrc")
    listing = (SAMPLES / "sample" / "sources.cmake").read_text()
    if paths == "relative":
        listing = listing.replace("${CMAKE_CURRENT_SOURCE_DIR}/", "")
        assert "${" not in listing
    (root / "sources.cmake").write_text(listing)
    (root / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.25)\nproject(recipe LANGUAGES CXX)\n"
        'include("${CMAKE_CURRENT_SOURCE_DIR}/sources.cmake")\n'
        + recipe()
        + "# host-only stand-in for enable_language(HIP): the translations compile as C++ against stubs\n"
        + "set_source_files_properties(${HIPIFY_TOOL_OUTPUTS} PROPERTIES LANGUAGE CXX)\n"
        + f'target_include_directories(kernels PRIVATE "{SAMPLES / "stub"}")\n'
    )
    # `hipify-tool` on PATH is this checkout's, whatever else is installed
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "hipify-tool").write_text(
        f'#!/bin/sh\nPYTHONPATH="{REPO}${{PYTHONPATH:+:$PYTHONPATH}}" exec "{sys.executable}" -m hipify_tool "$@"\n'
    )
    (bin_dir / "hipify-tool").chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    build = root / "build dir"

    def cmake(*args: str | Path) -> str:
        result = subprocess.run(
            ["cmake", *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )
        assert result.returncode == 0, result.stdout
        return result.stdout

    cmake("-S", root, "-B", build, "-G", generator)
    assert f"HIPIFY_TOOL:FILEPATH={bin_dir / 'hipify-tool'}" in (build / "CMakeCache.txt").read_text()
    log = cmake("--build", build)
    assert log.count("Translating CUDA sources to HIP") == 1
    assert compiled(log) == {"fooHIP.hip", "x.hip", "accum_kernels.hip", "nccl_utils.hip", "a b.hip", "host.cpp"}
    assert (build / "hipified" / "common" / "helpers_hip.cuh").is_file()
    assert is_noop(cmake("--build", build))
    time.sleep(0.02)
    header = root / "csrc" / "common" / "helpers.cuh"
    header.write_text(header.read_text() + "inline int helper_added() { return 1; }\n")
    log = cmake("--build", build)
    assert log.count("Translating CUDA sources to HIP") == 1
    assert compiled(log) == {"fooHIP.hip", "x.hip", "a b.hip"}
    assert is_noop(cmake("--build", build))
