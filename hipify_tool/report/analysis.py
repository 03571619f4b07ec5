"""Analysis: what the maps replaced in a plan's sources, and the CUDA that survives translation.

Positions are ``line:col`` in the *source* file (1-based, columns in characters). The maps are those
the run used: the project's ``--map`` files, then PyTorch's tables. Leftover rules are :data:`RULES`
(docs/reports.md explains each). Not leftovers: names the project declares itself in code ROCm
compiles (:mod:`.declarations`), and PyTorch API names that ROCm builds of PyTorch provide
(``at::cuda::``, ``CUDA_KERNEL_ASSERT`` ...). A replacement is unsupported when its HIP name is
missing from the target ROCm's headers (:mod:`hipify_tool.rocm_headers`).
"""

from __future__ import annotations

import bisect
import dataclasses
import os
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..includes import find_include_spans, is_pytorch_renamed_include
from ..manifest import STATE_DIR
from ..preprocessor import CUDA, ROCM, BranchLines, blank, branch_lines
from ..rocm_headers import RocmHeaders, Support, locate
from ..translate import NameMaps, decode
from .declarations import Declaration, find_declarations, line_starts
from .include_notes import include_notes
from .model import Context, FileReport, Finding, Replacement, Report, Suppressed

if TYPE_CHECKING:
    from ..maps import CustomMap
    from ..planned import Plan

__all__ = ["Analyser", "Source", "analyse_plan", "ROCM_PROVIDED", "is_ptx"]

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
_IDENT = re.compile(r"\b[A-Za-z_]\w*")
_ASM = re.compile(r"\b(?:asm|__asm__|__asm)\b\s*(?:(?:volatile|__volatile__|goto|inline)\s*)*\(")

# --- inline PTX ------------------------------------------------------------------------------------

_PTX_OPCODES = (
    "mov|cvt|cvta|ld|ldu|st|add|sub|mul|mul24|mad|mad24|fma|div|rem|abs|neg|min|max|and|or|xor|not|cnot|"
    "shl|shr|shf|setp|set|selp|slct|prmt|lop3|bfe|bfi|brev|bfind|clz|popc|fns|shfl|vote|match|redux|bar|"
    "barrier|membar|fence|atom|red|cp|ldmatrix|stmatrix|movmatrix|mma|wgmma|wmma|mbarrier|elect|"
    "griddepcontrol|tcgen05|tensormap|prefetch|prefetchu|discard|applypriority|createpolicy|isspacep|mapa|"
    "getctarank|nanosleep|activemask|sqrt|rsqrt|rcp|sin|cos|lg2|ex2|tanh|testp|copysign|dp4a|dp2a|"
    "vabsdiff|sad|multimem|alloca|stackrestore|stacksave|suld|sust|sured|suq|tex|tld4|txq|istypep|szext|bmsk|"
    "bra|call|setmaxnreg|clusterlaunchcontrol"
)
_PTX = re.compile(
    rf"(?:^|[;{{}}]|\\[nt]|\s)\s*(?:@!?%?\w+\s+)?(?:(?:{_PTX_OPCODES})(?:\.[A-Za-z0-9_]+(?:::\w+)?)+(?=[\s;\\])|(?:trap|exit|brkpt|ret)\s*;)"
    r"|\.(?:reg|pred|shared|local|param|const|global)\s+\.(?:[bsuf]\d+|pred|v\d)\b"
    r"|%(?:laneid|warpid|nwarpid|smid|nsmid|tid|ntid|ctaid|nctaid|clock|clock64|globaltimer\w*|lanemask_\w+|"
    r"dynamic_smem_size|total_smem_size|gridid|cluster\w*|envreg\d+|pm\d)\b"
)
"""PTX: an instruction (a PTX opcode at an instruction's start with its dotted types and modifiers,
``cvt.rn.f16.f32``, or ``trap;``), a register declaration (``.reg .b32``), or a special register
(``%laneid``). AMDGCN instructions have no dots (``v_add_f32``, ``s_waitcnt``), x86 ones no dotted
types, and an asm label names a symbol (``llvm.amdgcn.raw.buffer.load.v4i32``), not an instruction."""


def is_ptx(template: str) -> bool:
    """Whether an asm statement's template (the text of its string literals, joined) is PTX."""
    return _PTX.search(template) is not None


# --- the analyser ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """One file as the analysis sees it: text, blanked code, string spans, and its ROCm/CUDA branches."""

    text: str
    code: str
    strings: list[tuple[int, int]]
    rocm: BranchLines
    cuda: BranchLines


