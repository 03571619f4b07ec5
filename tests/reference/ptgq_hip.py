"""Helpers for the ROCm checks of csrc_example/ on a machine without an AMD GPU.

* translate(): hipify-tool's CLI on the sources the ROCm build compiles, exactly as an outside
  project (and csrc_example's own hipify_sources() call) runs it; no fallback.
* cuda_identifiers(): CUDA names left in code that a ROCm compile takes.
* the AMD toolchain: clang++-19 and Debian's HIP headers and device bitcode, a CMake that can
  enable_language(HIP), gfx942 bitcode, and the device code inside a compiled HIP object.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

__all__ = [
    "APT_PACKAGES",
    "CLANGXX",
    "CSRC",
    "EXAMPLE",
    "GPU_SOURCES",
    "HOST_SOURCES",
    "ROCM_SOURCES",
    "TranslationError",
    "active_text",
    "bitcode_with_gfx942",
    "cuda_identifiers",
    "device_code",
    "hip_cmake",
    "missing_amd_tools",
    "require",
    "tool_env",
    "translate",
    "translated_files",
    "tree_leftovers",
]

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "csrc_example"
CSRC = EXAMPLE / "csrc"


def _cmake_sources(var: str) -> list[str]:
    """The files csrc_example/CMakeLists.txt lists in set(<var> "${PTGQ_SRC}/..." ...)."""
    text = (EXAMPLE / "CMakeLists.txt").read_text(encoding="utf-8")
    m = re.search(rf"^set\(\s*{var}\s+([^)]*)\)", text, flags=re.M)
    if m is None:
        raise RuntimeError(f"csrc_example/CMakeLists.txt sets no {var}")
    names = re.findall(r'"\$\{PTGQ_SRC\}/([^"]+)"', m.group(1))
    if not names:
        raise RuntimeError(f"csrc_example/CMakeLists.txt: {var} lists no ${{PTGQ_SRC}}/ file")
    return names


# What the ROCm branch of csrc_example/CMakeLists.txt gives hipify_sources(), in that order.
GPU_SOURCES = _cmake_sources("PTGQ_GPU_SOURCES")
HOST_SOURCES = _cmake_sources("PTGQ_HOST_SOURCES")
ROCM_SOURCES = GPU_SOURCES + HOST_SOURCES


# --- translation ------------------------------------------------------------------------------


class TranslationError(RuntimeError):
    """hipify-tool failed or did not produce one output per source."""


def tool_env() -> dict[str, str]:
    """Environment for `python -m hipify_tool`: this checkout's tool, installed or not (as the
    CMake package's launcher does), from any working directory."""
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return dict(os.environ, PYTHONPATH=path)


def translate(src: Path = CSRC, out: Path | None = None, sources: list[str] | None = None) -> list[Path]:
    """Translate `sources` (names under `src`; default: ROCM_SOURCES) into `out` with hipify-tool.

    The same command line as csrc_example's hipify_sources() call (project dir and include dir
    `src`, ggl launches), run from outside the project. hipify-tool never writes into `src`.
    Returns the translated files, one per source, in order; raises TranslationError otherwise.
    """
    if out is None:
        raise TypeError("translate(): out is required")
    names = ROCM_SOURCES if sources is None else sources
    cmd = [
        sys.executable,
        "-m",
        "hipify_tool",
        "run",
        "-q",
        "-p",
        str(src),
        "-o",
        str(out),
        "--launch-syntax",
        "ggl",
        "-I",
        str(src),
        *(str(src / name) for name in names),
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=out.parent, env=tool_env())
    if proc.returncode != 0:
        raise TranslationError(
            f"hipify-tool failed (exit {proc.returncode}): {' '.join(cmd)}\n{proc.stderr}{proc.stdout}"
        )
    outputs = [Path(line) for line in proc.stdout.splitlines() if line.strip()]
    missing = [str(p) for p in outputs if not p.is_file()]
    if len(outputs) != len(names) or missing:
        raise TranslationError(
            f"hipify-tool printed {len(outputs)} outputs for {len(names)} sources"
            f"{', missing: ' + ', '.join(missing) if missing else ''}\n{proc.stdout}{proc.stderr}"
        )
    return outputs


