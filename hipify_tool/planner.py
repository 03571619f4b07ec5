"""Plan stage: inputs -> the complete output map and include graph, with every output's bytes.

Pure: it reads the project, the output root and its manifest, and writes nothing. Whether a header
keeps its name depends on whether its translated text differs from its source (PyTorch's rule), so
the plan translates in memory; :mod:`hipify_tool.materialise` only writes what the plan decided.

One file's way through: fingerprint (:meth:`_Planner.read`, skipping the read when the manifest's
size and mtime match), step 1 of its translation (:mod:`hipify_tool.workers`), its includes found
and resolved (:mod:`hipify_tool.includes`), then, once every reachable file is known, its output name
(:mod:`hipify_tool.naming`), includes rewritten to the names of their targets, and the conflict checks.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ._version import __version__
from .errors import FileProblem, TranslationError, UsageError
from .graph import strongly_connected_components
from .includes import (
    IncludeSearch,
    IncludeSite,
    Resolution,
    find_includes,
    is_pytorch_renamed_include,
    relative_include,
    rewrite_includes,
)
from .inputs import check_options, discover_inputs, read_bytes
from .manifest import Entry, Manifest
from .naming import check_conflicts, hip_path, output_name, repeated
from .options import Options
from .translate import Decoded, TranslationFailure, Translator, add_breadcrumb, decode, encode
from .workers import translate_all

__all__ = ["Plan", "PlannedFile", "make_plan", "options_key"]

Progress = Callable[[int, int], None]


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
    resolutions: tuple[Resolution, ...]
    """Each include directive (as step 1 of the translation left it) and what it reached."""
    data: bytes | None
    """Bytes to write; ``None`` when the manifest shows the output on disk is already right."""
    source_data: bytes | None
    """The source's bytes when the plan read them (``None``: unchanged since the last run, not read)."""
    entry: Entry

    @property
    def includes(self) -> tuple[str, ...]:
        """Planned files this file includes (sources), in the order written."""
        return tuple(r.target for r in self.resolutions if r.target is not None)


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
    """The manifest key: hipify-tool's version, PyTorch's tables, the maps and the output-changing options."""
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

    def source_bytes(self, rel: str) -> bytes:
        """A planned file's source, from memory when the plan read it."""
        data = self.files[rel].source_data
        return data if data is not None else read_bytes(str(self.source_path(rel)))


def options_key(options: Options, tables_fingerprint: str) -> str:
    """Fingerprint of everything besides the input bytes that changes outputs."""
    parts = [__version__, tables_fingerprint, str(options.project_dir), *options.output_key_parts()]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:20]


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


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
    resolutions: list[Resolution] = field(default_factory=list)

    def load(self) -> bytes:
        if self.data is None:
            self.data = read_bytes(self.path)
        return self.data


