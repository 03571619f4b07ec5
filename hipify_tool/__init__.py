"""hipify-tool: translate CUDA C++ to HIP with PyTorch's hipify, as a build tool should.

The public names are loaded on first use, so ``hipify-tool --version`` and ``--help`` import no
pipeline module.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .api import RunResult, plan, run
    from .errors import HipifyToolError
    from .options import Options
    from .planned import Plan, PlannedFile

__all__ = ["__version__", "plan", "run", "Options", "Plan", "PlannedFile", "RunResult", "HipifyToolError"]

_EXPORTS = {
    "plan": "api",
    "run": "api",
    "RunResult": "api",
    "HipifyToolError": "errors",
    "Options": "options",
    "Plan": "planned",
    "PlannedFile": "planned",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'hipify_tool' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)


def __dir__() -> list[str]:
    return sorted(__all__)
