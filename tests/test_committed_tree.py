"""A committed HIP tree in a fresh clone: ``check`` needs no state, ``run`` refreshes what is
recognisably hipify's output and still refuses anything else (exit 4); nothing committed holds an
absolute path or an mtime."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from helpers import STATE_DIR, read_tree, run_cli, write_tree

SOURCES = {
    "csrc/a.cu": '#include "k.cuh"\nvoid f() { cudaMalloc(0, 0); }\n',
    "csrc/k.cuh": "#pragma once\ncudaStream_t s;\n",
    "csrc/plain.h": "int x;\n",
    "csrc/gone.cu": "void g() { cudaFree(0); }\n",
}


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A project whose translated tree (``csrc/hip``) was committed, cloned afresh: the tree without the
    state dir, which git never holds."""
    origin = write_tree(tmp_path / "origin", SOURCES)
    run_cli("run", "-p", origin / "csrc", "-o", origin / "csrc" / "hip", check=True)
    clone = tmp_path / "clone"
    shutil.copytree(origin, clone, ignore=shutil.ignore_patterns(STATE_DIR))
    return clone


def _check(root: Path) -> object:
    return run_cli("check", "-p", "csrc", "-o", "csrc/hip", cwd=root)


def _run(root: Path, *extra: str) -> object:
    return run_cli("run", "-p", "csrc", "-o", "csrc/hip", *extra, cwd=root)


def test_nothing_committed_holds_an_absolute_path_and_the_state_ignores_itself(clone: Path) -> None:
    origin = clone.parent / "origin"
    for rel, data in read_tree(origin).items():  # what `git add csrc` would commit (the state dir aside)
        assert str(origin).encode() not in data, f"{rel} holds an absolute path"
    state = origin / "csrc" / "hip" / STATE_DIR
    assert (state / ".gitignore").read_text().splitlines()[-1] == "*"  # git never picks the state up


def test_check_in_a_fresh_clone(clone: Path) -> None:
    ok = _check(clone)
    assert ok.returncode == 0, ok.stderr  # type: ignore[attr-defined]
    assert not (clone / "csrc" / "hip" / STATE_DIR).exists()  # check writes no state
    (clone / "csrc" / "a.cu").write_text('#include "k.cuh"\nvoid f() { cudaFree(0); }\n')
    stale = _check(clone)
    assert stale.returncode == 6  # type: ignore[attr-defined]
    assert "-void f() { hipMalloc(0, 0); }\n+void f() { hipFree(0); }\n" in stale.stdout  # type: ignore[attr-defined]
    assert not (clone / "csrc" / "hip" / STATE_DIR).exists()


def test_run_refreshes_a_committed_tree_in_a_fresh_clone(clone: Path) -> None:
    hip = clone / "csrc" / "hip"
    before = {rel: os.stat(hip / rel).st_mtime_ns for rel in read_tree(hip)}
    (clone / "csrc" / "k.cuh").write_text("#pragma once\ncudaEvent_t e;\n")  # a bannered output goes stale
    (clone / "csrc" / "gone.cu").unlink()  # its committed output has no source any more
    proc = _run(clone)
    assert proc.returncode == 0, proc.stderr  # type: ignore[attr-defined]
    assert "hipEvent_t e;" in (hip / "k_hip.cuh").read_text()
    assert f"{hip / 'gone.hip'}: stale output" in proc.stderr  # type: ignore[attr-defined]
    assert os.stat(hip / "plain.h").st_mtime_ns == before["plain.h"]  # equal bytes: adopted, not rewritten
    assert (hip / STATE_DIR / ".gitignore").is_file()
    pruned = _run(clone, "--prune")
    assert pruned.returncode == 0, pruned.stderr  # type: ignore[attr-defined]
    assert not (hip / "gone.hip").exists()
    assert _check(clone).returncode == 0  # type: ignore[attr-defined]


def test_run_in_a_fresh_clone_refuses_what_is_not_hipify_output(clone: Path) -> None:
    hip = clone / "csrc" / "hip"
    (hip / "a.hip").write_text("// edited by hand\n")  # at an output path, no banner, not a translation
    (hip / "notes.txt").write_text("hand-written\n")  # at no output path, no banner
    before = read_tree(clone)
    proc = _run(clone)
    assert proc.returncode == 4  # type: ignore[attr-defined]
    assert f"{hip / 'a.hip'}: exists and was not written by hipify-tool" in proc.stderr  # type: ignore[attr-defined]
    assert f"{hip / 'notes.txt'}: the output dir {hip} is inside the project dir and holds files" in proc.stderr  # type: ignore[attr-defined]
    assert read_tree(clone) == before and not (hip / STATE_DIR).exists()
    check = _check(clone)
    assert check.returncode == 6 and "+++ /dev/null" in check.stdout  # type: ignore[attr-defined]
