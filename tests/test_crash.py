"""Crash safety (issue #7): a run killed with SIGKILL at any point leaves only whole outputs, and the
next complete run repairs the tree.

The project (1600 generated files, 2.2 MB) alternates between two versions, A and B, of every source
between kills; B appends a comment and a CUDA call to each file, so every output differs between them
and B renames the headers that A copies unchanged (``x.h`` -> ``x_hip.h``). After every kill each
output on disk must be byte-identical to its counterpart in a complete run of A or of B (temporary files
may be left); a final complete run must then exit 0 and leave exactly the reference tree of the final
version, no temporary file, nothing unknown, and a rerun that writes nothing.

The random kill points come from ``random.Random(seed)``; the seed is printed (set
``HIPIFY_TOOL_CRASH_SEED`` to replay one). ``HIPIFY_TOOL_STRESS=N`` multiplies the 16 kills of the CI size.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from helpers import STATE_DIR, is_temp_file, read_tree, snapshot, stress_scale, subprocess_env

KILLS = 16
DEFAULT_SEED = 7_2026
STATE_FILES = {"lock", "manifest.json", ".gitignore", "state.json"}
"""What a finished run leaves in the state dir."""


# --- the project ------------------------------------------------------------------------------------

_FILLER = "".join(f"// {i:02d}: the quick brown fox jumps over the lazy dog, again and again.\n" for i in range(16))


def _tree(version: str, *, dirs: int = 40, blob_mb: int = 0) -> dict[str, bytes]:
    """``dirs`` x 40 files: 30 ``.cu``, 4 translated ``.cuh``, 4 ``.h`` copied in A, 2 ``.inc`` copies.

    ``blob_mb``: also a large copied file (``mod00/zz_blob.inc``), slow enough to write that a test can
    kill the run while its temporary file exists.
    """
    files: dict[str, str] = {}
    for d in range(dirs):
        base = f"mod{d:02d}" if d % 4 else f"mod{d:02d}/cuda"  # every fourth directory is renamed to hip/
        for h in range(4):
            files[f"{base}/k{h}.cuh"] = (
                f"#pragma once\n{_FILLER}inline cudaError_t k{d}_{h}_check() {{ return cudaGetLastError(); }}\n"
            )
            files[f"{base}/h{h}.h"] = f"#pragma once\n{_FILLER}inline int h{d}_{h}() {{ return {h}; }}\n"
        for n in range(2):
            files[f"{base}/t{n}.inc"] = f"{_FILLER}X({d}, {n})\n"
        for c in range(30):
            files[f"{base}/s{c:02d}.cu"] = (
                f'#include "k{c % 4}.cuh"\n#include "h{c % 4}.h"\n'
                f'#include "h{(c + 1) % 4}.h"\n#include "t{c % 2}.inc"\n'
                f"{_FILLER}"
                f"__global__ void kern{c}(float* x, int n) {{\n"
                "  int i = blockIdx.x * blockDim.x + threadIdx.x;\n"
                "  if (i < n) x[i] *= 2.0f;\n"
                "}\n"
                f"void run{c}(float* x, int n, cudaStream_t s) {{\n"
                f"  kern{c}<<<(n + 127) / 128, 128, 0, s>>>(x, n);\n"
                "  cudaStreamSynchronize(s);\n"
                "}\n"
            )
    if blob_mb:
        files["mod00/cuda/s00.cu"] = '#include "../zz_blob.inc"\n' + files["mod00/cuda/s00.cu"]
        numbers = "1234567, " * (blob_mb * 1024 * 1024 // 9)
        files["mod00/zz_blob.inc"] = f"// blob\nint blob[] = {{{numbers}}};\n"
    out: dict[str, bytes] = {}
    for i, (rel, text) in enumerate(sorted(files.items())):
        if version == "B":
            text += f"// version B of {rel}\nstatic inline void version_b_{i}() {{ cudaDeviceSynchronize(); }}\n"
        out[rel] = text.encode()
    return out


def _write_version(project: Path, files: Mapping[str, bytes]) -> None:
    for rel, data in files.items():
        path = project / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


# --- running and killing ----------------------------------------------------------------------------


def _command(project: Path, out: Path, *extra: str) -> list[str]:
    # -j 2: parallel translation (forked workers) on any machine; the tree is above its 1 MB threshold
    return [sys.executable, "-m", "hipify_tool", "run", "-j", "2", *extra, "-p", str(project), "-o", str(out)]


class _Runs:
    """CLI runs started in their own process groups, so that the workers a killed run forked (which
    outlive it) can be found and ended afterwards; stderr goes to a file, as those workers keep any
    pipe open."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.orphaned: list[int] = []
        """Process groups of killed runs."""

    def start(self, project: Path, out: Path) -> subprocess.Popen[str]:
        with open(self.logs, "w") as log:
            return subprocess.Popen(
                _command(project, out),
                env=subprocess_env(),
                stdout=subprocess.DEVNULL,
                stderr=log,
                text=True,
                start_new_session=True,
            )

    def stderr(self) -> str:
        return self.logs.read_text()

    def kill(self, proc: subprocess.Popen[str]) -> None:
        """SIGKILL the run's main process only, as the OOM killer does; its workers live on for now."""
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        self.orphaned.append(proc.pid)

    def reap(self, groups: list[int] | None = None) -> None:
        """End the leftover workers of the killed runs ``groups`` (default: all)."""
        for group in list(self.orphaned if groups is None else groups):
            try:
                os.killpg(group, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.orphaned.remove(group)


def _complete_run(project: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        _command(project, out, *extra), env=subprocess_env(), capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stderr}"
    return proc


def _kill_when(runs: _Runs, proc: subprocess.Popen[str], condition: Callable[[], bool], what: str) -> None:
    """SIGKILL ``proc`` as soon as ``condition()`` holds (polled every ~0.2 ms)."""
    deadline = time.monotonic() + 120
    while not condition():
        if proc.poll() is not None:
            pytest.fail(f"the run ended (exit {proc.returncode}) before {what}\n{runs.stderr()}")
        if time.monotonic() > deadline:
            runs.kill(proc)
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.0002)
    runs.kill(proc)


