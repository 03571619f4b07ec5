"""The translated reference project compiled for NVIDIA: hipify-tool's output, built by nvcc.

csrc_example's PTGQ_BACKEND=HIP_ON_CUDA build translates every source with hipify_sources() (as
the ROCm build does) and compiles the output root with nvcc for sm_90a, through the HIP-on-CUDA
shim in csrc_example/tools/hip_on_cuda, with the macros of a ROCm compile that needs no AMD
hardware (USE_ROCM; __HIPCC__ for the kernels; no __gfx*__, no __HIP_PLATFORM_AMD__). The module
it links runs the ROCm branches of the source on an NVIDIA GPU: point PTGQ_LIBRARY at it and run
test_gpu_matrix.py (docs/reference-project.md, "Running the translated code on NVIDIA").

Without a GPU these tests prove that the build compiles and links the translated tree only, that
the shim maps exactly the HIP names that tree compiles, and that the device code took the ROCm
branches (software fp8, mask-less shuffles, plain launches). They need nvcc, CMake and Ninja:
skipped without them, except in CI, where they fail.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ptgq_hip import (
    CSRC,
    EXAMPLE,
    GPU_SOURCES,
    ROCM_SOURCES,
    active_text,
    configure_example,
    require,
    run_step,
    translate,
    translated_files,
)

SHIM = EXAMPLE / "tools" / "hip_on_cuda"
NVCC = shutil.which("nvcc") or next(
    (p for p in ("/usr/local/bin/nvcc", "/usr/local/cuda/bin/nvcc") if os.path.isfile(p)), None
)
# What nvcc defines in a HIP_ON_CUDA compile of the kernels, host pass and device pass (sm_90a);
# anything else (__gfx*__, __HIP_PLATFORM_AMD__) is left unknown, so both its branches count.
HOST_PASS = {"USE_ROCM": 1, "__HIPCC__": 1, "__CUDACC__": 1, "__NVCC__": 1}
DEVICE_PASS = {**HOST_PASS, "__CUDA_ARCH__": 900}
# HIP / AMD macros a directive of the tree may test, besides those the shim defines: set on the
# command line, or left undefined on purpose (with every __gfx*__). A new one must be decided here.
COMMAND_LINE_MACROS = {"__HIPCC__"}
UNDEFINED_MACROS = {"__HIP_PLATFORM_AMD__", "HIP_ENABLE_WARP_SYNC_BUILTINS"}
# CUDA's own spelling of what a ROCm branch must not compile to on this build.
HW_FP8 = "cvt.rn.satfinite.e4m3x2"
PDL = "griddepcontrol"
PDL_LAUNCH = "cudaLaunchKernelEx"


class Build:
    """One HIP_ON_CUDA configure + build of csrc_example, the way the docs give the command."""

    def __init__(self, tmp: Path) -> None:
        self.dir = tmp / "build"
        self.tmp = tmp
        env = dict(os.environ, CUDACXX=NVCC or "")
        self.hipify_dir, self.configure = configure_example(
            "cmake", tmp, self.dir, "-DPTGQ_BACKEND=HIP_ON_CUDA", "-DPTGQ_CUDA_ARCHS=90a", env=env
        )
        self.build = run_step(["cmake", "--build", str(self.dir)], env=env).stdout
        self.hipified = self.dir / "hipified"
        self.library = self.dir / "_C.so"
        self.commands = json.loads((self.dir / "compile_commands.json").read_text())

    def command(self, source: Path) -> list[str]:
        """The compile command the build used for `source`, as an argument list."""
        for entry in self.commands:
            if Path(entry["file"]) == source:
                return shlex.split(entry["command"])
        raise AssertionError(f"{source} was not compiled: {[c['file'] for c in self.commands]}")


@pytest.fixture(scope="module")
def shim_build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    require(NVCC, "finds no nvcc (/usr/local/bin/nvcc or PATH)")
    require(shutil.which("cmake") and shutil.which("ninja"), "lacks cmake or ninja")
    return Build(tmp_path_factory.mktemp("hip-on-cuda"))


def _ptx(command: list[str], source: Path, out: Path) -> str:
    """PTX of `source` compiled with the build's command line for another file (`-c` -> `-ptx`)."""
    args = list(command)
    args[args.index("-c") : args.index("-c") + 2] = ["-ptx", str(source)]
    args[args.index("-o") + 1] = str(out)
    run_step(args)
    return out.read_text()


