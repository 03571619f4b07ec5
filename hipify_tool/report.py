"""Translation report: what the token maps replaced, and the CUDA that survives translation.

Pure analysis of a :class:`~hipify_tool.plan.Plan`'s sources (positions are ``line:col`` in the
*source* file, 1-based, columns in characters), with the same maps the run used (the project's
``--map`` files, then PyTorch's tables). Three kinds of result:

* **replaced**: every token a map replaces in code (comments and strings are not counted);
* **unsupported**: a replaced name that PyTorch's tables mark ``HIP_UNSUPPORTED``. The tables of
  hipify 2.0 (torch 2.13) carry no such markers, so with them this kind is always empty and the
  report says so (:attr:`Report.unsupported_known` is False); PyTorch's own "unsupported calls"
  statistic is never filled in and is not used;
* **leftover**: a CUDA-looking name, header or inline PTX that no map replaces (the rules are
  :data:`RULES`; docs/reports.md explains each).

Where a finding sits decides how it counts (docs/reports.md, "What counts"):

* in code that a ROCm compile sees (or may see: an ``#if`` that cannot be evaluated counts as taken):
  a *problem*, printed, SARIF level ``warning`` (``error`` for unsupported), fails ``--strict``;
* in a branch that ROCm does not take (``#ifndef USE_ROCM``, ``#ifdef __CUDA_ARCH__``, ``#if 0``):
  reported separately as *guarded*, SARIF level ``note``, never fails ``--strict``;
* in comments, string literals (inline PTX excepted) and ``#if`` conditions: not reported at all.

Names the project itself ``#define``s and PyTorch API names that ROCm builds of PyTorch provide
(``at::cuda::``, ``CUDAGuard``, ``kCUDA``, ``CUDA_KERNEL_ASSERT`` ...) are not leftovers.
"""

from __future__ import annotations

import bisect
import json
import os
import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from . import __version__
from .preprocessor import CUDA, ROCM, blank, branch_lines
from .translate import TokenMatcher, decode, is_pytorch_renamed_include

if TYPE_CHECKING:
    from .maps import CustomMap
    from .plan import Plan

__all__ = [
    "RULES",
    "Rule",
    "Finding",
    "Replacement",
    "FileReport",
    "Report",
    "ReportFormat",
    "REPORT_FORMATS",
    "analyse_plan",
    "Analyser",
]

ReportFormat = Literal["text", "json", "sarif"]
REPORT_FORMATS: tuple[ReportFormat, ...] = ("text", "json", "sarif")
FindingKind = Literal["unsupported", "leftover"]
Context = Literal["shared", "cuda-only", "rocm-only"]
"""Where a finding sits: code both compiles see; a branch ROCm does not take; a branch only ROCm takes."""


@dataclass(frozen=True)
class Rule:
    """One kind of finding, as SARIF rules describe them."""

    id: str
    title: str
    help: str


