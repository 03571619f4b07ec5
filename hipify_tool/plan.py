"""Plan stage: paths -> the complete output map and include graph, with every output's bytes.

Pure: it reads the project, the output root and its manifest, and writes nothing. Whether a header
keeps its name depends on whether its translated text differs from its source (PyTorch's rule), so
the plan translates in memory; :mod:`hipify_tool.materialise` only writes what the plan decided.
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import os
import posixpath
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .errors import FileProblem, PlanConflict, TranslationError, UsageError
from .graph import strongly_connected_components
from .manifest import STATE_DIR, Entry, Manifest
from .options import Options
from .translate import (
    Decoded,
    IncludeSite,
    TranslationFailure,
    Translator,
    add_breadcrumb,
    decode,
    encode,
    find_includes,
    is_pytorch_renamed_include,
    relative_include,
    rewrite_includes,
)

__all__ = ["Plan", "PlannedFile", "make_plan", "check_options", "discover_inputs", "hip_path", "options_key"]


def hip_path(rel: str) -> str:
    """PyTorch's extension-mode output name (``get_hip_file_path(rel, is_pytorch_extension=True)``)."""
    dirpath, filename = posixpath.split(rel)
    root, ext = posixpath.splitext(filename)
    if ext == ".cu":
        ext = ".hip"
    new_dir = dirpath.replace("cuda", "hip").replace("CUDA", "HIP").replace("THC", "THH")
    new_root = root.replace("cuda", "hip").replace("CUDA", "HIP")
    if new_dir != "caffe2/core":
        new_root = new_root.replace("THC", "THH")
    if new_dir == dirpath and new_root + ext == filename:
        new_root += "_hip"
    return posixpath.join(new_dir, new_root + ext)


@dataclass(frozen=True)
class PlannedFile:
    """One input and the output the run writes for it."""

    source: str
    """Relative to the project dir, POSIX separators."""
    output: str
    """Relative to the output root, POSIX separators."""
    translated: bool
    """False for files reached by ``#include`` whose extension is not translated: copied as they are."""
    changed: bool
    """The translation changed the text (an unchanged header keeps its name, as with PyTorch)."""
    includes: tuple[str, ...]
    """Planned files this file includes (sources), in the order written."""
    digest: str
    data: bytes | None
    """Bytes to write; ``None`` when the manifest shows the output on disk is already right."""
    entry: Entry


@dataclass(frozen=True)
class Plan:
    """Everything a run will do, decided before anything is written."""

    options: Options
    inputs: tuple[str, ...]
    """The given or selected inputs, in order (what ``run`` lists)."""
    files: dict[str, PlannedFile]
    """Every planned file, inputs and the headers they reach, by source path."""
    warnings: tuple[str, ...]
    stale: tuple[str, ...]
    """Outputs recorded in the manifest whose source no longer exists."""
    key: str
    translated_count: int
    """How many files went through translation in this plan (0 on a no-op rerun)."""

    def output_path(self, rel_output: str) -> Path:
        return self.options.output_dir / rel_output

    def source_path(self, rel_source: str) -> Path:
        return self.options.project_dir / rel_source

    def input_outputs(self) -> list[Path]:
        """One output per input, in input order: what a build compiles."""
        return [self.output_path(self.files[rel].output) for rel in self.inputs]

    def all_outputs(self) -> list[Path]:
        """Every file the run writes, sorted: what a build system declares as OUTPUT."""
        return sorted(self.output_path(f.output) for f in self.files.values())

    def dependencies(self) -> list[Path]:
        """Every file the plan read: what the outputs depend on."""
        return sorted(self.source_path(f.source) for f in self.files.values())


def options_key(options: Options, tables_fingerprint: str) -> str:
    """Fingerprint of everything besides the input bytes that changes outputs."""
    parts = [
        __version__,
        tables_fingerprint,
        options.launch_syntax,
        ",".join(options.extensions),
        str(options.project_dir),
        *(str(d) for d in options.include_dirs),
    ]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:20]


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _is_within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


