"""``#include`` directives: the one parser and the one search order, used by plan, translate and report.

The parser finds every directive PyTorch's hipify would rewrite (and the ``#  include`` and
``#include"x"`` forms compilers also accept). The search is a compiler's: a quoted include is looked up
in the includer's directory, then in each include dir in order; an angle include only in the include
dirs; the first match wins. A header found outside the project (an include dir outside it, or a
relative path that leaves it) is *external*: read, never planned.
"""

from __future__ import annotations

import errno
import os
import posixpath
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from .fileio import kind_of

__all__ = [
    "IncludeKind",
    "IncludeSite",
    "Resolution",
    "IncludeSearch",
    "find_includes",
    "find_include_spans",
    "find_include_positions",
    "rewrite_includes",
    "is_pytorch_renamed_include",
    "relative_include",
    "is_within",
]

IncludeKind = Literal["quote", "angle", "thc"]

# PyTorch matches '#include "x"' exactly; compilers also accept '#  include' and '#include"x"'.
# The leading literal '#' lets the regex engine skip ahead quickly.
_INCLUDE_RE = re.compile(
    r'#(?:(?P<head>[ \t]*include[ \t]*)(?:"(?P<quote>[^"]+)"|<(?P<angle>[^>]+)>)'
    r'|(?P<thc>define THC_GENERIC_FILE )"(?P<thcpath>[^"]+)")'
)


@dataclass(frozen=True)
class IncludeSite:
    """One include directive: its kind and the path as written."""

    kind: IncludeKind
    path: str


def _site(m: re.Match[str]) -> IncludeSite:
    if m.group("quote") is not None:
        return IncludeSite("quote", m.group("quote"))
    if m.group("angle") is not None:
        return IncludeSite("angle", m.group("angle"))
    return IncludeSite("thc", m.group("thcpath"))


def find_includes(text: str) -> Iterator[IncludeSite]:
    """Every include directive PyTorch would try to rewrite (comments included, as PyTorch does)."""
    if "#" not in text:
        return
    for m in _INCLUDE_RE.finditer(text):
        yield _site(m)


def find_include_spans(text: str) -> Iterator[tuple[IncludeSite, int]]:
    """Each site with the offset of its path in ``text`` (for reports, which give line:col)."""
    if "#" not in text:
        return
    for m in _INCLUDE_RE.finditer(text):
        site = _site(m)
        group = {"quote": "quote", "angle": "angle", "thc": "thcpath"}[site.kind]
        yield site, m.start(group)


def find_include_positions(text: str) -> Iterator[tuple[IncludeSite, int, int]]:
    """Each site with the 1-based line and column of its path (for warnings and reports)."""
    line, counted = 1, 0
    for site, offset in find_include_spans(text):
        line += text.count("\n", counted, offset)  # sites come in order: count each stretch once
        counted = offset
        yield site, line, offset - text.rfind("\n", 0, offset)


def rewrite_includes(text: str, replacement: Callable[[IncludeSite], str | None]) -> str:
    """Replace each include path for which ``replacement`` returns a new path."""
    if "#" not in text:
        return text

    def sub(m: re.Match[str]) -> str:
        site = _site(m)
        new = replacement(site)
        if new is None or new == site.path:
            return m.group(0)
        if site.kind == "quote":
            return f'#{m.group("head")}"{new}"'
        if site.kind == "angle":
            return f"#{m.group('head')}<{new}>"
        return f'#{m.group("thc")}"{new}"'

    return _INCLUDE_RE.sub(sub, text)


# PyTorch renames these includes whether or not the file is part of the project.
_PYTORCH_RENAMED_INCLUDE_PREFIXES = (
    "ATen/cuda",
    "ATen/native/cuda",
    "ATen/native/nested/cuda",
    "ATen/native/quantized/cuda",
    "ATen/native/sparse/cuda",
    "ATen/native/transformers/cuda",
    "THC/",
)


def is_pytorch_renamed_include(path: str) -> bool:
    """Includes of PyTorch's own CUDA headers, which hipify renames unconditionally."""
    return path.startswith(_PYTORCH_RENAMED_INCLUDE_PREFIXES) or (
        path.startswith("THC") and not path.startswith("THCP")
    )


def relative_include(target: str, found_in: str) -> str:
    """The include path PyTorch writes: the target relative to the directory it was found in."""
    return posixpath.relpath(target, found_in or ".")


def is_within(path: str, root: str) -> bool:
    """``path`` is ``root`` or below it (both absolute and normalised)."""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


