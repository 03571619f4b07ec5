"""Adversarial property test: random small worlds full of symlinks, then random runs, edits and traps.

Each example builds a world of its own: ``proj/`` (a few CUDA sources that include each other, so a
run changes some files and copies others), ``out/`` (the output root: absent, a dir, or itself a
symlink), ``elsewhere/`` (files outside both), ``home/`` and ``tmp/`` (the child's HOME and TMPDIR),
and random symlinks in ``proj/`` and ``out/``: to files and dirs of the project, of the output root
and elsewhere, to the root and to the project themselves, dangling, and loops (``a -> b -> a``,
self). Then 1-4 steps, the last a run: a real CLI run (the whole tree or some sources, ``--prune``,
build files aimed at a build dir, at ``elsewhere/``, or at a source, an output or a state file), an
edit of a source, an output replaced by a symlink (to an outside copy of its bytes, or to a
source), the state dir, its lock or its manifest replaced by a symlink, or one more symlink.

After every run:

1. nothing outside the output root (as it resolves) changed: bytes, mode, mtime, entries created
   or removed. The only exceptions: the build files the run was asked for, outside the project (the
   path as its parent dir resolves), and the missing parents of those and of the root, created as
   ``mkdir -p`` does. A root that resolves to the project or contains it must be refused (the
   project is never "inside the root" then), as must one that resolves to a dir of the project
   holding sources and no state dir: the rules for a plain root path, applied to where it leads;
2. no source (a regular file this test wrote in ``proj/``) changed, and no file outside the root
   that a symlink leads to changed, unless it is a build file the run was asked for;
3. the run ended within 60 s with exit 0, 2, 4 or 5, and neither a traceback nor an internal error;
4. a failed run's stderr is made of ``hipify-tool: `` lines, at least one ``hipify-tool: error: ``;
5. outputs are never inputs: a root that resolves into the project (``proj/gen``) never gets a
   translation of its own files (``proj/gen/gen/...``).

Examples are derandomised and never stored; ``HIPIFY_TOOL_STRESS=N`` multiplies their number. A
failure prints the shell commands that rebuild its world and replay its steps.
"""

from __future__ import annotations

import itertools
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import changed_paths, sandbox_env, stress_scale, tree_state
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

# --- the worlds ------------------------------------------------------------------------------------

_SOURCES = ("a.cu", "b.cuh", "c.h", "d.cpp", "sub/e.cu", "sub/f.h")
_SNIPPETS = (
    "int plain = 1;\n",
    "cudaStream_t stream;\n",
    "void grab(void** p) { cudaMalloc(p, 4); }\n",
    "__global__ void kern(float* x) {}\nvoid go() { kern<<<1, 32>>>(nullptr); }\n",
    '#include "b.cuh"\n',
    '#include "c.h"\n',
    '#include "sub/f.h"\n',
    '#include "f.h"\n',
    '#include "../c.h"\n',
    '#include "l.h"\n',
    '#include "ldir/z.h"\n',
    '#include "gone.h"\n',
)
_MODES = (0o644, 0o600, 0o755, 0o444)
_ELSEWHERE = {
    "elsewhere/x.h": "cudaStream_t elsewhere;\n",
    "elsewhere/y.cu": "__global__ void far(int* p) {}\nvoid go() { far<<<2, 64>>>(nullptr); }\n",
    "elsewhere/dir/z.h": "int z;\n",
    "elsewhere/dir/w.cu": "cudaError_t w;\n",
}
_SELF, _LOOP = "<self>", "<loop>"
_TARGETS = (
    "elsewhere/x.h",
    "elsewhere/dir",
    "proj/a.cu",
    "proj/c.h",
    "proj/sub",
    "proj",
    "out",
    "out/a.hip",
    "out/sub",
    "elsewhere/y.cu",
    "elsewhere/root",
    "elsewhere/gone",
    _SELF,
    _LOOP,
)
_LINK_PATHS = (
    "proj/l.h",
    "proj/ldir",
    "proj/l.cu",
    "proj/sub/l.cuh",
    "proj/b.cuh",
    "out/a.hip",
    "out/b.cuh",
    "out/c_hip.h",
    "out/l.hip",
    "out/sub",
    "out/sub/e.hip",
    "out/.hipify-tool",
)
_ROOTS = ("absent", "dir", "elsewhere/root", "proj/gen")
_TRAP_ROOTS = ("proj", "proj/sub", ".", "elsewhere/newroot", "elsewhere/x.h", _SELF, _LOOP)
"""What ``out`` is before the first step: nothing, a dir, or a symlink to one of these (half the time
a usable root, half a trap: the project, its parent, dangling, a file, a loop)."""
_STATE_FILES = (".hipify-tool/lock", ".hipify-tool/manifest.json", ".hipify-tool", ".hipify-tool/journal.json")
_BUILD_FILES = {
    "--depfile": "dep.d",
    "--output-list": "list.txt",
    "--cmake-plan": "plan.cmake",
    "--stamp": "stamp",
    "--report-file": "report.json",
}
_SOURCE, _OUTPUT = "<a source>", "<an output>"
_WHERES = (
    "build",
    "elsewhere",
    "build/deep",
    "out",
    _SOURCE,
    _OUTPUT,
    "out/.hipify-tool/manifest.json",
    "out/.hipify-tool/lock",
    "out/.hipify-tool/journal.json",
)
"""Where a build file goes: a dir (the file keeps its own name in it), or adversarially a file."""
_EXTRA_SOURCES = ("proj/l.cu", "proj/l.h", "proj/ldir/w.cu", "out/a.hip", "elsewhere/y.cu")
_EXIT_CODES = (0, 2, 4, 5)
_TIMEOUT_S = 60


