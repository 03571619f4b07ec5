"""Property-based fuzzing (hypothesis) of the translator and of whole runs.

Random mixes of CUDA tokens, comments, string literals, kernel launches, includes, preprocessor lines,
line endings and raw bytes must never crash the tool: the translator may only raise its clean
per-file :class:`TranslationFailure`, a run only a :class:`HipifyToolError`. Translation is also
deterministic and idempotent, apart from the documented PyTorch behaviours listed in
docs/differences.md ("Idempotency exceptions"), which we keep byte-identical to PyTorch.

Examples are derandomized and never stored (reproducible CI, nothing written into the repo);
``HIPIFY_TOOL_STRESS=N`` multiplies every test's example count for a longer opt-in run.
"""

from __future__ import annotations

import ast
import os
import pickle
import signal
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import get_args

import pytest
from helpers import BREADCRUMB, pytorch_hipify, read_tree, stress_scale, write_tree
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

import hipify_tool
from hipify_tool import torch_adapter
from hipify_tool.errors import HipifyToolError
from hipify_tool.includes import is_pytorch_renamed_include, rewrite_includes
from hipify_tool.manifest import STATE_DIR
from hipify_tool.naming import hip_path
from hipify_tool.options import LaunchSyntax
from hipify_tool.translate import (
    TokenMatcher,
    TranslationFailure,
    Translator,
    add_breadcrumb,
    decode,
    encode,
)

