"""``setup.py build_ext`` timings: hipify_tool.setuptools against torch's own CUDAExtension, same run.

    python benchmarks/setuptools_rebuild.py [--repeat 3] [--projects deepspeed_like,apex_like,...]

For each project (the DeepSpeed-, flash-attention- and apex-shaped test fixtures, csrc_example, and a
generated one: 200 kernels over 20 headers),
two copies are built under simulated ROCm (hipify_tool.rocm_sim: the compilers and the linker
record their command lines and write empty outputs, so what is timed is setup.py, the translation
and setuptools, not compiling): one as written (``hipify_tool.setuptools``), one with those imports
switched to ``torch.utils.cpp_extension`` (PyTorch's in-place hipify). Each step is timed on fresh
copies, the two paths alternating, median of --repeat:

- first build: ``build_ext`` on a fresh copy;
- no-op: ``build_ext`` again, nothing changed;
- header edit: one header every source of an extension reads gets a comment line, then ``build_ext``;
- egg_info: what reading setup.py costs (pip reads it three times per install; so do sdist and
  ``--name``): torch's CUDAExtension hipifies the sources each time, ours translates nothing.

Also counted: files written by the step (mtime changed or new) where each path puts translations
(ours: the output roots under build/; torch's: the source tree).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from hipify_tool import rocm_sim  # noqa: E402

FIXTURES = REPO / "tests" / "fixtures" / "setuptools"
GENERATED = "generated"
"""A project written by :func:`make_generated`: 200 kernels over 20 shared headers."""
# project -> (where it lives, the header the edit touches)
PROJECTS = {
    "deepspeed_like": (FIXTURES / "deepspeed_like", "csrc/includes/ds_kernel_utils.h"),
    "flash_attn_like": (FIXTURES / "flash_attn_like", "csrc/flash_attn/src/flash.h"),
    "apex_like": (FIXTURES / "apex_like", "csrc/type_shim.h"),
    "csrc_example": (REPO / "csrc_example", "csrc/quant_utils.cuh"),
    GENERATED: (Path(), "csrc/include/family_000.cuh"),
}
OURS, TORCH = "hipify_tool.setuptools", "torch.utils.cpp_extension"
STEPS = ("first build", "no-op", "header edit", "egg_info")


def make_generated(dest: Path, n_sources: int, n_headers: int) -> None:
    """One extension: each kernel includes one family header, every family header the common one."""
    inc = dest / "csrc" / "include"
    inc.mkdir(parents=True)
    (dest / "csrc" / "kernels").mkdir()
    (inc / "common.cuh").write_text(
        "#pragma once\n#include <cuda_runtime.h>\ninline cudaError_t check() { return cudaGetLastError(); }\n"
    )
    for h in range(n_headers):
        (inc / f"family_{h:03d}.cuh").write_text(
            f'#pragma once\n#include "common.cuh"\ninline __device__ int family_{h}() {{ return {h}; }}\n'
        )
    sources = []
    for i in range(n_sources):
        rel = f"csrc/kernels/kernel_{i:04d}.cu"
        (dest / rel).write_text(
            f'#include "family_{i % n_headers:03d}.cuh"\n'
            f"__global__ void kernel_{i}(int* out) {{ out[threadIdx.x] = family_{i % n_headers}() + {i}; }}\n"
            f"void launch_{i}(int* out, cudaStream_t s) {{ kernel_{i}<<<1, 64, 0, s>>>(out); check(); }}\n"
        )
        sources.append(rel)
    (dest / "setup.py").write_text(
        "from setuptools import setup\n"
        f"from {OURS} import BuildExtension, CUDAExtension\n"
        f"setup(name='generated', ext_modules=[CUDAExtension('generated', {sources!r}, "
        "include_dirs=['csrc/include'])], cmdclass={'build_ext': BuildExtension})\n"
    )


def copy_project(name: str, dest: Path, *, torch_path: bool, size: tuple[int, int] = (200, 20)) -> Path:
    if name == GENERATED:
        make_generated(dest, *size)
    elif name == "csrc_example":
        src = PROJECTS[name][0]
        for sub in ("csrc", "python"):
            shutil.copytree(src / sub, dest / sub)
        for file in ("setup.py", "pyproject.toml", "NOTES.md"):
            shutil.copy2(src / file, dest / file)
    else:
        shutil.copytree(PROJECTS[name][0], dest)
    if torch_path:
        for path in dest.rglob("*.py"):
            text = path.read_text()
            path.write_text(text.replace(f"from {OURS} import", f"from {TORCH} import"))
    return dest


def mtimes(root: Path) -> dict[str, int]:
    return {
        str(p.relative_to(root)): p.stat().st_mtime_ns
        for p in root.rglob("*")
        if p.is_file() and ".hipify-tool" not in p.parts and "__pycache__" not in p.parts
    }


def written(before: dict[str, int], after: dict[str, int], *, torch_path: bool) -> int:
    """Translations written by a step: in the tree (torch's path) or under build/*/hipify (ours)."""

    def counts(rel: str) -> bool:
        if torch_path:
            return not rel.startswith("build/") and ".egg-info" not in rel
        parts = rel.split("/")
        return len(parts) > 3 and parts[0] == "build" and parts[1].startswith("temp.") and parts[2] == "hipify"

    return sum(1 for rel, t in after.items() if counts(rel) and before.get(rel) != t)


# Imports what both paths share (torch, setuptools), then runs setup.py in this process and prints
# how long that took: the part of a build the two paths do differently (translation included).
DRIVER = r"""
import runpy, sys, time
import setuptools.command.build_ext
import torch.utils.cpp_extension
sys.argv = ["setup.py", *sys.argv[1:]]
sys.path.insert(0, ".")
start = time.perf_counter()
runpy.run_path("setup.py", run_name="__main__")
print("@@SETUP_PY@@", time.perf_counter() - start)
"""


def build(project: Path, env: dict[str, str], command: str = "build_ext") -> tuple[float, float]:
    """(wall seconds of the whole command, seconds setup.py itself ran after torch was imported)."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", DRIVER, command], cwd=project, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{project}: {command} failed\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    (line,) = [ln for ln in proc.stdout.splitlines() if ln.startswith("@@SETUP_PY@@")]
    return elapsed, float(line.split()[1])


Step = tuple[float, float, int]
"""(wall seconds, setup.py seconds after torch's import, files written)"""


def run_steps(name: str, base: Path, env: dict[str, str], *, torch_path: bool) -> dict[str, Step]:
    """Each step on a fresh copy."""
    project = copy_project(name, base, torch_path=torch_path)
    out: dict[str, Step] = {}
    header = project / PROJECTS[name][1]
    for step in STEPS:
        if step == "header edit":
            header.write_text(header.read_text() + "// edited by the benchmark\n")
        before = mtimes(project)
        wall, inside = build(project, env, "egg_info" if step == "egg_info" else "build_ext")
        out[step] = (wall, inside, written(before, mtimes(project), torch_path=torch_path))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--projects", default=",".join(PROJECTS))
    args = parser.parse_args()
    names = [n for n in args.projects.split(",") if n]
    with tempfile.TemporaryDirectory(prefix="hipify-setuptools-bench-") as tmp:
        sim = rocm_sim.create(Path(tmp) / "sim")
        env = sim.env()
        env["PYTHONPATH"] = os.pathsep.join([env["PYTHONPATH"], str(REPO)])
        env["MAX_JOBS"] = "1"
        results: dict[tuple[str, bool], list[dict[str, Step]]] = {}
        for i in range(args.repeat):
            for name in names:
                for torch_path in (False, True):
                    base = Path(tmp) / f"{name}-{'torch' if torch_path else 'ours'}-{i}"
                    results.setdefault((name, torch_path), []).append(run_steps(name, base, env, torch_path=torch_path))
    versions = f"python {sys.version.split()[0]}, torch {torch_version()}"
    print(f"setup.py under simulated ROCm, median of {args.repeat} ({versions})")
    print("setup.py: how long setup.py ran after torch was imported; command: the whole command's wall time")
    print()
    print(
        "| project | step | ours: setup.py | torch's: setup.py | ratio | ours: command | torch's: command"
        " | written (ours / torch's) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name in names:
        for step in STEPS:
            ours = [r[step] for r in results[(name, False)]]
            theirs = [r[step] for r in results[(name, True)]]
            wall_ours, wall_theirs = (statistics.median(r[0] for r in rs) for rs in (ours, theirs))
            in_ours, in_theirs = (statistics.median(r[1] for r in rs) for rs in (ours, theirs))
            print(
                f"| {name} | {step} | {in_ours:.3f} s | {in_theirs:.3f} s | {in_theirs / in_ours:.2f} |"
                f" {wall_ours:.2f} s | {wall_theirs:.2f} s | {ours[0][2]} / {theirs[0][2]} |"
            )


def torch_version() -> str:
    import importlib.metadata

    return importlib.metadata.version("torch")


if __name__ == "__main__":
    main()
