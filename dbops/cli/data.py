"""``dump-data``, ``load-data``, ``drop-all``: thin commands over ``dbops.data``."""

from __future__ import annotations

import sys
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from dbops.cli.options import YesOption
from dbops.cli.state import get_state

if TYPE_CHECKING:
    from collections.abc import Sequence

    from dbops.data.drop import DropPlan
    from dbops.data.dump import DumpedTable
    from dbops.data.load import LoadedTable

app = typer.Typer()


class DumpFormat(str, Enum):
    json = "json"
    jsonl = "jsonl"


class LoadMode(str, Enum):
    insert = "insert"
    truncate = "truncate"
    upsert = "upsert"


@app.command("dump-data")
def dump_data_command(
    ctx: typer.Context,
    table: Annotated[
        Optional[list[str]], typer.Option("--table", "-t", help="Dump only this table (repeat).", metavar="TABLE")
    ] = None,
    exclude: Annotated[
        Optional[list[str]], typer.Option("--exclude", "-x", help="Leave out this table (repeat).", metavar="TABLE")
    ] = None,
    directory: Annotated[
        str,  # not Path, which would turn s3://bucket into s3:/bucket
        typer.Option(
            "--dir",
            "-d",
            help="Directory to write the dump to, or object storage: s3://bucket/prefix, gs://, az://, file://.",
            metavar="DIR",
        ),
    ] = "fixtures",
    file_format: Annotated[
        DumpFormat, typer.Option("--format", help="json (a JSON list per file) or jsonl.", case_sensitive=False)
    ] = DumpFormat.json,
    gzip: Annotated[bool, typer.Option("--gzip", help="Compress each table file (.gz).")] = False,
    all_tables: Annotated[
        bool, typer.Option("--all-tables", help="Also dump tables that have no model (reflect the database).")
    ] = False,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Rows fetched per round trip.", metavar="N")] = 2000,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs",
            "-j",
            help="Read N tables at once, each in its own connection, all from one snapshot (MariaDB/MySQL: "
            "needs the RELOAD privilege, else one reader; SQLite: always one reader). Same files whatever N.",
            min=1,
            metavar="N",
        ),
    ] = 1,
) -> None:
    """Dump tables to one file each plus manifest.json, streaming, from one consistent snapshot.

    Rows are ordered by primary key and encoded losslessly, with the manifest (table order, row counts,
    sha256, column types, sequence state, alembic revision). The dump is written beside --dir and replaces it
    only when complete: a failed or killed dump leaves the previous one as it was. On object storage the files
    are streamed up and the manifest, written last, commits the dump (credentials from AWS_* variables).

    Example: dbops dump-data --dir backup/2024-06-01 --gzip; dbops dump-data --dir s3://backups/shop --gzip
    """
    from dbops.cli.render import RichReporter, count
    from dbops.data.dump import dump_data

    state = get_state(ctx)
    reporter = RichReporter(quiet=state.quiet)
    result = dump_data(
        state.config(),
        directory=directory,
        tables=table or (),
        exclude=exclude or (),
        all_tables=all_tables,
        file_format=file_format.value,
        compress=gzip,
        batch_size=batch_size,
        jobs=jobs,
        reporter=reporter,
    )
    _print_tables(result.tables)
    reporter.info(f"Dumped {count(result.rows, 'row')} from {count(len(result.tables), 'table')} to {result.directory}")


def _complete_file_names(incomplete: str) -> list[str]:
    """Files and folders starting with ``incomplete`` (folders end in ``/``), as a shell would list them."""
    import os

    folder, _, prefix = incomplete.rpartition("/")
    base = folder + "/" if folder or incomplete.startswith("/") else ""
    try:
        entries = sorted(os.scandir(folder or ("/" if incomplete.startswith("/") else ".")), key=lambda e: e.name)
    except OSError:
        return []
    return [
        base + entry.name + ("/" if entry.is_dir() else "")
        for entry in entries
        if entry.name.startswith(prefix) and (prefix.startswith(".") or not entry.name.startswith("."))
    ]


