"""Bad inputs, through the real CLI: one clear line naming the file, a documented exit code, no
traceback, no partial output, and no write anywhere but the output root.

Each case runs in its own world (``tmp_path``): ``proj/`` the project, ``out/`` the output root,
``elsewhere/`` files outside the project, ``cwd/`` the working dir, ``home/`` and ``tmp/`` the
child's HOME and TMPDIR. The whole world is watched: any entry created, changed or removed outside
``out/`` fails the case (confinement). Cases that translate (odd encodings, symlinks, a 50 MB file,
...) check the output bytes too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from helpers import (
    BREADCRUMB,
    STATE_DIR,
    changed_paths,
    is_temp_file,
    read_tree,
    subprocess_env,
    tree_state,
    write_tree,
)

import hipify_tool
from hipify_tool.errors import UsageError

KERNEL = "__global__ void k(float* x) {}\nvoid launch(cudaStream_t s) { k<<<1, 32, 0, s>>>(nullptr); }\n"
HIP_KERNEL = (
    '#include "hip/hip_runtime.h"\n'
    "__global__ void k(float* x) {}\n"
    "void launch(hipStream_t s) {hipLaunchKernelGGL(( k), dim3(1), dim3(32), 0, s, nullptr); }\n"
)


# --- running the CLI in a world, as root or not ------------------------------------------------------


@cache
def _no_dac_prefix() -> tuple[str, ...] | None:
    """A command prefix under which file modes bind (None: impossible here).

    Root ignores modes; ``setpriv`` can drop the two capabilities that let it, keeping the uid, so
    the interpreter and the checkout stay readable. Probed once: a mode-000 file must be unreadable.
    """
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    prefix = (setpriv, "--bounding-set=-dac_override,-dac_read_search")
    with tempfile.TemporaryDirectory() as scratch:
        locked = Path(scratch) / "locked"
        locked.write_text("x")
        locked.chmod(0)
        works = subprocess.run([*prefix, "true"], capture_output=True).returncode == 0
        binds = subprocess.run([*prefix, "cat", str(locked)], capture_output=True).returncode != 0
    return prefix if works and binds else None


@cache
def _tmpfs_prefix() -> tuple[str, ...] | None:
    """``unshare`` into a user + mount namespace where a tiny tmpfs can be mounted (None: not here)."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    prefix = (unshare, "--user", "--map-root-user", "--mount")
    probe = subprocess.run([*prefix, "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"], capture_output=True)
    return prefix if probe.returncode == 0 else None


def _env(world: Path) -> dict[str, str]:
    env = subprocess_env()
    env.update(HOME=str(world / "home"), TMPDIR=str(world / "tmp"), PYTHONDONTWRITEBYTECODE="1")
    return env


