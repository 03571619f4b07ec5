"""Test setup: the checkout and tests/helpers.py importable, shared expensive oracle runs."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

_TESTS = Path(__file__).resolve().parent
for path in (str(_TESTS.parent), str(_TESTS)):
    if path not in sys.path:
        sys.path.insert(0, path)

from helpers import cccl_sample, have_cccl, pytorch_hipify  # noqa: E402

if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
    # Hypothesis keeps caches in ./.hypothesis (the checkout) even with its example database off, and
    # fills them while pytest collects: point them at the temp dir before any test module loads.
    from hypothesis.configuration import set_hypothesis_home_dir

    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / f"hipify-tool-hypothesis-{os.getuid()}")


@pytest.fixture(scope="session")
def cccl_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the CCCL sample (read-only by convention: tests copy it before editing)."""
    if not have_cccl():
        pytest.skip("CCCL headers not installed under /usr/local/cuda/include/cccl")
    return cccl_sample(tmp_path_factory.mktemp("cccl") / "proj")


@pytest.fixture(scope="session")
def cccl_pytorch(cccl_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """PyTorch's whole-tree hipify of the CCCL sample (run once per session, in a fresh subprocess)."""
    out = tmp_path_factory.mktemp("cccl_pt") / "out"
    run = pytorch_hipify(cccl_project, out, sources=None, header_include_dirs=["."])
    assert run.returncode == 0, run.stderr
    return out
