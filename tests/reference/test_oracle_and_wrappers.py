"""CPU checks: the oracle on hand-computed values, the software fp8 conversion (the path gfx90a
and CUDA-fnuz use) against PyTorch's, and the wrappers' argument validation."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import torch
from ptg_quant import per_token_group_quant_fp8, per_token_group_quant_int8, quant_bounds
from ptg_quant.reference import pack_ue8m0_reference, per_token_group_quant_reference

REPO = Path(__file__).resolve().parents[2]


def _ref(x: torch.Tensor, dtype: torch.dtype, ue8m0: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    qmin, qmax = quant_bounds(dtype)
    return per_token_group_quant_reference(x, x.shape[-1], dtype, qmin=qmin, qmax=qmax, scale_ue8m0=ue8m0)


def test_ties_round_to_even() -> None:
    x = torch.tensor([[448.0, 304.0, -304.0, 3.5 * 2**-9, -3.5 * 2**-9, 1.0, 0.0, 2.0]])
    q, s = _ref(x, torch.float8_e4m3fn)
    assert s.item() == 1.0
    assert q.float().tolist()[0][:5] == [448.0, 320.0, -320.0, 4 * 2**-9, -4 * 2**-9]
    xi = torch.tensor([[127.0, 0.5, 1.5, 2.5, -0.5, -1.5, 126.5, -2.5]])
    qi, si = _ref(xi, torch.int8)
    assert si.item() == 1.0
    assert qi.tolist()[0] == [127, 0, 2, 2, 0, -2, 126, -2]  # half to even (vLLM truncates)


def test_ue8m0_scales() -> None:
    q, s = _ref(torch.full((1, 8), 672.0), torch.float8_e4m3fn, ue8m0=True)
    assert s.item() == 2.0 and q.float()[0, 0].item() == 320.0
    _, s0 = _ref(torch.zeros(1, 8), torch.float8_e4m3fn, ue8m0=True)
    assert s0.item() == 2.0**-33
    _, s1 = _ref(torch.zeros(1, 8), torch.float8_e4m3fn)
    eps_over_qmax = torch.tensor(1e-10, dtype=torch.float32) / torch.tensor(448.0)
    assert s1.item() == eps_over_qmax.item()


def test_packed_reference_layout() -> None:
    s = torch.tensor([[1.0, 2.0, 4.0, 8.0, 16.0]] * 5)
    storage, stride = pack_ue8m0_reference(s)
    assert stride == 8 and storage.numel() == 5 + 8
    assert storage[0].item() == int.from_bytes(bytes([127, 128, 129, 130]), "little", signed=True)
    assert storage[5:8].tolist() == [0, 0, 0]  # padding rows M..S-1 of word 0
    assert storage[8].item() == 131  # word 1: group 4 only, padding slots zero


def test_software_fp8_matches_torch(tmp_path: Path) -> None:
    """portability.cuh's software e4m3fn/e4m3fnuz conversion, compiled as host C++."""
    cxx = shutil.which("g++") or shutil.which("c++") or shutil.which("clang++-19")
    if cxx is None:
        pytest.skip("needs a C++ compiler")
    src = tmp_path / "sw.cpp"
    src.write_text(
        '#include "portability.cuh"\n#include <cstdio>\n#include <vector>\n'
        "int main(){ std::vector<float> v; float f; while (fread(&f, 4, 1, stdin) == 1) v.push_back(f);\n"
        "  for (float x : v) {\n"
        "    unsigned char a = ptgq::e4m3_from_float_sw<7>(x > 448.f ? 448.f : (x < -448.f ? -448.f : x));\n"
        "    unsigned char b = ptgq::e4m3_from_float_sw<8>(x > 240.f ? 240.f : (x < -240.f ? -240.f : x));\n"
        "    fwrite(&a, 1, 1, stdout); fwrite(&b, 1, 1, stdout); } }\n"
    )
    exe = tmp_path / "sw"
    subprocess.run(
        [cxx, "-std=c++17", "-O2", f"-I{REPO / 'csrc_example' / 'csrc'}", str(src), "-o", str(exe)], check=True
    )
    bf16_all = torch.arange(-(2**15), 2**15, dtype=torch.int32).to(torch.int16).view(torch.bfloat16).float()
    g = torch.Generator().manual_seed(0)
    rand = torch.randn(200_000, generator=g) * torch.exp2(torch.randint(-30, 9, (200_000,), generator=g).float())
    grid = torch.arange(256, dtype=torch.int32).to(torch.uint8)
    mids = []
    for dt in (torch.float8_e4m3fn, torch.float8_e4m3fnuz):
        vals = grid.view(dt).float()
        vals = vals[torch.isfinite(vals)].unique()
        mids.append((vals[:-1] + vals[1:]) / 2)
    x = torch.cat([bf16_all, rand, *mids, -torch.cat(mids)])
    x = x[torch.isfinite(x)]
    raw = bytes(x.contiguous().view(torch.uint8).tolist())  # no numpy: torch does not require it
    out = subprocess.run([str(exe)], input=raw, capture_output=True, check=True).stdout
    got = torch.frombuffer(bytearray(out), dtype=torch.uint8).view(-1, 2)
    fn = x.clamp(-448, 448).to(torch.float8_e4m3fn).view(torch.uint8)
    fnuz = x.clamp(-240, 240).to(torch.float8_e4m3fnuz).view(torch.uint8)
    assert torch.equal(got[:, 0], fn), int((got[:, 0] != fn).sum())
    assert torch.equal(got[:, 1], fnuz), int((got[:, 1] != fnuz).sum())


