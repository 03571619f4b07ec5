"""hipify_tool.setuptools: torch's CUDAExtension/BuildExtension with the ROCm translation done at
build time, out of tree, checked on DeepSpeed-, flash-attention- and apex-shaped projects.

No ROCm torch reaches these machines: the builds run under hipify_tool.rocm_sim (the installed CPU
torch reports a ROCm build; hipcc, the host compiler and the linker record their command lines and
write empty objects). Everything in setup.py and the translation runs for real. The oracle is
torch's own in-place CUDAExtension hipify, run on a copy of the same project.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import read_tree, snapshot, subprocess_env, write_tree
from setuptools_projects import (
    OUR_IMPORT,
    PROJECTS,
    TORCH_IMPORT,
    Declared,
    compare_with_torch_inplace,
    copy_project,
    declared_extensions,
    output_root,
    plan_of,
    run_setup,
    sim_env,
    source_tree_changes,
    to_torch_cpp_extension,
    translated_sources,
    tree_state,
)
from setuptools_projects import check as ok

from hipify_tool import rocm_sim
from hipify_tool.rocm_sim import Simulation

# fixture -> (prefixes only HIP sources reach: torch translates them, we compile those sources as they are)
CASES: dict[str, tuple[str, ...]] = {
    "deepspeed_like": (),
    "flash_attn_like": ("csrc/flash_attn_ck/", "csrc/composable_kernel/"),
    "apex_like": (),
}


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Simulation:
    return rocm_sim.create(tmp_path_factory.mktemp("sim") / "rocm")


@dataclass(frozen=True)
class Built:
    name: str
    project: Path
    before: dict[str, tuple[int, int, bytes]]
    ours: list[Declared]
    torch_copy: Path
    torch_before: dict[str, tuple[int, int, bytes]]
    torch: list[Declared]
    compiles: list[rocm_sim.Command]


class Builds:
    """Each fixture project built once per module (``setup.py build_ext``, ROCm simulated), and torch's
    own CUDAExtension run on a copy whose imports were switched back to torch's."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.done: dict[str, Built] = {}

    def __call__(self, name: str) -> Built:
        if name not in self.done:
            self.done[name] = self._build(name)
        return self.done[name]

    def _build(self, name: str) -> Built:
        base = self.base / name
        own_sim = rocm_sim.create(base / "sim")  # a log of its own
        project = copy_project(name, base / "ours")
        before = tree_state(project)
        ours, _ = declared_extensions(project, own_sim, "build_ext")
        torch_copy = copy_project(name, base / "torch")
        assert to_torch_cpp_extension(torch_copy) >= 1
        torch_before = tree_state(torch_copy)
        torch_exts, _ = declared_extensions(torch_copy, own_sim)  # torch's CUDAExtension hipifies in place
        compiles = [c for c in own_sim.commands() if "-c" in c.argv]
        return Built(name, project, before, ours, torch_copy, torch_before, torch_exts, compiles)


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Builds:
    return Builds(tmp_path_factory.mktemp("builds"))


@pytest.fixture(params=sorted(CASES))
def built(request: pytest.FixtureRequest, builds: Builds) -> Built:
    return builds(request.param)


def _rocm_exts(b: Built) -> list[Declared]:
    return [e for e in b.ours if e.mark is not None]


def test_translation_equals_torch_inplace_output(built: Built) -> None:
    """The differential oracle: every file BuildExtension wrote equals torch's in-place output."""
    result = compare_with_torch_inplace(
        built.project, PROJECTS / built.name, built.torch_copy, built.ours, CASES[built.name]
    )
    assert result.problems == []
    sources = sum(len(translated_sources(built.project, e)) for e in _rocm_exts(built))
    assert result.compared + result.unchanged_cu >= sources + 3  # sources and shared headers
    print(f"{built.name}: {result.compared} files byte-identical to torch's, {result.unchanged_cu} unchanged .cu")
    # The check is not vacuous: torch's own path wrote into its copy of the tree.
    assert source_tree_changes(built.torch_before, tree_state(built.torch_copy))


def test_source_tree_untouched(built: Built) -> None:
    assert source_tree_changes(built.before, tree_state(built.project)) == []


