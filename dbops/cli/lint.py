"""``lint`` and ``verify``: checks of the migration files for safe deploys (thin skins over the engines)."""

from __future__ import annotations

import sys
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import typer

from dbops.cli.options import FormatOption, OutputFormat
from dbops.cli.state import get_state

if TYPE_CHECKING:
    from dbops.migrations.lint.results import LintResult

app = typer.Typer()


class LintFormat(str, Enum):
    """``lint --format``: text, json, or SARIF for code-scanning tools."""

    text = "text"
    json = "json"
    sarif = "sarif"


def _out(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")


def render_lint(result: LintResult, output_format: str, *, quiet: bool = False) -> None:
    """Print a lint result (text, json or sarif) on stdout; the summary line on stderr."""
    import os

    if output_format == "json":
        from dbops.cli.render import print_json

        print_json(result.to_dict())
    elif output_format == "sarif":
        from dbops.cli.render import print_json
        from dbops.migrations.lint.sarif import to_sarif

        print_json(to_sarif(result))
    else:
        for finding in result.findings:
            where = os.path.relpath(finding.path) + (f":{finding.line}" if finding.line is not None else "")
            _out(f"{where}: {finding.rule}: {finding.detail} (revision {finding.revision})")
            _out(f"    {finding.summary}")
            _out(f"    instead: {finding.safe}")
    if quiet:
        return
    for warning in result.warnings:
        _err(f"Warning: {warning}")
    suppressed = sum(len(revision.suppressed) for revision in result.revisions)
    silenced = f", {suppressed} suppressed" if suppressed else ""
    shadow = sum(1 for revision in result.revisions if revision.source == "shadow")
    shadowed = f", {shadow} run on a shadow database" if shadow else ""
    flagged = len({finding.revision for finding in result.findings})
    _err(
        f"{len(result.findings)} finding(s) in {flagged} of {len(result.revisions)} revision(s) "
        f"({result.dialect}{silenced}{shadowed})."
    )


@app.command("lint")
def lint_command(
    ctx: typer.Context,
    rev_range: Annotated[
        str | None,
        typer.Argument(
            help="REV (one revision) or FROM:TO (what upgrade FROM:TO runs); default: all.", metavar="REV_RANGE"
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only revisions added since this git ref (e.g. origin/main).", metavar="GIT_REF"),
    ] = None,
    output_format: Annotated[
        LintFormat, typer.Option("--format", help="text, json or sarif.", case_sensitive=False)
    ] = LintFormat.text,
    shadow_url: Annotated[
        str | None,
        typer.Option(
            "--shadow-url",
            help="An empty database to run revisions that read the database (default: a temporary one on its server).",
            metavar="URL",
        ),
    ] = None,
    list_rules: Annotated[bool, typer.Option("--list-rules", help="List the rules and exit.")] = False,
) -> None:
    """Check the SQL each revision runs for operations that lock or break a live database.

    Exit 1 on any finding, 0 when clean, 2 when a revision could not be linted. Silence one finding with
    `# dbops-lint: allow <rule> -- <reason>` on (or above) the statement in the revision file.

    Example: dbops --config examples/app.py:db lint --since origin/main --format sarif > lint.sarif
    """
    if list_rules:
        from dbops.migrations.lint.rules import RULES

        for rule in RULES.values():
            _out(f"{rule.name}  [{', '.join(rule.dialects)}]\n    {rule.summary}\n    instead: {rule.safe}")
        return
    from dbops.errors import LintFailedError
    from dbops.migrations.lint.engine import CannotLintError, lint

    state = get_state(ctx)
    from dbops.cli.migrations import _LazyReporter

    try:
        result = lint(state.config(), rev_range, since=since, shadow_url=shadow_url, reporter=_LazyReporter(state))
    except CannotLintError as error:
        render_lint(error.result, output_format, quiet=state.quiet)
        raise
    render_lint(result, output_format, quiet=state.quiet)
    if not result.ok:
        raise LintFailedError(f"{len(result.findings)} unsafe operation(s) in the migrations of {result.config}")


@app.command("verify")
def verify_command(
    ctx: typer.Context,
    since: Annotated[
        str | None,
        typer.Option(
            "--since", help="Also check revisions added since this git ref build on its head.", metavar="GIT_REF"
        ),
    ] = None,
    against_db: Annotated[
        bool,
        typer.Option(
            "--against-db",
            help="Also check that every applied revision's file is unchanged since it ran (needs migration_log).",
        ),
    ] = False,
    output_format: FormatOption = OutputFormat.text,
) -> None:
    """Check the migration history: one head, no dangling or duplicate revisions, a message each.

    Needs no database and imports no revision file. With --against-db it also compares the files with the
    checksums the migration ledger recorded when each revision was applied (changed or missing files).
    Exit 1 on a problem, 0 when the history is sound, 2 when it cannot check.

    Example: dbops --config examples/app.py:db verify --since origin/main --against-db
    """
    from dbops.errors import CheckFailedError
    from dbops.migrations.verify import verify

    state = get_state(ctx)
    result = verify(state.config(), since=since, against_db=against_db)
    if output_format == "json":
        from dbops.cli.render import print_json

        print_json(result.to_dict())
    else:
        for problem in result.problems:
            _out(f"{problem.kind}: {problem.message}")
    for warning in result.warnings:
        _err(f"Warning: {warning}")
    if not result.ok:
        raise CheckFailedError(f"{len(result.problems)} problem(s) in the migration history of {result.config}")
    if not state.quiet:
        new = f", {len(result.new)} new since {since}" if since else ""
        checked = f", {result.checked} applied revision(s) match the ledger" if result.checked is not None else ""
        _err(
            f"{result.revisions} revision(s), head {', '.join(result.heads) or '<none>'}{new}{checked}: "
            "history is sound."
        )
