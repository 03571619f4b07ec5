"""The supported torch range: an older torch is refused in one line, and older table formats are read.

A "torch" here is a directory put first on the child's ``PYTHONPATH``: ``torch/version.py``, the
installed ``torch/utils/hipify`` files (or a hipify 1.0-format table) and a ``torch/__init__.py``
that raises, which proves hipify-tool never imports torch. Every torch release from the floor up is
checked against its own ``hipify()`` by ``benchmarks/check_torch_versions.py``, which needs wheels.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO, read_tree, subprocess_env, write_tree

from hipify_tool import torch_adapter
from hipify_tool.errors import EnvironmentProblem

FLOOR = ".".join(map(str, torch_adapter.OLDEST_TORCH))
NEVER_IMPORTED = 'raise ImportError("hipify-tool must not import torch")\n'


def fake_torch(root: Path, version: str | None, hipify_files: dict[str, str] | None = None) -> Path:
    """``root/torch`` claiming ``version`` (no version.py: ``None``), with the installed hipify or ``hipify_files``."""
    torch = root / "torch"
    hipify = torch / "utils" / "hipify"
    if hipify_files is None:
        shutil.copytree(torch_adapter.locate().directory, hipify, ignore=shutil.ignore_patterns("__pycache__"))
    else:
        write_tree(hipify, hipify_files)
    (torch / "__init__.py").write_text(NEVER_IMPORTED)
    if version is not None:
        (torch / "version.py").write_text(f"__version__ = '{version}'\ndebug = False\ncuda = None\n")
    return torch


def cli(torch_root: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hipify_tool", *map(str, args)],
        capture_output=True,
        text=True,
        env=subprocess_env([torch_root]),
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("version", ["2.0.1", "1.13.1", "2.0.0a0+gitabc1234"])
def test_older_torch_is_refused(version: str, tmp_path: Path) -> None:
    torch = fake_torch(tmp_path, version)
    with pytest.raises(EnvironmentProblem) as caught:
        torch_adapter.find_hipify_dir(torch)
    assert str(caught.value) == (
        f"{torch}: torch {version} is not supported: hipify-tool works with torch >= {FLOOR}; "
        f"install a newer one, e.g. pip install 'torch>={FLOOR}'"
    )


@pytest.mark.parametrize("version", [FLOOR + ".0", "2.13.0+cpu", "2.15.0", "3.0.0", "2.10.0a0+git1234", None])
def test_supported_or_unknown_torch_is_accepted(version: str | None, tmp_path: Path) -> None:
    """From the floor on (versions compare as numbers: 2.10 > 2.9); no ``version.py``: not refused."""
    torch = fake_torch(tmp_path, version)
    assert torch_adapter.find_hipify_dir(torch) == torch / "utils" / "hipify"
    assert torch_adapter.torch_version(torch) == version


def test_cli_names_the_unsupported_torch_in_one_line(tmp_path: Path) -> None:
    project = write_tree(tmp_path / "proj", {"k.cu": "cudaStream_t s;\n"})
    torch_root = tmp_path / "site"
    fake_torch(torch_root, "2.0.1")
    proc = cli(torch_root, "run", "-p", project, "-o", tmp_path / "out")
    assert proc.returncode == 5, proc.stderr
    assert proc.stderr.splitlines() == [
        f"hipify-tool: error: {torch_root / 'torch'}: torch 2.0.1 is not supported: hipify-tool works with "
        f"torch >= {FLOOR}; install a newer one, e.g. pip install 'torch>={FLOOR}'"
    ]
    assert read_tree(tmp_path / "out") == {}  # nothing written (only the output root's lock)
    doctor = cli(torch_root, "doctor")
    assert "torch 2.0.1 is not supported" in doctor.stdout, doctor.stdout + doctor.stderr


def test_cli_runs_with_a_supported_torch_found_on_the_path(tmp_path: Path) -> None:
    project = write_tree(tmp_path / "proj", {"k.cu": "cudaStream_t s;\n"})
    torch_root = tmp_path / "site"
    fake_torch(torch_root, FLOOR + ".0")
    proc = cli(torch_root, "run", "-p", project, "-o", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    assert b"hipStream_t s;" in (tmp_path / "out" / "k.hip").read_bytes()


def test_the_documented_floor_is_the_enforced_one() -> None:
    """pyproject's requirement and the README's sentence name the floor the adapter enforces."""
    requirement = re.search(r'^  "torch>=([\d.]+)",$', (REPO / "pyproject.toml").read_text(), re.M)
    assert requirement is not None and requirement[1] == FLOOR
    assert f"works with any installed torch ≥ {FLOOR} and never imports it" in (REPO / "README.md").read_text()


# hipify 1.0 (torch 2.1 to 2.10): each entry is (hip_name, CONV_..., API_..., [HIP_UNSUPPORTED]).
HIPIFY_1_0 = {
    "__init__.py": "from .version import __version__\n",
    "version.py": "__version__ = '1.0.0'\n",
    "constants.py": "CONV_TYPE = 33\nAPI_RUNTIME = 38\nAPI_BLAS = 39\nAPI_SPECIAL = 40\n"
    "HIP_UNSUPPORTED = 46\nAPI_PYTORCH = 1337\nAPI_CAFFE2 = 1338\n",
    "cuda_to_hip_mappings.py": """\
