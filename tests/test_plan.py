"""The plan: output naming (PyTorch's), plan == run, and that planning writes nothing."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import FIXTURES, read_tree, snapshot, subprocess_env, write_tree

import hipify_tool
from hipify_tool.errors import UsageError
from hipify_tool.naming import hip_path

TRICKY_PATHS = [
    "k.cu",
    "k.cuh",
    "k.h",
    "k.cpp",
    "fooCUDA.cu",
    "fooCUDA.cuh",
    "CUDAUtils.h",
    "cuda/x.cu",
    "cuda/x.cuh",
    "cuda/x.h",
    "a/cuda_b/y.cuh",
    "a/cuda_b/y.cu",
    "ops/cuda/kernel_cuda.cu",
    "my-cuda-kernels/k.cu",
    "k_cuda.cu",
    "k_hip.cu",
    "k_hip.cuh",
    "cuda.cu",
    "THC/THCGeneral.h",
    "THCUNN/foo.cu",
    "lib/THCTensor.cu",
    "caffe2/core/THCCachingAllocator.cu",
    "caffe2/core/context_gpu.cu",
    "caffe2/core/cuda_helpers.h",
    "caffe2/core/THCfoo.h",
    "ATen/native/cuda/Loops.cuh",
    "dir.cu/k.cu",
    "x/y/z.c",
    "x/CMakeLists.txt",
    "noext",
    "a.b.cu",
    ".hidden.cu",
    "CUDA/Foo.cc",
    "x.cu.in",
]


def test_hip_path_matches_pytorch(tmp_path: Path) -> None:
    code = (
        "import json, sys\n"
        "from torch.utils.hipify.hipify_python import get_hip_file_path\n"
        "print(json.dumps([get_hip_file_path(p, is_pytorch_extension=True) for p in json.loads(sys.argv[1])]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, json.dumps(TRICKY_PATHS)],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    theirs = json.loads(proc.stdout.splitlines()[-1])
    ours = [hip_path(p) for p in TRICKY_PATHS]
    assert dict(zip(TRICKY_PATHS, ours, strict=True)) == dict(zip(TRICKY_PATHS, theirs, strict=True))


@pytest.mark.parametrize(
    ("rel", "expected"),
    [
        ("fooCUDA.cu", "fooHIP.hip"),
        ("cuda/x.cu", "hip/x.hip"),
        ("a/cuda_b/y.cuh", "a/hip_b/y.cuh"),
        ("k.cuh", "k_hip.cuh"),
        ("caffe2/core/THCCachingAllocator.cu", "caffe2/core/THCCachingAllocator.hip"),
        ("THC/THCGeneral.h", "THH/THHGeneral.h"),
    ],
)
def test_hip_path_examples(rel: str, expected: str) -> None:
    assert hip_path(rel) == expected


def _plan_and_run(project: Path, out: Path, sources: list[Path], **kw: object) -> tuple[list[Path], list[Path]]:
    before = snapshot(project.parent)
    planned = hipify_tool.plan(project, out, sources, **kw)  # type: ignore[arg-type]
    assert snapshot(project.parent) == before, "plan must write nothing"
    assert not out.exists()
    result = hipify_tool.run(project, out, sources, **kw)  # type: ignore[arg-type]
    on_disk = sorted(out / rel for rel in read_tree(out))
    assert planned.input_outputs() == list(result.outputs)
    return planned.all_outputs(), on_disk


@pytest.mark.parametrize(
    ("fixture", "sources", "include_dirs"),
    [
        ("basic", ["src/saxpy.cu", "src/unchanged.cu", "src/host.cpp"], ["include"]),
        ("nested", ["ops/cuda/reduce.cu", "a/user.cu"], ["include"]),
        ("nested", [], ["include"]),
        ("vllm_like/csrc", ["a.cu", "b/c.cu"], ["."]),
    ],
)
def test_plan_lists_exactly_what_run_writes(
    fixture: str, sources: list[str], include_dirs: list[str], tmp_path: Path
) -> None:
    project = tmp_path / "src" / "proj"
    shutil.copytree(FIXTURES / fixture, project)
    planned, written = _plan_and_run(
        project, tmp_path / "out", [project / s for s in sources], include_dirs=[project / d for d in include_dirs]
    )
    assert planned == written
    assert len(planned) > len(sources)  # headers are planned (and written) too


def test_plan_equals_run_on_cccl(cccl_project: Path, tmp_path: Path) -> None:
    planned = hipify_tool.plan(cccl_project, tmp_path / "out", include_dirs=[cccl_project], jobs=2)
    result = hipify_tool.run(cccl_project, tmp_path / "out", include_dirs=[cccl_project], jobs=2)
    written = sorted(tmp_path / "out" / rel for rel in read_tree(tmp_path / "out"))
    assert planned.all_outputs() == written == result.all_outputs
    assert len(written) > 200


def test_plan_via_cli_lists_every_output(tmp_path: Path) -> None:
    from helpers import run_cli

    p = write_tree(
        tmp_path / "p",
        {"k.cu": '#include "h.cuh"\n#include "plain.h"\n', "h.cuh": "cudaStream_t s;\n", "plain.h": "int plain;\n"},
    )
    proc = run_cli("plan", "-p", p, "-o", tmp_path / "o", p / "k.cu")
    assert proc.returncode == 0, proc.stderr
    expected = [str(tmp_path / "o" / n) for n in ("h_hip.cuh", "k.hip", "plain.h")]
    assert proc.stdout.splitlines() == expected
    assert not (tmp_path / "o").exists()
    run = run_cli("run", "-p", p, "-o", tmp_path / "o", p / "k.cu")
    assert run.returncode == 0, run.stderr
    assert sorted(str(tmp_path / "o" / r) for r in read_tree(tmp_path / "o")) == expected


def test_plan_usage_errors(tmp_path: Path) -> None:
    p = write_tree(tmp_path / "p", {"k.cu": "int k;\n"})
    with pytest.raises(UsageError):
        hipify_tool.plan(tmp_path / "missing", tmp_path / "o", [])
    with pytest.raises(UsageError):
        hipify_tool.plan(p, tmp_path / "o", [p / "nope.cu"])
    with pytest.raises(UsageError):
        hipify_tool.plan(p, p, [p / "k.cu"])  # output dir == project dir
    with pytest.raises(UsageError):
        hipify_tool.plan(p, tmp_path / "o", [p / "k.cu"], include_dirs=[tmp_path / "nope"])
