"""``# dbops-lint: allow <rule> -- <reason>`` comments in revision files.

A comment silences the named rule for exactly one Python statement of the revision: the statement it
trails, or the one right below it (a block of comment lines directly above a statement belongs to it). The
reason after ``--`` is required: a suppression without one (or naming an unknown rule) silences nothing and
is itself a finding (``invalid-suppression``). A suppression that silenced nothing is reported as a warning.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Suppression", "SuppressionMap", "read_suppressions"]

_COMMENT = re.compile(r"#\s*dbops-lint\s*:\s*allow\b(?P<body>.*)$", re.I)
_BODY = re.compile(r"^\s*(?P<rules>[\w\-, ]*?)\s*(?:--\s*(?P<reason>.*?))?\s*$")


@dataclass
class Suppression:
    rules: tuple[str, ...]
    reason: str
    line: int
    """The comment's line."""
    span: tuple[int, int]
    """The lines of the statement it covers."""
    used: set[str] = field(default_factory=set)


@dataclass
class SuppressionMap:
    path: str
    suppressions: list[Suppression] = field(default_factory=list)
    invalid: list[tuple[int, str]] = field(default_factory=list)
    """``(line, why)`` for comments that are malformed."""
    spans: list[tuple[int, int]] = field(default_factory=list)

    def find(self, rule: str, line: int | None) -> Suppression | None:
        """The suppression covering ``rule`` at ``line`` (the innermost statement holding that line)."""
        if line is None:
            return None
        span = self.statement(line)
        for suppression in self.suppressions:
            if rule in suppression.rules and suppression.span == span:
                suppression.used.add(rule)
                return suppression
        return None

    def statement(self, line: int) -> tuple[int, int]:
        holding = [span for span in self.spans if span[0] <= line <= span[1]]
        return min(holding, key=lambda span: span[1] - span[0]) if holding else (line, line)


def read_suppressions(path: str, known_rules: set[str]) -> SuppressionMap:
    """Every ``dbops-lint: allow`` comment in the revision file at ``path``."""
    result = SuppressionMap(path)
    try:
        source = Path(path).read_text(encoding="utf-8")
    except OSError:
        return result
    if "dbops-lint" not in source:
        return result
    try:
        tree = ast.parse(source)
        comments = [
            (token.start[0], token.string, token.line)
            for token in tokenize.generate_tokens(io.StringIO(source).readline)
            if token.type == tokenize.COMMENT
        ]
    except (SyntaxError, tokenize.TokenError):
        return result
    result.spans = [
        (node.lineno, node.end_lineno or node.lineno)
        for node in ast.walk(tree)
        if isinstance(node, ast.stmt) and not isinstance(node, _COMPOUND)
    ]
    lines = source.splitlines()
    for line, text, physical in comments:
        match = _COMMENT.search(text)
        if match is None:
            continue
        body = _BODY.match(match["body"])
        rules = tuple(rule.strip() for rule in (body["rules"] if body else "").split(",") if rule.strip())
        reason = (body["reason"] or "").strip() if body else ""
        if not rules:
            result.invalid.append((line, "names no rule"))
            continue
        unknown = [rule for rule in rules if rule not in known_rules]
        if unknown:
            result.invalid.append((line, f"names unknown rule(s) {', '.join(unknown)}"))
            continue
        if not reason:
            result.invalid.append((line, f"gives no reason (write `-- why {rules[0]} is safe here`)"))
            continue
        alone = physical.strip().startswith("#")
        target = _next_code_line(lines, line) if alone else line
        result.suppressions.append(Suppression(rules, reason, line, result.statement(target)))
    return result


_COMPOUND = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.With,
    ast.AsyncWith,
    ast.If,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.Try,
)


def _next_code_line(lines: list[str], line: int) -> int:
    """The first line below ``line`` that is neither blank nor a comment."""
    for number in range(line + 1, len(lines) + 1):
        stripped = lines[number - 1].strip()
        if stripped and not stripped.startswith("#"):
            return number
    return line
