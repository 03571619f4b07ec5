"""The CMake package as a wheel lays it out: `--cmake-dir`, the recorded interpreter, and the
scikit-build-core `cmake.prefix` entry point (find_package with no hints), in a throwaway venv."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from hipify_tool.cmake_keywords import format_table

REPO = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("cmake") is None or shutil.which("ninja") is None, reason="needs cmake and ninja"),
]


def _run(*cmd: str | Path, cwd: Path) -> str:
    result = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{cmd}\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def test_installed_package_and_cmake_prefix_entry_point(tmp_path: Path) -> None:
    pytest.importorskip("scikit_build_core")
    wheels = tmp_path / "wheels"
    _run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-build-isolation",
        "--no-deps",
        "-q",
        "-w",
        wheels,
        REPO,
        cwd=tmp_path,
    )
    (wheel,) = wheels.glob("hipify_tool-*.whl")
    assert wheel.name.endswith("-py3-none-any.whl"), "nothing is compiled: one pure wheel"
    names = zipfile.ZipFile(wheel).namelist()
    for name in (
        "hipify_toolConfig.cmake",
        "hipify_toolConfigVersion.cmake",
        "HipifyTool.cmake",
        "hipify_toolInstallInfo.cmake",
        "hipify_toolKeywords.cmake",
        "hipify_tool_launch.py",
        "hipify_tool_check.cmake",
    ):
        assert f"hipify_tool/cmake/{name}" in names
    with zipfile.ZipFile(wheel) as zf:
        # generated when the package is built: the keyword table from the option model, and the version
        # file from CMake's own helper (write_basic_package_version_file)
        assert zf.read("hipify_tool/cmake/hipify_toolKeywords.cmake").decode() == format_table()
        version_file = zf.read("hipify_tool/cmake/hipify_toolConfigVersion.cmake").decode()
        assert "write_basic_package_version_file()" in version_file and 'set(PACKAGE_VERSION "' in version_file

    # click, pathspec, torch and scikit-build-core come from this interpreter's site-packages, listed
    # in a .pth file rather than with --system-site-packages: a plain path line does not run that
    # directory's own .pth files, so an editable install of hipify-tool there (the README's test
    # command makes one) cannot shadow the wheel under test.
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    venv_site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=tmp_path).strip())
    # in this interpreter's order (a venv's base included, when this interpreter is a venv's)
    site_dirs = [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))]
    site_dirs += [sysconfig.get_path("purelib"), sysconfig.get_path("platlib")]
    (venv_site / "base_site_packages.pth").write_text("".join(f"{d}\n" for d in dict.fromkeys(site_dirs)))
    _run(python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel, cwd=tmp_path)
    cmake_dir = Path(_run(venv / "bin" / "hipify-tool", "--cmake-dir", cwd=tmp_path).strip())
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=tmp_path).strip())
    assert cmake_dir == site / "hipify_tool" / "cmake"

    project = tmp_path / "consumer project"
    shutil.copytree(REPO / "tests" / "cmake" / "skbuild_project", project)
    log = _run(
        python,
        "-m",
        "pip",
        "wheel",
        "--no-build-isolation",
        "--no-deps",
        "-v",
        "-w",
        tmp_path / "out",
        project,
        cwd=tmp_path,
    )
    assert f"consumer: hipify_tool_DIR={cmake_dir}" in log
    assert f"consumer: python={python}" in log
    (built,) = (tmp_path / "out").glob("hipify_consumer-*.whl")
    with zipfile.ZipFile(built) as zf:
        assert "hipLaunchKernelGGL" in zf.read("hipify_consumer/fooHIP.hip").decode()
