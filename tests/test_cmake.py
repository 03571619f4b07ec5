"""hipify_sources() with real CMake, Ninja and Make: exact outputs and an incremental, parallel-safe build.

The sample projects (tests/cmake/) compile the translations as C++ against stub HIP headers, so
what is tested is the dependency graph, not a GPU toolchain. Each test works on a copy in a tmp dir
whose path has a space in it. Also: the configure errors of hipify_tool_sources() (alias
hipify_sources()) and hipify_tool_target_sources(). Other wirings: test_cmake_wirings.py; the keywords
(generated from the option model) and what they do: test_cmake_keywords.py; HIP itself:
test_cmake_hip.py.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cmake_tools import DEBIAN, CMakeTool, require

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "tests" / "cmake"
GENERATORS = ["Ninja", "Unix Makefiles"]

pytestmark = pytest.mark.skipif(
    shutil.which("cmake") is None or shutil.which("ninja") is None or shutil.which("make") is None,
    reason="needs cmake, ninja and make",
)


def tool(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run(
        [sys.executable, "-m", "hipify_tool", *args], capture_output=True, text=True, env=env, check=False
    )


@pytest.fixture(scope="session")
def cmake_dir() -> Path:
    result = tool("--cmake-dir")
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip())


class Project:
    """A copy of a sample project with its own build dir, and helpers to read build logs."""

    def __init__(self, root: Path, name: str, generator: str, cmake_dir: Path, tool: CMakeTool = DEBIAN) -> None:
        self.generator = generator
        self.cmake_dir = cmake_dir
        self.tool = require(tool)
        shutil.copytree(SAMPLES / name, root / name)
        shutil.copytree(SAMPLES / "stub", root / "stub")
        self.source = root / name
        self.csrc = self.source / "csrc"
        self.build_dir = root / "build dir"

    def configure(self, *extra: str) -> str:
        result = self.tool.configure(self.source, self.build_dir, self.generator, self.cmake_dir, *extra)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout + result.stderr

    def build(self, *extra: str, check: bool = True) -> str:
        result = subprocess.run(  # one stream, so a rule's messages follow its COMMENT line
            [self.tool.cmake, "--build", str(self.build_dir), *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
        )
        log = result.stdout
        if check:
            assert result.returncode == 0, log
        else:
            assert result.returncode != 0, log
        return log

    @property
    def out(self) -> Path:
        return self.build_dir / "hipified"

    def plan_lists(self) -> dict[str, list[str]]:
        """The lists of every hipify_sources() call's plan script, merged."""
        lists: dict[str, list[str]] = {"HIPIFY_TOOL_OUTPUTS": [], "HIPIFY_TOOL_ALL_OUTPUTS": []}
        for script in sorted((self.build_dir / "CMakeFiles" / "hipify_tool").glob("*/plan.cmake")):
            for name, body in re.findall(r"set\((\w+)\n(.*?)\)", script.read_text(), re.S):
                lists[name] += re.findall(r'"((?:[^"\\]|\\.)*)"', body)
        return lists

    def written(self) -> set[str]:
        return {
            p.relative_to(self.out).as_posix()
            for p in self.out.rglob("*")
            if p.is_file() and ".hipify-tool" not in p.relative_to(self.out).parts
        }

    def touch(self, rel: str) -> None:
        time.sleep(0.02)  # file times are kernel-tick coarse: be newer than the last build's files
        os.utime(self.csrc / rel)

    def append(self, rel: str, text: str) -> None:
        time.sleep(0.02)
        path = self.csrc / rel
        path.write_text(path.read_text() + text)


def compiled(log: str) -> set[str]:
    """Names of the objects a build log says were compiled (``fooHIP.hip``, ``a b.hip``)."""
    names = re.findall(r"Building CXX object CMakeFiles/\w+\.dir/hipified/(\S+)\.o", log)
    return {name.split("/")[-1].replace("_", " ") if "with_space" in name else name.split("/")[-1] for name in names}


def translated(log: str) -> list[int]:
    """The ``N translated`` count of each hipify-tool run in a build log."""
    return [int(n) for n in re.findall(r"; (\d+) translated in", log)]


def is_noop(log: str) -> bool:
    return "Translating" not in log and "Building" not in log and "Re-running CMake" not in log


