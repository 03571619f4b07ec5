"""The state record: proof, from ``stat`` alone, that a run's answer has not changed since it was made.

A run that took the full path leaves ``<output root>/.hipify-tool/state.json``: the options that decide
the plan, the tool's and PyTorch's hipify files, and the identity (size, mtime, ctime, inode, device,
mode) of everything the plan rested on — every file read, every directory whole-tree discovery listed,
every directory in which the include search found nothing, the symlinks and CMake markers the walk
met, the ``--map`` files, the manifest — and of every output as written, with the plan's lists. A later
run, ``plan`` or ``check`` whose ``stat`` calls all agree answers from it without importing the planner
(:mod:`hipify_tool.fastpath`); any disagreement, any doubt, takes the full path.

Timestamps can hide a change made within one tick of the clock (git's "racy clean" problem): an entry
whose mtime or ctime is not strictly older than the recording run's start, less a margin for coarse
clocks, is *unsettled*: the record is not used, and the files among those entries are read again by
the next full plan even where the manifest's size and mtime agree (:data:`Verdict.suspects`). Outputs
and the manifest are exempt: hipify-tool replaces them atomically (a new inode each time), and they
are trusted exactly as the manifest path trusts them, never more.

Read with :func:`~hipify_tool.fileio.read_regular` (never through a link), its shape checked on load
(a bad record is ignored), written atomically under the output root's lock.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ._version import __version__
from .fileio import read_regular
from .manifest import STATE_DIR, is_output_rel
from .options import OPTION_SPECS, Options
from .outcome import Outcome, ReadFile

if TYPE_CHECKING:
    from .inputs import Walked
    from .manifest import Manifest
    from .planned import Plan

__all__ = ["RECORD", "Verdict", "Record", "plan_key", "capture", "load"]

RECORD = "state.json"
_FORMAT = 1
FINE_MARGIN_NS = 20_000_000
"""Sub-second timestamps: a coarse file-system clock lags the one read at the start by at most a tick
(1-10 ms); twice the longest tick."""
WHOLE_SECOND_MARGIN_NS = 3_000_000_000
"""Whole-second timestamps (FAT keeps two seconds, old ext3 and HFS+ one): a change up to two seconds
later may carry the same stamp."""

_NOT_IN_KEY = frozenset(
    {"jobs", "prune", "output_list", "list_format", "cmake_plan", "depfile", "stamp"}
    | {"report", "report_file", "strict", "rocm_path"}
)
"""Options that do not change the plan: which build files to write, how many workers, and the
report's (a run that asks for a report takes the full path). Every other option, a new one
included, is part of the key."""

Ident = list[int]
"""``[size, mtime_ns, ctime_ns, inode, device, mode]``."""
Command = Literal["run", "plan", "check"]


def _ident(st: os.stat_result) -> Ident:
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev, st.st_mode]


def _stat(path: str) -> Ident | None:
    try:
        return _ident(os.stat(path))
    except OSError:
        return None


def _lstat(path: str) -> Ident | None:
    try:
        return _ident(os.lstat(path))
    except OSError:
        return None


def plan_key(o: Options) -> str:
    """The options that decide the plan, as text (``o`` resolved), with the tool's version and where
    it runs from (two installs of one version may differ)."""
    parts = {s.name: str(getattr(o, s.name)) for s in OPTION_SPECS if s.name not in _NOT_IN_KEY}
    return json.dumps([__version__, os.path.dirname(os.path.abspath(__file__)), parts], sort_keys=True)


def _torch_dir() -> str | None:
    """The torch package the full path would use (found as it finds it, without importing it)."""
    try:
        spec = importlib.util.find_spec("torch")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return str(next(iter(spec.submodule_search_locations)))


def _tool_files() -> list[str]:
    """hipify-tool's own modules and their directories: a changed tool may plan differently."""
    package = os.path.dirname(os.path.abspath(__file__))
    found = [package]
    for directory in (package, os.path.join(package, "report")):
        found.append(directory)
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            continue
        found += [os.path.join(directory, n) for n in names if n.endswith(".py")]
    return found


def _torch_files(torch_dir: str) -> list[str]:
    hipify = os.path.join(torch_dir, "utils", "hipify")
    names = ("version.py", "cuda_to_hip_mappings.py", "hipify_python.py")
    return [os.path.join(torch_dir, "version.py"), hipify, *(os.path.join(hipify, n) for n in names)]


def _margin(ident: Ident) -> int:
    """The file system's tick, judged by the ctime (which only its clock sets: an mtime may come from
    an archive, in whole seconds, on a file system that keeps nanoseconds)."""
    return WHOLE_SECOND_MARGIN_NS if ident[2] % 1_000_000_000 == 0 else FINE_MARGIN_NS


