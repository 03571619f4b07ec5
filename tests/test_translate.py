"""The translate stage: token matching against PyTorch's own regex, encodings, includes, passes."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest
from helpers import subprocess_env
from hypothesis import given, settings
from hypothesis import strategies as st

from hipify_tool import torch_adapter
from hipify_tool.includes import (
    IncludeSite,
    find_includes,
    is_pytorch_renamed_include,
    relative_include,
    rewrite_includes,
)
from hipify_tool.translate import BREADCRUMB, TokenMatcher, add_breadcrumb, decode, encode


@pytest.fixture(scope="module")
def tables() -> torch_adapter.HipifyTables:
    return torch_adapter.locate().tables()


@pytest.fixture(scope="module")
def matcher(tables: torch_adapter.HipifyTables) -> TokenMatcher:
    return TokenMatcher(tables.token_map)


@pytest.fixture(scope="module")
def ggl() -> object:
    return torch_adapter.make_translator(torch_adapter.locate(), "ggl")


def _tricky_text(keys: list[str]) -> str:
    """Every key in many contexts: alone, glued to word chars, followed by '.h', '::', '(' etc."""
    rng = random.Random(1234)
    seps = [" ", "\n", "(", ")", ",", ";", "::", ".", "->", "<", ">", "\t", "*", "&", '"', "/", "#"]
    parts: list[str] = []
    for key in keys:
        parts.append(key)
        parts.append(rng.choice(seps))
        parts.append(key + rng.choice(["x", "_", "2", ".h", "::y", "(", ".hpp"]))
        parts.append(rng.choice(seps))
        parts.append(rng.choice(["a", "_", "9"]) + key)
        parts.append(rng.choice(seps))
    return "".join(parts)


def test_token_matcher_equals_pytorchs_regex(tables: torch_adapter.HipifyTables, matcher: TokenMatcher) -> None:
    """Differential test against RE_PYTORCH_PREPROCESSOR itself, on every key of the table."""
    keys = sorted(tables.token_map)
    text = " " + _tricky_text(keys) + " "  # PyTorch's one blind spot (first/last byte) is tested elsewhere
    code = (
        "import sys, json\n"
        "from torch.utils.hipify import hipify_python as h\n"
        "text = sys.stdin.read()\n"
        "sys.stdout.write(json.dumps(h.RE_PYTORCH_PREPROCESSOR.sub(lambda m: h.PYTORCH_MAP[m.group(0)], text)))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], input=text, capture_output=True, text=True, env=subprocess_env(), timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    theirs = json.loads(proc.stdout)
    ours, count = matcher.replace(text)
    assert count > len(keys) // 2
    if ours != theirs:  # show the first difference readably
        i = next(i for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b)
        pytest.fail(f"first difference at {i}: ours {ours[i - 60 : i + 60]!r} theirs {theirs[i - 60 : i + 60]!r}")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cudaMalloc", "hipMalloc"),
        ("cudaMalloc(p)", "hipMalloc(p)"),
        ("xcudaMalloc cudaMallocx", "xcudaMalloc cudaMallocx"),
        ("#include <cuda_runtime.h>", "#include <hip/hip_runtime.h>"),
        ("#include <cuda_runtime.hpp>", "#include <cuda_runtime.hpp>"),
        ("cudaStream_t s; cudaStream_t", "hipStream_t s; hipStream_t"),
        ("", ""),
    ],
)
def test_token_matcher_examples(matcher: TokenMatcher, text: str, expected: str) -> None:
    assert matcher.replace(text)[0] == expected


def test_token_matcher_counts_and_empty_mapping() -> None:
    assert TokenMatcher({"a": "b"}).replace("a a.a xa") == ("b b.b xa", 3)
    assert TokenMatcher({}).replace("cudaMalloc") == ("cudaMalloc", 0)
    m = TokenMatcher({"ab": "X", "ab.h": "Y", "ab.hh": "Z"})
    assert m.replace("ab.h ab.hh ab.hx ab")[0] == "Y Z X.hx X"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"plain\n",
        b"crlf\r\nlines\r\n",
        b"mixed\r\nendings\n",
        b"\xef\xbb\xbfbom\n",
        b"\xef\xbb\xbfbom\r\ncrlf\r\n",
        b"latin1 caf\xe9\n\xff\xfe\x00",
        b"lone\rcr\n",
        "unicode \u00e9\u4e2d\n".encode(),
    ],
)
def test_decode_encode_round_trips(data: bytes) -> None:
    d = decode(data)
    assert "\r\n" not in d.text or not d.crlf
    assert encode(d.text, d) == data


def test_decode_encode_random_bytes() -> None:
    rng = random.Random(7)
    for _ in range(200):
        data = bytes(rng.choice(b"ab\r\n\xef\xbb\xbf\xff\x80 ") for _ in range(rng.randrange(40)))
        d = decode(data)
        assert encode(d.text, d) == data


def test_find_and_rewrite_includes() -> None:
    text = (
        '#include "a.h"\n#  include <b.h>\n#include"c.h"\n# include\t<d/e.h>\n'
        '#define THC_GENERIC_FILE "f.c"\n#import "x.h"\n'
    )
    sites = list(find_includes(text))
    assert sites == [
        IncludeSite("quote", "a.h"),
        IncludeSite("angle", "b.h"),
        IncludeSite("quote", "c.h"),
        IncludeSite("angle", "d/e.h"),
        IncludeSite("thc", "f.c"),
    ]
    new = rewrite_includes(text, lambda s: s.path.upper() if s.path != "c.h" else None)
    assert new == (
        '#include "A.H"\n#  include <B.H>\n#include"c.h"\n# include\t<D/E.H>\n'
        '#define THC_GENERIC_FILE "F.C"\n#import "x.h"\n'
    )
    assert rewrite_includes("no directives", lambda s: "x") == "no directives"


def test_breadcrumb() -> None:
    assert add_breadcrumb("x\n", "a.cu") == BREADCRUMB + "x\n"
    assert add_breadcrumb("x\n", "a.hpp") == BREADCRUMB + "x\n"
    assert add_breadcrumb("x\n", "CMakeLists.txt") == "x\n"
    assert add_breadcrumb("x\n", "a.in") == "x\n"
    assert add_breadcrumb(BREADCRUMB + "x\n", "a.cu") == BREADCRUMB + "x\n"
    magic = '#include "hip/hip_runtime.h"\n'
    assert add_breadcrumb(magic + BREADCRUMB + "x\n", "a.cu") == BREADCRUMB + magic + "x\n"


def test_pytorch_renamed_includes_and_relative_paths() -> None:
    assert is_pytorch_renamed_include("ATen/cuda/CUDAContext.h")
    assert is_pytorch_renamed_include("THC/THC.h")
    assert is_pytorch_renamed_include("THCTensor.h")
    assert not is_pytorch_renamed_include("THCP.h")
    assert not is_pytorch_renamed_include("c10/cuda/CUDAGuard.h")
    assert relative_include("ops/hip/x.cuh", "ops/cuda") == "../hip/x.cuh"
    assert relative_include("x_hip.cuh", "") == "x_hip.cuh"


def test_translator_passes(ggl: object) -> None:
    t = ggl
    cu = "void f(float a, float b) { float m = std::max(a, b); }\n"
    assert t.translate(cu, "k.cu") == "void f(float a, float b) { float m = ::max(a, b); }\n"  # type: ignore[attr-defined]
    assert t.translate(cu, "k.cuh").count("::max(") == 1  # type: ignore[attr-defined]
    assert t.translate(cu, "k.cpp") == cu  # math only in .cu/.cuh  # type: ignore[attr-defined]
    assert t.translate(cu, "PowKernel.cu") == cu  # type: ignore[attr-defined]
    magic = '#include "hip/hip_runtime.h"\n'
    for body in ("__global__ void k();\n", "__shared__ int s;\n", "void f() { __syncthreads(); }\n"):
        assert t.translate(body, "k.cpp") == magic + body  # type: ignore[attr-defined]
    assert t.translate("#include <cuda_runtime.h>\n__global__ void k();\n", "k.cu") == (  # type: ignore[attr-defined]
        "#include <hip/hip_runtime.h>\n__global__ void k();\n"
    )
    cmake = "add_library(x a.cu b.cuh)\nfind_package(CUDA)\n"
    assert t.translate(cmake, "CMakeLists.txt") == "add_library(x a.hip b.cuh)\nfind_package(HIP)\n"  # type: ignore[attr-defined]


def test_launch_rewrites(ggl: object) -> None:
    t = ggl
    out = t.translate("void f() { k<<<g, b, s, st>>>(x, y); }\n", "k.cpp")  # type: ignore[attr-defined]
    assert "hipLaunchKernelGGL(( k), dim3(g), dim3(b), s, st, x, y)" in out
    out = t.translate("void f() { ns::k<T><<<1, 2>>>(x); }\n", "k.cpp")  # type: ignore[attr-defined]
    assert "hipLaunchKernelGGL(( ns::k<T>), dim3(1), dim3(2), 0, 0, x)" in out
    out = t.translate("void f() { a.b->k<<<1, 2>>>(x); }\n", "k.cpp")  # type: ignore[attr-defined]
    assert "hipLaunchKernelGGL(( a.b->k), dim3(1), dim3(2), 0, 0, x)" in out
    chevron = torch_adapter.make_translator(torch_adapter.locate(), "chevron")
    assert "<<<1, 2>>>" in chevron.translate("void f() { k<<<1, 2>>>(x); }\n", "k.cpp")


def test_launch_without_end_is_an_error_not_a_hang(ggl: object) -> None:
    from hipify_tool.translate import TranslationFailure

    with pytest.raises(TranslationFailure) as info:
        ggl.translate("void f() {\n k<<<1, 2(x);\n}\n", "bad.cu")  # type: ignore[attr-defined]
    assert info.value.problem.path == "bad.cu"
    assert "line 2" in info.value.problem.message


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from([" ", "  ", "detail", "detai", "::", "\\\n", "\n", "x", "cub", ";", "\t"]), max_size=14)
)
def test_continuation_guard_changes_nothing(parts: list[str]) -> None:
    """A file without a launch gets exactly PyTorch's continuation rewrite, whether or not the quick
    literal search lets the pattern run."""
    from hipify_tool.translate import Translator

    hipify = torch_adapter.locate()
    translator = torch_adapter.make_translator(hipify, "ggl")
    assert isinstance(translator, Translator)
    text = "".join(parts)
    continuation = hipify.passes().kernel_launch_continuation
    expected = continuation.sub(lambda m: f"{m.group(1)}{m.group(2)}::", text) if "\\\n" in text else text
    assert translator._kernel_launches(text, "x.cpp") == expected
