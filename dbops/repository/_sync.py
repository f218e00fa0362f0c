"""The repository logic, written once against a sync ``Session``.

``SQLAlchemySyncRepository`` runs it directly; ``SQLAlchemyAsyncRepository`` runs the very same methods inside
``AsyncSession.run_sync`` (SQLAlchemy's greenlet bridge), so both behave identically by construction.
"""

from __future__ import annotations

import builtins
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from dbops.errors import DuplicateKeyError, ImproperConfigurationError, NotFoundError, RepositoryError
from dbops.filters import LimitOffset, PaginationFilter, column_for
from dbops.repository._errors import wrap_sqlalchemy_exception
from dbops.repository._keys import key_fields, key_names, key_of
from dbops.repository._statements import (
    FilterArg,
    LoadSpec,
    ModelInfo,
    OrderingPair,
    apply_filters,
    apply_order_by,
    chunks,
    loader_options,
    model_info,
    rows_per_statement,
    upsert_statement,
)
from dbops.types.datetime import utcnow

if TYPE_CHECKING:
    import contextlib

    from sqlalchemy import ColumnElement, Dialect, Executable, Select
    from sqlalchemy.orm import Session, scoped_session
    from sqlalchemy.sql.base import ExecutableOption

__all__ = ["SQLAlchemySyncRepository"]

ModelT = TypeVar("ModelT")
StatementT = TypeVar("StatementT", bound="Executable")

_UNSET: Any = object()


def _describe(filters: Sequence[Any], kwargs: dict[str, Any]) -> str:
    parts = [repr(f) for f in filters] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return ", ".join(parts) if parts else "no filters"