def translated_files(out: Path) -> dict[str, bytes]:
    """Every file of a hipify-tool output root (its .hipify-tool state dir excluded)."""
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and ".hipify-tool" not in p.relative_to(out).parts
    }


def tree_leftovers(out: Path) -> dict[str, list[str]]:
    """CUDA identifiers in the ROCm-taken code of each source file under `out`."""
    leftovers = {}
    for name, data in translated_files(out).items():
        if Path(name).suffix in (".hip", ".cu", ".cuh", ".h", ".hpp", ".cpp", ".cc"):
            names = cuda_identifiers(data.decode("utf-8"))
            if names:
                leftovers[name] = names
    return leftovers


# --- AMD toolchain ----------------------------------------------------------------------------

CLANGXX = shutil.which("clang++-19")
CLANG = shutil.which("clang-19")
BUNDLER = shutil.which("clang-offload-bundler-19") or shutil.which("clang-offload-bundler")
OBJCOPY = shutil.which("llvm-objcopy-19") or shutil.which("llvm-objcopy")
OBJDUMP = shutil.which("llvm-objdump-19") or shutil.which("llvm-objdump")
BITCODE = Path(os.environ.get("PTGQ_ROCM_BITCODE", "/usr/lib/x86_64-linux-gnu/amdgcn/bitcode"))
HIP_HEADER = Path("/usr/include/hip/hip_runtime.h")
# Where .ci/run puts a CMake that can enable_language(HIP) with Debian's packages, without
# replacing the system cmake on PATH (the CMake package tests run on Debian's 3.25).
HIP_CMAKE_DEFAULT = Path("/opt/cmake-hip/cmake/data/bin/cmake")
HIP_CMAKE_MIN = (3, 27)
APT_PACKAGES = "clang-19 clang-tools-19 llvm-19 lld-19 rocm-device-libs libamdhip64-dev libclang-rt-19-dev"


