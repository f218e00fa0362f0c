"""The migration ledger: a row for every step ``upgrade`` / ``downgrade`` / ``stamp`` ran, kept in the database.

Off by default; ``alembic_config.migration_log=True`` turns it on (table ``migration_log_table``, default
``dbops_migration_log``, in the version table's schema). Each row says which revision ran, in which direction,
when and for how long, on which host, with which dbops, the sha256 of the revision file as it was then, and the
result (``applied``, ``failed``, ``interrupted``). ``history --applied`` shows it; ``verify --against-db``
compares the checksums of applied revisions with the files now (Flyway's checksum validation).

A step's row is written by Alembic's ``on_version_apply`` hook, which runs after the version table update and
before the step's transaction ends, on the same connection: on PostgreSQL (one transaction per step) and SQLite
(one for the whole run) the version table and the ledger are committed, or rolled back, together. MariaDB/MySQL
commit DDL as they run it: there the version update and the row are committed together after the step's DDL
(both are InnoDB DML), so a step whose DDL ran but whose version update didn't has no ``applied`` row either.
A step that fails or is interrupted is recorded afterwards, on a connection of its own (its own transaction
was rolled back), as ``failed`` / ``interrupted`` with the error's first line.

The hook is added to whatever env.py passes to ``context.configure`` (dbops' env.py, Advanced Alchemy's, one of
your own), so every environment records. Offline (``--sql``) nothing is recorded: the script runs elsewhere.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbops.errors import MigrationError, first_line
from dbops.migrations.revision_files import file_checksum

if TYPE_CHECKING:
    from sqlalchemy import Connection, Table

    from dbops.config import AnyConfig
    from dbops.progress import Reporter

__all__ = [
    "LedgerEntry",
    "LedgerRecorder",
    "ledger_table",
    "read_ledger",
    "strip_ledger_operations",
]

APPLIED, FAILED, INTERRUPTED = "applied", "failed", "interrupted"


@dataclass(frozen=True)
class LedgerEntry:
    """One recorded step."""

    id: int
    revision: str
    direction: str
    """``upgrade``, ``downgrade`` or ``stamp``."""
    from_revisions: tuple[str, ...]
    to_revisions: tuple[str, ...]
    message: str
    file: str | None
    """The revision file's name (the path on the machine that ran it varies; its name does not)."""
    checksum: str | None
    started_at: datetime
    finished_at: datetime
    duration_seconds: float
    host: str
    dbops_version: str
    result: str
    """``applied``, ``failed`` or ``interrupted``."""
    error: str | None = None

    @property
    def applies(self) -> bool:
        """After this step (if it was applied) its revision is applied: an upgrade, or a stamp up to it."""
        return self.result == APPLIED and self.revision in self.to_revisions

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat()
        data["finished_at"] = self.finished_at.isoformat()
        return data


def ledger_table(config: AnyConfig) -> Table:
    """The ledger's ``Table`` for ``config`` (its own MetaData: never part of the app's models)."""
    from sqlalchemy import Column, DateTime, Double, Integer, MetaData, String, Table, Text
    from sqlalchemy.dialects import mysql

    settings = config.alembic_config
    # MariaDB/MySQL DATETIME keeps no fraction of a second unless asked; timestamps are UTC, stored naive.
    moment = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
    return Table(
        settings.migration_log_table,
        MetaData(),
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("revision", String(255), nullable=False),
        Column("direction", String(16), nullable=False),
        Column("from_revisions", String(1024), nullable=False),
        Column("to_revisions", String(1024), nullable=False),
        Column("message", Text),
        Column("file", String(255)),
        Column("checksum", String(64)),
        Column("started_at", moment, nullable=False),
        Column("finished_at", moment, nullable=False),
        Column("duration_seconds", Double, nullable=False),
        Column("host", String(255), nullable=False),
        Column("dbops_version", String(64), nullable=False),
        Column("result", String(16), nullable=False),
        Column("error", Text),
        schema=settings.version_table_schema,
    )


def _utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _joined(revisions: tuple[str, ...]) -> str:
    return ",".join(revisions)


def _split(text: str | None) -> tuple[str, ...]:
    return tuple(part for part in (text or "").split(",") if part)


