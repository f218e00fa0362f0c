"""Run sync engine code on a config's database, whether the config is sync or async.

dbops' engines (migrations, dump/load, cleanup) are written once, against a sync ``Connection``. For an async
config they run inside ``AsyncConnection.run_sync`` on a fresh event loop and a fresh ``NullPool`` engine, so
the URL and driver the user configured are the ones used and no pooled connection outlives its loop.
Connection failures become one-line ``DatabaseConnectionError``s with the password masked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from dbops.errors import DatabaseConnectionError, DbopsError, first_line
from dbops.urls import backend_name, parse_url

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine
    from sqlalchemy.ext.asyncio import AsyncEngine

    from dbops.config import AnyConfig

__all__ = ["dialect_name", "run_sync", "sync_engine_for"]

T = TypeVar("T")


class _DropIgnoredPrimaryKeyName(logging.Filter):
    """MariaDB ignores the name of a PRIMARY KEY constraint (every naming convention gives one) and says so in
    a note on each CREATE TABLE; asyncmy logs every server note as a warning, so each command printed a line
    per table. Nothing is wrong and nothing can be done about it: drop that note, keep the others."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (message.startswith("Name '") and message.endswith("ignored for PRIMARY key."))


logging.getLogger("asyncmy").addFilter(_DropIgnoredPrimaryKeyName())


def dialect_name(config: AnyConfig) -> str:
    """``sqlite``, ``postgresql``, ``mysql``/``mariadb``, ... from the URL, without creating an engine."""
    return backend_name(str(config.connection_string))


@contextlib.contextmanager
def translate_connect_errors(config: AnyConfig) -> Iterator[None]:
    """Turn a driver's failure to connect into one line naming the database (password masked)."""
    from sqlalchemy import exc

    try:
        yield
    except DbopsError:
        raise
    except (exc.OperationalError, exc.InterfaceError) as error:
        if getattr(error, "connection_invalidated", False) or error.statement is None or _is_connect_error(error):
            raise _cannot_connect(config, error.orig if error.orig is not None else error) from error
        raise
    except exc.DBAPIError as error:
        # Some drivers (asyncpg) raise their refusals at connect time as plain DBAPIErrors; no statement ran.
        if error.statement is None or getattr(error, "connection_invalidated", False):
            raise _cannot_connect(config, error.orig if error.orig is not None else error) from error
        raise
    except OSError as error:  # raised directly by some async drivers (asyncpg, asyncmy)
        raise _cannot_connect(config, error) from error
    except UnicodeEncodeError as error:
        # PyMySQL and asyncmy send the password as latin-1; the error's own text quotes a character of it.
        if error.object == parse_url(str(config.connection_string)).password:
            raise DatabaseConnectionError(
                f"cannot connect to {config.describe()}: the driver can't send this password "
                f"(it holds characters outside {error.encoding})"
            ) from error
        raise
    except Exception as error:
        # SQLAlchemy 2.0 lets some async drivers' connect-time refusals through unwrapped (asyncpg's
        # InvalidAuthorizationSpecificationError); recognise them by their package and message.
        if type(error).__module__.split(".", 1)[0] in _DRIVER_PACKAGES and _is_connect_error(error):
            raise _cannot_connect(config, error) from error
        raise


def _cannot_connect(config: AnyConfig, error: BaseException) -> DatabaseConnectionError:
    return DatabaseConnectionError(f"cannot connect to {config.describe()}: {first_line(error)}")


_DRIVER_PACKAGES = frozenset({"asyncpg", "asyncmy", "aiosqlite", "aiomysql", "psycopg", "psycopg2", "pymysql"})


def _is_connect_error(error: Exception) -> bool:
    text = str(error).lower()
    return any(
        marker in text
        for marker in (
            "connection refused",
            "could not connect",
            "can't connect",
            "unable to open database",
            "access denied",
            "authentication failed",
            "password authentication",
            "unknown database",
            "does not exist",
            "name or service not known",
            "connection failed",
        )
    )


def sync_engine_for(config: AnyConfig) -> Engine:
    """A sync engine for a sync config (the config's own, so its pool and options apply)."""
    return config.get_engine()  # type: ignore[return-value]


def _fresh_async_engine(config: AnyConfig) -> AsyncEngine:
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    kwargs: dict[str, Any] = config.engine_config.to_kwargs()
    for key in ("pool_size", "max_overflow", "pool_timeout", "pool_use_lifo", "poolclass", "pool"):
        kwargs.pop(key, None)
    engine: AsyncEngine = config.new_engine(
        config.create_engine_callable or create_async_engine, {**kwargs, "poolclass": NullPool}
    )
    return engine


def run_sync(config: AnyConfig, work: Callable[[Connection], T]) -> T:
    """Call ``work(connection)`` on the config's database and return its result.

    ``work`` manages its own transactions (``connection.begin()``); the connection is closed afterwards.
    """
    if not config.is_async:
        engine = sync_engine_for(config)
        with translate_connect_errors(config), engine.connect() as connection:
            return work(connection)

    async def _run() -> T:
        engine = _fresh_async_engine(config)
        try:
            with translate_connect_errors(config):
                async with engine.connect() as connection:
                    return await connection.run_sync(work)
        finally:
            await engine.dispose()

    result: T = run_coroutine(_run())
    return result


def run_coroutine(coroutine: Any) -> Any:
    """Run a coroutine to completion from sync code that has no running event loop (the CLI)."""
    return asyncio.run(coroutine)
