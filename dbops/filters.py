"""Filters for repository and service queries: each one adds itself to a ``select()`` statement.

Filters are plain dataclasses, built anywhere (a web framework's query parameters, a CLI, a test) and applied
by the repository: ``repo.list(SearchFilter("name", "ann", ignore_case=True), LimitOffset(20, 0))``.
Every filter checks its arguments when it is built and its field names against the model when it is applied;
a bad one raises ``dbops.errors.FilterError`` naming the filter, the model and the field.

NULL follows Python, not SQL's three-valued logic: ``None`` among the values of ``CollectionFilter`` (or
``ComparisonFilter(..., "in", ...)``) matches NULL rows; ``NotInCollectionFilter``, ``"notin"``, ``"ne"`` and
``NotInSearchFilter`` keep NULL rows unless ``None`` is among the values (a NULL is not "x"). So a filter and its
negation always split the rows between them, and a ``None`` in a NOT IN list never empties the result.
``None`` as the whole argument means "no filter" (``CollectionFilter(values=None)``, ``SearchFilter(value=None)``):
what a web framework passes for an absent query parameter.

>>> from dbops.filters import LimitOffset, OrderBy, SearchFilter
>>> filters = [SearchFilter(field_name="name", value="an"), OrderBy("name"), LimitOffset(limit=10, offset=0)]
"""

from __future__ import annotations

import datetime
from abc import ABC, abstractmethod
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, Union

from dbops.errors import FilterError

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement, Select

__all__ = [
    "BeforeAfter",
    "BooleanFilter",
    "ChoicesFilter",
    "CollectionFilter",
    "ComparisonFilter",
    "ExistsFilter",
    "FilterGroup",
    "FilterTypes",
    "InAnyFilter",
    "LimitOffset",
    "MultiFilter",
    "NotExistsFilter",
    "NotInCollectionFilter",
    "NotInSearchFilter",
    "NotNullFilter",
    "NullFilter",
    "OnBeforeAfter",
    "OrderBy",
    "PaginationFilter",
    "SearchFilter",
    "StatementFilter",
    "StatementFilterT",
    "StatementTypeT",
    "column_for",
    "in_values",
    "not_in_values",
]

SelectT = TypeVar("SelectT", bound="Select[Any]")
T = TypeVar("T")
StatementTypeT = TypeVar("StatementTypeT", bound="Select[Any]")
"""The statement a filter's ``append_to_statement`` takes and returns (Advanced Alchemy's name, for filters of
your own: ``def append_to_statement(self, statement: StatementTypeT, model) -> StatementTypeT``)."""
StatementFilterT = TypeVar("StatementFilterT", bound="StatementFilter")

FieldName = Union[str, Any]
"""A model attribute name, or the attribute itself (``AuthorModel.name``)."""


def _field_label(field_name: FieldName) -> str:
    return field_name if isinstance(field_name, str) else str(getattr(field_name, "key", field_name))


def column_for(model: type[Any], field_name: FieldName, *, filter_name: str) -> ColumnElement[Any]:
    """The SQL expression of ``model.<field_name>``; ``FilterError`` if the model has no such column.

    Column attributes, ``column_property`` and hybrid properties qualify; relationships and plain Python
    attributes don't (they can't be compared in SQL).
    """
    from sqlalchemy import inspect
    from sqlalchemy.orm import ColumnProperty, QueryableAttribute

    if not isinstance(field_name, str):
        if isinstance(field_name, QueryableAttribute) and field_name.class_ is not None:
            field_name = field_name.key
        else:
            raise FilterError(f"{filter_name}: {field_name!r} is neither a field name nor a model attribute")
    mapper = inspect(model, raiseerr=False)
    model_name = getattr(model, "__name__", str(model))
    if mapper is None:
        raise FilterError(f"{filter_name}: {model_name} is not a mapped model", model=model_name)
    prop = mapper.attrs.get(field_name)
    if prop is not None and not isinstance(prop, ColumnProperty):
        raise FilterError(
            f"{filter_name}: {model_name}.{field_name} is a relationship, not a column",
            model=model_name,
            field=field_name,
        )
    attribute = (
        getattr(model, field_name, None) if prop is not None or field_name in mapper.all_orm_descriptors else None
    )
    if attribute is None or not hasattr(attribute, "__clause_element__"):
        known = ", ".join(sorted(p.key for p in mapper.column_attrs))
        raise FilterError(
            f"{filter_name}: {model_name} has no field {field_name!r} (fields: {known})",
            model=model_name,
            field=field_name,
        )
    expression: ColumnElement[Any] = attribute.__clause_element__()
    return expression


