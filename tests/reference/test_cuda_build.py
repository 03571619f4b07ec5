"""nvcc builds the CUDA extension (one arch, sm_90a) against the installed (CPU) torch, and the
result loads: op schemas register, and a CPU call is PyTorch's 'no kernel' error, not a crash."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
NVCC = shutil.which("nvcc") or ("/usr/local/cuda/bin/nvcc" if Path("/usr/local/cuda/bin/nvcc").exists() else None)
pytestmark = pytest.mark.skipif(
    NVCC is None or shutil.which("cmake") is None or shutil.which("ninja") is None,
    reason="needs nvcc, cmake and ninja",
)


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    build = tmp_path_factory.mktemp("cuda-build")
    env = dict(os.environ, CUDACXX=NVCC or "")
    subprocess.run(
        [
            "cmake",
            "-S",
            str(REPO / "csrc_example"),
            "-B",
            str(build),
            "-G",
            "Ninja",
            "-DPTGQ_CUDA_ARCHS=90a",
            f"-DPython_EXECUTABLE={sys.executable}",
        ],
        check=True,
        env=env,
    )
    subprocess.run(["cmake", "--build", str(build)], check=True, env=env)
    return build / "_C.so"


def test_schemas_register(library: Path) -> None:
    torch.ops.load_library(str(library))
    schema = str(torch.ops.ptg_quant.per_token_group_quant_8bit.default._schema)
    assert "Tensor(a!) output_q" in schema and "bool scale_ue8m0" in schema
    assert "output_s_packed" in str(torch.ops.ptg_quant.per_token_group_quant_8bit_packed.default._schema)


def test_cpu_call_is_a_clean_error(library: Path) -> None:
    torch.ops.load_library(str(library))
    x = torch.randn(4, 128, dtype=torch.bfloat16)
    q = torch.empty(4, 128, dtype=torch.float8_e4m3fn)
    s = torch.empty(4, 1)
    with pytest.raises(NotImplementedError, match="CPU"):
        torch.ops.ptg_quant.per_token_group_quant_8bit(x, q, s, 128, 1e-10, -448.0, 448.0, False)


def test_binary_targets_torch_2_11(library: Path) -> None:
    """Built with TORCH_TARGET_VERSION=2.11: no symbol that only newer torch exports is linked."""
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("needs nm")
    undefined = subprocess.run(
        [nm, "-D", "--undefined-only", str(library)], capture_output=True, text=True, check=True
    ).stdout
    assert "torch_stream_native_handle" not in undefined  # looked up at run time instead
    assert "aoti_torch_get_current_cuda_stream" not in undefined  # lives in libtorch_cuda
