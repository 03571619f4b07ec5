"""Test data for the per-token-group quantization matrix (spec: 'Data')."""

from __future__ import annotations

import torch

__all__ = ["QMAX", "QMIN", "make_input", "tie_values"]

QMAX: dict[torch.dtype, float] = {
    torch.float8_e4m3fn: 448.0,
    torch.float8_e4m3fnuz: 224.0,
    torch.int8: 127.0,
}
QMIN: dict[torch.dtype, float] = {
    torch.float8_e4m3fn: -448.0,
    torch.float8_e4m3fnuz: -224.0,
    torch.int8: -128.0,
}

_INPUT_MAX = {torch.float16: 65504.0, torch.bfloat16: 3.3e38, torch.float32: 3.4e38}
_NUM_PATTERNS = 8


def tie_values(out_dtype: torch.dtype) -> torch.Tensor:
    """Positive values exactly halfway between neighbours of the output grid (for s = 1)."""
    qmax = QMAX[out_dtype]
    if out_dtype == torch.int8:
        return torch.arange(0, 127, dtype=torch.float32) + 0.5
    grid = torch.arange(256, dtype=torch.int32).to(torch.uint8).view(out_dtype).to(torch.float32)
    grid = grid[torch.isfinite(grid) & (grid >= 0) & (grid <= qmax)].unique()
    return (grid[:-1] + grid[1:]) / 2


def _pattern(
    p: int, n: int, g: int, in_dtype: torch.dtype, out_dtype: torch.dtype, gen: torch.Generator
) -> torch.Tensor:
    qmax = QMAX[out_dtype]
    base = torch.randn(n, g, generator=gen)
    if p == 0:  # all-zero group: eps floor (and 2^-33 with UE8M0)
        return torch.zeros(n, g)
    if p == 1:  # tiny absmax
        return base * 1e-8
    if p == 2:
        return base * 1e-30
    if p == 3:  # bf16/fp32 subnormals
        return base * 1e-39
    if p == 4:  # a group containing +-qmax
        v = base * 8
        v[:, 0] = qmax
        if g > 1:
            v[:, 1] = -qmax
        return v
    if p == 5:  # 672 everywhere: UE8M0 rounds 1.5 (fn) up to 2
        return torch.full((n, g), 672.0)
    if p == 6:  # near the input dtype's max
        v = base / base.abs().amax(dim=1, keepdim=True).clamp_min(1e-30)
        return v * (0.99 * _INPUT_MAX[in_dtype])
    # p == 7: ties with s = 1 (absmax == qmax), e.g. 304 -> 320, 3.5*2^-9 -> 4*2^-9, k + 0.5
    ties = tie_values(out_dtype)
    idx = torch.arange(g).unsqueeze(0) + torch.randint(0, ties.numel(), (n, 1), generator=gen)
    v = ties[idx % ties.numel()]
    sign = torch.where(torch.rand(n, g, generator=gen) < 0.5, -1.0, 1.0)
    v = v * sign
    v[:, 0] = qmax
    return v


def make_input(m: int, k: int, g: int, in_dtype: torch.dtype, out_dtype: torch.dtype, seed: int = 0) -> torch.Tensor:
    """randn*8 with x50 outliers every ~1000 elements; every 7th group holds a special pattern."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(m, k, generator=gen) * 8
    flat = x.view(-1)
    flat[torch.arange(0, flat.numel(), 997)] *= 50
    groups = x.view(-1, g)
    special = torch.arange(3, groups.shape[0], 7)
    pattern = (special // 7) % _NUM_PATTERNS
    for p in range(_NUM_PATTERNS):
        rows = special[pattern == p]
        if rows.numel():
            groups[rows] = _pattern(p, rows.numel(), g, in_dtype, out_dtype, gen)
    return x.to(in_dtype)
