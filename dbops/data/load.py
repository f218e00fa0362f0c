"""``load_data``: load a dbops dump or Advanced Alchemy fixture files in foreign-key order, in one transaction.

Before anything is written, a dump's files are checked against its manifest (sha256 and row counts). Rows
are decoded by column type (``dbops.data.codec``) and written in batches: COPY on PostgreSQL with psycopg 3
when a file holds every column, batched ``executemany`` elsewhere (asyncpg and async psycopg included). Each
batch runs in a savepoint; when one fails, its rows are retried one by one to name the row and column, and
the whole load rolls back: the database is exactly as before (unless ``batch_commit`` was asked for).
"""

from __future__ import annotations

import contextlib
import copy
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from dbops.data.codec import JSON_NULL, ColumnCodec, column_codec, is_plain, stored_type
from dbops.data.files import file_digest, is_data_file, iter_rows, table_name_of
from dbops.data.manifest import MANIFEST_NAME, read_manifest
from dbops.data.tables import (
    dependency_order,
    psycopg_connection,
    restart_transaction,
    table_label,
    write_transaction,
)
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
        with _load_session(connection, dialect), write_transaction(connection, dialect):
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


@contextlib.contextmanager
def _load_session(connection: Connection, dialect: str) -> Iterator[None]:
    """Session settings for the load, put back afterwards (a sync config's connection returns to its pool).

    SQLite: foreign-key checks on (they are off by default). MariaDB/MySQL: ``NO_AUTO_VALUE_ON_ZERO``, so an
    id 0 is stored as 0 and not replaced by the next AUTO_INCREMENT value (as mysqldump does).
    """
    if connection.in_transaction():
        connection.rollback()
    if dialect == "sqlite":
        setting, value = "PRAGMA foreign_keys", str(connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one())
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
    elif dialect in ("mysql", "mariadb"):
        setting = "SET SESSION sql_mode"
        value = str(connection.exec_driver_sql("SELECT @@SESSION.sql_mode").scalar_one())
        connection.exec_driver_sql("SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',NO_AUTO_VALUE_ON_ZERO')")
    else:
        yield
        return
    connection.rollback()
    try:
        yield
    finally:
        if connection.in_transaction():
            connection.rollback()
        connection.exec_driver_sql(f"{setting} = {_sql_literal(value)}")
        connection.commit()


def _sql_literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


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
    """``table`` itself, or a copy whose JSON columns bind ``None`` as SQL NULL (JSON null is ``JSON.NULL``)
    and whose columns loaded in their stored form (``codec.stored_type``) bind as that type."""
    from sqlalchemy import JSON, MetaData

    stored = {column.key: type_ for column in table.columns if (type_ := stored_type(column.type)) is not None}
    if stored:
        table = table.to_metadata(MetaData())
        for key, type_ in stored.items():
            table.c[key].type = type_
    json_columns = [column for column in table.columns if isinstance(column.type, JSON)]
    if not json_columns:
        return table
    bound = table if stored else table.to_metadata(MetaData())
    for column in json_columns:
        patched: Any = copy.copy(column.type)
        patched.none_as_null = True
        bound.c[column.key].type = patched
    return bound


_Row = tuple[int, dict[str, Any], Any]
"""(row number, the row as read, the row prepared: a tuple in column order for COPY, else a dict for SQLAlchemy)."""

