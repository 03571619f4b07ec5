"""The state record and the fast path: a run, ``plan`` or ``check`` answered from ``stat`` alone must
give, byte for byte, what the full path gives, and must never hide a change.

The property test drives a small project through random edits (renames, new files, deleted files,
size-changing edits that keep the mtime, equal-size edits that change it or keep it, a header that
starts shadowing an include, option and map changes) and after each one compares an incremental run
into one output root (fast path where the record holds) with a fresh run into a new one: every
output, the output list, the depfile and the CMake plan script.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from helpers import STATE_DIR, read_tree, run_cli, stress_scale, subprocess_env, write_tree
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hipify_tool
from hipify_tool.api import run_with_options
from hipify_tool.options import Options
from hipify_tool.state import FINE_MARGIN_NS, RECORD

SETTLE_S = FINE_MARGIN_NS / 1e9 * 1.5
"""Long enough for what was just written to be older than the record's racy margin."""


def _settle() -> None:
    time.sleep(SETTLE_S)


BASE = {
    "a.cu": '#include "h.cuh"\n#include "plain.h"\n__global__ void a() {}\nvoid f() { cudaDeviceSynchronize(); }\n',
    "sub/b.cu": '#include "h.cuh"\n#include <sub/c.h>\nint b() { cudaStream_t s; return FOO; }\n',
    "sub/c.h": "#pragma once\nint c();\n",
    "inc/h.cuh": "#pragma once\ninline cudaError_t h() { return cudaSuccess; }\n",
    "plain.h": "#pragma once\nint plain();\n",
}


def _options(project: Path, out: Path, config: dict[str, Any], **build: Any) -> Options:
    sources = [project / s for s in config["sources"]] if config["sources"] else []
    return Options(
        project_dir=project,
        output_dir=out,
        sources=sources,
        include_dirs=[project, project / "inc"],
        launch_syntax=config["launch"],
        maps=[config["map"]] if config["map_on"] else [],
        prune=True,
        **build,
    )


def _build_files(where: Path) -> dict[str, Path]:
    return {
        "output_list": where / "b" / "out.list",
        "cmake_plan": where / "b" / "out.cmake",
        "depfile": where / "b" / "out.d",
        "stamp": where / "b" / "out.stamp",
    }


def _texts(files: dict[str, Path], where: Path) -> dict[str, str]:
    """The build files' text with the run's own dirs made neutral (two runs are compared)."""
    return {k: p.read_text().replace(str(where), "<w>") for k, p in files.items() if k != "stamp"}


def _relative(paths: Any, root: Path) -> list[str]:
    return [os.path.relpath(p, root) for p in paths]


# -- the edits --------------------------------------------------------------------------------------


def _rewrite(path: Path, data: bytes, *, keep_mtime: bool) -> None:
    st = os.stat(path)
    path.write_bytes(data)
    if keep_mtime:
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def _apply(project: Path, config: dict[str, Any], op: tuple[str, int]) -> None:
    kind, n = op
    files = sorted(p for p in project.rglob("*") if p.is_file())
    target = files[n % len(files)] if files else None
    if kind == "append" and target is not None:  # size changes, mtime kept
        _rewrite(target, target.read_bytes() + f"int x{n}(cudaEvent_t e);\n".encode(), keep_mtime=True)
    elif kind == "same_size" and target is not None:  # equal size, new mtime
        data = bytearray(target.read_bytes())
        data[-2:-1] = b"2" if data[-2:-1] != b"2" else b"3"
        _rewrite(target, bytes(data), keep_mtime=False)
    elif kind == "same_size_same_mtime" and target is not None:  # only the ctime tells
        data = bytearray(target.read_bytes())
        data[-2:-1] = b"4" if data[-2:-1] != b"4" else b"5"
        _rewrite(target, bytes(data), keep_mtime=True)
    elif kind == "rename" and target is not None:
        target.rename(target.with_name(f"r{n}_{target.name}"))
    elif kind == "delete" and target is not None and len(files) > 1:
        target.unlink()
    elif kind == "new_source":
        write_tree(project, {f"sub/new{n}.cu": f'#include "plain.h"\nvoid n{n}() {{ cudaFree(0); }}\n'})
    elif kind == "shadow":  # a header appears where an include looks first
        (project / ("h.cuh" if n % 2 else "sub/h.cuh")).write_text(f"#pragma once\nint shadow{n}(cudaError_t);\n")
    elif kind == "new_dir":
        write_tree(project, {f"d{n}/cuda/k.cuh": "#pragma once\ncudaStream_t k;\n"})
    elif kind == "launch":
        config["launch"] = "chevron" if config["launch"] == "ggl" else "ggl"
    elif kind == "map_toggle":
        config["map_on"] = not config["map_on"]
    elif kind == "map_edit":
        Path(config["map"]).write_text(f'FOO = "BAR{n}"\n')
    elif kind == "sources":
        config["sources"] = [] if config["sources"] else ["a.cu", "sub/b.cu"]


