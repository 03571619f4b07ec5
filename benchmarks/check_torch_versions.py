#!/usr/bin/env python3
"""Which torch releases hipify-tool reproduces, each checked against that release's own ``hipify()``.

    python benchmarks/check_torch_versions.py [--since 2.1] [--versions 2.1.2 2.13.0 ...] [--cache DIR]

For the newest patch of every torch minor release the package index serves from ``--since`` on
(default: ``torch_adapter.OLDEST_TORCH``, the oldest hipify-tool supports; ``--versions`` names exact
releases instead), this fetches one wheel with ``pip download --no-deps --only-binary=:all:`` (an
arm64 macOS wheel, else an aarch64 Linux one: CPU builds, the smallest), keeps only
``torch/utils/hipify/*.py`` and ``torch/version.py`` in the cache and deletes the wheel. Those files
are pure Python and the same on every platform.

In the cache, each release sits in its own directory with an empty ``torch/__init__.py``: neither
PyTorch's ``hipify_python`` nor hipify-tool imports anything else of torch. With that directory
first on ``PYTHONPATH`` (checked in the child: ``torch`` and ``hipify_python`` come from the cache),
hipify-tool and PyTorch's ``hipify(..., is_pytorch_extension=True)`` each run in a fresh process on
the corpus the oracle tests use: the fixture trees (given sources and whole tree), the small inline
cases, ``--launch-syntax chevron`` and the CCCL sample, plus a file holding every key of the
release's own tables (the token pass, entry by entry). Outputs are compared by
``tests/helpers.compare_with_pytorch``, which allows only the documented differences
(docs/differences.md #1 and, for CCCL, #5).

Prints one row per release: ok / differs (how) / unsupported (hipify-tool's own message) / not
checked (why). Exits 1 when a release hipify-tool claims to support is not ok. Nothing here is a
test: it downloads wheels, so CI does not run it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from helpers import (  # noqa: E402
    FIXTURES,
    cccl_sample,
    compare_with_pytorch,
    have_cccl,
    pytorch_hipify,
    subprocess_env,
    write_tree,
)
from test_oracle import CASES, INLINE_TREE  # noqa: E402

from hipify_tool.torch_adapter import OLDEST_TORCH  # noqa: E402

# Wheel platforms tried in order, smallest first (CPU-only builds); each group is one pip call.
PLATFORMS = (("macosx_11_0_arm64", "macosx_14_0_arm64"), ("manylinux2014_aarch64", "manylinux_2_28_aarch64"))
STUB_INIT = '"""Stand-in: only torch/utils/hipify and torch/version.py were taken from the wheel."""\n'
WANTED = re.compile(r"torch/version\.py|torch/utils/hipify/[^/]+\.py")

# hipify-tool's API in a fresh process; which torch it used is printed with the result.
TOOL_SCRIPT = r"""
import json, sys
import hipify_tool
from hipify_tool import torch_adapter
from hipify_tool.errors import HipifyToolError
kwargs = json.loads(sys.argv[1])
try:
    result = hipify_tool.run(**kwargs)
except HipifyToolError as exc:
    print("@@ERROR@@" + json.dumps([exc.exit_code, str(exc)]))
else:
    files = {f.output: f.source for f in result.plan.files.values()}
    print("@@FILES@@" + json.dumps([str(torch_adapter.locate().directory), files]))
