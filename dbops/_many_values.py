"""``column IN (...)`` for lists longer than PostgreSQL drivers can bind one parameter each.

SQLAlchemy sends an IN list as one bind parameter per value; asyncpg refuses more than 32,767 parameters and
PostgreSQL's protocol more than 65,535. Past ``LONG_LIST`` values, on PostgreSQL, the list goes as one array
parameter instead: ``column = ANY(:values)`` (``column <> ALL(:values)`` for NOT IN), which PostgreSQL plans
as it plans an IN list. Shorter lists, and other dialects (MariaDB's drivers interpolate client-side;
SQLite's limit is its build's ``SQLITE_MAX_VARIABLE_NUMBER``), keep the usual ``IN``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, all_, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

__all__ = ["LONG_LIST", "ManyValues"]

LONG_LIST = 30_000
"""Lists longer than this go as one array parameter on PostgreSQL (below asyncpg's 32,767)."""


class ManyValues(ColumnElement[bool]):
    """``column IN values`` (or ``NOT IN`` with ``negate``) for a list of non-NULL values."""

    type = Boolean()
    inherit_cache = True
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("values", InternalTraversal.dp_clauseelement),
        ("array", InternalTraversal.dp_clauseelement),
        ("negate", InternalTraversal.dp_plain_obj),
    ]

    def __init__(self, column: ColumnElement[Any], values: list[Any], *, negate: bool) -> None:
        self.column = column
        # Both forms are parameters of the element (so a cached compiled statement takes each new list's
        # values from them); a dialect renders one and ignores the other.
        self.values = bindparam(None, values, expanding=True, type_=column.type)
        self.array = bindparam(None, values, type_=ARRAY(column.type))
        self.negate = negate


@compiles(ManyValues)
def _in_list(element: ManyValues, compiler: SQLCompiler, **kw: Any) -> str:
    column = element.column
    clause = column.not_in(element.values) if element.negate else column.in_(element.values)
    return compiler.process(clause, **kw)


@compiles(ManyValues, "postgresql")
def _array(element: ManyValues, compiler: SQLCompiler, **kw: Any) -> str:
    column = element.column
    clause = column != all_(element.array) if element.negate else column == any_(element.array)
    return compiler.process(clause, **kw)
