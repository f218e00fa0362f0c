"""Startup and shutdown, injection of db_session/db_engine, startup errors, models as return types."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from litestar import Litestar, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.testing import TestClient
from litestar_dbops import SQLAlchemyPlugin
from sqlalchemy import Engine, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

from dbops import SQLAlchemyAsyncConfig as PlainAsyncConfig
from dbops.errors import ConfigError, DatabaseConnectionError, StartupError
from tests.databases import TestDatabase
from tests.plugin.apps import Item, app_for, checked_out, make_config


def _tables(url: str) -> list[str]:
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:
        return sorted(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def startup_error(app: Litestar) -> BaseException:
    """The exception that stopped ``app`` from starting (unwrapped from the test client's task group)."""
    try:
        with TestClient(app):
            pass
    except BaseException as error:
        found: Any = error
        while len(getattr(found, "exceptions", ())) == 1:  # an exception group holding one error
            found = found.exceptions[0]
        return found  # type: ignore[no-any-return]
    raise AssertionError("the app started")


def test_startup_creates_engine_and_tables_and_shutdown_disposes(db: TestDatabase, is_async: bool) -> None:
    config = make_config(db.url(is_async=is_async), is_async=is_async)
    app = app_for(config)
    assert _tables(db.sync_url) == []
    with TestClient(app) as client:
        assert _tables(db.sync_url) == ["item"]
        engine = app.state["db_engine"]
        assert engine is config.get_engine()
        assert isinstance(engine, AsyncEngine if is_async else Engine)
        assert app.state["db_session_maker"] is config.create_session_maker()
        assert client.post("/items/one").status_code == 201
        pool = _pool(config)
        assert pool.checkedin() >= 1  # the request's connection went back to the pool
    assert "db_engine" not in app.state and "db_session_maker" not in app.state
    # disposed: the pooled connections are closed and the engine has a fresh, empty pool
    assert _pool(config) is not pool
    assert (pool.checkedin(), pool.checkedout()) == (0, 0)
    assert _pool(config).checkedin() == 0


def _pool(config: Any) -> Any:
    engine = config.get_engine()
    return engine.sync_engine.pool if config.is_async else engine.pool


def test_without_create_all_no_table_is_created(sqlite_db: TestDatabase, is_async: bool) -> None:
    config = make_config(sqlite_db.url(is_async=is_async), is_async=is_async, create_all=False)
    with TestClient(app_for(config)):
        pass
    assert _tables(sqlite_db.sync_url) == []


def test_handlers_receive_session_and_engine(db: TestDatabase) -> None:
    config = make_config(db.async_url, is_async=True)

    @get("/probe")
    async def probe(
        db_session: NamedDependency[AsyncSession], db_engine: NamedDependency[AsyncEngine]
    ) -> dict[str, Any]:
        one = (await db_session.execute(text("SELECT 1"))).scalar_one()
        return {"one": one, "dialect": db_engine.dialect.name, "same_engine": db_session.bind is db_engine}

    with TestClient(Litestar([probe], plugins=[SQLAlchemyPlugin(config)])) as client:
        body = client.get("/probe").json()
        assert checked_out(config) == 0
    assert body == {
        "one": 1,
        "dialect": "postgresql" if db.dialect == "postgresql" else "mysql" if db.dialect == "mariadb" else "sqlite",
        "same_engine": True,
    }


def test_one_session_per_request_shared_by_providers(db: TestDatabase, is_async: bool) -> None:
    from litestar import Request
    from litestar.di import Provide

    config = make_config(db.url(is_async=is_async), is_async=is_async)
    seen: list[Any] = []

    def provide_repo(db_session: NamedDependency[Any]) -> Any:
        return db_session

    @get("/same", dependencies={"repo": Provide(provide_repo, sync_to_thread=False)}, sync_to_thread=False)
    def same(db_session: NamedDependency[Any], repo: NamedDependency[Any], request: Request[Any, Any, Any]) -> bool:
        seen.append(db_session)
        return db_session is repo is config.provide_session(request.app.state, request.scope)

    with TestClient(Litestar([same], plugins=[SQLAlchemyPlugin(config)])) as client:
        assert client.get("/same").json() is True
        assert client.get("/same").json() is True
        assert checked_out(config) == 0
    first, second = seen
    assert first is not second  # a new session for each request
    assert isinstance(first, AsyncSession if is_async else Session)


def test_models_are_return_types(sqlite_db: TestDatabase, is_async: bool) -> None:
    config = make_config(sqlite_db.url(is_async=is_async), is_async=is_async, before_send_handler="autocommit")

    @get("/items", sync_to_thread=False)
    def listing(state: State) -> list[Item]:
        return [Item(id=1, name="a"), Item(id=2, name="b")]

    @get("/item", sync_to_thread=False)
    def one() -> Item:
        return Item(id=3, name="c")

    with TestClient(Litestar([listing, one], plugins=[SQLAlchemyPlugin(config)])) as client:
        assert client.get("/items").json() == [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]
        assert client.get("/item").json() == {"id": 3, "name": "c"}
        schema = client.get("/schema/openapi.json").json()
    assert "Item" in str(schema["components"]["schemas"])


def test_the_plugin_is_the_init_and_the_serialization_plugin(sqlite_db: TestDatabase) -> None:
    from litestar.plugins import CLIPlugin, InitPlugin, SerializationPlugin
    from litestar_dbops import SQLAlchemyInitPlugin, SQLAlchemySerializationPlugin

    config = make_config(sqlite_db.url(is_async=True), is_async=True)
    plugin = SQLAlchemyPlugin(config)
    assert isinstance(plugin, SQLAlchemyInitPlugin) and isinstance(plugin, SQLAlchemySerializationPlugin)
    assert isinstance(plugin, InitPlugin) and isinstance(plugin, SerializationPlugin) and isinstance(plugin, CLIPlugin)

    @get("/item", sync_to_thread=False)
    def one() -> Item:
        return Item(id=3, name="c")

    @get("/engine")
    async def engine(db_engine: NamedDependency[AsyncEngine]) -> str:
        return db_engine.dialect.name

    # the two halves used on their own, together: the same app
    app = Litestar([one, engine], plugins=[SQLAlchemyInitPlugin(config), SQLAlchemySerializationPlugin()])
    with TestClient(app) as client:
        assert client.get("/item").json() == {"id": 3, "name": "c"}
        assert client.get("/engine").text == "sqlite"

    # without the serialization half Litestar cannot encode a model: the same request fails
    with TestClient(Litestar([one], plugins=[SQLAlchemyInitPlugin(config)])) as client:
        assert client.get("/item").status_code == 500


def test_provide_session_and_get_session_outside_a_request(sqlite_db: TestDatabase) -> None:
    config = make_config(sqlite_db.url(is_async=False), is_async=False)
    scope: dict[str, Any] = {"type": "http"}
    first = config.provide_session(State(), scope)  # type: ignore[arg-type]
    assert config.provide_session(State(), scope) is first  # type: ignore[arg-type]
    first.close()
    with config.get_session() as session:
        assert session.execute(text("SELECT 1")).scalar_one() == 1
    config.dispose()


def test_get_session_in_a_startup_hook_and_a_background_task(db: TestDatabase, is_async: bool) -> None:
    """The tables exist when on_startup hooks run (create_all runs in the plugin's lifespan, before them), and a
    background task after the response gets its own session from ``get_session()``."""
    from litestar import post
    from litestar.background_tasks import BackgroundTask
    from sqlalchemy import func, select

    from tests.plugin.apps import item_names

    config = make_config(db.url(is_async=is_async), is_async=is_async, before_send_handler="autocommit")

    async def add(name: str) -> None:
        if config.is_async:  # the same as is_async, and it narrows the config's type
            async with config.get_session() as session:
                session.add(Item(name=name))
                await session.commit()
        else:
            with config.get_session() as session:
                session.add(Item(name=name))
                session.commit()

    async def on_startup() -> None:
        await add("from-startup")

    @post("/later/{name:str}")
    async def later(name: FromPath[str]) -> Response[None]:
        return Response(None, status_code=202, background=BackgroundTask(add, f"background-{name}"))

    @get("/count")
    async def count(db_session: NamedDependency[Any]) -> int:
        statement = select(func.count()).select_from(Item)
        result = (await db_session.execute(statement)) if is_async else db_session.execute(statement)
        return int(result.scalar_one())

    app = Litestar([later, count], plugins=[SQLAlchemyPlugin(config)], on_startup=[on_startup])
    with TestClient(app) as client:
        assert client.post("/later/x").status_code == 202
        assert client.get("/count").json() == 2
        assert checked_out(config) == 0
    assert item_names(db.sync_url) == ["background-x", "from-startup"]


def _wait_until(condition: Any, what: str) -> None:
    """Wait for the app's thread to get somewhere (a deadline, not a speed check)."""
    import time

    deadline = time.monotonic() + 30
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.01)


