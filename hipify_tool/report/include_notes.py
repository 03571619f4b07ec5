"""The report's include notes: what the output root cannot hold for an include.

Quoted includes found nowhere and includes that leave the project by a relative path (the plan warns
about both), and includes of headers in include dirs outside the project (read-only: left as written,
never copied). Positions are the include path's in the source.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..includes import find_include_positions
from .model import IncludeNote

if TYPE_CHECKING:
    from ..planned import Plan

__all__ = ["include_notes"]


def include_notes(plan: Plan, texts: Mapping[str, str]) -> dict[str, tuple[IncludeNote, ...]]:
    """The notes of each planned file that has any (``texts``: the sources' text, by path)."""
    notes: dict[str, list[IncludeNote]] = {}
    for w in plan.include_warnings:
        note = IncludeNote(w.line, w.col, w.site.kind, w.site.path, w.kind, w.message, w.reaches)
        notes.setdefault(w.source, []).append(note)
    for rel, f in plan.files.items():
        external = {r.site: r.external for r in f.resolutions if r.external is not None and r.external_dir is not None}
        if not external:
            continue
        for site, line, col in find_include_positions(texts[rel]):
            path = external.get(site)
            if path is not None:
                message = f'include "{site.path}" reaches {path}, outside the project: left as written, never copied'
                note = IncludeNote(line, col, site.kind, site.path, "external", message, path)
                notes.setdefault(rel, []).append(note)
    return {rel: tuple(sorted(found, key=lambda n: (n.line, n.col))) for rel, found in notes.items()}
