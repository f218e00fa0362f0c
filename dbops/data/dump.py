"""``dump_data``: stream every table to one file each plus ``manifest.json``, from one consistent snapshot.

Rows are read with a server-side cursor in batches of ``batch_size`` (memory does not grow with the table),
ordered by primary key, encoded by ``dbops.data.codec`` and written through ``AtomicWriter`` into a staging
directory beside the target, which replaces the target only once the manifest is written: a dump that fails
or is killed leaves the previous dump as it was. On object storage (``--dir s3://bucket/prefix``) the files
are streamed up and the manifest, written last, is the commit point (``dbops.data.objects``). Generated columns
are left out (the database recomputes them); sequence and auto-increment state goes in the manifest
(``dbops.data.counters``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from dbops.data.codec import (
    NATIVE_KINDS,
    SQLITE_AS_STORED,
    column_codec,
    encode_json_text,
    is_plain,
    stored_column,
)
from dbops.data.counters import read_counters
from dbops.data.files import data_file_name, dump_destination, open_writer
from dbops.data.manifest import MANIFEST_NAME, ColumnInfo, Manifest, TableEntry
from dbops.data.server_rows import ServerRowsError, mariadb_rows, out_of_range_value, server_rows
from dbops.data.tables import (
    alembic_revision,
    export_snapshot,
    find_tables,
    ledger_table_name,
    psycopg_connection,
    read_transaction,
    references,
    table_label,
    version_table_name,
)
from dbops.errors import DataError
from dbops.progress import NullReporter, Reporter

if TYPE_CHECKING:
    from sqlalchemy import Connection, Table

    from dbops.config import AnyConfig
    from dbops.data.catalog import Catalog
    from dbops.data.objects import DumpLocation, ObjectFile, ObjectFolder
    from dbops.data.parallel import WorkerPool

__all__ = ["DumpResult", "DumpedTable", "dump_data"]

FORMATS = ("json", "jsonl")


@dataclass
class DumpedTable:
    name: str
    file: Path | ObjectFile
    rows: int


@dataclass
class DumpResult:
    directory: Path | DumpLocation
    manifest: Path | ObjectFile
    tables: list[DumpedTable] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Tables in the database without a model (dump them with ``all_tables=True``)."""
    alembic_revision: str | None = None

    @property
    def rows(self) -> int:
        return sum(table.rows for table in self.tables)