OPS = st.tuples(
    st.sampled_from(
        [
            "noop",
            "append",
            "same_size",
            "same_size_same_mtime",
            "rename",
            "delete",
            "new_source",
            "shadow",
            "new_dir",
            "launch",
            "map_toggle",
            "map_edit",
            "sources",
        ]
    ),
    st.integers(0, 50),
)


def _leftovers_are_ours(out: Path, extra: set[str]) -> bool:
    """Outputs beyond a fresh run's: only those the manifest records from sources that still exist
    (a header no longer reached keeps its output, as it always did)."""
    files = json.loads((out / STATE_DIR / "manifest.json").read_text())["files"]
    kept = {e["output"] for key, e in files.items() if os.path.exists(key)}
    kept |= {copy for key, e in files.items() if os.path.exists(key) for copy, _ in e["copies"]}
    return extra <= kept


@settings(
    max_examples=6 * stress_scale(),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(st.tuples(OPS, st.booleans()), min_size=3, max_size=6), explicit=st.booleans())
def test_fast_path_never_hides_a_change(
    tmp_path_factory: pytest.TempPathFactory, ops: list[Any], explicit: bool
) -> None:
    """After each edit, the incremental run (fast path where the record holds) against a fresh run into
    a new output root: every planned output byte for byte, the output list, depfile and CMake plan
    script, the outputs and warnings."""
    work = tmp_path_factory.mktemp("prop")
    project = write_tree(work / "proj", BASE)
    (work / "map.toml").write_text('FOO = "BAR"\n')
    config: dict[str, Any] = {
        "launch": "ggl",
        "map": str(work / "map.toml"),
        "map_on": True,
        "sources": ["a.cu", "sub/b.cu"] if explicit else [],
    }
    ours = work / "ours"
    run_with_options(_options(project, ours / "out", config, **_build_files(ours)))
    for step, (op, settle) in enumerate(ops):
        _apply(project, config, op)
        if settle:
            _settle()
        fresh = work / f"fresh{step}"
        try:
            expected = run_with_options(_options(project, fresh / "out", config, **_build_files(fresh)))
        except hipify_tool.HipifyToolError as exc:  # the edit made the tree unplannable: both must say so
            with pytest.raises(type(exc)) as raised:
                run_with_options(_options(project, ours / "out", config, **_build_files(ours)))
            assert str(raised.value).replace(str(ours), "") == str(exc).replace(str(fresh), "")
            continue
        stamp_before = (ours / "b" / "out.stamp").stat().st_mtime_ns
        got = run_with_options(_options(project, ours / "out", config, **_build_files(ours)))
        why = (op, got.from_record)
        made, clean = read_tree(ours / "out"), read_tree(fresh / "out")
        assert {rel: made.get(rel) for rel in clean} == clean, why
        assert _leftovers_are_ours(ours / "out", set(made) - set(clean)), why
        assert _texts(_build_files(ours), ours) == _texts(_build_files(fresh), fresh), why
        assert _relative(got.outputs, ours) == _relative(expected.outputs, fresh), why
        assert _relative(got.all_outputs, ours) == _relative(expected.all_outputs, fresh), why
        assert [w.replace(str(ours), "") for w in got.warnings] == [
            w.replace(str(fresh), "") for w in expected.warnings
        ], why
        assert (ours / "b" / "out.stamp").stat().st_mtime_ns >= stamp_before
        if not got.from_record:
            _settle()  # the next plain rerun may take the fast path
    _settle()  # a run that starts after the tree settled leaves a settled record
    try:
        run_with_options(_options(project, ours / "out", config, **_build_files(ours)))
    except hipify_tool.HipifyToolError:
        return
    again = run_with_options(_options(project, ours / "out", config, **_build_files(ours)))
    assert again.from_record, "an unchanged tree, settled, is answered from the record"