@pytest.mark.parametrize("ending", ["server-closes", "client-leaves"])
def test_a_websocket_session_ends_with_its_handler(db: TestDatabase, is_async: bool, ending: str) -> None:
    """A websocket may end without the server sending anything (the client went away, the handler returned):
    its session is closed and its connection back in the pool either way."""
    from litestar import WebSocket, websocket
    from litestar.exceptions import WebSocketDisconnect

    config = make_config(db.url(is_async=is_async), is_async=is_async, before_send_handler="autocommit")
    sessions: list[Any] = []
    finished: list[bool] = []

    @websocket("/ws")
    async def ws(socket: WebSocket[Any, Any, Any], db_session: NamedDependency[Any]) -> None:
        await socket.accept()
        sessions.append(db_session)
        statement = text("SELECT 1")
        result = (await db_session.execute(statement)) if is_async else db_session.execute(statement)
        await socket.send_json({"one": result.scalar_one()})
        try:
            await socket.receive_text()
        except WebSocketDisconnect:
            finished.append(True)
            return  # nothing more is sent: the client is gone
        await socket.close()
        finished.append(True)

    with TestClient(Litestar([ws], plugins=[SQLAlchemyPlugin(config)])) as client:
        pool = _pool(config)
        with client.websocket_connect("/ws") as connection:
            assert connection.receive_json() == {"one": 1}
            if ending == "server-closes":
                connection.send_text("bye")
        _wait_until(lambda: finished, "the handler to return")
        _wait_until(lambda: pool.checkedout() == 0, "the websocket's connection to go back to the pool")
    (session,) = sessions
    assert not session.in_transaction()