def dump_data(
    config: AnyConfig,
    *,
    directory: Path | str = "fixtures",
    tables: Sequence[str] = (),
    exclude: Sequence[str] = (),
    all_tables: bool = False,
    file_format: str = "json",
    compress: bool = False,
    batch_size: int = 2000,  # measured: smaller batches stay in CPU cache; 2000 beat 5000 by ~20%
    raw_cursor: bool = True,
    jobs: int = 1,
    reporter: Reporter | None = None,
) -> DumpResult:
    """Dump the config's tables (its models', or every table with ``all_tables``) into ``directory``.

    The dump is written beside ``directory`` and swapped in whole when complete (``files.StagedDirectory``):
    until then, and whenever the dump fails, ``directory`` is exactly as it was. A URL (``s3://bucket/prefix``,
    ``gs://``, ``az://``, ``file://``) dumps to object storage, committed by its manifest (``dbops.data.objects``).

    ``jobs``: tables are read by that many connections at once, all from one snapshot (``_shared_snapshot``);
    the files are the same whatever ``jobs``. SQLite has one reader whatever ``jobs``.
    """
    from dbops import __version__
    from dbops.connect import dialect_name, run_sync

    if file_format not in FORMATS:
        raise DataError(f"unknown format {file_format!r} (use json or jsonl)")
    if batch_size < 1:
        raise DataError("--batch-size must be at least 1")
    if jobs < 1:
        raise DataError("--jobs must be at least 1")
    reporter = reporter or NullReporter()
    staged = dump_destination(directory)
    target = staged.location
    staged.clean_leftovers()
    staged.check_target()
    dialect = dialect_name(config)
    from dbops.models import model_metadata

    metadata = model_metadata(config)
    version_table = version_table_name(config)

    def work(connection: Connection) -> DumpResult:
        with _shared_snapshot(config, connection, dialect, jobs, reporter) as pool:
            found = find_tables(
                connection,
                metadata,
                version_table=version_table,
                ledger_table=ledger_table_name(config),
                include=tables,
                exclude=exclude,
                reflect_unknown=all_tables,
            )
            if not found.tables:
                raise DataError(
                    f"no tables to dump in {config.describe()}"
                    + (" (the models have none; use --all-tables to reflect the database)" if found.unknown else "")
                )
            if found.unknown and not tables:
                reporter.warn(
                    f"{len(found.unknown)} table(s) have no model and are not dumped: "
                    f"{', '.join(found.unknown)} (use --all-tables)"
                )
            for name in found.missing:
                reporter.warn(f"table {name} (from the models) is not in the database; skipped")
            revision = alembic_revision(connection, found.version_table)
            counters = read_counters(connection, dialect, found.tables, found.catalog.unit, reporter.warn)
            result = DumpResult(target, target / MANIFEST_NAME, skipped=found.unknown, alembic_revision=revision)
            taken: set[str] = set()
            with staged as folder:
                table_reporter = pool.reporter(reporter) if pool is not None else reporter

                def task(table: Table, file_name: str) -> Callable[[Connection], TableEntry]:
                    def dump_one(reader: Connection) -> TableEntry:
                        with _write_errors(target):
                            return _dump_table(
                                reader,
                                table,
                                folder,
                                file_name=file_name,
                                dialect=dialect,
                                catalog=found.catalog,
                                model_less=table_label(table) in found.reflected,
                                compress=compress,
                                batch_size=batch_size,
                                raw=raw_cursor,
                                reporter=table_reporter,
                            )

                    return dump_one

                tasks = [
                    task(table, data_file_name(table_label(table), file_format, compress=compress, taken=taken))
                    for table in found.tables
                ]
                if pool is None:
                    entries = [dump_one(connection) for dump_one in tasks]
                else:  # the largest tables first, so that no reader starts a big one last; entries in table order
                    order = _largest_first(connection, dialect, found.tables)
                    dumped = dict(zip(order, pool.run([tasks[index] for index in order]), strict=True))
                    entries = [dumped[index] for index in range(len(tasks))]
                for entry in entries:
                    result.tables.append(DumpedTable(entry.name, target / entry.file, entry.rows))
                manifest = Manifest(
                    dbops_version=__version__,
                    dialect=dialect,
                    created_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                    alembic_revision=revision,
                    bind_key=config.bind_key,
                    tables=entries,
                    counters=counters,
                )
                with _write_errors(target):
                    staged.commit(manifest)
        return result

    return run_sync(config, work)


@contextlib.contextmanager
def _shared_snapshot(
    config: AnyConfig, connection: Connection, dialect: str, jobs: int, reporter: Reporter
) -> Iterator[WorkerPool | None]:
    """The coordinator's read transaction, and (``jobs`` > 1) a pool of readers that see the same snapshot.

    PostgreSQL: the coordinator exports its snapshot and each reader imports it (``SET TRANSACTION
    SNAPSHOT``): the same rows to the byte, whatever commits meanwhile. MariaDB/MySQL can't share a snapshot;
    as mydumper does, the coordinator holds ``FLUSH TABLES WITH READ LOCK`` (no commit anywhere) while it and
    every reader start ``WITH CONSISTENT SNAPSHOT``, so all snapshots are of the same moment, then unlocks.
    That lock needs the RELOAD privilege: without it, one reader (a warning says so). SQLite: one reader.
    Yields None when there is one reader (the coordinator's connection reads everything).
    """
    from dbops.data.parallel import WorkerPool

    locked = False
    if jobs > 1 and dialect in ("mysql", "mariadb"):
        locked = _global_read_lock(connection, reporter.warn)
    parallel = jobs > 1 and (dialect == "postgresql" or locked)
    try:
        with read_transaction(connection, dialect):
            if not parallel:
                yield None
                return
            snapshot = export_snapshot(connection) if dialect == "postgresql" else None
            reporter.info(f"Reading with {jobs} connections from one snapshot")
            pool = WorkerPool(
                config, jobs, session=lambda reader: read_transaction(reader, dialect, snapshot=snapshot), name="dump"
            )
            with pool:  # every reader has its snapshot now
                if locked:
                    locked = False
                    connection.exec_driver_sql("UNLOCK TABLES")
                yield pool
    finally:
        if locked:  # a reader failed to start
            with contextlib.suppress(Exception):  # a dead connection holds no lock
                connection.exec_driver_sql("UNLOCK TABLES")


