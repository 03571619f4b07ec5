"""The self-contained output root: every include of every output reaches what its source's reached.

The invariant (docs/cli.md, "The output root"): an include of an output, looked up from the output's
own place in the output root (its directory for the quoted forms, then the output-root images of the
include dirs inside the project and the include dirs outside it, in ``-I`` order), reaches an image
of exactly the header its source's include reached (the header's output or a copy of it), or the
same header outside the project. Includes that reached nothing are left as written and not checked.

PyTorch's naming alone breaks it in two ways: a file moved from ``cuda/`` to ``hip/`` still includes
its siblings by name, while a sibling that is copied, not translated (``.inl``, an extension outside
``--extension``) stays in ``cuda/``; and a copied file includes headers by the names they had before
translation renamed them. Where a lookup finds nothing before the place the source's lookup found its
header, a copy of the header is placed there (a *sibling copy*: the header's output, hard-linked when
the filesystem allows, so ``#pragma once`` sees one file). Where it finds another file first, no copy
can help: that is a breach, which the plan refuses.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from .includes import Resolution

__all__ = ["Breach", "Layout", "OutputInclude", "SearchDir", "place_copies"]

SearchDir = tuple[str | None, str]
"""An include dir as the output root sees it: (its image relative to the root, or ``None`` for a dir
outside the project; its absolute path)."""


class OutputInclude(NamedTuple):
    """One include of one planned file: how its source's include resolved, and the path its output writes."""

    resolution: Resolution
    path: str


@dataclass(frozen=True)
class Breach:
    """An include of an output that reaches a different file in the output root than its source's did."""

    includer: str
    """The including file's source (relative to the project dir)."""
    placed_at: str
    """Where that file's image sits in the output root (its output or a copy)."""
    include: OutputInclude
    expected: str
    """What the source's include reached: an output path or an absolute path outside the project."""
    found: str | None
    """What the output's include reaches instead (``None``: nothing)."""


@dataclass(frozen=True)
class Layout:
    copies: dict[str, str]
    """Sibling copies: output path -> the source whose output it copies."""
    needed_by: dict[str, frozenset[str]]
    """Copy -> the sources whose outputs' includes (directly or through other copies) reach it. Runs
    that plan other sources into the same root keep a copy as long as one of these still needs it."""
    breaches: tuple[Breach, ...]


_Hit = tuple[int, str, bool]
"""(position in the search order, the file found, whether it is in the output root (relative) or not
(absolute))."""
_Key = tuple[str | None, str]
"""A lookup: (the includer's directory in the root, or ``None`` for an angle include; the path)."""

_MAX_ROUNDS = 64
"""Copies of copies follow the include graph; each round places at least one, and real trees settle in
two or three. A bound keeps a pathological tree from looping: its remaining misses become breaches."""


class _Root:
    """Lookups in the output root as it will be: the planned outputs and the copies placed so far.

    Results are cached; placing a copy forgets exactly the lookups that passed over its place."""

    def __init__(self, output_dir: str, dirs: Sequence[SearchDir], isfile: Callable[[str], bool]) -> None:
        self.output_dir = output_dir
        self.dirs = dirs
        self.isfile = isfile
        self.placed: dict[str, str] = {}
        self.cache: dict[_Key, _Hit | None] = {}
        self.passed: dict[str, list[_Key]] = {}
        """Places in the root that cached lookups found empty before their hit: a copy there changes them."""
        self.passing: set[_Key] = set()
        """Lookups that passed over an empty place."""

    def lookup(self, key: _Key) -> _Hit | None:
        here, path = key
        places: list[tuple[str | None, str]] = [] if here is None else [(here, "")]
        places += self.dirs
        hit: _Hit | None = None
        for i, (rel, absolute) in enumerate(places):
            if rel is None:  # an include dir outside the project: the real file system
                candidate = os.path.normpath(os.path.join(absolute, path))
                if self.isfile(candidate):
                    hit = (i, candidate, False)
                    break
                continue
            inside = posixpath.normpath(posixpath.join(rel, path))
            if inside == ".." or inside.startswith("../"):  # climbs out of the root: whatever is there
                candidate = os.path.normpath(os.path.join(self.output_dir, inside))
                if self.isfile(candidate):
                    hit = (i, candidate, False)
                    break
            elif inside in self.placed:
                hit = (i, inside, True)
                break
            else:
                self.passed.setdefault(inside, []).append(key)
                self.passing.add(key)
        self.cache[key] = hit
        return hit

    def place(self, copies: Mapping[str, str]) -> set[_Key]:
        """Add copies; the lookups whose result they may change."""
        self.placed.update(copies)
        stale: set[_Key] = set()
        for slot in copies:
            stale.update(self.passed.pop(slot, ()))
        for key in stale:
            self.cache.pop(key, None)
        return stale


_Miss = tuple[str, str, Breach]
"""A copy an include needs: (the place it would go, the source it copies, the breach if it cannot)."""


