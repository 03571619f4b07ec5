"""Pure-PyTorch oracle implementing the spec bit-exactly (run it on the CPU).

Every step is an IEEE fp32 elementwise tensor op: divisions are tensor-by-tensor (never by a
Python scalar, which some backends turn into a multiplication by the reciprocal), NaN handling
follows fmaxf/fminf (torch.fmax/fmin), fp8 rounding is PyTorch's round-to-nearest-even
conversion and int8 rounding is torch.round (half to even).
"""

from __future__ import annotations

import torch

__all__ = ["pack_ue8m0_reference", "per_token_group_quant_reference", "ue8m0_round_up"]


def ue8m0_round_up(t: torch.Tensor) -> torch.Tensor:
    """2^ceil(log2 t) for positive normal fp32 t, exactly from the bits."""
    bits = t.contiguous().view(torch.int32)
    exponent = (bits >> 23) & 0xFF
    exponent = exponent + ((bits & 0x7FFFFF) != 0).to(torch.int32)
    return (exponent << 23).view(torch.float32)


def per_token_group_quant_reference(
    x: torch.Tensor,
    group_size: int,
    dtype: torch.dtype,
    *,
    qmin: float,
    qmax: float,
    eps: float = 1e-10,
    scale_ue8m0: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (q with x's shape, row-major fp32 scales [M, K/G]) exactly as the kernels must."""
    k = x.shape[-1]
    m = x.numel() // k if k else 0
    groups = k // group_size
    xf = x.reshape(m, groups, group_size).to(torch.float32)
    f32 = torch.float32
    absx = xf.abs()
    absx = torch.where(torch.isnan(absx), torch.zeros((), dtype=f32), absx)  # fmaxf skips NaN
    if group_size > 0 and m > 0:
        absmax = absx.amax(dim=-1)
    else:
        absmax = torch.zeros((m, groups), dtype=f32)
    a = torch.maximum(absmax, torch.full_like(absmax, eps))
    s = a / torch.full_like(a, qmax)
    if scale_ue8m0:
        s = ue8m0_round_up(torch.maximum(s, torch.full_like(s, 1e-10)))
    v = xf / s.unsqueeze(-1).expand_as(xf).contiguous()
    v = torch.fmin(torch.fmax(v, torch.full_like(v, qmin)), torch.full_like(v, qmax))
    if dtype == torch.int8:
        q = torch.round(v).to(torch.int8)
    else:
        q = v.to(dtype)
    return q.reshape(x.shape), s


def pack_ue8m0_reference(scales: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Packed int32 storage (the whole span, padding zero) for power-of-two scales [M, K/128].

    Returns (flat storage of M + (W-1)*S words, S) where W = ceil(groups/4), S = ceil(M/4)*4;
    word [r, w] lives at w*S + r.
    """
    m, groups = scales.shape
    words = (groups + 3) // 4
    stride = (m + 3) // 4 * 4
    exps = ((scales.contiguous().view(torch.int32) >> 23) & 0xFF).to(torch.int64)
    padded = torch.zeros((m, words * 4), dtype=torch.int64)
    padded[:, :groups] = exps
    shifts = torch.tensor([0, 8, 16, 24], dtype=torch.int64)
    packed = (padded.view(m, words, 4) << shifts).sum(dim=-1)
    packed = torch.where(packed >= 2**31, packed - 2**32, packed).to(torch.int32)
    span = m + (words - 1) * stride if m > 0 and words > 0 else 0
    storage = torch.zeros(span, dtype=torch.int32)
    if span:
        idx = torch.arange(words).unsqueeze(0) * stride + torch.arange(m).unsqueeze(1)
        storage[idx.reshape(-1)] = packed.reshape(-1)
    return storage, stride
