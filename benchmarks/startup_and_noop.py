#!/usr/bin/env python3
"""Start-up and no-op cost of this checkout, optionally beside another revision in the same run.

    python benchmarks/startup_and_noop.py [--baseline REV] [--repeat N] [--cccl DIR]
    python benchmarks/startup_and_noop.py --targets [--baseline REV] [--tree DIR ...]

Measured for each checkout, alternating between them so machine noise hits both alike:

- ``--version``: wall time of ``python -m hipify_tool --version`` and, from ``python -X importtime``,
  the package modules it loads (a front end must not load the pipeline to print a version);
- no-op rerun: ``hipify-tool run`` with nothing changed, on a generated 25-file tree and on a CCCL
  sample (CUB + thrust/system/cuda), after one cold run;
- cold run: ``hipify-tool run -j1`` of the CCCL sample into a new output dir;
- lines per module of ``hipify_tool/``.

``--targets`` measures, in one run, what the state record is for (each a ratio of medians):

- no-op ``run`` on the whole CCCL tree against PyTorch's own rerun (``hipify()`` on its own output);
- ``plan`` on CCCL (outputs planned once) against that rerun;
- no-op ``run`` on the reference project (``csrc_example/csrc``) against a bare ``python -c pass``;
- ``check`` on the reference project against its no-op ``run``;
- cold runs (``-j`` default) against PyTorch's cold run, on CCCL and on every ``--tree``;
- each of these for ``--baseline REV`` too, the checkouts taking turns.

``--baseline REV`` checks REV out into a temporary git worktree (removed afterwards). Medians of
``--repeat`` runs; compare the ratios, not the seconds (shared machines are noisy).
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


# As an installed package runs: with Python's bytecode cache (a shell that sets PYTHONDONTWRITEBYTECODE
# would otherwise make every run compile every module it imports).
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _timed(cmd: list[str], checkout: Path, cwd: Path | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd or checkout, check=True, capture_output=True, env=_ENV)
    return time.perf_counter() - start


def _loaded_modules(checkout: Path) -> list[str]:
    proc = subprocess.run(
        _cli(checkout, "--version", importtime=True),
        cwd=checkout,
        check=True,
        capture_output=True,
        text=True,
        env=_ENV,
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


REFERENCE = REPO / "csrc_example" / "csrc"
_PYTORCH = """
import sys
from torch.utils.hipify.hipify_python import hipify
hipify(project_directory=sys.argv[1], output_directory=sys.argv[2], header_include_dirs=["."],
       is_pytorch_extension=True, show_progress=False)