def place_copies(
    outputs: Mapping[str, str],
    includes: Mapping[str, tuple[Sequence[Resolution], Sequence[str | None] | None]],
    *,
    output_dir: str,
    dirs: Sequence[SearchDir],
    isfile: Callable[[str], bool],
) -> Layout:
    """The sibling copies that make the invariant hold, and the includes no copy can fix.

    ``outputs``: source -> output path; ``includes``: source -> how its includes resolved and what the
    translation rewrote each to (``None`` for a file copied as it is: its includes stay as written);
    ``dirs``: the include dirs in ``-I`` order. Each round checks the images whose lookups a new copy
    may change (at first, all of them), then places the copies their misses call for.
    """
    root = _Root(output_dir, dirs, isfile)
    root.placed = {out: src for src, out in outputs.items()}
    first_image = {rel: i for i, (rel, _) in reversed(list(enumerate(dirs))) if rel is not None}
    checks: dict[str, list[OutputInclude]] = {}
    for src, (resolutions, rewrites) in includes.items():
        written = [r.site.path for r in resolutions] if rewrites is None else rewrites
        wanted = [
            OutputInclude(r, path or r.site.path)
            for r, path in zip(resolutions, written, strict=True)
            if _checked(r, rewrites is not None, first_image)
        ]
        if wanted:
            checks[src] = wanted
    copies: dict[str, str] = {}
    misses: dict[str, list[_Miss]] = {}
    breaches: dict[str, list[Breach]] = {}
    reaches: dict[str, list[str]] = {}
    users: dict[_Key, set[str]] = {}
    todo = sorted(at for at, src in root.placed.items() if checks.get(src))
    for round_ in range(_MAX_ROUNDS + 1):
        todo = [at for at in todo if checks.get(root.placed[at])]  # nothing to look up: nothing to check
        for at in todo:
            misses[at], breaches[at], reaches[at] = [], [], []
            _check(root, at, checks[root.placed[at]], first_image, outputs, misses, breaches, reaches, users)
        new: dict[str, str] = {}
        for at in todo:
            for slot, target, breach in misses[at]:
                if round_ == _MAX_ROUNDS or new.get(slot, target) != target:
                    breaches[at].append(breach)
                else:
                    new[slot] = target
        if not new:
            break
        copies.update(new)
        stale = root.place(new)
        todo = sorted(set(new).union(*(users.get(key, ()) for key in stale)))
    found = tuple(b for at in sorted(breaches) for b in breaches[at])
    reached = [(at, copy) for at in sorted(reaches) for copy in reaches[at]]
    return Layout(copies, _needed_by(copies, reached, root.placed), found)


def _checked(r: Resolution, rewritten: bool, first_image: Mapping[str, int]) -> bool:
    """Includes the invariant speaks of: those that reached a project file or an external dir's header
    (not those found nowhere, PyTorch's own headers, or a relative path out of the project). One that
    holds by construction is not looked up: an angle include the translation rewrote, found in the first
    include dir, names its header's output relative to that dir's image, the first place it is looked
    for, from wherever the includer's image is."""
    if r.site.kind == "thc" or (r.target is None and r.external_dir is None):
        return False
    return not (rewritten and r.site.kind == "angle" and r.target is not None and first_image.get(r.found_in) == 0)


_UNSEEN: _Hit = (-1, "", False)


def _check(
    root: _Root,
    at: str,
    incs: Sequence[OutputInclude],
    first_image: Mapping[str, int],
    outputs: Mapping[str, str],
    misses: dict[str, list[_Miss]],
    breaches: dict[str, list[Breach]],
    reaches: dict[str, list[str]],
    users: dict[_Key, set[str]],
) -> None:
    """The includes of the image at ``at`` (an output or a copy), looked up in the root."""
    here = posixpath.dirname(at)
    src = root.placed[at]
    cache, placed, passing = root.cache, root.placed, root.passing
    for inc in incs:
        r = inc.resolution
        target, external = r.target, r.external
        key: _Key = (here if r.site.kind == "quote" else None, inc.path)
        hit = cache.get(key, _UNSEEN)
        if hit is _UNSEEN:
            hit = root.lookup(key)
        if key in passing:
            users.setdefault(key, set()).add(at)
        if target is None:  # found outside the project: the same file, or a breach
            if hit is None or hit[1] != external:
                breaches[at].append(Breach(src, at, inc, str(external), hit[1] if hit else None))
            continue
        if hit is not None and hit[2] and placed[hit[1]] == target:
            if hit[1] != outputs[target]:  # a copy
                reaches[at].append(hit[1])
            continue
        slot_pos = 0 if r.local else (0 if key[0] is None else 1) + first_image.get(r.found_in, len(root.dirs))
        slot = posixpath.normpath(posixpath.join(here if r.local else r.found_in, inc.path))
        breach = Breach(src, at, inc, outputs[target], hit[1] if hit else None)
        free = slot not in placed and slot != ".." and not slot.startswith("../")
        if free and (hit is None or hit[0] > slot_pos):
            misses[at].append((slot, target, breach))
        else:
            breaches[at].append(breach)


def _needed_by(
    copies: Mapping[str, str], reaches: Sequence[tuple[str, str]], placed: Mapping[str, str]
) -> dict[str, frozenset[str]]:
    """Each copy's roots: the sources whose own outputs lead to it through includes and copies."""
    needed: dict[str, set[str]] = {copy: set() for copy in copies}
    changed = True
    while changed:
        changed = False
        for at, copy in reaches:
            roots = needed[at] if at in copies else {placed[at]}
            if not roots <= needed[copy]:
                needed[copy] |= roots
                changed = True
    return {copy: frozenset(roots) for copy, roots in needed.items()}