@pytest.fixture(params=GENERATORS)
def sample(request: pytest.FixtureRequest, tmp_path: Path, cmake_dir: Path) -> Iterator[Project]:
    root = tmp_path / "work space"
    root.mkdir()
    project = Project(root, "sample", request.param, cmake_dir)
    project.configure()
    yield project


EXPECTED_OUTPUTS = {
    "fooHIP.hip": "fooCUDA.cu",
    "hip/x.hip": "cuda/x.cu",
    "accum_kernels.hip": "accum_kernels.cu",
    "nccl_utils.hip": "nccl_utils.cu",
    "dir with space/a b.hip": "dir with space/a b.cu",
    "host.cpp": "host.cpp",
}
EXPECTED_HEADERS = {"common/helpers_hip.cuh", "common/math.h"}


def test_cmake_dir_flag(cmake_dir: Path) -> None:
    assert (cmake_dir / "hipify_toolConfig.cmake").is_file()
    assert (cmake_dir / "HipifyTool.cmake").is_file()
    assert tool("--cmakedir").stdout.strip() == str(cmake_dir)  # pybind11's spelling works too


@pytest.mark.slow
def test_build_planned_names_are_written_names(sample: Project) -> None:
    log = sample.build()
    assert translated(log) == [8]
    assert len(compiled(log)) == 6
    lists = sample.plan_lists()
    out = str(sample.out) + "/"
    assert [p.removeprefix(out) for p in lists["HIPIFY_TOOL_OUTPUTS"]] == list(EXPECTED_OUTPUTS)
    planned = {p.removeprefix(out) for p in lists["HIPIFY_TOOL_ALL_OUTPUTS"]}
    assert planned == set(EXPECTED_OUTPUTS) | EXPECTED_HEADERS
    assert sample.written() == planned
    assert (sample.out / "host.cpp").read_bytes() == (sample.csrc / "host.cpp").read_bytes()
    assert "hipLaunchKernelGGL" in (sample.out / "fooHIP.hip").read_text()
    assert '#include "common/helpers_hip.cuh"' in (sample.out / "dir with space" / "a b.hip").read_text()
    assert is_noop(sample.build()), "a second build must do nothing"


def test_project_configuration_file_is_ignored(sample: Project) -> None:
    """A [tool.hipify-tool] table in the project must not change what hipify_sources() plans or writes."""
    # where the tool, run from the build dir, would find it
    (sample.build_dir.parent / "pyproject.toml").write_text(
        '[tool.hipify-tool]\nextensions = [".h"]\ninclude-dirs = []\n'
    )
    sample.configure()
    sample.build()
    assert "hipLaunchKernelGGL" in (sample.out / "fooHIP.hip").read_text()
    assert sample.written() == set(EXPECTED_OUTPUTS) | EXPECTED_HEADERS


@pytest.mark.slow
def test_source_touch_and_edit(sample: Project) -> None:
    sample.build()
    sample.touch("nccl_utils.cu")
    log = sample.build()
    assert "Translating" in log and translated(log) == [0] and compiled(log) == set()
    sample.append("nccl_utils.cu", "// edited\n")
    log = sample.build()
    assert translated(log) == [1]
    assert compiled(log) == {"nccl_utils.hip"}
    assert is_noop(sample.build())


@pytest.mark.slow
def test_header_edit_rebuilds_exactly_its_includers(sample: Project) -> None:
    sample.build()
    sample.append("common/helpers.cuh", "inline int helper_added() { return 1; }\n")
    log = sample.build()
    assert translated(log) == [1]
    assert compiled(log) == {"fooHIP.hip", "x.hip", "a b.hip"}
    sample.append("common/math.h", "inline int thrice(int x) { return 3 * x; }\n")  # reached directly and via helpers
    log = sample.build()
    assert translated(log) == [1]
    assert compiled(log) == {"fooHIP.hip", "x.hip", "a b.hip", "accum_kernels.hip"}
    assert is_noop(sample.build())