def _group_size(group: int) -> int:
    """Live processes in process group ``group`` (Linux: from /proc)."""
    count = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[2]) == group and fields[0] != "Z":
                count += 1
    return count


@pytest.fixture
def runs(tmp_path: Path) -> Iterator[_Runs]:
    r = _Runs(tmp_path / "stderr.txt")
    try:
        yield r
    finally:
        r.reap()


def _temp_files(root: Path) -> list[str]:
    return sorted(
        os.path.relpath(os.path.join(d, n), root) for d, _, names in os.walk(root) for n in names if is_temp_file(n)
    )


def _partial_problems(out: Path, refs: list[dict[str, bytes]]) -> list[str]:
    """After a kill: outputs that are not whole copies of a reference output; unknown state files."""
    problems: list[str] = []
    for dirpath, _, filenames in os.walk(out):
        rel_dir = os.path.relpath(dirpath, out)
        for name in filenames:
            rel = os.path.normpath(os.path.join(rel_dir, name))
            if is_temp_file(name):
                continue
            if rel_dir == STATE_DIR:
                if name not in STATE_FILES | {"journal.json"}:
                    problems.append(f"{rel}: unexpected state file")
                continue
            data = (out / rel).read_bytes()
            if not any(ref.get(rel) == data for ref in refs):
                known = [i for i, ref in enumerate(refs) if rel in ref]
                problems.append(f"{rel}: {'matches no reference' if known else 'in no reference'} ({len(data)} bytes)")
    return problems


def _repaired_problems(out: Path, ref: dict[str, bytes]) -> list[str]:
    """After a complete run: exactly ``ref``'s files, no temporary file, a clean state dir."""
    problems: list[str] = []
    tree = read_tree(out)
    problems += [f"{rel}: missing" for rel in sorted(set(ref) - set(tree))]
    problems += [f"{rel}: not in the reference" for rel in sorted(set(tree) - set(ref))]
    problems += [f"{rel}: bytes differ" for rel in sorted(set(ref) & set(tree)) if ref[rel] != tree[rel]]
    problems += [f"{rel}: temporary file left" for rel in _temp_files(out)]
    state = sorted(os.listdir(out / STATE_DIR))
    if set(state) != STATE_FILES:
        problems.append(f"{STATE_DIR}/ holds {state}")
    wanted = {str(Path(rel).parent) for rel in ref} | {STATE_DIR}
    wanted |= {str(p) for rel in list(wanted) for p in Path(rel).parents}
    dirs = [os.path.relpath(d, out) for d, _, _ in os.walk(out)]
    problems += [f"{d}/: unexpected directory" for d in dirs if d not in wanted]
    return problems


