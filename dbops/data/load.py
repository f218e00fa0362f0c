"""``load_data``: load a dbops dump or Advanced Alchemy fixture files in foreign-key order, in one transaction.

Before anything is written, a dump's files are checked against its manifest (sha256 and row counts). Rows
are decoded by column type (``dbops.data.codec``) and written in batches: COPY on PostgreSQL with psycopg 3
when a file holds every column, batched ``executemany`` elsewhere (asyncpg and async psycopg included). Each
batch runs in a savepoint; when one fails, its rows are retried one by one to name the row and column, and
the whole load rolls back: the database is exactly as before (unless ``batch_commit`` was asked for).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from dbops.data.codec import JSON_NULL, ColumnCodec, column_codec
from dbops.data.files import file_digest, is_data_file, iter_rows, table_name_of
from dbops.data.manifest import MANIFEST_NAME, read_manifest
from dbops.data.tables import dependency_order, restart_transaction, table_label, write_transaction
from dbops.errors import DataError
from dbops.progress import NullReporter, Reporter

if TYPE_CHECKING:
    from sqlalchemy import Connection, Table
    from sqlalchemy.exc import DBAPIError

    from dbops.config import AnyConfig

__all__ = ["MODES", "LoadResult", "LoadedTable", "load_data"]

MODES = ("insert", "truncate", "upsert")


@dataclass
class LoadedTable:
    name: str
    file: Path
    rows: int


@dataclass
class LoadResult:
    mode: str
    from_manifest: bool
    tables: list[LoadedTable] = field(default_factory=list)
    copy_used: bool = False

    @property
    def rows(self) -> int:
        return sum(table.rows for table in self.tables)


@dataclass
class _Source:
    table: str
    path: Path
    rows: int | None = None
    sha256: str | None = None
    strict: bool = False


def load_data(
    config: AnyConfig,
    *,
    directory: Path | str | None = None,
    files: Sequence[Path | str] = (),
    tables: Sequence[str] = (),
    mode: str = "insert",
    batch_size: int = 5000,
    batch_commit: bool = False,
    use_copy: bool = True,
    reporter: Reporter | None = None,
) -> LoadResult:
    """Load ``directory`` (a dump with ``manifest.json``, or fixture files) or ``files`` into the database."""
    from dbops.connect import dialect_name, run_sync

    if mode not in MODES:
        raise DataError(f"unknown mode {mode!r} (use insert, truncate or upsert)")
    if batch_size < 1:
        raise DataError("--batch-size must be at least 1")
    reporter = reporter or NullReporter()
    sources, from_manifest = _collect_sources(directory, files)
    if tables:
        known = {source.table for source in sources}
        for name in tables:
            if name not in known:
                raise DataError(f"no data file for table {name!r} (have: {', '.join(sorted(known)) or 'none'})")
        sources = [source for source in sources if source.table in set(tables)]
    for source in sources:
        _verify(source)
    dialect = dialect_name(config)
    metadata = config.get_metadata()
    result = LoadResult(mode=mode, from_manifest=from_manifest)

    def work(connection: Connection) -> LoadResult:
        from sqlalchemy import MetaData, Table, inspect

        models = {table_label(table): table for table in metadata.sorted_tables}
        inspector = inspect(connection)
        present = set(inspector.get_table_names())
        reflected = MetaData()
        targets: dict[str, tuple[Table, _Source]] = {}
        for source in sources:
            table = models.get(source.table)
            if table is None and source.table in present:
                table = Table(source.table, reflected, autoload_with=connection)
            if table is None or (table.schema is None and table.name not in present):
                raise DataError(f"{source.path}: no table {source.table!r} in {config.describe()}")
            targets[table_label(table)] = (table, source)
        ordered = dependency_order(table for table, _ in targets.values())
        foreign_keys = _enforce_sqlite_foreign_keys(connection) if dialect == "sqlite" else None
        try:
            with write_transaction(connection, dialect):
                if mode == "truncate":
                    for table in reversed(ordered):
                        _empty(connection, table, dialect)
                loader = _TableLoader(connection, dialect, mode, batch_size, batch_commit, use_copy, reporter)
                for table in ordered:
                    source = targets[table_label(table)][1]
                    rows = loader.load(table, source)
                    result.tables.append(LoadedTable(table_label(table), source.path, rows))
                if dialect == "postgresql":
                    _reset_sequences(connection, ordered)
                result.copy_used = loader.copy_used
        finally:
            if foreign_keys is not None:
                connection.exec_driver_sql(f"PRAGMA foreign_keys={foreign_keys}")
                connection.commit()
        return result

    return run_sync(config, work)


# -- inputs ---------------------------------------------------------------------------------------------------


def _collect_sources(directory: Path | str | None, files: Sequence[Path | str]) -> tuple[list[_Source], bool]:
    paths = [Path(item) for item in files]
    if len(paths) == 1 and paths[0].name == MANIFEST_NAME:
        directory, paths = paths[0].parent, []
    if paths:
        if directory is not None:
            raise DataError("give either --dir or files, not both")
        for path in paths:
            if not path.is_file():
                raise DataError(f"{path}: no such file")
        return _unique([_Source(table_name_of(path), path) for path in paths]), False
    folder = Path(directory if directory is not None else "fixtures")
    if not folder.is_dir():
        raise DataError(f"{folder}: no such directory")
    manifest_path = folder / MANIFEST_NAME
    if manifest_path.exists():
        manifest = read_manifest(manifest_path)
        return [
            _Source(entry.name, folder / entry.file, entry.rows, entry.sha256, strict=True) for entry in manifest.tables
        ], True
    found = sorted(path for path in folder.iterdir() if path.is_file() and is_data_file(path))
    if not found:
        raise DataError(f"{folder}: no manifest.json and no data files (*.json, *.json.gz, *.jsonl, *.jsonl.gz)")
    return _unique([_Source(table_name_of(path), path) for path in found]), False


def _unique(sources: list[_Source]) -> list[_Source]:
    seen: dict[str, Path] = {}
    for source in sources:
        if source.table in seen:
            raise DataError(f"{source.path}: table {source.table!r} also comes from {seen[source.table]}")
        seen[source.table] = source.path
    return sources


def _verify(source: _Source) -> None:
    if not source.strict:
        return
    if not source.path.is_file():
        raise DataError(f"{source.path}: listed in the manifest but missing")
    digest, rows = file_digest(source.path)
    if digest != source.sha256:
        raise DataError(
            f"{source.path}: checksum mismatch (manifest sha256 {str(source.sha256)[:12]}…, file {digest[:12]}…); "
            "the file changed after the dump"
        )
    if rows != source.rows:
        raise DataError(f"{source.path}: {rows} rows, but the manifest says {source.rows}")


# -- writing ---------------------------------------------------------------------------------------------------


def _enforce_sqlite_foreign_keys(connection: Connection) -> int:
    """Turn SQLite's foreign-key checks on for the load (they are off by default); returns the old setting."""
    if connection.in_transaction():
        connection.rollback()
    old = int(connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one())
    connection.exec_driver_sql("PRAGMA foreign_keys=ON")
    connection.rollback()
    return old


