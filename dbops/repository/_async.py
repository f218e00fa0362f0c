"""GENERATED from dbops/repository/_sync.py by tools/generate.py; do not edit (edit the source and run it again).

``SQLAlchemyAsyncRepository`` runs ``SQLAlchemySyncRepository``'s methods inside ``AsyncSession.run_sync``
(SQLAlchemy's greenlet bridge): one implementation, identical behaviour, the async driver underneath.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from dbops.repository._statements import FilterArg, LoadSpec, OrderingPair
from dbops.repository._sync import SQLAlchemySyncRepository

if TYPE_CHECKING:
    from sqlalchemy import Select
    from sqlalchemy.ext.asyncio import AsyncSession, async_scoped_session
    from sqlalchemy.orm import Session

__all__ = ["SQLAlchemyAsyncRepository"]

ModelT = TypeVar("ModelT")


class SQLAlchemyAsyncRepository(Generic[ModelT]):
    """CRUD for one model on an ``AsyncSession``.

    ``class AuthorRepo(SQLAlchemyAsyncRepository[Author]): model_type = Author``, then
    ``await AuthorRepo(session=session).list(...)``.

    The same methods, options and errors as ``SQLAlchemySyncRepository``, awaited.
    """

    model_type: ClassVar[type[Any]]
    id_attribute: ClassVar[str] = "id"
    match_fields: ClassVar[builtins.list[str] | str | None] = None
    count_with_window_function: ClassVar[bool | None] = None

    def __init__(
        self,
        *,
        session: AsyncSession | async_scoped_session[AsyncSession],
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
        self.session = session
        self.statement = statement
        self.auto_expunge = auto_expunge
        self.auto_refresh = auto_refresh
        self.auto_commit = auto_commit
        self.order_by = order_by
        self.load = load
        self.execution_options = dict(execution_options or {})
        self.wrap_exceptions = wrap_exceptions
        if model_type is not None:
            self.model_type = model_type  # type: ignore[misc]
        if count_with_window_function is not None:
            self.count_with_window_function = count_with_window_function  # type: ignore[misc]
        self._delegate: SQLAlchemySyncRepository[ModelT] | None = None
        self._delegate_for(None)  # validates model_type and load now, not on first use

    def _delegate_for(self, sync_session: Session | None) -> SQLAlchemySyncRepository[ModelT]:
        delegate = self._delegate
        if delegate is None or (sync_session is not None and delegate.session is not sync_session):
            delegate = SQLAlchemySyncRepository[ModelT](
                session=sync_session,  # type: ignore[arg-type]
                statement=self.statement,
                auto_expunge=self.auto_expunge,
                auto_refresh=self.auto_refresh,
                auto_commit=self.auto_commit,
                order_by=self.order_by,
                load=self.load,
                execution_options=self.execution_options,
                wrap_exceptions=self.wrap_exceptions,
                count_with_window_function=self.count_with_window_function,
                model_type=getattr(self, "model_type", None),
            )
            delegate.id_attribute = self.id_attribute  # type: ignore[misc]
            delegate.match_fields = self.match_fields  # type: ignore[misc]
            if sync_session is not None:
                self._delegate = delegate
        return delegate

    async def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        def work(sync_session: Session) -> Any:
            return getattr(self._delegate_for(sync_session), method)(*args, **kwargs)

        session: Any = self.session
        if not hasattr(session, "run_sync"):  # an async_scoped_session: the session of the current scope
            session = session()
        return await session.run_sync(work)

    async def get(
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
        result: ModelT = await self._call(
            "get",
            item_id,
            auto_expunge=auto_expunge,
            statement=statement,
            id_attribute=id_attribute,
            load=load,
            execution_options=execution_options,
            with_for_update=with_for_update,
        )
        return result

    async def get_one_or_none(
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
        result: ModelT | None = await self._call(
            "get_one_or_none",
            *filters,
            statement=statement,
            auto_expunge=auto_expunge,
            load=load,
            execution_options=execution_options,
            with_for_update=with_for_update,
            **kwargs,
        )
        return result

    async def get_one(
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
        result: ModelT = await self._call(
            "get_one",
            *filters,
            statement=statement,
            auto_expunge=auto_expunge,
            load=load,
            execution_options=execution_options,
            with_for_update=with_for_update,
            **kwargs,
        )
        return result

    async def count(
        self,
        *filters: FilterArg,
        statement: Select[Any] | None = None,
        load: LoadSpec = None,
        execution_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> int:
        """How many items match the filters (pagination and ordering filters are ignored; so is ``load``, which
        counting doesn't need and which is accepted so calls can pass the same arguments as to ``list``)."""
        result: int = await self._call(
            "count", *filters, statement=statement, load=load, execution_options=execution_options, **kwargs
        )
        return result

    async def exists(
        self,
        *filters: FilterArg,
        statement: Select[Any] | None = None,
        load: LoadSpec = None,
        execution_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> bool:
        """Whether any item matches the filters (``load`` is accepted, as for ``count``, and not needed)."""
        result: bool = await self._call(
            "exists", *filters, statement=statement, load=load, execution_options=execution_options, **kwargs
        )
        return result

    async def list(
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
        result: builtins.list[ModelT] = await self._call(
            "list",
            *filters,
            statement=statement,
            auto_expunge=auto_expunge,
            order_by=order_by,
            load=load,
            execution_options=execution_options,
            **kwargs,
        )
        return result

    async def get_many(
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
        result: builtins.list[ModelT] = await self._call(
            "get_many",
            *filters,
            statement=statement,
            auto_expunge=auto_expunge,
            order_by=order_by,
            load=load,
            execution_options=execution_options,
            **kwargs,
        )
        return result

    async def get_many_and_count(
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
        result: tuple[builtins.list[ModelT], int] = await self._call(
            "get_many_and_count",
            *filters,
            statement=statement,
            auto_expunge=auto_expunge,
            count_with_window_function=count_with_window_function,
            order_by=order_by,
            load=load,
            execution_options=execution_options,
            **kwargs,
        )
        return result

    async def list_and_count(
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
        result: tuple[builtins.list[ModelT], int] = await self._call(
            "list_and_count",
            *filters,
            statement=statement,
            auto_expunge=auto_expunge,
            count_with_window_function=count_with_window_function,
            order_by=order_by,
            load=load,
            execution_options=execution_options,
            **kwargs,
        )
        return result

    async def add(
        self,
        data: ModelT,
        *,
        auto_commit: bool | None = None,
        auto_expunge: bool | None = None,
        auto_refresh: bool | None = None,
    ) -> ModelT:
        """Insert ``data`` (a model instance) and return it with its generated values."""
        result: ModelT = await self._call(
            "add", data, auto_commit=auto_commit, auto_expunge=auto_expunge, auto_refresh=auto_refresh
        )
        return result

    async def update(
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
        result: ModelT = await self._call(
            "update",
            data,
            attribute_names=attribute_names,
            with_for_update=with_for_update,
            auto_commit=auto_commit,
            auto_expunge=auto_expunge,
            auto_refresh=auto_refresh,
            id_attribute=id_attribute,
            load=load,
            execution_options=execution_options,
        )
        return result

    async def upsert(
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
        result: ModelT = await self._call(
            "upsert",
            data,
            attribute_names=attribute_names,
            with_for_update=with_for_update,
            auto_expunge=auto_expunge,
            auto_commit=auto_commit,
            auto_refresh=auto_refresh,
            match_fields=match_fields,
            load=load,
            execution_options=execution_options,
        )
        return result

    async def get_or_upsert(
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
        result: tuple[ModelT, bool] = await self._call(
            "get_or_upsert",
            *filters,
            match_fields=match_fields,
            upsert=upsert,
            attribute_names=attribute_names,
            with_for_update=with_for_update,
            auto_commit=auto_commit,
            auto_expunge=auto_expunge,
            auto_refresh=auto_refresh,
            load=load,
            execution_options=execution_options,
            **kwargs,
        )
        return result

    async def get_and_update(
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
        result: tuple[ModelT, bool] = await self._call(
            "get_and_update",
            *filters,
            match_fields=match_fields,
            attribute_names=attribute_names,
            with_for_update=with_for_update,
            auto_commit=auto_commit,
            auto_expunge=auto_expunge,
            auto_refresh=auto_refresh,
            load=load,
            execution_options=execution_options,
            **kwargs,
        )
        return result

    async def delete(
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
        result: ModelT = await self._call(
            "delete",
            item_id,
            auto_commit=auto_commit,
            auto_expunge=auto_expunge,
            id_attribute=id_attribute,
            load=load,
            execution_options=execution_options,
        )
        return result

    async def add_many(
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
        result: builtins.list[ModelT] = await self._call(
            "add_many", data, auto_commit=auto_commit, auto_expunge=auto_expunge
        )
        return result

    async def update_many(
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
        result: builtins.list[ModelT] = await self._call(
            "update_many",
            data,
            auto_commit=auto_commit,
            auto_expunge=auto_expunge,
            load=load,
            execution_options=execution_options,
        )
        return result

    async def upsert_many(
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
        result: builtins.list[ModelT] = await self._call(
            "upsert_many",
            data,
            auto_expunge=auto_expunge,
            auto_commit=auto_commit,
            match_fields=match_fields,
            load=load,
            execution_options=execution_options,
        )
        return result

    async def delete_many(
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
        result: builtins.list[ModelT] = await self._call(
            "delete_many",
            item_ids,
            auto_commit=auto_commit,
            auto_expunge=auto_expunge,
            id_attribute=id_attribute,
            chunk_size=chunk_size,
            load=load,
            execution_options=execution_options,
        )
        return result

    async def delete_where(
        self,
        *filters: FilterArg,
        auto_commit: bool | None = None,
        auto_expunge: bool | None = None,
        load: LoadSpec = None,
        execution_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> builtins.list[ModelT]:
        """Delete the items matching the filters (in bulk, as ``delete_many``) and return them."""
        result: builtins.list[ModelT] = await self._call(
            "delete_where",
            *filters,
            auto_commit=auto_commit,
            auto_expunge=auto_expunge,
            load=load,
            execution_options=execution_options,
            **kwargs,
        )
        return result
