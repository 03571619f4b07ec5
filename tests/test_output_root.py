"""The output root builds on its own (issue #11).

The invariant (docs/cli.md, "The output root"): every include of every output, looked up from the
output's own place in the output root (its directory for quoted forms, then the output-root images of
the include dirs, include dirs outside the project as they are, in ``-I`` order), reaches an image of
exactly the header its source's include reached in the source tree, or the same header outside the
project. :func:`invariant_problems` checks it with its own compiler-order lookups on the real files,
independently of the tool's include search. It is checked on random trees (hypothesis), on the
reference project and on the CCCL sample; ``g++ -fsyntax-only`` compiles fixture outputs with only
the output root (and the external dirs) on the include path; and each case of the issue runs through
the real CLI.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
from cmake_tools import TOOLS, CMakeTool, require
from cmake_tools import ids as cmake_ids
from helpers import (
    REPO,
    STATE_DIR,
    changed_paths,
    compare_with_pytorch,
    pytorch_hipify,
    read_tree,
    run_cli,
    tree_state,
    write_tree,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hipify_tool

_DIRECTIVE = re.compile(rb'^[ \t]*#[ \t]*include[ \t]*(?:"([^"\n]+)"|<([^>\n]+)>)', re.M)


# --- the invariant, checked with our own lookups ---------------------------------------------------------


def directives(data: bytes) -> list[tuple[str, str]]:
    """Every ``#include`` a compiler sees (line-initial; comments are not parsed away: none in fixtures)."""
    return [
        ("quote", m.group(1).decode()) if m.group(1) is not None else ("angle", m.group(2).decode())
        for m in _DIRECTIVE.finditer(data)
    ]


def lookup(kind: str, path: str, here: Path, dirs: Sequence[Path]) -> Path | None:
    """A compiler's search: the includer's directory (quoted forms), then ``dirs`` in order."""
    for d in ([here] if kind == "quote" else []) + list(dirs):
        candidate = Path(os.path.normpath(d / path))
        if candidate.is_file():
            return candidate
    return None


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def invariant_problems(
    project: Path, out: Path, include_dirs: Sequence[Path], plan: hipify_tool.Plan, *, angle: bool = True
) -> list[str]:
    """Every include of every file in the output root that does not reach what its source's reached.

    Images come from the plan (outputs and sibling copies); each copy must hold its header's output's
    bytes, and the output root must hold exactly the planned files. ``angle=False`` checks quoted
    includes only (for trees whose angle includes PyTorch's tables rename to ROCm library headers).
    """
    problems: list[str] = []
    images = {out / f.output: f.source for f in plan.files.values()}
    images.update({out / copy: source for copy, source in plan.copies.items()})
    on_disk = {out / rel for rel in read_tree(out)}
    if on_disk != set(images):
        problems.append(f"output root holds {sorted(map(str, on_disk ^ set(images)))} beyond/short of the plan")
    for copy, source in plan.copies.items():
        if (out / copy).read_bytes() != (out / plan.files[source].output).read_bytes():
            problems.append(f"{copy}: not a copy of {plan.files[source].output}")
    out_dirs = [out / d.relative_to(project) if _within(d, project) else d for d in include_dirs]
    for image, source in sorted(images.items()):
        source_includes = directives((project / source).read_bytes())
        output_includes = directives(image.read_bytes())
        if output_includes[:1] == [("quote", "hip/hip_runtime.h")] and len(output_includes) > len(source_includes):
            output_includes = output_includes[1:]  # PyTorch's header magic
        if len(output_includes) != len(source_includes):
            problems.append(f"{image}: {len(output_includes)} includes, its source {source} has {len(source_includes)}")
            continue
        for (kind, path), (out_kind, out_path) in zip(source_includes, output_includes, strict=True):
            if kind == "angle" and not angle:
                continue
            reached = lookup(kind, path, (project / source).parent, include_dirs)
            if reached is None:
                continue  # left as written; nothing to keep
            got = lookup(out_kind, out_path, image.parent, out_dirs)
            if _within(reached, project):
                expected = reached.relative_to(project).as_posix()
                if got is None or images.get(got) != expected:
                    problems.append(f'{image}: include "{out_path}" reaches {got}, not an image of {expected}')
            elif got != reached:
                problems.append(f'{image}: include "{out_path}" reaches {got}, not {reached}')
    return problems


