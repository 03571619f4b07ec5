"""Exhaustive GPU check that the fast path's division through the group's reciprocal gives the
same 8-bit results as IEEE division.

The fast kernels quantize 16-bit input with r = 1.0f / s once per group and, per element,
q0 = x * r; t = fmaf(q0, s, -x); q = fmaf(-t, r, q0) (`div_by_rcp` in csrc/quant_utils.cuh,
Markstein's correction step) instead of x / s. The kernels rely on this check, not on the
theorem (which does not make q the correctly rounded fp32 quotient for every bf16 pair):

for fp16 and bf16 input, every positive finite 16-bit absmax that `rcp_domain` admits (then
s depends on absmax and qmax only, whatever eps is), both scale modes (s = absmax / qmax and its
UE8M0 power of two), every (format, qmin, qmax) that the host admits (`rcp_bounds_checked`:
e4m3fn +-448, e4m3fnuz +-240 and +-224, int8 -128/127), and every 16-bit x with |x| <= absmax
(both signs, -0 included), the kernels' own helpers quantize_lane_rcp and quantize_lane must give
the same output bytes. About 2^30 (x, absmax) pairs per dtype and configuration, 8
configurations per dtype. fp32 quotient-bit differences are counted and printed for information.

The check compiles a small CUDA program that includes the project's headers (so the kernels'
exact device code runs) with nvcc, or hipcc on ROCm (not yet run there), and calls it via ctypes.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import torch

HERE = Path(__file__).resolve().parent
CSRC = HERE.parent.parent / "csrc_example" / "csrc"

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA or ROCm GPU"),
]

N_CONFIGS = 8  # qmax in (448, 240, 224, 127) x ue8m0 in (False, True)
N_COUNTERS = 4  # pairs, quotient-bit mismatches, quotient mismatches with |q| >= 2^-126, byte mismatches

_SOURCE = r"""
#include "quant_utils.cuh"

#if defined(USE_ROCM)
#define gpuMalloc hipMalloc
#define gpuMemset hipMemset
#define gpuMemcpy hipMemcpy
#define gpuMemcpyDeviceToHost hipMemcpyDeviceToHost
#define gpuDeviceSynchronize hipDeviceSynchronize
#define gpuGetLastError hipGetLastError
#define gpuFree hipFree
#define gpuSuccess hipSuccess
#else
#define gpuMalloc cudaMalloc
#define gpuMemset cudaMemset
#define gpuMemcpy cudaMemcpy
#define gpuMemcpyDeviceToHost cudaMemcpyDeviceToHost
#define gpuDeviceSynchronize cudaDeviceSynchronize
#define gpuGetLastError cudaGetLastError
#define gpuFree cudaFree
#define gpuSuccess cudaSuccess
#endif

using namespace ptgq;

constexpr int kConfigs = 8;
constexpr int kCounters = 4;

template <typename Out>
__device__ void check_one(float x, float s, float qmin, float qmax, int cfg,
                          unsigned long long (&local)[kConfigs][kCounters],
                          unsigned int* first, unsigned a_bits, unsigned x_bits) {
  const float r = 1.0f / s;
  const float qd = x / s;
  const float qr = div_by_rcp(x, s, r);
  if (float_bits(qd) != float_bits(qr)) {
    local[cfg][1] += 1;
    if (fabsf(qd) >= 0x1p-126f || fabsf(qr) >= 0x1p-126f) local[cfg][2] += 1;
  }
  // The kernels' helpers on {x, -x, x, -x}: one output word each way.
  const float v[4] = {x, -x, x, -x};
  uint32_t wd[1], wr[1];
  quantize_lane<Out, 4>(v, s, qmin, qmax, wd);
  quantize_lane_rcp<Out, 4>(v, s, qmin, qmax, wr);
  if (wd[0] != wr[0]) {
    local[cfg][3] += 1;
    if (atomicCAS(first + 4 * cfg, 0u, 1u) == 0u) {
      first[4 * cfg + 1] = a_bits;
      first[4 * cfg + 2] = x_bits;
      first[4 * cfg + 3] = wd[0] ^ wr[0];
    }
  }
}

