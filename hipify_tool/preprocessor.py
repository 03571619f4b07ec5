"""Just enough of the C preprocessor to tell which lines a ROCm compile of a translated file sees.

Used by :mod:`hipify_tool.report`: a CUDA name left in a branch that ROCm does not take (``#ifndef
USE_ROCM``, ``#if defined(__CUDA_ARCH__)``) is fine; the same name outside one is a problem. Two pure
functions:

* :func:`blank` replaces comments and the contents of string and character literals with spaces
  (newlines kept), so positions still match the source and nothing inside them looks like code;
* :func:`rocm_lines` evaluates ``#if/#ifdef/#ifndef/#elif/#elifdef/#elifndef/#else/#endif`` with the
  macros a ROCm compile defines (``USE_ROCM``, ``__HIP_PLATFORM_AMD__``, ``__HIPCC__``, ``__HIP__``,
  ``__clang__``) and the CUDA compiler's macros undefined (``__CUDA_ARCH__``, ``__CUDACC__``,
  ``__NVCC__``, ``CUDART_VERSION`` ...). A condition is evaluated on its *translated* text, as the
  compiler will see it (hipify turns ``USE_CUDA`` into ``USE_ROCM`` and ``__CUDACC__`` into
  ``__HIPCC__``). ``#define``/``#undef`` of object-like macros earlier in the same file are followed.
  Anything else (a macro from another header, ``__has_include``, a function-like macro) is unknown,
  and a branch whose condition is unknown counts as taken: the report never hides a name it cannot
  prove to be dead.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

__all__ = ["blank", "branch_lines", "BranchLines", "Target", "ROCM", "CUDA", "evaluate", "parse_defines"]


@dataclass(frozen=True)
class Target:
    """A compile whose preprocessor branches we follow: what it defines and what it surely does not."""

    name: str
    defines: Mapping[str, int | None]
    """Defined macros and their values (``None``: defined, value unknown)."""
    undefined: re.Pattern[str]
    """Names this compile surely does not define."""

    def with_defines(self, defines: Mapping[str, int | None]) -> Target:
        """The same compile with the build's own ``-D`` macros (they win over the target's)."""
        if not defines:
            return self
        return Target(self.name, {**self.defines, **defines}, self.undefined)


_ROCM_DEFINES: dict[str, int | None] = {
    "USE_ROCM": 1,
    "__HIP_CLANG_ONLY__": 1,
    "__HIP_PLATFORM_AMD__": 1,
    "__HIP_PLATFORM_HCC__": 1,
    "__HIPCC__": 1,
    "__HIP__": 1,
    "__clang__": 1,
    "__cplusplus": 201703,
}
ROCM = Target(
    "rocm",
    _ROCM_DEFINES,
    re.compile(
        r"__CUDA\w*__|__CUDACC\w*|__NVCC\w*|__NVCOMPILER\w*|CUDART_VERSION|__HIP_PLATFORM_(?:NVIDIA|NVCC)__"
        r"|__HIPCC_RTC__"
    ),
)
"""hip-clang compiling a translated PyTorch extension (conditions are evaluated after translation)."""

CUDA = Target(
    "cuda",
    {"__CUDACC__": 1, "__NVCC__": 1, "__cplusplus": 201703},
    re.compile(r"USE_ROCM|__HIP\w*|__HIPCC\w*|__HIP_PLATFORM_\w+__|__gfx\w+__|HIP_VERSION\w*|ROCM_VERSION\w*"),
)
"""nvcc compiling the CUDA sources as written (``__CUDA_ARCH__`` is unknown: host and device passes)."""


_DEFINE_ARG = re.compile(r"([A-Za-z_]\w*)(\()?[^=]*(?:=(.*))?", re.S)


def parse_defines(items: Iterable[str]) -> dict[str, int | None]:
    """``-D`` arguments as the evaluator's macros: ``NAME`` is 1 (as compilers define it), ``NAME=VALUE``
    its value when that is an integer literal, else defined with an unknown value (a function-like
    macro too). A later ``-D`` of the same name wins, as on a compiler's command line."""
    macros: dict[str, int | None] = {}
    for item in items:
        m = _DEFINE_ARG.fullmatch(item.strip())
        if m is None:
            continue
        name, function_like, value = m.group(1), m.group(2), m.group(3)
        if function_like:
            macros[name] = None
        elif value is None:
            macros[name] = 1
        else:
            macros[name] = evaluate_literal(value)
    return macros


