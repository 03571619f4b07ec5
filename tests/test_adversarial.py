"""What a run may touch, tried as an attacker and as a careless user would (docs/robustness.md,
"What hipify-tool may touch"). Every case failed on 0.1 (deleted or overwrote a file hipify-tool does
not own, followed a link out of the output root, hung, or crashed): each now ends in bounded time
with exit 0 or a documented code, one line naming the file, and nothing outside the output root
changed but the build files the run was asked for.

Every test runs the real CLI in a world: ``p/`` the project, ``o/`` the output root, ``e/`` files
elsewhere. ``tests/test_adversarial_fuzz.py`` tries random trees of links the same way.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import STATE_DIR, changed_paths, subprocess_env, tree_state, write_tree

KERNEL = "__global__ void k(float* x) {}\ncudaStream_t s;\n"
HEADER = "#pragma once\ncudaEvent_t e;\n"


@dataclass
class World:
    root: Path

    @property
    def p(self) -> Path:
        return self.root / "p"

    @property
    def o(self) -> Path:
        return self.root / "o"

    @property
    def e(self) -> Path:
        return self.root / "e"

    def cli(self, *args: str | os.PathLike[str], stdin: int | None = None) -> subprocess.CompletedProcess[str]:
        """The CLI from the world's root, with a hang guard far above any case's real time."""
        return subprocess.run(
            [sys.executable, "-m", "hipify_tool", *map(str, args)],
            capture_output=True,
            text=True,
            cwd=self.root,
            env=subprocess_env(),
            timeout=60,
            stdin=stdin,
        )

    def run(self, *args: str | os.PathLike[str]) -> subprocess.CompletedProcess[str]:
        return self.cli("run", "-p", self.p, "-o", self.o, *args)

    def state(self) -> dict[str, tuple[object, ...]]:
        """Everything but the output root (and what lies below it)."""
        return {rel: v for rel, v in tree_state(self.root).items() if rel != "o" and not rel.startswith("o/")}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path / "w")
    write_tree(w.p, {"a.cu": '#include "h.cuh"\n' + KERNEL, "h.cuh": HEADER})
    w.e.mkdir()
    yield w


def refused(proc: subprocess.CompletedProcess[str], code: int, *words: str) -> str:
    """The run exited ``code`` with one error line holding ``words``; that line."""
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("hipify-tool: error: ")]
    assert len(errors) == 1 and len(proc.stderr.splitlines()) == 1, proc.stderr
    for word in words:
        assert word in errors[0], errors[0]
    return errors[0]


def unchanged_except(world: World, before: dict[str, tuple[object, ...]], *allowed: str) -> None:
    assert changed_paths(before, world.state()) <= set(allowed)


# --- 1. the output root, resolved ---------------------------------------------------------------------


def test_output_root_linked_to_the_project_is_refused_and_deletes_nothing(world: World) -> None:
    world.o.symlink_to("p", target_is_directory=True)
    before = world.state()
    refused(world.run(world.p / "a.cu"), 2, f"{world.o}: output dir must not be the project dir", "resolves to")
    unchanged_except(world, before)


def test_output_root_linked_into_the_project_among_sources_is_refused(world: World) -> None:
    write_tree(world.p, {"sub/b.cu": KERNEL})
    world.o.symlink_to("p/sub", target_is_directory=True)
    before = world.state()
    refused(world.run(world.p / "a.cu"), 4, "inside the project dir", "holds files hipify-tool did not write")
    unchanged_except(world, before)


def test_project_linked_into_the_output_root_is_refused(world: World) -> None:
    world.o.mkdir()
    (world.o / "proj").symlink_to(world.p, target_is_directory=True)
    proc = world.cli("run", "-p", world.o / "proj", "-o", world.o, world.o / "proj" / "a.cu")
    refused(proc, 2, "must not be the project dir or contain it")


def test_output_root_linked_into_the_project_is_never_read_back(world: World) -> None:
    (world.p / "gen").mkdir()
    world.o.symlink_to("p/gen", target_is_directory=True)
    for _ in range(3):  # whole-tree runs: the root's files are not sources (no gen/gen/... ever)
        proc = world.run()
        assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (world.p / "gen").iterdir()) == [STATE_DIR, "a.hip", "h_hip.cuh"]
    refused(world.run(world.p / "gen" / "a.hip"), 4, "is inside the output dir")


def test_output_root_that_is_a_link_elsewhere_is_the_users_choice(world: World) -> None:
    (world.e / "build").mkdir()
    world.o.symlink_to("e/build", target_is_directory=True)
    first = world.run(world.p / "a.cu")
    assert first.returncode == 0, first.stderr
    assert (world.e / "build" / "a.hip").is_file() and world.o.is_symlink()
    again = world.run(world.p / "a.cu", "-v")
    assert "0 written" in again.stderr


# --- 2. ownership across runs -------------------------------------------------------------------------


def test_second_source_aimed_at_anothers_output_is_a_conflict(world: World) -> None:
    write_tree(world.p, {"fooCUDA.cu": "int cuda_side;\n", "fooHIP.cu": "int hip_side;\n"})
    assert world.run(world.p / "fooCUDA.cu").returncode == 0
    first = (world.o / "fooHIP.hip").read_bytes()
    line = refused(world.run(world.p / "fooHIP.cu"), 4, f"{world.o / 'fooHIP.hip'}: written from")
    assert str(world.p / "fooCUDA.cu") in line and str(world.p / "fooHIP.cu") in line
    assert (world.o / "fooHIP.hip").read_bytes() == first


def test_two_projects_share_a_root_when_their_outputs_are_disjoint(world: World) -> None:
    other = write_tree(world.root / "q", {"b.cu": '#include "h.cuh"\n' + KERNEL, "h.cuh": HEADER})
    assert world.run(world.p / "a.cu").returncode == 0
    proc = world.cli("run", "-p", other, "-o", world.o, other / "b.cu")
    assert proc.returncode == 4  # both projects' h.cuh translate to o/h_hip.cuh: refused, not overwritten
    assert str(world.p / "h.cuh") in proc.stderr and str(other / "h.cuh") in proc.stderr
    (other / "h.cuh").rename(other / "g.cuh")
    (other / "b.cu").write_text('#include "g.cuh"\n' + KERNEL)
    assert world.cli("run", "-p", other, "-o", world.o, other / "b.cu").returncode == 0
    assert {p.name for p in world.o.iterdir()} == {STATE_DIR, "a.hip", "h_hip.cuh", "b.hip", "g_hip.cuh"}


def test_output_of_a_deleted_source_passes_to_its_successor(world: World) -> None:
    write_tree(world.p, {"fooCUDA.cu": "int cuda_side;\n", "fooHIP.cu": "int hip_side;\n"})
    assert world.run(world.p / "fooCUDA.cu").returncode == 0
    (world.p / "fooCUDA.cu").unlink()
    taken = world.run(world.p / "fooHIP.cu")
    assert taken.returncode == 0, taken.stderr
    manifest = json.loads((world.o / STATE_DIR / "manifest.json").read_text())
    assert list(manifest["files"]) == [str(world.p / "fooHIP.cu")]  # the dead record is gone
    (world.p / "fooCUDA.cu").write_text("int back;\n")  # the other way round it is a conflict again
    refused(world.run(world.p / "fooCUDA.cu"), 4, "written from", str(world.p / "fooHIP.cu"))


# --- 3. build files ------------------------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--depfile", "--output-list", "--report-file", "--stamp", "--cmake-plan"])
@pytest.mark.parametrize("victim", ["source", "header", "link to a source", "hard link to a source"])
def test_build_file_naming_an_input_is_refused(world: World, flag: str, victim: str) -> None:
    target = {"source": world.p / "a.cu", "header": world.p / "h.cuh"}.get(victim, world.e / "alias.cu")
    if victim == "link to a source":
        target.symlink_to(world.p / "a.cu")
    elif victim == "hard link to a source":
        os.link(world.p / "a.cu", target)
    extra = ["--report", "json"] if flag == "--report-file" else []
    before = world.state()
    refused(world.run(world.p / "a.cu", *extra, flag, target), 2, f"{target}: {flag} names a", "this run reads")
    unchanged_except(world, before)
    assert not world.o.exists()


@pytest.mark.parametrize("flag", ["--depfile", "--output-list", "--stamp"])
def test_build_file_naming_a_source_the_run_does_not_read_is_refused(world: World, flag: str) -> None:
    write_tree(world.p, {"b.cu": "int y;\n"})
    before = world.state()
    refused(world.run(world.p / "a.cu", flag, world.p / "b.cu"), 2, f"{world.p / 'b.cu'}: {flag} names a source")
    refused(world.run(world.p / "a.cu", flag, world.p / "new.cu"), 2, "names a source of the project dir")
    unchanged_except(world, before)


@pytest.mark.parametrize(
    ("where", "says"),
    [("o/a.hip", "an output of this run (the translation of"), ("o/.hipify-tool/manifest.json", "state")],
)
def test_build_file_naming_an_output_or_the_state_is_refused(world: World, where: str, says: str) -> None:
    assert world.run(world.p / "a.cu").returncode == 0
    before = tree_state(world.o)
    refused(world.run(world.p / "a.cu", "--depfile", world.root / where), 2, says)
    assert tree_state(world.o) == before


def test_build_file_naming_a_map_or_a_sources_list_is_refused(world: World) -> None:
    write_tree(world.e, {"m.toml": 'cudaStream_t = "myStream_t"\n', "list.txt": f"{world.p / 'a.cu'}\n"})
    refused(world.run("--map", world.e / "m.toml", "--output-list", world.e / "m.toml"), 2, "a --map file")
    proc = world.run("--sources-from", world.e / "list.txt", "--output-list", world.e / "list.txt")
    refused(proc, 2, "a --sources-from list")
    assert (world.e / "list.txt").read_text() == f"{world.p / 'a.cu'}\n"


def test_two_build_files_on_one_path_are_refused(world: World) -> None:
    both = world.e / "b.d"
    refused(world.run(world.p / "a.cu", "--depfile", both, "--output-list", both), 2, "named by both --")


def test_build_files_replace_links_instead_of_following_them(world: World) -> None:
    victim = write_tree(world.e, {"victim.txt": "precious\n"}) / "victim.txt"
    mtime = victim.stat().st_mtime_ns
    for name in ("list", "stamp"):
        (world.e / name).symlink_to(victim)
    proc = world.run(world.p / "a.cu", "--output-list", world.e / "list", "--stamp", world.e / "stamp")
    assert proc.returncode == 0, proc.stderr
    assert victim.read_text() == "precious\n" and victim.stat().st_mtime_ns == mtime
    assert not (world.e / "list").is_symlink() and not (world.e / "stamp").is_symlink()
    assert (world.e / "list").read_text() == f"{world.o / 'a.hip'}\n"


# --- 4. links planted in the output root ----------------------------------------------------------------


@pytest.mark.parametrize("link", ["symlink", "hard link"])
def test_output_replaced_by_a_link_from_elsewhere_is_replaced_never_chmodded(world: World, link: str) -> None:
    (world.p / "a.cu").chmod(0o640)
    assert world.run(world.p / "a.cu").returncode == 0
    outside = world.e / "same.hip"
    outside.write_bytes((world.o / "a.hip").read_bytes())  # the same bytes, another file's mode
    outside.chmod(0o644)
    (world.o / "a.hip").unlink()
    if link == "symlink":
        (world.o / "a.hip").symlink_to(outside)
    else:
        os.link(outside, world.o / "a.hip")
    before = world.state()
    assert world.run(world.p / "a.cu").returncode == 0
    unchanged_except(world, before)
    st = os.lstat(world.o / "a.hip")
    assert stat.S_ISREG(st.st_mode) and st.st_nlink == 1 and st.st_mode & 0o777 == 0o640


def test_sibling_copy_replaced_by_a_link_is_replaced(world: World) -> None:
    write_tree(world.p, {"cuda/k.cu": '#include "util.h"\nint k;\n', "cuda/util.h": "int plain;\n"})
    assert world.run(world.p / "cuda" / "k.cu").returncode == 0
    copies = [p for p in world.o.rglob("util.h") if p.parent.name == "hip"]
    assert copies, sorted(world.o.rglob("*"))
    copy = copies[0]
    outside = world.e / "util.h"
    outside.write_bytes(copy.read_bytes())
    copy.unlink()
    copy.symlink_to(outside)
    before = world.state()
    assert world.run(world.p / "cuda" / "k.cu").returncode == 0
    unchanged_except(world, before)
    assert not copy.is_symlink()


@pytest.mark.parametrize("link", [STATE_DIR, f"{STATE_DIR}/lock"])
def test_linked_state_dir_or_lock_is_refused_and_creates_nothing_outside(world: World, link: str) -> None:
    assert world.run(world.p / "a.cu").returncode == 0
    (world.e / "state").mkdir()
    if link == STATE_DIR:
        (world.o / STATE_DIR / "manifest.json").rename(world.e / "state" / "manifest.json")
        (world.o / STATE_DIR / "lock").unlink()
        (world.o / STATE_DIR / "state.json").unlink()
        (world.o / STATE_DIR / ".gitignore").unlink()
        (world.o / STATE_DIR).rmdir()
    else:
        (world.o / link).unlink()
    (world.o / link).symlink_to(world.e / "state" if link == STATE_DIR else world.e / "state" / "lock")
    (world.p / "a.cu").write_text(KERNEL + "cudaEvent_t more;\n")
    before = world.state()
    refused(world.run(world.p / "a.cu"), 5, f"{world.o / link}: is a symlink", "never writes through one")
    unchanged_except(world, before)


def test_linked_manifest_is_rebuilt_without_touching_its_target(world: World) -> None:
    assert world.run(world.p / "a.cu").returncode == 0
    outside = world.e / "m.json"
    outside.write_bytes((world.o / STATE_DIR / "manifest.json").read_bytes())
    (world.o / STATE_DIR / "manifest.json").unlink()
    (world.o / STATE_DIR / "manifest.json").symlink_to(outside)
    (world.p / "a.cu").write_text(KERNEL + "cudaEvent_t more;\n")
    before = world.state()
    proc = world.run(world.p / "a.cu")
    assert proc.returncode == 0, proc.stderr
    assert "the manifest cannot be read (not a regular file: a symlink)" in proc.stderr
    unchanged_except(world, before)
    assert not (world.o / STATE_DIR / "manifest.json").is_symlink()


def test_output_dir_below_a_linked_directory_is_refused(world: World) -> None:
    write_tree(world.p, {"sub/b.cu": KERNEL})
    world.o.mkdir()
    (world.o / "other").mkdir()
    (world.o / "sub").symlink_to("other", target_is_directory=True)  # inside the root, still a link
    refused(world.run(world.p / "sub" / "b.cu"), 5, f"{world.o / 'sub'}: is a symlink (to other)")
    assert not list((world.o / "other").iterdir())


# --- 5. only regular files are read ------------------------------------------------------------------------


def test_fifo_source_found_by_the_walk_is_one_line(world: World) -> None:
    os.mkfifo(world.p / "f.cu")
    refused(world.run(), 2, f"{world.p / 'f.cu'}: cannot read (not a regular file: a FIFO)")


def test_source_linked_to_dev_zero_is_one_line(world: World) -> None:
    (world.p / "z.cu").symlink_to("/dev/zero")
    refused(world.run(world.p / "z.cu"), 2, f"{world.p / 'z.cu'}: is not a regular file (a character device)")
    refused(world.run(), 2, f"{world.p / 'z.cu'}: cannot read (not a regular file: a character device)")


def test_include_of_a_fifo_is_not_read(world: World) -> None:
    os.mkfifo(world.p / "pipe.h")
    (world.p / "a.cu").write_text('#include "pipe.h"\n' + KERNEL)
    proc = world.run(world.p / "a.cu")
    assert proc.returncode == 0, proc.stderr
    assert f'include "pipe.h" not usable: {world.p / "pipe.h"} is a FIFO' in proc.stderr


def test_stdin_is_bounded(world: World) -> None:
    with open("/dev/zero", "rb") as zero:
        refused(world.cli("translate", "-p", world.p, "-", stdin=zero.fileno()), 2, "stdin: more than 64 MiB")


def test_map_and_config_that_are_fifos_are_one_line(world: World) -> None:
    os.mkfifo(world.e / "m.toml")
    refused(world.run("--map", world.e / "m.toml"), 2, f"{world.e / 'm.toml'}: cannot read the map (not a regular")
    os.mkfifo(world.e / "c.toml")
    refused(world.run("--config", world.e / "c.toml"), 2, f"{world.e / 'c.toml'}: cannot read the configuration")


def test_sources_from_a_pipe_works(world: World) -> None:
    fifo = world.e / "list"
    os.mkfifo(fifo)
    writer = subprocess.Popen(["sh", "-c", f"printf '%s\\n' '{world.p / 'a.cu'}' > '{fifo}'"])
    proc = world.run("--sources-from", fifo)
    writer.wait(timeout=10)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"{world.o / 'a.hip'}\n"


def test_fifo_and_device_in_a_rocm_tree_are_skipped(world: World) -> None:
    rocm = write_tree(world.e / "rocm", {"include/hip/hip_runtime_api.h": "hipError_t hipMalloc(void**, int);\n"})
    os.mkfifo(rocm / "include" / "hip" / "stuck.h")
    (rocm / "include" / "hip" / "zero.h").symlink_to("/dev/zero")
    (world.p / "a.cu").write_text("void f() { void* p; cudaMalloc(&p, 4); }\n")
    proc = world.run(world.p / "a.cu", "--report", "json", "--report-file", world.e / "r.json", "--rocm-path", rocm)
    assert proc.returncode == 0, proc.stderr
    assert f"headers under {rocm / 'include'}" in json.loads((world.e / "r.json").read_text())["rocm"]


# --- 6. state files of the right syntax and the wrong shape ----------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sites", 5),
        ("output", "../e/victim.txt"),
        ("output", f"{STATE_DIR}/manifest.json"),
        ("copies", [["../e/victim.txt", "/x"]]),
        ("rewrites", [None, None, None, None, None, None]),
        ("source_size", "12"),
        ("translated", 1),
    ],
    ids=["sites-int", "output-outside", "output-state", "copy-outside", "rewrites-length", "size-str", "bool-int"],
)
def test_manifest_of_the_wrong_shape_is_named_and_rebuilt(world: World, field: str, value: object) -> None:
    victim = write_tree(world.e, {"victim.txt": "precious\n"}) / "victim.txt"
    assert world.run(world.p / "a.cu").returncode == 0
    path = world.o / STATE_DIR / "manifest.json"
    doc = json.loads(path.read_text())
    doc["files"][str(world.p / "a.cu")][field] = value
    path.write_text(json.dumps(doc))
    (world.p / "a.cu").write_text("int edited;\n")  # an edit, so the output is rewritten and the old one removed
    before = world.state()
    proc = world.run(world.p / "a.cu", "--prune")
    assert proc.returncode == 0, proc.stderr
    assert f"{path}: the manifest cannot be read (the record for {world.p / 'a.cu'}" in proc.stderr
    unchanged_except(world, before)
    assert victim.read_text() == "precious\n"
    assert world.run(world.p / "a.cu").stderr == ""  # rebuilt: quiet again


def test_journal_listing_paths_outside_the_root_is_named_and_removes_nothing(world: World) -> None:
    victim = write_tree(world.e, {"victim.txt": "precious\n"}) / "victim.txt"
    assert world.run(world.p / "a.cu").returncode == 0
    (world.o / STATE_DIR / "journal.json").write_text(json.dumps({"format": 1, "outputs": ["../e/victim.txt"]}))
    proc = world.run(world.p / "a.cu")
    assert proc.returncode == 0, proc.stderr
    assert "journal cannot be read ('outputs' is not a list of paths in the output root)" in proc.stderr
    assert victim.read_text() == "precious\n"


def test_rocm_index_cache_of_the_wrong_shape_is_rebuilt(world: World) -> None:
    rocm = write_tree(world.e / "rocm", {"include/hip/hip_runtime_api.h": "hipError_t hipMalloc(void**, int);\n"})
    (world.p / "a.cu").write_text("void f() { void* p; cudaMalloc(&p, 4); }\n")
    args = ("--report", "json", "--report-file", world.e / "r.json", "--rocm-path", rocm)
    assert world.run(world.p / "a.cu", *args).returncode == 0
    first = (world.e / "r.json").read_text()
    caches = list((world.o / STATE_DIR).glob("rocm-index-*.json"))
    assert caches
    for cache in caches:
        doc = json.loads(cache.read_text())
        cache.write_text(json.dumps({**doc, "names": 5}))
    proc = world.run(world.p / "a.cu", *args)
    assert proc.returncode == 0, proc.stderr
    assert (world.e / "r.json").read_text() == first


# --- 7. legal names ---------------------------------------------------------------------------------------


NAME_MAX = 255


def test_output_name_at_the_length_limit_is_written(world: World) -> None:
    name = "n" * (NAME_MAX - len(".hip")) + ".cu"  # its output name has exactly NAME_MAX bytes
    (world.p / name).write_text(KERNEL)
    proc = world.run(world.p / name)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in world.o.iterdir()) == [STATE_DIR, name.replace(".cu", ".hip")]


def test_output_name_over_the_limit_is_refused_before_anything_is_created(world: World) -> None:
    name = "n" * (NAME_MAX - len(".h")) + ".h"  # legal, but its output adds _hip
    (world.p / name).write_text(HEADER)
    refused(world.run(world.p / name), 4, "output name is 259 bytes, longer than file systems allow (255)")
    assert not world.o.exists()


def test_name_with_a_line_break_is_refused_before_anything_is_created(world: World) -> None:
    (world.p / "new\nline.cu").write_text(KERNEL)
    refused(world.run(), 4, f"{world.p}/new\\nline.cu: a name with a line break cannot be written")
    assert not world.o.exists()


def test_output_root_over_path_max_is_refused_before_anything_is_created(world: World) -> None:
    deep = world.e.joinpath(*["d" * 200] * 21)
    refused(world.run("-o", deep), 2, "output dir path is too long")
    assert list(world.e.iterdir()) == []


# --- 8. messages -------------------------------------------------------------------------------------------


def test_absolute_include_outside_the_project_is_not_called_relative(world: World) -> None:
    header = write_tree(world.e, {"abs.h": "int outside;\n"}) / "abs.h"
    (world.p / "a.cu").write_text(f'#include "{header}"\n' + KERNEL)
    proc = world.run(world.p / "a.cu")
    assert proc.returncode == 0 and "relative path" not in proc.stderr, proc.stderr


def test_include_of_a_symlink_loop_says_so(world: World) -> None:
    (world.p / "loop.h").symlink_to("loop.h")
    (world.p / "a.cu").write_text('#include "loop.h"\n' + KERNEL)
    proc = world.run(world.p / "a.cu")
    assert proc.returncode == 0, proc.stderr
    assert f'include "loop.h" not usable: {world.p / "loop.h"} is a symlink loop' in proc.stderr


@pytest.mark.parametrize("blocked", [STATE_DIR, f"{STATE_DIR}/lock"])
def test_state_dir_and_lock_errors_name_the_file(world: World, blocked: str) -> None:
    assert world.run(world.p / "a.cu").returncode == 0
    path = world.o / blocked
    if blocked == STATE_DIR:
        for child in path.iterdir():
            child.unlink()
        path.rmdir()
        path.write_text("not a dir\n")
        says = "is a regular file, not a directory"
    else:
        path.unlink()
        path.mkdir()
        says = "cannot create the lock file (Is a directory)"
    (world.p / "a.cu").write_text("int edited;\n")
    refused(world.run(world.p / "a.cu"), 5, f"{path}: {says}")
