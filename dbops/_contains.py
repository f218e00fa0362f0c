"""A case-sensitive "contains" that is case-sensitive on every dialect.

``LIKE`` is case-sensitive on PostgreSQL and on MariaDB/MySQL with a binary or case-sensitive collation, but
SQLite's ``LIKE`` ignores ASCII case. There ``instr(column, value) > 0`` does the exact match instead.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, func, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

__all__ = ["CaseSensitiveContains", "contains_pattern"]

_ESCAPE = "/"


def contains_pattern(value: str) -> tuple[str, str | None]:
    """The ``LIKE`` pattern matching ``value`` anywhere, and the escape character it needs (``None`` if none).

    The pattern is computed here rather than in SQL (``'%' || :v || '%' ESCAPE '/'``), so the database sees
    one constant pattern and, without wildcards in ``value``, no ESCAPE clause.
    """
    if not any(char in value for char in ("%", "_", _ESCAPE)):
        return f"%{value}%", None
    escaped = value.replace(_ESCAPE, _ESCAPE * 2).replace("%", _ESCAPE + "%").replace("_", _ESCAPE + "_")
    return f"%{escaped}%", _ESCAPE


class CaseSensitiveContains(ColumnElement[bool]):
    """``column`` contains ``value`` exactly (same case); wildcard characters in ``value`` are literal."""

    type = Boolean()
    inherit_cache = True
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("value", InternalTraversal.dp_clauseelement),
        ("pattern", InternalTraversal.dp_clauseelement),
        ("escape", InternalTraversal.dp_plain_obj),
    ]

    def __init__(self, column: ColumnElement[Any], value: str) -> None:
        pattern, self.escape = contains_pattern(value)
        self.column = column
        self.value = literal(value)
        self.pattern = literal(pattern)


@compiles(CaseSensitiveContains)
def _like(element: CaseSensitiveContains, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column.like(element.pattern, escape=element.escape), **kw)


@compiles(CaseSensitiveContains, "sqlite")
def _instr(element: CaseSensitiveContains, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(func.instr(element.column, element.value) > 0, **kw)