def _expression(model: type[Any], field_name: FieldName) -> ColumnElement[Any] | None:
    """``field_name`` as an expression when it is one that ``column_for`` can't check against ``model``: an
    attribute of another mapped class, or a SQL expression. ``None`` for names and ``model``'s own attributes."""
    from sqlalchemy import inspect
    from sqlalchemy.orm import QueryableAttribute
    from sqlalchemy.sql.elements import ClauseElement

    if isinstance(field_name, str):
        return None
    if isinstance(field_name, QueryableAttribute):
        owner = field_name.class_
        mapper = inspect(model, raiseerr=False)
        if owner is None or mapper is None or mapper.isa(inspect(owner)) or inspect(owner).isa(mapper):
            return None
        expression: ColumnElement[Any] = field_name.__clause_element__()
        return expression
    if isinstance(field_name, ClauseElement) and not isinstance(field_name, type):
        return field_name  # type: ignore[return-value]
    return None


class StatementFilter(ABC):
    """A filter that knows how to add itself to a select statement for a model."""

    @abstractmethod
    def append_to_statement(self, statement: SelectT, model: type[Any]) -> SelectT:
        """``statement`` with this filter applied; validates field names against ``model``."""

    def _column(self, model: type[Any], field_name: FieldName) -> ColumnElement[Any]:
        """The expression a filter works on: a field of ``model`` (by name or attribute, checked), an attribute of
        another model (a joined one, in a custom ``statement=``), or any SQL expression (``func.lower(...)``)."""
        expression = _expression(model, field_name)
        if expression is not None:
            return expression
        return column_for(model, field_name, filter_name=type(self).__name__)

    def where_clause(self, model: type[Any]) -> ColumnElement[bool] | None:
        """This filter's condition on ``model`` as one expression (``None`` when it filters nothing), for
        composing filters (``FilterGroup``). Filters that sort or page have none."""
        from sqlalchemy import select

        if isinstance(self, (PaginationFilter, OrderBy)):
            raise FilterError(
                f"{type(self).__name__} sorts or pages, it has no condition: apply it beside the group, not in it"
            )
        clause: ColumnElement[bool] | None = self.append_to_statement(select(model), model).whereclause
        return clause


class PaginationFilter(StatementFilter, ABC):
    """Marks filters that page results (they are dropped when counting)."""


def _bounded(statement: SelectT, column: ColumnElement[Any], low: Any, high: Any, *, inclusive: bool) -> SelectT:
    """``statement`` limited to ``low < column < high`` (``<=`` if inclusive); a ``None`` bound is open."""
    if low is not None:
        statement = statement.where(column >= low if inclusive else column > low)
    if high is not None:
        statement = statement.where(column <= high if inclusive else column < high)
    return statement


def _check_datetime(filter_name: str, name: str, value: Any) -> None:
    if value is not None and not isinstance(value, datetime.date):
        raise FilterError(f"{filter_name}: {name} must be a date or datetime, got {type(value).__name__}")


@dataclass
class BeforeAfter(StatementFilter):
    """Rows whose ``field_name`` is strictly before ``before`` and/or strictly after ``after``."""

    field_name: FieldName
    before: datetime.datetime | None = None
    after: datetime.datetime | None = None

    def __post_init__(self) -> None:
        _check_datetime(type(self).__name__, "before", self.before)
        _check_datetime(type(self).__name__, "after", self.after)

    def append_to_statement(self, statement: SelectT, model: type[Any]) -> SelectT:
        return _bounded(statement, self._column(model, self.field_name), self.after, self.before, inclusive=False)


