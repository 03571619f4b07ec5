"""Locate and load the compiled extension (a plain shared library registering stable-ABI ops)."""

from __future__ import annotations

import os
from pathlib import Path

import torch

__all__ = ["library_path", "load", "ops_available"]

_loaded: bool | None = None


def library_path() -> Path | None:
    """The extension to load: ``$PTGQ_LIBRARY`` if set (a build tree), else the packaged one."""
    override = os.environ.get("PTGQ_LIBRARY")
    if override:
        return Path(override)
    here = Path(__file__).resolve().parent
    for candidate in sorted(here.glob("_C*.so")):
        return candidate
    return None


def load() -> bool:
    """Load the ops once; returns whether ``torch.ops.ptg_quant`` is usable."""
    global _loaded
    if _loaded is None:
        path = library_path()
        if path is None or not path.exists():
            _loaded = False
        else:
            torch.ops.load_library(str(path))  # type: ignore[no-untyped-call]
            _loaded = True
    return _loaded


def ops_available() -> bool:
    """True when the compiled ops are loaded (they still need a GPU to run)."""
    return load()