# --- the property, on random trees --------------------------------------------------------------------------

_DIRS = ("", "cuda", "a", "a/cuda", "a/cuda/sub", "include", "include/cuda", "b/CUDA")
_NAMES = ("k", "impl", "util", "cuda_util", "x")
_EXTS = (".cu", ".cuh", ".h", ".inl", ".hpp")
_EXTERNAL = ("ext.h", "util.h", "cuda/x.cuh", "impl.inl")
_INCLUDE_DIRS = ("include", "a", ".", "@ext")


@st.composite
def random_trees(draw: st.DrawFn) -> dict[str, object]:
    files = draw(
        st.lists(
            st.tuples(st.sampled_from(_DIRS), st.sampled_from(_NAMES), st.sampled_from(_EXTS)).map(
                lambda t: f"{t[0]}/{t[1]}{t[2]}".lstrip("/")
            ),
            min_size=1,
            max_size=9,
            unique=True,
        )
    )
    files = ["k0.cu", *files] if not any(f.endswith(".cu") for f in files) else files
    external = draw(st.lists(st.sampled_from(_EXTERNAL), max_size=3, unique=True))
    targets = [("p", f) for f in files] + [("e", f) for f in external] + [("m", "nowhere.cuh")]
    includes = {
        f: draw(
            st.lists(
                st.tuples(st.sampled_from(targets), st.sampled_from(("rel", "dir-quote", "dir-angle"))), max_size=4
            )
        )
        for f in files
    }
    return {
        "files": files,
        "external": external,
        "includes": includes,
        "changed": {f: draw(st.booleans()) for f in files},
        "include_dirs": draw(st.lists(st.sampled_from(_INCLUDE_DIRS), max_size=3, unique=True)),
        "extensions": draw(
            st.none() | st.lists(st.sampled_from((".cuh", ".h", ".hpp")), unique=True).map(lambda e: [".cu", *e])
        ),
        "explicit": draw(st.booleans()),
    }


def _spell(tree: Mapping[str, object], includer: str, target: tuple[str, str], how: str, dirs: list[str]) -> str:
    """An include line for ``target`` as a user might write it (relative, or through an include dir)."""
    where, rel = target
    if where == "m":
        return f'#include "{rel}"'
    if how != "rel" or where == "e":
        roots = [d for d in dirs if (d == "@ext") == (where == "e")]
        for d in roots:
            base = "" if d in (".", "@ext") else d + "/"
            if rel.startswith(base):
                path = rel[len(base) :]
                return f'#include "{path}"' if how != "dir-angle" else f"#include <{path}>"
        if where == "e":
            return f'#include "{rel}"'  # not reachable: reached nothing, or a project file of that name
    return f'#include "{os.path.relpath(rel, os.path.dirname(includer) or ".")}"'


def _materialise(tree: Mapping[str, object], root: Path) -> tuple[Path, Path, list[Path]]:
    project, ext = root / "proj", root / "ext"
    files: list[str] = tree["files"]  # type: ignore[assignment]
    dirs: list[str] = tree["include_dirs"]  # type: ignore[assignment]
    includes: dict[str, list[tuple[tuple[str, str], str]]] = tree["includes"]  # type: ignore[assignment]
    changed: dict[str, bool] = tree["changed"]  # type: ignore[assignment]
    contents: dict[str, str] = {}
    for n, f in enumerate(files):
        lines = [_spell(tree, f, target, how, dirs) for target, how in includes[f]]
        lines.append(f"int id_{n};")  # a marker that names the file in every image of it
        if changed[f]:
            lines.append(f"cudaStream_t stream_{n};")
        contents[f"proj/{f}"] = "\n".join(lines) + "\n"
    for m, f in enumerate(tree["external"]):  # type: ignore[attr-defined]
        contents[f"ext/{f}"] = f"int external_{m};\n"
    write_tree(root, contents)
    ext.mkdir(exist_ok=True)
    include_dirs = [ext if d == "@ext" else project / d for d in dirs]
    for d in include_dirs:
        d.mkdir(parents=True, exist_ok=True)
    return project, ext, [Path(os.path.normpath(d)) for d in include_dirs]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=random_trees())
