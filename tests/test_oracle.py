"""Oracle: our outputs equal PyTorch's ``hipify()`` (run in a fresh subprocess) byte for byte.

Fixture trees avoid the cases where we deliberately differ (see hipify_tool/translate.py); those have
their own tests in test_defects.py. The CCCL sample contains ``#  include`` directives, which we
rewrite and PyTorch does not: only the include path inside such a directive may differ there.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import FIXTURES, canonicalise_includes, compare_with_pytorch, pytorch_hipify, read_tree, write_tree

import hipify_tool

CASES = {
    # name: (fixture dir, sources relative to it, include dirs relative to it)
    "basic": (
        "basic",
        ["src/saxpy.cu", "src/math_only.cu", "src/unchanged.cu", "src/host.cpp", "src/magic.cu"],
        ["include"],
    ),
    "nested": ("nested", ["ops/cuda/reduce.cu", "ops/cuda/kernelsCUDA.cu", "a/user.cu"], ["include"]),
    "vllm_like": ("vllm_like/csrc", ["a.cu", "b/c.cu"], ["."]),
}


def _ours_files(result: hipify_tool.RunResult) -> dict[str, str]:
    return {f.output: f.source for f in result.plan.files.values()}


@pytest.mark.parametrize("mode", ["sources", "tree"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_fixture_matches_pytorch(case: str, mode: str, tmp_path: Path) -> None:
    fixture, sources, include_dirs = CASES[case]
    project = tmp_path / "proj"
    shutil.copytree(FIXTURES / fixture, project)
    given = sources if mode == "sources" else None
    result = hipify_tool.run(
        project,
        tmp_path / "ours",
        [project / s for s in given] if given else [],
        include_dirs=[project / d for d in include_dirs],
    )
    assert result.warnings == ()
    pt = pytorch_hipify(project, tmp_path / "pt", sources=given, header_include_dirs=include_dirs)
    assert pt.returncode == 0, pt.stderr
    files = _ours_files(result)
    assert compare_with_pytorch(tmp_path / "ours", tmp_path / "pt", files, project) == []
    # The comparison is not vacuous: most outputs are renamed, translated files.
    renamed = [out for out, src in files.items() if out != src]
    assert len(renamed) >= len(sources)
    if given:
        assert [f.source for f in result.plan.files.values() if f.source in given]


def test_fixture_outputs_are_translated(tmp_path: Path) -> None:
    """Spot checks that the fixtures exercise what the oracle is meant to cover."""
    project = tmp_path / "proj"
    shutil.copytree(FIXTURES / "basic", project)
    hipify_tool.run(
        project,
        tmp_path / "out",
        [project / "src/saxpy.cu", project / "src/math_only.cu"],
        include_dirs=[project / "include"],
    )
    out = read_tree(tmp_path / "out")
    saxpy = out["src/saxpy.hip"].decode()
    assert "hipLaunchKernelGGL(( saxpy), dim3((n + threads - 1) / threads), dim3(threads), 0, stream, " in saxpy
    assert "hipLaunchKernelGGL(( fill<float, 4>), dim3(1), dim3(32), 0, 0, y, 1.0f)" in saxpy
    assert '#include "mylib/util_hip.cuh"' in saxpy  # header via an include dir, renamed
    assert '#include "../common/checks_hip.h"' in saxpy
    assert "::max(value" in saxpy and "std::max" not in saxpy
    assert "::min(::max(v, lo), hi)" in out["src/math_only.hip"].decode()
    assert out["include/mylib/plain.h"] == (project / "include/mylib/plain.h").read_bytes()  # unchanged: kept


def test_cccl_whole_tree_matches_pytorch(cccl_project: Path, cccl_pytorch: Path, tmp_path: Path) -> None:
    result = hipify_tool.run(cccl_project, tmp_path / "ours", include_dirs=[cccl_project], jobs=2)
    files = _ours_files(result)
    assert len(files) > 200
    assert any(out.startswith("thrust/system/hip/") for out in files)
    problems = compare_with_pytorch(
        tmp_path / "ours", cccl_pytorch, files, cccl_project, allow_noncanonical_includes=True
    )
    assert problems == []


def test_cccl_sources_mode_matches_pytorch(cccl_project: Path, tmp_path: Path) -> None:
    """Extra-files mode on a deterministic subset: only the sources and the headers they reach.

    Include directives are first spelled the one way PyTorch recognises, so that both tools reach the
    same headers and the comparison needs no allowance at all.
    """
    project = tmp_path / "proj"
    shutil.copytree(cccl_project, project)
    canonicalise_includes(project)
    cccl_project = project
    device = cccl_project / "cub" / "device"
    candidates = sorted(p.relative_to(cccl_project).as_posix() for p in device.rglob("*.cuh"))
    sources = candidates[::6]
    assert len(sources) >= 5
    result = hipify_tool.run(
        cccl_project, tmp_path / "ours", [cccl_project / s for s in sources], include_dirs=[cccl_project], jobs=2
    )
    assert [str(p) for p in result.outputs] == [str(tmp_path / "ours" / result.plan.files[s].output) for s in sources]
    pt = pytorch_hipify(cccl_project, tmp_path / "pt", sources=sources, header_include_dirs=["."])
    assert pt.returncode == 0, pt.stderr
    files = _ours_files(result)
    assert len(files) > len(sources)
    assert compare_with_pytorch(tmp_path / "ours", tmp_path / "pt", files, cccl_project) == []


INLINE_TREE = {
    "comment_shift.cu": '// shift: a <<< b\n#include "other.cu"\nint x = 1;\ncudaStream_t s;\n',
    "other.cu": "__global__ void o() {}\n",
    "string_shift.cu": 'const char* s = "<<<";\ncudaStream_t t;\n',
    "marker.cu": "// <<<<<<< HEAD\n__global__ void k() {}\nvoid f() { k<<<1, 1>>>(); }\n",
    "continuation.cu": "void f() {\n  detail::  \\\n   k<<<1,1>>>();\n}\n",
    "config.h.in": "#define X 1\ncudaError_t e;\n",
    "normalise.cu": '#include "sub/../sub/h.h"\n#include "./sub/h.h"\nint z;\n',
    "sub/h.h": "int h;\n",
    "syncthreads.cpp": "void f() { __syncthreads(); }\n",
    "extern_shared.cu": "__global__ void k() { extern __shared__ float buf[]; buf[0] = std::exp(1.f); }\n",
    "ggl_twice.cu": "__global__ void k(int);\n"
    "void f() { k<<<1, 2>>>(3); k<<<1, 2>>>(3); k<<<dim3(1, 1), 2, 0>>>(4); }\n",
}


def test_small_cases_match_pytorch(tmp_path: Path) -> None:
    """Launch-looking text in comments and strings, continuation lines, '.in' files, './' includes."""
    project = write_tree(tmp_path / "proj", INLINE_TREE)
    sources = sorted(k for k in INLINE_TREE if not k.startswith(("sub/", "other")))
    result = hipify_tool.run(project, tmp_path / "ours", [project / s for s in sources])
    pt = pytorch_hipify(project, tmp_path / "pt", sources=sources)
    assert pt.returncode == 0, pt.stderr
    files = _ours_files(result)
    assert {"other.hip", "config.h_hip.in", "sub/h.h"} <= set(files)
    assert compare_with_pytorch(tmp_path / "ours", tmp_path / "pt", files, project) == []


def test_chevron_mode_matches_pytorch_hip_clang_launch(tmp_path: Path) -> None:
    """``--launch-syntax chevron`` is PyTorch's ``hip_clang_launch=True``."""
    fixture, sources, include_dirs = CASES["basic"]
    project = tmp_path / "proj"
    shutil.copytree(FIXTURES / fixture, project)
    result = hipify_tool.run(
        project,
        tmp_path / "ours",
        [project / s for s in sources],
        include_dirs=[project / d for d in include_dirs],
        launch_syntax="chevron",
    )
    pt = pytorch_hipify(
        project, tmp_path / "pt", sources=sources, header_include_dirs=include_dirs, extra={"hip_clang_launch": True}
    )
    assert pt.returncode == 0, pt.stderr
    assert compare_with_pytorch(tmp_path / "ours", tmp_path / "pt", _ours_files(result), project) == []
    assert b"saxpy<<<" in (tmp_path / "ours" / "src/saxpy.hip").read_bytes()
