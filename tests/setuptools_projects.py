"""Helpers for the setuptools tests: fixture projects run under the ROCm/CUDA simulation
(hipify_tool.rocm_sim), their extensions as setup.py declares them, and torch's own in-place
``CUDAExtension`` hipify on a copy (the oracle)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers import BREADCRUMB, FIXTURES, read_tree, subprocess_env

import hipify_tool
from hipify_tool.rocm_sim import Simulation

PROJECTS = FIXTURES / "setuptools"
OUR_IMPORT = "from hipify_tool.setuptools import"
TORCH_IMPORT = "from torch.utils.cpp_extension import"

# Runs a project's setup.py, printing every extension it declares (as declared, before any command
# ran), then setup() itself with the given commands, if any.
_CAPTURE = r"""
import dataclasses, json, runpy, sys
import setuptools

real_setup = setuptools.setup


def describe(ext):
    fields = {k: v for k, v in vars(ext).items() if k != "hipify_tool"}
    mark = getattr(ext, "hipify_tool", None)
    return {"fields": fields, "mark": None if mark is None else dataclasses.asdict(mark)}


def capture(**kw):
    out = [describe(ext) for ext in kw.get("ext_modules", [])]
    jsonable = lambda o: sorted(o) if isinstance(o, (set, frozenset)) else str(o)
    print("@@EXT@@" + json.dumps(out, default=jsonable), flush=True)
    if len(sys.argv) > 1:
        return real_setup(**kw)


setuptools.setup = capture
sys.path.insert(0, ".")
runpy.run_path("setup.py", run_name="__main__")
"""


def copy_project(name: str, dest: Path) -> Path:
    shutil.copytree(PROJECTS / name, dest)
    return dest


def sim_env(sim: Simulation, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The simulation over the test environment (this checkout importable); ninja runs one job at a
    time, so compilers are called in the order of the build file."""
    env = sim.env(subprocess_env())
    env["MAX_JOBS"] = "1"
    env.update(extra or {})
    return env


def run_setup(
    project: Path, sim: Simulation, *args: str, extra_env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "setup.py", *args],
        cwd=project,
        env=sim_env(sim, extra_env),
        capture_output=True,
        text=True,
        timeout=600,
    )


def check(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    if proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}: {proc.args}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


@dataclass(frozen=True)
class Declared:
    """One extension as setup.py declared it."""

    fields: dict[str, Any]
    mark: dict[str, Any] | None

    @property
    def name(self) -> str:
        return str(self.fields["name"])

    @property
    def sources(self) -> list[str]:
        return [str(s) for s in self.fields["sources"]]


def declared_extensions(
    project: Path, sim: Simulation, *setup_args: str
) -> tuple[list[Declared], subprocess.CompletedProcess[str]]:
    """Read setup.py under ``sim`` as setuptools would: the extensions it declares; then run
    ``setup.py *setup_args`` in the same process, when given."""
    proc = subprocess.run(
        [sys.executable, "-c", _CAPTURE, *setup_args],
        cwd=project,
        env=sim_env(sim),
        capture_output=True,
        text=True,
        timeout=600,
    )
    check(proc)
    line = next(line for line in proc.stdout.splitlines() if line.startswith("@@EXT@@"))
    return [Declared(e["fields"], e["mark"]) for e in json.loads(line[len("@@EXT@@") :])], proc


def to_torch_cpp_extension(project: Path) -> int:
    """The two-line change undone: every ``hipify_tool.setuptools`` import becomes torch's. Returns
    how many lines changed."""
    changed = 0
    for path in project.rglob("*.py"):
        text = path.read_text()
        if OUR_IMPORT in text:
            changed += text.count(OUR_IMPORT)
            path.write_text(text.replace(OUR_IMPORT, TORCH_IMPORT))
    return changed


def output_root(project: Path, ext_name: str) -> Path:
    """Where BuildExtension translated ``ext_name`` (setuptools' default build_temp)."""
    roots = sorted(project.glob(f"build/temp.*/hipify/{ext_name}"))
    assert len(roots) == 1, roots
    return roots[0]


def translated_sources(project: Path, ext: Declared) -> list[Path]:
    hip = set(ext.mark["hip_sources"]) if ext.mark else set()
    return [p for p in (project / s for s in ext.sources) if str(p) not in hip]