def test_every_include_of_every_output_reaches_what_its_source_reached(tree: dict[str, object]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        project, ext, include_dirs = _materialise(tree, root)
        sources = [project / f for f in tree["files"] if f.endswith(".cu")] if tree["explicit"] else []  # type: ignore[attr-defined]
        options: dict[str, object] = {"include_dirs": include_dirs, "jobs": 1}
        if tree["extensions"] is not None:
            options["extensions"] = tree["extensions"]
        before = tree_state(ext)
        result = hipify_tool.run(project, root / "out", sources, **options)
        assert invariant_problems(project, root / "out", include_dirs or [project], result.plan) == []
        files: list[str] = tree["files"]  # type: ignore[assignment]
        images = [(f.output, f.source) for f in result.plan.files.values()] + list(result.plan.copies.items())
        for image, source in images:  # the plan's map of images, checked against the bytes themselves
            markers = re.findall(rb"int id_(\d+);", (root / "out" / image).read_bytes())
            assert markers == [str(files.index(source)).encode()], (image, source)
        assert tree_state(ext) == before, "an external include dir is read-only"
        assert not any(_within(Path(p), ext) for p in map(str, result.plan.all_outputs()))
        again = hipify_tool.run(project, root / "out", sources, **options)
        assert again.written == () and again.removed == (), "a rerun with nothing changed writes nothing"


# --- the reference project and CCCL -------------------------------------------------------------------------


def test_reference_project_outputs_are_self_contained(tmp_path: Path) -> None:
    project = REPO / "csrc_example" / "csrc"
    result = hipify_tool.run(project, tmp_path / "out", include_dirs=[project], jobs=2)
    assert invariant_problems(project, tmp_path / "out", [project], result.plan) == []
    assert result.plan.copies == {} and result.plan.include_warnings == ()


def test_cccl_sample_outputs_are_self_contained(cccl_project: Path, tmp_path: Path) -> None:
    """Quoted includes only: CCCL's angle includes of ``thrust/system/cuda/...`` are renamed by PyTorch's
    tables to rocThrust's ``thrust/system/hip/...``, headers of the ROCm install, not of the output root."""
    result = hipify_tool.run(cccl_project, tmp_path / "out", include_dirs=[cccl_project], jobs=2)
    assert len(result.plan.files) > 200
    assert invariant_problems(cccl_project, tmp_path / "out", [cccl_project], result.plan, angle=False) == []
    quoted = sum(
        kind == "quote"
        for f in result.plan.files.values()
        for kind, _ in directives((cccl_project / f.source).read_bytes())
    )
    assert quoted > 0  # the check is not vacuous


# --- g++ compiles the outputs with only the output root on its include path -------------------------------

_GUARD = "#pragma once\n"
FIXTURE = {
    # a cuda/ directory: k.cu moves to hip/, its untranslated siblings must follow it
    "proj/cuda/k.cu": '#include "impl.inl"\n#include "reduce.cuh"\n#include <api.h>\n#include "common/util.h"\n'
    "int k() { return impl() + reduce() + api() + util(); }\n",
    "proj/cuda/impl.inl": _GUARD + '#include "detail/chain.inl"\ninline int impl() { return chain(); }\n',
    "proj/cuda/detail/chain.inl": _GUARD + '#include "../reduce.cuh"\ninline int chain() { return reduce(); }\n',
    "proj/cuda/reduce.cuh": _GUARD
    + "typedef int cudaStream_t;\ninline int reduce() { return sizeof(cudaStream_t); }\n",
    # PyTorch's "../hip/reduce.cuh"
    "proj/src/cuda/reduce.cu": '#include "reduce.cuh"\nint r() { return sreduce(); }\n',
    "proj/src/cuda/reduce.cuh": _GUARD
    + "typedef int cudaEvent_t;\ninline int sreduce() { return sizeof(cudaEvent_t); }\n",
    # a chain and a cycle through an include dir inside the project
    "proj/common/util.h": _GUARD + '#include "cycle_a.h"\ninline int util() { return a() + b(); }\n',
    "proj/common/cycle_a.h": _GUARD + '#include "cycle_b.h"\ninline int a() { return 1; }\n',
    "proj/common/cycle_b.h": _GUARD + '#include "cycle_a.h"\ntypedef int cudaError_t;\ninline int b() { return 2; }\n',
    # outside the project: read-only
    "ext/api.h": _GUARD + "inline int api() { return 3; }\n",
}


def _gxx(source: Path, include_dirs: Sequence[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["g++", "-fsyntax-only", "-x", "c++", *(f"-I{d}" for d in include_dirs), str(source)],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++")
@pytest.mark.parametrize("extensions", [None, [".cu"], [".cu", ".h"]])
def test_outputs_compile_with_only_the_output_root_on_the_include_path(
    tmp_path: Path, extensions: list[str] | None
) -> None:
    write_tree(tmp_path, FIXTURE)
    project, ext = tmp_path / "proj", tmp_path / "ext"
    sources = [project / "cuda/k.cu", project / "src/cuda/reduce.cu"]
    for source in sources:  # the sources compile: so must their outputs
        proc = _gxx(source, [project, project / "common", ext])
        assert proc.returncode == 0, proc.stderr
    options: dict[str, object] = {"include_dirs": [project, project / "common", ext]}
    if extensions is not None:
        options["extensions"] = extensions
    result = hipify_tool.run(project, tmp_path / "out", sources, **options)
    out = tmp_path / "out"
    assert [p.relative_to(out).as_posix() for p in result.outputs] == ["hip/k.hip", "src/hip/reduce.hip"]
    assert result.plan.copies  # the property below is not vacuous: copies were needed
    for output in result.outputs:
        proc = _gxx(output, [out, out / "common", ext])
        assert proc.returncode == 0, proc.stderr
    assert invariant_problems(project, out, [project, project / "common", ext], result.plan) == []
    if extensions is None:  # PyTorch's bytes (docs/differences.md): reduce.cuh moved to hip/ too
        assert b'#include "../hip/reduce.cuh"\n' in (out / "src/hip/reduce.hip").read_bytes()


# --- each case of the issue, through the CLI --------------------------------------------------------------


def _run(*args: str | os.PathLike[str]) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, check=True)


def test_cli_sibling_of_a_file_moved_to_hip(tmp_path: Path) -> None:
    """``cuda/k.cu`` includes ``"impl.inl"``: the copy follows k.hip into hip/, as one file with it."""
    write_tree(
        tmp_path,
        {
            "proj/cuda/k.cu": '#include "impl.inl"\nint k() { return impl(); }\n',
            "proj/cuda/impl.inl": "#pragma once\ninline int impl() { return 1; }\n",
        },
    )
    out = tmp_path / "out"
    planned = _run("plan", "-p", tmp_path / "proj", "-o", out)
    assert planned.stdout.splitlines() == [
        str(out / "cuda/impl.inl"),
        str(out / "hip/impl.inl"),
        str(out / "hip/k.hip"),
    ]
    ran = _run("run", "-p", tmp_path / "proj", "-o", out)
    assert ran.stdout.splitlines() == [str(out / "hip/k.hip")] and ran.stderr == ""
    assert (out / "hip/impl.inl").read_bytes() == (tmp_path / "proj/cuda/impl.inl").read_bytes()
    assert os.path.samefile(out / "hip/impl.inl", out / "cuda/impl.inl")  # one file: #pragma once holds
    if shutil.which("g++"):
        assert _gxx(out / "hip/k.hip", [out]).returncode == 0
    assert (out / "hip/k.hip").read_bytes().endswith(b'#include "impl.inl"\nint k() { return impl(); }\n')
    assert run_cli("check", "-p", tmp_path / "proj", "-o", out).returncode == 0  # copies are part of the tree


def test_cli_extension_subset_leaves_a_header_to_copy(tmp_path: Path) -> None:
    """``--extension .cu``: the .cuh beside it is copied, not translated, and must be found from hip/."""
    write_tree(
        tmp_path,
        {
            "proj/cuda/k.cu": '#include "k.cuh"\nint k() { return h(); }\n',
            "proj/cuda/k.cuh": "inline int h() { return 2; }\n",
        },
    )
    out = tmp_path / "out"
    _run("run", "-p", tmp_path / "proj", "-o", out, "--extension", ".cu")
    assert sorted(read_tree(out)) == ["cuda/k.cuh", "hip/k.cuh", "hip/k.hip"]
    assert (out / "hip/k.cuh").read_bytes() == (tmp_path / "proj/cuda/k.cuh").read_bytes()


def test_cli_copied_file_including_a_renamed_header(tmp_path: Path) -> None:
    """A copied ``.inl`` still says ``"util.cuh"``, which translation renamed: the translation is copied
    to the old name too, so the ``.inl`` gets the HIP header, not nothing."""
    write_tree(
        tmp_path,
        {
            "proj/k.cu": '#include "impl.inl"\nint k() { return impl(); }\n',
            "proj/impl.inl": '#include "util.cuh"\ninline int impl() { return sizeof(cudaStream_t); }\n',
            "proj/util.cuh": "typedef int cudaStream_t;\n",
        },
    )
    out = tmp_path / "out"
    _run("run", "-p", tmp_path / "proj", "-o", out)
    assert (out / "util_hip.cuh").read_bytes().endswith(b"typedef int hipStream_t;\n")
    assert os.path.samefile(out / "util.cuh", out / "util_hip.cuh")


def test_cli_reduce_in_a_cuda_dir_includes_the_hip_path(tmp_path: Path) -> None:
    """PyTorch writes ``"../hip/reduce.cuh"`` for ``src/cuda/reduce.cu``'s ``"reduce.cuh"`` (kept: it
    resolves from src/hip/ as from src/cuda/)."""
    write_tree(
        tmp_path,
        {
            "proj/src/cuda/reduce.cu": '#include "reduce.cuh"\nint r() { return reduce(); }\n',
            "proj/src/cuda/reduce.cuh": "typedef int cudaStream_t;\ninline int reduce() { return 3; }\n",
        },
    )
    out = tmp_path / "out"
    _run("run", "-p", tmp_path / "proj", "-o", out)
    assert b'#include "../hip/reduce.cuh"\n' in (out / "src/hip/reduce.hip").read_bytes()
    assert sorted(read_tree(out)) == ["src/hip/reduce.cuh", "src/hip/reduce.hip"]


def test_cli_include_dir_outside_the_project(tmp_path: Path) -> None:
    """``-p src -I include``: include/ is searched, never written; its headers are dependencies."""
    write_tree(
        tmp_path,
        {
            "include/lib/api.h": "#pragma once\ninline int api() { return 1; }\n",
            "include/lib/other.h": "#pragma once\n",
            "src/k.cu": '#include "lib/api.h"\n#include <lib/other.h>\ntypedef int cudaStream_t;\n'
            "int k(cudaStream_t s) { return s + api(); }\n",
            "src/lib/other.h": "#pragma once\n",  # -I order: include/ comes first for the angle include
        },
    )
    out, include = tmp_path / "out", tmp_path / "include"
    before = tree_state(include)
    args = ("-p", tmp_path / "src", "-o", out, "-I", include, "-I", tmp_path / "src", tmp_path / "src/k.cu")
    planned = _run("plan", "-v", *args)
    assert planned.stdout.splitlines() == [str(out / "k.hip")]
    assert f"external header (outside the project: read, never written): {include / 'lib/api.h'}" in planned.stderr
    assert f"{include / 'lib/other.h'}" in planned.stderr
    depfile = tmp_path / "k.d"
    report = tmp_path / "r.json"
    ran = _run("run", *args, "--depfile", depfile, "--report", "json", "--report-file", report)
    assert [line for line in ran.stderr.splitlines() if "warning" in line] == [  # -I order decides, as in a compiler
        f"hipify-tool: warning: k.cu: include 'lib/other.h' is ambiguous: using {include / 'lib/other.h'}, "
        f"also found {tmp_path / 'src/lib/other.h'}"
    ]
    assert tree_state(include) == before
    assert sorted(read_tree(out)) == ["k.hip"]
    assert b'#include "lib/api.h"\n#include <lib/other.h>\ntypedef int hipStream_t;' in (out / "k.hip").read_bytes()
    assert str(include / "lib/api.h") in depfile.read_text() and str(include / "lib/other.h") in depfile.read_text()
    notes = [
        (i["line"], i["include"], i["status"], i["reaches"])
        for i in json.loads(report.read_text())["files"][0]["includes"]
    ]
    assert notes == [
        (1, "lib/api.h", "external", str(include / "lib/api.h")),
        (2, "lib/other.h", "external", str(include / "lib/other.h")),
    ]
    if shutil.which("g++"):
        assert _gxx(out / "k.hip", [out, include]).returncode == 0


def test_cli_unresolved_quoted_include_is_warned_once_per_site(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "proj/a.cu": '#include "common.cuh"\n#include "missing.cuh"\n/* usage:\n * #include "doc.h"\n */\n',
            "proj/b.cu": '#include "common.cuh"\n#include <cuda_runtime.h>\n#include <cub/cub.cuh>\n',
            # a quoted CUDA header PyTorch renames, an angle include of a system header: not warned
            "proj/common.cuh": '#pragma once\n#include "cuda_fp16.h"\n#include <vector>\n\n#include "gone/x.h"\n',
        },
    )
    out, proj = tmp_path / "out", tmp_path / "proj"
    ran = _run("run", "-p", proj, "-o", out, "--report", "json", "--report-file", tmp_path / "r.json")
    searched = f"(searched: {proj})"  # the includer's dir is the -I dir too: named once
    warnings = [line for line in ran.stderr.splitlines() if "not found" in line]
    assert warnings == [
        f'hipify-tool: warning: {proj}/a.cu:2: include "missing.cuh" not found {searched}',
        f'hipify-tool: warning: {proj}/common.cuh:5: include "gone/x.h" not found {searched}',
    ]
    report = json.loads((tmp_path / "r.json").read_text())
    notes = {(f["source"], i["line"], i["include"], i["status"]) for f in report["files"] for i in f["includes"]}
    assert notes == {("a.cu", 2, "missing.cuh", "not-found"), ("common.cuh", 5, "gone/x.h", "not-found")}
    _run("run", "-p", proj, "-o", out, "--report", "sarif", "--report-file", tmp_path / "r.sarif")
    results = json.loads((tmp_path / "r.sarif").read_text())["runs"][0]["results"]
    found = sorted(
        (r["locations"][0]["physicalLocation"]["region"]["startLine"], r["message"]["text"])
        for r in results
        if r["ruleId"] == "include-not-found"
    )
    assert found == [
        (2, f'include "missing.cuh" not found {searched}'),
        (5, f'include "gone/x.h" not found {searched}'),
    ]


def test_cli_include_that_would_reach_another_file_is_refused(tmp_path: Path) -> None:
    """``a/hip/user.cu``'s ``"x.h"`` reaches include/x.h; in the output root a/hip/ holds the translation
    of ``a/cuda/x.h`` first. No copy can fix that: exit 4, nothing written."""
    write_tree(
        tmp_path,
        {
            "proj/a/cuda/x.h": "cudaStream_t s;\n",
            "proj/a/hip/user.cu": '#include "x.h"\nint u;\n',
            "proj/include/x.h": "int inc;\n",
        },
    )
    out = tmp_path / "out"
    proc = run_cli("run", "-p", tmp_path / "proj", "-o", out, "-I", tmp_path / "proj/include")
    assert proc.returncode == 4, proc.stderr
    assert proc.stderr.splitlines() == [
        f'hipify-tool: error: {tmp_path}/proj/a/hip/user.cu: line 1: include "x.h" in {out}/a/hip/user.hip '
        f"would reach {out}/a/hip/x.h instead of {out}/include/x.h; rename one of them"
    ]
    assert not out.exists()


def test_cli_relative_include_out_of_the_project_is_warned(tmp_path: Path) -> None:
    write_tree(tmp_path, {"proj/k.cu": '#include "../vendor/x.h"\nint k;\n', "vendor/x.h": "int x;\n"})
    proc = _run("run", "-p", tmp_path / "proj", "-o", tmp_path / "out")
    assert proc.stderr.splitlines() == [
        f'hipify-tool: warning: {tmp_path}/proj/k.cu:1: include "../vendor/x.h" reaches {tmp_path}/vendor/x.h '
        "outside the project dir by a relative path, which its output in the output root cannot follow "
        "(include it through an -I dir)"
    ]
    assert sorted(read_tree(tmp_path / "out")) == ["k.hip"]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_cli_outputs_keep_the_source_mode(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "proj/k.cu": '#include "tool.h"\n#include "impl.inl"\ncudaStream_t s;\n',
            "proj/tool.h": "int tool;\n",
            "proj/impl.inl": "int impl;\n",
        },
    )
    proj, out = tmp_path / "proj", tmp_path / "out"
    os.chmod(proj / "tool.h", 0o755)
    os.chmod(proj / "k.cu", 0o640)
    _run("run", "-p", proj, "-o", out)
    assert (_mode(out / "tool.h"), _mode(out / "k.hip"), _mode(out / "impl.inl")) == (0o755, 0o640, 0o644)
    os.chmod(proj / "impl.inl", 0o700)  # a mode change alone reaches the output on the next run
    _run("run", "-p", proj, "-o", out)
    assert _mode(out / "impl.inl") == 0o700


