"""Run one async test body against a sync or an async repository on a real database.

Test bodies are written once, ``async def body(ctx)``; for sync configs the repository and session are
wrapped so their (sync) methods can be awaited. Only the wrapping is test code: the methods run are the real
sync ones.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, create_engine, event
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import Session

from dbops.base import orm_registry
from dbops.repository import SQLAlchemyAsyncRepository, SQLAlchemySyncRepository
from tests.databases import TestDatabase


class Awaitable_:
    """Wrap a sync object so ``await obj.method(...)`` works like on its async twin."""

    def __init__(self, target: Any) -> None:
        self._target = target

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if not callable(value) or inspect.isclass(value):
            return value

        async def call(*args: Any, **kwargs: Any) -> Any:
            return value(*args, **kwargs)

        return call


def _sqlite_foreign_keys(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@dataclass
class Context:
    db: TestDatabase
    is_async: bool
    raw_session: Any
    session: Any

    def repo(self, model: type[Any], **kwargs: Any) -> Any:
        if self.is_async:
            return SQLAlchemyAsyncRepository[Any](session=self.raw_session, model_type=model, **kwargs)
        return Awaitable_(SQLAlchemySyncRepository[Any](session=self.raw_session, model_type=model, **kwargs))

    def wrap(self, obj: Any) -> Any:
        """An async-only object as is; a sync one wrapped to be awaitable."""
        return obj if self.is_async else Awaitable_(obj)

    @property
    def dialect(self) -> str:
        return self.db.dialect


def create_tables(db: TestDatabase, tables: Sequence[Table]) -> None:
    engine = create_engine(db.sync_url)
    try:
        orm_registry.metadata.create_all(engine, tables=list(tables))
    finally:
        engine.dispose()


def run(db: TestDatabase, is_async: bool, tables: Sequence[Table], body: Callable[[Context], Awaitable[None]]) -> None:
    create_tables(db, tables)

    async def main() -> None:
        if is_async:
            engine = create_async_engine(db.async_url)
            if db.dialect == "sqlite":
                event.listen(engine.sync_engine, "connect", _sqlite_foreign_keys)
            try:
                async with AsyncSession(engine, expire_on_commit=False) as session:
                    await body(Context(db, True, session, session))
            finally:
                await engine.dispose()
        else:
            sync_engine = create_engine(db.sync_url)
            if db.dialect == "sqlite":
                event.listen(sync_engine, "connect", _sqlite_foreign_keys)
            try:
                with Session(sync_engine, expire_on_commit=False) as session:
                    await body(Context(db, False, session, Awaitable_(session)))
            finally:
                sync_engine.dispose()

    asyncio.run(main())
