"""What the target ROCm declares, read from its headers (no compiler is run).

The report's ``unsupported`` findings come from here: a replacement whose HIP name the target's
headers do not declare will not compile there, whatever PyTorch's tables say. The headers are found
under ``--rocm-path DIR`` (else ``$ROCM_PATH``, else ``/opt/rocm``) in ``DIR/include``: ``hip/`` and
each ROCm library present (``hipcub/``, ``rocprim/``, ``hipblas/`` ...), each indexed only when a
replacement names that library.

A header "declares" every identifier that appears in its code as an AMD compile sees it: comments,
string literals, macro bodies and branches for other platforms (``nvidia_detail/``,
``#ifdef __HIP_PLATFORM_NVIDIA__``) are left out, ``#define`` names are in. Code in a header that
compiles can only use names declared in the same header set (or by the compiler), so this by-name
index errs towards "declared": a name it lacks is surely missing. Indexing HIP 5.2's headers takes
0.1-0.2 s; a run keeps each library's index in its output root's state dir, keyed by the header
files' sizes and mtimes, so later runs (and ``plan``) read it instead.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeGuard

from .errors import UsageError
from .fileio import read_regular
from .preprocessor import ROCM, branch_lines

__all__ = ["Library", "LIBRARIES", "RocmHeaders", "Support", "locate", "library_of", "INDEX_FORMAT"]

INDEX_FORMAT = 1
"""Bumped when the index's content changes meaning: older cache files are then rebuilt."""

_SENTINEL = "hip/hip_runtime_api.h"
"""The file that makes ``DIR/include`` a HIP include dir."""


@dataclass(frozen=True)
class Library:
    """A ROCm library whose headers live in ``include/<dirs>`` (and, in older layouts, ``include/<dir>*.h``)."""

    name: str
    dirs: tuple[str, ...]
    names: re.Pattern[str] | None
    """Its HIP names (``hipblas…``, ``HIPBLAS_…``); ``None`` for a library named by namespace only."""
    namespace: str | None = None
    """``hipcub`` for ``hipcub::BlockReduce``: the qualified names belong to this library."""


LIBRARIES: tuple[Library, ...] = (
    Library("hipblaslt", ("hipblaslt",), re.compile(r"hipblasLt\w*|hipblaslt\w*|HIPBLASLT_\w*")),
    Library("hipblas", ("hipblas",), re.compile(r"hipblas\w*|HIPBLAS_\w*")),
    Library("hipsparselt", ("hipsparselt",), re.compile(r"hipsparseLt\w*|hipsparselt\w*|HIPSPARSELT_\w*")),
    Library("hipsparse", ("hipsparse",), re.compile(r"hipsparse\w*|HIPSPARSE_\w*")),
    Library("hiprand", ("hiprand",), re.compile(r"hiprand\w*|HIPRAND_\w*")),
    Library("rocrand", ("rocrand",), re.compile(r"rocrand\w*|ROCRAND_\w*")),
    Library("hipfft", ("hipfft",), re.compile(r"hipfft\w*|HIPFFT_\w*")),
    Library("hipsolver", ("hipsolver",), re.compile(r"hipsolver\w*|HIPSOLVER_\w*")),
    Library("miopen", ("miopen",), re.compile(r"miopen\w*|MIOPEN_\w*")),
    Library("rocblas", ("rocblas",), re.compile(r"rocblas\w*|ROCBLAS_\w*")),
    Library("roctracer", ("roctracer",), re.compile(r"roctx\w*|roctracer\w*")),
    Library("rocm_smi", ("rocm_smi",), re.compile(r"rsmi_\w*|RSMI_\w*")),
    Library("rccl", ("rccl",), None),
    Library("hipcub", ("hipcub",), None, "hipcub"),
    Library("rocprim", ("rocprim",), None, "rocprim"),
    Library("rocshmem", ("rocshmem",), None, "rocshmem"),
    Library("rocthrust", ("thrust",), None, "thrust"),
    Library("hip", ("hip",), re.compile(r"hip\w+|HIP_\w+|HIPRTC_\w+|__hip\w+|ihip\w+|make_hip\w+")),
)
"""Checked in order: the first whose pattern matches a HIP name owns it (``hipblas…`` before ``hip…``)."""

