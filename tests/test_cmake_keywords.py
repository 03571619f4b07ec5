"""The CMake package's keywords: generated from the option model, equal to the command line, and what
they do in a real build (STRICT fails the build, REPORT_FILE is written, MAPS take effect, USE_ROCM
reaches the compiles, every output-changing option is part of a call's identity).

The builds run on Debian's CMake 3.25 and on CMake 4 with Ninja 1.13 (tests/cmake_tools.py).
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import click
import pytest
from cmake_tools import BOTH, DEBIAN, TOOLS, CMakeTool, ids, require
from helpers import REPO, write_tree
from test_cmake import tool

from hipify_tool.cli import cli
from hipify_tool.cmake_keywords import format_table, keywords

# Options the CMake package sets itself, so they are no keywords (and --config/--no-config).
SET_BY_THE_PACKAGE = {
    "--output-list",
    "--list-format",
    "--cmake-plan",
    "--depfile",
    "--stamp",
    "--sources-from",
    "--quiet",
    "--verbose",
    "--config",
    "--no-config",
}


def _table_lists(text: str) -> dict[str, list[str]]:
    """The lists and flags the generated CMake table sets, read back from its text."""
    found: dict[str, list[str]] = {}
    for name, value in re.findall(r'^  set\((\w+) "([^"]*)"\)$', text, re.M):
        found[name] = value.split(";") if value else []
    return found


def test_keywords_are_the_command_line_flags() -> None:
    """Every `run` option the package does not set itself is a keyword: the long flag upper-cased,
    hyphens as underscores, plural when repeatable; SOURCES for the positional sources."""
    run = cli.commands["run"]
    expected: dict[str, tuple[str, str]] = {}
    for param in run.params:
        if isinstance(param, click.Argument):
            expected[param.name.upper()] = ("", "many")  # type: ignore[union-attr]
            continue
        assert isinstance(param, click.Option)
        flag = next(f for f in param.opts if f.startswith("--"))
        if flag in SET_BY_THE_PACKAGE:
            continue
        name = flag[2:].upper().replace("-", "_")
        if param.multiple and not name.endswith("S"):
            name += "S"
        values = "none" if param.is_flag else "many" if param.multiple else "one"
        expected[name] = (flag, values)
    table = _table_lists(format_table())
    lists = {"none": "_hipify_tool_no_value", "one": "_hipify_tool_one_value", "many": "_hipify_tool_multi_value"}
    got = {
        name: ("".join(table[f"_hipify_tool_flag_{name}"]), values)
        for values, table_list in lists.items()
        for name in table[table_list]
    }
    assert got == expected
    named = {"MAPS", "EXTENSIONS", "INCLUDE_DIRS", "EXCLUDES", "ROCM_PATH", "REPORT", "REPORT_FILE", "STRICT"}
    assert named <= set(got)
    # what changes a run's outputs, report or exit status is part of a call's identity; -j is not
    assert set(table["_hipify_tool_identity"]) == set(got) - {"JOBS"}
    # the configure-time plan gets what decides the outputs, never the report or the gate
    assert {"REPORT", "REPORT_FILE", "STRICT", "ROCM_PATH", "PRUNE"}.isdisjoint(table["_hipify_tool_configure"])
    assert {"SOURCES", "PROJECT_DIR", "OUTPUT_DIR", "INCLUDE_DIRS", "MAPS", "EXTENSIONS"} <= set(
        table["_hipify_tool_configure"]
    )
    assert table["_hipify_tool_choices_LAUNCH_SYNTAX"] == ["ggl", "chevron"]
    assert table["_hipify_tool_binary_paths"] == ["OUTPUT_DIR", "REPORT_FILE"]


# --- real projects ------------------------------------------------------------------------------------

LEFTOVER = "__global__ void k(float* x) { x[0] = __shfl_xor_sync(0xffffffff, x[0], 1); }\n"
KERNEL = "#include <cuda_runtime.h>\nvoid k() { cudaDeviceSynchronize(); }\n"


@pytest.fixture(scope="module")
def cmake_dir() -> str:
    result = tool("--cmake-dir")
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


class Build:
    """A small project written into ``root``, configured with ``tool`` and ``generator``."""

    def __init__(self, root: Path, cmake_dir: str, cmake: CMakeTool, body: str, generator: str = "Ninja") -> None:
        self.root, self.tool, self.generator, self.cmake_dir = root, require(cmake), generator, cmake_dir
        self.dir = root / "build"
        (root / "CMakeLists.txt").write_text(
            "cmake_minimum_required(VERSION 3.25)\n"
            f'set(CMAKE_USER_MAKE_RULES_OVERRIDE_CXX "{REPO}/tests/cmake/stub/hip_as_cxx.cmake")\n'
            "project(p LANGUAGES CXX)\n"
            f'include_directories("{REPO}/tests/cmake/stub")\n'
            "find_package(hipify_tool CONFIG REQUIRED)\n" + body
        )

    def configure(self, *extra: str) -> subprocess.CompletedProcess[str]:
        return self.tool.configure(self.root, self.dir, self.generator, self.cmake_dir, *extra)

    def build(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.tool.cmake, "--build", str(self.dir)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
        )


def test_a_checkout_uses_the_table_of_the_tool_it_runs(tmp_path: Path, cmake_dir: str) -> None:
    """A source checkout has no built table: the probe prints the model's, which the config writes
    into the build tree (the wheel's is compared in test_cmake_package.py)."""
    write_tree(tmp_path, {"csrc/k.cu": KERNEL})
    project = Build(tmp_path, cmake_dir, DEBIAN, "")
    configured = project.configure()
    assert configured.returncode == 0, configured.stderr
    written = project.dir / "CMakeFiles" / "hipify_tool" / "hipify_toolKeywords.cmake"
    assert written.read_text() == format_table()


def _sample_values(root: Path) -> dict[str, list[str]]:
    """A value for each keyword that passes a configure (the inputs exist, the choices are valid)."""
    write_tree(root, {"maps/m.toml": 'myCudaHelper = "myHipHelper"\n', "rocm/include/hip/.keep": ""})
    known = {
        "PROJECT_DIR": ["csrc"],
        "OUTPUT_DIR": ["out dir"],
        "SOURCES": ["csrc/k.cu"],
        "INCLUDE_DIRS": ["csrc"],
        "INCLUDES": ["k.cu"],
        "EXCLUDES": ["nothing.cu"],
        "EXTENSIONS": [".cu", ".cuh"],
        "LAUNCH_SYNTAX": ["chevron"],
        "JOBS": ["1"],
        "MAPS": ["maps/m.toml"],
        "REPORT": ["json"],
        "REPORT_FILE": ["report.json"],
        "ROCM_PATH": ["rocm"],
    }
    values: dict[str, list[str]] = {}
    for k in keywords():  # a keyword added later gets a value of its kind
        if k.values == "none":
            values[k.name] = []
        elif k.name in known:
            values[k.name] = known[k.name]
        else:
            values[k.name] = [k.choices[0] if k.choices else "maps/m.toml" if k.path else "1"]
    return values


def _command_line(value: str, kw_path: str, root: Path, build: Path) -> str:
    if kw_path == "source":
        return str(root / value)
    if kw_path == "binary":
        return str(build / value)
    return value


def test_every_keyword_reaches_the_tool_and_only_jobs_leaves_the_identity(tmp_path: Path, cmake_dir: str) -> None:
    """Each keyword of the table becomes its flag on the build's command line, with paths made absolute;
    two calls that differ in ROCM_PATH (or any other option) get two rules, two that differ in JOBS one."""
    write_tree(tmp_path, {"csrc/k.cu": KERNEL})
    values = _sample_values(tmp_path)
    args = " ".join(name + "".join(f' "{v}"' for v in vals) for name, vals in values.items())
    body = (
        f"hipify_tool_sources(ALL {args})\n"
        'hipify_tool_sources(A SOURCES csrc/k.cu PROJECT_DIR csrc OUTPUT_DIR out ROCM_PATH "rocm")\n'
        'hipify_tool_sources(B SOURCES csrc/k.cu PROJECT_DIR csrc OUTPUT_DIR out ROCM_PATH "rocm/include")\n'
        "hipify_tool_sources(C SOURCES csrc/k.cu PROJECT_DIR csrc OUTPUT_DIR out ROCM_PATH rocm JOBS 2)\n"
        "add_custom_target(all_hip ALL DEPENDS ${ALL} ${A} ${B} ${C})\n"
    )
    project = Build(tmp_path, cmake_dir, DEBIAN, body)
    configured = project.configure()
    assert configured.returncode == 0, configured.stderr
    ninja = (project.dir / "build.ninja").read_text()
    commands = [line for line in ninja.splitlines() if "hipify_tool_launch.py run " in line]
    assert len(commands) == 3, "A and C share a rule; ALL and B have their own"
    full = next(c for c in commands if "--prune" in c)
    kinds = {k.name: k for k in keywords()}
    for name, vals in values.items():
        k = kinds[name]
        if k.values == "none":
            assert f" {k.flag} " in full, name
        elif k.flag:
            for value in vals:
                expected = f"{k.flag}={_command_line(value, k.path, tmp_path, project.dir)}"
                assert expected in full, (name, full)
    sources = next(project.dir.glob("CMakeFiles/hipify_tool/*/sources.txt")).read_text()
    assert sources == f"{tmp_path / 'csrc' / 'k.cu'}\n"


@pytest.mark.parametrize(("cmake", "generator"), [(t, g) for t in TOOLS for g in ("Ninja", "Unix Makefiles")], ids=ids)
def test_strict_fails_the_build_with_the_tools_message_and_writes_the_report(
    tmp_path: Path, cmake_dir: str, cmake: CMakeTool, generator: str
) -> None:
    """A leftover in code ROCm compiles fails every build until it is fixed; REPORT_FILE has it."""
    write_tree(tmp_path, {"csrc/k.cu": KERNEL + LEFTOVER})
    body = (
        "hipify_tool_sources(HIP SOURCES csrc/k.cu PROJECT_DIR csrc OUTPUT_DIR hipified\n"
        "  REPORT json REPORT_FILE reports/hipify.json STRICT TARGET kernels_hip)\n"
        "add_library(kernels OBJECT)\ntarget_link_libraries(kernels PRIVATE kernels_hip)\n"
    )
    project = Build(tmp_path, cmake_dir, cmake, body, generator)
    configured = project.configure()
    assert configured.returncode == 0, configured.stderr
    report = project.dir / "reports" / "hipify.json"
    for _ in range(2):  # the gate holds: building again does not get past it
        failed = project.build()
        assert failed.returncode != 0, failed.stdout
        assert "hipify-tool: error: --strict: 1 CUDA name is left or unsupported in code ROCm compiles" in failed.stdout
        assert "Building CXX object" not in failed.stdout
        assert "__shfl_xor_sync" in report.read_text()
    time.sleep(0.02)
    (tmp_path / "csrc" / "k.cu").write_text(KERNEL)
    passed = project.build()
    assert passed.returncode == 0, passed.stdout
    assert "Building CXX object CMakeFiles/kernels.dir/hipified/k.hip.o" in passed.stdout
    assert "__shfl_xor_sync" not in report.read_text()
    json.loads(report.read_text())
    again = project.build()
    assert "Translating" not in again.stdout and "Building" not in again.stdout, again.stdout


@pytest.mark.parametrize("cmake", BOTH)
def test_use_rocm_in_the_compile_commands(tmp_path: Path, cmake_dir: str, cmake: CMakeTool) -> None:
    """hipify_tool_target_sources() adds USE_ROCM to what it compiles, and so does linking a TARGET
    library; NO_USE_ROCM opts out."""
    write_tree(tmp_path, {"csrc/k.cu": KERNEL, "csrc/m.cu": KERNEL, "host.cpp": "int host() { return 0; }\n"})
    body = (
        "add_library(with OBJECT host.cpp)\n"
        "hipify_tool_target_sources(with SOURCES csrc/k.cu PROJECT_DIR csrc OUTPUT_DIR out LANGUAGE CXX)\n"
        "add_library(without OBJECT)\n"
        "hipify_tool_target_sources(without SOURCES csrc/m.cu PROJECT_DIR csrc OUTPUT_DIR out2\n"
        "  LANGUAGE CXX NO_USE_ROCM)\n"
        "hipify_tool_sources(HIP SOURCES csrc/k.cu PROJECT_DIR csrc OUTPUT_DIR out3 TARGET hip_lib)\n"
        "add_library(linked OBJECT)\ntarget_link_libraries(linked PRIVATE hip_lib)\n"
    )
    project = Build(tmp_path, cmake_dir, cmake, body)
    configured = project.configure("-DCMAKE_EXPORT_COMPILE_COMMANDS=ON")
    assert configured.returncode == 0, configured.stderr
    commands = {}
    for entry in json.loads((project.dir / "compile_commands.json").read_text()):
        file = Path(entry["file"])
        base = project.dir if file.is_relative_to(project.dir) else tmp_path
        commands[file.relative_to(base).as_posix()] = entry["command"]
    assert set(commands) == {"host.cpp", "out/k.hip", "out2/m.hip", "out3/k.hip"}
    assert "-DUSE_ROCM" in commands["out/k.hip"] and "-DUSE_ROCM" in commands["host.cpp"]
    assert "-DUSE_ROCM" in commands["out3/k.hip"]
    assert "USE_ROCM" not in commands["out2/m.hip"]
    built = project.build()
    assert built.returncode == 0, built.stdout


@pytest.mark.parametrize("cmake", BOTH)
def test_maps_take_effect_and_a_map_edit_translates_again(tmp_path: Path, cmake_dir: str, cmake: CMakeTool) -> None:
    write_tree(
        tmp_path,
        {
            "csrc/k.cu": "#include <cuda_runtime.h>\nvoid k() { myCudaHelper(); cudaDeviceSynchronize(); }\n",
            "maps/renames.toml": 'myCudaHelper = "myHipHelper"\n',
        },
    )
    body = (
        "hipify_tool_sources(HIP SOURCES csrc/k.cu PROJECT_DIR csrc OUTPUT_DIR out MAPS maps/renames.toml)\n"
        "add_custom_target(hip ALL DEPENDS ${HIP})\n"
    )
    project = Build(tmp_path, cmake_dir, cmake, body)
    assert project.configure().returncode == 0
    assert project.build().returncode == 0
    output = project.dir / "out" / "k.hip"
    assert "myHipHelper(); hipDeviceSynchronize();" in output.read_text()
    assert "Translating" not in project.build().stdout
    time.sleep(0.02)
    (tmp_path / "maps" / "renames.toml").write_text('myCudaHelper = "myRocmHelper"\n')
    rebuilt = project.build()
    assert "Translating" in rebuilt.stdout, rebuilt.stdout
    assert "myRocmHelper(); hipDeviceSynchronize();" in output.read_text()
    assert "Translating" not in project.build().stdout
