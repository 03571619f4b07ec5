#!/usr/bin/env python3
"""Start-up and no-op cost of this checkout, optionally beside another revision in the same run.

    python benchmarks/startup_and_noop.py [--baseline REV] [--repeat N] [--cccl DIR]

Measured for each checkout, alternating between them so machine noise hits both alike:

- ``--version``: wall time of ``python -m hipify_tool --version`` and, from ``python -X importtime``,
  the package modules it loads (a front end must not load the pipeline to print a version);
- no-op rerun: ``hipify-tool run`` with nothing changed, on a generated 25-file tree and on a CCCL
  sample (CUB + thrust/system/cuda), after one cold run;
- cold run: ``hipify-tool run -j1`` of the CCCL sample into a new output dir;
- lines per module of ``hipify_tool/``.

``--baseline REV`` checks REV out into a temporary git worktree (removed afterwards). Medians of
``--repeat`` runs; compare the ratios, not the seconds (shared machines are noisy).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CCCL = Path("/usr/local/cuda/include/cccl")


# Runs the CLI of one checkout: an editable install's import hook would otherwise pick the installed one.
_BOOT = (
    "import runpy, sys; sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in type(f).__module__]; "
    "sys.path.insert(0, sys.argv.pop(1)); sys.argv[0] = 'hipify-tool'; "
    "runpy.run_module('hipify_tool', run_name='__main__')"
)


def _cli(checkout: Path, *args: str, importtime: bool = False) -> list[str]:
    return [sys.executable, *(["-X", "importtime"] if importtime else []), "-c", _BOOT, str(checkout), *args]


def _timed(cmd: list[str], checkout: Path, cwd: Path | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd or checkout, check=True, capture_output=True)
    return time.perf_counter() - start


def _loaded_modules(checkout: Path) -> list[str]:
    proc = subprocess.run(
        _cli(checkout, "--version", importtime=True),
        cwd=checkout,
        check=True,
        capture_output=True,
        text=True,
    )
    names = [line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if "|" in line]
    return sorted({n for n in names if n.startswith("hipify_tool")})


def _tree25(root: Path) -> Path:
    """25 files: 15 sources over 3 dirs (one named cuda/) and 10 headers, as a small extension has."""
    for d in range(3):
        sub = root / ("cuda" if d == 0 else f"k{d}")
        sub.mkdir(parents=True)
        for i in range(5):
            (sub / f"op{i}.cu").write_text(
                f'#include "../include/h{i}.cuh"\n__global__ void k{i}(float* x) {{ x[threadIdx.x] = 0; }}\n'
                f"void launch{i}(cudaStream_t s) {{ k{i}<<<1, 32, 0, s>>>(nullptr); cudaGetLastError(); }}\n"
            )
    (root / "include").mkdir()
    for i in range(10):
        (root / "include" / f"h{i}.cuh").write_text(f"#pragma once\n#include <cuda_runtime.h>\ncudaEvent_t e{i};\n")
    return root


def _run_cmd(checkout: Path, tree: Path, out: Path, *extra: str) -> list[str]:
    return _cli(checkout, "run", "-q", "-p", str(tree), "-o", str(out), "-I", str(tree), *extra)


def _alternating(
    checkouts: dict[str, Path], repeat: int, command: Callable[[str, Path, int], list[str]]
) -> dict[str, float]:
    """Median seconds of ``command(name, checkout, round)`` per checkout, the checkouts taking turns."""
    times: dict[str, list[float]] = {name: [] for name in checkouts}
    for round_ in range(repeat):
        for name, checkout in checkouts.items():
            times[name].append(_timed(command(name, checkout, round_), checkout))
    return {name: statistics.median(t) for name, t in times.items()}


def _lines(checkout: Path) -> dict[str, int]:
    package = checkout / "hipify_tool"
    return {str(p.relative_to(package)): len(p.read_text().splitlines()) for p in sorted(package.rglob("*.py"))}


@contextmanager
def _worktree(rev: str) -> Iterator[Path]:
    where = Path(tempfile.mkdtemp(prefix="hipify-tool-baseline-"))
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", str(where), rev], check=True, capture_output=True
    )
    try:
        yield where
    finally:
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "remove", "--force", str(where)], check=False, capture_output=True
        )
        shutil.rmtree(where, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", help="a git revision to measure beside this checkout")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cccl", type=Path, default=CCCL)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, _maybe_worktree(args.baseline) as baseline:
        work = Path(tmp)
        small = _tree25(work / "tree25")
        cccl = work / "cccl"
        if args.cccl.is_dir():
            shutil.copytree(args.cccl / "cub", cccl / "cub")
            shutil.copytree(args.cccl / "thrust" / "system" / "cuda", cccl / "thrust" / "system" / "cuda")
        checkouts = {"this checkout": REPO}
        if baseline is not None:
            checkouts = {f"baseline {args.baseline}": baseline, **checkouts}
        rows: dict[str, dict[str, str]] = {name: {} for name in checkouts}
        tags = {name: name.replace(" ", "_") for name in checkouts}
        measured = {"--version (s)": _alternating(checkouts, args.repeat, lambda n, c, r: _cli(c, "--version"))}
        trees = {"25 files": small, **({"CCCL sample": cccl} if cccl.is_dir() else {})}
        for label, tree in trees.items():
            for name, checkout in checkouts.items():  # the cold run the no-ops repeat
                _timed(_run_cmd(checkout, tree, work / f"noop_{label}_{tags[name]}"), checkout)
            measured[f"no-op, {label} (s)"] = _alternating(
                checkouts, args.repeat, lambda n, c, r, t=tree, lb=label: _run_cmd(c, t, work / f"noop_{lb}_{tags[n]}")
            )
        if cccl.is_dir():
            measured["cold -j1, CCCL sample (s)"] = _alternating(
                checkouts, args.repeat, lambda n, c, r: _run_cmd(c, cccl, work / f"cold_{tags[n]}_{r}", "-j1")
            )
        for name, checkout in checkouts.items():
            for key, by_name in measured.items():
                rows[name][key] = f"{by_name[name]:.3f}"
            modules = _loaded_modules(checkout)
            rows[name]["modules loaded by --version"] = f"{len(modules)}: {', '.join(modules)}"
            lines = _lines(checkout)
            biggest = max(lines.items(), key=lambda kv: kv[1])
            rows[name]["modules / largest (lines)"] = f"{len(lines)} / {biggest[0]} ({biggest[1]})"
        names = list(checkouts)
        print("| measure | " + " | ".join(names) + " |")
        print("|---|" + "---|" * len(names))
        for key in rows[names[0]]:
            print(f"| {key} | " + " | ".join(rows[n].get(key, "") for n in names) + " |")
        print("\nLines per module (this checkout):")
        for module, count in _lines(REPO).items():
            print(f"  {count:5d}  {module}")


@contextmanager
def _maybe_worktree(rev: str | None) -> Iterator[Path | None]:
    if rev is None:
        yield None
        return
    with _worktree(rev) as where:
        yield where


if __name__ == "__main__":
    main()
