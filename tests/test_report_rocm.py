"""Reports a CI can gate on: project-declared names, real PTX only, unsupported against the target ROCm.

The unsupported checks run against Debian's HIP 5.2 headers (``libamdhip64-dev``, root ``/usr``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO, run_cli, run_cli_no_rocm, subprocess_env, write_tree

from hipify_tool.preprocessor import ROCM, blank, branch_lines
from hipify_tool.report.analysis import is_ptx
from hipify_tool.report.declarations import find_declarations
from hipify_tool.rocm_headers import discover

SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"
DEBIAN_ROCM = Path("/usr")
HAVE_HIP = (DEBIAN_ROCM / "include" / "hip" / "hip_runtime_api.h").is_file()
requires_hip = pytest.mark.skipif(not HAVE_HIP, reason="Debian's HIP headers (libamdhip64-dev) are not installed")

COMPAT_H = """\
#pragma once
#if defined(USE_ROCM)
#include <hip/hip_bfloat16.h>
typedef hip_bfloat16 __hip_bfloat16;
typedef __hip_bfloat16 nv_bfloat16;
__device__ inline unsigned long long __activemask() { return ~0ull; }
#else
#include <cuda_bf16.h>
#endif
"""

KERNEL = """\
#include <cuda_fp8.h>
#include "compat.h"
__global__ void k(float* x, nv_bfloat16* y) {
  nv_bfloat16 v = y[0];
  unsigned long long m = __activemask();
  x[0] = __shfl_xor_sync(0xffffffffu, x[0], 1);
  __nv_fp8_e4m3 f;
  __nv_bfloat16 z;
  int lane;
  asm("mov.u32 %0, %%laneid;" : "=r"(lane));
  asm volatile("s_waitcnt vmcnt(0)" ::: "memory");
  cudaDeviceP2PAttr attr;
  int value;
  cudaDeviceGetP2PAttribute(&value, attr, 0, 1);
#ifndef USE_ROCM
  cudaDeviceP2PAttr guarded;
#endif
}
__device__ int4 raw_load(int4 rsrc, int off) __asm("llvm.amdgcn.raw.buffer.load.v4i32");
"""

OTHER = """\
#pragma once
inline void g(nv_bfloat16* p);
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "proj", {"compat.h": COMPAT_H, "k.cu": KERNEL, "other.cuh": OTHER})


_cli = run_cli_no_rocm


def _report(project: Path, tmp_path: Path, *extra: object, fmt: str = "json") -> tuple[dict, str]:
    out = tmp_path / f"report.{fmt}"
    proc = _cli("plan", "-p", project, "-o", tmp_path / "out", "--report", fmt, "--report-file", out, *extra)
    assert proc.returncode == 0, proc.stderr
    return json.loads(out.read_text()), proc.stderr


def _findings(doc: dict, source: str) -> set[tuple[int, str, str, str, str]]:
    (f,) = [f for f in doc["files"] if f["source"] == source]
    return {(x["line"], x["identifier"], x["kind"], x["rule"], x["context"]) for x in f["findings"]}


# --- 1. names the project declares ------------------------------------------------------------------


def test_names_the_project_declares_for_rocm_are_listed_not_reported(project: Path, tmp_path: Path) -> None:
    doc, _ = _report(project, tmp_path)
    k = _findings(doc, "k.cu")
    reported = {name for _, name, _, _, _ in k}
    assert "nv_bfloat16" not in reported and "__activemask" not in reported
    assert not any(name == "nv_bfloat16" for _, name, *_ in _findings(doc, "compat.h"))  # nor where declared
    # the real leftovers in shared code are still there
    assert {
        (1, "cuda_fp8.h", "leftover", "cuda-header", "shared"),
        (6, "__shfl_xor_sync", "leftover", "warp-sync-intrinsic", "shared"),
        (7, "__nv_fp8_e4m3", "leftover", "nvidia-type", "shared"),
        (10, "asm", "leftover", "inline-ptx", "shared"),
    } <= k
    # a header outside that translation unit does not see the typedef
    assert _findings(doc, "other.cuh") == {(2, "nv_bfloat16", "leftover", "nvidia-type", "shared")}
    listed = {
        (n["identifier"], n["rule"], n["declared"], n["declaration"], n["uses"]) for n in doc["defined_by_project"]
    }
    assert ("nv_bfloat16", "nvidia-type", "compat.h:5", "typedef", 3) in listed
    assert ("__activemask", "warp-sync-intrinsic", "compat.h:6", "function", 2) in listed
    assert all(n["kind"] == "defined-by-project" for n in doc["defined_by_project"])
    assert doc["totals"]["defined_by_project"] == len(doc["defined_by_project"])


