"""File access with two promises: what is written never goes through a symlink, and only regular
files are read.

A build tool runs in trees it does not control: a ``.cu`` that is a FIFO or a link to ``/dev/zero``
must be one clear error, not a hang or an exhausted memory, and an output that someone replaced by a
link to a file elsewhere must be replaced in turn, never written or ``chmod``-ed through. Every read
of an input and every write of hipify-tool's goes through this module; the rules of *where* a run may
write live in :mod:`hipify_tool.confinement`.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path
from typing import BinaryIO

from .errors import EnvironmentProblem, UsageError

__all__ = [
    "NAME_MAX",
    "PATH_MAX",
    "STREAM_LIMIT",
    "NotRegularFile",
    "read_regular",
    "read_input",
    "read_stream",
    "read_list",
    "atomic_write",
    "holds",
    "set_mode",
    "touch",
    "temp_name",
    "temp_stem",
    "TEMP_NAME",
    "kind_of",
    "is_within",
]

NAME_MAX = 255
"""Bytes in one file name on Linux's file systems: temporary names are kept within it."""
PATH_MAX = 4095
"""Bytes in a path the kernel accepts (4096 with the terminating NUL)."""
STREAM_LIMIT = 64 * 1024 * 1024
"""The most read from stdin or a pipe (``translate -``, ``--sources-from <(...)``): 64 MiB."""

_NO_FOLLOW = os.O_NOFOLLOW | os.O_CLOEXEC
_KINDS = (
    (stat.S_ISREG, "a regular file"),
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISLNK, "a symlink"),
)


def is_within(path: str, root: str) -> bool:
    """``path`` is ``root`` or below it (both absolute and normalised)."""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def kind_of(mode: int) -> str:
    """``a FIFO``, ``a directory``...: what a file is, for messages."""
    return next((name for test, name in _KINDS if test(mode)), "of an unknown kind")


class NotRegularFile(OSError):
    """An input that is not a regular file; ``strerror`` says what it is instead."""

    def __init__(self, path: str | os.PathLike[str], mode: int) -> None:
        super().__init__(errno.EINVAL, f"not a regular file: {kind_of(mode)}", os.fspath(path))


