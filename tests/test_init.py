"""hipify-tool init: a generated project that hipifies cleanly and builds its CUDA variant with nvcc."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from helpers import REPO, run_cli, subprocess_env

NVCC = shutil.which("nvcc") or ("/usr/local/bin/nvcc" if os.path.exists("/usr/local/bin/nvcc") else None)


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


@pytest.mark.slow
@pytest.mark.skipif(NVCC is None, reason="nvcc not installed")
def test_cuda_variant_builds_with_nvcc_and_imports(generated: Path, tmp_path: Path) -> None:
    pytest.importorskip("scikit_build_core")
    project = tmp_path / "proj"
    shutil.copytree(generated, project)
    env = subprocess_env()
    env["PATH"] = os.path.dirname(NVCC) + os.pathsep + env.get("PATH", "")  # type: ignore[arg-type]
    env["CUDACXX"] = NVCC  # type: ignore[assignment]
    env["MY_EXT_CUDA_ARCHS"] = "90"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "--no-index", ".", "-w", "dist"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
    (wheel,) = (project / "dist").glob("my_ext-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    assert list((site / "my_ext").glob("_C*.so"))
    check = (
        "import torch, my_ext\n"
        "assert hasattr(torch.ops.my_ext, 'scale')\n"
        "try:\n    my_ext.scale(torch.ones(2), 2.0)\nexcept ValueError:\n    print('ok')\n"
    )
    env["PYTHONPATH"] = str(site) + os.pathsep + str(REPO)
    run = subprocess.run([sys.executable, "-c", check], env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr
