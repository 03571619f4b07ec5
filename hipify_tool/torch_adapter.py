"""The only module that touches PyTorch's hipify internals.

PyTorch's ``torch/utils/hipify`` package is loaded *by path* under a private package name, so that
``import torch`` (about a second and 200 MB) never happens. The mapping tables load in a few
milliseconds; ``hipify_python`` itself (which builds a large regex at import, ~0.12 s) is loaded only
when a file actually needs PyTorch's kernel-launch rewriter.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .errors import EnvironmentProblem
from .translate import LaunchSyntax, Translator

__all__ = [
    "HipifyTables",
    "hipify_dir",
    "load_tables",
    "launch_rewriter",
    "tables_fingerprint",
    "make_translator",
]

_PRIVATE_PACKAGE = "hipify_tool._torch_hipify"


@functools.cache
def hipify_dir() -> Path:
    """Directory of the installed ``torch/utils/hipify``, found without importing torch."""
    try:
        spec = importlib.util.find_spec("torch")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise EnvironmentProblem(
            "PyTorch is not installed in this Python environment (hipify-tool uses its hipify tables); "
            "install it with: pip install torch"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "utils" / "hipify"
    if not (path / "cuda_to_hip_mappings.py").is_file():
        raise EnvironmentProblem(f"{path}: this torch installation has no hipify package")
    return path


def _load(module: str) -> types.ModuleType:
    """Import ``torch/utils/hipify/<module>.py`` under a private package name (relative imports work)."""
    if _PRIVATE_PACKAGE not in sys.modules:
        package = types.ModuleType(_PRIVATE_PACKAGE)
        package.__path__ = [str(hipify_dir())]
        sys.modules[_PRIVATE_PACKAGE] = package
    return importlib.import_module(f"{_PRIVATE_PACKAGE}.{module}")


@dataclass(frozen=True)
class HipifyTables:
    """PyTorch's translation tables, as plain data."""

    token_map: dict[str, str]
    """CUDA token -> HIP token, later tables overriding earlier ones as in PyTorch's ``PYTORCH_MAP``."""
    math_map: dict[str, str]
    """``std::`` math function -> global function (applied to ``.cu``/``.cuh`` files)."""
    caffe2_path_map: dict[str, str]
    """Legacy Caffe2 path rewrites, applied in order."""
    version: str
    """Identifies the tables: hipify's version and a hash of the mapping source, for manifests."""


_FINGERPRINTED = ("version.py", "cuda_to_hip_mappings.py", "hipify_python.py")


@functools.cache
def tables_fingerprint() -> str:
    """Identifies PyTorch's hipify (tables and passes) by its files' bytes, without executing them."""
    digest = hashlib.sha256()
    for name in _FINGERPRINTED:
        digest.update((hipify_dir() / name).read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


@functools.cache
def load_tables() -> HipifyTables:
    """Load PyTorch's mapping tables (cheap: no regex is built here)."""
    mappings = _load("cuda_to_hip_mappings")
    token_map: dict[str, str] = {}
    for table in mappings.CUDA_TO_HIP_MAPPINGS:
        for src, dst in table.items():
            token_map[src] = dst
    version = _load("version").__version__
    return HipifyTables(
        token_map=token_map,
        math_map=dict(mappings.MATH_TRANSPILATIONS),
        caffe2_path_map=dict(mappings.CAFFE2_PATH_MAPPINGS),
        version=f"{version}+{tables_fingerprint()}",
    )


def launch_rewriter() -> Callable[[str], str]:
    """PyTorch's ``<<<...>>>`` -> ``hipLaunchKernelGGL`` rewriter, as a text -> text function."""
    process = _load("hipify_python").processKernelLaunches

    def rewrite(text: str) -> str:
        return str(process(text, {"unsupported_calls": [], "kernel_launches": []}))

    return rewrite



def make_translator(launch_syntax: LaunchSyntax) -> Translator:
    """A translator wired to PyTorch's tables and (lazily) its launch rewriter."""
    tables = load_tables()
    return Translator(
        token_map=tables.token_map,
        math_map=tables.math_map,
        caffe2_path_map=tables.caffe2_path_map,
        launch_syntax=launch_syntax,
        launch_rewriter=launch_rewriter,
    )