class SQLAlchemySyncRepository(Generic[ModelT]):
    """CRUD for one model on a sync ``Session``.

    ``class AuthorRepo(SQLAlchemySyncRepository[Author]): model_type = Author``, then
    ``AuthorRepo(session=session).list(...)``.

    Every method takes dbops filters (``dbops.filters``), SQLAlchemy expressions and ``field=value`` keyword
    filters; ``load=`` eager-loads relationships (``load=[Author.books]``). ``auto_commit`` commits after a
    write (default: flush only), ``auto_refresh`` reloads written rows, ``auto_expunge`` detaches results.
    Errors come out as ``NotFoundError``, ``DuplicateKeyError``, ``ForeignKeyError``, ``IntegrityError``,
    ``FilterError`` or ``RepositoryError`` (``dbops.errors``), naming the model and field.
    """

    model_type: ClassVar[type[Any]]
    """The mapped class this repository manages (set it on your subclass)."""
    id_attribute: ClassVar[str] = "id"
    """The attribute ``get``/``update``/``delete`` look items up by."""
    match_fields: ClassVar[builtins.list[str] | str | None] = None
    """Default fields ``upsert``/``get_or_upsert`` match existing rows on (default: ``id_attribute``)."""
    count_with_window_function: ClassVar[bool | None] = None
    """``list_and_count`` in one query (``count(*) OVER ()``) instead of a list query plus a count query.
    ``None`` (default) picks per dialect: the window on PostgreSQL and MariaDB/MySQL, where it saves a round trip
    and a scan; two queries on SQLite, which materialises every matching row for the window."""

    def __init__(
        self,
        *,
        session: Session | scoped_session[Session],
        statement: Select[Any] | None = None,
        auto_expunge: bool = False,
        auto_refresh: bool = True,
        auto_commit: bool = False,
        order_by: OrderingPair | builtins.list[OrderingPair] | None = None,
        load: LoadSpec = None,
        execution_options: dict[str, Any] | None = None,
        wrap_exceptions: bool = True,
        count_with_window_function: bool | None = None,
        model_type: type[ModelT] | None = None,
    ) -> None:
        if model_type is not None:
            self.model_type = model_type  # type: ignore[misc]
        if getattr(self, "model_type", None) is None:
            raise ImproperConfigurationError(
                f"{type(self).__name__} needs a model: set model_type = <YourModel> on the class"
            )
        self.session = session
        self.statement = statement
        self.auto_expunge = auto_expunge
        self.auto_refresh = auto_refresh
        self.auto_commit = auto_commit
        self.order_by = order_by
        self.execution_options = dict(execution_options or {})
        self.wrap_exceptions = wrap_exceptions
        if count_with_window_function is not None:
            self.count_with_window_function = count_with_window_function  # type: ignore[misc]
        with self._wrap():
            self._load_options: builtins.list[ExecutableOption] = loader_options(self.model_type, load)

    # -- plumbing ------------------------------------------------------------------------------------

    @property
    def _info(self) -> ModelInfo:
        return model_info(self.model_type)

    @property
    def _dialect(self) -> Dialect:
        # Through the session's connection, not just its bind: a dialect learns what the server supports
        # (MariaDB's RETURNING, ...) on the engine's first connect, and flags read before it are the defaults.
        return self.session.connection(bind_arguments={"mapper": self._info.mapper}).dialect

    def _wrap(self) -> contextlib.AbstractContextManager[None]:
        return wrap_sqlalchemy_exception(self.model_type, enabled=self.wrap_exceptions)

    def _select(
        self, statement: Select[Any] | None, load: LoadSpec, execution_options: dict[str, Any] | None
    ) -> Select[Any]:
        from sqlalchemy import select

        if statement is None:
            statement = self.statement if self.statement is not None else select(self.model_type)
        options = loader_options(self.model_type, load) if load is not None else self._load_options
        if options:
            statement = statement.options(*options)
        return self._with_execution_options(statement, execution_options)

    def _with_execution_options(self, statement: StatementT, execution_options: dict[str, Any] | None) -> StatementT:
        """``statement`` with the repository's execution options, overridden by the call's."""
        merged = {**self.execution_options, **(execution_options or {})}
        return statement.execution_options(**merged) if merged else statement

    def _column(self, name: str | None) -> ColumnElement[Any]:
        return column_for(self.model_type, name or self.id_attribute, filter_name=type(self).__name__)

    def _all(self, statement: Select[Any]) -> builtins.list[ModelT]:
        return builtins.list(self.session.execute(statement).unique().scalars().all())

    def _finish(
        self,
        items: Iterable[ModelT],
        *,
        auto_commit: bool | None = None,
        auto_refresh: bool | None = None,
        auto_expunge: bool | None = None,
        attribute_names: Iterable[str] | None = None,
        write: bool = True,
    ) -> None:
        """Flush (or commit), refresh and expunge after a write, honouring the per-call overrides."""
        items = builtins.list(items)
        if write:
            if self.auto_commit if auto_commit is None else auto_commit:
                self.session.commit()
            else:
                self.session.flush()
        if write and (self.auto_refresh if auto_refresh is None else auto_refresh):
            for item in items:
                self.session.refresh(item, attribute_names=builtins.list(attribute_names) if attribute_names else None)
        if self.auto_expunge if auto_expunge is None else auto_expunge:
            for item in items:
                self.session.expunge(item)

    def _set_values(self, data: Any) -> dict[str, Any]:
        """The column attributes ``data`` (a model instance or a dict) sets, by attribute name."""
        info = self._info
        column_keys = {c.key for c in info.columns} or {p.key for p in info.mapper.column_attrs}
        if isinstance(data, dict):
            unknown = sorted(set(data) - column_keys - set(info.relationships))
            if unknown:
                from dbops.errors import FilterError

                raise FilterError(
                    f"{self.model_type.__name__} has no field {unknown[0]!r}",
                    model=self.model_type.__name__,
                    field=unknown[0],
                )
            return {k: v for k, v in data.items() if k in column_keys}
        return {k: v for k, v in vars(data).items() if k in column_keys}

    def _copy_relationships(self, source: Any, target: Any) -> None:
        """Move the related objects ``source`` (a detached instance) carries onto ``target``, as a merge would:
        ``update(Author(id=..., books=[...]))`` replaces the books; relationships it never set stay untouched.

        ``source`` gives them up first: while they still point back at it, adding them to the session would
        cascade ``source`` in along their backrefs, as a second new row.
        """
        carried = vars(source)
        for key in self._info.relationships:
            if key not in carried:
                continue
            value = carried[key]
            empty: Any
            if isinstance(value, dict):
                value, empty = dict(value), {}
            elif isinstance(value, (builtins.list, set)):
                value, empty = (builtins.list(value), []) if isinstance(value, builtins.list) else (set(value), set())
            else:
                empty = None
            setattr(source, key, empty)
            setattr(target, key, value)

    def _key_names(self, id_attribute: Any) -> builtins.list[str]:
        return key_names(self.model_type, id_attribute, self.id_attribute)

    def _match_names(self, match_fields: builtins.list[str] | str | None) -> builtins.list[str]:
        fields = match_fields if match_fields is not None else self.match_fields
        if fields is None:
            return self._key_names(None)
        names = [fields] if isinstance(fields, str) else builtins.list(fields)
        for name in names:
            self._column(name)  # validates
        return names

    def _with_for_update(self, statement: Select[Any], with_for_update: Any) -> Select[Any]:
        if not with_for_update:
            return statement
        return statement.with_for_update(**(with_for_update if isinstance(with_for_update, dict) else {}))

    def _pk_in(self, values: Sequence[Any]) -> ColumnElement[bool]:
        from sqlalchemy import tuple_

        info = self._info
        columns = [self._column(name) for name in info.primary_key]
        if len(columns) == 1:
            return columns[0].in_(values)
        return tuple_(*columns).in_(values)

    def _pk_of(self, item: Any) -> Any:
        keys = self._info.primary_key
        values = tuple(getattr(item, k) for k in keys)
        return values[0] if len(values) == 1 else values

    # -- reads ---------------------------------------------------------------------------------------

    def get(
        self,
        item_id: Any,
        *,
        auto_expunge: bool | None = None,
        statement: Select[Any] | None = None,
        id_attribute: str | None = None,
        load: LoadSpec = None,
        execution_options: dict[str, Any] | None = None,
        with_for_update: Any = None,
    ) -> ModelT:
        """The item whose ``id_attribute`` is ``item_id``; ``NotFoundError`` if there is none.

        With a composite primary key (and no ``id_attribute``), ``item_id`` is the whole key: a tuple in
        primary-key column order, ``get((1, "math"))``, or a dict, ``get({"student_id": 1, "course": "math"})``.
        """
        from sqlalchemy import and_

        with self._wrap():
            fields = key_fields(self.model_type, item_id, id_attribute=id_attribute, default=self.id_attribute)
            condition = and_(*(self._column(name) == value for name, value in fields.items()))
            select_statement = self._select(statement, load, execution_options).where(condition)
            found = self._all(self._with_for_update(select_statement, with_for_update))
            if not found:
                raise NotFoundError(
                    f"no {self.model_type.__name__} with {', '.join(f'{k}={v!r}' for k, v in fields.items())}",
                    model=self.model_type.__name__,
                    field=", ".join(fields),
                )
            self._finish(found[:1], auto_expunge=auto_expunge, write=False)
            return found[0]

    def get_one_or_none(
        self,
        *filters: FilterArg,
        statement: Select[Any] | None = None,
        auto_expunge: bool | None = None,
        load: LoadSpec = None,
        execution_options: dict[str, Any] | None = None,
        with_for_update: Any = None,
        **kwargs: Any,
    ) -> ModelT | None:
        """The one item matching the filters, or ``None``; ``MultipleResultsFoundError`` if several match."""
        with self._wrap():
            select_statement = apply_filters(
                self._select(statement, load, execution_options), self.model_type, filters, kwargs
            )
            found = self.session.execute(self._with_for_update(select_statement, with_for_update)).unique()
            item: ModelT | None = found.scalars().one_or_none()
            if item is not None:
                self._finish([item], auto_expunge=auto_expunge, write=False)
            return item

    def get_one(
        self,
        *filters: FilterArg,
        statement: Select[Any] | None = None,
        auto_expunge: bool | None = None,
        load: LoadSpec = None,
        execution_options: dict[str, Any] | None = None,
        with_for_update: Any = None,
        **kwargs: Any,
    ) -> ModelT:
        """The one item matching the filters; ``NotFoundError`` if none, ``MultipleResultsFoundError`` if several."""
        item = self.get_one_or_none(
            *filters,
            statement=statement,
            auto_expunge=auto_expunge,
            load=load,
            execution_options=execution_options,
            with_for_update=with_for_update,
            **kwargs,
        )
        if item is None:
            raise NotFoundError(
                f"no {self.model_type.__name__} matches {_describe(filters, kwargs)}", model=self.model_type.__name__
            )
        return item

    def count(
        self,
        *filters: FilterArg,
        statement: Select[Any] | None = None,
        load: LoadSpec = None,
        execution_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> int:
        """How many items match the filters (pagination and ordering filters are ignored; so is ``load``, which
        counting doesn't need and which is accepted so calls can pass the same arguments as to ``list``)."""
        from sqlalchemy import func, select

        with self._wrap():
            filtered, custom = self._unpaged(statement, filters, kwargs)
            if not custom:
                count_statement = filtered.with_only_columns(func.count(), maintain_column_froms=True)
            else:  # a custom statement may group, join or be distinct: count its rows as a subquery
                count_statement = select(func.count()).select_from(filtered.subquery())
            count_statement = self._with_execution_options(count_statement, execution_options)
            return int(self.session.execute(count_statement).scalar_one())

    def exists(
        self,
        *filters: FilterArg,
        statement: Select[Any] | None = None,
        load: LoadSpec = None,
        execution_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> bool:
        """Whether any item matches the filters (``load`` is accepted, as for ``count``, and not needed)."""
        from sqlalchemy import literal, select

        with self._wrap():
            filtered, _ = self._unpaged(statement, filters, kwargs)
            probe = select(literal(1)).select_from(filtered.limit(1).subquery())
            return self.session.execute(self._with_execution_options(probe, execution_options)).first() is not None

    def _unpaged(
        self, statement: Select[Any] | None, filters: Sequence[FilterArg], kwargs: dict[str, Any]
    ) -> tuple[Select[Any], bool]:
        """The filtered, unordered, unpaged statement, and whether it came from a custom ``statement``."""
        from sqlalchemy import select

        base = statement if statement is not None else self.statement
        filtered = apply_filters(
            base if base is not None else select(self.model_type),
            self.model_type,
            filters,
            kwargs,
            pagination=False,
            ordering=False,
        )
        return filtered.order_by(None), base is not None

    def list(
        self,
        *filters: FilterArg,
        statement: Select[Any] | None = None,
        auto_expunge: bool | None = None,
        order_by: OrderingPair | builtins.list[OrderingPair] | None = None,
        load: LoadSpec = None,
        execution_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> builtins.list[ModelT]:
        """The items matching the filters (``LimitOffset`` pages, ``OrderBy`` sorts)."""
        with self._wrap():
            select_statement = self._select(statement, load, execution_options)
            select_statement = apply_order_by(
                select_statement, self.model_type, order_by if order_by is not None else self.order_by
            )
            items = self._all(apply_filters(select_statement, self.model_type, filters, kwargs))
            self._finish(items, auto_expunge=auto_expunge, write=False)
            return items

    def get_many(
        self,
        *filters: FilterArg,
        statement: Select[Any] | None = None,
        auto_expunge: bool | None = None,
        order_by: OrderingPair | builtins.list[OrderingPair] | None = None,
        load: LoadSpec = None,
        execution_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> builtins.list[ModelT]:
        """``list`` under Advanced Alchemy's newer name."""
        return self.list(
            *filters,
            statement=statement,
            auto_expunge=auto_expunge,
            order_by=order_by,
            load=load,
            execution_options=execution_options,
            **kwargs,
        )

    def get_many_and_count(
        self,
        *filters: FilterArg,
        statement: Select[Any] | None = None,
        auto_expunge: bool | None = None,
        count_with_window_function: bool | None = None,
        order_by: OrderingPair | builtins.list[OrderingPair] | None = None,
        load: LoadSpec = None,
        execution_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> tuple[builtins.list[ModelT], int]:
        """``list_and_count`` under Advanced Alchemy's newer name."""
        return self.list_and_count(
            *filters,
            statement=statement,
            auto_expunge=auto_expunge,
            count_with_window_function=count_with_window_function,
            order_by=order_by,
            load=load,
            execution_options=execution_options,
            **kwargs,
        )

    def list_and_count(
        self,
        *filters: FilterArg,
        statement: Select[Any] | None = None,
        auto_expunge: bool | None = None,
        count_with_window_function: bool | None = None,
        order_by: OrderingPair | builtins.list[OrderingPair] | None = None,
        load: LoadSpec = None,
        execution_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> tuple[builtins.list[ModelT], int]:
        """A page of items and the total number matching the filters (ignoring pagination)."""
        from sqlalchemy import func

        window = self.count_with_window_function if count_with_window_function is None else count_with_window_function
        if window is None:
            window = self._dialect.name != "sqlite"
        with self._wrap():
            if window:
                select_statement = self._select(statement, load, execution_options)
                select_statement = apply_order_by(
                    select_statement, self.model_type, order_by if order_by is not None else self.order_by
                )
                select_statement = apply_filters(select_statement, self.model_type, filters, kwargs)
                rows = self.session.execute(select_statement.add_columns(func.count().over())).unique().all()
                if rows:
                    items = [row[0] for row in rows]
                    self._finish(items, auto_expunge=auto_expunge, write=False)
                    return items, int(rows[0][1])
                return [], self.count(*filters, statement=statement, execution_options=execution_options, **kwargs)
            items = self.list(
                *filters,
                statement=statement,
                auto_expunge=auto_expunge,
                order_by=order_by,
                load=load,
                execution_options=execution_options,
                **kwargs,
            )
            known = self._total_from_page(
                items, filters, custom=(statement if statement is not None else self.statement)
            )
            if known is not None:
                return items, known
            return items, self.count(*filters, statement=statement, execution_options=execution_options, **kwargs)

    @staticmethod
    def _total_from_page(items: Sequence[Any], filters: Sequence[Any], custom: Select[Any] | None) -> int | None:
        """The total when the page itself tells it, so no count query is needed: no pagination at all, or a
        page that isn't full (the last one). ``None`` when a count is needed."""
        if custom is not None:
            return None  # a custom statement may carry its own LIMIT
        pages = [f for f in filters if isinstance(f, PaginationFilter)]
        if not pages:
            return len(items)
        page = pages[0]
        if len(pages) == 1 and isinstance(page, LimitOffset) and len(items) < page.limit and (items or not page.offset):
            return page.offset + len(items)
        return None

    # -- single-item writes --------------------------------------------------------------------------

    def add(
        self,
        data: ModelT,
        *,
        auto_commit: bool | None = None,
        auto_expunge: bool | None = None,
        auto_refresh: bool | None = None,
    ) -> ModelT:
        """Insert ``data`` (a model instance) and return it with its generated values."""
        with self._wrap():
            self.session.add(data)
            self._finish([data], auto_commit=auto_commit, auto_refresh=auto_refresh, auto_expunge=auto_expunge)
            return data

    def update(
        self,
        data: ModelT,
        *,
        attribute_names: Iterable[str] | None = None,
        with_for_update: Any = None,
        auto_commit: bool | None = None,
        auto_expunge: bool | None = None,
        auto_refresh: bool | None = None,
        id_attribute: str | None = None,
        load: LoadSpec = None,
        execution_options: dict[str, Any] | None = None,
    ) -> ModelT:
        """Write the fields ``data`` sets onto the stored item with the same id (a partial update).

        ``data`` may be the loaded item itself (changed in place) or a new instance carrying the id and only
        the fields to change: ``repo.update(Author(id=author_id, name="new"))`` leaves ``dob`` alone.
        """
        from sqlalchemy import inspect

        with self._wrap():
            if inspect(data).session is self.session:
                item = data
            else:
                values = self._set_values(data)
                item_id = key_of(self.model_type, values, id_attribute=id_attribute, default=self.id_attribute)
                if item_id is None:
                    id_names = self._key_names(id_attribute)
                    raise RepositoryError(
                        f"cannot update a {self.model_type.__name__} without its {', '.join(id_names)}",
                        model=self.model_type.__name__,
                        field=", ".join(id_names),
                    )
                item = self.get(
                    item_id,
                    auto_expunge=False,  # expunged (if asked) after the write, not before it
                    id_attribute=id_attribute,
                    load=load,
                    execution_options=execution_options,
                    with_for_update=with_for_update,
                )
                key_names = set(self._key_names(id_attribute)) | set(self._info.primary_key)
                for key, value in values.items():
                    if key not in key_names:
                        setattr(item, key, value)
                self._copy_relationships(data, item)
            self._finish(
                [item],
                auto_commit=auto_commit,
                auto_refresh=auto_refresh,
                auto_expunge=auto_expunge,
                attribute_names=attribute_names,
            )
            return item

    def upsert(
        self,
        data: ModelT,
        *,
        attribute_names: Iterable[str] | None = None,
        with_for_update: Any = None,
        auto_expunge: bool | None = None,
        auto_commit: bool | None = None,
        auto_refresh: bool | None = None,
        match_fields: builtins.list[str] | str | None = None,
        load: LoadSpec = None,
        execution_options: dict[str, Any] | None = None,
    ) -> ModelT:
        """Update the item matching ``data`` on ``match_fields`` (default: the id) with its set fields, or insert it."""
        from sqlalchemy import inspect

        with self._wrap():
            if inspect(data).session is self.session:
                self._finish([data], auto_commit=auto_commit, auto_refresh=auto_refresh, auto_expunge=auto_expunge)
                return data
            match = self._match_names(match_fields)
            values = self._set_values(data)
            existing = None
            if all(values.get(name) is not None for name in match):
                existing = self.get_one_or_none(
                    auto_expunge=False,
                    load=load,
                    execution_options=execution_options,
                    with_for_update=with_for_update,
                    **{name: values[name] for name in match},
                )
            if existing is None:
                return self.add(data, auto_commit=auto_commit, auto_expunge=auto_expunge, auto_refresh=auto_refresh)
            for key, value in values.items():
                if key not in match and key not in self._info.primary_key:
                    setattr(existing, key, value)
            self._finish(
                [existing],
                auto_commit=auto_commit,
                auto_refresh=auto_refresh,
                auto_expunge=auto_expunge,
                attribute_names=attribute_names,
            )
            return existing

    def get_or_upsert(
        self,
        *filters: FilterArg,
        match_fields: builtins.list[str] | str | None = None,
        upsert: bool = True,
        attribute_names: Iterable[str] | None = None,
        with_for_update: Any = None,
        auto_commit: bool | None = None,
        auto_expunge: bool | None = None,
        auto_refresh: bool | None = None,
        load: LoadSpec = None,
        execution_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> tuple[ModelT, bool]:
        """The item matching ``kwargs`` (only ``match_fields`` of them, if given), created from ``kwargs`` if
        missing; with ``upsert=True`` an existing item gets the other ``kwargs`` values. Returns ``(item, created)``."""
        with self._wrap():
            names = [match_fields] if isinstance(match_fields, str) else match_fields
            match = {k: v for k, v in kwargs.items() if names is None or k in names}
            existing = self.get_one_or_none(
                *filters,
                auto_expunge=False,
                load=load,
                execution_options=execution_options,
                with_for_update=with_for_update,
                **match,
            )
            if existing is None:
                self._set_values(kwargs)  # validates the field names
                created = self.add(
                    self.model_type(**kwargs),
                    auto_commit=auto_commit,
                    auto_expunge=auto_expunge,
                    auto_refresh=auto_refresh,
                )
                return created, True
            if upsert:
                changed = self._apply(existing, kwargs)
                self._finish(
                    [existing],
                    auto_commit=auto_commit,
                    auto_refresh=auto_refresh if changed else False,
                    auto_expunge=auto_expunge,
                    attribute_names=attribute_names,
                    write=changed,
                )
            else:
                self._finish([existing], auto_expunge=auto_expunge, write=False)
            return existing, False

    def get_and_update(
        self,
        *filters: FilterArg,
        match_fields: builtins.list[str] | str | None = None,
        attribute_names: Iterable[str] | None = None,
        with_for_update: Any = None,
        auto_commit: bool | None = None,
        auto_expunge: bool | None = None,
        auto_refresh: bool | None = None,
        load: LoadSpec = None,
        execution_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> tuple[ModelT, bool]:
        """The item matching ``kwargs`` (or ``match_fields`` of them), updated with the other ``kwargs``;
        ``NotFoundError`` if missing. Returns ``(item, updated)``."""
        with self._wrap():
            names = [match_fields] if isinstance(match_fields, str) else match_fields
            match = {k: v for k, v in kwargs.items() if names is None or k in names}
            existing = self.get_one(
                *filters,
                auto_expunge=False,
                load=load,
                execution_options=execution_options,
                with_for_update=with_for_update,
                **match,
            )
            changed = self._apply(existing, kwargs)
            self._finish(
                [existing],
                auto_commit=auto_commit,
                auto_refresh=auto_refresh if changed else False,
                auto_expunge=auto_expunge,
                attribute_names=attribute_names,
                write=changed,
            )
            return existing, changed

    def _apply(self, item: ModelT, values: dict[str, Any]) -> bool:
        changed = False
        for key, value in self._set_values(values).items():
            if getattr(item, key) != value:
                setattr(item, key, value)
                changed = True
        return changed

    def delete(
        self,
        item_id: Any,
        *,
        auto_commit: bool | None = None,
        auto_expunge: bool | None = None,
        id_attribute: str | None = None,
        load: LoadSpec = None,
        execution_options: dict[str, Any] | None = None,
    ) -> ModelT:
        """Delete the item with ``item_id`` (ORM cascades apply) and return it; ``NotFoundError`` if missing."""
        from sqlalchemy import inspect

        with self._wrap():
            item = self.get(
                item_id, auto_expunge=False, id_attribute=id_attribute, load=load, execution_options=execution_options
            )
            self.session.delete(item)
            self._finish([item], auto_commit=auto_commit, auto_refresh=False, auto_expunge=False)
            if (self.auto_expunge if auto_expunge is None else auto_expunge) and inspect(item).session is self.session:
                self.session.expunge(item)  # flushed, not yet committed: still tracked as deleted
            return item

    # -- bulk writes ---------------------------------------------------------------------------------

    def add_many(
        self,
        data: builtins.list[ModelT],
        *,
        auto_commit: bool | None = None,
        auto_expunge: bool | None = None,
    ) -> builtins.list[ModelT]:
        """Insert many instances with bulk ``INSERT`` statements and return them, attached to the session.

        Python-side defaults (ids, timestamps) are computed once per row and sent with it; columns the database
        generates (autoincrement ids, server defaults) come back through ``RETURNING`` where the dialect has
        it. An id or audit timestamp set to ``None`` counts as not given, as in a flush. Instances carrying
        related objects, or models the bulk path can't write (inheritance, context-sensitive defaults), go
        through the unit of work instead.
        """
        if not data:
            return []
        with self._wrap():
            if not self._bulk_insert(data):
                self.session.add_all(data)
                self.session.flush()
            expunge = self.auto_expunge if auto_expunge is None else auto_expunge
            if self.auto_commit if auto_commit is None else auto_commit:
                self.session.commit()
            if expunge:
                for item in data:
                    if item in self.session:
                        self.session.expunge(item)
            return data

    def _bulk_insert(self, items: Sequence[Any]) -> bool:
        from sqlalchemy import insert
        from sqlalchemy.orm import make_transient_to_detached
        from sqlalchemy.orm.base import instance_state

        info = self._info
        if not info.bulk_ok or info.table is None:
            return False
        for item in items:
            if type(item) is not self.model_type:
                return False
            state = instance_state(item)
            if state.key is not None or state.session_id is not None:
                return False
            values = item.__dict__
            if any(values.get(name) for name in info.relationships):
                return False
        dialect = self._dialect
        now = utcnow()
        audit = {"created_at", "updated_at"} if info.has_updated_at else set()
        unset_if_none = self._unset_if_none()
        plan = [
            (c.key, c.name, c.default, c.server_generated, c.key in audit, c.key in unset_if_none) for c in info.columns
        ]
        groups: dict[tuple[str, ...], builtins.list[tuple[Any, dict[str, Any]]]] = defaultdict(builtins.list)
        for item in items:
            # Values the row gets from Python defaults are stored on the instance too, as a flush would.
            values = item.__dict__
            row: dict[str, Any] = {}
            for key, name, default, server_generated, is_audit, none_is_unset in plan:
                if key in values and not (none_is_unset and values[key] is None):
                    row[name] = values[key]
                elif is_audit:
                    row[name] = values[key] = now
                elif default is not None:
                    row[name] = values[key] = default()
                elif not server_generated:
                    row[name] = values[key] = None
            groups[tuple(row)].append((item, row))
        returning_needed = any(c.server_generated and c.name not in keys for keys in groups for c in info.columns)
        if returning_needed and not (
            dialect.insert_executemany_returning and dialect.insert_executemany_returning_sort_by_parameter_order
        ):
            return False
        table = info.table
        for keys, members in groups.items():
            returned = [c for c in info.columns if c.server_generated and c.name not in keys]
            statement = insert(table)
            if returned:
                statement = statement.returning(*(table.c[c.name] for c in returned), sort_by_parameter_order=True)
            for chunk in chunks(members, rows_per_statement(dialect, len(keys))):
                result = self.session.execute(statement, [row for _, row in chunk])
                if returned:
                    for (item, _), values_back in zip(chunk, result.all(), strict=True):
                        values = item.__dict__
                        for column, value in zip(returned, values_back, strict=True):
                            values[column.key] = value
        self._attach_inserted([item for group in groups.values() for item, _ in group], make_transient_to_detached)
        return True

    def _unset_if_none(self) -> frozenset[str]:
        """Attributes for which ``None`` means "not given", as in a flush: the primary key (its default or the
        database fills it in) and the audit timestamps (stamped). Schemas often carry ``id: UUID | None = None``."""
        info = self._info
        audit = {"created_at", "updated_at"} if info.has_updated_at else set()
        return frozenset(info.primary_key) | audit

    def _attach_inserted(self, items: Sequence[Any], make_transient_to_detached: Any) -> None:
        """Make freshly inserted instances persistent in the session, as a flush would have.

        ``make_transient_to_detached`` + ``Session.add`` per instance is the public way, and costs more than
        the INSERT itself (the add cascades through relationships, which are empty here). When SQLAlchemy's
        internals are the ones this was written against (2.0, 2.1), do the same in bulk: identity key,
        commit the loaded state, add to the identity map.
        """
        from sqlalchemy.orm.base import instance_state
        from sqlalchemy.orm.state import InstanceState

        mapper = self._info.mapper
        update_impl = getattr(self.session, "_update_impl", None)
        commit_all = getattr(InstanceState, "_commit_all_states", None)
        identity_class = getattr(mapper, "_identity_class", None)
        if update_impl is None or commit_all is None or identity_class is None:
            for item in items:
                make_transient_to_detached(item)
                self.session.add(item)
            return
        keys = self._info.primary_key
        pairs = []
        for item in items:
            state = instance_state(item)
            values = item.__dict__
            state.key = (identity_class, tuple([values[k] for k in keys]), None)
            pairs.append((state, values))
        commit_all(pairs)
        for state, _ in pairs:
            update_impl(state)

    def update_many(
        self,
        data: builtins.list[ModelT] | builtins.list[dict[str, Any]],
        *,
        auto_commit: bool | None = None,
        auto_expunge: bool | None = None,
        load: LoadSpec = None,
        execution_options: dict[str, Any] | None = None,
    ) -> builtins.list[ModelT]:
        """Update many items by primary key with one bulk ``UPDATE`` per set of fields, then return them.

        Each element is a model instance or a dict carrying the primary key and only the fields to change.
        ``updated_at`` is stamped. ``NotFoundError`` names ids that don't exist.
        """
        from sqlalchemy import and_, bindparam, inspect, update

        if not data:
            return []
        info = self._info
        with self._wrap():
            if not info.bulk_ok or info.table is None:
                raise RepositoryError(f"update_many can't bulk-write {self.model_type.__name__} (inheritance mapping)")
            table = info.table
            now = utcnow()
            by_key = {c.key: c.name for c in info.columns}
            groups: dict[tuple[str, ...], builtins.list[dict[str, Any]]] = defaultdict(builtins.list)
            ids: builtins.list[Any] = []
            for element in data:
                if not isinstance(element, dict) and inspect(element).session is self.session:
                    self.session.flush([element])
                values = self._set_values(element)
                missing = [k for k in info.primary_key if values.get(k) is None]
                if missing:
                    raise RepositoryError(
                        f"update_many: a {self.model_type.__name__} without its {missing[0]} can't be updated",
                        model=self.model_type.__name__,
                        field=missing[0],
                    )
                if info.has_updated_at and "updated_at" not in values:
                    values["updated_at"] = now
                params = {f"pk_{by_key[k]}": values[k] for k in info.primary_key}
                params.update({by_key[k]: v for k, v in values.items() if k not in info.primary_key})
                ids.append(tuple(values[k] for k in info.primary_key))
                groups[tuple(sorted(params))].append(params)
            condition = and_(*(table.c[by_key[k]] == bindparam(f"pk_{by_key[k]}") for k in info.primary_key))
            statement = update(table).where(condition)
            dialect = self._dialect
            for keys, members in groups.items():
                if len(keys) == len(info.primary_key):
                    continue  # nothing to set
                for chunk in chunks(members, rows_per_statement(dialect, len(keys))):
                    self.session.execute(statement, builtins.list(chunk))
            items = self._reload(ids, load, execution_options)
            expunge = self.auto_expunge if auto_expunge is None else auto_expunge
            if self.auto_commit if auto_commit is None else auto_commit:
                self.session.commit()
            if expunge:
                for item in items:
                    self.session.expunge(item)
            return items

    def _reload(
        self, ids: Sequence[tuple[Any, ...]], load: LoadSpec, execution_options: dict[str, Any] | None
    ) -> builtins.list[ModelT]:
        """The items with these primary keys, freshly loaded, in order; ``NotFoundError`` if any is missing."""
        single = len(self._info.primary_key) == 1
        keys = [i[0] for i in ids] if single else builtins.list(ids)
        found: dict[Any, ModelT] = {}
        base = self._select(None, load, execution_options).execution_options(populate_existing=True)
        for chunk in chunks(keys, rows_per_statement(self._dialect, len(self._info.primary_key))):
            for item in self._all(base.where(self._pk_in(chunk))):
                found[self._pk_of(item)] = item
        missing = [k for k in keys if k not in found]
        if missing:
            raise NotFoundError(
                f"no {self.model_type.__name__} with {'/'.join(self._info.primary_key)}={missing[0]!r}"
                + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""),
                model=self.model_type.__name__,
            )
        return [found[k] for k in keys]

    def upsert_many(
        self,
        data: builtins.list[ModelT],
        *,
        auto_expunge: bool | None = None,
        auto_commit: bool | None = None,
        match_fields: builtins.list[str] | str | None = None,
        load: LoadSpec = None,
        execution_options: dict[str, Any] | None = None,
    ) -> builtins.list[ModelT]:
        """Insert or update many items in bulk ``INSERT ... ON CONFLICT DO UPDATE`` (PostgreSQL, SQLite) or
        ``ON DUPLICATE KEY UPDATE`` (MariaDB/MySQL) statements; returns the stored items in input order.

        Rows match on ``match_fields`` (default: the id), which must be the primary key or a unique
        constraint; matched rows get only the fields each instance sets (plus ``updated_at``). Instances
        without match values are inserted. Models the bulk path can't write fall back to ``upsert`` per item.
        A row that repeats another row's value of a different unique key is a ``DuplicateKeyError`` on every
        dialect (MariaDB/MySQL would otherwise update that other row).
        """
        if not data:
            return []
        with self._wrap():
            match = self._match_names(match_fields)
            info = self._info
            dialect = self._dialect
            relationships_set = any(item.__dict__.get(r) for item in data for r in info.relationships)
            bulk = (
                info.bulk_ok
                and info.table is not None
                and dialect.name in ("postgresql", "sqlite", "mysql", "mariadb")
                and frozenset(match) in info.unique_sets()
                and all(type(item) is self.model_type for item in data)
                and not relationships_set
            )
            if not bulk:
                items = [
                    self.upsert(
                        item, match_fields=match, load=load, execution_options=execution_options, auto_refresh=False
                    )
                    for item in data
                ]
            else:
                items = self._bulk_upsert(data, match, load, execution_options)
            expunge = self.auto_expunge if auto_expunge is None else auto_expunge
            if self.auto_commit if auto_commit is None else auto_commit:
                self.session.commit()
            if expunge:
                for item in items:
                    if item in self.session:
                        self.session.expunge(item)
            return items

    def _bulk_upsert(
        self,
        data: Sequence[Any],
        match: builtins.list[str],
        load: LoadSpec,
        execution_options: dict[str, Any] | None,
    ) -> builtins.list[ModelT]:
        from sqlalchemy import tuple_

        info = self._info
        assert info.table is not None
        table = info.table
        dialect = self._dialect
        by_key = {c.key: c.name for c in info.columns}
        now = utcnow()
        audit = {"created_at", "updated_at"} if info.has_updated_at else set()
        protected = set(match) | set(info.primary_key) | {"created_at"}
        groups: dict[tuple[str, ...], builtins.list[dict[str, Any]]] = defaultdict(builtins.list)
        order: builtins.list[tuple[str, Any]] = []  # ("new", item), ("match", key) or ("partial", item)
        inserts: builtins.list[Any] = []
        partial: builtins.list[Any] = []
        unset_if_none = self._unset_if_none()
        for item in data:
            given = {k: v for k, v in item.__dict__.items() if k in by_key and not (v is None and k in unset_if_none)}
            if any(column.required and column.key not in given for column in info.columns):
                # Too incomplete to be inserted, so only an update of an existing row: upserted one by one.
                partial.append(item)
                order.append(("partial", item))
                continue
            row: dict[str, Any] = {}
            for column in info.columns:
                if column.key in given:
                    row[column.name] = given[column.key]
                elif column.key in audit:
                    row[column.name] = now
                elif column.default is not None:
                    row[column.name] = column.default()
                elif not column.server_generated:
                    row[column.name] = None
            if any(row.get(by_key[m]) is None for m in match):
                inserts.append(item)
                order.append(("new", item))
                continue
            assigned = sorted(by_key[k] for k in given if k not in protected)
            if info.has_updated_at and "updated_at" not in given:
                assigned.append(by_key["updated_at"])
            groups[tuple(assigned)].append(row)
            order.append(("match", tuple(row[by_key[m]] for m in match)))
        match_columns = [by_key[m] for m in match]
        found: dict[Any, ModelT] = {}
        for updated, rows in groups.items():
            statement = upsert_statement(dialect, table, match_columns, updated)
            for chunk in chunks(rows, rows_per_statement(dialect, len(info.columns))):
                self.session.execute(statement, builtins.list(chunk))
        if groups:
            # One SELECT per chunk brings the written rows back as ORM objects (with load= options applied),
            # on every dialect alike; RETURNING from an executemany upsert can't do the eager loads.
            keys = [key for kind, key in order if kind == "match"]
            columns = [self._column(m) for m in match]
            base = self._select(None, load, execution_options).execution_options(populate_existing=True)
            for key_chunk in chunks(keys, rows_per_statement(dialect, len(match))):
                condition = (
                    columns[0].in_([k[0] for k in key_chunk]) if len(match) == 1 else tuple_(*columns).in_(key_chunk)
                )
                for item in self._all(base.where(condition)):
                    found[tuple(getattr(item, m) for m in match)] = item
            lost = [
                row for rows in groups.values() for row in rows if tuple(row[by_key[m]] for m in match) not in found
            ]
            if lost:
                raise self._collision(lost, match)
        if inserts:
            self.add_many(inserts, auto_commit=False, auto_expunge=False)
        updated_partial = {
            id(item): self.upsert(
                item, match_fields=match, load=load, execution_options=execution_options, auto_refresh=False
            )
            for item in partial
        }
        return [
            value if kind == "new" else updated_partial[id(value)] if kind == "partial" else found[value]
            for kind, value in order
        ]

    def _collision(self, rows: Sequence[dict[str, Any]], match: builtins.list[str]) -> DuplicateKeyError:
        """The error for upserted rows that didn't come back by their ``match`` values: MariaDB/MySQL's
        ``ON DUPLICATE KEY UPDATE`` takes a conflict on *any* unique key for a match, so a row with a new id but
        an existing ``name`` updated the row holding that name (PostgreSQL and SQLite raise instead)."""
        from sqlalchemy import literal, select, tuple_

        info = self._info
        by_key = {c.key: c.name for c in info.columns}
        model_name = self.model_type.__name__
        for fields in info.unique_sets():
            names = sorted(fields)
            if fields == frozenset(match) or not all(by_key[n] in rows[0] for n in names):
                continue
            columns = [self._column(n) for n in names]
            values = [tuple(row[by_key[n]] for n in names) for row in rows]
            condition = columns[0].in_([v[0] for v in values]) if len(names) == 1 else tuple_(*columns).in_(values)
            if self.session.execute(select(literal(1)).where(condition).limit(1)).first() is not None:
                field = ", ".join(by_key[n] for n in names)
                return DuplicateKeyError(
                    f"{model_name} with this {field} already exists (upsert_many matches on {', '.join(match)}; "
                    f"ON DUPLICATE KEY UPDATE hit the row with that {field} instead: roll back)",
                    model=model_name,
                    field=field,
                )
        return DuplicateKeyError(
            f"{model_name} repeats a unique value of another row (upsert_many matches on {', '.join(match)})",
            model=model_name,
        )

    def delete_many(
        self,
        item_ids: Sequence[Any],
        *,
        auto_commit: bool | None = None,
        auto_expunge: bool | None = None,
        id_attribute: str | None = None,
        chunk_size: int | None = None,
        load: LoadSpec = None,
        execution_options: dict[str, Any] | None = None,
    ) -> builtins.list[ModelT]:
        """Delete the items with these ids in bulk ``DELETE ... WHERE id IN (...)`` statements (chunked) and
        return them. Database-level cascades apply; ORM-level cascades don't (use ``delete`` for those).

        ``item_ids`` may mix ids and model instances (deleted by their id); with a composite primary key the
        ids are tuples or dicts, as for ``get``.
        """
        from sqlalchemy import tuple_

        if not item_ids:
            return []
        with self._wrap():
            names = self._key_names(id_attribute)
            keys: builtins.list[Any] = []
            for item_id in item_ids:
                if isinstance(item_id, self.model_type):
                    carried = {name: getattr(item_id, name) for name in names}
                    item_id = key_of(self.model_type, carried, id_attribute=id_attribute, default=self.id_attribute)
                fields = key_fields(self.model_type, item_id, id_attribute=id_attribute, default=self.id_attribute)
                keys.append(tuple(fields[name] for name in names) if len(names) > 1 else fields[names[0]])
            columns = [self._column(name) for name in names]
            size = chunk_size or rows_per_statement(self._dialect, len(names))
            deleted: builtins.list[ModelT] = []
            base = self._select(None, load, execution_options)
            for chunk in chunks(keys, size):
                condition = columns[0].in_(chunk) if len(columns) == 1 else tuple_(*columns).in_(chunk)
                deleted.extend(self._all(base.where(condition)))
            self._delete_rows(deleted, auto_commit)
            return deleted

    def delete_where(
        self,
        *filters: FilterArg,
        auto_commit: bool | None = None,
        auto_expunge: bool | None = None,
        load: LoadSpec = None,
        execution_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> builtins.list[ModelT]:
        """Delete the items matching the filters (in bulk, as ``delete_many``) and return them."""
        with self._wrap():
            items = self.list(*filters, auto_expunge=False, load=load, execution_options=execution_options, **kwargs)
            self._delete_rows(items, auto_commit)
            return items

    def _delete_rows(self, items: Sequence[ModelT], auto_commit: bool | None) -> None:
        from sqlalchemy import delete

        info = self._info
        if items:
            keys = [self._pk_of(item) for item in items]
            for chunk in chunks(keys, rows_per_statement(self._dialect, len(info.primary_key))):
                self.session.execute(
                    delete(self.model_type).where(self._pk_in(chunk)).execution_options(synchronize_session=False)
                )
            for item in items:
                self.session.expunge(item)
        if self.auto_commit if auto_commit is None else auto_commit:
            self.session.commit()
        else:
            self.session.flush()