def _empty(connection: Connection, table: Table, dialect: str) -> None:
    """DELETE every row (in the load's transaction, unlike TRUNCATE on MariaDB)."""
    what = f"cannot empty {table_label(table)}"
    self_references = {fk.parent for fk in table.foreign_keys if fk.column.table is table and fk.parent.nullable}
    if self_references and dialect in ("mysql", "mariadb"):
        # InnoDB checks foreign keys row by row, so a parent row can't go before its children in one DELETE.
        _run(connection, table.update().values({column.key: None for column in self_references}), what)
    _run(connection, table.delete(), what)


def _run(connection: Connection, statement: Any, what: str) -> None:
    from sqlalchemy.exc import DBAPIError

    try:
        connection.execute(statement)
    except DBAPIError as error:
        raise DataError(f"{what}: {_db_message(error)}") from error


def _db_message(error: DBAPIError) -> str:
    text = str(error.orig if error.orig is not None else error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _bind_table(table: Table) -> Table:
    """``table`` itself, or a copy whose JSON columns bind ``None`` as SQL NULL (JSON null is ``JSON.NULL``)."""
    from sqlalchemy import JSON, MetaData

    json_columns = [column for column in table.columns if isinstance(column.type, JSON)]
    if not json_columns:
        return table
    bound = table.to_metadata(MetaData())
    for column in json_columns:
        patched: Any = copy.copy(column.type)
        patched.none_as_null = True
        bound.c[column.key].type = patched
    return bound


class _TableLoader:
    def __init__(
        self,
        connection: Connection,
        dialect: str,
        mode: str,
        batch_size: int,
        batch_commit: bool,
        use_copy: bool,
        reporter: Reporter,
    ) -> None:
        self.connection = connection
        self.dialect = dialect
        self.mode = mode
        self.batch_size = batch_size
        self.batch_commit = batch_commit
        self.reporter = reporter
        self.psycopg = _psycopg_connection(connection) if use_copy and mode != "upsert" else None
        self.copy_used = False

    def load(self, table: Table, source: _Source) -> int:
        from sqlalchemy import JSON

        label = table_label(table)
        codecs: dict[str, ColumnCodec] = {
            column.key: column_codec(column, dialect=self.dialect) for column in table.columns
        }
        if self.mode == "upsert" and not table.primary_key.columns:
            raise DataError(f"{source.path}: table {label} has no primary key, which --mode upsert needs")
        decoders: dict[str, Callable[[Any], Any]] = {}
        for key, codec in codecs.items():
            decoders[key] = _json_decoder(codec.decode, JSON.NULL) if codec.kind == "json" else codec.decode
        all_keys = tuple(column.key for column in table.columns)
        copyable = self.psycopg is not None and _copyable(table, codecs)
        writer = _BatchWriter(self, table, source, all_keys if copyable else None, codecs)
        rows = 0
        batch: list[tuple[int, dict[str, Any]]] = []
        with self.reporter.progress(f"load {label}", source.rows) as task:
            for row_number, raw in iter_rows(source.path, strict=source.strict):
                decoded: dict[str, Any] = {}
                for key, value in raw.items():
                    decode = decoders.get(key)
                    if decode is None:
                        raise DataError(f"{source.path} row {row_number}, column {key!r}: no such column in {label}")
                    if value is None:
                        decoded[key] = None
                        continue
                    try:
                        decoded[key] = decode(value)
                    except (ValueError, TypeError, OverflowError) as error:
                        raise DataError(f"{source.path} row {row_number}, column {key!r}: {error}") from error
                batch.append((row_number, decoded))
                if len(batch) >= self.batch_size:
                    writer.write(batch)
                    rows += len(batch)
                    task.advance(len(batch))
                    batch = []
                    if self.batch_commit:
                        restart_transaction(self.connection, self.dialect)
            if batch:
                writer.write(batch)
                rows += len(batch)
                task.advance(len(batch))
        self.copy_used = self.copy_used or writer.copied
        return rows


def _json_decoder(decode: Callable[[Any], Any], json_null: Any) -> Callable[[Any], Any]:
    def wrapped(value: Any) -> Any:
        decoded = decode(value)
        return json_null if decoded is JSON_NULL else decoded

    return wrapped


def _psycopg_connection(connection: Connection) -> Any:
    """The psycopg 3 connection under a sync SQLAlchemy connection, for COPY (None for other drivers)."""
    try:
        import psycopg
    except ImportError:
        return None
    raw = connection.connection.dbapi_connection
    return raw if isinstance(raw, psycopg.Connection) else None


def _copyable(table: Table, codecs: dict[str, ColumnCodec]) -> bool:
    """COPY bypasses SQLAlchemy's bind processing: only for columns whose decoded values psycopg takes as-is."""
    from sqlalchemy import types

    for column in table.columns:
        if isinstance(column.type, types.TypeDecorator) or codecs[column.key].kind == "other":
            return False
    return True


class _BatchWriter:
    def __init__(
        self,
        loader: _TableLoader,
        table: Table,
        source: _Source,
        copy_keys: tuple[str, ...] | None,
        codecs: dict[str, ColumnCodec],
    ) -> None:
        self.loader = loader
        self.connection = loader.connection
        self.table = table
        self.bind_table = _bind_table(table)
        self.source = source
        self.copy_keys = copy_keys
        self.json_keys = {key for key, codec in codecs.items() if codec.kind == "json"}
        self.insert = _insert_statement(self.bind_table, loader.dialect, loader.mode)
        self.copied = False

    def write(self, batch: list[tuple[int, dict[str, Any]]]) -> None:
        from sqlalchemy.exc import DBAPIError

        savepoint = self.connection.begin_nested()
        try:
            self._write(batch)
        except DBAPIError as error:
            savepoint.rollback()
            raise self._locate(batch, error) from error
        savepoint.commit()

    def _write(self, batch: list[tuple[int, dict[str, Any]]]) -> None:
        groups: list[tuple[tuple[str, ...], list[dict[str, Any]]]] = []
        for _, values in batch:
            keys = tuple(values)
            if groups and groups[-1][0] == keys:
                groups[-1][1].append(values)
            else:
                groups.append((keys, [values]))
        for keys, rows in groups:
            if self.copy_keys is not None and set(keys) == set(self.copy_keys):
                self._copy(rows)
            else:
                self.connection.execute(self.insert, rows)

    def _copy(self, rows: list[dict[str, Any]]) -> None:
        from sqlalchemy import JSON

        assert self.copy_keys is not None
        preparer = self.connection.dialect.identifier_preparer
        columns = ", ".join(preparer.format_column(self.table.c[key]) for key in self.copy_keys)
        sql = f"COPY {preparer.format_table(self.table)} ({columns}) FROM STDIN"
        json_positions = [index for index, key in enumerate(self.copy_keys) if key in self.json_keys]
        keys = self.copy_keys
        psycopg_connection: Any = self.loader.psycopg
        cursor = psycopg_connection.cursor()
        try:
            with cursor.copy(sql) as copy_:
                for row in rows:
                    values = [row[key] for key in keys]
                    for index in json_positions:
                        value = values[index]
                        if value is JSON.NULL:
                            values[index] = "null"
                        elif value is not None:
                            values[index] = orjson.dumps(value).decode()
                    copy_.write_row(values)
        except Exception as error:
            from sqlalchemy.exc import DBAPIError

            raise DBAPIError(sql, None, error) from error
        finally:
            cursor.close()
        self.copied = True

    def _locate(self, batch: list[tuple[int, dict[str, Any]]], error: DBAPIError) -> DataError:
        """Retry ``batch`` row by row (each in a savepoint) to find the row the database refuses, and say why."""
        from sqlalchemy.exc import DBAPIError

        for row_number, values in batch:
            savepoint = self.connection.begin_nested()
            try:
                self.connection.execute(self.insert, [values])
            except DBAPIError as row_error:
                savepoint.rollback()
                return self._explain(row_number, values, row_error)
            savepoint.commit()
        first, last = batch[0][0], batch[-1][0]
        return DataError(f"{self.source.path} rows {first}-{last}: {_db_message(error)}")

    def _explain(self, row_number: int, values: dict[str, Any], error: DBAPIError) -> DataError:
        from sqlalchemy import and_, select

        where = f"{self.source.path} row {row_number}"
        for constraint in self.table.foreign_key_constraints:
            elements = list(constraint.elements)
            local = [element.parent.key for element in elements]
            if any(values.get(key) is None for key in local):
                continue
            try:
                parent = constraint.referred_table
                condition = and_(*[element.column == values[element.parent.key] for element in elements])
                exists = self.connection.execute(select(1).select_from(parent).where(condition).limit(1)).first()
            except Exception:  # an unresolvable reference: let the database's message speak
                continue
            if exists is None:
                shown = ", ".join(f"{element.column.name}={values[element.parent.key]!r}" for element in elements)
                return DataError(
                    f"{where}, column {', '.join(repr(key) for key in local)}: missing foreign-key parent "
                    f"(no {table_label(parent)} row with {shown})"
                )
        message = _db_message(error)
        lowered = message.lower()
        if "duplicate" in lowered or "unique" in lowered:
            keys = ", ".join(repr(column.key) for column in self.table.primary_key.columns)
            return DataError(f"{where}, column {keys}: {message}")
        column = next((key for key in values if f"'{key}'" in message or f'"{key}"' in message), None)
        return DataError(f"{where}" + (f", column {column!r}" if column else "") + f": {message}")


def _insert_statement(table: Table, dialect: str, mode: str) -> Any:
    from sqlalchemy import insert

    if mode != "upsert":
        return insert(table)
    keys = [column.key for column in table.primary_key.columns]
    others = [column.key for column in table.columns if column.key not in keys]
    statement: Any
    if dialect in ("mysql", "mariadb"):
        from sqlalchemy.dialects.mysql import insert as mysql_insert

        statement = mysql_insert(table)
        updates = {key: statement.inserted[key] for key in others or keys}
        return statement.on_duplicate_key_update(updates)
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        statement = pg_insert(table)
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(table)
    else:
        raise DataError(f"--mode upsert is not supported on {dialect}")
    if not others:
        return statement.on_conflict_do_nothing(index_elements=keys)
    return statement.on_conflict_do_update(index_elements=keys, set_={key: statement.excluded[key] for key in others})


def _reset_sequences(connection: Connection, tables: list[Table]) -> None:
    """Move each serial/identity sequence past the largest loaded value, so the next insert doesn't collide."""
    from sqlalchemy import Integer, text

    preparer = connection.dialect.identifier_preparer
    for table in tables:
        quoted_table = preparer.format_table(table)
        for column in table.columns:
            if not isinstance(column.type, Integer):
                continue
            sequence = connection.execute(
                text("SELECT pg_get_serial_sequence(:table, :column)"), {"table": quoted_table, "column": column.name}
            ).scalar()
            if sequence is None:
                continue
            connection.execute(
                text(
                    f"SELECT setval(CAST(:sequence AS regclass), "
                    f"COALESCE((SELECT MAX({preparer.format_column(column)}) FROM {quoted_table}), 0) + 1, false)"
                ),
                {"sequence": sequence},
            )
