"""The command line, as a real subprocess: lists, list files, version, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import FIXTURES, read_tree, run_cli, subprocess_env, write_tree

import hipify_tool

KERNEL = "__global__ void k(float* p) { p[0] = 1.f; }\nvoid go(float* p) { k<<<1, 1>>>(p); }\n"


def _no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stderr
    assert "Traceback" not in proc.stdout


def _project(tmp_path: Path) -> Path:
    return write_tree(
        tmp_path / "p",
        {
            "z.cu": KERNEL,
            "a.cu": '#include "m/b.cuh"\nint a;\n',
            "m/b.cuh": "#pragma once\ncudaStream_t b;\n",
            "m/plain.h": "int plain;\n",
            "cuda/c.cu": "cudaEvent_t c;\n",
        },
    )


def test_run_prints_outputs_in_source_order(tmp_path: Path) -> None:
    p = _project(tmp_path)
    out = tmp_path / "o"
    proc = run_cli("run", "-p", p, "-o", out, p / "z.cu", p / "cuda/c.cu", p / "m/plain.h", p / "a.cu")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [str(out / r) for r in ("z.hip", "hip/c.hip", "m/plain.h", "a.hip")]
    assert proc.stderr == ""
    assert set(read_tree(out)) == {"z.hip", "hip/c.hip", "m/plain.h", "a.hip", "m/b_hip.cuh"}


def test_relative_paths_are_taken_from_the_working_directory(tmp_path: Path) -> None:
    _project(tmp_path)
    proc = run_cli("run", "-p", "p", "-o", "out", "p/a.cu", "p/z.cu", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [str(tmp_path / "out" / "a.hip"), str(tmp_path / "out" / "z.hip")]


@pytest.mark.parametrize("fmt", ["lines", "cmake", "json"])
def test_output_list_file_formats_and_mtime(fmt: str, tmp_path: Path) -> None:
    p = _project(tmp_path)
    out = tmp_path / "o"
    listing = tmp_path / "lists" / f"list.{fmt}"
    args = ["run", "-p", p, "-o", out, "--output-list", listing, "--list-format", fmt, p / "z.cu", p / "a.cu"]
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""  # the list went to the file
    expected = [str(out / "z.hip"), str(out / "a.hip")]
    text = listing.read_text()
    if fmt == "lines":
        assert text == "".join(f"{e}\n" for e in expected)
    elif fmt == "cmake":
        assert text == ";".join(expected) + "\n"
    else:
        assert json.loads(text) == expected
    # Identical rerun: the list file is not rewritten.
    os.utime(listing, ns=(1_000_000_000, 1_000_000_000))
    assert run_cli(*args).returncode == 0
    assert listing.stat().st_mtime_ns == 1_000_000_000
    # A different list: rewritten.
    proc = run_cli("run", "-p", p, "-o", out, "--output-list", listing, "--list-format", fmt, p / "z.cu")
    assert proc.returncode == 0, proc.stderr
    assert listing.stat().st_mtime_ns != 1_000_000_000
    assert str(out / "a.hip") not in listing.read_text()


def test_plan_output_list(tmp_path: Path) -> None:
    p = _project(tmp_path)
    listing = tmp_path / "plan.txt"
    proc = run_cli(
        "plan", "-p", p, "-o", tmp_path / "o", "--output-list", listing, "--list-format", "cmake", p / "a.cu"
    )
    assert proc.returncode == 0, proc.stderr
    assert listing.read_text() == f"{tmp_path / 'o' / 'a.hip'};{tmp_path / 'o' / 'm' / 'b_hip.cuh'}\n"
    assert not (tmp_path / "o").exists()


def test_version() -> None:
    proc = run_cli("--version")
    assert proc.returncode == 0
    assert hipify_tool.__version__ in proc.stdout
    assert "hipify-tool" in proc.stdout


def test_help() -> None:
    proc = run_cli("run", "--help")
    assert proc.returncode == 0
    assert "--output-list" in proc.stdout and "--launch-syntax" in proc.stdout


@pytest.mark.parametrize(
    ("case", "needle"),
    [
        ("missing-source", "nope.cu"),
        ("missing-project", "missing"),
        ("missing-include-dir", "noinc"),
        ("unknown-option", "--frobnicate"),
        ("no-output-dir", "-o"),
        ("bad-launch-syntax", "launch-syntax"),
        ("no-inputs", "no input"),
        ("output-is-project", "output dir"),
    ],
)
def test_usage_errors_exit_2(case: str, needle: str, tmp_path: Path) -> None:
    p = _project(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    args = {
        "missing-source": ["run", "-p", p, "-o", tmp_path / "o", p / "nope.cu"],
        "missing-project": ["run", "-p", tmp_path / "missing", "-o", tmp_path / "o"],
        "missing-include-dir": ["run", "-p", p, "-o", tmp_path / "o", "-I", p / "noinc", p / "a.cu"],
        "unknown-option": ["run", "--frobnicate", "-p", p, "-o", tmp_path / "o"],
        "no-output-dir": ["run", "-p", p, p / "a.cu"],
        "bad-launch-syntax": ["run", "--launch-syntax", "triple", "-p", p, "-o", tmp_path / "o", p / "a.cu"],
        "no-inputs": ["run", "-p", empty, "-o", tmp_path / "o"],
        "output-is-project": ["run", "-p", p, "-o", p, p / "a.cu"],
    }[case]
    before = sorted(tmp_path.rglob("*"))
    proc = run_cli(*args)
    assert sorted(tmp_path.rglob("*")) == before  # a rejected run creates nothing, not even a lock file
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    _no_traceback(proc)
    assert proc.stdout == ""
    assert len(proc.stderr.splitlines()) == 1, proc.stderr  # one line per problem
    assert needle in proc.stderr


def test_translation_collision_and_write_errors_exit_codes(tmp_path: Path) -> None:
    bad = write_tree(
        tmp_path / "bad",
        {"t.cu": "void g(int* x) {\n  kern<1,(3>2)><<<1, 1>>>(x);\n}\n", "u.cu": "void h() { kern<<<1, 1>>>(); }\n"},
    )
    proc = run_cli("run", "-p", bad, "-o", tmp_path / "o1", bad / "t.cu", bad / "u.cu")
    assert proc.returncode == 3
    _no_traceback(proc)
    assert len(proc.stderr.splitlines()) == 1 and "t.cu" in proc.stderr, proc.stderr
    assert read_tree(tmp_path / "o1") == {}

    coll = write_tree(tmp_path / "coll", {"k_cuda.cu": "int a;\n", "k_hip.cu": "int b;\n"})
    proc = run_cli("run", "-p", coll, "-o", tmp_path / "o2")
    assert proc.returncode == 4
    _no_traceback(proc)
    assert len(proc.stderr.splitlines()) == 1 and "k_hip.hip" in proc.stderr

    ok = write_tree(tmp_path / "ok", {"sub/k.cu": "int a;\n"})
    write_tree(tmp_path / "o3", {"sub": "a file where an output directory must go"})
    proc = run_cli("run", "-p", ok, "-o", tmp_path / "o3", ok / "sub" / "k.cu")
    assert proc.returncode == 5
    _no_traceback(proc)
    assert len(proc.stderr.splitlines()) == 1 and str(tmp_path / "o3" / "sub") in proc.stderr


def test_several_problems_one_line_each(tmp_path: Path) -> None:
    p = write_tree(
        tmp_path / "p", {"a.cu": "x<1,(3>2)><<<1,1>>>();\n", "b.cu": "y<1,(3>2)><<<1,1>>>();\n", "c.cu": "int fine;\n"}
    )
    proc = run_cli("run", "-p", p, "-o", tmp_path / "o")
    assert proc.returncode == 3
    _no_traceback(proc)
    lines = proc.stderr.splitlines()
    assert len(lines) == 2
    assert "a.cu" in lines[0] and "b.cu" in lines[1]


# --- vLLM-style invocation ---------------------------------------------------------------------------------

# What vLLM's cmake/hipify.py does, driven the way its CMake drives it: the working directory is the build
# dir, so the relative source paths name the copies PyTorch makes of the project there.
_VLLM_STYLE = r"""
import os, shutil, sys
from torch.utils.hipify.hipify_python import get_hip_file_path, hipify
project, output, sources = sys.argv[1], sys.argv[2], sys.argv[3:]
shutil.copytree(project, output, dirs_exist_ok=True)
result = hipify(project_directory=project, output_directory=output, header_include_dirs=["."],
                includes=[os.path.join(project, "*")], extra_files=[os.path.abspath(s) for s in sources],
                show_progress=False, is_pytorch_extension=True, hipify_extra_files_only=True)
