"""litestar-dbops: dbops for Litestar apps.

``SQLAlchemyPlugin`` wires dbops' configs into an app (engine lifecycle, ``db_session``/``db_engine``
injection, autocommit) and mounts dbops' CLI as ``litestar database``. Names follow Advanced Alchemy's
Litestar extension, so ``from litestar_dbops import SQLAlchemyAsyncConfig, SQLAlchemyPlugin`` replaces
``from advanced_alchemy.extensions.litestar import ...``.
"""

from __future__ import annotations

from litestar_dbops.config import (
    AlembicAsyncConfig,
    AlembicSyncConfig,
    AsyncSessionConfig,
    EngineConfig,
    SQLAlchemyAsyncConfig,
    SQLAlchemySyncConfig,
    SyncSessionConfig,
)
from litestar_dbops.handlers import (
    AutocommitHandler,
    SessionHandler,
    autocommit_before_send_handler,
    autocommit_handler_maker,
    default_before_send_handler,
    get_scope_session,
)
from litestar_dbops.plugin import SQLAlchemyInitPlugin, SQLAlchemyPlugin, SQLAlchemySerializationPlugin

async_autocommit_handler_maker = autocommit_handler_maker
sync_autocommit_handler_maker = autocommit_handler_maker

__all__ = [
    "AlembicAsyncConfig",
    "AlembicSyncConfig",
    "AsyncSessionConfig",
    "AutocommitHandler",
    "EngineConfig",
    "SQLAlchemyAsyncConfig",
    "SQLAlchemyInitPlugin",
    "SQLAlchemyPlugin",
    "SQLAlchemySerializationPlugin",
    "SQLAlchemySyncConfig",
    "SessionHandler",
    "SyncSessionConfig",
    "async_autocommit_handler_maker",
    "autocommit_before_send_handler",
    "autocommit_handler_maker",
    "default_before_send_handler",
    "get_scope_session",
    "sync_autocommit_handler_maker",
]
