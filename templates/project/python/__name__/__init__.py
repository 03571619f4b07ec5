"""{{name}}: ``scale(x, alpha)`` on NVIDIA and AMD GPUs, from one CUDA source tree."""

from __future__ import annotations

from pathlib import Path

import torch

__all__ = ["scale"]

_LIBRARY = next(Path(__file__).parent.glob("_C*.so"), None)
if _LIBRARY is None:
    raise ImportError(f"{Path(__file__).parent}: the compiled library _C.so is missing; build the project first")
torch.ops.load_library(str(_LIBRARY))


def scale(x: torch.Tensor, alpha: float) -> torch.Tensor:
    """``alpha * x`` computed by the extension's kernel on ``x``'s device and current stream."""
    if not x.is_cuda:
        raise ValueError("scale: x must be on a GPU (torch.device('cuda'), which is also ROCm's name)")
    with torch.cuda.device(x.device):
        stream = torch.cuda.current_stream(x.device).cuda_stream
        return torch.ops.{{name}}.scale(x.contiguous(), float(alpha), stream)
