"""Delete expired server-side sessions in short batches, and report what the session tables hold.

Each batch is its own transaction of at most ``batch_size`` rows, so live traffic never waits long on a
cleanup; two cleanups at once (two cron hosts) split the work instead of deadlocking (see
``statements.batch_statements``). The expiry cutoff is read once, from the database's clock, when a table's cleanup
starts: sessions that expire while it runs are left for the next run, so every run has a fixed amount of work.
"""

from __future__ import annotations

import contextlib
import datetime
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dbops.errors import SessionsError, first_line
from dbops.progress import NullReporter, ProgressTask, Reporter

if TYPE_CHECKING:
    from sqlalchemy import Connection, Table
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.sql import Executable

    from dbops.config import AnyConfig

__all__ = [
    "SESSION_COLUMNS",
    "CleanupResult",
    "SessionTable",
    "TableStats",
    "cleanup",
    "model_session_tables",
    "stats",
]

SESSION_COLUMNS = frozenset({"session_id", "data", "expires_at"})
"""A table with these columns is a session table (what ``--url`` mode looks for)."""

_RETRIES = 5


@dataclass(frozen=True)
class SessionTable:
    """A session table by name (``schema.name`` when it is not in the default schema)."""

    name: str
    schema: str | None = None

    @classmethod
    def parse(cls, reference: str) -> SessionTable:
        schema, _, name = reference.rpartition(".")
        if not name:
            raise SessionsError(f"bad table name {reference!r}")
        return cls(name, schema or None)

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name


