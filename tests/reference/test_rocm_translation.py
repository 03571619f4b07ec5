"""ROCm side without an AMD GPU: hipify the CUDA tree, check it, compile it with clang++-19.

Needs clang++-19 (+ clang-offload-bundler from clang-tools-19, llvm-objcopy from llvm-19),
HIP headers (libamdhip64-dev) and ROCm device bitcode (rocm-device-libs); skipped otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from ptgq_hip import GPU_SOURCES, cuda_identifiers, translate

REPO = Path(__file__).resolve().parents[2]
CSRC = REPO / "csrc_example" / "csrc"
CLANG = shutil.which("clang++-19")
CLANG_C = shutil.which("clang-19")
BITCODE = Path(os.environ.get("PTGQ_ROCM_BITCODE", "/usr/lib/x86_64-linux-gnu/amdgcn/bitcode"))
HIP_HEADER = Path("/usr/include/hip/hip_runtime.h")

needs_clang = pytest.mark.skipif(
    CLANG is None or not HIP_HEADER.exists(),
    reason="needs clang++-19 and HIP headers (apt: clang-19 libamdhip64-dev)",
)
HIP_FLAGS = ["-x", "hip", "-std=c++17", "-O3", "-DUSE_ROCM", "-D__HIP_PLATFORM_AMD__=1"]


@pytest.fixture(scope="module")
def hip_tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    out = tmp_path_factory.mktemp("hip") / "csrc"
    hip, how = translate(CSRC, out)
    print(f"translated with {how}")
    return out, hip


def test_scanner_finds_cuda_names() -> None:
    text = "#if defined(USE_ROCM)\nhipFoo();\n#else\ncudaFoo();\n#endif\n__shfl_xor_sync(1);\n"
    assert cuda_identifiers(text) == ["__shfl_xor_sync"]


def test_translated_tree_has_no_cuda_identifiers(hip_tree: tuple[Path, list[Path]]) -> None:
    out, hip = hip_tree
    assert all(p.exists() for p in hip)
    leftovers = {}
    for path in sorted(out.iterdir()):
        if path.suffix in (".hip", ".cuh", ".h", ".hpp", ".cpp"):
            names = cuda_identifiers(path.read_text(encoding="utf-8"))
            if names:
                leftovers[path.name] = names
    assert not leftovers, f"CUDA identifiers in ROCm-taken code: {leftovers}"


@needs_clang
@pytest.mark.skipif(not (BITCODE / "ocml.bc").exists(), reason="needs rocm-device-libs")
def test_gfx90a_full_object_uses_software_fp8(hip_tree: tuple[Path, list[Path]], tmp_path: Path) -> None:
    out, hip = hip_tree
    for src in hip:
        obj = tmp_path / (src.stem + ".o")
        subprocess.run(
            [
                CLANG,
                *HIP_FLAGS,
                "--offload-arch=gfx90a",
                f"--rocm-device-lib-path={BITCODE}",
                f"-I{out}",
                "-c",
                str(src),
                "-o",
                str(obj),
            ],
            check=True,
        )
        assert b"gfx90a" in obj.read_bytes()
        asm = tmp_path / (src.stem + ".s")
        subprocess.run(
            [
                CLANG,
                *HIP_FLAGS,
                "--offload-arch=gfx90a",
                "-nogpulib",
                "--offload-device-only",
                "-S",
                f"-I{out}",
                str(src),
                "-o",
                str(asm),
            ],
            check=True,
        )
        text = asm.read_text()
        assert "v_cvt_pk_fp8_f32" not in text  # gfx90a has no fp8 instructions
        assert "v_div_fixup_f32" in text  # IEEE division, no fast-math


def _bitcode_with_gfx942(tmp: Path) -> Path | None:
    """Debian's bitcode lacks oclc_isa_version_942.bc: add it (one constant) in a copy."""
    if (BITCODE / "oclc_isa_version_942.bc").exists():
        return BITCODE
    if CLANG_C is None or not (BITCODE / "ocml.bc").exists():
        return None
    dst = tmp / "bitcode"
    shutil.copytree(BITCODE, dst)
    ll = tmp / "isa942.ll"
    ll.write_text(
        'target triple = "amdgcn-amd-amdhsa"\n'
        "@__oclc_ISA_version = linkonce_odr hidden local_unnamed_addr addrspace(4) "
        "constant i32 9402, align 4\n"
    )
    subprocess.run(
        [
            CLANG_C,
            "-c",
            "-emit-llvm",
            "-nogpulib",
            "--target=amdgcn-amd-amdhsa",
            str(ll),
            "-o",
            str(dst / "oclc_isa_version_942.bc"),
        ],
        check=True,
    )
    return dst


@needs_clang
def test_gfx942_uses_hardware_fnuz_conversion(hip_tree: tuple[Path, list[Path]], tmp_path: Path) -> None:
    out, hip = hip_tree
    for src in hip:
        asm = tmp_path / (src.stem + ".s")
        subprocess.run(
            [
                CLANG,
                *HIP_FLAGS,
                "--offload-arch=gfx942",
                "-nogpulib",
                "--offload-device-only",
                "-S",
                f"-I{out}",
                str(src),
                "-o",
                str(asm),
            ],
            check=True,
        )
        assert "v_cvt_pk_fp8_f32" in asm.read_text()
    bitcode = _bitcode_with_gfx942(tmp_path)
    if bitcode is None:
        pytest.skip("no ROCm device bitcode for a full gfx942 object")
    obj = tmp_path / "quant942.o"
    subprocess.run(
        [
            CLANG,
            *HIP_FLAGS,
            "--offload-arch=gfx942",
            f"--rocm-device-lib-path={bitcode}",
            f"-I{out}",
            "-c",
            str(hip[0]),
            "-o",
            str(obj),
        ],
        check=True,
    )
    assert b"gfx942" in obj.read_bytes()


@needs_clang
def test_host_sources_compile_for_rocm(hip_tree: tuple[Path, list[Path]], tmp_path: Path) -> None:
    """Bindings and stream lookup (stable ABI only) compile as ROCm host code."""
    import importlib.util

    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("torch not installed")
    inc = Path(next(iter(spec.submodule_search_locations))) / "include"
    out, _ = hip_tree
    for name in ("torch_bindings.cpp", "current_stream.cpp"):
        subprocess.run(
            [
                CLANG,
                "-std=c++17",
                "-O1",
                "-fPIC",
                "-DUSE_ROCM",
                "-DTORCH_TARGET_VERSION=0x020b000000000000",
                f"-I{out}",
                f"-I{inc}",
                "-c",
                str(out / name),
                "-o",
                str(tmp_path / (name + ".o")),
            ],
            check=True,
        )


def test_gpu_sources_listed_exist() -> None:
    assert all((CSRC / s).exists() for s in GPU_SOURCES)
