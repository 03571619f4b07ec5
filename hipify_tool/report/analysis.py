"""Analysis: what the maps replaced in a plan's sources, and the CUDA that survives translation.

Positions are ``line:col`` in the *source* file (1-based, columns in characters). The maps are those
the run used: the project's ``--map`` files, then PyTorch's tables. Leftover rules are :data:`RULES`
(docs/reports.md explains each); names the project itself ``#define``s and PyTorch API names that
ROCm builds of PyTorch provide (``at::cuda::``, ``CUDA_KERNEL_ASSERT`` ...) are not leftovers.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..includes import find_include_spans, is_pytorch_renamed_include
from ..preprocessor import CUDA, ROCM, blank, branch_lines
from ..translate import TokenMatcher, decode
from .model import Context, FileReport, Finding, Replacement, Report

if TYPE_CHECKING:
    from ..maps import CustomMap
    from ..planner import Plan

__all__ = ["Analyser", "analyse_plan", "ROCM_PROVIDED"]

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
_DEFINE_NAME = re.compile(r"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)", re.M)
_IDENT = re.compile(r"\b[A-Za-z_]\w*")
_ASM = re.compile(r"\b(?:asm|__asm__|__asm)\b\s*(?:(?:volatile|__volatile__|goto|inline)\s*)*\(")
_PTX = re.compile(r"\b[a-z]+(?:\.[a-z0-9]+)+\b")


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
        reaches_project: Collection[tuple[str, str]] = (),
        code: str | None = None,
        strings: Sequence[tuple[int, int]] | None = None,
    ) -> FileReport:
        """One file. ``reaches_project`` holds the ``(kind, path)`` of includes that reach a project file
        (the plan resolved them): such a header is the project's, whatever its name."""
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
        for site, offset in find_include_spans(text):
            line, col = where(offset)
            if site.kind == "thc" or lines.directive[line - 1] != "include" or is_pytorch_renamed_include(site.path):
                continue
            new = translate(site.path)
            if (site.kind, new) in reaches_project or (site.kind, site.path) in reaches_project:
                continue
            if _CUDA_HEADER.fullmatch(new) is None:
                continue
            findings.append(Finding(source, line, col, site.path, "cuda-header", "leftover", context(line)))
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


def analyse_plan(
    plan: Plan,
    *,
    token_map: Mapping[str, str] | None = None,
    unsupported: frozenset[str] | None = None,
    custom: CustomMap | None = None,
) -> Report:
    """The report of every planned file (sources and the headers they reach).

    Without arguments it uses what a run of ``plan.options`` uses: PyTorch's tables and the
    ``--map`` files. Sources the plan read are analysed from memory; writes nothing.
    """
    notes: list[str] = []
    if token_map is None:
        from .. import torch_adapter

        token_map = torch_adapter.load_tables().token_map
        unsupported = torch_adapter.unsupported_markers()
    if custom is None and plan.options.maps:
        from ..maps import load_maps

        custom = load_maps(plan.options.maps)
    if unsupported is None:
        notes.append(
            "PyTorch's hipify tables (2.0) carry no HIP-support markers, so no name can be reported as "
            "unsupported; leftovers are what the maps do not translate"
        )
    analyser = Analyser(token_map, custom, unsupported)
    texts: list[tuple[str, str, str, list[tuple[int, int]]]] = []
    for rel in sorted(plan.files):
        text = decode(plan.source_bytes(rel)).text
        code, strings = blank(text)
        texts.append((rel, text, code, strings))
        analyser.project_defines.update(_DEFINE_NAME.findall(code))
    files = []
    for rel, text, code, strings in texts:
        f = plan.files[rel]
        reaches = {(r.site.kind, r.site.path) for r in f.resolutions if r.target is not None}
        files.append(
            analyser.analyse(
                text, rel, f.output, translated=f.translated, reaches_project=reaches, code=code, strings=strings
            )
        )
    return Report(plan.options.project_dir, tuple(files), unsupported is not None, tuple(notes))
