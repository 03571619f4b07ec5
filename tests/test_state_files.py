"""The output root's state files (manifest, journal) when they are damaged: named, never misleading.

A corrupt manifest used to be read as empty without a word, and the next run after an edit stopped
with "k.hip exists and was not written by hipify-tool". Each case here runs the real CLI.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import STATE_DIR, run_cli, write_tree


@pytest.fixture
def translated(tmp_path: Path) -> tuple[Path, Path]:
    """A project run once into ``out``, then edited, so the next run must rewrite ``k.hip``."""
    proj = write_tree(tmp_path / "proj", {"k.cu": "cudaStream_t s;\n", "h.cuh": "cudaEvent_t e;\n"})
    out = tmp_path / "out"
    run_cli("run", "-p", proj, "-o", out, check=True)
    (proj / "k.cu").write_text('#include "h.cuh"\ncudaStream_t s2;\n')
    return proj, out


@pytest.mark.parametrize(
    "content",
    [b"{not json", b'{"format": 99, "files": {}}', b'{"format": 1}', b'{"format": 1, "files": {"x": {"key": 1}}}'],
    ids=["not-json", "other-format", "no-files", "bad-entry"],
)
def test_corrupt_manifest_is_named_and_rebuilt(translated: tuple[Path, Path], content: bytes) -> None:
    proj, out = translated
    manifest = out / STATE_DIR / "manifest.json"
    manifest.write_bytes(content)
    proc = run_cli("run", "-p", proj, "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert "not written by hipify-tool" not in proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and f"{manifest}: the manifest cannot be read" in warnings[0]
    assert "hipStream_t s2;" in (out / "k.hip").read_text()
    again = run_cli("run", "-p", proj, "-o", out, check=True)  # the manifest was rewritten: quiet again
    assert again.stderr == ""


def test_manifest_that_cannot_be_replaced_stops_with_one_line(translated: tuple[Path, Path]) -> None:
    proj, out = translated
    manifest = out / STATE_DIR / "manifest.json"
    manifest.unlink()
    manifest.mkdir()  # unreadable as a file, and no file can replace it
    proc = run_cli("run", "-p", proj, "-o", out)
    assert proc.returncode == 5
    errors = [line for line in proc.stderr.splitlines() if line.startswith("hipify-tool: error:")]
    assert len(errors) == 1 and str(manifest) in errors[0] and "Traceback" not in proc.stderr


def test_corrupt_journal_is_named_and_cleared(translated: tuple[Path, Path]) -> None:
    proj, out = translated
    journal = out / STATE_DIR / "journal.json"
    journal.write_bytes(b"\x00garbage")
    proc = run_cli("run", "-p", proj, "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert f"{journal}: a previous run did not finish and its journal cannot be read" in proc.stderr
    assert not journal.exists()
    assert "hipStream_t s2;" in (out / "k.hip").read_text()


def test_hand_written_file_is_still_refused_with_a_sound_manifest(translated: tuple[Path, Path]) -> None:
    """The rebuild applies only to a damaged manifest: a foreign file beside a sound one is still refused."""
    proj, out = translated
    (proj / "n.cu").write_text("cudaStream_t n;\n")
    (out / "n.hip").write_text("// mine\n")
    proc = run_cli("run", "-p", proj, "-o", out)
    assert proc.returncode == 4 and "not written by hipify-tool" in proc.stderr
