"""Translation reports: analysis of a plan (:mod:`.analysis`, with what the project declares itself
from :mod:`.declarations`), the report model and ``--strict``'s verdict (:mod:`.model`), ``--baseline``
(:mod:`.baseline`), and the text, JSON and SARIF writers (:mod:`.writers`, which read the model).

The names below load on first use: a run that asks for no report does not pay for the analysis
modules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from .analysis import Analyser, analyse_plan
    from .baseline import Baseline, apply_baseline, load_baseline
    from .declarations import Declaration
    from .model import RULES, FileReport, Finding, ProjectName, Replacement, Report, Rule
    from .writers import format_report, to_json, to_sarif, to_text

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
    "Baseline",
    "load_baseline",
    "apply_baseline",
    "format_report",
    "to_text",
    "to_json",
    "to_sarif",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "Analyser": "analysis",
        "analyse_plan": "analysis",
        "Declaration": "declarations",
        **{name: "baseline" for name in ("Baseline", "load_baseline", "apply_baseline")},
        **{name: "writers" for name in ("format_report", "to_text", "to_json", "to_sarif")},
        **{
            name: "model" for name in ("RULES", "FileReport", "Finding", "ProjectName", "Replacement", "Report", "Rule")
        },
    },
)