@dataclass(frozen=True)
class Link:
    """A symlink at ``path`` to ``target`` (both relative to the world), or a self link, or a loop."""

    path: str
    target: str
    absolute: bool


@dataclass(frozen=True)
class World:
    sources: tuple[tuple[str, str, int], ...]
    """(name in proj/, text, mode)"""
    root: str
    links: tuple[Link, ...]


@dataclass(frozen=True)
class Run:
    sources: tuple[str, ...] | None
    """Paths relative to the world (``None``: the whole tree)."""
    prune: bool
    build: tuple[tuple[str, str], ...]
    """(option, one of ``_WHERES``)"""
    pick: int
    """Which source or output a build file aimed at one of them takes."""


@dataclass(frozen=True)
class Edit:
    name: str
    text: str
    mode: int


@dataclass(frozen=True)
class PlantOutput:
    """Replace an output by a symlink: to a copy of its bytes in ``elsewhere/``, or to a source."""

    pick: int
    to_source: bool
    mode: int
    absolute: bool


@dataclass(frozen=True)
class PlantState:
    """Replace the state dir or one of its files by a symlink."""

    name: str
    target: str
    absolute: bool


Step = Run | Edit | PlantOutput | PlantState | Link

_texts = st.lists(st.sampled_from(_SNIPPETS), max_size=4).map("".join)


def _links(paths: tuple[str, ...]) -> st.SearchStrategy[Link]:
    return st.builds(Link, st.sampled_from(paths), st.sampled_from(_TARGETS), st.booleans())


@st.composite
def _runs(draw: st.DrawFn, names: tuple[str, ...]) -> Run:
    ours = tuple(f"proj/{n}" for n in names)
    sources = draw(
        st.none()
        | st.lists(st.sampled_from(ours), min_size=1, max_size=3, unique=True).map(tuple)
        | st.lists(st.sampled_from(ours + _EXTRA_SOURCES), min_size=1, max_size=3, unique=True).map(tuple)
    )
    options = draw(st.lists(st.sampled_from(tuple(_BUILD_FILES)), max_size=2, unique=True))
    build = tuple((option, draw(st.sampled_from(_WHERES))) for option in options)
    return Run(sources, draw(st.booleans()), build, draw(st.integers(0, 7)))


def _steps(names: tuple[str, ...]) -> st.SearchStrategy[Step]:
    return st.one_of(
        _runs(names),
        _runs(names),
        st.builds(Edit, st.sampled_from(_SOURCES), _texts, st.sampled_from(_MODES)),
        st.builds(PlantOutput, st.integers(0, 7), st.booleans(), st.sampled_from(_MODES), st.booleans()),
        st.builds(PlantState, st.sampled_from(_STATE_FILES), st.sampled_from(_TARGETS), st.booleans()),
        _links(_LINK_PATHS),
    )


