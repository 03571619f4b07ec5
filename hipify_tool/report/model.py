"""The report's data: rules, findings, per-file results, and the verdict ``--strict`` takes from them.

Three kinds of result:

* **replaced**: every token a map replaces in code (comments and strings are not counted);
* **unsupported**: a replacement whose HIP name the target ROCm's headers do not declare;
* **leftover**: a CUDA-looking name, header or inline PTX that no map replaces.

Where a finding sits decides how it counts (docs/reports.md, "What counts"): in code a ROCm compile
sees, it is a *problem* and fails ``--strict``; in a branch ROCm does not take (or a header only such
branches include), or one only ROCm takes, it is reported separately as *guarded* and never fails
``--strict``. A finding a ``// hipify-tool: ignore[rule]`` comment covers, or that ``--baseline``
holds, is *waived*: listed, never a problem. A CUDA-looking name the project declares itself for
ROCm is not a finding: it is listed as *defined by the project*; nor is one the target ROCm's headers
declare (*declared by ROCm*).

The writers (:mod:`.writers`) read this model; it never imports them.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..console import plural
from ..errors import CheckFailed
from .declarations import Declaration

__all__ = [
    "RULES",
    "RULE_INDEX",
    "Rule",
    "Finding",
    "FindingKind",
    "Context",
    "Replacement",
    "Suppressed",
    "Provided",
    "ProjectName",
    "RocmName",
    "Waiver",
    "FileReport",
    "IncludeNote",
    "IncludeStatus",
    "Report",
]

FindingKind = Literal["unsupported", "leftover"]
Waiver = Literal["ignored", "baselined"]
"""Why a finding is not a problem although it is in shared code: an inline ``hipify-tool: ignore[rule]``
comment, or the ``--baseline`` report holds it."""
Context = Literal["shared", "cuda-only", "rocm-only"]
"""Where a finding sits: code both compiles see; a branch ROCm does not take; a branch only ROCm takes."""


@dataclass(frozen=True)
class Rule:
    """One kind of finding, as SARIF rules describe them."""

    id: str
    title: str
    help: str


RULES: tuple[Rule, ...] = (
    Rule(
        "unsupported",
        "Unsupported on the target ROCm",
        "A mapped HIP name (or header) that the target ROCm's headers (--rocm-path) do not declare.",
    ),
    Rule("cuda-runtime-api", "CUDA runtime API", "cuda[A-Z]* names (cudaFoo) with no mapping."),
    Rule("cuda-driver-api", "CUDA driver API", "cu[A-Z]* functions and CU[a-z]* types with no mapping."),
    Rule("cuda-macro", "CUDA macro or enumerator", "CUDA_*, CU*_*, CUDART_*, __CUDA*__, __NVCC__ used in code."),
    Rule(
        "cuda-library",
        "CUDA library API",
        "cuBLAS, cuSPARSE, cuRAND, cuFFT, cuDNN, cuSOLVER and cuTENSOR names (camelCase after the library's "
        "prefix, as cublasSgemm; a project's cublas_handle is not one), cuRAND's device API (curand_init ...), "
        "cutlass:: and CUTLASS_* macros.",
    ),
    Rule(
        "nvidia-type",
        "NVIDIA-specific type or API",
        "__nv_* (e.g. __nv_fp8_e4m3), nv_bfloat16, nvcuda::, nvtx*, nvrtc*.",
    ),
    Rule(
        "warp-sync-intrinsic",
        "Warp-synchronous intrinsic",
        "__*_sync (e.g. __shfl_xor_sync), __syncwarp, __activemask: 32-lane masks, while AMD wavefronts have 64.",
    ),
    Rule("cuda-intrinsic", "CUDA-only intrinsic", "Cache-hint loads/stores (__ldcg ...), __cvta_*, __pipeline_*."),
    Rule(
        "libcudacxx",
        "libcu++ namespace",
        "cuda:: (cuda::std::, cuda::atomic_ref ...) outside PyTorch's at::cuda and c10::cuda.",
    ),
    Rule(
        "cuda-header",
        "CUDA header",
        "An include of a CUDA toolkit header that no map renames and the project does not provide.",
    ),
    Rule(
        "inline-ptx",
        "Inline PTX",
        "An asm statement whose text is PTX: an instruction with dotted types (cvt.rn.f16.f32), .reg, %laneid.",
    ),
    Rule(
        "untranslated-extension",
        "Copied untranslated",
        "A name a map replaces, in a file that was copied untranslated because its extension is not one of "
        "--extension (an .inl included from a .cu): add the extension.",
    ),
    Rule(
        "include-not-found",
        "Include not found",
        "A quoted #include found neither beside its file nor in any include dir: left as written.",
    ),
    Rule(
        "include-leaves-project",
        "Include leaves the project",
        "A relative #include that reaches a file outside the project, which the output root cannot follow.",
    ),
)
RULE_INDEX = {rule.id: i for i, rule in enumerate(RULES)}


@dataclass(frozen=True)
class Replacement:
    """A token a map replaced (in code)."""

    line: int
    col: int
    identifier: str
    replacement: str


@dataclass(frozen=True)
class Finding:
    """A CUDA name, header or asm block that ROCm will see untranslated (or an unsupported one)."""

    path: str
    """Source, relative to the project dir."""
    line: int
    col: int
    identifier: str
    rule: str
    kind: FindingKind
    context: Context
    """Anything but ``"shared"`` is reported separately and is never a problem."""
    replacement: str | None = None
    closest: tuple[str, ...] = ()
    """For an unsupported name: the closest names the target declares, best first."""
    waived: Waiver | None = None
    by_inclusion: bool = False
    """The context comes from the file's inclusions (a header only ``#ifndef USE_ROCM`` includes), not
    from a branch around the line."""

    @property
    def guarded(self) -> bool:
        """In a branch ROCm does not take, or in one only ROCm takes (the author's own ROCm code)."""
        return self.context != "shared"

    @property
    def is_problem(self) -> bool:
        """Fails ``--strict``: in shared code and not waived."""
        return self.context == "shared" and self.waived is None

    @property
    def key(self) -> tuple[str, str, str]:
        """What a baseline matches a finding by: file, rule and name (not the line, which edits move)."""
        return (self.path, self.rule, self.identifier)

    @property
    def message(self) -> str:
        rule = RULES[RULE_INDEX[self.rule]]
        if self.kind == "unsupported":
            if "/" in (self.replacement or ""):  # a header
                text = f"<{self.identifier}> is mapped to <{self.replacement}>, which the target ROCm does not have"
            else:
                text = (
                    f"{self.identifier} is mapped to {self.replacement}, which the target ROCm's headers do not declare"
                )
            if self.closest:
                text += f" (closest: {', '.join(self.closest)})"
        elif self.rule == "cuda-header":
            text = f"<{self.identifier}> is a CUDA header that no map renames"
        elif self.rule == "inline-ptx":
            text = "inline PTX assembly does not compile for AMD GPUs"
        elif self.rule == "untranslated-extension":
            name = posixpath.basename(self.path)
            extension = posixpath.splitext(name)[1] or name
            text = (
                f"{self.identifier} stays as written (a map replaces it with {self.replacement}): {name} was copied "
                f"untranslated because of its extension; add `--extension {extension}`"
            )
        else:
            text = f"{self.identifier} ({rule.title}) has no HIP mapping"
        if self.context == "cuda-only":
            if self.by_inclusion:
                text += " [in a header that only branches ROCm does not take include]"
            else:
                text += " [in a branch ROCm does not take]"
        elif self.context == "rocm-only":
            text += " [in a header only ROCm includes]" if self.by_inclusion else " [in a branch only ROCm takes]"
        if self.waived == "ignored":
            text += " [ignored by a hipify-tool: ignore comment]"
        elif self.waived == "baselined":
            text += " [in the baseline]"
        return text


@dataclass(frozen=True)
class Suppressed:
    """A name that would be a finding but that the project declares itself for ROCm."""

    line: int
    col: int
    identifier: str
    rule: str
    declaration: Declaration


@dataclass(frozen=True)
class Provided:
    """A CUDA-looking name the target ROCm's headers declare (under the build's ``-D`` macros): it
    compiles there, so it is not a finding."""

    line: int
    col: int
    identifier: str
    rule: str


@dataclass(frozen=True)
class RocmName:
    """A CUDA-looking name the target ROCm declares, with how often the project uses it."""

    identifier: str
    rule: str
    uses: int


@dataclass(frozen=True)
class ProjectName:
    """A CUDA-looking (or missing HIP) name the project declares itself, with how often it is used."""

    identifier: str
    rule: str
    declaration: Declaration
    uses: int


IncludeStatus = Literal["not-found", "leaves-project", "external"]


@dataclass(frozen=True)
class IncludeNote:
    """An include whose target is not in the output root: a quoted include found nowhere, one that
    leaves the project by a relative path (both warnings), or one of a header in an include dir outside
    the project (external: read-only, left as written)."""

    line: int
    col: int
    kind: str
    """``quote`` or ``angle``."""
    include: str
    """The path as written."""
    status: IncludeStatus
    message: str
    reaches: str | None = None
    """The header reached outside the project (absolute), if any."""

    @property
    def rule(self) -> str | None:
        """The SARIF rule of a warning (``None``: an external include, not a warning)."""
        return {"not-found": "include-not-found", "leaves-project": "include-leaves-project"}.get(self.status)


@dataclass(frozen=True)
class FileReport:
    source: str
    """Relative to the project dir (POSIX separators)."""
    output: str
    """Relative to the output root."""
    replacements: tuple[Replacement, ...]
    findings: tuple[Finding, ...]
    suppressed: tuple[Suppressed, ...] = ()
    """Names the project declares itself: not findings (listed as defined by the project)."""
    includes: tuple[IncludeNote, ...] = ()
    """Includes the output root cannot hold the target of (found nowhere, outside the project)."""
    provided: tuple[Provided, ...] = ()
    """Names the target ROCm's headers declare: not findings."""
    compiled_by_rocm: bool = True
    """Some inclusion of the file sits in code ROCm takes (or it is a translation unit itself)."""

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.is_problem]

    @property
    def guarded(self) -> list[Finding]:
        return [f for f in self.findings if f.guarded and f.waived is None]

    @property
    def waived(self) -> list[Finding]:
        return [f for f in self.findings if f.waived is not None]

    def count(self, kind: FindingKind, *, guarded: bool = False) -> int:
        """Findings of ``kind`` that are problems (``guarded``: reported separately); waived ones aside."""
        return sum(1 for f in self.findings if f.kind == kind and f.guarded == guarded and f.waived is None)