RULES: tuple[Rule, ...] = (
    Rule("unsupported", "Unsupported on HIP", "PyTorch's tables mark this CUDA name HIP_UNSUPPORTED."),
    Rule("cuda-runtime-api", "CUDA runtime API", "cuda[A-Z]* names (cudaFoo) with no mapping."),
    Rule("cuda-driver-api", "CUDA driver API", "cu[A-Z]* functions and CU[a-z]* types with no mapping."),
    Rule("cuda-macro", "CUDA macro or enumerator", "CUDA_*, CU*_*, CUDART_*, __CUDA*__, __NVCC__ used in code."),
    Rule(
        "cuda-library",
        "CUDA library API",
        "cuBLAS, cuSPARSE, cuRAND, cuFFT, cuDNN, cuSOLVER, cuTENSOR and CUTLASS names.",
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
    Rule("inline-ptx", "Inline PTX", "An asm statement whose text is PTX (dotted instructions: cvt.rn.f16.f32)."),
)
_RULE_INDEX = {rule.id: i for i, rule in enumerate(RULES)}

_IDENT_RULES = re.compile(
    r"(?P<cuda_runtime_api>cuda[A-Z]\w*)"
    r"|(?P<cuda_library>cu(?:blas|sparse|rand|fft|dnn|solver|tensor|tlass)\w*|CUTLASS\w*)"
    r"|(?P<cuda_macro>CU[A-Z]*_[A-Z0-9_]\w*|__CUDA\w*__|__CUDACC\w*|__NVCC__|CUDART\w*)"
    r"|(?P<cuda_driver_api>cu[A-Z]\w*|CU[a-z]\w*)"
    r"|(?P<nvidia_type>__nv_\w+|nv_(?:bfloat16|half)\w*|nvcuda|nvtx\w*|nvrtc\w*|nvml[A-Z]\w*|NVTX_\w+|NV_IF_\w+)"
    r"|(?P<warp_sync_intrinsic>__\w+_sync|__syncwarp|__activemask)"
    r"|(?P<cuda_intrinsic>__ld(?:cg|ca|cs|lu|cv)|__st(?:cg|cs|wb|wt)|__cvta_\w+|__pipeline_\w+)"
)

ROCM_PROVIDED: frozenset[str] = frozenset(
    {
        "CUDA_KERNEL_ASSERT",
        "CUDA_KERNEL_ASSERT_MSG",
        "CUDA_KERNEL_ASSERT_PRINTF",
        "CUDA_KERNEL_ASSERT_VERBOSE",
        "CUDA_1D_KERNEL_LOOP",
        "CUDA_2D_KERNEL_LOOP",
    }
)
"""CUDA-looking names that ROCm builds of PyTorch define (HIP masquerades as CUDA in PyTorch's API)."""

_CUDA_HEADER = re.compile(
    r"cuda[^/]*\.h(?:pp)?|cuda/.*|cu(?:blas|sparse|rand|fft|dnn|solver|tensor|pti|file|Complex|da)\w*\.h|"
    r"(?:cub|cutlass|cute|nvtx3|nv|crt|cooperative_groups)/.*|thrust/system/cuda/.*|nv\w*\.h|mma\.h|sm_\d+\w*\.h|"
    r"(?:device|vector|driver|surface|texture)_(?:functions|types|launch_parameters|atomic_functions|"
    r"double_functions|indirect_functions|fetch_functions)\.h|builtin_types\.h|host_defines\.h|"
    r"channel_descriptor\.h|math_constants\.h"
)
_INCLUDE = re.compile(r'[ \t]*#[ \t]*include[ \t]*(?:"(?P<q>[^"\n]+)"|<(?P<a>[^>\n]+)>)')
_DEFINE_NAME = re.compile(r"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)", re.M)
_IDENT = re.compile(r"\b[A-Za-z_]\w*")
_ASM = re.compile(r"\b(?:asm|__asm__|__asm)\b\s*(?:(?:volatile|__volatile__|goto|inline)\s*)*\(")
_PTX = re.compile(r"\b[a-z]+(?:\.[a-z0-9]+)+\b")


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

    @property
    def guarded(self) -> bool:
        """In a branch ROCm does not take, or in one only ROCm takes (the author's own ROCm code)."""
        return self.context != "shared"

    @property
    def message(self) -> str:
        rule = RULES[_RULE_INDEX[self.rule]]
        if self.kind == "unsupported":
            text = f"{self.identifier} is marked unsupported on HIP by PyTorch's tables (-> {self.replacement})"
        elif self.rule == "cuda-header":
            text = f"<{self.identifier}> is a CUDA header that no map renames"
        elif self.rule == "inline-ptx":
            text = "inline PTX assembly does not compile for AMD GPUs"
        else:
            text = f"{self.identifier} ({rule.title}) has no HIP mapping"
        if self.context == "cuda-only":
            text += " [in a branch ROCm does not take]"
        elif self.context == "rocm-only":
            text += " [in a branch only ROCm takes]"
        return text


@dataclass(frozen=True)
class FileReport:
    source: str
    """Relative to the project dir (POSIX separators)."""
    output: str
    """Relative to the output root."""
    replacements: tuple[Replacement, ...]
    findings: tuple[Finding, ...]

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if not f.guarded]

    @property
    def guarded(self) -> list[Finding]:
        return [f for f in self.findings if f.guarded]

    def count(self, kind: FindingKind, *, guarded: bool = False) -> int:
        return sum(1 for f in self.findings if f.kind == kind and f.guarded == guarded)