for s in sources:
    a = os.path.abspath(s)
    path = result[a].hipified_path if a in result and result[a].hipified_path is not None else a
    if a.endswith(".cu") and path.endswith(".cu"):  # unchanged .cu: vLLM copies it to the .hip name
        path = os.path.abspath(os.path.join(output, get_hip_file_path(os.path.relpath(a, output), True)))
    print(path)
"""


def test_vllm_style_invocation_matches_vllm_script(tmp_path: Path) -> None:
    ours_root = tmp_path / "ours"
    shutil.copytree(FIXTURES / "vllm_like", ours_root)
    proc = run_cli("run", "-p", "csrc", "-o", "build/csrc", "-I", "csrc", "csrc/a.cu", "csrc/b/c.cu", cwd=ours_root)
    assert proc.returncode == 0, proc.stderr
    ours_list = [Path(line).relative_to(ours_root / "build") for line in proc.stdout.splitlines()]
    assert ours_list == [Path("csrc/a.hip"), Path("csrc/b/c.hip")]

    vllm_root = tmp_path / "vllm"
    shutil.copytree(FIXTURES / "vllm_like", vllm_root)
    (vllm_root / "build").mkdir()
    vproc = subprocess.run(
        [
            sys.executable,
            "-c",
            _VLLM_STYLE,
            str(vllm_root / "csrc"),
            str(vllm_root / "build" / "csrc"),
            "csrc/a.cu",
            "csrc/b/c.cu",
        ],
        capture_output=True,
        text=True,
        cwd=vllm_root / "build",
        env=subprocess_env(),
        timeout=120,
    )
    assert vproc.returncode == 0, vproc.stderr
    vllm_list = [Path(line).relative_to(vllm_root / "build") for line in vproc.stdout.splitlines()]
    assert ours_list == vllm_list

    ours = read_tree(ours_root / "build" / "csrc")
    theirs = read_tree(vllm_root / "build" / "csrc")
    assert {"a.hip", "b/c.hip", "quantization/utils_hip.cuh"} <= set(ours)
    for rel, data in ours.items():
        assert theirs.get(rel) == data, rel
    # Nothing was written next to the sources.
    assert read_tree(ours_root / "csrc") == read_tree(FIXTURES / "vllm_like" / "csrc")