settings.register_profile(
    "hipify-tool-fuzz",
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _examples(base: int) -> int:
    return base * stress_scale()


def _fuzz(base: int) -> settings:
    """The shared fuzzing profile with ``base`` (scaled) examples."""
    return settings(settings.get_profile("hipify-tool-fuzz"), max_examples=_examples(base))


class WatchdogTimeout(Exception):
    """The watchdog fired: a translation ran far longer than any real file needs."""


@contextmanager
def _watchdog(seconds: float = 10.0) -> Iterator[None]:
    """Turn a hang (PyTorch's launch finder can loop forever) into a test failure instead of a stuck run."""

    def fire(signum: int, frame: FrameType | None) -> None:
        raise WatchdogTimeout(f"no result after {seconds} s")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --- strategies ------------------------------------------------------------------------------------

_HAND_PICKED = (
    "cudaMalloc",
    "cudaFree",
    "cudaStream_t",
    "cudaError_t",
    "cudaSuccess",
    "cudaGetLastError",
    "cub::",
    "cub::Sum",
    "cub::BlockReduce",
    "__shfl_xor_sync",
    "__shfl_down_sync",
    "CUDA_VERSION",
    "__CUDA_ARCH__",
    "curand",
    "curand_init",
    "curandStatePhilox4_32_10_t",
    "cublasHandle_t",
    "cudnnHandle_t",
    "nccl",
    "<nccl.h>",
    "thrust::",
    "at::cuda::getCurrentCUDAStream",
    "c10::cuda::CUDAGuard",
    "channel_descriptor.h",
    "hip/",
    "hip/hip/",
    "hip_runtime.h",
    "hipMalloc",
    "hipcub::",
    "hipLaunchKernelGGL",
    "dim3",
    "__global__",
    "__shared__",
    "__syncthreads()",
    "__device__",
    "std::",
    "std::max(",
    "std::min(",
    "std::exp(",
    "std::pow(",
    "::max(",
    "detail",
    "x",
    "y",
    "foo",
    "bar_2",
    "T",
    "int",
    "float",
    "0",
    "42",
)
_PUNCTUATION = (*"(){}[]<>;,.:*&!=+-/\\#'\"?%|^~@$`", "::", "->", "<<", ">>", "<<<", ">>>", "\\\n")
_SPACE = (" ", " ", "  ", "\t", "\n", "\n", "\r\n", "\r", "")


@st.composite
def _table_token(draw: st.DrawFn) -> str:
    """A key or value of PyTorch's tables (values: our own output vocabulary, for idempotency)."""
    tables = torch_adapter.locate().tables()
    keys = sorted(tables.token_map)
    key = draw(st.sampled_from(keys))
    choice = draw(st.integers(0, 4))  # mostly keys; values, Caffe2 paths and math calls for the rest
    if choice == 0:
        return tables.token_map[key]
    if choice == 1:
        return draw(st.sampled_from(sorted(tables.caffe2_path_map.items())))[draw(st.integers(0, 1))]
    if choice == 2:
        return draw(st.sampled_from(sorted(tables.math_map))) + "("
    return key


_token = st.one_of(st.sampled_from(_HAND_PICKED), _table_token(), st.from_regex(r"[A-Za-z_]\w{0,6}", fullmatch=True))
_word_or_punct = st.one_of(_token, st.sampled_from(_PUNCTUATION), st.sampled_from(_SPACE))
_snippet = st.lists(_word_or_punct, max_size=6).map("".join)

_comment = st.one_of(
    _snippet.map(lambda s: f"// {s}\n"),
    _snippet.map(lambda s: f"/* {s} */"),
    _snippet.map(lambda s: f"/* {s}"),  # unterminated
    st.sampled_from(["/*/", "/**/", "*/", "//", "/* a */*/", "/* x */// y\n"]),
)
_literal = st.one_of(
    _snippet.map(lambda s: f'"{s}"'),
    _snippet.map(lambda s: f'"{s}'),  # unterminated
    st.sampled_from(['"\\""', "'\"'", "'\\''", '"a\\\\"', "'<'", '"<<<"', '">>>"', 'R"(x)"', '"\\']),
)
_launch_name = st.sampled_from(
    ["k", "kern", "ns::k", "k<T>", "k<float, 4>", "k<A<B>>", "k<A<B<C>>>", "a.b->k", "p->k", "detail::k", "k<1,(3>2)>"]
)
_launch_config = st.sampled_from(["g, b", "1, 2", "g,b,0,s", "dim3(1,2), 32, smem, stream", "(n+1)/2, b", "g"])
_launch_args = st.sampled_from(["a", "", "x, y", "f(x), y<z>(w)", "p->q, r.s", "k<<<1,2>>>(x)"])
_launch = st.one_of(
    st.builds(lambda n, c, a: f"{n}<<<{c}>>>({a});", _launch_name, _launch_config, _launch_args),
    st.builds(lambda n, c, a: f"#define LAUNCH {n}<<<{c}>>>({a})\n", _launch_name, _launch_config, _launch_args),
    st.builds(lambda n, c, a: f'"{n}<<<{c}>>>({a})"', _launch_name, _launch_config, _launch_args),
    st.builds(lambda n, c, a: f"// {n}<<<{c}>>>({a})\n", _launch_name, _launch_config, _launch_args),
    st.builds(lambda n, c: f"{n}<<<{c}(x);", _launch_name, _launch_config),  # malformed: no '>>>'
    st.builds(lambda n, c: f"{n}<<<{c}>>>", _launch_name, _launch_config),  # no argument list
    st.sampled_from(["<<<", ">>>", "a <<< b", "x >>> 2", "  detail:: \\\n  k<<<1, 2>>>(x);"]),
)
_include_path = st.one_of(
    st.sampled_from(
        [
            "x.h",
            "cuda_runtime.h",
            "cuda.h",
            "cuda_fp16.h",
            "THC/THC.h",
            "THCTensor.h",
            "ATen/cuda/CUDAContext.h",
            "c10/cuda/CUDAGuard.h",
            "cub/cub.cuh",
            "hip/hip_runtime.h",
            "curand_kernel.h",
            "a.cuh",
            "sub/b.h",
            "../x.h",
        ]
    ),
    st.from_regex(r"[a-z_/.]{1,12}", fullmatch=True),
)
_include = st.builds(
    lambda head, path, quote: f"{head}{quote[0]}{path}{quote[1]}\n",
    st.sampled_from(
        ["#include ", "#include", "#  include ", "# include\t", "  #include ", "#define THC_GENERIC_FILE "]
    ),
    _include_path,
    st.sampled_from(['""', "<>"]),
)
_preprocessor = st.sampled_from(
    [
        "#if CUDA_VERSION >= 11000\n",
        "#ifdef __CUDA_ARCH__\n",
        "#if defined(USE_ROCM)\n",
        "#else\n",
        "#endif\n",
        "#pragma once\n",
        "#define CHECK(x) cudaGetLastError()\n",
        "#define MULTI a \\\n  b\n",
        "#error cuda\n",
        "#\n",
    ]
)
_fragment = st.one_of(_word_or_punct, _comment, _literal, _launch, _include, _preprocessor, _snippet)
_source_text = st.lists(_fragment, max_size=40).map("".join)
_any_text = st.one_of(
    _source_text,
    st.text(max_size=60),
    st.lists(st.one_of(_source_text, st.text(max_size=8)), max_size=4).map("".join),
)


@st.composite
def _source_bytes(draw: st.DrawFn) -> bytes:
    """C-ish text as bytes, with CRLF/LF endings, a BOM, invalid UTF-8, NULs spliced in at random."""
    text = draw(_any_text)
    if draw(st.booleans()):
        text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    data = text.encode("utf-8", "surrogatepass")
    chunks = draw(st.lists(st.tuples(st.integers(0, len(data)), st.binary(max_size=6)), max_size=3))
    for at, chunk in sorted(chunks, reverse=True):
        data = data[:at] + chunk + data[at:]
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    return draw(
        st.one_of(st.just(data), st.binary(max_size=80), st.sampled_from([b"\x00", b"\xff\xfe", b"\xef\xbb\xbf"]))
    )


_rel_path = st.sampled_from(["k.cu", "k.cuh", "k.h", "k.cpp", "sub/cuda/k.cu", "PowKernel.cu", "CMakeLists.txt"])
_syntax = st.sampled_from(get_args(LaunchSyntax))


# --- the translator ---------------------------------------------------------------------------------


def _translate(translator: Translator, text: str, rel_path: str) -> str | None:
    """The translation, or ``None`` for a clean per-file failure; any other exception propagates."""
    try:
        with _watchdog():
            out = translator.translate(text, rel_path)
    except TranslationFailure as failure:
        event("translate: TranslationFailure")
        assert failure.problem.path == rel_path
        assert pickle.loads(pickle.dumps(failure)).problem.message == failure.problem.message
        return None
    assert isinstance(out, str)
    # Translation grows a file by a bounded factor (a launch PyTorch cannot read must not explode it).
    assert len(out) <= 10 * len(text) + 100, (len(text), len(out))
    return out


@_fuzz(600)
@given(text=_any_text, rel_path=_rel_path, syntax=_syntax)
def test_translate_never_crashes(text: str, rel_path: str, syntax: LaunchSyntax) -> None:
    """Only TranslationFailure may escape ``translate``: anything else would abort a whole run."""
    _translate(torch_adapter.make_translator(torch_adapter.locate(), syntax), text, rel_path)


def _pipeline(translator: Translator, data: bytes, rel_path: str) -> bytes | None:
    """Bytes in, bytes out, the way the plan does it (PyTorch's own include renames only)."""
    decoded = decode(data)
    assert encode(decoded.text, decoded) == data
    step1 = _translate(translator, decoded.text, rel_path)
    if step1 is None:
        return None
    final = rewrite_includes(step1, lambda site: hip_path(site.path) if is_pytorch_renamed_include(site.path) else None)
    if final == decoded.text:
        assert encode(final, decoded) == data
    return encode(add_breadcrumb(final, rel_path), decoded)


@_fuzz(500)
@given(data=_source_bytes(), rel_path=_rel_path, syntax=_syntax)
def test_pipeline_on_bytes_never_crashes(data: bytes, rel_path: str, syntax: LaunchSyntax) -> None:
    """Any byte string survives decode -> translate -> include rewrite -> encode."""
    _pipeline(torch_adapter.make_translator(torch_adapter.locate(), syntax), data, rel_path)


@_fuzz(200)
@given(text=_any_text, rel_path=_rel_path, syntax=_syntax)
def test_translate_is_deterministic(text: str, rel_path: str, syntax: LaunchSyntax) -> None:
    """Same input, same output: twice with one translator, with a second one, and with a pickled one."""
    first = torch_adapter.make_translator(torch_adapter.locate(), syntax)
    second = torch_adapter.make_translator(torch_adapter.locate(), syntax)
    rebuilt: Translator = pickle.loads(pickle.dumps(first))  # what worker processes receive
    results = {_translate(t, text, rel_path) for t in (first, first, second, rebuilt)}
    assert len(results) == 1


# --- idempotency ----------------------------------------------------------------------------------


def _code_launches(text: str) -> int:
    """How many '<<<' PyTorch's launch finder sees (outside comments and string literals).

    Counted on PyTorch's own ``mask_comments`` (nested in ``processKernelLaunches``), compiled from its
    source: the copy our adapter loads has a faster equivalent swapped in.
    """
    path = torch_adapter.locate().directory / "hipify_python.py"
    tree = ast.parse(path.read_bytes(), filename=str(path))
    node = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "mask_comments")
    namespace: dict[str, Callable[[str], str]] = {}
    exec(compile(ast.Module(body=[node], type_ignores=[]), str(path), "exec"), namespace)
    return namespace["mask_comments"](text).count("<<<")


