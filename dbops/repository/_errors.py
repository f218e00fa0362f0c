"""Turn SQLAlchemy and driver errors into dbops errors that name the model and the offending field.

One table per dialect family says how to recognise a unique, foreign-key, not-null or check violation
(SQLSTATE on PostgreSQL, error numbers on MariaDB/MySQL, message text on SQLite) and where the constraint or
column name sits in the message; the constraint name is then looked up in the model's metadata, where dbops'
naming convention makes it predictable.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from dbops.errors import (
    DbopsError,
    DuplicateKeyError,
    ForeignKeyError,
    IntegrityError,
    MultipleResultsFoundError,
    NotFoundError,
    RepositoryError,
    first_line,
    redact,
)
from dbops.violations import PG_KEY, SQLITE_COLUMNS, driver_message, key_columns, named_constraint, pg_details

if TYPE_CHECKING:
    from sqlalchemy import Table

__all__ = ["translate_error", "wrap_sqlalchemy_exception"]

_PG_CODES = {"23505": "unique", "23503": "foreign_key", "23502": "not_null", "23514": "check"}
_MYSQL_CODES = {
    1062: "unique",
    1586: "unique",
    1451: "foreign_key_parent",
    1217: "foreign_key_parent",
    1452: "foreign_key",
    1216: "foreign_key",
    1048: "not_null",
    1364: "not_null",
    3819: "check",
    4025: "check",
}
_SQLITE_TEXT = (
    ("UNIQUE constraint failed", "unique"),
    ("FOREIGN KEY constraint failed", "foreign_key"),
    ("NOT NULL constraint failed", "not_null"),
    ("CHECK constraint failed", "check"),
)

_PG_COLUMN = re.compile(r'column "(?P<col>[^"]+)"')
_MYSQL_COLUMN = re.compile(r"(?:Column|Field|column) '(?P<col>[^']+)'")
_MYSQL_FK_COLUMN = re.compile(r"FOREIGN KEY \(`(?P<col>[^`]+)`\)")
_PG_OTHER_TABLE = re.compile(r'on table "(?P<table>[^"]+)"\s*$', re.M)


def _coded_kind(orig: Any) -> str | None:
    """The constraint kind from a driver's error code (SQLSTATE, MySQL error number), if it has one."""
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if isinstance(code, str) and code in _PG_CODES:
        return _PG_CODES[code]
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int) and args[0] in _MYSQL_CODES:
        return _MYSQL_CODES[args[0]]
    return None


def _kind(orig: Any, text: str) -> str | None:
    coded = _coded_kind(orig)
    if coded is not None:
        return coded
    for marker, kind in _SQLITE_TEXT:
        if marker in text:
            return kind
    lowered = text.lower()
    if "duplicate" in lowered or "unique" in lowered:
        return "unique"
    if "foreign key" in lowered:
        return "foreign_key"
    if "null" in lowered:
        return "not_null"
    return None


_TOO_LONG = re.compile(r"value too long for type character(?: varying)?\((?P<length>\d+)\)")


def _too_long_field(error: Exception, table: Table | None, text: str) -> str | None:
    """The column a PostgreSQL "value too long for type character varying(n)" is about, which the server
    doesn't say: the model's one length-n string column, or (with named parameters, as psycopg sends them) the
    one whose value in the statement's parameters is longer than n."""
    match = _TOO_LONG.search(text)
    if match is None or table is None:
        return None
    length = int(match.group("length"))
    candidates = [column for column in table.columns if getattr(column.type, "length", None) == length]
    params = getattr(error, "params", None)
    rows = params if isinstance(params, (list, tuple)) else [params]
    named = [row for row in rows if isinstance(row, dict)]
    if named:
        candidates = [
            column
            for column in candidates
            if any(len(value) > length for row in named if isinstance(value := row.get(column.key), str))
        ] or candidates
    return candidates[0].name if len(candidates) == 1 else None


