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
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..includes import (
    IncludeSite,
    find_include_positions,
    find_include_spans,
    find_includes,
    is_pytorch_renamed_include,
)
from ..manifest import STATE_DIR
from ..preprocessor import CUDA, ROCM, BranchLines, Target, blank, branch_lines, parse_defines
from ..rocm_headers import RocmHeaders, Support, locate
from ..translate import NameMaps, decode
from .declarations import Declaration, find_declarations, line_starts
from .include_notes import include_notes
from .model import Context, FileReport, Finding, FindingKind, Provided, Replacement, Report, Suppressed, Waiver

if TYPE_CHECKING:
    from ..maps import CustomMap
    from ..planned import Plan

__all__ = [
    "Analyser",
    "Source",
    "Reach",
    "analyse_plan",
    "ROCM_PROVIDED",
    "CUDA_LOOKING",
    "is_ptx",
    "ignored_rules",
    "include_edges",
    "compiled_files",
    "translation_units",
]

_IDENT_RULES = re.compile(
    r"(?P<cuda_runtime_api>cuda[A-Z]\w*)"
    r"|(?P<cuda_library>cu(?:blas|sparse|rand|fft|dnn|solver|tensor)[A-Z]\w*|curand|cudnn_frontend|cutlass"
    r"|curand_(?:init|uniform|normal|log_normal|poisson|discrete|mtgp32|Philox)\w*|CUTLASS\w*)"
    r"|(?P<cuda_macro>CU[A-Z]*_[A-Z0-9_]\w*|__CUDA\w*__|__CUDACC\w*|__NVCC__|CUDART\w*)"
    r"|(?P<cuda_driver_api>cu[A-Z]\w*|CU[a-z]\w*)"
    r"|(?P<nvidia_type>__nv_\w+|nv_(?:bfloat16|half)\w*|nvcuda|nvtx\w*|nvrtc\w*|nvml[A-Z]\w*|NVTX_\w+|NV_IF_\w+)"
    r"|(?P<warp_sync_intrinsic>__\w+_sync|__syncwarp|__activemask)"
    r"|(?P<cuda_intrinsic>__ld(?:cg|ca|cs|lu|cv)|__st(?:cg|cs|wb|wt)|__cvta_\w+|__pipeline_\w+)"
)

CUDA_LOOKING = re.compile(re.sub(r"\(\?P<\w+>", "(?:", _IDENT_RULES.pattern))
"""Every name a leftover rule matches (the ``cuda`` namespace aside): what the target ROCm's
declarations are looked up for."""
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


_IGNORE = re.compile(r"hipify-tool:[ \t]*ignore\[([^\]\n]*)\]")
"""An inline suppression: ``// hipify-tool: ignore[rule, rule]`` (or in a ``/* */`` comment)."""


def ignored_rules(src: Source) -> dict[int, frozenset[str]]:
    """The rules ignored per line (1-based): a suppression comment covers its own line, and the next
    line too when its line holds nothing but comments."""
    found: dict[int, set[str]] = {}
    if "hipify-tool:" not in src.text:
        return {}
    starts = line_starts(src.text)
    for m in _IGNORE.finditer(src.text):
        start = m.start()
        if src.code[start] == src.text[start]:  # in code, not a comment
            continue
        i = bisect.bisect_left(src.strings, (start + 1, 0)) - 1
        if i >= 0 and src.strings[i][0] <= start < src.strings[i][1]:  # in a string literal
            continue
        line = bisect.bisect_right(starts, start)
        rules = {r.strip() for r in m.group(1).split(",") if r.strip()}
        found.setdefault(line, set()).update(rules)
        end = starts[line] if line < len(starts) else len(src.code)
        if not src.code[starts[line - 1] : end].strip():  # a comment on a line of its own
            found.setdefault(line + 1, set()).update(rules)
    return {line: frozenset(rules) for line, rules in found.items()}


@dataclass(frozen=True)
class Reach:
    """Whether each compile reads a file at all: some inclusion of it sits in code that compile takes
    (a translation unit's own file always is)."""

    rocm: bool = True
    cuda: bool = True


