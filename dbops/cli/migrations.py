"""Migration commands: thin skins over ``dbops.migrations`` (the engine does the work).

Revisions like ``-1`` are arguments, not options, so ``dbops downgrade -1`` works as typed. Destructive
commands (``downgrade``, ``stamp``) ask first; ``--yes``/``--no-prompt`` answers for CI, and without a
terminal and without ``--yes`` they refuse (exit 2).
"""

from __future__ import annotations

import re
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperCommand

from dbops.cli.options import FormatOption, OutputFormat, YesOption
from dbops.cli.state import get_state

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from dbops.cli.state import CliState
    from dbops.migrations.ledger import LedgerEntry
    from dbops.migrations.results import CheckResult, MigrationRunResult, RevisionInfo
    from dbops.progress import ProgressTask, Reporter

app = typer.Typer()

_RELATIVE_REVISION = re.compile(r"-\d+")


class RevisionCommand(TyperCommand):
    """A command whose arguments may be relative revisions: ``downgrade -1`` works as typed, no ``--`` needed.

    click would read ``-1`` as an unknown short option. Before parsing, every argument (``-1`` included) is
    moved behind a ``--``, in order, and options stay in front; a mistyped option (``--sqll``) is still
    reported as "No such option" instead of being taken for a revision.
    """

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, _arguments_last(args, self._value_options()))

    def _value_options(self) -> set[str]:
        return {
            name
            for param in self.params
            if param.param_type_name == "option" and not getattr(param, "is_flag", False)
            for name in param.opts
        }


def _arguments_last(args: list[str], value_options: set[str]) -> list[str]:
    options: list[str] = []
    arguments: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            arguments.extend(args[index + 1 :])
            break
        if arg.startswith("-") and len(arg) > 1 and not _RELATIVE_REVISION.fullmatch(arg):
            options.append(arg)
            if arg in value_options and index + 1 < len(args):
                options.append(args[index + 1])  # an option's value, even "-1", stays with it
                index += 1
        else:
            arguments.append(arg)
        index += 1
    return [*options, "--", *arguments] if arguments else options


LockTimeout = Annotated[
    float | None,
    typer.Option(
        "--lock-timeout", min=0, metavar="SECONDS", help="Give up (exit 3) if the migration lock is busy this long."
    ),
]
DdlLockTimeout = Annotated[
    str | None,
    typer.Option(
        "--ddl-lock-timeout",
        metavar="DURATION",
        help="Each migration statement waits at most this long for its lock (500ms, 2s); default: the config's.",
    ),
]
Retries = Annotated[
    int | None,
    typer.Option(
        "--retries", min=0, metavar="N", help="Retry a revision that hit --ddl-lock-timeout N times (exit 4)."
    ),
]
Sql = Annotated[bool, typer.Option("--sql", help="Print the SQL instead of running it (offline mode).")]
Yes = YesOption
# Advanced Alchemy asks before upgrade, init, make-migrations and merge, so its users' scripts pass --no-prompt;
# these commands never ask, and accept the flag so such scripts run unchanged.
NothingToConfirm = Annotated[
    bool, typer.Option("--yes", "--no-prompt", "-y", help="Accepted for compatibility; this command never asks.")
]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Show what would change, change nothing.")]
RevId = Annotated[str | None, typer.Option("--rev-id", help="Revision id (default: random).", metavar="REV")]
Format = FormatOption


class _LazyReporter:
    """The Rich reporter, created on first message (a no-op upgrade never imports Rich)."""

    def __init__(self, state: CliState) -> None:
        self._state = state
        self._reporter: Reporter | None = None

    def _get(self) -> Reporter:
        if self._reporter is None:
            from dbops.cli.render import RichReporter

            self._reporter = RichReporter(quiet=self._state.quiet)
        return self._reporter

    def info(self, message: str) -> None:
        if not self._state.quiet:
            self._get().info(message)

    def warn(self, message: str) -> None:
        self._get().warn(message)

    def progress(self, description: str, total: int | None) -> AbstractContextManager[ProgressTask]:
        return self._get().progress(description, total)