def _failing(tmp_path: Path, case: str) -> tuple[list[str | Path], int]:
    proj = tmp_path / "proj"
    files = {"proj/k.cu": "__global__ void k() {}\nvoid f() { k<<<1, 1>>>(); }\n"}
    args: list[str | Path] = ["run", "-p", proj, "-o", tmp_path / "out"]
    if case == "bad map":
        files["m.toml"] = "cudaMalloc = [\n"
        args += ["--map", tmp_path / "m.toml"]
        code = 2
    elif case == "untranslatable launch":
        files["proj/bad.cu"] = "void g() { k<<<1, 1(); }\n"
        code = 3
    else:  # two sources, one output
        files["proj/k_cuda.cu"] = "void h() {}\n"
        files["proj/k_hip.cu"] = "void h() {}\n"
        code = 4
    write_tree(tmp_path, files)
    return args, code


@pytest.mark.parametrize("root", ["absent", "empty", "used"])
@pytest.mark.parametrize("case", ["bad map", "untranslatable launch", "collision"])
def test_cli_failed_run_leaves_the_output_root_as_found(tmp_path: Path, case: str, root: str) -> None:
    args, code = _failing(tmp_path, case)
    if root == "empty":
        (tmp_path / "out").mkdir()
    elif root == "used":
        _run("run", "-p", tmp_path / "proj", "-o", tmp_path / "out", tmp_path / "proj/k.cu")
        assert (tmp_path / "out" / STATE_DIR / "lock").is_file()
    before = tree_state(tmp_path)
    proc = run_cli(*args)
    assert proc.returncode == code, proc.stderr
    assert changed_paths(before, tree_state(tmp_path)) == set()


