"""The statements a load writes rows with: inserts, idempotent upserts, and identity overrides.

``--mode upsert`` changes only rows whose values differ, so loading the same data twice writes nothing and
fires no ``UPDATE`` trigger:

- PostgreSQL: ``ON CONFLICT (pk) DO UPDATE ... WHERE <any column's text> IS DISTINCT FROM <excluded's>``
  (compared as text, which every type has; ``json`` has no equality operator).
- SQLite: ``ON CONFLICT (pk) DO UPDATE ... WHERE t.c IS NOT excluded.c OR ...``.
- MariaDB/MySQL: ``ON DUPLICATE KEY UPDATE`` runs ``BEFORE UPDATE`` triggers for every conflicting row, equal
  or not, and fires on any unique key. Instead each batch goes into a temporary table, then one
  ``UPDATE ... JOIN`` changes the rows whose values differ (compared byte for byte, ``BINARY a <=> BINARY b``,
  so collations can't make ``'a'`` equal ``'A '``) and one ``INSERT ... SELECT`` adds the missing ones.

PostgreSQL ``GENERATED ALWAYS AS IDENTITY`` columns refuse explicit values unless the insert says
``OVERRIDING SYSTEM VALUE``, which ``insert_statement`` adds (COPY takes them as they are). Such a column is
not in an upsert's ``SET`` list: it can only be set when the row is inserted.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.dialects.postgresql import Insert as PostgresInsert
from sqlalchemy.ext.compiler import compiles

from dbops.errors import DataError

if TYPE_CHECKING:
    from sqlalchemy import Connection, Table

__all__ = ["MysqlUpsert", "insert_statement"]


class _OverridingInsert(PostgresInsert):
    """``INSERT INTO t (...) OVERRIDING SYSTEM VALUE VALUES ...``."""

    inherit_cache = True


@compiles(_OverridingInsert, "postgresql")
def _compile_overriding(element: Any, compiler: Any, **kw: Any) -> str:
    return _after_column_list(compiler.visit_insert(element, **kw), " OVERRIDING SYSTEM VALUE")


def _after_column_list(sql: str, clause: str) -> str:
    """``sql`` with ``clause`` after an INSERT's column list (the first parenthesis outside quoted names)."""
    depth = 0
    quoted = False
    for index, char in enumerate(sql):
        if char == '"':
            quoted = not quoted  # a doubled "" inside a name toggles twice
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
            if depth == 0:
                return sql[: index + 1] + clause + sql[index + 1 :]
    raise DataError("cannot place OVERRIDING SYSTEM VALUE in the INSERT statement")  # pragma: no cover


def insert_statement(
    table: Table, dialect: str, *, mode: str, keys: Sequence[str], identity_always: frozenset[str]
) -> Any:
    """The statement loading rows with ``keys`` into ``table``; None for a MariaDB upsert (``MysqlUpsert``)."""
    from sqlalchemy import Text, cast, insert, or_

    overriding = dialect == "postgresql" and bool(identity_always & set(keys))
    if mode != "upsert":
        return _OverridingInsert(table) if overriding else insert(table)
    primary = [column.key for column in table.primary_key.columns]
    others = [key for key in keys if key not in primary and key not in identity_always]
    statement: Any
    if dialect in ("mysql", "mariadb"):
        return None
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        statement = _OverridingInsert(table) if overriding else pg_insert(table)
        differs = [cast(table.c[key], Text).is_distinct_from(cast(statement.excluded[key], Text)) for key in others]
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(table)
        differs = [table.c[key].is_distinct_from(statement.excluded[key]) for key in others]
    else:
        raise DataError(f"--mode upsert is not supported on {dialect}")
    if not others:
        return statement.on_conflict_do_nothing(index_elements=primary)
    return statement.on_conflict_do_update(
        index_elements=primary, set_={key: statement.excluded[key] for key in others}, where=or_(*differs)
    )


class MysqlUpsert:
    """MariaDB/MySQL ``--mode upsert`` through a temporary table: update what differs, insert what's missing."""

    def __init__(self, connection: Connection, table: Table, keys: Sequence[str]) -> None:
        from sqlalchemy import Column, MetaData, Table, insert

        self.connection = connection
        preparer = connection.dialect.identifier_preparer
        target = preparer.format_table(table)
        name = f"dbops_upsert_{secrets.token_hex(6)}"
        self.stage_name = preparer.quote(name)
        names = [table.c[key].name for key in keys]
        quoted = [preparer.quote(name) for name in names]
        primary = [preparer.quote(column.name) for column in table.primary_key.columns]
        primary_keys = {column.key for column in table.primary_key.columns}
        others = [name for name, key in zip(quoted, keys, strict=True) if key not in primary_keys]
        joined = " AND ".join(f"t.{column} = s.{column}" for column in primary)
        connection.exec_driver_sql(
            f"CREATE TEMPORARY TABLE {self.stage_name} AS SELECT {', '.join(quoted)} FROM {target} LIMIT 0"
        )
        stage = Table(name, MetaData(), *[Column(table.c[key].name, table.c[key].type, key=key) for key in keys])
        self.stage_insert = insert(stage)
        self.update = (
            f"UPDATE {target} AS t JOIN {self.stage_name} AS s ON {joined} "
            f"SET {', '.join(f't.{column} = s.{column}' for column in others)} "
            f"WHERE {' OR '.join(f'NOT (BINARY t.{column} <=> BINARY s.{column})' for column in others)}"
            if others
            else None
        )
        self.insert = (
            f"INSERT INTO {target} ({', '.join(quoted)}) SELECT {', '.join(f's.{column}' for column in quoted)} "
            f"FROM {self.stage_name} AS s LEFT JOIN {target} AS t ON {joined} WHERE t.{primary[0]} IS NULL"
        )

    def write(self, rows: list[dict[str, Any]]) -> None:
        self.connection.exec_driver_sql(f"DELETE FROM {self.stage_name}")
        self.connection.execute(self.stage_insert, rows)
        if self.update is not None:
            self.connection.exec_driver_sql(self.update)
        self.connection.exec_driver_sql(self.insert)

    def close(self) -> None:
        self.connection.exec_driver_sql(f"DROP TEMPORARY TABLE IF EXISTS {self.stage_name}")
