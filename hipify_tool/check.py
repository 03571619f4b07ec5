"""``hipify-tool check``: is a committed translated tree what a fresh run would write?

For projects that translate once and commit the HIP tree. The plan is computed exactly as ``run``
computes it for that output root (same discovery, same include resolution, same names), in the
planner's ``compare`` ownership: every file at a planned output path is taken as hipify-tool's and
nothing on disk is trusted, so every output is translated afresh; no state is read or written (a
fresh clone has none). Differences come back as a unified diff.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import CheckFailed
from .fileio import NotRegularFile, read_regular
from .manifest import STATE_DIR, Manifest
from .options import Options

__all__ = ["CheckResult", "check_tree", "unified_diff"]


@dataclass(frozen=True)
class CheckResult:
    options: Options
    """Resolved."""
    warnings: tuple[str, ...]
    file_count: int
    """Planned files (sibling copies not counted)."""
    changed: tuple[str, ...]
    """Outputs (relative to the output root) whose committed bytes differ."""
    missing: tuple[str, ...]
    """Planned outputs that are not committed."""
    extra: tuple[str, ...]
    """Committed files no run would write (e.g. outputs of deleted sources)."""
    diff: str

    @property
    def ok(self) -> bool:
        return not (self.changed or self.missing or self.extra)

    def failure(self) -> CheckFailed | None:
        """The verdict: the error (exit 6) naming what is out of date, or ``None``."""
        if self.ok:
            return None
        parts = [f"{len(self.changed)} changed", f"{len(self.missing)} missing", f"{len(self.extra)} extra"]
        return CheckFailed(
            f"{self.options.output_dir}: out of date ({', '.join(parts)}); "
            "update it with `hipify-tool run --prune` and the same options"
        )


def _committed(root: Path) -> list[str]:
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != STATE_DIR)
        rel = os.path.relpath(dirpath, root).replace(os.sep, "/")
        found.extend(name if rel == "." else f"{rel}/{name}" for name in sorted(filenames))
    return found


def _committed_bytes(path: Path) -> bytes | None:
    """A committed file's bytes (``None``: absent); an entry that is not a regular file (a link, a
    FIFO) is never read through, and differs from any translation."""
    try:
        return read_regular(path, follow=False)
    except NotRegularFile as exc:
        return f"({exc.strerror})\n".encode()
    except OSError:
        return None


def _lines(data: bytes) -> list[str]:
    return data.decode("utf-8", "replace").splitlines(keepends=True)


def unified_diff(old: bytes | None, new: bytes | None, old_name: str, new_name: str) -> str:
    """A unified diff of two versions of a file (``None``: absent)."""
    import difflib  # deferred: only a tree that differs needs it

    lines = difflib.unified_diff(
        _lines(old or b""),
        _lines(new or b""),
        fromfile=old_name if old is not None else "/dev/null",
        tofile=new_name if new is not None else "/dev/null",
    )
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def check_tree(options: Options) -> CheckResult:
    """Compare ``options.output_dir`` (the committed tree) with a fresh translation; writes nothing.

    When the output root's state record proves the tree is, byte for byte, what a run with the same
    options wrote from inputs that have not changed since, that is the answer (:mod:`.fastpath`)."""
    from . import fastpath

    o = options.resolved()
    verdict = fastpath.quick_check(o, fastpath.previous_record(o))
    if verdict.outcome is not None:
        return CheckResult(o, verdict.outcome.warnings, verdict.outcome.file_count, (), (), (), "")
    from .api import plan_against

    committed = _committed(o.output_dir) if o.output_dir.is_dir() else []
    plan = plan_against(o, Manifest({}), ownership="compare")
    cwd = os.getcwd()

    def shown(rel: str) -> str:
        path = str(o.output_dir / rel)
        relative = os.path.relpath(path, cwd)
        return path if relative.startswith("..") else relative

    changed: list[str] = []
    missing: list[str] = []
    chunks: list[str] = []
    planned = plan.planned_outputs()  # sibling copies included
    for rel in sorted(planned):
        fresh = planned[rel]
        assert fresh is not None  # nothing is reused: every output was computed
        old = _committed_bytes(o.output_dir / rel)
        if old == fresh:
            continue
        (missing if old is None else changed).append(rel)
        chunks.append(unified_diff(old, fresh, f"a/{shown(rel)}", f"b/{shown(rel)}"))
    extra = [rel for rel in committed if rel not in planned]
    for rel in extra:
        chunks.append(unified_diff(_committed_bytes(o.output_dir / rel), None, f"a/{shown(rel)}", f"b/{shown(rel)}"))
    diff = "".join(chunks)
    return CheckResult(o, plan.warnings, len(plan.files), tuple(changed), tuple(missing), tuple(extra), diff)
