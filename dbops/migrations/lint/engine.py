"""``lint``: render each revision's SQL for the config's dialect and check it against the rules.

Every revision from base is rendered (offline, in one env.py run) so the checkers know the schema each
revision starts from; only the selected ones (a range, ``--since REF``, or all) are reported. Revisions that
read the database run on a shadow database instead. Findings in a revision file can be silenced statement by
statement with ``# dbops-lint: allow <rule> -- <reason>``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbops.errors import MigrationError
from dbops.migrations.lint.results import Finding, LintResult, RevisionLint, Suppressed
from dbops.migrations.lint.rules import RULES, rules_for
from dbops.migrations.lint.state import Catalog, Hit, RevisionState
from dbops.progress import NullReporter, Reporter

if TYPE_CHECKING:
    from alembic.script import Script, ScriptDirectory

    from dbops.config import AnyConfig
    from dbops.migrations.lint.render import Chunk, RenderedRevision

__all__ = ["lint", "lint_dialect", "lint_sql"]

_STATEMENT_PREVIEW = 300


def lint_dialect(config: AnyConfig) -> str:
    """The rule set a config gets: ``postgresql``, ``mysql`` (MySQL and MariaDB) or ``sqlite``."""
    from dbops.connect import dialect_name

    name = dialect_name(config)
    if name in ("mysql", "mariadb"):
        return "mysql"
    if name in ("postgresql", "sqlite"):
        return name
    raise MigrationError(f"dbops lint has no rules for {name} ({config.describe()}): postgresql, mysql, sqlite")


def _parser(dialect: str) -> tuple[Any, Any]:
    """``(statements(sql), check(node, state))`` for the dialect."""
    if dialect == "postgresql":
        from dbops.migrations.lint import postgres

        postgres._pglast()  # a missing pglast is one clear error, before any rendering
        return postgres.statements, postgres.check
    from dbops.migrations.lint import generic

    return generic.statements, lambda tokens, state: generic.check(tokens, state, dialect)


def lint_sql(sql: str, dialect: str, *, lock_timeout: bool = False) -> list[Hit]:
    """The rules plain SQL trips, as if it were one revision on a database whose tables all exist."""
    statements, check = _parser(dialect)
    state = RevisionState(Catalog(), lock_timeout=lock_timeout)
    hits: list[Hit] = []
    for _, node in statements(sql):
        hits.extend(check(node, state))
    return hits


def _select(
    script: ScriptDirectory,
    order: Sequence[Script],
    rev_range: str | None,
    since: str | None,
    only: Collection[str] | None,
) -> set[str]:
    selected = {rev.revision for rev in order} if only is None else set(only)
    if rev_range:
        if ":" in rev_range:
            start, _, end = rev_range.partition(":")
            current = tuple(rev.revision for rev in script.get_revisions(start)) if start not in ("", "base") else ()
            steps = script._upgrade_revs(end or "heads", current)  # type: ignore[arg-type]  # heads tuple accepted
            selected = {step.revision.revision for step in steps}
        else:
            selected = {rev.revision for rev in script.get_revisions(rev_range) if rev is not None}
    if since:
        from dbops.gitref import added_since

        added: set[Path] = set()
        for location in {Path(rev.path).resolve().parent for rev in order}:
            added |= added_since(location, since)
        selected = {rev.revision for rev in order if Path(rev.path).resolve() in added and rev.revision in selected}
    return selected


def _check_revision(
    rendered: RenderedRevision,
    state: RevisionState,
    statements: Any,
    check: Any,
    errors: list[str],
    *,
    report: bool,
) -> list[tuple[Hit, str, int | None]]:
    hits: list[tuple[Hit, str, int | None]] = []
    for chunk in rendered.chunks:
        if chunk.in_transaction is not None:
            state.in_transaction = chunk.in_transaction
        try:
            parsed = statements(chunk.sql)
        except ValueError as error:
            if report and chunk.line is not None:
                errors.append(f"{rendered.path}:{chunk.line}: cannot parse {_preview(chunk.sql)!r}: {error}")
            continue
        for text, node in parsed:
            found = check(node, state)
            if chunk.line is not None:  # Alembic's own statements (version table, BEGIN/COMMIT) aren't linted
                hits.extend((hit, text, chunk.line) for hit in found)
    return hits


def _preview(sql: str) -> str:
    flat = " ".join(sql.split())
    return flat if len(flat) <= _STATEMENT_PREVIEW else flat[: _STATEMENT_PREVIEW - 1] + "…"


def _findings(
    rendered: RenderedRevision, hits: list[tuple[Hit, str, int | None]], dialect: str, warnings: list[str]
) -> RevisionLint:
    from dbops.migrations.lint.suppress import read_suppressions

    applicable = {rule.name for rule in rules_for(dialect)}
    suppressions = read_suppressions(rendered.path, set(RULES))
    result = RevisionLint(
        rendered.revision,
        rendered.path,
        rendered.message,
        rendered.source,
        statements=sum(1 for chunk in rendered.chunks if chunk.line is not None),
    )
    for hit, text, line in hits:
        if hit.rule not in applicable:
            continue
        rule = RULES[hit.rule]
        finding = Finding(
            hit.rule, rendered.revision, rendered.path, line, _preview(text), hit.detail, rule.summary, rule.safe
        )
        suppression = suppressions.find(hit.rule, line)
        if suppression is not None:
            result.suppressed.append(Suppressed(finding, suppression.reason, suppression.line))
        else:
            result.findings.append(finding)
    _collapse_lock_timeouts(result)
    rule = RULES["invalid-suppression"]
    for line, why in suppressions.invalid:
        result.findings.append(
            Finding(
                rule.name,
                rendered.revision,
                rendered.path,
                line,
                "",
                f"this dbops-lint comment {why}",
                rule.summary,
                rule.safe,
            )
        )
    for suppression in suppressions.suppressions:
        for name in suppression.rules:
            if name not in suppression.used:
                warnings.append(f"{rendered.path}:{suppression.line}: the suppression of {name} silenced nothing")
    return result


def _collapse_lock_timeouts(result: RevisionLint) -> None:
    """One lock-timeout finding per revision (at its first statement): the fix is one setting, not N."""
    missing = [finding for finding in result.findings if finding.rule == "lock-timeout-missing"]
    if len(missing) < 2:
        return
    first = missing[0]
    more = f"{first.detail} (and {len(missing) - 1} more statement(s) in this revision)"
    kept = [finding for finding in result.findings if finding.rule != "lock-timeout-missing"]
    kept.append(dataclasses.replace(first, detail=more))
    result.findings = sorted(kept, key=lambda finding: finding.line or 0)


def _engine_lint(
    config: AnyConfig,
    rev_range: str | None,
    since: str | None,
    shadow_url: str | None,
    only: Collection[str] | None,
    reporter: Reporter,
) -> LintResult:
    from dbops.migrations.commands import _alembic_config, _script_directory, _translate_errors
    from dbops.migrations.lint.render import needs_shadow, render_offline, revision_frame_line, upgrade_order

    dialect = lint_dialect(config)
    statements, check = _parser(dialect)
    alembic_config = _alembic_config(config)
    script = _script_directory(config, alembic_config)
    result = LintResult(config.describe(), dialect)
    with _translate_errors(config, "lint"):
        order = upgrade_order(script)
        selected = _select(script, order, rev_range, since, only)
        if not selected:
            return result
        last = max(index for index, rev in enumerate(order) if rev.revision in selected)
        order = order[: last + 1]
        rendered = {r.revision: r for r in render_offline(config, script, alembic_config, order)}
    shadowed = [
        rev for rev in order if rev.revision in selected and (rendered[rev.revision].error or needs_shadow(rev))
    ]
    if shadowed:
        _run_shadow(config, dialect, shadowed, rendered, shadow_url, reporter, revision_frame_line)
    errors: list[str] = []
    catalog = Catalog()
    lock_timeout = config.alembic_config.ddl_lock_timeout is not None
    for rev in order:
        current = rendered[rev.revision]
        report = rev.revision in selected
        state = RevisionState(catalog, lock_timeout=lock_timeout)
        hits = _check_revision(current, state, statements, check, errors, report=report)
        if report:
            result.revisions.append(_findings(current, hits, dialect, result.warnings))
    if errors:
        raise CannotLintError(errors, result)
    return result


class CannotLintError(MigrationError):
    """Some statements could not be parsed: the lint is incomplete (exit 2), with what it did find."""

    def __init__(self, errors: list[str], result: LintResult) -> None:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"could not lint {errors[0]}{more}")
        self.errors = errors
        self.result = result


def _run_shadow(
    config: AnyConfig,
    dialect: str,
    revisions: list[Script],
    rendered: dict[str, RenderedRevision],
    shadow_url: str | None,
    reporter: Reporter,
    frame_line: Any,
) -> None:
    from dbops.migrations.commands import _translate_errors
    from dbops.migrations.lint.shadow import run_on_shadow, shadow_database

    names = ", ".join(rev.revision for rev in revisions)
    with _translate_errors(config, "lint"), shadow_database(config, dialect, shadow_url) as shadow:
        reporter.info(f"Running {names} on the shadow database {shadow.url} (they read the database)")
        recorded: dict[str, list[Chunk]] = run_on_shadow(
            shadow, dialect, revisions, frame_line([os.path.realpath(rev.path) for rev in revisions])
        )
    for revision, chunks in recorded.items():
        rendered[revision].chunks = chunks
        rendered[revision].source = "shadow"


def lint(
    config: AnyConfig,
    rev_range: str | None = None,
    *,
    since: str | None = None,
    shadow_url: str | None = None,
    revisions: Collection[str] | None = None,
    reporter: Reporter | None = None,
) -> LintResult:
    """Lint the revisions in ``rev_range`` (``REV`` or ``FROM:TO``; default all) or added since git ``since``.

    ``revisions`` limits the lint to those revision ids (``check --lint``: the unapplied ones). ``result.ok``
    when nothing was found. Raises ``MigrationError`` (exit 2) when a revision could not be
    linted; its ``result`` attribute then holds what was found.
    """
    from dbops.migrations.commands import outside_event_loop

    return outside_event_loop(_engine_lint)(config, rev_range, since, shadow_url, revisions, reporter or NullReporter())
