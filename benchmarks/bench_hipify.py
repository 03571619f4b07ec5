#!/usr/bin/env python3
"""hipify-tool against PyTorch's own ``hipify()``, measured in the same run (ratios, not seconds).

    python benchmarks/bench_hipify.py [TREE ...]      # default: /usr/local/cuda/include/cccl

For each tree (copied to a temporary directory first), every measurement runs in a fresh process,
as users call the tools: PyTorch's ``hipify(project_directory, output_directory,
header_include_dirs=["."], is_pytorch_extension=True)`` and ``hipify-tool run -p TREE -o OUT -I TREE``.

- cold: fresh output dir;  no-op: rerun with nothing changed;  header edit: rerun after appending a
  line to one widely included header;  one file: a single small ``.cu`` (start-up cost), with peak RSS;
- scaling: hipify-tool cold ``-j1`` runs on nested samples of 10 %, 25 %, 50 % and 100 % of the tree
  (the marginal files/s, past the fixed start-up, should stay flat);
- identity: every output hipify-tool writes is compared with PyTorch's file of the same name.

Each timing is the median of ``--repeat`` runs. Nothing here is a test: tests check behaviour.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTORCH_SCRIPT = """
import sys
from torch.utils.hipify.hipify_python import hipify
hipify(project_directory=sys.argv[1], output_directory=sys.argv[2], header_include_dirs=["."],
       is_pytorch_extension=True, show_progress=False)
