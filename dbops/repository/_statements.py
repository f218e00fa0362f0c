"""Statement building shared by the sync and async repositories (no I/O here).

Filters, keyword filters, eager-load options, ordering, parameter-limit chunking, the values a bulk INSERT
sends for model instances, and the per-dialect upsert statement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, Union

from dbops.errors import FilterError
from dbops.filters import OrderBy, PaginationFilter, StatementFilter, column_for, in_values

if TYPE_CHECKING:
    from sqlalchemy import Column, ColumnElement, Dialect, Select, Table
    from sqlalchemy.orm import Mapper
    from sqlalchemy.sql.base import ExecutableOption

__all__ = [
    "FilterArg",
    "LoadSpec",
    "ModelInfo",
    "OrderingPair",
    "apply_filters",
    "chunks",
    "loader_options",
    "max_parameters",
    "model_info",
    "upsert_statement",
]

T = TypeVar("T")
SelectT = TypeVar("SelectT", bound="Select[Any]")

FilterArg = Union[StatementFilter, "ColumnElement[bool]"]
"""A dbops filter, or any SQLAlchemy boolean expression (``AuthorModel.name == "x"``)."""
LoadSpec = Union[str, Any, Sequence[Any], None]
"""Relationships to eager-load: an attribute (``AuthorModel.books``), its name, a loader option
(``selectinload(...)``), or a list of these."""
OrderingPair = Union[tuple[Union[str, Any], bool], "ColumnElement[Any]"]
"""``(field, descending)``, e.g. ``("name", False)``, or an ordering expression (``AuthorModel.name.desc()``)."""

# Bind parameters one statement may carry: SQLite >= 3.32 allows 32766, PostgreSQL's protocol 65535 (asyncpg
# 32767), MariaDB/MySQL 65535. The smallest per family keeps every driver happy.
_MAX_PARAMETERS = {"sqlite": 32_766, "postgresql": 32_767, "mysql": 65_535, "mariadb": 65_535}
_MAX_ROWS_PER_STATEMENT = 5_000


def max_parameters(dialect: Dialect) -> int:
    """How many bind parameters one statement may carry on ``dialect``."""
    if dialect.name == "sqlite":
        import sqlite3

        if sqlite3.sqlite_version_info < (3, 32, 0):
            return 999
    return _MAX_PARAMETERS.get(dialect.name, 999)


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """``items`` in consecutive slices of at most ``size``."""
    size = max(1, size)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def rows_per_statement(dialect: Dialect, columns: int) -> int:
    """How many rows of ``columns`` values fit in one statement within the dialect's parameter limit."""
    return max(1, min(_MAX_ROWS_PER_STATEMENT, max_parameters(dialect) // max(1, columns)))


def apply_filters(
    statement: SelectT,
    model: type[Any],
    filters: Iterable[FilterArg],
    kwargs: dict[str, Any],
    *,
    pagination: bool = True,
    ordering: bool = True,
) -> SelectT:
    """``statement`` with the filters and ``field=value`` keyword filters applied (validated)."""
    for item in filters:
        if isinstance(item, StatementFilter):
            if (isinstance(item, PaginationFilter) and not pagination) or (isinstance(item, OrderBy) and not ordering):
                continue
            statement = item.append_to_statement(statement, model)
        elif hasattr(item, "__clause_element__") or _is_clause(item):
            statement = statement.where(item)
        else:
            raise FilterError(f"{model.__name__}: {item!r} is not a filter or SQL expression", model=model.__name__)
    for name, value in kwargs.items():
        column = column_for(model, name, filter_name="keyword filter")
        if isinstance(value, (list, tuple, set, frozenset)):
            statement = statement.where(in_values(column, list(value)))
        elif value is None:
            statement = statement.where(column.is_(None))
        else:
            statement = statement.where(column == value)
    return statement


def _is_clause(item: object) -> bool:
    from sqlalchemy.sql.elements import ClauseElement

    return isinstance(item, ClauseElement)


def apply_order_by(
    statement: SelectT, model: type[Any], order_by: OrderingPair | Sequence[OrderingPair] | Any | None
) -> SelectT:
    """``statement`` sorted by ``order_by``: ``(field, descending)`` pairs, or SQL ordering expressions
    (``AuthorModel.name.desc()``, ``func.lower(AuthorModel.name)``), one or a list."""
    if order_by is None:
        return statement
    single = isinstance(order_by, tuple) or _is_clause(order_by) or hasattr(order_by, "__clause_element__")
    items: list[Any] = [order_by] if single else list(order_by)
    for item in items:
        if _is_clause(item) or (hasattr(item, "__clause_element__") and not isinstance(item, tuple)):
            statement = statement.order_by(item)
            continue
        field_name, descending = item
        column = column_for(model, field_name, filter_name="order_by")
        statement = statement.order_by(column.desc() if descending else column.asc())
    return statement


def loader_options(model: type[Any], load: LoadSpec) -> list[ExecutableOption]:
    """Eager-load options for ``load``: to-many relationships get ``selectinload``, to-one ``joinedload``."""
    from sqlalchemy import inspect
    from sqlalchemy.orm import (
        ColumnProperty,
        QueryableAttribute,
        RelationshipProperty,
        joinedload,
        selectinload,
        undefer,
    )
    from sqlalchemy.sql.base import ExecutableOption

    if load is None:
        return []
    items = list(load) if isinstance(load, (list, tuple, set)) else [load]
    mapper = inspect(model)
    options: list[ExecutableOption] = []
    for item in items:
        if isinstance(item, ExecutableOption):
            options.append(item)
            continue
        attribute = item
        if isinstance(item, str):
            if item not in mapper.relationships:
                known = ", ".join(sorted(mapper.relationships.keys())) or "none"
                raise FilterError(
                    f"load=: {model.__name__} has no relationship {item!r} (relationships: {known})",
                    model=model.__name__,
                    field=item,
                )
            attribute = getattr(model, item)
        if isinstance(attribute, QueryableAttribute) and isinstance(attribute.property, ColumnProperty):
            # A column (the seed's ``load=[DocumentModel.file]``): load it even when it is deferred.
            if not mapper.isa(attribute.property.parent):
                raise FilterError(
                    f"load=: {attribute} belongs to {attribute.class_.__name__}, not {model.__name__}",
                    model=model.__name__,
                )
            options.append(undefer(attribute))
            continue
        if not isinstance(attribute, QueryableAttribute) or not isinstance(attribute.property, RelationshipProperty):
            raise FilterError(f"load=: {item!r} is not a relationship of {model.__name__}", model=model.__name__)
        if not mapper.isa(attribute.property.parent):
            raise FilterError(
                f"load=: {attribute} belongs to {attribute.class_.__name__}, not {model.__name__}", model=model.__name__
            )
        options.append(selectinload(attribute) if attribute.property.uselist else joinedload(attribute))
    return options


@dataclass(frozen=True)
class InsertColumn:
    key: str  # the mapped attribute name
    name: str  # the column name
    default: Callable[[], Any] | None  # a Python-side default, context free
    server_generated: bool  # the database fills it in (server default, autoincrement, SQL expression default)
    required: bool = False  # NOT NULL with no default of any kind: an INSERT must carry a value


@dataclass(frozen=True)
class ModelInfo:
    """What the bulk paths need to know about a model, computed once per class."""

    mapper: Mapper[Any]
    table: Table | None
    columns: tuple[InsertColumn, ...]
    primary_key: tuple[str, ...]  # attribute names
    relationships: tuple[str, ...]
    bulk_ok: bool  # a single-table model the bulk statements can write directly
    has_updated_at: bool
    has_created_at: bool

    def column(self, key: str) -> Column[Any]:
        assert self.table is not None
        name = next(c.name for c in self.columns if c.key == key)
        return self.table.c[name]

    def unique_sets(self) -> list[frozenset[str]]:
        """Attribute-name sets with a unique constraint or index (the primary key first)."""
        from sqlalchemy import UniqueConstraint

        if self.table is None:
            return []
        by_name = {c.name: c.key for c in self.columns}
        sets = [frozenset(self.primary_key)]
        for item in (*self.table.constraints, *self.table.indexes):
            if isinstance(item, UniqueConstraint) or getattr(item, "unique", False):
                names = [c.name for c in getattr(item, "columns", [])]
                if names and all(n in by_name for n in names):
                    sets.append(frozenset(by_name[n] for n in names))
        sets.extend(frozenset([by_name[c.name]]) for c in self.table.columns if c.unique and c.name in by_name)
        return sets


def _python_default(column: Column[Any]) -> Callable[[], Any] | None:
    default = column.default
    if default is None:
        return None
    if getattr(default, "is_scalar", False):
        value = default.arg  # type: ignore[attr-defined]
        return lambda: value
    if getattr(default, "is_callable", False):
        fn = default.arg  # type: ignore[attr-defined]
        from sqlalchemy.util import get_callable_argspec

        wrapped = getattr(fn, "__wrapped__", None) or fn
        try:
            spec = get_callable_argspec(wrapped, no_self=True)
        except TypeError:
            return lambda: fn(None)
        positional = len(spec.args) - len(spec.defaults or ())
        if positional == 0:
            return wrapped  # type: ignore[no-any-return]
        return None  # a context-sensitive default: only the unit of work can run it
    return None


_MODEL_INFO: dict[type[Any], ModelInfo] = {}


def model_info(model: type[Any]) -> ModelInfo:
    """The bulk-write facts about ``model`` (cached per class)."""
    info = _MODEL_INFO.get(model)
    if info is None:
        info = _MODEL_INFO[model] = _model_info(model)
    return info


def _model_info(model: type[Any]) -> ModelInfo:
    from sqlalchemy import Table, inspect

    mapper = inspect(model)
    table = mapper.local_table if isinstance(mapper.local_table, Table) else None
    columns: list[InsertColumn] = []
    bulk_ok = table is not None and mapper.inherits is None and mapper.polymorphic_on is None
    for prop in mapper.column_attrs:
        if len(prop.columns) != 1 or table is None or prop.columns[0].table is not table:
            continue
        column: Column[Any] = prop.columns[0]
        default = _python_default(column)
        context_default = column.default is not None and default is None
        if context_default and not getattr(column.default, "is_clause_element", False):
            bulk_ok = False
        server = (
            column.server_default is not None
            or getattr(column.default, "is_clause_element", False)
            or (column.primary_key and column is table._autoincrement_column)
        )
        required = not column.nullable and default is None and not server and column.default is None
        columns.append(InsertColumn(prop.key, column.name, default, server, required))
    if table is not None and len(columns) != len(table.columns):
        bulk_ok = False  # columns the mapper doesn't know about (e.g. excluded properties)
    keys = {c.key for c in columns}
    return ModelInfo(
        mapper=mapper,
        table=table,
        columns=tuple(columns),
        primary_key=tuple(mapper.get_property_by_column(c).key for c in mapper.primary_key),
        relationships=tuple(mapper.relationships.keys()),
        bulk_ok=bulk_ok,
        has_updated_at="updated_at" in keys,
        has_created_at="created_at" in keys,
    )


def upsert_statement(dialect: Dialect, table: Table, match: Sequence[str], update: Sequence[str]) -> Any:
    """``INSERT ... ON CONFLICT (match) DO UPDATE`` (PostgreSQL, SQLite) or ``ON DUPLICATE KEY UPDATE``
    (MariaDB/MySQL); ``update`` names the columns to overwrite. Execute it with a list of column-keyed rows:
    one statement compiled once, sent as an executemany (batched into multi-row VALUES by the driver or by
    SQLAlchemy's insertmanyvalues)."""
    if dialect.name in ("postgresql", "sqlite"):
        from sqlalchemy.dialects import postgresql, sqlite

        statement = (postgresql.insert if dialect.name == "postgresql" else sqlite.insert)(table)
        if not update:
            return statement.on_conflict_do_nothing(index_elements=list(match))
        return statement.on_conflict_do_update(
            index_elements=list(match), set_={name: statement.excluded[name] for name in update}
        )
    if dialect.name in ("mysql", "mariadb"):
        from sqlalchemy.dialects.mysql import insert as mysql_insert

        mysql_statement = mysql_insert(table)
        # A no-op assignment keeps "nothing to update" an upsert instead of a duplicate-key error.
        names = list(update) or [match[0]]
        return mysql_statement.on_duplicate_key_update({name: mysql_statement.inserted[name] for name in names})
    return None