@pytest.mark.slow
def test_new_include_of_a_new_header(sample: Project) -> None:
    """The documented behaviour: the first build translates and compiles it; the next re-runs CMake once."""
    sample.build()
    (sample.csrc / "common" / "extra.cuh").write_text(
        "#pragma once\ninline void extra() { cudaDeviceSynchronize(); }\n"
    )
    sample.append("nccl_utils.cu", '#include "common/extra.cuh"\nvoid use_extra() { extra(); }\n')
    log = sample.build()
    assert compiled(log) == {"nccl_utils.hip"}
    assert (sample.out / "common" / "extra_hip.cuh").is_file()
    log = sample.build()
    assert "Re-running CMake" in log or "Configuring done" in log
    assert compiled(log) == set()
    assert str(sample.out / "common" / "extra_hip.cuh") in sample.plan_lists()["HIPIFY_TOOL_ALL_OUTPUTS"]
    assert is_noop(sample.build())
    sample.append("common/extra.cuh", "inline void extra2() {}\n")
    log = sample.build()
    assert compiled(log) == {"nccl_utils.hip"}


@pytest.mark.slow
def test_renamed_source_output_stops_the_build_once(sample: Project) -> None:
    """host.cpp starts needing translation, so its output becomes host_hip.cpp: never compile the stale copy."""
    sample.build()
    sample.append("host.cpp", "#include <cuda_runtime.h>\nvoid host_alloc(void** p) { cudaMalloc(p, 4); }\n")
    log = sample.build(check=False)
    assert "translated name of a listed source changed" in log and "host_hip.cpp" in log
    log = sample.build()
    assert compiled(log) == {"host_hip.cpp"}
    assert is_noop(sample.build())


@pytest.mark.slow
@pytest.mark.parametrize(("generator", "repeats"), [("Ninja", 20), ("Unix Makefiles", 20)])
def test_parallel_calls_sharing_an_output_root(tmp_path: Path, cmake_dir: Path, generator: str, repeats: int) -> None:
    project = Project(tmp_path, "parallel", generator, cmake_dir)
    project.configure()
    project.build("-j8")
    reference = {rel: (project.out / rel).read_bytes() for rel in project.written()}
    planned = {p.removeprefix(str(project.out) + "/") for p in project.plan_lists()["HIPIFY_TOOL_ALL_OUTPUTS"]}
    assert set(reference) == planned and len(planned) == 12 + 4
    for _ in range(repeats):
        shutil.rmtree(project.out)  # every run writes everything again, all three at once
        log = project.build("-j8", "--clean-first")
        assert log.count("Translating") == 3
        assert {rel: (project.out / rel).read_bytes() for rel in project.written()} == reference
    assert is_noop(project.build("-j8"))


def _write_project(root: Path, body: str, languages: str = "NONE") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "csrc").mkdir(exist_ok=True)
    (root / "csrc" / "k.cu").write_text("#include <cuda_runtime.h>\nvoid k() { cudaDeviceSynchronize(); }\n")
    (root / "CMakeLists.txt").write_text(
        f"cmake_minimum_required(VERSION 3.25)\nproject(p LANGUAGES {languages})\n" + body
    )
    return root


