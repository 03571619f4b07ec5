"""The report as text (compiler-style lines), JSON (docs/reports.md's schema) and SARIF 2.1.0.

These read :mod:`.model`; the model never imports them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .._version import __version__
from ..console import plural
from ..options import ReportFormat
from .model import RULE_INDEX, RULES, Finding, ProjectName, Report

__all__ = ["to_text", "to_json", "to_sarif", "format_report"]


def format_report(report: Report, fmt: ReportFormat, *, verbose: bool = False, base: str | None = None) -> str:
    """``report`` in ``fmt``; ``base``: the directory the file is written to (JSON names the project
    dir relative to it, so a committed report holds no absolute path of the machine that wrote it)."""
    if fmt == "json":
        return to_json(report, base=base)
    if fmt == "sarif":
        return to_sarif(report)
    return to_text(report, verbose=verbose)


def to_text(report: Report, *, verbose: bool = False) -> str:
    """Compiler-style lines (``file:line:col: level: message [rule]``), then the summary."""
    lines: list[str] = []
    for fr in report.files:
        shown = fr.findings if verbose else tuple(fr.problems)
        lines.extend(report.finding_line(fr.source, f) for f in shown)
        if verbose:
            unread = "" if fr.compiled_by_rocm else "; only branches ROCm does not take include it"
            lines.append(
                f"{report.display_path(fr.source)}: {len(fr.replacements)} replaced, "
                f"{fr.count('unsupported')} unsupported, {fr.count('leftover')} left over, "
                f"{len(fr.guarded)} guarded{unread}"
            )
    if verbose:
        for name in report.defined_by_project():
            d = name.declaration
            lines.append(
                f"{report.display_path(d.path)}:{d.line}: note: {name.identifier} is defined by the project "
                f"({d.kind}): not reported ({plural(name.uses, 'occurrence')}) [defined-by-project]"
            )
        for rocm_name in report.declared_by_rocm():
            lines.append(
                f"hipify-tool: report: note: {rocm_name.identifier} is declared by the target ROCm's headers: "
                f"not reported ({plural(rocm_name.uses, 'occurrence')}) [declared-by-rocm]"
            )
    lines.extend(report.summary_lines())
    return "\n".join(lines) + "\n"


def to_json(report: Report, *, base: str | None = None) -> str:
    """Every file with its replacements and findings (``docs/reports.md`` documents the schema);
    ``project_dir`` relative to ``base`` when given (the report file's directory)."""

    def finding(f: Finding) -> dict[str, Any]:
        d: dict[str, Any] = {
            "line": f.line,
            "col": f.col,
            "identifier": f.identifier,
            "kind": f.kind,
            "rule": f.rule,
            "context": f.context,
            "message": f.message,
        }
        if f.replacement is not None:
            d["replacement"] = f.replacement
        if f.kind == "unsupported":
            d["closest"] = list(f.closest)
        if f.waived is not None:
            d["waived"] = f.waived
        return d

    def project_name(n: ProjectName) -> dict[str, Any]:
        d = n.declaration
        return {
            "identifier": n.identifier,
            "kind": "defined-by-project",
            "rule": n.rule,
            "declared": d.where,
            "declaration": d.kind,
            "uses": n.uses,
        }

    project_dir = str(report.project_dir)
    if base is not None:
        project_dir = os.path.relpath(project_dir, base).replace(os.sep, "/")
    doc = {
        "tool": "hipify-tool",
        "version": __version__,
        "format": 3,
        "project_dir": project_dir,
        "unsupported_known": report.unsupported_known,
        "rocm": report.target,
        "notes": list(report.notes),
        "baseline": report.baseline,
        "baseline_gone": report.baseline_gone,
        "totals": report.totals(),
        "defined_by_project": [project_name(n) for n in report.defined_by_project()],
        "declared_by_rocm": [
            {"identifier": n.identifier, "kind": "declared-by-rocm", "rule": n.rule, "uses": n.uses}
            for n in report.declared_by_rocm()
        ],
        "files": [
            {
                "source": fr.source,
                "output": fr.output,
                "compiled_by_rocm": fr.compiled_by_rocm,
                "replaced": len(fr.replacements),
                "unsupported": fr.count("unsupported"),
                "leftover": fr.count("leftover"),
                "guarded": len(fr.guarded),
                "replacements": [
                    {"line": r.line, "col": r.col, "identifier": r.identifier, "replacement": r.replacement}
                    for r in fr.replacements
                ],
                "findings": [finding(f) for f in fr.findings],
                "includes": [
                    {
                        "line": n.line,
                        "col": n.col,
                        "kind": n.kind,
                        "include": n.include,
                        "status": n.status,
                        "message": n.message,
                        "reaches": n.reaches,
                    }
                    for n in fr.includes
                ],
            }
            for fr in report.files
        ],
    }
    return json.dumps(doc, indent=1) + "\n"


def to_sarif(report: Report, *, cwd: str | None = None) -> str:
    """SARIF 2.1.0: problems as warnings (unsupported: errors), guarded findings as notes.

    Artifact URIs are relative to the working dir (the repository root in CI, which is what code
    scanning expects) under the ``%SRCROOT%`` base id; files outside it get absolute ``file:`` URIs.
    """
    cwd = os.path.abspath(cwd or os.getcwd())
    results: list[dict[str, Any]] = []
    for fr in report.files:
        absolute = os.path.join(str(report.project_dir), fr.source)
        rel = os.path.relpath(absolute, cwd)
        if rel.startswith(".."):
            location: dict[str, Any] = {"uri": Path(absolute).as_uri()}
        else:
            location = {"uri": _uri_path(rel), "uriBaseId": "%SRCROOT%"}
        for f in fr.findings:
            level = report.level(f)
            result: dict[str, Any] = {
                "ruleId": f.rule,
                "ruleIndex": RULE_INDEX[f.rule],
                "level": level,
                "message": {"text": f.message},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": dict(location),
                            "region": {
                                "startLine": f.line,
                                "startColumn": f.col,
                                "endColumn": f.col + len(f.identifier),
                            },
                        }
                    }
                ],
                "partialFingerprints": {"identifier/v1": f"{fr.source}:{f.rule}:{f.identifier}"},
            }
            if f.waived == "ignored":
                result["suppressions"] = [{"kind": "inSource"}]
            elif f.waived == "baselined":
                result["suppressions"] = [{"kind": "external", "justification": f"in the baseline {report.baseline}"}]
            if report.baseline is not None:
                result["baselineState"] = "unchanged" if f.waived == "baselined" else "new"
            results.append(result)
        for n in fr.includes:
            if n.rule is None:
                continue
            region = {"startLine": n.line, "startColumn": n.col, "endColumn": n.col + len(n.include)}
            note: dict[str, Any] = {
                "ruleId": n.rule,
                "ruleIndex": RULE_INDEX[n.rule],
                "level": "warning",
                "message": {"text": n.message},
                "locations": [{"physicalLocation": {"artifactLocation": dict(location), "region": region}}],
                "partialFingerprints": {"identifier/v1": f"{fr.source}:{n.rule}:{n.include}"},
            }
            if report.baseline is not None:
                note["baselineState"] = "new"
            results.append(note)
    rules = [
        {
            "id": rule.id,
            "name": "".join(part.capitalize() for part in rule.id.split("-")),
            "shortDescription": {"text": rule.title},
            "fullDescription": {"text": rule.help},
            "defaultConfiguration": {"level": "error" if rule.id == "unsupported" else "warning"},
        }
        for rule in RULES
    ]
    doc = {
        "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "hipify-tool",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": Path(cwd).as_uri() + "/"}},
                "columnKind": "unicodeCodePoints",
                "results": results,
                "properties": {
                    "totals": report.totals(),
                    "unsupportedKnown": report.unsupported_known,
                    "rocm": report.target,
                    "notes": list(report.notes),
                    "externalHeaders": sorted({n.reaches for fr in report.files for n in fr.includes if n.reaches}),
                    "definedByProject": [
                        f"{n.identifier} ({n.declaration.where})" for n in report.defined_by_project()
                    ],
                    "declaredByRocm": [n.identifier for n in report.declared_by_rocm()],
                    "baseline": report.baseline,
                },
            }
        ],
    }
    return json.dumps(doc, indent=1) + "\n"


def _uri_path(rel: str) -> str:
    from urllib.parse import quote

    return quote(rel.replace(os.sep, "/"))
