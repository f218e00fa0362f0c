"""Small Litestar apps over plain SQLAlchemy models, built for a sync or an async config."""

from __future__ import annotations

from typing import Any, Literal, overload

from litestar import Litestar, Response, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.params import FromPath, FromQuery
from litestar_dbops import SQLAlchemyAsyncConfig, SQLAlchemyPlugin, SQLAlchemySyncConfig
from sqlalchemy import MetaData, String, create_engine, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from dbops.metadata import NAMING_CONVENTION

AnyConfig = SQLAlchemyAsyncConfig | SQLAlchemySyncConfig


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Item(Base):
    __tablename__ = "item"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)


@overload
def make_config(url: str, *, is_async: Literal[True], **kwargs: Any) -> SQLAlchemyAsyncConfig: ...
@overload
def make_config(url: str, *, is_async: Literal[False], **kwargs: Any) -> SQLAlchemySyncConfig: ...
@overload
def make_config(url: str, *, is_async: bool, **kwargs: Any) -> AnyConfig: ...
def make_config(url: str, *, is_async: bool, **kwargs: Any) -> AnyConfig:
    kwargs.setdefault("metadata", Base.metadata)
    kwargs.setdefault("create_all", True)
    if is_async:
        return SQLAlchemyAsyncConfig(connection_string=url, **kwargs)
    return SQLAlchemySyncConfig(connection_string=url, **kwargs)


def _respond(name: str, status: int, fail: str | None, pad: int) -> Response[Any]:
    if fail == "raise":
        raise RuntimeError("handler failed after adding a row")
    if fail == "http":
        raise HTTPException(status_code=400, detail="rejected")
    return Response({"name": name, "pad": "x" * pad}, status_code=status)


@post("/items/{name:str}", sync_to_thread=True)
def add_item_sync(
    name: FromPath[str],
    db_session: NamedDependency[Session],
    status: FromQuery[int] = 201,
    fail: FromQuery[str | None] = None,
    pad: FromQuery[int] = 0,
) -> Response[Any]:
    """Add an item without flushing (a unique violation shows only at commit), then answer (``pad``: a longer
    body) or fail."""
    db_session.add(Item(name=name))
    return _respond(name, status, fail, pad)


@post("/items/{name:str}")
async def add_item_async(
    name: FromPath[str],
    db_session: NamedDependency[AsyncSession],
    status: FromQuery[int] = 201,
    fail: FromQuery[str | None] = None,
    pad: FromQuery[int] = 0,
) -> Response[Any]:
    db_session.add(Item(name=name))
    return _respond(name, status, fail, pad)


def app_for(config: AnyConfig, **kwargs: Any) -> Litestar:
    return Litestar(
        route_handlers=[add_item_async if config.is_async else add_item_sync],
        plugins=[SQLAlchemyPlugin(config=config)],
        **kwargs,
    )


def item_names(url: str) -> list[str]:
    """The item names in the database, read with a fresh sync engine (no pool shared with the app)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return sorted(connection.execute(select(Item.name)).scalars())
    finally:
        engine.dispose()


def checked_out(config: AnyConfig) -> int:
    """Connections of the config's pool currently lent out."""
    engine: Any = config.get_engine()
    pool = engine.sync_engine.pool if config.is_async else engine.pool
    return int(pool.checkedout())