def _configure(source: Path, cmake_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "cmake",
            "-S",
            str(source),
            "-B",
            str(source / "build"),
            "-G",
            "Ninja",
            f"-Dhipify_tool_DIR={cmake_dir}",
            f"-DPython_EXECUTABLE={sys.executable}",
            *extra,
        ],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("hipify_sources(SOURCES csrc/k.cu PROJECT_DIR csrc OUTPUT_DIR out)", "first argument must be the variable"),
        ("hipify_sources(V PROJECT_DIR csrc OUTPUT_DIR out)", "SOURCES is required"),
        ("hipify_sources(V SOURCES csrc/k.cu OUTPUT_DIR out)", "PROJECT_DIR is required"),
        ("hipify_sources(V SOURCES csrc/nope.cu PROJECT_DIR csrc OUTPUT_DIR out)", "does not exist"),
        ("hipify_sources(V SOURCES csrc/k.cu csrc/k.cu PROJECT_DIR csrc OUTPUT_DIR out)", "listed twice"),
        (
            "hipify_sources(V SOURCES csrc/k.cu PROJECT_DIR csrc OUTPUT_DIR out LAUNCH_SYNTAX x)",
            "hipify_sources(V): LAUNCH_SYNTAX: expected one of ggl, chevron, got 'x'",
        ),
        (
            "hipify_tool_sources(V SOURCES csrc/k.cu PROJECT_DIR csrc OUTPUT_DIR out REPORT html)",
            "hipify_tool_sources(V): REPORT: expected one of text, json, sarif, got 'html'",
        ),
        (
            "hipify_tool_sources(SOURCES csrc/k.cu PROJECT_DIR csrc OUTPUT_DIR out)",
            "hipify_tool_sources(): the first argument must be the variable",
        ),
        (
            "hipify_tool_sources(V SOURCES csrc/k.cu PROJECT_DIR csrc OUTPUT_DIR out MAPS nowhere.toml)",
            "hipify-tool plan failed (exit 2)",
        ),
        ("hipify_sources(V SOURCES csrc/k.cu PROJECT_DIR csrc OUTPUT_DIR out BOGUS)", "unknown arguments: BOGUS"),
        (
            "hipify_sources(V SOURCES csrc/k.cu PROJECT_DIR csrc OUTPUT_DIR ${CMAKE_CURRENT_SOURCE_DIR}/csrc)",
            "hipify-tool plan failed (exit 2)",
        ),
        ("set(none)\nhipify_sources(V SOURCES ${none} PROJECT_DIR csrc OUTPUT_DIR out)", "SOURCES is given no value"),
        ("hipify_sources(V SOURCES csrc/k.cu PROJECT_DIR OUTPUT_DIR out)", "PROJECT_DIR is given no value"),
        ("hipify_sources(V SOURCES csrc/k.cu PROJECT_DIR csrc OUTPUT_DIR out TARGET)", "TARGET is given no value"),
        (
            "hipify_sources(V SOURCES $<$<CONFIG:Debug>:csrc/k.cu> PROJECT_DIR csrc OUTPUT_DIR out)",
            "generator expressions are not supported in SOURCES: $<$<CONFIG:Debug>:csrc/k.cu>",
        ),
        (
            "hipify_sources(V SOURCES csrc/k.cu PROJECT_DIR $<1:csrc> OUTPUT_DIR out)",
            "generator expressions are not supported in PROJECT_DIR: $<1:csrc>",
        ),
        (
            "hipify_sources(V SOURCES csrc/k.cu PROJECT_DIR csrc OUTPUT_DIR out/$<CONFIG>)",
            "generator expressions are not supported in OUTPUT_DIR: out/$<CONFIG>",
        ),
        (
            "add_custom_target(taken)\n"
            "hipify_sources(V SOURCES csrc/k.cu PROJECT_DIR csrc OUTPUT_DIR out TARGET taken)",
            "TARGET taken: a target of that name already exists",
        ),
        (
            "hipify_tool_target_sources(nowhere SOURCES csrc/k.cu PROJECT_DIR csrc OUTPUT_DIR out)",
            "hipify_tool_target_sources(nowhere): nowhere is not a target",
        ),
        (
            "add_library(t OBJECT)\nhipify_tool_target_sources(t SOURCES csrc/k.cu PROJECT_DIR csrc OUTPUT_DIR out)",
            "HIP is not enabled, so the translated .hip sources would not be compiled: call enable_language(HIP)",
        ),
        (
            "add_library(t OBJECT)\n"
            "hipify_tool_target_sources(t SOURCES csrc/k.cu PROJECT_DIR csrc OUTPUT_DIR out LANGUAGE CUDA)",
            "LANGUAGE CUDA is not enabled: call enable_language(CUDA)",
        ),
        (
            "add_library(t OBJECT)\n"
            "hipify_tool_target_sources(t PRIVATE PUBLIC SOURCES csrc/k.cu PROJECT_DIR csrc OUTPUT_DIR out)",
            "give one of PRIVATE, PUBLIC or INTERFACE",
        ),
    ],
)
def test_argument_errors(tmp_path: Path, cmake_dir: Path, call: str, message: str) -> None:
    source = _write_project(tmp_path / "p", f"find_package(hipify_tool CONFIG REQUIRED)\n{call}\n")
    result = _configure(source, cmake_dir)
    assert result.returncode != 0
    assert message in " ".join(result.stderr.split()), result.stderr  # CMake wraps long messages