def evaluate_literal(text: str) -> int | None:
    """An integer literal's value (``42``, ``0x10``, ``1'000``, ``8u``), else ``None``."""
    m = _TOKEN.fullmatch(text.strip())
    if m is None or m.group("num") is None:
        return None
    digits = m.group("num").replace("'", "")
    try:
        if digits[:2] in ("0x", "0X"):
            return int(digits, 16)
        return int(digits, 8 if len(digits) > 1 and digits[0] == "0" else 10)
    except ValueError:
        return None


# --- comments and literals ----------------------------------------------------------------------

_LEX = re.compile(
    r"""(?P<line>//(?:[^\n\\]|\\.|\\\n)*)"""
    r"""|(?P<block>/\*.*?(?:\*/|\Z))"""
    r"""|(?P<raw>\bu?8?[uUL]?R"(?P<delim>[^ ()\\\t\n]{0,16})\((?:.|\n)*?\)(?P=delim)")"""
    r"""|(?P<str>"(?:[^"\\\n]|\\.|\\\n)*"?)"""
    r"""|(?P<chr>(?<![\w'])'(?:[^'\\\n]|\\.)*'?)""",
    re.S,
)


def _spaces(text: str) -> str:
    return re.sub(r"[^\n]", " ", text)


def blank(text: str) -> tuple[str, list[tuple[int, int]]]:
    """``(code, strings)``: ``text`` with comments and literal contents blanked, and each string
    literal's ``(start, end)`` in ``text`` (inline PTX hides in them)."""
    out: list[str] = []
    strings: list[tuple[int, int]] = []
    cursor = 0
    for m in _LEX.finditer(text):
        out.append(text[cursor : m.start()])
        kind = m.lastgroup if m.lastgroup != "delim" else "raw"
        body = m.group(0)
        if kind in ("line", "block"):
            out.append(_spaces(body))
        else:  # keep the quotes so '#include "x"' stays recognisable; blank what is between
            if kind in ("str", "raw"):
                strings.append((m.start(), m.end()))
            quote = body.index('"') if kind != "chr" else 0
            out.append(body[: quote + 1] + _spaces(body[quote + 1 : -1]) + (body[-1] if len(body) > quote + 1 else ""))
        cursor = m.end()
    out.append(text[cursor:])
    return "".join(out), strings


# --- #if evaluation (three-valued: an int, or None for unknown) -----------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<num>0[xX][0-9a-fA-F']+|\d[\d']*)[uUlL]*|(?P<id>[A-Za-z_]\w*)"
    r"|(?P<op>\|\||&&|==|!=|<=|>=|<<|>>|[-+*/%<>!~()?:,&|^]))"
)
_BINARY: dict[str, int] = {
    "||": 1, "&&": 2, "|": 3, "^": 4, "&": 5, "==": 6, "!=": 6,
    "<": 7, ">": 7, "<=": 7, ">=": 7, "<<": 8, ">>": 8, "+": 9, "-": 9, "*": 10, "/": 10, "%": 10,
}  # fmt: skip


class _Unknown(Exception):
    pass


@dataclass
class _State:
    """Macros known while walking one file: the target's, then the file's own #define/#undef."""

    target: Target
    known: dict[str, int | None]
    undefined: set[str]

    def defined(self, name: str) -> int | None:
        if name in self.known:
            return 1
        if name in self.undefined or self.target.undefined.fullmatch(name):
            return 0
        return None

    def value(self, name: str) -> int | None:
        if name in self.known:
            return self.known[name]
        if name in self.undefined or self.target.undefined.fullmatch(name) or name == "false":
            return 0
        return 1 if name == "true" else None


def _tokens(condition: str) -> list[tuple[str, str]] | None:
    tokens: list[tuple[str, str]] = []
    pos = 0
    condition = condition.strip()
    while pos < len(condition):
        m = _TOKEN.match(condition, pos)
        if m is None or m.end() == pos:
            return None
        kind = m.lastgroup or "op"
        tokens.append((kind, m.group(kind)))
        pos = m.end()
        while pos < len(condition) and condition[pos].isspace():
            pos += 1
    return tokens or None