// blockIdx.y: absmax bits (a_lo + y); threads: x magnitude bits m <= absmax bits (both signs).
template <typename In>
__global__ void __launch_bounds__(256)
    exhaustive_kernel(unsigned a_lo, unsigned long long* counters, unsigned int* first) {
  const unsigned a_bits = a_lo + blockIdx.y;
  const unsigned m = blockIdx.x * blockDim.x + threadIdx.x;
  const float amax = In::to_float(static_cast<uint16_t>(a_bits));
  const bool valid = m <= a_bits && rcp_domain(amax, 0.0f);
  unsigned long long local[kConfigs][kCounters] = {};
  if (valid) {
    const float qmaxes[4] = {448.0f, 240.0f, 224.0f, 127.0f};
#pragma unroll
    for (int qi = 0; qi < 4; ++qi) {
#pragma unroll
      for (int ue = 0; ue < 2; ++ue) {
        const int cfg = qi * 2 + ue;
        const float qmax = qmaxes[qi];
        const float s = group_scale(amax, 0.0f, qmax, ue != 0);
#pragma unroll
        for (int sign = 0; sign < 2; ++sign) {
          const unsigned x_bits = m | (sign ? 0x8000u : 0u);
          const float x = In::to_float(static_cast<uint16_t>(x_bits));
          if (qi == 0) {
            check_one<OutE4M3FN>(x, s, -qmax, qmax, cfg, local, first, a_bits, x_bits);
          } else if (qi == 3) {
            check_one<OutInt8>(x, s, -128.0f, qmax, cfg, local, first, a_bits, x_bits);
          } else {
            check_one<OutE4M3FNUZ>(x, s, -qmax, qmax, cfg, local, first, a_bits, x_bits);
          }
          local[cfg][0] += 1;
        }
      }
    }
  }
#pragma unroll
  for (int c = 0; c < kConfigs; ++c) {
#pragma unroll
    for (int k = 0; k < kCounters; ++k) {
      // Pair counts are uniform over most warps; mismatches are rare: add only what is nonzero.
      if (local[c][k] != 0) atomicAdd(counters + c * kCounters + k, local[c][k]);
    }
  }
}