@st.composite
def _scenarios(draw: st.DrawFn) -> tuple[World, tuple[Step, ...]]:
    names = tuple(draw(st.lists(st.sampled_from(_SOURCES), min_size=1, max_size=4, unique=True)))
    sources = tuple((name, draw(_texts), draw(st.sampled_from(_MODES))) for name in names)
    root = draw(st.sampled_from(_ROOTS) | st.sampled_from(_TRAP_ROOTS))
    world = World(sources, root, tuple(draw(st.lists(_links(_LINK_PATHS), max_size=4))))
    steps = draw(st.lists(_steps(names), max_size=3))
    return world, (*steps, draw(_runs(names)))


# --- carrying a scenario out, and the shell commands that replay it ---------------------------------


def _inside(rel: str, top: str) -> bool:
    """``rel`` is ``top`` or under it (paths relative to the world; ``""`` is the world)."""
    return top == "" or rel == top or rel.startswith(top + "/")


def _ancestors(rel: str) -> list[str]:
    parts = rel.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def _printf(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "%%").replace("\n", "\\n")
    return "printf " + shlex.quote(escaped)


class _Lab:
    """One world on disk: what the test wrote there (its sources) and the commands that rebuild it."""

    def __init__(self, world: Path) -> None:
        self.w = world
        self.sources: set[str] = set()
        """Paths (relative to the world) of the regular files this test wrote in ``proj/``."""
        self.script: list[str] = ['cd "$(mktemp -d)"']
        self._serial = itertools.count()

    # paths

    def rel(self, path: str | os.PathLike[str]) -> str:
        """``path`` resolved (symlinks followed as far as they go), relative to the world."""
        real = os.path.realpath(path)
        return "" if real == str(self.w) else os.path.relpath(real, self.w)

    def where(self, rel: str) -> str:
        """The path a writer of ``rel`` reaches: its parent dir resolved, its own name kept."""
        parent = self.rel(self.w / os.path.dirname(rel))
        return os.path.join(parent, os.path.basename(rel)) if parent else os.path.basename(rel)

    def is_plain_dir(self, rel: str) -> bool:
        """``rel`` names a dir with no symlink on the way (relative to the world)."""
        return os.path.isdir(self.w / rel) and self.rel(self.w / rel) == rel

    def regular_files(self, top: str) -> list[str]:
        """Regular files under ``top`` (followed if a link), their state dir left out; never sources."""
        found = []
        for dirpath, dirnames, filenames in os.walk(self.w / top):
            dirnames[:] = sorted(d for d in dirnames if d != ".hipify-tool")
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                if os.path.isfile(path) and not os.path.islink(path) and self.rel(path) not in self.sources:
                    found.append(os.path.relpath(path, self.w))
        return found

    def live_sources(self) -> list[str]:
        return sorted(s for s in self.sources if os.path.isfile(self.w / s) and not os.path.islink(self.w / s))

    # making things

    def run_sh(self, line: str) -> None:
        self.script.append(line)

    def write(self, rel: str, text: str | bytes, mode: int) -> None:
        """A new regular file at ``rel`` (one there before is removed first: it may be read-only)."""
        path = self.w / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        quoted = shlex.quote(rel)
        if os.path.lexists(path):
            os.unlink(path)
            self.run_sh(f"rm {quoted}")
        path.write_bytes(text.encode() if isinstance(text, str) else text)
        path.chmod(mode)
        if isinstance(text, str):
            self.run_sh(f"mkdir -p {shlex.quote(os.path.dirname(rel) or '.')} && {_printf(text)} > {quoted}")
        self.run_sh(f"chmod {mode:o} {quoted}")

    def link(self, rel: str, target: str, absolute: bool) -> bool:
        """A symlink at ``rel`` (created only where nothing is, in a dir that exists or can be made)."""
        path = self.w / rel
        if os.path.lexists(path):
            return False
        if "/" in rel:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError:
                return False
            self.run_sh(f"mkdir -p {shlex.quote(os.path.dirname(rel))}")
        if target == _SELF:
            self._symlink(path.name, rel)
        elif target == _LOOP:
            partner = f"elsewhere/loop{next(self._serial)}"
            self._symlink(self._text(rel, partner, absolute), rel)
            self._symlink(self._text(partner, rel, absolute), partner)
        else:
            self._symlink(self._text(rel, target, absolute), rel)
        return True

    def _text(self, rel: str, target: str, absolute: bool) -> str:
        if absolute:
            return f"{self.w}/{target}"
        return os.path.relpath(self.w / target, os.path.realpath((self.w / rel).parent))

    def _symlink(self, text: str, rel: str) -> None:
        os.symlink(text, self.w / rel)
        shown = text.replace(str(self.w), "$PWD")
        self.run_sh(f'ln -s "{shown}" {shlex.quote(rel)}')

    def remove(self, rel: str) -> None:
        path = self.w / rel
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        elif os.path.lexists(path):
            os.unlink(path)
        self.run_sh(f"rm -rf {shlex.quote(rel)}")

    def serial(self) -> int:
        return next(self._serial)