@dataclass(frozen=True)
class Report:
    """The report of one plan."""

    project_dir: Path
    files: tuple[FileReport, ...]
    unsupported_known: bool
    """False when PyTorch's tables carry no support markers (torch 2.13): 'unsupported' is then empty."""
    notes: tuple[str, ...] = ()

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
        }

    def counts_by_context(self) -> dict[str, int]:
        """Findings outside shared code, by context (``cuda-only``, ``rocm-only``)."""
        counts = {"cuda-only": 0, "rocm-only": 0}
        for fr in self.files:
            for f in fr.guarded:
                counts[f.context] += 1
        return counts

    # -- output formats --------------------------------------------------------------------------

    def display_path(self, source: str, cwd: str | None = None) -> str:
        """A source path as compilers print it: relative to the working dir when under it."""
        path = os.path.join(str(self.project_dir), source)
        cwd = cwd or os.getcwd()
        rel = os.path.relpath(path, cwd)
        return path if rel.startswith("..") else rel

    def to_text(self, *, verbose: bool = False, cwd: str | None = None) -> str:
        """Compiler-style lines (``file:line:col: level: message [rule]``) and a summary."""
        lines: list[str] = []
        for fr in self.files:
            shown = fr.findings if verbose else tuple(fr.problems)
            for f in shown:
                level = "note" if f.guarded else ("error" if f.kind == "unsupported" else "warning")
                lines.append(f"{self.display_path(fr.source, cwd)}:{f.line}:{f.col}: {level}: {f.message} [{f.rule}]")
            if verbose:
                lines.append(
                    f"{self.display_path(fr.source, cwd)}: {len(fr.replacements)} replaced, "
                    f"{fr.count('unsupported')} unsupported, {fr.count('leftover')} left over, "
                    f"{len(fr.guarded)} guarded"
                )
        t = self.totals()
        unsupported = str(t["unsupported"]) if self.unsupported_known else "n/a"
        by_context = self.counts_by_context()
        lines.append(
            f"hipify-tool: report: {t['files']} files, {t['replaced']} identifiers replaced, "
            f"{unsupported} unsupported, "
            f"{t['leftover']} left over; not counted: {by_context['cuda-only']} in branches ROCm does not take, "
            f"{by_context['rocm-only']} in branches only ROCm takes"
        )
        lines.extend(f"hipify-tool: report: note: {note}" for note in self.notes)
        return "\n".join(lines) + "\n"

    def to_json(self) -> str:
        """Every file with its replacements and findings (``docs/reports.md`` documents the schema)."""

        def finding(f: Finding) -> dict[str, Any]:
            d: dict[str, Any] = {
                "line": f.line,
                "col": f.col,
                "identifier": f.identifier,
                "kind": f.kind,
                "rule": f.rule,
                "context": f.context,
                "message": f.message,
            }
            if f.replacement is not None:
                d["replacement"] = f.replacement
            return d

        doc = {
            "tool": "hipify-tool",
            "version": __version__,
            "format": 1,
            "project_dir": str(self.project_dir),
            "unsupported_known": self.unsupported_known,
            "notes": list(self.notes),
            "totals": self.totals(),
            "files": [
                {
                    "source": fr.source,
                    "output": fr.output,
                    "replaced": len(fr.replacements),
                    "unsupported": fr.count("unsupported"),
                    "leftover": fr.count("leftover"),
                    "guarded": len(fr.guarded),
                    "replacements": [
                        {"line": r.line, "col": r.col, "identifier": r.identifier, "replacement": r.replacement}
                        for r in fr.replacements
                    ],
                    "findings": [finding(f) for f in fr.findings],
                }
                for fr in self.files
            ],
        }
        return json.dumps(doc, indent=1) + "\n"

    def to_sarif(self, *, cwd: str | None = None) -> str:
        """SARIF 2.1.0: problems as warnings (unsupported: errors), guarded findings as notes.

        Artifact URIs are relative to the working dir (the repository root in CI, which is what code
        scanning expects) under the ``%SRCROOT%`` base id; files outside it get absolute ``file:`` URIs.
        """
        cwd = os.path.abspath(cwd or os.getcwd())
        results: list[dict[str, Any]] = []
        for fr in self.files:
            absolute = os.path.join(str(self.project_dir), fr.source)
            rel = os.path.relpath(absolute, cwd)
            if rel.startswith(".."):
                location: dict[str, Any] = {"uri": Path(absolute).as_uri()}
            else:
                location = {"uri": _uri_path(rel), "uriBaseId": "%SRCROOT%"}
            for f in fr.findings:
                level = "note" if f.guarded else ("error" if f.kind == "unsupported" else "warning")
                results.append(
                    {
                        "ruleId": f.rule,
                        "ruleIndex": _RULE_INDEX[f.rule],
                        "level": level,
                        "message": {"text": f.message},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": dict(location),
                                    "region": {
                                        "startLine": f.line,
                                        "startColumn": f.col,
                                        "endColumn": f.col + len(f.identifier),
                                    },
                                }
                            }
                        ],
                        "partialFingerprints": {"identifier/v1": f"{fr.source}:{f.rule}:{f.identifier}"},
                    }
                )
        rules = [
            {
                "id": rule.id,
                "name": "".join(part.capitalize() for part in rule.id.split("-")),
                "shortDescription": {"text": rule.title},
                "fullDescription": {"text": rule.help},
                "defaultConfiguration": {"level": "error" if rule.id == "unsupported" else "warning"},
            }
            for rule in RULES
        ]
        doc = {
            "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
            "version": "2.1.0",
            "runs": [
                {
                    "tool": {
                        "driver": {
                            "name": "hipify-tool",
                            "version": __version__,
                            "semanticVersion": __version__,
                            "informationUri": "https://pypi.org/project/hipify-tool/",
                            "rules": rules,
                        }
                    },
                    "originalUriBaseIds": {"%SRCROOT%": {"uri": Path(cwd).as_uri() + "/"}},
                    "columnKind": "unicodeCodePoints",
                    "results": results,
                    "properties": {"totals": self.totals(), "unsupportedKnown": self.unsupported_known},
                }
            ],
        }
        return json.dumps(doc, indent=1) + "\n"

    def format(self, fmt: ReportFormat, *, verbose: bool = False) -> str:
        if fmt == "json":
            return self.to_json()
        if fmt == "sarif":
            return self.to_sarif()
        return self.to_text(verbose=verbose)


