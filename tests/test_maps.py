"""Custom mappings (--map): token boundaries, substring mode, manifest key, no global state."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import run_cli, write_tree

import hipify_tool
from hipify_tool.errors import UsageError
from hipify_tool.maps import load_maps

SOURCE = "int FOO = 1;\nint myFOOcount = FOO_BAR + FOO;\nvoid f() { cudaMalloc(0, 0); }\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "proj", {"a.cu": SOURCE})


def test_token_map_respects_token_boundaries(project: Path, tmp_path: Path) -> None:
    (tmp_path / "map.toml").write_text('FOO = "BAR"\ncudaMalloc = "myAlloc"\n')
    proc = run_cli("run", "-p", project, "-o", tmp_path / "out", "--map", tmp_path / "map.toml", check=True)
    text = Path(proc.stdout.strip()).read_text()
    assert "int BAR = 1;" in text
    assert "myFOOcount = FOO_BAR + BAR;" in text  # myFOOcount and FOO_BAR untouched
    assert "myAlloc(0, 0)" in text  # the project's map wins over PyTorch's (cudaMalloc -> hipMalloc)


def test_substring_mode_only_when_asked(project: Path, tmp_path: Path) -> None:
    (tmp_path / "map.json").write_text(json.dumps({"mode": "substring", "map": {"FOO": "BAR"}}))
    proc = run_cli("run", "-p", project, "-o", tmp_path / "out", "--map", tmp_path / "map.json", check=True)
    text = Path(proc.stdout.strip()).read_text()
    assert "myBARcount = BAR_BAR + BAR" in text
    assert "hipMalloc" in text


def test_changed_map_retranslates(project: Path, tmp_path: Path) -> None:
    map_file = tmp_path / "map.json"
    map_file.write_text(json.dumps({"FOO": "BAR"}))
    out = tmp_path / "out"
    first = hipify_tool.run(project, out, maps=[map_file])
    assert "int BAR" in first.outputs[0].read_text()
    again = hipify_tool.run(project, out, maps=[map_file])
    assert again.plan.translated_count == 0 and again.written == ()
    map_file.write_text(json.dumps({"FOO": "BAZ"}))
    changed = hipify_tool.run(project, out, maps=[map_file])
    assert changed.plan.translated_count == 1
    assert "int BAZ" in changed.outputs[0].read_text()


def test_maps_are_scoped_to_the_run(project: Path, tmp_path: Path) -> None:
    (tmp_path / "m.json").write_text(json.dumps({"FOO": "BAR"}))
    with_map = hipify_tool.plan(project, tmp_path / "o1", maps=[tmp_path / "m.json"])
    without = hipify_tool.plan(project, tmp_path / "o2")
    after = hipify_tool.plan(project, tmp_path / "o3", jobs=1)
    assert b"int BAR" in (with_map.files["a.cu"].data or b"")
    assert b"int FOO" in (without.files["a.cu"].data or b"")
    assert without.files["a.cu"].data == after.files["a.cu"].data
    assert with_map.key != without.key


def test_later_maps_win_and_bad_maps_are_usage_errors(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps({"FOO": "A", "X": "Y"}))
    (tmp_path / "b.toml").write_text('[map]\nFOO = "B"\n')
    merged = load_maps([tmp_path / "a.json", tmp_path / "b.toml"])
    assert dict(merged.tokens) == {"FOO": "B", "X": "Y"}
    (tmp_path / "bad.json").write_text(json.dumps({"FOO": 3}))
    with pytest.raises(UsageError, match="FOO"):
        load_maps([tmp_path / "bad.json"])
    (tmp_path / "mode.toml").write_text('mode = "regex"\n[map]\nA = "B"\n')
    proc = run_cli("plan", "-p", tmp_path, "-o", tmp_path / "out", "--map", tmp_path / "mode.toml")
    assert proc.returncode == 2 and "mode must be" in proc.stderr


def test_report_counts_custom_replacements(project: Path, tmp_path: Path) -> None:
    from hipify_tool.report import analyse_plan

    (tmp_path / "m.json").write_text(json.dumps({"FOO": "BAR"}))
    report = analyse_plan(hipify_tool.plan(project, tmp_path / "out", maps=[tmp_path / "m.json"]))
    (fr,) = report.files
    assert [(r.line, r.identifier) for r in fr.replacements] == [(1, "FOO"), (2, "FOO"), (3, "cudaMalloc")]
