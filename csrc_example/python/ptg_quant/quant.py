"""Python wrappers: validate arguments, pick bounds, allocate outputs, call the op.

The op itself (``torch.ops.ptg_quant.per_token_group_quant_8bit``) takes explicit bounds and
preallocated outputs so the kernel has no policy in it; the policy (fnuz 224 vs 240, scale
layouts) lives here, where it is easy to read and change.
"""

from __future__ import annotations

import torch

from . import _ops

__all__ = [
    "FNUZ_MAX_DEFAULT",
    "allocate_scales",
    "allocate_packed_scales",
    "per_token_group_quant_8bit_packed",
    "per_token_group_quant_fp8",
    "per_token_group_quant_fp8_packed",
    "per_token_group_quant_int8",
    "quant_bounds",
]

#: e4m3fnuz bound used by default: vLLM's accuracy policy on MI300 (the format's max is 240).
FNUZ_MAX_DEFAULT = 224.0

_INPUT_DTYPES = (torch.float32, torch.float16, torch.bfloat16)
_OUTPUT_DTYPES = (torch.float8_e4m3fn, torch.float8_e4m3fnuz, torch.int8)


def quant_bounds(dtype: torch.dtype, *, fnuz_max: float = FNUZ_MAX_DEFAULT) -> tuple[float, float]:
    """(qmin, qmax) for an output dtype; raises ValueError for dtypes the op cannot produce."""
    if dtype == torch.float8_e4m3fn:
        return -448.0, 448.0
    if dtype == torch.float8_e4m3fnuz:
        if not 0.0 < fnuz_max <= 240.0:
            raise ValueError(f"fnuz_max must be in (0, 240], got {fnuz_max}")
        return -fnuz_max, fnuz_max
    if dtype == torch.int8:
        return -128.0, 127.0
    if dtype in (torch.float8_e5m2, torch.float8_e5m2fnuz):
        raise ValueError(
            f"{dtype} is not supported: per-token-group quantization produces float8_e4m3fn, "
            "float8_e4m3fnuz or int8 (e5m2 has too few mantissa bits for activations)"
        )
    raise ValueError(f"unsupported output dtype {dtype}; use float8_e4m3fn, float8_e4m3fnuz or int8")


def _default_fp8_dtype(x: torch.Tensor) -> torch.dtype:
    """e4m3fnuz on MI300-class GPUs (gfx94x), e4m3fn everywhere else."""
    if torch.version.hip is not None and x.is_cuda:
        arch = getattr(torch.cuda.get_device_properties(x.device), "gcnArchName", "")
        if "gfx94" in arch:
            return torch.float8_e4m3fnuz
    return torch.float8_e4m3fn


def _check_input(x: torch.Tensor, group_size: int) -> tuple[int, int]:
    if x.dtype not in _INPUT_DTYPES:
        raise TypeError(f"x must be float32, float16 or bfloat16, got {x.dtype}")
    if x.dim() < 1:
        raise ValueError("x must have at least one dimension")
    if not isinstance(group_size, int) or group_size < 1:
        raise ValueError(f"group_size must be a positive int, got {group_size!r}")
    k = x.shape[-1]
    if k % group_size != 0:
        raise ValueError(f"last dimension {k} is not a multiple of group_size {group_size}")
    if not x.is_contiguous():
        raise ValueError("x must be contiguous")
    m = x.numel() // k if k else 0
    return m, k


def allocate_scales(
    m: int, groups: int, device: torch.device, *, column_major: bool, tma_aligned: bool
) -> torch.Tensor:
    """fp32 scales [m, groups]: row-major, column-major (S = m) or TMA-aligned (S = ceil(m/4)*4)."""
    if tma_aligned and not column_major:
        raise ValueError("tma_aligned_scales requires column_major_scales=True")
    if not column_major:
        return torch.empty((m, groups), dtype=torch.float32, device=device)
    stride = (m + 3) // 4 * 4 if tma_aligned else m
    return torch.empty_strided((m, groups), (1, max(stride, 1)), dtype=torch.float32, device=device)


