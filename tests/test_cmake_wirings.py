"""Translated sources wired the ways CMake projects wire generated files, with real CMake, Ninja and Make.

tests/cmake/wirings has four wirings, each with its own sources, header and output root: custom
commands and a custom target that DEPEND on the files (same directory), a target in a subdirectory
that lists them with add_dependencies() on the TARGET library, hipify_tool_target_sources() on a
target defined in a subdirectory, and a target in a subdirectory that only links the TARGET library.
One configured build per generator and CMake (Debian's 3.25, and CMake 4 with Ninja 1.13) serves
every assertion: the first build translates and compiles everything, the next does nothing, and a
header edit in one wiring re-translates that header, recompiles exactly the file that includes it,
and the build after that does nothing again.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cmake_tools import TOOLS, ids
from test_cmake import GENERATORS, Project, pytestmark, tool  # noqa: F401  (pytestmark: the same skip)

WIRINGS = ("custom", "consumer", "library", "linked")
# What each wiring compiles: (what compiles it, file). `custom` compiles with its own commands.
COMPILED = {
    "custom": {("custom", "custom_a.hip"), ("custom", "custom_b.hip")},
    "consumer": {("consumer", "consumer_a.hip"), ("consumer", "consumer_b.hip")},
    "library": {("library", "host.cpp"), ("library", "library_a.hip"), ("library", "library_b.hip")},
    "linked": {("linked", "linked_a.hip")},
}
TRANSLATED = {"hip_custom": 3, "hip_consumer": 3, "hip_library": 3, "hip_linked": 2}  # sources + header

_TRANSLATING = re.compile(r"Translating \d+ CUDA sources? to HIP in (\S+)")
_SUMMARY = re.compile(r"; (\d+) translated in")
_BUILDING = re.compile(r"Building CXX object \S*?CMakeFiles/(\w+)\.dir/(?:\S*/)?([^/\s]+)\.o\b")
_CUSTOM = re.compile(r"Compiling \(custom command\) (\S+)")


@pytest.fixture(scope="module")
def cmake_dir() -> Path:
    result = tool("--cmake-dir")
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip())


def translations(log: str) -> dict[str, int]:
    """Output root -> the ``N translated`` count of its rule, for each rule that ran."""
    counts: dict[str, int] = {}
    current = None
    for line in log.splitlines():
        if m := _TRANSLATING.search(line):
            current = m.group(1)
            assert current not in counts, f"{current} translated twice in one build:\n{log}"
        elif (m := _SUMMARY.search(line)) and current is not None:
            counts[current] = int(m.group(1))
            current = None
    return counts


def compiled(log: str) -> set[tuple[str, str]]:
    found = {(m.group(1), m.group(2)) for m in _BUILDING.finditer(log)}
    return found | {("custom", m.group(1)) for m in _CUSTOM.finditer(log)}


def output_mtimes(project: Project) -> dict[str, int]:
    """Every translated file (all four output roots) and its mtime."""
    return {
        p.relative_to(project.build_dir).as_posix(): p.stat().st_mtime_ns
        for root in project.build_dir.glob("hip_*")
        for p in root.rglob("*")
        if p.is_file() and ".hipify-tool" not in p.parts
    }


def settled(log: str) -> bool:
    return not translations(log) and not compiled(log) and "Translating" not in log and "Re-running" not in log


@pytest.fixture(params=[(tool, generator) for tool in TOOLS for generator in GENERATORS], ids=ids)
def wirings(request: pytest.FixtureRequest, tmp_path: Path, cmake_dir: Path) -> Project:
    tool_, generator = request.param
    root = tmp_path / "work space"
    root.mkdir()
    project = Project(root, "wirings", generator, cmake_dir, tool_)
    log = project.configure("-Wno-dev")
    assert "Warning" not in log
    return project


@pytest.mark.slow
def test_every_wiring_builds_settles_and_follows_header_edits(wirings: Project) -> None:
    log = wirings.build()
    assert translations(log) == TRANSLATED, log
    assert compiled(log) == set().union(*COMPILED.values()), log
    mtimes = output_mtimes(wirings)
    assert len(mtimes) == sum(TRANSLATED.values())
    assert settled(wirings.build()), "a second build must do nothing"
    assert output_mtimes(wirings) == mtimes, "a no-op build must leave every output's mtime alone"
    for wiring in WIRINGS:
        wirings.append(f"{wiring}/{wiring}.cuh", f"inline int {wiring}_edited() {{ return 1; }}\n")
        log = wirings.build()
        assert translations(log) == {f"hip_{wiring}": 1}, log
        assert compiled(log) == {(wiring, f"{wiring}_a.hip")}, log
        now = output_mtimes(wirings)
        assert {rel for rel in now if now[rel] != mtimes[rel]} == {f"hip_{wiring}/{wiring}/{wiring}_hip.cuh"}
        mtimes = now
        assert settled(wirings.build()), f"{wiring}: the build after a header edit must do nothing"
        assert output_mtimes(wirings) == mtimes


@pytest.mark.slow
def test_ninja_multi_config(tmp_path: Path, cmake_dir: Path) -> None:
    """Debug and Release share one translation: the second config compiles, translates nothing."""
    project = Project(tmp_path, "wirings", "Ninja Multi-Config", cmake_dir)
    project.configure()
    everything = set().union(*COMPILED.values())
    log = project.build("--config", "Debug")
    assert translations(log) == TRANSLATED and compiled(log) == everything, log
    log = project.build("--config", "Release")
    # the custom commands' objects do not depend on the configuration: built once
    assert translations(log) == {} and compiled(log) == everything - COMPILED["custom"], log
    for config in ("Debug", "Release"):
        assert "no work to do" in project.build("--config", config)
    project.append("consumer/consumer.cuh", "inline int consumer_edited() { return 1; }\n")
    log = project.build("--config", "Release")
    assert translations(log) == {"hip_consumer": 1} and compiled(log) == {("consumer", "consumer_a.hip")}, log
    log = project.build("--config", "Debug")
    assert translations(log) == {} and compiled(log) == {("consumer", "consumer_a.hip")}, log
    for config in ("Debug", "Release"):
        assert "no work to do" in project.build("--config", config)