def test_a_cancelled_request_gives_its_connection_back(db: TestDatabase, is_async: bool) -> None:
    """A server may cancel a request whose client left: no response starts, the session is ended anyway.

    The app is called as an ASGI server would (the test clients run requests synchronously, so they cannot
    cancel one)."""
    import asyncio

    config = make_config(db.url(is_async=is_async), is_async=is_async, before_send_handler="autocommit")

    async def run() -> tuple[int, int, list[Any]]:
        started = asyncio.Event()

        @get("/hang")
        async def hang(db_session: NamedDependency[Any]) -> None:
            statement = text("SELECT 1")
            (await db_session.execute(statement)) if is_async else db_session.execute(statement)
            started.set()
            await asyncio.Event().wait()  # until cancelled

        app = Litestar([hang], plugins=[SQLAlchemyPlugin(config)])
        scope = {
            "type": "http",
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/hang",
            "raw_path": b"/hang",
            "root_path": "",
            "query_string": b"",
            "headers": [],
            "client": ("127.0.0.1", 1234),
            "server": ("testserver", 80),
        }
        sent: list[Any] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Any) -> None:
            sent.append(message)

        async with app.lifespan():
            request = asyncio.ensure_future(app(scope, receive, send))  # type: ignore[arg-type]
            await started.wait()
            pool = _pool(config)
            during = pool.checkedout()
            request.cancel()
            with pytest.raises(asyncio.CancelledError):
                await request
            return during, pool.checkedout(), sent

    during, after, sent = asyncio.run(run())
    assert (during, after, sent) == (1, 0, [])


