"""Indexes a failed ``CREATE INDEX CONCURRENTLY`` left behind (PostgreSQL marks them INVALID).

A concurrent build that is cancelled (a lock timeout, a unique violation, Ctrl-C) leaves the index in the
catalog, unused by queries but still maintained on every write, and a second ``CREATE INDEX CONCURRENTLY``
of the same name fails. ``check`` lists them. Other dialects build indexes atomically: nothing to report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from dbops.config import AnyConfig

__all__ = ["InvalidIndex", "invalid_indexes"]

_QUERY = """
SELECT n.nspname, c.relname, t.relname
FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT i.indisvalid AND n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY 1, 2
"""


@dataclass(frozen=True)
class InvalidIndex:
    schema: str
    name: str
    table: str

    def __str__(self) -> str:
        return (
            f"index {self.schema}.{self.name} on {self.table} is INVALID (a failed CREATE INDEX CONCURRENTLY): "
            f"DROP INDEX CONCURRENTLY {self.schema}.{self.name}, then build it again"
        )


def invalid_indexes(config: AnyConfig) -> list[InvalidIndex]:
    """The INVALID indexes of the config's PostgreSQL database (always empty elsewhere)."""
    from sqlalchemy import text

    from dbops.connect import dialect_name, run_sync

    if dialect_name(config) != "postgresql":
        return []

    def read(connection: Connection) -> list[InvalidIndex]:
        rows = connection.execute(text(_QUERY)).all()
        connection.rollback()
        return [InvalidIndex(str(row[0]), str(row[1]), str(row[2])) for row in rows]

    return run_sync(config, read)
