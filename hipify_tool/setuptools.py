"""``CUDAExtension`` and ``BuildExtension`` for ``setup.py``: torch's own, with the ROCm translation
moved out of the source tree and into the build.

On CUDA both are exactly ``torch.utils.cpp_extension``'s. On ROCm, torch's ``CUDAExtension`` runs
PyTorch's hipify in place while ``setup.py`` is read; ours builds torch's extension with nothing to
translate, and :class:`BuildExtension` translates each such extension's sources (and the headers they
reach) with hipify-tool into ``build_temp`` when the extension is built, then hands torch's build the
translations. This module imports torch: only ``setup.py`` files (which import it anyway) use it.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import logging
import os
import sys
import types
from collections.abc import Iterable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TextIO

from .errors import EnvironmentProblem, HipifyToolError, UsageError
from .includes import is_within

__all__ = ["CUDAExtension", "CppExtension", "BuildExtension", "RocmSources", "is_rocm"]

_cpp: Any = importlib.import_module("torch.utils.cpp_extension")
"""torch's module, typed loosely: its ``BuildExtension`` is created on first access."""
_Extension: Any = importlib.import_module("setuptools").Extension
"""setuptools' ``Extension`` (setuptools ships no type information)."""

CppExtension = _cpp.CppExtension
"""torch's ``CppExtension``, unchanged (nothing to translate), so one import line serves a setup.py."""

_MARK = "hipify_tool"
"""The attribute :func:`CUDAExtension` sets on a ROCm extension for :class:`BuildExtension`."""

_HIPIFY_SUMMARY = (
    "Successfully preprocessed all matching files.",
    "Total number of unsupported CUDA function calls:",
    "Total number of replaced kernel launches:",
)
"""What torch's hipify prints even when it is given nothing to translate."""


def is_rocm() -> bool:
    """Whether the installed torch builds extensions for ROCm (torch's own ``IS_HIP_EXTENSION``)."""
    return bool(_cpp.IS_HIP_EXTENSION)


@dataclass(frozen=True)
class RocmSources:
    """What :class:`BuildExtension` needs to translate one extension, recorded when it is declared."""

    project_dir: str
    """Where ``setup.py`` runs (torch's in-place hipify uses the same directory): sources and the
    headers translated with them must lie under it."""
    hip_sources: frozenset[str]
    """Absolute paths of the sources that are HIP already: compiled as they are, never translated."""


Macro = tuple[str, str | None]


def _rocm_macros(define_macros: Sequence[Macro], extra_compile_args: Any) -> list[Macro]:
    """The macros a ROCm extension gets besides its own: ``USE_ROCM`` (which torch's ROCm flags set
    and translated sources test), and ``HIPIFY_V2`` when the installed torch's hipify is 2.x (its
    names differ from 1.x; projects such as flash-attention define it by hand). A macro the project
    defines itself, in ``define_macros`` or as a ``-D`` flag, is left to the project."""
    version: str = importlib.import_module("torch.utils.hipify.version").__version__
    wanted: list[Macro] = [("USE_ROCM", "1")]
    if int(version.split(".")[0]) >= 2:
        wanted.append(("HIPIFY_V2", None))
    flags = extra_compile_args.values() if isinstance(extra_compile_args, dict) else [extra_compile_args or []]
    given = {name for name, _ in define_macros}
    given |= {flag[2:].split("=", 1)[0] for group in flags for flag in group if flag.startswith("-D")}
    return [macro for macro in wanted if macro[0] not in given]


def CUDAExtension(name: str, sources: Sequence[str], *args: Any, hip_sources: Iterable[str] = (), **kwargs: Any) -> Any:
    """torch's ``CUDAExtension``; on ROCm without its in-place hipify (:class:`BuildExtension`
    translates at build time).

    ``hip_sources``: entries of ``sources`` that are HIP already (hand-written HIP, Composable Kernel
    ``.cpp`` files), compiled by hipcc as they are; a ``.hip`` source always is. Ignored on CUDA.
    """
    if not is_rocm():
        return _cpp.CUDAExtension(name, sources, *args, **kwargs)
    given = [os.fspath(s) for s in sources]
    absolute = {os.path.abspath(s) for s in given}
    hip = {os.path.abspath(os.fspath(s)) for s in hip_sources}
    if hip - absolute:
        missing = ", ".join(sorted(hip - absolute))
        _exit(UsageError(f"{name}: hip_sources must also be listed in sources: {missing}"))
    hip |= {s for s in absolute if s.endswith(".hip")}
    ext = _without_hipify(name, args, kwargs)
    ext.__class__ = _RocmExtension  # the same object, but it refuses a build that did not translate it
    ext.sources = given
    ext.define_macros = [*ext.define_macros, *_rocm_macros(ext.define_macros, ext.extra_compile_args)]
    setattr(ext, _MARK, RocmSources(project_dir=os.getcwd(), hip_sources=frozenset(hip)))
    return ext


