"""Concurrent runs into one output root (issue #7): the lock makes them take turns, and the result is
exactly what one serial run of all their sources writes.

Eight CLI processes, started together, translate overlapping subsets of a realistic project (shared
headers, some renamed by translation and some copied, a ``cuda/`` directory, angle includes through
``-I``) into one output root. Every round alternates a fresh root with the previous round's root (after
flipping one shared header between "copied" and "translated", so reused rounds also rename and remove
outputs). ``HIPIFY_TOOL_STRESS=N`` multiplies the 50 rounds of the CI size.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest
from helpers import STATE_DIR, is_temp_file, read_tree, stress_scale, subprocess_env, write_tree

import hipify_tool
from hipify_tool.errors import EnvironmentProblem
from hipify_tool.manifest import Manifest
from hipify_tool.materialise import locked_output_root

PROCESSES = 8
ROUNDS = 50
SEED = 20260007


# --- the project ------------------------------------------------------------------------------------

_PLAIN = "#pragma once\nstruct Plain {{ int v; }};\ninline int plain_value(const Plain& p) {{ {}return p.v; }}\n"
_PLAIN_COPIED = _PLAIN.format("")
_PLAIN_TRANSLATED = _PLAIN.format("cudaDeviceSynchronize(); ")  # becomes plain_hip.h


def _project_files() -> dict[str, str]:
    """56 files: 24 kernels, their own headers, shared headers (renamed, copied, chained)."""
    files: dict[str, str] = {
        # shared, under -I include: angle includes
        "include/common/types.h": "#pragma once\n#include <cstdint>\nstruct Dims { int x, y, z; };\n",
        "include/common/check.cuh": (
            '#pragma once\n#include "types.h"\n#include <cstdio>\n'
            "#define CHECK(call) do { cudaError_t e_ = (call); if (e_ != cudaSuccess) {"
            ' printf("%s\\n", cudaGetErrorString(e_)); } } while (0)\n'
        ),
        # unchanged text, but it includes a renamed header: the rewritten include renames it too
        "include/common/launch.h": (
            '#pragma once\n#include "check.cuh"\ninline int blocks_for(int n) { return (n + 255) / 256; }\n'
        ),
        "include/common/math_utils.h": (
            "#pragma once\ntemplate <class T> T clamp_to(T v, T lo, T hi) { return v < lo ? lo : v > hi ? hi : v; }\n"
        ),
        "include/common/plain.h": _PLAIN_COPIED,  # flipped between copied and translated by the test
        # a cuda/ directory: every file in it lands in hip/
        "ops/cuda/reduce_utils.cuh": (
            '#pragma once\n#include <common/check.cuh>\n#include "warp.h"\n'
            "__device__ inline float warp_sum(float v) {\n"
            "  for (int o = 16; o; o >>= 1) v += __shfl_xor_sync(0xffffffff, v, o);\n"
            "  return v;\n"
            "}\n"
        ),
        "ops/cuda/warp.h": "#pragma once\nconstexpr int kWarp = 32;\n",
        "ops/cuda/stream.h": "#pragma once\n#include <cuda_runtime.h>\nusing Stream = cudaStream_t;\n",
    }
    shared = [
        "<common/check.cuh>",
        "<common/launch.h>",
        "<common/math_utils.h>",
        "<common/types.h>",
        "<common/plain.h>",
    ]
    for i in range(24):
        local = f"k{i}.cuh" if i % 3 else f"k{i}.h"
        if i % 3 == 1:  # translated, renamed k{i}_hip.cuh
            local_text = f"#pragma once\n#include <common/types.h>\ninline cudaStream_t k{i}_stream() {{ return 0; }}\n"
        elif i % 3 == 2:  # unchanged .cuh: copied under its own name
            local_text = f"#pragma once\n__device__ inline float k{i}_scale(float v) {{ return v * {i + 1}; }}\n"
        else:  # unchanged .h: copied
            local_text = f"#pragma once\ninline int k{i}_const() {{ return {i}; }}\n"
        includes = [shared[(i + j) % len(shared)] for j in range(1 + i % 3)]
        body = (
            f'#include "{local}"\n'
            + "".join(f"#include {inc}\n" for inc in includes)
            + f"__global__ void kernel{i}(float* out, int n) {{\n"
            "  int t = blockIdx.x * blockDim.x + threadIdx.x;\n"
            "  if (t < n) out[t] = t;\n"
            "}\n"
            f"void launch{i}(float* out, int n, cudaStream_t s) {{\n"
            f"  kernel{i}<<<(n + 255) / 256, 256, 0, s>>>(out, n);\n"
            "  CHECK(cudaGetLastError());\n"
            "}\n"
        )
        if i % 4 == 0:
            where = f"ops/cuda/op{i}"
            body = f'#include "reduce_utils.cuh"\n#include "stream.h"\n{body}'
        else:
            where = f"kernels/g{i % 5}/k{i}"
        files[f"{where}.cu"] = body
        files[f"{where.rsplit('/', 1)[0]}/{local}"] = local_text
    return files


def _flip_plain(project: Path, translated: bool) -> None:
    (project / "include/common/plain.h").write_text(_PLAIN_TRANSLATED if translated else _PLAIN_COPIED)


# --- running ----------------------------------------------------------------------------------------


def _cli(project: Path, out: Path, sources: Sequence[str]) -> list[str]:
    return [
        sys.executable,
        "-m",
        "hipify_tool",
        "run",
        "-q",
        "-p",
        str(project),
        "-o",
        str(out),
        "-I",
        str(project / "include"),
        *(str(project / s) for s in sources),
    ]


def _start_together(commands: list[list[str]], cwd: Path) -> list[tuple[int, str, str]]:
    """Popen all, then wait for all: the processes race for the output root's lock."""
    env = subprocess_env()
    procs = [
        subprocess.Popen(c, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for c in commands
    ]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        results.append((p.returncode, out, err))
    return results


def _unexpected(root: Path, expected_files: set[str]) -> list[str]:
    """Temporary files, stray files or directories, leftover state anywhere under ``root``."""
    problems: list[str] = []
    wanted_dirs = {"."} | {str(Path(rel).parent) for rel in expected_files}
    wanted_dirs |= {str(p) for rel in wanted_dirs for p in Path(rel).parents}
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        if rel_dir == STATE_DIR:
            if sorted(filenames) != [".gitignore", "lock", "manifest.json", "state.json"] or dirnames:
                problems.append(f"{STATE_DIR}/ holds {sorted(filenames + dirnames)}")
            continue
        if rel_dir not in wanted_dirs:
            problems.append(f"{rel_dir}/: unexpected directory")
        for name in filenames:
            rel = os.path.normpath(os.path.join(rel_dir, name))
            if is_temp_file(name):
                problems.append(f"{rel}: leftover temporary file")
            elif rel not in expected_files:
                problems.append(f"{rel}: unexpected file")
    return problems


def test_concurrent_overlapping_runs_into_one_root(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    print(f"seed {SEED}")
    project = write_tree(tmp_path / "proj", _project_files())
    sources = sorted(str(p.relative_to(project)) for p in project.rglob("*.cu"))
    references: dict[tuple[bool, frozenset[str]], tuple[Path, dict[str, bytes]]] = {}

    def reference(translated: bool, union: frozenset[str]) -> tuple[Path, dict[str, bytes]]:
        """A serial run of ``union`` into a root of its own (cached: translation is deterministic)."""
        key = (translated, union)
        if key not in references:
            ref = tmp_path / f"ref{len(references)}"
            hipify_tool.run(project, ref, [project / s for s in sorted(union)], include_dirs=[project / "include"])
            references[key] = (ref, read_tree(ref))
        return references[key]

    rounds = ROUNDS * stress_scale()
    out = tmp_path / "out0"
    covered: frozenset[str] = frozenset()
    translated = False
    for r in range(rounds):
        reuse = r % 2 == 1
        if reuse:
            translated = not translated  # the reused root must rename plain.h <-> plain_hip.h and fix includers
            _flip_plain(project, translated)
            pool = sources  # every output written earlier is rewritten: the serial reference still applies
        else:
            out = tmp_path / f"out{r}"
            pool = rng.sample(sources, rng.randint(len(sources) // 2, len(sources)))
            covered = frozenset()
        subsets = [rng.sample(pool, rng.randint(1, max(1, len(pool) // 3))) for _ in range(PROCESSES)]
        leftover = set(pool) - {s for sub in subsets for s in sub}
        subsets[rng.randrange(PROCESSES)] += sorted(leftover)  # the union is exactly the pool
        covered |= frozenset(pool)
        results = _start_together([_cli(project, out, sub) for sub in subsets], tmp_path)
        ref, ref_tree = reference(translated, covered)
        for sub, (rc, stdout, stderr) in zip(subsets, results, strict=True):
            assert rc == 0, f"round {r}: exit {rc}\n{stderr}"
            assert stderr == "", f"round {r}: {stderr}"
            listed = [os.path.relpath(line, out) for line in stdout.splitlines()]
            assert listed == [_output_of(ref, project, s) for s in sub], f"round {r}"
        tree = read_tree(out)
        assert sorted(tree) == sorted(ref_tree), f"round {r}: outputs differ from the serial run"
        assert [rel for rel in tree if tree[rel] != ref_tree[rel]] == [], f"round {r}: bytes differ"
        assert _unexpected(out, set(ref_tree)) == [], f"round {r}"
        again = hipify_tool.run(
            project, out, [project / s for s in sorted(covered)], include_dirs=[project / "include"]
        )
        assert again.written == () and again.removed == () and again.plan.translated_count == 0, f"round {r}"
        if not reuse:
            shutil.rmtree(tmp_path / f"out{r - 2}", ignore_errors=True)


def _output_of(ref: Path, project: Path, source: str) -> str:
    """The output a serial run into ``ref`` wrote for ``source`` (from its manifest)."""
    manifest = Manifest.load(ref)
    return manifest.entries[str(project / source)].output


def test_lock_excludes_other_threads_and_processes(tmp_path: Path) -> None:
    """The root's lock is a per-process lock on Linux: it must still exclude a second thread of the
    holding process (and of course another process), and be free again once released."""
    out = tmp_path / "out"
    entered = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with locked_output_root(out):
            entered.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert entered.wait(30)
        # Another thread first: giving up must not release the holder's lock (a POSIX lock is released
        # when the process closes any descriptor of the file), which the other process then checks.
        with pytest.raises(EnvironmentProblem, match="still locked"), locked_output_root(out, timeout_s=0.2):
            pass
        code = (
            "import sys; from pathlib import Path; from hipify_tool.materialise import locked_output_root\n"
            "from hipify_tool.errors import EnvironmentProblem\n"
            "try:\n"
            f"    with locked_output_root(Path({str(out)!r}), timeout_s=0.2): sys.exit(0)\n"
            "except EnvironmentProblem: sys.exit(7)\n"
        )
        assert subprocess.run([sys.executable, "-c", code], env=subprocess_env(), timeout=60).returncode == 7
    finally:
        release.set()
        holder.join()
    with locked_output_root(out, timeout_s=1):
        pass