def test_extension_is_torchs_minus_the_hipify(built: Built) -> None:
    """On ROCm each CUDAExtension is torch's field for field, except the sources (torch's are its
    in-place translations, as a set; ours the given ones) and the ROCm macros it adds."""
    torch_by_name = {e.name: e for e in built.torch}
    for ours in built.ours:
        theirs = torch_by_name[ours.name]
        mine, torchs = _fields(ours, built.project), _fields(theirs, built.torch_copy)
        if ours.mark is None:  # CppExtension: torch's
            assert mine == torchs
            continue
        assert {k: v for k, v in mine.items() if k not in ("sources", "define_macros")} == {
            k: v for k, v in torchs.items() if k not in ("sources", "define_macros")
        }
        assert [tuple(m) for m in ours.fields["define_macros"]] == [
            *(tuple(m) for m in theirs.fields["define_macros"]),
            ("USE_ROCM", "1"),
            ("HIPIFY_V2", None),
        ]
        assert all((PROJECTS / built.name / s).is_file() for s in ours.sources)  # as given, untranslated
        assert len(theirs.sources) == len(ours.sources)
        assert any(not (PROJECTS / built.name / s).exists() for s in theirs.sources)  # torch's: written in the tree


def _fields(ext: Declared, project: Path) -> dict[str, object]:
    """The extension's fields with its project dir written as ``<project>`` (the two copies differ)."""
    fields: dict[str, object] = json.loads(json.dumps(ext.fields).replace(str(project), "<project>"))
    return fields


def test_hipcc_gets_translations_from_the_build_dir_in_setuptools_order(built: Built) -> None:
    """Every CUDA source is compiled as its translation under build/ (hipcc for .hip, the host
    compiler for translated C++); only declared HIP sources are compiled from the tree. Each
    extension's files are compiled once each, in setuptools' order (it sorts them)."""
    build = built.project / "build"
    compiled = [s for c in built.compiles for s in c.sources]
    for ext in _rocm_exts(built):
        plan = plan_of(built.project, ext)
        root = output_root(built.project, ext.name)
        hip = set(ext.mark["hip_sources"]) if ext.mark else set()
        expected: list[str] = []
        for source in ext.sources:
            path = str(built.project / source)
            if path in hip:
                expected.append(path if path.endswith(".hip") else _unit(built.project, ext.name, source))
            else:
                expected.append(str(root / plan.files[source].output))
        mine = [s for s in compiled if s in expected]
        assert mine == sorted(expected, key=lambda p: _relative(p, built.project))
    for c in built.compiles:
        if c.tool == "hipcc":
            for s in c.sources:
                assert Path(s).is_relative_to(build) or s.endswith(".hip"), s
                assert not s.endswith((".cu", ".cuh")), s


def _unit(project: Path, ext_name: str, source: str) -> str:
    (unit,) = project.glob(f"build/temp.*/hipify-units/{ext_name}/{source}.hip")
    assert unit.read_text().endswith(f'#include "{project / source}"\n')
    return str(unit)


def _relative(path: str, project: Path) -> str:
    return str(Path(path).relative_to(project)) if Path(path).is_relative_to(project) else path


def test_translations_torch_left_in_the_tree_are_refused(builds: Builds, tmp_path: Path) -> None:
    """A tree where torch's CUDAExtension already wrote its translations: ours would be shadowed by
    them (the compiler finds the stale ones first), so the build names each and stops (exit 4)."""
    project = tmp_path / "proj"
    shutil.copytree(builds("apex_like").torch_copy, project)
    for path in project.rglob("setup.py"):
        path.write_text(path.read_text().replace(TORCH_IMPORT, OUR_IMPORT))
    proc = run_setup(project, Simulation(builds.base / "apex_like" / "sim", "rocm"), "build_ext")
    assert proc.returncode == 4, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("hipify-tool: error:")]
    assert any(f"{project / 'csrc/type_shim_hip.h'}: " in line for line in errors), errors