class _Planner:
    """Holds one planning pass's inputs; a fresh instance per plan keeps calls independent."""

    def __init__(
        self,
        options: Options,
        manifest: Manifest,
        tables_fingerprint: str,
        make_translator: Callable[[], Translator],
        progress: Progress | None = None,
    ) -> None:
        self.o = options
        self._progress = progress
        self.manifest = manifest
        self.key = options_key(options, tables_fingerprint)
        self._make_translator = make_translator
        self._translator: Translator | None = None
        self.prefix = os.path.join(str(options.project_dir), "")
        self.output = str(options.output_dir)
        self.search = IncludeSearch(str(options.project_dir), [str(d) for d in options.include_dirs], self.output)
        self._relative: dict[tuple[str, str], str] = {}
        self.work: dict[str, _Work] = {}
        self.translation_problems: list[FileProblem] = []
        self.translated_count = 0

    def translator(self) -> Translator:
        if self._translator is None:
            self._translator = self._make_translator()
        return self._translator

    def is_translated(self, rel: str) -> bool:
        return rel.endswith(tuple(self.o.extensions))

    # -- reading and translating ----------------------------------------------------------------

    def read(self, rels: Iterable[str], translated: Callable[[str], bool]) -> list[_Work]:
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
                data = read_bytes(path)
                digest = _digest(data)
                if entry is not None and entry.digest != digest:
                    entry = None
            w = _Work(rel, path, data, digest, st.st_size, st.st_mtime_ns, translated(rel), reused=entry)
            self.work[rel] = w
            batch.append(w)
        return batch

    def step1(self, batch: Sequence[_Work]) -> None:
        """Translation step 1 for files not reusable from the manifest."""
        todo = [w for w in batch if w.translated and w.step1 is None and w.reused is None]
        todo = [w for w in todo if not self._is_binary(w)]
        if not todo:
            return
        for w in todo:
            w.decoded = decode(w.load())
        items = [(w.rel, w.decoded.text) for w in todo if w.decoded is not None]
        done_before = self.translated_count

        def report(done: int, total: int) -> None:
            if self._progress is not None:  # files so far, of those known so far (headers add more)
                self._progress(done_before + done, done_before + total)

        results = translate_all(
            self.translator(), items, self.o.effective_jobs(), report if self._progress is not None else None
        )
        for w, result in zip(todo, results, strict=True):
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

    def _sites(self, w: _Work) -> list[IncludeSite]:
        if w.reused is not None and w.step1 is None:
            return [IncludeSite(kind, path) for kind, path in w.reused.sites]  # type: ignore[arg-type]
        if not w.translated:
            return list(find_includes(decode(w.load()).text))
        assert w.step1 is not None
        return list(find_includes(w.step1))

    def collect(self, inputs: list[str]) -> None:
        """Read inputs, translate them, follow their includes until no new file is reached."""
        frontier = self.read(inputs, lambda rel: True)
        while frontier:
            self.step1(frontier)
            reached: list[str] = []
            for w in frontier:
                w.resolutions = [self.search.resolve(w.rel, s) for s in self._sites(w)]
                for r in w.resolutions:
                    if r.target is not None and r.target not in self.work and r.target not in reached:
                        reached.append(r.target)
            frontier = self.read(reached, self.is_translated)

    # -- naming and final text ------------------------------------------------------------------

    def finish(self, inputs: list[str]) -> Plan:
        graph = {rel: [r.target for r in w.resolutions if r.target is not None] for rel, w in self.work.items()}
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
        check_conflicts(
            planned.values(),
            project_prefix=self.prefix,
            output_dir=self.output,
            owned={p.output for p in planned.values()} if self.manifest.rebuilt else self.manifest.owned(),
            exists=self.search.exists,
            read=read_bytes,
        )
        live = {self.prefix + rel for rel in planned}
        produced = {p.output for p in planned.values()}
        stale = sorted(
            e.output
            for path, e in self.manifest.entries.items()
            if path not in live and e.output not in produced and not os.path.exists(path)
        )
        listed = [str(src) for src in self.o.sources]
        warnings = [*self.manifest.warnings, *self.search.warnings]
        warnings += [f"{src}: listed more than once; translated once" for src in repeated(listed)]
        return Plan(
            options=self.o,
            inputs=tuple(inputs),
            files=planned,
            warnings=tuple(dict.fromkeys(warnings)),
            stale=tuple(stale),
            key=self.key,
            translated_count=self.translated_count,
        )

    def _replacement(self, r: Resolution, outputs: dict[str, str]) -> str | None:
        """The path an include is rewritten to: its target's output, relative to where it was found."""
        if is_pytorch_renamed_include(r.site.path):
            return hip_path(r.site.path)
        if r.target is None:
            return None
        key = (outputs[r.target], r.found_in)
        rel = self._relative.get(key)
        if rel is None:
            rel = self._relative[key] = relative_include(*key)
        return rel

    def _finish_file(self, w: _Work, outputs: dict[str, str], *, forced: bool) -> PlannedFile:
        resolutions = tuple(w.resolutions)
        sites = [[r.site.kind, r.site.path] for r in resolutions]
        if not w.translated:
            reused = w.reused
            if reused is not None and self._output_intact(reused):
                return PlannedFile(w.rel, w.rel, False, False, resolutions, None, w.data, reused)
            data = w.load()
            entry = Entry(self.key, w.digest, w.size, w.mtime_ns, w.rel, False, False, sites, [], len(data), 0)
            return PlannedFile(w.rel, w.rel, False, False, resolutions, data, data, entry)
        rewrites = [self._replacement(r, outputs) for r in resolutions]
        reused = w.reused
        if reused is not None and reused.rewrites == rewrites and self._output_intact(reused):
            if (reused.source_size, reused.source_mtime_ns) != (w.size, w.mtime_ns):
                reused = dataclasses.replace(reused, source_size=w.size, source_mtime_ns=w.mtime_ns)
            return PlannedFile(w.rel, reused.output, True, reused.changed, resolutions, None, w.data, reused)
        if w.step1 is None:  # reusable step 1 but the include rewrites changed: translate again
            w.reused = None
            self.step1([w])
        assert w.step1 is not None and w.decoded is not None
        by_site = {r.site: new for r, new in zip(resolutions, rewrites, strict=True)}
        final = rewrite_includes(w.step1, lambda site: by_site.get(site))
        changed = final != w.decoded.text
        output = output_name(w.rel, changed=changed, forced=forced)
        if output != w.rel:
            final = add_breadcrumb(final, w.rel)
        data = encode(final, w.decoded)
        entry = Entry(self.key, w.digest, w.size, w.mtime_ns, output, True, changed, sites, rewrites, len(data), 0)
        return PlannedFile(w.rel, output, True, changed, resolutions, data, w.data, entry)

    def _output_intact(self, entry: Entry) -> bool:
        try:
            st = os.stat(os.path.join(self.output, entry.output))
        except OSError:
            return False
        return st.st_size == entry.output_size and st.st_mtime_ns == entry.output_mtime_ns


def make_plan(
    options: Options,
    *,
    tables_fingerprint: str,
    make_translator: Callable[[], Translator],
    manifest: Manifest | None = None,
    progress: Progress | None = None,
    inputs: Sequence[str] | None = None,
) -> Plan:
    """Compute the complete plan. ``options`` must be :meth:`Options.resolved`.

    ``inputs`` are :func:`~hipify_tool.inputs.discover_inputs`'s result when the caller already has it.
    ``progress(done, known)`` is called as files are translated (the plan itself stays silent).
    """
    if inputs is None:
        check_options(options)
        inputs = discover_inputs(options)
    planner = _Planner(options, manifest or Manifest({}), tables_fingerprint, make_translator, progress)
    planner.collect(list(inputs))
    return planner.finish(list(inputs))
