"""``ORDER BY <expr> NULLS FIRST|LAST`` on every dialect.

PostgreSQL and SQLite (3.30+) have the syntax; MariaDB and MySQL don't, and sort NULL as the lowest value.
There a leading ``<expr> IS NULL`` key does it: ``ORDER BY <expr> IS NULL DESC, <expr> ASC`` puts NULLs first
whatever the direction of the second key.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import nulls_first, nulls_last
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

__all__ = ["NullsPlacement"]


class NullsPlacement(ColumnElement[Any]):
    """The ordering term ``ordering`` (``expr.asc()``/``expr.desc()``) with NULLs of ``expr`` first or last."""

    inherit_cache = True
    _traverse_internals = [
        ("sort_key", InternalTraversal.dp_clauseelement),
        ("ordering", InternalTraversal.dp_clauseelement),
        ("first", InternalTraversal.dp_plain_obj),
    ]

    def __init__(self, expression: ColumnElement[Any], ordering: ColumnElement[Any], *, nulls_first: bool) -> None:
        self.sort_key = expression
        self.ordering = ordering
        self.first = nulls_first


@compiles(NullsPlacement)
def _standard(element: NullsPlacement, compiler: SQLCompiler, **kw: Any) -> str:
    placed = nulls_first(element.ordering) if element.first else nulls_last(element.ordering)
    return compiler.process(placed, **kw)


@compiles(NullsPlacement, "mysql")
@compiles(NullsPlacement, "mariadb")
def _leading_key(element: NullsPlacement, compiler: SQLCompiler, **kw: Any) -> str:
    is_null = element.sort_key.is_(None)
    key = is_null.desc() if element.first else is_null.asc()
    return f"{compiler.process(key, **kw)}, {compiler.process(element.ordering, **kw)}"