def test_hip_sources_compile_as_they_are(builds: Builds) -> None:
    built = builds("flash_attn_like")  # its ROCm branch declares a CK extension
    (ck,) = [e for e in built.ours if e.name == "flash_attn_ck"]
    hipcc = [s for c in built.compiles if c.tool == "hipcc" for s in c.sources]
    assert str(built.project / "csrc/flash_attn_ck/rotary.hip") in hipcc
    for name in ("mha_fwd.cpp", "mha_varlen_fwd.cpp"):
        assert _unit(built.project, ck.name, f"csrc/flash_attn_ck/{name}") in hipcc
    root = output_root(built.project, ck.name)
    assert sorted(read_tree(root)) == ["csrc/flash_attn_ck/flash_api_ck_hip.cpp"]


# --- incremental, parallel, failures -------------------------------------------------------------


def _roots(project: Path) -> dict[str, dict[str, tuple[int, bytes]]]:
    return {p.name: snapshot(p) for p in sorted(project.glob("build/temp.*/hipify/*"))}


def _without_lock(state: dict[str, tuple[int, bytes]]) -> dict[str, tuple[int, bytes]]:
    """The root without its lock and its state record (a cache a rerun may refresh)."""
    return {k: v for k, v in state.items() if not k.endswith(("/lock", "/state.json"))}


def test_rebuild_rewrites_nothing_and_a_header_edit_only_what_it_changes(sim: Simulation, tmp_path: Path) -> None:
    project = copy_project("deepspeed_like", tmp_path / "proj")
    ok(run_setup(project, sim, "build_ext"))
    first = _roots(project)
    again = ok(run_setup(project, sim, "build_ext"))
    assert {k: _without_lock(v) for k, v in _roots(project).items()} == {k: _without_lock(v) for k, v in first.items()}
    assert re.findall(r"\((\d+) translated, (\d+) written\)", again.stderr + again.stdout) == [("0", "0")] * 2

    header = project / "csrc/includes/quantization.h"  # read by the quantizer op only
    header.write_text(header.read_text().replace("struct PackedInt4", "struct alignas(1) PackedInt4"))
    edited = ok(run_setup(project, sim, "build_ext"))
    after = _roots(project)
    assert _without_lock(after["deepspeed.ops.fused_adam_op"]) == _without_lock(first["deepspeed.ops.fused_adam_op"])
    quantizer_before, quantizer_after = first["deepspeed.ops.quantizer_op"], after["deepspeed.ops.quantizer_op"]
    changed = {rel for rel in quantizer_after if quantizer_after[rel] != quantizer_before.get(rel)}
    state = {".hipify-tool/manifest.json", ".hipify-tool/lock", ".hipify-tool/state.json"}
    assert changed - state == {"csrc/includes/quantization_hip.h"}
    assert b"struct alignas(1) PackedInt4" in quantizer_after["csrc/includes/quantization_hip.h"][1]
    assert re.findall(r"\((\d+) translated, (\d+) written\)", edited.stderr + edited.stdout) == [
        ("0", "0"),
        ("1", "1"),
    ]

    # A header that starts needing translation is renamed: its readers (quantize.cu, dequantize.cu)
    # are translated again to include the new name; pt_binding.cpp and the other op are not.
    plain = project / "csrc/includes/memory_access_utils.h"
    plain.write_text(
        plain.read_text().replace("namespace mem_access {", "namespace mem_access {\nusing stream_t = cudaStream_t;")
    )
    renamed = ok(run_setup(project, sim, "build_ext"))
    last = _roots(project)
    assert _without_lock(last["deepspeed.ops.fused_adam_op"]) == _without_lock(first["deepspeed.ops.fused_adam_op"])
    quantizer = last["deepspeed.ops.quantizer_op"]
    changed = {rel for rel in quantizer if quantizer[rel] != quantizer_after.get(rel)} | (
        quantizer_after.keys() - quantizer.keys()
    )
    assert changed - state == {
        "csrc/includes/memory_access_utils.h",  # removed: superseded by its translation
        "csrc/includes/memory_access_utils_hip.h",
        "csrc/quantization/quantize.hip",
        "csrc/quantization/dequantize.hip",
    }
    assert b'#include "memory_access_utils_hip.h"' in quantizer["csrc/quantization/quantize.hip"][1]
    assert re.findall(r"\((\d+) translated, (\d+) written\)", renamed.stderr + renamed.stdout) == [
        ("0", "0"),
        ("3", "3"),
    ]


