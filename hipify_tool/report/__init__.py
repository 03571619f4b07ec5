"""Translation reports: analysis of a plan (:mod:`.analysis`), the report model and ``--strict``'s
verdict (:mod:`.model`), and the text, JSON and SARIF writers (:mod:`.writers`)."""

from __future__ import annotations

from .analysis import Analyser, analyse_plan
from .model import RULES, FileReport, Finding, Replacement, Report, Rule

__all__ = ["RULES", "Rule", "Finding", "Replacement", "FileReport", "Report", "Analyser", "analyse_plan"]
