"""The SQL of server-side sessions, one builder per operation with the per-dialect differences inside.

Shared by the Litestar backends (``litestar_dbops.session``) and the cleanup engine, so the upsert, the expiry
rules and the batched delete are written once.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Table, bindparam, delete, false, func, select, text, update
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import Executable

from dbops.sessions.clock import utc_now, utc_now_plus
from dbops.types import DateTimeUTC, uuid7

__all__ = [
    "BatchStatements",
    "batch_statements",
    "delete_all_statement",
    "delete_statement",
    "get_statement",
    "progress_statement",
    "renew_statement",
    "server_loop_statement",
    "text_table_name",
    "upsert_statement",
]


def upsert_statement(table: Table, dialect: str, *, key: str, data: bytes, max_age: float) -> Executable:
    """Insert the session or replace its data and expiry, atomically (no unique violation under concurrency)."""
    values: dict[str, Any] = {
        "id": uuid7(),
        "session_id": key,
        "data": data,
        "expires_at": utc_now_plus(max_age),
        "created_at": utc_now(),
        "updated_at": utc_now(),
    }
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        pg = pg_insert(table).values(values)
        return pg.on_conflict_do_update(
            index_elements=[table.c.session_id],
            set_={name: pg.excluded[name] for name in ("data", "expires_at", "updated_at")},
        )
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        lite = sqlite_insert(table).values(values)
        return lite.on_conflict_do_update(
            index_elements=[table.c.session_id],
            set_={name: lite.excluded[name] for name in ("data", "expires_at", "updated_at")},
        )
    if dialect in ("mysql", "mariadb"):
        from sqlalchemy.dialects.mysql import insert as mysql_insert

        my = mysql_insert(table).values(values)
        return my.on_duplicate_key_update({name: my.inserted[name] for name in ("data", "expires_at", "updated_at")})
    raise NotImplementedError(f"server-side sessions do not support the {dialect} dialect")


def get_statement(table: Table, *, key: str, renew_within: float) -> Executable:
    """The live session's data, and whether less than ``renew_within`` seconds of it remain (by the DB clock)."""
    renew = (table.c.expires_at < utc_now_plus(renew_within)) if renew_within > 0 else false()
    return select(table.c.data, renew.label("renew")).where(table.c.session_id == key, table.c.expires_at > utc_now())


def renew_statement(table: Table, *, key: str, max_age: float) -> Executable:
    """Push a live session's expiry to ``max_age`` seconds from now."""
    return (
        update(table)
        .where(table.c.session_id == key, table.c.expires_at > utc_now())
        .values(expires_at=utc_now_plus(max_age), updated_at=utc_now())
    )


def delete_statement(table: Table, *, key: str) -> Executable:
    return delete(table).where(table.c.session_id == key)


def delete_all_statement(table: Table) -> Executable:
    return delete(table)


def text_table_name(dialect: Dialect, table: Table) -> str:
    """The table's quoted name, to write into ``text()`` SQL: ``text()`` doubles ``%`` for drivers with
    ``%``-style parameters, as the dialect's quoting already did (so that is undone), and reads ``:word`` as a
    parameter (so colons are escaped)."""
    quoted = dialect.identifier_preparer.format_table(table)
    if dialect.paramstyle in ("format", "pyformat"):
        quoted = quoted.replace("%%", "%")
    return quoted.replace(":", "\\:")


NO_LOWER_BOUND = datetime.datetime(1, 1, 2, tzinfo=datetime.timezone.utc)
"""``after`` for the first batch: earlier than any expiry (one statement text serves every batch)."""

LOOKAHEAD = 20
"""Batches whose bounds one PostgreSQL query finds (about 100,000 index entries at the default batch size)."""


@dataclass(frozen=True)
class BatchStatements:
    """The statements of one table's batched cleanup, built once and executed with parameters each batch (so
    SQLAlchemy compiles them once and psycopg prepares them after a few runs).

    - PostgreSQL: ``bounds`` (parameters ``cutoff``, ``after``) returns, oldest first, the expiry each of the
      next ``LOOKAHEAD`` batches deletes up to; ``delete`` (``cutoff``, ``after``, ``upto``) deletes the range
      ``after < expires_at <= upto``; the last batch passes ``upto=cutoff``.
    - MariaDB/MySQL and SQLite: ``bounds`` is ``None``; ``delete`` (``cutoff``) deletes up to ``batch_size``
      of the oldest expired rows, and a short batch is the last.

    Each ``delete`` is one statement, whose ``rowcount`` is the batch's count.
    """

    bounds: Executable | None
    delete: Executable


