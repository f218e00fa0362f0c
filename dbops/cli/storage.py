"""``dbops storage``: check, sync and prune the files rows reference through StoredObject columns.

Backends come from the ``storages`` registry: the module ``--config`` points at must register them on import
(``storages.register_backend(...)``), as the app does.
"""

from __future__ import annotations

import datetime
from typing import Annotated

import typer

from dbops.cli.app import show_help_without_command
from dbops.cli.options import FormatOption, OutputFormat, YesOption, duration
from dbops.cli.state import get_state

app = typer.Typer(
    name="storage",
    help="Check, sync and prune stored files (StoredObject columns).",
    invoke_without_command=True,
    callback=show_help_without_command,
)

ModelOption = Annotated[
    list[str] | None,
    typer.Option(
        "--model",
        "-m",
        help="Only this model: module:Class, a class name or a table name (repeatable).",
        metavar="MODEL",
    ),
]


@app.command("check")
def check_command(
    ctx: typer.Context,
    model: ModelOption = None,
    output_format: FormatOption = OutputFormat.text,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Files checked in parallel.", min=1, metavar="N")] = 8,
) -> None:
    """Check that every file rows reference exists with its recorded size and checksum (exit 1 if not).

    Example: dbops --config myapp.db:config storage check --format json
    """
    from dbops.cli.render import RichReporter, print_json
    from dbops.errors import CheckFailedError
    from dbops.storage.check import check_files

    state = get_state(ctx)
    config = state.config()
    result = check_files(config, models=model, jobs=jobs, reporter=RichReporter(quiet=state.quiet))
    if output_format == "json":
        print_json(result.as_dict())
    else:
        import sys

        for problem in result.problems:
            detail = f" ({problem.detail})" if problem.detail else ""
            where = f"{problem.backend}:{problem.path}" if problem.backend or problem.path else "-"
            label = f"{problem.table}.{problem.column}"
            sys.stdout.write(f"{problem.problem}\t{label}\trow {problem.row}\t{where}{detail}\n")
        bad = f", {len(result.bad_rows)} rows with bad metadata" if result.bad_rows else ""
        sys.stdout.write(
            f"{result.files} files in {result.rows} rows checked: {len(result.missing)} missing, "
            f"{len(result.mismatched)} mismatched{bad}\n"
        )
    if not result.ok:
        bad = f" and {len(result.bad_rows)} row(s) with bad metadata" if result.bad_rows else ""
        raise CheckFailedError(
            f"{len(result.missing)} missing and {len(result.mismatched)} mismatched file(s){bad} in {config.describe()}"
        )


@app.command("sync")
def sync_command(
    ctx: typer.Context,
    source: Annotated[str, typer.Option("--from", help="Backend key to copy from.", metavar="KEY")],
    target: Annotated[str, typer.Option("--to", help="Backend key to copy to.", metavar="KEY")],
    model: ModelOption = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Files copied in parallel.", min=1, metavar="N")] = 4,
    update_rows: Annotated[
        bool, typer.Option("--update-rows", help="Repoint rows to the target after their files are copied.")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be copied; change nothing.")] = False,
    batch_size: Annotated[
        int, typer.Option("--batch-size", help="Rows per batch (and per row-update transaction).", min=1, metavar="N")
    ] = 200,
    output_format: FormatOption = OutputFormat.text,
) -> None:
    """Copy every file rows reference from one backend to another, verified, resumable and in parallel.

    Example: dbops --config myapp.db:config storage sync --from local --to s3 --jobs 16 --update-rows
    """
    from dbops.cli.render import RichReporter, print_json
    from dbops.errors import StorageError
    from dbops.storage.sync import sync_files

    state = get_state(ctx)
    result = sync_files(
        state.config(),
        source=source,
        target=target,
        models=model,
        jobs=jobs,
        update_rows=update_rows,
        dry_run=dry_run,
        batch_size=batch_size,
        reporter=RichReporter(quiet=state.quiet),
    )
    if output_format == "json":
        print_json(result.as_dict())
    else:
        import sys

        verb = "would copy" if dry_run else "copied"
        line = (
            f"{result.files} files in {result.rows} rows: {verb} {result.copied} ({result.bytes_copied} bytes), "
            f"{result.skipped} already in {target}"
        )
        if update_rows and not dry_run:
            line += f", {result.rows_updated} rows now point at {target}"
        sys.stdout.write(line + "\n")
    if result.failures:
        raise StorageError(f"{len(result.failures)} file(s) could not be synced (first: {result.failures[0]})")


@app.command("prune-orphans")
def prune_orphans_command(
    ctx: typer.Context,
    backend: Annotated[str, typer.Option("--backend", "-b", help="Backend key to prune.", metavar="KEY")],
    older_than: Annotated[
        datetime.timedelta,
        typer.Option(
            "--older-than",
            parser=duration,
            help="Keep files younger than this (grace for in-flight uploads): 30m, 2h, 7d, 1h30m.",
            metavar="DURATION",
        ),
    ] = "1h",  # type: ignore[assignment]  # parsed by duration() like a typed value, and shown as typed in --help
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List the orphans; delete nothing.")] = False,
    yes: YesOption = False,
    output_format: FormatOption = OutputFormat.text,
) -> None:
    """Delete stored files that no row references and that are older than --older-than.

    Example: dbops --config myapp.db:config storage prune-orphans --backend s3 --older-than 1d --yes
    """
    import sys

    from dbops.cli.render import RichReporter, confirm_or_refuse, print_json
    from dbops.storage.prune import delete_orphans, find_orphans

    state = get_state(ctx)
    reporter = RichReporter(quiet=state.quiet)
    scan = find_orphans(state.config(), backend=backend, older_than=older_than, reporter=reporter)
    if output_format == "text":
        for info in scan.orphans:
            sys.stdout.write(f"{'would delete' if dry_run else 'orphan'}\t{backend}:{info.path}\t{info.size}\n")
    summary = (
        f"{len(scan.orphans)} orphan(s) ({scan.orphan_bytes} bytes) of {scan.stored} stored file(s) in {backend}; "
        f"{scan.recent} unreferenced file(s) younger than {_since(older_than)} kept"
    )
    if scan.orphans and not dry_run:
        question = f"Delete {len(scan.orphans)} orphaned file(s) from {backend}?"
        refusal = f"prune-orphans deletes {len(scan.orphans)} file(s) from {backend}"
        if not confirm_or_refuse(question, yes=yes, refusal=refusal):
            raise typer.Abort()
        delete_orphans(scan, reporter=reporter)
        summary += f"; deleted {scan.deleted}"
    if output_format == "json":
        print_json(scan.as_dict())
    else:
        sys.stdout.write(summary + "\n")


def _since(grace: datetime.timedelta) -> str:
    """``1h``, ``90m``, ``36h``: the grace period in one unit, for the summary line."""
    seconds = int(grace.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