_UUID_TEXT = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


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
        self.psycopg = psycopg_connection(connection) if use_copy and mode != "upsert" else None
        self.copy_used = False

    def load(self, table: Table, source: _Source) -> int:
        from sqlalchemy import JSON

        label = table_label(table)
        codecs = {column.key: column_codec(column, dialect=self.dialect) for column in table.columns}
        if self.mode == "upsert" and not table.primary_key.columns:
            raise DataError(f"{source.path}: table {label} has no primary key, which --mode upsert needs")
        decoders: dict[str, Callable[[Any], Any]] = {
            key: _json_decoder(codec.decode, JSON.NULL) if codec.kind == "json" else codec.decode
            for key, codec in codecs.items()
        }
        keys = tuple(codecs)
        copyable = self.psycopg is not None and _copyable(table, codecs)
        text_fields = [_copy_text_field(codecs[key], table.c[key]) for key in keys] if copyable else []
        if copyable and all(field is not None for field in text_fields):
            fast = _generated_copy_line(keys, text_fields)  # type: ignore[arg-type]
        elif copyable:
            copy_decoders = {key: _copy_decoder(codec) for key, codec in codecs.items()}
            fast = _generated_converter(keys, [copy_decoders[key] for key in keys], as_tuple=True)
        else:
            fast = _generated_converter(keys, [decoders[key] for key in keys], as_tuple=False)
        writer = _BatchWriter(self, table, source, decoders)
        width = len(keys)
        if copyable and not self.batch_commit and all(field is not None for field in text_fields):
            streamed = self._stream_copy(writer, fast, width)
            if streamed is not None:
                return streamed
        rows = 0
        batch: list[_Row] = []
        with self.reporter.progress(f"load {label}", source.rows) as task:
            for row_number, raw in iter_rows(source.path, strict=source.strict):
                prepared: Any = None
                if len(raw) == width:
                    try:
                        prepared = fast(raw)
                    except Exception:  # a missing key or a bad value: the slow path says exactly what
                        prepared = None
                if prepared is None:
                    prepared = writer.decode(row_number, raw)
                batch.append((row_number, raw, prepared))
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

    def _stream_copy(self, writer: _BatchWriter, copy_line: Callable[[dict[str, Any]], str], width: int) -> int | None:
        """The whole table through one COPY, fed batch by batch while PostgreSQL works on what it has.

        A COPY per batch would wait at every batch's end for the server to catch up, leaving one side idle
        at a time. Any row or database error rolls the table back and returns None: the batched path then
        loads the file again, and finds and names the offending row exactly as it always does.
        """
        source = writer.source
        savepoint = self.connection.begin_nested()
        rows = 0
        try:
            with self.reporter.progress(f"load {writer.label}", source.rows) as task:
                driver: Any = self.psycopg
                cursor = driver.cursor()
                try:
                    with cursor.copy(writer.copy_sql) as copy_:
                        pending: list[str] = []
                        for _, raw in iter_rows(source.path, strict=source.strict):
                            if len(raw) != width:
                                raise _NotStreamable
                            pending.append(copy_line(raw))  # raises on a value the batched path must explain
                            if len(pending) >= self.batch_size:
                                copy_.write("".join(pending))
                                rows += len(pending)
                                task.advance(len(pending))
                                pending = []
                        if pending:
                            copy_.write("".join(pending))
                            rows += len(pending)
                            task.advance(len(pending))
                finally:
                    cursor.close()
        except DataError:  # the file itself is unreadable: the batched path would say the same
            savepoint.rollback()
            raise
        except Exception:  # a row or database error: the batched path finds and names it
            savepoint.rollback()
            return None
        savepoint.commit()
        self.copy_used = True
        return rows


class _NotStreamable(Exception):
    """A row the single COPY can't take as it is (missing or extra keys)."""


def _generated_converter(
    keys: tuple[str, ...], decoders: list[Callable[[Any], Any]], *, as_tuple: bool
) -> Callable[[dict[str, Any]], Any]:
    """``raw row → decoded row`` unrolled for the table's columns (raises on a missing key or bad value).

    Generated because it runs once per loaded row: unrolled, decoding costs about half as much.
    """
    parts = [f"None if (v{index} := raw[{key!r}]) is None else d{index}(v{index})" for index, key in enumerate(keys)]
    if as_tuple:
        body = "(" + "".join(f"{part}, " for part in parts) + ")"
    else:
        body = "{" + ", ".join(f"{key!r}: {part}" for key, part in zip(keys, parts, strict=True)) + "}"
    source = f"def convert(raw):\n    return {body}\n"
    namespace: dict[str, Any] = {f"d{index}": decoder for index, decoder in enumerate(decoders)}
    exec(compile(source, "<dbops row decoder>", "exec"), namespace)
    convert: Callable[[dict[str, Any]], Any] = namespace["convert"]
    return convert


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})
_NEEDS_ESCAPE = re.compile(r"[\\\n\r\t]")


