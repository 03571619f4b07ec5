"""Incremental-build timings of the CMake package on a generated tree (default: 240 sources, 24 headers),
and what one translation adds to the configure of a large project (default: 500 targets).

    python benchmarks/cmake_incremental.py [--sources 240] [--headers 24] [--generator Ninja] [--repeat 5]
                                           [--targets 500] [--target-sources 1] [--skip-incremental]
                                           [--checkout DIR ...] [--cmake CMAKE]

Prints configure, full build, no-op build, one-source edit and one-header edit wall times (median of
--repeat) for each generator. The translations are compiled as C++ against the stub HIP headers of
tests/cmake/stub (as the tests do), so the numbers include the compiles an edit really triggers.

Then the configure of a tree of --targets targets (--target-sources C++ sources each, 25 targets to
a subdirectory), once as it is and once with one hipify_sources() call whose translation one target
links: a first
configure (a fresh build dir, compiler detection included) and the median of --repeat re-configures
(an edited CMakeLists.txt). --checkout DIR (repeatable) times those checkouts' package and tool
(another version, read only: nothing is written there) in one run, their steps alternating, so the
versions compare on equal terms on a busy machine.
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


def make_large_tree(root: Path, n_targets: int, per_target: int, translation: bool) -> None:
    """``n_targets`` object libraries of ``per_target`` sources each, in subdirectories of 25; with
    ``translation``, one translation too."""
    groups = max(1, (n_targets + 24) // 25)
    for i in range(n_targets):
        group = root / f"group_{i // 25 + 1}"
        group.mkdir(parents=True, exist_ok=True)
        names = [f"t{i}_{j}.cpp" for j in range(per_target)]
        for j, name in enumerate(names):
            (group / name).write_text(f"int t{i}_{j}() {{ return {i}; }}\n")
        with (group / "CMakeLists.txt").open("a") as f:
            f.write(f"add_library(t{i} OBJECT {' '.join(names)})\n")
    text = TREE_TOP.replace("@GROUPS@", str(groups))
    if translation:
        (root / "csrc").mkdir()
        (root / "csrc" / "kernel.cu").write_text(
            "#include <cuda_runtime.h>\nvoid kernel() { cudaDeviceSynchronize(); }\n"
        )
        text += TREE_TRANSLATION
    (root / "CMakeLists.txt").write_text(text)


def bench_configure(
    root: Path, n_targets: int, per_target: int, repeat: int, cmake: str, generator: str, cmake_dirs: list[str]
) -> list[dict[str, float]]:
    """Per checkout: first configure and median re-configure of the tree without and with a translation;
    every step runs for each checkout in turn, so a busy machine slows all of them alike."""
    trees: dict[tuple[int, bool], list[str]] = {}
    times: dict[tuple[int, bool], list[float]] = {}
    results: list[dict[str, float]] = [{} for _ in cmake_dirs]
    for translation in (False, True):
        make_large_tree(root / f"tree-{translation}", n_targets, per_target, translation)
    for step in range(1 + repeat):
        for translation in (False, True):
            for c, cmake_dir in enumerate(cmake_dirs):
                tree = root / f"tree-{translation}"
                args = [cmake, "-S", str(tree), "-B", str(tree / f"build-{c}"), "-G", generator]
                args += [f"-Dhipify_tool_DIR={cmake_dir}", f"-DPython_EXECUTABLE={sys.executable}"]
                trees[c, translation] = args
                elapsed = timed(*args)
                label = "one translation" if translation else "no translation"
                if step == 0:
                    results[c][f"first configure, {label}"] = elapsed
                else:
                    times.setdefault((c, translation), []).append(elapsed)
    for c, result in enumerate(results):
        for translation, label in ((False, "no translation"), (True, "one translation")):
            result[f"re-configure, {label}"] = statistics.median(times[c, translation])
        for kind in ("first configure", "re-configure"):
            result[f"{kind}: overhead"] = result[f"{kind}, one translation"] - result[f"{kind}, no translation"]
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
    roots: list[Path], generator: str, n_headers: int, repeat: int, cmake: str, cmake_dirs: list[str]
) -> list[dict[str, float]]:
    """Per checkout (one tree each): configure, full build, then the medians of no-op builds and edits,
    each step run for every checkout in turn."""
    jobs = str(os.cpu_count() or 2)
    builds = [root / "build" for root in roots]
    results: list[dict[str, float]] = [{} for _ in roots]
    for result, root, build, cmake_dir in zip(results, roots, builds, cmake_dirs, strict=True):
        args = [cmake, "-S", str(root), "-B", str(build), "-G", generator]
        result["configure"] = timed(*args, f"-Dhipify_tool_DIR={cmake_dir}", f"-DPython_EXECUTABLE={sys.executable}")
    for result, build in zip(results, builds, strict=True):
        result["full build"] = timed(cmake, "--build", str(build), "-j", jobs)
    steps = {name: [[] for _ in roots] for name in ("no-op build", "one-source edit", "one-header edit")}
    for _ in range(repeat):
        for c, build in enumerate(builds):
            steps["no-op build"][c].append(timed(cmake, "--build", str(build), "-j", jobs))
    for r in range(repeat):
        for c, (root, build) in enumerate(zip(roots, builds, strict=True)):
            append(root / "csrc" / "kernels" / f"kernel_{r:04d}.cu", f"// edit {r}\n")
            steps["one-source edit"][c].append(timed(cmake, "--build", str(build), "-j", jobs))
            family = root / "csrc" / "include" / f"family_{r % n_headers:03d}.cuh"
            append(family, f"inline int edit_{r}() {{ return {r}; }}\n")
            steps["one-header edit"][c].append(timed(cmake, "--build", str(build), "-j", jobs))
    for c, result in enumerate(results):
        for name, per_checkout in steps.items():
            result[name] = statistics.median(per_checkout[c])
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=240)
    parser.add_argument("--headers", type=int, default=24)
    parser.add_argument("--generator", action="append", help="repeatable; default: Ninja and Unix Makefiles")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--targets", type=int, default=500, help="targets of the configure-scale tree (0: skip)")
    parser.add_argument("--target-sources", type=int, default=1, help="sources of each of those targets")
    parser.add_argument("--skip-incremental", action="store_true", help="time only the configure-scale tree")
    parser.add_argument(
        "--checkout",
        type=Path,
        action="append",
        help="whose CMake package and tool; repeatable, the checkouts' steps alternate (default: this one)",
    )
    parser.add_argument("--cmake", default="cmake", help="the cmake to run (default: cmake on PATH)")
    args = parser.parse_args()
    checkouts = [c.resolve() for c in args.checkout or [REPO]]
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"  # nothing written into the checkouts
    cmake_dirs = [
        subprocess.run(  # each checkout's own: `-m` looks in the working directory first
            [sys.executable, "-m", "hipify_tool", "--cmake-dir"], capture_output=True, text=True, check=True, cwd=c
        ).stdout.strip()
        for c in checkouts
    ]
    generators = args.generator or ["Ninja", "Unix Makefiles"]
    version = subprocess.run([args.cmake, "--version"], capture_output=True, text=True, check=True).stdout.split()[2]
    print(
        f"{args.sources} sources, {args.headers} headers, cmake {version}, {os.cpu_count()} cores, "
        f"median of {args.repeat}"
    )
    for c, cmake_dir in enumerate(cmake_dirs):
        print(f"  [{c}] {cmake_dir}")

    def show(title: str, results: list[dict[str, float]]) -> None:
        print(f"\n{title}:\n  {'':<36}" + "".join(f" {f'[{c}]':>9}" for c in range(len(results))))
        for name in results[0]:
            print(f"  {name:<36}" + "".join(f" {result[name]:7.3f} s" for result in results))

    with tempfile.TemporaryDirectory(prefix="hipify-bench-") as tmp:
        for generator in [] if args.skip_incremental else generators:
            roots = [Path(tmp) / f"{generator.replace(' ', '-')}-{c}" for c in range(len(checkouts))]
            for root in roots:
                make_tree(root, args.sources, args.headers)
            results = bench(roots, generator, args.headers, args.repeat, args.cmake, cmake_dirs)
            for result in results:
                result[f"one-header edit ({args.sources // args.headers} includers)"] = result.pop("one-header edit")
            show(generator, results)
        if args.targets:
            generator = generators[0]
            results = bench_configure(
                Path(tmp) / "scale", args.targets, args.target_sources, args.repeat, args.cmake, generator, cmake_dirs
            )
            show(f"{args.targets} targets of {args.target_sources} sources, {generator}", results)


if __name__ == "__main__":
    main()
