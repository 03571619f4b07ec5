"""Runs on a machine with an NVIDIA or AMD GPU; elsewhere it only checks that the op registers."""

import pytest
import torch

import {{name}}


def test_schema_registered() -> None:
    assert hasattr(torch.ops.{{name}}, "scale")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_scale_matches_torch() -> None:
    x = torch.randn(10_000, device="cuda")
    torch.testing.assert_close({{name}}.scale(x, 2.5), 2.5 * x)
