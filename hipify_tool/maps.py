"""Custom mappings (``--map FILE``): a project's own CUDA -> HIP renames, applied before PyTorch's.

A map file is TOML (``.toml``) or JSON (anything else), in one of two shapes::

    # flat: every key is a token to replace
    FOO = "BAR"
    myCudaHelper = "myHipHelper"

    # structured: a mode and the table
    mode = "substring"          # "token" (default) or "substring"
    [map]
    "cuda_helpers/" = "hip_helpers/"

Token mode matches like PyTorch's tables: a key is replaced only where it is a whole token (mapping
``FOO`` leaves ``myFOOcount`` alone). Substring mode replaces every occurrence, raw, and exists for
the rare path fragment or macro soup a token cannot express. The loaded map is plain data: it lives
in the :class:`~hipify_tool.translate.Translator` of one run and never in module state, and its
digest is part of every manifest key, so editing a map re-translates.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .errors import UsageError
from .fileio import read_regular

__all__ = ["CustomMap", "MapMode", "MAP_MODES", "load_maps", "parse_map"]

MapMode = Literal["token", "substring"]
MAP_MODES: tuple[MapMode, ...] = ("token", "substring")


@dataclass(frozen=True)
class CustomMap:
    """Every ``--map`` file of a run, merged (later files override earlier ones key by key)."""

    tokens: Mapping[str, str] = field(default_factory=dict)
    """Token-boundary mappings, applied before PyTorch's tables."""
    substrings: tuple[tuple[str, str], ...] = ()
    """Raw substring replacements, applied first, in file order."""
    digest: str = ""
    """Of the merged content; empty when there is no map (so the manifest key is unchanged)."""

    def __bool__(self) -> bool:
        return bool(self.tokens or self.substrings)


def _read_table(path: Path) -> dict[str, Any]:
    try:
        data = read_regular(path)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the map ({exc.strerror})") from None
    try:
        if path.suffix == ".toml":
            from .config import parse_toml

            table: Any = parse_toml(data)
        else:
            table = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not a valid {'TOML' if path.suffix == '.toml' else 'JSON'} map: {exc}") from None
    if not isinstance(table, dict):
        raise UsageError(f'{path}: a map must be a table of "CUDA name" = "HIP name" pairs')
    return table


def parse_map(table: Mapping[str, Any], where: str) -> tuple[MapMode, dict[str, str]]:
    """Validate one map file's content: ``(mode, {cuda: hip})``."""
    mode: Any = "token"
    entries: Any = table
    if isinstance(table.get("map"), dict):
        unknown = sorted(set(table) - {"map", "mode"})
        if unknown:
            raise UsageError(f"{where}: unknown key {unknown[0]!r} (a structured map has only 'mode' and 'map')")
        mode = table.get("mode", "token")
        entries = table["map"]
    if mode not in MAP_MODES:
        raise UsageError(f"{where}: mode must be 'token' or 'substring', got {mode!r}")
    result: dict[str, str] = {}
    for key, value in entries.items():
        if not isinstance(value, str):
            raise UsageError(f"{where}: the value of {key!r} must be a string")
        if not key:
            raise UsageError(f"{where}: empty key")
        result[key] = value
    return mode, result


def load_maps(paths: Sequence[Path]) -> CustomMap:
    """Read and merge map files; errors name the file (exit code 2)."""
    if not paths:
        return CustomMap()
    tokens: dict[str, str] = {}
    substrings: dict[str, str] = {}
    for path in paths:
        mode, entries = parse_map(_read_table(path), str(path))
        (tokens if mode == "token" else substrings).update(entries)
    canonical = json.dumps({"tokens": tokens, "substrings": list(substrings.items())}, sort_keys=True)
    return CustomMap(
        tokens=tokens,
        substrings=tuple(substrings.items()),
        digest=hashlib.sha256(canonical.encode()).hexdigest()[:16],
    )