@dataclass
class OnBeforeAfter(StatementFilter):
    """Rows whose ``field_name`` is on or before ``on_or_before`` and/or on or after ``on_or_after``."""

    field_name: FieldName
    on_or_before: datetime.datetime | None = None
    on_or_after: datetime.datetime | None = None

    def __post_init__(self) -> None:
        _check_datetime(type(self).__name__, "on_or_before", self.on_or_before)
        _check_datetime(type(self).__name__, "on_or_after", self.on_or_after)

    def append_to_statement(self, statement: SelectT, model: type[Any]) -> SelectT:
        column = self._column(model, self.field_name)
        return _bounded(statement, column, self.on_or_after, self.on_or_before, inclusive=True)


class InAnyFilter(StatementFilter, ABC):
    """Base of the collection filters."""


def _nullable(column: ColumnElement[Any]) -> bool:
    return bool(getattr(column, "nullable", True))


def in_values(column: ColumnElement[Any], values: Collection[Any], *, prefer_any: bool = False) -> ColumnElement[bool]:
    """``column`` is one of ``values``; a ``None`` among them matches NULL (SQL's ``IN (NULL)`` never does).

    ``prefer_any`` sends the list to PostgreSQL as one array parameter (``column = ANY(:values)``) however short
    it is (one statement to cache for every list length); other dialects keep ``IN``, which is all they have.
    """
    from sqlalchemy import false, or_

    from dbops._many_values import LONG_LIST, ManyValues

    present = [value for value in values if value is not None]
    with_null = len(present) != len(values)
    if not present:
        return column.is_(None) if with_null else false()
    as_array = prefer_any or len(present) > LONG_LIST
    condition = ManyValues(column, present, negate=False) if as_array else column.in_(present)
    return or_(condition, column.is_(None)) if with_null else condition


def not_in_values(
    column: ColumnElement[Any], values: Collection[Any], *, prefer_any: bool = False
) -> ColumnElement[bool]:
    """``column`` is none of ``values``, the exact complement of ``in_values``: NULL rows stay unless ``None``
    is among the values (SQL's ``NOT IN`` drops them, and drops every row once the list holds a NULL).
    ``prefer_any``: ``column <> ALL(:values)`` on PostgreSQL, as for ``in_values``."""
    from sqlalchemy import and_, or_, true

    from dbops._many_values import LONG_LIST, ManyValues

    present = [value for value in values if value is not None]
    with_null = len(present) != len(values)
    if not present:
        return column.is_not(None) if with_null else true()
    as_array = prefer_any or len(present) > LONG_LIST
    condition = ManyValues(column, present, negate=True) if as_array else column.not_in(present)
    if with_null:
        return and_(condition, column.is_not(None))
    return or_(condition, column.is_(None)) if _nullable(column) else condition


def _check_collection(filter_name: str, values: Any) -> None:
    if values is not None and (isinstance(values, (str, bytes)) or not isinstance(values, Collection)):
        raise FilterError(f"{filter_name}: values must be a list, tuple or set, got {type(values).__name__}")


@dataclass
class CollectionFilter(InAnyFilter, Generic[T]):
    """Rows whose ``field_name`` is one of ``values`` (``None`` among them matches NULL).

    ``values=None`` means no filter; an empty collection matches no rows. ``prefer_any=True`` (here or as
    ``append_to_statement(..., prefer_any=True)``, Advanced Alchemy's spelling) is ``= ANY(:array)`` on
    PostgreSQL and ``IN`` elsewhere.
    """

    field_name: FieldName
    values: Collection[T] | None
    prefer_any: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        _check_collection(type(self).__name__, self.values)

    def append_to_statement(self, statement: SelectT, model: type[Any], prefer_any: bool | None = None) -> SelectT:
        column = self._column(model, self.field_name)
        if self.values is None:
            return statement
        any_ = self.prefer_any if prefer_any is None else prefer_any
        return statement.where(in_values(column, list(self.values), prefer_any=any_))


@dataclass
class ChoicesFilter(CollectionFilter[T]):
    """Rows whose ``field_name`` is one of a fixed set of choices (a ``CollectionFilter`` by another name, as in
    Advanced Alchemy)."""