class _Parser:
    """Precedence climbing over an ``#if`` expression; unknowns propagate as ``None``.

    ``defined(X)`` of a name the state does not know is looked up in ``assume`` (and recorded in
    ``atoms``), so a chain of conditions can be checked under every combination of unknown macros.
    """

    def __init__(self, tokens: list[tuple[str, str]], state: _State, assume: Mapping[str, int]) -> None:
        self.tokens = tokens
        self.i = 0
        self.state = state
        self.assume = assume
        self.atoms: set[str] = set()

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        if self.i >= len(self.tokens):
            raise _Unknown
        token = self.tokens[self.i]
        self.i += 1
        return token

    def expression(self, min_prec: int = 0) -> int | None:
        left = self.unary()
        while True:
            token = self.peek()
            if token is None or token[0] != "op":
                return left
            op = token[1]
            if op == "?" and min_prec == 0:
                self.take()
                then = self.expression()
                if self.take() != ("op", ":"):
                    raise _Unknown
                other = self.expression()
                if left is None:
                    return then if then == other else None
                return then if left else other
            prec = _BINARY.get(op)
            if prec is None or prec < min_prec:
                return left
            self.take()
            left = _apply(op, left, self.expression(prec + 1))

    def unary(self) -> int | None:
        kind, text = self.take()
        if kind == "num":
            digits = text.replace("'", "")
            if digits[:2] in ("0x", "0X"):
                return int(digits, 16)
            return int(digits, 8 if len(digits) > 1 and digits[0] == "0" else 10)
        if kind == "op":
            if text == "(":
                value = self.expression()
                if self.take() != ("op", ")"):
                    raise _Unknown
                return value
            operand = self.unary()
            if operand is None or text not in "!-+~":
                return None
            return {"!": int(not operand), "-": -operand, "+": operand, "~": ~operand}[text]
        if text == "defined":
            token = self.take()
            name = self.take() if token == ("op", "(") else token
            if token == ("op", "(") and self.take() != ("op", ")"):
                raise _Unknown
            if name[0] != "id":
                raise _Unknown
            known = self.state.defined(name[1])
            if known is None:
                self.atoms.add(name[1])
                return self.assume.get(name[1])
            return known
        if self.peek() == ("op", "("):  # function-like macro or __has_include(...): unknown
            depth = 0
            while True:
                token = self.take()
                depth += {("op", "("): 1, ("op", ")"): -1}.get(token, 0)
                if depth == 0:
                    return None
        return self.state.value(text)


def _apply(op: str, a: int | None, b: int | None) -> int | None:
    if op == "&&":
        return 0 if (a == 0 or b == 0) else (None if a is None or b is None else 1)
    if op == "||":
        return 1 if (a not in (0, None) or b not in (0, None)) else (None if a is None or b is None else 0)
    if a is None or b is None or (op in ("/", "%") and b == 0):
        return None
    if op in ("<<", ">>") and not 0 <= b < 64:
        return None
    ops: dict[str, Callable[[int, int], int]] = {
        "|": lambda x, y: x | y, "^": lambda x, y: x ^ y, "&": lambda x, y: x & y,
        "==": lambda x, y: int(x == y), "!=": lambda x, y: int(x != y), "<": lambda x, y: int(x < y),
        ">": lambda x, y: int(x > y), "<=": lambda x, y: int(x <= y), ">=": lambda x, y: int(x >= y),
        "<<": lambda x, y: x << y, ">>": lambda x, y: x >> y, "+": lambda x, y: x + y,
        "-": lambda x, y: x - y, "*": lambda x, y: x * y, "/": lambda x, y: int(x / y),
        "%": lambda x, y: x - y * int(x / y),
    }  # fmt: skip
    return ops[op](a, b)


def _evaluate(condition: str, state: _State, assume: Mapping[str, int]) -> tuple[int | None, set[str]]:
    tokens = _tokens(condition)
    if tokens is None:
        return None, set()
    parser = _Parser(tokens, state, assume)
    try:
        value = parser.expression()
    except (_Unknown, ValueError, OverflowError, KeyError):
        return None, parser.atoms
    return (value if parser.i == len(tokens) else None), parser.atoms


def evaluate(condition: str, target: Target = ROCM) -> int | None:
    """Value of an ``#if`` expression for ``target``, or ``None`` when it cannot be known."""
    return _evaluate(condition, _State(target, dict(target.defines), set()), {})[0]


_MAX_ATOMS = 10


def _branch(chain: list[str], state: _State) -> tuple[bool, bool]:
    """``(maybe, surely)``: whether the last condition of an ``#if/#elif`` chain's branch is taken.

    A branch is taken when every earlier condition is false and its own is true. Macros whose
    definedness is unknown are tried both ways (up to 2**10 combinations), so correlated conditions
    (``#if defined(X) && defined(USE_ROCM)`` ... ``#elif defined(X)``) are decided exactly.
    """
    atoms: set[str] = set()
    for cond in chain:
        atoms |= _evaluate(cond, state, {})[1]
    names = sorted(atoms)
    if len(names) > _MAX_ATOMS:
        names = []
    maybe = False
    surely = True
    for bits in range(1 << len(names)):
        assume = {name: (bits >> i) & 1 for i, name in enumerate(names)}
        values = [_evaluate(cond, state, assume)[0] if names else _evaluate(cond, state, {})[0] for cond in chain]
        earlier, last = values[:-1], values[-1]
        if all(v in (0, None) for v in earlier) and last != 0:
            maybe = True
        if not (all(v == 0 for v in earlier) and last not in (0, None)):
            surely = False
    return maybe, surely