def _generated_copy_line(keys: tuple[str, ...], fields: list[Callable[[Any], str]]) -> Callable[[dict[str, Any]], str]:
    """``raw row → one line of COPY text format`` (``\\N`` for NULL), unrolled for the table's columns."""
    parts = [f"'\\\\N' if (v{index} := raw[{key!r}]) is None else f{index}(v{index})" for index, key in enumerate(keys)]
    source = "def convert(raw):\n    return '\\t'.join((" + "".join(f"{part}, " for part in parts) + ")) + '\\n'\n"
    namespace: dict[str, Any] = {f"f{index}": field for index, field in enumerate(fields)}
    exec(compile(source, "<dbops copy line>", "exec"), namespace)
    convert: Callable[[dict[str, Any]], str] = namespace["convert"]
    return convert


def _escape(text: str) -> str:
    return text.translate(_COPY_ESCAPES) if _NEEDS_ESCAPE.search(text) else text


def _copy_text_field(codec: ColumnCodec, column: Any) -> Callable[[Any], str] | None:
    """A JSON value → its COPY text field, validated as strictly as ``codec.decode`` (raises otherwise).

    Values go to PostgreSQL as text, skipping Python objects and psycopg's adaptation; a value already in
    the form PostgreSQL reads is passed on as it is. A value that doesn't fit raises, and the row takes the
    slow path, whose error names row and column. None: no text form for this kind here.
    """
    decode, kind = codec.decode, codec.kind
    if kind == "int":

        def int_field(value: Any) -> str:
            if type(value) is int:
                return str(value)
            raise ValueError(value)

        return int_field
    if kind == "bool":
        return lambda value: "t" if decode(value) else "f"
    if kind == "str":

        def str_field(value: Any) -> str:
            if type(value) is str:
                return _escape(value)
            raise ValueError(value)

        return str_field
    if kind == "uuid":
        return lambda value: value if type(value) is str and _UUID_TEXT.fullmatch(value) else str(decode(value))
    if kind == "decimal":

        def decimal_field(value: Any) -> str:
            decoded = decode(value)  # validates
            return _escape(value) if type(value) is str else str(decoded)

        return decimal_field
    if kind == "enum":
        return lambda value: _escape(decode(value))
    if kind == "float":
        return lambda value: repr(decode(value)).replace("inf", "Infinity").replace("nan", "NaN")
    if kind == "datetime":
        aware = bool(getattr(column.type, "timezone", False))

        def datetime_field(value: Any) -> str:
            parsed = decode(value)  # validates, and applies the time-zone rules
            if aware == (parsed.tzinfo is not None) and type(value) is str and aware == _has_offset(value):
                return _escape(value)
            return str(parsed.isoformat())

        return datetime_field
    if kind in ("date", "time"):
        return lambda value: str(decode(value).isoformat())
    if kind == "bytes":
        return lambda value: "\\\\x" + decode(value).hex()
    if kind == "json":

        def json_field(value: Any) -> str:
            decoded = decode(value)
            return "null" if decoded is JSON_NULL else _escape(orjson.dumps(decoded).decode())

        return json_field
    return None


def _has_offset(text: str) -> bool:
    """Whether an ISO timestamp string carries a zone (``Z`` or ``±hh:mm`` after the time)."""
    tail = text[-6:]
    return text.endswith(("Z", "z")) or (len(tail) == 6 and tail[0] in "+-" and tail[3] == ":")


def _json_decoder(decode: Callable[[Any], Any], json_null: Any) -> Callable[[Any], Any]:
    def wrapped(value: Any) -> Any:
        decoded = decode(value)
        return json_null if decoded is JSON_NULL else decoded

    return wrapped