def _only(*, tables: bool, launches: bool) -> Translator:
    """A translator with only some passes: token and Caffe2 path maps, launches (math and magic always run)."""
    hipify = torch_adapter.locate()
    loaded = hipify.tables()
    return Translator(
        token_map=loaded.token_map if tables else {},
        caffe2_path_map=loaded.caffe2_path_map if tables else {},
        launch_syntax="ggl" if launches else "chevron",
        passes=hipify.passes,
    )


def _tokens_glued_by_math(once: str) -> bool:
    """Every token the token pass would still replace in ``once`` ends where a ``std::`` math call began.

    Hits that change nothing in the end are ignored: ``hip/channel_descriptor.h`` becomes
    ``hip/hip/channel_descriptor.h``, which the Caffe2 path map's ``hip/hip/`` -> ``hip/`` turns back.
    """
    tables = torch_adapter.locate().tables()
    calls = tuple(f"{value}(" for value in tables.math_map.values())  # '::max(' where 'std::max(' was
    hits = [
        (start, key)
        for start, key, value in TokenMatcher(tables.token_map).finditer(once)
        if not (value == "hip/" + key and once.endswith("hip/", 0, start))
    ]
    return bool(hits) and all(once.startswith(calls, start + len(key)) for start, key in hits)


def _assert_idempotent(text: str, once: str, twice: str | None, rel_path: str, syntax: LaunchSyntax) -> None:
    """``twice`` (``once``, our output, translated again) equals ``once``, except for the documented cases.

    docs/differences.md, "Idempotency exceptions", lists three PyTorch behaviours we keep byte-identical.
    Each is recognised narrowly, and then the second pass may change only what that behaviour explains:
    the second pass must equal a translator running just the passes involved.

    1. Launches left for the next pass: PyTorch's launch rewriter finds a launch's text by scanning back
       from '<<<' over letters, digits and ``_():#``; when that overlaps an earlier launch's rewrite
       (``k<<<g, b>>>(k<<<1, 2>>>(x))``, ``a<<<1,2>>>(x)b<<<1,2>>>(y)``) its ``str.replace`` finds
       nothing, and the launch is rewritten only by the next pass (which leaves fewer launches).
    2. ``std::`` math glued to a name: the math pass (after the token pass, a plain substring replace)
       turns ``CU_LAUNCH_PARAM_ENDstd::exp(`` into ``CU_LAUNCH_PARAM_END::exp(``, a new whole token.
    3. ``hip/hip/``: the token map and the Caffe2 path map each replace ``hip/hip/`` by ``hip/`` once per
       pass, and the path map skips ``caffe2/core/context_gpu.h`` after ``/hip/``: ``hip/hip/hip/x``,
       ``hip/hip/caffe2/core/...``.
    """
    if twice == once:
        return
    launches = syntax == "ggl" and _code_launches(once) > 0
    glued = rel_path.endswith((".cu", ".cuh")) and _tokens_glued_by_math(once)
    doubled = "hip/hip/" in text
    assert launches or glued or doubled, "not idempotent"
    explained = _translate(_only(tables=glued or doubled, launches=launches), once, rel_path)
    assert twice == explained, "the second pass changed more than the documented exceptions explain"
    if launches and not (glued or doubled):
        assert twice is None or _code_launches(twice) < _code_launches(once)