@dataclass
class Analyser:
    """The maps of one run and its target ROCm, ready to analyse files with (build once, analyse many)."""

    token_map: Mapping[str, str]
    custom: CustomMap | None = None
    rocm: RocmHeaders | None = None
    """The target's headers; ``None``: unsupported names cannot be known."""
    defines: Mapping[str, int | None] = field(default_factory=dict)
    """The build's ``-D`` macros, for the ROCm compile's branches."""
    unchecked: dict[str, int] = field(default_factory=dict)
    """Replacements into ROCm libraries whose headers the target lacks, by library (not checked)."""
    _names: NameMaps = field(init=False)
    _support: dict[str, Support] = field(init=False, default_factory=dict)
    _target: Target = field(init=False)

    def __post_init__(self) -> None:
        custom = self.custom
        self._names = NameMaps(self.token_map, custom.tokens if custom else None, custom.substrings if custom else ())
        self._target = ROCM.with_defines(self.defines)

    def translate(self, text: str) -> str:
        """What the maps make of a snippet (an ``#if`` condition, an include directive)."""
        return self._names.apply(text)

    def prepare(self, text: str, *, translated: bool = True) -> Source:
        """Blank ``text`` and evaluate its branches (conditions translated, as the ROCm compile sees them)."""
        code, strings = blank(text)
        rocm = branch_lines(code, self._target, self.translate if translated else (lambda s: s))
        return Source(text, code, strings, rocm, branch_lines(code, CUDA))

    def support(self, hip_name: str) -> Support:
        """What the target's headers say about ``hip_name`` (once per name)."""
        known = self._support.get(hip_name)
        if known is None:
            known = self._support[hip_name] = self.rocm.check_name(hip_name) if self.rocm else Support("unchecked")
        return known

    def include_target(self, text: str, site: IncludeSite, offset: int) -> str:
        """The path an include has after translation: the maps see the whole directive (PyTorch's
        ``include <cuda.h`` -> ``include <hip/hip_runtime.h`` is one entry)."""
        start = text.rfind("\n", 0, offset) + 1
        end = text.find("\n", offset)
        translated = list(find_includes(self.translate(text[start : end if end != -1 else len(text)])))
        return translated[0].path if translated else self.translate(site.path)

    def analyse(
        self,
        source: Source | str,
        path: str,
        output: str = "",
        *,
        translated: bool = True,
        reaches_project: Collection[tuple[str, str]] = (),
        declared: Mapping[str, Declaration] | None = None,
        reach: Reach = Reach(),
    ) -> FileReport:
        """One file. ``reaches_project`` holds the ``(kind, path)`` of includes that reach a project file
        (the plan resolved them): such a header is the project's, whatever its name. ``declared``: the
        names the project declares where this file is compiled (:func:`visible_declarations`).
        ``reach``: whether ROCm and nvcc read the file at all (:func:`compiled_files`). An untranslated
        file (``translated=False``: its extension is not translated) is reported by what translation
        would have replaced in it."""
        src = self.prepare(source, translated=translated) if isinstance(source, str) else source
        text, code, lines = src.text, src.code, src.rocm
        declared = declared or {}
        ignores = ignored_rules(src)

        def context(line: int) -> tuple[Context, bool]:
            """The line's context, and whether it comes from the file's inclusions."""
            rocm, cuda = lines.taken[line - 1], src.cuda.taken[line - 1]
            if not reach.rocm and rocm:
                return "cuda-only", True
            if not reach.cuda and rocm and cuda:
                return "rocm-only", True
            if not rocm:
                return "cuda-only", False
            return ("shared" if cuda else "rocm-only"), False

        def finding(line: int, col: int, name: str, rule: str, kind: FindingKind, **extra: Any) -> Finding:
            where, by_file = context(line)
            waived: Waiver | None = "ignored" if rule in ignores.get(line, ()) else None
            return Finding(path, line, col, name, rule, kind, where, waived=waived, by_inclusion=by_file, **extra)

        starts = line_starts(text)

        def where(pos: int) -> tuple[int, int]:
            line = bisect.bisect_right(starts, pos) - 1
            return line + 1, pos - starts[line] + 1

        replacements: list[Replacement] = []
        findings: list[Finding] = []
        suppressed: list[Suppressed] = []
        provided: list[Provided] = []
        covered: list[tuple[int, int]] = []
        for start, end, key, value in self._names.hits(text):
            if code[start] != text[start]:  # inside a comment or string: translated, not counted
                continue
            line, col = where(start)
            covered.append((start, end))
            if not translated:  # the file was copied as it is: the name stays
                findings.append(finding(line, col, key, "untranslated-extension", "leftover", replacement=value))
                continue
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
                finding(line, col, key, "unsupported", "unsupported", replacement=value, closest=support.closest)
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
            if rule != "libcudacxx" and self.rocm is not None and self.rocm.declares(name):
                provided.append(Provided(line, col, name, rule))
                continue
            findings.append(finding(line, col, name, rule, "leftover"))
        for site, offset in find_include_spans(text):
            line, col = where(offset)
            if site.kind == "thc" or lines.directive[line - 1] != "include" or is_pytorch_renamed_include(site.path):
                continue
            if replaced(offset):  # an untranslated file's include a map would rename: reported above
                continue
            new = self.include_target(text, site, offset) if translated else site.path
            if (site.kind, new) in reaches_project or (site.kind, site.path) in reaches_project:
                continue
            if _CUDA_HEADER.fullmatch(new) is None:
                continue
            findings.append(finding(line, col, site.path, "cuda-header", "leftover"))
        for asm in _ASM.finditer(code):
            if is_ptx(_template(text, code, src.strings, asm.end())):
                line, col = where(asm.start())
                keyword = asm.group(0).split("(")[0].strip()
                findings.append(finding(line, col, keyword, "inline-ptx", "leftover"))
        findings.sort(key=lambda f: (f.line, f.col))
        return FileReport(
            path,
            output,
            tuple(replacements),
            tuple(findings),
            tuple(suppressed),
            provided=tuple(provided),
            compiled_by_rocm=reach.rocm,
        )


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


