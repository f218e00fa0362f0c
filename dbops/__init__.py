"""dbops: database operations for SQLAlchemy apps.

Public names are loaded on first use, so ``import dbops`` (and ``dbops --help``) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "AlembicAsyncConfig": "dbops.config",
    "AlembicSyncConfig": "dbops.config",
    "AsyncSessionConfig": "dbops.config",
    "EngineConfig": "dbops.config",
    "SQLAlchemyAsyncConfig": "dbops.config",
    "SQLAlchemySyncConfig": "dbops.config",
    "SyncSessionConfig": "dbops.config",
    "DbopsError": "dbops.errors",
    "ConfigError": "dbops.errors",
}

__all__ = [
    "AlembicAsyncConfig",
    "AlembicSyncConfig",
    "AsyncSessionConfig",
    "ConfigError",
    "DbopsError",
    "EngineConfig",
    "SQLAlchemyAsyncConfig",
    "SQLAlchemySyncConfig",
    "SyncSessionConfig",
    "__version__",
]

if TYPE_CHECKING:
    from dbops.config import (
        AlembicAsyncConfig,
        AlembicSyncConfig,
        AsyncSessionConfig,
        EngineConfig,
        SQLAlchemyAsyncConfig,
        SQLAlchemySyncConfig,
        SyncSessionConfig,
    )
    from dbops.errors import ConfigError, DbopsError


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dbops' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
