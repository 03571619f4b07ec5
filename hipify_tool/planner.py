"""Plan stage: inputs -> the complete output map and include graph, with every output's bytes.

Pure: it reads the project, the output root and its manifest, and writes nothing. Whether a header
keeps its name depends on whether its translated text differs from its source (PyTorch's rule), so
the plan translates in memory; :mod:`hipify_tool.materialise` only writes what the plan decided.

One file's way through: fingerprint (:meth:`_Planner.read`, skipping the read when the manifest's
size and mtime match), step 1 of its translation (:mod:`hipify_tool.workers`), its includes found
and resolved (:mod:`hipify_tool.includes`), then, once every reachable file is known, its output name
(:mod:`hipify_tool.naming`), includes rewritten to the names of their targets, the sibling copies that
keep the output root self-contained (:mod:`hipify_tool.layout`), and the conflict checks.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from .confinement import output_spellings, root_in_project
from .errors import FileProblem, TranslationError, UsageError
from .fileio import read_input, read_regular
from .graph import strongly_connected_components
from .includes import (
    IncludeSearch,
    IncludeSite,
    Resolution,
    find_include_positions,
    find_includes,
    is_pytorch_renamed_include,
    relative_include,
    rewrite_includes,
)
from .inputs import check_options, discover_inputs
from .layout import Breach, place_copies
from .manifest import STATE_DIR, Entry, Manifest
from .naming import check_conflicts, hip_path, output_name, repeated
from .options import Options
from .planned import IncludeWarning, Ownership, Plan, PlannedFile, options_key
from .translate import (
    BREADCRUMB_OUTPUTS,
    Decoded,
    TranslationFailure,
    Translator,
    add_breadcrumb,
    decode,
    encode,
    has_breadcrumb,
)
from .workers import translate_all

__all__ = ["make_plan"]

Progress = Callable[[int, int], None]

_LISTED = 10
"""Foreign files a refusal names one by one (the rest are counted)."""

_ROCM_HEADERS = ("hip/",)
"""Quoted includes of ROCm's own headers (``"hip/hip_runtime.h"``, PyTorch's header magic) are the
translation's, not the project's: never a "not found" warning."""


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
    mode: int
    translated: bool
    reused: Entry | None = None
    decoded: Decoded | None = None
    step1: str | None = None
    resolutions: list[Resolution] = field(default_factory=list)

    def load(self) -> bytes:
        if self.data is None:
            self.data = read_input(self.path)
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
        overrides: dict[str, bytes] | None = None,
        ownership: Ownership = "recorded",
        suspects: frozenset[str] = frozenset(),
    ) -> None:
        self.o = options
        self.suspects = suspects
        self._progress = progress
        self.overrides = overrides or {}  # files given in memory (translate's stdin), by relative path
        self.ownership = ownership
        self.manifest = manifest if ownership == "recorded" else Manifest({})
        self.key = options_key(options, tables_fingerprint)
        self._make_translator = make_translator
        self._translator: Translator | None = None
        self.prefix = os.path.join(str(options.project_dir), "")
        self.output = str(options.output_dir)
        self.search = IncludeSearch(
            str(options.project_dir), [str(d) for d in options.include_dirs], output_spellings(options)
        )
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
        """Fingerprint each file; like git's index, an unchanged size and mtime_ns skip the read, unless
        the state record has doubts about the file (a ``suspect``: changed within its timestamps' tick)."""
        batch = []
        for rel in rels:
            path = self.prefix + rel
            given = self.overrides.get(rel)
            if given is not None:  # in memory: no file to stat, no manifest entry to reuse
                self.work[rel] = w = _Work(rel, path, given, _digest(given), len(given), 0, 0o644, translated(rel))
                batch.append(w)
                continue
            try:
                st = os.stat(path)
            except OSError as exc:
                raise UsageError(f"{path}: cannot read ({exc.strerror})") from None
            entry = self.manifest.entries.get(path)
            if entry is not None and entry.key != self.key:
                entry = None
            data: bytes | None = None
            if (
                entry is not None
                and (entry.source_size, entry.source_mtime_ns) == (st.st_size, st.st_mtime_ns)
                and path not in self.suspects
            ):
                digest = entry.digest
            else:
                data = read_input(path)
                digest = _digest(data)
                if entry is not None and entry.digest != digest:
                    entry = None
            mode = stat.S_IMODE(st.st_mode) & 0o777
            w = _Work(rel, path, data, digest, st.st_size, st.st_mtime_ns, mode, translated(rel), reused=entry)
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
        layout = place_copies(
            outputs,
            {rel: (f.resolutions, f.entry.rewrites if f.translated else None) for rel, f in planned.items()},
            output_dir=self.output,
            dirs=[(d.rel, d.path) for d in self.search.dirs],
            isfile=self.search.exists,
        )
        copies = [_Copy(source, output, planned[source], self.output) for output, source in layout.copies.items()]
        produced = {p.output for p in planned.values()} | set(layout.copies)
        owned = self.manifest.owned()
        if self.manifest.rebuilt or self.ownership == "compare":
            owned = produced
        adopted_stale: list[str] = []
        problems = self._breaches(layout.breaches)
        if self.ownership == "adopt":
            adopted_stale, foreign = self._unplanned_files(produced)
            problems += foreign
        check_conflicts(
            [*planned.values(), *copies],
            project_prefix=self.prefix,
            output_dir=self.output,
            owned=owned,
            other_owner=self._other_owner(planned),
            exists=self.search.exists,
            problems=problems,
            adopt=self.ownership == "adopt",
        )
        needs: dict[str, list[list[str]]] = {}  # the manifest records the copies each output needs
        for copy, header in sorted(layout.copies.items()):
            for rel in sorted(layout.needed_by[copy] or {header}):
                needs.setdefault(rel, []).append([copy, self.prefix + header])
        for rel, f in planned.items():
            wanted = needs.get(rel, [])
            if f.entry.copies != wanted:
                planned[rel] = dataclasses.replace(f, entry=dataclasses.replace(f.entry, copies=wanted))
        live = {self.prefix + rel for rel in planned}
        stale = sorted(
            [
                e.output
                for path, e in self.manifest.entries.items()
                if path not in live and e.output not in produced and not os.path.exists(path)
            ]
            + adopted_stale
        )
        listed = [str(src) for src in self.o.sources]
        include_warnings = self._include_warnings(planned)
        warnings = [*self.manifest.warnings, *self.search.warnings]
        warnings += [f"{self.prefix}{w.source}:{w.line}: {w.message}" for w in include_warnings]
        warnings += [f"{src}: listed more than once; translated once" for src in repeated(listed)]
        return Plan(
            options=self.o,
            inputs=tuple(inputs),
            files=planned,
            warnings=tuple(dict.fromkeys(warnings)),
            stale=tuple(stale),
            key=self.key,
            translated_count=self.translated_count,
            copies=dict(sorted(layout.copies.items())),
            include_warnings=include_warnings,
            adopted_stale=tuple(sorted(adopted_stale)),
            lookups=self.search.looked_up(),
        )

    def _unplanned_files(self, produced: set[str]) -> tuple[list[str], list[FileProblem]]:
        """In a root no run has recorded: the files no source produces that carry the generated banner
        (stale outputs: a committed tree's outputs of deleted sources), and, in a root inside the
        project dir, a problem for every other entry (the root may hold sources: refuse it)."""
        nested = root_in_project(self.o)
        stale: list[str] = []
        foreign: list[str] = []
        for dirpath, dirnames, filenames in os.walk(self.output):
            rel_dir = os.path.relpath(dirpath, self.output).replace(os.sep, "/")
            dirnames[:] = sorted(d for d in dirnames if not (rel_dir == "." and d == STATE_DIR))
            for name in [*filenames, *(d for d in dirnames if os.path.islink(os.path.join(dirpath, d)))]:
                rel = name if rel_dir == "." else f"{rel_dir}/{name}"
                if rel in produced:
                    continue
                if not name.endswith(BREADCRUMB_OUTPUTS):
                    if nested:
                        foreign.append(rel)
                    continue
                try:
                    ours = has_breadcrumb(read_regular(os.path.join(dirpath, name), follow=False, limit=128))
                except OSError:
                    ours = False
                if ours:
                    stale.append(rel)
                elif nested:
                    foreign.append(rel)
        problems = [
            FileProblem(
                os.path.join(self.output, rel),
                f"the output dir {self.output} is inside the project dir and holds files hipify-tool did not write "
                "(this one has no generated banner and no source translates to it); choose a new or empty "
                "directory, or remove the file",
            )
            for rel in sorted(foreign)[:_LISTED]
        ]
        if len(foreign) > _LISTED:
            problems.append(FileProblem(self.output, f"and {len(foreign) - _LISTED} more such files"))
        return stale, problems

    def _other_owner(self, planned: dict[str, PlannedFile]) -> Callable[[str], str | None]:
        """The source (manifest key) another run into this root wrote an output from, when that
        source still exists and this plan does not plan it anew: the output is that run's, not ours."""
        owners = self.manifest.owners()
        keys = {self.prefix + rel for rel in planned}

        def other(output: str) -> str | None:
            owner = owners.get(output)
            if owner is None or owner in keys or not os.path.lexists(owner):
                return None
            return owner

        return other

    # -- the output root's includes ----------------------------------------------------------------

    def _positions(self, rel: str) -> list[tuple[int, int] | None]:
        """The source line and column of each of a file's include sites (``None``: no directive in the
        source as written: PyTorch's tables made it, e.g. a CUDA header renamed to a HIP one, or it is
        text in a comment)."""
        w = self.work[rel]
        text = decode(w.load()).text
        lines = text.split("\n")
        found: dict[IncludeSite, list[tuple[int, int] | None]] = {}
        for site, line, col in find_include_positions(text):
            directive = lines[line - 1].lstrip().startswith("#")  # not one quoted in a comment's text
            found.setdefault(site, []).append((line, col) if directive else None)
        seen: dict[IncludeSite, int] = {}
        positions: list[tuple[int, int] | None] = []
        for r in w.resolutions:
            k = seen[r.site] = seen.get(r.site, -1) + 1
            at = found.get(r.site, [])
            positions.append(at[k] if k < len(at) else None)
        return positions

    def _include_warnings(self, planned: dict[str, PlannedFile]) -> tuple[IncludeWarning, ...]:
        """Quoted includes found nowhere, and includes that leave the project by a relative path: once
        per site, in the source's words. An absolute include reaches the same file from the output
        root: nothing to warn about. Angle includes (system and CUDA headers), ROCm's own headers
        and the CUDA headers PyTorch's tables rename to them (no longer in the source as written) are
        not warned about."""
        out: list[IncludeWarning] = []
        for rel in sorted(planned):
            w = self.work[rel]
            flagged = [
                i
                for i, r in enumerate(w.resolutions)
                if (r.missing and r.site.kind == "quote" and not r.site.path.startswith(_ROCM_HEADERS))
                or (r.external is not None and r.external_dir is None and not os.path.isabs(r.site.path))
            ]
            if not flagged:
                continue
            positions = self._positions(rel)
            for i in flagged:
                r, at = w.resolutions[i], positions[i]
                if at is None:
                    continue
                if r.missing:
                    searched = ", ".join(self.search.searched(rel, r.site))
                    unusable = self.search.unusable(rel, r.site)
                    if unusable is None:
                        message = f'include "{r.site.path}" not found (searched: {searched})'
                    else:
                        message = f'include "{r.site.path}" not usable: {unusable[0]} {unusable[1]}'
                    out.append(IncludeWarning(rel, *at, r.site, "not-found", message))
                else:
                    message = (
                        f'include "{r.site.path}" reaches {r.external} outside the project dir by a relative '
                        "path, which its output in the output root cannot follow (include it through an -I dir)"
                    )
                    out.append(IncludeWarning(rel, *at, r.site, "leaves-project", message, r.external))
        return tuple(out)

    def _breaches(self, breaches: Sequence[Breach]) -> list[FileProblem]:
        """Includes whose output would reach another file than their source's did: plan conflicts."""
        problems: dict[str, FileProblem] = {}
        for b in breaches:
            r = b.include.resolution
            where = ""
            index = next((i for i, x in enumerate(self.work[b.includer].resolutions) if x.site == r.site), None)
            if index is not None:
                at = self._positions(b.includer)[index]
                where = f"line {at[0]}: " if at is not None else ""
            placed = os.path.join(self.output, b.placed_at)
            expected = b.expected if os.path.isabs(b.expected) else os.path.join(self.output, b.expected)
            if b.found is None:
                outcome = f"would not reach {expected} (no copy of it can be placed on its search path)"
            else:
                found = b.found if os.path.isabs(b.found) else os.path.join(self.output, b.found)
                outcome = f"would reach {found} instead of {expected}"
            message = f'{where}include "{b.include.path}" in {placed} {outcome}; rename one of them'
            problems.setdefault(f"{b.includer}\0{message}", FileProblem(self.prefix + b.includer, message))
        return list(problems.values())

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
            if reused is not None and self._output_intact(reused, w.mode):
                return PlannedFile(w.rel, w.rel, False, False, resolutions, None, w.data, reused, w.mode)
            data = w.load()
            entry = Entry(self.key, w.digest, w.size, w.mtime_ns, w.rel, False, False, sites, [], len(data), 0)
            return PlannedFile(w.rel, w.rel, False, False, resolutions, data, data, entry, w.mode)
        rewrites = [self._replacement(r, outputs) for r in resolutions]
        reused = w.reused
        if reused is not None and reused.rewrites == rewrites and self._output_intact(reused, w.mode):
            if (reused.source_size, reused.source_mtime_ns) != (w.size, w.mtime_ns):
                reused = dataclasses.replace(reused, source_size=w.size, source_mtime_ns=w.mtime_ns)
            return PlannedFile(w.rel, reused.output, True, reused.changed, resolutions, None, w.data, reused, w.mode)
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
        return PlannedFile(w.rel, output, True, changed, resolutions, data, w.data, entry, w.mode)

    def _output_intact(self, entry: Entry, mode: int) -> bool:
        """The output on disk is the one the manifest recorded, with the source's permission bits."""
        try:
            st = os.lstat(os.path.join(self.output, entry.output))  # a link planted there is not intact
        except OSError:
            return False
        same = st.st_size == entry.output_size and st.st_mtime_ns == entry.output_mtime_ns
        return same and stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) & 0o777 == mode


