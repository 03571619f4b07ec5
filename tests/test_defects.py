"""PyTorch hipify defects that hipify-tool fixes: each test checks our (right) behaviour where a plain
wrapper around ``torch.utils.hipify.hipify_python.hipify`` would fail it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers import BREADCRUMB, read_tree, run_cli, snapshot, subprocess_env, write_tree

import hipify_tool
from hipify_tool.errors import PlanConflict, TranslationError

KERNEL = "__global__ void k(float* p) { p[0] = 1.f; }\nvoid go(float* p) { k<<<1, 1>>>(p); }\n"
HIP_KERNEL = (
    '#include "hip/hip_runtime.h"\n'
    "__global__ void k(float* p) { p[0] = 1.f; }\n"
    "void go(float* p) {hipLaunchKernelGGL(( k), dim3(1), dim3(1), 0, 0, p); }\n"
)


def _written(root: Path) -> dict[str, bytes]:
    return read_tree(root) if root.exists() else {}


def _one_error_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if "error" in line]
    assert len(lines) == 1, stderr
    return lines[0]


# --- every planned output exists and the list names it ------------------------------------------------


def test_unchanged_cu_still_gets_a_hip_output(tmp_path: Path) -> None:
    src = "// nothing CUDA-specific here\nint add(int a, int b) { return a + b; }\n"
    write_tree(tmp_path / "p", {"k.cu": src})
    result = hipify_tool.run(tmp_path / "p", tmp_path / "o", [tmp_path / "p" / "k.cu"])
    assert result.outputs == (tmp_path / "o" / "k.hip",)
    assert (tmp_path / "o" / "k.hip").read_bytes() == BREADCRUMB + src.encode()


def test_input_starting_with_breadcrumb_is_translated(tmp_path: Path) -> None:
    """PyTorch ignores an input whose first line is its breadcrumb and reports no output for it."""
    write_tree(tmp_path / "p", {"k.cu": BREADCRUMB.decode() + KERNEL})
    proc = run_cli("run", "-p", tmp_path / "p", "-o", tmp_path / "o", tmp_path / "p" / "k.cu")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"{tmp_path / 'o' / 'k.hip'}\n"
    # Translated, with exactly one breadcrumb at the top.
    assert (tmp_path / "o" / "k.hip").read_bytes() == BREADCRUMB + HIP_KERNEL.encode()


def test_write_failure_is_exit_5_naming_the_file(tmp_path: Path) -> None:
    write_tree(tmp_path / "p", {"k.cu": KERNEL})
    run_cli("run", "-p", tmp_path / "p", "-o", tmp_path / "o", tmp_path / "p" / "k.cu", check=True)
    blocker = tmp_path / "o" / "k.hip"
    blocker.unlink()
    blocker.mkdir()  # a directory where our output must go: the write fails (even as root)
    (blocker / "keep").write_text("x")
    proc = run_cli("run", "-p", tmp_path / "p", "-o", tmp_path / "o", tmp_path / "p" / "k.cu")
    assert proc.returncode == 5
    line = _one_error_line(proc.stderr)
    assert str(blocker) in line
    assert proc.stdout == ""  # no list naming an output that was not written


# --- no module-level state ---------------------------------------------------------------------------


def test_two_runs_in_one_process_are_independent(tmp_path: Path) -> None:
    write_tree(tmp_path / "a", {"x.cu": KERNEL, "x.cuh": "#pragma once\ncudaStream_t s;\n"})
    write_tree(tmp_path / "b", {"y.cu": "#include <cuda_runtime.h>\nint y;\n"})
    first = hipify_tool.run(tmp_path / "a", tmp_path / "oa", [tmp_path / "a" / "x.cu", tmp_path / "a" / "x.cuh"])
    second = hipify_tool.run(tmp_path / "b", tmp_path / "ob", [tmp_path / "b" / "y.cu"])
    assert first.outputs == (tmp_path / "oa" / "x.hip", tmp_path / "oa" / "x_hip.cuh")
    assert second.outputs == (tmp_path / "ob" / "y.hip",)
    assert set(second.plan.files) == {"y.cu"}
    assert second.all_outputs == [tmp_path / "ob" / "y.hip"]
    assert set(_written(tmp_path / "ob")) == {"y.hip"}
    # A third run of the first tree, after an edit, is not served from the first run's results.
    (tmp_path / "a" / "x.cu").write_text(KERNEL + "void h() { cudaDeviceSynchronize(); }\n")
    third = hipify_tool.run(tmp_path / "a", tmp_path / "oa", [tmp_path / "a" / "x.cu"])
    assert third.outputs == (tmp_path / "oa" / "x.hip",)
    assert b"hipDeviceSynchronize()" in (tmp_path / "oa" / "x.hip").read_bytes()


# --- include resolution -------------------------------------------------------------------------------


def test_first_include_dir_wins_and_ambiguity_is_a_warning(tmp_path: Path) -> None:
    write_tree(
        tmp_path / "p",
        {
            "src/main.cu": '#include "x.cuh"\nint main() { return 0; }\n',
            "inc1/x.cuh": "#pragma once\n// first\ncudaStream_t a;\n",
            "inc2/x.cuh": "#pragma once\n// second\ncudaEvent_t b;\n",
        },
    )
    p = tmp_path / "p"
    proc = run_cli("run", "-p", p, "-o", tmp_path / "o", "-I", p / "inc1", "-I", p / "inc2", p / "src/main.cu")
    assert proc.returncode == 0, proc.stderr
    out = read_tree(tmp_path / "o")
    assert out["inc1/x_hip.cuh"] == BREADCRUMB + b"#pragma once\n// first\nhipStream_t a;\n"
    assert "inc2/x_hip.cuh" not in out
    assert b'#include "x_hip.cuh"' in out["src/main.hip"]
    warnings = [line for line in proc.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1
    assert "ambiguous" in warnings[0] and str(p / "inc1" / "x.cuh") in warnings[0]
    assert str(p / "inc2" / "x.cuh") in warnings[0]


def test_includes_compilers_accept_are_rewritten(tmp_path: Path) -> None:
    """'#  include' and '#include"x"' are includes too; PyTorch leaves them pointing at CUDA headers."""
    write_tree(
        tmp_path / "p",
        {
            "k.cu": '#  include "a.cuh"\n#include"b.cuh"\n#\tinclude <c.cuh>\n',
            "a.cuh": "#pragma once\ncudaStream_t a;\n",
            "b.cuh": "#pragma once\ncudaEvent_t b;\n",
            "c.cuh": "#pragma once\ncudaError_t c;\n",
        },
    )
    p = tmp_path / "p"
    result = hipify_tool.run(p, tmp_path / "o", [p / "k.cu"], include_dirs=[p])
    out = read_tree(tmp_path / "o")
    assert out["k.hip"] == BREADCRUMB + b'#  include "a_hip.cuh"\n#include"b_hip.cuh"\n#\tinclude <c_hip.cuh>\n'
    assert out["a_hip.cuh"].endswith(b"hipStream_t a;\n")
    assert out["b_hip.cuh"].endswith(b"hipEvent_t b;\n")
    assert out["c_hip.cuh"].endswith(b"hipError_t c;\n")
    assert len(result.plan.files) == 4


def test_header_outside_pytorchs_file_list_is_followed(tmp_path: Path) -> None:
    """PyTorch only tries headers whose basename ends one of its matched files (and never walks a
    top-level third_party/); the include below is left pointing at the CUDA header."""
    write_tree(
        tmp_path / "p",
        {
            "k.cu": '#include "third_party/lib/vendor_util.cuh"\nint k;\n',
            "third_party/lib/vendor_util.cuh": "#pragma once\ncudaStream_t vendor_stream;\n",
        },
    )
    p = tmp_path / "p"
    hipify_tool.run(p, tmp_path / "o", [p / "k.cu"])
    out = read_tree(tmp_path / "o")
    assert out["k.hip"] == BREADCRUMB + b'#include "third_party/lib/vendor_util_hip.cuh"\nint k;\n'
    assert out["third_party/lib/vendor_util_hip.cuh"] == BREADCRUMB + b"#pragma once\nhipStream_t vendor_stream;\n"


# --- sources are read afresh on every run -----------------------------------------------------------


def test_rerun_reflects_edits_to_sources_and_headers(tmp_path: Path) -> None:
    p = write_tree(
        tmp_path / "p",
        {"k.cu": '#include "h.h"\nint f() { return 1; }\n', "h.h": "#pragma once\nint plain();\n"},
    )
    out = tmp_path / "o"
    first = hipify_tool.run(p, out, [p / "k.cu"])
    assert first.all_outputs == [out / "h.h", out / "k.hip"]
    (p / "k.cu").write_text('#include "h.h"\nvoid f() { cudaDeviceSynchronize(); }\n')
    hipify_tool.run(p, out, [p / "k.cu"])
    assert (out / "k.hip").read_bytes() == BREADCRUMB + b'#include "h.h"\nvoid f() { hipDeviceSynchronize(); }\n'
    # The header now changes, so it is renamed and the include follows it.
    (p / "h.h").write_text("#pragma once\ncudaStream_t plain();\n")
    third = hipify_tool.run(p, out, [p / "k.cu"])
    assert third.all_outputs == [out / "h_hip.h", out / "k.hip"]
    assert (out / "h_hip.h").read_bytes() == BREADCRUMB + b"#pragma once\nhipStream_t plain();\n"
    assert (out / "k.hip").read_bytes() == BREADCRUMB + b'#include "h_hip.h"\nvoid f() { hipDeviceSynchronize(); }\n'


# --- nothing outside the output root -------------------------------------------------------------------


def test_never_writes_outside_the_output_root(tmp_path: Path) -> None:
    """PyTorch writes a source under my-cuda-kernels/ to a sibling my-hip-kernels/ (vLLM-style call)."""
    write_tree(
        tmp_path / "my-cuda-kernels",
        {"k.cu": KERNEL, "cuda/inner.cu": KERNEL, "cuda/h.cuh": "#pragma once\ncudaStream_t s;\n"},
    )
    out = tmp_path / "build" / "my-cuda-kernels"
    before = snapshot(tmp_path)
    proc = run_cli(
        "run",
        "-p",
        "my-cuda-kernels",
        "-o",
        out,
        "my-cuda-kernels/k.cu",
        "my-cuda-kernels/cuda/inner.cu",
        "my-cuda-kernels/cuda/h.cuh",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    after = snapshot(tmp_path)
    outside_before = {k: v for k, v in before.items() if not k.startswith("build/")}
    outside_after = {k: v for k, v in after.items() if not k.startswith("build/")}
    assert outside_after == outside_before
    assert set(read_tree(out)) == {"k.hip", "hip/inner.hip", "hip/h.cuh"}
    assert proc.stdout.splitlines() == [str(out / "k.hip"), str(out / "hip/inner.hip"), str(out / "hip/h.cuh")]


def test_symlink_in_output_root_cannot_redirect_writes(tmp_path: Path) -> None:
    write_tree(tmp_path / "p", {"sub/k.cu": KERNEL})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "sub").symlink_to(elsewhere, target_is_directory=True)
    proc = run_cli("run", "-p", tmp_path / "p", "-o", tmp_path / "o", tmp_path / "p" / "sub" / "k.cu")
    assert proc.returncode == 5
    assert "sub" in _one_error_line(proc.stderr)
    assert list(elsewhere.iterdir()) == []


# --- collisions and hand-written files -----------------------------------------------------------------


def test_two_inputs_one_output_is_a_conflict(tmp_path: Path) -> None:
    p = write_tree(tmp_path / "p", {"k_cuda.cu": KERNEL, "k_hip.cu": KERNEL})
    proc = run_cli("run", "-p", p, "-o", tmp_path / "o", p / "k_cuda.cu", p / "k_hip.cu")
    assert proc.returncode == 4
    line = _one_error_line(proc.stderr)
    assert "k_hip.hip" in line and "k_cuda.cu" in line and "k_hip.cu" in line
    assert _written(tmp_path / "o") == {}
    with pytest.raises(PlanConflict):
        hipify_tool.plan(p, tmp_path / "o", [p / "k_cuda.cu", p / "k_hip.cu"])


def test_hand_written_hip_file_is_not_shadowed(tmp_path: Path) -> None:
    p = write_tree(tmp_path / "p", {"k.cu": KERNEL, "k.hip": "// hand-written HIP version\n"})
    proc = run_cli("run", "-p", p, "-o", tmp_path / "o", p / "k.cu")
    assert proc.returncode == 4
    assert str(p / "k.hip") in _one_error_line(proc.stderr)
    assert _written(tmp_path / "o") == {}
    assert (p / "k.hip").read_text() == "// hand-written HIP version\n"


def test_foreign_file_in_output_root_is_not_overwritten(tmp_path: Path) -> None:
    p = write_tree(tmp_path / "p", {"k.cu": KERNEL})
    write_tree(tmp_path / "o", {"k.hip": "// someone else's file\n"})
    proc = run_cli("run", "-p", p, "-o", tmp_path / "o", p / "k.cu")
    assert proc.returncode == 4
    assert str(tmp_path / "o" / "k.hip") in _one_error_line(proc.stderr)
    assert (tmp_path / "o" / "k.hip").read_text() == "// someone else's file\n"


# --- bytes are preserved ---------------------------------------------------------------------------------


def test_non_utf8_crlf_and_bom_survive(tmp_path: Path) -> None:
    p = write_tree(
        tmp_path / "p",
        {
            "a_latin1.cu": b"// caf\xe9\ncudaStream_t s;\n",
            "b_crlf.cu": b"#include <cuda_runtime.h>\r\ncudaStream_t s;\r\n",
            "c_bom.cu": b"\xef\xbb\xbf#include <cuda_runtime.h>\ncudaEvent_t e;\n",
            "d_good.cu": b"cudaError_t ok;\n",
        },
    )
    result = hipify_tool.run(p, tmp_path / "o", [p / n for n in ("a_latin1.cu", "b_crlf.cu", "c_bom.cu", "d_good.cu")])
    assert len(result.outputs) == 4  # the undecodable byte does not stop the run half way
    out = read_tree(tmp_path / "o")
    assert out["a_latin1.hip"] == BREADCRUMB + b"// caf\xe9\nhipStream_t s;\n"
    crlf_breadcrumb = BREADCRUMB.replace(b"\n", b"\r\n")
    assert out["b_crlf.hip"] == crlf_breadcrumb + b"#include <hip/hip_runtime.h>\r\nhipStream_t s;\r\n"
    assert out["c_bom.hip"] == b"\xef\xbb\xbf" + BREADCRUMB + b"#include <hip/hip_runtime.h>\nhipEvent_t e;\n"
    assert out["d_good.hip"] == BREADCRUMB + b"hipError_t ok;\n"


def test_tokens_at_first_and_last_byte_are_replaced(tmp_path: Path) -> None:
    p = write_tree(
        tmp_path / "p",
        {"k.cu": "cudaStream_t s;\nint x = cudaSuccess", "only.cuh": "cudaError_t"},
    )
    hipify_tool.run(p, tmp_path / "o", [p / "k.cu", p / "only.cuh"])
    out = read_tree(tmp_path / "o")
    assert out["k.hip"] == BREADCRUMB + b"hipStream_t s;\nint x = hipSuccess"
    assert out["only_hip.cuh"] == BREADCRUMB + b"hipError_t"


# --- kernel launches ----------------------------------------------------------------------------------------

MEMBER = "struct S { void (*kern)(int*); };\nvoid f(S* p, int* x) {\n  p->kern<<<1, 2>>>(x);\n}\n"
TEMPLATE = "template <int A, bool B> __global__ void kern(int*);\nvoid g(int* x) {\n  kern<1,(3>2)><<<1, 1>>>(x);\n}\n"


def test_member_launch_is_rewritten_correctly(tmp_path: Path) -> None:
    p = write_tree(tmp_path / "p", {"m.cu": MEMBER})
    hipify_tool.run(p, tmp_path / "o", [p / "m.cu"])
    text = (tmp_path / "o" / "m.hip").read_text()
    assert "hipLaunchKernelGGL(( p->kern), dim3(1), dim3(2), 0, 0, x);" in text
    assert "->" not in text.replace("p->kern", "")


def test_unparseable_launch_is_a_per_file_error(tmp_path: Path) -> None:
    p = write_tree(tmp_path / "p", {"m.cu": MEMBER, "t.cu": TEMPLATE})
    proc = run_cli("run", "-p", p, "-o", tmp_path / "o", p / "m.cu", p / "t.cu")
    assert proc.returncode == 3
    line = _one_error_line(proc.stderr)
    assert "t.cu" in line and "m.cu" not in line
    assert _written(tmp_path / "o") == {}  # nothing written (only the state dir may exist)
    assert proc.stdout == ""
    with pytest.raises(TranslationError):
        hipify_tool.run(p, tmp_path / "o2", [p / "t.cu"])


def test_launch_closed_only_inside_a_comment_is_an_error_not_a_hang(tmp_path: Path) -> None:
    """PyTorch's launch finder masks comments, finds no '>>>' after the '<<<' and loops forever."""
    p = write_tree(tmp_path / "p", {"h.cu": "void f() {\n  k<<<1,1();\n  // >>>\n}\n", "ok.cu": KERNEL})
    proc = run_cli("run", "-p", p, "-o", tmp_path / "o", p / "h.cu", p / "ok.cu")  # run_cli has a timeout
    assert proc.returncode == 3
    line = _one_error_line(proc.stderr)
    assert "h.cu" in line and "line 2" in line