def _hipify(
    world: Path,
    args: Sequence[str],
    prefix: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    preexec_fn: Callable[[], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """The CLI in ``world``'s working dir and environment, behind an optional wrapper ``prefix``."""
    return subprocess.run(
        [*prefix, sys.executable, "-m", "hipify_tool", *args],
        capture_output=True,
        text=True,
        cwd=world / "cwd",
        env=_env(world) | dict(env or {}),
        timeout=600,  # a hang guard only: the 50 MB case takes seconds
        preexec_fn=preexec_fn,
    )


def _assert_confined(world: Path, before: Mapping[str, tuple[object, ...]], out_rel: str = "out") -> None:
    """Nothing outside the output root changed, but the root's missing parents (created as mkdir -p)."""
    parents = {p.as_posix() for p in Path(out_rel).parents}
    for rel in changed_paths(before, tree_state(world)):
        inside = rel == out_rel or rel.startswith(out_rel + "/")
        assert inside or (rel in parents and rel not in before), f"wrote outside the output root: {rel}"


def _world(tmp_path: Path, files: Mapping[str, str | bytes]) -> Path:
    for d in ("proj", "elsewhere", "cwd", "home", "tmp"):
        (tmp_path / d).mkdir()
    return write_tree(tmp_path, files)


def _expand(world: Path, args: Sequence[str]) -> list[str]:
    return [a.replace("{w}", str(world)) for a in args]


# --- the error matrix ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bad:
    """One bad input: the files of its world, the arguments, what must come back."""

    files: Mapping[str, str | bytes]
    args: tuple[str, ...]
    code: int
    names: str
    """The path (with ``{w}`` for the world) the error line must name."""
    says: str
    """Words the error line must contain."""
    setup: Callable[[Path], None] | None = None
    lines: int = 1
    privileges: str = ""
    """``"no-dac"``: run where file modes bind (root drops its override)."""


def _chmod(rel: str, mode: int) -> Callable[[Path], None]:
    return lambda w: os.chmod(w / rel, mode)


def _symlink(rel: str, target: str) -> Callable[[Path], None]:
    return lambda w: os.symlink(target, w / rel)


def _mkdir(rel: str) -> Callable[[Path], None]:
    return lambda w: (w / rel).mkdir(parents=True)


def _first_run(*sources: str) -> Callable[[Path], None]:
    def setup(w: Path) -> None:
        proc = _hipify(w, ["run", "-p", str(w / "proj"), "-o", str(w / "out"), *(str(w / s) for s in sources)])
        assert proc.returncode == 0, proc.stderr

    return setup


def _both(*steps: Callable[[Path], None]) -> Callable[[Path], None]:
    def setup(w: Path) -> None:
        for step in steps:
            step(w)

    return setup


X_CU = {"proj/x.cu": KERNEL}
RUN = ("run", "-p", "{w}/proj", "-o", "{w}/out")

BAD: dict[str, Bad] = {
    # --- usage (exit 2) ---
    "missing project dir": Bad(X_CU, ("run", "-p", "{w}/nope", "-o", "{w}/out"), 2, "{w}/nope", "does not exist"),
    "project dir is a file": Bad(X_CU, ("run", "-p", "{w}/proj/x.cu", "-o", "{w}/out"), 2, "{w}/proj/x.cu", "not a"),
    "output dir is the project dir": Bad(
        X_CU, ("run", "-p", "{w}/proj", "-o", "{w}/proj", "{w}/proj/x.cu"), 2, "{w}/proj", "in-place"
    ),
    "output dir contains the project dir": Bad(
        X_CU, ("run", "-p", "{w}/proj", "-o", "{w}", "{w}/proj/x.cu"), 2, "{w}", "must not be the project dir"
    ),
    "output dir inside the project among sources": Bad(
        {"proj/src/x.cu": KERNEL},
        ("run", "-p", "{w}/proj", "-o", "{w}/proj/src"),
        2,
        "{w}/proj/src",
        "is inside the project dir and never searched",
    ),
    "output dir inside the state dir": Bad(
        X_CU, ("run", "-p", "{w}/proj", "-o", "{w}/proj/.hipify-tool/o"), 2, "{w}/proj/.hipify-tool/o", STATE_DIR
    ),
    "output dir is a file": Bad(
        {**X_CU, "elsewhere/o": "x"}, ("run", "-p", "{w}/proj", "-o", "{w}/elsewhere/o"), 2, "{w}/elsewhere/o", "not a"
    ),
    "missing source": Bad(X_CU, (*RUN, "{w}/proj/y.cu"), 2, "{w}/proj/y.cu", "no such file"),
    "source relative to the project, not the working dir": Bad(
        X_CU, (*RUN, "x.cu"), 2, "{w}/cwd/x.cu", "did you mean {w}/proj/x.cu"
    ),
    "directory named like a source": Bad(
        X_CU, (*RUN, "{w}/proj/d.cu"), 2, "{w}/proj/d.cu", "is a directory", setup=_mkdir("proj/d.cu")
    ),
    "symlink loop": Bad(
        X_CU,
        (*RUN, "{w}/proj/a.cu"),
        2,
        "{w}/proj/a.cu",
        "symlink loop",
        setup=_both(_symlink("proj/a.cu", "b.cu"), _symlink("proj/b.cu", "a.cu")),
    ),
    "symlink loop found by the tree walk": Bad(
        X_CU,
        RUN,
        2,
        "{w}/proj/",
        "Too many levels of symbolic links",
        setup=_both(_symlink("proj/a.cu", "b.cu"), _symlink("proj/b.cu", "a.cu")),
    ),
    "broken symlink": Bad(
        X_CU, (*RUN, "{w}/proj/a.cu"), 2, "{w}/proj/a.cu", "broken symlink", setup=_symlink("proj/a.cu", "gone.cu")
    ),
    "unreadable source": Bad(
        X_CU,
        (*RUN, "{w}/proj/x.cu"),
        2,
        "{w}/proj/x.cu",
        "Permission denied",
        setup=_chmod("proj/x.cu", 0),
        privileges="no-dac",
    ),
    "unreadable directory in the tree": Bad(
        {**X_CU, "proj/secret/y.cu": KERNEL},
        RUN,
        2,
        "{w}/proj/secret",
        "Permission denied",
        setup=_chmod("proj/secret", 0),
        privileges="no-dac",
    ),
    "includes pattern given as a bare string": Bad(
        {**X_CU, "proj/hipify.toml": 'include = "*.cu"\n'},
        ("run", "--config", "{w}/proj/hipify.toml", "-p", "{w}/proj", "-o", "{w}/out"),
        2,
        "{w}/proj/hipify.toml",
        "expected a list",
    ),
    "malformed configuration": Bad(
        {**X_CU, "proj/hipify.toml": "include = [\n"},
        ("run", "--config", "{w}/proj/hipify.toml", "-p", "{w}/proj", "-o", "{w}/out"),
        2,
        "{w}/proj/hipify.toml",
        "not valid TOML",
    ),
    "missing include dir": Bad(
        X_CU, (*RUN, "-I", "{w}/proj/inc", "{w}/proj/x.cu"), 2, "{w}/proj/inc", "does not exist"
    ),
    "include dir inside the output dir": Bad(
        X_CU, (*RUN, "-I", "{w}/out/inc", "{w}/proj/x.cu"), 2, "{w}/out/inc", "inside the output dir", _mkdir("out/inc")
    ),
    "missing map file": Bad(X_CU, (*RUN, "--map", "{w}/proj/m.toml", "{w}/proj/x.cu"), 2, "{w}/proj/m.toml", "m.toml"),
    # --- plan conflicts (exit 4) ---
    "source outside the project": Bad(
        {**X_CU, "elsewhere/o.cu": KERNEL}, (*RUN, "{w}/elsewhere/o.cu"), 4, "{w}/elsewhere/o.cu", "outside the project"
    ),
    "source inside the output dir": Bad(
        {"proj/x.cu": KERNEL, "proj/o/y.cu": KERNEL},
        ("run", "-p", "{w}/proj", "-o", "{w}/proj/o", "{w}/proj/o/y.cu"),
        4,
        "{w}/proj/o/y.cu",
        "inside the output dir",
        setup=_mkdir("proj/o/.hipify-tool"),
    ),
    "two sources, one output": Bad(
        {"proj/k_cuda.cu": KERNEL, "proj/k_hip.cu": KERNEL}, RUN, 4, "k_hip.hip", "would all be written"
    ),
    "output would shadow a hand-written file": Bad(
        {"proj/k.cuh": KERNEL, "proj/k_hip.cuh": "int handwritten;\n", "proj/x.cu": '#include "k.cuh"\n'},
        (*RUN, "{w}/proj/x.cu"),
        4,
        "{w}/proj/k_hip.cuh",
        "hand-written",
    ),
    "output root holds a file we did not write": Bad(
        {**X_CU, "out/x.hip": "int mine;\n"}, (*RUN, "{w}/proj/x.cu"), 4, "{w}/out/x.hip", "not written by hipify-tool"
    ),
    "output is a symlink to a file outside the root": Bad(
        {**X_CU, "elsewhere/victim.hip": "int victim;\n"},
        (*RUN, "{w}/proj/x.cu"),
        4,
        "{w}/out/x.hip",
        "is a symlink, not a file hipify-tool wrote",
        setup=_both(_mkdir("out"), _symlink("out/x.hip", "../elsewhere/victim.hip")),
    ),
    # --- translation (exit 3) ---
    "launch PyTorch's rewriter cannot parse": Bad(
        {"proj/x.cu": "template <int A> __global__ void k() {}\nvoid f() { k<1, (3 > 2)><<<1, 1>>>(); }\n"},
        (*RUN, "{w}/proj/x.cu"),
        3,
        "{w}/proj/x.cu",
        "--launch-syntax chevron",
    ),
    "launch without its closing chevrons": Bad(
        {"proj/x.cu": "void f() { k<<<1, 1(); }\n"}, (*RUN, "{w}/proj/x.cu"), 3, "{w}/proj/x.cu", "without a closing"
    ),
    "binary file with a source extension": Bad(
        {**X_CU, "proj/blob.cu": b"\x7fELF\x02\x01\x01\x00cudaMalloc\x00\xff"},
        RUN,
        3,
        "{w}/proj/blob.cu",
        "NUL byte",
    ),
    "UTF-16 source": Bad(
        {**X_CU, "proj/wide.cu": "\ufeffcudaMalloc(p, 4);\n".encode("utf-16-le")},
        RUN,
        3,
        "{w}/proj/wide.cu",
        "UTF-16",
    ),
    # --- environment (exit 5) ---
    "output dir read-only": Bad(
        X_CU,
        (*RUN, "{w}/proj/x.cu"),
        5,
        "{w}/out",
        "Permission denied",
        setup=_both(_mkdir("out"), _chmod("out", 0o555)),
        privileges="no-dac",
    ),
    "output subdir read-only": Bad(
        {**X_CU, "proj/sub/y.cu": KERNEL},
        (*RUN, "{w}/proj/x.cu", "{w}/proj/sub/y.cu"),
        5,
        "{w}/out/sub",
        "Permission denied",
        setup=_both(_first_run("proj/x.cu"), _mkdir("out/sub"), _chmod("out/sub", 0o555)),
        privileges="no-dac",
    ),
    "symlink in the output root leads outside": Bad(
        {"proj/sub/y.cu": KERNEL},
        (*RUN, "{w}/proj/sub/y.cu"),
        5,
        "{w}/out/sub",
        "is a symlink (to ../elsewhere); hipify-tool never writes through one",
        setup=_both(_mkdir("out"), _symlink("out/sub", "../elsewhere")),
    ),
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_input(name: str, tmp_path: Path) -> None:
    case = BAD[name]
    prefix: Sequence[str] = ()
    if case.privileges == "no-dac":
        no_dac = _no_dac_prefix()
        if no_dac is None:
            pytest.skip("running as root without setpriv: file modes cannot be made to bind")
        prefix = no_dac
    world = _world(tmp_path, case.files)
    if case.setup is not None:
        case.setup(world)
    out_before = read_tree(world / "out") if (world / "out").is_dir() else {}
    before = tree_state(world)

    proc = _hipify(world, _expand(world, case.args), prefix)

    _assert_confined(world, before)
    assert proc.returncode == case.code, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = proc.stderr.splitlines()
    assert len(lines) == case.lines, proc.stderr
    assert lines[0].startswith("hipify-tool: error: "), proc.stderr
    assert case.names.replace("{w}", str(world)) in lines[0], proc.stderr
    assert case.says.replace("{w}", str(world)) in lines[0], proc.stderr
    if (world / "out").is_dir():
        os.chmod(world / "out", 0o755)  # let the checks below (and pytest's cleanup) in
        if (world / "out" / "sub").is_dir() and not (world / "out" / "sub").is_symlink():
            os.chmod(world / "out" / "sub", 0o755)
        after = read_tree(world / "out")
        assert not [rel for rel in after if is_temp_file(rel)], after
        if case.code != 5:
            assert after == out_before, "a rejected run must write nothing"
        else:
            assert set(after) <= set(out_before) | {"x.hip", "sub/y.hip"}
            for rel, data in after.items():  # whatever a failed write left is complete
                assert data in (out_before.get(rel), BREADCRUMB + HIP_KERNEL.encode()), rel


def test_every_documented_exit_code_is_exercised() -> None:
    assert {case.code for case in BAD.values()} == {2, 3, 4, 5}
    assert len(BAD) >= 25


# --- a full disk -------------------------------------------------------------------------------------


def _write_failure_world(tmp_path: Path) -> Path:
    """Three sources; ``b.cu`` (~130 KB translated) cannot fit in 64 KiB, ``a.cu`` and ``c.cu`` can."""
    big = "// " + "cudaMalloc " * 12_000 + "\n"
    return _world(tmp_path, {"proj/a.cu": KERNEL, "proj/b.cu": big + KERNEL, "proj/c.cu": KERNEL})


def _assert_failed_write(proc: subprocess.CompletedProcess[str], world: Path, left: Path, reason: str) -> None:
    """Exit 5 in one line naming ``b.hip``; what is left under ``left`` is complete and has no temporary
    file; with room again, the next run finishes the tree."""
    assert proc.returncode == 5, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and reason in lines[0] and str(world / "out" / "b.hip") in lines[0], proc.stderr
    outputs = read_tree(left)
    assert not [rel for rel in outputs if is_temp_file(rel)] and set(outputs) <= {"a.hip", "c.hip"}, sorted(outputs)
    for data in outputs.values():
        assert data == BREADCRUMB + HIP_KERNEL.encode()
    proc = _hipify(world, _expand(world, RUN))
    assert proc.returncode == 0, proc.stderr
    assert sorted(read_tree(world / "out")) == ["a.hip", "b.hip", "c.hip"]


def test_full_disk_leaves_only_complete_outputs(tmp_path: Path) -> None:
    """Out of space mid-run: a 64 KiB tmpfs as the output root, in a user + mount namespace. Its
    contents are copied out before the namespace (and the tmpfs) goes away."""
    prefix = _tmpfs_prefix()
    if prefix is None:
        pytest.skip("cannot mount a tmpfs in a user namespace here (unshare unavailable or forbidden)")
    world = _write_failure_world(tmp_path)
    (world / "out").mkdir()
    snap = tmp_path.parent / f"{tmp_path.name}-snapshot"
    snap.mkdir()
    before = tree_state(world)
    script = 'mount -t tmpfs -o size=64k tmpfs "$1" && shift && { "$@"; rc=$?; cp -a "$OUT/." "$SNAP/"; exit $rc; }'
    wrapper = (*prefix, "sh", "-c", script, "sh", str(world / "out"))
    proc = _hipify(world, _expand(world, RUN), wrapper, env={"SNAP": str(snap), "OUT": str(world / "out")})
    assert changed_paths(before, tree_state(world)) == set()  # the tmpfs covered out/ and is gone
    _assert_failed_write(proc, world, snap, "No space left on device")


def test_write_error_from_a_file_size_limit(tmp_path: Path) -> None:
    """The same guarantees under an injected write error (RLIMIT_FSIZE: EFBIG), which needs no privileges."""
    import resource

    world = _write_failure_world(tmp_path)
    before = tree_state(world)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    proc = _hipify(world, _expand(world, RUN), preexec_fn=limit)
    _assert_confined(world, before)
    _assert_failed_write(proc, world, world / "out", "File too large")


# --- inputs that must translate, losslessly ----------------------------------------------------------


@dataclass(frozen=True)
class Good:
    files: Mapping[str, str | bytes]
    args: tuple[str, ...]
    expect: Mapping[str, bytes]
    """Output files (relative to the world) and their exact bytes."""
    setup: Callable[[Path], None] | None = None
    warns: str = ""


def _bc(text: bytes) -> bytes:
    return BREADCRUMB + text


GOOD: dict[str, Good] = {
    "non-UTF-8 bytes": Good(
        {"proj/x.cu": b"// caf\xe9 \xff\xfe\ncudaFree(p);\n"},
        (*RUN, "{w}/proj/x.cu"),
        {"out/x.hip": _bc(b"// caf\xe9 \xff\xfe\nhipFree(p);\n")},
    ),
    "byte-order mark": Good(
        {"proj/x.cu": b"\xef\xbb\xbfcudaFree(p);\n"},
        (*RUN, "{w}/proj/x.cu"),
        {"out/x.hip": b"\xef\xbb\xbf" + _bc(b"hipFree(p);\n")},
    ),
    "CRLF line ends": Good(
        {"proj/x.cu": b'#include "a.h"\r\ncudaFree(p);\r\n', "proj/a.h": b"cudaStream_t s;\r\n"},
        (*RUN, "{w}/proj/x.cu"),
        {
            "out/x.hip": BREADCRUMB.replace(b"\n", b"\r\n") + b'#include "a_hip.h"\r\nhipFree(p);\r\n',
            "out/a_hip.h": BREADCRUMB.replace(b"\n", b"\r\n") + b"hipStream_t s;\r\n",
        },
    ),
    "no final newline": Good(
        {"proj/x.cu": b"cudaFree(p);"}, (*RUN, "{w}/proj/x.cu"), {"out/x.hip": _bc(b"hipFree(p);")}
    ),
    "empty file": Good({"proj/x.cu": b""}, (*RUN, "{w}/proj/x.cu"), {"out/x.hip": BREADCRUMB}),
    "sources listed twice": Good(
        X_CU,
        (*RUN, "{w}/proj/x.cu", "{w}/proj/./x.cu"),
        {"out/x.hip": _bc(HIP_KERNEL.encode())},
        warns="listed more than once",
    ),
    "relative paths from another working dir": Good(
        X_CU, ("run", "-p", "../proj", "-o", "../out", "../proj/x.cu"), {"out/x.hip": _bc(HIP_KERNEL.encode())}
    ),
    "symlink to a file inside the project": Good(
        X_CU,
        (*RUN, "{w}/proj/l.cu"),
        {"out/l.hip": _bc(HIP_KERNEL.encode())},
        setup=_symlink("proj/l.cu", "x.cu"),
    ),
    "symlink to a file outside the project": Good(
        {"elsewhere/o.cu": KERNEL},
        (*RUN, "{w}/proj/l.cu"),
        {"out/l.hip": _bc(HIP_KERNEL.encode())},
        setup=_symlink("proj/l.cu", "../elsewhere/o.cu"),
    ),
    "include cycle": Good(
        {
            "proj/x.cu": '#include "a.h"\ncudaFree(p);\n',
            "proj/a.h": '#include "b.h"\ncudaStream_t a;\n',
            "proj/b.h": '#include "a.h"\nint b;\n',
        },
        (*RUN, "{w}/proj/x.cu"),
        {
            "out/x.hip": _bc(b'#include "a_hip.h"\nhipFree(p);\n'),
            "out/a_hip.h": _bc(b'#include "b_hip.h"\nhipStream_t a;\n'),
            "out/b_hip.h": _bc(b'#include "a_hip.h"\nint b;\n'),
        },
    ),
    "include of a missing header": Good(
        {"proj/x.cu": '#include "missing.h"\n#include <gone/cuda.h>\ncudaFree(p);\n'},
        (*RUN, "{w}/proj/x.cu"),
        {"out/x.hip": _bc(b'#include "missing.h"\n#include <gone/cuda.h>\nhipFree(p);\n')},
        warns='x.cu:1: include "missing.h" not found (searched: ',
    ),
    "paths with spaces and non-ASCII characters": Good(
        {"proj/dir ü/k é.cu": KERNEL, "proj/dir ü/h ß.h": "cudaStream_t s;\n"},
        ("run", "-p", "{w}/proj", "-o", "{w}/out dir ñ"),
        {"out dir ñ/dir ü/k é.hip": _bc(HIP_KERNEL.encode()), "out dir ñ/dir ü/h ß_hip.h": _bc(b"hipStream_t s;\n")},
    ),
    "output dir inside the project, new": Good(
        {**X_CU, "proj/a.h": "cudaStream_t s;\n"},
        ("run", "-p", "{w}/proj", "-o", "{w}/proj/build/hip"),
        {"proj/build/hip/x.hip": _bc(HIP_KERNEL.encode()), "proj/build/hip/a_hip.h": _bc(b"hipStream_t s;\n")},
    ),
}


@pytest.mark.parametrize("name", list(GOOD))
def test_odd_input_translates_losslessly(name: str, tmp_path: Path) -> None:
    case = GOOD[name]
    world = _world(tmp_path, case.files)
    if case.setup is not None:
        case.setup(world)
    before = tree_state(world)
    args = _expand(world, case.args)
    proc = _hipify(world, args)
    assert proc.returncode == 0, proc.stderr
    out_root = Path(args[args.index("-o") + 1])
    out_root = out_root if out_root.is_absolute() else (world / "cwd" / out_root).resolve()
    out_rel = out_root.relative_to(world).as_posix()
    _assert_confined(world, before, out_rel)
    written = {f"{out_rel}/{rel}": data for rel, data in read_tree(out_root).items()}
    assert written == dict(case.expect)
    assert (case.warns in proc.stderr) if case.warns else proc.stderr == ""
    assert _hipify(world, args).returncode == 0 and read_tree(out_root) == {
        rel[len(out_rel) + 1 :]: data for rel, data in case.expect.items()
    }, "a rerun (and, for a nested output dir, a whole-tree rerun) changes nothing"


def test_fifty_megabyte_file(tmp_path: Path) -> None:
    """A 50 MB generated source (a big table and a few launches) translates, and the output is right.

    PyTorch's per-launch ``str.replace`` over the whole text makes launches x size the cost, so the
    file has few launches, as real large files (tables, generated code) do. The timeout is only a
    hang guard.
    """
    row = "  0.125f, 0.25f, 0.5f, 1.0f, 2.0f, 4.0f, 8.0f, 16.0f,  // cudaFree in a comment\n"
    chunks = [KERNEL]
    for i in range(8):
        chunks.append(f"void f{i}(cudaStream_t s) {{ k<<<1, 32, 0, s>>>(nullptr); }}\n")
        chunks.append(f"static const float table{i}[] = {{\n" + row * (50_000_000 // len(row) // 8) + "};\n")
    source = "".join(chunks)
    assert len(source) >= 50_000_000 - len(row) * 8
    world = _world(tmp_path, {"proj/big.cu": source})
    proc = _hipify(world, _expand(world, (*RUN, "{w}/proj/big.cu")))
    assert proc.returncode == 0, proc.stderr
    data = (world / "out" / "big.hip").read_bytes()
    expected = '#include "hip/hip_runtime.h"\n' + (
        source.replace(" k<<<1, 32, 0, s>>>(nullptr)", "hipLaunchKernelGGL(( k), dim3(1), dim3(32), 0, s, nullptr)")
        .replace("cudaStream_t", "hipStream_t")
        .replace("cudaFree", "hipFree")
    )
    assert data == BREADCRUMB + expected.encode()


def test_api_refuses_a_bare_string_where_a_list_belongs(tmp_path: Path) -> None:
    """``include="*.cu"`` would select every file through its ``*``; ``sources="x.cu"`` would be
    split into characters. Both are one clear UsageError (exit 2 in the CLI's terms)."""
    project = write_tree(tmp_path / "proj", X_CU)
    for kwargs in ({"include": "*.cu"}, {"exclude": "*.h"}, {"sources": str(project / "x.cu")}, {"maps": "m.toml"}):
        with pytest.raises(UsageError, match="expected a list"):
            hipify_tool.run(project, tmp_path / "out", **kwargs)  # type: ignore[arg-type]
    assert not (tmp_path / "out").exists()
    with pytest.raises(UsageError, match="jobs"):
        hipify_tool.run(project, tmp_path / "out", jobs=0)
    with pytest.raises(UsageError, match="launch_syntax"):
        hipify_tool.run(project, tmp_path / "out", launch_syntax="triple")  # type: ignore[arg-type]
