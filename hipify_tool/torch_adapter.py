"""The only module that touches PyTorch's hipify internals.

PyTorch's ``torch/utils/hipify`` package is loaded *by path* under a private package name, so that
``import torch`` (about a second and 200 MB) never happens. The mapping tables load in a few
milliseconds; PyTorch's pass functions are compiled from ``hipify_python.py`` without running its
expensive module top level (see :func:`load_passes`).
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib
import importlib.util
import re
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import EnvironmentProblem
from .options import LaunchSyntax
from .translate import Translator, mask_like_pytorch

if TYPE_CHECKING:
    from .maps import CustomMap

__all__ = [
    "HipifyTables",
    "hipify_dir",
    "load_tables",
    "HipifyPasses",
    "load_passes",
    "tables_fingerprint",
    "make_translator",
    "unsupported_markers",
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


@functools.cache
def unsupported_markers() -> frozenset[str] | None:
    """CUDA names PyTorch's tables mark ``HIP_UNSUPPORTED``; ``None`` when the tables carry no markers.

    Tables before hipify 2.0 held ``(hip_name, CONV_..., API_..., [HIP_UNSUPPORTED])`` tuples; hipify
    2.0 (torch 2.13 included) keeps only the names, so there is nothing to read. PyTorch's own
    "unsupported calls" statistic is never filled in, so it is not used.
    """
    mappings = _load("cuda_to_hip_mappings")
    tagged = [(src, v) for table in mappings.CUDA_TO_HIP_MAPPINGS for src, v in table.items() if isinstance(v, tuple)]
    if not tagged:
        return None
    marker = getattr(_load("constants"), "HIP_UNSUPPORTED", object())
    return frozenset(src for src, value in tagged if marker in value[1:])


@dataclass(frozen=True)
class HipifyPasses:
    """PyTorch's text passes, called as they are."""

    process_kernel_launches: Callable[[str, dict[str, list[str]]], str]
    kernel_launch_continuation: re.Pattern[str]
    hip_header_magic: Callable[[str], str]
    replace_math_functions: Callable[[str], str]


_PASS_NAMES = (
    "InputError",
    "add_dim3",
    "extract_arguments",
    "RE_KERNEL_LAUNCH",
    "processKernelLaunches",
    "RE_SYNCTHREADS",
    "hip_header_magic",
    "replace_math_functions",
)


_MASK_HOOK = "_hipify_tool_mask_like_pytorch"


def _with_linear_mask(launches: ast.stmt) -> ast.stmt:
    """``processKernelLaunches`` with its nested ``mask_comments`` calling :func:`mask_like_pytorch`.

    PyTorch's mask appends one character at a time; ours returns the same string 2.5x faster, and in
    linear time even where CPython cannot grow the string in place (under a profiler or tracer,
    where PyTorch's takes 31 s for 1 MB). A ``mask_comments`` of another shape is left as PyTorch wrote it.
    """
    assert isinstance(launches, ast.FunctionDef)
    for node in launches.body:
        if isinstance(node, ast.FunctionDef) and node.name == "mask_comments" and len(node.args.args) == 1:
            call = ast.Call(ast.Name(_MASK_HOOK, ast.Load()), [ast.Name(node.args.args[0].arg, ast.Load())], [])
            node.body = [ast.copy_location(ast.Return(call), node.body[0])]
            ast.fix_missing_locations(node)
    return launches


@functools.cache
def load_passes() -> HipifyPasses:
    """PyTorch's pass functions from ``hipify_python.py``, without running that module's top level.

    Importing the module builds a trie regex of every mapping (~0.12 s); the pass functions do not
    use it. So the functions (and the few names they need) are compiled from the module's own source
    into a fresh namespace (~0.015 s), with :func:`_with_linear_mask` applied. If a future torch moves
    them, the whole module is imported and its functions used as they are.
    """
    path = hipify_dir() / "hipify_python.py"
    namespace: dict[str, Any] = {
        "__name__": f"{_PRIVATE_PACKAGE}.passes",
        "MATH_TRANSPILATIONS": load_tables().math_map,
        _MASK_HOOK: mask_like_pytorch,
    }
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
        wanted = set(_PASS_NAMES)
        body: list[ast.stmt] = []
        for node in tree.body:
            if isinstance(node, ast.Import) or (isinstance(node, ast.ImportFrom) and not node.level):
                body.append(node)
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in wanted:
                body.append(_with_linear_mask(node) if node.name == "processKernelLaunches" else node)
            elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id in wanted for t in node.targets):
                body.append(node)
        exec(compile(ast.Module(body=body, type_ignores=[]), str(path), "exec"), namespace)
        if not wanted.issubset(namespace):
            raise LookupError(sorted(wanted - set(namespace)))
    except (SyntaxError, LookupError, ImportError):
        namespace = vars(_load("hipify_python"))
    return HipifyPasses(
        process_kernel_launches=namespace["processKernelLaunches"],
        kernel_launch_continuation=namespace["RE_KERNEL_LAUNCH"],
        hip_header_magic=namespace["hip_header_magic"],
        replace_math_functions=namespace["replace_math_functions"],
    )


def make_translator(launch_syntax: LaunchSyntax, custom: CustomMap | None = None) -> Translator:
    """A translator wired to PyTorch's tables and (lazily) its launch rewriter.

    ``custom`` (the run's ``--map`` files) is applied before PyTorch's tables; it is ours, not PyTorch's,
    and travels to worker processes inside the rebuild recipe.
    """
    tables = load_tables()
    return Translator(
        token_map=tables.token_map,
        caffe2_path_map=tables.caffe2_path_map,
        launch_syntax=launch_syntax,
        passes=load_passes,
        rebuild=functools.partial(make_translator, launch_syntax, custom),
        custom_tokens=custom.tokens if custom else None,
        custom_substrings=custom.substrings if custom else (),
    )