@dataclass(frozen=True)
class Resolution:
    """How one include site resolved: what the plan rewrites it with and the report reads."""

    site: IncludeSite
    target: str | None
    """The project file reached (relative to the project dir), or ``None``."""
    found_in: str
    """The directory (relative to the project dir) in which it was found; ``""`` when not found."""
    external: str | None = None
    """The header reached outside the project (absolute): through an include dir outside the project,
    or through a relative path that leaves it. Never part of the plan; the include stays as written."""
    external_dir: str | None = None
    """The include dir outside the project it was found in (absolute); ``None`` for a relative path
    that leaves the project (which the output root cannot follow)."""
    local: bool = False
    """Found in the includer's own directory (a quoted include's first place to look)."""
    missing: bool = False
    """Found nowhere: not in the includer's directory (quoted forms) nor in any include dir."""


@dataclass(frozen=True)
class _SearchDir:
    path: str
    """Absolute, with a trailing separator."""
    rel: str | None
    """Relative to the project dir (``""``: the project dir); ``None`` for a dir outside the project."""


class IncludeSearch:
    """The compiler's search order over one project's include dirs; caches per instance (per plan).

    Include dirs outside the project are read-only search paths: a header found there is
    ``external``, whatever its path, and is never planned.
    """

    def __init__(self, project_dir: str, include_dirs: Sequence[str], outputs: Sequence[str]) -> None:
        self.prefix = os.path.join(project_dir, "")
        self.outputs = tuple(outputs)
        """The output root's spellings (:func:`~hipify_tool.confinement.output_spellings`)."""
        self.dirs: list[_SearchDir] = []
        for d in include_dirs:
            inside = is_within(d, project_dir)
            rel = os.path.relpath(d, project_dir).replace(os.sep, "/") if inside else None
            self.dirs.append(_SearchDir(os.path.join(d, ""), "" if rel == "." else rel))
        self.warnings: list[str] = []
        self._isfile: dict[str, bool] = {}
        self._resolved: dict[tuple[str, str, str], Resolution] = {}

    def exists(self, path: str) -> bool:
        known = self._isfile.get(path)
        if known is None:
            known = self._isfile[path] = os.path.isfile(path)
        return known

    def searched(self, includer: str, site: IncludeSite) -> list[str]:
        """The directories a site is looked up in, in order, each once (absolute): for messages."""
        dirs = dict.fromkeys(d.path for d in self._order(includer, site))
        return [d.rstrip(os.sep) or os.sep for d in dirs]

    def unusable(self, includer: str, site: IncludeSite) -> tuple[str, str] | None:
        """For a site found nowhere: the first entry on its search path that exists but is no file a
        compiler can read (a symlink loop, a broken link, a FIFO), and what it is; ``None``: nothing there."""
        for d in self.searched(includer, site):
            candidate = os.path.normpath(os.path.join(d, site.path))
            if not os.path.lexists(candidate):
                continue
            try:
                return candidate, f"is {kind_of(os.stat(candidate).st_mode)}"
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    return candidate, "is a symlink loop"
                return candidate, f"is a broken symlink (to {os.readlink(candidate)})"
        return None

    def _order(self, includer: str, site: IncludeSite) -> list[_SearchDir]:
        if site.kind == "angle":
            return self.dirs
        here = posixpath.dirname(includer)
        return [_SearchDir(os.path.join(self.prefix + here, ""), here), *self.dirs]

    def resolve(self, includer: str, site: IncludeSite) -> Resolution:
        """Compiler order: the includer's dir (quoted forms), then include dirs; first match wins."""
        if is_pytorch_renamed_include(site.path):
            return Resolution(site, None, "")
        here = "" if site.kind == "angle" else posixpath.dirname(includer)
        key = (here, site.kind, site.path)
        known = self._resolved.get(key)
        if known is None:
            known = self._resolved[key] = self._search(includer, site)
        return known

    def _search(self, includer: str, site: IncludeSite) -> Resolution:
        first: Resolution | None = None
        first_path = ""
        for i, d in enumerate(self._order(includer, site)):
            candidate = os.path.normpath(os.path.join(d.path, site.path))
            if not self.exists(candidate):
                continue
            if first is None:
                first_path = candidate
                local = i == 0 and site.kind != "angle"
                if d.rel is None:
                    first = Resolution(site, None, "", external=candidate, external_dir=d.path.rstrip(os.sep) or os.sep)
                elif not candidate.startswith(self.prefix):
                    first = Resolution(site, None, "", external=candidate, local=local)
                elif any(is_within(candidate, out) for out in self.outputs):  # a generated file: not an input
                    first = Resolution(site, None, d.rel, local=local)
                else:
                    first = Resolution(site, candidate[len(self.prefix) :], d.rel, local=local)
            elif candidate != first_path:
                self.warnings.append(
                    f"{includer}: include {site.path!r} is ambiguous: using {first_path}, also found {candidate}"
                )
                break
        return first if first is not None else Resolution(site, None, "", missing=True)