def read_regular(path: str | os.PathLike[str], *, follow: bool = True, limit: int = -1) -> bytes:
    """The bytes of a regular file; anything else raises :class:`OSError` (:class:`NotRegularFile`).

    The open is non-blocking, so a FIFO without a writer cannot stall it; ``fstat`` then refuses
    every kind of file but a regular one before a byte is read. ``follow=False``: a symlink is
    refused too (state files, which only hipify-tool writes). ``limit``: at most that many bytes
    (the head of a file).
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | (_NO_FOLLOW if not follow else os.O_CLOEXEC))
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow and os.path.islink(path):
            raise NotRegularFile(path, stat.S_IFLNK) from None
        raise
    with open(fd, "rb", closefd=True) as f:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFile(path, mode)
        return f.read(limit)


def read_input(path: str) -> bytes:
    """A file the run reads (a source, a header): any failure is a usage error naming it."""
    try:
        return read_regular(path)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror})") from None


def read_stream(stream: BinaryIO, limit: int = STREAM_LIMIT) -> bytes | None:
    """At most ``limit`` bytes of a stream (stdin, a pipe); ``None`` when it holds more."""
    data = stream.read(limit + 1)
    return None if len(data) > limit else data


def read_list(path: str | os.PathLike[str]) -> bytes:
    """A list a front end reads: a regular file, or a pipe the user made (``--sources-from <(find ...)``),
    read up to :data:`STREAM_LIMIT`; a device, socket or directory is refused."""
    mode = os.stat(path).st_mode
    if stat.S_ISREG(mode):
        return read_regular(path)
    if not stat.S_ISFIFO(mode):
        raise NotRegularFile(path, mode)
    with open(path, "rb") as stream:
        data = read_stream(stream)
    if data is None:
        raise OSError(errno.EFBIG, f"more than {STREAM_LIMIT >> 20} MiB", os.fspath(path))
    return data


# -- writing ----------------------------------------------------------------------------------------

TEMP_NAME = re.compile(r"\.(?P<stem>.+)\.[0-9]+\.tmp")
"""Temporary files, ``.<stem>.<pid>.tmp``, as a killed run may leave them."""
_TEMP_OVERHEAD = len(".") + len(".4194304.tmp")


def temp_stem(name: str) -> str:
    """The stem of a file's temporary names: its name, or a digest of it when the name leaves too few
    bytes for the decoration (a name legal for the output must not become illegal for its temporary)."""
    if len(os.fsencode(name)) + _TEMP_OVERHEAD <= NAME_MAX:
        return name
    import hashlib  # deferred: only names near the limit need it, and config's import of this module should not pay

    return "~" + hashlib.blake2b(os.fsencode(name), digest_size=12).hexdigest()


def temp_name(target: Path) -> Path:
    return target.parent / f".{temp_stem(target.name)}.{os.getpid()}.tmp"


def _create_exclusive(tmp: Path) -> int:
    """A new file at ``tmp``: one planted there (a link, a killed run's leftover) is removed first,
    never opened."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NO_FOLLOW
    try:
        return os.open(tmp, flags, 0o666)
    except FileExistsError:
        os.unlink(tmp)
        return os.open(tmp, flags, 0o666)


def atomic_write(target: Path, data: bytes, mode: int | None = None) -> None:
    """Replace ``target`` with ``data``: a new file renamed over it, so a reader sees the old file or
    the new one, and a symlink at ``target`` is replaced, never followed. ``mode``: the permission
    bits to give the file (``None``: the umask's default)."""
    tmp = temp_name(target)
    try:
        fd = _create_exclusive(tmp)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if mode is not None:
                os.fchmod(fd, mode)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise EnvironmentProblem(f"{target}: cannot write ({exc.strerror})") from None


def holds(target: Path | str, data: bytes) -> bool:
    """``target`` is a regular file (not a link to one) holding exactly ``data``."""
    try:
        st = os.lstat(target)
        return stat.S_ISREG(st.st_mode) and st.st_size == len(data) and read_regular(target, follow=False) == data
    except OSError:
        return False


def set_mode(target: Path, mode: int) -> bool:
    """Give the regular file ``target`` the permission bits ``mode``, through a descriptor opened
    without following links: a link planted at ``target`` makes this fail, never ``chmod`` its target.

    ``False`` when the mode must change but the file has other hard links: its inode may be a file
    elsewhere that is not ours, so the caller writes a file of its own instead."""
    try:
        fd = os.open(target, os.O_RDONLY | os.O_NONBLOCK | _NO_FOLLOW)
    except OSError as exc:
        raise EnvironmentProblem(f"{target}: cannot set its mode ({exc.strerror})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise EnvironmentProblem(f"{target}: cannot set its mode (it is {kind_of(st.st_mode)})")
        if stat.S_IMODE(st.st_mode) & 0o777 == mode:
            return True
        if st.st_nlink > 1:
            return False
        os.fchmod(fd, mode)
        return True
    except OSError as exc:
        raise EnvironmentProblem(f"{target}: cannot set its mode ({exc.strerror})") from None
    finally:
        os.close(fd)


def touch(path: Path, mtime_ns: int | None = None) -> None:
    """Create ``path`` or set its mtime (``None``: now), through a descriptor: a symlink at ``path`` is
    replaced by an empty file, never followed."""
    try:
        if os.path.islink(path):
            atomic_write(path, b"")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NONBLOCK | _NO_FOLLOW, 0o666)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise EnvironmentProblem(f"{path}: cannot touch (it is {kind_of(st.st_mode)})")
            if mtime_ns is None:
                os.utime(fd)
            else:
                os.utime(fd, ns=(mtime_ns, mtime_ns))
        finally:
            os.close(fd)
    except OSError as exc:
        raise EnvironmentProblem(f"{path}: cannot touch ({exc.strerror})") from None
