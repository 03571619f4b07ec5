"""Runs: independence, incrementality (nothing rewritten that did not change), parallel determinism."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from helpers import BREADCRUMB, FIXTURES, mtimes, read_tree, write_tree

import hipify_tool
from hipify_tool.errors import CheckFailed


def _fixture(name: str, dest: Path) -> Path:
    shutil.copytree(FIXTURES / name, dest)
    return dest


def _basic_run(project: Path, out: Path, **kw: object) -> hipify_tool.RunResult:
    sources = [project / s for s in ("src/saxpy.cu", "src/magic.cu", "src/unchanged.cu", "src/host.cpp")]
    return hipify_tool.run(project, out, sources, include_dirs=[project / "include"], **kw)  # type: ignore[arg-type]


def test_two_runs_in_one_process_with_different_trees(tmp_path: Path) -> None:
    a = _fixture("basic", tmp_path / "a")
    b = _fixture("nested", tmp_path / "b")
    ra = _basic_run(a, tmp_path / "oa")
    rb = hipify_tool.run(b, tmp_path / "ob", [b / "a/user.cu"])
    assert ra.outputs == tuple(
        tmp_path / "oa" / r for r in ("src/saxpy.hip", "src/magic.hip", "src/unchanged.hip", "src/host_hip.cpp")
    )
    assert rb.outputs == (tmp_path / "ob" / "a/user.hip",)
    assert set(read_tree(tmp_path / "ob")) == {"a/user.hip", "a/hip_b/y.cuh", "cycle/x_hip.cuh", "cycle/y_hip.cuh"}
    assert {f.source for f in rb.plan.files.values()} == {"a/user.cu", "a/cuda_b/y.cuh", "cycle/x.cuh", "cycle/y.cuh"}
    # Same tree again, fresh output: same result as the first time.
    ra2 = _basic_run(a, tmp_path / "oa2")
    assert read_tree(tmp_path / "oa2") == read_tree(tmp_path / "oa")
    rel2 = [x.relative_to(tmp_path / "oa2") for x in ra2.outputs]
    assert rel2 == [x.relative_to(tmp_path / "oa") for x in ra.outputs]


def test_second_run_changes_nothing(tmp_path: Path) -> None:
    p = _fixture("basic", tmp_path / "p")
    first = _basic_run(p, tmp_path / "o")
    outputs = first.all_outputs
    assert len(first.written) == len(outputs)
    before = mtimes(outputs)
    tree_before = read_tree(tmp_path / "o")
    second = _basic_run(p, tmp_path / "o")
    assert second.written == ()
    assert second.plan.translated_count == 0
    assert mtimes(outputs) == before
    assert read_tree(tmp_path / "o") == tree_before
    assert second.outputs == first.outputs


def test_rerun_after_edits_rewrites_only_what_changed(tmp_path: Path) -> None:
    p = _fixture("basic", tmp_path / "p")
    out = tmp_path / "o"
    _basic_run(p, out)
    before = mtimes(_basic_run(p, out).all_outputs)
    # Edit a source: only its output changes.
    host = p / "src/host.cpp"
    host.write_text(host.read_text() + "void sync_all() { cudaDeviceSynchronize(); }\n")
    r = _basic_run(p, out)
    assert r.written == (out / "src/host_hip.cpp",)
    assert (out / "src/host_hip.cpp").read_bytes().endswith(b"void sync_all() { hipDeviceSynchronize(); }\n")
    after = mtimes(r.all_outputs)
    assert {k for k in after if after[k] != before[k]} == {out / "src/host_hip.cpp"}
    # Edit a header: its output changes, the includers' outputs stay (same include names).
    util = p / "include/mylib/util.cuh"
    util.write_text(util.read_text() + "inline void ev(cudaEvent_t e) { cudaEventSynchronize(e); }\n")
    before = after
    r = _basic_run(p, out)
    assert r.written == (out / "include/mylib/util_hip.cuh",)
    assert b"hipEventSynchronize(e)" in (out / "include/mylib/util_hip.cuh").read_bytes()
    after = mtimes(r.all_outputs)
    assert {k for k in after if after[k] != before[k]} == {out / "include/mylib/util_hip.cuh"}


def test_deleted_or_edited_output_is_restored(tmp_path: Path) -> None:
    p = write_tree(tmp_path / "p", {"k.cu": "cudaStream_t s;\n"})
    out = tmp_path / "o"
    hipify_tool.run(p, out, [p / "k.cu"])
    expected = (out / "k.hip").read_bytes()
    (out / "k.hip").unlink()
    assert hipify_tool.run(p, out, [p / "k.cu"]).written == (out / "k.hip",)
    assert (out / "k.hip").read_bytes() == expected
    (out / "k.hip").write_bytes(b"// edited by hand, longer than before\n")
    hipify_tool.run(p, out, [p / "k.cu"])
    assert (out / "k.hip").read_bytes() == expected == BREADCRUMB + b"hipStream_t s;\n"


def test_stale_outputs_are_reported_and_pruned(tmp_path: Path) -> None:
    p = write_tree(tmp_path / "p", {"a.cu": "cudaStream_t a;\n", "b.cu": "cudaStream_t b;\n"})
    out = tmp_path / "o"
    hipify_tool.run(p, out)
    (p / "b.cu").unlink()
    r = hipify_tool.run(p, out)
    assert r.stale == ("b.hip",)
    assert (out / "b.hip").exists()
    r = hipify_tool.run(p, out, prune=True)
    assert r.removed == (out / "b.hip",)
    assert set(read_tree(out)) == {"a.hip"}


def test_jobs_do_not_change_bytes_or_order(cccl_project: Path, tmp_path: Path) -> None:
    r1 = hipify_tool.run(cccl_project, tmp_path / "j1", include_dirs=[cccl_project], jobs=1)
    r4 = hipify_tool.run(cccl_project, tmp_path / "j4", include_dirs=[cccl_project], jobs=4)
    rel1 = [p.relative_to(tmp_path / "j1") for p in r1.outputs]
    rel4 = [p.relative_to(tmp_path / "j4") for p in r4.outputs]
    assert rel1 == rel4
    assert len(rel1) > 200
    assert [p.relative_to(tmp_path / "j1") for p in r1.all_outputs] == [
        p.relative_to(tmp_path / "j4") for p in r4.all_outputs
    ]
    assert read_tree(tmp_path / "j1") == read_tree(tmp_path / "j4")


def test_parallel_run_translates_big_trees_in_workers_identically(tmp_path: Path) -> None:
    """A tree over the parallel threshold (1 MB) with launches, run with -j1 and -j2."""
    body = "".join(f"__global__ void k{i}(float* p) {{ p[{i}] = 1.f; }}\n" for i in range(60))
    files = {
        f"d{i % 7}/f{i}.cu": f"#include <cuda_runtime.h>\n{body}void go(float* p) {{ k1<<<1, {i}>>>(p); }}\n"
        for i in range(400)
    }
    p = write_tree(tmp_path / "p", files)
    assert sum(len(v) for v in files.values()) > 1_000_000
    r1 = hipify_tool.run(p, tmp_path / "j1", jobs=1)
    r2 = hipify_tool.run(p, tmp_path / "j2", jobs=2)
    assert [x.relative_to(tmp_path / "j1") for x in r1.outputs] == [x.relative_to(tmp_path / "j2") for x in r2.outputs]
    assert read_tree(tmp_path / "j1") == read_tree(tmp_path / "j2")
    assert b"hipLaunchKernelGGL(( k1), dim3(1), dim3(399), 0, 0, p)" in (tmp_path / "j2/d0/f399.hip").read_bytes()
    assert os.path.getsize(tmp_path / "j2/d0/f399.hip") > 0


def test_incremental_runs_equal_fresh_runs_after_each_edit(tmp_path: Path) -> None:
    """A sequence of edits that flip headers between renamed and kept, move includes and add shadowing
    headers: after each, the incremental run's outputs equal a fresh run's, and the list is the same."""
    p = _fixture("nested", tmp_path / "p")
    inc = tmp_path / "inc"
    sources = [p / "ops/cuda/reduce.cu", p / "ops/cuda/kernelsCUDA.cu", p / "a/user.cu"]
    edits = [
        # an unchanged header becomes a changed one (renamed: includers follow)
        lambda: (p / "ops/cuda/plain_in_cuda_dir.h").write_text("#pragma once\ncudaStream_t plain_value();\n"),
        # a changed header becomes unchanged (keeps its name again)
        lambda: (p / "ops/common/chain_b.cuh").write_text("#pragma once\ninline int chain_b() { return 1; }\n"),
        # a header appears next to an includer and now shadows the include-dir one
        lambda: (p / "ops/cuda/nested_inc").mkdir(),
        lambda: (p / "ops/cuda/nested_inc/api.h").write_text("#pragma once\ncudaEvent_t shadow;\n"),
        # an include is added to a source
        lambda: (p / "a/user.cu").write_text((p / "a/user.cu").read_text() + '#include "../ops/common/chain_a.cuh"\n'),
        # the shadowing header goes away again
        lambda: (p / "ops/cuda/nested_inc/api.h").unlink(),
        # a cycle is broken
        lambda: (p / "cycle/y.cuh").write_text("#pragma once\ninline int y_value() { return 2; }\n"),
    ]
    hipify_tool.run(p, inc, sources, include_dirs=[p / "include"])
    saved = 0
    for step, edit in enumerate(edits):
        edit()
        incremental = hipify_tool.run(p, inc, sources, include_dirs=[p / "include"])
        fresh_dir = tmp_path / f"fresh{step}"
        fresh = hipify_tool.run(p, fresh_dir, sources, include_dirs=[p / "include"])
        assert [x.relative_to(inc) for x in incremental.outputs] == [x.relative_to(fresh_dir) for x in fresh.outputs]
        planned = [x.relative_to(inc).as_posix() for x in incremental.all_outputs]
        assert planned == [x.relative_to(fresh_dir).as_posix() for x in fresh.all_outputs], step
        inc_tree, fresh_tree = read_tree(inc), read_tree(fresh_dir)
        assert {rel: inc_tree.get(rel) for rel in planned} == fresh_tree, step
        saved += fresh.plan.translated_count - incremental.plan.translated_count
    assert saved > 0  # the incremental runs did reuse earlier work


def test_python_api_writes_every_build_file_and_judges_strict(tmp_path: Path) -> None:
    """The core, not the CLI, writes build files: the Python API gets depfile, stamp, lists and reports."""
    project = _fixture("basic", tmp_path / "p")
    build = tmp_path / "build"
    result = _basic_run(
        project,
        tmp_path / "out",
        depfile=build / "hip.d",
        stamp=build / "hip.stamp",
        output_list=build / "outputs.json",
        list_format="json",
        cmake_plan=build / "plan.cmake",
        report="json",
        report_file=build / "report.json",
    )
    depfile = (build / "hip.d").read_text()
    assert depfile.startswith(f"{build / 'hip.stamp'}: \\\n")  # the stamp is the only target
    assert all(str(p) in depfile for p in result.plan.dependencies())
    assert (build / "hip.stamp").is_file()
    assert json.loads((build / "outputs.json").read_text()) == [str(p) for p in result.outputs]
    assert "set(HIPIFY_TOOL_OUTPUTS" in (build / "plan.cmake").read_text()
    assert result.report is not None
    assert json.loads((build / "report.json").read_text())["totals"] == result.report.totals()
    (project / "src" / "left.cu").write_text("void f() { cuFooBarBaz(); }\n")
    with pytest.raises(CheckFailed, match="--strict: 1 CUDA name"):
        hipify_tool.run(project, tmp_path / "out2", [project / "src" / "left.cu"], strict=True)
    assert (tmp_path / "out2" / "src" / "left.hip").is_file()  # strict judges after writing
