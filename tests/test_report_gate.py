"""``--strict`` as a CI gate that holds on real projects (each family reproduced by a small fixture):
headers only the CUDA build includes, names that only look like CUDA API, replaced headers, names the
target ROCm declares under the build's ``-D`` macros, untranslated extensions; adopting the gate with
``--baseline`` and inline ``hipify-tool: ignore[rule]`` comments.

Every CLI call names its ROCm (a small tree written here), so the results do not depend on the ROCm
this machine has.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import run_cli_no_rocm, write_tree

SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"
FAKE_ROCM = {
    "include/hip/hip_runtime_api.h": (
        "#pragma once\n"
        "typedef int hipError_t;\n"
        "typedef struct ihipStream_t* hipStream_t;\n"
        "hipError_t hipMalloc(void** p, unsigned long n);\n"
        "hipError_t hipFree(void* p);\n"
        "#if defined(HIP_ENABLE_WARP_SYNC_BUILTINS)\n"
        "template <typename MaskT, typename T>\n"
        "__device__ inline T __shfl_xor_sync(MaskT mask, T var, int lane_mask, int width = 64) { return var; }\n"
        "#endif\n"
    ),
    "include/hip/hip_runtime.h": '#pragma once\n#include "hip_runtime_api.h"\n',
}


_cli = run_cli_no_rocm


@pytest.fixture
def rocm(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "rocm", FAKE_ROCM)


def _json(project: Path, out: Path, rocm: Path, *extra: object, command: str = "plan") -> tuple[dict, str]:
    report = out.parent / f"{out.name}-report.json"
    proc = _cli(command, "-p", project, "-o", out, "--rocm-path", rocm, "--report", "json", "--report-file", report,
                *extra)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return json.loads(report.read_text()), proc.stderr


def _found(doc: dict, source: str) -> set[tuple[int, str, str, str]]:
    (f,) = [f for f in doc["files"] if f["source"] == source]
    return {(x["line"], x["identifier"], x["rule"], x["context"]) for x in f["findings"]}


# --- 1. branch context follows includes -------------------------------------------------------------

NV_ONLY = """\
#pragma once
__device__ int lane() {
  int l;
  asm("mov.u32 %0, %%laneid;" : "=r"(l));
  return __shfl_sync(0xffffffff, l, 0);
}
typedef __nv_bfloat16 nv_bfloat16;
"""


def test_a_header_only_the_cuda_build_includes_is_not_code_rocm_compiles(tmp_path: Path, rocm: Path) -> None:
    project = write_tree(
        tmp_path / "p",
        {
            "topk.cu": '#ifndef USE_ROCM\n#include "nv_only.cuh"\n#endif\n#include "both.cuh"\n'
            "__global__ void k(nv_bfloat16* x) {}\n",
            "other.cu": '#include "both.cuh"\n#if !defined(USE_ROCM)\n#include "both.cuh"\n#endif\n',
            "nv_only.cuh": NV_ONLY,
            "both.cuh": "#pragma once\n__device__ void g() { __syncwarp(); }\n",
        },
    )
    doc, _ = _json(project, tmp_path / "out", rocm, project / "topk.cu", project / "other.cu")
    assert _found(doc, "nv_only.cuh") == {
        (4, "asm", "inline-ptx", "cuda-only"),
        (5, "__shfl_sync", "warp-sync-intrinsic", "cuda-only"),
        (7, "__nv_bfloat16", "unsupported", "cuda-only"),  # mapped to __hip_bfloat16, which this ROCm lacks
        (7, "nv_bfloat16", "nvidia-type", "cuda-only"),
    }
    (nv,) = [f for f in doc["files"] if f["source"] == "nv_only.cuh"]
    assert nv["compiled_by_rocm"] is False
    assert "[in a header that only branches ROCm does not take include]" in nv["findings"][0]["message"]
    # one inclusion in code ROCm takes is enough: still shared
    assert _found(doc, "both.cuh") == {(2, "__syncwarp", "warp-sync-intrinsic", "shared")}
    # a typedef in a header ROCm never reads declares nothing for ROCm
    assert (5, "nv_bfloat16", "nvidia-type", "shared") in _found(doc, "topk.cu")
    strict = _cli("plan", "-p", project, "-o", tmp_path / "out", "--rocm-path", rocm, "--strict", "topk.cu",
                  cwd=project)  # fmt: skip
    assert strict.returncode == 6
    assert "nv_only.cuh" not in strict.stderr and "--strict: 2 CUDA names are left" in strict.stderr


# --- 2. names that only look like CUDA API names; 3. replaced headers -----------------------------------


def test_lookalike_names_and_replaced_headers_are_not_reported(tmp_path: Path, rocm: Path) -> None:
    project = write_tree(
        tmp_path / "p",
        {
            "gemm.cu": "#include <cuda.h>\n#include <cuda_runtime.h>\n"
            "void gemm(cublasHandle_t cublas_handle, cufftHandle cufft_plan) {\n"
            "  cutlass_scaled_mm(cublas_handle);\n"
            "  cublasGemmGroupedBatchedEx(cublas_handle);\n"
            "  curandStatePhilox4_32_10_t state;\n"
            "}\n",
        },
    )
    doc, _ = _json(project, tmp_path / "out", rocm)
    assert _found(doc, "gemm.cu") == {(5, "cublasGemmGroupedBatchedEx", "cuda-library", "shared")}
    (gemm,) = doc["files"]
    replaced = {(r["line"], r["replacement"]) for r in gemm["replacements"]}
    assert (1, "include <hip/hip_runtime.h") in replaced  # PyTorch's entry covers the whole directive
    text = _cli("plan", "-p", project, "-o", tmp_path / "out", "--rocm-path", rocm, "--report", "text")
    assert "cuda.h" not in text.stderr and "cublas_handle" not in text.stderr


# --- 4. -D: the build's macros, for the project's branches and the target's headers --------------------


def test_defines_feed_the_project_branches_and_the_rocm_headers(tmp_path: Path, rocm: Path) -> None:
    project = write_tree(
        tmp_path / "p",
        {
            "a.cu": "__global__ void k(float* x) {\n"
            "  x[0] = __shfl_xor_sync(0xffffffffffffffffull, x[0], 1);\n"
            "#if FAST_FP8\n  __nv_fp8_e4m3 f;\n#endif\n}\n"
        },
    )
    out = tmp_path / "out"
    plain, _ = _json(project, out, rocm, command="run")
    assert _found(plain, "a.cu") == {
        (2, "__shfl_xor_sync", "warp-sync-intrinsic", "shared"),
        (4, "__nv_fp8_e4m3", "nvidia-type", "shared"),
    }
    assert plain["declared_by_rocm"] == []
    # into the same output root: the cached index of the headers without the define is not reused
    defined, stderr = _json(project, out, rocm, "-D", "HIP_ENABLE_WARP_SYNC_BUILTINS", "--define", "FAST_FP8=0",
                            command="run")  # fmt: skip
    assert _found(defined, "a.cu") == {(4, "__nv_fp8_e4m3", "nvidia-type", "cuda-only")}
    assert defined["declared_by_rocm"] == [
        {"identifier": "__shfl_xor_sync", "kind": "declared-by-rocm", "rule": "warp-sync-intrinsic", "uses": 1}
    ]
    assert defined["rocm"].endswith("with -DHIP_ENABLE_WARP_SYNC_BUILTINS -DFAST_FP8=0")
    assert "1 name the target ROCm declares" in stderr
    again, _ = _json(project, out, rocm, command="run")
    assert _found(again, "a.cu") == _found(plain, "a.cu")
    # the configuration key, and a malformed value (exit 2, before anything is written)
    config = f'output-dir = "../cfg"\nrocm-path = "{rocm}"\ndefines = ["HIP_ENABLE_WARP_SYNC_BUILTINS"]\n'
    (project / "pyproject.toml").write_text("[tool.hipify-tool]\n" + config)
    configured = _cli("plan", "--strict", cwd=project)
    assert configured.returncode == 6 and "__nv_fp8_e4m3" in configured.stderr
    assert "__shfl_xor_sync" not in configured.stderr
    bad = _cli("plan", "-p", project, "-o", tmp_path / "bad", "-D", "1X", "--no-config")
    assert bad.returncode == 2 and "-D/--define" not in bad.stderr and "NAME[=VALUE]" in bad.stderr
    assert not (tmp_path / "bad").exists()


# --- 5. an extension that is not translated --------------------------------------------------------


def test_an_untranslated_extension_says_so(tmp_path: Path, rocm: Path) -> None:
    project = write_tree(
        tmp_path / "p",
        {
            "cuda/k.cu": '#include "impl.inl"\n',
            "cuda/impl.inl": "#include <cuda_runtime.h>\nvoid g() { void* p; cudaMalloc(&p, 4); cudaFoo(p); }\n",
        },
    )
    doc, _ = _json(project, tmp_path / "out", rocm)
    assert _found(doc, "cuda/impl.inl") == {
        (1, "cuda_runtime.h", "untranslated-extension", "shared"),
        (2, "cudaMalloc", "untranslated-extension", "shared"),
        (2, "cudaFoo", "cuda-runtime-api", "shared"),  # no map knows it: the usual finding
    }
    (impl,) = [f for f in doc["files"] if f["source"] == "cuda/impl.inl"]
    message = {x["identifier"]: x["message"] for x in impl["findings"]}["cudaMalloc"]
    assert message == (
        "cudaMalloc stays as written (a map replaces it with hipMalloc): impl.inl was copied untranslated "
        "because of its extension; add `--extension .inl`"
    )
    translated, _ = _json(project, tmp_path / "out2", rocm, *(f"--extension={e}" for e in (".cu", ".inl")))
    assert _found(translated, "cuda/impl.inl") == {(2, "cudaFoo", "cuda-runtime-api", "shared")}


# --- adoption: inline comments and a baseline ---------------------------------------------------------

KERNEL = """\
__global__ void k(float* x) {
  // hipify-tool: ignore[warp-sync-intrinsic]
  x[0] = __shfl_xor_sync(~0u, x[0], 1);
  x[1] = __shfl_down_sync(~0u, x[1], 1);  /* hipify-tool: ignore[warp-sync-intrinsic, inline-ptx] */
  const char* s = "hipify-tool: ignore[nvidia-type]"; __nv_fp8_e4m3 f;
  __syncwarp();
}
"""


def test_inline_ignore_comments(tmp_path: Path, rocm: Path) -> None:
    project = write_tree(tmp_path / "p", {"k.cu": KERNEL})
    doc, stderr = _json(project, tmp_path / "out", rocm)
    (k,) = doc["files"]
    waived = {(x["line"], x["identifier"]): x.get("waived") for x in k["findings"]}
    assert waived == {
        (3, "__shfl_xor_sync"): "ignored",  # the comment on the line above
        (4, "__shfl_down_sync"): "ignored",  # the comment on its own line
        (5, "__nv_fp8_e4m3"): None,  # text in a string literal is no comment
        (6, "__syncwarp"): None,  # a trailing comment covers only its own line
    }
    assert doc["totals"]["ignored"] == 2 and doc["totals"]["leftover"] == 2
    assert "2 ignored by comments" in stderr


def test_baseline_fails_only_on_new_findings(tmp_path: Path, rocm: Path) -> None:
    source = "__global__ void k(float* x) {\n  x[0] = __shfl_xor_sync(~0u, x[0], 1);\n  __syncwarp();\n}\n"
    project = write_tree(tmp_path / "p", {"k.cu": source, "util.cuh": "inline int u() { return CUDART_VERSION; }\n"})
    out = tmp_path / "out"
    baseline = tmp_path / "hipify-baseline.json"
    first = _cli("plan", "-p", project, "-o", out, "--rocm-path", rocm, "--report", "json", "--report-file", baseline)
    assert first.returncode == 0, first.stderr
    assert json.loads(baseline.read_text())["project_dir"] == "p"  # no absolute path in a committed report
    args = ("plan", "-p", project, "-o", out, "--rocm-path", rocm, "--strict", "--baseline", baseline)
    adopted = _cli(*args)
    assert adopted.returncode == 0, adopted.stderr
    assert "3 in the baseline" in adopted.stderr
    # edits above move the old findings; one new finding is the only one named, and the only failure
    (project / "k.cu").write_text(
        "// a new comment\n\n" + source.replace("__syncwarp();", "__syncwarp();\n  __activemask();")
    )
    moved = _cli(*args)
    assert moved.returncode == 6
    problems = [line for line in moved.stderr.splitlines() if ": warning: " in line]
    new = "__activemask (Warp-synchronous intrinsic) has no HIP mapping [warp-sync-intrinsic]"
    assert problems == [f"{project / 'k.cu'}:6:3: warning: {new}"]
    assert (
        f"--strict: 1 CUDA name is left or unsupported in code ROCm compiles (3 more in the baseline {baseline})"
        in moved.stderr
    )
    # a second use of a baselined name in the same file is new too; a fixed one is counted as gone
    (project / "k.cu").write_text(source.replace("__syncwarp();", "__shfl_xor_sync(~0u, 1.f, 1);"))
    again = _cli(*args)
    assert again.returncode == 6 and ":3:3: warning: __shfl_xor_sync" in again.stderr
    assert "(1 of its findings are gone)" in again.stderr
    sarif = tmp_path / "r.sarif"
    proc = _cli(*args[:-3], "--baseline", baseline, "--report", "sarif", "--report-file", sarif)
    doc = json.loads(sarif.read_text())
    states = sorted((r["ruleId"], r["baselineState"], "suppressions" in r) for r in doc["runs"][0]["results"])
    assert states == [("cuda-macro", "unchanged", True), ("warp-sync-intrinsic", "new", False),
                      ("warp-sync-intrinsic", "unchanged", True)], proc.stderr  # fmt: skip
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text())).validate(doc)


def test_a_bad_baseline_is_a_usage_error(tmp_path: Path, rocm: Path) -> None:
    project = write_tree(tmp_path / "p", {"k.cu": "void f() { __syncwarp(); }\n"})
    (tmp_path / "notes.json").write_text('{"files": []}\n')
    (tmp_path / "broken.json").write_text("{")
    for baseline, message in (
        (tmp_path / "missing.json", "cannot read the report"),
        (tmp_path / "broken.json", "not a JSON report"),
        (tmp_path / "notes.json", "not a hipify-tool JSON report"),
    ):
        proc = _cli("run", "-p", project, "-o", tmp_path / "out", "--rocm-path", rocm, "--strict", "--baseline",
                    baseline)  # fmt: skip
        assert proc.returncode == 2 and f"{baseline}: --baseline: {message}" in proc.stderr
        assert not (tmp_path / "out").exists()
    # the report may not overwrite the baseline it reads
    (tmp_path / "b.json").write_text('{"tool": "hipify-tool", "files": []}\n')
    same = _cli("plan", "-p", project, "-o", tmp_path / "out", "--rocm-path", rocm, "--baseline", tmp_path / "b.json",
                "--report", "json", "--report-file", tmp_path / "b.json")  # fmt: skip
    assert same.returncode == 2 and "names the --baseline report, which this run reads" in same.stderr


# --- one ROCm discovery ----------------------------------------------------------------------------


def test_doctor_and_the_report_find_the_same_rocm(tmp_path: Path, rocm: Path) -> None:
    from hipify_tool.rocm_headers import discover

    project = write_tree(tmp_path / "p", {"a.cu": "void f() {}\n"})
    for var in ("ROCM_PATH", "HIP_PATH"):
        doctor = _cli("doctor", env={var: str(rocm)})
        lines = [line for line in doctor.stdout.splitlines() if line.startswith("rocm: ")]
        assert lines == [f"rocm: {rocm} (HIP headers under {rocm / 'include'}, from ${var})"]
        out = tmp_path / f"{var}.json"
        proc = _cli("plan", "-p", project, "-o", tmp_path / "out", "--report", "json", "--report-file", out,
                    env={var: str(rocm)})  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert json.loads(out.read_text())["rocm"] == f"HIP headers under {rocm / 'include'} (from ${var})"
    nowhere = discover(None, {}, defaults=())
    assert nowhere == "no ROCm headers found (no --rocm-path, $ROCM_PATH is not set, $HIP_PATH is not set)"
    # a variable that is set decides, even when a default has HIP headers
    unset = discover(None, {"ROCM_PATH": str(tmp_path)}, defaults=((rocm, "a default"),))
    assert isinstance(unset, str) and f"$ROCM_PATH={tmp_path} has no include/hip/hip_runtime_api.h" in unset
    found = discover(None, {}, defaults=((tmp_path, "a default"), (rocm, "another")))
    assert not isinstance(found, str) and (found.root, found.found_by) == (rocm, "another")