"""
WHICH_HIPIFY = "import torch, torch.utils.hipify.hipify_python as h; print(torch.__file__); print(h.__file__)"
# Every key of the release's tables, one a line between non-word characters: the token pass, entry by entry.
EVERY_KEY = """
import sys
from torch.utils.hipify.cuda_to_hip_mappings import CUDA_TO_HIP_MAPPINGS
keys = dict.fromkeys(key for table in CUDA_TO_HIP_MAPPINGS for key in table)
open(sys.argv[1], "w").write("".join(f"  {key} ;\\n" for key in keys))
"""


@dataclass(frozen=True)
class Case:
    name: str
    project: Path
    sources: list[str] | None
    """Relative to ``project``; ``None``: the whole tree."""
    include_dirs: list[str]
    """Relative to ``project``."""
    chevron: bool = False
    allow_noncanonical_includes: bool = False


@dataclass(frozen=True)
class Outcome:
    verdict: str
    """``ok``, ``differs``, ``unsupported`` or ``not checked``."""
    detail: str = ""
    problems: tuple[str, ...] = ()
    """Every difference found, for the console."""


def newest_patches(since: tuple[int, int]) -> list[str]:
    """The newest release of each torch minor version from ``since`` on, as the index lists them."""
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "index", "versions", "torch"], capture_output=True, text=True, check=False
    )
    listed = re.search(r"^Available versions: (.*)$", proc.stdout, re.M)
    if listed is None:
        raise SystemExit(f"pip index versions torch printed no version list:\n{proc.stdout}{proc.stderr}")
    newest: dict[tuple[int, int], tuple[int, ...]] = {}
    for version in listed.group(1).split(", "):
        if re.fullmatch(r"\d+\.\d+\.\d+", version):  # no local (+cpu) or pre-release builds
            numbers = tuple(int(n) for n in version.split("."))
            key = (numbers[0], numbers[1])
            if key >= since and numbers > newest.get(key, ()):
                newest[key] = numbers
    return [".".join(map(str, newest[key])) for key in sorted(newest)]


def pip_download(version: str, dest: Path) -> Path | str:
    """One torch wheel in ``dest``, or pip's last error line when no platform/Python pairing has one."""
    running = f"{sys.version_info[0]}.{sys.version_info[1]}"
    error = "no wheel found"
    for python in dict.fromkeys((running, "3.11", "3.10", "3.12")):  # hipify's files do not vary with it
        for platforms in PLATFORMS:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q", "-d", str(dest)]
            cmd += [f"--platform={p}" for p in platforms] + [f"--python-version={python}", f"torch=={version}"]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            wheels = sorted(dest.glob("torch-*.whl"))
            if proc.returncode == 0 and wheels:
                return wheels[0]
            lines = [line for line in proc.stderr.splitlines() if line.startswith("ERROR")]
            error = lines[0] if lines else error
    return error


def fetch(version: str, cache: Path) -> Path | str:
    """``cache/<version>``: an importable ``torch`` holding only hipify; a reason when it cannot be had."""
    home = cache / version
    if (home / "torch" / "utils" / "hipify" / "hipify_python.py").is_file():
        return home
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        wheel = pip_download(version, Path(tmp) / "wheel")
        if isinstance(wheel, str):
            return f"no wheel: {wheel}"
        staged = Path(tmp) / "staged"
        with zipfile.ZipFile(wheel) as archive:
            for name in archive.namelist():
                if WANTED.fullmatch(name):
                    archive.extract(name, staged)
        if not (staged / "torch" / "utils" / "hipify" / "hipify_python.py").is_file():
            return f"{wheel.name} has no torch/utils/hipify/hipify_python.py"
        (staged / "torch" / "__init__.py").write_text(STUB_INIT)
        os.replace(staged, home)  # the wheel goes with the temporary directory
    return home


def version_in(path: Path) -> str:
    found = re.search(r"""^__version__\s*=\s*['"]([^'"]+)['"]""", path.read_text(), re.M)
    return found.group(1) if found else "?"


def make_corpus(root: Path) -> list[Case]:
    """The oracle tests' inputs (tests/test_oracle.py), copied once under ``root``."""
    cases: list[Case] = []
    for name, (fixture, sources, include_dirs) in sorted(CASES.items()):
        project = root / name
        shutil.copytree(FIXTURES / fixture, project)
        cases.append(Case(f"{name} (sources)", project, sources, include_dirs))
        cases.append(Case(f"{name} (tree)", project, None, include_dirs))
    _, sources, include_dirs = CASES["basic"]
    cases.append(Case("basic (chevron)", root / "basic", sources, include_dirs, chevron=True))
    inline = write_tree(root / "inline", INLINE_TREE)
    inline_sources = sorted(k for k in INLINE_TREE if not k.startswith(("sub/", "other")))
    cases.append(Case("small cases", inline, inline_sources, []))
    if have_cccl():
        cases.append(
            Case("CCCL sample (tree)", cccl_sample(root / "cccl"), None, ["."], allow_noncanonical_includes=True)
        )
    return cases


def first_difference(ours: bytes, theirs: bytes) -> str:
    """``line N: ours '…' / PyTorch '…'`` for the first line that differs."""
    a, b = ours.splitlines(), theirs.splitlines()
    for number, (x, y) in enumerate(zip(a, b, strict=False), 1):
        if x != y:
            return f"line {number}: ours {x[:90]!r} / PyTorch {y[:90]!r}"
    return f"{len(a)} lines / PyTorch {len(b)} lines"


