"""Startup and shutdown of one config inside a Litestar app: engine, session maker, ``create_all``, dispose.

Startup failures surface as dbops errors with one line naming the database (password masked): a bad URL or
missing driver is a ``ConfigError``, an unreachable server (found by ``create_all``) a ``DatabaseConnectionError``; any
other failure of ``create_all`` a ``StartupError``. The failure is also logged as one ERROR line on the
``litestar_dbops`` logger, and raised without the driver's exception chain (its words are in the message), so
the server's "startup failed" report ends with the line that matters; ``DBOPS_TRACEBACK=1`` keeps the chain.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from dbops.connect import translate_connect_errors
from dbops.errors import DbopsError, StartupError, first_line

if TYPE_CHECKING:
    from litestar.datastructures import State

    from litestar_dbops.config import AnyLitestarConfig

__all__ = ["create_all", "start_config", "stop_config"]


logger = logging.getLogger("litestar_dbops")


async def start_config(config: AnyLitestarConfig, state: State) -> None:
    """Put the config's engine and session maker in ``state``; create its tables when ``create_all`` is set."""
    try:
        engine = config.get_engine()
        state[config.engine_app_state_key] = engine
        state[config.session_maker_app_state_key] = config.create_session_maker()
        if config.create_all:
            try:
                await create_all(config)
            except BaseException:
                await stop_config(config, state)
                raise
    except DbopsError as error:
        logger.error("the app cannot start: %s", error)
        if os.environ.get("DBOPS_TRACEBACK", "") in ("", "0"):
            raise error from None
        raise


async def stop_config(config: AnyLitestarConfig, state: State) -> None:
    """Remove the config's entries from ``state`` and close every pooled connection."""
    state.pop(config.engine_app_state_key, None)
    state.pop(config.session_maker_app_state_key, None)
    if config.is_async:
        await config.dispose_async()
    else:
        import anyio.to_thread

        await anyio.to_thread.run_sync(config.dispose)


async def create_all(config: AnyLitestarConfig) -> None:
    """Create the tables of the config's metadata that do not exist yet, on the config's own engine."""
    from sqlalchemy.exc import SQLAlchemyError

    metadata = config.get_metadata()
    try:
        with translate_connect_errors(config):
            if config.is_async:
                async with config.get_engine().begin() as connection:
                    await connection.run_sync(metadata.create_all)
            else:
                import anyio.to_thread

                await anyio.to_thread.run_sync(lambda: metadata.create_all(config.get_engine()))
    except DbopsError:
        raise
    except (SQLAlchemyError, OSError) as error:
        detail = first_line(str(error)) or type(error).__name__
        raise StartupError(f"create_all failed on {config.describe()}: {detail}") from error
