"""``[tool.hipify-tool]`` in ``pyproject.toml`` (or ``--config FILE``): a project's default options.

Keys are the :class:`~hipify_tool.options.Options` fields (in kebab-case or snake_case) plus the
command line's own ``run`` flags (:data:`FRONT_END_KEYS`); an unknown key is an error that names it.
Relative paths are taken from the directory of the file that holds them (not the working dir), so
``hipify-tool run`` gives the same result from anywhere in the project. Command-line flags override
the file, key by key (a repeatable flag given on the command line replaces the file's list).
"""

from __future__ import annotations

import difflib
import os
import sys
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from .errors import UsageError
from .options import LAUNCH_SYNTAXES, Options

__all__ = ["Config", "FRONT_END_KEYS", "find_config", "load_config", "option_keys", "parse_toml", "TABLE"]

TABLE = "hipify-tool"
"""The table under ``[tool]``."""

FRONT_END_KEYS: tuple[str, ...] = (
    "sources_from",
    "output_list",
    "list_format",
    "cmake_plan",
    "depfile",
    "stamp",
    "report",
    "report_file",
    "strict",
    "quiet",
    "verbose",
)
"""Keys for ``hipify-tool run``'s flags that are not :class:`Options` fields (the CLI validates them)."""

PATH_FRONT_END_KEYS: frozenset[str] = frozenset(
    {"sources_from", "output_list", "cmake_plan", "depfile", "stamp", "report_file"}
)


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
        return parse_toml(path.read_bytes())
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


def option_keys() -> dict[str, Any]:
    """Every :class:`Options` field and its type (the one model the file is validated against)."""
    hints = typing.get_type_hints(Options)
    return {f.name: hints[f.name] for f in fields(Options)}


@dataclass(frozen=True)
class Config:
    """One configuration file's table, keys normalised to snake_case."""

    path: Path
    values: Mapping[str, Any]

    @property
    def base(self) -> Path:
        """Relative paths in the file are taken from here."""
        return self.path.parent

    def check_keys(self, allowed: Iterable[str]) -> None:
        """Raise :class:`UsageError` naming the first key not in ``allowed``."""
        allowed = set(allowed)
        for key in self.values:
            if key not in allowed:
                hint = difflib.get_close_matches(key, sorted(allowed), n=1)
                extra = f" (did you mean {hint[0].replace('_', '-')!r}?)" if hint else ""
                raise UsageError(f"{self.path}: [tool.{TABLE}]: unknown key {key.replace('_', '-')!r}{extra}")

    def _error(self, key: str, message: str) -> UsageError:
        return UsageError(f"{self.path}: [tool.{TABLE}]: {key.replace('_', '-')}: {message}")

    def path_value(self, key: str, value: Any) -> Path:
        if not isinstance(value, str) or not value:
            raise self._error(key, f"expected a path (a string), got {value!r}")
        return Path(os.path.normpath(os.path.join(self.base, os.path.expanduser(value))))

    def option_value(self, key: str) -> Any:
        """The value of an :class:`Options` field, checked against the field's type, paths absolute."""
        hint = option_keys()[key]
        value = self.values[key]
        origin = typing.get_origin(hint)
        args = typing.get_args(hint)
        if hint is Path:
            return self.path_value(key, value)
        if origin is tuple:
            if not isinstance(value, list):
                raise self._error(key, f"expected a list, got {value!r}")
            if args[0] is Path:
                return tuple(self.path_value(key, v) for v in value)
            if not all(isinstance(v, str) for v in value):
                raise self._error(key, f"expected a list of strings, got {value!r}")
            return tuple(value)
        if hint is bool:
            if not isinstance(value, bool):
                raise self._error(key, f"expected true or false, got {value!r}")
            return value
        if key == "launch_syntax":
            if value not in LAUNCH_SYNTAXES:
                raise self._error(key, f"expected one of {', '.join(LAUNCH_SYNTAXES)}, got {value!r}")
            return value
        if key == "jobs":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise self._error(key, f"expected a positive integer, got {value!r}")
            return value
        return value  # pragma: no cover - a new field type: add a check above

    def options(self, **overrides: Any) -> Options:
        """An :class:`Options` from the file (front-end keys ignored), with ``overrides`` on top."""
        self.check_keys([*option_keys(), *FRONT_END_KEYS])
        values = {key: self.option_value(key) for key in self.values if key in option_keys()}
        values.update(overrides)
        missing = [k for k in ("project_dir", "output_dir") if k not in values]
        if missing:
            raise self._error(missing[0], "required (in the file or as an argument)")
        return Options(**values)


def load_config(path: Path | None = None, *, start: Path | None = None) -> Config | None:
    """``path`` (any TOML file: its ``[tool.hipify-tool]`` table, or its top level when it has none),
    or else the nearest ``pyproject.toml`` with the table above ``start`` (default: the working dir)."""
    if path is None:
        path = find_config(start or Path.cwd())
        if path is None:
            return None
    path = Path(os.path.abspath(path))
    if not path.is_file():
        raise UsageError(f"{path}: configuration file not found")
    document = _load_toml(path)
    table = _table(document)
    if table is None:
        if path.name == "pyproject.toml":
            raise UsageError(f"{path}: has no [tool.{TABLE}] table")
        table = document
    return Config(path, {str(k).replace("-", "_"): v for k, v in table.items()})