def batch_statements(dialect: str, *, quoted_table: str, batch_size: int) -> BatchStatements:
    """Delete rows with ``expires_at < cutoff`` about ``batch_size`` at a time, oldest first.

    - PostgreSQL (the client-side loop, for servers that can't run ``server_loop_statement``): one query walks the
      ``expires_at`` index for the next ``LOOKAHEAD`` batches' bounds (each a hop of ``batch_size`` entries, an
      index-only scan), and each batch is then a plain range ``DELETE``: every row is visited once and locked
      only by the delete itself, and ``after`` starts each scan past the dead index entries earlier batches
      left, so every batch costs the same. (Picking rows with ``SELECT ... FOR UPDATE SKIP LOCKED`` first visits
      and WAL-logs every row twice, which measured 2x slower than one plain ``DELETE``.) A concurrent cleanup
      deleting the same range waits for this batch to commit, then finds the rows gone. Rows sharing a
      boundary expiry all go in the same batch (a batch may exceed ``batch_size`` by the ties).
    - MariaDB/MySQL: ``DELETE ... ORDER BY expires_at LIMIT n`` (the expires_at index gives two concurrent runs
      the same lock order, so they queue instead of deadlocking);
    - SQLite: a ``rowid`` subquery (its ``DELETE ... LIMIT`` is a compile-time option).
    """
    cutoff = bindparam("cutoff", type_=DateTimeUTC())
    if dialect == "postgresql":
        after, upto = bindparam("after", type_=DateTimeUTC()), bindparam("upto", type_=DateTimeUTC())
        hop = f"ORDER BY s.expires_at OFFSET {int(batch_size) - 1} LIMIT 1"
        bounds = text(
            "WITH RECURSIVE bound(n, expires_at) AS ("
            f" SELECT 1, (SELECT s.expires_at FROM {quoted_table} AS s"
            f" WHERE s.expires_at < :cutoff AND s.expires_at > :after {hop})"
            " UNION ALL"
            f" SELECT bound.n + 1, (SELECT s.expires_at FROM {quoted_table} AS s"
            f" WHERE s.expires_at < :cutoff AND s.expires_at > bound.expires_at {hop})"
            f" FROM bound WHERE bound.expires_at IS NOT NULL AND bound.n < {LOOKAHEAD}"
            ") SELECT expires_at FROM bound WHERE expires_at IS NOT NULL ORDER BY n"
        )
        delete_range = text(
            f"DELETE FROM {quoted_table} WHERE expires_at < :cutoff AND expires_at > :after AND expires_at <= :upto"
        )
        return BatchStatements(
            bounds.bindparams(cutoff, after).columns(expires_at=DateTimeUTC()),
            delete_range.bindparams(cutoff, after, upto),
        )
    limit = bindparam("batch", batch_size, type_=Integer())
    if dialect in ("mysql", "mariadb"):
        sql = f"DELETE FROM {quoted_table} WHERE expires_at < :cutoff ORDER BY expires_at LIMIT :batch"
    elif dialect == "sqlite":
        sql = (
            f"DELETE FROM {quoted_table} WHERE rowid IN (SELECT rowid FROM {quoted_table} "
            "WHERE expires_at < :cutoff ORDER BY expires_at LIMIT :batch)"
        )
    else:
        raise NotImplementedError(f"session cleanup does not support the {dialect} dialect")
    return BatchStatements(None, text(sql).bindparams(cutoff, limit))


PROGRESS_SETTING = "dbops.cleanup_progress"
"""The session setting the server-side loop reports through (``"<call> <rows> <batches> <bound>"``), written in
each batch's own transaction, so it tells exactly what committed."""


EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def server_loop_statement(
    quoted_table: str,
    *,
    batch_size: int,
    cutoff: datetime.datetime,
    after: datetime.datetime,
    seconds: float | None,
    call: str,
) -> Executable:
    """A PostgreSQL ``DO`` block that runs up to ``LOOKAHEAD`` batches in the server, each committed on its own.

    Each batch finds its bound (the ``batch_size``-th oldest expiry past ``after``, an index-only hop) and
    deletes the range up to it, as the client-side loop does, but without a client round trip between batches:
    on a busy host the cleanup's connection otherwise spends a fifth of its time waiting for its client to be
    scheduled (measured, bench/sessions.py). Before each batch it checks ``seconds`` (the time left, by the
    server's clock). ``synchronous_commit`` is off for these transactions only (``set_config(..., true)``).
    It records ``"<call> 0 0 start"`` in ``PROGRESS_SETTING`` first, then after each batch
    ``"<call> <rows so far> <batches so far> <bound in microseconds since 1970, or end>"``; ``call`` tells
    this call's record from an earlier one's.

    A DO block takes no parameters: the values are literals we write (whole microseconds, numbers, a hex
    token; no colons, which ``text()`` would read as parameters), the table name comes from
    ``text_table_name``, and the dollar-quote tag is chosen to not occur in the body.
    """
    stop = "" if seconds is None else " AND clock_timestamp() < stop_at"
    table = quoted_table
    body = f"""
#variable_conflict use_variable
DECLARE
  cutoff_at constant timestamptz := {_microseconds_literal(cutoff)};
  stop_at constant timestamptz := clock_timestamp() + make_interval(secs => {float(seconds or 0)!r});
  after_at timestamptz := {_microseconds_literal(after)};
  upto_at timestamptz;
  batch_rows bigint;
  total_rows bigint := 0;
  total_batches integer := 0;
BEGIN
  PERFORM set_config('{PROGRESS_SETTING}', '{call} 0 0 start', false);
  WHILE total_batches < {LOOKAHEAD}{stop} LOOP
    PERFORM set_config('synchronous_commit', 'off', true);
    SELECT s.expires_at INTO upto_at FROM {table} AS s
     WHERE s.expires_at < cutoff_at AND s.expires_at > after_at
     ORDER BY s.expires_at OFFSET {int(batch_size) - 1} LIMIT 1;
    DELETE FROM {table} AS t
     WHERE t.expires_at < cutoff_at AND t.expires_at > after_at AND t.expires_at <= coalesce(upto_at, cutoff_at);
    GET DIAGNOSTICS batch_rows = ROW_COUNT;
    total_rows := total_rows + batch_rows;
    total_batches := total_batches + 1;
    PERFORM set_config('{PROGRESS_SETTING}', concat_ws(' ', '{call}', total_rows, total_batches,
      coalesce(round(extract(epoch FROM upto_at) * 1000000)::bigint::text, 'end')), false);
    COMMIT;
    EXIT WHEN upto_at IS NULL;
    after_at := upto_at;
  END LOOP;
END
"""
    tag = "$dbops$"
    while tag in body:
        tag = tag[:-1] + "_$"
    return text(f"DO {tag}{body}{tag}")


def _microseconds_literal(moment: datetime.datetime) -> str:
    """An exact timestamptz literal without colons: whole microseconds since 1970."""
    micros = (moment - EPOCH) // datetime.timedelta(microseconds=1)
    return f"(timestamptz 'epoch' + {micros} * interval '1 microsecond')"


def from_microseconds(micros: int) -> datetime.datetime:
    return EPOCH + datetime.timedelta(microseconds=micros)


def progress_statement() -> Executable:
    return text(f"SELECT current_setting('{PROGRESS_SETTING}', true)")


def count_expired_statement(
    table: Table, *, cutoff: datetime.datetime, after: datetime.datetime | None = None
) -> Executable:
    """How many rows expired before ``cutoff`` (past ``after``: the rows before it are gone, only dead index
    entries remain there, and counting through them would cost as much as the cleanup)."""
    query = select(func.count()).select_from(table).where(table.c.expires_at < bindparam("c", cutoff, DateTimeUTC()))
    if after is not None:
        query = query.where(table.c.expires_at > bindparam("a", after, DateTimeUTC()))
    return query
