"""The option tables of docs/configuration.md, docs/api.md and docs/cmake.md are the model's
(tools/option_tables.py writes them; run it after adding or changing an option)."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import pytest
from helpers import REPO

from hipify_tool.options import FRONT_END_SPECS, OPTION_SPECS


@pytest.fixture(scope="module")
def tables() -> ModuleType:
    spec = importlib.util.spec_from_file_location("option_tables", REPO / "tools" / "option_tables.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_docs_tables_are_current(tables: ModuleType) -> None:
    assert tables.stale() == [], "run: python tools/option_tables.py"


def test_every_option_is_in_its_tables(tables: ModuleType) -> None:
    configuration = (REPO / "docs" / "configuration.md").read_text()
    api = (REPO / "docs" / "api.md").read_text()
    cmake = (REPO / "docs" / "cmake.md").read_text()
    for spec in (*OPTION_SPECS, *FRONT_END_SPECS):
        assert f"| `{spec.name.replace('_', '-')}` |" in configuration, spec.name
        if spec in OPTION_SPECS and spec.name not in ("project_dir", "output_dir", "sources"):
            assert f"| `{spec.name}` |" in api, spec.name
        if spec.cmake_keyword:
            assert f"| `{spec.cmake_keyword}` |" in cmake, spec.name
    assert "| `rocm-path` |" in configuration and "| `rocm_path` |" in api and "| `ROCM_PATH` |" in cmake