import collections
from .constants import API_BLAS, API_CAFFE2, API_RUNTIME, API_SPECIAL, CONV_TYPE, HIP_UNSUPPORTED

MATH_TRANSPILATIONS = collections.OrderedDict([("std::max", "::max")])
CUDA_TYPE_NAME_MAP = collections.OrderedDict([
    ("cudaStream_t", ("hipStream_t", CONV_TYPE, API_RUNTIME)),
    ("cudaOldThing", ("hipOldThing", CONV_TYPE, API_RUNTIME, HIP_UNSUPPORTED)),
    ("cublasHandle_t", ("rocblas_handle", CONV_TYPE, API_BLAS)),
])
CUDA_SPECIAL_MAP = collections.OrderedDict([
    ("cublasHandle_t", ("hipblasHandle_t", CONV_TYPE, API_SPECIAL)),
    ("cusparseHandle_t", ("hipsparseHandle_t", CONV_TYPE, API_SPECIAL)),
])
CAFFE2_SPECIFIC_MAPPINGS = collections.OrderedDict([
    ("cudaCaffe2Only", ("hipCaffe2Only", API_CAFFE2)),
    ("cudaStream_t", ("hipCaffe2Stream", API_CAFFE2)),
])
CUDA_TO_HIP_MAPPINGS = [CUDA_TYPE_NAME_MAP, CUDA_SPECIAL_MAP, CAFFE2_SPECIFIC_MAPPINGS]
""",
    "hipify_python.py": "",  # filled from the installed hipify: the pass functions
}


def test_hipify_1_0_tables_are_read_as_pytorch_reads_them_for_extensions(tmp_path: Path) -> None:
    """Caffe2-only entries skipped, an API_SPECIAL duplicate ignored, markers read; no CAFFE2_PATH_MAPPINGS."""
    files = dict(
        HIPIFY_1_0, **{"hipify_python.py": (torch_adapter.locate().directory / "hipify_python.py").read_text()}
    )
    torch_root = tmp_path / "site"
    fake_torch(torch_root, "2.1.2", files)
    source = "cudaStream_t a; cublasHandle_t b; cusparseHandle_t c; cudaCaffe2Only d; cudaOldThing e;\n"
    project = write_tree(tmp_path / "proj", {"k.cu": source})
    proc = cli(torch_root, "run", "-p", project, "-o", tmp_path / "out", project / "k.cu")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out" / "k.hip").read_text().splitlines()[1:] == [
        "hipStream_t a; rocblas_handle b; hipsparseHandle_t c; cudaCaffe2Only d; hipOldThing e;"
    ]
    doctor = cli(torch_root, "doctor")
    assert "1.0.0+" in doctor.stdout and "(4 mappings, 1 marked unsupported)" in doctor.stdout, doctor.stdout


def test_hipify_files_load_without_sys_modules(tmp_path: Path) -> None:
    """Every relative-import form a hipify file uses runs against its siblings; nothing joins sys.modules."""
    import sys

    (tmp_path / "constants.py").write_text("API_X = 1\n_PRIVATE = 2\n")
    (tmp_path / "version.py").write_text("__version__ = '9.9'\n")
    (tmp_path / "user.py").write_text(
        "import os\nfrom .constants import *\nfrom .version import __version__ as v\nfrom . import constants\n"
        "RESULT = (API_X, v, constants.API_X, '_PRIVATE' in globals(), os.sep)\n"
    )
    before = set(sys.modules)
    namespace = torch_adapter.load_module(tmp_path, "user")
    assert namespace["RESULT"] == (1, "9.9", 1, False, os.sep)
    assert set(sys.modules) == before