_FASTDIV_CHECK = r"""
#include "portability.cuh"
#include <cstdio>
#include <vector>
int main() {
  std::vector<uint32_t> divisors;
  for (uint32_t d = 1; d < 4096; ++d) divisors.push_back(d);
  for (int b = 12; b < 31; ++b) {
    for (int64_t e = -3; e <= 3; ++e) divisors.push_back(uint32_t((int64_t{1} << b) + e));
  }
  divisors.push_back(0x7fffffffu);
  divisors.push_back(3000009u);
  unsigned long long checked = 0, bad = 0;
  for (uint32_t d : divisors) {
    const ptgq::FastDiv f = ptgq::FastDiv::make(d);
    auto check = [&](uint64_t n) {
      if (n >= 0x80000000ull) return;
      ++checked;
      if (f.div(uint32_t(n)) != uint32_t(n) / d && bad++ < 5) printf("bad %u %llu\n", d, (unsigned long long)n);
    };
    for (uint64_t n = 0; n < 2048; ++n) check(n);
    for (uint64_t q = 1; q < 0x80000000ull / d + 2; q = q * 3 + 1) {
      check(q * d - 1);
      check(q * d);
      check(q * d + 1);
    }
    for (uint64_t n = 0x7fffffffull - 2048; n < 0x80000000ull; ++n) check(n);
  }
  printf("checked %llu mismatches %llu\n", checked, bad);
  return bad != 0;
}
"""


def test_fast_division_matches_integer_division(tmp_path: Path) -> None:
    """portability.cuh's FastDiv (the kernels' row / word split) against `/`, compiled as host
    C++: every divisor below 4096 and around each power of two up to 2^31, numerators around
    multiples of the divisor and at both ends of the domain [0, 2^31)."""
    cxx = shutil.which("g++") or shutil.which("c++") or shutil.which("clang++-19")
    if cxx is None:
        pytest.skip("needs a C++ compiler")
    src = tmp_path / "fastdiv.cpp"
    src.write_text(_FASTDIV_CHECK)
    exe = tmp_path / "fastdiv"
    subprocess.run(
        [cxx, "-std=c++17", "-O2", f"-I{REPO / 'csrc_example' / 'csrc'}", str(src), "-o", str(exe)], check=True
    )
    proc = subprocess.run([str(exe)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout
    assert int(proc.stdout.split()[1]) > 10_000_000, proc.stdout


def test_wrapper_validation() -> None:
    x = torch.randn(4, 256)
    with pytest.raises(ValueError, match="e5m2"):
        per_token_group_quant_fp8(x, 128, dtype=torch.float8_e5m2)
    with pytest.raises(ValueError, match="multiple of group_size"):
        per_token_group_quant_fp8(x, 100, dtype=torch.float8_e4m3fn)
    with pytest.raises(TypeError, match="float32, float16 or bfloat16"):
        per_token_group_quant_int8(x.to(torch.float64), 128)
    with pytest.raises(ValueError, match="tma_aligned_scales requires"):
        per_token_group_quant_fp8(x, 128, dtype=torch.float8_e4m3fn, tma_aligned_scales=True)
    with pytest.raises(ValueError, match="fnuz_max"):
        quant_bounds(torch.float8_e4m3fnuz, fnuz_max=300.0)
    assert quant_bounds(torch.float8_e4m3fnuz) == (-224.0, 224.0)
    assert quant_bounds(torch.float8_e4m3fnuz, fnuz_max=240.0) == (-240.0, 240.0)
    q, s = per_token_group_quant_fp8(torch.empty(0, 256), 128, dtype=torch.float8_e4m3fn)
    assert q.shape == (0, 256) and s.shape == (0, 2)
