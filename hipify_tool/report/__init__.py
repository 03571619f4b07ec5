"""Translation reports: analysis of a plan (:mod:`.analysis`, with what the project declares itself
from :mod:`.declarations`), the report model and ``--strict``'s verdict (:mod:`.model`), and the
text, JSON and SARIF writers (:mod:`.writers`)."""

from __future__ import annotations

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
