"""What ``lint`` returns: findings per revision (rule, file line, statement), suppressions, warnings."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Finding", "LintResult", "RevisionLint", "Suppressed"]


@dataclass(frozen=True)
class Finding:
    """One rule tripped by one statement of one revision."""

    rule: str
    revision: str
    path: str
    line: int | None
    """Line in the revision file of the call that emitted the statement (None if unknown)."""
    statement: str
    detail: str
    """What exactly tripped the rule (``CREATE INDEX ix_book_title ON book``)."""
    summary: str
    safe: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Suppressed:
    """A finding silenced by ``# dbops-lint: allow <rule> -- <reason>``."""

    finding: Finding
    reason: str
    comment_line: int


@dataclass
class RevisionLint:
    """The lint of one revision."""

    revision: str
    path: str
    message: str
    source: str
    """``offline`` (rendered as ``upgrade --sql`` does) or ``shadow`` (run on a shadow database)."""
    statements: int = 0
    findings: list[Finding] = field(default_factory=list)
    suppressed: list[Suppressed] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "revision": self.revision,
            "path": self.path,
            "message": self.message,
            "source": self.source,
            "statements": self.statements,
            "findings": [finding.to_dict() for finding in self.findings],
            "suppressed": [
                {"rule": s.finding.rule, "line": s.finding.line, "reason": s.reason, "comment_line": s.comment_line}
                for s in self.suppressed
            ],
        }


@dataclass
class LintResult:
    """``lint``: every revision linted, in upgrade order."""

    config: str
    dialect: str
    revisions: list[RevisionLint] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        return [finding for revision in self.revisions for finding in revision.findings]

    @property
    def ok(self) -> bool:
        return not self.findings

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "config": self.config,
            "dialect": self.dialect,
            "revisions": [revision.to_dict() for revision in self.revisions],
            "warnings": list(self.warnings),
        }
