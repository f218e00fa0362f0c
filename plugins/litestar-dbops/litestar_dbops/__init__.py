"""litestar-dbops: dbops for Litestar apps.

``SQLAlchemyPlugin`` wires dbops' configs into an app (engine lifecycle, ``db_session``/``db_engine``
injection, autocommit) and mounts dbops' CLI as ``litestar database``. Names follow Advanced Alchemy's
Litestar extension, so ``from litestar_dbops import SQLAlchemyAsyncConfig, SQLAlchemyPlugin`` replaces
``from advanced_alchemy.extensions.litestar import ...``.

Names load on first use: a module that only defines configs (and the ``dbops`` CLI reading it) does not
import litestar.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "AlembicAsyncConfig": "litestar_dbops.config",
    "AlembicSyncConfig": "litestar_dbops.config",
    "AsyncSessionConfig": "litestar_dbops.config",
    "EngineConfig": "litestar_dbops.config",
    "SQLAlchemyAsyncConfig": "litestar_dbops.config",
    "SQLAlchemySyncConfig": "litestar_dbops.config",
    "SyncSessionConfig": "litestar_dbops.config",
    "AutocommitHandler": "litestar_dbops.handlers",
    "SessionHandler": "litestar_dbops.handlers",
    "autocommit_before_send_handler": "litestar_dbops.handlers",
    "autocommit_handler_maker": "litestar_dbops.handlers",
    "async_autocommit_handler_maker": "litestar_dbops.handlers",
    "sync_autocommit_handler_maker": "litestar_dbops.handlers",
    "default_before_send_handler": "litestar_dbops.handlers",
    "get_scope_session": "litestar_dbops.handlers",
    "async_autocommit_before_send_handler": "litestar_dbops.handlers",
    "async_default_before_send_handler": "litestar_dbops.handlers",
    "async_default_handler_maker": "litestar_dbops.handlers",
    "default_handler_maker": "litestar_dbops.handlers",
    "sync_autocommit_before_send_handler": "litestar_dbops.handlers",
    "sync_default_before_send_handler": "litestar_dbops.handlers",
    "sync_default_handler_maker": "litestar_dbops.handlers",
    "SQLAlchemyInitPlugin": "litestar_dbops.plugin",
    "SQLAlchemyPlugin": "litestar_dbops.plugin",
    "SQLAlchemySerializationPlugin": "litestar_dbops.plugin",
    "SQLAlchemyDTO": "litestar_dbops.dto",
    "SQLAlchemyDTOConfig": "litestar_dbops.dto",
}

__all__ = [
    "AlembicAsyncConfig",
    "AlembicSyncConfig",
    "AsyncSessionConfig",
    "AutocommitHandler",
    "EngineConfig",
    "SQLAlchemyAsyncConfig",
    "SQLAlchemyDTO",
    "SQLAlchemyDTOConfig",
    "SQLAlchemyInitPlugin",
    "SQLAlchemyPlugin",
    "SQLAlchemySerializationPlugin",
    "SQLAlchemySyncConfig",
    "SessionHandler",
    "SyncSessionConfig",
    "async_autocommit_before_send_handler",
    "async_autocommit_handler_maker",
    "async_default_before_send_handler",
    "async_default_handler_maker",
    "autocommit_before_send_handler",
    "autocommit_handler_maker",
    "default_before_send_handler",
    "default_handler_maker",
    "get_scope_session",
    "sync_autocommit_before_send_handler",
    "sync_autocommit_handler_maker",
    "sync_default_before_send_handler",
    "sync_default_handler_maker",
]

if TYPE_CHECKING:
    from litestar_dbops.config import (
        AlembicAsyncConfig,
        AlembicSyncConfig,
        AsyncSessionConfig,
        EngineConfig,
        SQLAlchemyAsyncConfig,
        SQLAlchemySyncConfig,
        SyncSessionConfig,
    )
    from litestar_dbops.dto import SQLAlchemyDTO, SQLAlchemyDTOConfig
    from litestar_dbops.handlers import (
        AutocommitHandler,
        SessionHandler,
        async_autocommit_before_send_handler,
        async_autocommit_handler_maker,
        async_default_before_send_handler,
        async_default_handler_maker,
        autocommit_before_send_handler,
        autocommit_handler_maker,
        default_before_send_handler,
        default_handler_maker,
        get_scope_session,
        sync_autocommit_before_send_handler,
        sync_autocommit_handler_maker,
        sync_default_before_send_handler,
        sync_default_handler_maker,
    )
    from litestar_dbops.plugin import SQLAlchemyInitPlugin, SQLAlchemyPlugin, SQLAlchemySerializationPlugin


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'litestar_dbops' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