def _largest_first(connection: Connection, dialect: str, tables: Sequence[Table]) -> list[int]:
    """Indexes of ``tables``, the largest first by the server's row estimate (statistics, not a count)."""
    from sqlalchemy import text

    preparer = connection.dialect.identifier_preparer
    estimates: list[float] = []
    for table in tables:
        if dialect == "postgresql":
            query = text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:name)")
            estimate = connection.execute(query, {"name": preparer.format_table(table)}).scalar()
        elif dialect in ("mysql", "mariadb"):
            query = text(
                "SELECT TABLE_ROWS FROM information_schema.TABLES "
                "WHERE TABLE_SCHEMA = COALESCE(:schema, DATABASE()) AND TABLE_NAME = :name"
            )
            estimate = connection.execute(query, {"schema": table.schema, "name": table.name}).scalar()
        else:
            estimate = None
        estimates.append(float(estimate or 0))
    return sorted(range(len(tables)), key=lambda index: -estimates[index])


READ_LOCK_WAIT = 10
"""Seconds ``FLUSH TABLES WITH READ LOCK`` may wait for the tables (every writer waits behind it meanwhile)."""


def _global_read_lock(connection: Connection, warn: Callable[[str], None]) -> bool:
    """``FLUSH TABLES WITH READ LOCK`` (MariaDB/MySQL), or False and a warning if it's not allowed (no RELOAD
    privilege) or can't be had within ``READ_LOCK_WAIT`` seconds (a long statement or a ``LOCK TABLES``
    elsewhere holds a table: while the lock waits for it, every writer of the server waits too)."""
    from sqlalchemy.exc import DBAPIError

    from dbops.violations import driver_message

    if connection.in_transaction():
        connection.rollback()
    previous = int(connection.exec_driver_sql("SELECT @@SESSION.lock_wait_timeout").scalar_one())
    connection.exec_driver_sql(f"SET SESSION lock_wait_timeout = {int(READ_LOCK_WAIT)}")
    try:
        connection.exec_driver_sql("FLUSH TABLES WITH READ LOCK")
    except DBAPIError as error:
        orig = error.orig if error.orig is not None else error
        message = driver_message(orig)
        code = orig.args[0] if orig.args and isinstance(orig.args[0], int) else None
        if code == 1205:  # ER_LOCK_WAIT_TIMEOUT
            reason = f"could not have FLUSH TABLES WITH READ LOCK within {READ_LOCK_WAIT} s ({message})"
        elif "RELOAD" in message or "denied" in message.lower():
            reason = "this user may not run FLUSH TABLES WITH READ LOCK (it needs the RELOAD privilege)"
        else:
            raise
        connection.rollback()
        warn(f"--jobs: {reason}, which parallel readers need to start from one moment; dumping with one reader")
        return False
    finally:
        if not connection.invalidated:
            connection.exec_driver_sql(f"SET SESSION lock_wait_timeout = {previous}")
    return True


@contextlib.contextmanager
def _write_errors(directory: Path | DumpLocation) -> Iterator[None]:
    """A failed file write (disk full, permissions) as a DataError naming ``directory``.

    Without this an OSError would reach the connection layer, which reads it as a refused connection.
    """
    try:
        yield
    except OSError as error:
        raise DataError(f"cannot write the dump in {directory}: {error.strerror or error}") from error


def _type_name(table: Table, name: str, connection: Connection) -> str:
    try:
        return str(table.c[name].type.compile(dialect=connection.dialect))
    except Exception:  # a type the dialect can't render: fall back to its Python name
        return type(table.c[name].type).__name__


