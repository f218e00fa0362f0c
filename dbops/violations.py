"""What a driver's constraint-violation error names: the constraint, and the columns it covers.

Shared by the repository's error translation (``dbops.repository._errors``) and ``load-data``'s row errors, so
both name the same field for the same refusal. The constraint name is found in the driver's structured fields
(PostgreSQL) or its message (MariaDB/MySQL), then looked up in the table's metadata, where dbops' naming
convention makes it predictable; SQLite names the columns itself.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Table

__all__ = [
    "constraint_columns",
    "driver_message",
    "key_columns",
    "named_constraint",
    "pg_details",
    "same_name",
    "unique_columns",
]

CONSTRAINT_NAME = re.compile(r"""(?:constraint|key|CONSTRAINT)\s+[`"'](?:[^`"'.]+\.)?(?P<name>[^`"']+)[`"']""")
PG_KEY = re.compile(r"Key \((?P<cols>[^)]*)\)=")
SQLITE_COLUMNS = re.compile(r"failed: (?P<cols>.+)$")


def unique_columns(orig: Any, table: Table | None) -> list[str]:
    """The column names of the unique constraint (or primary key) the driver error ``orig`` reports."""
    constraint, _column, detail = pg_details(orig)
    text = driver_message(orig) + (f"\n{detail}" if detail else "")
    _name, _owner, columns = named_constraint(text, table, constraint)
    return columns or key_columns(text)


def named_constraint(
    text: str, table: Table | None, reported: str | None = None
) -> tuple[str | None, str | None, list[str]]:
    """``(constraint, owning table, columns)`` of the constraint ``reported`` (PostgreSQL's structured field) or
    the message names; the columns come from the metadata, empty when it doesn't know the constraint."""
    match = CONSTRAINT_NAME.search(text)
    constraint = reported or (match.group("name") if match else None)
    owner, columns = constraint_columns(table, constraint) if constraint else (None, [])
    return constraint, owner, columns


def key_columns(text: str) -> list[str]:
    """The columns a message lists itself: PostgreSQL's ``Key (a, b)=``, SQLite's ``failed: t.a, t.b``."""
    key = PG_KEY.search(text) or SQLITE_COLUMNS.search(text)
    return [c.strip().split(".")[-1] for c in key.group("cols").split(",")] if key else []


def constraint_columns(table: Table | None, name: str) -> tuple[str | None, list[str]]:
    """(table name, column names) of the constraint or index called ``name`` in ``table``'s metadata."""
    if table is None:
        return None, []
    if name == "PRIMARY":
        return table.name, [c.name for c in table.primary_key.columns]
    tables = [table, *(t for t in table.metadata.tables.values() if t is not table)]
    for candidate in tables:
        for item in (*candidate.constraints, *candidate.indexes):
            item_name = getattr(item, "name", None)
            if item_name is not None and same_name(str(item_name), name):
                return candidate.name, [c.name for c in getattr(item, "columns", [])]
    return None, []


def same_name(declared: str, reported: str) -> bool:
    """Whether the server's constraint name is ``declared``, possibly as SQLAlchemy shortened it to fit the
    dialect's identifier limit (63 on PostgreSQL, 64 on MariaDB/MySQL): ``declared[:n]`` + ``_`` + the last
    four hex digits of its MD5."""
    if declared == reported:
        return True
    if len(declared) <= len(reported) or len(reported) < 6 or reported[-5] != "_":
        return False
    from sqlalchemy.util import md5_hex

    return reported == f"{declared[: len(reported) - 5]}_{md5_hex(declared)[-4:]}"


def driver_message(orig: Any) -> str:
    """The driver's message. MySQL drivers carry ``(errno, message)``; ``str()`` of that is the tuple's repr,
    which escapes quotes (``\\'``) whenever the duplicate value holds a ``"`` and hides the key name."""
    args: tuple[Any, ...] = getattr(orig, "args", ())
    if len(args) >= 2 and isinstance(args[0], int) and isinstance(args[1], str):
        return args[1]
    return str(orig)


def pg_details(orig: Any) -> tuple[str | None, str | None, str | None]:
    """``(constraint, column, detail)`` from a PostgreSQL driver's structured error fields: psycopg's ``diag``,
    asyncpg's exception (the cause of SQLAlchemy's adapted one). The message text alone lacks the detail on
    asyncpg (``Key (email)=(...) already exists``), which names the columns of a constraint the metadata
    doesn't know."""
    diag = getattr(orig, "diag", None)
    if diag is not None:
        return diag.constraint_name, diag.column_name, diag.message_detail
    source = getattr(orig, "__cause__", None)
    if source is not None and hasattr(source, "constraint_name"):
        return source.constraint_name, getattr(source, "column_name", None), getattr(source, "detail", None)
    return None, None, None
