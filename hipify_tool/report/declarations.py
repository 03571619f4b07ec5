"""What a project declares itself, in code a ROCm compile takes.

A project that writes ``typedef __hip_bfloat16 nv_bfloat16;`` in the ROCm branch of a header, or its
own ``__shfl_xor_sync`` for ROCm, has made that CUDA-looking name valid on ROCm: it is not a leftover.
Declarations are found on the text with comments and literals blanked (:func:`..preprocessor.blank`),
on lines the ROCm compile takes:

* ``#define NAME``;
* ``typedef … NAME;`` (also ``typedef … (*NAME)(…);`` and ``typedef struct {…} A, *B;``);
* ``using NAME = …;`` and ``using ns::NAME;``;
* ``struct|class|union|enum NAME`` followed by ``{``, ``:``, ``;`` (a definition or forward
  declaration, not ``struct X* p``), and the enumerators of an enum's body;
* a function: ``NAME (`` right after an identifier that is not an expression keyword
  (``__device__ float __shfl_xor_sync(…)``; a call is always after ``=``, ``(``, ``,``, ``;``, an
  operator or ``return``). Functions returning a pointer or reference are not recognised: a miss
  keeps a name reported, never hides one.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

__all__ = ["Declaration", "find_declarations", "line_starts"]


@dataclass(frozen=True)
class Declaration:
    """A name the project declares in code a ROCm compile takes."""

    identifier: str
    path: str
    """Source, relative to the project dir."""
    line: int
    kind: str
    """``define``, ``typedef``, ``using``, ``struct``, ``class``, ``union``, ``enum``, ``enumerator``, ``function``."""

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


_NAME = r"[A-Za-z_]\w*"
_DEFINE = re.compile(rf"^[ \t]*#[ \t]*define[ \t]+({_NAME})", re.M)
_TAG = re.compile(
    rf"\b(struct|class|union|enum(?:\s+(?:class|struct))?)\s+"
    rf"(?:(?:alignas|__align__|__attribute__|__declspec)\s*\((?:[^()]|\([^()]*\))*\)\s*|\[\[.*?\]\]\s*)*"
    rf"({_NAME})\s*(?:final\s*)?(?=[{{:;])"
)
_ENUM_BODY = re.compile(rf"\benum\b(?:\s+(?:class|struct))?(?:\s+{_NAME})?\s*(?::[^{{;]*)?\{{")
_TYPEDEF = re.compile(r"\btypedef\b")
_USING = re.compile(
    rf"\busing\s+(?!namespace\b)(?:({_NAME})\s*=|(?:{_NAME}\s*)?(?:::\s*{_NAME}\s*)*::\s*({_NAME})\s*;)"
)
_FUNCTION_POINTER = re.compile(rf"\(\s*(?:{_NAME}\s*::\s*)*[*&^]\s*({_NAME})\s*\)")
_DECLARATOR = re.compile(rf"({_NAME})\s*(?=[,;]|$)")
_PREV_IDENT = re.compile(rf"({_NAME})\s*$")
_NOT_A_TYPE = frozenset(
    "return case goto throw new delete sizeof alignof decltype typeid noexcept co_await co_yield co_return "
    "else do not and or xor bitand bitor compl not_eq and_eq or_eq xor_eq if while for switch operator "
    "static_assert static_cast dynamic_cast const_cast reinterpret_cast template typename using typedef "
    "asm __asm__ __asm volatile __volatile__ defined".split()
)
"""Words after which ``NAME(`` is a call or an operand, never a function's declarator."""


def line_starts(text: str) -> list[int]:
    """The offset of each line's first character (index 0 is line 1)."""
    return list(itertools.accumulate((len(line) + 1 for line in text.split("\n")[:-1]), initial=0))


def _line_of(starts: Sequence[int], pos: int) -> int:
    return bisect.bisect_right(starts, pos)


def _matching(code: str, open_pos: int, opening: str, closing: str) -> int:
    """Index just past the bracket closing the one at ``open_pos`` (or the end of ``code``)."""
    depth = 0
    for i in range(open_pos, len(code)):
        ch = code[i]
        if ch == opening:
            depth += 1
        elif ch == closing:
            depth -= 1
            if depth == 0:
                return i + 1
    return len(code)


def _without_groups(text: str) -> str:
    """``text`` with every bracketed group (``()``, ``[]``, ``{}``, ``<>``) blanked, innermost first."""
    pattern = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|\{[^{}]*\}|<[^<>;{}()]*>")
    while True:
        blanked = pattern.sub(lambda m: " " * len(m.group(0)), text)
        if blanked == text:
            return text
        text = blanked


def _typedef_names(code: str, start: int) -> Iterator[tuple[str, int]]:
    """Declarators of the ``typedef`` at ``start``: ``(name, position)``."""
    depth = 0
    end = len(code)
    for i in range(start, len(code)):
        ch = code[i]
        if ch in "({[":
            depth += 1
        elif ch in ")}]":
            depth -= 1
        elif ch == ";" and depth <= 0:
            end = i
            break
    body = code[start:end]
    pointers = list(_FUNCTION_POINTER.finditer(body))
    for m in pointers:
        yield m.group(1), start + m.start(1)
    if pointers:
        return
    flat = _without_groups(body)
    for m in _DECLARATOR.finditer(flat):
        name = m.group(1)
        if name not in ("typedef", "const", "volatile", "struct", "class", "union", "enum"):
            yield name, start + m.start(1)


def _enumerators(code: str, open_brace: int) -> Iterator[tuple[str, int]]:
    close = _matching(code, open_brace, "{", "}")
    body = code[open_brace + 1 : close - 1]
    flat = _without_groups(body)
    offset = 0
    for item in flat.split(","):
        m = re.match(rf"\s*({_NAME})", item)
        if m is not None:
            yield m.group(1), open_brace + 1 + offset + m.start(1)
        offset += len(item) + 1


def find_declarations(
    code: str,
    path: str,
    taken: Sequence[bool],
    directive: Sequence[str | None],
    relevant: re.Pattern[str] = re.compile(_NAME),
    *,
    few: bool = False,
) -> list[Declaration]:
    """The declarations of names ``relevant`` matches (whole) in ``code`` (a :func:`blank`-ed file), on
    lines the ROCm compile takes; ``taken`` and ``directive`` are :func:`..preprocessor.branch_lines`'
    per-line results. ``few``: the names are few (a handful, over large headers): look where they
    occur first, and take apart only the typedefs and enums that may declare one."""
    callish = re.compile(rf"\b(?:{relevant.pattern})\b(?=\s*\()")
    hits = [m.start() for m in re.finditer(rf"\b(?:{relevant.pattern})\b", code)] if few else None
    if hits == []:
        return []

    def occurs(start: int, end: int) -> bool:
        if hits is None:
            return True
        i = bisect.bisect_left(hits, start)
        return i < len(hits) and hits[i] < end

    starts = line_starts(code)
    found: list[Declaration] = []

    def code_line(pos: int) -> int | None:
        """The 1-based line of ``pos`` when the ROCm compile takes it as code (not a directive)."""
        line = _line_of(starts, pos)
        return line if taken[line - 1] and directive[line - 1] is None else None

    for m in _DEFINE.finditer(code):
        line = _line_of(starts, m.start(1))
        if relevant.fullmatch(m.group(1)) and taken[line - 1]:
            found.append(Declaration(m.group(1), path, line, "define"))
    candidates = [(m.group(2), m.start(2), m.group(1).split()[0]) for m in _TAG.finditer(code)]
    bodies = [m.end() - 1 for m in _ENUM_BODY.finditer(code)]
    for k, brace in enumerate(bodies):
        if occurs(brace, bodies[k + 1] if k + 1 < len(bodies) else len(code)):
            candidates.extend((name, pos, "enumerator") for name, pos in _enumerators(code, brace))
    typedefs = [m.end() for m in _TYPEDEF.finditer(code)]
    for k, start in enumerate(typedefs):
        if occurs(start, typedefs[k + 1] if k + 1 < len(typedefs) else len(code)):
            candidates.extend((name, pos, "typedef") for name, pos in _typedef_names(code, start))
    for m in _USING.finditer(code):
        group = 1 if m.group(1) is not None else 2
        candidates.append((m.group(group), m.start(group), "using"))
    for m in callish.finditer(code):
        name = m.group(0)
        if name in _NOT_A_TYPE:
            continue
        before = _PREV_IDENT.search(code, max(0, m.start() - 200), m.start())
        # after a type (or a specifier such as __device__) on a code line: '#endif' is no type
        if before is not None and before.group(1) not in _NOT_A_TYPE and code_line(before.start()) is not None:
            candidates.append((name, m.start(), "function"))
    for name, pos, kind in candidates:
        at = code_line(pos)
        if at is not None and relevant.fullmatch(name):
            found.append(Declaration(name, path, at, kind))
    return found