# -- focused cases ----------------------------------------------------------------------------------


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Path]:
    project = write_tree(tmp_path / "proj", BASE)
    _settle()  # a record is settled only for inputs older than its run
    return {"project": project, "out": tmp_path / "out", "tmp": tmp_path}


def _run(w: dict[str, Path], **kw: Any) -> hipify_tool.RunResult:
    return hipify_tool.run(w["project"], w["out"], include_dirs=[w["project"], w["project"] / "inc"], **kw)


def test_noop_after_settling_is_answered_from_the_record_and_writes_nothing(world: dict[str, Path]) -> None:
    first = _run(world)
    assert not first.from_record and (world["out"] / STATE_DIR / RECORD).is_file()
    _settle()
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in world["out"].rglob("*") if p.is_file()}
    again = _run(world)
    assert again.from_record and again.written == () and again.outcome.translated_count == 0
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in world["out"].rglob("*") if p.is_file()} == before
    assert again.outputs == first.outputs and again.all_outputs == first.all_outputs
    assert again.plan.files.keys() == first.plan.files.keys()  # computed on demand, the same plan


@pytest.mark.parametrize("settled", [True, False], ids=["settled-record", "racy-record"])
def test_an_edit_keeping_size_and_mtime_is_read_again(world: dict[str, Path], settled: bool) -> None:
    """Only the ctime tells this edit: a settled record sees it changed, a racy one (sources written
    within the clock's tick of the run) names the file a suspect; either way the full path reads it
    again, although the manifest's size and mtime agree."""
    if not settled:
        os.utime(world["project"] / "inc" / "h.cuh")  # within the coming run's clock tick
    _run(world)
    header = world["project"] / "inc" / "h.cuh"
    _rewrite(header, header.read_bytes().replace(b"cudaSuccess", b"cudaErrorX "), keep_mtime=True)
    result = _run(world)
    assert not result.from_record
    expected = hipify_tool.api.translate_source(
        header, world["project"], include_dirs=[world["project"], world["project"] / "inc"]
    ).data
    assert b"ErrorX" in expected
    assert (world["out"] / "inc" / "h_hip.cuh").read_bytes() == expected


def test_report_and_strict_take_the_full_path(world: dict[str, Path]) -> None:
    _run(world)
    _settle()
    assert not _run(world, report="text").from_record
    assert not _run(world, strict=True).from_record
    assert _run(world).from_record


@pytest.mark.parametrize(
    "damage",
    ["garbage", "shape", "symlink", "fifo"],
)
def test_a_bad_record_is_ignored(world: dict[str, Path], damage: str) -> None:
    _run(world)
    record = world["out"] / STATE_DIR / RECORD
    good = json.loads(record.read_text())
    record.unlink()
    if damage == "garbage":
        record.write_bytes(b"\0{not json")
    elif damage == "shape":
        good["outputs"] = [["../escape", None, None, "a.cu", 0]]
        record.write_text(json.dumps(good))
    elif damage == "symlink":
        elsewhere = world["tmp"] / "elsewhere.json"
        elsewhere.write_text(json.dumps(good))
        record.symlink_to(elsewhere)
    else:
        os.mkfifo(record)
    _settle()
    result = _run(world)
    assert not result.from_record
    assert not record.is_symlink() and record.is_file()  # replaced by a real record, never written through
    if damage == "symlink":
        assert json.loads((world["tmp"] / "elsewhere.json").read_text()) == good
    _settle()
    assert _run(world).from_record


