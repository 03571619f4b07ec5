"""Translation reports: analysis of a plan (:mod:`.analysis`, with what the project declares itself
from :mod:`.declarations`), the report model and ``--strict``'s verdict (:mod:`.model`), and the
text, JSON and SARIF writers (:mod:`.writers`).

The names below load on first use: a run that asks for no report (or only needs :func:`.model.plural`
for its summary) does not pay for the analysis modules.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .analysis import Analyser, analyse_plan
    from .declarations import Declaration
    from .model import RULES, FileReport, Finding, ProjectName, Replacement, Report, Rule

__all__ = [
    "RULES",
    "Rule",
    "Finding",
    "Replacement",
    "FileReport",
    "Report",
    "ProjectName",
    "Declaration",
    "Analyser",
    "analyse_plan",
]

_EXPORTS = {
    "Analyser": "analysis",
    "analyse_plan": "analysis",
    "Declaration": "declarations",
    **{name: "model" for name in ("RULES", "FileReport", "Finding", "ProjectName", "Replacement", "Report", "Rule")},
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'hipify_tool.report' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)
