"""The seed's Litestar examples (../shared/seed/litestar-integration.rst) with litestar_dbops names swapped in.

Each snippet is kept as the docs print it (including its relative ``sqlite+aiosqlite:///test.sqlite``), so
each test runs in its own temporary folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar.testing import TestClient

from tests.databases import TestDatabase
from tests.plugin.helpers import load_module, run_litestar, write_module

# The seed's snippets declare injected parameters in the style Litestar 2.24+ deprecates; they must keep working
# exactly as printed, so their deprecation warnings are expected here (our own code is checked elsewhere).
pytestmark = pytest.mark.filterwarnings("ignore::litestar.exceptions.LitestarDeprecationWarning")

BASIC_SETUP = """
from litestar import Litestar
from litestar_dbops import (
    AsyncSessionConfig,
    SQLAlchemyAsyncConfig,
    SQLAlchemyPlugin,
)

session_config = AsyncSessionConfig(expire_on_commit=False)
alchemy_config = SQLAlchemyAsyncConfig(
    connection_string="sqlite+aiosqlite:///test.sqlite",
    before_send_handler="autocommit",
    session_config=session_config,
    create_all=True,
)
alchemy = SQLAlchemyPlugin(config=alchemy_config)
app = Litestar(plugins=[alchemy])
"""

SESSIONS_IN_CONTROLLERS = """
from litestar import Litestar, get
from sqlalchemy.ext.asyncio import AsyncSession
from litestar_dbops import (
    AsyncSessionConfig,
    SQLAlchemyAsyncConfig,
    SQLAlchemyPlugin,
)

session_config = AsyncSessionConfig(expire_on_commit=False)
alchemy_config = SQLAlchemyAsyncConfig(
    connection_string="sqlite+aiosqlite:///test.sqlite",
    before_send_handler="autocommit",
    session_config=session_config,
    create_all=True,
)  # Auto creates 'db_session' dependency.

@get("/my-endpoint")
async def my_controller(db_session: AsyncSession) -> str:
    # Access the database session here.
    return "Hello, World!"

app = Litestar(
    route_handlers=[my_controller],
    plugins=[SQLAlchemyPlugin(config=alchemy_config)],
)
"""

PROVIDE_SESSION_GUARD = """
from typing import Any

from litestar import Litestar, get
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar_dbops import (
    AsyncSessionConfig,
    SQLAlchemyAsyncConfig,
    SQLAlchemyPlugin,
)
from sqlalchemy import text

session_config = AsyncSessionConfig(expire_on_commit=False)
alchemy_config = SQLAlchemyAsyncConfig(
    connection_string="sqlite+aiosqlite:///test.sqlite",
    before_send_handler="autocommit",
    session_config=session_config,
    create_all=True,
)
alchemy = SQLAlchemyPlugin(config=alchemy_config)

guard_values = []

async def my_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    db_session = alchemy_config.provide_session(connection.app.state, connection.scope)
    a_value = await db_session.execute(text("SELECT 1"))
    guard_values.append(a_value.scalar_one())

@get("/", guards=[my_guard])
async def hello() -> str:
    return "Hello, world!"

app = Litestar(
    route_handlers=[hello],
    plugins=[alchemy],
)
"""

GET_SESSION_CLI = """
from click import Group
from litestar import Litestar, get
from litestar.plugins import CLIPluginProtocol, InitPluginProtocol
from litestar_dbops import (
    AsyncSessionConfig,
    SQLAlchemyAsyncConfig,
    SQLAlchemyPlugin,
)
from sqlalchemy import text


class ApplicationCore(CLIPluginProtocol):
    def on_cli_init(self, cli: Group) -> None:
        @cli.command('check-db-status')
        def check_db_status() -> None:
            import anyio

            async def _check_db_status() -> None:
                async with alchemy_config.get_session() as db_session:
                    a_value = await db_session.execute(text("SELECT 1"))
                    if a_value.scalar_one() == 1:
                        print("Database is healthy")
                    else:
                        print("Database is not healthy")

            anyio.run(_check_db_status)


alchemy_config = SQLAlchemyAsyncConfig(
    connection_string="sqlite+aiosqlite:///test.sqlite",
    before_send_handler="autocommit",
    session_config=AsyncSessionConfig(expire_on_commit=False),
    create_all=True,
)
alchemy = SQLAlchemyPlugin(config=alchemy_config)
app = Litestar(plugins=[alchemy, ApplicationCore()])
"""

CONNECTION_POOLING = """
from litestar import Litestar
from sqlalchemy.pool import QueuePool
from litestar_dbops import EngineConfig, SQLAlchemyAsyncConfig, SQLAlchemyPlugin

alchemy_config = SQLAlchemyAsyncConfig(
    connection_string="postgresql+asyncpg://user:password@localhost/mydb",
    engine_config=EngineConfig(
        poolclass=QueuePool,
        pool_size=20,
        max_overflow=30,
        pool_pre_ping=True,
    ),
)
app = Litestar(plugins=[SQLAlchemyPlugin(config=alchemy_config)])
"""


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_basic_setup_starts_and_opens_the_database(in_tmp: Path) -> None:
    module = load_module(in_tmp, BASIC_SETUP)
    with TestClient(module.app):
        assert module.app.state["db_engine"] is module.alchemy_config.get_engine()
    assert (in_tmp / "test.sqlite").exists()  # create_all connected


def test_sessions_in_controllers(in_tmp: Path) -> None:
    module = load_module(in_tmp, SESSIONS_IN_CONTROLLERS)
    with TestClient(module.app) as client:
        response = client.get("/my-endpoint")
    assert (response.status_code, response.text) == (200, "Hello, World!")


def test_provide_session_in_a_guard(in_tmp: Path) -> None:
    module = load_module(in_tmp, PROVIDE_SESSION_GUARD)
    with TestClient(module.app) as client:
        response = client.get("/")
        assert module.alchemy_config.get_engine().sync_engine.pool.checkedout() == 0
    assert (response.status_code, response.text) == (200, "Hello, world!")
    assert module.guard_values == [1]


def test_get_session_in_a_cli_plugin_command(in_tmp: Path) -> None:
    name = write_module(in_tmp, GET_SESSION_CLI)
    result = run_litestar(["--app", f"{name}:app", "check-db-status"], app_dir=in_tmp)
    assert result.exit_code == 0, result.output
    assert result.stdout == "Database is healthy\n"


def test_connection_pooling_with_queue_pool_on_an_async_config(in_tmp: Path, db: TestDatabase) -> None:
    from sqlalchemy import text
    from sqlalchemy.pool import AsyncAdaptedQueuePool

    source = CONNECTION_POOLING.replace("postgresql+asyncpg://user:password@localhost/mydb", db.async_url)
    module = load_module(in_tmp, source)
    with TestClient(module.app) as client:
        engine = module.app.state["db_engine"]
        pool = engine.sync_engine.pool
        assert isinstance(pool, AsyncAdaptedQueuePool)  # the asyncio form of the QueuePool asked for
        if db.dialect != "sqlite":  # SQLite's pools take no sizing options
            assert (pool.size(), pool._max_overflow) == (20, 30)
        assert pool._pre_ping is True

        async def one() -> int:
            async with module.alchemy_config.get_session() as session:
                return int((await session.execute(text("SELECT 1"))).scalar_one())

        assert client.blocking_portal.call(one) == 1  # on the app's own event loop
        assert pool.checkedout() == 0
