"""The database's clock, per dialect, so app servers with skewed clocks agree on when a session expires.

``utc_now()`` and ``utc_now_plus(seconds)`` compile to the server's own time: ``now()`` on PostgreSQL,
``UTC_TIMESTAMP(6)`` on MariaDB/MySQL, and ``strftime(..., 'now')`` on SQLite (an embedded database, whose
clock is the process's). Both are typed ``DateTimeUTC``, so selecting them returns aware UTC datetimes and
comparing them with ``expires_at`` compares like with like on every dialect.
"""

from __future__ import annotations

import datetime
from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.visitors import InternalTraversal

from dbops.types import DateTimeUTC

__all__ = ["utc_now", "utc_now_plus"]

# SQLAlchemy stores SQLite datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff'; strftime's %f gives 'SS.SSS', so three
# zeros make the database's values sort and compare exactly like the ones SQLAlchemy writes.
_SQLITE_FORMAT = "'%Y-%m-%d %H:%M:%f000'"


class utc_now_plus(FunctionElement[datetime.datetime]):
    """The database's current UTC time plus ``seconds`` (negative for the past)."""

    type = DateTimeUTC()
    inherit_cache = True
    name = "utc_now_plus"
    _traverse_internals = [("seconds", InternalTraversal.dp_plain_obj)]

    def __init__(self, seconds: float = 0.0) -> None:
        super().__init__()
        self.seconds = float(seconds)


class utc_now(utc_now_plus):
    """The database's current UTC time."""

    inherit_cache = True
    name = "utc_now"

    def __init__(self) -> None:
        super().__init__(0.0)


@compiles(utc_now_plus, "postgresql")
def _postgresql(element: utc_now_plus, compiler: SQLCompiler, **kw: Any) -> str:
    if not element.seconds:
        return "now()"
    return f"(now() + make_interval(secs => {element.seconds!r}))"


@compiles(utc_now_plus, "mysql")
@compiles(utc_now_plus, "mariadb")
def _mysql(element: utc_now_plus, compiler: SQLCompiler, **kw: Any) -> str:
    if not element.seconds:
        return "UTC_TIMESTAMP(6)"
    return f"(UTC_TIMESTAMP(6) + INTERVAL {round(element.seconds * 1_000_000)} MICROSECOND)"


@compiles(utc_now_plus, "sqlite")
def _sqlite(element: utc_now_plus, compiler: SQLCompiler, **kw: Any) -> str:
    if not element.seconds:
        return f"strftime({_SQLITE_FORMAT}, 'now')"
    return f"strftime({_SQLITE_FORMAT}, 'now', '{element.seconds:+.6f} seconds')"


@compiles(utc_now_plus)
def _default(element: utc_now_plus, compiler: SQLCompiler, **kw: Any) -> str:
    # Other dialects: CURRENT_TIMESTAMP is the server's clock; intervals have no portable spelling.
    if element.seconds:
        raise NotImplementedError(f"utc_now_plus is not implemented for {compiler.dialect.name}")
    return "CURRENT_TIMESTAMP"
