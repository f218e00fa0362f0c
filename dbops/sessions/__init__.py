"""Server-side sessions in the database: the model mixin, and the cleanup/stats engine behind
``dbops sessions``. Nothing here imports Litestar; the backends live in ``litestar_dbops.session``.

The model mixin loads on first use: ``dbops sessions cleanup --url`` needs only the engine (Core, imported
lazily inside it), not the mixin and the ORM behind it, which would add a fifth to the command's start-up. The
engine's names are imported here eagerly (a light module): lazily, ``dbops.sessions.cleanup`` would be the
submodule, not the function, once the submodule is imported.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from dbops.sessions.cleanup import CleanupResult, SessionTable, TableStats, cleanup, model_session_tables, stats

__all__ = [
    "CleanupResult",
    "DateTimeUTC",
    "SessionModelMixin",
    "SessionTable",
    "TableStats",
    "cleanup",
    "is_valid_session_id",
    "model_session_tables",
    "stats",
    "storage_key",
    "uuid7",
]

_EXPORTS: dict[str, str] = {
    "SessionModelMixin": "dbops.sessions.model",
    "storage_key": "dbops.sessions.model",
    "is_valid_session_id": "dbops.sessions.model",
    "DateTimeUTC": "dbops.types",
    "uuid7": "dbops.types",
}

if TYPE_CHECKING:
    from dbops.sessions.model import SessionModelMixin, is_valid_session_id, storage_key
    from dbops.types import DateTimeUTC, uuid7


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dbops.sessions' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