def _assert_noop_rerun(project: Path, out: Path) -> None:
    """A rerun writes nothing: every file (the manifest too) keeps its bytes and mtime; only the state
    record may be refreshed (a rerun that had to take the full path leaves a new one)."""
    record = f"{STATE_DIR}/state.json"
    before = snapshot(out)
    proc = _complete_run(project, out, "-v")
    assert re.search(r": 0 written, \d+ unchanged, 0 removed; 0 translated ", proc.stderr), proc.stderr
    after = snapshot(out)
    assert record in after
    assert {k: v for k, v in after.items() if k != record} == {k: v for k, v in before.items() if k != record}


@pytest.fixture(scope="module")
def versions() -> dict[str, dict[str, bytes]]:
    return {v: _tree(v) for v in ("A", "B")}


@pytest.fixture(scope="module")
def references(
    tmp_path_factory: pytest.TempPathFactory, versions: dict[str, dict[str, bytes]]
) -> tuple[dict[str, dict[str, bytes]], float]:
    """Complete runs of A and B into roots of their own, and the slower one's wall time."""
    refs: dict[str, dict[str, bytes]] = {}
    slowest = 0.0
    for v, files in versions.items():
        base = tmp_path_factory.mktemp(f"ref{v}")
        _write_version(base / "proj", files)
        start = time.perf_counter()
        _complete_run(base / "proj", base / "out")
        slowest = max(slowest, time.perf_counter() - start)
        refs[v] = read_tree(base / "out")
    assert set(refs["A"]) != set(refs["B"])  # B renames A's copied headers
    assert all(refs["A"][rel] != refs["B"].get(rel) for rel in refs["A"])
    return refs, slowest


# --- tests ------------------------------------------------------------------------------------------


def test_random_kills_leave_whole_outputs_and_a_complete_run_repairs(
    tmp_path: Path,
    runs: _Runs,
    versions: dict[str, dict[str, bytes]],
    references: tuple[dict[str, dict[str, bytes]], float],
) -> None:
    """Kill after a random delay in [0, full run time], alternating A and B; every 4th kill (and at the
    end) a complete run of the other version must repair the tree."""
    refs, full_run_s = references
    seed = int(os.environ.get("HIPIFY_TOOL_CRASH_SEED", DEFAULT_SEED))
    print(f"seed {seed}, full run {full_run_s:.2f} s")
    rng = random.Random(seed)
    project, out = tmp_path / "proj", tmp_path / "out"
    kills, mid_write, temporaries, finished, repairs, attempts, repaired_after = 0, 0, 0, 0, 0, 0, 0
    version = "A"
    target = KILLS * stress_scale()

    def flip() -> str:
        return "B" if version == "A" else "A"

    while kills < target:
        attempts += 1
        assert attempts <= 3 * target, f"only {kills} of {attempts} runs were killed before they finished"
        _write_version(project, versions[version])
        orphans_of_the_last_kill = list(runs.orphaned)  # still alive: this run must not wait for them
        proc = runs.start(project, out)
        delay = rng.uniform(0, full_run_s)
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            runs.kill(proc)
            kills += 1
            mid_write += (out / STATE_DIR / "journal.json").exists()
            temporaries += bool(_temp_files(out))
            problems = _partial_problems(out, [refs["A"], refs["B"]])
            assert problems == [], f"kill {kills} after {delay:.3f} s (version {version}, seed {seed})"
        else:
            finished += 1
            assert proc.returncode == 0, f"version {version} after a kill: exit {proc.returncode}\n{runs.stderr()}"
            assert _repaired_problems(out, refs[version]) == [], f"version {version}, seed {seed}"
        runs.reap(orphans_of_the_last_kill)
        version = flip()
        if kills % 4 == 0 and 0 < kills < target and kills != repaired_after:
            repaired_after = kills
            _write_version(project, versions[version])
            _complete_run(project, out)
            assert _repaired_problems(out, refs[version]) == [], f"after kill {kills}, version {version}, seed {seed}"
            repairs += 1
            version = flip()
    print(
        f"{kills} kills ({mid_write} while writing, {temporaries} leaving temporary files), "
        f"{finished} runs finished first, {repairs} repairs before the final one"
    )
    _write_version(project, versions[version])
    _complete_run(project, out)
    assert _repaired_problems(out, refs[version]) == [], f"final version {version}, seed {seed}"
    _assert_noop_rerun(project, out)


