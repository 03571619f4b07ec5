"""hipify_tool.setuptools through the packaging front doors: ``setup.py bdist_wheel``, ``pip install .``
without and with build isolation, hipify-tool itself installed from a wheel of this checkout. ROCm is
simulated (hipify_tool.rocm_sim); the source tree must come out byte- and mtime-identical.

Build isolation installs the build requirements into a fresh environment from a local wheelhouse
(``--no-index``): the installed torch's own wheel (only a ``+cpu`` build is used: nothing multi-GB is
ever fetched), its dependencies, this checkout's wheel and the simulation's wheel; unpacking torch
there (~700 MB, no bytecode compiled) makes it the slowest of these tests (~20 s).
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import REPO
from setuptools_projects import copy_project, source_tree_changes, tree_state

from hipify_tool import rocm_sim
from hipify_tool.rocm_sim import Simulation

pytestmark = pytest.mark.slow

PROJECT = "deepspeed_like"
EXTENSIONS = ("deepspeed/ops/fused_adam_op", "deepspeed/ops/quantizer_op")


def _run(cmd: list[str | Path], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}: {cmd}\n{proc.stdout[-5000:]}\n{proc.stderr[-5000:]}")
    return proc


@dataclass(frozen=True)
class Env:
    """A venv that sees this interpreter's packages (torch, setuptools, pip) but not an editable
    hipify-tool, with hipify-tool installed from a wheel of this checkout."""

    python: Path
    wheel: Path
    sim: Simulation

    def env(self) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_CONSTRAINT")}
        env = self.sim.env(base)
        env["MAX_JOBS"] = "1"
        env["PIP_NO_COMPILE"] = "false"  # the build env's pip: no bytecode for all of torch ("1" would compile)
        return env


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Env:
    tmp = tmp_path_factory.mktemp("pip")
    wheels = tmp / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "-q", "-w", wheels, REPO], tmp)
    (wheel,) = wheels.glob("hipify_tool-*.whl")
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], tmp)
    python = venv / "bin" / "python"
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], tmp).stdout.strip())
    # A plain path line does not run that directory's .pth files, so an editable install there
    # (the README's test command makes one) cannot shadow the wheel under test.
    base_dirs = sorted({sysconfig.get_path("purelib"), sysconfig.get_path("platlib")})
    (site / "base_site_packages.pth").write_text("".join(f"{d}\n" for d in base_dirs))
    _run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target", site, wheel], tmp)
    origin = _run([python, "-c", "import hipify_tool; print(hipify_tool.__file__)"], tmp).stdout.strip()
    assert Path(origin).is_relative_to(site), origin
    return Env(python, wheel, rocm_sim.create(tmp / "sim"))


def _built_extensions(names: list[str]) -> list[str]:
    return sorted(n for n in names if n.endswith(".so"))


def test_bdist_wheel_leaves_the_tree_alone(venv: Env, tmp_path: Path) -> None:
    project = copy_project(PROJECT, tmp_path / "proj")
    before = tree_state(project)
    venv.sim.clear_log()
    proc = _run([venv.python, "setup.py", "bdist_wheel", "-d", tmp_path / "dist"], project, venv.env())
    assert source_tree_changes(before, tree_state(project)) == []
    # Reading setup.py (egg_info runs first) translated nothing: no hipify summary, CUDA sources listed.
    assert "preprocessed" not in proc.stdout + proc.stderr
    listed = (project / "deepspeed_like.egg-info" / "SOURCES.txt").read_text().split()
    assert "csrc/quantization/quantize.cu" in listed and not [s for s in listed if s.endswith(".hip")]
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert [n.split(".cpython")[0] for n in _built_extensions(names)] == list(EXTENSIONS)
    assert not [n for n in names if n.endswith((".hip", ".cu", ".cuh", ".h"))]
    hipcc = [s for c in venv.sim.commands() if c.tool == "hipcc" for s in c.sources]
    assert len(hipcc) == 3 and all(Path(s).is_relative_to(project / "build") for s in hipcc)


def test_pip_install_without_build_isolation(venv: Env, tmp_path: Path) -> None:
    project = copy_project(PROJECT, tmp_path / "proj")
    before = tree_state(project)
    target = tmp_path / "target"
    cmd = [venv.python, "-m", "pip", "install", "--no-build-isolation", "--no-deps", "--no-index", "--target", target]
    _run([*cmd, project], tmp_path, venv.env())
    assert source_tree_changes(before, tree_state(project)) == []
    installed = [p.relative_to(target).as_posix() for p in target.rglob("*.so")]
    assert [n.split(".cpython")[0] for n in sorted(installed)] == list(EXTENSIONS)


def _wheelhouse(tmp: Path, venv: Env) -> Path:
    """The isolated build's requirements as local wheels, or a skip when they cannot be had locally."""
    torch = importlib.metadata.version("torch")
    if "+cpu" not in torch:
        pytest.skip(f"torch {torch} is not a +cpu build: an isolated build would need a multi-GB download")
    house = tmp / "wheelhouse"
    house.mkdir()
    (house / venv.wheel.name).symlink_to(venv.wheel)
    (house / venv.sim.wheel.name).symlink_to(venv.sim.wheel)
    wanted = [f"torch=={torch}", "setuptools", "click", "pathspec"]
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--only-binary", ":all:", "-d", house, *wanted],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        pytest.skip(f"the build requirements are not available as wheels here: {proc.stderr.strip()[-300:]}")
    return house


def test_pip_install_with_build_isolation(venv: Env, tmp_path: Path) -> None:
    house = _wheelhouse(tmp_path, venv)
    project = copy_project(PROJECT, tmp_path / "proj")
    pyproject = project / "pyproject.toml"
    # The simulation reaches the isolated environment as a build requirement (its .pth file).
    pyproject.write_text(pyproject.read_text().replace('"hipify-tool"]', f'"hipify-tool", "{rocm_sim.WHEEL_NAME}"]'))
    before = tree_state(project)
    venv.sim.clear_log()
    target = tmp_path / "target"
    cmd = [venv.python, "-m", "pip", "install", "--no-index", "--find-links", house, "--no-deps", "--target", target]
    _run([*cmd, project], tmp_path, venv.env())
    assert source_tree_changes(before, tree_state(project)) == []
    installed = [p.relative_to(target).as_posix() for p in target.rglob("*.so")]
    assert [n.split(".cpython")[0] for n in sorted(installed)] == list(EXTENSIONS)
    hipcc = [s for c in venv.sim.commands() if c.tool == "hipcc" for s in c.sources]
    assert len(hipcc) == 3 and all(Path(s).is_relative_to(project / "build") for s in hipcc)