_SKIPPED_DIRS = frozenset({"nvidia_detail", "nvcc_detail"})
"""NVIDIA-platform implementations inside ROCm's headers: not what an AMD compile sees."""
_SKIPPED_PATHS = ("hipcub/backend/cub",)
_HEADER_SUFFIXES = (".h", ".hpp", ".hh", ".hxx", ".inl", ".cuh", ".tpp", ".ipp")
_QUALIFIED = re.compile(r"[A-Za-z_]\w*(?:\s*::\s*[A-Za-z_]\w*)*")
_IDENT = re.compile(r"[A-Za-z_]\w*")
_DEFINED = re.compile(r"[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)")
# Comments and literals, each alternative led by a literal character so the engine can skip ahead
# (5x faster than preprocessor.blank, which also keeps columns and raw strings: not needed here).
_NOT_CODE = re.compile(
    r"""/(?:/(?:[^\n\\]|\\.|\\\n)*|\*.*?(?:\*/|\Z))|"(?:[^"\\\n]|\\.|\\\n)*"?|'(?<![\w']')(?:[^'\\\n]|\\.)*'?""",
    re.S,
)
_HEADER_VALUE = re.compile(r"(?:[\w.+-]+/)*[\w+-]+\.(?:h|hpp|cuh|hh|inl)")
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def library_of(hip_name: str) -> tuple[Library, str] | None:
    """The library a replacement belongs to and the name to look up there, or ``None`` when the
    name is not a ROCm library's (PyTorch's own names, compiler macros, ``USE_ROCM``)."""
    qualified = _QUALIFIED.search(hip_name)
    if qualified is None:
        return None
    parts = [p.strip() for p in qualified.group(0).split("::")]
    for lib in LIBRARIES:  # hipcub::BlockReduce, and hipcub:: itself
        if lib.namespace is not None and parts[0] == lib.namespace:
            return lib, parts[-1]
    if len(parts) > 1:  # c10::hip::HIPStream is PyTorch's, not ROCm's
        return None
    for lib in LIBRARIES:
        if lib.names is not None and lib.names.fullmatch(parts[0]):
            return lib, parts[0]
    return None


def header_of(hip_value: str) -> tuple[Library, str] | None:
    """For a replacement that is a header (``hip/hip_bf16.h``), its library and the path. A path
    without a header's suffix (Caffe2's ``hip/mixed_utils``) is part of a longer include path: not one."""
    path = hip_value.strip().removeprefix("include").strip().strip('<>"')  # 'include <hip/hip_runtime.h'
    if _HEADER_VALUE.fullmatch(path) is None:
        return None
    first = path.split("/", 1)[0]
    for lib in LIBRARIES:
        if first in lib.dirs or ("/" not in path and _flat_header(lib, path)):
            return lib, path
    return None


def _flat_header(lib: Library, name: str) -> bool:
    """``include/hipblas.h``, ``include/rocblas-types.h``: a library's headers in older layouts."""
    return lib.name != "hip" and any(re.fullmatch(rf"{d}(?:[-_][\w-]*)?\.\w+", name) for d in lib.dirs)


Status = Literal["declared", "missing", "unchecked"]


@dataclass(frozen=True)
class Support:
    """What the target's headers say about one HIP name."""

    status: Status
    library: str | None = None
    name: str | None = None
    """The name looked up (``BlockReduce`` for ``hipcub::BlockReduce``), or the header path."""
    closest: tuple[str, ...] = ()
    """For a missing name: the closest declared names (difflib), best first."""


@dataclass(frozen=True)
class _Index:
    names: frozenset[str]
    headers: frozenset[str]
    """Relative paths under ``include/`` of the library's files, and each of their parent dirs."""