def test_layout_matches_pytorch_but_for_the_sibling_copies(tmp_path: Path) -> None:
    """Against PyTorch's own hipify: every output byte-identical (``"../hip/reduce.cuh"`` and the
    include of a header outside the project included); the sibling copies are the one addition
    (docs/differences.md)."""
    write_tree(tmp_path, FIXTURE)
    project, ext = tmp_path / "proj", tmp_path / "ext"
    sources = ["cuda/k.cu", "src/cuda/reduce.cu"]
    result = hipify_tool.run(project, tmp_path / "ours", [project / s for s in sources], include_dirs=[project, ext])
    pt = pytorch_hipify(project, tmp_path / "pt", sources=sources, header_include_dirs=[".", str(ext)])
    assert pt.returncode == 0, pt.stderr
    files = {f.output: f.source for f in result.plan.files.values()}
    copies = {copy: result.plan.files[source].output for copy, source in result.plan.copies.items()}
    assert copies == {
        "cuda/reduce.cuh": "hip/reduce.cuh",
        "hip/detail/chain.inl": "cuda/detail/chain.inl",
        "hip/impl.inl": "cuda/impl.inl",
    }
    assert compare_with_pytorch(tmp_path / "ours", tmp_path / "pt", files, project, copies=copies) == []
    assert b'#include "../hip/reduce.cuh"\n' in (tmp_path / "pt/src/hip/reduce.hip").read_bytes()
    assert b"#include <api.h>\n" in (tmp_path / "pt/hip/k.hip").read_bytes()