def test_declarations_only_count_where_rocm_compiles_them() -> None:
    text = (
        "#ifndef USE_ROCM\ntypedef __nv_bfloat16 nv_bfloat16;\n#define CUDA_ONLY 1\n#else\n"
        "using nv_half = __half;\nstruct __nv_fp8_e4m3 { int x; };\nenum cudaKind { cudaA = 1, cudaB };\n"
        "typedef void (*cudaCallback)(int cudaArg);\n"
        "template <typename T> __device__ T __shfl_xor_sync(unsigned m, T v);\n"
        "#endif\n#endif\n  __syncwarp();\nint f() { return __shfl_down_sync(1, 2, 3); }\n"
        "float g = x * __activemask();\ntypedef Vec<__nv_bfloat162, 2> cudaVec;\n"
    )
    code, _ = blank(text)
    lines = branch_lines(code, ROCM)
    found = {(d.identifier, d.line, d.kind) for d in find_declarations(code, "h.h", lines.taken, lines.directive)}
    assert {
        ("nv_half", 5, "using"),
        ("__nv_fp8_e4m3", 6, "struct"),
        ("cudaKind", 7, "enum"),
        ("cudaA", 7, "enumerator"),
        ("cudaB", 7, "enumerator"),
        ("cudaCallback", 8, "typedef"),
        ("__shfl_xor_sync", 9, "function"),
        ("cudaVec", 15, "typedef"),
    } <= found
    names = {name for name, _, _ in found}
    # a branch ROCm does not take, calls (after '#endif', 'return', an operator), a template argument
    assert not names & {"nv_bfloat16", "CUDA_ONLY", "__syncwarp", "__shfl_down_sync", "__activemask", "cudaArg"}
    assert "__nv_bfloat162" not in names


# --- 2. inline PTX means PTX --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "template",
    [
        "cvt.rn.satfinite.e4m3x2.f32 %0, %2, %1;",
        "mov.u32 %0, %%laneid;",
        "{\n .reg .pred p;\n setp.ne.b32 p, %1, 0;\n}",
        "prefetch.global.L2 [%0];",
        "griddepcontrol.launch_dependents;",
        "fence.proxy.async.shared::cta;",
        "@p bra DONE;\\n\\tld.global.nc.v4.u32 {%0,%1,%2,%3}, [%4];",
        "trap;",
        "mov %0, %%clock64;",
    ],
)
def test_ptx_is_ptx(template: str) -> None:
    assert is_ptx(template)


@pytest.mark.parametrize(
    "template",
    [
        "llvm.amdgcn.raw.buffer.load.v4i32",
        "llvm.amdgcn.s.barrier",
        "s_waitcnt vmcnt(0)",
        "v_add_f32 %0, %1, %2",
        "ds_bpermute_b32 %0, %1, %2",
        "global_load_dwordx4 %0, %1, off",
        "v_cvt_pk_fp8_f32 %0, %1, %2",
        "",
        "pause",
        "mov %%rsp, %0",
        "rdtsc",
    ],
)
def test_amdgcn_llvm_labels_and_host_asm_are_not_ptx(template: str) -> None:
    assert not is_ptx(template)


def test_asm_label_and_amdgcn_are_not_reported_and_split_ptx_is(tmp_path: Path) -> None:
    proj = write_tree(
        tmp_path / "p",
        {
            "a.cu": (
                '__device__ int4 raw_load(int4 r, int o) __asm("llvm.amdgcn.raw.buffer.load.v4i32");\n'
                "__device__ void f(int* x) {\n"
                '  asm volatile("s_waitcnt lgkmcnt(0)\\n\\t" "v_mov_b32 %0, %1" : "=v"(x[0]) : "v"(x[1]));\n'
                '  asm volatile("{\\n"\n               ".reg .pred p;\\n"\n'
                '               "setp.ne.b32 p, %1, 0;\\n" "}" : "=r"(x[0]) : "r"(x[1]));\n'
                "}\n"
            )
        },
    )
    doc, _ = _report(proj, tmp_path)
    assert _findings(doc, "a.cu") == {(4, "asm volatile", "leftover", "inline-ptx", "shared")}