@dataclass
class NotInCollectionFilter(InAnyFilter, Generic[T]):
    """Rows whose ``field_name`` is none of ``values``; NULL rows are kept unless ``None`` is among the values.

    ``values=None`` or an empty collection means no filter (every row is "none of nothing"). ``prefer_any``:
    ``<> ALL(:array)`` on PostgreSQL, as for ``CollectionFilter``.
    """

    field_name: FieldName
    values: Collection[T] | None
    prefer_any: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        _check_collection(type(self).__name__, self.values)

    def append_to_statement(self, statement: SelectT, model: type[Any], prefer_any: bool | None = None) -> SelectT:
        column = self._column(model, self.field_name)
        if not self.values:
            return statement
        any_ = self.prefer_any if prefer_any is None else prefer_any
        return statement.where(not_in_values(column, list(self.values), prefer_any=any_))


@dataclass
class NullFilter(StatementFilter):
    """Rows whose ``field_name`` is NULL."""

    field_name: FieldName

    def append_to_statement(self, statement: SelectT, model: type[Any]) -> SelectT:
        return statement.where(self._column(model, self.field_name).is_(None))


@dataclass
class NotNullFilter(StatementFilter):
    """Rows whose ``field_name`` is not NULL."""

    field_name: FieldName

    def append_to_statement(self, statement: SelectT, model: type[Any]) -> SelectT:
        return statement.where(self._column(model, self.field_name).is_not(None))


@dataclass
class BooleanFilter(StatementFilter):
    """Rows whose ``field_name`` is ``value`` (``True``/``False``); ``value=None`` means no filter, as for an
    absent query parameter (to find NULLs, use ``NullFilter``)."""

    field_name: FieldName
    value: bool | None

    def __post_init__(self) -> None:
        if self.value is not None and not isinstance(self.value, bool):
            raise FilterError(f"BooleanFilter: value must be True, False or None, got {self.value!r}")

    def append_to_statement(self, statement: SelectT, model: type[Any]) -> SelectT:
        column = self._column(model, self.field_name)
        if self.value is None:
            return statement
        return statement.where(column.is_(True) if self.value else column.is_(False))


@dataclass
class LimitOffset(PaginationFilter):
    """A page of ``limit`` rows starting after ``offset`` rows: ``LimitOffset(limit=20, offset=40)``."""

    limit: int
    offset: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.limit, bool) or not isinstance(self.limit, int) or self.limit < 1:
            raise FilterError(f"LimitOffset: limit must be a positive integer, got {self.limit!r}")
        if isinstance(self.offset, bool) or not isinstance(self.offset, int) or self.offset < 0:
            raise FilterError(f"LimitOffset: offset must be a non-negative integer, got {self.offset!r}")

    def append_to_statement(self, statement: SelectT, model: type[Any]) -> SelectT:
        return statement.limit(self.limit).offset(self.offset)


@dataclass
class OrderBy(StatementFilter):
    """Sort by ``field_name`` (a name, a model attribute or a SQL expression: ``OrderBy(func.lower(Author.name))``),
    ``"asc"`` (default) or ``"desc"``.

    ``nulls="first"``/``"last"`` places NULLs the same way on every dialect (left as ``None``, PostgreSQL puts
    them last ascending and SQLite and MariaDB first); MariaDB/MySQL, which have no ``NULLS FIRST``/``LAST``,
    get a leading ``<expr> IS NULL`` sort key.
    """

    field_name: FieldName
    sort_order: Literal["asc", "desc"] = "asc"
    nulls: Literal["first", "last"] | None = None

    def __post_init__(self) -> None:
        if self.sort_order not in ("asc", "desc"):
            raise FilterError(f"OrderBy: sort_order must be 'asc' or 'desc', got {self.sort_order!r}")
        if self.nulls not in (None, "first", "last"):
            raise FilterError(f"OrderBy: nulls must be 'first', 'last' or None, got {self.nulls!r}")

    def append_to_statement(self, statement: SelectT, model: type[Any]) -> SelectT:
        from dbops._nulls import NullsPlacement

        column = self._column(model, self.field_name)
        ordering = column.desc() if self.sort_order == "desc" else column.asc()
        if self.nulls is None:
            return statement.order_by(ordering)
        return statement.order_by(NullsPlacement(column, ordering, nulls_first=self.nulls == "first"))