"""
IMPORT_ONLY = "import torch.utils.hipify.hipify_python"
# Include directives PyTorch's '#include "..."' regex does not see (docs/differences.md #5).
UNRECOGNISED_INCLUDE = re.compile(r'\s*#(?:\s+include|include(?=["<]))')


@dataclass(frozen=True)
class Sample:
    seconds: float
    max_rss_mb: float


def measure(cmd: list[str], cwd: Path | None = None) -> Sample:
    """Wall time and peak RSS of one child process (``wait4`` gives the child's own rusage)."""
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as an installed package runs: with the bytecode cache
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        raise SystemExit(f"command failed ({status}): {' '.join(cmd)}\n{err[-2000:]}")
    return Sample(elapsed, usage.ru_maxrss / 1024)


def median(samples: list[Sample]) -> Sample:
    return Sample(statistics.median(s.seconds for s in samples), max(s.max_rss_mb for s in samples))


def pytorch_cmd(tree: Path, out: Path) -> list[str]:
    return [sys.executable, "-c", PYTORCH_SCRIPT, str(tree), str(out)]


def tool_cmd(tree: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "hipify_tool", "run", "-q", "-p", str(tree), "-o", str(out), "-I", str(tree), *extra]


def most_included_header(tree: Path) -> Path:
    """The header whose basename appears in the most include lines: the worst case for an edit."""
    counts: dict[str, int] = {}
    for path in tree.rglob("*"):
        if path.is_file():
            for line in path.read_text(errors="replace").splitlines():
                if "include" in line and ("<" in line or '"' in line):
                    name = line.replace("<", '"').replace(">", '"').split('"')
                    if len(name) > 1:
                        counts[Path(name[1]).name] = counts.get(Path(name[1]).name, 0) + 1
    candidates = [p for p in tree.rglob("*.h") if p.name in counts] + [
        p for p in tree.rglob("*.cuh") if p.name in counts
    ]
    return max(sorted(candidates), key=lambda p: counts[p.name])


def run_series(
    tree: Path, work: Path, repeat: int
) -> tuple[dict[str, tuple[Sample, Sample]], tuple[int, int, int, int, list[str]]]:
    results: dict[str, tuple[Sample, Sample]] = {}
    pt_out, tool_out = work / "pytorch_out", work / "tool_out"

    def cold(cmd_for, out: Path) -> Sample:
        samples = []
        for _ in range(repeat):
            shutil.rmtree(out, ignore_errors=True)
            samples.append(measure(cmd_for(tree, out)))
        return median(samples)

    pytorch_cold = cold(pytorch_cmd, pt_out)
    results["cold, -j1"] = (pytorch_cold, cold(lambda t, o: tool_cmd(t, o, "-j1"), tool_out))
    results["cold, -j (all cores)"] = (pytorch_cold, cold(tool_cmd, tool_out))
    results["no-op rerun"] = (
        median([measure(pytorch_cmd(tree, pt_out)) for _ in range(repeat)]),
        median([measure(tool_cmd(tree, tool_out)) for _ in range(repeat)]),
    )
    identical = identity(tree, work)  # before the header edit below changes one output
    header = most_included_header(tree)
    original = header.read_bytes()
    samples_pt, samples_tool = [], []
    try:
        for i in range(repeat):
            header.write_bytes(original + f"\n// edit {i}\n".encode())
            samples_pt.append(measure(pytorch_cmd(tree, pt_out)))
            samples_tool.append(measure(tool_cmd(tree, tool_out)))
    finally:
        header.write_bytes(original)
    results[f"header edit ({header.relative_to(tree)})"] = (median(samples_pt), median(samples_tool))
    return results, identical


def one_file(work: Path, repeat: int) -> dict[str, tuple[Sample, Sample]]:
    proj = work / "one"
    proj.mkdir()
    (proj / "k.cu").write_text(
        "#include <cuda_runtime.h>\n__global__ void k(float* x) { x[threadIdx.x] = 0; }\n"
        "void go(float* x, cudaStream_t s) { k<<<1, 32, 0, s>>>(x); }\n"
    )
    out_pt, out_tool = work / "one_pt", work / "one_tool"

    def fresh(cmd: list[str], out: Path) -> Sample:
        shutil.rmtree(out, ignore_errors=True)
        return measure(cmd)

    tool = median([fresh(tool_cmd(proj, out_tool, str(proj / "k.cu")), out_tool) for _ in range(repeat)])
    importing = median([measure([sys.executable, "-c", IMPORT_ONLY]) for _ in range(repeat)])
    pytorch = median([fresh(pytorch_cmd(proj, out_pt), out_pt) for _ in range(repeat)])
    return {"one file (start-up)": (pytorch, tool), "import torch.utils.hipify vs one-file run": (importing, tool)}


def scaling(tree: Path, work: Path, repeat: int) -> list[tuple[int, int, float]]:
    """Cold -j1 runs on nested random samples (seeded) of the tree: a representative mix at each size."""
    files = sorted(p for p in tree.rglob("*") if p.is_file())
    random.Random(0).shuffle(files)
    rows = []
    for fraction in (10, 25, 50, 100):
        subset = work / f"subset{fraction}"
        for p in files[: max(1, len(files) * fraction // 100)]:
            dest = subset / p.relative_to(tree)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, dest)
        count = sum(1 for p in subset.rglob("*") if p.is_file())
        out = work / f"subset{fraction}_out"
        samples = []
        for _ in range(repeat):
            shutil.rmtree(out, ignore_errors=True)
            samples.append(measure(tool_cmd(subset, out, "-j1")))
        rows.append((fraction, count, median(samples).seconds))
    return rows


def sibling_copies(tool_out: Path) -> set[str]:
    """hipify-tool's sibling copies (docs/differences.md #15), from its manifest: no PyTorch counterpart."""
    manifest = json.loads((tool_out / ".hipify-tool" / "manifest.json").read_text())
    return {copy for entry in manifest["files"].values() for copy, _ in entry.get("copies", [])}


def identity(tree: Path, work: Path) -> tuple[int, int, int, int, list[str]]:
    """(identical, differing only in include lines PyTorch does not recognise, other, sibling copies,
    examples)."""
    pt_out, tool_out = work / "pytorch_out", work / "tool_out"
    same = include_only = other = 0
    examples: list[str] = []
    copies = sibling_copies(tool_out)
    for ours in sorted(tool_out.rglob("*")):
        rel = ours.relative_to(tool_out)
        if not ours.is_file() or rel.parts[0] == ".hipify-tool" or rel.as_posix() in copies:
            continue
        theirs = pt_out / rel
        mine = ours.read_bytes()
        if theirs.is_file() and theirs.read_bytes() == mine:
            same += 1
            continue
        reference = theirs.read_bytes() if theirs.is_file() else None
        if reference is None:
            # PyTorch does not write an unchanged .cu's .hip: ours is its breadcrumb + source
            source = tree / rel.with_suffix(".cu")
            if source.is_file() and mine.endswith(source.read_bytes()):
                same += 1
                continue
        else:
            a, b = mine.decode(errors="replace").splitlines(), reference.decode(errors="replace").splitlines()
            if len(a) == len(b) and all(x == y or UNRECOGNISED_INCLUDE.match(y) for x, y in zip(a, b, strict=True)):
                include_only += 1
                continue
        other += 1
        if len(examples) < 5:
            examples.append(str(rel))
    return same, include_only, other, len(copies), examples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("trees", nargs="*", type=Path, default=[Path("/usr/local/cuda/include/cccl")])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-scaling", action="store_true")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, hipify-tool from {REPO}")
    with tempfile.TemporaryDirectory(prefix="hipify-bench-") as tmp:
        work = Path(tmp)
        rows = one_file(work, args.repeat)
        for source in args.trees:
            tree = work / "tree"
            shutil.rmtree(tree, ignore_errors=True)
            shutil.copytree(source, tree)
            nfiles = sum(1 for p in tree.rglob("*") if p.is_file())
            mb = sum(p.stat().st_size for p in tree.rglob("*") if p.is_file()) / 1e6
            print(f"\ntree {source}: {nfiles} files, {mb:.1f} MB (median of {args.repeat})")
            series, (same, include_only, other, copies, examples) = run_series(tree, work, args.repeat)
            all_rows = {**series, **rows}
            print(f"{'case':52} {'PyTorch s':>10} {'tool s':>8} {'ratio':>7} {'PyTorch MB':>11} {'tool MB':>8}")
            for case, (pt, tool) in all_rows.items():
                print(
                    f"{case:52} {pt.seconds:10.3f} {tool.seconds:8.3f} {pt.seconds / tool.seconds:6.1f}x "
                    f"{pt.max_rss_mb:11.0f} {tool.max_rss_mb:8.0f}"
                )
            print(
                f"identity: {same} outputs byte-identical to PyTorch's, {include_only} differing only in "
                f"include lines PyTorch does not recognise (docs/differences.md #5), {other} other"
                + (f": {examples}" if examples else "")
                + f"; plus {copies} sibling copies (docs/differences.md #15)"
            )
            if not args.no_scaling:
                # files/s of the whole run includes the fixed start-up (~0.3 s); the marginal rate
                # (extra files over extra seconds since the previous row) is what should stay flat
                print("scaling (hipify-tool cold, -j1): % of tree  files   seconds   files/s   marginal files/s")
                previous: tuple[int, float] | None = None
                for fraction, count, seconds in scaling(tree, work, args.repeat):
                    marginal = ""
                    if previous is not None and seconds > previous[1]:
                        marginal = f"{(count - previous[0]) / (seconds - previous[1]):18.0f}"
                    print(f"{'':28}{fraction:>9} {count:7} {seconds:9.3f} {count / seconds:9.0f}{marginal}")
                    previous = (count, seconds)
            shutil.rmtree(work / "pytorch_out", ignore_errors=True)
            shutil.rmtree(work / "tool_out", ignore_errors=True)


if __name__ == "__main__":
    main()
