"""GENERATED from dbops/service/_async.py by tools/generate.py; do not edit (edit the source and run it again).

A service wraps a repository (``repository_type``) and adds what an API layer needs: ``create``/``update``/
``upsert`` from dicts, pydantic models, msgspec Structs, dataclasses or attrs instances (partial updates write
only the fields the input set), overridable ``to_model_on_*`` hooks, and ``to_schema`` for responses.
"""

from __future__ import annotations

import builtins
import contextlib
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, overload

from typing_extensions import TypeVar

from dbops.errors import ImproperConfigurationError, RepositoryError
from dbops.repository import SQLAlchemySyncRepository
from dbops.repository._keys import key_fields, key_names, key_of, set_key
from dbops.repository._statements import FilterArg, LoadSpec, OrderingPair
from dbops.service._util import (
    OffsetPagination,
    is_dto_data,
    is_schema_data,
    model_kwargs,
    paginate,
    schema_dump,
    to_schema_value,
)

if TYPE_CHECKING:
    from sqlalchemy import Select
    from sqlalchemy.orm import Session, scoped_session
    from typing_extensions import Self

    from dbops.config import SQLAlchemySyncConfig

__all__ = ["SQLAlchemySyncRepositoryService"]

ModelT = TypeVar("ModelT")
SchemaT = TypeVar("SchemaT")
RepositoryT = TypeVar("RepositoryT", bound="SQLAlchemySyncRepository[Any]", default="SQLAlchemySyncRepository[Any]")
"""The repository class of a service: ``Service[Model, Repo]`` types ``service.repository`` as ``Repo``;
``Service[Model]`` leaves it the generic repository (the second parameter has a default, as in Advanced
Alchemy, so both spellings work)."""


