"""The record an output root keeps of what hipify-tool wrote there and from what.

It is what makes runs incremental (an input whose digest, include resolutions and options are
unchanged is not translated again), what lets the tool tell its own files from hand-written ones
(which it refuses to overwrite) and what ``--prune`` uses to find outputs whose source is gone.
Stored as ``<output root>/.hipify-tool/manifest.json``, replaced atomically.

A run that is about to write outputs first lists them in ``.hipify-tool/journal.json`` and deletes
that journal only after saving the manifest, so a run killed in between leaves a record of every file
it may have written: the next run owns them (see docs/robustness.md, "Crashes and concurrent runs").
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .fileio import read_regular

__all__ = [
    "Entry",
    "Manifest",
    "STATE_DIR",
    "manifest_path",
    "journal_path",
    "journal_json",
    "load_journal",
    "is_output_rel",
]

STATE_DIR = ".hipify-tool"
_STATE_PREFIX = f"/{STATE_DIR}/"
_FORMAT = 1


def manifest_path(output_dir: Path) -> Path:
    return output_dir / STATE_DIR / "manifest.json"


def journal_path(output_dir: Path) -> Path:
    return output_dir / STATE_DIR / "journal.json"


def journal_json(outputs: Iterable[str]) -> str:
    """The journal: outputs (relative to the root) a run may write before it records them."""
    return json.dumps({"format": _FORMAT, "outputs": sorted(outputs)}, separators=(",", ":")) + "\n"


def load_journal(output_dir: Path) -> tuple[frozenset[str] | None, str | None]:
    """The outputs an unfinished run listed (``None``: no journal, the last run finished), and a
    warning when the journal exists but cannot be read.

    An unreadable journal still says a run did not finish: its outputs are unknown, but its temporary
    files in the state dir can be cleared.
    """
    path = journal_path(output_dir)
    try:
        text = _read_state(path)
    except FileNotFoundError:
        return None, None
    except (OSError, ValueError) as exc:
        return frozenset(), _unreadable(path, exc, "journal")
    try:
        raw = json.loads(text)
        outputs = raw["outputs"] if type(raw) is dict else None
        if type(outputs) is not list or not all(type(o) is str and is_output_rel(o) for o in outputs):
            raise ValueError("'outputs' is not a list of paths in the output root")
    except (ValueError, KeyError) as exc:
        return frozenset(), _unreadable(path, exc, "journal")
    return frozenset(outputs), None


def _read_state(path: Path) -> str:
    """A state file: a regular file, never read through a link (only hipify-tool writes these)."""
    return read_regular(path, follow=False).decode("utf-8")


def is_output_rel(rel: str) -> bool:
    """A path hipify-tool could have written: relative, normalised (no empty, ``.`` or ``..``
    component), inside the root and not in its state dir. String tests only: it runs for every
    manifest record."""
    wrapped = f"/{rel}/"
    return (
        "//" not in wrapped and "/./" not in wrapped and "/../" not in wrapped and not wrapped.startswith(_STATE_PREFIX)
    )


def _unreadable(path: Path, exc: Exception, what: str) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        reason = exc.strerror
    else:  # our own shape checks raise plain ValueErrors; the decoders say what they are
        reason = str(exc) if type(exc) is ValueError else f"{type(exc).__name__}: {exc}"
    if what == "journal":
        return (
            f"{path}: a previous run did not finish and its journal cannot be read ({reason}); "
            "outputs it may have written are not known and are kept"
        )
    return (
        f"{path}: the manifest cannot be read ({reason}); it is rebuilt from the output root: "
        "files at planned output paths are taken as hipify-tool's and rewritten as needed"
    )


@dataclass(frozen=True)
class Entry:
    """One input as last written."""

    key: str
    """Fingerprint of the tool, PyTorch's tables and every option that changes output."""
    digest: str
    """Of the input's bytes."""
    source_size: int
    source_mtime_ns: int
    """With the size, lets a rerun skip reading an input whose stat is unchanged."""
    output: str
    """Output path, relative to the output root (POSIX separators)."""
    translated: bool
    changed: bool
    sites: list[list[str]]
    """Include directives after translation step 1, as ``[kind, path]`` pairs."""
    rewrites: list[str | None]
    """The replacement chosen for each site (``None``: left as written)."""
    output_size: int
    output_mtime_ns: int
    copies: list[list[str]] = field(default_factory=list)
    """Sibling copies this input's output needs (:mod:`hipify_tool.layout`), as ``[copy, header]``:
    the copy relative to the output root, the header whose output it copies by its manifest key."""


_ENTRY_SIZE = len(fields(Entry))
_SITE_KINDS = frozenset({"quote", "angle", "thc"})