# --- 3. unsupported, measured against the target ROCm ---------------------------------------------------


@requires_hip
def test_unsupported_against_hip_5_2(project: Path, tmp_path: Path) -> None:
    doc, stderr = _report(project, tmp_path, "--rocm-path", DEBIAN_ROCM)
    assert doc["unsupported_known"] is True and doc["rocm"] == "HIP 5.2 headers under /usr/include (from --rocm-path)"
    (k,) = [f for f in doc["files"] if f["source"] == "k.cu"]
    unsupported = [x for x in k["findings"] if x["kind"] == "unsupported"]
    by_line = {x["line"]: x for x in unsupported}
    assert set(by_line) == {12, 16}  # cudaDeviceGetP2PAttribute (line 14) exists in HIP 5.2
    attr = by_line[12]
    assert (attr["col"], attr["identifier"], attr["replacement"], attr["context"]) == (
        3,
        "cudaDeviceP2PAttr",
        "hipDeviceP2PAttribute",
        "shared",
    )
    assert attr["closest"][0] == "hipDeviceP2PAttr"
    assert by_line[16]["context"] == "cuda-only"  # reported separately, never a problem
    replaced = {(r["line"], r["identifier"], r["replacement"]) for r in k["replacements"]}
    assert (14, "cudaDeviceGetP2PAttribute", "hipDeviceGetP2PAttribute") in replaced
    # the project declares __hip_bfloat16 for this old ROCm: __nv_bfloat16 -> __hip_bfloat16 is fine
    assert not any(x["identifier"] == "__nv_bfloat16" for x in k["findings"])
    assert ("__hip_bfloat16", "unsupported", "compat.h:4") in {
        (n["identifier"], n["rule"], n["declared"]) for n in doc["defined_by_project"]
    }
    # a header HIP 5.2 lacks, in the CUDA branch: noted, with the header it has
    (compat,) = [f for f in doc["files"] if f["source"] == "compat.h"]
    (bf16,) = [x for x in compat["findings"] if x["kind"] == "unsupported"]
    assert (bf16["identifier"], bf16["replacement"], bf16["context"]) == ("cuda_bf16.h", "hip/hip_bf16.h", "cuda-only")
    assert bf16["closest"][0] == "hip/hip_bfloat16.h"
    assert doc["totals"]["unsupported"] == 1
    assert "1 unsupported" in stderr and "n/a" not in stderr


@requires_hip
def test_strict_fails_on_unsupported_and_sarif_stays_valid(tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    proj = write_tree(
        tmp_path / "p",
        {
            "a.cu": "#include <cuda_runtime.h>\nvoid f() {\n  cudaDeviceP2PAttr a;\n  int v;\n"
            "  cudaDeviceGetP2PAttribute(&v, a, 0, 1);\n}\n"
        },
    )
    proc = _cli("run", "-p", proj, "-o", tmp_path / "out", "--strict", "--rocm-path", DEBIAN_ROCM)
    assert proc.returncode == 6, proc.stderr
    assert "--strict: 1 CUDA name is left or unsupported in code ROCm compiles" in proc.stderr
    line = f"{proj / 'a.cu'}:3:3: error: cudaDeviceP2PAttr is mapped to hipDeviceP2PAttribute, which the target"
    assert any(x.startswith(line) and "closest: hipDeviceP2PAttr" in x for x in proc.stderr.splitlines())
    assert (tmp_path / "out" / "a.hip").is_file()
    no_rocm = _cli("run", "-p", proj, "-o", tmp_path / "out", "--strict")
    default = discover(None, {})
    if isinstance(default, str):  # without a target: nothing to say
        assert no_rocm.returncode == 0, no_rocm.stderr
        assert "n/a unsupported" in no_rocm.stderr and "pass --rocm-path DIR" in no_rocm.stderr
    else:  # the ROCm found where doctor finds it (Debian's /usr here) is the target
        assert no_rocm.returncode == 6, no_rocm.stderr
        assert f"(from {default.found_by})" in no_rocm.stderr
    sarif = tmp_path / "r.sarif"
    proc = _cli("plan", "-p", proj, "-o", tmp_path / "out", "--rocm-path", DEBIAN_ROCM, "--report", "sarif",
                "--report-file", sarif, cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(sarif.read_text())
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text())).validate(doc)
    (result,) = doc["runs"][0]["results"]
    assert (result["ruleId"], result["level"]) == ("unsupported", "error")
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 3
    assert doc["runs"][0]["properties"]["unsupportedKnown"] is True


