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
files' sizes and mtimes and the build's ``-D`` macros, so later runs (and ``plan``) read it instead.

The headers' conditionals are evaluated as an AMD compile with the build's ``-D`` macros sees them
(``HIP_ENABLE_WARP_SYNC_BUILTINS`` turns on ``__shfl_xor_sync``). Besides every identifier, the index
keeps the CUDA-looking names the headers *declare* (a function, type, macro ... the report's
declaration finder recognises): a leftover the target declares compiles there.

Which ROCm: :func:`discover`, the one search ``doctor`` uses too.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeGuard

from .errors import UsageError
from .fileio import read_regular
from .preprocessor import ROCM, BranchLines, Target, branch_lines

__all__ = [
    "Library",
    "LIBRARIES",
    "RocmHeaders",
    "RocmRoot",
    "Support",
    "discover",
    "locate",
    "library_of",
    "INDEX_FORMAT",
    "DEFAULT_ROOTS",
]

INDEX_FORMAT = 2
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
_HIP = LIBRARIES[-1]

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
    declared: frozenset[str] = frozenset()
    """Names matching the ``declarations`` pattern that the headers declare."""


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
    defines: Mapping[str, int | None] = field(default_factory=dict)
    """The build's ``-D`` macros: the headers' conditionals are evaluated with them."""
    declarations: re.Pattern[str] | None = None
    """Names whose declarations the index records (the report's CUDA-looking names)."""
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
        return f"{'HIP ' + short if short else 'HIP'} headers under {self.include}"

    def declares(self, name: str) -> bool:
        """Whether the target's HIP headers declare ``name`` (one of the ``declarations`` names) in
        code an AMD compile with the build's macros sees: ``__shfl_xor_sync`` under
        ``-D HIP_ENABLE_WARP_SYNC_BUILTINS`` on ROCm 6.2."""
        index = self._index(_HIP)
        return index is not None and name in index.declared

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
        relevant = self.declarations.pattern if self.declarations is not None else None
        key = [INDEX_FORMAT, str(self.include), files, sorted(self.defines.items()), relevant]
        digest = hashlib.sha256(json.dumps(key).encode()).hexdigest()[:24]
        cache = self._cache_path(lib)
        if cache is not None:
            cached = _read_cache(cache, digest)
            if cached is not None:
                return cached
        headers = {rel for rel, _, _ in files}
        headers |= {rel.rsplit("/", i)[0] for rel in headers for i in range(1, rel.count("/") + 1)}
        target = ROCM.with_defines(self.defines)
        names, declared = _scan(self.include, [rel for rel, _, _ in files], target, self.declarations)
        index = _Index(frozenset(names), frozenset(headers), frozenset(declared))
        if cache is not None and self.write_cache:
            from .confinement import write_cache_file

            doc = {"format": INDEX_FORMAT, "digest": digest, "names": sorted(index.names)}
            doc.update(headers=sorted(index.headers), declared=sorted(index.declared))
            # a cache: when it cannot be written, the next run indexes again
            write_cache_file(cache, json.dumps(doc) + "\n")
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
    names, headers, declared = doc.get("names"), doc.get("headers"), doc.get("declared")
    if not (_strings(names) and _strings(headers) and _strings(declared)):
        return None
    return _Index(frozenset(names), frozenset(headers), frozenset(declared))


def _strings(value: object) -> TypeGuard[list[str]]:
    return type(value) is list and all(type(v) is str for v in value)