def run_case(case: Case, home: Path, work: Path) -> tuple[list[str], int] | Outcome:
    """The differences on one case (empty: identical) and hipify-tool's output count, or a final verdict."""
    ours, theirs = work / "ours", work / "pt"
    kwargs = {
        "project_dir": str(case.project),
        "output_dir": str(ours),
        "sources": [str(case.project / s) for s in case.sources or ()],
        "include_dirs": [str(case.project / d) for d in case.include_dirs],
        "launch_syntax": "chevron" if case.chevron else "ggl",
    }
    proc = subprocess.run(
        [sys.executable, "-c", TOOL_SCRIPT, json.dumps(kwargs)],
        capture_output=True,
        text=True,
        env=subprocess_env([home]),
        check=False,
    )
    marker = re.search(r"^@@(ERROR|FILES)@@(.*)$", proc.stdout, re.M)
    if marker is None:
        last = proc.stderr.strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
        return Outcome("unsupported", f"hipify-tool crashed: {last[0]}")
    if marker.group(1) == "ERROR":
        exit_code, message = json.loads(marker.group(2))
        return Outcome("unsupported" if exit_code == 5 else "differs", f"hipify-tool (exit {exit_code}): {message}")
    used, files = json.loads(marker.group(2))
    if not Path(used).is_relative_to(home):
        raise SystemExit(f"hipify-tool used {used}, not the torch under {home}")
    pt = pytorch_hipify(
        case.project,
        theirs,
        sources=case.sources,
        header_include_dirs=case.include_dirs,
        extra={"hip_clang_launch": True} if case.chevron else None,
        python_path=[home],
    )
    if pt.returncode != 0:
        return [f"PyTorch's hipify() failed: {(pt.stderr.strip().splitlines() or ['?'])[-1]}"], len(files)
    problems = compare_with_pytorch(
        ours, theirs, files, case.project, allow_noncanonical_includes=case.allow_noncanonical_includes
    )
    for index, problem in enumerate(problems):
        rel = problem.split(": ", 1)[0]
        if "bytes differ" in problem:
            problems[index] += f"; {first_difference((ours / rel).read_bytes(), (theirs / rel).read_bytes())}"
    return problems, len(files)


def check(version: str, cache: Path, corpus: Sequence[Case]) -> Outcome:
    home = fetch(version, cache)
    if isinstance(home, str):
        return Outcome("not checked", home)
    which = subprocess.run(
        [sys.executable, "-c", WHICH_HIPIFY], capture_output=True, text=True, env=subprocess_env([home]), check=False
    )
    if which.returncode != 0 or not all(Path(p).is_relative_to(home) for p in which.stdout.split()):
        return Outcome("not checked", f"PyTorch's hipify_python does not import alone: {which.stderr.strip()[-300:]}")
    differing: list[str] = []
    outputs = 0
    with tempfile.TemporaryDirectory() as tmp:
        every_key = Path(tmp) / "every-key"
        every_key.mkdir()
        subprocess.run(
            [sys.executable, "-c", EVERY_KEY, every_key / "keys.cpp"], env=subprocess_env([home]), check=True
        )
        for case in [*corpus, Case("every mapping key", every_key, ["keys.cpp"], [])]:
            work = Path(tmp) / "work"
            found = run_case(case, home, work)
            shutil.rmtree(work, ignore_errors=True)
            if isinstance(found, Outcome):
                return found
            differing += [f"{case.name}: {problem}" for problem in found[0]]
            outputs += found[1]
    if differing:
        return Outcome("differs", f"{len(differing)} problem(s), first: {differing[0]}", tuple(differing))
    return Outcome("ok", f"{len(corpus) + 1} cases, {outputs} outputs, no difference")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    floor = ".".join(map(str, OLDEST_TORCH))
    parser.add_argument("--since", default=floor, help=f"oldest minor version to check (default {floor}, the floor)")
    parser.add_argument("--versions", nargs="+", help="exact torch versions to check instead of the index's")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "hipify-tool" / "torch-hipify",
        help="where each version's hipify files are kept between runs",
    )
    args = parser.parse_args(argv)
    since = tuple(int(n) for n in args.since.split(".")[:2])
    versions = args.versions or newest_patches((since[0], since[1]))
    print(f"hipify-tool supports torch >= {floor}; checking {', '.join(versions)}", flush=True)
    failed = False
    rows: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        corpus = make_corpus(Path(tmp))
        for version in versions:
            start = time.perf_counter()
            outcome = check(version, args.cache, corpus)
            seconds = time.perf_counter() - start
            hipify_version_file = args.cache / version / "torch" / "utils" / "hipify" / "version.py"
            hipify = version_in(hipify_version_file) if hipify_version_file.is_file() else "?"
            rows.append(f"| {version} | {hipify} | {outcome.verdict} | {outcome.detail} |")
            print(f"{version}: {outcome.verdict} ({seconds:.1f} s) {outcome.detail}", flush=True)
            print("".join(f"    {problem}\n" for problem in outcome.problems[:20]), end="", flush=True)
            supported = tuple(int(n) for n in version.split(".")[:2]) >= OLDEST_TORCH
            failed |= supported and outcome.verdict in ("differs", "unsupported")
    print("\n| torch | hipify | result | details |\n|---|---|---|---|")
    print("\n".join(rows))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