@requires_hip
def test_rocm_path_from_environment_config_and_errors(project: Path, tmp_path: Path) -> None:
    doc, _ = _report(project, tmp_path)
    default = discover(None, {})
    if isinstance(default, str):
        assert doc["unsupported_known"] is False and doc["rocm"] is None
        (note,) = doc["notes"]
        assert "$ROCM_PATH is not set" in note and "/opt/rocm/include/hip/hip_runtime_api.h does not exist" in note
    else:
        assert doc["rocm"].endswith(f"(from {default.found_by})")
    out = tmp_path / "env.json"
    proc = _cli("plan", "-p", project, "-o", tmp_path / "out", "--report", "json", "--report-file", out,
                env={"ROCM_PATH": str(DEBIAN_ROCM)})  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text())["totals"]["unsupported"] == 1
    bad_env = _cli("plan", "-p", project, "-o", tmp_path / "out", "--strict", env={"ROCM_PATH": str(tmp_path)})
    assert f"$ROCM_PATH={tmp_path} has no include/hip/hip_runtime_api.h" in bad_env.stderr
    (project / "pyproject.toml").write_text(f'[tool.hipify-tool]\noutput-dir = "out"\nrocm-path = "{DEBIAN_ROCM}"\n')
    configured = _cli("plan", "--strict", cwd=project)
    assert configured.returncode == 6 and "cudaDeviceP2PAttr is mapped" in configured.stderr
    for command in ("plan", "run"):  # a given path without HIP headers: a usage error, before anything is written
        bad = _cli(command, "-p", project, "-o", tmp_path / "bad", "--rocm-path", tmp_path / "nowhere")
        assert bad.returncode == 2
        assert f"{tmp_path / 'nowhere'}: --rocm-path has no HIP headers" in bad.stderr
        assert not (tmp_path / "bad").exists()


@requires_hip
def test_index_is_cached_per_header_set(tmp_path: Path) -> None:
    """A run keeps the index in its state dir; a changed header set is indexed again; plan writes nothing."""
    project = write_tree(tmp_path / "p", {"a.cu": "void f() { cudaDeviceP2PAttr attr; }\n"})
    rocm = tmp_path / "rocm"
    shutil.copytree(DEBIAN_ROCM / "include" / "hip", rocm / "include" / "hip")
    out = tmp_path / "out"
    plan_only = _cli("plan", "-p", project, "-o", out, "--rocm-path", rocm, "--strict")
    assert plan_only.returncode == 6 and not out.exists()  # indexed in memory
    first = _cli("run", "-p", project, "-o", out, "--rocm-path", rocm, "--strict")
    assert first.returncode == 6 and "cudaDeviceP2PAttr is mapped" in first.stderr
    (cache,) = (out / ".hipify-tool").glob("rocm-index-hip-*.json")
    mtime = cache.stat().st_mtime_ns
    again = _cli("run", "-p", project, "-o", out, "--rocm-path", rocm, "--strict")
    assert again.stderr == first.stderr and cache.stat().st_mtime_ns == mtime  # read, not rebuilt
    # a new HIP declares the name: the header set changed, so the index is rebuilt
    api = rocm / "include" / "hip" / "hip_runtime_api.h"
    api.write_text(api.read_text() + "\ntypedef hipDeviceP2PAttr hipDeviceP2PAttribute;\n")
    fixed = _cli("run", "-p", project, "-o", out, "--rocm-path", rocm, "--strict")
    assert fixed.returncode == 0, fixed.stderr
    assert cache.stat().st_mtime_ns != mtime
    cache.write_text("{not json")  # a damaged cache is rebuilt, never trusted
    assert _cli("plan", "-p", project, "-o", out, "--rocm-path", rocm, "--strict").returncode == 0


@requires_hip
def test_reference_project_is_clean_against_hip_5_2(tmp_path: Path) -> None:
    """The reference project compiles with Debian's HIP 5.2 in CI: nothing it uses may be unsupported there."""
    csrc = REPO / "csrc_example" / "csrc"
    if not csrc.is_dir():
        pytest.skip("the reference project is not in this checkout")
    proc = _cli("plan", "-p", csrc, "-o", tmp_path / "out", "-I", csrc, "--strict", "--rocm-path", DEBIAN_ROCM)
    assert proc.returncode == 0, proc.stderr
    assert " 0 unsupported" in proc.stderr