def _settled(ident: Ident | None, started: int) -> bool:
    """Older than the recording run's start, by more than a clock tick: no change can hide in it."""
    return ident is None or max(ident[1], ident[2]) < started - _margin(ident)


# -- capture ------------------------------------------------------------------------------------------


def _nearest_existing(path: str, known: dict[str, Ident | None]) -> str:
    """The deepest existing directory on the way to ``path``: where a file appearing would show."""
    directory = os.path.dirname(path)
    while True:
        if directory not in known:
            known[directory] = _stat(directory)
        if known[directory] is not None or directory == os.path.dirname(directory):
            return directory
        directory = os.path.dirname(directory)


def capture(
    o: Options,
    *,
    started: int,
    walked: Walked,
    plan: Plan,
    manifest: Manifest,
    previous: Record | None,
    manifest_warnings: Sequence[str],
) -> str:
    """The record of a full run that has just written ``plan`` (under the lock); JSON text.

    ``manifest`` is the one just saved; ``previous`` the record the run found (what it knew of outputs this
    run did not rewrite carries over while they keep their identity)."""
    root = os.path.join(str(o.output_dir), "")
    prefix = os.path.join(str(o.project_dir), "")
    followed: dict[str, Ident | None] = {}
    dirs: dict[str, Ident | None] = {}
    torch_dir = _torch_dir()
    watched = [*_tool_files(), *(_torch_files(torch_dir) if torch_dir is not None else ())]
    watched += [*map(str, o.maps), *map(str, o.include_dirs), *map(str, o.sources), str(o.project_dir)]
    watched += [*walked.dirs, *walked.links, *walked.markers]
    watched += [prefix + f.source for f in plan.files.values()]
    for path in watched:
        if path not in followed:
            followed[path] = _stat(path)
    for path, found in plan.lookups.items():
        if found:
            if path not in followed:
                followed[path] = _stat(path)
            continue
        where = _nearest_existing(path, dirs)
        followed[where] = dirs[where]
        if where == os.path.dirname(path) and os.path.lexists(path):  # a dangling link, a FIFO, a dir
            followed[path] = _stat(path)
    live = {prefix + f.source for f in plan.files.values()}
    others = {key: _lstat(key) for key in manifest.entries if key not in live}  # other runs' sources
    settled = all(_settled(ident, started) for ident in (*followed.values(), *others.values()))
    # Copies kept for another run's headers are that run's to check: no proof for a root shared so.
    settled = settled and not any(manifest.entries[key].copies for key in others)
    suspects = sorted(p for p, ident in followed.items() if not _settled(ident, started) and p in live)
    # Outputs: as the manifest recorded them (a file changed since is not taken as ours), each with
    # whether it is known to hold the planned bytes: this run wrote them or found them in place
    # (``data``), or the previous record knew it and the file has not changed since (what ``check``
    # relies on: a file edited since has another ctime).
    before = previous.outputs_known() if previous is not None else {}
    entries = {e.output: e for e in manifest.entries.values()}
    known: dict[str, int] = {}
    outputs: list[list[Any]] = []
    for f in sorted(plan.files.values(), key=lambda f: f.output):
        ident = _lstat(root + f.output)
        entry = entries.get(f.output)
        if ident is None or entry is None or (ident[0], ident[1]) != (entry.output_size, entry.output_mtime_ns):
            settled = False
        ours = known[f.output] = 1 if f.data is not None or before.get(f.output) == (ident, 1) else 0
        outputs.append([f.output, ident, ours, 0])
    for copy, source in plan.copies.items():  # in place as its header's output is (write_plan saw to it)
        outputs.append([copy, _lstat(root + copy), known[plan.files[source].output], 1])
    outcome = plan.outcome()
    kinds = _dependency_kinds(plan, outcome)
    position = {p[len(root) :]: i for i, p in enumerate(outcome.all_outputs)}
    record = {
        "format": _FORMAT,
        "key": plan_key(o),
        "torch": torch_dir,
        "started": started,
        "settled": settled,
        "suspects": suspects,
        "project_real": os.path.realpath(o.project_dir),
        "output_real": os.path.realpath(o.output_dir),
        "manifest": _lstat(f"{root}{STATE_DIR}/manifest.json"),
        "prefix": prefix,
        "followed": [[_short(p, prefix), ident] for p, ident in followed.items()],
        "others": [[p, ident] for p, ident in others.items()],
        "outputs": sorted(outputs, key=lambda item: item[0].split("/")),  # all_outputs' order
        "inputs": list(plan.inputs),
        "input_outputs": [position[plan.files[rel].output] for rel in plan.inputs],
        "dependencies": [_short(p, prefix) for p in outcome.dependencies],
        "kinds": kinds,
        "external_headers": list(outcome.external_headers),
        "warnings": [w for w in plan.warnings if w not in manifest_warnings],
        "stale": [] if o.prune else list(plan.stale),  # a pruning run removed them
        "newest": outcome.newest_read_mtime_ns,
    }
    return json.dumps(record, separators=(",", ":")) + "\n"