def _entry(path: Any, raw: Any) -> Entry:
    """One manifest record, its shape checked: a manifest of the right syntax and the wrong shape (a
    hand edit, another tool's file) must be rebuilt, not crash a later stage. Written flat, with no
    call per field: it runs for every record on every run (1,660 on CCCL, in about 2 ms)."""
    if (
        type(path) is str
        and path.startswith("/")
        and type(raw) is dict
        and len(raw) == _ENTRY_SIZE
        and type(raw.get("key")) is str
        and type(raw["digest"]) is str
        and type(raw["source_size"]) is int
        and type(raw["source_mtime_ns"]) is int
        and type(raw["output_size"]) is int
        and type(raw["output_mtime_ns"]) is int
        and type(raw["translated"]) is bool
        and type(raw["changed"]) is bool
        and type(raw["output"]) is str
        and is_output_rel(raw["output"])
        and _sites_ok(raw["sites"], raw["rewrites"])
        and (raw["copies"] == [] or _copies_ok(raw["copies"]))
    ):
        try:
            return Entry(**raw)
        except TypeError:  # the right number of fields, not the right names
            pass
    raise ValueError(f"the record for {path} does not have the shape of an entry")


def _sites_ok(sites: Any, rewrites: Any) -> bool:
    """Include sites as ``[kind, path]`` pairs, and one rewrite (a path or null) per site, or none
    (a file copied untranslated)."""
    if type(sites) is not list or type(rewrites) is not list or (rewrites and len(rewrites) != len(sites)):
        return False
    if not sites:
        return not rewrites
    for site in sites:
        if type(site) is not list or len(site) != 2 or site[0] not in _SITE_KINDS or type(site[1]) is not str:
            return False
    for rewrite in rewrites:
        if rewrite is not None and type(rewrite) is not str:
            return False
    return True


def _copies_ok(copies: Any) -> bool:
    """Sibling copies as ``[copy in the root, header's manifest key]`` pairs."""
    if type(copies) is not list:
        return False
    for copy in copies:
        if type(copy) is not list or len(copy) != 2 or type(copy[0]) is not str or type(copy[1]) is not str:
            return False
        if not is_output_rel(copy[0]):
            return False
    return True


@dataclass
class Manifest:
    """Entries keyed by the input's absolute path (several projects may share one output root)."""

    entries: dict[str, Entry]
    pending: frozenset[str] | None = None
    """Outputs in the journal of a run that did not finish (``None``: the last run finished). That run
    may have written them without recording them, so they are the tool's own, like recorded outputs."""
    rebuilt: bool = False
    """The manifest file exists but could not be read: every file in the output root counts as ours
    (the root holds our state dir, so its files are outputs of earlier runs), and the next save replaces it."""
    warnings: tuple[str, ...] = ()
    """What was wrong with the state files, for the run to print."""
    recorded: bool = False
    """A manifest or journal exists in the output root (readable or not): a run has written there.
    Without either (a new root, or a committed tree in a fresh clone), a run adopts what it finds
    (:data:`~hipify_tool.planned.Ownership`)."""

    @classmethod
    def load(cls, output_dir: Path) -> Manifest:
        """A missing manifest is an empty one; an unreadable or foreign one is named in a warning."""
        entries, manifest_warning = cls._load_entries(output_dir)
        pending, journal_warning = load_journal(output_dir)
        warnings = tuple(w for w in (manifest_warning, journal_warning) if w is not None)
        recorded = bool(entries) or manifest_warning is not None or pending is not None
        if not recorded:
            recorded = os.path.lexists(manifest_path(output_dir))
        return cls(entries, pending, rebuilt=manifest_warning is not None, warnings=warnings, recorded=recorded)

    @staticmethod
    def _load_entries(output_dir: Path) -> tuple[dict[str, Entry], str | None]:
        path = manifest_path(output_dir)
        try:
            text = _read_state(path)
        except FileNotFoundError:
            return {}, None
        except (OSError, ValueError) as exc:
            return {}, _unreadable(path, exc, "manifest")
        try:
            raw = json.loads(text)
            if type(raw) is not dict or raw.get("format") != _FORMAT:
                found = raw.get("format") if type(raw) is dict else None
                raise ValueError(f"format {found!r}, expected {_FORMAT}")
            files = raw.get("files")
            if type(files) is not dict:
                raise ValueError("'files' is not a table")
            return {p: _entry(p, fields) for p, fields in files.items()}, None
        except ValueError as exc:
            return {}, _unreadable(path, exc, "manifest")

    def owners(self) -> dict[str, str]:
        """Which input owns each recorded output and copy (output -> the manifest key of its source,
        or of the header a copy copies): what tells one run's outputs from another's."""
        owners: dict[str, str] = {}
        for key, entry in self.entries.items():
            owners[entry.output] = key
            for copy, header in entry.copies:
                owners.setdefault(copy, header)
        return owners

    def outputs(self) -> set[str]:
        """Recorded outputs and their sibling copies."""
        return {out for entry in self.entries.values() for out in (entry.output, *(c[0] for c in entry.copies))}

    def owned(self) -> set[str]:
        """Outputs hipify-tool wrote here: recorded ones and those an unfinished run may have written."""
        return self.outputs() | self.pending if self.pending else self.outputs()

    def to_json(self) -> str:
        names = [f.name for f in fields(Entry)]  # shallow: asdict's deep copies cost ~0.2 s on big trees
        files = {path: {n: getattr(entry, n) for n in names} for path, entry in sorted(self.entries.items())}
        # No indent: the indenting encoder is pure Python and several times slower.
        return json.dumps({"format": _FORMAT, "files": files}, sort_keys=True, separators=(",", ":")) + "\n"
