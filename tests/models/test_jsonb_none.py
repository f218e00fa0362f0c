"""JsonB: Python None is SQL NULL on every dialect (sync and async), JSON null only when asked for."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from dbops.types import JsonB
from tests.databases import TestDatabase


class Base(DeclarativeBase):
    pass


class Doc(Base):
    __tablename__ = "jsonb_none_doc"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    body: Mapped[Any] = mapped_column(JsonB, nullable=True)


ROWS: list[tuple[int, Any]] = [(1, None), (2, sa.JSON.NULL), (3, {"a": None}), (4, [])]


def _write(connection: sa.Connection) -> None:
    Base.metadata.drop_all(connection)
    Base.metadata.create_all(connection)
    with Session(bind=connection) as session:
        session.add_all([Doc(id=1, body=None), Doc(id=2, body=sa.JSON.NULL)])
        session.flush()
    connection.execute(sa.insert(Doc), [{"id": 3, "body": {"a": None}}, {"id": 4, "body": []}])


def _oracle(connection: sa.Connection) -> list[tuple[int, bool]]:
    """Which rows hold SQL NULL, asked of the database in plain SQL (not through JsonB)."""
    rows = connection.execute(sa.text("SELECT id, body IS NULL FROM jsonb_none_doc ORDER BY id")).all()
    return [(int(row[0]), bool(row[1])) for row in rows]


@pytest.mark.parametrize("db", ["sqlite", "postgresql", "mariadb"], indirect=True)
def test_python_none_is_sql_null_on_every_dialect(db: TestDatabase, is_async: bool) -> None:
    expected = [(1, True), (2, False), (3, False), (4, False)]
    if is_async:

        async def run() -> list[tuple[int, bool]]:
            engine = create_async_engine(db.async_url)
            try:
                async with engine.begin() as connection:
                    await connection.run_sync(_write)
                async with engine.connect() as connection:
                    return await connection.run_sync(_oracle)
            finally:
                await engine.dispose()

        assert asyncio.run(run()) == expected
        return
    engine = sa.create_engine(db.sync_url)
    try:
        with engine.begin() as connection:
            _write(connection)
        with engine.connect() as connection:
            assert _oracle(connection) == expected
            # ... and the ORM reads SQL NULL and JSON null alike back as None.
            values = connection.execute(sa.select(Doc.id, Doc.body).order_by(Doc.id)).all()
            assert [tuple(row) for row in values] == [(1, None), (2, None), (3, {"a": None}), (4, [])]
            matches = connection.execute(sa.select(Doc.id).where(Doc.body.is_(None))).scalars().all()
            assert matches == [1]
    finally:
        with engine.begin() as connection:
            Base.metadata.drop_all(connection)
        engine.dispose()