class _RocmExtension(_Extension):  # type: ignore[misc]
    """torch's extension as :func:`CUDAExtension` returns it on ROCm, whose sources are still CUDA.

    setuptools' ``build_ext`` calls the hook below first thing for every extension it builds; unless
    :class:`BuildExtension` has put the translations in place, the build stops here instead of
    compiling the CUDA sources for ROCm (torch's own ``BuildExtension`` would)."""

    _hipify_tool_translated = False

    def _convert_pyx_sources_to_lang(self) -> None:
        if not self._hipify_tool_translated:
            _exit(
                UsageError(
                    f"{self.name}: built without hipify_tool.setuptools.BuildExtension, which translates its "
                    "sources for ROCm; use it as build_ext (cmdclass={'build_ext': BuildExtension})"
                )
            )
        super()._convert_pyx_sources_to_lang()


def _without_hipify(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """torch's ROCm extension (its include dirs, libraries, flags), given no source to hipify.

    torch's ``CUDAExtension`` imports its hipify module only to translate the sources in place, and
    that import alone costs ~0.4 s (its top level compiles PyTorch's tables into regexes), paid at
    every read of ``setup.py``. For the call, a stand-in that translates nothing answers in its place
    (:func:`_hipify_stand_in`). Should a torch reach its hipify some other way, it is still given no
    file to write: its summary lines are dropped and anything else it printed is passed on.
    """
    out, err = io.StringIO(), io.StringIO()
    try:
        with _hipify_stand_in(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            return _cpp.CUDAExtension(name, [], *args, **kwargs)
    finally:
        _pass_on(out.getvalue(), sys.stdout)
        _pass_on(err.getvalue(), sys.stderr)


_HIPIFY_MODULE = "torch.utils.hipify.hipify_python"


@contextlib.contextmanager
def _hipify_stand_in() -> Iterator[None]:
    """``torch.utils.hipify.hipify_python`` replaced, for the duration, by a module whose ``hipify()``
    translates nothing (and refuses files to translate); the real one, imported or not, is restored."""
    package = importlib.import_module("torch.utils.hipify")
    stand_in = types.ModuleType(_HIPIFY_MODULE)

    def hipify(**kwargs: Any) -> dict[str, Any]:
        if list(kwargs.get("extra_files", ())):
            raise RuntimeError("hipify_tool.setuptools: torch asked to hipify sources in place")
        return {}

    stand_in.hipify = hipify  # type: ignore[attr-defined]
    places: list[tuple[MutableMapping[str, Any], str]] = [
        (sys.modules, _HIPIFY_MODULE),
        (vars(package), "hipify_python"),
    ]
    saved = [(namespace, key, namespace.get(key)) for namespace, key in places]
    for namespace, key in places:
        namespace[key] = stand_in
    try:
        yield
    finally:
        for namespace, key, value in saved:
            if value is None:
                namespace.pop(key, None)
            else:
                namespace[key] = value


def _pass_on(text: str, stream: TextIO) -> None:
    for line in text.splitlines():
        if line.strip() and not any(marker in line for marker in _HIPIFY_SUMMARY):
            print(line, file=stream)


class BuildExtension(_cpp.BuildExtension):  # type: ignore[misc]
    """torch's ``BuildExtension`` (same options: ``use_ninja``, ``no_python_abi_suffix``, ...).

    An extension from :func:`CUDAExtension` on ROCm is translated when it is built: its sources and
    the headers they reach go to ``<build_temp>/hipify/<extension name>``, and setuptools is handed
    the translations in the order the sources were given, with the translated images of the include
    dirs searched first. Unchanged outputs keep their bytes and mtime; runs into one output root take
    turns. A failed translation stops the build with hipify-tool's message and exit code.
    """

    def build_extension(self, ext: Any) -> None:
        spec = getattr(ext, _MARK, None)
        if not isinstance(spec, RocmSources):
            super().build_extension(ext)
            return
        original = ext.sources, ext.include_dirs
        try:
            ext.sources, ext.include_dirs = self._translate(ext, spec)
        except HipifyToolError as exc:
            _exit(exc)
        ext._hipify_tool_translated = True
        try:
            super().build_extension(ext)
        finally:  # the declared sources stay the CUDA ones (sdist, egg_info, a second command)
            ext.sources, ext.include_dirs = original
            del ext._hipify_tool_translated

    def _translate(self, ext: Any, spec: RocmSources) -> tuple[list[str], list[str]]:
        """The sources and include dirs to compile ``ext`` with, its translation done."""
        cwd = os.getcwd()
        root = os.path.abspath(os.path.join(self.build_temp, "hipify", ext.name))
        sources = [os.path.abspath(s) for s in ext.sources]
        include_dirs = [os.path.abspath(d) for d in ext.include_dirs]
        searched = _existing([*include_dirs, *(os.path.abspath(d) for d in self.compiler.include_dirs or [])])
        translate = [s for s in sources if s not in spec.hip_sources]
        outputs = self._run(ext.name, spec.project_dir, root, translate, searched) if translate else {}
        compiled: list[str] = []
        for given, source in zip(ext.sources, sources, strict=True):
            if source in outputs:
                compiled.append(_setuptools_path(outputs[source], cwd))
            elif source.endswith(".hip"):
                compiled.append(given)
            else:
                compiled.append(_setuptools_path(_hip_unit(source, self.build_temp, ext.name, spec.project_dir), cwd))
        return compiled, _include_dirs(include_dirs, searched, spec.project_dir, root)

    def _run(self, name: str, project: str, root: str, sources: list[str], searched: list[str]) -> dict[str, str]:
        """Translate ``sources`` into ``root``: source -> its translation (absolute paths)."""
        from .api import run_with_options  # deferred: reading setup.py (egg_info, pip's hooks) needs none of it
        from .options import Options

        options = Options(
            project_dir=Path(project),
            output_dir=Path(root),
            sources=tuple(map(Path, sources)),
            include_dirs=tuple(map(Path, searched)),
            jobs=1 if self.parallel else None,  # setuptools' --parallel builds in threads: no forking
        )
        result = run_with_options(options)  # answered from the state record when nothing changed
        for warning in result.warnings:
            print(f"hipify-tool: warning: {warning}", file=sys.stderr)
        outcome = result.outcome
        logging.getLogger(__name__).info(
            "hipify-tool: %s: %d sources and %d headers in %s (%d translated, %d written)",
            name,
            len(outcome.inputs),
            outcome.file_count - len(outcome.inputs),
            root,
            outcome.translated_count,
            len(result.written),
        )
        return dict(zip(outcome.inputs, outcome.input_outputs, strict=True))


def _exit(exc: HipifyToolError) -> NoReturn:
    """Stop the build as the command line would: one line per problem, hipify-tool's exit code."""
    for line in str(exc).splitlines() or [type(exc).__name__]:
        print(f"hipify-tool: error: {line}", file=sys.stderr)
    raise SystemExit(exc.exit_code) from None


def _existing(dirs: Iterable[str]) -> list[str]:
    """The directories a compiler searches: those that exist, each once, in order."""
    return list(dict.fromkeys(d for d in dirs if os.path.isdir(d)))


def _include_dirs(include_dirs: list[str], searched: list[str], project: str, root: str) -> list[str]:
    """The extension's include dirs for the compile, as the translation searched them: each dir
    inside the project replaced by its image in the output root (where the translation put what it
    found there; a dir outside is only read), the images of the compiler's own project dirs next,
    then the project's dirs themselves, for headers only untranslated HIP sources include."""

    def image(d: str) -> str | None:
        path = os.path.join(root, os.path.relpath(d, project))
        return path if os.path.isdir(path) else None

    first = [image(d) if is_within(d, project) else d for d in include_dirs]
    images = [image(d) for d in searched if is_within(d, project)]
    originals = [d for d in include_dirs if is_within(d, project)]
    return list(dict.fromkeys(d for d in [*first, *images, *originals] if d is not None))


def _setuptools_path(path: str, cwd: str) -> str:
    """Relative to the setup.py directory where possible (setuptools' convention), ``/``-separated."""
    if is_within(path, cwd):
        path = os.path.relpath(path, cwd)
    return path.replace(os.sep, "/")


def _hip_unit(source: str, build_temp: str, name: str, project: str) -> str:
    """A ``.hip`` file that includes ``source`` by its absolute path, so that torch's build hands a
    HIP source with another extension (a Composable Kernel ``.cpp``) to hipcc; its includes resolve
    from its own directory as before. Rewritten only when it changes."""
    rel = os.path.relpath(source, project) if is_within(source, project) else source.lstrip(os.sep)
    unit = os.path.abspath(os.path.join(build_temp, "hipify-units", name, rel + ".hip"))
    text = f'// compiles {source} as HIP, untranslated (hipify_tool.setuptools)\n#include "{source}"\n'
    _write_if_changed(unit, text.encode())
    return unit


def _write_if_changed(path: str, data: bytes) -> None:
    try:
        with open(path, "rb") as f:
            if f.read() == data:
                return
    except OSError:
        pass
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        temp = f"{path}.{os.getpid()}.tmp"
        with open(temp, "wb") as f:
            f.write(data)
        os.replace(temp, path)
    except OSError as exc:
        raise EnvironmentProblem(f"{path}: cannot write ({exc.strerror})") from None
