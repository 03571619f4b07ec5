"""Per-token-group 8-bit quantization (fp8 e4m3fn / e4m3fnuz / int8) for NVIDIA and AMD GPUs.

The reference project of hipify-tool: one CUDA source tree, translated to HIP for ROCm.
Importing the package loads the compiled ops (``torch.ops.ptg_quant.*``) when present; the
pure-PyTorch oracle in :mod:`ptg_quant.reference` works without them.
"""

from __future__ import annotations

from ._ops import ops_available
from .quant import (
    FNUZ_MAX_DEFAULT,
    per_token_group_quant_8bit_packed,
    per_token_group_quant_fp8,
    per_token_group_quant_fp8_packed,
    per_token_group_quant_int8,
    quant_bounds,
)

__all__ = [
    "FNUZ_MAX_DEFAULT",
    "ops_available",
    "per_token_group_quant_8bit_packed",
    "per_token_group_quant_fp8",
    "per_token_group_quant_fp8_packed",
    "per_token_group_quant_int8",
    "quant_bounds",
]
