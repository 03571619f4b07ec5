"""Shared setup for the reference-project tests (csrc_example/)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
EXAMPLE = REPO / "csrc_example"

# Test helpers beside this file, and the package from the source tree when it isn't installed
# (the oracle and wrappers are pure Python; the compiled ops come from PTGQ_LIBRARY or a wheel).
sys.path.insert(0, str(HERE))
try:
    import ptg_quant  # noqa: F401
except ImportError:
    sys.path.insert(0, str(EXAMPLE / "python"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "gpu: needs a CUDA or ROCm GPU (skipped without one)")


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    """Print the GPU matrix totals when PTGQ_TEST_SUMMARY collected them."""
    path = os.environ.get("PTGQ_TEST_SUMMARY")
    if not path or not os.path.exists(path):
        return
    rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    if not rows:
        return
    cases = sum(r["cases"] for r in rows)
    bad = sum(r["mismatches"] for r in rows)
    terminalreporter.write_line(f"ptg_quant GPU matrix: {len(rows)} combinations, {cases} cases, {bad} mismatches")