@dataclass
class RocmHeaders:
    """The headers under one ``include/`` dir, indexed per library on first use."""

    root: Path
    """The ROCm root (``--rocm-path``)."""
    found_by: str
    """How it was found: ``--rocm-path``, ``$ROCM_PATH`` or ``the default /opt/rocm``."""
    cache_dir: Path | None = None
    """Where indexes are read from (and written to, when ``write_cache``)."""
    write_cache: bool = False
    _indexes: dict[str, _Index | None] = field(default_factory=dict, init=False, repr=False)
    _closest: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict, init=False, repr=False)
    _words: dict[str, dict[str, list[str]]] = field(default_factory=dict, init=False, repr=False)

    @property
    def include(self) -> Path:
        return self.root / "include"

    def version(self) -> str | None:
        """``MAJOR.MINOR.PATCH`` from ``hip/hip_version.h``."""
        try:
            text = read_regular(self.include / "hip" / "hip_version.h").decode("utf-8", errors="replace")
        except OSError:
            return None
        parts = [re.search(rf"#\s*define\s+HIP_VERSION_{p}\s+(\d+)", text) for p in ("MAJOR", "MINOR", "PATCH")]
        return ".".join(m.group(1) for m in parts if m) or None

    def describe(self) -> str:
        """``HIP 5.2 headers under /usr/include``: how reports name the target."""
        version = self.version()
        short = ".".join(version.split(".")[:2]) if version else None
        return f"{'HIP ' + short if short else 'the HIP'} headers under {self.include}"

    def check_name(self, hip_name: str) -> Support:
        """Whether the target declares ``hip_name`` (a replacement's identifier or header path)."""
        if "/" in hip_name and header_of(hip_name) is None:
            return Support("unchecked")  # a piece of a longer include path (thrust/system/hip)
        found = header_of(hip_name)
        if found is not None:
            lib, path = found
            index = self._index(lib)
            if index is None:
                return Support("unchecked", lib.name, path)
            if path in index.headers:
                return Support("declared", lib.name, path)
            return Support("missing", lib.name, path, self._closest_of(lib, path, index.headers, files_only=True))
        owned = library_of(hip_name)
        if owned is None:
            return Support("unchecked")
        lib, name = owned
        index = self._index(lib)
        if index is None:
            return Support("unchecked", lib.name, name)
        if name in index.names:
            return Support("declared", lib.name, name)
        return Support("missing", lib.name, name, self._closest_of(lib, name, index.names))

    def _closest_of(
        self, lib: Library, name: str, pool: frozenset[str], *, files_only: bool = False
    ) -> tuple[str, ...]:
        key = (lib.name, name)
        known = self._closest.get(key)
        if known is None:
            candidates = self._sharing_a_word(lib, name, pool) if not files_only else None
            if not candidates:
                candidates = [c for c in pool if not files_only or c.endswith(_HEADER_SUFFIXES)]
            matches = difflib.get_close_matches(name, candidates, n=8, cutoff=0.6)
            # difflib ranks hipDeviceGetP2PAttribute above hipDeviceP2PAttr for hipDeviceP2PAttribute:
            # a longer common prefix (leading underscores aside) is the better hint.
            stem = name.lstrip("_")
            matches.sort(key=lambda c: -_common_prefix(c.lstrip("_"), stem))
            known = self._closest[key] = tuple(matches[:3])
        return known

    def _sharing_a_word(self, lib: Library, name: str, pool: frozenset[str]) -> list[str]:
        """Declared names sharing a word with ``name`` (``Device``, ``P2P``, ``Attribute``), the
        library's prefix aside: what difflib compares (10x fewer than every name, same answers)."""
        words = self._words.get(lib.name)
        if words is None:
            words = self._words[lib.name] = {}
            for candidate in pool:
                for word in set(_WORDS.findall(candidate)):
                    words.setdefault(word.lower(), []).append(candidate)
        common = {"hip", "__hip", lib.name.lower()}
        found: set[str] = set()
        for word in set(_WORDS.findall(name)):
            if word.lower() not in common:
                found.update(words.get(word.lower(), ()))
        return sorted(found)

    # -- the index ----------------------------------------------------------------------------

    def _index(self, lib: Library) -> _Index | None:
        if lib.name not in self._indexes:
            self._indexes[lib.name] = self._load(lib)
        return self._indexes[lib.name]

    def _files(self, lib: Library) -> list[tuple[str, int, int]]:
        """``(relative path, size, mtime_ns)`` of the library's files, sorted."""
        include = str(self.include)
        found: list[tuple[str, int, int]] = []
        for d in lib.dirs:
            top = os.path.join(include, d)
            for dirpath, dirnames, filenames in os.walk(top):
                rel_dir = os.path.relpath(dirpath, include).replace(os.sep, "/")
                dirnames[:] = sorted(
                    n for n in dirnames if n not in _SKIPPED_DIRS and f"{rel_dir}/{n}" not in _SKIPPED_PATHS
                )
                for name in filenames:
                    try:
                        st = os.stat(os.path.join(dirpath, name))
                    except OSError:
                        continue
                    if stat.S_ISREG(st.st_mode):  # a FIFO or device is not a header (and reading it could hang)
                        found.append((f"{rel_dir}/{name}", st.st_size, st.st_mtime_ns))
        try:  # older layouts: include/hipblas.h beside include/hipblas/
            entries = sorted(os.listdir(include))
        except OSError:
            entries = []
        for name in entries:
            if _flat_header(lib, name) and name.endswith(_HEADER_SUFFIXES):
                try:
                    st = os.stat(os.path.join(include, name))
                except OSError:
                    continue
                if stat.S_ISREG(st.st_mode):
                    found.append((name, st.st_size, st.st_mtime_ns))
        return sorted(found)

    def _cache_path(self, lib: Library) -> Path | None:
        if self.cache_dir is None:
            return None
        where = hashlib.sha256(str(self.include).encode()).hexdigest()[:12]
        return self.cache_dir / f"rocm-index-{lib.name}-{where}.json"

    def _load(self, lib: Library) -> _Index | None:
        files = self._files(lib)
        if not files:
            return None
        digest = hashlib.sha256(json.dumps([INDEX_FORMAT, str(self.include), files]).encode()).hexdigest()[:24]
        cache = self._cache_path(lib)
        if cache is not None:
            cached = _read_cache(cache, digest)
            if cached is not None:
                return cached
        headers = {rel for rel, _, _ in files}
        headers |= {rel.rsplit("/", i)[0] for rel in headers for i in range(1, rel.count("/") + 1)}
        index = _Index(frozenset(_scan(self.include, [rel for rel, _, _ in files])), frozenset(headers))
        if cache is not None and self.write_cache:
            from .confinement import write_cache_file

            doc = {"format": INDEX_FORMAT, "digest": digest, "names": sorted(index.names)}
            # a cache: when it cannot be written, the next run indexes again
            write_cache_file(cache, json.dumps({**doc, "headers": sorted(index.headers)}) + "\n")
        return index


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _read_cache(path: Path, digest: str) -> _Index | None:
    """A cached index when it was made from the same files; anything unreadable or of another shape
    is rebuilt."""
    try:
        doc = json.loads(read_regular(path, follow=False))
    except (OSError, ValueError):
        return None
    if type(doc) is not dict or doc.get("format") != INDEX_FORMAT or doc.get("digest") != digest:
        return None
    names, headers = doc.get("names"), doc.get("headers")
    if not (_strings(names) and _strings(headers)):
        return None
    return _Index(frozenset(names), frozenset(headers))