def translate_error(error: Exception, model: type[Any]) -> DbopsError:
    """The dbops error for a SQLAlchemy error raised while working on ``model``."""
    from sqlalchemy import exc as sa_exc
    from sqlalchemy import inspect

    model_name = model.__name__
    mapper = inspect(model, raiseerr=False)
    table: Table | None = getattr(mapper, "local_table", None) if mapper is not None else None
    if isinstance(error, sa_exc.NoResultFound):
        return NotFoundError(f"no {model_name} matches the given filters", model=model_name)
    if isinstance(error, sa_exc.MultipleResultsFound):
        return MultipleResultsFoundError(f"more than one {model_name} matches the given filters", model=model_name)
    orig = getattr(error, "orig", None)
    text = driver_message(orig) if orig is not None else str(error)
    constraint, pg_column, detail = pg_details(orig)
    details = (constraint, pg_column, detail)
    if isinstance(error, sa_exc.IntegrityError):
        return _integrity_error(model_name, table, _kind(orig, text), text, details)
    if isinstance(error, sa_exc.DBAPIError) and _coded_kind(orig) is not None:
        # MariaDB reports CHECK failures (4025) as OperationalError.
        return _integrity_error(model_name, table, _coded_kind(orig), text, details)
    if isinstance(error, sa_exc.StatementError) and isinstance(orig, (ValueError, TypeError)):
        return RepositoryError(f"{model_name}: {redact(first_line(str(orig)))}", model=model_name)
    column = _MYSQL_COLUMN.search(text)
    field = column.group("col") if column else pg_column or _too_long_field(error, table, text)
    where = f"{model_name}.{field}" if field else model_name
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    # SQLSTATE class 22 is "data exception"; asyncpg's adapter doesn't raise those as DataError.
    invalid = isinstance(error, sa_exc.DataError) or (isinstance(sqlstate, str) and sqlstate.startswith("22"))
    kind = "invalid value" if invalid else "database error"
    return RepositoryError(f"{where}: {kind}: {redact(first_line(text))}", model=model_name, field=field)


def _integrity_error(
    model_name: str,
    table: Table | None,
    kind: str | None,
    text: str,
    details: tuple[str | None, str | None, str | None] = (None, None, None),
) -> IntegrityError:
    pg_constraint, pg_column, detail = details
    if detail:
        text = f"{text}\n{detail}"
    constraint, owner, columns = named_constraint(text, table, pg_constraint)
    if kind == "unique":
        columns = columns or key_columns(text)
        fields = ", ".join(columns)
        suffix = f" (unique constraint {constraint})" if constraint else ""
        what = f"{model_name} with this {fields} already exists" if columns else f"{model_name} repeats a unique value"
        return DuplicateKeyError(
            f"{what}{suffix}",
            model=model_name,
            field=fields if columns else None,
        )
    if kind in ("foreign_key", "foreign_key_parent"):
        parent = kind == "foreign_key_parent" or "update or delete on table" in text
        if not columns:
            fk_column = _MYSQL_FK_COLUMN.search(text) or PG_KEY.search(text)
            columns = [fk_column.groups()[0]] if fk_column else []
        suffix = f" (foreign key {constraint})" if constraint else ""
        if parent:
            other = _PG_OTHER_TABLE.search(text)
            owner = owner or (other.group("table") if other else None)
            by = f"{owner}.{', '.join(columns)}" if owner and columns else "another table"
            return ForeignKeyError(f"{model_name} is still referenced by {by}{suffix}", model=model_name)
        if columns:
            field = ", ".join(columns)
            return ForeignKeyError(
                f"{model_name}.{field} refers to a row that does not exist{suffix}", model=model_name, field=field
            )
        return ForeignKeyError(
            f"{model_name} violates a foreign key: it refers to a missing row, or another row still refers to it",
            model=model_name,
        )
    if kind == "not_null":
        column = _PG_COLUMN.search(text) or _MYSQL_COLUMN.search(text) or SQLITE_COLUMNS.search(text)
        null_field = pg_column or (column.groups()[0].split(".")[-1] if column else None)
        what = f"{model_name}.{null_field}" if null_field else f"a field of {model_name}"
        return IntegrityError(f"{what} cannot be null", model=model_name, field=null_field)
    if kind == "check":
        check = constraint or (text.split("failed:", 1)[1].strip() if "failed:" in text else "(unnamed)")
        return IntegrityError(f"{model_name} violates check constraint {check}", model=model_name)
    return IntegrityError(f"{model_name}: integrity error: {redact(first_line(text))}", model=model_name)


@contextlib.contextmanager
def wrap_sqlalchemy_exception(model: type[Any], *, enabled: bool = True) -> Iterator[None]:
    """Re-raise SQLAlchemy errors inside the block as dbops errors about ``model``."""
    from sqlalchemy.exc import SQLAlchemyError

    if not enabled:
        yield
        return
    try:
        yield
    except DbopsError:
        raise
    except SQLAlchemyError as error:
        raise translate_error(error, model) from error
