"""The spec's test matrix on a GPU, bit for bit against the CPU oracle.

Axes: input dtype x output dtype x G (one test each), and inside each test every K (dividing
by G), M, scale layout (row-major, column-major S=M, S=ceil(M/4)*4, packed UE8M0), ue8m0 off/on
and alignment (aligned, input and output_q offset by one element). The oracle runs once per
(K, ue8m0) on 4097 rows; smaller M are its row prefixes. Outputs are poisoned first.

PTGQ_TEST_TIER=reduced runs a subset in a few minutes; the default is the full matrix.
PTGQ_TEST_SUMMARY=<file> appends one JSON line per test (cases, mismatches).
"""

from __future__ import annotations

import json
import os

import pytest
import torch
from ptgq_testdata import QMAX, QMIN, make_input

ptg_quant = pytest.importorskip("ptg_quant")
from ptg_quant import reference  # noqa: E402

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA or ROCm GPU"),
]

REDUCED = os.environ.get("PTGQ_TEST_TIER", "full") == "reduced"
IN_DTYPES = [torch.bfloat16, torch.float16, torch.float32]
OUT_DTYPES = [torch.float8_e4m3fn, torch.float8_e4m3fnuz, torch.int8]
GROUPS = [64, 128] if REDUCED else [64, 128, 32, 256]
M_LIST = (
    [0, 1, 3, 4, 5, 33, 64, 333, 4097]
    if REDUCED
    else [0, 1, 2, 3, 4, 5, 31, 32, 33, 63, 64, 127, 128, 253, 333, 1024, 4097]
)
K_LIST = [128, 640, 2048, 7168] if REDUCED else [128, 256, 384, 512, 640, 768, 1536, 2048, 4096, 7168, 14336]
LAYOUTS = ["row", "col", "tma"]


def _poisoned_q(
    m: int, k: int, dtype: torch.dtype, offset: int, dev: torch.device, rows: int | None = None
) -> torch.Tensor:
    rows = m if rows is None else rows
    buf = torch.empty(rows * k + offset, dtype=dtype, device=dev)
    buf.view(torch.uint8).fill_(0x7F)
    return buf[offset:].view(rows, k)


def _scales(m: int, groups: int, layout: str, dev: torch.device) -> torch.Tensor:
    s = ptg_quant.quant.allocate_scales(m, groups, dev, column_major=layout != "row", tma_aligned=layout == "tma")
    s.fill_(float("nan"))
    return s


def _offset_copy(x: torch.Tensor, offset: int) -> torch.Tensor:
    if offset == 0:
        return x
    buf = torch.empty(x.numel() + offset, dtype=x.dtype, device=x.device)
    out = buf[offset:].view(x.shape)
    out.copy_(x)
    return out