def _copy_decoder(codec: ColumnCodec) -> Callable[[Any], Any]:
    """Decoders for COPY, where PostgreSQL parses text itself: JSON goes as its text, UUIDs as validated text."""
    decode = codec.decode
    if codec.kind == "json":

        def json_text(value: Any) -> Any:
            decoded = decode(value)
            return "null" if decoded is JSON_NULL else orjson.dumps(decoded).decode()

        return json_text
    if codec.kind == "uuid":

        def uuid_text(value: Any) -> Any:
            if isinstance(value, str) and _UUID_TEXT.fullmatch(value):
                return value
            return str(decode(value))

        return uuid_text
    return decode


def _copyable(table: Table, codecs: dict[str, ColumnCodec]) -> bool:
    """COPY bypasses SQLAlchemy's bind processing: only for columns whose decoded values psycopg takes as-is."""
    return not any(not is_plain(column) or codecs[column.key].kind == "other" for column in table.columns)


class _BatchWriter:
    def __init__(self, loader: _TableLoader, table: Table, source: _Source, decoders: dict[str, Any]) -> None:
        self.loader = loader
        self.connection = loader.connection
        self.table = table
        self.label = table_label(table)
        self.bind_table = _bind_table(table)
        self.source = source
        self.decoders = decoders
        self.keys = tuple(column.key for column in table.columns)
        self.insert = _insert_statement(self.bind_table, loader.dialect, loader.mode)
        self.copied = False

    def decode(self, row_number: int, raw: dict[str, Any]) -> dict[str, Any]:
        """The row decoded for SQLAlchemy, or a DataError naming file, row and column."""
        decoded: dict[str, Any] = {}
        for key, value in raw.items():
            decode = self.decoders.get(key)
            if decode is None:
                raise DataError(f"{self.source.path} row {row_number}, column {key!r}: no such column in {self.label}")
            if value is None:
                decoded[key] = None
                continue
            try:
                decoded[key] = decode(value)
            except (ValueError, TypeError, OverflowError) as error:
                raise DataError(f"{self.source.path} row {row_number}, column {key!r}: {error}") from error
        return decoded

    def write(self, batch: list[_Row]) -> None:
        from sqlalchemy.exc import DBAPIError

        savepoint = self.connection.begin_nested()
        try:
            self._write(batch)
        except DBAPIError as error:
            savepoint.rollback()
            raise self._locate(batch, error) from error
        savepoint.commit()

    def _write(self, batch: list[_Row]) -> None:
        """COPY runs of prepared lines or tuples; executemany runs of dicts with the same keys; in file order."""
        groups: list[tuple[Any, list[Any]]] = []
        for _, _, prepared in batch:
            key = None if isinstance(prepared, (tuple, str)) else tuple(prepared)
            if groups and groups[-1][0] == key:
                groups[-1][1].append(prepared)
            else:
                groups.append((key, [prepared]))
        for key, rows in groups:
            if key is None:
                self._copy(rows)
            else:
                self.connection.execute(self.insert, rows)

    @property
    def copy_sql(self) -> str:
        preparer = self.connection.dialect.identifier_preparer
        columns = ", ".join(preparer.format_column(self.table.c[key]) for key in self.keys)
        return f"COPY {preparer.format_table(self.table)} ({columns}) FROM STDIN"

    def _copy(self, rows: list[Any]) -> None:
        from sqlalchemy.exc import DBAPIError

        sql = self.copy_sql
        psycopg_connection: Any = self.loader.psycopg
        cursor = psycopg_connection.cursor()
        try:
            with cursor.copy(sql) as copy_:
                if isinstance(rows[0], str):  # COPY text lines, made by _generated_copy_line
                    copy_.write("".join(rows))
                else:
                    write_row = copy_.write_row
                    for row in rows:
                        write_row(row)
        except Exception as error:
            raise DBAPIError(sql, None, error) from error
        finally:
            cursor.close()
        self.copied = True

    def _locate(self, batch: list[_Row], error: DBAPIError) -> DataError:
        """Retry ``batch`` row by row (each in a savepoint) to find the row the database refuses, and say why."""
        from sqlalchemy.exc import DBAPIError

        for row_number, raw, prepared in batch:
            values = prepared if isinstance(prepared, dict) else self.decode(row_number, raw)
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
