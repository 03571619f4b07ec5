"""Incremental runs: the manifest-driven no-op path, partial re-translation, stale outputs, -j."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import hipify_tool

REPO = Path(__file__).resolve().parent.parent


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """a.cu includes k.cuh (translated, renamed) and plain.h (unchanged, copied); b.cu includes plain.h."""
    root = tmp_path / "proj"
    write(
        root / "a.cu",
        '#include "k.cuh"\n#include "plain.h"\n__global__ void a() {}\nvoid f() { cudaDeviceSynchronize(); }\n',
    )
    write(root / "b.cu", '#include "plain.h"\nint b() { return 0; }\n')
    write(root / "k.cuh", "#pragma once\ninline cudaError_t k() { return cudaSuccess; }\n")
    write(root / "plain.h", "#pragma once\nint plain();\n")
    return root


def mtimes(root: Path) -> dict[str, int]:
    return {
        str(p.relative_to(root)): p.stat().st_mtime_ns
        for p in root.rglob("*")
        if p.is_file() and ".hipify-tool" not in p.parts
    }


def sources(project: Path) -> list[Path]:
    return [project / "a.cu", project / "b.cu"]


def test_noop_rerun_translates_nothing_and_touches_nothing(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = hipify_tool.run(project, out, sources(project))
    assert first.plan.translated_count == 4
    before = mtimes(out)
    again = hipify_tool.run(project, out, sources(project))
    assert again.plan.translated_count == 0
    assert again.written == ()
    assert mtimes(out) == before
    assert again.outputs == first.outputs


def test_noop_rerun_loads_no_pytorch_tables(project: Path, tmp_path: Path) -> None:
    """The no-op path must not even load PyTorch's mapping tables (checked in a fresh process)."""
    out = tmp_path / "out"
    hipify_tool.run(project, out, sources(project))
    code = (
        "import sys, hipify_tool\n"
        "from hipify_tool import torch_adapter\n"
        "executed = []\n"
        "real = torch_adapter.load_module\n"
        "def record(directory, name, loaded=None):\n"
        "    executed.append(name)\n"
        "    return real(directory, name, loaded)\n"
        "torch_adapter.load_module = record\n"
        f"srcs = [{str(project / 'a.cu')!r}, {str(project / 'b.cu')!r}]\n"
        f"r = hipify_tool.run({str(project)!r}, {str(out)!r}, srcs)\n"
        "assert r.plan.translated_count == 0, r.plan.translated_count\n"
        "loaded = executed + [m for m in sys.modules if m.startswith('torch')]\n"
        "assert not loaded, loaded\n"
        f"hipify_tool.run({str(project)!r}, {str(tmp_path / 'fresh')!r}, srcs)\n"
        "assert 'cuda_to_hip_mappings' in executed, executed  # the hook sees real loads\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_editing_a_source_retranslates_only_it(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    hipify_tool.run(project, out, sources(project))
    before = mtimes(out)
    with open(project / "b.cu", "a") as f:
        f.write("int more() { cudaDeviceReset(); return 1; }\n")
    result = hipify_tool.run(project, out, sources(project))
    assert result.plan.translated_count == 1
    assert [p.name for p in result.written] == ["b.hip"]
    after = mtimes(out)
    assert {k for k in after if after[k] != before.get(k)} == {"b.hip"}
    assert "hipDeviceReset" in (out / "b.hip").read_text()


def test_touching_a_source_without_changing_it_writes_nothing(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    hipify_tool.run(project, out, sources(project))
    before = mtimes(out)
    os.utime(project / "k.cuh")
    result = hipify_tool.run(project, out, sources(project))
    assert result.written == ()
    assert mtimes(out) == before


def test_header_that_starts_changing_renames_it_and_retranslates_its_includers(project: Path, tmp_path: Path) -> None:
    """plain.h is copied as plain.h until it gains a CUDA token; then it is plain_hip.h and includes follow."""
    out = tmp_path / "out"
    first = hipify_tool.run(project, out, sources(project))
    assert "plain.h" in {p.name for p in first.all_outputs}
    write(project / "plain.h", "#pragma once\nint plain(cudaStream_t s);\n")
    result = hipify_tool.run(project, out, sources(project))
    names = {p.name for p in result.all_outputs}
    assert "plain_hip.h" in names and "plain.h" not in names
    assert '#include "plain_hip.h"' in (out / "a.hip").read_text()
    assert '#include "plain_hip.h"' in (out / "b.hip").read_text()
    # plain.h and both includers, not the unrelated k.cuh
    assert result.plan.translated_count == 3
    # the superseded copy is removed (it was ours); reverting brings it back without a conflict
    assert not (out / "plain.h").exists()
    assert [p.name for p in result.removed] == ["plain.h"]
    write(project / "plain.h", "#pragma once\nint plain();\n")
    reverted = hipify_tool.run(project, out, sources(project))
    assert (out / "plain.h").is_file() and not (out / "plain_hip.h").exists()
    assert '#include "plain.h"' in (out / "a.hip").read_text()
    assert [p.name for p in reverted.removed] == ["plain_hip.h"]


def test_stale_outputs_are_reported_and_pruned(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    hipify_tool.run(project, out, sources(project))
    (project / "b.cu").unlink()
    kept = hipify_tool.run(project, out, [project / "a.cu"])
    assert kept.stale == ("b.hip",)
    assert (out / "b.hip").exists()
    pruned = hipify_tool.run(project, out, [project / "a.cu"], prune=True)
    assert [p.name for p in pruned.removed] == ["b.hip"]
    assert not (out / "b.hip").exists()
    manifest = json.loads((out / ".hipify-tool" / "manifest.json").read_text())
    assert str(project / "b.cu") not in manifest["files"]
    assert hipify_tool.run(project, out, [project / "a.cu"]).stale == ()


def test_stale_report_and_prune_on_the_command_line(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    cli = [sys.executable, "-m", "hipify_tool", "run", "-p", str(project), "-o", str(out)]
    subprocess.run([*cli, str(project / "a.cu"), str(project / "b.cu")], check=True, cwd=REPO, capture_output=True)
    (project / "b.cu").unlink()
    warned = subprocess.run([*cli, str(project / "a.cu")], cwd=REPO, capture_output=True, text=True)
    assert warned.returncode == 0
    assert "b.hip: stale output" in warned.stderr and "--prune" in warned.stderr
    pruned = subprocess.run([*cli, "--prune", str(project / "a.cu")], cwd=REPO, capture_output=True, text=True)
    assert pruned.returncode == 0 and "stale" not in pruned.stderr
    assert not (out / "b.hip").exists()


def test_deleted_output_is_rewritten(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    hipify_tool.run(project, out, sources(project))
    (out / "k_hip.cuh").unlink()
    result = hipify_tool.run(project, out, sources(project))
    assert (out / "k_hip.cuh").is_file()
    assert [p.name for p in result.written] == ["k_hip.cuh"]


def test_changed_option_retranslates_everything(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    write(root / "k.cu", "__global__ void k() {}\nvoid go() { k<<<1, 1>>>(); }\n")
    out = tmp_path / "out"
    ggl = hipify_tool.run(root, out, [root / "k.cu"])
    assert "hipLaunchKernelGGL" in (out / "k.hip").read_text()
    chevron = hipify_tool.run(root, out, [root / "k.cu"], launch_syntax="chevron")
    assert chevron.plan.translated_count == 1
    assert "k<<<1, 1>>>()" in (out / "k.hip").read_text()
    assert ggl.outputs == chevron.outputs


@pytest.mark.parametrize("jobs", [1, 3])
def test_parallel_translation_is_deterministic(tmp_path: Path, jobs: int) -> None:
    """Enough text to cross the parallel threshold; bytes and list order must match -j1's."""
    root = tmp_path / "proj"
    body = "// " + "x" * 2000 + "\n"
    for i in range(60):
        inc = f'#include "h{i % 7}.cuh"\n'
        write(root / f"d{i % 5}" / f"k{i}.cu", inc + body * 12 + f"void f{i}() {{ cudaMalloc(0, {i}); }}\n")
    for i in range(7):
        write(root / f"d{i % 5}" / f"h{i}.cuh", f"#pragma once\ninline void h{i}() {{ cudaFree(0); }}\n")
    srcs = sorted(root.rglob("*.cu"), key=lambda p: p.name)
    reference = hipify_tool.run(root, tmp_path / "ref", srcs, jobs=1)
    result = hipify_tool.run(root, tmp_path / f"j{jobs}", srcs, jobs=jobs)
    assert [p.relative_to(tmp_path / f"j{jobs}") for p in result.outputs] == [
        p.relative_to(tmp_path / "ref") for p in reference.outputs
    ]
    for ours in reference.all_outputs:
        rel = ours.relative_to(tmp_path / "ref")
        assert (tmp_path / f"j{jobs}" / rel).read_bytes() == ours.read_bytes()