def shim_names() -> dict[str, set[str]]:
    """{header: names it defines}, one definition per code line (checked)."""
    names: dict[str, set[str]] = {}
    pattern = re.compile(r"^(?:using (\w+) =|constexpr \w+ (\w+) =|inline [\w:<> ]+?\**\s*(\w+)\(|#define (\w+)\b)")
    for header in sorted((SHIM / "hip").glob("*.h")):
        found: set[str] = set()
        for line in header.read_text().splitlines():
            if not line.strip() or line.lstrip().startswith("//") or line.startswith(("#pragma", "#include")):
                continue
            if line.startswith(("#if", "#error", "#endif")):
                continue
            m = pattern.match(line)
            assert m, f"{header.name}: not a one-line mapping: {line!r}"
            found.add(next(g for g in m.groups() if g))
        names[f"hip/{header.name}"] = found
    return names


def tree_usage(tree: Path) -> tuple[set[str], set[str], str]:
    """(hip* identifiers, <hip/...> headers, all code) that the HIP_ON_CUDA compile takes in `tree`."""
    code = []
    for data in translated_files(tree).values():
        text = data.decode("utf-8")
        for defined in (HOST_PASS, DEVICE_PASS):
            code.append(active_text(text, defined))
    joined = "\n".join(code)
    idents = set(re.findall(r"\bhip[A-Z]\w*", joined))
    headers = set(re.findall(r'#\s*include\s*[<"](hip/[\w.]+)[>"]', joined))
    return idents, headers, joined


def hip_macros_in_conditions(tree: Path) -> set[str]:
    """HIP / AMD macro names that #if, #elif, #ifdef or #ifndef lines of `tree` test."""
    names: set[str] = set()
    for data in translated_files(tree).values():
        for cond in re.findall(r"^\s*#\s*(?:if|elif|ifdef|ifndef)\b(.*)$", data.decode("utf-8"), flags=re.M):
            names |= set(re.findall(r"\b(?:__HIP\w*|HIP_\w+|__gfx\w+)", cond.split("//")[0]))
    return names


def test_builds_the_translated_tree_only(shim_build: Build, tmp_path: Path) -> None:
    """hipify_sources() ran as a build step; nvcc compiled its output root (byte for byte the tree
    the ROCm tests check), the kernels with the ROCm macro set, the shim first on the include path."""
    assert "Found hipify_tool" in shim_build.configure
    assert "hipify-tool: " in shim_build.build
    translate(out=tmp_path / "hip")
    assert translated_files(shim_build.hipified) == translated_files(tmp_path / "hip")
    compiled = [Path(c["file"]) for c in shim_build.commands]
    assert len(compiled) == len(ROCM_SOURCES)
    assert all(path.parent == shim_build.hipified for path in compiled), compiled
    for source in compiled:
        cmd = shim_build.command(source)
        includes = [a[2:] for a in cmd if a.startswith("-I")]
        assert includes[:2] == [str(SHIM), str(shim_build.hipified)], includes
        assert not any(str(CSRC) in a for a in cmd)  # never the CUDA originals
        assert "-DUSE_ROCM" in cmd
        assert not any(a.startswith(("-D__HIP_PLATFORM", "-D__gfx")) for a in cmd)
        kernel = source.suffix == ".hip"
        assert (Path(cmd[0]).name == "nvcc") == kernel, cmd
        assert ("-D__HIPCC__" in cmd) == kernel, cmd
        if kernel:
            assert "-gencode=arch=compute_90a,code=sm_90a" in cmd


def test_shim_maps_exactly_what_the_tree_compiles(shim_build: Build) -> None:
    """Every HIP name in code the build takes is mapped, and nothing else is: a HIP name the tree
    starts using fails this test (and the compile), an unused mapping fails it too; so does a HIP
    macro the tree starts testing that neither the shim nor the build decides."""
    mapped = shim_names()
    idents, headers, code = tree_usage(shim_build.hipified)
    assert headers == set(mapped), (headers, set(mapped))
    all_mapped = set().union(*mapped.values())
    assert {n for n in all_mapped if n.startswith("hip")} == idents
    macros = hip_macros_in_conditions(shim_build.hipified)
    for name in all_mapped - idents:  # a macro the tree tests, or a call CUDA lacks on sm_70+
        used = name in macros or re.search(rf"\b{name}\s*\(", code)
        assert used, f"shim maps {name}, which the tree does not use"
    undecided = {m for m in macros if not m.startswith("__gfx")} - all_mapped - COMMAND_LINE_MACROS - UNDEFINED_MACROS
    assert not undecided, f"HIP macros tested by the tree that the HIP_ON_CUDA build does not decide: {undecided}"
    assert not any(n.startswith("__gfx") for n in all_mapped)