@dataclass
class CleanupResult:
    """What one table's cleanup did; ``complete`` is False when ``max_seconds`` ran out first."""

    table: str
    deleted: int
    remaining_expired: int
    seconds: float
    batches: int = 0
    complete: bool = True
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The ``--format json`` object: exactly the keys issue 5 names, so cron log parsers can rely on them
        (whether a run completed is the exit code's job: 75 when ``--max-seconds`` left work)."""
        return {
            "table": self.table,
            "deleted": self.deleted,
            "remaining_expired": self.remaining_expired,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class TableStats:
    table: str
    live: int
    expired: int
    oldest_expiry: datetime.datetime | None = field(default=None)

    def to_dict(self) -> dict[str, Any]:
        oldest = self.oldest_expiry.isoformat() if self.oldest_expiry else None
        return {"table": self.table, "live": self.live, "expired": self.expired, "oldest_expiry": oldest}


# -- finding the tables ---------------------------------------------------------------------------------


def model_session_tables(config: AnyConfig) -> list[SessionTable]:
    """The session tables a config's models define: ``SessionModelMixin`` subclasses, and any table of its
    metadata shaped like one (``session_id``, ``data``, ``expires_at``)."""
    from dbops.models import model_metadata
    from dbops.sessions.model import SessionModelMixin

    metadata = model_metadata(config)
    tables: dict[str, SessionTable] = {}

    def add(table: Table) -> None:
        found = SessionTable(table.name, table.schema)
        tables.setdefault(str(found), found)

    for table in metadata.sorted_tables:
        if set(table.columns.keys()) >= SESSION_COLUMNS:
            add(table)
    pending: list[type[Any]] = list(SessionModelMixin.__subclasses__())
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        model_table: Table | None = model.__dict__.get("__table__")
        # Session models live on dbops' metadata for their ``__bind_key__``; a config with its own metadata
        # still owns the session models of its bind key.
        same_bind = config.metadata is not None and getattr(model, "__bind_key__", None) == config.bind_key
        if model_table is not None and (model_table.metadata is metadata or same_bind):
            add(model_table)
    return sorted(tables.values(), key=str)


def _detect_session_tables(connection: Connection) -> list[SessionTable]:
    from sqlalchemy import inspect

    inspector = inspect(connection)
    return [
        SessionTable(name)
        for name in sorted(inspector.get_table_names())
        if {column["name"] for column in inspector.get_columns(name)} >= SESSION_COLUMNS
    ]


def _resolve(
    connection: Connection,
    config: AnyConfig,
    tables: Sequence[SessionTable] | None,
    missing_ok: bool,
    reporter: Reporter,
) -> list[SessionTable]:
    """The tables to act on, each checked to exist with an ``expires_at`` column."""
    try:
        return _inspect_tables(connection, config, tables, missing_ok, reporter)
    finally:
        connection.rollback()  # end the inspector's implicit transaction: each batch begins its own


def _inspect_tables(
    connection: Connection,
    config: AnyConfig,
    tables: Sequence[SessionTable] | None,
    missing_ok: bool,
    reporter: Reporter,
) -> list[SessionTable]:
    from sqlalchemy import inspect

    if tables is None:
        tables = _detect_session_tables(connection)
        if not tables:
            raise SessionsError(f"no session tables (with session_id, data, expires_at) in {config.describe()}")
        return list(tables)
    if not tables:
        detected = _without_models(connection, config, reporter)
        if detected:
            return detected
        raise SessionsError(
            f"the models of config {config.describe()} define no session table "
            "(no SessionModelMixin subclass imported); pass --table NAME"
        )
    found: list[SessionTable] = []
    missing: list[SessionTable] = []
    for table in tables:
        if _has_expires_at(connection, table):
            found.append(table)
            continue
        # The probe failed: ask the catalog (slower) which of the two things is wrong.
        exists = inspect(connection).has_table(table.name, schema=table.schema)
        connection.rollback()  # the inspector's implicit transaction; the next probe begins its own
        if exists:
            raise SessionsError(f"table {table} in {config.describe()} has no expires_at column")
        if not missing_ok:
            raise SessionsError(f"table {table} does not exist in {config.describe()}")
        missing.append(table)
    if missing and not found:
        names = ", ".join(map(str, missing))
        raise SessionsError(f"the session tables of the models ({names}) do not exist in {config.describe()}")
    for table in missing:
        reporter.warn(f"skipped session table {table}: it does not exist in {config.describe()} (not migrated yet?)")
    return found


def _without_models(connection: Connection, config: AnyConfig, reporter: Reporter) -> list[SessionTable]:
    """When the config resolved to no model tables at all (its models weren't imported) while the database
    holds tables: say so, and find the session tables by their columns, as ``--url`` does."""
    from sqlalchemy import inspect

    from dbops.models import model_metadata, no_models_message, tables_without_models

    unmodelled = tables_without_models(config, model_metadata(config), inspect(connection).get_table_names())
    if not unmodelled:
        return []
    detected = _detect_session_tables(connection)
    found = ", ".join(map(str, detected)) or "none"
    reporter.warn(no_models_message(config, unmodelled) + f"; session tables found by their columns: {found}")
    return detected


def _has_expires_at(connection: Connection, table: SessionTable) -> bool:
    """Whether ``SELECT expires_at FROM table`` compiles: one cheap query instead of two catalog reads."""
    from sqlalchemy import select
    from sqlalchemy.exc import DBAPIError

    try:
        with connection.begin():
            connection.execute(select(_table(table).c.expires_at).limit(0))
    except DBAPIError:
        return False
    return True


def _table(table: SessionTable) -> Table:
    from sqlalchemy import Column, MetaData, Table

    from dbops.types import DateTimeUTC

    return Table(table.name, MetaData(), Column("expires_at", DateTimeUTC()), schema=table.schema)


# -- cleanup ----------------------------------------------------------------------------------------------


def cleanup(
    config: AnyConfig,
    *,
    tables: Sequence[SessionTable] | None = None,
    batch_size: int = 5000,
    max_seconds: float | None = None,
    older_than: datetime.timedelta = datetime.timedelta(0),
    dry_run: bool = False,
    missing_ok: bool = False,
    reporter: Reporter | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> list[CleanupResult]:
    """Delete the sessions that expired before ``now - older_than`` from ``tables``, ``batch_size`` at a time.

    ``tables=None`` finds them in the database by shape (for ``--url`` mode); pass ``model_session_tables(config)``
    to use the models (with ``missing_ok=True``, tables that don't exist yet are skipped with a warning, as long
    as one exists). Stops between batches once ``max_seconds`` have passed (the result says
    ``complete=False``; the next run continues). ``dry_run`` only counts.
    """
    if batch_size < 1:
        raise SessionsError(f"batch size must be at least 1, got {batch_size}")
    if max_seconds is not None and max_seconds <= 0:
        raise SessionsError(f"max seconds must be positive, got {max_seconds}")
    if older_than < datetime.timedelta(0):
        raise SessionsError(f"older-than must not be negative, got {older_than}")
    reporter = reporter or NullReporter()
    deadline = None if max_seconds is None else clock() + max_seconds

    def work(connection: Connection) -> list[CleanupResult]:
        resolved = _resolve(connection, config, tables, missing_ok, reporter)
        if connection.dialect.name in ("mysql", "mariadb"):
            # No gap locks: a batch locks only the rows it deletes, never the range live inserts go into.
            connection.execution_options(isolation_level="READ COMMITTED")
        elif connection.dialect.name == "postgresql":
            # Every batch is one statement, so autocommit makes it its own transaction without the BEGIN and
            # COMMIT round trips (a third of a batch's client time, measured). The pool resets it on return.
            connection.execution_options(isolation_level="AUTOCOMMIT")
        with _relaxed_commits(connection):
            return [
                _clean_table(connection, table, batch_size, deadline, older_than, dry_run, reporter, clock)
                for table in resolved
            ]

    from dbops.connect import run_sync

    return run_sync(config, work)


@contextlib.contextmanager
def _relaxed_commits(connection: Connection) -> Iterator[None]:
    """On PostgreSQL, don't wait for the WAL flush at each batch's commit: a crash can at worst undo the last
    batches, and deleting expired sessions again is harmless. Reset before the connection goes back to a pool."""
    if connection.dialect.name != "postgresql":
        yield
        return
    from sqlalchemy import text

    with connection.begin():
        connection.execute(text("SET synchronous_commit = off"))
    try:
        yield
    finally:
        if not connection.invalidated:
            with connection.begin():
                connection.execute(text("RESET synchronous_commit"))


def _clean_table(
    connection: Connection,
    session_table: SessionTable,
    batch_size: int,
    deadline: float | None,
    older_than: datetime.timedelta,
    dry_run: bool,
    reporter: Reporter,
    clock: Callable[[], float],
) -> CleanupResult:
    from sqlalchemy import select

    from dbops.sessions.clock import utc_now_plus
    from dbops.sessions.statements import count_expired_statement

    started = clock()
    table = _table(session_table)
    with connection.begin():
        cutoff: datetime.datetime = connection.execute(select(utc_now_plus(-older_than.total_seconds()))).scalar_one()
    run = _Run(connection, session_table, batch_size, cutoff, deadline, clock)
    if not dry_run:
        with reporter.progress(f"Deleting expired sessions from {session_table}", None) as run.task:
            if connection.dialect.name != "postgresql":
                run.limited_batches()
            elif not run.server_loop():
                run.range_batches()
    with connection.begin():
        count = count_expired_statement(table, cutoff=cutoff, after=run.after)
        remaining = int(connection.execute(count).scalar_one())
    seconds = clock() - started
    return CleanupResult(str(session_table), run.deleted, remaining, seconds, run.batches, run.complete, dry_run)


class _Run:
    """One table's batched delete: the three ways to run the batches, and what they did."""

    def __init__(
        self,
        connection: Connection,
        session_table: SessionTable,
        batch_size: int,
        cutoff: datetime.datetime,
        deadline: float | None,
        clock: Callable[[], float],
    ) -> None:
        from dbops.sessions.statements import batch_statements, text_table_name

        self.connection = connection
        self.session_table = session_table
        self.batch_size = batch_size
        self.cutoff = cutoff
        self.deadline = deadline
        self.clock = clock
        self.quoted = text_table_name(connection.dialect, _table(session_table))
        self.statements = batch_statements(connection.dialect.name, quoted_table=self.quoted, batch_size=batch_size)
        self.task: ProgressTask | None = None  # the reporter's, while the batches run
        self.deleted = self.batches = 0
        self.complete = True
        self.after: datetime.datetime | None = None
        """Every expired row up to here is gone: the final count starts past it (dead index entries before it
        would make counting cost as much as the cleanup)."""

    def _time_left(self) -> float | None:
        return None if self.deadline is None else self.deadline - self.clock()

    def _done(self, rows: int, batches: int = 1) -> None:
        self.deleted += rows
        self.batches += batches
        if self.task is not None:
            self.task.advance(rows)

    def _batch(self, parameters: dict[str, Any]) -> int | None:
        """Run one batch, or return None (and leave the rest for the next run) when time is up."""
        left = self._time_left()
        if left is not None and left <= 0:
            self.complete = False
            return None
        count = _run_batch(self.connection, self.statements.delete, parameters, self.session_table)
        self._done(count)
        return count

    def limited_batches(self) -> None:
        """MariaDB/MySQL, SQLite: ``LIMIT``ed deletes; a short batch is the last (fewer than batch_size left)."""
        while (count := self._batch({"cutoff": self.cutoff})) is not None and count >= self.batch_size:
            pass

    def range_batches(self) -> None:
        """PostgreSQL, batches driven by the client: ranges between bounds found LOOKAHEAD at a time. A short
        batch (rows revived by a concurrent `set`, or deleted by another cleanup) is no sign of the end here; a
        short list of bounds is."""
        from dbops.sessions.statements import LOOKAHEAD, NO_LOWER_BOUND

        assert self.statements.bounds is not None
        lower = self.after or NO_LOWER_BOUND
        while True:
            bounds = _read_bounds(self.connection, self.statements.bounds, self.cutoff, lower, self.session_table)
            for upto in bounds:
                if self._batch({"cutoff": self.cutoff, "after": lower, "upto": upto}) is None:
                    return
                lower = self.after = upto
            if len(bounds) < LOOKAHEAD:
                # Fewer than batch_size expired rows are left past the last bound: one batch for them all.
                self._batch({"cutoff": self.cutoff, "after": lower, "upto": self.cutoff})
                return

    def server_loop(self) -> bool:
        """PostgreSQL, batches run by the server (``statements.server_loop_statement``), LOOKAHEAD per call. Returns
        False, having done nothing, when the server can't run the loop (no PL/pgSQL, or not allowed to use it;
        not PostgreSQL proper), so the client-side loop takes over; after a call that made no progress report
        (a pooler that hands each statement another server session), the client-side loop finishes the job."""
        import secrets

        from sqlalchemy.exc import DBAPIError

        from dbops.sessions.statements import (
            LOOKAHEAD,
            NO_LOWER_BOUND,
            from_microseconds,
            progress_statement,
            server_loop_statement,
        )

        failures = 0
        while True:
            left = self._time_left()
            if left is not None and left <= 0:
                self.complete = False
                return True
            call = secrets.token_hex(8)
            statement = server_loop_statement(
                self.quoted,
                batch_size=self.batch_size,
                cutoff=self.cutoff,
                after=self.after or NO_LOWER_BOUND,
                seconds=left,
                call=call,
            )
            error: DBAPIError | None = None
            try:
                with self.connection.begin():
                    self.connection.execute(statement)
            except DBAPIError as raised:
                error = raised
                if self.batches == 0 and _cannot_loop(raised):
                    return False
            with _translated(self.session_table), self.connection.begin():
                report = self.connection.execute(progress_statement()).scalar()
            parts = str(report or "").split(" ")
            reported = len(parts) == 4 and parts[0] == call  # else no batch of this call committed
            if reported:
                self._done(int(parts[1]), int(parts[2]))
                if parts[3] not in ("start", "end"):
                    self.after = from_microseconds(int(parts[3]))
            if error is not None:
                failures += 1
                if not _is_transient(error) or failures >= _RETRIES:
                    raise _failed(self.session_table, error) from error
                time.sleep(0.05 * failures)
                continue
            if not reported:
                return False  # the report got lost (a pooler?): the client-side loop needs no session state
            if parts[3] == "end":
                return True
            if int(parts[2]) < LOOKAHEAD:
                self.complete = False  # the server's clock said the time was up
                return True


# PostgreSQL errors that say "this server won't run the DO loop", not "this cleanup failed": no PL/pgSQL
# (undefined object), no right to use it, syntax or features a PostgreSQL-compatible server lacks, or a
# connection stuck in a transaction (invalid transaction termination).
_NO_SERVER_LOOP = frozenset({"42704", "42501", "42601", "0A000", "2D000", "42883"})


def _cannot_loop(error: DBAPIError) -> bool:
    code = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return code in _NO_SERVER_LOOP


def _read_bounds(
    connection: Connection,
    bounds: Executable,
    cutoff: datetime.datetime,
    after: datetime.datetime,
    session_table: SessionTable,
) -> list[datetime.datetime]:
    with _translated(session_table), connection.begin():
        return list(connection.execute(bounds, {"cutoff": cutoff, "after": after}).scalars())


def _run_batch(
    connection: Connection, delete: Executable, parameters: dict[str, Any], session_table: SessionTable
) -> int:
    """Run one batch in its own transaction, retrying a few times when the database reports a lock conflict."""
    from sqlalchemy.exc import DBAPIError

    for attempt in range(_RETRIES):
        try:
            with connection.begin():
                return int(connection.execute(delete, parameters).rowcount)
        except DBAPIError as error:
            if _is_transient(error) and attempt < _RETRIES - 1:
                time.sleep(0.05 * (attempt + 1))
                continue
            raise _failed(session_table, error) from error
    raise AssertionError("unreachable")  # pragma: no cover


@contextlib.contextmanager
def _translated(session_table: SessionTable) -> Iterator[None]:
    from sqlalchemy.exc import DBAPIError

    try:
        yield
    except DBAPIError as error:
        raise _failed(session_table, error) from error


def _failed(session_table: SessionTable, error: DBAPIError) -> SessionsError:
    detail = first_line(error)
    return SessionsError(f"cleaning up {session_table} failed: {detail}")


def _is_transient(error: Exception) -> bool:
    text = str(error).lower()
    return any(
        marker in text
        for marker in ("deadlock", "lock wait timeout", "database is locked", "could not serialize", "40p01")
    )


# -- stats ------------------------------------------------------------------------------------------------


def stats(
    config: AnyConfig,
    *,
    tables: Sequence[SessionTable] | None = None,
    missing_ok: bool = False,
    reporter: Reporter | None = None,
) -> list[TableStats]:
    """Live and expired row counts and the oldest expiry of each session table (by the database's clock)."""
    from sqlalchemy import case, func, select

    from dbops.connect import run_sync
    from dbops.sessions.clock import utc_now

    def work(connection: Connection) -> list[TableStats]:
        result = []
        for session_table in _resolve(connection, config, tables, missing_ok, reporter or NullReporter()):
            table = _table(session_table)
            expires = table.c.expires_at
            query = select(func.count(), func.sum(case((expires <= utc_now(), 1), else_=0)), func.min(expires))
            with connection.begin():
                total, expired, oldest = connection.execute(query.select_from(table)).one()
            expired = int(expired or 0)
            result.append(TableStats(str(session_table), int(total) - expired, expired, oldest))
        return result

    return run_sync(config, work)