def _build(lab: _Lab, world: World) -> None:
    for d in ("proj", "elsewhere/root", "home", "tmp"):
        (lab.w / d).mkdir(parents=True)
    lab.run_sh("mkdir -p proj elsewhere/root home tmp")
    for rel, text in _ELSEWHERE.items():
        lab.write(rel, text, 0o644)
    for name, text, mode in world.sources:
        lab.write(f"proj/{name}", text, mode)
        lab.sources.add(f"proj/{name}")
    if world.root == "dir":
        (lab.w / "out").mkdir()
        lab.run_sh("mkdir out")
    elif world.root != "absent":
        if world.root == "proj/gen":
            (lab.w / "proj/gen").mkdir()
            lab.run_sh("mkdir proj/gen")
        lab.link("out", world.root, absolute=False)
    for link in world.links:
        lab.link(link.path, link.target, link.absolute)


def _edit(lab: _Lab, step: Edit) -> None:
    rel = f"proj/{step.name}"
    parent = os.path.dirname(rel)
    existing = parent
    while not os.path.lexists(lab.w / existing):
        existing = os.path.dirname(existing)
    if not lab.is_plain_dir(existing):
        return  # a symlink on the way: the edit would write somewhere else
    if os.path.lexists(lab.w / rel) and rel not in lab.live_sources():
        return  # a link, a dir, or a file the tool wrote: not a source to edit
    lab.write(rel, step.text, step.mode)
    lab.sources.add(rel)


def _plant_output(lab: _Lab, step: PlantOutput) -> None:
    outputs = lab.regular_files("out") if os.path.isdir(lab.w / "out") else []
    if not outputs:
        return
    rel = outputs[step.pick % len(outputs)]
    if step.to_source:
        sources = lab.live_sources()
        if not sources:
            return
        target = sources[step.pick % len(sources)]
    else:
        target = f"elsewhere/copy{lab.serial()}{os.path.splitext(rel)[1]}"
        lab.run_sh(f"cp {shlex.quote(rel)} {shlex.quote(target)}")
        lab.write(target, (lab.w / rel).read_bytes(), step.mode)
    lab.remove(rel)
    lab.link(rel, target, step.absolute)


def _plant_state(lab: _Lab, step: PlantState) -> None:
    rel = f"out/{step.name}"
    parent = os.path.dirname(rel)
    try:
        (lab.w / parent).mkdir(parents=True, exist_ok=True)  # through ``out`` if it is a link
    except OSError:
        return  # ``out`` (or the state dir) is a file, a dangling link or a loop
    lab.run_sh(f"mkdir -p {shlex.quote(parent)}")
    if lab.rel(lab.w / rel) in lab.sources:
        return
    lab.remove(rel)
    lab.link(rel, step.target, step.absolute)


# --- a run and its checks -----------------------------------------------------------------------------


def _build_path(lab: _Lab, option: str, where: str, pick: int) -> str:
    name = _BUILD_FILES[option]
    if where == _SOURCE:
        sources = lab.live_sources()
        return sources[pick % len(sources)] if sources else f"elsewhere/{name}"
    if where == _OUTPUT:
        outputs = lab.regular_files("out") if os.path.isdir(lab.w / "out") else []
        return outputs[pick % len(outputs)] if outputs else f"out/{name}"
    return where if where.startswith("out/.hipify-tool/") else f"{where}/{name}"


