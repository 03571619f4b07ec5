"""hipify-tool: translate CUDA C++ to HIP with PyTorch's hipify, as a build tool should."""

from __future__ import annotations

__version__ = "0.1.0"

# Imported after __version__ (the plan module reads it). Binding ``plan`` here also makes
# ``hipify_tool.plan`` the function rather than the submodule of the same name.
from .api import RunResult, plan, run
from .errors import HipifyToolError
from .options import Options
from .plan import Plan, PlannedFile

__all__ = ["__version__", "plan", "run", "Options", "Plan", "PlannedFile", "RunResult", "HipifyToolError"]