@pytest.fixture(scope="module")
def translators() -> dict[str, Translator]:
    """One translator per launch syntax, reused across examples (they hold no per-file state)."""
    return {syntax: torch_adapter.make_translator(torch_adapter.locate(), syntax) for syntax in get_args(LaunchSyntax)}


@_fuzz(600)
@given(text=_any_text, rel_path=_rel_path, syntax=_syntax)
def test_translate_is_idempotent(
    translators: dict[str, Translator], text: str, rel_path: str, syntax: LaunchSyntax
) -> None:
    """Translating our own output again changes nothing (except the documented PyTorch cases)."""
    translator = translators[syntax]
    once = _translate(translator, text, rel_path)
    assume(once is not None)
    assert once is not None
    _assert_idempotent(text, once, _translate(translator, once, rel_path), rel_path, syntax)


@_fuzz(400)
@given(data=_source_bytes(), rel_path=_rel_path, syntax=_syntax)
def test_pipeline_on_bytes_is_idempotent(
    translators: dict[str, Translator], data: bytes, rel_path: str, syntax: LaunchSyntax
) -> None:
    """The byte-level pipeline applied to its own output changes nothing (except the documented cases)."""
    translator = translators[syntax]
    once = _pipeline(translator, data, rel_path)
    assume(once is not None)
    assert once is not None
    twice = _pipeline(translator, once, rel_path)
    if twice != once:
        after = None if twice is None else decode(twice).text
        _assert_idempotent(decode(data).text, decode(once).text, after, rel_path, syntax)