def _dump_table(
    connection: Connection,
    table: Table,
    directory: Path | ObjectFolder,
    *,
    file_name: str,
    dialect: str,
    catalog: Catalog,
    model_less: bool,
    compress: bool,
    batch_size: int,
    raw: bool,
    reporter: Reporter,
) -> TableEntry:
    from sqlalchemy import Text, cast, func, select, type_coerce
    from sqlalchemy.types import NullType

    label = table_label(table)
    generated = catalog.column_facts(connection, table).generated
    columns = [column for column in table.columns if column.key not in generated]  # the database recomputes them
    as_stored = dialect == "sqlite" and model_less
    codecs = [column_codec(column, dialect=dialect, as_stored=as_stored) for column in columns]
    selected: list[Any] = []
    encoders: list[Callable[[Any], Any] | None] = []
    for column, codec in zip(columns, codecs, strict=True):
        if codec.kind == "json":
            # Read as text: the driver would return None for SQL NULL and JSON null alike. On SQLite, read as
            # stored instead: a JSON column has numeric affinity, so a JSON number is kept as a REAL, and
            # CAST(... AS TEXT) would print it with 15 digits (0.30000000000000004 → 0.3).
            stored: Any = type_coerce(column, NullType()) if dialect == "sqlite" else cast(column, Text)
            selected.append(stored.label(column.key))
            encoders.append(encode_json_text)
        elif dialect == "postgresql" and is_plain(column) and _text_is_canonical(column, codec.kind):
            # PostgreSQL's text form of these is exactly the codec's: skip building uuid.UUID / Decimal objects
            selected.append(cast(column, Text).label(column.key))
            encoders.append(None)
        elif as_stored and codec.kind in SQLITE_AS_STORED:
            selected.append(type_coerce(column, NullType()).label(column.key))
            encoders.append(codec.encode)
        else:
            selected.append(stored_column(column))
            native = codec.kind in NATIVE_KINDS and is_plain(column)
            encoders.append(None if native else codec.encode)
    order = list(table.primary_key.columns) or [
        column for column, codec in zip(columns, codecs, strict=True) if codec.kind not in ("json", "array", "other")
    ]
    only = catalog.only(label)  # an INHERITS parent: its own rows, not its children's too
    statement = select(*selected).select_from(table).order_by(*order)
    counting = select(func.count()).select_from(table)
    if only:
        statement = statement.with_hint(table, "ONLY", "postgresql")
        counting = counting.with_hint(table, "ONLY", "postgresql")
    total = connection.execute(counting).scalar_one()
    encode_row = _row_encoder([codec.name for codec in codecs], encoders)
    jsonl = file_name.endswith((".jsonl", ".jsonl.gz"))
    rows = 0
    with (
        reporter.progress(f"dump {label}", total) as task,
        open_writer(directory, file_name, compress=compress) as out,
    ):
        if not jsonl:
            out.write(b"[\n")
        # closed on any error here, so an unfinished server-side read is cancelled before the rollback
        chunks = contextlib.closing(
            _chunks(connection, table, columns, codecs, order, statement, encode_row, batch_size, raw=raw, only=only)
        )
        with chunks as stream:
            for chunk, count in stream:
                # chunk: ``count`` lines, each ending in a newline (none inside: JSON escapes it)
                if not jsonl:
                    out.write((b",\n" if rows else b"") + chunk[:-1].replace(b"\n", b",\n"))
                else:
                    out.write(chunk)
                rows += count
                task.advance(count)
        if not jsonl:
            out.write(b"\n]\n" if rows else b"]\n")
    return TableEntry(
        name=label,
        file=file_name,
        rows=rows,
        sha256=out.sha256,
        primary_key=[column.key for column in table.primary_key.columns],
        depends_on=sorted(references(table, catalog)),
        columns=[
            ColumnInfo(codec.name, _type_name(table, codec.name, connection), codec.kind, bool(column.nullable))
            for codec, column in zip(codecs, columns, strict=True)
        ],
    )


