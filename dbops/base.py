"""Declarative bases for dbops models: primary keys, audit columns, table names and a shared MetaData.

>>> from sqlalchemy.orm import Mapped
>>> from dbops import base
>>> class AuthorModel(base.UUIDBase):      # table "author_model", id: UUID primary key
...     name: Mapped[str]

Every base registers its tables on ``dbops.metadata.metadata_registry.get(None)`` (a naming convention keeps
constraint names identical on all dialects), which is also the default metadata of dbops' configs; a model
with ``__bind_key__ = "analytics"`` goes to ``metadata_registry.get("analytics")`` instead.

| base | primary key | audit columns |
|---|---|---|
| ``UUIDBase`` / ``UUIDAuditBase`` | ``id: UUID`` (random, v4) | none / ``created_at``, ``updated_at`` |
| ``UUIDv7Base`` / ``UUIDv7AuditBase`` | ``id: UUID`` (time-ordered, v7) | none / ``created_at``, ``updated_at`` |
| ``BigIntBase`` / ``BigIntAuditBase`` | ``id: int`` (autoincrement) | none / ``created_at``, ``updated_at`` |

Audit timestamps are timezone-aware UTC (``DateTimeUTC``); ``updated_at`` is set on every flush that changes
a row (a ``before_flush`` listener on every ``Session``; a session with
``info={"dbops_touch_updated_timestamp": False}`` opts out).
"""

from __future__ import annotations

import datetime
import re
import uuid
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import BigInteger, Date, Integer, MetaData, String, Table, event, inspect
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, declared_attr, mapped_column, registry

from dbops.metadata import metadata_registry
from dbops.types import GUID, DateTimeUTC, JsonB, utcnow, uuid7

__all__ = [
    "TOUCH_UPDATED_TIMESTAMP_KEY",
    "AuditColumns",
    "BigIntAuditBase",
    "BigIntBase",
    "BigIntPrimaryKey",
    "CommonTableAttributes",
    "DefaultBase",
    "ModelProtocol",
    "UUIDAuditBase",
    "UUIDBase",
    "UUIDPrimaryKey",
    "UUIDv7AuditBase",
    "UUIDv7Base",
    "UUIDv7PrimaryKey",
    "orm_registry",
    "table_name_for",
    "touch_updated_timestamp",
]

TOUCH_UPDATED_TIMESTAMP_KEY = "dbops_touch_updated_timestamp"
"""Set ``session.info[TOUCH_UPDATED_TIMESTAMP_KEY] = False`` to stop a session touching ``updated_at``."""

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def table_name_for(class_name: str) -> str:
    """The snake_case table name of a class: ``AuthorModel`` → ``author_model``, ``HTTPLog`` → ``http_log``."""
    return _CAMEL_BOUNDARY.sub("_", class_name).lower()


TYPE_ANNOTATION_MAP: dict[Any, Any] = {
    uuid.UUID: GUID(),
    datetime.datetime: DateTimeUTC(),
    datetime.date: Date(),
    dict: JsonB,
    dict[str, Any]: JsonB,
    # MariaDB/MySQL need a VARCHAR length; 255 characters stay indexable under utf8mb4.
    str: String().with_variant(String(255), "mysql", "mariadb"),
}

orm_registry = registry(metadata=metadata_registry.get(None), type_annotation_map=TYPE_ANNOTATION_MAP)
"""The registry every dbops base maps into (its metadata is the shared default-bind MetaData)."""


class ModelProtocol:
    """What repositories need of a model (for documentation; any mapped class works)."""

    if TYPE_CHECKING:
        __table__: Any
        __mapper__: Any
        __name__: str

        def to_dict(self, exclude: set[str] | None = None) -> dict[str, Any]: ...


class CommonTableAttributes:
    """``__tablename__`` from the class name when not given, and ``to_dict()``."""

    if TYPE_CHECKING:
        __tablename__: str | None
    else:

        @declared_attr.directive
        def __tablename__(cls) -> str:
            return table_name_for(cls.__name__)

    def to_dict(self, exclude: set[str] | None = None) -> dict[str, Any]:
        """The model's column values by attribute name (relationships are left out)."""
        excluded = exclude or set()
        return {
            attr.key: getattr(self, attr.key) for attr in inspect(type(self)).column_attrs if attr.key not in excluded
        }