_HEADER_SUFFIXES = (".h", ".hh", ".hpp", ".hxx", ".cuh", ".inl", ".inc", ".ipp", ".tpp", ".tcc", ".in")
"""Files that are compiled only where they are included (an input with another suffix is a translation
unit of its own, included or not)."""


def include_edges(plan: Plan, sources: Mapping[str, Source], analyser: Analyser) -> dict[str, list[tuple[str, int]]]:
    """Per planned file, the project files its includes reach, each with the source line of the
    ``#include`` (0: no directive in the source matches it, e.g. one PyTorch's tables made). An
    include the plan followed in a comment (as PyTorch does) includes nothing."""
    edges: dict[str, list[tuple[str, int]]] = {}
    for rel, f in plan.files.items():
        src = sources[rel]
        lines: dict[tuple[str, str], list[int]] = {}
        starts = line_starts(src.text)
        for site, line, col in find_include_positions(src.text):
            offset = starts[line - 1] + col - 1
            keys = {(site.kind, site.path)}
            if f.translated:
                keys.add((site.kind, analyser.include_target(src.text, site, offset)))
            for key in keys:
                lines.setdefault(key, []).append(line)
        used: dict[tuple[str, str], int] = {}
        out: list[tuple[str, int]] = []
        for r in f.resolutions:
            if r.target is None:
                continue
            key = (r.site.kind, r.site.path)
            k = used[key] = used.get(key, -1) + 1
            at = lines.get(key, [])
            line = at[k] if k < len(at) else 0
            if line and src.rocm.directive[line - 1] != "include":  # text in a comment: includes nothing
                continue
            out.append((r.target, line))
        edges[rel] = out
    return edges


def compiled_files(
    roots: Sequence[str],
    edges: Mapping[str, Sequence[tuple[str, int]]],
    taken: Callable[[str, int], bool],
) -> set[str]:
    """The files a compile reads: ``roots`` and, transitively, what their includes on lines that compile
    takes reach (an include with no source line counts as taken: never hide what cannot be placed)."""
    seen = set(roots)
    stack = list(roots)
    while stack:
        rel = stack.pop()
        for target, line in edges.get(rel, ()):
            if target not in seen and (line == 0 or taken(rel, line)):
                seen.add(target)
                stack.append(target)
    return seen


