"""The CLI pieces hipify_sources() relies on: --sources-from, --cmake-plan, --depfile with --stamp."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def tool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run(
        [sys.executable, "-m", "hipify_tool", *map(str, args)], capture_output=True, text=True, env=env, check=False
    )


def _tree(root: Path) -> Path:
    src = root / "my src"
    (src / "inc dir").mkdir(parents=True)
    (src / "inc dir" / "h#1.cuh").write_text("#pragma once\n#include <cuda_runtime.h>\n")
    (src / "a b.cu").write_text('#include "inc dir/h#1.cuh"\nvoid f() { cudaDeviceSynchronize(); }\n')
    (src / "fooCUDA.cu").write_text("void g() {}\n")
    return src


def _depfile_tokens(text: str) -> list[str]:
    """Split Make syntax as Ninja and CMake read it: backslash-newline joins, `\\ ` and `\\#` escape."""
    text = text.replace("\\\n", " ")
    return [t.replace("\\ ", " ").replace("\\#", "#").replace("$$", "$") for t in re.findall(r"(?:\\.|[^\s])+", text)]


def test_sources_from_cmake_plan_depfile_and_stamp(tmp_path: Path) -> None:
    src = _tree(tmp_path)
    out = tmp_path / "out dir"
    listing = tmp_path / "sources.txt"
    listing.write_text(f"{src / 'fooCUDA.cu'}\n\n{src / 'a b.cu'}\n")
    plan_file, depfile, stamp = tmp_path / "plan.cmake", tmp_path / "x.d", tmp_path / "st amp"

    planned = tool("plan", "-p", src, "-o", out, "--sources-from", listing, "--cmake-plan", plan_file)
    assert planned.returncode == 0, planned.stderr
    text = plan_file.read_text()
    assert f'set(HIPIFY_TOOL_OUTPUTS\n  "{out}/fooHIP.hip"\n  "{out}/a b.hip"\n)' in text
    assert f'"{out}/inc dir/h#1_hip.cuh"' in text
    mtime = plan_file.stat().st_mtime_ns

    ran = tool(
        "run",
        "-p",
        src,
        "-o",
        out,
        "--sources-from",
        listing,
        "--cmake-plan",
        plan_file,
        "--depfile",
        depfile,
        "--stamp",
        stamp,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines() == [str(out / "fooHIP.hip"), str(out / "a b.hip")]
    assert plan_file.stat().st_mtime_ns == mtime, "same outputs: the plan script is not rewritten"
    tokens = _depfile_tokens(depfile.read_text())
    assert tokens[0] == f"{stamp}:"
    assert sorted(tokens[1:]) == sorted(
        [str(src / "a b.cu"), str(src / "fooCUDA.cu"), str(src / "inc dir" / "h#1.cuh")]
    )
    first = stamp.stat().st_mtime_ns
    time.sleep(0.02)
    assert tool("run", "-p", src, "-o", out, "--sources-from", listing, "--stamp", stamp).returncode == 0
    assert stamp.stat().st_mtime_ns > first, "the stamp is touched by every successful run"


def test_sources_from_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    src = _tree(tmp_path)
    result = tool("plan", "-p", src, "-o", tmp_path / "out", "--sources-from", tmp_path / "nope.txt")
    assert result.returncode == 2
    assert "cannot read the sources list" in result.stderr