def test_bad_url_fails_startup_with_one_line(plugin_log: list[logging.LogRecord]) -> None:
    config = make_config("nosuchdialect://user:hunter2@localhost/x", is_async=True)
    error = startup_error(app_for(config))
    assert isinstance(error, ConfigError)
    assert str(error).startswith("cannot create an engine for nosuchdialect://user:***@localhost/x")
    assert "hunter2" not in str(error) and "\n" not in str(error)
    assert [record.getMessage() for record in plugin_log] == [f"the app cannot start: {error}"]


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_unreachable_database_with_create_all_fails_startup(
    is_async: bool, plugin_log: list[logging.LogRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "postgresql+{}://me:hunter2@127.0.0.1:9/nowhere".format("asyncpg" if is_async else "psycopg")
    config = make_config(url, is_async=is_async, create_all=True)
    error = startup_error(app_for(config))
    assert isinstance(error, DatabaseConnectionError)
    message = str(error)
    assert message.startswith("cannot connect to default (postgresql+")
    assert "me:***@127.0.0.1:9/nowhere" in message and "hunter2" not in message and "\n" not in message
    # the server's report ends with this line: the driver's chain is left out (its words are in the message)
    assert error.__cause__ is None and error.__suppress_context__
    assert [(record.levelno, record.getMessage()) for record in plugin_log] == [
        (logging.ERROR, f"the app cannot start: {message}")
    ]
    monkeypatch.setenv("DBOPS_TRACEBACK", "1")
    assert isinstance(startup_error(app_for(config)).__cause__, Exception)  # kept on request


def test_create_all_failing_for_another_reason_is_a_startup_error(mariadb_db: TestDatabase) -> None:
    from sqlalchemy import Column, Integer, MetaData, String, Table

    metadata = MetaData()
    Table("t", metadata, Column("id", Integer, primary_key=True), Column("name", String))  # no length on MariaDB
    config = make_config(mariadb_db.sync_url, is_async=False, metadata=metadata)
    error = startup_error(app_for(config))
    assert isinstance(error, StartupError)
    assert str(error).startswith("create_all failed on default (mysql+pymysql://root@")
    assert "VARCHAR requires a length" in str(error) and "\n" not in str(error)


def test_plain_dbops_config_is_refused() -> None:
    with pytest.raises(
        ConfigError, match=r"takes litestar_dbops\.SQLAlchemyAsyncConfig/SQLAlchemySyncConfig, got dbops"
    ):
        SQLAlchemyPlugin(PlainAsyncConfig(connection_string="sqlite+aiosqlite:///x.sqlite"))  # type: ignore[arg-type]


def test_an_empty_config_list_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"^SQLAlchemyPlugin needs at least one config$"):
        SQLAlchemyPlugin([])


def test_two_configs_with_the_same_keys_are_refused() -> None:
    first = make_config("sqlite:///a.sqlite", is_async=False)
    second = make_config("sqlite:///b.sqlite", is_async=False, bind_key="other")
    with pytest.raises(
        ConfigError, match=r"^configs default \(sqlite:///a.sqlite\) and other \(sqlite:///b.sqlite\) both use"
    ):
        SQLAlchemyPlugin([first, second])


def test_a_dependency_name_already_taken_is_refused() -> None:
    from litestar.di import Provide

    config = make_config("sqlite:///a.sqlite", is_async=False)
    with pytest.raises(ConfigError, match="the app already has a dependency named 'db_session'"):
        Litestar(
            plugins=[SQLAlchemyPlugin(config)], dependencies={"db_session": Provide(lambda: None, sync_to_thread=False)}
        )


def test_integrity_error_escaping_a_handler_is_409(sqlite_db: TestDatabase) -> None:
    from litestar import post

    config = make_config(sqlite_db.async_url, is_async=True, before_send_handler="autocommit")

    @post("/twice")
    async def twice(db_session: NamedDependency[AsyncSession]) -> None:
        db_session.add_all([Item(name="x"), Item(name="x")])
        await db_session.flush()

    with TestClient(Litestar([twice], plugins=[SQLAlchemyPlugin(config)])) as client:
        response = client.post("/twice")
        assert response.status_code == 409
        assert checked_out(config) == 0


def test_one_config_cannot_use_one_key_for_session_and_engine() -> None:
    config = make_config("sqlite:///a.sqlite", is_async=False, session_dependency_key="db", engine_dependency_key="db")
    with pytest.raises(ConfigError, match="session_dependency_key and engine_dependency_key are both 'db'"):
        SQLAlchemyPlugin(config)


def test_engine_and_session_config_pass_through_and_json_uses_orjson(pg_db: TestDatabase, is_async: bool) -> None:
    import uuid

    from litestar_dbops import AsyncSessionConfig, EngineConfig, SyncSessionConfig
    from sqlalchemy import JSON, Column, Integer, MetaData, Table, select

    metadata = MetaData()
    docs = Table("doc", metadata, Column("id", Integer, primary_key=True), Column("body", JSON))
    session_config = (
        AsyncSessionConfig(expire_on_commit=False) if is_async else SyncSessionConfig(expire_on_commit=False)
    )
    config = make_config(
        pg_db.url(is_async=is_async),
        is_async=is_async,
        metadata=metadata,
        engine_config=EngineConfig(pool_size=3, max_overflow=0),
        session_config=session_config,
    )
    key = uuid.UUID("12345678-1234-5678-1234-567812345678")
    with TestClient(app_for(config)):
        engine: Any = config.get_engine()
        pool = engine.sync_engine.pool if is_async else engine.pool
        assert pool.size() == 3
        assert config.create_session_maker().kw["expire_on_commit"] is False

    # The table exists now (create_all); write a UUID inside JSON, which the stdlib json module cannot encode.
    async def write_async() -> None:
        async with config.get_engine().begin() as connection:  # type: ignore[union-attr]
            await connection.execute(docs.insert(), [{"id": 1, "body": {"key": key}}])
            assert (await connection.execute(select(docs.c.body))).scalar_one() == {"key": str(key)}
        await config.dispose_async()  # type: ignore[union-attr]

    if is_async:
        import asyncio

        asyncio.run(write_async())
    else:
        with config.get_engine().begin() as connection:  # type: ignore[union-attr]
            connection.execute(docs.insert(), [{"id": 1, "body": {"key": key}}])
            assert connection.execute(select(docs.c.body)).scalar_one() == {"key": str(key)}
        config.dispose()  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("error", "status", "detail"),
    [
        ("NotFoundError", 404, "no author 7"),
        ("DuplicateKeyError", 409, "no author 7"),
        ("ForeignKeyError", 409, "no author 7"),
        ("FilterError", 400, "no author 7"),
        ("RepositoryError", 500, "Internal Server Error"),
    ],
)
def test_repository_errors_map_to_http_statuses(error: str, status: int, detail: str) -> None:
    from dbops import errors

    config = make_config("sqlite+aiosqlite://", is_async=True, create_all=False)

    @get("/fail", sync_to_thread=False)
    def fail() -> None:
        raise getattr(errors, error)("no author 7")

    with TestClient(Litestar([fail], plugins=[SQLAlchemyPlugin(config)])) as client:
        response = client.get("/fail")
    assert (response.status_code, response.json()) == (status, {"status_code": status, "detail": detail})
