"""The fast path of ``run``, ``plan`` and ``check``: answer from the state record when ``stat`` proves
nothing changed, without importing the planner, the translator or PyTorch's tables.

Each function returns a :class:`~hipify_tool.state.Verdict`: its outcome when the record holds (the
build files already written, exactly as the full path writes them: the same writer, the same checks),
or the files the full path should read again. Runs that ask for a report, ``--strict`` or a
``--rocm-path`` always take the full path (their answer rests on more than the plan).
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from .manifest import STATE_DIR
from .options import Options
from .state import Command, Record, Verdict, load

__all__ = ["quick_run", "quick_plan", "quick_check", "previous_record"]

_NONE = Verdict(None)


def previous_record(o: Options) -> Record | None:
    """The output root's record (``o`` resolved), or ``None``."""
    return load(o.output_dir)


@contextmanager
def _shared_lock(output_dir: Path) -> Iterator[bool]:
    """A shared hold on the output root's lock, so that no run writes while the record is checked;
    ``False`` (take the full path) when a run holds it or there is no lock file to hold."""
    try:
        fd = os.open(
            os.path.join(output_dir, STATE_DIR, "lock"), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
        )
    except OSError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise
            yield False
            return
        yield True
    finally:
        os.close(fd)


def _verify(o: Options, command: Command, record: Record | None, *, prune: bool = False) -> Verdict:
    if record is None or o.report is not None or o.strict or o.rocm_path is not None:
        return _NONE
    with _shared_lock(o.output_dir) as held:
        verdict = record.verify(o, command, prune=prune)
    if not held:  # a run is writing: no answer, but what the record doubts is still worth reading again
        return Verdict(None, verdict.suspects)
    return verdict


def quick_run(o: Options, record: Record | None, also_read: Sequence[Path] = ()) -> Verdict:
    """``run`` from the record (``o`` resolved): nothing to write, the build files written as the
    full path writes them (the stamp touched last)."""
    verdict = _verify(o, "run", record, prune=o.prune)
    if verdict.outcome is not None:
        from .buildfiles import write_build_files
        from .confinement import check_build_files

        check_build_files(o, verdict.outcome, also_read)
        write_build_files(verdict.outcome, o, listed=verdict.outcome.input_outputs, ran=True)
    return verdict


def quick_plan(o: Options, record: Record | None, also_read: Sequence[Path] = ()) -> Verdict:
    """``plan`` from the record (``o`` resolved); its build files written."""
    verdict = _verify(o, "plan", record)
    if verdict.outcome is not None:
        from .buildfiles import write_build_files
        from .confinement import check_build_files

        check_build_files(o, verdict.outcome, also_read)
        write_build_files(verdict.outcome, o, listed=verdict.outcome.all_outputs, ran=False)
    return verdict


def quick_check(o: Options, record: Record | None) -> Verdict:
    """``check`` from the record (``o`` resolved): the committed tree is, byte for byte, what the
    recorded run wrote and nothing else, and every input is as that run read it."""
    return _verify(o, "check", record)