@dataclass
class Analyser:
    """The maps of one run and its target ROCm, ready to analyse files with (build once, analyse many)."""

    token_map: Mapping[str, str]
    custom: CustomMap | None = None
    rocm: RocmHeaders | None = None
    """The target's headers; ``None``: unsupported names cannot be known."""
    unchecked: dict[str, int] = field(default_factory=dict)
    """Replacements into ROCm libraries whose headers the target lacks, by library (not checked)."""
    _names: NameMaps = field(init=False)
    _support: dict[str, Support] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        custom = self.custom
        self._names = NameMaps(self.token_map, custom.tokens if custom else None, custom.substrings if custom else ())

    def translate(self, text: str) -> str:
        """What the maps make of a snippet (an ``#if`` condition, an include path)."""
        return self._names.apply(text)

    def prepare(self, text: str, *, translated: bool = True) -> Source:
        """Blank ``text`` and evaluate its branches (conditions translated, as the ROCm compile sees them)."""
        code, strings = blank(text)
        rocm = branch_lines(code, ROCM, self.translate if translated else (lambda s: s))
        return Source(text, code, strings, rocm, branch_lines(code, CUDA))

    def support(self, hip_name: str) -> Support:
        """What the target's headers say about ``hip_name`` (once per name)."""
        known = self._support.get(hip_name)
        if known is None:
            known = self._support[hip_name] = self.rocm.check_name(hip_name) if self.rocm else Support("unchecked")
        return known

    def analyse(
        self,
        source: Source | str,
        path: str,
        output: str = "",
        *,
        translated: bool = True,
        reaches_project: Collection[tuple[str, str]] = (),
        declared: Mapping[str, Declaration] | None = None,
    ) -> FileReport:
        """One file. ``reaches_project`` holds the ``(kind, path)`` of includes that reach a project file
        (the plan resolved them): such a header is the project's, whatever its name. ``declared``: the
        names the project declares where this file is compiled (:func:`visible_declarations`)."""
        src = self.prepare(source, translated=translated) if isinstance(source, str) else source
        text, code, lines = src.text, src.code, src.rocm
        declared = declared or {}
        translate = self.translate if translated else (lambda s: s)

        def context(line: int) -> Context:
            if not lines.taken[line - 1]:
                return "cuda-only"
            return "shared" if src.cuda.taken[line - 1] else "rocm-only"

        starts = line_starts(text)

        def where(pos: int) -> tuple[int, int]:
            line = bisect.bisect_right(starts, pos) - 1
            return line + 1, pos - starts[line] + 1

        replacements: list[Replacement] = []
        findings: list[Finding] = []
        suppressed: list[Suppressed] = []
        covered: list[tuple[int, int]] = []
        if translated:
            for start, end, key, value in self._names.hits(text):
                if code[start] != text[start]:  # inside a comment or string: translated, not counted
                    continue
                line, col = where(start)
                covered.append((start, end))
                replacements.append(Replacement(line, col, key, value))
                support = self.support(value)
                if support.status == "unchecked" and support.library is not None:
                    self.unchecked[support.library] = self.unchecked.get(support.library, 0) + 1
                if support.status != "missing":
                    continue
                own = declared.get(support.name or value) or declared.get(value)
                if own is not None:
                    suppressed.append(Suppressed(line, col, support.name or value, "unsupported", own))
                    continue
                findings.append(
                    Finding(path, line, col, key, "unsupported", "unsupported", context(line), value, support.closest)
                )
        covered_starts = {s for s, _ in covered}

        def replaced(start: int) -> bool:
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
            if rule is None or name in ROCM_PROVIDED or replaced(start):
                continue
            own = declared.get(name)
            if own is not None:
                suppressed.append(Suppressed(line, col, name, rule, own))
                continue
            findings.append(Finding(path, line, col, name, rule, "leftover", context(line)))
        for site, offset in find_include_spans(text):
            line, col = where(offset)
            if site.kind == "thc" or lines.directive[line - 1] != "include" or is_pytorch_renamed_include(site.path):
                continue
            new = translate(site.path)
            if (site.kind, new) in reaches_project or (site.kind, site.path) in reaches_project:
                continue
            if _CUDA_HEADER.fullmatch(new) is None:
                continue
            findings.append(Finding(path, line, col, site.path, "cuda-header", "leftover", context(line)))
        for asm in _ASM.finditer(code):
            if is_ptx(_template(text, code, src.strings, asm.end())):
                line, col = where(asm.start())
                keyword = asm.group(0).split("(")[0].strip()
                findings.append(Finding(path, line, col, keyword, "inline-ptx", "leftover", context(line)))
        findings.sort(key=lambda f: (f.line, f.col))
        return FileReport(path, output, tuple(replacements), tuple(findings), tuple(suppressed))