def test_fast_path_build_files_match_the_full_path(world: dict[str, Path]) -> None:
    build = {
        "output_list": world["tmp"] / "b" / "list.txt",
        "cmake_plan": world["tmp"] / "b" / "plan.cmake",
        "depfile": world["tmp"] / "b" / "out.d",
        "stamp": world["tmp"] / "b" / "out.stamp",
    }
    _run(world, **build)
    texts = {k: p.read_bytes() for k, p in build.items()}
    for p in build.values():
        if p.name != "out.stamp":
            p.unlink()  # the fast path must write them again
    os.utime(build["stamp"], ns=(0, 0))
    _settle()
    list_mtime = None
    result = _run(world, **build)
    assert result.from_record
    assert {k: p.read_bytes() for k, p in build.items()} == texts
    assert build["stamp"].stat().st_mtime_ns > 0
    list_mtime = build["output_list"].stat().st_mtime_ns
    _settle()
    assert _run(world, **build).from_record
    assert build["output_list"].stat().st_mtime_ns == list_mtime  # rewritten only when it changes


def test_fast_path_refuses_a_build_file_on_a_source(world: dict[str, Path]) -> None:
    _run(world)
    _settle()
    with pytest.raises(hipify_tool.HipifyToolError, match="which this run reads"):
        _run(world, output_list=world["project"] / "plain.h")
    assert b"#pragma once" in (world["project"] / "plain.h").read_bytes()


def test_plan_is_answered_from_a_runs_record_even_without_outputs(world: dict[str, Path]) -> None:
    ran = _run(world)
    _settle()
    (world["out"] / ran.plan.files["a.cu"].output).unlink()  # plan does not depend on the outputs' bytes
    via_api = hipify_tool.api.plan_with_options(
        Options(
            project_dir=world["project"],
            output_dir=world["out"],
            include_dirs=[world["project"], world["project"] / "inc"],
        )
    )
    assert via_api.from_record
    assert list(map(Path, via_api.outcome.all_outputs)) == ran.all_outputs
    assert not _run(world).from_record  # the run notices the missing output and writes it
    assert (world["out"] / ran.plan.files["a.cu"].output).is_file()


def test_a_writer_holding_the_lock_sends_the_fast_path_away(world: dict[str, Path]) -> None:
    import fcntl

    _run(world)
    _settle()
    fd = os.open(world["out"] / STATE_DIR / "lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        code = "import hipify_tool.fastpath as f, hipify_tool.state as s\n"
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                code + "from hipify_tool.options import Options\n"
                f"o = Options(project_dir={str(world['project'])!r}, output_dir={str(world['out'])!r}, "
                f"include_dirs=[{str(world['project'])!r}, {str(world['project'] / 'inc')!r}]).resolved()\n"
                "print(f.quick_plan(o, f.previous_record(o)).outcome is None)\n",
            ],
            env=subprocess_env(),
            capture_output=True,
            text=True,
            check=True,
        )
        assert proc.stdout.strip() == "True"
    finally:
        os.close(fd)


# -- the command line ---------------------------------------------------------------------------------


def _cli_args(w: dict[str, Path], command: str, *extra: str) -> list[str]:
    return [
        command,
        "-p",
        str(w["project"]),
        "-o",
        str(w["out"]),
        "-I",
        str(w["project"]),
        "-I",
        str(w["project"] / "inc"),
        *extra,
    ]


