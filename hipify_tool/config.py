"""``[tool.hipify-tool]`` in ``pyproject.toml`` (or ``--config FILE``): a project's default options.

Keys are the options of :mod:`hipify_tool.options` (kebab-case or snake_case); an unknown key is an
error that names it. Values are checked by the options model, as the CLI's and the API's are.
Relative paths are taken from the directory of the file that holds them (not the working dir), so
``hipify-tool run`` gives the same result from anywhere in the project. Command-line flags override
the file, key by key (a repeatable flag given on the command line replaces the file's list).
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import UsageError
from .fileio import read_regular
from .options import FRONT_END_SPECS, OPTION_SPECS, Options, OptionSpec, check_value

__all__ = ["Config", "find_config", "load_config", "config_keys", "parse_toml", "TABLE"]

TABLE = "hipify-tool"
"""The table under ``[tool]``."""


def config_keys() -> dict[str, OptionSpec]:
    """Every key the file may set (snake_case), with its declaration."""
    return {spec.name: spec for spec in (*OPTION_SPECS, *FRONT_END_SPECS)}


def parse_toml(data: bytes) -> dict[str, Any]:
    """TOML bytes -> table (``tomllib``, or ``tomli`` on Python 3.10); raises ValueError."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]
    table: dict[str, Any] = tomllib.loads(data.decode("utf-8"))
    return table


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        return parse_toml(read_regular(path))
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the configuration ({exc.strerror})") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}") from None


def _table(document: Mapping[str, Any]) -> Mapping[str, Any] | None:
    tool = document.get("tool")
    if isinstance(tool, Mapping):
        table = tool.get(TABLE)
        if isinstance(table, Mapping):
            return table
    return None


def find_config(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` at or above ``start`` that has a ``[tool.hipify-tool]`` table."""
    directory = Path(os.path.abspath(start))
    for candidate in (directory, *directory.parents):
        path = candidate / "pyproject.toml"
        if path.is_file() and _table(_load_toml(path)) is not None:
            return path
    return None


@dataclass(frozen=True)
class Config:
    """One configuration file's table: checked values by option name, paths made absolute."""

    path: Path
    values: Mapping[str, Any]

    @property
    def base(self) -> Path:
        """Relative paths in the file are taken from here."""
        return self.path.parent

    def options(self, **overrides: Any) -> Options:
        """An :class:`Options` from the file (front-end-only keys ignored), with ``overrides`` on top."""
        names = {spec.name for spec in OPTION_SPECS}
        values = {key: value for key, value in self.values.items() if key in names}
        values.update(overrides)
        missing = [k for k in ("project_dir", "output_dir") if k not in values]
        if missing:
            raise UsageError(
                f"{self.path}: [tool.{TABLE}]: {missing[0].replace('_', '-')}: required (in the file or as an argument)"
            )
        return Options(**values)


def _checked(path: Path, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The table's values through the options model; the first problem names the file and the key."""
    known = config_keys()
    values: dict[str, Any] = {}
    for raw_key, value in raw.items():
        key = str(raw_key).replace("-", "_")
        spec = known.get(key)
        where = f"{path}: [tool.{TABLE}]: {str(raw_key).replace('_', '-')}"
        if spec is None:
            hint = difflib.get_close_matches(key, sorted(known), n=1)
            extra = f" (did you mean {hint[0].replace('_', '-')!r}?)" if hint else ""
            raise UsageError(f"{path}: [tool.{TABLE}]: unknown key {str(raw_key)!r}{extra}")
        if spec.kind in ("path", "optional-path"):
            value = _relative_to(path.parent, value)
        elif spec.kind == "paths" and isinstance(value, list):
            value = [_relative_to(path.parent, v) for v in value]
        elif spec.kind == "strings" and not isinstance(value, list):
            raise UsageError(f"{where}: expected a list, got {value!r}")
        values[key] = check_value(spec, value, where)
    return values


def _relative_to(base: Path, value: Any) -> Any:
    if isinstance(value, str) and value:
        return Path(os.path.normpath(os.path.join(base, os.path.expanduser(value))))
    return value  # check_value says what is wrong with it


def load_config(path: Path | None = None, *, start: Path | None = None) -> Config | None:
    """``path`` (any TOML file: its ``[tool.hipify-tool]`` table, or its top level when it has none),
    or else the nearest ``pyproject.toml`` with the table above ``start`` (default: the working dir)."""
    if path is None:
        path = find_config(start or Path.cwd())
        if path is None:
            return None
    path = Path(os.path.abspath(path))
    if not os.path.lexists(path):
        raise UsageError(f"{path}: configuration file not found")
    document = _load_toml(path)
    table = _table(document)
    if table is None:
        if path.name == "pyproject.toml":
            raise UsageError(f"{path}: has no [tool.{TABLE}] table")
        table = document
    return Config(path, _checked(path, table))
