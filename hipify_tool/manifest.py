"""The record an output root keeps of what hipify-tool wrote there and from what.

It is what makes runs incremental (an input whose digest, include resolutions and options are
unchanged is not translated again), what lets the tool tell its own files from hand-written ones
(which it refuses to overwrite) and what ``--prune`` uses to find outputs whose source is gone.
Stored as ``<output root>/.hipify-tool/manifest.json``, replaced atomically.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path

__all__ = ["Entry", "Manifest", "STATE_DIR", "manifest_path"]

STATE_DIR = ".hipify-tool"
_FORMAT = 1


def manifest_path(output_dir: Path) -> Path:
    return output_dir / STATE_DIR / "manifest.json"


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


@dataclass
class Manifest:
    """Entries keyed by the input's absolute path (several projects may share one output root)."""

    entries: dict[str, Entry]

    @classmethod
    def load(cls, output_dir: Path) -> Manifest:
        """An unreadable or foreign manifest is treated as empty: at worst everything is rewritten."""
        try:
            raw = json.loads(manifest_path(output_dir).read_text(encoding="utf-8"))
            if raw.get("format") != _FORMAT:
                return cls({})
            return cls({path: Entry(**fields) for path, fields in raw["files"].items()})
        except (OSError, ValueError, TypeError, KeyError):
            return cls({})

    def outputs(self) -> set[str]:
        return {entry.output for entry in self.entries.values()}

    def to_json(self) -> str:
        names = [f.name for f in fields(Entry)]  # shallow: asdict's deep copies cost ~0.2 s on big trees
        files = {path: {n: getattr(entry, n) for n in names} for path, entry in sorted(self.entries.items())}
        # No indent: the indenting encoder is pure Python and several times slower.
        return json.dumps({"format": _FORMAT, "files": files}, sort_keys=True, separators=(",", ":")) + "\n"