class LedgerRecorder:
    """Records the steps of one online run: hand it the steps (``track``) and Alembic's hook (``on_apply``)."""

    def __init__(self, config: AnyConfig) -> None:
        from dbops import __version__

        self.config = config
        self.table = ledger_table(config)
        self.host = socket.gethostname()
        self.version = __version__
        self._running: Any = None
        self._started: tuple[datetime, float] | None = None

    def ensure_table(self, connection: Connection) -> None:
        """Create the ledger if it doesn't exist (in the transaction the first step then runs in)."""
        self.table.create(connection, checkfirst=True)

    def track(self, steps: Iterator[Any]) -> Iterator[Any]:
        """Alembic's steps, passed on; each one's start is the moment Alembic asks for it."""
        for step in steps:
            self._running = step
            self._started = (_utc_now(), time.perf_counter())
            yield step
        self._running = None

    def on_apply(self, ctx: Any, step: Any, heads: Any, run_args: Any, **_: Any) -> None:
        """Alembic's ``on_version_apply`` callback: the step's row, on the step's own connection and transaction."""
        ctx.connection.execute(self.table.insert().values(**self._row(step, APPLIED, None)))
        self._running = None

    def record_failure(self, error: BaseException, reporter: Reporter) -> None:
        """The step that was running when ``error`` ended the run, on a connection of its own (best effort)."""
        import asyncio

        if self._running is None:
            return
        result = INTERRUPTED if isinstance(error, (KeyboardInterrupt, asyncio.CancelledError)) else FAILED
        row = self._row(self._running.info, result, first_line(error))
        self._running = None

        def write(connection: Connection) -> None:
            with connection.begin():
                self.table.create(connection, checkfirst=True)
                connection.execute(self.table.insert().values(**row))

        from dbops.connect import run_sync

        try:
            run_sync(self.config, write)
        except Exception as failure:  # the migration's own error is the one to report
            reporter.warn(
                f"could not record the {result} step of {row['revision']} in {self.table.name}: {first_line(failure)}"
            )

    def _row(self, info: Any, result: str, error: str | None) -> dict[str, Any]:
        started, clock = self._started or (_utc_now(), time.perf_counter())
        script = info.up_revision if info.up_revision_id is not None else None
        path = Path(script.path) if script is not None and script.path else None
        try:
            checksum = file_checksum(path.read_bytes()) if path is not None else None
        except OSError:
            checksum = None
        direction = "stamp" if info.is_stamp else ("upgrade" if info.is_upgrade else "downgrade")
        return {
            "revision": info.up_revision_id or "",
            "direction": direction,
            "from_revisions": _joined(info.source_revision_ids),
            "to_revisions": _joined(info.destination_revision_ids),
            "message": ((script.doc or "").strip() if script is not None else "") or None,
            "file": path.name if path is not None else None,
            "checksum": checksum,
            "started_at": started,
            "finished_at": _utc_now(),
            "duration_seconds": round(time.perf_counter() - clock, 6),
            "host": self.host,
            "dbops_version": self.version,
            "result": result,
            "error": error,
        }


def configure_hook(options: dict[str, Any], recorder: LedgerRecorder) -> dict[str, Any]:
    """``context.configure`` options with the recorder's hook after any ``on_version_apply`` env.py gave."""
    given = options.get("on_version_apply") or ()
    callbacks = tuple(given) if isinstance(given, (list, tuple)) else (given,)
    return {**options, "on_version_apply": (*callbacks, recorder.on_apply)}


def _require(config: AnyConfig) -> None:
    if not config.alembic_config.migration_log:
        raise MigrationError(
            f"the migration ledger is off for {config.describe()}: set alembic_config.migration_log=True "
            "(it records the steps of every later upgrade, downgrade and stamp)"
        )


def read_ledger(config: AnyConfig) -> list[LedgerEntry] | None:
    """Every recorded step, newest first; ``None`` when the ledger table doesn't exist (nothing ran with it yet)."""
    from sqlalchemy import inspect

    from dbops.connect import run_sync

    _require(config)
    table = ledger_table(config)

    def read(connection: Connection) -> list[LedgerEntry] | None:
        if not inspect(connection).has_table(table.name, schema=table.schema):
            return None
        rows = connection.execute(table.select().order_by(table.c.id.desc())).mappings().all()
        connection.rollback()
        return [_entry(row) for row in rows]

    from dbops.migrations.commands import _translate_errors

    with _translate_errors(config, "reading the migration ledger"):
        return run_sync(config, read)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def _entry(row: Any) -> LedgerEntry:
    return LedgerEntry(
        id=int(row["id"]),
        revision=row["revision"],
        direction=row["direction"],
        from_revisions=_split(row["from_revisions"]),
        to_revisions=_split(row["to_revisions"]),
        message=row["message"] or "",
        file=row["file"],
        checksum=row["checksum"],
        started_at=_aware(row["started_at"]),
        finished_at=_aware(row["finished_at"]),
        duration_seconds=float(row["duration_seconds"]),
        host=row["host"],
        dbops_version=row["dbops_version"],
        result=row["result"],
        error=row["error"],
    )


def applied_entries(entries: list[LedgerEntry]) -> dict[str, LedgerEntry]:
    """For each revision applied now (by the ledger's account), the step that applied it last."""
    latest: dict[str, LedgerEntry] = {}
    for entry in entries:  # newest first: the first applied row of a revision decides
        if entry.result == APPLIED and entry.revision not in latest:
            latest[entry.revision] = entry
    return {revision: entry for revision, entry in latest.items() if entry.applies}


def strip_ledger_operations(config: AnyConfig, scripts: list[Any]) -> None:
    """Drop autogenerate's operations on the ledger table: it is dbops', not the models' (like the version table).

    Also when the ledger is off: a table left from when it was on is no model's to drop."""
    name = config.alembic_config.migration_log_table
    schema = config.alembic_config.version_table_schema
    for script in scripts:
        for ops_list in (script.upgrade_ops_list, script.downgrade_ops_list):
            for ops in ops_list:
                ops.ops[:] = [
                    op
                    for op in ops.ops
                    if not (getattr(op, "table_name", None) == name and getattr(op, "schema", None) == schema)
                ]