class SQLAlchemySyncRepositoryService(Generic[ModelT, RepositoryT]):
    """Business-layer CRUD over a repository, for one model.

    >>> class AuthorService(SQLAlchemySyncRepositoryService[AuthorModel]):  # or [AuthorModel, AuthorRepository]
    ...     class Repo(SQLAlchemySyncRepository[AuthorModel]):
    ...         model_type = AuthorModel
    ...     repository_type = Repo
    >>> service = AuthorService(session=db_session)
    >>> author = service.update(AuthorUpdate(name="New"), item_id=author_id, auto_commit=True)

    Keyword arguments of the constructor (``load=``, ``auto_commit=``, ``statement=``, ...) go to the
    repository. Every read and delete method is the repository's, with the same arguments and errors.
    """

    repository_type: type[RepositoryT]
    """The repository class the service uses (an inner ``class Repo`` in the usual pattern)."""
    match_fields: ClassVar[builtins.list[str] | str | None] = None
    """Default fields ``upsert``/``upsert_many`` match on (default: the repository's)."""
    loader_options: ClassVar[LoadSpec] = None
    """Default ``load=`` of the service's repository, as Advanced Alchemy's services declare it."""
    execution_options: ClassVar[dict[str, Any] | None] = None
    """Default ``execution_options=`` of the service's repository."""

    def __init__(
        self,
        session: Session | scoped_session[Session],
        *,
        statement: Select[Any] | None = None,
        auto_expunge: bool = False,
        auto_refresh: bool = True,
        auto_commit: bool = False,
        order_by: OrderingPair | builtins.list[OrderingPair] | None = None,
        load: LoadSpec = None,
        execution_options: dict[str, Any] | None = None,
        wrap_exceptions: bool = True,
        count_with_window_function: bool | None = None,
    ) -> None:
        if getattr(self, "repository_type", None) is None:
            raise ImproperConfigurationError(f"{type(self).__name__} needs repository_type = <a repository class>")
        self.repository: RepositoryT = self.repository_type(
            session=session,
            statement=statement,
            auto_expunge=auto_expunge,
            auto_refresh=auto_refresh,
            auto_commit=auto_commit,
            order_by=order_by,
            load=load if load is not None else self.loader_options,
            execution_options=execution_options if execution_options is not None else self.execution_options,
            wrap_exceptions=wrap_exceptions,
            count_with_window_function=count_with_window_function,
        )

    @classmethod
    @contextlib.contextmanager
    def new(
        cls,
        session: Session | scoped_session[Session] | None = None,
        config: SQLAlchemySyncConfig | None = None,
        **kwargs: Any,
    ) -> Iterator[Self]:
        """A service on ``session``, or on a new session from ``config`` (closed on exit; commit is yours)."""
        if session is not None:
            yield cls(session, **kwargs)
        elif config is not None:
            with config.get_session() as new_session:
                yield cls(new_session, **kwargs)
        else:
            raise ImproperConfigurationError(f"{cls.__name__}.new() needs a session or a config")

    @property
    def _repo(self) -> SQLAlchemySyncRepository[ModelT]:
        """``self.repository`` typed with the service's model, for the methods below."""
        repository: SQLAlchemySyncRepository[ModelT] = self.repository
        return repository

    @property
    def model_type(self) -> type[ModelT]:
        model: type[ModelT] = self.repository.model_type
        return model

    # -- data shaping hooks --------------------------------------------------------------------------

    def to_model_on_create(self, data: Any) -> Any:
        """Shape ``create`` input (a model, dict or schema) before it becomes a model; returns the same kinds."""
        return data

    def to_model_on_update(self, data: Any) -> Any:
        """Shape ``update`` input before it is applied."""
        return data

    def to_model_on_upsert(self, data: Any) -> Any:
        """Shape ``upsert`` input before it becomes a model."""
        return data

    def to_model(self, data: Any, operation: str | None = None) -> ModelT:
        """``data`` as a model instance: models pass through; dicts and schemas become ``model_type(**fields)``;
        Litestar's ``DTOData`` becomes ``data.create_instance()``.

        For ``"update"`` and ``"upsert"`` only the fields the input set are used, so the instance carries just
        those (the repository writes only what an instance carries; a partial DTO's instance carries only the
        fields the request body had).
        """
        if operation == "create":
            data = self.to_model_on_create(data)
        elif operation == "update":
            data = self.to_model_on_update(data)
        elif operation == "upsert":
            data = self.to_model_on_upsert(data)
        if is_dto_data(data):
            data = data.create_instance()
        if isinstance(data, self.model_type):
            return data
        values = schema_dump(data, exclude_unset=operation in ("update", "upsert"))
        model: ModelT = self.model_type(**model_kwargs(self.model_type, values))
        return model

    # -- responses ----------------------------------------------------------------------------------

    @overload
    def to_schema(
        self, data: ModelT, total: None = None, filters: Sequence[Any] | None = None, *, schema_type: None = None
    ) -> ModelT: ...

    @overload
    def to_schema(
        self,
        data: ModelT,
        total: None = None,
        filters: Sequence[Any] | None = None,
        *,
        schema_type: type[SchemaT],
    ) -> SchemaT: ...

    @overload
    def to_schema(
        self,
        data: Sequence[ModelT],
        total: int | None = None,
        filters: Sequence[Any] | None = None,
        *,
        schema_type: None = None,
    ) -> OffsetPagination[ModelT]: ...

    @overload
    def to_schema(
        self,
        data: Sequence[ModelT],
        total: int | None = None,
        filters: Sequence[Any] | None = None,
        *,
        schema_type: type[SchemaT],
    ) -> OffsetPagination[SchemaT]: ...

    def to_schema(
        self,
        data: Any,
        total: int | None = None,
        filters: Sequence[Any] | None = None,
        *,
        schema_type: Any = None,
    ) -> Any:
        """One item as ``schema_type`` (pydantic, msgspec, dataclass, attrs; the model itself if ``None``), or
        a list as ``OffsetPagination`` whose ``limit``/``offset`` come from a ``LimitOffset`` in ``filters``."""
        if isinstance(data, (builtins.list, tuple)):
            return paginate(data, total, filters, schema_type)
        return to_schema_value(data, schema_type)

    # -- reads --------------------------------------------------------------------------------------

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
        """The item with ``item_id``; ``NotFoundError`` if there is none (``with_for_update`` locks its row)."""
        return self._repo.get(
            item_id,
            auto_expunge=auto_expunge,
            statement=statement,
            id_attribute=id_attribute,
            load=load,
            execution_options=execution_options,
            with_for_update=with_for_update,
        )

    def get_one(
        self,
        *filters: FilterArg,
        statement: Select[Any] | None = None,
        auto_expunge: bool | None = None,
        load: LoadSpec = None,
        execution_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> ModelT:
        """The one item matching the filters; ``NotFoundError`` if none."""
        return self._repo.get_one(
            *filters,
            statement=statement,
            auto_expunge=auto_expunge,
            load=load,
            execution_options=execution_options,
            **kwargs,
        )

    def get_one_or_none(
        self,
        *filters: FilterArg,
        statement: Select[Any] | None = None,
        auto_expunge: bool | None = None,
        load: LoadSpec = None,
        execution_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> ModelT | None:
        """The one item matching the filters, or ``None``."""
        return self._repo.get_one_or_none(
            *filters,
            statement=statement,
            auto_expunge=auto_expunge,
            load=load,
            execution_options=execution_options,
            **kwargs,
        )

    def count(
        self,
        *filters: FilterArg,
        statement: Select[Any] | None = None,
        load: LoadSpec = None,
        execution_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> int:
        """How many items match the filters."""
        return self._repo.count(*filters, statement=statement, load=load, execution_options=execution_options, **kwargs)

    def exists(
        self,
        *filters: FilterArg,
        statement: Select[Any] | None = None,
        load: LoadSpec = None,
        execution_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> bool:
        """Whether any item matches the filters."""
        return self._repo.exists(
            *filters, statement=statement, load=load, execution_options=execution_options, **kwargs
        )

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
        """The items matching the filters."""
        return self._repo.list(
            *filters,
            statement=statement,
            auto_expunge=auto_expunge,
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
        """A page of items and the total count (feed both to ``to_schema``)."""
        return self._repo.list_and_count(
            *filters,
            statement=statement,
            auto_expunge=auto_expunge,
            count_with_window_function=count_with_window_function,
            order_by=order_by,
            load=load,
            execution_options=execution_options,
            **kwargs,
        )

    get_many = list
    """``list`` under Advanced Alchemy's newer name."""
    get_many_and_count = list_and_count
    """``list_and_count`` under Advanced Alchemy's newer name."""

    # -- writes -------------------------------------------------------------------------------------

    def create(
        self,
        data: ModelT | dict[str, Any] | Any,
        *,
        auto_commit: bool | None = None,
        auto_expunge: bool | None = None,
        auto_refresh: bool | None = None,
    ) -> ModelT:
        """Insert an item from a model, dict or schema instance."""
        model = self.to_model(data, "create")
        return self._repo.add(model, auto_commit=auto_commit, auto_expunge=auto_expunge, auto_refresh=auto_refresh)

    def create_many(
        self,
        data: Iterable[ModelT | dict[str, Any] | Any],
        *,
        auto_commit: bool | None = None,
        auto_expunge: bool | None = None,
    ) -> builtins.list[ModelT]:
        """Insert many items (bulk ``INSERT``) from models, dicts or schema instances."""
        models = [self.to_model(item, "create") for item in data]
        return self._repo.add_many(models, auto_commit=auto_commit, auto_expunge=auto_expunge)

    def update(
        self,
        data: ModelT | dict[str, Any] | Any,
        item_id: Any | None = None,
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
        """Apply the fields ``data`` sets to the item ``item_id`` (or the id inside ``data``): a partial update.

        ``update(AuthorUpdate(name="x"), item_id=author_id)`` changes ``name`` only; ``dob`` keeps its value
        because the input never set it. ``NotFoundError`` if the item doesn't exist.
        """
        default_id = self.repository.id_attribute
        data = self.to_model_on_update(data)
        if is_dto_data(data):
            data = data.create_instance()  # carries only the fields the body set, when the DTO is partial
        if isinstance(data, self.model_type):
            if item_id is not None:
                set_key(self.model_type, data, item_id, id_attribute=id_attribute, default=default_id)
            return self._repo.update(
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
        if not is_schema_data(data):
            schema_dump(data, exclude_unset=True)  # raises the "cannot turn ... into model fields" error
        values = model_kwargs(self.model_type, schema_dump(data, exclude_unset=True))
        if item_id is None:
            item_id = key_of(self.model_type, values, id_attribute=id_attribute, default=default_id)
            if item_id is None:
                names = key_names(self.model_type, id_attribute, default_id)
                raise RepositoryError(
                    f"update needs item_id or {', '.join(map(repr, names))} in the data for {self.model_type.__name__}",
                    model=self.model_type.__name__,
                    field=", ".join(names),
                )
        for name in key_fields(self.model_type, item_id, id_attribute=id_attribute, default=default_id):
            values.pop(name, None)
        existing = self._repo.get(
            item_id,
            auto_expunge=False,  # the update below detaches it, if asked
            id_attribute=id_attribute,
            load=load,
            execution_options=execution_options,
            with_for_update=with_for_update,
        )
        for key, value in values.items():
            setattr(existing, key, value)
        return self._repo.update(
            existing,
            attribute_names=attribute_names,
            auto_commit=auto_commit,
            auto_expunge=auto_expunge,
            auto_refresh=auto_refresh,
        )

    def update_many(
        self,
        data: Iterable[ModelT | dict[str, Any] | Any],
        *,
        auto_commit: bool | None = None,
        auto_expunge: bool | None = None,
        load: LoadSpec = None,
        execution_options: dict[str, Any] | None = None,
    ) -> builtins.list[ModelT]:
        """Bulk-update items; each element carries its id and only the fields to change."""
        rows: builtins.list[Any] = []
        for item in data:
            shaped = self.to_model_on_update(item)
            if is_dto_data(shaped):
                shaped = shaped.create_instance()
            rows.append(
                shaped
                if isinstance(shaped, self.model_type)
                else model_kwargs(self.model_type, schema_dump(shaped, exclude_unset=True))
            )
        return self._repo.update_many(
            rows, auto_commit=auto_commit, auto_expunge=auto_expunge, load=load, execution_options=execution_options
        )

    def upsert(
        self,
        data: ModelT | dict[str, Any] | Any,
        item_id: Any | None = None,
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
        """Update the matching item with the fields ``data`` sets, or create it."""
        model = self.to_model(data, "upsert")
        if item_id is not None:
            set_key(self.model_type, model, item_id, id_attribute=None, default=self.repository.id_attribute)
        return self._repo.upsert(
            model,
            attribute_names=attribute_names,
            with_for_update=with_for_update,
            auto_expunge=auto_expunge,
            auto_commit=auto_commit,
            auto_refresh=auto_refresh,
            match_fields=match_fields if match_fields is not None else self.match_fields,
            load=load,
            execution_options=execution_options,
        )

    def upsert_many(
        self,
        data: Iterable[ModelT | dict[str, Any] | Any],
        *,
        auto_expunge: bool | None = None,
        auto_commit: bool | None = None,
        match_fields: builtins.list[str] | str | None = None,
        load: LoadSpec = None,
        execution_options: dict[str, Any] | None = None,
    ) -> builtins.list[ModelT]:
        """Bulk insert-or-update (``ON CONFLICT`` / ``ON DUPLICATE KEY``) from models, dicts or schemas."""
        models = [self.to_model(item, "upsert") for item in data]
        return self._repo.upsert_many(
            models,
            auto_expunge=auto_expunge,
            auto_commit=auto_commit,
            match_fields=match_fields if match_fields is not None else self.match_fields,
            load=load,
            execution_options=execution_options,
        )

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
        """The item matching ``kwargs``, created if missing; returns ``(item, created)``."""
        return self._repo.get_or_upsert(
            *filters,
            match_fields=match_fields if match_fields is not None else self.match_fields,
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
        """The item matching ``kwargs`` updated with the rest; returns ``(item, updated)``."""
        return self._repo.get_and_update(
            *filters,
            match_fields=match_fields if match_fields is not None else self.match_fields,
            attribute_names=attribute_names,
            with_for_update=with_for_update,
            auto_commit=auto_commit,
            auto_expunge=auto_expunge,
            auto_refresh=auto_refresh,
            load=load,
            execution_options=execution_options,
            **kwargs,
        )

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
        """Delete the item ``item_id`` and return it."""
        return self._repo.delete(
            item_id,
            auto_commit=auto_commit,
            auto_expunge=auto_expunge,
            id_attribute=id_attribute,
            load=load,
            execution_options=execution_options,
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
        """Delete the items with these ids (bulk) and return them."""
        return self._repo.delete_many(
            item_ids,
            auto_commit=auto_commit,
            auto_expunge=auto_expunge,
            id_attribute=id_attribute,
            chunk_size=chunk_size,
            load=load,
            execution_options=execution_options,
        )

    def delete_where(
        self,
        *filters: FilterArg,
        auto_commit: bool | None = None,
        auto_expunge: bool | None = None,
        load: LoadSpec = None,
        execution_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> builtins.list[ModelT]:
        """Delete the items matching the filters and return them."""
        return self._repo.delete_where(
            *filters,
            auto_commit=auto_commit,
            auto_expunge=auto_expunge,
            load=load,
            execution_options=execution_options,
            **kwargs,
        )