def _field_names(filter_name: str, field_name: FieldName | Collection[FieldName]) -> list[FieldName]:
    names = (
        [field_name]
        if isinstance(field_name, str) or not isinstance(field_name, Collection)
        else sorted(field_name, key=_field_label)
    )
    if not names:
        raise FilterError(f"{filter_name}: give at least one field name")
    return names


@dataclass
class SearchFilter(StatementFilter):
    """Rows where any of the fields contains ``value`` (``LIKE '%value%'``; wildcards in ``value`` are literal).

    ``field_name`` is one name or a set of names; ``ignore_case=True`` makes the match case-insensitive, and
    without it the match is case-sensitive on every dialect (SQLite's ``LIKE`` isn't, so there it is ``instr``;
    on MariaDB/MySQL the column's collation decides). ``value=None`` or ``""`` means no filter.
    """

    field_name: FieldName | Collection[FieldName]
    value: str | None
    ignore_case: bool | None = False
    _names: list[FieldName] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._names = _field_names(type(self).__name__, self.field_name)
        if self.value is not None and not isinstance(self.value, str):
            raise FilterError(f"{type(self).__name__}: value must be a string, got {type(self.value).__name__}")

    @property
    def normalized_field_names(self) -> set[str]:
        return {_field_label(name) for name in self._names}

    def _condition(self, column: ColumnElement[Any], value: str) -> ColumnElement[bool]:
        from dbops._contains import CaseSensitiveContains, contains_pattern

        if self.ignore_case:
            from sqlalchemy import func

            pattern, escape = contains_pattern(value)
            # What SQLAlchemy renders for ILIKE elsewhere, and on PostgreSQL what ILIKE does itself in a UTF-8
            # database (it lowers both sides) but with the pattern lowered once, not once per row: ~25% faster.
            return func.lower(column).like(func.lower(pattern), escape=escape)

        return CaseSensitiveContains(column, value)

    def append_to_statement(self, statement: SelectT, model: type[Any]) -> SelectT:
        from sqlalchemy import or_

        columns = [self._column(model, name) for name in self._names]
        if not self.value:
            return statement
        return statement.where(or_(*(self._condition(column, self.value) for column in columns)))


@dataclass
class NotInSearchFilter(SearchFilter):
    """Rows where none of the fields contains ``value`` (the negation of ``SearchFilter``; a NULL field
    contains nothing, so it doesn't exclude its row)."""

    def append_to_statement(self, statement: SelectT, model: type[Any]) -> SelectT:
        from sqlalchemy import and_, not_, or_

        columns = [self._column(model, name) for name in self._names]
        if not self.value:
            return statement
        conditions = [
            or_(not_(self._condition(column, self.value)), column.is_(None))
            if _nullable(column)
            else not_(self._condition(column, self.value))
            for column in columns
        ]
        return statement.where(and_(*conditions))


_OPERATORS = {
    "eq": "__eq__",
    "ne": "__ne__",
    "gt": "__gt__",
    "ge": "__ge__",
    "lt": "__lt__",
    "le": "__le__",
    "in": "in_",
    "notin": "not_in",
    "like": "like",
    "ilike": "ilike",
}


_ORDERING = ("gt", "ge", "lt", "le", "like", "ilike")


@dataclass
class ComparisonFilter(StatementFilter):
    """Rows where ``field_name <operator> value``; operators: eq ne gt ge lt le in notin like ilike.

    ``eq``/``ne`` with ``None`` are ``IS NULL``/``IS NOT NULL``; ``ne`` with a value keeps NULL rows, and
    ``in``/``notin`` treat NULL as ``CollectionFilter``/``NotInCollectionFilter`` do. The ordering and pattern
    operators need a value: against NULL they would match nothing.
    """

    field_name: FieldName
    operator: str
    value: Any

    def __post_init__(self) -> None:
        if self.operator not in _OPERATORS:
            raise FilterError(
                f"ComparisonFilter: unknown operator {self.operator!r} (use one of {', '.join(_OPERATORS)})"
            )
        if self.operator in ("in", "notin"):
            if self.value is None:
                raise FilterError(
                    f"ComparisonFilter: {self.operator!r} needs a list of values, got None "
                    "(CollectionFilter(values=None) is the no-filter form)"
                )
            _check_collection("ComparisonFilter", self.value)
        if self.operator in _ORDERING and self.value is None:
            raise FilterError(
                f"ComparisonFilter: {self.operator!r} needs a value, got None (use 'eq' or 'ne' for IS [NOT] NULL)"
            )

    def append_to_statement(self, statement: SelectT, model: type[Any]) -> SelectT:
        column = self._column(model, self.field_name)
        if self.operator == "in":
            return statement.where(in_values(column, list(self.value)))
        if self.operator == "notin":
            return statement.where(not_in_values(column, list(self.value)))
        if self.operator == "ne" and self.value is not None:
            return statement.where(not_in_values(column, [self.value]))
        condition: ColumnElement[bool] = getattr(column, _OPERATORS[self.operator])(self.value)
        return statement.where(condition)