def _short(path: str, prefix: str) -> str:
    """A path in the record: relative to the project dir when it is inside it (stored paths are
    otherwise absolute, so the two never mix up)."""
    return path[len(prefix) :] if path.startswith(prefix) else path


def _dependency_kinds(plan: Plan, outcome: Outcome) -> str:
    """One letter per dependency: ``s`` an input, ``h`` a planned header, ``e`` an external header."""
    prefix = os.path.join(str(plan.options.project_dir), "")
    inputs = {prefix + rel for rel in plan.inputs}
    planned = {prefix + f.source for f in plan.files.values()}
    return "".join("s" if p in inputs else "h" if p in planned else "e" for p in outcome.dependencies)


def _root_files(root: str) -> set[str] | None:
    """Every entry of the output root that is not a directory (its state dir left out), relative."""
    found: set[str] = set()
    todo = [""]
    while todo:
        rel = todo.pop()
        try:
            entries = list(os.scandir(os.path.join(root, rel) if rel else root))
        except OSError:
            return None
        for entry in entries:
            if not rel and entry.name == STATE_DIR:
                continue
            path = f"{rel}/{entry.name}" if rel else entry.name
            if entry.is_dir(follow_symlinks=False):
                todo.append(path)
            else:
                found.add(path)
    return found


# -- load and verify ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """What the record proves: the outcome when nothing changed, else the files to read again."""

    outcome: Outcome | None
    suspects: frozenset[str] = frozenset()


def _is_ident(value: Any) -> bool:
    return value is None or (type(value) is list and len(value) == 6 and all(type(v) is int for v in value))


def _pairs_ok(value: Any) -> bool:
    if type(value) is not list:
        return False
    for item in value:
        if type(item) is not list or len(item) != 2 or type(item[0]) is not str or not _is_ident(item[1]):
            return False
    return True


def _strings(value: Any) -> bool:
    return type(value) is list and all(type(v) is str for v in value)


def _outputs_ok(value: Any) -> bool:
    if type(value) is not list:
        return False
    for item in value:
        if (
            type(item) is not list
            or len(item) != 4
            or type(item[0]) is not str
            or not is_output_rel(item[0])
            or not _is_ident(item[1])
            or item[2] not in (0, 1)
            or item[3] not in (0, 1)
        ):
            return False
    return True


_SHAPE: dict[str, Callable[[Any], bool]] = {
    "format": lambda v: v == _FORMAT,
    "key": lambda v: type(v) is str,
    "torch": lambda v: v is None or type(v) is str,
    "started": lambda v: type(v) is int,
    "settled": lambda v: type(v) is bool,
    "suspects": _strings,
    "project_real": lambda v: type(v) is str,
    "output_real": lambda v: type(v) is str,
    "manifest": _is_ident,
    "prefix": lambda v: type(v) is str and v.startswith("/") and v.endswith("/"),
    "followed": _pairs_ok,
    "others": _pairs_ok,
    "outputs": _outputs_ok,
    "inputs": _strings,
    "input_outputs": lambda v: type(v) is list and all(type(i) is int for i in v),
    "dependencies": _strings,
    "kinds": lambda v: type(v) is str and set(v) <= {"s", "h", "e"},
    "external_headers": _strings,
    "warnings": _strings,
    "stale": _strings,
    "newest": lambda v: type(v) is int,
}


