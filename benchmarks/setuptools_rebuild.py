"""``setup.py build_ext`` timings: hipify_tool.setuptools against torch's own CUDAExtension, same run.

    python benchmarks/setuptools_rebuild.py [--repeat 3] [--projects deepspeed_like,apex_like,...]

For each project (the DeepSpeed-, flash-attention- and apex-shaped test fixtures and csrc_example),
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
# project -> (where it lives, the header the edit touches)
PROJECTS = {
    "deepspeed_like": (FIXTURES / "deepspeed_like", "csrc/includes/ds_kernel_utils.h"),
    "flash_attn_like": (FIXTURES / "flash_attn_like", "csrc/flash_attn/src/flash.h"),
    "apex_like": (FIXTURES / "apex_like", "csrc/type_shim.h"),
    "csrc_example": (REPO / "csrc_example", "csrc/quant_utils.cuh"),
}
OURS, TORCH = "hipify_tool.setuptools", "torch.utils.cpp_extension"
STEPS = ("first build", "no-op", "header edit", "egg_info")


def copy_project(name: str, dest: Path, *, torch_path: bool) -> Path:
    src, _ = PROJECTS[name]
    if name == "csrc_example":
        for sub in ("csrc", "python"):
            shutil.copytree(src / sub, dest / sub)
        for file in ("setup.py", "pyproject.toml", "NOTES.md"):
            shutil.copy2(src / file, dest / file)
    else:
        shutil.copytree(src, dest)
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


def build(project: Path, env: dict[str, str], command: str = "build_ext") -> float:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "setup.py", command], cwd=project, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{project}: {command} failed\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return elapsed


def run_steps(name: str, base: Path, env: dict[str, str], *, torch_path: bool) -> dict[str, tuple[float, int]]:
    """(seconds, files written) for each step on a fresh copy."""
    project = copy_project(name, base, torch_path=torch_path)
    out: dict[str, tuple[float, int]] = {}
    header = project / PROJECTS[name][1]
    for step in STEPS:
        if step == "header edit":
            header.write_text(header.read_text() + "// edited by the benchmark\n")
        before = mtimes(project)
        seconds = build(project, env, "egg_info" if step == "egg_info" else "build_ext")
        out[step] = (seconds, written(before, mtimes(project), torch_path=torch_path))
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
        results: dict[tuple[str, bool], list[dict[str, tuple[float, int]]]] = {}
        for i in range(args.repeat):
            for name in names:
                for torch_path in (False, True):
                    base = Path(tmp) / f"{name}-{'torch' if torch_path else 'ours'}-{i}"
                    results.setdefault((name, torch_path), []).append(run_steps(name, base, env, torch_path=torch_path))
    print(f"setup.py build_ext under simulated ROCm, median of {args.repeat} (python {sys.version.split()[0]})")
    print()
    print("| project | step | hipify_tool.setuptools | torch's CUDAExtension | ratio (torch / ours) |")
    print("|---|---|---|---|---|")
    for name in names:
        for step in STEPS:
            ours = [r[step] for r in results[(name, False)]]
            theirs = [r[step] for r in results[(name, True)]]
            t_ours = statistics.median(s for s, _ in ours)
            t_theirs = statistics.median(s for s, _ in theirs)
            w_ours, w_theirs = ours[0][1], theirs[0][1]
            print(
                f"| {name} | {step} | {t_ours:.2f} s ({w_ours} written) | {t_theirs:.2f} s ({w_theirs} written)"
                f" | {t_theirs / t_ours:.2f} |"
            )


if __name__ == "__main__":
    main()