def allocate_packed_scales(m: int, k: int, device: torch.device) -> torch.Tensor:
    """int32 [m, ceil(k/128/4)] with strides (1, ceil(m/4)*4): DeepGEMM's UE8M0 layout."""
    words = (k // 128 + 3) // 4
    stride = (m + 3) // 4 * 4
    return torch.empty_strided((m, words), (1, max(stride, 1)), dtype=torch.int32, device=device)


def _prepare_out_q(x: torch.Tensor, dtype: torch.dtype, out_q: torch.Tensor | None) -> torch.Tensor:
    if out_q is None:
        return torch.empty(x.shape, dtype=dtype, device=x.device)
    if out_q.dtype != dtype:
        raise ValueError(f"out_q has dtype {out_q.dtype}, expected {dtype}")
    if out_q.shape != x.shape or not out_q.is_contiguous():
        raise ValueError(f"out_q must be contiguous with shape {tuple(x.shape)}")
    return out_q


def _require_ops() -> None:
    if not _ops.load():
        raise RuntimeError(
            "ptg_quant's compiled ops are not available: build the package "
            "(pip install --no-build-isolation ./csrc_example) or set PTGQ_LIBRARY"
        )


def _quantize(
    x: torch.Tensor,
    group_size: int,
    dtype: torch.dtype,
    *,
    column_major_scales: bool,
    tma_aligned_scales: bool,
    scale_ue8m0: bool,
    eps: float,
    out_q: torch.Tensor | None,
    fnuz_max: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    qmin, qmax = quant_bounds(dtype, fnuz_max=fnuz_max)
    m, k = _check_input(x, group_size)
    q = _prepare_out_q(x, dtype, out_q)
    s = allocate_scales(m, k // group_size, x.device, column_major=column_major_scales, tma_aligned=tma_aligned_scales)
    if m > 0:
        _require_ops()
        torch.ops.ptg_quant.per_token_group_quant_8bit(x, q, s, group_size, eps, qmin, qmax, scale_ue8m0)
    if not column_major_scales:
        s = s.view(*x.shape[:-1], k // group_size)
    return q, s


def per_token_group_quant_fp8(
    x: torch.Tensor,
    group_size: int,
    *,
    dtype: torch.dtype | None = None,
    column_major_scales: bool = False,
    tma_aligned_scales: bool = False,
    scale_ue8m0: bool = False,
    eps: float = 1e-10,
    out_q: torch.Tensor | None = None,
    fnuz_max: float = FNUZ_MAX_DEFAULT,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Quantize each group of ``group_size`` along the last dim to fp8; returns (q, scales).

    ``dtype`` defaults to float8_e4m3fnuz on gfx94x and float8_e4m3fn elsewhere. Scales are
    row-major ``x.shape[:-1] + (K/G,)`` unless ``column_major_scales`` (then [M, K/G] with
    column stride M, or ceil(M/4)*4 with ``tma_aligned_scales``). ``fnuz_max`` picks the e4m3fnuz
    bound: 224 (default, vLLM's MI300 policy) or up to 240 (the format's max).
    """
    dtype = _default_fp8_dtype(x) if dtype is None else dtype
    if dtype == torch.int8:
        raise ValueError("use per_token_group_quant_int8 for int8 output")
    return _quantize(
        x,
        group_size,
        dtype,
        column_major_scales=column_major_scales,
        tma_aligned_scales=tma_aligned_scales,
        scale_ue8m0=scale_ue8m0,
        eps=eps,
        out_q=out_q,
        fnuz_max=fnuz_max,
    )


def per_token_group_quant_int8(
    x: torch.Tensor,
    group_size: int,
    *,
    column_major_scales: bool = False,
    tma_aligned_scales: bool = False,
    scale_ue8m0: bool = False,
    eps: float = 1e-10,
    out_q: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """int8 variant of :func:`per_token_group_quant_fp8` (bounds -128/127, round half to even)."""
    return _quantize(
        x,
        group_size,
        torch.int8,
        column_major_scales=column_major_scales,
        tma_aligned_scales=tma_aligned_scales,
        scale_ue8m0=scale_ue8m0,
        eps=eps,
        out_q=out_q,
        fnuz_max=FNUZ_MAX_DEFAULT,
    )


def per_token_group_quant_8bit_packed(
    x: torch.Tensor,
    group_size: int = 128,
    *,
    dtype: torch.dtype = torch.float8_e4m3fn,
    eps: float = 1e-10,
    out_q: torch.Tensor | None = None,
    fnuz_max: float = FNUZ_MAX_DEFAULT,
) -> tuple[torch.Tensor, torch.Tensor]:
    """G=128 quantization with UE8M0 exponents packed 4 per int32 (DeepGEMM layout).

    ``out_q`` may have more rows than ``x`` (a padded buffer); rows M..ceil(M/4)*4-1 of it are
    zeroed, as are the packed padding slots.
    """
    if group_size != 128:
        raise ValueError(f"the packed layout needs group_size 128, got {group_size}")
    if x.dtype not in (torch.float16, torch.bfloat16):
        raise TypeError(f"the packed op needs float16 or bfloat16 input, got {x.dtype}")
    if x.dim() != 2:
        raise ValueError("the packed op needs a 2-D input [M, K]")
    qmin, qmax = quant_bounds(dtype, fnuz_max=fnuz_max)
    m, k = _check_input(x, group_size)
    if out_q is None:
        out_q = torch.empty((m, k), dtype=dtype, device=x.device)
    elif out_q.dtype != dtype or out_q.dim() != 2 or out_q.shape[1] != k or out_q.shape[0] < m:
        raise ValueError(f"out_q must be {dtype} with shape [rows >= {m}, {k}]")
    s = allocate_packed_scales(m, k, x.device)
    if m > 0:
        _require_ops()
        torch.ops.ptg_quant.per_token_group_quant_8bit_packed(x, out_q, s, group_size, eps, qmin, qmax)
    return out_q, s


def per_token_group_quant_fp8_packed(
    x: torch.Tensor, *, eps: float = 1e-10, out_q: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """float8_e4m3fn, G=128, packed UE8M0 scales: the DeepGEMM activation format."""
    return per_token_group_quant_8bit_packed(x, 128, dtype=torch.float8_e4m3fn, eps=eps, out_q=out_q)