"""


def _pytorch(tree: Path, out: Path) -> list[str]:
    return [sys.executable, "-c", _PYTORCH, str(tree), str(out)]


Make = Callable[[int], tuple[list[str], "Path | None"]]
"""Round ``i``'s command, and a dir to delete before it (a cold run's output), or ``None``."""


def _rounds(repeat: int, commands: dict[str, Make]) -> dict[str, float]:
    """Median seconds per label, every label run once per round (machine noise hits all alike)."""
    times: dict[str, list[float]] = {label: [] for label in commands}
    for i in range(repeat):
        for label, make in commands.items():
            cmd, fresh = make(i)
            if fresh is not None:
                shutil.rmtree(fresh, ignore_errors=True)
            times[label].append(_timed(cmd, REPO))
    return {label: statistics.median(t) for label, t in times.items()}


def _targets(args: argparse.Namespace, checkouts: dict[str, Path], work: Path) -> None:
    """Every figure of the fast-path targets, the checkouts and PyTorch measured in the same run."""
    repeat = args.repeat
    cccl = work / "cccl-full"
    shutil.copytree(args.cccl, cccl)
    ref = work / "reference"
    shutil.copytree(REFERENCE, ref)
    trees = {"CCCL": cccl}
    for extra in args.tree:
        trees[extra.name] = work / f"tree-{extra.name}"
        shutil.copytree(extra, trees[extra.name])
    time.sleep(0.1)  # the copies settle: a record is trusted only for files older than its run
    load = os.getloadavg()
    tags = {name: name.replace(" ", "_") for name in checkouts}

    def tool(c: Path, command: str, tree: Path, out: Path, *extra: str) -> list[str]:
        return _cli(c, command, "-q", "--no-config", "-p", str(tree), "-o", str(out), "-I", str(tree), *extra)

    def each(command: str, tree: Path, out: str) -> dict[str, Make]:
        return {
            name: (lambda i, c=c, t=tags[name]: (tool(c, command, tree, work / f"{out}-{t}"), None))
            for name, c in checkouts.items()
        }

    for name, c in checkouts.items():  # the cold runs the no-ops repeat, then one that settles
        for _ in range(2):
            _timed(tool(c, "run", cccl, work / f"noop-{tags[name]}"), c)
            _timed(tool(c, "run", ref, work / f"ref-{tags[name]}"), c)
            time.sleep(0.1)
    noop = _rounds(
        repeat, {"PyTorch": lambda i: (_pytorch(cccl, work / "pt-rerun"), None), **each("run", cccl, "noop")}
    )
    planned = _rounds(repeat, each("plan", cccl, "noop"))
    bare = _rounds(repeat, {"python -c pass": lambda i: ([sys.executable, "-c", "pass"], None)})["python -c pass"]
    ref_noop = _rounds(repeat, each("run", ref, "ref"))
    ref_check = _rounds(repeat, each("check", ref, "ref"))
    cold: dict[str, dict[str, float]] = {}
    for tree_name, tree in trees.items():
        commands: dict[str, Make] = {
            "PyTorch": lambda i, t=tree, n=tree_name: (_pytorch(t, work / f"pt-{n}"), work / f"pt-{n}")
        }
        for name, c in checkouts.items():
            out = work / f"cold-{tree_name}-{tags[name]}"
            commands[name] = lambda i, c=c, t=tree, o=out: (tool(c, "run", t, o), o)
        cold[tree_name] = _rounds(repeat, commands)
    pt_rerun = noop["PyTorch"]
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; after: {os.getloadavg()[0]:.2f}")
    print(
        f"PyTorch: rerun CCCL {pt_rerun:.3f} s; cold " + ", ".join(f"{n} {t['PyTorch']:.3f} s" for n, t in cold.items())
    )
    print(f"python -c pass: {bare:.3f} s (medians of {repeat})\n")
    print("| target | " + " | ".join(checkouts) + " |")
    print("|---|" + "---|" * len(checkouts))

    def row(label: str, cell: Callable[[str], str]) -> None:
        print(f"| {label} | " + " | ".join(cell(name) for name in checkouts) + " |")

    row("no-op run, CCCL: x PyTorch's rerun (>= 150)", lambda n: f"{noop[n]:.3f} s, {pt_rerun / noop[n]:.0f}x")
    row("plan, CCCL: x PyTorch's rerun (>= 75)", lambda n: f"{planned[n]:.3f} s, {pt_rerun / planned[n]:.0f}x")
    row("no-op run, reference: / python -c pass (<= 4)", lambda n: f"{ref_noop[n]:.3f} s, {ref_noop[n] / bare:.1f}x")
    row(
        "check, reference: / its no-op run (<= 1.5)",
        lambda n: f"{ref_check[n]:.3f} s, {ref_check[n] / ref_noop[n]:.2f}x",
    )
    for tree_name, by in cold.items():
        row(
            f"cold -j, {tree_name}: x PyTorch's cold (>= 10)",
            lambda n, b=by: f"{b[n]:.3f} s, {b['PyTorch'] / b[n]:.1f}x",
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", help="a git revision to measure beside this checkout")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cccl", type=Path, default=CCCL)
    parser.add_argument("--targets", action="store_true", help="measure the fast-path targets (see above)")
    parser.add_argument("--tree", type=Path, action="append", default=[], help="another tree for the cold ratio")
    args = parser.parse_args()
    if args.targets:
        with tempfile.TemporaryDirectory() as tmp, _maybe_worktree(args.baseline) as baseline:
            checkouts = {"this checkout": REPO}
            if baseline is not None:
                checkouts = {f"baseline {args.baseline}": baseline, **checkouts}
            _targets(args, checkouts, Path(tmp))
        return
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
