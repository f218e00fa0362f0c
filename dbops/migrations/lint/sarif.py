"""A lint result as SARIF 2.1.0, the format code-review tools (GitHub code scanning, GitLab, ...) annotate with.

Each finding is a ``result`` at its revision file and line; suppressed findings are kept with an
``inSource`` suppression carrying the reason, so the review tool shows them as dismissed rather than hiding
them. Paths are relative to ``root`` (the repository, usually the working directory) under ``%SRCROOT%``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from dbops.migrations.lint.results import Finding, LintResult
from dbops.migrations.lint.rules import rules_for

__all__ = ["to_sarif"]

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def _uri(path: str, root: Path) -> str:
    try:
        return Path(os.path.relpath(path, root)).as_posix()
    except ValueError:  # another drive (Windows)
        return Path(path).as_posix()


def _result(finding: Finding, index: dict[str, int], root: Path) -> dict[str, Any]:
    location: dict[str, Any] = {"artifactLocation": {"uri": _uri(finding.path, root), "uriBaseId": "%SRCROOT%"}}
    if finding.line is not None:
        location["region"] = {"startLine": finding.line}
    return {
        "ruleId": finding.rule,
        "ruleIndex": index[finding.rule],
        "level": "error",
        "message": {
            "text": f"{finding.detail} (revision {finding.revision}): {finding.summary} Instead: {finding.safe}."
        },
        "locations": [{"physicalLocation": location}],
        "properties": {"revision": finding.revision, "statement": finding.statement},
    }


def to_sarif(result: LintResult, root: Path | None = None) -> dict[str, Any]:
    """The SARIF log for ``result``."""
    from dbops import __version__

    root = (root or Path.cwd()).resolve()
    rules = rules_for(result.dialect)
    index = {rule.name: position for position, rule in enumerate(rules)}
    results = [_result(finding, index, root) for finding in result.findings]
    for revision in result.revisions:
        for suppressed in revision.suppressed:
            entry = _result(suppressed.finding, index, root)
            entry["suppressions"] = [{"kind": "inSource", "justification": suppressed.reason}]
            results.append(entry)
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "dbops lint",
                        "version": __version__,
                        "rules": [
                            {
                                "id": rule.name,
                                "name": rule.name,
                                "shortDescription": {"text": rule.summary},
                                "help": {"text": f"Instead: {rule.safe}."},
                                "defaultConfiguration": {"level": "error"},
                            }
                            for rule in rules
                        ],
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": root.as_uri() + "/"}},
                "results": results,
            }
        ],
    }