# --- branches ---------------------------------------------------------------------------------------

_DIRECTIVE = re.compile(r"[ \t]*#[ \t]*(\w+)(.*)", re.S)
_DEFINE = re.compile(r"\s*([A-Za-z_]\w*)(\()?\s*(.*)", re.S)
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")


@dataclass(frozen=True)
class BranchLines:
    """Per physical line (index 0 is line 1)."""

    taken: list[bool]
    """The target compiles the line (or may: a branch counts as taken unless surely not)."""
    directive: list[str | None]
    """The directive a line belongs to (``"if"``, ``"include"``, ``"define"``...), ``None`` for code."""
    surely: list[bool] = dataclasses.field(default_factory=list)
    """The target surely compiles the line: every condition around it is known to hold (what a
    declaration must be on to count as one the target has)."""


@dataclass
class _Frame:
    parent_taken: bool
    parent_surely: bool
    chain: list[str]
    """Conditions of the chain so far (an ``#else`` adds ``1``)."""
    taken: bool
    surely: bool


def _logical_lines(code: str) -> Iterator[tuple[int, int, str]]:
    """``(first_line, line_count, text)`` with backslash continuations joined."""
    lines = code.split("\n")
    i = 0
    while i < len(lines):
        start = i
        parts = [lines[i]]
        while parts[-1].endswith("\\") and i + 1 < len(lines):
            parts[-1] = parts[-1][:-1]
            i += 1
            parts.append(lines[i])
        yield start, i - start + 1, " ".join(parts)
        i += 1


def _condition(name: str, rest: str) -> str:
    """Any conditional directive as an ``#if`` expression."""
    if name in ("ifdef", "ifndef", "elifdef", "elifndef"):
        ident = rest.strip()
        if _IDENTIFIER.fullmatch(ident) is None:
            return "__hipify_tool_unknown__()"
        return f"{'!' if name.endswith('ndef') else ''}defined({ident})"
    return rest


def branch_lines(code: str, target: Target = ROCM, translate: Callable[[str], str] = lambda s: s) -> BranchLines:
    """Which lines of ``code`` (already :func:`blank`-ed) ``target`` compiles.

    ``translate`` maps a condition to what the compiler sees (for ROCm: PyTorch's token map).
    """
    count = code.count("\n") + 1
    taken = [True] * count
    surely_taken = [True] * count
    directive: list[str | None] = [None] * count
    state = _State(target, dict(target.defines), set())
    stack: list[_Frame] = []
    active, surely_active = True, True
    for first, n, text in _logical_lines(code):
        m = _DIRECTIVE.match(text)
        name = m.group(1) if m else None
        rest = m.group(2) if m else ""
        this_taken, this_surely = active, surely_active
        if name in ("if", "ifdef", "ifndef"):
            chain = [translate(_condition(name, rest))]
            maybe, surely = _branch(chain, state)
            stack.append(_Frame(active, surely_active, chain, active and maybe, surely_active and surely))
        elif name in ("elif", "elifdef", "elifndef", "else") and stack:
            frame = stack[-1]
            this_taken, this_surely = frame.parent_taken, frame.parent_surely
            frame.chain.append("1" if name == "else" else translate(_condition(name, rest)))
            maybe, surely = _branch(frame.chain, state)
            frame.taken, frame.surely = frame.parent_taken and maybe, frame.parent_surely and surely
        elif name == "endif" and stack:
            this_taken, this_surely = stack[-1].parent_taken, stack[-1].parent_surely
            stack.pop()
        elif name in ("define", "undef") and active:
            dm = _DEFINE.match(rest)
            if dm is not None:
                macro = dm.group(1)
                state.known.pop(macro, None)
                state.undefined.discard(macro)
                if surely_active and name == "undef":
                    state.undefined.add(macro)
                elif surely_active and not dm.group(2):  # object-like: its value, when it is a number
                    body = dm.group(3).strip()
                    state.known[macro] = _evaluate(body, state, {})[0] if body else 1
        if stack:
            active, surely_active = stack[-1].taken, stack[-1].surely
        else:
            active, surely_active = True, True
        for line in range(first, first + n):
            taken[line] = this_taken
            surely_taken[line] = this_surely
            directive[line] = name
    return BranchLines(taken, directive, surely_taken)
