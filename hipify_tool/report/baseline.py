"""``--baseline FILE``: an earlier JSON report whose findings ``--strict`` no longer fails on.

A project adopts the gate by committing the report of today's tree; from then on only new findings
fail. A finding is matched by its file, rule and name, never its line, so an edit above it does not
make it new; each finding of the baseline forgives one finding (three uses of a name in a file are
three). Only the baseline's problems count: findings it reports in a branch ROCm does not take, or
waives by an inline comment, forgive nothing.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..fileio import read_regular
from .model import Report

__all__ = ["Baseline", "load_baseline", "apply_baseline"]


@dataclass(frozen=True)
class Baseline:
    """The findings of an earlier report, by (file, rule, name), with how often each occurred."""

    path: Path
    entries: Counter[tuple[str, str, str]]


def _problem_keys(doc: Any) -> Counter[tuple[str, str, str]] | None:
    """The keys of a report's problems (``None``: not a report's shape)."""
    if type(doc) is not dict or doc.get("tool") != "hipify-tool" or type(doc.get("files")) is not list:
        return None
    entries: Counter[tuple[str, str, str]] = Counter()
    for f in doc["files"]:
        if type(f) is not dict or type(f.get("source")) is not str or type(f.get("findings")) is not list:
            return None
        for x in f["findings"]:
            if type(x) is not dict or type(x.get("rule")) is not str or type(x.get("identifier")) is not str:
                return None
            if x.get("context", "shared") == "shared" and x.get("waived") != "ignored":
                entries[(f["source"], x["rule"], x["identifier"])] += 1
    return entries


def load_baseline(path: Path) -> Baseline:
    """Read ``path`` (a report of ``--report json``, format 2 or later); a usage error (exit 2) when it
    cannot be read or is not one, before anything is written."""
    try:
        data = read_regular(path)
    except OSError as exc:
        raise UsageError(f"{path}: --baseline: cannot read the report ({exc.strerror})") from None
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise UsageError(f"{path}: --baseline: not a JSON report ({exc})") from None
    entries = _problem_keys(doc)
    if entries is None:
        raise UsageError(f"{path}: --baseline: not a hipify-tool JSON report (write one with --report json)")
    return Baseline(path, entries)


def apply_baseline(report: Report, baseline: Baseline) -> Report:
    """``report`` with each problem the baseline holds waived as ``baselined`` (files in order, each
    file's findings by position), and the count of baseline findings it no longer has."""
    remaining = Counter(baseline.entries)
    files = []
    for fr in report.files:
        findings = []
        for f in fr.findings:
            if f.is_problem and remaining[f.key] > 0:
                remaining[f.key] -= 1
                f = dataclasses.replace(f, waived="baselined")
            findings.append(f)
        files.append(dataclasses.replace(fr, findings=tuple(findings)))
    gone = sum(n for n in remaining.values() if n > 0)
    return dataclasses.replace(report, files=tuple(files), baseline=str(baseline.path), baseline_gone=gone)