class _Copy:
    """A sibling copy as :func:`~hipify_tool.naming.check_conflicts` sees it: its bytes are its
    header's output's, read from the output root only if a foreign file sits where it goes."""

    def __init__(self, source: str, output: str, of: PlannedFile, output_dir: str) -> None:
        self.source = source
        self.output = output
        self._of = of
        self._output_dir = output_dir

    @property
    def data(self) -> bytes | None:
        if self._of.data is not None:
            return self._of.data
        try:
            return read_regular(os.path.join(self._output_dir, self._of.output), follow=False)
        except OSError:
            return None


def make_plan(
    options: Options,
    *,
    tables_fingerprint: str,
    make_translator: Callable[[], Translator],
    manifest: Manifest | None = None,
    progress: Progress | None = None,
    inputs: Sequence[str] | None = None,
    overrides: dict[str, bytes] | None = None,
    ownership: Ownership = "recorded",
    suspects: frozenset[str] = frozenset(),
) -> Plan:
    """Compute the complete plan. ``options`` must be :meth:`Options.resolved`.

    ``inputs`` are :func:`~hipify_tool.inputs.discover_inputs`'s result when the caller already has it.
    ``progress(done, known)`` is called as files are translated (the plan itself stays silent).
    ``overrides`` gives files' bytes in memory (relative path -> bytes), read instead of the disk.
    ``ownership``: which files in the output root are hipify-tool's (:data:`~.planned.Ownership`);
    the manifest is only read in ``recorded`` mode.
    ``suspects``: absolute paths read even when the manifest's size and mtime match.
    """
    if inputs is None:
        check_options(options)
        inputs = discover_inputs(options)
    planner = _Planner(
        options, manifest or Manifest({}), tables_fingerprint, make_translator, progress, overrides, ownership, suspects
    )
    planner.collect(list(inputs))
    return planner.finish(list(inputs))