class DefaultBase(CommonTableAttributes, AsyncAttrs, DeclarativeBase):
    """The declarative base of every dbops base; subclass it for models with your own primary key.

    A model (or abstract base) with ``__bind_key__ = "key"`` registers its table on
    ``metadata_registry.get("key")``, the default metadata of the config with that bind key.
    """

    registry = orm_registry
    metadata: ClassVar[MetaData] = orm_registry.metadata
    if TYPE_CHECKING:
        # What a dbops model's __table__ always is (SQLAlchemy types it as any FromClause), so
        # `Model.__table__.insert()` and `.c`, `.name`, `.indexes` type-check in user code.
        __table__: ClassVar[Table]
    __abstract__ = True
    __bind_key__: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        bind_key = cls.__dict__.get("__bind_key__")
        if bind_key is not None and "metadata" not in cls.__dict__:
            cls.metadata = metadata_registry.get(bind_key)
        super().__init_subclass__(**kwargs)

    def __repr__(self) -> str:
        state = inspect(self)
        key = state.identity if state.identity is not None else "transient"
        return f"<{type(self).__name__} {key}>"


class UUIDPrimaryKey:
    """``id``: a random (version 4) UUID primary key, generated in Python."""

    id: Mapped[uuid.UUID] = mapped_column(GUID(), default=uuid.uuid4, primary_key=True, sort_order=-100)


class UUIDv7PrimaryKey:
    """``id``: a time-ordered (version 7) UUID primary key, generated in Python."""

    id: Mapped[uuid.UUID] = mapped_column(GUID(), default=uuid7, primary_key=True, sort_order=-100)


class BigIntPrimaryKey:
    """``id``: an autoincrementing 64-bit integer primary key (``INTEGER`` on SQLite, which needs it)."""

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True, sort_order=-100
    )


class AuditColumns:
    """``created_at`` and ``updated_at``: timezone-aware UTC, set on insert; ``updated_at`` on every change."""

    created_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(), default=utcnow, sort_order=100)
    updated_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(), default=utcnow, sort_order=101)


class UUIDBase(UUIDPrimaryKey, DefaultBase):
    """Base for models with a random UUID primary key ``id``."""

    __abstract__ = True


class UUIDAuditBase(UUIDPrimaryKey, AuditColumns, DefaultBase):
    """Base for models with a random UUID primary key and ``created_at``/``updated_at``."""

    __abstract__ = True


class UUIDv7Base(UUIDv7PrimaryKey, DefaultBase):
    """Base for models with a time-ordered (v7) UUID primary key ``id``."""

    __abstract__ = True


class UUIDv7AuditBase(UUIDv7PrimaryKey, AuditColumns, DefaultBase):
    """Base for models with a time-ordered (v7) UUID primary key and ``created_at``/``updated_at``."""

    __abstract__ = True


class BigIntBase(BigIntPrimaryKey, DefaultBase):
    """Base for models with an autoincrementing integer primary key ``id``."""

    __abstract__ = True


class BigIntAuditBase(BigIntPrimaryKey, AuditColumns, DefaultBase):
    """Base for models with an autoincrementing integer primary key and ``created_at``/``updated_at``."""

    __abstract__ = True


def _has_column(instance: object, key: str) -> bool:
    mapper = inspect(instance).mapper
    return key in mapper.column_attrs


def touch_updated_timestamp(session: Session, *_: Any) -> None:
    """Before a flush: stamp new rows' missing audit times and changed rows' ``updated_at`` with one ``now``.

    A value the code set itself in this flush is kept.
    """
    if session.info.get(TOUCH_UPDATED_TIMESTAMP_KEY) is False:
        return
    now = utcnow()
    for instance in session.new:
        if _has_column(instance, "updated_at"):
            values = instance.__dict__
            if values.get("created_at") is None and _has_column(instance, "created_at"):
                instance.created_at = now
            if values.get("updated_at") is None:
                instance.updated_at = now
    for instance in session.dirty:
        if not _has_column(instance, "updated_at") or not session.is_modified(instance, include_collections=False):
            continue
        if not inspect(instance).attrs.updated_at.history.added:
            instance.updated_at = now


if not event.contains(Session, "before_flush", touch_updated_timestamp):
    event.listen(Session, "before_flush", touch_updated_timestamp)