def test_parallel_builds_give_the_bytes_of_one(sim: Simulation, builds: Builds, tmp_path: Path) -> None:
    single = builds("deepspeed_like").project
    project = copy_project("deepspeed_like", tmp_path / "proj")
    procs = [
        subprocess.Popen(
            [sys.executable, "setup.py", "build_ext"],
            cwd=project,
            env=sim_env(sim),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
    for name in ("deepspeed.ops.fused_adam_op", "deepspeed.ops.quantizer_op"):
        assert read_tree(output_root(project, name)) == read_tree(output_root(single, name))


FAILING = {
    "setup.py": (
        "from setuptools import setup\n"
        "from hipify_tool.setuptools import BuildExtension, CUDAExtension\n"
        "setup(name='bad', ext_modules=[CUDAExtension('bad', ['csrc/ok.cu', 'csrc/bad.cu'])],\n"
        "      cmdclass={'build_ext': BuildExtension})\n"
    ),
    "csrc/ok.cu": "__global__ void ok() {}\nvoid go() { ok<<<1, 1>>>(); }\n",
    # A launch PyTorch's launch parser cannot read (docs/differences.md, row 10).
    "csrc/bad.cu": "template <bool B> __global__ void k() {}\nvoid go2() { k<1,(3>2)><<<1, 1>>>(); }\n",
}


def test_failed_translation_stops_the_build(sim: Simulation, tmp_path: Path) -> None:
    project = write_tree(tmp_path / "proj", FAILING)
    before = tree_state(project)
    sim.clear_log()
    proc = run_setup(project, sim, "build_ext")
    assert proc.returncode == 3, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("hipify-tool: error:")]
    assert len(errors) == 1 and "csrc/bad.cu" in errors[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert not [c for c in sim.commands() if "-c" in c.argv]  # nothing compiled, least of all bad.cu
    assert source_tree_changes(before, tree_state(project)) == []


def test_torchs_own_build_extension_is_refused(sim: Simulation, tmp_path: Path) -> None:
    """Half the two-line change (our CUDAExtension, torch's BuildExtension) would compile the CUDA
    sources for ROCm untranslated: the build stops instead, before compiling anything."""
    setup_py = FAILING["setup.py"].replace("'csrc/bad.cu'", "'csrc/ok.cu'")
    setup_py = setup_py.replace("BuildExtension, CUDAExtension", "CUDAExtension")
    setup_py = "from torch.utils.cpp_extension import BuildExtension\n" + setup_py
    project = write_tree(tmp_path / "proj", dict(FAILING, **{"setup.py": setup_py}))
    sim.clear_log()
    proc = run_setup(project, sim, "build_ext")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        "hipify-tool: error: bad: built without hipify_tool.setuptools.BuildExtension, which translates its "
        "sources for ROCm; use it as build_ext (cmdclass={'build_ext': BuildExtension})"
    )
    assert not [c for c in sim.commands() if "-c" in c.argv]


def test_hip_sources_must_be_sources(sim: Simulation, tmp_path: Path) -> None:
    files = dict(FAILING, **{"setup.py": FAILING["setup.py"].replace("'csrc/bad.cu'])", "], hip_sources=['x.cpp'])")})
    project = write_tree(tmp_path / "proj", files)
    proc = run_setup(project, sim, "--name")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        f"hipify-tool: error: bad: hip_sources must also be listed in sources: {project / 'x.cpp'}"
    )