def _uri_path(rel: str) -> str:
    from urllib.parse import quote

    return quote(rel.replace(os.sep, "/"))


# --- analysis ---------------------------------------------------------------------------------------


@dataclass
class Analyser:
    """The maps of one run, ready to analyse files with (build once, analyse many)."""

    token_map: Mapping[str, str]
    custom: CustomMap | None = None
    unsupported: frozenset[str] | None = None
    """From :func:`hipify_tool.torch_adapter.unsupported_markers`; ``None``: the tables have no markers."""
    project_defines: set[str] = field(default_factory=set)
    _pytorch: TokenMatcher = field(init=False)
    _custom: TokenMatcher | None = field(init=False)

    def __post_init__(self) -> None:
        self._pytorch = TokenMatcher(self.token_map)
        self._custom = TokenMatcher(self.custom.tokens) if self.custom and self.custom.tokens else None

    def translate(self, text: str) -> str:
        """What the maps make of a snippet (an ``#if`` condition, an include path)."""
        if self.custom:
            for src, dst in self.custom.substrings:
                text = text.replace(src, dst)
        if self._custom is not None:
            text, _ = self._custom.replace(text)
        return self._pytorch.replace(text)[0]

    def _hits(self, text: str) -> list[tuple[int, int, str, str, bool]]:
        """``(start, end, key, replacement, from_pytorch)`` of every map hit, by position."""
        hits: list[tuple[int, int, str, str, bool]] = []
        if self.custom:
            for src, dst in self.custom.substrings:
                start = text.find(src)
                while start != -1:
                    hits.append((start, start + len(src), src, dst, False))
                    start = text.find(src, start + len(src))
        if self._custom is not None:
            hits.extend((s, s + len(k), k, v, False) for s, k, v in self._custom.finditer(text))
        hits.extend((s, s + len(k), k, v, True) for s, k, v in self._pytorch.finditer(text))
        hits.sort()
        return hits

    def analyse(
        self,
        text: str,
        source: str,
        output: str = "",
        *,
        translated: bool = True,
        resolves: Mapping[str, bool] | None = None,
        code: str | None = None,
        strings: Sequence[tuple[int, int]] | None = None,
    ) -> FileReport:
        """One file. ``resolves(kind, path)`` says an include names a project file (the plan knows)."""
        if code is None or strings is None:
            code, strings = blank(text)
        translate = self.translate if translated else (lambda s: s)
        lines = branch_lines(code, ROCM, translate)
        cuda_lines = branch_lines(code, CUDA)

        def context(line: int) -> Context:
            if not lines.taken[line - 1]:
                return "cuda-only"
            return "shared" if cuda_lines.taken[line - 1] else "rocm-only"

        starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]

        def where(pos: int) -> tuple[int, int]:
            line = bisect.bisect_right(starts, pos) - 1
            return line + 1, pos - starts[line] + 1

        replacements: list[Replacement] = []
        findings: list[Finding] = []
        covered: list[tuple[int, int]] = []
        if translated:
            for start, end, key, value, from_pytorch in self._hits(text):
                if code[start] != text[start]:  # inside a comment or string: translated, not counted
                    continue
                line, col = where(start)
                covered.append((start, end))
                replacements.append(Replacement(line, col, key, value))
                if from_pytorch and self.unsupported and key in self.unsupported:
                    findings.append(Finding(source, line, col, key, "unsupported", "unsupported", context(line), value))
        covered_starts = {s for s, _ in covered}

        def replaced(start: int, end: int) -> bool:
            if start in covered_starts:
                return True
            i = bisect.bisect_right(covered, (start, float("inf"))) - 1
            return i >= 0 and covered[i][1] > start

        for ident in _IDENT.finditer(code):
            start = ident.start()
            line, col = where(start)
            kind = lines.directive[line - 1]
            if kind is not None and kind != "define":  # conditions are evaluated, includes checked below
                continue
            name = ident.group(0)
            rule = _rule_of(name, code, start)
            if rule is None or name in ROCM_PROVIDED or name in self.project_defines:
                continue
            if replaced(start, ident.end()):
                continue
            findings.append(Finding(source, line, col, name, rule, "leftover", context(line)))
        for line_no, kind in enumerate(lines.directive, start=1):
            if kind != "include":
                continue
            inc = _INCLUDE.match(text, starts[line_no - 1])
            if inc is None:
                continue
            path = inc.group("q") if inc.group("q") is not None else inc.group("a")
            group = "q" if inc.group("q") is not None else "a"
            if is_pytorch_renamed_include(path) or (resolves is not None and resolves.get(f"{group}:{path}", False)):
                continue
            new = translate(path)
            if _CUDA_HEADER.fullmatch(new) is None:
                continue
            line, col = where(inc.start(group))
            findings.append(Finding(source, line, col, path, "cuda-header", "leftover", context(line)))
        for asm in _ASM.finditer(code):
            i = bisect.bisect_left(strings, (asm.end(), 0))
            if i < len(strings) and _PTX.search(text, strings[i][0], strings[i][1]):
                line, col = where(asm.start())
                keyword = asm.group(0).split("(")[0].strip()
                findings.append(Finding(source, line, col, keyword, "inline-ptx", "leftover", context(line)))
        findings.sort(key=lambda f: (f.line, f.col))
        return FileReport(source, output, tuple(replacements), tuple(findings))