def test_cli_noop_imports_neither_click_nor_the_planner(world: dict[str, Path]) -> None:
    run_cli(*_cli_args(world, "run"), "--no-config", check=True)
    _settle()
    full = run_cli(*_cli_args(world, "plan"), "--no-config", "--cmake-plan", world["tmp"] / "p1.cmake", check=True)
    code = (
        "import sys, runpy\n"
        "sys.argv = ['hipify-tool'] + sys.argv[1:]\n"
        "try:\n    runpy.run_module('hipify_tool', run_name='__main__')\n"
        "except SystemExit as e:\n    assert e.code == 0, e.code\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('click', 'torch') "
        "or m in ('hipify_tool.planner', 'hipify_tool.translate', 'hipify_tool.cli', 'hipify_tool.torch_adapter'))\n"
        "print('LOADED', loaded, file=sys.stderr)\n"
    )
    for command in ("run", "plan", "check"):
        extra = ["--cmake-plan", str(world["tmp"] / "p2.cmake")] if command == "plan" else []
        proc = subprocess.run(
            [sys.executable, "-c", code, *_cli_args(world, command), "--no-config", *extra],
            env=subprocess_env(),
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stderr
        assert "LOADED []" in proc.stderr, (command, proc.stderr)
        if command == "plan":
            assert proc.stdout == full.stdout
            assert (world["tmp"] / "p2.cmake").read_text() == (world["tmp"] / "p1.cmake").read_text()


def test_cli_check_fast_path_still_sees_a_tampered_output(world: dict[str, Path]) -> None:
    """``check`` compares bytes: an output edited keeping its size and mtime is reported."""
    run_cli(*_cli_args(world, "run"), check=True)
    _settle()
    assert run_cli(*_cli_args(world, "check")).returncode == 0
    target = world["out"] / "a.hip"
    _rewrite(target, target.read_bytes().replace(b"void", b"VOID"), keep_mtime=True)
    proc = run_cli(*_cli_args(world, "check"))
    assert proc.returncode == 6 and "VOID" in proc.stdout
    target.unlink()
    (world["out"] / "extra.h").write_text("x")
    proc = run_cli(*_cli_args(world, "check"))
    assert proc.returncode == 6


ARGV_WORDS = st.sampled_from(
    [
        "-q",
        "-v",
        "--quiet",
        "-j",
        "2",
        "--jobs=3",
        "-I",
        "inc",
        "--include-dir=.",
        "--extension",
        ".cu",
        "--launch-syntax",
        "chevron",
        "--launch-syntax=bogus",
        "--include",
        "*.cu",
        "--exclude=sub/*",
        "--prune",
        "--no-config",
        "--output-list",
        "l.txt",
        "--list-format=json",
        "--",
        "a.cu",
        "-qv",
        "-ofoo",
        "--unknown",
        "-h",
    ]
)


@settings(max_examples=150 * stress_scale(), deadline=None)
@given(command=st.sampled_from(["run", "plan", "check"]), words=st.lists(ARGV_WORDS, max_size=8))
def test_plain_command_lines_parse_as_click_parses_them(command: str, words: list[str]) -> None:
    """The entry point's own reader builds the Options click would, or leaves the line to click."""
    import click

    from hipify_tool import cli as full_cli
    from hipify_tool.entry import parse_plain

    argv = [command, "-o", "out", *words]
    ours = parse_plain(argv)
    if ours is None:
        return  # click reads it, with its own messages
    cmd = full_cli.cli.commands[command]
    try:
        with cmd.make_context(command, list(argv[1:]), resilient_parsing=False) as ctx:
            options, log, lists = full_cli._parse(dict(ctx.params))
    except (click.exceptions.ClickException, click.exceptions.Exit, hipify_tool.HipifyToolError) as exc:
        pytest.fail(f"{argv}: the plain reader accepted what click refuses ({exc})")
    assert ours[1] == options, argv
    assert ours[2]["sources_from"] == lists
    assert log.verbosity == (-1 if ours[2]["quiet"] else 1 if ours[2]["verbose"] else 0)


def test_cli_fast_path_reads_the_configuration_as_click_does(tmp_path: Path) -> None:
    """Options from [tool.hipify-tool] decide the record's key: editing the file takes the full path."""
    root = write_tree(
        tmp_path / "repo",
        {
            **{f"csrc/{k}": v for k, v in BASE.items()},
            "pyproject.toml": '[tool.hipify-tool]\nproject-dir = "csrc"\noutput-dir = "out"\n'
            'include-dirs = ["csrc", "csrc/inc"]\n',
        },
    )
    _settle()
    first = run_cli("run", "-v", cwd=root, check=True)
    _settle()
    again = run_cli("run", "-v", cwd=root, check=True)
    assert again.stdout == first.stdout and " 0 translated" in again.stderr
    (root / "pyproject.toml").write_text(
        '[tool.hipify-tool]\nproject-dir = "csrc"\noutput-dir = "out"\ninclude-dirs = ["csrc", "csrc/inc"]\n'
        'launch-syntax = "chevron"\n'
    )
    changed = run_cli("run", "-v", cwd=root, check=True)
    assert " 0 translated" not in changed.stderr, changed.stderr  # a new key: every file translated again
    assert changed.stdout == first.stdout


def test_sources_with_whole_second_mtimes_settle(world: dict[str, Path]) -> None:
    """Files unpacked from an archive carry whole-second mtimes on a file system that keeps nanoseconds:
    the file system's tick is judged by the ctime, which only its own clock sets."""
    for path in world["project"].rglob("*"):
        os.utime(path, (1_700_000_000, 1_700_000_000))
    _settle()
    _run(world)
    _settle()
    assert _run(world).from_record


@pytest.mark.parametrize(
    "argv",
    [
        ["run"],
        ["run", "extra.cu", "-q"],
        ["plan", "--no-config", "-o", "elsewhere"],
        ["check", "-v", "--config", "cfg.toml"],
        ["run", "--config=cfg.toml", "-j", "1", "--prune"],
    ],
)
def test_configured_command_lines_parse_as_click_parses_them(tmp_path: Path, argv: list[str]) -> None:
    """Configuration values (sources, lists, flags, the project dir) reach the Options as click's
    default map gives them; a command line's own values win."""
    import click

    from hipify_tool import cli as full_cli
    from hipify_tool.entry import parse_plain

    table = (
        'project-dir = "csrc"\noutput-dir = "out"\nsources = ["csrc/a.cu"]\ninclude-dirs = ["csrc", "csrc/inc"]\n'
        'exclude = ["x/*"]\nquiet = true\nprune = false\njobs = 2\nsources-from = []\n'
    )
    write_tree(tmp_path, {"pyproject.toml": "[tool.hipify-tool]\n" + table, "cfg.toml": table, "extra.cu": ""})
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        ours = parse_plain(argv)
        assert ours is not None, argv
        with full_cli.cli.commands[argv[0]].make_context(argv[0], list(argv[1:])) as ctx:
            options, log, _ = full_cli._parse(dict(ctx.params))
    except click.exceptions.ClickException as exc:
        pytest.fail(f"{argv}: {exc}")
    finally:
        os.chdir(cwd)
    assert ours[1] == options
    assert log.verbosity == (-1 if ours[2]["quiet"] else 1 if ours[2]["verbose"] else 0)


def test_prune_with_stale_outputs_takes_the_full_path(world: dict[str, Path]) -> None:
    sources = [world["project"] / "a.cu", world["project"] / "sub" / "b.cu"]
    _run(world, sources=sources)
    (world["project"] / "sub" / "b.cu").unlink()
    _settle()
    kept = _run(world, sources=sources[:1])
    assert kept.stale == ("sub/b.hip",) and (world["out"] / "sub" / "b.hip").is_file()
    _settle()
    again = _run(world, sources=sources[:1])
    assert again.from_record and again.stale == ("sub/b.hip",)  # the warning is the record's too
    pruned = _run(world, sources=sources[:1], prune=True)
    assert not pruned.from_record and not (world["out"] / "sub" / "b.hip").exists()
    _settle()
    assert _run(world, sources=sources[:1], prune=True).from_record
