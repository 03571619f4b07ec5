"""Report figures (issues 12 and 20): what --strict would flag, and what --rocm-path costs.

Prints, for CCCL (CUB + thrust/system/cuda, copied to a temporary dir) and the reference project:
leftover and unsupported counts, without and with ``--rocm-path``, and the problems (what fails
``--strict``) by rule; then how many entries of the
installed torch's hipify tables name something the target ROCm's headers lack, by table and by
category; then the seconds ``--rocm-path`` adds to a cold run and to a no-op run (median of
``--repeat`` runs of the CLI, each in a fresh process).

    python benchmarks/report_counts.py --rocm-path /usr              # Debian's libamdhip64-dev
    python benchmarks/report_counts.py --tool-path /tmp/old-checkout # the counts of another checkout

``--tool-path`` puts another checkout's ``hipify_tool`` first on the path (for before/after
figures); the table and timing figures always use this checkout.
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import json
import os
import resource
import shutil
import site
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CCCL = Path("/usr/local/cuda/include/cccl")
sys.path.insert(0, str(REPO))

from hipify_tool import torch_adapter  # noqa: E402
from hipify_tool.rocm_headers import header_of, locate  # noqa: E402


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("ROCM_PATH", None)
    env.pop("HIP_PATH", None)
    return env


_OTHER_CHECKOUT = (
    "import sys; sys.path[:0] = sys.argv[1].split(':'); from hipify_tool.cli import main; main(sys.argv[2:])"
)


def _cli(args: list[str], tool_path: Path | None = None) -> subprocess.CompletedProcess[str]:
    if tool_path is None:
        command = [sys.executable, "-m", "hipify_tool", *args]
    else:  # -S: no .pth files, so an editable install of this checkout cannot win over tool_path
        paths = ":".join([str(tool_path), *site.getsitepackages()])
        command = [sys.executable, "-S", "-c", _OTHER_CHECKOUT, paths, *args]
    return subprocess.run(command, capture_output=True, text=True, env=_env(), cwd=os.path.abspath(os.sep))


def counts(project: Path, work: Path, rocm: Path | None, tool_path: Path | None) -> dict[str, object]:
    """Totals of one ``plan --report json`` (into a fresh output root)."""
    out = Path(tempfile.mkdtemp(dir=work))
    report = out / "report.json"
    args = ["plan", "-p", str(project), "-o", str(out / "out"), "--report", "json", "--report-file", str(report)]
    if rocm is not None:
        args += ["--rocm-path", str(rocm)]
    proc = _cli(args, tool_path)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    doc = json.loads(report.read_text())
    by_rule: collections.Counter[str] = collections.Counter(
        x["rule"] for f in doc["files"] for x in f["findings"] if x["context"] == "shared" and x.get("waived") is None
    )
    return {**doc["totals"], "unsupported_known": doc["unsupported_known"], "by_rule": dict(sorted(by_rule.items()))}


def _tables() -> dict[str, dict[str, str]]:
    """torch's hipify tables by name, loaded from the file (never ``import torch``)."""
    path = torch_adapter.locate().directory / "cuda_to_hip_mappings.py"
    spec = importlib.util.spec_from_file_location("_mappings", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    names = [n for n in dir(module) if n.endswith(("_MAP", "_MAPPINGS")) and isinstance(getattr(module, n), dict)]
    return {n: {k: (v[0] if isinstance(v, tuple) else v) for k, v in getattr(module, n).items()} for n in names}


def _category(cuda: str, hip: str) -> str:
    if header_of(hip) is not None:
        return "header"
    if cuda.startswith("cuda") or cuda.startswith("CUDART"):
        return "runtime API"
    libraries = ("cub", "cublas", "cusparse", "curand", "cufft", "cusolver", "CUBLAS", "CUSPARSE", "CURAND", "CUFFT")
    if cuda.startswith(("cu", "CU")) and not cuda.startswith(libraries):
        return "driver API and types"
    return "library"


def table_gaps(rocm: Path) -> None:
    headers = locate(rocm, {})
    assert not isinstance(headers, str)
    tables = torch_adapter.locate().tables()
    used = tables.token_map  # what an extension's run uses (the last table wins)
    by_table: collections.Counter[tuple[str, str]] = collections.Counter()
    by_category: collections.Counter[tuple[str, str, str]] = collections.Counter()
    for table, entries in _tables().items():
        for cuda, hip in entries.items():
            if used.get(cuda) != hip:
                continue  # overridden by a later table: not what a run replaces
            support = headers.check_name(hip)
            status = support.status if support.status != "unchecked" or support.library else "not a ROCm name"
            by_table[(table, status)] += 1
            by_category[(support.library or "-", _category(cuda, hip), status)] += 1
    print(f"\nhipify {tables.version.split('+')[0]} tables (torch's) against the {headers.describe()}:")
    for table in sorted({t for t, _ in by_table}):
        row = {s: by_table[(table, s)] for s in ("declared", "missing", "unchecked", "not a ROCm name")}
        print(f"  {table:28} " + ", ".join(f"{n} {s}" for s, n in row.items() if n))
    print("  by library and category (missing / checked):")
    for lib, cat in sorted({(lib, cat) for lib, cat, _ in by_category}):
        missing = by_category[(lib, cat, "missing")]
        checked = missing + by_category[(lib, cat, "declared")]
        if checked:
            print(f"    {lib:10} {cat:22} {missing:5} / {checked}")
    unchecked = collections.Counter(lib for (lib, _, s), n in by_category.items() for _ in range(n) if s == "unchecked")
    print(f"  not checked (library headers absent): {dict(unchecked)}")


def _timed(args: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, the child and its workers) of one CLI run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = _cli(args)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def timings(project: Path, work: Path, rocm: Path, repeat: int) -> None:
    """Runs with and without --rocm-path alternate, so a busy machine slows both alike."""
    outs = {False: work / "timing-plain", True: work / "timing-rocm"}

    def args(with_rocm: bool) -> list[str]:
        base = ["run", "-p", str(project), "-o", str(outs[with_rocm]), "--report", "json"]
        base += ["--report-file", str(work / "t.json")]
        return [*base, "--rocm-path", str(rocm)] if with_rocm else base

    samples: dict[tuple[str, bool], list[tuple[float, float]]] = collections.defaultdict(list)
    for _ in range(repeat):
        for with_rocm in (False, True):
            shutil.rmtree(outs[with_rocm], ignore_errors=True)
            samples[("cold", with_rocm)].append(_timed(args(with_rocm)))
    for _ in range(repeat):
        for with_rocm in (False, True):
            samples[("no-op", with_rocm)].append(_timed(args(with_rocm)))
    for kind in ("cold", "no-op"):
        wall = [statistics.median(t[0] for t in samples[(kind, r)]) for r in (False, True)]
        cpu = [statistics.median(t[1] for t in samples[(kind, r)]) for r in (False, True)]
        print(
            f"  {project.name:6} {kind:5} run: wall {wall[0]:.2f} s -> {wall[1]:.2f} s (+{wall[1] - wall[0]:.2f}), "
            f"CPU {cpu[0]:.2f} s -> {cpu[1]:.2f} s (+{cpu[1] - cpu[0]:.2f})"
        )


def index_cost(rocm: Path, work: Path) -> None:
    """The HIP index alone: built from the headers, then read from a run's cache."""
    cache = work / "index-cache"
    for label, write in (("built", True), ("read from the cache", False)):
        headers = locate(rocm, {}, cache_dir=cache, write_cache=write)
        assert not isinstance(headers, str)
        start = time.perf_counter()
        headers.check_name("hipMalloc")
        print(f"  HIP index {label}: {time.perf_counter() - start:.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rocm-path", type=Path, default=Path("/usr"), help="the target ROCm (default: /usr)")
    parser.add_argument("--tool-path", type=Path, help="another checkout whose counts to print")
    parser.add_argument("--repeat", type=int, default=5, help="runs per timing (median)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        projects = [REPO / "csrc_example" / "csrc"]
        if (CCCL / "cub").is_dir():
            cccl = work / "cccl"
            shutil.copytree(CCCL / "cub", cccl / "cub")
            shutil.copytree(CCCL / "thrust" / "system" / "cuda", cccl / "thrust" / "system" / "cuda")
            projects.insert(0, cccl)
        print(f"counts ({args.tool_path or REPO}):")
        for project in projects:
            plain = counts(project, work, None, args.tool_path)
            line = f"  {project.name:6} leftover {plain['leftover']}, unsupported "
            line += str(plain["unsupported"]) if plain["unsupported_known"] else "n/a"
            if args.tool_path is None:
                target = counts(project, work, args.rocm_path, None)
                line += f"; with --rocm-path {args.rocm_path}: leftover {target['leftover']}, "
                line += f"unsupported {target['unsupported']} (+{target['guarded']} guarded findings in all), "
                line += f"{target['defined_by_project']} names the project defines"
            print(line)
            print(f"  {'':6} problems by rule: {plain['by_rule']}")
        if args.tool_path is not None:
            return
        table_gaps(args.rocm_path)
        print(f"\ntime --rocm-path {args.rocm_path} adds (median of {args.repeat}):")
        index_cost(args.rocm_path, work)
        for project in projects:
            timings(project, work, args.rocm_path, args.repeat)


if __name__ == "__main__":
    main()
