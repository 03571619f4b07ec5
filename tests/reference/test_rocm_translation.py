"""ROCm side, translation: hipify-tool translates csrc_example as an outside project would, and
the result has no CUDA names left in code a ROCm compile takes.

No fallback: if hipify-tool fails, these tests fail. The AMD compile of this very tree (the
CMake ROCm build, gfx90a + gfx942) is test_rocm_cmake.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ptgq_hip import (
    CSRC,
    GPU_SOURCES,
    ROCM_SOURCES,
    TranslationError,
    cuda_identifiers,
    translate,
    translated_files,
    tree_leftovers,
)


@pytest.fixture(scope="module")
def hip_tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    before = translated_files(CSRC)
    out = tmp_path_factory.mktemp("hip") / "csrc"
    outputs = translate(CSRC, out)
    assert translated_files(CSRC) == before, "hipify-tool wrote into the project dir"
    return out, outputs


def test_scanner_finds_cuda_names() -> None:
    text = "#if defined(USE_ROCM)\nhipFoo();\n#else\ncudaFoo();\n#endif\n__shfl_xor_sync(1);\n"
    assert cuda_identifiers(text) == ["__shfl_xor_sync"]


def test_every_rocm_source_is_translated(hip_tree: tuple[Path, list[Path]]) -> None:
    out, outputs = hip_tree
    assert len(outputs) == len(ROCM_SOURCES)
    for source, output in zip(ROCM_SOURCES, outputs, strict=True):
        assert output.parent == out and output.is_file(), (source, output)
    assert [p.suffix for p in outputs[: len(GPU_SOURCES)]] == [".hip"] * len(GPU_SOURCES)


def test_translated_tree_has_no_cuda_identifiers(hip_tree: tuple[Path, list[Path]]) -> None:
    out, _ = hip_tree
    files = translated_files(out)
    assert any(name.endswith(".cuh") for name in files)  # the headers were translated too
    assert any(b"hipLaunchKernelGGL" in data for data in files.values())  # ggl, as hipify_sources()
    leftovers = tree_leftovers(out)
    assert not leftovers, f"CUDA identifiers in ROCm-taken code: {leftovers}"


def test_translation_failure_is_loud(tmp_path: Path) -> None:
    """No silent fallback: a run hipify-tool rejects (in place, as the old helper tried) raises."""
    project = tmp_path / "proj"
    project.mkdir()
    (project / "a.cu").write_text("__global__ void k() {}\n")
    with pytest.raises(TranslationError, match="hipify-tool failed"):
        translate(project, project, ["a.cu"])
    assert not list(project.rglob("*.hip"))


def test_gpu_sources_listed_exist() -> None:
    assert all((CSRC / s).is_file() for s in ROCM_SOURCES)