def _chunks(
    connection: Connection,
    table: Table,
    columns: list[Any],
    codecs: list[Any],
    order: list[Any],
    statement: Any,
    encode_row: Callable[[Any], dict[str, Any]],
    batch_size: int,
    *,
    raw: bool,
    only: bool,
) -> Generator[tuple[bytes, int], None, None]:
    """The table's dump lines in batches: formatted by PostgreSQL or MariaDB where they can, else encoded here."""
    driver = psycopg_connection(connection) if raw else None
    server = server_rows(table, columns, codecs, order, connection.dialect, only=only) if driver is not None else None
    maria = mariadb_rows(table, columns, codecs, order, connection.dialect) if raw and server is None else None
    if maria is not None:
        try:
            yield from maria.batches(connection, batch_size)
        except ServerRowsError as error:
            raise DataError(f"cannot dump {table_label(table)}: {error}") from None
        return
    if server is not None:
        try:
            yield from server.batches(driver, batch_size)
        except ServerRowsError as error:
            value = out_of_range_value(str(error))
            if value is None:
                raise DataError(f"cannot dump {table_label(table)}: {error}") from None
            raise DataError(
                f"cannot dump {table_label(table)}: a date or timestamp {value!r} is outside the years 1-9999"
            ) from None
        return
    for partition in _stream(connection, statement, batch_size, raw=raw and _raw_ok(columns, codecs)):
        lines = [orjson.dumps(encode_row(row), default=str) for row in partition]
        yield b"\n".join(lines) + b"\n", len(lines)


def _text_is_canonical(column: Any, kind: str) -> bool:
    """uuid, and numeric read as text (fixed-point, ``NaN``/``Infinity``) equal the codec's strings."""
    return kind == "uuid" or (kind == "decimal" and bool(getattr(column.type, "asdecimal", False)))


def _raw_ok(columns: list[Any], codecs: list[Any]) -> bool:
    """Whether the driver's own values are what SQLAlchemy would give (no TypeDecorators, no arrays of enums)."""
    return all(is_plain(column) for column in columns) and all(codec.kind not in ("array", "other") for codec in codecs)


def _stream(connection: Connection, statement: Any, batch_size: int, *, raw: bool) -> Iterator[Sequence[Any]]:
    """Batches of rows from a server-side cursor.

    With psycopg 3 (sync) and ``raw``, straight from a named psycopg cursor: SQLAlchemy's row objects cost about
    a third of a dump's CPU, and for tables without TypeDecorators its result processing changes nothing we
    keep (enums come back as their database strings, which is what the codec writes anyway).
    """
    driver = psycopg_connection(connection) if raw else None
    if driver is None:
        result = connection.execution_options(stream_results=True, yield_per=batch_size).execute(statement)
        yield from result.partitions()
        return
    compiled = statement.compile(dialect=connection.dialect)
    with driver.cursor(name=f"dbops_dump_{id(statement):x}") as cursor:
        cursor.itersize = batch_size
        cursor.execute(str(compiled), compiled.params)
        while rows := cursor.fetchmany(batch_size):
            yield rows


def _row_encoder(names: list[str], encoders: list[Callable[[Any], Any] | None]) -> Callable[[Any], dict[str, Any]]:
    """A function turning a result row into the dict orjson writes, generated for the table's columns.

    Generated (instead of a loop over columns) because it runs once per row of every table: unrolled, it is
    about twice as fast.
    """
    values = ", ".join(f"v{index}" for index in range(len(names)))
    items = ", ".join(
        f"{name!r}: v{index}" if encoder is None else f"{name!r}: None if v{index} is None else e{index}(v{index})"
        for index, (name, encoder) in enumerate(zip(names, encoders, strict=True))
    )
    source = f"def encode(row):\n    ({values},) = row\n    return {{{items}}}\n"
    namespace: dict[str, Any] = {f"e{index}": encoder for index, encoder in enumerate(encoders)}
    exec(compile(source, "<dbops row encoder>", "exec"), namespace)
    encode: Callable[[Any], dict[str, Any]] = namespace["encode"]
    return encode
