"""hipify-tool doctor: one pasteable line per fact."""

from __future__ import annotations

import re
from pathlib import Path

from helpers import run_cli

from hipify_tool import __version__


def test_doctor_lines() -> None:
    proc = run_cli("doctor", check=True)
    lines = dict(line.split(": ", 1) for line in proc.stdout.splitlines())
    assert list(lines)[:5] == ["hipify-tool", "python", "platform", "torch", "hipify tables"]
    assert {"nvcc", "hip compiler", "rocm", "cmake", "ninja", "cmake package"} <= set(lines)
    assert lines["hipify-tool"].startswith(__version__ + " (")
    assert re.match(r"\d+\.\d+", lines["torch"])
    assert re.match(r"\d+\.\d+\.\d+\+[0-9a-f]{16} \(\d+ mappings, ", lines["hipify tables"])
    assert Path(lines["cmake package"]).joinpath("hipify_toolConfig.cmake").is_file()
    assert proc.stderr == ""