# The examples docs/differences.md gives for each idempotency exception: (input, first pass, second pass).
_DOCUMENTED_EXCEPTIONS = {
    "launch in a launch's arguments": (
        "k<<<g, b>>>(k<<<1, 2>>>(x));\n",
        '#include "hip/hip_runtime.h"\nhipLaunchKernelGGL((k), dim3(g), dim3(b), 0, 0, k<<<1, 2>>>(x));\n',
        '#include "hip/hip_runtime.h"\n'
        "hipLaunchKernelGGL((k), dim3(g), dim3(b), 0, 0,hipLaunchKernelGGL(( k), dim3(1), dim3(2), 0, 0, x));\n",
    ),
    "std:: math glued to a name": (
        "y = cudaErrorstd::max(a, b);\n",
        "y = cudaError::max(a, b);\n",
        "y = hipError_t::max(a, b);\n",
    ),
    "hip/hip/hip/": ('#include "hip/hip/hip/x.h"\n', '#include "hip/hip/x.h"\n', '#include "hip/x.h"\n'),
    "hip/hip/caffe2/": (
        '#include "hip/hip/caffe2/core/context_gpu.hpp"\n',
        '#include "hip/caffe2/core/context_gpu.hpp"\n',
        '#include "hip/caffe2/core/hip/context_gpu.hpp"\n',
    ),
}


@pytest.mark.parametrize("case", sorted(_DOCUMENTED_EXCEPTIONS))
def test_documented_idempotency_exceptions(translators: dict[str, Translator], case: str) -> None:
    """The documented examples behave as documented, and the property's filter recognises each of them."""
    text, first, second = _DOCUMENTED_EXCEPTIONS[case]
    once = translators["ggl"].translate(text, "k.cu")
    twice = translators["ggl"].translate(once, "k.cu")
    assert (once, twice) == (first, second)
    _assert_idempotent(text, once, twice, "k.cu", "ggl")