@dataclass(frozen=True)
class _Allowed:
    """What a run may change, decided before it starts."""

    root: str | None
    """The output root as it resolves, relative to the world (``None``: it resolves to a file)."""
    project_swallowed: bool
    """The root resolves to the project or contains it: the project is not the root's."""
    refusal: str | None
    """Why the run must be refused, as one with a plain root path would be (None: it need not)."""
    mirror: str | None
    """For a root inside the project: where the root's own files would be translated to if a run took
    them for sources (``proj/gen`` -> ``proj/gen/gen``)."""
    build_files: frozenset[str]
    """Where the requested build files land (parents resolved), those outside the project."""
    new_dir_ok: frozenset[str]
    """Missing parents of the root and of the build files, which the run may create."""

    def in_root(self, rel: str) -> bool:
        if self.root is None:
            return False
        return _inside(rel, self.root) and not (self.project_swallowed and _inside(rel, "proj"))

    def may_change(
        self, rel: str, before: Mapping[str, tuple[object, ...]], after: Mapping[str, tuple[object, ...]]
    ) -> bool:
        if self.in_root(rel) or rel in self.build_files:
            return True
        created_dir = rel not in before and after.get(rel, ("",))[0] == "dir"
        return created_dir and rel in self.new_dir_ok


def _allowed(lab: _Lab, build_paths: list[str]) -> _Allowed:
    root: str | None = lab.rel(lab.w / "out")
    if os.path.exists(lab.w / "out") and not os.path.isdir(lab.w / "out"):
        root = None  # a file: nothing is inside it
    landing = [lab.where(path) for path in build_paths]
    build_files = frozenset(rel for rel in landing if not _inside(rel, "proj"))
    new_dirs = {a for rel in [root or "", *build_files] for a in _ancestors(rel)}
    swallowed = root is not None and _inside("proj", root)
    refusal = None
    if swallowed:
        refusal = "resolves to the project dir or contains it"
    elif root is not None and _inside(root, "proj") and not os.path.isdir(lab.w / root / ".hipify-tool"):
        if any(_inside(s, root) for s in lab.live_sources()):
            refusal = "resolves into the project, to a dir holding sources"
    mirror = None
    if root is not None and root != "proj" and _inside(root, "proj"):
        mirror = f"{root}/{os.path.relpath(root, 'proj')}"
    return _Allowed(root, swallowed, refusal, mirror, build_files, frozenset(new_dirs))


def _link_targets(
    lab: _Lab, state: Mapping[str, tuple[object, ...]], allowed: _Allowed
) -> dict[str, tuple[object, ...]]:
    """The regular files outside the root (and not requested build files) some symlink leads to."""
    targets = {}
    for rel, entry in state.items():
        if entry[0] == "link":
            target = lab.rel(lab.w / rel)
            held = state.get(target)
            if held is not None and held[0] == "file" and not allowed.in_root(target):
                if target not in allowed.build_files:
                    targets[target] = held
    return targets