@dataclass
class _Work:
    """Mutable per-file state while planning (never escapes this module)."""

    rel: str
    path: str
    data: bytes | None
    """Read lazily: a file whose size and mtime match the manifest is not read on a no-op run."""
    digest: str
    size: int
    mtime_ns: int
    translated: bool
    reused: Entry | None = None
    decoded: Decoded | None = None
    step1: str | None = None
    sites: list[IncludeSite] = field(default_factory=list)
    targets: list[tuple[str | None, str]] = field(default_factory=list)
    """Per site: (planned file it resolves to or None, directory it was found in)."""

    def load(self) -> bytes:
        if self.data is None:
            self.data = _read_bytes(self.path)
        return self.data


def _repeated(items: Sequence[str]) -> list[str]:
    return [item for item, count in Counter(items).items() if count > 1]


def _read_bytes(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror})") from None


def _die_with_parent(parent: int) -> None:
    """Translation worker initializer: exit once the run that forked it is gone.

    Workers inherit the output root's lock; if the run is killed (SIGKILL, the OOM killer), idle
    workers would otherwise live on holding it, and every later run into that root would wait for them.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.1)
        os._exit(1)

    threading.Thread(target=watch, name="hipify-tool-parent-watch", daemon=True).start()


def _translate_chunk(translator: Translator, items: list[tuple[str, str]]) -> list[str | TranslationFailure]:
    results: list[str | TranslationFailure] = []
    for rel, text in items:
        try:
            results.append(translator.translate(text, rel))
        except TranslationFailure as failure:
            results.append(failure)
    return results


class _Planner:
    """Holds one planning pass's inputs; a fresh instance per plan keeps calls independent."""

    def __init__(
        self,
        options: Options,
        manifest: Manifest,
        tables_fingerprint: str,
        make_translator: Callable[[], Translator],
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.o = options
        self._progress = progress
        self.manifest = manifest
        self.key = options_key(options, tables_fingerprint)
        self._make_translator = make_translator
        self._translator: Translator | None = None
        self.project = str(options.project_dir)
        self.prefix = os.path.join(self.project, "")
        self.output = str(options.output_dir)
        self._relative: dict[tuple[str, str], str] = {}
        self._resolved: dict[tuple[str, str, str], tuple[str | None, str]] = {}
        self.include_dirs = [os.path.relpath(d, self.project).replace(os.sep, "/") for d in options.include_dirs]
        self.include_dirs = ["" if d == "." else d for d in self.include_dirs]
        self.work: dict[str, _Work] = {}
        self.warnings: list[str] = []
        self.translation_problems: list[FileProblem] = []
        self._isfile: dict[str, bool] = {}
        self.translated_count = 0

    # -- inputs ---------------------------------------------------------------------------------

    def translator(self) -> Translator:
        if self._translator is None:
            self._translator = self._make_translator()
        return self._translator

    def is_translated(self, rel: str) -> bool:
        return rel.endswith(tuple(self.o.extensions))

    # -- reading and translating ----------------------------------------------------------------

    def _read(self, rels: Iterable[str], translated: Callable[[str], bool]) -> list[_Work]:
        """Fingerprint each file; like git's index, an unchanged size and mtime_ns skip the read."""
        batch = []
        for rel in rels:
            path = self.prefix + rel
            try:
                st = os.stat(path)
            except OSError as exc:
                raise UsageError(f"{path}: cannot read ({exc.strerror})") from None
            entry = self.manifest.entries.get(path)
            if entry is not None and entry.key != self.key:
                entry = None
            data: bytes | None = None
            if entry is not None and (entry.source_size, entry.source_mtime_ns) == (st.st_size, st.st_mtime_ns):
                digest = entry.digest
            else:
                data = _read_bytes(path)
                digest = _digest(data)
                if entry is not None and entry.digest != digest:
                    entry = None
            w = _Work(rel, path, data, digest, st.st_size, st.st_mtime_ns, translated(rel), reused=entry)
            self.work[rel] = w
            batch.append(w)
        return batch

    def _step1(self, batch: Sequence[_Work]) -> None:
        """Translation step 1 for files not reusable from the manifest, in parallel when it pays."""
        todo = [w for w in batch if w.translated and w.step1 is None and w.reused is None]
        todo = [w for w in todo if not self._is_binary(w)]
        if not todo:
            return
        for w in todo:
            w.decoded = decode(w.load())
        items = [(w.rel, w.decoded.text) for w in todo if w.decoded is not None]
        translator = self.translator()
        jobs = min(self.o.effective_jobs(), len(items))
        total = sum(len(t) for _, t in items)
        if jobs > 1 and total > 1_000_000:
            from concurrent.futures import ProcessPoolExecutor  # deferred: costs start-up otherwise
            from multiprocessing import get_context

            chunks = [items[i :: jobs * 2] for i in range(jobs * 2)]
            by_rel: dict[str, str | TranslationFailure] = {}
            with ProcessPoolExecutor(
                jobs, mp_context=get_context("fork"), initializer=_die_with_parent, initargs=(os.getpid(),)
            ) as pool:
                chunk_results = pool.map(_translate_chunk, [translator] * len(chunks), chunks)
                for chunk, results in zip(chunks, chunk_results, strict=True):
                    for (rel, _), result in zip(chunk, results, strict=True):
                        by_rel[rel] = result
                    self._report(len(by_rel), len(items))
            results_in_order = [by_rel[rel] for rel, _ in items]
        elif self._progress is None:
            results_in_order = _translate_chunk(translator, items)
        else:
            results_in_order = []
            for i in range(0, len(items), 32):
                results_in_order += _translate_chunk(translator, items[i : i + 32])
                self._report(len(results_in_order), len(items))
        for w, result in zip(todo, results_in_order, strict=True):
            if isinstance(result, TranslationFailure):
                self.translation_problems.append(result.problem)
                w.step1 = ""
            else:
                w.step1 = result
        self.translated_count += len(todo)

    def _is_binary(self, w: _Work) -> bool:
        """A NUL byte never occurs in C++ source: translating such a file would only corrupt it."""
        nul = w.load().find(b"\0")
        if nul == -1:
            return False
        self.translation_problems.append(
            FileProblem(w.rel, f"NUL byte at offset {nul}: binary data or UTF-16 text, not source hipify can translate")
        )
        w.step1 = ""
        w.decoded = decode(b"")
        return True

    def _report(self, done: int, batch: int) -> None:
        """Progress for front ends: files translated so far, of those known so far (headers add more)."""
        if self._progress is not None:
            self._progress(self.translated_count + done, self.translated_count + batch)

    def _sites(self, w: _Work) -> list[IncludeSite]:
        if w.reused is not None and w.step1 is None:
            return [IncludeSite(kind, path) for kind, path in w.reused.sites]  # type: ignore[arg-type]
        if not w.translated:
            return list(find_includes(decode(w.load()).text))
        assert w.step1 is not None
        return list(find_includes(w.step1))

    # -- include resolution ---------------------------------------------------------------------

    def _exists(self, path: str) -> bool:
        known = self._isfile.get(path)
        if known is None:
            known = self._isfile[path] = os.path.isfile(path)
        return known

    def _resolve(self, includer: str, site: IncludeSite) -> tuple[str | None, str]:
        """Compiler order: the includer's dir (quoted forms), then include dirs; first match wins."""
        if is_pytorch_renamed_include(site.path):
            return None, ""
        here = "" if site.kind == "angle" else posixpath.dirname(includer)
        key = (here, site.kind, site.path)
        known = self._resolved.get(key)
        if known is None:
            known = self._resolved[key] = self._search(includer, site, here)
        return known

    def _search(self, includer: str, site: IncludeSite, here: str) -> tuple[str | None, str]:
        dirs = self.include_dirs if site.kind == "angle" else [here, *self.include_dirs]
        first: tuple[str | None, str] | None = None
        first_path = ""
        for d in dirs:
            candidate = os.path.normpath(os.path.join(self.prefix + d, site.path))
            if not self._exists(candidate):
                continue
            if first is None:
                first_path = candidate
                inside = candidate.startswith(self.prefix) and not _is_within(candidate, self.output)
                first = (candidate[len(self.prefix) :] if inside else None, d)
            elif candidate != first_path:
                self.warnings.append(
                    f"{includer}: include {site.path!r} is ambiguous: using {first_path}, also found {candidate}"
                )
                break
        return first if first is not None else (None, "")

    def collect(self, inputs: list[str]) -> None:
        """Read inputs, translate them, follow their includes until no new file is reached."""
        frontier = self._read(inputs, lambda rel: True)
        while frontier:
            self._step1(frontier)
            reached: list[str] = []
            for w in frontier:
                w.sites = self._sites(w)
                w.targets = [self._resolve(w.rel, s) for s in w.sites]
                for target, _ in w.targets:
                    if target is not None and target not in self.work and target not in reached:
                        reached.append(target)
            frontier = self._read(reached, self.is_translated)

    # -- naming and final text ------------------------------------------------------------------

    def finish(self, inputs: list[str]) -> Plan:
        graph = {rel: [t for t, _ in w.targets if t is not None] for rel, w in self.work.items()}
        outputs: dict[str, str] = {}
        planned: dict[str, PlannedFile] = {}
        for component in strongly_connected_components(graph):
            cyclic = len(component) > 1 or component[0] in graph[component[0]]
            if cyclic:  # PyTorch names a header that is still being processed by its HIP name
                for rel in component:
                    outputs[rel] = hip_path(rel) if self.work[rel].translated else rel
            for rel in component:
                planned[rel] = self._finish_file(self.work[rel], outputs, forced=cyclic)
                outputs[rel] = planned[rel].output
        if self.translation_problems:  # named by full path, as every other error is
            problems = [FileProblem(self.prefix + p.path, p.message) for p in self.translation_problems]
            raise TranslationError(sorted(problems, key=lambda p: p.path))
        self._check_conflicts(planned)
        live = {self.prefix + rel for rel in planned}
        produced = {p.output for p in planned.values()}
        stale = sorted(
            e.output
            for path, e in self.manifest.entries.items()
            if path not in live and e.output not in produced and not os.path.exists(path)
        )
        listed = [str(src) for src in self.o.sources]
        self.warnings += [f"{src}: listed more than once; translated once" for src in _repeated(listed)]
        return Plan(
            options=self.o,
            inputs=tuple(inputs),
            files=planned,
            warnings=tuple(dict.fromkeys(self.warnings)),
            stale=tuple(stale),
            key=self.key,
            translated_count=self.translated_count,
        )

    def _finish_file(self, w: _Work, outputs: dict[str, str], *, forced: bool) -> PlannedFile:
        includes = tuple(t for t, _ in w.targets if t is not None)
        sites = [[s.kind, s.path] for s in w.sites]
        if not w.translated:
            reused = w.reused
            if reused is not None and self._output_intact(reused):
                return PlannedFile(w.rel, w.rel, False, False, includes, w.digest, None, reused)
            data = w.load()
            entry = Entry(self.key, w.digest, w.size, w.mtime_ns, w.rel, False, False, sites, [], len(data), 0)
            return PlannedFile(w.rel, w.rel, False, False, includes, w.digest, data, entry)

        def replacement(site: IncludeSite, target: str | None, found_in: str) -> str | None:
            if is_pytorch_renamed_include(site.path):
                return hip_path(site.path)
            if target is None:
                return None
            key = (outputs[target], found_in)
            rel = self._relative.get(key)
            if rel is None:
                rel = self._relative[key] = relative_include(*key)
            return rel

        rewrites = [replacement(s, t, d) for s, (t, d) in zip(w.sites, w.targets, strict=True)]
        reused = w.reused
        if reused is not None and reused.rewrites == rewrites and self._output_intact(reused):
            if (reused.source_size, reused.source_mtime_ns) != (w.size, w.mtime_ns):
                reused = dataclasses.replace(reused, source_size=w.size, source_mtime_ns=w.mtime_ns)
            return PlannedFile(w.rel, reused.output, True, reused.changed, includes, w.digest, None, reused)
        if w.step1 is None:  # reusable step 1 but the include rewrites changed: translate again
            w.reused = None
            self._step1([w])
        assert w.step1 is not None and w.decoded is not None
        by_site = dict(zip(w.sites, rewrites, strict=True))
        final = rewrite_includes(w.step1, lambda site: by_site.get(site))
        changed = final != w.decoded.text
        if forced:
            output = hip_path(w.rel)
        elif changed or w.rel.endswith(".cu"):
            output = hip_path(w.rel)
        else:
            candidate = hip_path(w.rel)
            output = candidate if posixpath.dirname(candidate) != posixpath.dirname(w.rel) else w.rel
        if output != w.rel:
            final = add_breadcrumb(final, w.rel)
        data = encode(final, w.decoded)
        entry = Entry(self.key, w.digest, w.size, w.mtime_ns, output, True, changed, sites, rewrites, len(data), 0)
        return PlannedFile(w.rel, output, True, changed, includes, w.digest, data, entry)

    def _output_intact(self, entry: Entry) -> bool:
        try:
            st = os.stat(os.path.join(self.output, entry.output))
        except OSError:
            return False
        return st.st_size == entry.output_size and st.st_mtime_ns == entry.output_mtime_ns

    def _check_conflicts(self, planned: dict[str, PlannedFile]) -> None:
        problems: list[FileProblem] = []
        by_output: dict[str, list[str]] = {}
        for f in planned.values():
            by_output.setdefault(f.output, []).append(f.source)
        for output, sources in sorted(by_output.items()):
            if len(sources) > 1:
                names = " and ".join(sorted(sources))
                problems.append(FileProblem(output, f"{names} would all be written to this output"))
        ours = self.manifest.owned()  # an interrupted run's journaled outputs are ours too
        for f in sorted(planned.values(), key=lambda f: f.output):
            if f.output != f.source and self._exists(self.prefix + f.output):
                problems.append(
                    FileProblem(
                        self.prefix + f.output,
                        f"hand-written file would be shadowed by the translation of {f.source}; rename one of them",
                    )
                )
            if f.data is None or f.output in ours:
                continue
            target = os.path.join(self.output, f.output)
            if os.path.isfile(target) and _read_bytes(target) != f.data:
                problems.append(
                    FileProblem(
                        target,
                        f"exists and was not written by hipify-tool; refusing to overwrite it with {f.source}",
                    )
                )
        if problems:
            raise PlanConflict(problems)


def _pathspec(patterns: Sequence[str]):  # type: ignore[no-untyped-def]
    import pathspec  # deferred: only pattern-driven runs pay for it

    return pathspec.GitIgnoreSpec.from_lines(patterns)


def check_options(o: Options) -> None:
    """Reject bad paths before anything touches the disk (a run locks the output root after this).

    ``o`` must be :meth:`Options.resolved`.
    """
    if not o.project_dir.is_dir():
        raise UsageError(f"{o.project_dir}: project dir does not exist or is not a directory")
    project, output = str(o.project_dir), str(o.output_dir)
    if _is_within(project, output):
        raise UsageError(
            f"{output}: output dir must not be the project dir or contain it (sources are never written; "
            "in-place translation is not offered)"
        )
    if os.path.lexists(output) and not os.path.isdir(output):
        raise UsageError(f"{output}: output dir exists and is not a directory")
    if _is_within(output, project):
        if STATE_DIR in Path(output).relative_to(project).parts:
            raise UsageError(f"{output}: output dir must not be inside a {STATE_DIR} directory")
        if not _is_output_root_or_new(output):
            raise UsageError(
                f"{output}: output dir is inside the project dir and holds files hipify-tool did not write; "
                "choose a new or empty directory"
            )
    for d in o.include_dirs:
        if not d.is_dir():
            raise UsageError(f"{d}: include dir does not exist")
        if not _is_within(str(d), project):
            raise UsageError(f"{d}: include dir is outside the project dir {project}")
    problems: list[FileProblem] = []
    for src in o.sources:
        s = str(src)
        if not src.is_file():
            raise UsageError(f"{s}: {_not_a_file(s, project)}")
        if not _is_within(s, project):
            problems.append(FileProblem(s, f"is outside the project dir {project}"))
        elif _is_within(s, output):
            problems.append(FileProblem(s, f"is inside the output dir {output}"))
    if problems:
        raise PlanConflict(problems)


def _is_output_root_or_new(output: str) -> bool:
    """An output dir nested in the project is safe only if it is ours or empty: otherwise it may hold
    sources, which whole-tree discovery would silently skip and outputs would mingle with."""
    try:
        with os.scandir(output) as entries:
            return all(e.name == STATE_DIR for e in entries) or os.path.isdir(os.path.join(output, STATE_DIR))
    except FileNotFoundError:
        return True
    except OSError:
        return True  # unreadable: the run reports it when it locks the root


def _not_a_file(path: str, project: str) -> str:
    """Why an explicit source cannot be read, in the words a user can act on."""
    if os.path.isdir(path):
        return "is a directory, not a source file"
    if os.path.islink(path):
        try:
            os.stat(path)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return "symlink loop"
            return f"broken symlink (to {os.readlink(path)})"
    if os.path.lexists(path):
        return "is not a regular file"
    return f"no such file{_cwd_hint(path, project)}"


def _cwd_hint(path: str, project: str) -> str:
    """Sources are taken from the current directory; a user may have meant the project dir."""
    meant = os.path.normpath(os.path.join(project, os.path.relpath(path)))
    if _is_within(meant, project) and os.path.isfile(meant):
        return f" (paths are taken from the current directory: did you mean {meant}?)"
    return ""


def discover_inputs(o: Options) -> tuple[str, ...]:
    """The inputs: explicit sources in order, then pattern (or default) selections, sorted.

    Reads the project only, so a run can do it before locking the output root. ``o`` must be
    :meth:`Options.resolved` and pass :func:`check_options`.
    """
    project = str(o.project_dir)
    inputs: dict[str, None] = {}
    for src in o.sources:
        inputs.setdefault(os.path.relpath(src, project).replace(os.sep, "/"))
    if not o.sources or o.include or o.exclude:
        for rel in _walk(o):
            inputs.setdefault(rel)
    if not inputs:
        raise UsageError(f"{project}: no input files (give sources or patterns, or check --extension)")
    return tuple(inputs)


def _cannot_list(exc: OSError) -> None:
    """A directory the walk cannot read would silently drop its sources: make it an error instead."""
    raise UsageError(f"{exc.filename}: cannot list directory ({exc.strerror})")


def _walk(o: Options) -> list[str]:
    include = _pathspec(o.include) if o.include else None
    exclude = _pathspec(o.exclude) if o.exclude else None
    extensions = tuple(o.extensions)
    project, output = str(o.project_dir), str(o.output_dir)
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(project, onerror=_cannot_list):
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith(".")
            and not _is_within(os.path.join(dirpath, d), output)
            and not os.path.exists(os.path.join(dirpath, d, "CMakeCache.txt"))
        )
        reldir = os.path.relpath(dirpath, project).replace(os.sep, "/")
        for name in filenames:
            if not name.endswith(extensions):
                continue
            rel = name if reldir == "." else f"{reldir}/{name}"
            if include is not None and not include.match_file(rel):
                continue
            if exclude is not None and exclude.match_file(rel):
                continue
            found.append(rel)
    return sorted(found)


def make_plan(
    options: Options,
    *,
    tables_fingerprint: str,
    make_translator: Callable[[], Translator],
    manifest: Manifest | None = None,
    progress: Callable[[int, int], None] | None = None,
    inputs: Sequence[str] | None = None,
) -> Plan:
    """Compute the complete plan. ``options`` must be :meth:`Options.resolved`.

    ``inputs`` are :func:`discover_inputs`'s result when the caller already has it.
    ``progress(done, known)`` is called as files are translated (the plan itself stays silent).
    """
    o = options
    if inputs is None:
        check_options(o)
        inputs = discover_inputs(o)
    planner = _Planner(o, manifest or Manifest({}), tables_fingerprint, make_translator, progress)
    planner.collect(list(inputs))
    return planner.finish(list(inputs))