class Record:
    """A loaded record whose shape has been checked."""

    def __init__(self, raw: dict[str, Any], output_dir: str) -> None:
        self.raw = raw
        self.root = output_dir

    def outputs_known(self) -> dict[str, tuple[Ident | None, int]]:
        """Each output's identity and whether it is known to hold its planned bytes."""
        return {rel: (ident, ours) for rel, ident, ours, _ in self.raw["outputs"]}

    def suspects(self) -> frozenset[str]:
        return frozenset(self.raw["suspects"])

    def verify(self, o: Options, command: Command, *, prune: bool = False) -> Verdict:
        """The outcome when every ``stat`` agrees with the record (``o`` resolved). Otherwise the
        files the full path must read again: those the record could not settle and those whose
        identity changed (an edit that kept size and mtime fools the manifest, not the ctime)."""
        raw = self.raw
        if raw["key"] != plan_key(o) or raw["torch"] != _torch_dir():
            return Verdict(None)
        changed = _changed(raw["followed"], _stat, raw["prefix"])
        doubt = Verdict(None, self.suspects() | changed)
        if changed or not raw["settled"] or (prune and raw["stale"]):
            return doubt
        if raw["project_real"] != os.path.realpath(o.project_dir) or raw["output_real"] != os.path.realpath(self.root):
            return doubt
        if _changed(raw["others"], _lstat, ""):
            return doubt
        state = os.path.join(self.root, STATE_DIR)
        if command != "check":
            if raw["manifest"] is None or _lstat(os.path.join(state, "manifest.json")) != raw["manifest"]:
                return doubt
            if os.path.lexists(os.path.join(state, "journal.json")):
                return doubt
        if command == "run" and not self._outputs_intact():
            return doubt
        if command == "check" and not self._tree_exact():
            return doubt
        return Verdict(self.outcome())

    def _outputs_intact(self) -> bool:
        prefix = os.path.join(self.root, "")
        for rel, ident, _, _ in self.raw["outputs"]:
            if ident is None or _lstat(prefix + rel) != ident:
                return False
        return True

    def _tree_exact(self) -> bool:
        """The committed tree is the planned outputs, byte for byte, and nothing else (``check``): each
        output known to hold its planned bytes and unchanged since (size, mtime, ctime, inode)."""
        outputs = self.raw["outputs"]
        if _root_files(self.root) != {item[0] for item in outputs}:
            return False
        prefix = os.path.join(self.root, "")
        for rel, ident, ours, _ in outputs:
            if not ours or ident is None or _lstat(prefix + rel) != ident:
                return False
        return True

    def outcome(self) -> Outcome:
        """The recorded plan's lists."""
        raw = self.raw
        prefix = os.path.join(self.root, "")
        dependencies = tuple(p if p.startswith("/") else raw["prefix"] + p for p in raw["dependencies"])
        every = tuple(prefix + item[0] for item in raw["outputs"])
        kinds = raw["kinds"]
        followed = raw["followed"]
        outputs = raw["outputs"]

        def produced() -> dict[str, str]:  # rarely asked (a build file in the output root): from the manifest
            from .manifest import Manifest

            live = set(dependencies)
            found: dict[str, str] = {}
            for key, entry in Manifest.load(Path(self.root)).entries.items():
                if key in live:
                    found[entry.output] = key
                    found.update((copy, f"{header} (a copy)") for copy, header in entry.copies)
            return found

        def read() -> list[ReadFile]:
            base = raw["prefix"]
            sizes = {p if p.startswith("/") else base + p: ident[0] for p, ident in followed if ident is not None}
            what = {"s": "a source", "h": "a header", "e": "a header"}
            return [(p, what[k], None if k == "e" else sizes.get(p)) for p, k in zip(dependencies, kinds, strict=True)]

        return Outcome(
            inputs=tuple(raw["prefix"] + rel for rel in raw["inputs"]),
            input_outputs=tuple(every[i] for i in raw["input_outputs"]),
            all_outputs=every,
            dependencies=dependencies,
            external_headers=tuple(raw["external_headers"]),
            warnings=tuple(raw["warnings"]),
            stale=tuple(raw["stale"]),
            translated_count=0,
            file_count=sum(1 for item in outputs if not item[3]),
            newest_read_mtime_ns=raw["newest"],
            produced=produced,
            read=read,
        )


def _changed(entries: Iterable[list[Any]], probe: Any, prefix: str) -> frozenset[str]:
    """Paths (absolute) whose identity differs from the record's; ``prefix``: of relative ones."""
    changed = set()
    for path, ident in entries:
        full = path if path.startswith("/") else prefix + path
        if probe(full) != ident:
            changed.add(full)
    return frozenset(changed)


def load(output_dir: Path | str) -> Record | None:
    """The output root's record, or ``None`` (missing, unreadable, not of its shape: the full path)."""
    root = str(output_dir)
    try:
        raw = json.loads(read_regular(os.path.join(root, STATE_DIR, RECORD), follow=False))
    except (OSError, ValueError):
        return None
    if type(raw) is not dict or raw.keys() != _SHAPE.keys():
        return None
    for name, ok in _SHAPE.items():
        if not ok(raw[name]):
            return None
    if len(raw["kinds"]) != len(raw["dependencies"]):
        return None
    if not all(0 <= i < len(raw["outputs"]) for i in raw["input_outputs"]):
        return None
    if len(raw["inputs"]) != len(raw["input_outputs"]):
        return None
    return Record(raw, root)