def plan_of(project: Path, ext: Declared) -> hipify_tool.Plan:
    """What BuildExtension planned for ``ext`` (names, headers, copies), recomputed in this process."""
    dirs = [Path(d) if Path(d).is_absolute() else project / d for d in ext.fields["include_dirs"]]
    return hipify_tool.plan(
        project,
        output_root(project, ext.name),
        translated_sources(project, ext),
        include_dirs=[d for d in dirs if d.is_dir()],
    )


@dataclass(frozen=True)
class OracleResult:
    compared: int
    """Our outputs found byte-identical in torch's tree (translated files and copies of unchanged ones)."""
    unchanged_cu: int
    """Unchanged ``.cu`` files: torch writes nothing for them; ours is the breadcrumb plus the source."""
    sibling_copies: int
    problems: list[str]


def compare_with_torch_inplace(
    project: Path, original: Path, torch_tree: Path, exts: Sequence[Declared], hip_only: Sequence[str] = ()
) -> OracleResult:
    """Every output BuildExtension wrote for ``exts`` against torch's in-place tree (a copy of
    ``original`` after torch's CUDAExtension ran there), file for file; and every file torch created
    must be one of ours, except under ``hip_only`` prefixes (headers only HIP sources reach, which
    torch translates and we leave alone)."""
    before = read_tree(original)
    theirs = read_tree(torch_tree)
    created = {rel for rel in theirs if rel not in before}
    covered: set[str] = set()
    compared = unchanged = copies = 0
    problems: list[str] = []
    for ext in exts:
        if ext.mark is None:
            continue
        root = output_root(project, ext.name)
        ours = read_tree(root)
        plan = plan_of(project, ext)
        expected = {f.output for f in plan.files.values()} | set(plan.copies)
        if set(ours) != expected:
            problems.append(f"{ext.name}: files {sorted(set(ours) ^ expected)} differ from the plan")
        for f in plan.files.values():
            data = ours.get(f.output)
            covered.add(f.output)
            if data is None:
                problems.append(f"{ext.name}: {f.output} missing")
            elif f.output in theirs:
                if data == theirs[f.output]:
                    compared += 1
                else:
                    problems.append(f"{ext.name}: {f.output} differs from torch's ({f.source})")
            elif f.output.endswith(".hip") and f.source.endswith(".cu") and data == BREADCRUMB + before[f.source]:
                unchanged += 1
            else:
                problems.append(f"{ext.name}: torch wrote no {f.output} ({f.source})")
        for copy, source in plan.copies.items():
            copies += 1
            if ours.get(copy) != ours.get(plan.files[source].output):
                problems.append(f"{ext.name}: sibling copy {copy} is not {plan.files[source].output}")
    for rel in sorted(created - covered):
        if not rel.startswith(tuple(hip_only)):
            problems.append(f"{rel}: written by torch's CUDAExtension, not by BuildExtension")
    return OracleResult(compared, unchanged, copies, problems)


FileState = tuple[int, int, bytes]


def tree_state(root: Path) -> dict[str, FileState]:
    """Every file under ``root``: mode, mtime and bytes."""
    state: dict[str, FileState] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            st = path.stat()
            state[path.relative_to(root).as_posix()] = (st.st_mode, st.st_mtime_ns, path.read_bytes())
    return state


def _tool_owned(rel: str) -> bool:
    """What setuptools and Python write into any project they build: ``build/``, ``*.egg-info``,
    ``__pycache__``."""
    parts = rel.split("/")
    return parts[0] == "build" or any(p.endswith(".egg-info") or p == "__pycache__" for p in parts)


def source_tree_changes(
    before: Mapping[str, tuple[int, int, bytes]], after: Mapping[str, tuple[int, int, bytes]]
) -> list[str]:
    """Files of the project that a build changed (bytes, mode or mtime), removed, or added outside
    what setuptools and Python always write (``build/``, ``*.egg-info``, ``__pycache__``)."""
    problems = [f"{rel}: changed" for rel in before if rel in after and before[rel] != after[rel]]
    problems += [f"{rel}: removed" for rel in before if rel not in after]
    problems += [f"{rel}: added" for rel in after if rel not in before and not _tool_owned(rel)]
    return sorted(problems)