# --- 4. translate ------------------------------------------------------------------------------------------


def test_translate_prints_what_run_writes(tmp_path: Path) -> None:
    from helpers import changed_paths, tree_state

    kernel = (
        '#include "util.cuh"\n#include <cuda_runtime.h>\n__global__ void k() {}\n'
        "void f(cudaStream_t s) { k<<<1, 2, 0, s>>>(); MY_CALL(); }\n"
    )
    proj = write_tree(
        tmp_path / "p",
        {
            "kernels/a.cu": kernel,
            "root.cu": kernel,
            "include/util.cuh": "#pragma once\n#include <cuda_fp16.h>\ninline cudaError_t e();\n",
            "kernels/plain.cpp": "int plain() { return 0; }\r\n",
            "map.toml": '[map]\nMY_CALL = "myHipCall"\n',
        },
    )
    flags = ["-p", proj, "-I", proj / "include", "--map", proj / "map.toml"]

    def translate(*args: object, stdin: bytes | None = None) -> bytes:
        proc = subprocess.run(
            [sys.executable, "-m", "hipify_tool", "translate", *map(str, args)],
            input=stdin, capture_output=True, env=subprocess_env(), timeout=120,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    for syntax in ("ggl", "chevron"):
        out = tmp_path / f"out-{syntax}"
        before = tree_state(tmp_path)
        printed = {
            source: translate(*flags, "--launch-syntax", syntax, proj / source)
            for source in ("kernels/a.cu", "kernels/plain.cpp", "root.cu")
        }
        piped = translate(*flags, "--launch-syntax", syntax, "-", stdin=kernel.encode())  # taken as <proj>/stdin.cu
        assert changed_paths(before, tree_state(tmp_path)) == set()  # nothing written
        run_cli("run", *flags, "--launch-syntax", syntax, "-o", out, *printed, cwd=proj, check=True)
        assert printed["kernels/a.cu"] == (out / "kernels" / "a.hip").read_bytes()
        assert printed["kernels/plain.cpp"] == (out / "kernels" / "plain.cpp").read_bytes()
        assert printed["root.cu"] == piped == (out / "root.hip").read_bytes()
        assert b"util_hip.cuh" in piped and (b"hipLaunchKernelGGL" in piped) == (syntax == "ggl")


def test_translate_errors_are_runs(tmp_path: Path) -> None:
    proj = write_tree(tmp_path / "p", {"bad.cu": "void f() { k<<<1, 2>>(); }\n"})
    outside = write_tree(tmp_path / "elsewhere", {"x.cu": "int x;\n"})
    for args in (["bad.cu"], ["missing.cu"], [outside / "x.cu"]):
        translated = run_cli("translate", "-p", proj, *args, cwd=proj)
        ran = run_cli("run", "-p", proj, "-o", tmp_path / "out", *args, cwd=proj)
        assert translated.returncode == ran.returncode != 0
        assert translated.stderr == ran.stderr
        assert translated.stdout == ""
    assert not (tmp_path / "out").exists()


# --- 5. text -----------------------------------------------------------------------------------------------


def test_plurals_and_one_summary(tmp_path: Path) -> None:
    proj = write_tree(tmp_path / "p", {"a.cu": "void f() { cudaStream_t s; __syncwarp(); }\n"})
    for extra in ([], ["--report-file", tmp_path / "r.txt"], ["--strict"], ["-v"]):
        proc = run_cli("run", "-p", proj, "-o", tmp_path / "out", "--report", "text", *extra)
        summaries = [line for line in proc.stderr.splitlines() if line.startswith("hipify-tool: report: 1 file,")]
        assert len(summaries) == 1, proc.stderr
        assert "1 file, 1 identifier replaced" in summaries[0] and "0 names the project defines" in summaries[0]
    strict = run_cli("run", "-p", proj, "-o", tmp_path / "out", "--strict", "-v")
    assert "hipify-tool: error: --strict: 1 CUDA name is left or unsupported in code ROCm compiles" in strict.stderr
    assert "hipify-tool: 1 output: " in strict.stderr
    # the report names files as the tool's warnings and errors do: absolute paths
    assert f"{proj / 'a.cu'}:1:28: warning: __syncwarp" in strict.stderr
