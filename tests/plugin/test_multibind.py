"""Two configs in one app: each its own engine, session, dependency keys and transaction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Litestar, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.testing import TestClient
from litestar_dbops import SQLAlchemyAsyncConfig, SQLAlchemyPlugin, SQLAlchemySyncConfig
from sqlalchemy import Engine, MetaData, String, create_engine, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from tests.databases import TestDatabase
from tests.plugin.apps import Base, Item, checked_out, item_names


class AnalyticsBase(DeclarativeBase):
    metadata = MetaData()


class Event(AnalyticsBase):
    __tablename__ = "event"

    id: Mapped[int] = mapped_column(primary_key=True)
    what: Mapped[str] = mapped_column(String(100))


@post("/record/{name:str}")
async def record(
    name: FromPath[str],
    db_session: NamedDependency[AsyncSession],
    analytics_session: NamedDependency[Session],
    status: FromQuery[int] = 201,
) -> Response[Any]:
    db_session.add(Item(name=name))
    analytics_session.add(Event(what=f"created {name}"))
    return Response({"name": name}, status_code=status)


@get("/engines")
async def engines(db_engine: NamedDependency[AsyncEngine], analytics_engine: NamedDependency[Engine]) -> dict[str, str]:
    return {"db": db_engine.dialect.name, "analytics": analytics_engine.dialect.name}


def test_two_binds_with_their_own_keys(db: TestDatabase, tmp_path: Path) -> None:
    analytics_path = tmp_path / "analytics.sqlite"
    main = SQLAlchemyAsyncConfig(
        connection_string=db.async_url, metadata=Base.metadata, create_all=True, before_send_handler="autocommit"
    )
    analytics = SQLAlchemySyncConfig(
        connection_string=f"sqlite:///{analytics_path}",
        metadata=AnalyticsBase.metadata,
        create_all=True,
        bind_key="analytics",
        session_dependency_key="analytics_session",
        engine_dependency_key="analytics_engine",
        before_send_handler="autocommit",
    )
    app = Litestar([record, engines], plugins=[SQLAlchemyPlugin(config=[main, analytics])])
    with TestClient(app) as client:
        assert client.post("/record/kept").status_code == 201
        assert client.post("/record/dropped?status=422").status_code == 422
        assert client.get("/engines").json() == {
            "db": {"sqlite": "sqlite", "postgresql": "postgresql", "mariadb": "mysql"}[db.dialect],
            "analytics": "sqlite",
        }
        assert app.state["db_engine"] is main.get_engine()
        assert app.state["analytics_engine"] is analytics.get_engine()
        assert checked_out(main) == checked_out(analytics) == 0
    assert item_names(db.sync_url) == ["kept"]
    engine = create_engine(f"sqlite:///{analytics_path}")
    with engine.connect() as connection:
        assert list(connection.execute(select(Event.what)).scalars()) == ["created kept"]
    engine.dispose()
    assert [config.bind_key for config in app.plugins.get(SQLAlchemyPlugin).dbops_configs()] == [None, "analytics"]