def test_version_check_and_recorded_interpreter(tmp_path: Path, cmake_dir: Path) -> None:
    body = (
        "find_package(hipify_tool 0.1 CONFIG REQUIRED)\n"
        'message(STATUS "py=${hipify_tool_PYTHON_EXECUTABLE} v=${hipify_tool_PYTHON_VERSION}")\n'
        "find_package(hipify_tool 9.0 CONFIG QUIET)\n"
        'message(STATUS "found9=${hipify_tool_FOUND}")\n'
        "find_package(hipify_tool 0.2 CONFIG QUIET)\n"  # CMake's SameMinorVersion
        'message(STATUS "found02=${hipify_tool_FOUND}")\n'
    )
    result = _configure(_write_project(tmp_path / "p", body), cmake_dir)
    assert result.returncode == 0, result.stderr
    version = ".".join(map(str, sys.version_info[:3]))
    assert f"py={sys.executable} v={version}" in result.stdout
    assert "found9=0" in result.stdout and "found02=0" in result.stdout


def test_unusable_interpreter_is_a_clear_error(tmp_path: Path, cmake_dir: Path) -> None:
    source = _write_project(tmp_path / "p", "find_package(hipify_tool CONFIG REQUIRED)\n")
    result = _configure(source, cmake_dir, f"-Dhipify_tool_PYTHON_EXECUTABLE={tmp_path / 'no-python'}")
    assert result.returncode != 0
    assert "no Python interpreter here can run hipify-tool" in result.stderr
    assert "hipify_tool_PYTHON_EXECUTABLE" in result.stderr


@pytest.mark.slow
def test_long_source_lists_stay_off_the_command_line(tmp_path: Path, cmake_dir: Path) -> None:
    """1000 sources with long names (well over 128 KiB of paths): the command line stays short."""
    deep = "d" * 60 + "/" + "e" * 60
    body = (
        "find_package(hipify_tool CONFIG REQUIRED)\n"
        'file(GLOB_RECURSE cu "${CMAKE_CURRENT_SOURCE_DIR}/csrc/*.cu")\nlist(SORT cu)\n'
        'hipify_sources(HIP SOURCES ${cu} PROJECT_DIR "${CMAKE_CURRENT_SOURCE_DIR}/csrc" OUTPUT_DIR out QUIET)\n'
        "add_custom_target(translations ALL DEPENDS ${HIP})\n"
    )
    source = _write_project(tmp_path / "p", body)
    (source / "csrc" / deep).mkdir(parents=True)
    for i in range(1000):
        (source / "csrc" / deep / f"kernel_number_{i:05d}_with_a_long_name.cu").write_text(
            f"void k{i}() {{ cudaDeviceSynchronize(); }}\n"
        )
    assert _configure(source, cmake_dir).returncode == 0
    build_ninja = (source / "build" / "build.ninja").read_text()
    commands = [line for line in build_ninja.splitlines() if "hipify_tool_launch.py run" in line]
    assert len(commands) == 1 and len(commands[0]) < 4000
    result = subprocess.run(["cmake", "--build", str(source / "build")], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(list((source / "build" / "out").rglob("*.hip"))) == 1000 + 1  # and csrc/k.cu


def readme_snippet() -> str:
    """The cmake block of the README's "Use from CMake" section."""
    text = (REPO / "README.md").read_text()
    section = text[text.index("## Use from CMake\n") :]
    match = re.search(r"```cmake\n(.*?)```", section, re.S)
    assert match is not None, "README's Use from CMake section has no cmake block"
    return match.group(1)


def test_readme_snippet_is_the_docs_snippet() -> None:
    """docs/cmake.md opens with the README's snippet (test_cmake_hip.py builds it)."""
    snippet = readme_snippet()
    assert "enable_language(HIP)" in snippet and "hipify_tool_target_sources(" in snippet
    assert f"```cmake\n{snippet}```" in (REPO / "docs" / "cmake.md").read_text()


@pytest.mark.parametrize("path", ["csrc_example/CMakeLists.txt", "templates/project/CMakeLists.txt"])
def test_projects_use_public_commands_only(path: str) -> None:
    """The reference project and `hipify-tool init`'s template use the package as any project would."""
    text = (REPO / path).read_text()
    assert re.search(r"\bhipify_(tool_sources|sources|tool_target_sources)\(", text)
    assert not re.search(r"\b_hipify_tool\w*", text), "internal command or property used"