def test_build_hands_the_given_order_to_setuptools(sim: Simulation, tmp_path: Path) -> None:
    """torch's CUDAExtension returns its translations as a set; ours hands setuptools the
    translations in the order given (setuptools' own build_ext then sorts them, as for any project)."""
    order = ["csrc/z_last.cu", "csrc/a_first.cpp", "csrc/m/mid.cu", "csrc/b.hip"]
    files = {s: "__global__ void k() {}\n" for s in order if s.endswith((".cu", ".hip"))}
    files["csrc/a_first.cpp"] = "#include <cuda_runtime.h>\nint f() { return cudaSuccess; }\n"
    files["setup.py"] = (
        "from setuptools import setup\n"
        "from setuptools.command.build_ext import build_ext\n"
        "from hipify_tool.setuptools import BuildExtension, CUDAExtension\n"
        "class Record(build_ext):\n"
        "    def build_extension(self, ext):\n"
        "        print('@@SOURCES@@' + ' '.join(ext.sources))\n"
        "        super().build_extension(ext)\n"
        "class Spy(BuildExtension, Record):\n"  # Record runs after BuildExtension's translation
        "    pass\n"
        f"setup(name='order', ext_modules=[CUDAExtension('order', {order!r})], cmdclass={{'build_ext': Spy}})\n"
    )
    project = write_tree(tmp_path / "proj", files)
    proc = ok(run_setup(project, sim, "build_ext"))
    (line,) = [ln for ln in proc.stdout.splitlines() if ln.startswith("@@SOURCES@@")]
    handed = line[len("@@SOURCES@@") :].split()
    temp = "build/temp.linux-x86_64-cpython-{}{}".format(*sys.version_info[:2])
    root = f"{temp}/hipify/order"
    assert handed == [
        f"{root}/csrc/z_last.hip",
        f"{root}/csrc/a_first_hip.cpp",
        f"{root}/csrc/m/mid.hip",
        "csrc/b.hip",
    ]


# --- CUDA: exactly torch's -------------------------------------------------------------------------

_CUDA_COMPARE = r"""
import copy, json
from torch.utils import cpp_extension as torch_ext
from hipify_tool import setuptools as ours

cases = [
    dict(sources=["a.cu", "b.cpp"]),
    dict(sources=["a.cu"], include_dirs=["inc"], extra_compile_args={"cxx": ["-O3"], "nvcc": ["-O3", "-DX"]}),
    dict(sources=["a.cu"], libraries=["cublas"], library_dirs=["/opt/lib"], py_limited_api=True),
    dict(sources=["a.cu"], dlink=True, dlink_libraries=["dl"], extra_compile_args={"nvcc": ["-rdc=true"]}),
]
print("@@IS_HIP@@", ours.is_rocm(), torch_ext.IS_HIP_EXTENSION)
for case in cases:
    theirs = torch_ext.CUDAExtension("m", **copy.deepcopy(case))
    mine = ours.CUDAExtension("m", **copy.deepcopy(case))
    same = json.dumps(vars(mine) == vars(theirs))
    print("@@CASE@@", type(mine) is type(theirs), same, not hasattr(mine, "hipify_tool"))
"""