@dataclass(frozen=True)
class Report:
    """The report of one plan."""

    project_dir: Path
    files: tuple[FileReport, ...]
    unsupported_known: bool
    """False when no ROCm headers were found: 'unsupported' is then empty (the notes say why)."""
    notes: tuple[str, ...] = ()
    target: str | None = None
    """The headers unsupported names were checked against (``HIP 5.2 headers under /usr/include``)."""
    baseline: str | None = None
    """The ``--baseline`` report findings were matched against, as given."""
    baseline_gone: int = 0
    """Findings the baseline holds that this report no longer has (fixed, or moved to another file)."""

    @property
    def problems(self) -> list[Finding]:
        """Findings that fail ``--strict``: unsupported or leftover names in code ROCm compiles."""
        return [f for fr in self.files for f in fr.problems]

    def totals(self) -> dict[str, int]:
        return {
            "files": len(self.files),
            "replaced": sum(len(fr.replacements) for fr in self.files),
            "unsupported": sum(fr.count("unsupported") for fr in self.files),
            "leftover": sum(fr.count("leftover") for fr in self.files),
            "guarded": sum(len(fr.guarded) for fr in self.files),
            "defined_by_project": len(self.defined_by_project()),
            "declared_by_rocm": len(self.declared_by_rocm()),
            "ignored": self.waived_count("ignored"),
            "baselined": self.waived_count("baselined"),
        }

    def waived_count(self, why: Waiver) -> int:
        return sum(1 for fr in self.files for f in fr.findings if f.waived == why)

    def declared_by_rocm(self) -> list[RocmName]:
        """CUDA-looking names the target ROCm declares, each with how often the project uses it."""
        uses: dict[tuple[str, str], int] = {}
        for fr in self.files:
            for p in fr.provided:
                uses[(p.identifier, p.rule)] = uses.get((p.identifier, p.rule), 0) + 1
        return [RocmName(name, rule, n) for (name, rule), n in sorted(uses.items())]

    def defined_by_project(self) -> list[ProjectName]:
        """Names the project declares itself that would otherwise be findings, each with its declaration."""
        uses: dict[tuple[str, str, Declaration], int] = {}
        for fr in self.files:
            for s in fr.suppressed:
                key = (s.identifier, s.rule, s.declaration)
                uses[key] = uses.get(key, 0) + 1
        return [
            ProjectName(name, rule, d, n)
            for (name, rule, d), n in sorted(uses.items(), key=lambda kv: (kv[0][0], kv[0][2].path, kv[0][2].line))
        ]

    def counts_by_context(self) -> dict[str, int]:
        """Findings outside shared code, by context (``cuda-only``, ``rocm-only``)."""
        counts = {"cuda-only": 0, "rocm-only": 0}
        for fr in self.files:
            for f in fr.guarded:
                counts[f.context] += 1
        return counts

    def display_path(self, source: str) -> str:
        """A source's path as the tool's own warnings and errors name files: absolute."""
        return os.path.join(str(self.project_dir), source)

    def level(self, f: Finding) -> str:
        """Compiler-style level: ``note`` outside shared code, ``error`` for unsupported names."""
        return "note" if f.guarded else ("error" if f.kind == "unsupported" else "warning")

    def summary_lines(self) -> list[str]:
        """The summary, then the notes: what a run prints once, whatever the format."""
        t = self.totals()
        unsupported = str(t["unsupported"]) if self.unsupported_known else "n/a"
        by_context = self.counts_by_context()
        summary = (
            f"hipify-tool: report: {plural(t['files'], 'file')}, {plural(t['replaced'], 'identifier')} replaced, "
            f"{unsupported} unsupported, "
            f"{t['leftover']} left over; not counted: {by_context['cuda-only']} in branches ROCm does not take, "
            f"{by_context['rocm-only']} in branches only ROCm takes, "
            f"{plural(t['defined_by_project'], 'name')} the project defines"
        )
        if self.unsupported_known:
            summary += f", {plural(t['declared_by_rocm'], 'name')} the target ROCm declares"
        if t["ignored"]:
            summary += f", {t['ignored']} ignored by comments"
        if self.baseline is not None:
            summary += f", {t['baselined']} in the baseline"
            if self.baseline_gone:
                summary += f" ({self.baseline_gone} of its findings are gone)"
        notes = list(self.notes)
        if self.target is not None:
            notes.insert(0, f"unsupported: checked against the {self.target}")
        return [summary, *(f"hipify-tool: report: note: {note}" for note in notes)]

    def finding_line(self, source: str, f: Finding) -> str:
        return f"{self.display_path(source)}:{f.line}:{f.col}: {self.level(f)}: {f.message} [{f.rule}]"

    def problem_lines(self) -> list[str]:
        """One line per problem (what ``-q --strict`` still prints)."""
        return [self.finding_line(fr.source, f) for fr in self.files for f in fr.problems]

    def strict_failure(self) -> CheckFailed | None:
        """``--strict``'s verdict: the error to raise (exit 6), or ``None`` when nothing is left."""
        problems = self.problems
        if not problems:
            return None
        names = plural(len(problems), "CUDA name")
        verb = "is" if len(problems) == 1 else "are"
        also = ""
        if self.baseline is not None:
            also = f" ({self.waived_count('baselined')} more in the baseline {self.baseline})"
        return CheckFailed(f"--strict: {names} {verb} left or unsupported in code ROCm compiles{also}")