extern "C" int run_exhaustive(int bf16, unsigned long long* host_counters, unsigned int* host_first) {
  unsigned long long* counters = nullptr;
  unsigned int* first = nullptr;
  if (gpuMalloc(&counters, sizeof(unsigned long long) * kConfigs * kCounters) != gpuSuccess) return 1;
  if (gpuMalloc(&first, sizeof(unsigned int) * kConfigs * 4) != gpuSuccess) return 2;
  gpuMemset(counters, 0, sizeof(unsigned long long) * kConfigs * kCounters);
  gpuMemset(first, 0, sizeof(unsigned int) * kConfigs * 4);
  // Positive finite 16-bit magnitudes: bf16 0x0001..0x7f7f, fp16 0x0001..0x7bff.
  const unsigned a_hi = bf16 ? 0x7f7fu : 0x7bffu;
  const unsigned a_lo = 1u;
  const dim3 grid((a_hi + 1 + 255) / 256, a_hi - a_lo + 1);
  if (bf16) {
    exhaustive_kernel<InBF16><<<grid, 256>>>(a_lo, counters, first);
  } else {
    exhaustive_kernel<InF16><<<grid, 256>>>(a_lo, counters, first);
  }
  if (gpuGetLastError() != gpuSuccess) return 3;
  if (gpuDeviceSynchronize() != gpuSuccess) return 4;
  gpuMemcpy(host_counters, counters, sizeof(unsigned long long) * kConfigs * kCounters,
            gpuMemcpyDeviceToHost);
  gpuMemcpy(host_first, first, sizeof(unsigned int) * kConfigs * 4, gpuMemcpyDeviceToHost);
  gpuFree(counters);
  gpuFree(first);
  return 0;
}
"""


def _compiler_command(src: Path, lib: Path) -> list[str]:
    if torch.version.hip:
        hipcc = shutil.which("hipcc")
        if hipcc is None:
            pytest.skip("needs hipcc")
        arch = torch.cuda.get_device_properties(0).gcnArchName.split(":")[0]
        return [
            hipcc,
            "-O3",
            "-std=c++17",
            "-DUSE_ROCM",
            f"--offload-arch={arch}",
            "-fPIC",
            "-shared",
            f"-I{CSRC}",
            "-o",
            str(lib),
            str(src),
        ]
    nvcc = shutil.which("nvcc") or "/usr/local/cuda/bin/nvcc"
    if not Path(nvcc).exists():
        pytest.skip("needs nvcc")
    major, minor = torch.cuda.get_device_capability()
    arch = f"{major}{minor}"
    return [
        nvcc,
        "-O3",
        "-std=c++17",
        f"-gencode=arch=compute_{arch},code=sm_{arch}",
        "-Xcompiler",
        "-fPIC",
        "-shared",
        f"-I{CSRC}",
        "-o",
        str(lib),
        str(src),
    ]


@pytest.fixture(scope="module")
def checker(tmp_path_factory: pytest.TempPathFactory) -> ctypes.CDLL:
    build = tmp_path_factory.mktemp("division-exhaustive")
    src = build / "check.cu"
    src.write_text(_SOURCE)
    lib = build / "libcheck.so"
    subprocess.run(_compiler_command(src, lib), check=True)
    dll = ctypes.CDLL(str(lib))
    dll.run_exhaustive.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_ulonglong), ctypes.POINTER(ctypes.c_uint)]
    dll.run_exhaustive.restype = ctypes.c_int
    return dll


def _expected_pairs(bf16: bool) -> int:
    """(x, absmax) pairs per configuration: both signs of every magnitude <= absmax, for every
    positive finite absmax >= kRcpMinAbsmax = 2^-100."""
    dtype = torch.bfloat16 if bf16 else torch.float16
    hi = 0x7F7F if bf16 else 0x7BFF
    bits = torch.arange(1, hi + 1, dtype=torch.int32).to(torch.int16)
    amax = bits.view(dtype).float()
    admitted = amax >= 2.0**-100
    return int(((bits.int() + 1) * 2)[admitted].sum())


@pytest.mark.parametrize("bf16", [True, False], ids=["bf16", "fp16"])
def test_reciprocal_division_is_exact(checker: ctypes.CDLL, bf16: bool) -> None:
    counters = (ctypes.c_ulonglong * (N_CONFIGS * N_COUNTERS))()
    first = (ctypes.c_uint * (N_CONFIGS * 4))()
    rc = checker.run_exhaustive(1 if bf16 else 0, counters, first)
    assert rc == 0, f"GPU check failed to run (code {rc})"
    expected = _expected_pairs(bf16)
    qmaxes = [448.0, 240.0, 224.0, 127.0]
    lines = []
    total = 0
    for cfg in range(N_CONFIGS):
        pairs, quot, quot_normal, byte = (counters[cfg * N_COUNTERS + k] for k in range(N_COUNTERS))
        total += pairs
        qmax, ue8m0 = qmaxes[cfg // 2], bool(cfg % 2)
        lines.append(
            f"qmax={qmax:g} ue8m0={ue8m0}: pairs={pairs} quotient-bit mismatches={quot} "
            f"(|q| >= 2^-126: {quot_normal}) 8-bit mismatches={byte}"
            + (f" first: absmax bits {first[cfg * 4 + 1]:#06x} x bits {first[cfg * 4 + 2]:#06x}" if byte else "")
        )
    report = "\n".join(lines)
    print(f"{'bf16' if bf16 else 'fp16'}: {total} (x, absmax) pairs in all\n{report}")
    out = os.environ.get("PTGQ_TEST_SUMMARY")
    if out:
        with open(Path(out).with_name("division_exhaustive.txt"), "a", encoding="utf-8") as fh:
            fh.write(f"{'bf16' if bf16 else 'fp16'}: {total} pairs\n{report}\n")
    for cfg in range(N_CONFIGS):
        pairs, quot, quot_normal, byte = (counters[cfg * N_COUNTERS + k] for k in range(N_COUNTERS))
        assert pairs == expected, f"config {cfg}: checked {pairs} pairs, expected {expected}"
        assert byte == 0, report
