"""Finding the rows that reference stored files: which columns, and their rows in keyset-paged batches.

Batches are read by primary key (``WHERE pk > last ORDER BY pk LIMIT n``) and each read transaction ends
before the batch is worked on, so the scan holds no cursor or lock while files are copied and rows updated
(SQLite would otherwise block the writes) and memory stays one batch whatever the table size.

Column values are decoded row by row: a value that is not file metadata (not JSON, or JSON no FileObject can be
built from, such as ``{"backend": 1}``) comes back as a ``BadValue`` naming what is wrong, so one bad row
neither stops a scan nor hides which row it is.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Connection, MetaData, Table, func, select, tuple_, type_coerce
from sqlalchemy import exc as sa_exc
from sqlalchemy.types import NullType

from dbops.errors import ConfigError, StorageError, first_line
from dbops.storage.data_type import StoredObject, file_objects_in
from dbops.storage.file_object import FileObject

__all__ = ["BadValue", "StoredColumn", "iter_batches", "stored_columns"]


@dataclass(frozen=True)
class BadValue:
    """A column value that is not file metadata; ``detail`` says why (the value is not repeated in full)."""

    detail: str


@dataclass(frozen=True)
class StoredColumn:
    """One ``StoredObject`` column and the primary key of its table."""

    table: Table
    column: Column[Any]
    primary_key: tuple[Column[Any], ...]

    @property
    def label(self) -> str:
        return f"{self.table.fullname}.{self.column.name}"

    def row_id(self, row: Sequence[Any]) -> str:
        values = [str(value) for value in row[: len(self.primary_key)]]
        return values[0] if len(values) == 1 else "(" + ", ".join(values) + ")"


def stored_columns(metadata: MetaData, models: Sequence[str] | None = None) -> list[StoredColumn]:
    """The StoredObject columns of every table in ``metadata``, or of the given models/tables only."""
    tables: list[Table] = list(metadata.sorted_tables)
    if models:
        tables = [_resolve_model(reference, metadata) for reference in models]
    found: list[StoredColumn] = []
    for table in tables:
        columns = [column for column in table.columns if isinstance(column.type, StoredObject)]
        if not columns:
            if models:
                raise ConfigError(f"model {table.fullname!r} has no StoredObject column")
            continue
        primary_key = tuple(table.primary_key.columns)
        if not primary_key:
            raise ConfigError(f"table {table.fullname!r} has no primary key; dbops storage needs one to page rows")
        found.extend(StoredColumn(table, column, primary_key) for column in columns)
    return found


def _resolve_model(reference: str, metadata: MetaData) -> Table:
    """``module:Class`` (imported), or a table name / mapped class name known to ``metadata``."""
    if ":" in reference:
        from dbops.discovery import load_reference

        target = load_reference(reference, cwd=Path.cwd())
        table = getattr(target, "__table__", None)
        if not isinstance(table, Table):
            raise ConfigError(f"--model {reference}: {target!r} is not a mapped class with a table")
        return table
    if reference in metadata.tables:
        return metadata.tables[reference]
    for table in metadata.tables.values():
        if table.name == reference:
            return table
    from dbops.models import mappers_of

    for mapper in mappers_of(metadata):
        if mapper.class_.__name__ == reference:
            mapped: Table = mapper.local_table
            return mapped
    known = ", ".join(sorted(metadata.tables)) or "none"
    raise ConfigError(f"--model {reference}: no such model or table in the config's metadata (tables: {known})")


def count_rows(connection: Connection, column: StoredColumn) -> int:
    try:
        total = connection.execute(select(func.count()).select_from(column.table).where(column.column.is_not(None)))
        value = int(total.scalar_one())
    except sa_exc.DBAPIError as exc:
        raise _read_error(column, exc) from exc
    finally:
        connection.rollback()
    return value


def iter_batches(connection: Connection, column: StoredColumn, batch_size: int) -> Iterator[list[tuple[Any, ...]]]:
    """Rows ``(*primary key, value)`` with a non-NULL value, ``batch_size`` at a time, in key order."""
    primary_key = column.primary_key
    last: Sequence[Any] | None = None
    while True:
        # The raw value (no StoredObject processing in the driver's fetch): decoded per row below.
        statement = (
            select(*primary_key, type_coerce(column.column, NullType()))
            .where(column.column.is_not(None))
            .order_by(*primary_key)
            .limit(batch_size)
        )
        if last is not None:
            if len(primary_key) == 1:
                statement = statement.where(primary_key[0] > last[0])
            else:
                statement = statement.where(tuple_(*primary_key) > tuple_(*last))
        try:
            rows = [(*row[:-1], decode_value(column, row[-1], connection)) for row in connection.execute(statement)]
        except sa_exc.DBAPIError as exc:
            raise _read_error(column, exc) from exc
        finally:
            connection.rollback()
        if not rows:
            return
        yield rows
        last = rows[-1][: len(primary_key)]
        if len(rows) < batch_size:
            return


def decode_value(column: StoredColumn, raw: Any, connection: Connection) -> Any:
    """The column's FileObject (or list) for a raw value, or a ``BadValue``."""
    stored = column.column.type
    assert isinstance(stored, StoredObject)  # stored_columns found it so
    try:
        return stored.process_result_value(raw, connection.dialect)
    except StorageError as exc:  # JSON, but no FileObject can be built from it
        return BadValue(str(exc).strip().splitlines()[0][:200])
    except (ValueError, TypeError) as exc:  # not JSON (JSONDecodeError is a ValueError)
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return BadValue(f"not JSON ({type(exc).__name__}: {text[:160]})")


def files_of(value: Any) -> list[FileObject]:
    return list(file_objects_in(value))


def _read_error(column: StoredColumn, exc: sa_exc.DBAPIError) -> StorageError:
    detail = first_line(exc)
    return StorageError(f"cannot read {column.label}: {detail}")
