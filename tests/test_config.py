"""[tool.hipify-tool] configuration: discovery, paths, precedence, unknown keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import run_cli, write_tree

from hipify_tool.cli import cli
from hipify_tool.config import config_keys, load_config
from hipify_tool.errors import UsageError


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_tree(
        tmp_path / "proj",
        {
            "pyproject.toml": '[project]\nname = "x"\n\n[tool.hipify-tool]\nproject-dir = "csrc"\n'
            'output-dir = "build/hip"\ninclude-dirs = ["csrc/include"]\nsources = ["csrc/a.cu"]\n',
            "csrc/a.cu": '#include "h.cuh"\nvoid f() { cudaMalloc(0, 0); }\n',
            "csrc/b.cu": "void g() { cudaFree(0); }\n",
            "csrc/include/h.cuh": "cudaStream_t s;\n",
            "csrc/sub/deeper/.keep": "",
        },
    )


def test_run_with_no_arguments_does_the_whole_job_from_any_subdir(project: Path) -> None:
    proc = run_cli("run", cwd=project / "csrc" / "sub" / "deeper", check=True)
    assert proc.stdout.splitlines() == [str(project / "build" / "hip" / "a.hip")]
    assert (project / "build" / "hip" / "include" / "h_hip.cuh").is_file()
    assert not (project / "build" / "hip" / "b.hip").exists()


def test_flags_override_the_file(project: Path, tmp_path: Path) -> None:
    proc = run_cli("plan", "-o", tmp_path / "elsewhere", "csrc/b.cu", cwd=project, check=True)
    assert proc.stdout.splitlines() == [str(tmp_path / "elsewhere" / "b.hip")]


def test_unknown_key_is_an_error_naming_it(project: Path) -> None:
    path = project / "pyproject.toml"
    path.write_text(path.read_text() + "include-dir = ['csrc']\n")
    proc = run_cli("run", cwd=project)
    assert proc.returncode == 2
    assert "unknown key 'include-dir'" in proc.stderr and "did you mean 'include-dirs'" in proc.stderr


def test_bad_value_is_an_error_naming_the_key(project: Path) -> None:
    path = project / "pyproject.toml"
    path.write_text(path.read_text() + "jobs = 'many'\n")
    proc = run_cli("plan", cwd=project)
    assert proc.returncode == 2 and "jobs: expected a positive integer" in proc.stderr


def test_explicit_config_file_and_no_config(project: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "hipify.toml"
    cfg.write_text('project-dir = "proj/csrc"\noutput-dir = "out"\nlaunch-syntax = "chevron"\nreport = "text"\n')
    proc = run_cli("plan", "--config", cfg, "proj/csrc/b.cu", cwd=tmp_path, check=True)
    assert proc.stdout.splitlines() == [str(tmp_path / "out" / "b.hip")]
    assert "hipify-tool: report:" in proc.stderr
    bare = run_cli("plan", "--no-config", cwd=project)
    assert bare.returncode == 2 and "--output-dir" in bare.stderr
    both = run_cli("plan", "--config", cfg, "--no-config", "-p", project / "csrc", "-o", tmp_path / "o2", cwd=project)
    assert both.returncode == 0 and "report" not in both.stderr


def test_run_only_keys_are_fine_for_plan_and_check(project: Path) -> None:
    path = project / "pyproject.toml"
    path.write_text(path.read_text() + "prune = true\ndepfile = 'build/hip.d'\nstrict = true\n")
    assert run_cli("run", cwd=project).returncode == 0
    assert (project / "build" / "hip.d").is_file()
    assert run_cli("plan", cwd=project).returncode == 0
    assert run_cli("check", cwd=project).returncode == 0


def test_every_run_flag_is_a_config_key() -> None:
    run_params = {p.name for p in cli.commands["run"].params} - {"config", "no_config"}
    assert run_params == set(config_keys())


def test_python_api_builds_options(project: Path) -> None:
    config = load_config(start=project / "csrc")
    assert config is not None and config.path == project / "pyproject.toml"
    options = config.options(jobs=2)
    assert options.project_dir == project / "csrc"
    assert options.include_dirs == (project / "csrc" / "include",)
    assert options.jobs == 2
    config_without = load_config(start=project.parent)
    assert config_without is None
    (project / "bad.toml").write_text("[tool.hipify-tool]\nnope = 1\n")
    with pytest.raises(UsageError, match="unknown key 'nope'"):
        load_config(project / "bad.toml").options()  # type: ignore[union-attr]