def test_on_cuda_the_extension_is_torchs_field_for_field(tmp_path: Path) -> None:
    cuda = rocm_sim.create(tmp_path / "sim", "cuda")
    proc = subprocess.run(
        [sys.executable, "-c", _CUDA_COMPARE],
        cwd=tmp_path,
        env=cuda.env(subprocess_env()),
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "@@IS_HIP@@ False False" in lines
    cases = [ln for ln in lines if ln.startswith("@@CASE@@")]
    assert cases == ["@@CASE@@ True true True"] * 4


def test_on_cuda_nvcc_compiles_the_sources_themselves(tmp_path: Path) -> None:
    cuda = rocm_sim.create(tmp_path / "sim", "cuda")
    project = copy_project("apex_like", tmp_path / "proj")
    before = tree_state(project)
    ok(run_setup(project, cuda, "build_ext"))
    nvcc = [s for c in cuda.commands() if c.tool == "nvcc" for s in c.sources]
    assert str(project / "csrc/multi_tensor_scale_kernel.cu") in nvcc
    assert all((s.endswith(".cu") and Path(s).is_relative_to(project / "csrc")) or "apex" in s for s in nvcc)
    assert not list(project.glob("build/temp.*/hipify"))
    assert source_tree_changes(before, tree_state(project)) == []


# --- the simulation itself -----------------------------------------------------------------------


def test_simulation_command_line_turns_torch_into_rocm(tmp_path: Path) -> None:
    env = subprocess_env()
    exports = subprocess.run(
        [sys.executable, "-m", "hipify_tool.rocm_sim", str(tmp_path / "sim"), "--arch", "gfx942", "--arch", "gfx90a"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"export ROCM_HOME={tmp_path / 'sim' / 'rocm'}" in exports.splitlines()
    code = (
        "import json, sys, torch\n"
        "from torch.utils import cpp_extension as c\n"
        "from hipify_tool.setuptools import CUDAExtension\n"
        "ext = CUDAExtension('m', ['a.cu'])\n"
        "print(json.dumps([torch.version.hip, c.IS_HIP_EXTENSION, c.ROCM_HOME, c._get_rocm_arch_flags(),"
        " 'torch.utils.hipify.hipify_python' in sys.modules, ext.libraries[-3:]]))\n"
    )
    script = f'eval "$1"; "{sys.executable}" -c "$2"'
    proc = subprocess.run(["bash", "-c", script, "sh", exports, code], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    hip, is_hip, home, flags, hipify_imported, libraries = json.loads(proc.stdout.splitlines()[-1])
    assert hip == rocm_sim.DEFAULT_HIP_VERSION and is_hip and home == str(tmp_path / "sim" / "rocm")
    assert flags == ["--offload-arch=gfx942", "--offload-arch=gfx90a", "-fno-gpu-rdc"]
    # Declaring a ROCm extension leaves torch's hipify module (~0.4 s to import) alone; the
    # extension is torch's ROCm one (its libraries).
    assert not hipify_imported and libraries == ["amdhip64", "c10_hip", "torch_hip"]
    hipcc = tmp_path / "sim" / "rocm" / "bin" / "hipcc"
    missing = subprocess.run([str(hipcc), "-c", "nope.hip", "-o", "x.o"], cwd=tmp_path, capture_output=True, text=True)
    assert missing.returncode == 1 and "no such file" in missing.stderr


BITCODE = Path("/usr/lib/x86_64-linux-gnu/amdgcn/bitcode")
CLANG = shutil.which("clang++-19")


@pytest.mark.skipif(
    CLANG is None or not (BITCODE / "ocml.bc").exists() or not Path("/usr/include/hip/hip_runtime.h").exists(),
    reason="needs clang++-19, Debian's HIP headers and ROCm device bitcode (.ci/run installs them)",
)
def test_simulated_hipcc_can_compile_the_translation_for_real(tmp_path: Path) -> None:
    """The simulation's other mode: hipcc records, then runs a real compiler (clang++-19 -x hip, as
    hipcc does) on the translated, torch-free kernel; the object carries AMD GPU code."""
    assert CLANG is not None
    compiler = [CLANG, "-x", "hip", "--rocm-path=/usr", f"--rocm-device-lib-path={BITCODE}"]
    real = rocm_sim.create(tmp_path / "sim", compile_command=compiler)
    files = {
        "setup.py": (
            "from setuptools import setup\n"
            "from hipify_tool.setuptools import BuildExtension, CUDAExtension\n"
            "setup(name='scale', ext_modules=[CUDAExtension('scale', ['csrc/scale.cu'],"
            " extra_compile_args={'cxx': [], 'nvcc': ['-O3']})], cmdclass={'build_ext': BuildExtension})\n"
        ),
        "csrc/scale.cu": (
            '#include <cuda_runtime.h>\n#include "twice.cuh"\n'
            "__global__ void scale(float* x, int n) { int i = blockIdx.x * blockDim.x + threadIdx.x;"
            " if (i < n) x[i] = twice(x[i]); }\n"
            "void launch(float* x, int n, cudaStream_t s) { scale<<<(n + 255) / 256, 256, 0, s>>>(x, n); }\n"
        ),
        "csrc/twice.cuh": "#pragma once\n__device__ inline float twice(float v) { return 2.0f * v; }\n",
    }
    project = write_tree(tmp_path / "proj", files)
    ok(run_setup(project, real, "build_ext"))
    (compile_,) = [c for c in real.commands() if c.tool == "hipcc"]
    (source,) = compile_.sources
    assert source.endswith("/hipify/scale/csrc/scale.hip")
    assert compile_.output is not None
    assert b".hip_fatbin" in Path(compile_.output).read_bytes()