@app.command("load-data")
def load_data_command(
    ctx: typer.Context,
    files: Annotated[
        Optional[list[str]],
        typer.Argument(
            help="Data files (<table>.json[.gz], .jsonl) or a manifest.json (also s3://bucket/prefix/manifest.json).",
            metavar="FILE...",
            # Text, not Path (pathlib folds the "//" of an s3:// URL), completed with the file names here.
            autocompletion=_complete_file_names,
        ),
    ] = None,
    directory: Annotated[
        Optional[str],
        typer.Option(
            "--dir",
            "-d",
            help="A dump directory, a folder of fixture files, or a dump on object storage (s3://bucket/prefix).",
            metavar="DIR",
        ),
    ] = None,
    table: Annotated[
        Optional[list[str]], typer.Option("--table", "-t", help="Load only this table (repeat).", metavar="TABLE")
    ] = None,
    mode: Annotated[
        LoadMode, typer.Option("--mode", help="insert, truncate (empty tables first) or upsert.", case_sensitive=False)
    ] = LoadMode.insert,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Rows written per batch.", metavar="N")] = 5000,
    batch_commit: Annotated[
        bool, typer.Option("--batch-commit", help="Commit after every batch (faster for huge loads; NOT atomic).")
    ] = False,
    disable_triggers: Annotated[
        bool,
        typer.Option(
            "--disable-triggers",
            help="PostgreSQL, superusers: fire no triggers (foreign keys are not checked either).",
        ),
    ] = False,
    require_same_revision: Annotated[
        bool,
        typer.Option(
            "--require-same-revision", help="Refuse a dump taken at another Alembic revision (default: warn)."
        ),
    ] = False,
    max_row_size: Annotated[
        int,
        typer.Option("--max-row-size", help="Largest row (one line of a file) to read, in MB.", min=1, metavar="MB"),
    ] = 64,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs",
            "-j",
            help="Load N tables of the same foreign-key level at once, a transaction each: into empty tables "
            "only, and a failure empties them again (not one transaction; SQLite: always one writer).",
            min=1,
            metavar="N",
        ),
    ] = 1,
) -> None:
    """Load a dump or fixture files in foreign-key order, in one transaction.

    A dump's checksums, row counts and Alembic revision are checked before anything is written; any bad row
    rolls the whole load back. Without --dir or files, loads ./fixtures. With --jobs N (PostgreSQL,
    MariaDB/MySQL) tables load N at a time, a transaction each: into empty tables only, and any failure
    empties every loaded table again.

    Example: dbops load-data --dir backup/2024-06-01 --mode truncate
    """
    from dbops.cli.render import RichReporter, count
    from dbops.data.load import load_data

    state = get_state(ctx)
    reporter = RichReporter(quiet=state.quiet)
    result = load_data(
        state.config(),
        directory=directory,
        files=files or (),
        tables=table or (),
        mode=mode.value,
        batch_size=batch_size,
        batch_commit=batch_commit,
        disable_triggers=disable_triggers,
        require_same_revision=require_same_revision,
        max_row_bytes=max_row_size << 20,
        jobs=jobs,
        reporter=reporter,
    )
    _print_tables(result.tables)
    reporter.info(f"Loaded {count(result.rows, 'row')} into {count(len(result.tables), 'table')} ({result.mode})")


@app.command("drop-all")
def drop_all_command(
    ctx: typer.Context,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be dropped; change nothing.")] = False,
    yes: YesOption = False,
    include_unknown: Annotated[
        bool, typer.Option("--include-unknown", help="Also drop tables the models don't know.")
    ] = False,
) -> None:
    """Drop the config's tables, its alembic version table and (PostgreSQL) enum types.

    Tables go in reverse foreign-key order. Tables the models don't know are listed and left alone unless
    --include-unknown. Asks first unless --yes; refuses without --yes when stdin is not a terminal.

    Example: dbops --bind-key analytics drop-all --dry-run
    """
    from dbops.cli.render import RichReporter, confirm_or_refuse, count
    from dbops.data.drop import drop_all

    state = get_state(ctx)
    reporter = RichReporter(quiet=state.quiet)

    def ask(plan: DropPlan) -> bool:
        _show_plan(plan)
        tables = count(len(plan.tables), "table")
        return confirm_or_refuse(
            f"Drop {tables} from {plan.database}?", yes=yes, refusal=f"drop-all drops {tables} from {plan.database}"
        )

    plan = drop_all(state.config(), dry_run=dry_run, include_unknown=include_unknown, confirm=ask, reporter=reporter)
    if dry_run or plan.empty:
        _show_plan(plan)
        if plan.empty:
            reporter.info(f"Nothing to drop in {plan.database}.")
        return
    if not plan.dropped:
        raise typer.Abort()
    reporter.info(
        f"Dropped {count(len(plan.tables), 'table')}"
        + (f" and {count(len(plan.enum_types), 'enum type')}" if plan.enum_types else "")
        + f" from {plan.database}."
    )


def _print_tables(tables: Sequence[DumpedTable | LoadedTable]) -> None:
    """One ``name<TAB>rows<TAB>file`` line per table on stdout (control characters in names escaped)."""
    for item in tables:
        sys.stdout.write(f"{_field(item.name)}\t{item.rows}\t{_field(str(item.file))}\n")
    sys.stdout.flush()


def _field(text: str) -> str:
    return "".join(repr(char)[1:-1] if not char.isprintable() else char for char in text)


def _show_plan(plan: DropPlan) -> None:
    """The plan on stdout, one ``kind<TAB>name`` line each (``keep`` for unknown tables left alone)."""
    for name in plan.tables:
        kind = "version-table" if name == plan.version_table else "table"
        sys.stdout.write(f"drop\t{kind}\t{name}\n")
    for name in plan.enum_types:
        sys.stdout.write(f"drop\tenum\t{name}\n")
    if not plan.include_unknown:
        for name in plan.unknown:
            sys.stdout.write(f"keep\tunknown-table\t{name}\n")
    sys.stdout.flush()