def _rule_of(name: str, code: str, start: int) -> str | None:
    if name == "cuda":  # libcu++'s namespace, not PyTorch's at::cuda / c10::cuda
        after = code[start + 4 : start + 8].lstrip()
        before = code[max(0, start - 4) : start].rstrip()
        return "libcudacxx" if after.startswith("::") and not before.endswith("::") else None
    m = _IDENT_RULES.fullmatch(name)
    if m is None or m.lastgroup is None:
        return None
    return m.lastgroup.replace("_", "-")


def _resolutions(plan: Plan, rel: str, text: str, include_dirs: Sequence[str]) -> dict[str, bool]:
    """Which includes of ``rel`` name a planned (project) file, by the plan's search order."""
    result: dict[str, bool] = {}
    for m in _INCLUDE.finditer(text):
        quoted = m.group("q") is not None
        path = m.group("q") if quoted else m.group("a")
        dirs = [posixpath.dirname(rel), *include_dirs] if quoted else list(include_dirs)
        result[f"{'q' if quoted else 'a'}:{path}"] = any(
            posixpath.normpath(posixpath.join(d, path)) in plan.files for d in dirs
        )
    return result


def analyse_plan(
    plan: Plan,
    *,
    token_map: Mapping[str, str] | None = None,
    unsupported: frozenset[str] | None = None,
    custom: CustomMap | None = None,
) -> Report:
    """The report of every planned file (sources and the headers they reach).

    Without arguments it uses what a run of ``plan.options`` uses: PyTorch's tables and the
    ``--map`` files. Reads the sources; writes nothing.
    """
    notes: list[str] = []
    if token_map is None:
        from . import torch_adapter

        token_map = torch_adapter.load_tables().token_map
        unsupported = torch_adapter.unsupported_markers()
    if custom is None and plan.options.maps:
        from .maps import load_maps

        custom = load_maps(plan.options.maps)
    if unsupported is None:
        notes.append(
            "PyTorch's hipify tables (2.0) carry no HIP-support markers, so no name can be reported as "
            "unsupported; leftovers are what the maps do not translate"
        )
    analyser = Analyser(token_map, custom, unsupported)
    project = str(plan.options.project_dir)
    include_dirs = [os.path.relpath(d, project).replace(os.sep, "/") for d in plan.options.include_dirs]
    include_dirs = ["" if d == "." else d for d in include_dirs]
    texts: list[tuple[str, str, str, list[tuple[int, int]]]] = []
    for rel in sorted(plan.files):
        text = decode(plan.source_path(rel).read_bytes()).text
        code, strings = blank(text)
        texts.append((rel, text, code, strings))
        analyser.project_defines.update(_DEFINE_NAME.findall(code))
    files = []
    for rel, text, code, strings in texts:
        f = plan.files[rel]
        files.append(
            analyser.analyse(
                text,
                rel,
                f.output,
                translated=f.translated,
                resolves=_resolutions(plan, rel, text, include_dirs),
                code=code,
                strings=strings,
            )
        )
    return Report(plan.options.project_dir, tuple(files), unsupported is not None, tuple(notes))
