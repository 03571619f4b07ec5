"""The linear comment mask swapped into PyTorch's launch rewriter returns PyTorch's bytes.

PyTorch's ``mask_comments`` (nested in ``processKernelLaunches``) appends a character at a time,
quadratic wherever CPython cannot grow the string in place; the adapter replaces
its body with :func:`hipify_tool.translate.mask_like_pytorch`. These tests hold the two equal on
random text, and the whole rewritten pass equal to PyTorch's untouched one.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from functools import cache
from typing import Any

from helpers import stress_scale
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hipify_tool import torch_adapter
from hipify_tool.translate import TranslationFailure, Translator, mask_like_pytorch

_SETTINGS = settings(
    max_examples=400 * stress_scale(),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@cache
def _pytorch_mask() -> Callable[[str], str]:
    """PyTorch's own ``mask_comments``, compiled from its source as it is."""
    path = torch_adapter.locate().directory / "hipify_python.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    node = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "mask_comments")
    namespace: dict[str, Any] = {}
    exec(compile(ast.Module(body=[node], type_ignores=[]), str(path), "exec"), namespace)
    return namespace["mask_comments"]  # type: ignore[no-any-return]


# Every character the mask's state machine looks at, plus filler.
_MASK_TEXT = st.text(alphabet=st.sampled_from(list("/*\"\\'\r\n<>x ")), max_size=40)


@_SETTINGS
@given(_MASK_TEXT)
def test_mask_equals_pytorchs(text: str) -> None:
    assert mask_like_pytorch(text) == _pytorch_mask()(text)


def test_mask_equals_pytorchs_on_real_code() -> None:
    sample = (
        '// a "quote\n/* <<<g, b>>> */ k<<<g, b>>>(x, "a,b", \'"\');\n'
        '"esc\\"aped" /*/ still comment */ //\r\n"unterminated'
    )
    assert mask_like_pytorch(sample) == _pytorch_mask()(sample)


@cache
def _pytorch_launches() -> Callable[[str, dict[str, list[str]]], str]:
    """PyTorch's ``processKernelLaunches`` from the imported module, with its own mask."""
    hipify_python = torch_adapter.load_module(torch_adapter.locate().directory, "hipify_python")
    return hipify_python["processKernelLaunches"]  # type: ignore[no-any-return]


_LAUNCH_PIECES = st.sampled_from(
    [
        "k<<<g, b>>>(x);",
        "k<T><<<g, b, 0, s>>>(x, y);",
        "ns::k<<<dim3(1, 2), 32>>>(p);",
        "// k<<<1, 1>>>(c);\n",
        "/* <<< */",
        '"<<<1, 1>>>"',
        "'\"'",
        "\\\n",
        "\n",
        " ",
        "(",
        ")",
        "a",
    ]
)


@_SETTINGS
@given(st.lists(_LAUNCH_PIECES, max_size=12).map("".join))
def test_rewritten_pass_equals_pytorchs(text: str) -> None:
    """The adapter's pass (linear mask) against PyTorch's module function, on inputs it terminates on."""
    assert torch_adapter.locate().passes().process_kernel_launches is not _pytorch_launches()  # swapped in
    translator: Translator = torch_adapter.make_translator(torch_adapter.locate(), "ggl")
    try:
        translator.translate(text, "t.cu")  # refuses the inputs PyTorch's finder would hang on
    except TranslationFailure:
        return
    ours: str | BaseException
    theirs: str | BaseException
    try:
        ours = torch_adapter.locate().passes().process_kernel_launches(text, {"kernel_launches": []})
    except Exception as exc:
        ours = exc
    try:
        theirs = _pytorch_launches()(text, {"kernel_launches": []})
    except Exception as exc:
        theirs = exc
    if isinstance(theirs, BaseException):
        assert type(ours) is type(theirs)
    else:
        assert ours == theirs
