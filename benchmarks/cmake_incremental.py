"""Incremental-build timings of the CMake package on a generated tree (default: 240 sources, 24 headers),
and what one translation adds to the configure of a large project (default: 500 targets).

    python benchmarks/cmake_incremental.py [--sources 240] [--headers 24] [--generator Ninja] [--repeat 5]
                                           [--targets 500] [--checkout DIR] [--cmake CMAKE]

Prints configure, full build, no-op build, one-source edit and one-header edit wall times (median of
--repeat) for each generator. The translations are compiled as C++ against the stub HIP headers of
tests/cmake/stub (as the tests do), so the numbers include the compiles an edit really triggers.

Then the configure of a tree of --targets targets (one C++ source each, 25 to a subdirectory), once
as it is and once with one hipify_sources() call whose translation one target links: a first
configure (a fresh build dir, compiler detection included) and the median of --repeat re-configures
(an edited CMakeLists.txt). --checkout times another checkout's package and tool (another version,
read only: nothing is written there), so two versions compare in one session.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

CMAKELISTS = """\
cmake_minimum_required(VERSION 3.25)
project(hipify_bench LANGUAGES CXX)
find_package(hipify_tool CONFIG REQUIRED)
file(GLOB_RECURSE CUDA_SOURCES CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/csrc/kernels/*.cu")
list(SORT CUDA_SOURCES)
hipify_sources(HIP_SOURCES
  SOURCES ${CUDA_SOURCES}
  PROJECT_DIR "${CMAKE_CURRENT_SOURCE_DIR}/csrc"
  OUTPUT_DIR "${CMAKE_CURRENT_BINARY_DIR}/hipified"
  INCLUDE_DIRS "${CMAKE_CURRENT_SOURCE_DIR}/csrc")
add_library(kernels OBJECT ${HIP_SOURCES})
set_source_files_properties(${HIP_SOURCES} PROPERTIES LANGUAGE CXX)
target_include_directories(kernels PRIVATE "${CMAKE_CURRENT_BINARY_DIR}/hipified" "@STUB@")
"""


def make_tree(root: Path, n_sources: int, n_headers: int) -> None:
    """Each source includes one family header; every family header includes one common header."""
    csrc = root / "csrc"
    (csrc / "include").mkdir(parents=True)
    (csrc / "kernels").mkdir()
    (csrc / "include" / "common.cuh").write_text(
        "#pragma once\n#include <cuda_runtime.h>\ninline cudaError_t check() { return cudaGetLastError(); }\n"
    )
    for h in range(n_headers):
        (csrc / "include" / f"family_{h:03d}.cuh").write_text(
            f'#pragma once\n#include "include/common.cuh"\ninline int family_{h}() {{ return {h}; }}\n'
        )
    for i in range(n_sources):
        h = i % n_headers
        (csrc / "kernels" / f"kernel_{i:04d}.cu").write_text(
            f'#include "include/family_{h:03d}.cuh"\n'
            f"__global__ void kernel_{i}(int* out) {{ out[threadIdx.x] = family_{h}() + {i}; }}\n"
            f"void launch_{i}(int* out, cudaStream_t s) {{\n"
            f"  kernel_{i}<<<dim3(1), dim3(64), 0, s>>>(out);\n  check();\n}}\n"
        )
    (root / "CMakeLists.txt").write_text(CMAKELISTS.replace("@STUB@", str(REPO / "tests" / "cmake" / "stub")))


TREE_TOP = """\
cmake_minimum_required(VERSION 3.25)
project(hipify_scale LANGUAGES CXX)
foreach(group RANGE 1 @GROUPS@)
  add_subdirectory(group_${group})
endforeach()
"""

TREE_TRANSLATION = """\
find_package(hipify_tool CONFIG REQUIRED)
hipify_sources(HIP_SOURCES
  SOURCES "${CMAKE_CURRENT_SOURCE_DIR}/csrc/kernel.cu"
  PROJECT_DIR "${CMAKE_CURRENT_SOURCE_DIR}/csrc"
  OUTPUT_DIR "${CMAKE_CURRENT_BINARY_DIR}/hipified")
add_library(kernels OBJECT ${HIP_SOURCES})
set_source_files_properties(${HIP_SOURCES} PROPERTIES LANGUAGE CXX)
"""


def make_large_tree(root: Path, n_targets: int, translation: bool) -> None:
    """``n_targets`` object libraries in subdirectories of 25; with ``translation``, one translation too."""
    groups = max(1, (n_targets + 24) // 25)
    for i in range(n_targets):
        group = root / f"group_{i // 25 + 1}"
        group.mkdir(parents=True, exist_ok=True)
        (group / f"t{i}.cpp").write_text(f"int t{i}() {{ return {i}; }}\n")
        with (group / "CMakeLists.txt").open("a") as f:
            f.write(f"add_library(t{i} OBJECT t{i}.cpp)\n")
    text = TREE_TOP.replace("@GROUPS@", str(groups))
    if translation:
        (root / "csrc").mkdir()
        (root / "csrc" / "kernel.cu").write_text(
            "#include <cuda_runtime.h>\nvoid kernel() { cudaDeviceSynchronize(); }\n"
        )
        text += TREE_TRANSLATION
    (root / "CMakeLists.txt").write_text(text)


def bench_configure(
    root: Path, n_targets: int, repeat: int, cmake: str, generator: str, cmake_dir: str
) -> dict[str, float]:
    results = {}
    for translation in (False, True):
        tree = root / ("with" if translation else "without")
        make_large_tree(tree, n_targets, translation)
        build = tree / "build"
        args = [cmake, "-S", str(tree), "-B", str(build), "-G", generator]
        args += [f"-Dhipify_tool_DIR={cmake_dir}", f"-DPython_EXECUTABLE={sys.executable}"]
        label = "one translation" if translation else "no translation"
        results[f"first configure, {label}"] = timed(*args)
        results[f"re-configure, {label}"] = statistics.median(timed(*args) for _ in range(repeat))
    for kind in ("first configure", "re-configure"):
        results[f"{kind}: overhead"] = results[f"{kind}, one translation"] - results[f"{kind}, no translation"]
    return results


def timed(*cmd: str) -> float:
    start = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{result.stdout}{result.stderr}")
    return elapsed


def append(path: Path, text: str) -> None:
    time.sleep(0.02)  # file times are kernel-tick coarse
    path.write_text(path.read_text() + text)


def bench(
    root: Path, generator: str, n_sources: int, n_headers: int, repeat: int, cmake: str, cmake_dir: str
) -> dict[str, float]:
    build = root / "build"
    jobs = str(os.cpu_count() or 2)
    results = {
        "configure": timed(
            cmake,
            "-S",
            str(root),
            "-B",
            str(build),
            "-G",
            generator,
            f"-Dhipify_tool_DIR={cmake_dir}",
            f"-DPython_EXECUTABLE={sys.executable}",
        ),
        "full build": timed(cmake, "--build", str(build), "-j", jobs),
    }
    results["no-op build"] = statistics.median(timed(cmake, "--build", str(build), "-j", jobs) for _ in range(repeat))
    source_edits, header_edits = [], []
    for r in range(repeat):
        append(root / "csrc" / "kernels" / f"kernel_{r:04d}.cu", f"// edit {r}\n")
        source_edits.append(timed(cmake, "--build", str(build), "-j", jobs))
        append(
            root / "csrc" / "include" / f"family_{r % n_headers:03d}.cuh", f"inline int edit_{r}() {{ return {r}; }}\n"
        )
        header_edits.append(timed(cmake, "--build", str(build), "-j", jobs))
    results["one-source edit"] = statistics.median(source_edits)
    results[f"one-header edit ({n_sources // n_headers} includers)"] = statistics.median(header_edits)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=240)
    parser.add_argument("--headers", type=int, default=24)
    parser.add_argument("--generator", action="append", help="repeatable; default: Ninja and Unix Makefiles")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--targets", type=int, default=500, help="targets of the configure-scale tree (0: skip)")
    parser.add_argument("--checkout", type=Path, default=REPO, help="whose CMake package and tool (default: this)")
    parser.add_argument("--cmake", default="cmake", help="the cmake to run (default: cmake on PATH)")
    args = parser.parse_args()
    checkout = args.checkout.resolve()
    # the checkout's tool, whatever else is installed; no bytecode written into it
    os.environ["PYTHONPATH"] = os.pathsep.join([str(checkout), os.environ.get("PYTHONPATH", "")])
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
    cmake_dir = subprocess.run(
        [sys.executable, "-m", "hipify_tool", "--cmake-dir"], capture_output=True, text=True, check=True
    ).stdout.strip()
    generators = args.generator or ["Ninja", "Unix Makefiles"]
    version = subprocess.run([args.cmake, "--version"], capture_output=True, text=True, check=True).stdout.split()[2]
    print(
        f"{checkout} ({cmake_dir}): {args.sources} sources, {args.headers} headers, cmake {version}, "
        f"{os.cpu_count()} cores, median of {args.repeat}"
    )
    with tempfile.TemporaryDirectory(prefix="hipify-bench-") as tmp:
        for generator in generators:
            root = Path(tmp) / generator.replace(" ", "-")
            make_tree(root, args.sources, args.headers)
            results = bench(root, generator, args.sources, args.headers, args.repeat, args.cmake, cmake_dir)
            print(f"\n{generator}:")
            for name, seconds in results.items():
                print(f"  {name:<36} {seconds:7.3f} s")
        if args.targets:
            generator = generators[0]
            results = bench_configure(Path(tmp) / "scale", args.targets, args.repeat, args.cmake, generator, cmake_dir)
            print(f"\n{args.targets} targets, {generator}:")
            for name, seconds in results.items():
                print(f"  {name:<36} {seconds:7.3f} s")


if __name__ == "__main__":
    main()
