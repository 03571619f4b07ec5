"""hipify-tool: translate CUDA C++ to HIP with PyTorch's hipify, as a build tool should.

The public names are loaded on first use, so ``hipify-tool --version`` and ``--help`` import no
pipeline module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_exports
from ._version import __version__

if TYPE_CHECKING:
    from .api import RunResult, plan, run
    from .errors import HipifyToolError
    from .options import Options
    from .planned import Plan, PlannedFile

__all__ = ["__version__", "plan", "run", "Options", "Plan", "PlannedFile", "RunResult", "HipifyToolError"]

__getattr__ = lazy_exports(
    __name__,
    {
        "plan": "api",
        "run": "api",
        "RunResult": "api",
        "HipifyToolError": "errors",
        "Options": "options",
        "Plan": "planned",
        "PlannedFile": "planned",
    },
)


def __dir__() -> list[str]:
    return sorted(__all__)