def _scan(
    include: Path, rels: list[str], target: Target, declarations: re.Pattern[str] | None
) -> tuple[set[str], set[str]]:
    """Every identifier in code an AMD compile of these headers may see, and every ``#define``d name;
    and of those ``declarations`` matches, the ones a header declares on lines the compile surely
    takes (looked for only in the few files that use such a name): a leftover counts as declared only
    when nothing unknown guards it (``#ifdef HIP_ENABLE_WARP_SYNC_BUILTINS`` without that ``-D``)."""
    names: set[str] = set()
    scanned: list[tuple[str, str, BranchLines, set[str]]] = []
    for rel in rels:
        if not rel.endswith(_HEADER_SUFFIXES) and "." in rel.rsplit("/", 1)[-1]:
            continue  # .f90 modules, .cmake files, docs: not C++
        try:
            text = read_regular(include / rel).decode("utf-8", "surrogateescape")
        except OSError:
            continue
        code = _NOT_CODE.sub(lambda m: " " + "\n" * m.group(0).count("\n"), text)
        lines = branch_lines(code, target)
        own: set[str] = set()
        for i, line in enumerate(code.split("\n")):
            if not lines.taken[i]:
                continue
            kind = lines.directive[i]
            if kind is None:
                own.update(_IDENT.findall(line))
            elif kind == "define":
                m = _DEFINED.match(line)
                if m is not None:
                    own.add(m.group(1))
        names |= own
        if declarations is not None:
            scanned.append((rel, code, lines, own))
    declared: set[str] = set()
    candidates = {n for n in names if declarations.fullmatch(n)} if declarations is not None else set()
    if candidates:
        from .report.declarations import find_declarations

        wanted = re.compile("|".join(map(re.escape, sorted(candidates))))
        for rel, code, lines, own in scanned:
            if own & candidates:
                found = find_declarations(code, rel, lines.surely, lines.directive, wanted, few=True)
                declared.update(d.identifier for d in found)
    return names, declared


DEFAULT_ROOTS: tuple[tuple[Path, str], ...] = (
    (Path("/opt/rocm"), "the default /opt/rocm"),
    (Path("/usr"), "the system's /usr"),
)
"""Where ROCm is looked for when neither ``--rocm-path`` nor the environment names it, in order
(``/usr``: a distribution's HIP packages, such as Debian's ``libamdhip64-dev``)."""


@dataclass(frozen=True)
class RocmRoot:
    """A ROCm root with HIP headers, and how it was found."""

    root: Path
    found_by: str
    """``--rocm-path``, ``$ROCM_PATH``, ``$HIP_PATH``, or one of :data:`DEFAULT_ROOTS`' descriptions."""


def _has_hip(root: Path) -> bool:
    return (root / "include" / _SENTINEL).is_file()


def discover(
    rocm_path: Path | None,
    environ: Mapping[str, str],
    *,
    defaults: Sequence[tuple[Path, str]] = DEFAULT_ROOTS,
) -> RocmRoot | str:
    """The target ROCm: ``rocm_path``, else ``$ROCM_PATH``, else ``$HIP_PATH``, else the first of
    ``defaults`` with HIP headers; or, as text, what was looked at. The one search: the report and
    ``doctor`` both use it.

    A ``rocm_path`` given explicitly must hold HIP headers (a usage error otherwise). The environment
    is only looked at, but a variable that is set decides: one without HIP headers finds none (no
    default is taken in its place).
    """
    if rocm_path is not None:
        if not _has_hip(rocm_path):
            raise UsageError(f"{rocm_path}: --rocm-path has no HIP headers (no include/{_SENTINEL})")
        return RocmRoot(rocm_path, "--rocm-path")
    tried: list[str] = ["no --rocm-path"]
    for var in ("ROCM_PATH", "HIP_PATH"):
        value = environ.get(var)
        if not value:
            tried.append(f"${var} is not set")
            continue
        path = Path(os.path.abspath(value))
        if _has_hip(path):
            return RocmRoot(path, f"${var}")
        tried.append(f"${var}={value} has no include/{_SENTINEL}")
        return "no ROCm headers found (" + ", ".join(tried) + ")"  # the environment's choice, not a default
    for root, description in defaults:
        if _has_hip(root):
            return RocmRoot(root, description)
        tried.append(f"{root}/include/{_SENTINEL} does not exist")
    return "no ROCm headers found (" + ", ".join(tried) + ")"


def locate(
    rocm_path: Path | None,
    environ: Mapping[str, str],
    *,
    cache_dir: Path | None = None,
    write_cache: bool = False,
    defines: Mapping[str, int | None] | None = None,
    declarations: re.Pattern[str] | None = None,
) -> RocmHeaders | str:
    """The target's headers (:func:`discover`), or why there are none."""
    found = discover(rocm_path, environ)
    if isinstance(found, str):
        return found + ", so no name can be checked; pass --rocm-path DIR"
    return RocmHeaders(found.root, found.found_by, cache_dir, write_cache, dict(defines or {}), declarations)