def _record(summary: dict) -> None:
    path = os.environ.get("PTGQ_TEST_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(summary) + "\n")


@pytest.mark.parametrize("group_size", GROUPS)
@pytest.mark.parametrize("out_dtype", OUT_DTYPES, ids=lambda d: str(d).split(".")[-1])
@pytest.mark.parametrize("in_dtype", IN_DTYPES, ids=lambda d: str(d).split(".")[-1])
def test_matrix_bit_exact(in_dtype: torch.dtype, out_dtype: torch.dtype, group_size: int) -> None:
    if not ptg_quant.ops_available():
        pytest.skip("compiled ops not built")
    if REDUCED and group_size in (32, 256) and in_dtype != torch.bfloat16:
        pytest.skip("reduced tier: extended G only for bf16")
    dev = torch.device("cuda")
    op = torch.ops.ptg_quant.per_token_group_quant_8bit
    op_packed = torch.ops.ptg_quant.per_token_group_quant_8bit_packed
    qmin, qmax = QMIN[out_dtype], QMAX[out_dtype]
    m_max = max(M_LIST)
    cases = 0
    failures: list[str] = []
    for k in K_LIST:
        if k % group_size:
            continue
        groups = k // group_size
        x_cpu = make_input(m_max, k, group_size, in_dtype, out_dtype, seed=k + group_size)
        x_gpu = x_cpu.to(dev)
        for ue8m0 in (False, True):
            q_ref, s_ref = reference.per_token_group_quant_reference(
                x_cpu, group_size, out_dtype, qmin=qmin, qmax=qmax, scale_ue8m0=ue8m0
            )
            q_ref_b = q_ref.view(torch.uint8).to(dev)
            s_ref_b = s_ref.view(torch.int32).to(dev)
            for m in M_LIST:
                x = x_gpu[:m]
                for offset in (0, 1):
                    xin = _offset_copy(x, offset)
                    for layout in LAYOUTS:
                        q = _poisoned_q(m, k, out_dtype, offset, dev)
                        s = _scales(m, groups, layout, dev)
                        op(xin, q, s, group_size, 1e-10, qmin, qmax, ue8m0)
                        cases += 1
                        ok_q = torch.equal(q.view(torch.uint8), q_ref_b[:m])
                        ok_s = torch.equal(s.view(torch.int32), s_ref_b[:m])
                        if not (ok_q and ok_s):
                            failures.append(
                                f"K={k} M={m} layout={layout} ue8m0={ue8m0} offset={offset} q_ok={ok_q} s_ok={ok_s}"
                            )
                packed_ok = ue8m0 and group_size == 128 and in_dtype != torch.float32 and m > 0
                if packed_ok:
                    cases += 1
                    stride = (m + 3) // 4 * 4
                    storage_ref, _ = reference.pack_ue8m0_reference(s_ref[:m])
                    words = (groups + 3) // 4
                    storage = torch.full((storage_ref.numel(),), -1, dtype=torch.int32, device=dev)
                    sp = storage.as_strided((m, words), (1, stride))
                    q = _poisoned_q(m, k, out_dtype, 0, dev, rows=stride)
                    op_packed(x, q, sp, 128, 1e-10, qmin, qmax)
                    ok_q = torch.equal(q[:m].view(torch.uint8), q_ref_b[:m])
                    ok_pad = bool((q[m:].view(torch.uint8) == 0).all())
                    ok_s = torch.equal(storage.cpu(), storage_ref)
                    if not (ok_q and ok_pad and ok_s):
                        failures.append(f"packed K={k} M={m} q_ok={ok_q} q_pad_ok={ok_pad} s_ok={ok_s}")
    torch.cuda.synchronize()
    _record(
        {
            "in": str(in_dtype),
            "out": str(out_dtype),
            "G": group_size,
            "tier": "reduced" if REDUCED else "full",
            "cases": cases,
            "mismatches": len(failures),
            "first": failures[:3],
        }
    )
    assert not failures, f"{len(failures)}/{cases} mismatches, first: {failures[:5]}"


@pytest.mark.parametrize("group_size", [1, 3, 48, 100, 384, 1024])
def test_general_path_odd_group_sizes(group_size: int) -> None:
    """Any divisor of K is correct (general kernel), not just the fast G values."""
    if not ptg_quant.ops_available():
        pytest.skip("compiled ops not built")
    dev = torch.device("cuda")
    k = group_size * 6
    for in_dtype in IN_DTYPES:
        x = make_input(37, k, group_size, in_dtype, torch.float8_e4m3fn, seed=group_size)
        for ue8m0 in (False, True):
            q, s = ptg_quant.per_token_group_quant_fp8(
                x.to(dev), group_size, dtype=torch.float8_e4m3fn, scale_ue8m0=ue8m0
            )
            q_ref, s_ref = reference.per_token_group_quant_reference(
                x, group_size, torch.float8_e4m3fn, qmin=-448.0, qmax=448.0, scale_ue8m0=ue8m0
            )
            assert torch.equal(q.cpu().view(torch.uint8), q_ref.view(torch.uint8))
            assert torch.equal(s.cpu().view(torch.int32), s_ref.view(torch.int32))


def test_wrappers_match_oracle() -> None:
    """The Python wrappers (allocation, bounds, layouts, leading dims) agree with the oracle."""
    if not ptg_quant.ops_available():
        pytest.skip("compiled ops not built")
    dev = torch.device("cuda")
    x = make_input(2 * 65, 1024, 128, torch.bfloat16, torch.int8, seed=5).view(2, 65, 1024)
    q, s = ptg_quant.per_token_group_quant_int8(x.to(dev), 128)
    q_ref, s_ref = reference.per_token_group_quant_reference(x, 128, torch.int8, qmin=-128.0, qmax=127.0)
    assert q.shape == x.shape and s.shape == (2, 65, 8)
    assert torch.equal(q.cpu(), q_ref)
    assert torch.equal(s.cpu().reshape(-1, 8).view(torch.int32), s_ref.view(torch.int32))
    for fnuz_max in (224.0, 240.0):
        q, s = ptg_quant.per_token_group_quant_fp8(
            x.to(dev),
            128,
            dtype=torch.float8_e4m3fnuz,
            column_major_scales=True,
            tma_aligned_scales=True,
            fnuz_max=fnuz_max,
        )
        q_ref, s_ref = reference.per_token_group_quant_reference(
            x, 128, torch.float8_e4m3fnuz, qmin=-fnuz_max, qmax=fnuz_max
        )
        assert s.stride() == (1, 132)
        assert torch.equal(q.cpu().view(torch.uint8), q_ref.view(torch.uint8))
        assert torch.equal(s.cpu().view(torch.int32), s_ref.view(torch.int32))
    q, sp = ptg_quant.per_token_group_quant_fp8_packed(x[0].to(dev))
    assert sp.shape == (65, 2) and sp.stride() == (1, 68)


def test_non_finite_input_behaviour() -> None:
    """Outside the contract, but documented: NaN is skipped by the max and quantizes to qmin;
    +-inf makes the scale inf. The kernel and the oracle agree on it."""
    if not ptg_quant.ops_available():
        pytest.skip("compiled ops not built")
    dev = torch.device("cuda")
    x = torch.randn(4, 256) * 8
    x[0, 5] = float("nan")
    x[1, 130] = float("inf")
    x[2, :128] = float("nan")
    x[3, 7] = -float("inf")
    for out_dtype in OUT_DTYPES:
        for ue8m0 in (False, True):
            q, s = ptg_quant.quant._quantize(
                x.to(dev),
                128,
                out_dtype,
                column_major_scales=False,
                tma_aligned_scales=False,
                scale_ue8m0=ue8m0,
                eps=1e-10,
                out_q=None,
                fnuz_max=224.0,
            )
            q_ref, s_ref = reference.per_token_group_quant_reference(
                x, 128, out_dtype, qmin=QMIN[out_dtype], qmax=QMAX[out_dtype], scale_ue8m0=ue8m0
            )
            assert torch.equal(q.cpu().view(torch.uint8), q_ref.view(torch.uint8))
            assert torch.equal(s.cpu().view(torch.int32), s_ref.view(torch.int32))


def test_deterministic_across_runs_and_variants() -> None:
    """Same bits on repeated runs and through the general path (misaligned copy)."""
    if not ptg_quant.ops_available():
        pytest.skip("compiled ops not built")
    dev = torch.device("cuda")
    x = make_input(512, 7168, 128, torch.bfloat16, torch.float8_e4m3fn, seed=9).to(dev)
    q1, s1 = ptg_quant.per_token_group_quant_fp8(x, 128, dtype=torch.float8_e4m3fn)
    q2, s2 = ptg_quant.per_token_group_quant_fp8(x, 128, dtype=torch.float8_e4m3fn)
    xo = _offset_copy(x, 1)
    q3, s3 = ptg_quant.per_token_group_quant_fp8(xo, 128, dtype=torch.float8_e4m3fn)
    for q, s in ((q2, s2), (q3, s3)):
        assert torch.equal(q.view(torch.uint8), q1.view(torch.uint8))
        assert torch.equal(s.view(torch.int32), s1.view(torch.int32))
