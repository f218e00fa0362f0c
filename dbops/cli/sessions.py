"""``dbops sessions``: clean up expired server-side sessions (for cron) and show what the tables hold."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from dbops.cli.app import show_help_without_command
from dbops.cli.options import FormatOption, OutputFormat, duration
from dbops.cli.state import get_state

if TYPE_CHECKING:
    from dbops.config import AnyConfig
    from dbops.sessions.cleanup import SessionTable

app = typer.Typer(
    help="Server-side sessions: clean up expired ones, show counts.",
    invoke_without_command=True,
    callback=show_help_without_command,
)

EXIT_INCOMPLETE = 75
"""``--max-seconds`` ran out with expired rows left (sysexits' EX_TEMPFAIL: the next run continues)."""

TableOption = Annotated[
    list[str] | None,
    typer.Option("--table", "-t", help="A session table (schema.name allowed); repeat for several.", metavar="NAME"),
]
UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        help="Use only this database URL (no app import); finds tables with session_id, data, expires_at.",
        metavar="URL",
    ),
]


def _targets(
    ctx: typer.Context, url: str | None, table: list[str] | None
) -> list[tuple[AnyConfig, list[SessionTable] | None]]:
    """(config, tables) pairs: ``None`` tables means find them in the database by shape."""
    from dbops.sessions.cleanup import SessionTable, model_session_tables

    names = [SessionTable.parse(name) for name in table] if table else None
    if url is not None:
        return [(_config_from_url(url), names)]
    state = get_state(ctx)
    if names is not None or state.bind_key is not None or len(state.configs()) == 1:
        config = state.config()
        return [(config, names if names is not None else model_session_tables(config))]
    pairs: list[tuple[AnyConfig, list[SessionTable] | None]] = []
    for config in state.configs():
        found = model_session_tables(config)
        if found:
            pairs.append((config, found))
    if not pairs:
        from dbops.errors import SessionsError

        raise SessionsError("the models of the configs define no session table; pass --table NAME")
    return pairs


# A URL without a driver (mysql://, postgresql://) means SQLAlchemy's default driver, which dbops' extras don't
# install (mysqlclient, psycopg2): an ops box typing a plain URL gets the driver the extra did install.
_DEFAULT_DRIVERS = {"mysql": "pymysql", "mariadb": "pymysql", "postgresql": "psycopg"}


def _config_from_url(url: str) -> AnyConfig:
    from sqlalchemy.exc import NoSuchModuleError

    from dbops.config import SQLAlchemyAsyncConfig, SQLAlchemySyncConfig
    from dbops.errors import ConfigError
    from dbops.urls import mask_url, parse_url

    try:
        parsed = parse_url(url)
        driver = _DEFAULT_DRIVERS.get(parsed.drivername)
        if driver is not None:
            parsed = parsed.set(drivername=f"{parsed.drivername}+{driver}")
            url = parsed.render_as_string(hide_password=False)
        is_async = bool(parsed.get_dialect().is_async)
    except ConfigError as error:
        raise ConfigError(f"bad --url: {error}") from error
    except NoSuchModuleError as error:
        raise ConfigError(f"bad --url {mask_url(url)}: {error}") from error
    return SQLAlchemyAsyncConfig(connection_string=url) if is_async else SQLAlchemySyncConfig(connection_string=url)


@app.command("cleanup")
def cleanup_command(
    ctx: typer.Context,
    table: TableOption = None,
    url: UrlOption = None,
    batch_size: Annotated[
        int,
        typer.Option("--batch-size", min=1, help="Rows per delete; each batch is its own transaction.", metavar="N"),
    ] = 5000,
    max_seconds: Annotated[
        float | None,
        typer.Option(
            "--max-seconds", min=0.001, help="Stop cleanly after this long; the next run continues.", metavar="SECONDS"
        ),
    ] = None,
    older_than: Annotated[
        datetime.timedelta | None,
        typer.Option(
            "--older-than",
            parser=duration,
            help="Keep sessions expired less than this long ago (90s, 30m, 1.5h, 2d, 1h30m).",
            metavar="DURATION",
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count the expired sessions, delete nothing.")] = False,
    output_format: FormatOption = OutputFormat.text,
) -> None:
    """Delete expired server-side sessions in short batches (safe to run from cron on several hosts).

    Session tables come from the configs' models (SessionModelMixin subclasses), from --table, or, with --url,
    from the database itself. No prompt: only sessions that no request can read any more are deleted.
    Exit codes: 0 done (or dry run), 75 --max-seconds ran out with expired rows left, 2 bad config, table
    or database.

    Example: dbops sessions cleanup --max-seconds 240 --older-than 1h --format json
    """
    import json
    import sys

    from dbops.cli.render import RichReporter
    from dbops.sessions.cleanup import CleanupResult, cleanup

    grace = older_than or datetime.timedelta(0)
    state = get_state(ctx)
    results: list[CleanupResult] = []
    for config, tables in _targets(ctx, url, table):
        results += cleanup(
            config,
            tables=tables,
            batch_size=batch_size,
            max_seconds=max_seconds,
            older_than=grace,
            dry_run=dry_run,
            missing_ok=not table and url is None,  # tables from the models: skip ones not migrated yet
            reporter=RichReporter(quiet=state.quiet),
        )
    for result in results:
        if output_format == "json":
            # One JSON object per line and table (JSON Lines): one table prints exactly one object.
            sys.stdout.write(json.dumps(result.to_dict()) + "\n")
        elif dry_run:
            sys.stdout.write(f"{result.table}: {result.remaining_expired} expired sessions would be deleted\n")
        else:
            sys.stdout.write(
                f"{result.table}: deleted {result.deleted} expired sessions in {result.seconds:.2f} s, "
                f"{result.remaining_expired} expired remain\n"
            )
    if not all(result.complete for result in results):
        if not state.quiet:
            sys.stderr.write("Stopped after --max-seconds; expired sessions remain (the next run continues).\n")
        raise typer.Exit(EXIT_INCOMPLETE)


@app.command("stats")
def stats_command(
    ctx: typer.Context,
    table: TableOption = None,
    url: UrlOption = None,
    output_format: FormatOption = OutputFormat.text,
) -> None:
    """Show live and expired session counts and the oldest expiry of each session table.

    Example: dbops sessions stats --format json
    """
    import sys

    from dbops.cli.render import RichReporter, print_json
    from dbops.sessions.cleanup import stats

    reporter = RichReporter(quiet=get_state(ctx).quiet)
    from_models = not table and url is None
    rows = [
        row
        for config, tables in _targets(ctx, url, table)
        for row in stats(config, tables=tables, missing_ok=from_models, reporter=reporter)
    ]
    if output_format == "json":
        print_json([row.to_dict() for row in rows])
        return
    width = max([len("table"), *(len(row.table) for row in rows)])
    sys.stdout.write(f"{'table':<{width}}  {'live':>10}  {'expired':>10}  oldest expiry\n")
    for row in rows:
        oldest = row.oldest_expiry.isoformat(timespec="seconds") if row.oldest_expiry else "-"
        sys.stdout.write(f"{row.table:<{width}}  {row.live:>10}  {row.expired:>10}  {oldest}\n")