def translation_units(plan: Plan, edges: Mapping[str, Sequence[tuple[str, int]]]) -> list[str]:
    """The files compiled on their own: inputs, except headers some planned file includes (a header
    input that nothing includes is kept: it may be compiled, or included from elsewhere), and any
    planned file nothing includes."""
    included = {target for targets in edges.values() for target, _ in targets}
    roots = [rel for rel in plan.inputs if rel not in included or not rel.endswith(_HEADER_SUFFIXES)]
    inputs = set(plan.inputs)
    return [*roots, *sorted(rel for rel in plan.files if rel not in included and rel not in inputs)]


def analyse_plan(
    plan: Plan,
    *,
    token_map: Mapping[str, str] | None = None,
    custom: CustomMap | None = None,
    rocm: RocmHeaders | str | None = None,
) -> Report:
    """The report of every planned file (sources and the headers they reach).

    Without arguments it uses what a run of ``plan.options`` uses: PyTorch's tables, the ``--map``
    files, the build's ``-D`` macros and the ROCm headers of ``rocm_path`` (else as
    :func:`~hipify_tool.rocm_headers.discover` finds them; an index a run cached in the output root is
    read, none is written). ``rocm`` given as text: no headers, and why. Sources the plan read are
    analysed from memory; writes nothing. A ``baseline`` in the options is not applied here
    (:func:`~hipify_tool.report.baseline.apply_baseline`).
    """
    o = plan.options
    if token_map is None:
        from .. import torch_adapter

        token_map = torch_adapter.locate().tables().token_map
    if custom is None and o.maps:
        from ..maps import load_maps

        custom = load_maps(o.maps)
    defines = parse_defines(o.defines)
    if rocm is None:
        rocm = locate(
            o.rocm_path, os.environ, cache_dir=o.output_dir / STATE_DIR, defines=defines, declarations=CUDA_LOOKING
        )
    headers = rocm if isinstance(rocm, RocmHeaders) else None
    analyser = Analyser(token_map, custom, headers, defines)
    sources: dict[str, Source] = {}
    for rel in sorted(plan.files):
        f = plan.files[rel]
        sources[rel] = analyser.prepare(decode(plan.source_bytes(rel)).text, translated=f.translated)
    edges = include_edges(plan, sources, analyser)
    roots = translation_units(plan, edges)
    by_rocm = compiled_files(roots, edges, lambda rel, line: sources[rel].rocm.taken[line - 1])
    by_cuda = compiled_files(roots, edges, lambda rel, line: sources[rel].cuda.taken[line - 1])
    declarations: dict[str, list[Declaration]] = {}
    for rel, src in sources.items():
        if rel not in by_rocm:  # ROCm never reads it: what it declares declares nothing there
            continue
        found = find_declarations(src.code, rel, src.rocm.taken, src.rocm.directive, _RELEVANT)
        # a declaration the maps rename declares the new name too (hip_bfloat16 from __nv_bfloat16)
        found += [
            Declaration(new, d.path, d.line, d.kind)
            for d in found
            if plan.files[rel].translated and (new := analyser.translate(d.identifier)) != d.identifier
        ]
        declarations[rel] = found
    rocm_includes = {
        rel: [t for t, line in targets if line == 0 or sources[rel].rocm.taken[line - 1]]
        for rel, targets in edges.items()
    }
    visible = visible_declarations(declarations, rocm_includes, roots)
    files = []
    for rel, src in sources.items():
        f = plan.files[rel]
        reaches = {(r.site.kind, r.site.path) for r in f.resolutions if r.target is not None}
        files.append(
            analyser.analyse(
                src,
                rel,
                f.output,
                translated=f.translated,
                reaches_project=reaches,
                declared=visible.get(rel, {}),
                reach=Reach(rel in by_rocm, rel in by_cuda),
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
    target = None
    if headers is not None:
        target = f"{headers.describe()} (from {headers.found_by})"
        if o.defines:
            target += f" with {' '.join('-D' + d for d in o.defines)}"
    return Report(o.project_dir, tuple(files), headers is not None, tuple(notes), target=target)