def _note(state: CliState, message: str) -> None:
    """A short status line on stderr (plain text, so cheap paths stay cheap)."""
    if not state.quiet:
        sys.stderr.write(message + "\n")
        sys.stderr.flush()


def _out(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()


def _confirm(question: str, *, yes: bool, command: str) -> None:
    from dbops.cli.render import confirm_or_refuse

    if not confirm_or_refuse(question, yes=yes, refusal=f"{command} changes the database"):
        raise typer.Abort()


def _render_run(state: CliState, result: MigrationRunResult, *, verb: str, output_format: str) -> None:
    if output_format == "json":
        from dbops.cli.render import print_json

        print_json(result.to_dict())
        return
    if result.sql is not None:
        _out(result.sql)
        return
    if result.dry_run:
        for step in result.steps:
            _out(f"would {step}")
        if not result.steps:
            _note(state, f"Nothing to {verb}.")
        return
    if not result.steps:
        _note(state, "Already at head." if verb == "upgrade" else f"Nothing to {verb}.")
        return
    done = {"upgrade": "Applied", "downgrade": "Reverted", "stamp": "Stamped"}[verb]
    count = len(result.steps)
    noun = "revision" if verb == "stamp" else ("migration" if count == 1 else "migrations")
    _note(state, f"{done} {count if verb != 'stamp' else ''} {noun} on {result.config}.".replace("  ", " "))


def _revision_lines(revisions: list[RevisionInfo], *, verbose: bool) -> None:
    for info in revisions:
        _out(info.line())
        if verbose:
            _out(f"    path: {info.path}")
            if info.branch_labels:
                _out(f"    branches: {', '.join(info.branch_labels)}")
            if info.depends_on:
                _out(f"    depends on: {', '.join(info.depends_on)}")
            if info.long_doc and info.long_doc != info.message:
                for line in info.long_doc.splitlines():
                    _out(f"    {line}")


def _print_revisions(revisions: list[RevisionInfo], output_format: str, *, verbose: bool) -> None:
    if output_format == "json":
        from dbops.cli.render import print_json

        print_json([info.to_dict() for info in revisions])
    else:
        _revision_lines(revisions, verbose=verbose)


@app.command("init")
def init_command(
    ctx: typer.Context,
    directory: Annotated[
        str | None, typer.Argument(help="Where to create it (default: the config's script_location).", metavar="DIR")
    ] = None,
    multidb: Annotated[
        bool, typer.Option("--multidb", help="Initialise every config, each at its own script_location.")
    ] = False,
    template: Annotated[
        str, typer.Option("--template", "-t", help="Template name (see list-templates).", metavar="NAME")
    ] = "dbops",
    package: Annotated[bool, typer.Option("--package", help="Also write __init__.py files.")] = False,
    _yes: NothingToConfirm = False,
) -> None:
    """Create a migrations directory (env.py, script.py.mako, versions/) for the config.

    The env.py works for sync and async configs and for any bind key; no alembic.ini is needed.

    Example: dbops --config examples/app.py:db init examples/migrations
    """
    from dbops.migrations import commands

    state = get_state(ctx)
    reporter = _LazyReporter(state)
    if multidb:
        if directory is not None:
            raise typer.BadParameter("--multidb uses each config's script_location: give no DIRECTORY")
        results = commands.init_all(state.configs(), template=template, package=package, reporter=reporter)
    else:
        results = [commands.init(state.config(), directory, template=template, package=package, reporter=reporter)]
    for result in results:
        _out(f"Created {result.directory} for {result.config}")


@app.command("make-migrations")
def make_migrations_command(
    ctx: typer.Context,
    message: Annotated[
        str | None, typer.Option("--message", "-m", help="What the revision does.", metavar="TEXT")
    ] = None,
    autogenerate: Annotated[
        bool,
        typer.Option(
            "--autogenerate/--no-autogenerate",
            help="Compare the models with the database (--no-autogenerate needs --empty).",
        ),
    ] = True,
    empty: Annotated[bool, typer.Option("--empty", help="Write a revision without operations, to fill in.")] = False,
    head: Annotated[str, typer.Option("--head", help="Revision to base the new one on.", metavar="REV")] = "head",
    splice: Annotated[bool, typer.Option("--splice", help="Allow a non-head --head (start a branch).")] = False,
    branch_label: Annotated[
        str | None, typer.Option("--branch-label", help="Label a new branch.", metavar="LABEL")
    ] = None,
    version_path: Annotated[
        str | None, typer.Option("--version-path", help="Directory for the file.", metavar="DIR")
    ] = None,
    rev_id: RevId = None,
    depends_on: Annotated[
        str | None, typer.Option("--depends-on", help="Revisions it depends on.", metavar="REV")
    ] = None,
    _yes: NothingToConfirm = False,
) -> None:
    """Write a new revision from the differences between the models and the database.

    Refuses to write a revision without operations unless --empty is given.

    Example: dbops --config examples/app.py:db make-migrations -m "add books"
    """
    from dbops.migrations import commands

    state = get_state(ctx)
    result = commands.make_migrations(
        state.config(),
        message or "",
        autogenerate=autogenerate,
        empty=empty,
        head=head,
        splice=splice,
        branch_label=branch_label,
        version_path=version_path,
        rev_id=rev_id,
        depends_on=depends_on,
        reporter=_LazyReporter(state),
    )
    _out(f"Wrote {result.path} (revision {result.revision})")
    for operation in result.operations:
        _out(f"  {operation.kind}: {operation.detail}")


@app.command("upgrade", cls=RevisionCommand)
def upgrade_command(
    ctx: typer.Context,
    revision: Annotated[
        str, typer.Argument(help="Target: head, a revision id, +1, branch@head.", metavar="REV")
    ] = "head",
    sql: Sql = False,
    lock_timeout: LockTimeout = None,
    ddl_lock_timeout: DdlLockTimeout = None,
    retries: Retries = None,
    output_format: Format = OutputFormat.text,
    _yes: NothingToConfirm = False,
) -> None:
    """Upgrade the database to a revision (default: head), under the migration lock.

    Example: dbops --config examples/app.py:db upgrade --ddl-lock-timeout 500ms --retries 5
    """
    from dbops.migrations import commands

    state = get_state(ctx)
    result = commands.upgrade(
        state.config(),
        revision,
        sql=sql,
        lock_timeout=lock_timeout,
        ddl_lock_timeout=ddl_lock_timeout,
        retries=retries,
        reporter=_LazyReporter(state),
    )
    _render_run(state, result, verb="upgrade", output_format=output_format)


@app.command("downgrade", cls=RevisionCommand)
def downgrade_command(
    ctx: typer.Context,
    revision: Annotated[
        str, typer.Argument(help="Target: -1, base, a revision id (FROM:TO with --sql).", metavar="REV")
    ],
    sql: Sql = False,
    yes: Yes = False,
    dry_run: DryRun = False,
    lock_timeout: LockTimeout = None,
    ddl_lock_timeout: DdlLockTimeout = None,
    retries: Retries = None,
    output_format: Format = OutputFormat.text,
) -> None:
    """Downgrade the database to a revision, under the migration lock (asks first unless --yes).

    Example: dbops --config examples/app.py:db downgrade -1 --yes
    """
    from dbops.migrations import commands

    state = get_state(ctx)
    config = state.config()
    if not (sql or dry_run):
        _confirm(f"Downgrade {config.describe()} to {revision}?", yes=yes, command="downgrade")
    result = commands.downgrade(
        config,
        revision,
        sql=sql,
        dry_run=dry_run,
        lock_timeout=lock_timeout,
        ddl_lock_timeout=ddl_lock_timeout,
        retries=retries,
        reporter=_LazyReporter(state),
    )
    _render_run(state, result, verb="downgrade", output_format=output_format)


def _stamp(
    ctx: typer.Context,
    revisions: list[str],
    sql: bool,
    purge: bool,
    yes: bool,
    dry_run: bool,
    lock_timeout: float | None,
    output_format: str,
) -> None:
    from dbops.migrations import commands

    state = get_state(ctx)
    config = state.config()
    if not (sql or dry_run):
        _confirm(f"Stamp {config.describe()} as {', '.join(revisions)}?", yes=yes, command="stamp")
    result = commands.stamp(
        config,
        revisions,
        sql=sql,
        purge=purge,
        dry_run=dry_run,
        lock_timeout=lock_timeout,
        reporter=_LazyReporter(state),
    )
    _render_run(state, result, verb="stamp", output_format=output_format)


StampRevisions = Annotated[
    list[str], typer.Argument(help="Revision(s) to record: head, base, a revision id, branch@head.", metavar="REV")
]
Purge = Annotated[bool, typer.Option("--purge", help="Empty the version table first.")]


@app.command("stamp-migration", cls=RevisionCommand)
def stamp_migration_command(
    ctx: typer.Context,
    revisions: StampRevisions,
    sql: Sql = False,
    purge: Purge = False,
    yes: Yes = False,
    dry_run: DryRun = False,
    lock_timeout: LockTimeout = None,
    output_format: Format = OutputFormat.text,
) -> None:
    """Mark a revision as current without running migrations (alias: stamp; asks first unless --yes).

    Example: dbops --config examples/app.py:db stamp-migration head --yes
    """
    _stamp(ctx, revisions, sql, purge, yes, dry_run, lock_timeout, output_format)


@app.command("stamp", cls=RevisionCommand)
def stamp_command(
    ctx: typer.Context,
    revisions: StampRevisions,
    sql: Sql = False,
    purge: Purge = False,
    yes: Yes = False,
    dry_run: DryRun = False,
    lock_timeout: LockTimeout = None,
    output_format: Format = OutputFormat.text,
) -> None:
    """Mark a revision as current without running migrations (alias of stamp-migration).

    Example: dbops --config examples/app.py:db stamp base --yes
    """
    _stamp(ctx, revisions, sql, purge, yes, dry_run, lock_timeout, output_format)


@app.command("merge-migrations", cls=RevisionCommand)
def merge_command(
    ctx: typer.Context,
    revisions: Annotated[
        list[str] | None, typer.Argument(help="Revisions to merge (default: all heads).", metavar="REV")
    ] = None,
    message: Annotated[
        str | None, typer.Option("--message", "-m", help="Message of the merge revision.", metavar="TEXT")
    ] = None,
    branch_label: Annotated[
        str | None, typer.Option("--branch-label", help="Label for the merge.", metavar="LABEL")
    ] = None,
    rev_id: RevId = None,
    _yes: NothingToConfirm = False,
) -> None:
    """Write a revision that merges several heads into one.

    Example: dbops --config examples/app.py:db merge-migrations -m "merge branches"
    """
    from dbops.migrations import commands

    state = get_state(ctx)
    result = commands.merge(
        state.config(), revisions or ["heads"], message=message, branch_label=branch_label, rev_id=rev_id
    )
    _out(f"Wrote {result.path} (revision {result.revision}, merges {', '.join(result.down_revisions)})")


def _current(ctx: typer.Context, output_format: str, verbose: bool) -> None:
    from dbops.migrations import commands

    state = get_state(ctx)
    result = commands.current(state.config())
    if output_format == "json":
        from dbops.cli.render import print_json

        print_json(
            {
                "config": result.config,
                "current": [info.to_dict() for info in result.current],
                "unknown": result.unknown,
                "heads": result.heads,
                "at_head": result.at_head,
            }
        )
        return
    if not result.current and not result.unknown:
        _out("<base> (no revision applied)")
    _revision_lines(result.current, verbose=verbose)
    for revision in result.unknown:
        _out(f"{revision} (not in the migrations directory)")
    if not result.at_head:
        _note(state, f"Not at head: heads are {', '.join(result.heads) or '<none>'}.")


VerboseLines = Annotated[bool, typer.Option("--verbose", "-v", help="Show paths and full messages.")]


@app.command("show-current-revision")
def show_current_revision_command(
    ctx: typer.Context, output_format: Format = OutputFormat.text, verbose: VerboseLines = False
) -> None:
    """Show the revision the database is at (alias: current).

    Example: dbops --config examples/app.py:db show-current-revision
    """
    _current(ctx, output_format, verbose)


@app.command("current")
def current_command(
    ctx: typer.Context, output_format: Format = OutputFormat.text, verbose: VerboseLines = False
) -> None:
    """Show the revision the database is at (alias of show-current-revision).

    Example: dbops --config examples/app.py:db current --format json
    """
    _current(ctx, output_format, verbose)


@app.command("history")
def history_command(
    ctx: typer.Context,
    rev_range: Annotated[
        str | None, typer.Option("--rev-range", "-r", help="FROM:TO, e.g. base:head.", metavar="RANGE")
    ] = None,
    verbose: VerboseLines = False,
    applied: Annotated[
        bool,
        typer.Option("--applied", help="Show the steps run on the database, from the migration ledger, newest first."),
    ] = False,
    output_format: Format = OutputFormat.text,
) -> None:
    """List the revisions, newest first (--applied: what ran on the database, when, where, with what result).

    Example: dbops --config examples/app.py:db history --applied --format json
    """
    from dbops.migrations import commands

    state = get_state(ctx)
    if not applied:
        revisions = commands.history(state.config(), rev_range)
        _print_revisions(revisions, output_format, verbose=verbose)
        return
    if rev_range is not None:
        raise typer.BadParameter("--applied shows the whole ledger: give no --rev-range", param_hint="--applied")
    from dbops.migrations.ledger import read_ledger

    config = state.config()
    entries = read_ledger(config)
    if output_format == "json":
        from dbops.cli.render import print_json

        print_json([entry.to_dict() for entry in entries or []])
        return
    for entry in entries or []:
        _out(_ledger_line(entry))
        if entry.error:
            _out(f"    error: {entry.error}")
        if verbose:
            _out(f"    file: {entry.file or '?'}  sha256: {entry.checksum or '?'}")
    if not entries:
        table = config.alembic_config.migration_log_table
        _note(state, f"No steps recorded in {table} on {config.describe()} yet.")


def _ledger_line(entry: LedgerEntry) -> str:
    """``2025-01-02 10:11:12Z  upgrade  a1 -> b2  applied  0.42 s  host  dbops 0.1.0  message``."""
    moves = f"{', '.join(entry.from_revisions) or '<base>'} -> {', '.join(entry.to_revisions) or '<base>'}"
    return (
        f"{entry.started_at:%Y-%m-%d %H:%M:%S}Z  {entry.direction:<9} {moves}  {entry.result}  "
        f"{entry.duration_seconds:.2f} s  {entry.host}  dbops {entry.dbops_version}  {entry.message}"
    ).rstrip()


@app.command("heads")
def heads_command(ctx: typer.Context, verbose: VerboseLines = False, output_format: Format = OutputFormat.text) -> None:
    """List the head revisions.

    Example: dbops --config examples/app.py:db heads
    """
    from dbops.migrations import commands

    revisions = commands.heads(get_state(ctx).config())
    _print_revisions(revisions, output_format, verbose=verbose)


@app.command("branches")
def branches_command(
    ctx: typer.Context, verbose: VerboseLines = False, output_format: Format = OutputFormat.text
) -> None:
    """List the revisions where history branches.

    Example: dbops --config examples/app.py:db branches
    """
    from dbops.migrations import commands

    revisions = commands.branches(get_state(ctx).config())
    _print_revisions(revisions, output_format, verbose=verbose)


@app.command("show", cls=RevisionCommand)
def show_command(
    ctx: typer.Context,
    revision: Annotated[
        str, typer.Argument(help="A revision id (or prefix), head, heads, branch@head.", metavar="REV")
    ],
    output_format: Format = OutputFormat.text,
) -> None:
    """Show a revision: id, parents, message, file.

    Example: dbops --config examples/app.py:db show head
    """
    from dbops.migrations import commands

    revisions = commands.show(get_state(ctx).config(), revision)
    _print_revisions(revisions, output_format, verbose=True)


@app.command("edit", cls=RevisionCommand)
def edit_command(
    ctx: typer.Context,
    revision: Annotated[str, typer.Argument(help="A revision id (or prefix) or head.", metavar="REV")],
) -> None:
    """Open a revision file in $EDITOR.

    Example: EDITOR=vim dbops --config examples/app.py:db edit head
    """
    from dbops.migrations import commands

    path = commands.edit(get_state(ctx).config(), revision)
    _note(get_state(ctx), f"Edited {path}")


@app.command("ensure-version")
def ensure_version_command(ctx: typer.Context, sql: Sql = False) -> None:
    """Create the version table if it doesn't exist yet.

    Example: dbops --config examples/app.py:db ensure-version
    """
    from dbops.migrations import commands

    state = get_state(ctx)
    config = state.config()
    output = commands.ensure_version(config, sql=sql)
    if output is not None:
        _out(output)
    else:
        _note(state, f"Version table {config.alembic_config.version_table_name} is present on {config.describe()}.")


@app.command("list-templates")
def list_templates_command(ctx: typer.Context) -> None:
    """List the templates init can write.

    Example: dbops --config examples/app.py:db list-templates
    """
    from dbops.migrations import commands

    for template in commands.list_templates(get_state(ctx).config()):
        _out(f"{template.name}\t{template.description}")


@app.command("check")
def check_command(
    ctx: typer.Context,
    output_format: Format = OutputFormat.text,
    with_lint: Annotated[
        bool, typer.Option("--lint", help="Also lint the unapplied revisions (see `dbops lint`).")
    ] = False,
) -> None:
    """Exit 1 if the models and the database differ or revisions are unapplied, listing what differs.

    Example: dbops --config examples/app.py:db check --format json
    """
    from dbops.errors import CheckFailedError
    from dbops.migrations import commands

    state = get_state(ctx)
    config = state.config()
    result = commands.check(config, reporter=_LazyReporter(state))
    from dbops.migrations.invalid_indexes import invalid_indexes

    invalid = invalid_indexes(config)
    unsafe = None
    if with_lint and result.unapplied:
        from dbops.migrations.lint.engine import lint

        unsafe = lint(config, revisions=[info.revision for info in result.unapplied], reporter=_LazyReporter(state))
    if output_format == "json":
        from dbops.cli.render import print_json

        extra = {"invalid_indexes": [str(index) for index in invalid]}
        print_json({**result.to_dict(), **extra, **({"lint": unsafe.to_dict()} if unsafe is not None else {})})
    else:
        _render_check(result)
        if invalid:
            _out("Invalid indexes:")
            for index in invalid:
                _out(f"  {index}")
        if unsafe is not None and unsafe.findings:
            from dbops.cli.lint import render_lint

            _out("Unsafe operations in the unapplied revisions:")
            render_lint(unsafe, "text", quiet=True)
    findings = len(unsafe.findings) if unsafe is not None else 0
    if not result.ok or findings or invalid:
        lint_part = f"; {findings} unsafe operation(s) in them" if with_lint else ""
        invalid_part = f"; {len(invalid)} invalid index(es)" if invalid else ""
        raise CheckFailedError(f"{result.summary()}{lint_part}{invalid_part}")
    _note(state, f"{result.config}: models, database and migrations agree.")


def _render_check(result: CheckResult) -> None:
    if result.unapplied:
        _out("Unapplied revisions:")
        for info in result.unapplied:
            _out(f"  {info.revision}  {info.message}")
    if result.differences:
        _out("Differences between the models and the database:")
        for difference in result.differences:
            _out(f"  {difference.kind}: {difference.detail}")
