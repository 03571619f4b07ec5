"""Helpers for the ROCm checks: translate csrc_example with hipify, find CUDA identifiers left
in code that a ROCm compile takes, and compile with clang++-19."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["active_text", "cuda_identifiers", "translate"]

GPU_SOURCES = ["per_token_group_quant.cu", "per_token_group_quant_packed.cu"]

# Macros as a ROCm (HIP, AMD) compile sees them; anything else is unknown (both branches kept).
ROCM_DEFINED = {
    "USE_ROCM": 1,
    "__HIP_PLATFORM_AMD__": 1,
    "__HIPCC__": 1,
    "__HIP__": 1,
    "__clang__": 1,
    "PTGQ_DEVICE_COMPILER": 1,
}
# HIP_ENABLE_WARP_SYNC_BUILTINS: its branch uses ROCm>=6.2 *_sync shuffles (HIP API, same names).
ROCM_UNDEFINED = {
    "__CUDACC__",
    "__CUDA_ARCH__",
    "__NVCC__",
    "USE_CUDA",
    "__CUDA_ARCH_LIST__",
    "HIP_ENABLE_WARP_SYNC_BUILTINS",
}

_CUDA_PATTERNS = [
    r"\bcuda[A-Z_]\w*",
    r"\bcu[A-Z][a-z]\w*",
    r"\b__nv_\w+",
    r"\bnv_bfloat\w*",
    r"\b__shfl\w*_sync\b",
    r"\b__(ballot|any|all|match\w*|activemask)_sync\b",
    r"\b__syncwarp\b",
    r"\bcub::",
    r"\bCUDA_[A-Z_]+\b",
    r"\bCU[a-z]\w*",
    r"<cuda[\w/.]*>",
    r'"cuda[\w/.]*"',
    r"\bgriddepcontrol\b",
    r"\bcvt\.rn\b",
    r"\bld\.global\b",
    r"%laneid",
]


def translate(src: Path, out: Path) -> tuple[list[Path], str]:
    """Copy csrc to `out` and hipify the GPU sources there; returns (.hip files, translator).

    Uses hipify-tool's CLI when it is installed, else PyTorch's hipify directly (same engine).
    """
    shutil.copytree(src, out)
    sources = [out / name for name in GPU_SOURCES]
    cmd = [sys.executable, "-m", "hipify_tool", "run", "-p", str(out), "-o", str(out), *map(str, sources)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    hip = [s.with_suffix(".hip") for s in sources]
    if proc.returncode == 0 and all(p.exists() for p in hip):
        return hip, "hipify-tool"
    from torch.utils.hipify import hipify_python

    hipify_python.hipify(
        project_directory=str(out),
        output_directory=str(out),
        extra_files=[str(s) for s in sources],
        header_include_dirs=[str(out)],
        includes=[],
        is_pytorch_extension=True,
        hipify_extra_files_only=True,
        show_progress=False,
    )
    return hip, "torch.utils.hipify"


def _strip(text: str) -> str:
    """Remove comments and string/char literals (keeps line structure)."""
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    return text


def _eval(expr: str, defined: dict[str, int]) -> bool | None:
    """Evaluate a #if expression; None when it depends on an unknown macro."""
    unknown = False

    def repl_defined(m: re.Match[str]) -> str:
        nonlocal unknown
        name = m.group(1) or m.group(2)
        if name in defined:
            return "1"
        if name in ROCM_UNDEFINED:
            return "0"
        unknown = True
        return "0"

    e = re.sub(r"defined\s*\(\s*(\w+)\s*\)|defined\s+(\w+)", repl_defined, expr)

    def repl_ident(m: re.Match[str]) -> str:
        nonlocal unknown
        name = m.group(0)
        if name in defined:
            return str(defined[name])
        if name in ROCM_UNDEFINED:
            return "0"
        unknown = True
        return "0"

    e = re.sub(r"\b[A-Za-z_]\w*\b", repl_ident, e)
    if unknown:
        return None
    e = e.replace("&&", " and ").replace("||", " or ")
    e = re.sub(r"!(?!=)", " not ", e)
    e = re.sub(r"(\d+)[uUlL]+", r"\1", e)
    try:
        return bool(eval(e, {"__builtins__": {}}))  # digits and operators only
    except Exception:
        return None


def active_text(text: str, defined: dict[str, int] | None = None) -> str:
    """Lines a ROCm compile may take (branches with unknown conditions are kept)."""
    defined = dict(ROCM_DEFINED if defined is None else defined)
    lines = _strip(text).replace("\\\n", " ").split("\n")
    # stack of (parent_active, this_branch_active, some_branch_taken(True/None/False))
    stack: list[tuple[bool, bool, bool | None]] = []
    active = True
    out: list[str] = []
    for line in lines:
        d = re.match(r"\s*#\s*(\w+)\s*(.*)", line)
        if d:
            kw, rest = d.group(1), d.group(2).strip()
            if kw in ("if", "ifdef", "ifndef"):
                if kw == "if":
                    val = _eval(rest, defined)
                elif kw == "ifdef":
                    val = _eval(f"defined({rest})", defined)
                else:
                    v = _eval(f"defined({rest})", defined)
                    val = None if v is None else not v
                stack.append((active, active and val is not False, val))
                active = active and val is not False
                continue
            if kw == "elif" and stack:
                parent, _, taken = stack.pop()
                val = None if taken is True else _eval(rest, defined)
                if taken is True:
                    val = False
                now = parent and val is not False
                if taken is True or val is True:
                    new_taken: bool | None = True
                elif taken is None or val is None:
                    new_taken = None
                else:
                    new_taken = False
                stack.append((parent, now, new_taken))
                active = now
                continue
            if kw == "else" and stack:
                parent, _, taken = stack.pop()
                now = parent and taken is not True
                stack.append((parent, now, True))
                active = now
                continue
            if kw == "endif" and stack:
                parent, _, _ = stack.pop()
                active = parent
                continue
            if active and kw == "define":
                name = rest.split()[0].split("(")[0] if rest else ""
                if name and name not in defined:
                    defined[name] = 1
        if active:
            out.append(line)
    return "\n".join(out)


def cuda_identifiers(text: str) -> list[str]:
    """CUDA-only names in the code a ROCm compile takes."""
    code = active_text(text)
    hits: list[str] = []
    for pat in _CUDA_PATTERNS:
        hits += [m.group(0) for m in re.finditer(pat, code)]
    return sorted(set(hits))