def _strings(value: object) -> TypeGuard[list[str]]:
    return type(value) is list and all(type(v) is str for v in value)


def _scan(include: Path, rels: list[str]) -> set[str]:
    """Every identifier in code an AMD compile of these headers sees, and every ``#define``d name."""
    names: set[str] = set()
    for rel in rels:
        if not rel.endswith(_HEADER_SUFFIXES) and "." in rel.rsplit("/", 1)[-1]:
            continue  # .f90 modules, .cmake files, docs: not C++
        try:
            text = read_regular(include / rel).decode("utf-8", "surrogateescape")
        except OSError:
            continue
        code = _NOT_CODE.sub(lambda m: " " + "\n" * m.group(0).count("\n"), text)
        lines = branch_lines(code, ROCM)
        for i, line in enumerate(code.split("\n")):
            if not lines.taken[i]:
                continue
            kind = lines.directive[i]
            if kind is None:
                names.update(_IDENT.findall(line))
            elif kind == "define":
                m = _DEFINED.match(line)
                if m is not None:
                    names.add(m.group(1))
    return names


_DEFAULT_ROOT = Path("/opt/rocm")


def locate(
    rocm_path: Path | None,
    environ: Mapping[str, str],
    *,
    cache_dir: Path | None = None,
    write_cache: bool = False,
) -> RocmHeaders | str:
    """The target's headers: ``rocm_path``, else ``$ROCM_PATH``, else ``/opt/rocm``; or why none.

    A ``rocm_path`` given explicitly must hold HIP headers (a usage error otherwise); the other two
    are only looked at, and the returned text says what was looked at.
    """
    if rocm_path is not None:
        if not (rocm_path / "include" / _SENTINEL).is_file():
            raise UsageError(f"{rocm_path}: --rocm-path has no HIP headers (no include/{_SENTINEL})")
        return RocmHeaders(rocm_path, "--rocm-path", cache_dir, write_cache)
    tried: list[str] = ["no --rocm-path"]
    env = environ.get("ROCM_PATH")
    if env:
        path = Path(os.path.abspath(env))
        if (path / "include" / _SENTINEL).is_file():
            return RocmHeaders(path, "$ROCM_PATH", cache_dir, write_cache)
        tried.append(f"$ROCM_PATH={env} has no include/{_SENTINEL}")
    else:
        tried.append("$ROCM_PATH is not set")
    if (_DEFAULT_ROOT / "include" / _SENTINEL).is_file():
        return RocmHeaders(_DEFAULT_ROOT, f"the default {_DEFAULT_ROOT}", cache_dir, write_cache)
    tried.append(f"{_DEFAULT_ROOT}/include/{_SENTINEL} does not exist")
    return "no ROCm headers found (" + ", ".join(tried) + "), so no name can be checked; pass --rocm-path DIR"