def test_kill_mid_write_of_the_first_run_then_the_sources_change(tmp_path: Path, runs: _Runs) -> None:
    """The first run dies while writing (no manifest yet), leaving whole outputs and a temporary file.

    The next run, on changed sources, must take those outputs as its own (not "not written by
    hipify-tool"), replace them, and clear the temporary file.
    """
    project = tmp_path / "proj"
    a, b = _tree("A", dirs=2, blob_mb=24), _tree("B", dirs=2, blob_mb=24)
    refs = []
    for v, files in (("B", b), ("A", a)):
        _write_version(project, files)
        _complete_run(project, tmp_path / f"ref{v}")
        refs.append(read_tree(tmp_path / f"ref{v}"))
    ref_b, ref_a = refs
    for attempt in range(5):  # on a loaded machine the kill can land after the blob's rename: again
        out = tmp_path / f"out{attempt}"
        blob_dir = out / "mod00"
        proc = runs.start(project, out)
        _kill_when(
            runs,
            proc,
            lambda blob_dir=blob_dir: any(n.startswith(".zz_blob.inc.") for n in _listdir(blob_dir)),
            "the blob's temporary file appeared",
        )
        if _temp_files(out) and not (out / STATE_DIR / "manifest.json").exists():
            break  # killed while writing, in its first run
    else:
        pytest.fail("could not kill the first run while it wrote the blob")
    whole = [rel for rel in read_tree(out) if not is_temp_file(rel)]
    assert len(whole) > 30  # mod00/cuda/'s outputs come first
    assert _partial_problems(out, [ref_a]) == []
    _write_version(project, b)
    _complete_run(project, out)
    assert _repaired_problems(out, ref_b) == []
    _assert_noop_rerun(project, out)


def test_output_a_killed_run_wrote_is_removed_when_no_longer_produced(
    tmp_path: Path,
    runs: _Runs,
    versions: dict[str, dict[str, bytes]],
    references: tuple[dict[str, dict[str, bytes]], float],
) -> None:
    """B writes ``h0_hip.h`` where A copies ``h0.h``; killed right after, a complete run of A removes it."""
    refs, _ = references
    project, out = tmp_path / "proj", tmp_path / "out"
    _write_version(project, versions["A"])
    _complete_run(project, out)
    _write_version(project, versions["B"])
    proc = runs.start(project, out)
    renamed = out / "mod01" / "h0_hip.h"
    assert "mod01/h0_hip.h" in refs["B"] and "mod01/h0.h" in refs["A"]
    _kill_when(runs, proc, renamed.exists, f"{renamed} was written")
    assert _partial_problems(out, [refs["A"], refs["B"]]) == []
    _write_version(project, versions["A"])
    _complete_run(project, out)
    assert _repaired_problems(out, refs["A"]) == []
    _assert_noop_rerun(project, out)


@pytest.mark.skipif(sys.platform != "linux", reason="finds the run's workers through /proc")
def test_workers_of_a_killed_run_do_not_keep_the_root_locked(
    tmp_path: Path,
    runs: _Runs,
    versions: dict[str, dict[str, bytes]],
    references: tuple[dict[str, dict[str, bytes]], float],
) -> None:
    """Killed while its forked workers translate, a run must not leave them holding the root's lock:
    the next run would wait 10 minutes for it and fail (exit 5)."""
    refs, _ = references
    project, out = tmp_path / "proj", tmp_path / "out"
    _write_version(project, versions["A"])
    proc = runs.start(project, out)
    _kill_when(runs, proc, lambda: _group_size(proc.pid) > 1, "the translation workers started")
    print(f"{_group_size(proc.pid)} orphaned workers alive")
    _complete_run(project, out)  # within _complete_run's 120 s timeout, not the lock's 600 s
    assert _repaired_problems(out, refs["A"]) == []


def _listdir(path: Path) -> list[str]:
    try:
        return os.listdir(path)
    except FileNotFoundError:
        return []
