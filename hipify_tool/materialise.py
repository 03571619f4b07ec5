"""Materialise stage: carry out a plan on disk, and nothing else.

Every planned output is written (an unchanged file as a copy, never skipped), atomically (temporary
file + rename in the same directory), only when its bytes differ (unchanged outputs keep their mtime,
so nothing recompiles), under an advisory lock on the output root, never outside it. Sources are
only ever opened for reading, by the plan.

Crash safety (docs/robustness.md): outputs are listed in a journal before the first is written, the
manifest is saved after the last, then the journal is deleted. A run that finds a journal knows the
previous one was killed: it owns that run's outputs, clears its temporary files and removes the
outputs that nothing produces any more.
"""

from __future__ import annotations

import dataclasses
import errno
import fcntl
import os
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .confinement import OutputRoot, symlink_problem
from .errors import EnvironmentProblem
from .fileio import TEMP_NAME, atomic_write, holds, kind_of, read_regular, set_mode, temp_name, temp_stem
from .manifest import STATE_DIR, Entry, Manifest, journal_json, journal_path, manifest_path
from .planned import Plan, PlannedFile

__all__ = ["WriteResult", "locked_output_root", "root_is_locked_before", "write_plan"]

LOCK_TIMEOUT_S = 600.0


@contextmanager
def locked_output_root(output_dir: Path, timeout_s: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Exclusive advisory lock on the output root: parallel runs (processes or threads) take turns.

    A ``flock`` on a descriptor of its own, released when the run ends or dies. Translation workers
    forked while it is held share it, so they exit when their run does (``workers._die_with_parent``).
    The state dir must be a real directory and the lock file a real file: neither is followed if it
    is a link, so the lock cannot create or lock a file outside the root.
    """
    state = OutputRoot(output_dir).prepare_state_dir()
    lock = state / "lock"
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, 0o666)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise symlink_problem(lock) from None
        raise EnvironmentProblem(f"{lock}: cannot create the lock file ({exc.strerror})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise EnvironmentProblem(f"{lock}: is {kind_of(os.fstat(fd).st_mode)}, not hipify-tool's lock file")
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise EnvironmentProblem(f"{lock}: cannot lock ({exc.strerror})") from None
                if time.monotonic() > deadline:
                    raise EnvironmentProblem(
                        f"{output_dir}: still locked by another hipify-tool run after {timeout_s:.0f} s"
                    ) from None
                time.sleep(0.02)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def root_is_locked_before(output_dir: Path) -> bool:
    """A run has locked this output root before (its lock file exists). When not, a run plans before
    it locks, so that a plan that fails leaves no directory, lock or state behind."""
    return os.path.lexists(output_dir / STATE_DIR / "lock")


def _place_copy(target: Path, original: Path, data: Callable[[], bytes], mode: int, *, touch: bool) -> None:
    """A sibling copy: a hard link to its header's output when the file system allows (one file, so
    ``#pragma once`` holds when both paths are included), else a copy; atomic either way. ``touch``:
    the copy replaces a different file, so its mtime must move forward for builds to see the change
    (a hard link shares the original's, which may be older than what was compiled against)."""
    tmp = temp_name(target)
    try:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if not stat.S_ISREG(os.lstat(original).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        os.link(original, tmp, follow_symlinks=False)
        os.replace(tmp, target)
        if touch:
            os.utime(target, follow_symlinks=False)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        atomic_write(target, data(), mode)


def _is_copy_of(target: str, original: str, data: Callable[[], bytes], mode: int) -> bool:
    """The copy is in place: the same file as its original, or (where hard links failed) a regular
    file with the same bytes; a link planted at the copy's path is never taken for it."""
    try:
        st = os.lstat(target)
        if not stat.S_ISREG(st.st_mode):
            return False
        if os.path.samestat(st, os.lstat(original)):
            return True
        return stat.S_IMODE(st.st_mode) & 0o777 == mode and holds(target, data())
    except OSError:
        return False


@dataclass(frozen=True)
class WriteResult:
    written: tuple[Path, ...]
    """Outputs whose bytes changed (or were created) in this run."""
    unchanged: tuple[Path, ...]
    """Outputs already holding the right bytes (their mtime is untouched)."""
    removed: tuple[Path, ...]
    """Outputs no source produces any more (superseded, stale with ``prune``, or left by a killed run)."""
    manifest: Manifest | None = None
    """The manifest as saved (or found unchanged) by this run."""


def _is_plain_file(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()


def _remove(root: OutputRoot, target: Path) -> bool:
    """Remove an output of ours (a link at its path is removed itself, never what it points to); one
    reached through a linked directory is left alone."""
    if root.is_symlink_dir(target.parent):
        return False
    try:
        target.unlink()
        return True
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise EnvironmentProblem(f"{target}: cannot remove ({exc.strerror})") from None


def _sweep_temporaries(directory: Path, names: Iterable[str] | None) -> None:
    """Remove temporary files a killed run left in ``directory``: only ``.<name>.<pid>.tmp`` for the
    given output ``names`` (``None``: any name), and only under the lock, so no live writer owns them."""
    wanted = None if names is None else {temp_stem(name) for name in names}
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        m = TEMP_NAME.fullmatch(entry.name)
        if m is None or (wanted is not None and m["stem"] not in wanted):
            continue
        try:
            if entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
        except OSError:
            pass  # best effort: a leftover temporary file is untidy, not wrong


class _Journal:
    """The intent journal: which outputs a run may write before the manifest records them.

    Written (atomically) before the first output, deleted only after the manifest is saved; a run that
    writes nothing never touches it, so a no-op run stays read-only.
    """

    def __init__(self, root: OutputRoot, pending: frozenset[str] | None) -> None:
        self.root = root
        self.state = root.state
        self.pending = pending
        """The previous run's journal, if it did not finish."""
        self.live = pending is not None
        self.swept_state = False

    def sweep_state_dir(self) -> None:
        """Temporary manifests and journals of killed runs (a handful of entries: cheap)."""
        if not self.swept_state:
            _sweep_temporaries(self.state, None)
            self.swept_state = True

    def recover(self) -> None:
        """Clear what a killed run left: temporary files beside every output its journal listed."""
        if self.pending is None:
            return
        by_dir: dict[str, list[str]] = {}
        for rel in self.pending:
            parent, _, name = rel.rpartition("/")
            by_dir.setdefault(parent, []).append(name)
        for parent, names in sorted(by_dir.items()):
            directory = self.root.root / parent
            if not self.root.is_symlink_dir(directory):
                _sweep_temporaries(directory, names)
        self.sweep_state_dir()

    def begin(self, outputs: Iterable[str]) -> None:
        """Record ``outputs`` (and any an earlier killed run listed) before writing the first of them."""
        self.sweep_state_dir()
        self.root.prepare_state_dir()
        atomic_write(journal_path(self.root.root), journal_json(set(outputs) | (self.pending or set())).encode())
        self.live = True

    def end(self) -> None:
        """Once the manifest is saved: every output is recorded, the journal has done its job."""
        if self.live:
            try:
                journal_path(self.root.root).unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise EnvironmentProblem(f"{journal_path(self.root.root)}: cannot remove ({exc.strerror})") from None
            self.live = False


@dataclass(frozen=True)
class _CopyJob:
    """One sibling copy the output root must hold after this run: ``header`` is the manifest key of
    the header it copies (planned now or by an earlier run into the same root)."""

    copy: str
    header: str
    original: str
    """The header's output, relative to the root."""
    data: Callable[[], bytes]
    mode: int


def _copy_jobs(plan: Plan, keys: dict[str, str], entries: dict[str, Entry]) -> list[_CopyJob]:
    """Every copy that ``entries`` (this run's and earlier runs' records) need, this plan's first.
    ``keys``: each planned source's manifest key."""
    out = str(plan.options.output_dir)
    planned = {keys[f.source]: f for f in plan.files.values()}
    wanted = {copy: keys[header] for copy, header in plan.copies.items()}
    for entry in entries.values():
        for copy, header in entry.copies:
            wanted.setdefault(copy, header)
    jobs = []
    for copy, header in sorted(wanted.items()):
        f = planned.get(header)
        if f is not None:
            jobs.append(_CopyJob(copy, header, f.output, _bytes_of(f.data, os.path.join(out, f.output)), f.mode))
        elif header in entries:  # recorded by another run into this root: kept in step with its header
            original = os.path.join(out, entries[header].output)
            try:
                mode = stat.S_IMODE(os.stat(original).st_mode) & 0o777
            except OSError:
                continue  # its header's output is gone: nothing to copy
            jobs.append(_CopyJob(copy, header, entries[header].output, _bytes_of(None, original), mode))
    return jobs


def write_plan(plan: Plan, manifest: Manifest, *, prune: bool) -> WriteResult:
    """Write every planned output and record it; call inside :func:`locked_output_root`.

    An output that a source no longer produces (a header renamed ``x.h`` -> ``x_hip.h`` once its
    translation started changing it, a sibling copy no include needs any more) is removed: it was
    ours, and a stray copy would later look like a hand-written file. So are the outputs a killed run
    journaled that nothing produces now. Outputs whose source is gone are removed only with ``prune``.
    Outputs and copies keep their source's permission bits; a copy is brought up to date with its
    header whichever run rewrites the header (several runs may share one root).
    """
    root = OutputRoot(plan.options.output_dir)
    journal = _Journal(root, manifest.pending)
    journal.recover()
    out = str(plan.options.output_dir)
    prefix = os.path.join(str(plan.options.project_dir), "")
    files = sorted(plan.files.values(), key=lambda f: f.output)
    keys = {f.source: prefix + f.source for f in files}
    to_write = {f.output for f in files if f.data is not None and not _in_place(plan.output_path(f.output), f)}
    entries = dict(manifest.entries)
    for f in files:
        entries[keys[f.source]] = f.entry  # output stat recorded once written, below
    claimed = {f.output for f in files} | set(plan.copies)
    live = set(keys.values())
    for key, e in manifest.entries.items():  # records of gone sources whose outputs this plan took over
        if key not in live and e.output in claimed:
            del entries[key]
    stale = set(plan.stale) if prune else set()
    if stale:
        entries = {path: e for path, e in entries.items() if e.output not in stale}
    else:  # a committed tree's stale outputs, found by their banner: recorded so a later --prune knows them
        for rel in plan.adopted_stale:
            entries.setdefault(prefix + rel, _adopted_entry(rel))
    jobs = _copy_jobs(plan, keys, entries)
    copies_to_write = {
        job.copy
        for job in jobs
        if job.original in to_write
        or not _is_copy_of(os.path.join(out, job.copy), os.path.join(out, job.original), job.data, job.mode)
    }
    if to_write or copies_to_write:
        journal.begin(to_write | copies_to_write)
    written: list[Path] = []
    unchanged: list[Path] = []
    # A killed run's outputs that nothing produces now (a header it renamed): ours, and stray.
    superseded: set[str] = {rel for rel in journal.pending or () if _is_plain_file(plan.output_path(rel))}
    for f in files:
        target = plan.output_path(f.output)
        key = keys[f.source]
        entry = f.entry
        if f.data is not None:
            root.prepare_dir(target.parent)  # after the journal: it may create directories
            if f.output in to_write or not set_mode(target, f.mode):
                atomic_write(target, f.data, f.mode)
                written.append(target)
            else:
                unchanged.append(target)
            st = os.lstat(target)
            entries[key] = entry = dataclasses.replace(entry, output_size=st.st_size, output_mtime_ns=st.st_mtime_ns)
        else:
            unchanged.append(target)
        previous = manifest.entries.get(key)
        if previous is not None and (previous.output != entry.output or previous.copies != entry.copies):
            superseded |= _outputs_of(previous) - _outputs_of(entry)
    touched: set[str] = set()
    for job in jobs:
        target = plan.output_path(job.copy)
        if job.copy not in copies_to_write:
            unchanged.append(target)
            continue
        root.prepare_dir(target.parent)
        replaces = os.path.lexists(target) and job.original not in to_write
        _place_copy(target, plan.output_path(job.original), job.data, job.mode, touch=replaces)
        written.append(target)
        if replaces:
            touched.add(job.header)
    for header in touched:  # the touch moved the header output's mtime too: record it
        st = os.lstat(plan.output_path(entries[header].output))
        entries[header] = dataclasses.replace(entries[header], output_size=st.st_size, output_mtime_ns=st.st_mtime_ns)
    for e in manifest.entries.values():
        if e.output in stale:
            superseded |= _outputs_of(e)
    superseded |= stale  # stale outputs no record names: a committed tree's, adopted by their banner
    removed: list[Path] = []
    if superseded:
        still_produced = {out for e in entries.values() for out in _outputs_of(e)}
        removed = [
            plan.output_path(rel) for rel in sorted(superseded - still_produced) if _remove(root, plan.output_path(rel))
        ]
    updated = Manifest(entries)
    if updated.entries != manifest.entries:
        path = manifest_path(plan.options.output_dir)
        root.keep_state_out_of_git()
        journal.sweep_state_dir()
        atomic_write(path, updated.to_json().encode())
    journal.end()
    return WriteResult(tuple(written), tuple(unchanged), tuple(removed), updated)


def _adopted_entry(output: str) -> Entry:
    """The record of a stale output adopted by its banner: its source is unknown (gone), so it is keyed
    by a path in the project that does not exist, which makes every later run find it stale."""
    return Entry("adopted", "", -1, 0, output, True, True, [], [], -1, 0)


def _in_place(target: Path, f: PlannedFile) -> bool:
    """The output already holds its bytes, and its mode is right or can be set without touching an
    inode it shares with another file (a hard link planted from elsewhere)."""
    assert f.data is not None
    try:
        st = os.lstat(target)
    except OSError:
        return False
    return (stat.S_IMODE(st.st_mode) & 0o777 == f.mode or st.st_nlink == 1) and holds(target, f.data)


def _bytes_of(data: bytes | None, output: str) -> Callable[[], bytes]:
    """A header's bytes: from the plan, or from its output when the plan reused it (or did not plan it)."""
    if data is not None:
        return lambda: data
    return lambda: read_regular(output, follow=False)


def _outputs_of(entry: Entry) -> set[str]:
    return {entry.output, *(copy for copy, _ in entry.copies)}