def test_launch_text_in_comments_and_strings_is_not_an_error(tmp_path: Path) -> None:
    p = write_tree(tmp_path / "p", {"c.cu": '// a <<< b\nconst char* s = "<<<";\ncudaStream_t t;\n'})
    hipify_tool.run(p, tmp_path / "o", [p / "c.cu"])
    expected = BREADCRUMB + b'// a <<< b\nconst char* s = "<<<";\nhipStream_t t;\n'
    assert (tmp_path / "o" / "c.hip").read_bytes() == expected


def test_chevron_syntax_passes_both_launches_through(tmp_path: Path) -> None:
    p = write_tree(tmp_path / "p", {"m.cu": MEMBER, "t.cu": TEMPLATE})
    proc = run_cli("run", "--launch-syntax", "chevron", "-p", p, "-o", tmp_path / "o", p / "m.cu", p / "t.cu")
    assert proc.returncode == 0, proc.stderr
    out = read_tree(tmp_path / "o")
    assert out["m.hip"] == BREADCRUMB + MEMBER.encode()
    assert out["t.hip"] == BREADCRUMB + b'#include "hip/hip_runtime.h"\n' + TEMPLATE.encode()


# --- no torch import -------------------------------------------------------------------------------------------


def test_a_run_does_not_import_torch(tmp_path: Path) -> None:
    p = write_tree(tmp_path / "p", {"k.cu": KERNEL + "#include <cuda_runtime.h>\n", "h.cuh": "cudaStream_t s;\n"})
    code = textwrap.dedent(
        f"""
        import sys
        import hipify_tool
        result = hipify_tool.run({str(p)!r}, {str(tmp_path / "o")!r}, [{str(p / "k.cu")!r}, {str(p / "h.cuh")!r}])
        assert "hipLaunchKernelGGL" in open(result.outputs[0]).read()
        print(sorted(m for m in sys.modules if m == "torch" or m.startswith("torch.")))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env(), cwd=tmp_path, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
    assert os.path.isfile(tmp_path / "o" / "h_hip.cuh")