@dataclass
class ExistsFilter(StatementFilter):
    """Rows for which a correlated subquery finds a match: ``EXISTS (SELECT 1 WHERE <values combined>)``.

    ``values`` are conditions on other tables, including the one that ties them to the model
    (``ExistsFilter([Book.author_id == Author.id, Book.title == "Dune"])`` on authors), combined with
    ``operator="and"`` (default) or ``"or"``. No conditions match no rows.
    """

    values: list[ColumnElement[bool]]
    operator: Literal["and", "or"] = "and"

    def __post_init__(self) -> None:
        if self.operator not in ("and", "or"):
            raise FilterError(f"{type(self).__name__}: operator must be 'and' or 'or', got {self.operator!r}")

    def exists_clause(self, model: type[Any]) -> ColumnElement[bool]:
        """``EXISTS (...)`` correlated to ``model``'s table."""
        from sqlalchemy import and_, exists, false, inspect, literal, or_, select

        if not self.values:
            return false()
        combine = and_ if self.operator == "and" else or_
        subquery = select(literal(1)).where(combine(*self.values))
        mapper = inspect(model, raiseerr=False)
        if mapper is None:
            raise FilterError(f"{type(self).__name__}: {getattr(model, '__name__', model)} is not a mapped model")
        return exists(subquery.correlate(mapper.local_table))

    def append_to_statement(self, statement: SelectT, model: type[Any]) -> SelectT:
        return statement.where(self.exists_clause(model))


@dataclass
class NotExistsFilter(ExistsFilter):
    """Rows for which the correlated subquery of ``ExistsFilter`` finds no match; no conditions keep every row."""

    def exists_clause(self, model: type[Any]) -> ColumnElement[bool]:
        from sqlalchemy import not_, true

        return not_(super().exists_clause(model)) if self.values else true()


def _logical(operator: Any) -> Any:
    """``and_``/``or_`` (SQLAlchemy's, or the strings ``"and"``/``"or"``/``"and_"``/``"or_"``) as SQLAlchemy's."""
    from sqlalchemy import and_, or_

    named = {"and": and_, "and_": and_, "or": or_, "or_": or_}
    if isinstance(operator, str) and operator in named:
        return named[operator]
    if operator in (and_, or_):
        return operator
    raise FilterError(f"FilterGroup: logical_operator must be and_ or or_, got {operator!r}")


@dataclass
class FilterGroup(StatementFilter):
    """Filters combined with ``and_`` or ``or_`` (SQLAlchemy's): ``FilterGroup(or_, [NullFilter("dob"),
    ComparisonFilter("dob", "lt", date(1950, 1, 1))])``. Groups nest. A group of nothing filters nothing.
    Sorting and paging filters have no condition to combine and are refused (apply them beside the group)."""

    logical_operator: Any
    filters: list[StatementFilter]

    def __post_init__(self) -> None:
        _logical(self.logical_operator)
        for item in self.filters:
            if not isinstance(item, StatementFilter):
                raise FilterError(f"FilterGroup: {item!r} is not a filter")

    def append_to_statement(self, statement: SelectT, model: type[Any]) -> SelectT:
        conditions = [clause for clause in (item.where_clause(model) for item in self.filters) if clause is not None]
        if not conditions:
            return statement
        return statement.where(_logical(self.logical_operator)(*conditions))


