"""``hipify-tool init DIR``: a new PyTorch extension project that builds for CUDA and ROCm.

The project comes from ``templates/project`` (shipped in the wheel as ``hipify_tool/templates/project``):
scikit-build-core, a CMakeLists.txt that compiles the CUDA sources with nvcc or translates them with
``hipify_tool_target_sources()`` for ROCm, one kernel, the op bindings and a Python wrapper. Placeholders are
``{{name}}`` (the package and op namespace), ``{{NAME}}`` (its CMake prefix), ``{{dist_name}}`` (the
distribution name); a path component ``__name__`` becomes the name; ``gitignore`` becomes ``.gitignore``.
"""

from __future__ import annotations

import keyword
import os
import re
from pathlib import Path

from .errors import EnvironmentProblem, UsageError

__all__ = ["template_dir", "init_project", "project_name"]


def template_dir() -> Path:
    """The project template: in the installed package first, then in the source checkout."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "templates" / "project", package.parent / "templates" / "project"):
        if (candidate / "CMakeLists.txt").is_file():
            return candidate
    raise EnvironmentProblem(f"{package}: the project template is missing; reinstall hipify-tool")


def project_name(directory: Path, name: str | None) -> str:
    """A valid Python identifier (and torch op namespace) for the project."""
    if name is None:
        base = Path(os.path.abspath(directory)).name
        name = re.sub(r"\W+", "_", base.replace("-", "_")).strip("_").lower()
        if name and name[0].isdigit():
            name = f"ext_{name}"
    if not name or not name.isidentifier() or keyword.iskeyword(name) or name in ("torch", "hipify_tool"):
        raise UsageError(f"{name!r} is not a usable package name; pass --name NAME (a Python identifier)")
    return name


def init_project(directory: Path, *, name: str | None = None, force: bool = False) -> list[Path]:
    """Write the project into ``directory``; returns the files written. Never overwrites a file."""
    name = project_name(directory, name)
    target = Path(os.path.abspath(directory))
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target}: exists and is not a directory")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise UsageError(f"{target}: directory is not empty (--force writes into it, keeping existing files)")
    values = {"{{NAME}}": name.upper(), "{{name}}": name, "{{dist_name}}": name.replace("_", "-")}
    source = template_dir()
    written: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(source):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for filename in sorted(filenames):
            template = Path(dirpath) / filename
            rel = template.relative_to(source).as_posix().replace("__name__", name)
            if rel == "gitignore":
                rel = ".gitignore"
            dest = target / rel
            if os.path.lexists(dest):  # kept, a link too: never written through
                continue
            text = template.read_text(encoding="utf-8")
            for placeholder, value in values.items():
                text = text.replace(placeholder, value)
            try:
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise EnvironmentProblem(f"{dest}: cannot write ({exc.strerror})") from None
            written.append(dest)
    return written
