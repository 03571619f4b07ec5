"""Translation reports: leftovers at known lines, SARIF valid against the 2.1.0 schema, --strict."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import REPO, run_cli, write_tree

from hipify_tool import plan as plan_api
from hipify_tool.preprocessor import CUDA, ROCM, blank, branch_lines, evaluate
from hipify_tool.report import analyse_plan
from hipify_tool.torch_adapter import locate
from hipify_tool.translate import TokenMatcher

SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"

KERNEL = """\
#include <cuda_fp8.h>
#include <cuda_runtime.h>
#include "local/cuda_helpers.h"
__global__ void k(float* x, const char* s) {
  x[0] = __shfl_xor_sync(0xffffffffu, x[0], 1);
  // __ballot_sync and cudaFooBar in a comment are not reported
  s = "cudaInString __syncwarp";
#ifndef USE_ROCM
  __nv_fp8_e4m3 guarded;
  asm volatile("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
#else
  __syncthreads();
#endif
  cudaStream_t stream;
  auto m = cuda::std::min(1, 2);
  auto t = at::cuda::getCurrentCUDAStream();
#if defined(USE_ROCM) && defined(HIP_ENABLE_WARP_SYNC_BUILTINS)
  x[1] = __shfl_down_sync(~0ull, x[1], 1);
#endif
  asm("mov.u32 %0, %%laneid;" : "=r"(lane));
  __syncwarp();
}
"""

# (line, col, identifier, rule, context)
EXPECTED = {
    (1, 11, "cuda_fp8.h", "cuda-header", "shared"),
    (5, 10, "__shfl_xor_sync", "warp-sync-intrinsic", "shared"),
    (9, 3, "__nv_fp8_e4m3", "nvidia-type", "cuda-only"),
    (10, 3, "asm volatile", "inline-ptx", "cuda-only"),
    (15, 12, "cuda", "libcudacxx", "shared"),
    (18, 10, "__shfl_down_sync", "warp-sync-intrinsic", "rocm-only"),
    (20, 3, "asm", "inline-ptx", "shared"),
    (21, 3, "__syncwarp", "warp-sync-intrinsic", "shared"),
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_tree(
        tmp_path / "proj",
        {"k.cu": KERNEL, "local/cuda_helpers.h": "#pragma once\ninline int helper() { return 1; }\n"},
    )


def _findings(doc: dict) -> set[tuple[int, int, str, str, str]]:
    (k,) = [f for f in doc["files"] if f["source"] == "k.cu"]
    return {(f["line"], f["col"], f["identifier"], f["rule"], f["context"]) for f in k["findings"]}


def test_json_report_has_known_leftovers_at_known_lines(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    proc = run_cli("plan", "-p", project, "-o", tmp_path / "out", "--report", "json", "--report-file", out)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    assert _findings(doc) == EXPECTED
    assert doc["totals"]["leftover"] == 5  # the shared ones; the other three are reported separately
    assert doc["totals"]["unsupported"] == 0
    (k,) = [f for f in doc["files"] if f["source"] == "k.cu"]
    replaced = {(r["line"], r["identifier"], r["replacement"]) for r in k["replacements"]}
    assert (14, "cudaStream_t", "hipStream_t") in replaced
    assert (2, "cuda_runtime.h", "hip/hip_runtime.h") in replaced
    assert not any(r["line"] in (6, 7) for r in k["replacements"])  # comments and strings are not counted
    # the summary goes to stderr, the findings into the file
    assert "5 left over" in proc.stderr and "k.cu:5:10" not in proc.stderr


def test_text_report_on_stderr(project: Path, tmp_path: Path) -> None:
    proc = run_cli("run", "-p", project, "-o", tmp_path / "out", "--report", "text", cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert "/out/k.hip" in proc.stdout  # stdout is still the output list
    lines = proc.stderr.splitlines()
    k = project / "k.cu"  # named as the tool's errors and warnings name files: absolute
    assert (
        f"{k}:5:10: warning: __shfl_xor_sync (Warp-synchronous intrinsic) has no HIP mapping "
        "[warp-sync-intrinsic]" in lines
    )
    assert f"{k}:1:11: warning: <cuda_fp8.h> is a CUDA header that no map renames [cuda-header]" in lines
    assert not any(":9:" in line for line in lines)  # guarded findings only with -v
    verbose = run_cli("plan", "-p", project, "-o", tmp_path / "out", "--report", "text", "-v", cwd=project)
    assert any(line.startswith(f"{k}:9:3: note: __nv_fp8_e4m3") for line in verbose.stderr.splitlines())


def test_sarif_validates_against_the_2_1_0_schema(project: Path, tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    out = tmp_path / "report.sarif"
    proc = run_cli(
        "plan", "-p", project, "-o", tmp_path / "out", "--report", "sarif", "--report-file", out, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft4Validator.check_schema(schema)
    jsonschema.Draft4Validator(schema).validate(doc)
    (run,) = doc["runs"]
    results = {
        (
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
            r["locations"][0]["physicalLocation"]["region"]["startColumn"],
            r["ruleId"],
            r["level"],
        )
        for r in run["results"]
    }
    assert ("proj/k.cu", 5, 10, "warp-sync-intrinsic", "warning") in results
    assert ("proj/k.cu", 9, 3, "nvidia-type", "note") in results
    assert len(results) == len(EXPECTED)
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.as_uri() + "/"
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert all(rule_ids[r["ruleIndex"]] == r["ruleId"] for r in run["results"])


def test_strict_exit_codes(project: Path, tmp_path: Path) -> None:
    proc = run_cli("run", "-p", project, "-o", tmp_path / "out", "--strict")
    assert proc.returncode == 6
    assert "--strict: 5 CUDA names are left" in proc.stderr
    assert (tmp_path / "out" / "k.hip").is_file()  # the run itself completed
    quiet = run_cli("plan", "-p", project, "-o", tmp_path / "out", "--strict", "-q")
    assert quiet.returncode == 6 and "__shfl_xor_sync" in quiet.stderr
    clean = write_tree(
        tmp_path / "clean",
        {
            "a.cu": "#include <cuda_runtime.h>\n__global__ void k() {}\n"
            "#ifndef USE_ROCM\nint lane() { return __shfl_xor_sync(~0u, 1, 1); }\n#endif\n",
        },
    )
    ok = run_cli("plan", "-p", clean, "-o", tmp_path / "out2", "--strict")
    assert ok.returncode == 0, ok.stderr


def test_report_needs_a_file_for_machine_formats(project: Path, tmp_path: Path) -> None:
    proc = run_cli("plan", "-p", project, "-o", tmp_path / "out", "--report", "sarif")
    assert proc.returncode == 2 and "--report-file" in proc.stderr


def test_python_api_and_project_defines(tmp_path: Path) -> None:
    proj = write_tree(
        tmp_path / "p",
        {
            "a.cu": (
                "#define CUDA_CHECK(x) x\nvoid f() { CUDA_CHECK(cudaDeviceSynchronize()); CUDA_KERNEL_ASSERT(1); }\n"
            ),
        },
    )
    report = analyse_plan(plan_api(proj, tmp_path / "out"))
    assert report.problems == []
    assert report.totals()["replaced"] == 1


def test_preprocessor_branches() -> None:
    assert evaluate("defined(USE_ROCM) && !defined(__CUDA_ARCH__)") == 1
    assert evaluate("__CUDA_ARCH__ >= 800") == 0
    assert evaluate("SOME_MACRO") is None
    assert evaluate("defined(USE_ROCM)", CUDA) == 0
    text = (
        "#if defined(X) && defined(USE_ROCM)\na\n#elif defined(X)\nb\n#else\nc\n#endif\n"
        "#if 0\nd\n#elif UNKNOWN_VALUE > 3\ne\n#endif\n"
        "#if defined(__CUDACC__)\n#define DEV 1\n#endif\n#if DEV\nf\n#else\ng\n#endif\n"
    )
    code, _ = blank(text)
    rocm = branch_lines(code, ROCM, lambda s: s.replace("__CUDACC__", "__HIPCC__"))
    line = {t: i for i, t in enumerate(text.split("\n")) if len(t) == 1}
    assert rocm.taken[line["a"]] and not rocm.taken[line["b"]] and rocm.taken[line["c"]]
    assert not rocm.taken[line["d"]] and rocm.taken[line["e"]]
    assert rocm.taken[line["f"]] and not rocm.taken[line["g"]]
    cuda = branch_lines(code, CUDA)
    assert not cuda.taken[line["a"]] and cuda.taken[line["b"]]


def test_blank_keeps_positions() -> None:
    text = 'int a; // cudaX\n/* x\n y */ const char* s = "cuda\\"y"; char c = \'"\'; int n = 1\'000;\n'
    code, strings = blank(text)
    assert len(code) == len(text) and code.count("\n") == text.count("\n")
    assert "cuda" not in code and "int n = 1'000;" in code
    assert [text[a:b] for a, b in strings] == ['"cuda\\"y"']


def test_finditer_agrees_with_replace() -> None:
    matcher = TokenMatcher(locate().tables().token_map)
    text = (
        (REPO / "csrc_example" / "csrc" / "portability.cuh").read_text()
        if (REPO / "csrc_example" / "csrc" / "portability.cuh").is_file()
        else KERNEL
    )
    text += KERNEL + "\ncub::Sum x; <cuda_runtime.h> cudaMalloc"
    out, count = matcher.replace(text)
    hits = list(matcher.finditer(text))
    assert len(hits) == count
    rebuilt, cursor = [], 0
    for start, key, value in hits:
        rebuilt += [text[cursor:start], value]
        cursor = start + len(key)
    assert "".join(rebuilt) + text[cursor:] == out


def test_reference_project_is_clean_under_strict(tmp_path: Path) -> None:
    csrc = REPO / "csrc_example" / "csrc"
    if not csrc.is_dir():
        pytest.skip("the reference project is not in this checkout")
    proc = run_cli("plan", "-p", csrc, "-o", tmp_path / "out", "-I", csrc, "--strict", "--report", "text", "-v")
    assert proc.returncode == 0, proc.stderr