def _template(text: str, code: str, strings: Sequence[tuple[int, int]], start: int) -> str:
    """The string literals of an asm statement's template: from its ``(`` to the first top-level
    ``:`` or its closing ``)`` (PTX is often split over several adjacent literals)."""
    depth = 0
    end = len(code)
    i = start
    while i < len(code):
        ch = code[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            if depth == 0:
                end = i
                break
            depth -= 1
        elif ch == ":" and depth == 0:
            if code.startswith("::", i):
                i += 2
                continue
            end = i
            break
        i += 1
    first = bisect.bisect_left(strings, (start, 0))
    parts = []
    for s, e in strings[first:]:
        if s >= end:
            break
        body = text[s:e]
        parts.append(body[body.index('"') + 1 : -1] if '"' in body else body)
    return "\n".join(parts)


def _rule_of(name: str, code: str, start: int) -> str | None:
    if name == "cuda":  # libcu++'s namespace, not PyTorch's at::cuda / c10::cuda
        after = code[start + 4 : start + 8].lstrip()
        before = code[max(0, start - 4) : start].rstrip()
        return "libcudacxx" if after.startswith("::") and not before.endswith("::") else None
    m = _IDENT_RULES.fullmatch(name)
    if m is None or m.lastgroup is None:
        return None
    return m.lastgroup.replace("_", "-")


_RELEVANT = re.compile(
    re.sub(r"\(\?P<\w+>", "(?:", _IDENT_RULES.pattern)
    + r"|(?:hip|HIP|__hip|ihip|make_hip|roc|ROC|miopen|MIOPEN|rsmi|RSMI)\w*"
)
"""Declarations worth tracking: CUDA-looking names (leftover candidates) and ROCm library names."""


def visible_declarations(
    declarations: Mapping[str, Sequence[Declaration]], includes: Mapping[str, Sequence[str]], roots: Sequence[str]
) -> dict[str, dict[str, Declaration]]:
    """Per file, the declarations it sees: those of every file compiled with it, i.e. of each
    translation unit (a root and what it includes, transitively) that contains it."""
    visible: dict[str, dict[str, Declaration]] = {rel: {} for rel in includes}
    closures: dict[str, set[str]] = {}
    for root in roots:
        members: set[str] = set()
        stack = [root]
        while stack:
            rel = stack.pop()
            if rel in members:
                continue
            members.add(rel)
            stack.extend(includes.get(rel, ()))
        closures[root] = members
    for members in closures.values():
        seen: dict[str, Declaration] = {}
        for rel in sorted(members):
            for d in declarations.get(rel, ()):
                seen.setdefault(d.identifier, d)
        if not seen:
            continue
        for rel in members:
            for name, d in seen.items():
                visible[rel].setdefault(name, d)
    return visible


def analyse_plan(
    plan: Plan,
    *,
    token_map: Mapping[str, str] | None = None,
    custom: CustomMap | None = None,
    rocm: RocmHeaders | str | None = None,
) -> Report:
    """The report of every planned file (sources and the headers they reach).

    Without arguments it uses what a run of ``plan.options`` uses: PyTorch's tables, the ``--map``
    files, and the ROCm headers of ``rocm_path`` (else ``$ROCM_PATH``, else ``/opt/rocm``; an index
    a run cached in the output root is read, none is written). ``rocm`` given as text: no headers,
    and why. Sources the plan read are analysed from memory; writes nothing.
    """
    if token_map is None:
        from .. import torch_adapter

        token_map = torch_adapter.locate().tables().token_map
    if custom is None and plan.options.maps:
        from ..maps import load_maps

        custom = load_maps(plan.options.maps)
    if rocm is None:
        rocm = locate(plan.options.rocm_path, os.environ, cache_dir=plan.options.output_dir / STATE_DIR)
    headers = rocm if isinstance(rocm, RocmHeaders) else None
    analyser = Analyser(token_map, custom, headers)
    sources: dict[str, Source] = {}
    declarations: dict[str, list[Declaration]] = {}
    for rel in sorted(plan.files):
        f = plan.files[rel]
        src = analyser.prepare(decode(plan.source_bytes(rel)).text, translated=f.translated)
        sources[rel] = src
        found = find_declarations(src.code, rel, src.rocm.taken, src.rocm.directive, _RELEVANT)
        # a declaration the maps rename declares the new name too (hip_bfloat16 from __nv_bfloat16)
        found += [
            Declaration(new, d.path, d.line, d.kind)
            for d in found
            if f.translated and (new := analyser.translate(d.identifier)) != d.identifier
        ]
        declarations[rel] = found
    includes = {rel: list(f.includes) for rel, f in plan.files.items()}
    included = {target for targets in includes.values() for target in targets}
    roots = [*plan.inputs, *sorted(rel for rel in plan.files if rel not in included and rel not in plan.inputs)]
    visible = visible_declarations(declarations, includes, roots)
    files = []
    for rel, src in sources.items():
        f = plan.files[rel]
        reaches = {(r.site.kind, r.site.path) for r in f.resolutions if r.target is not None}
        files.append(
            analyser.analyse(
                src, rel, f.output, translated=f.translated, reaches_project=reaches, declared=visible.get(rel, {})
            )
        )
    by_file = include_notes(plan, {rel: src.text for rel, src in sources.items()})
    files = [dataclasses.replace(fr, includes=by_file.get(fr.source, ())) for fr in files]
    notes: list[str] = []
    if headers is None:
        notes.append(str(rocm))
    elif analyser.unchecked:
        libraries = ", ".join(f"{name}: {n}" for name, n in sorted(analyser.unchecked.items()))
        notes.append(
            f"replacements into ROCm libraries whose headers are not under {headers.include} were not checked "
            f"({libraries})"
        )
    return Report(
        plan.options.project_dir,
        tuple(files),
        headers is not None,
        tuple(notes),
        target=f"{headers.describe()} (from {headers.found_by})" if headers is not None else None,
    )
