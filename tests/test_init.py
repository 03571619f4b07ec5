"""hipify-tool init: a generated project that hipifies cleanly and builds as its README says, for NVIDIA
with nvcc and for AMD with Debian's HIP packages (clang-19, a CMake >= 3.27)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO, run_cli, subprocess_env

NVCC = shutil.which("nvcc") or ("/usr/local/bin/nvcc" if os.path.exists("/usr/local/bin/nvcc") else None)
HIP_CMAKES = [Path("/opt/cmake-hip/cmake/data/bin/cmake"), Path("/opt/cmake4/cmake/data/bin/cmake")]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("init") / "my-ext"
    proc = run_cli("init", root, check=True)
    assert "created" in proc.stderr
    return root


def test_layout_and_placeholders(generated: Path) -> None:
    files = {p.relative_to(generated).as_posix() for p in generated.rglob("*") if p.is_file()}
    assert {
        "pyproject.toml",
        "CMakeLists.txt",
        "cmake/find_torch.cmake",
        "README.md",
        ".gitignore",
        "csrc/scale_kernel.cu",
        "csrc/ops.h",
        "csrc/torch_bindings.cpp",
        "python/my_ext/__init__.py",
        "tests/test_scale.py",
    } <= files
    for rel in files:
        assert "{{" not in (generated / rel).read_text(), rel
    assert 'name = "my-ext"' in (generated / "pyproject.toml").read_text()
    assert "TORCH_LIBRARY(my_ext, m)" in (generated / "csrc" / "torch_bindings.cpp").read_text()


def test_refuses_a_non_empty_directory_and_bad_names(generated: Path, tmp_path: Path) -> None:
    again = run_cli("init", generated)
    assert again.returncode == 2 and "not empty" in again.stderr
    bad = run_cli("init", tmp_path / "x", "--name", "not-an-identifier")
    assert bad.returncode == 2 and "--name" in bad.stderr


def test_generated_sources_hipify_cleanly_under_strict(generated: Path, tmp_path: Path) -> None:
    proc = run_cli("plan", "-p", generated / "csrc", "-o", tmp_path / "out", "--strict", "--report", "text")
    assert proc.returncode == 0, proc.stderr
    assert "0 left over" in proc.stderr


def _readme_build(generated: Path, heading: str) -> tuple[dict[str, str], list[str]]:
    """The environment and the pip arguments of the README's build command under ``heading``."""
    text = (generated / "README.md").read_text()
    block = re.search(re.escape(heading) + r".*?```bash\n(.*?)```", text, re.S)
    assert block is not None, f"README.md: no build block after {heading!r}"
    command = shlex.split(block.group(1).replace("\\\n", " ").strip().splitlines()[-1])
    env = {}
    while "=" in command[0]:
        name, _, value = command.pop(0).partition("=")
        env[name] = value
    assert command[:3] == ["pip", "install", "--no-build-isolation"], command
    return env, command[2:]


def _build_as_the_readme_says(project: Path, site: Path, env: dict[str, str], pip_args: list[str]) -> None:
    """The README's `pip install`, into ``site`` rather than this environment (no network, no deps)."""
    quiet = ["--no-deps", "--no-index", "--no-cache-dir", "--target", str(site)]
    build = subprocess.run(
        [sys.executable, "-m", "pip", "install", *pip_args, *quiet],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
    assert list((site / "my_ext").glob("_C*.so"))


def _registers_its_op(site: Path) -> None:
    """The module loads into this (CPU-only) torch and registers its schema."""
    check = (
        "import torch, my_ext\n"
        "assert hasattr(torch.ops.my_ext, 'scale')\n"
        "try:\n    my_ext.scale(torch.ones(2), 2.0)\nexcept ValueError:\n    print('ok')\n"
    )
    env = subprocess_env()
    env["PYTHONPATH"] = str(site) + os.pathsep + str(REPO)
    run = subprocess.run([sys.executable, "-c", check], env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr


@pytest.mark.slow
@pytest.mark.skipif(NVCC is None, reason="nvcc not installed")
def test_cuda_variant_builds_as_the_readme_says(generated: Path, tmp_path: Path) -> None:
    pytest.importorskip("scikit_build_core")
    project = tmp_path / "proj"
    shutil.copytree(generated, project)
    readme_env, pip_args = _readme_build(project, "NVIDIA (")
    env = {**subprocess_env(), **readme_env}
    env["PATH"] = os.path.dirname(NVCC) + os.pathsep + env.get("PATH", "")  # type: ignore[arg-type]
    env["MY_EXT_CUDA_ARCHS"] = "90"  # one architecture instead of the default two: half the compile
    _build_as_the_readme_says(project, tmp_path / "site", env, pip_args)
    _registers_its_op(tmp_path / "site")


@pytest.mark.slow
def test_rocm_variant_builds_with_debians_hip_packages_as_the_readme_says(generated: Path, tmp_path: Path) -> None:
    """The README's Debian/Ubuntu command, with a CMake >= 3.27 first on PATH (what its `pip install
    "cmake>=3.27"` line provides); the module holds gfx90a code and loads into a CPU-only torch."""
    pytest.importorskip("scikit_build_core")
    cmake = next((c for c in HIP_CMAKES if c.is_file()), None)
    missing = [
        what
        for what, ok in [
            ("a CMake >= 3.27 in /opt/cmake-hip or /opt/cmake4", cmake is not None),
            ("clang++-19", shutil.which("clang++-19") is not None),
            ("/usr/include/hip/hip_runtime.h", Path("/usr/include/hip/hip_runtime.h").is_file()),
            ("rocm-device-libs", Path("/usr/lib/x86_64-linux-gnu/amdgcn/bitcode/ocml.bc").is_file()),
            ("ninja", shutil.which("ninja") is not None),
        ]
        if not ok
    ]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must build the ROCm variant, but this machine lacks {', '.join(missing)}")
        pytest.skip(f"lacks {', '.join(missing)}")
    project = tmp_path / "proj"
    shutil.copytree(generated, project)
    readme_env, pip_args = _readme_build(project, "AMD, with Debian's")
    assert readme_env["MY_EXT_BACKEND"] == "ROCM" and "-DCMAKE_HIP_COMPILER=clang++-19" in readme_env["CMAKE_ARGS"]
    env = {**subprocess_env(), **readme_env}
    env["PATH"] = str(cmake.parent) + os.pathsep + env.get("PATH", "")  # type: ignore[union-attr]
    _build_as_the_readme_says(project, tmp_path / "site", env, pip_args)
    (library,) = (tmp_path / "site" / "my_ext").glob("_C*.so")
    assert b"amdgcn-amd-amdhsa--gfx90a" in library.read_bytes(), "no gfx90a device code"
    _registers_its_op(tmp_path / "site")