def test_device_code_takes_the_rocm_branches(shim_build: Build, tmp_path: Path) -> None:
    """The kernels compiled here are the ROCm branches: the software fp8 conversion (no sm_89+
    cvt), shuffles over the lanes active at the call (mask-less HIP __shfl_xor), no PDL and plain
    launches. The same check on the CUDA originals finds all three, so it can fail."""
    for name in GPU_SOURCES:
        hip_source = shim_build.hipified / (Path(name).stem + ".hip")
        ptx = _ptx(shim_build.command(hip_source), hip_source, tmp_path / (Path(name).stem + ".ptx"))
        assert ".entry" in ptx
        assert HW_FP8 not in ptx and PDL not in ptx, name
        assert "activemask" in ptx and "shfl.sync.bfly" in ptx, name
        obj = next(shim_build.dir.rglob(Path(name).stem + ".hip.o"))
        symbols = run_step(["nm", "--undefined-only", str(obj)]).stdout
        assert PDL_LAUNCH not in symbols, name
    # Control: the CUDA source, same compiler and flags, uses the hardware path and PDL.
    hip_cmd = shim_build.command(shim_build.hipified / (Path(GPU_SOURCES[0]).stem + ".hip"))
    cuda_cmd = [a for a in hip_cmd if a not in ("-DUSE_ROCM", "-D__HIPCC__") and not a.startswith("-I")]
    cuda_cmd.insert(1, f"-I{CSRC}")
    ptx = _ptx(cuda_cmd, CSRC / GPU_SOURCES[0], tmp_path / "cuda.ptx")
    assert HW_FP8 in ptx and PDL in ptx and "activemask" not in ptx


def test_a_hip_name_the_shim_lacks_is_a_compile_error(tmp_path: Path) -> None:
    """Nothing generic: an unmapped HIP call does not compile, and an AMD-platform compile is refused."""
    require(NVCC, "finds no nvcc (/usr/local/bin/nvcc or PATH)")
    src = tmp_path / "new.cu"
    src.write_text("#include <hip/hip_runtime.h>\nvoid f() { (void)hipDeviceSynchronize(); }\n")
    base = [NVCC or "nvcc", f"-I{SHIM}", "-DUSE_ROCM", "-D__HIPCC__", "-std=c++17", "-c", str(src), "-o", os.devnull]
    proc = subprocess.run(base, capture_output=True, text=True)
    assert proc.returncode != 0 and "hipDeviceSynchronize" in proc.stdout + proc.stderr
    src.write_text("#include <hip/hip_runtime.h>\nvoid f() { (void)hipGetLastError(); }\n")
    run_step(base)  # a mapped name compiles
    proc = subprocess.run([*base, "-D__HIP_PLATFORM_AMD__"], capture_output=True, text=True)
    assert proc.returncode != 0 and "hip_on_cuda shim" in proc.stdout + proc.stderr


def test_module_loads_into_cpu_torch(shim_build: Build) -> None:
    """The linked module registers the ops in the CPU torch here; a CPU call is a clean error."""
    code = (
        "import torch\n"
        f"torch.ops.load_library({str(shim_build.library)!r})\n"
        "op = torch.ops.ptg_quant.per_token_group_quant_8bit\n"
        "assert 'bool scale_ue8m0' in str(op.default._schema)\n"
        "assert 'output_s_packed' in str(torch.ops.ptg_quant.per_token_group_quant_8bit_packed.default._schema)\n"
        "x = torch.randn(4, 128, dtype=torch.bfloat16)\n"
        "q = torch.empty(4, 128, dtype=torch.float8_e4m3fn)\n"
        "try:\n"
        "    op(x, q, torch.empty(4, 1), 128, 1e-10, -448.0, 448.0, False)\n"
        "except NotImplementedError as e:\n"
        "    assert 'CPU' in str(e)\n"
        "else:\n"
        "    raise SystemExit('CPU call did not raise')\n"
    )
    run_step([sys.executable, "-c", code])
