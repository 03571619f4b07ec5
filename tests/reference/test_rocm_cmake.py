"""The ROCm build of csrc_example through CMake, on a machine without an AMD GPU.

Configures csrc_example with -DPTGQ_BACKEND=ROCM the way an outside project would use hipify-tool
(find_package(hipify_tool CONFIG REQUIRED) with hipify_tool_DIR from `python -m hipify_tool
--cmake-dir`, then hipify_sources()), enable_language(HIP) with clang++-19, and builds it for
gfx90a and gfx942: full host+device objects, linked into _C.so against Debian's ROCm 5.2
libamdhip64 (a compile proof, not a shippable ROCm binary).

Needs a CMake >= 3.27 (.ci/run puts one in /opt/cmake-hip; see ptgq_hip.hip_cmake), Ninja and the
apt packages in ptgq_hip.APT_PACKAGES. Skipped without them, except in CI, where it fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest
from ptgq_hip import (
    APT_PACKAGES,
    CLANGXX,
    EXAMPLE,
    GPU_SOURCES,
    ROCM_SOURCES,
    bitcode_with_gfx942,
    configure_example,
    device_code,
    hip_cmake,
    missing_amd_tools,
    require,
    run_step,
    tool_env,
    translate,
    translated_files,
    tree_leftovers,
)

from hipify_tool import rocm_sim

ARCHS = ["gfx90a", "gfx942"]


class Build:
    def __init__(self, cmake: str, tmp: Path) -> None:
        self.cmake = cmake
        self.dir = tmp / "build"
        self.bitcode = bitcode_with_gfx942(tmp)
        self.hipify_dir, self.configure = configure_example(
            cmake,
            tmp,
            self.dir,
            "-DPTGQ_BACKEND=ROCM",
            f"-DPTGQ_HIP_ARCHS={';'.join(ARCHS)}",
            "-DCMAKE_HIP_PLATFORM=amd",
            f"-DCMAKE_HIP_COMPILER={CLANGXX}",
            f"-DCMAKE_HIP_FLAGS=--rocm-device-lib-path={self.bitcode}",
        )
        self.build = run_step([cmake, "--build", str(self.dir)]).stdout
        self.objects = {
            name: self.dir / "CMakeFiles" / "_C.dir" / "hipified" / (Path(name).stem + ".hip.o") for name in GPU_SOURCES
        }
        self.tmp = tmp
        self._code: dict[str, dict[str, str]] = {}

    def device_code(self, name: str) -> dict[str, str]:
        """{arch: disassembly} of the object built from GPU source `name`."""
        if name not in self._code:
            self._code[name] = device_code(self.objects[name], self.tmp / "device")
        return self._code[name]


@pytest.fixture(scope="module")
def rocm(tmp_path_factory: pytest.TempPathFactory) -> Build:
    missing = missing_amd_tools()
    require(not missing, f"lacks {', '.join(missing)} (apt: {APT_PACKAGES})")
    require(shutil.which("ninja"), "lacks ninja (apt: ninja-build)")
    cmake = hip_cmake()
    require(
        cmake,
        "finds no CMake >= 3.27 for enable_language(HIP) "
        "(pip install --target /opt/cmake-hip 'cmake>=3.27', or set PTGQ_HIP_CMAKE)",
    )
    return Build(str(cmake), tmp_path_factory.mktemp("rocm-cmake"))


def test_configured_like_an_outside_project(rocm: Build) -> None:
    cache = (rocm.dir / "CMakeCache.txt").read_text()
    assert re.search(rf"^hipify_tool_DIR:\w+={re.escape(rocm.hipify_dir)}$", cache, flags=re.M)
    assert "Found hipify_tool" in rocm.configure
    assert re.search(rf"^CMAKE_HIP_COMPILER:\w+={re.escape(CLANGXX or '')}$", cache, flags=re.M)
    assert re.search(r"^PTGQ_BACKEND:\w+=ROCM$", cache, flags=re.M)
    assert "hipify-tool: " in rocm.build  # the translation ran as a build step


def test_objects_hold_device_code_for_each_arch(rocm: Build) -> None:
    for name, obj in rocm.objects.items():
        assert obj.is_file(), f"{name}: no object {obj}"
        code = rocm.device_code(name)
        assert sorted(code) == ARCHS, f"{name}: device code for {sorted(code)}"


def test_fp8_conversion_per_arch(rocm: Build) -> None:
    """gfx942 converts with v_cvt_pk_fp8_f32; gfx90a has no fp8 instructions (software path).
    Division is IEEE (v_div_fixup_f32) on both: no fast-math."""
    for name in rocm.objects:
        code = rocm.device_code(name)
        assert "v_cvt_pk_fp8_f32" in code["gfx942"], name
        assert "v_cvt_pk_fp8_f32" not in code["gfx90a"], name
        for arch in ARCHS:
            assert "v_div_fixup_f32" in code[arch], f"{name} {arch}"


def test_build_compiles_hipify_tool_output_only(rocm: Build, tmp_path: Path) -> None:
    """The build compiled the translated tree (byte for byte what ptgq_hip.translate() writes,
    so the CUDA-identifier check in test_rocm_translation.py sees what ROCm compiles), and that
    tree has no CUDA names in ROCm-taken code."""
    hipified = rocm.dir / "hipified"
    translate(out=tmp_path / "hip")
    assert translated_files(hipified) == translated_files(tmp_path / "hip")
    assert not tree_leftovers(hipified)
    compiled = [Path(c["file"]) for c in json.loads((rocm.dir / "compile_commands.json").read_text())]
    assert len(compiled) == len(ROCM_SOURCES)
    assert all(path.parent == hipified for path in compiled), compiled
    commands = " ".join(c["command"] for c in json.loads((rocm.dir / "compile_commands.json").read_text()))
    assert str(EXAMPLE / "csrc") not in commands  # no include path into the CUDA originals


def test_setup_py_path_translates_the_same_tree(rocm: Build, tmp_path: Path) -> None:
    """csrc_example/setup.py (hipify_tool.setuptools) under simulated ROCm (hipify_tool.rocm_sim):
    its build_ext translates exactly the tree this CMake build's hipify_sources() made, and hipcc
    compiles the kernels from there, never from csrc/."""
    project = tmp_path / "ptg_quant"
    for name in ("csrc", "python"):
        shutil.copytree(EXAMPLE / name, project / name)
    for name in ("setup.py", "pyproject.toml", "NOTES.md"):
        shutil.copy2(EXAMPLE / name, project / name)
    sim = rocm_sim.create(tmp_path / "sim")
    run_step([sys.executable, "setup.py", "build_ext"], cwd=project, env=sim.env(tool_env()))
    (root,) = project.glob("build/temp.*/hipify/ptg_quant._C")
    assert translated_files(root / "csrc") == translated_files(rocm.dir / "hipified")
    hipcc = sorted(s for c in sim.commands() if c.tool == "hipcc" for s in c.sources)
    assert hipcc == sorted(str(root / "csrc" / f"{Path(name).stem}.hip") for name in GPU_SOURCES)


def test_rebuild_is_a_no_op(rocm: Build) -> None:
    assert "no work to do" in run_step([rocm.cmake, "--build", str(rocm.dir)]).stdout


def test_module_loads_into_cpu_torch(rocm: Build) -> None:
    """Linked against ROCm 5.2's libamdhip64: schemas register, a CPU call is a clean error."""
    library = rocm.dir / "_C.so"
    assert library.is_file()
    code = (
        "import torch\n"
        f"torch.ops.load_library({str(library)!r})\n"
        "op = torch.ops.ptg_quant.per_token_group_quant_8bit\n"
        "assert 'bool scale_ue8m0' in str(op.default._schema)\n"
        "x = torch.randn(4, 128, dtype=torch.bfloat16)\n"
        "q = torch.empty(4, 128, dtype=torch.float8_e4m3fnuz)\n"
        "try:\n"
        "    op(x, q, torch.empty(4, 1), 128, 1e-10, -224.0, 224.0, False)\n"
        "except NotImplementedError as e:\n"
        "    assert 'CPU' in str(e)\n"
        "else:\n"
        "    raise SystemExit('CPU call did not raise')\n"
    )
    env = dict(os.environ, HIP_VISIBLE_DEVICES="")
    run_step([sys.executable, "-c", code], env=env)
