"""hipify-tool check: committed translated trees, up to date or stale."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import REPO, run_cli, write_tree


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = write_tree(
        tmp_path / "repo",
        {
            "csrc/a.cu": '#include "k.cuh"\nvoid f() { cudaMalloc(0, 0); }\n',
            "csrc/k.cuh": "cudaStream_t s;\n",
            "csrc/plain.h": "int x;\n",
        },
    )
    run_cli("run", "-p", root / "csrc", "-o", root / "csrc" / "hip", check=True)
    return root


def _check(root: Path) -> object:
    return run_cli("check", "-p", "csrc", "-o", "csrc/hip", cwd=root)


def test_up_to_date_tree_passes(project: Path) -> None:
    proc = _check(project)
    assert proc.returncode == 0, proc.stderr  # type: ignore[attr-defined]
    assert proc.stdout == ""  # type: ignore[attr-defined]


def test_check_ignores_a_missing_or_foreign_manifest(project: Path) -> None:
    # A fresh clone has no manifest (or one written on another machine): the bytes decide.
    (project / "csrc" / "hip" / ".hipify-tool" / "manifest.json").unlink()
    assert _check(project).returncode == 0  # type: ignore[attr-defined]


def test_stale_tree_fails_with_a_unified_diff(project: Path) -> None:
    (project / "csrc" / "a.cu").write_text('#include "k.cuh"\nvoid f() { cudaFree(0); }\n')
    proc = _check(project)
    assert proc.returncode == 6  # type: ignore[attr-defined]
    assert "--- a/csrc/hip/a.hip\n+++ b/csrc/hip/a.hip\n" in proc.stdout  # type: ignore[attr-defined]
    assert "-void f() { hipMalloc(0, 0); }\n+void f() { hipFree(0); }\n" in proc.stdout  # type: ignore[attr-defined]
    assert "1 changed" in proc.stderr  # type: ignore[attr-defined]
    # check writes nothing
    assert "hipMalloc" in (project / "csrc" / "hip" / "a.hip").read_text()


def test_outputs_of_deleted_sources_and_missing_outputs_fail(project: Path) -> None:
    (project / "csrc" / "plain.h").unlink()
    (project / "csrc" / "new.cu").write_text("int y;\n")
    proc = _check(project)
    assert proc.returncode == 6  # type: ignore[attr-defined]
    assert "--- a/csrc/hip/plain.h\n+++ /dev/null" in proc.stdout  # type: ignore[attr-defined]
    assert "--- /dev/null\n+++ b/csrc/hip/new.hip" in proc.stdout  # type: ignore[attr-defined]
    run_cli("run", "--prune", "-p", project / "csrc", "-o", project / "csrc" / "hip", check=True)
    assert _check(project).returncode == 0  # type: ignore[attr-defined]


def test_pre_commit_hook_definition() -> None:
    text = (REPO / ".pre-commit-hooks.yaml").read_text()
    assert "- id: hipify-tool-check\n" in text and "entry: hipify-tool check\n" in text
    assert "pass_filenames: false" in text