def _run(lab: _Lab, step: Run) -> None:
    args = ["run", "-p", "proj", "-o", "out", "--no-config", "-j1"]
    if step.prune:
        args.append("--prune")
    build_paths = []
    for option, where in step.build:
        path = _build_path(lab, option, where, step.pick)
        build_paths.append(path)
        args += ["--report", "json", option, path] if option == "--report-file" else [option, path]
    if step.sources is not None:
        args += step.sources
    lab.run_sh(shlex.join(["python", "-m", "hipify_tool", *args]))

    before = tree_state(lab.w)
    allowed = _allowed(lab, build_paths)
    sources = {s: before[s] for s in lab.live_sources()}
    targets = _link_targets(lab, before, allowed)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "hipify_tool", *args],
            capture_output=True,
            text=True,
            cwd=lab.w,
            env=sandbox_env(lab.w / "home", lab.w / "tmp"),
            timeout=_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        raise AssertionError(f"(3) no result within {_TIMEOUT_S} s\n{_replay(lab)}") from None
    after = tree_state(lab.w)
    lab.run_sh(f"# -> exit {proc.returncode}")
    event(f"run: exit {proc.returncode}")
    said = f"{_replay(lab)}\nstderr:\n{proc.stderr}"

    touched_sources = sorted(s for s, held in sources.items() if after.get(s) != held)
    assert not touched_sources, f"(2) sources changed: {touched_sources}\n{said}"
    touched_targets = sorted(t for t, held in targets.items() if after.get(t) != held)
    assert not touched_targets, f"(2) files symlinks lead to (outside the root) changed: {touched_targets}\n{said}"
    changed = changed_paths(before, after)
    outside = sorted(rel for rel in changed if not allowed.may_change(rel, before, after))
    assert not outside, f"(1) changed outside the output root {allowed.root!r}: {outside}\n{said}"
    assert proc.returncode in _EXIT_CODES, f"(3) exit {proc.returncode}\n{said}"
    assert "Traceback" not in proc.stderr + proc.stdout, f"(3) a traceback\n{said}"
    assert "internal error" not in proc.stderr, f"(3) an internal error\n{said}"
    if allowed.refusal is not None:
        assert proc.returncode != 0, f"(1) accepted an output root that {allowed.refusal}\n{said}"
    if proc.returncode != 0:
        lines = proc.stderr.splitlines()
        assert all(line.startswith("hipify-tool: ") for line in lines), f"(4) a line without the prefix\n{said}"
        assert any(line.startswith("hipify-tool: error: ") for line in lines), f"(4) no error line\n{said}"
    if allowed.mirror is not None:
        mirrored = sorted(rel for rel in changed if _inside(rel, allowed.mirror))
        assert not mirrored, f"(5) the root's own files were taken for sources: {mirrored}\n{said}"


def _replay(lab: _Lab) -> str:
    return "replay (sh):\n  " + "\n  ".join(lab.script)


def _play(lab: _Lab, world: World, steps: tuple[Step, ...]) -> None:
    _build(lab, world)
    for step in steps:
        if isinstance(step, Run):
            _run(lab, step)
        elif isinstance(step, Edit):
            _edit(lab, step)
        elif isinstance(step, PlantOutput):
            _plant_output(lab, step)
        elif isinstance(step, PlantState):
            _plant_state(lab, step)
        else:
            lab.link(step.path, step.target, step.absolute)


# --- the property ---------------------------------------------------------------------------------------


@pytest.fixture
def new_world(tmp_path: Path) -> Callable[[], Path]:
    """A fresh world dir per hypothesis example (``tmp_path`` is one per test, not per example)."""
    counter = itertools.count()

    def make() -> Path:
        world = tmp_path.resolve() / f"world{next(counter)}"
        world.mkdir()
        return world

    return make


@settings(
    max_examples=40 * stress_scale(),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
@given(scenario=_scenarios())
def test_runs_touch_only_their_output_root(
    new_world: Callable[[], Path], scenario: tuple[World, tuple[Step, ...]]
) -> None:
    """Whatever symlinks lie around, a run changes nothing but its root and the build files it was asked for."""
    world, steps = scenario
    lab = _Lab(new_world())
    _play(lab, world, steps)
    shutil.rmtree(lab.w)  # kept when the example fails, to look at


def test_replay_script_rebuilds_the_world(tmp_path: Path) -> None:
    """The printed replay is what a failure report relies on: it must rebuild the same world."""
    world = World(
        (("a.cu", _SNIPPETS[3] + _SNIPPETS[4], 0o600), ("b.cuh", _SNIPPETS[1], 0o644)),
        "elsewhere/root",
        (Link("proj/l.h", "elsewhere/x.h", True), Link("out/sub", _LOOP, False), Link("proj/ldir", _SELF, False)),
    )
    (tmp_path / "direct").mkdir()
    lab = _Lab(tmp_path.resolve() / "direct")
    _build(lab, world)
    script = "\n".join(line for line in lab.script if not line.startswith("cd "))
    replayed = tmp_path / "replayed"
    replayed.mkdir()
    subprocess.run(["sh", "-ec", script], cwd=replayed, check=True)

    def shape(root: Path) -> dict[str, tuple[object, ...]]:
        state = tree_state(root)
        return {rel: (v[0], str(v[1]).replace(str(root), "$W"), *v[2:3], *v[4:]) for rel, v in state.items()}

    assert shape(replayed) == shape(lab.w)
