"""Server-side sessions in the database: the model mixin, and the cleanup/stats engine behind
``dbops sessions``. Nothing here imports Litestar; the backends live in ``litestar_dbops.session``."""

from __future__ import annotations

from dbops.sessions.cleanup import CleanupResult, SessionTable, TableStats, cleanup, model_session_tables, stats
from dbops.sessions.model import SessionModelMixin, storage_key
from dbops.types import DateTimeUTC, uuid7

__all__ = [
    "CleanupResult",
    "DateTimeUTC",
    "SessionModelMixin",
    "SessionTable",
    "TableStats",
    "cleanup",
    "model_session_tables",
    "stats",
    "storage_key",
    "uuid7",
]