# --- hipify_sources() with an include dir outside PROJECT_DIR ---------------------------------------------


@pytest.mark.parametrize(
    ("tool", "generator"), [(t, g) for t in TOOLS for g in ("Ninja", "Unix Makefiles")], ids=cmake_ids
)
def test_cmake_include_dir_outside_the_project_dir_is_a_dependency(
    tmp_path: Path, tool: CMakeTool, generator: str
) -> None:
    """INCLUDE_DIRS may name a dir outside PROJECT_DIR: never written, and an edit of a header read there
    re-runs the translation (the depfile names it), once. A header dated ahead of the clock re-runs it
    once too: the stamp takes the newest input's mtime (Ninja >= 1.12 is the exception, docs/cmake.md)."""
    require(tool)
    cmake_dir = run_cli("--cmake-dir", check=True).stdout.strip()
    write_tree(
        tmp_path,
        {
            "CMakeLists.txt": "cmake_minimum_required(VERSION 3.25)\nproject(p LANGUAGES NONE)\n"
            "find_package(hipify_tool CONFIG REQUIRED)\n"
            "hipify_sources(V SOURCES csrc/k.cu PROJECT_DIR csrc OUTPUT_DIR out INCLUDE_DIRS csrc ext)\n"
            "add_custom_target(gen ALL DEPENDS ${V})\n",
            "csrc/k.cu": "#include <api.h>\nvoid k() { cudaDeviceSynchronize(); }\n",
            "ext/api.h": "#pragma once\n",
        },
    )
    ext_before = tree_state(tmp_path / "ext")

    def cmake(*args: str) -> str:
        proc = subprocess.run([tool.cmake, *args], capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout

    build = str(tmp_path / "build")
    cmake(
        "-S",
        str(tmp_path),
        "-B",
        build,
        *tool.generator_args(generator),
        f"-Dhipify_tool_DIR={cmake_dir}",
        f"-DPython_EXECUTABLE={sys.executable}",
    )
    assert "Translating" in cmake("--build", build)
    assert (
        (tmp_path / "build/out/k.hip")
        .read_bytes()
        .endswith(b"#include <api.h>\nvoid k() { hipDeviceSynchronize(); }\n")
    )
    assert "Translating" not in cmake("--build", build)
    time.sleep(0.02)  # file times are kernel-tick coarse: be newer than the last build's files
    os.utime(tmp_path / "ext/api.h")
    assert "Translating" in cmake("--build", build)
    assert "Translating" not in cmake("--build", build)
    if generator != "Ninja" or tool.ninja_version() < (1, 12):
        later = time.time_ns() + 5_000_000_000
        os.utime(tmp_path / "ext/api.h", ns=(later, later))
        assert "Translating" in cmake("--build", build)
        assert "Translating" not in cmake("--build", build)
    assert sorted(read_tree(tmp_path / "build/out")) == ["k.hip"]
    assert changed_paths(ext_before, tree_state(tmp_path / "ext")) == {"api.h"}  # only our own touch


def test_sibling_copies_follow_the_sources(tmp_path: Path) -> None:
    """A copy is an output like the others: rewritten with its header, removed when no include needs it,
    and a rerun with nothing changed leaves it alone."""
    project = write_tree(
        tmp_path / "proj",
        {"cuda/k.cu": '#include "impl.inl"\nint k;\n', "cuda/impl.inl": "int impl;\n"},
    )
    out = tmp_path / "out"
    first = hipify_tool.run(project, out, [project / "cuda/k.cu"])
    assert out / "hip/impl.inl" in first.written
    assert hipify_tool.run(project, out, [project / "cuda/k.cu"]).written == ()
    (project / "cuda/impl.inl").write_text("int impl2;\n")
    edited = hipify_tool.run(project, out, [project / "cuda/k.cu"])
    assert {out / "cuda/impl.inl", out / "hip/impl.inl"} <= set(edited.written)
    assert (out / "hip/impl.inl").read_text() == "int impl2;\n"
    (project / "cuda/k.cu").write_text("int k;\n")
    dropped = hipify_tool.run(project, out, [project / "cuda/k.cu"])
    assert dropped.removed == (out / "hip/impl.inl",) and not (out / "hip/impl.inl").exists()


def test_runs_sharing_a_root_keep_each_others_copies(tmp_path: Path) -> None:
    """Two builds into one root (two hipify_sources() calls): B plans the header A's copy copies, but
    not A's source. B keeps the copy (A still needs it) and brings it up to date with the header."""
    project = write_tree(
        tmp_path / "proj",
        {
            "cuda/k.cu": '#include "impl.inl"\nint k;\n',
            "cuda/impl.inl": "int impl;\n",
            "other.cu": '#include "cuda/impl.inl"\nint other;\n',
        },
    )
    out = tmp_path / "out"
    hipify_tool.run(project, out, [project / "cuda/k.cu"])
    (project / "cuda/impl.inl").write_text("int impl2;\n")
    b = hipify_tool.run(project, out, [project / "other.cu"])
    assert b.plan.copies == {} and out / "hip/impl.inl" in b.written
    assert (out / "hip/impl.inl").read_text() == "int impl2;\n"
    assert hipify_tool.run(project, out, [project / "cuda/k.cu"]).written == ()
    assert hipify_tool.run(project, out, [project / "other.cu"]).written == ()