@dataclass
class MultiFilter(StatementFilter):
    """Filters described by a dict (a JSON request body): ``{"and_": [<filter>, ...]}`` / ``{"or_": [...]}``, where
    each ``<filter>`` is ``{"type": "<kind>", <its fields>}`` or a nested ``{"and_"/"or_": [...]}`` group.

    Kinds: ``before_after``, ``on_before_after``, ``boolean``, ``choices``, ``collection``, ``not_in_collection``,
    ``null``, ``not_null``, ``search``, ``not_in_search``, ``comparison`` (and ``exists`` /
    ``not_exists``, whose ``values`` are SQL expressions, so only from code). Dates may be ISO 8601 strings.
    An unknown kind, a bad field or a missing argument raises ``FilterError`` (Advanced Alchemy drops such a
    filter silently, widening the result).
    """

    filters: dict[str, Any]

    def __post_init__(self) -> None:
        if not isinstance(self.filters, dict):
            raise FilterError(f"MultiFilter: filters must be a dict, got {type(self.filters).__name__}")
        self._groups = [self._group(key, value) for key, value in self.filters.items()]

    def _group(self, key: Any, conditions: Any) -> FilterGroup:
        if key not in ("and_", "or_"):
            raise FilterError(f"MultiFilter: {key!r} is not a group (use 'and_' or 'or_')")
        if not isinstance(conditions, list):
            raise FilterError(f"MultiFilter: {key!r} must hold a list of filters, got {type(conditions).__name__}")
        return FilterGroup(key, [self._filter(condition) for condition in conditions])

    def _filter(self, condition: Any) -> StatementFilter:
        if not isinstance(condition, dict):
            raise FilterError(f"MultiFilter: a filter must be a dict, got {condition!r}")
        groups = [key for key in condition if key in ("and_", "or_")]
        if groups:
            if len(condition) != 1:
                raise FilterError(f"MultiFilter: a group holds only its 'and_' or 'or_' list, got {sorted(condition)}")
            return self._group(groups[0], condition[groups[0]])
        kind = condition.get("type")
        filter_class = _MULTI_FILTER_KINDS.get(kind) if isinstance(kind, str) else None
        if filter_class is None:
            raise FilterError(
                f"MultiFilter: unknown filter type {kind!r} (use one of {', '.join(sorted(_MULTI_FILTER_KINDS))})"
            )
        arguments = {name: value for name, value in condition.items() if name != "type"}
        if filter_class in (BeforeAfter, OnBeforeAfter):
            arguments = {name: _parse_datetime(name, value) for name, value in arguments.items()}
        try:
            made: StatementFilter = filter_class(**arguments)
        except TypeError as exc:
            raise FilterError(f"MultiFilter: {kind}: {exc}") from None
        return made

    def append_to_statement(self, statement: SelectT, model: type[Any]) -> SelectT:
        for group in self._groups:
            statement = group.append_to_statement(statement, model)
        return statement


def _parse_datetime(name: str, value: Any) -> Any:
    if name == "field_name" or not isinstance(value, str):
        return value
    try:
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise FilterError(f"MultiFilter: {name} must be an ISO 8601 date or datetime, got {value!r}") from None


_MULTI_FILTER_KINDS: dict[str, type[StatementFilter]] = {
    "before_after": BeforeAfter,
    "on_before_after": OnBeforeAfter,
    "boolean": BooleanFilter,
    "choices": ChoicesFilter,
    "collection": CollectionFilter,
    "not_in_collection": NotInCollectionFilter,
    "null": NullFilter,
    "not_null": NotNullFilter,
    "search": SearchFilter,
    "not_in_search": NotInSearchFilter,
    "comparison": ComparisonFilter,
    "exists": ExistsFilter,
    "not_exists": NotExistsFilter,
}


FilterTypes = Union[
    BeforeAfter,
    OnBeforeAfter,
    BooleanFilter,
    ChoicesFilter[Any],
    CollectionFilter[Any],
    NotInCollectionFilter[Any],
    NullFilter,
    NotNullFilter,
    LimitOffset,
    OrderBy,
    SearchFilter,
    NotInSearchFilter,
    ComparisonFilter,
    ExistsFilter,
    NotExistsFilter,
    FilterGroup,
    MultiFilter,
]
"""Any of dbops' filters (for annotations such as ``list[FilterTypes]``)."""