def run_step(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run a build step; on failure, fail the test with the step's output."""
    proc: subprocess.CompletedProcess[str] = subprocess.run(cmd, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    if proc.returncode != 0:
        pytest.fail(f"exit {proc.returncode}: {' '.join(cmd)}\n{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}")
    return proc


def configure_example(
    cmake: str, tmp: Path, build_dir: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[str, str]:
    """Configure csrc_example into ``build_dir`` with hipify-tool's CMake package, Ninja and compile
    commands, as the docs give the command; ``(hipify_tool_DIR, configure output)``."""
    hipify_dir = run_step([sys.executable, "-m", "hipify_tool", "--cmake-dir"], cwd=tmp, env=tool_env()).stdout.strip()
    command = [cmake, "-S", str(EXAMPLE), "-B", str(build_dir), "-G", "Ninja", *args]
    command += [f"-Dhipify_tool_DIR={hipify_dir}", f"-DPython_EXECUTABLE={sys.executable}"]
    command.append("-DCMAKE_EXPORT_COMPILE_COMMANDS=ON")
    return hipify_dir, run_step(command, cwd=tmp, env=env).stdout


def require(ok: object, reason: str) -> None:
    """Skip when `ok` is false; in CI (CI set) fail instead: CI must prove the ROCm build."""
    if ok:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must run this check, but it {reason}")
    pytest.skip(reason)


def missing_amd_tools() -> list[str]:
    """What the AMD compile checks need and this machine lacks."""
    missing = [
        name
        for name, found in [
            ("clang++-19", CLANGXX),
            ("clang-19", CLANG),
            ("clang-offload-bundler", BUNDLER),
            ("llvm-objcopy", OBJCOPY),
            ("llvm-objdump", OBJDUMP),
        ]
        if found is None
    ]
    if not HIP_HEADER.exists():
        missing.append(str(HIP_HEADER))
    if not (BITCODE / "ocml.bc").exists():
        missing.append(str(BITCODE / "ocml.bc"))
    return missing


def _cmake_version(cmake: str) -> tuple[int, ...] | None:
    try:
        text = subprocess.run([cmake, "--version"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    m = re.search(r"cmake version (\d+)\.(\d+)", text)
    return (int(m.group(1)), int(m.group(2))) if m else None


def hip_cmake() -> str | None:
    """A CMake >= 3.27 (enable_language(HIP) with Debian's multiarch hip-lang), or None.

    Tried: $PTGQ_HIP_CMAKE, /opt/cmake-hip (.ci/run), the pip `cmake` module of this Python,
    `cmake` on PATH.
    """
    candidates = [os.environ.get("PTGQ_HIP_CMAKE"), str(HIP_CMAKE_DEFAULT)]
    try:
        import cmake as cmake_module  # type: ignore[import-not-found,unused-ignore]  # pip package

        candidates.append(os.path.join(cmake_module.CMAKE_BIN_DIR, "cmake"))
    except (ImportError, AttributeError):
        pass
    candidates.append(shutil.which("cmake"))
    for cmake in candidates:
        if cmake and os.path.isfile(cmake):
            version = _cmake_version(cmake)
            if version is not None and version >= HIP_CMAKE_MIN:
                return cmake
    return None


def bitcode_with_gfx942(tmp: Path) -> Path:
    """ROCm device bitcode with oclc_isa_version_942.bc.

    Debian's rocm-device-libs (5.2) lacks it: it is one constant, so it is generated into a copy.
    """
    if (BITCODE / "oclc_isa_version_942.bc").exists():
        return BITCODE
    dst = tmp / "bitcode"
    if (dst / "oclc_isa_version_942.bc").exists():
        return dst
    shutil.copytree(BITCODE, dst)
    ll = tmp / "isa942.ll"
    ll.write_text(
        'target triple = "amdgcn-amd-amdhsa"\n'
        "@__oclc_ISA_version = linkonce_odr hidden local_unnamed_addr addrspace(4) "
        "constant i32 9402, align 4\n"
    )
    subprocess.run(
        [
            CLANG or "clang-19",
            "-c",
            "-emit-llvm",
            "-nogpulib",
            "--target=amdgcn-amd-amdhsa",
            str(ll),
            "-o",
            str(dst / "oclc_isa_version_942.bc"),
        ],
        check=True,
    )
    return dst


def device_code(obj: Path, tmp: Path) -> dict[str, str]:
    """{offload arch: disassembly} of the device code embedded in a HIP object (.hip_fatbin)."""
    objcopy, bundler, objdump = OBJCOPY or "llvm-objcopy", BUNDLER or "clang-offload-bundler", OBJDUMP or "llvm-objdump"
    tmp.mkdir(parents=True, exist_ok=True)
    fatbin = tmp / (obj.name + ".fatbin")
    subprocess.run([objcopy, f"--dump-section=.hip_fatbin={fatbin}", str(obj), os.devnull], check=True)
    listed = subprocess.run(
        [bundler, "--list", "--type=o", f"--input={fatbin}"], capture_output=True, text=True, check=True
    ).stdout.split()
    code: dict[str, str] = {}
    for target in listed:
        m = re.fullmatch(r"hipv4-amdgcn-amd-amdhsa-[^-]*-(gfx\w+)(?::.*)?", target)
        if m is None:
            continue  # the (empty) host entry
        co = tmp / f"{obj.name}.{m.group(1)}.co"
        subprocess.run(
            [bundler, "--unbundle", "--type=o", f"--input={fatbin}", f"--targets={target}", f"--output={co}"],
            check=True,
        )
        code[m.group(1)] = subprocess.run([objdump, "-d", str(co)], capture_output=True, text=True, check=True).stdout
    return code


# --- CUDA names left in ROCm-taken code -------------------------------------------------------

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