def test_documented_idempotency_exceptions_are_pytorchs(tmp_path: Path) -> None:
    """PyTorch's ``hipify()``, run on its own output (breadcrumb removed), gives the same two results."""
    cases = sorted(_DOCUMENTED_EXCEPTIONS)
    texts = {f"case{i}.cu": _DOCUMENTED_EXCEPTIONS[case][0] for i, case in enumerate(cases)}
    for step in (1, 2):
        project = write_tree(tmp_path / f"project{step}", texts)
        run = pytorch_hipify(project, tmp_path / f"pytorch{step}", sources=sorted(texts))
        assert run.returncode == 0, run.stderr
        written = read_tree(tmp_path / f"pytorch{step}")
        texts = {name: written[name.replace(".cu", ".hip")].removeprefix(BREADCRUMB).decode() for name in texts}
        assert [texts[f"case{i}.cu"] for i in range(len(cases))] == [_DOCUMENTED_EXCEPTIONS[c][step] for c in cases]


@pytest.mark.parametrize(
    "text",
    ["k<<<g, b>>>", "#define CONFIG <<<1, 2>>>\nk CONFIG;\n", "f(x);\nk<<<1, 2>>> /* no arguments */"],
)
def test_launch_without_argument_list_is_an_error(translators: dict[str, Translator], text: str) -> None:
    """PyTorch would insert 'hipLaunchKernelGGL(' between every two characters (x20 per such launch)."""
    with pytest.raises(TranslationFailure, match="kernel launch without an argument list"):
        translators["ggl"].translate(text, "k.cu")
    assert translators["chevron"].translate(text, "k.cu") == text


# --- whole runs -------------------------------------------------------------------------------------

_FILE_NAMES = (
    "a.cu",
    "b.cuh",
    "c.h",
    "d.cpp",
    "sub/e.cu",
    "sub/f.cuh",
    "cuda/g.h",
    "cuda/h.cu",
    "kCUDA.cu",
    "k_cuda.cu",
    "k_hip.cu",
    "THCx.h",
)


@st.composite
def _project(draw: st.DrawFn) -> dict[str, bytes]:
    """1-4 files with random content that include each other (and themselves) in random forms."""
    names = draw(st.lists(st.sampled_from(_FILE_NAMES), min_size=1, max_size=4, unique=True))
    files: dict[str, bytes] = {}
    for name in names:
        parts = [draw(_source_bytes())]
        for target in draw(st.lists(st.sampled_from(names), max_size=3)):
            here = os.path.dirname(name)
            path = draw(st.sampled_from([target, os.path.relpath(target, here or ".")]))
            head = draw(st.sampled_from(["#include ", "#include", "#  include "]))
            quote = draw(st.sampled_from(['""', "<>"]))
            line = f"{head}{quote[0]}{path}{quote[1]}\n".encode()
            parts.insert(draw(st.integers(0, len(parts))), line)
        files[name] = b"".join(parts)
    return files


def _files_under(root: Path) -> list[Path]:
    """Every file a run wrote under ``root``, its state directory (manifest, lock) excluded."""
    return sorted(p for p in root.rglob("*") if p.is_file() and STATE_DIR not in p.relative_to(root).parts)


@_fuzz(250)
@given(files=_project(), syntax=_syntax)
def test_run_never_crashes(files: dict[str, bytes], syntax: LaunchSyntax) -> None:
    """A run on random files succeeds completely or fails cleanly; a rerun then writes nothing."""
    with tempfile.TemporaryDirectory(prefix="hipify-fuzz-") as tmp:
        project, out = Path(tmp) / "proj", Path(tmp) / "out"
        for rel, data in files.items():
            (project / rel).parent.mkdir(parents=True, exist_ok=True)
            (project / rel).write_bytes(data)
        try:
            with _watchdog(30.0):
                result = hipify_tool.run(project, out, launch_syntax=syntax, jobs=1)
        except HipifyToolError as error:
            event(f"run: {type(error).__name__}")
            assert not out.exists() or _files_under(out) == []  # a failed run writes nothing
            return
        event("run: ok")
        assert all(p.is_file() for p in result.plan.all_outputs())
        assert _files_under(out) == result.plan.all_outputs()
        assert len(result.outputs) == len(result.plan.inputs)
        with _watchdog(30.0):
            again = hipify_tool.run(project, out, launch_syntax=syntax, jobs=1)
        assert again.written == ()
        assert again.plan.all_outputs() == result.plan.all_outputs()
